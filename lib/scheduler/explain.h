#pragma once
// `kai job explain`: why a PodGroup is pending or only partly placed, found by running the same
// scheduler over a snapshot without writing anything back (volcano.md §6.2 item 1: "need more
// info when job pending").
//
// explain_job opens sessions over the snapshot: one with the cluster's configuration (what the
// next cycle would decide: enqueue's votes, the queue's share, which tasks allocate places), a dry
// allocation of the job's tasks that are still pending (how many fit on the nodes, one after
// another, and, for the first that fits nowhere, each node's first failing predicate), and two
// what-if sessions with the preempt and reclaim actions added (whom they would evict for this
// job). Every session is thrown away: nothing is bound, evicted or written.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/scheduler/scheduler.h"

namespace kai::scheduler {

/// What explain_job needs besides the snapshot and the configuration.
struct ExplainOptions {
  /// Scheduler names, clock and session uid, as for run_session_with.
  SessionOptions session;
  /// The Volcano Job ("<ns>/<name>") that owns the PodGroup, for the headline; empty: the
  /// PodGroup is named instead.
  std::string job;
  /// The Job's tasks (name, replicas), so that roles whose pods do not exist yet (the job
  /// controller creates them once the PodGroup is Inqueue) are still listed.
  std::vector<std::pair<std::string, int32_t>> job_tasks;
  /// "<ns>/<pod>": the pod `kai explain pod` asks about (its role is marked); empty for none.
  std::string pod;
  /// Run the preempt and reclaim what-if sessions.
  bool what_if = true;
};

/// Why the pods of one node cannot take a pod: the node's first failing predicate, in
/// kube-scheduler's wording ("Insufficient nvidia.com/gpu", "node(s) didn't match Pod's node
/// affinity/selector", "node(s) had untolerated taint {k: v}", "node(s) were unschedulable",
/// "Too many pods", "node(s) were not ready").
struct NodeReason {
  std::string node;
  std::string reason;
};

/// One task role (volcano.sh/task-spec) of the job.
struct RoleExplanation {
  std::string name;  ///< "" for pods without a role
  int32_t min_available = 0;  ///< minTaskMember of the role (0: none)
  int32_t replicas = 0;  ///< pods the Job asks for (job_tasks), else the pods found
  int32_t pods = 0;  ///< pods that exist
  int32_t running = 0;  ///< Running, Bound, Binding or Allocated in the snapshot
  int32_t succeeded = 0, failed = 0, releasing = 0;
  int32_t pending = 0;  ///< pods waiting for a node in the snapshot (Pending or Pipelined)
  int32_t placeable = 0;  ///< of those, how many fit on a node's idle resources now
  int32_t pipelinable = 0;  ///< of those, how many fit only once releasing resources are freed
  /// Of those, how many fit a node but not the queue (its Allocatable functions: allocated plus
  /// the pod's request over the deserved share, or the queue not Open); allocate skips them.
  int32_t queue_limited = 0;
  int32_t unplaced = 0;  ///< pending pods that fit no node
  /// For the first pending pod that fit no node: which pod, and the aggregated message
  /// `0/<nodes> nodes are available: <count> <reason>, ... .` (reasons sorted as strings, as
  /// kube-scheduler sorts them); empty when every pending pod fit.
  std::string unplaced_pod;
  std::string message;
  std::map<std::string, int> reasons;  ///< reason -> nodes giving it as their first
  std::vector<NodeReason> nodes;  ///< per node, by node name
};

/// The PodGroup's queue.
struct QueueExplanation {
  std::string name;
  bool exists = false;
  std::string state;  ///< Open, Closed, ...
  int32_t weight = 0;
  bool reclaimable = true;
  std::string plugin;  ///< the plugin that computed deserved and share ("" when none did)
  /// Quantities by resource name ("cpu" -> "16", "memory" -> "64Gi"); capability and guarantee
  /// are the queue's spec (empty: none).
  std::map<std::string, std::string> deserved, allocated, capability, guarantee;
  double share = 0;
  /// hDRF: the queue's path and weights in the tree ("root/eng/prod", "1/2/8"); "" otherwise.
  std::string hierarchy, hierarchy_weights;
  bool overused = false;  ///< the Overused functions say so: allocate skips the queue
  /// False when the queue held back one of the job's pending pods that fit a node
  /// (RoleExplanation::queue_limited).
  bool allocatable = true;
};

/// What the preempt or reclaim action would do for the job, in a what-if session.
struct EvictionExplanation {
  std::string action;  ///< "preempt" or "reclaim"
  bool available = false;  ///< kai implements the action
  bool configured = false;  ///< the cluster's configuration already runs it
  /// Victims evicted on the nodes where the job's pods were then pipelined.
  struct Victim {
    std::string pod;  ///< "<ns>/<pod>"
    std::string podgroup;  ///< "<ns>/<podgroup>"
    std::string queue;
    std::string node;
    int32_t priority = 0;  ///< the victim's job priority
  };
  std::vector<Victim> victims;
  int32_t pipelined = 0;  ///< the job's pods pipelined by the action
  bool job_pipelined = false;  ///< the job then has minAvailable tasks ready or pipelined
  std::string message;  ///< one line in plain words
};

/// Why a PodGroup is where it is, and what would change that.
struct Explanation {
  std::string job;  ///< "<ns>/<job>" or ""
  std::string podgroup;  ///< "<ns>/<name>"
  std::string queue;
  std::string phase;  ///< the PodGroup's status.phase in the snapshot
  /// A reason code: QueueNotFound, QueueClosed, NotEnqueued, GangInvalid, Schedulable,
  /// QueueOverused, QueueDeservedExceeded, Pipelined, GangNotReady, PartlyPlaced, Running,
  /// Completed.
  std::string reason;
  std::string message;  ///< the headline's words after the phase
  /// enqueue: whether the next cycle admits the PodGroup (true when it is past Pending), and the
  /// JobEnqueueable rejection ("queue resource quota insufficient: insufficient nvidia.com/gpu").
  bool enqueued = false;
  std::string enqueue_message;
  /// Gang: minAvailable, ready tasks (Bound, Binding, Running, Allocated, Succeeded), and how many
  /// would be with the placeable ones; JobValid's failure ("Not enough valid tasks ...").
  int32_t min_available = 0;
  int32_t ready = 0;
  int32_t placeable = 0;
  int32_t pipelinable = 0;
  std::string valid_message;
  /// The Unschedulable condition the scheduler writes this cycle ("" when none).
  std::string scheduler_message;
  std::vector<RoleExplanation> roles;
  QueueExplanation queue_info;
  EvictionExplanation preemption, reclaim;
  /// The pod `kai explain pod` asked about: its status and node, its role, what the dry
  /// allocation did with it ("placeable on node-2", "pipelinable on node-1", "unplaced", or its
  /// status when it was not pending).
  struct PodInfo {
    std::string name, role, status, node, outcome;
  };
  std::optional<PodInfo> pod;

