#pragma once
// The embedded cluster behind ResourceClient: admission (Volcano's webhooks), the store, and the
// controllers' reactions that this issue needs (job initiation, queue commands).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lib/api/admission.h"
#include "lib/client/resource_client.h"
#include "lib/scheduler/scheduler.h"
#include "minicluster/store.h"

namespace kai::minicluster {

using json = nlohmann::json;

/// Shape of fake nodes for `kai cluster init`.
struct NodeShape {
  int count = 2;
  std::string cpu = "8";
  std::string memory = "32Gi";
  int gpus_per_node = 4;
  int max_pods = 110;
};

struct ControllerPass;

/// What one reconcile() did.
struct ReconcileStats {
  int passes = 0;           ///< controller passes run (the last one changed nothing)
  int launched = 0;         ///< pod supervisors started
  int written = 0;          ///< objects written to the store (created, updated or deleted)
  double seconds = 0;
  double wake_in_seconds = -1;  ///< when time alone will change something (a simulated pod ends); -1 never
  bool skipped = false;     ///< reconcile_if_needed found nothing to do
};

class LocalCluster : public client::ResourceClient {
 public:
  /// Opens the store under `home`. Does not initialise a cluster.
  static std::unique_ptr<LocalCluster> open(const std::filesystem::path& home);

  /// True when the cluster has been initialised (namespace "default" exists).
  bool initialised() const;
  /// Initialises a cluster if none exists: namespace default, queues root and default,
  /// nodes of `shape` (or `nodes` when given, already decoded Node objects). Concurrent
  /// callers: exactly one initialises. Returns false if it already was initialised.
  bool initialise(const NodeShape& shape, const std::vector<json>& nodes = {});
  /// Fake Node objects for a shape: node-1..node-N.
  static std::vector<json> make_nodes(const NodeShape& shape);

  json create(const api::ResourceInfo& res, json obj) override;
  json get(const api::ResourceInfo& res, const std::string& ns, const std::string& name) override;
  std::vector<json> list(const api::ResourceInfo& res, const client::ListOptions& opts) override;
  /// Reads the store's change log, advancing the cluster between reads (there is no daemon).
  void watch(const api::ResourceInfo& res, const client::WatchOptions& opts,
             const std::function<bool(const client::WatchEvent&)>& on) override;
  json update(const api::ResourceInfo& res, json obj) override;
  json merge_patch(const api::ResourceInfo& res, const std::string& ns, const std::string& name,
                   const json& patch) override;
  json remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name) override;
  void batch(const std::function<void()>& fn) override;
  std::string describe_target() const override;

  store::Store& store() { return *store_; }
  const std::filesystem::path& home() const { return home_; }

