#pragma once
// The local cluster's controllers (volcano.md §2.3, §2.6, §2.7): the job controller (PodGroup,
// pods with Volcano's labels, annotations and job plugins, phases, policies, retries), the queue
// controller (status counts) and event recording. They run inside one store transaction of a
// reconcile pass (minicluster/reconcile.cpp) and never touch processes: pods to stop are
// handed back to the caller, which signals supervisors after the transaction commits.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "minicluster/working_set.h"

namespace kai::minicluster {

using json = nlohmann::json;

/// Annotations of kai's own on pods (not Volcano's; the `kai.dev/` prefix).
namespace ann {
/// "<pid>:<start time>" of the supervisor running the pod, or "launching:<unix seconds>" while
/// a reconcile has claimed the pod and is starting its supervisor.
inline constexpr const char* kSupervisor = "kai.dev/supervisor";
/// The pod phase the job controller last acted on (to turn phase changes into events).
inline constexpr const char* kObservedPhase = "kai.dev/observed-phase";
/// A pod that never starts a process and "runs" for this Go-style duration ("30s", "1m30s").
inline constexpr const char* kSimulateDuration = "kai.dev/simulate-duration";
/// Device indices on the node given to this pod ("0,1"); its CUDA_VISIBLE_DEVICES.
inline constexpr const char* kGpuIds = "kai.dev/gpu-ids";
/// The directory `kai job submit` ran in: where a container without workingDir starts, since
/// kai runs commands on the host rather than in an image.
inline constexpr const char* kWorkingDir = "kai.dev/working-dir";
/// How the pod's names resolve: JobNamespace, HostHosts or HostAddress (runtime::NetworkMode).
inline constexpr const char* kNetwork = "kai.dev/network";
/// On a job: pods of it that a user deleted since its last sync, as a JSON array of
/// {"pod", "task", "version"}; the job controller turns each into a PodEvicted event.
inline constexpr const char* kEvictedPods = "kai.dev/evicted-pods";
/// A job's lifecycle-policy actions waiting for their `timeout` (JSON array, see controller.cpp).
inline constexpr const char* kDelayedActions = "kai.dev/delayed-actions";
}  // namespace ann

/// Records events once: an event of an object with a reason and message it already has is not
/// written again (the API server would bump its count; kai keeps the first), so a reconcile
/// pass that changes nothing writes nothing. The event's name is derived from what it says
/// (`<object>.<16 hex digits>` of a hash of kind, namespace, name, uid, reason and message), so
/// finding out whether it exists is one lookup rather than a read of every event.
class EventRecorder {
 public:
  explicit EventRecorder(WorkingSet& s);
  /// `involved`: the object (apiVersion/kind/metadata). type Normal|Warning.
  void record(const json& involved, const std::string& type, const std::string& reason, const std::string& message,
              const std::string& component = "volcano");

 private:
  WorkingSet& store_;
};

/// A pod whose process must be stopped once the transaction commits.
struct PodToStop {
  std::string ns, name;
  std::string supervisor;  ///< the kai.dev/supervisor annotation value
};

/// Per-pass state shared by the controllers.
/// What a scheduling session reads, as far as it changes: the working set's mutation count over
/// pods, PodGroups, nodes and priority classes, and the queues' specs and states.
struct LastSessionInputs {
  int64_t mutations = 0;
  std::string queues;
  bool operator==(const LastSessionInputs&) const = default;
};

struct ControllerPass {
  WorkingSet& store;
  EventRecorder& events;
  std::string now;                       ///< RFC 3339, the pass's clock
  std::vector<PodToStop> stops;          ///< filled by the job controller
  double wake_at = 0;                    ///< unix seconds when a delayed policy action is due (0 none)
  /// What the last scheduling session of this reconcile left (LocalCluster::schedule): the
  /// session's inputs just after its decisions were applied, and whether it decided anything.
  struct LastSession {
    bool ran = false;
    LastSessionInputs inputs;
    bool changed = false;
  };
  LastSession* last_session = nullptr;
};

/// Syncs every job once (creates PodGroups and pods, applies pod events to policies, moves
/// phases, updates status) and executes pending job Commands (AbortJob, ResumeJob, ...).
/// With `only`: just the jobs whose uid it holds (those whose objects changed since their last
/// sync: a job whose inputs did not change would come to the same result).
void sync_jobs(ControllerPass& pass, const std::unordered_set<std::string>* only = nullptr);

/// Queue controller: status.{pending,running,inqueue,unknown,completed} PodGroup counts, and a
/// Closing queue becomes Closed once it has no PodGroups.
void sync_queues(ControllerPass& pass);

/// Deletes a pod as a kubelet would: at once when no process runs it, else marks it with a
/// deletionTimestamp and asks for its supervisor to be stopped (the supervisor deletes the pod
/// object when its processes are gone).
void delete_pod(ControllerPass& pass, json pod);

/// The namespace and name of the Job that controls a pod (its controller ownerReference of kind
/// Job), or nullopt.
std::optional<std::pair<std::string, std::string>> controlling_job(const json& pod);

/// A pod of a job that went away before it finished (deleted by a user, evicted by the
/// scheduler) is, to the job controller, a PodEvicted event (volcano.md §2.6). The pod is gone by
/// the time the controller syncs the job, so the event waits on the job, in annotation
/// kai.dev/evicted-pods. Returns the job with the note, or nullopt when there is nothing to note
/// (the pod had finished, or the job is not the pod's owner any more: another uid).
std::optional<json> with_eviction_noted(json job, const json& pod);

/// "<pod>.<subdomain>" host names of every pod of a job, as Volcano's svc plugin writes them:
/// task name -> hosts in index order.
std::map<std::string, std::vector<std::string>> job_hosts(const json& job);

/// The PodGroup `<job>-<uid>` Volcano's job controller makes for a job (volcano.md §2.3):
/// minMember, minTaskMember, minResources (requests of the first minAvailable pods), queue,
/// priorityClassName, the job's labels and annotations.
json make_podgroup(const json& job);

/// The process a pod's supervisor annotation ("<pid>:<start time>") names; nullopt for a claim
/// ("launching:<t>") or a malformed value.
struct SupervisorProcess {
  pid_t pid;
  uint64_t start_time;
};
std::optional<SupervisorProcess> parse_supervisor(const std::string& annotation);

/// Whether a pod's supervisor annotation names a live process.
bool supervisor_alive(const std::string& annotation);

using store::now_rfc3339;

/// Now in seconds since the epoch (delayed actions, wake times).
double unix_now();

}  // namespace kai::minicluster
