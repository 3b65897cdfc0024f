#pragma once
// The snapshot parsed once into the scheduler's dense model: strings resolved to indices,
// quantities to Resources, label selectors and tolerations to small structs. Immutable once
// built; a session copies the mutable parts (task status, node usage) into its own state.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/scheduler/resource.h"
#include "lib/scheduler/scheduler.h"

namespace kai::scheduler {

/// Volcano's task statuses (pkg/scheduler/api/types.go), in Volcano's String() spelling.
enum class TaskStatus : uint8_t { Pending, Allocated, Pipelined, Binding, Bound, Running, Releasing, Succeeded, Failed, Unknown };
inline constexpr int kTaskStatusCount = 10;
const char* status_name(TaskStatus s);
/// Volcano's AllocatedStatus: Bound, Binding, Running, Allocated.
inline bool allocated_status(TaskStatus s) {
  return s == TaskStatus::Bound || s == TaskStatus::Binding || s == TaskStatus::Running || s == TaskStatus::Allocated;
}

/// Nanoseconds since the Unix epoch (creation timestamps, the session clock).
using Nanos = int64_t;

struct Taint {
  std::string key, value, effect;
};

struct Toleration {
  std::string key, op, value, effect;  ///< op "" means Equal
};

/// A node selector requirement (matchExpressions or matchFields entry).
struct SelectorRequirement {
  std::string key, op;
  std::vector<std::string> values;
};

struct SelectorTerm {
  std::vector<SelectorRequirement> expressions;
  std::vector<SelectorRequirement> fields;
};

struct PreferredTerm {
  int32_t weight = 0;
  SelectorTerm term;
};

/// Where a pod may go: its nodeSelector, node affinity and tolerations. Pods with identical
/// constraints share one Placement (interned by the model).
struct Placement {
  std::vector<std::pair<std::string, std::string>> node_selector;
  bool has_required = false;  ///< requiredDuringScheduling... present (even with no terms)
  std::vector<SelectorTerm> required;
  std::vector<PreferredTerm> preferred;
  std::vector<Toleration> tolerations;
  /// True when nothing above is set: every schedulable, untainted node passes.
  bool unconstrained() const {
    return node_selector.empty() && !has_required && preferred.empty() && tolerations.empty();
  }
};

struct ModelNode {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  ///< sorted by key
  std::vector<Taint> taints;
  bool unschedulable = false;
  bool ready = true;  ///< no Ready condition, or Ready=True
  Resource allocatable, capacity;
  int64_t max_pods = 110;
  bool has_prefer_no_schedule = false;  ///< some taint with effect PreferNoSchedule
};

struct ModelTask {
  // What every session reads of every task first (build_state), together: a snapshot holds
  // tens of thousands of tasks and a session walks them all.
  int job = -1;  ///< model job (PodGroup) index, -1 when the pod names no existing PodGroup
  TaskStatus status = TaskStatus::Pending;
  bool best_effort = false;  ///< request is empty
  bool preemptable = true;
  bool preempt_never = false;  ///< preemptionPolicy: Never (pod or PriorityClass)
  bool has_index = false;  ///< the pod name ends in -<integer>
  int node = -1;  ///< model node index of node_name, -1 when absent or unknown
  int32_t priority = 1;
  int placement = 0;  ///< index into SnapshotModel::placements
  int signature = 0;  ///< tasks with equal signatures fit and score alike on any node
  double nonzero_cpu = 0, nonzero_mem = 0;  ///< kube-scheduler's non-zero requests, for scores
  Resource request;  ///< Volcano's Resreq (= InitResreq)
  std::string role;  ///< volcano.sh/task-spec
  std::string scheduler_name;  ///< "" when the pod does not say
  int64_t index = 0;
  Nanos creation = 0;
  std::string ns, name, uid;
  std::string key;  ///< "<ns>/<name>", as results name pods
  std::string priority_class;
  std::string node_name;
  /// The PodScheduled condition the pod carries (events are recorded only when it changes).
  std::string scheduled_reason, scheduled_message;
};

struct ModelJob {
  // What every session reads of every job first (build_state), together.
  int queue_index = -1;  ///< model queue, -1 when it does not exist
  int32_t min_member = 0;
  int32_t priority = 0;
  bool has_min_resources = false;
  std::string phase;  ///< status.phase, "Pending" when absent
  std::vector<std::pair<std::string, int32_t>> min_task_member;  ///< sorted by role
  std::vector<int> tasks;  ///< model task indices, in snapshot order
  Nanos creation = 0;
  Resource min_resources;
  std::string ns, name, uid;
  std::string key;  ///< "<ns>/<name>", as results name PodGroups
  std::string queue;  ///< spec.queue, "default" when empty
  std::string priority_class;
  /// status.conditions as {type, status, reason, message}; whether the list was there at all,
  /// and status.running/succeeded/failed: the session records a Scheduled event only when the
  /// status it computes differs (Volcano's isPodGroupStatusUpdated).
  std::vector<std::array<std::string, 4>> conditions;
  bool has_conditions = false;
  int32_t running = 0, succeeded = 0, failed = 0;
  std::optional<Nanos> waiting_time;  ///< sla-waiting-time annotation
};

struct ModelQueue {
  std::string name, uid;
  Nanos creation = 0;
  int32_t weight = 1;
  bool has_capability = false;
  Resource capability;
  bool has_deserved = false;
  Resource deserved;
  bool has_guarantee = false;
  Resource guarantee;
  std::string parent;
  /// metadata.annotations volcano.sh/hierarchy and volcano.sh/hierarchy-weights, as written
  /// ("" when absent): drf's enableHierarchy (hDRF) reads them.
  std::string hierarchy, hierarchy_weights;
  bool reclaimable = true;
  int32_t priority = 0;
  std::string state = "Open";
};

struct SnapshotModel {
  /// Dimension names: "cpu", "memory", then scalar resources sorted by name.
  std::vector<std::string> dims;
  std::vector<ModelNode> nodes;
  std::vector<ModelQueue> queues;
  std::vector<ModelJob> jobs;
  std::vector<ModelTask> tasks;
  std::vector<Placement> placements;  ///< placements[0] is the unconstrained one
  /// Task and job indices sorted by key: results fill their sorted maps in this order.
  std::vector<int> tasks_by_key, jobs_by_key;
  int signatures = 0;  ///< number of distinct task signatures

