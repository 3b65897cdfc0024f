#pragma once
// The process runtime: runs one bound pod as local process groups under a supervisor (kai itself,
// re-executed and detached). This file knows processes, files and namespaces; it knows nothing
// of the store: the supervisor reports through a PodObserver, and the cluster glue
// (minicluster/reconcile, cli `__supervise`) turns reports into pod status.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kai::minicluster::runtime {

/// One container as the supervisor runs it: everything already resolved (env values, argv).
struct ContainerRun {
  std::string name;
  std::vector<std::string> argv;          ///< command + args; argv[0] looked up in PATH
  std::vector<std::string> env;           ///< the complete environment, "KEY=VALUE"
  std::string working_dir;                ///< "" = the pod's directory
  std::filesystem::path log_path;         ///< stdout and stderr, appended
};

/// A file made visible inside the pod (PodRun::files).
struct PodFile {
  std::string path;       ///< absolute path inside the pod
  std::string contents;
  mode_t mode = 0644;     ///< 0644: readable whatever user the pod switches to; 0600 for secrets
};

/// How the pod's names resolve and where its ports live.
enum class NetworkMode {
  kJobNamespace,  ///< a network namespace shared by the job's pods + private /etc/hosts
  kHostHosts,     ///< host network, pod loopback address, private /etc/hosts (mount namespace)
  kHostAddress,   ///< host network, pod loopback address, names substituted by addresses
};
const char* to_string(NetworkMode m);

struct PodRun {
  std::string key;                              ///< "<ns>/<name>", for messages
  std::filesystem::path dir;                    ///< the pod's directory (created 0700)
  std::vector<ContainerRun> init_containers;    ///< run in order, each must exit 0
  std::vector<ContainerRun> containers;         ///< run together
  std::string restart_policy = "Always";        ///< Always | OnFailure | Never
  int termination_grace_seconds = 30;
  std::string hostname;                         ///< UTS hostname when a UTS namespace is available
  /// Contents of the pod's private /etc/hosts ("" = keep the host's).
  std::string hosts_file;
  /// Extra files to make visible inside the pod (e.g. /etc/volcano/<task>.host). Each is always
  /// written at dir/root/<path>; where a mount namespace is available and <path> is a file on
  /// this machine, it is also bind-mounted over <path> (see visible_path).
  std::vector<PodFile> files;
  /// Directories mounted as a whole, as a Kubernetes volume is at its mount path (e.g. the ssh
  /// plugin's /root/.ssh): where a mount namespace is available and the directory exists on
  /// this machine, dir/root/<dir> (the `files` under it, nothing else) is bind-mounted over it,
  /// hiding what the host has there; else the files stay under dir/root/<dir> only. Files under
  /// such a directory are never mounted one by one.
  std::vector<std::string> mount_dirs;
  NetworkMode network = NetworkMode::kHostHosts;
  /// kJobNamespace: the file the job's network namespace is (or will be) bind-mounted at.
  std::filesystem::path job_netns;
};

/// Final state of one container run.
struct ContainerResult {
  std::string name;
  int exit_code = 0;        ///< 128+signal when killed by a signal, as kubelet reports
  std::string reason;       ///< "Completed", "Error", "OOMKilled"-like, "StartError"
  std::string message;      ///< e.g. "exec: \"foo\": executable file not found in $PATH"
  int restart_count = 0;
  std::string started_at;   ///< RFC 3339
  std::string finished_at;
};

/// What the supervisor tells the cluster.
class PodObserver {
 public:
  virtual ~PodObserver() = default;
  /// The pod's process groups are running (after init containers); `network` is the mode used.
  virtual void running(NetworkMode network, const std::vector<std::string>& started_at) = 0;
  /// A container exited and is restarted per restartPolicy. Called once the new process runs:
  /// `last` is the run that ended, with restart_count already counting this restart.
  virtual void restarted(const ContainerResult& last) = 0;
  /// True when the pod should stop (deleted, job killed): polled about twice a second.
  virtual bool should_stop() = 0;
};

/// Runs the pod in this process (the supervisor), blocking until every container ended for
/// good or should_stop()/SIGTERM asked it to stop (then SIGTERM to each process group, wait
/// termination_grace_seconds, SIGKILL). Never leaves a process of the pod alive. Returns the
/// containers' final results (init container failure: that container's result only).
///
/// The calling process becomes a child subreaper and, while run_pod runs, reaps and at the end
/// SIGKILLs every child it has: call it from a process whose only children are the pod's (the
/// supervisor), from its main thread. A failed init container is restarted like kubelet does
/// unless restart_policy is Never. Start failures (namespaces, log file, exec) are results with
/// reason "StartError": exit code 127 when the executable is missing, else 128 as kubelet
/// reports. Throws kai::Error Invalid only for a malformed PodRun (no dir, bad file path,
/// unknown restart policy), before anything runs.
std::vector<ContainerResult> run_pod(const PodRun& pod, PodObserver& observer);

/// Best network mode this machine allows for a pod (probes once per process).
NetworkMode best_network_mode();

/// Probes now, without the per-process cache (after a change of user, for instance).
NetworkMode probe_network_mode();

/// Where the pod's processes see `file` (a path of PodRun::files, or "/etc/hosts"): the path
/// itself when run_pod bind-mounts it (kJobNamespace and kHostHosts, and the path exists on the
/// host, since a mount needs an existing target; for a file under one of PodRun::mount_dirs,
/// when that directory exists), else the copy at dir/root/<path>.
std::filesystem::path visible_path(const PodRun& pod, const std::string& file);

/// Removes a job's network namespace (kJobNamespace): detaches the bind mount at `job_netns`
/// and deletes it and its lock file. Pods still running in it keep it until they end. Call once
/// no pod of the job will start again. No-op when absent; throws kai::Error on failure.
void release_job_netns(const std::filesystem::path& job_netns);

/// Starts argv as a detached process (new session, no terminal, stdin /dev/null, stdout and
/// stderr appended to `log`). Returns its pid; throws kai::Error on failure.
pid_t spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log);

/// Starts argv (absolute path) in a session of its own, stdin /dev/null, stdout and stderr
/// appended to `log`, and `pass_fd` (if >= 0) as its descriptor 3; returns without waiting for
/// it to exec (a failed exec exits 127, which the log does not show). Default signal handling.
/// The process stays this one's child: a long-lived caller reaps it. Throws kai::Error when it
/// cannot be started.
pid_t spawn_background(const std::vector<std::string>& argv, const std::filesystem::path& log, int pass_fd = -1);


/// The start time of a live process (clock ticks since boot, /proc/<pid>/stat field 22), to tell
/// a live supervisor from a reused pid. nullopt when no such process (or a zombie).
std::optional<uint64_t> process_start_time(pid_t pid);

/// Asks a supervisor to stop its pod (SIGTERM) and waits up to `wait_seconds` for it to exit;
/// SIGKILLs its process groups' leftovers after that. No-op when pid/start_time is gone.
void stop_supervisor(pid_t pid, uint64_t start_time, int wait_seconds);

/// The same, then kill_pod_leftovers(dir): also covers groups whose leader already died.
void stop_supervisor(pid_t pid, uint64_t start_time, int wait_seconds, const std::filesystem::path& dir);

/// SIGKILLs whatever process groups of the pod in `dir` are still alive (the supervisor records
/// each container's process group and its start time in dir/pgids before the container runs).
/// For a supervisor that died by SIGKILL. Returns how many groups were killed.
int kill_pod_leftovers(const std::filesystem::path& dir);

}  // namespace kai::minicluster::runtime