  /// Advances the cluster to a fixed point: controllers, one scheduling session and the
  /// runtime's bookkeeping per pass, each pass one transaction, until a pass changes nothing;
  /// then starts the supervisors of newly bound pods and signals those of deleted ones.
  /// Safe with concurrent kai processes.
  ReconcileStats reconcile();
  /// reconcile() unless nothing changed since the last one (same resourceVersion, every known
  /// supervisor alive, no simulated pod due): the fast path of read-only commands.
  ReconcileStats reconcile_if_needed();
  /// True when reconcile_if_needed() would reconcile. Reads a small file and one store row.
  bool reconcile_needed() const;
  /// How often a reconcile compacts the store's change log (Store::compact_changes_if_due;
  /// kube-apiserver's --etcd-compaction-interval, 5 minutes by default); 0: never.
  void set_compaction_interval(double seconds) { compaction_interval_seconds_ = seconds; }
  /// $KAI_HOME/run/reconcile.lock, held (flock) by whoever reconciles: a reconcile waits for
  /// the one in progress, and `kai cluster reset` keeps them out while it deletes.
  static std::filesystem::path reconcile_lock_path(const std::filesystem::path& home);
  /// After a command wrote: makes sure a reconcile will see the write, without waiting for one.
  /// Unless a background reconcile is already queued (it will see the write), starts `command`
  /// (`kai __reconcile --kai-home HOME`) in a session of its own, output appended to
  /// $KAI_HOME/run/reconcile.log, holding run/reconcile.queued as descriptor 3: it then runs
  /// reconcile_when_turn(3).
  static void start_background_reconcile(const std::filesystem::path& home, const std::vector<std::string>& command);
  /// The supervisors signalled so far (pid, start time), handed to the caller to wait for.
  std::vector<std::pair<pid_t, uint64_t>> take_stopping() { return std::move(stopping_); }
  /// A background reconcile's turn: takes run/reconcile.lock, then closes queued_fd (its hold on
  /// run/reconcile.queued; -1: it takes that itself, and returns 0 if another one holds it), then
  /// reconciles until nothing is left. Returns the number of reconciles run.
  int reconcile_when_turn(int queued_fd);
  /// The command that starts a pod's supervisor (pod namespace, name and uid are appended).
  /// Empty (the default, for in-process users such as tests and benchmarks): pods are bound
  /// but no process is started, except simulated ones.
  void set_supervisor_command(std::vector<std::string> argv) { supervisor_command_ = std::move(argv); }
  /// Waits until the supervisors signalled by the last reconcile() have exited.
  void wait_for_stopped(int timeout_seconds);
  /// Waits until each process (pid, start time) has exited, at most timeout_seconds in all.
  static void wait_for_exit(const std::vector<std::pair<pid_t, uint64_t>>& procs, int timeout_seconds);
  /// The pod's directory under KAI_HOME: logs, /etc/hosts, pgids.
  std::filesystem::path pod_dir(const json& pod) const;
  /// $KAI_HOME/jobs/<ns>/<job>.<uid>: what the runtime keeps per job (the ssh plugin's key);
  /// removed with the job.
  std::filesystem::path job_dir(const json& job) const;
  /// The scheduler configuration in effect: $KAI_HOME/scheduler.conf, else Volcano's default.
  scheduler::Config scheduler_config() const;

 private:
  LocalCluster(std::unique_ptr<store::Store> s, std::filesystem::path home)
      : store_(std::move(s)), home_(std::move(home)) {}
  void schedule(ControllerPass& pass);
  void observe_runtime(ControllerPass& pass, std::vector<json>& to_launch, double& wake_in);
  void launch_supervisor(const json& pod);
  /// reconcile(), then $KAI_HOME/reconcile.state; the caller holds run/reconcile.lock.
  ReconcileStats reconcile_locked();
  /// $KAI_HOME/run (0700), made if missing.
  static std::filesystem::path run_dir(const std::filesystem::path& home);
  api::AdmissionContext admission_context();
  /// Job controller's first step: status.state Pending + minAvailable, PodGroup <job>-<uid>.
  json initiate_job(json job);
  /// Queue controller's handling of an OpenQueue/CloseQueue Command, and the job controller's
  /// handling of AbortJob/ResumeJob as far as this issue goes. The Command is deleted once run,
  /// as Volcano's controllers do.
  void execute_command(const json& cmd);
  /// SIGTERM to the supervisor a pod annotation names, if it still runs (remembered for
  /// wait_for_stopped).
  void signal_supervisor(const std::string& annotation);
  /// Records a user's deletion of a job's pod on the job, for the controller's PodEvicted.
  void note_eviction(const json& pod);

  std::unique_ptr<store::Store> store_;
  std::filesystem::path home_;
  std::vector<std::string> supervisor_command_;
  double compaction_interval_seconds_ = 300;
  int64_t reconciled_rv_ = -1;  // the store's version as the last reconcile() saw it
  std::vector<std::pair<pid_t, uint64_t>> stopping_;  // supervisors signalled, with start times
  std::vector<std::string> last_supervisors_;  // of unfinished pods, after the last reconcile
  std::set<std::string> live_jobs_;  // owner uids of pods not finished, from the last pass
};

}  // namespace kai::minicluster