  int dim_count() const { return static_cast<int>(dims.size()); }
  Resource empty_resource() const { return Resource(dim_count()); }
};

/// Where each object of a Snapshot came from: its index among the objects given to
/// snapshot_from_objects, per kind vector.
struct ObjectPositions {
  std::vector<std::size_t> nodes, queues, podgroups, pods, priority_classes;
};

/// Builds the model from the Snapshot's objects. Errors are kai::Error Invalid naming the file,
/// the object and the field: `<file>: items[3] (Pod ns/p1): spec.containers[0].resources.requests[cpu]:
/// <message>`; without positions the object is named by its kind vector (`pods[3]`).
std::shared_ptr<const SnapshotModel> build_model(const Snapshot& snapshot, const std::string& file,
                                                 const ObjectPositions* positions = nullptr);
/// The same over objects the caller keeps (no copies): for the local cluster, whose objects
/// live in a reconcile's working set.
std::shared_ptr<const SnapshotModel> build_model(const SnapshotRefs& objects, const std::string& file);

// ---- Kubernetes helpers the model and the predicates share ----

/// Kubernetes' Toleration.ToleratesTaint.
bool tolerates(const Toleration& t, const Taint& taint);
/// True when the term matches the node (matchExpressions and matchFields; an empty term matches
/// nothing, as in Kubernetes).
bool term_matches(const SelectorTerm& term, const ModelNode& node);
/// nodeSelector and required node affinity (Kubernetes' NodeAffinity filter).
bool node_affinity_matches(const Placement& p, const ModelNode& node);

/// RFC 3339 time to nanoseconds; false when the text is not a valid time.
bool parse_rfc3339(const std::string& text, Nanos& out);
/// Go's time.ParseDuration; false when the text is not a valid duration.
bool parse_go_duration(const std::string& text, Nanos& out);

}  // namespace kai::scheduler