  /// Every key present: job, podGroup, queue, phase, reason, message, enqueue{admitted, message},
  /// gang{minAvailable, ready, placeable, pipelinable, validMessage}, schedulerMessage,
  /// tasks[]{name, minAvailable, replicas, pods, running, succeeded, failed, releasing, pending,
  /// placeable, pipelinable, queueLimited, unplaced, unplacedPod, message, reasons{}, nodes{}},
  /// queueStatus{name, exists, state, weight, reclaimable, plugin, deserved, allocated,
  /// capability, guarantee, share, overused, allocatable}, preemption and reclaim{action,
  /// available, configured, victims[]{pod, podGroup, queue, node, priority}, pipelined,
  /// jobPipelined, message}, pod (null or {name, role, status, node, outcome}).
  json to_json() const;
  /// The plain-words report `kai job explain` prints (lines end in "\n").
  std::string text() const;
};

/// Explains the PodGroup `podgroup_key` ("<ns>/<name>") of the snapshot under `config`. Throws
/// kai::Error NotFound when the snapshot has no such PodGroup, Invalid for a configuration naming
/// an unknown action or plugin.
Explanation explain_job(const Snapshot& snapshot, const Config& config, const std::string& podgroup_key,
                        const ExplainOptions& options = {});

/// kube-scheduler's wording for a reason the predicates give in Volcano's ("node(s) pod number
/// exceeded" -> "Too many pods"); others unchanged.
std::string kube_reason(const std::string& reason);

}  // namespace kai::scheduler
