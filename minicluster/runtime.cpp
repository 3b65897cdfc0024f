#include "minicluster/runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "lib/api/error.h"
#include "minicluster/runtime_ns.h"
#include "minicluster/runtime_sys.h"
#include "minicluster/store.h"

extern char** environ;

namespace kai::minicluster::runtime {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using detail::ChildFailure;
using detail::GroupRecord;
using detail::UniqueFd;

// kubelet's CrashLoopBackOff waits 10 s, doubling up to 5 min. kai is a local development
// tool, where a quick retry matters more than sparing an API server: 1 s doubling up to 30 s.
// As in kubelet, a container that ran twice the cap before it exited starts from 1 s again.
constexpr std::chrono::seconds kFirstBackoff{1};
constexpr std::chrono::seconds kMaxBackoff{30};
constexpr std::chrono::seconds kBackoffReset = 2 * kMaxBackoff;
// How often should_stop() is asked.
constexpr std::chrono::milliseconds kStopPoll{500};
// How long SIGKILLed processes may take to disappear (only a process stuck in an
// uninterruptible sleep takes more than a few milliseconds).
constexpr std::chrono::seconds kKillWait{10};

// Exit codes of a container that could not start: 127 as a shell reports a missing command;
// anything else 128, the code kubelet reports with reason StartError.
constexpr int kExitNotFound = 127;
constexpr int kExitStartError = 128;

// Docker's default, for a container whose env has no PATH.
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// A signal handler can only talk to the loop through a global, and sig_atomic_t is the type
// it may write. Set by SIGTERM while run_pod runs; read by run_pod's loop.
volatile sig_atomic_t g_sigterm = 0;

void on_sigterm(int) { g_sigterm = 1; }
void on_sigchld(int) {}  // its only job: interrupt ppoll

bool is_dead(const std::optional<detail::ProcStat>& st) { return !st || st->state == 'Z' || st->state == 'X'; }

// While run_pod runs: SIGCHLD and SIGTERM are blocked except inside wait_until(), so a child's
// exit or a stop request wakes the loop at once and never interrupts a system call elsewhere;
// the process is a child subreaper, so orphans of the pod become its children. All restored
// at scope exit.
class SignalScope {
 public:
  SignalScope() {
    g_sigterm = 0;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &block, &old_mask_);
    wait_mask_ = old_mask_;
    sigdelset(&wait_mask_, SIGCHLD);
    sigdelset(&wait_mask_, SIGTERM);
    struct sigaction sa{};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigterm;
    ::sigaction(SIGTERM, &sa, &old_term_);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP;
    ::sigaction(SIGCHLD, &sa, &old_chld_);
    ::prctl(PR_GET_CHILD_SUBREAPER, &old_subreaper_);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  ~SignalScope() {
    ::prctl(PR_SET_CHILD_SUBREAPER, old_subreaper_);
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    ::sigaction(SIGCHLD, &old_chld_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

  /// Sleeps until `t`, a child's exit or SIGTERM, whichever comes first.
  void wait_until(Clock::time_point t) const {
    auto d = std::max(t - Clock::now(), Clock::duration::zero());
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
    timespec ts{static_cast<time_t>(secs.count()),
                static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(d - secs).count())};
    ::ppoll(nullptr, 0, &ts, &wait_mask_);
  }

 private:
  sigset_t old_mask_{};
  sigset_t wait_mask_{};
  struct sigaction old_term_{};
  struct sigaction old_chld_{};
  int old_subreaper_ = 0;
};

std::optional<std::string> env_value(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      return kv.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

// kubelet truncates a pod's hostname to 63 characters and trims what would end it badly.
std::string pod_hostname(std::string h) {
  if (h.size() > 63) h.resize(63);
  while (!h.empty() && (h.back() == '-' || h.back() == '.')) h.pop_back();
  return h;
}

// dir/root/<path>: where the pod's files are written, and where they stay when not mounted.
fs::path root_copy(const fs::path& dir, const std::string& file) {
  return dir / "root" / fs::path(file).relative_path();
}

// The entry of pod.mount_dirs that holds `file` (or is it), if any.
const std::string* mount_dir_of(const PodRun& pod, const std::string& file) {
  for (const auto& d : pod.mount_dirs) {
    const fs::path rel = fs::path(file).lexically_normal().lexically_relative(fs::path(d).lexically_normal());
    if (!rel.empty() && *rel.begin() != "..") return &d;
  }
  return nullptr;
}

void validate(const PodRun& pod) {
  std::vector<FieldCause> causes;
  if (pod.dir.empty()) causes.push_back({"dir", "Required value"});
  if (pod.containers.empty()) causes.push_back({"containers", "Required value: a pod needs a container"});
  if (pod.restart_policy != "Always" && pod.restart_policy != "OnFailure" && pod.restart_policy != "Never") {
    causes.push_back({"restart_policy", "Unsupported value: \"" + pod.restart_policy +
                                            "\": supported values: \"Always\", \"OnFailure\", \"Never\""});
  }
  auto check_containers = [&](const std::vector<ContainerRun>& list, const std::string& field) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i].log_path.empty()) {
        causes.push_back({field + "[" + std::to_string(i) + "].log_path", "Required value"});
      }
    }
  };
  check_containers(pod.init_containers, "init_containers");
  check_containers(pod.containers, "containers");
  auto check_path = [&](const std::string& path, const std::string& field) {
    fs::path p(path);
    bool dotdot = std::any_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; });
    if (!p.is_absolute() || dotdot || p.relative_path().empty()) {
      causes.push_back({field, "Invalid value: \"" + path + "\": must be an absolute path without '..', not /"});
    }
  };
  for (std::size_t i = 0; i < pod.files.size(); ++i) check_path(pod.files[i].path, "files[" + std::to_string(i) + "]");
  for (std::size_t i = 0; i < pod.mount_dirs.size(); ++i) {
    check_path(pod.mount_dirs[i], "mount_dirs[" + std::to_string(i) + "]");
  }
  if (pod.network == NetworkMode::kJobNamespace && pod.job_netns.empty()) {
    causes.push_back({"job_netns", "Required value: network mode JobNamespace needs it"});
  }
  if (causes.empty()) return;
  std::string msg = "pod " + pod.key + " cannot run:";
  for (const auto& c : causes) msg += " " + c.field + ": " + c.message + ";";
  msg.pop_back();
  throw Error::invalid(msg, causes);
}

// What the forked container process needs, all prepared before fork so that the child only
// makes system calls.
struct ChildArgs {
  pid_t parent = 0;
  int go_fd = -1;       // one byte arrives once the supervisor recorded our process group
  int report_fd = -1;   // a ChildFailure goes back through it; close-on-exec, so exec closes it
  int log_fd = -1;
  const detail::NsPlan* plan = nullptr;
  const char* cwd = nullptr;
  const char* exe = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
};

[[noreturn]] void child_fail(const ChildArgs& a, int32_t stage, int err) {
  ChildFailure f{stage, 0, err};
  ssize_t n = ::write(a.report_fd, &f, sizeof f);
  ::_exit(n == sizeof f ? kExitStartError : kExitStartError + 1);
}

[[noreturn]] void child_fail(const ChildArgs& a, const ChildFailure& f) {
  ssize_t n = ::write(a.report_fd, &f, sizeof f);
  ::_exit(n == sizeof f ? kExitStartError : kExitStartError + 1);
}

// The container's process, between fork and exec: async-signal-safe calls only.
[[noreturn]] void container_child(const ChildArgs& a) {
  detail::reset_signals();
  ::setpgid(0, 0);
  // If the supervisor dies (even by SIGKILL) the container's main process dies with it;
  // the rest of its group is left to kill_pod_leftovers, which dir/pgids makes possible.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(a, detail::kStagePdeathsig, errno);
  if (::getppid() != a.parent) ::_exit(kExitStartError);
  char go = 0;
  ssize_t n;
  do {
    n = ::read(a.go_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(kExitStartError);  // the supervisor died before recording us: nobody to run for
  ::close(a.go_fd);

  ChildFailure f;
  if (!detail::apply_ns_plan(*a.plan, &f)) child_fail(a, f);
  // Entering a user namespace changed our credentials, which clears the parent-death signal.
  if (a.plan->new_user) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(a, detail::kStagePdeathsig, errno);
    if (::getppid() != a.parent) ::_exit(kExitStartError);
  }

  // Move the descriptors out of 0..2 first, in case the supervisor runs without them.
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) child_fail(a, detail::kStageStdio, errno);
  int in = ::fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
  int out = ::fcntl(a.log_fd, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) {
    child_fail(a, detail::kStageStdio, errno);
  }
  if (::chdir(a.cwd) != 0) child_fail(a, detail::kStageChdir, errno);
  detail::cloexec_from(3);
  ::execve(a.exe, a.argv, a.envp);
  child_fail(a, detail::kStageExec, errno);
}

// One container of the pod and its runs.
struct Slot {
  const ContainerRun* spec = nullptr;
  bool init = false;
  pid_t pid = -1;              // the running main process, which leads its process group; -1: none
  Clock::time_point run_began;
  ContainerResult last;        // the current run while running, else the last one
  int restart_count = 0;
  bool done = false;           // ended for good
  bool waiting = false;        // in back-off, to start again at restart_at
  Clock::time_point restart_at;
  std::chrono::seconds backoff = kFirstBackoff;
};

class Supervisor {
 public:
  Supervisor(const PodRun& pod, PodObserver& observer, const SignalScope& signals)
      : pod_(pod), observer_(observer), signals_(signals), dir_(fs::absolute(pod.dir)),
        pgids_file_(dir_ / "pgids") {}

  std::vector<ContainerResult> run();
  /// After an exception: no process of the pod may outlive run_pod.
  void abort();

 private:
  std::optional<std::string> ensure_ready();
  bool start(Slot& s);
  void on_exit(Slot& s, int status);
  void schedule(Slot& s);
  void reap();
  void restart_due(const std::vector<Slot*>& slots);
  bool run_until_done(const std::vector<Slot*>& slots, bool report_running);
  bool stop_requested(Clock::time_point& next_poll);
  void terminate(const std::vector<Slot*>& slots);
  void finish_group(pid_t pgid);
  bool save_groups();
  void sweep_children();

  const PodRun& pod_;
  PodObserver& observer_;
  const SignalScope& signals_;
  fs::path dir_;
  fs::path pgids_file_;
  std::vector<Slot> slots_;            // init containers, then containers; never resized after run() starts
  std::vector<GroupRecord> groups_;    // the process groups alive now, as in dir/pgids
  bool stopping_ = false;
  bool files_ready_ = false;
  std::vector<std::pair<std::string, std::string>> binds_;
  UniqueFd netns_;
  detail::NsPlan plan_;
};

// Everything a container start needs from the pod, done on the first start and retried on
// later ones while it fails (so a transient failure heals on restart).
std::optional<std::string> Supervisor::ensure_ready() {
  try {
    if (!files_ready_) {
      detail::make_private_dirs(dir_);
      std::vector<PodFile> files;
      if (!pod_.hosts_file.empty()) files.push_back({"/etc/hosts", pod_.hosts_file, 0644});
      files.insert(files.end(), pod_.files.begin(), pod_.files.end());
      binds_.clear();
      // Whole directories first: files under them come with them, never one by one.
      for (const auto& d : pod_.mount_dirs) {
        fs::path copy = root_copy(dir_, d);
        detail::make_private_dirs(copy);
        if (visible_path(pod_, d) == fs::path(d)) binds_.emplace_back(copy.string(), d);
      }
      for (const auto& f : files) {
        fs::path copy = root_copy(dir_, f.path);
        // dir itself is 0700; the mode says who else may read the file once it is mounted.
        detail::write_file(copy, f.contents, f.mode);
        if (!mount_dir_of(pod_, f.path) && visible_path(pod_, f.path) == fs::path(f.path)) {
          binds_.emplace_back(copy.string(), f.path);
        }
      }
      files_ready_ = true;
    }
    if (pod_.network == NetworkMode::kJobNamespace && !netns_.valid()) netns_ = detail::open_job_netns(pod_.job_netns);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  plan_ = detail::make_ns_plan(pod_.network, netns_.get(), pod_hostname(pod_.hostname), binds_);
  return std::nullopt;
}

bool Supervisor::save_groups() {
  try {
    detail::write_group_records(pgids_file_, groups_);
    return true;
  } catch (const Error&) {
    return false;  // the caller decides whether a stale or missing record matters
  }
}

// Starts s's container. On failure s.last is a StartError result and false is returned.
bool Supervisor::start(Slot& s) {
  const ContainerRun& c = *s.spec;
  s.last = ContainerResult{};
  s.last.name = c.name;
  s.last.restart_count = s.restart_count;
  s.last.started_at = store::now_rfc3339();
  s.run_began = Clock::now();
  auto start_error = [&](int code, std::string message) {
    s.last.exit_code = code;
    s.last.reason = "StartError";
    s.last.message = std::move(message);
    s.last.finished_at = store::now_rfc3339();
    return false;
  };
  if (c.argv.empty()) return start_error(kExitStartError, "no command specified");
  if (auto err = ensure_ready()) return start_error(kExitStartError, *err);

  fs::path cwd = c.working_dir.empty() ? dir_ : fs::path(c.working_dir);
  std::string exe = c.argv[0];
  if (exe.find('/') == std::string::npos) {
    // Looked up in the container's PATH, not the supervisor's, as a container runtime does.
    auto found = detail::find_executable(exe, env_value(c.env, "PATH").value_or(kDefaultPath), cwd);
    if (!found) return start_error(kExitNotFound, "exec: \"" + exe + "\": executable file not found in $PATH");
    exe = *found;
  }
  UniqueFd log;
  try {
    log = detail::open_append_private(c.log_path);
  } catch (const Error& e) {
    return start_error(kExitStartError, e.what());
  }

  std::vector<std::string> argv_copy = c.argv;
  std::vector<std::string> env_copy = c.env;
  std::vector<char*> argv;
  std::vector<char*> envp;
  for (auto& a : argv_copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string cwd_str = cwd.string();

  int go[2];
  int report[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return start_error(kExitStartError, "pipe: " + detail::errno_text(errno));
  UniqueFd go_read(go[0]);
  UniqueFd go_write(go[1]);
  if (::pipe2(report, O_CLOEXEC) != 0) return start_error(kExitStartError, "pipe: " + detail::errno_text(errno));
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  ChildArgs args;
  args.parent = ::getpid();
  args.go_fd = go_read.get();
  args.report_fd = report_write.get();
  args.log_fd = log.get();
  args.plan = &plan_;
  args.cwd = cwd_str.c_str();
  args.exe = exe.c_str();
  args.argv = argv.data();
  args.envp = envp.data();

  pid_t pid = ::fork();
  if (pid < 0) return start_error(kExitStartError, "fork: " + detail::errno_text(errno));
  if (pid == 0) container_child(args);
  go_read.reset();
  report_write.reset();
  log.reset();
  // Both sides call setpgid, so the group exists whichever runs first.
  ::setpgid(pid, pid);

  auto kill_child = [&] {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  };
  // Recorded before the container runs anything, so that a supervisor killed at any instant
  // leaves enough behind for kill_pod_leftovers.
  auto stat = detail::read_proc_stat(pid);
  if (!stat) {
    kill_child();
    return start_error(kExitStartError, "the container process vanished before it started");
  }
  groups_.push_back({pid, stat->start_time});
  if (!save_groups()) {
    int err = errno;
    kill_child();
    groups_.pop_back();
    return start_error(kExitStartError, "cannot record the process group in " + pgids_file_.string() + ": " +
                                            detail::errno_text(err));
  }
  char byte = 'g';
  if (::write(go_write.get(), &byte, 1) != 1) {
    int err = errno;
    kill_child();
    groups_.pop_back();
    save_groups();
    return start_error(kExitStartError, "cannot release the container process: " + detail::errno_text(err));
  }
  go_write.reset();

  // EOF: exec succeeded and closed the pipe. A report: the child failed before exec and exits.
  ChildFailure f;
  ssize_t n;
  do {
    n = ::read(report_read.get(), &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  if (n != 0) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    finish_group(pid);
    if (n != sizeof f) return start_error(kExitStartError, "the container process failed before exec");
    std::string why = detail::errno_text(f.err);
    switch (f.stage) {
      case detail::kStageExec:
        return start_error(f.err == ENOENT ? kExitNotFound : kExitStartError, "exec: \"" + c.argv[0] + "\": " + why);
      case detail::kStageChdir:
        return start_error(kExitStartError, "chdir to working directory \"" + cwd_str + "\": " + why);
      case detail::kStageStdio:
        return start_error(kExitStartError, "set up stdin/stdout/stderr: " + why);
      case detail::kStagePdeathsig:
        return start_error(kExitStartError, "prctl(PR_SET_PDEATHSIG): " + why);
      default:
        return start_error(kExitStartError, detail::describe_ns_failure(f, plan_, pod_.job_netns));
    }
  }
  s.pid = pid;
  return true;
}

// SIGKILLs what is left of a process group and reaps it, then forgets the group.
void Supervisor::finish_group(pid_t pgid) {
  ::kill(-pgid, SIGKILL);
  auto deadline = Clock::now() + kKillWait;
  for (;;) {
    // Members whose parent died were reparented to us (subreaper): reap them as they go.
    while (::waitpid(-pgid, nullptr, WNOHANG) > 0) {
    }
    if (!detail::group_has_live_members(pgid) || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // A group still alive after kKillWait stays recorded, for kill_pod_leftovers to retry.
  if (detail::group_has_live_members(pgid)) return;
  groups_.erase(std::remove_if(groups_.begin(), groups_.end(), [&](const GroupRecord& g) { return g.pgid == pgid; }),
                groups_.end());
  save_groups();  // a stale record is harmless: the start time no longer matches any process
}

void Supervisor::on_exit(Slot& s, int status) {
  pid_t pgid = s.pid;
  s.pid = -1;
  s.last.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  s.last.reason = s.last.exit_code == 0 ? "Completed" : "Error";
  s.last.finished_at = store::now_rfc3339();
  // As when kubelet tears down a container's PID namespace: what the main process left
  // running in its group ends with it.
  finish_group(pgid);
  schedule(s);
}

// After a run ended: back-off and restart per restartPolicy, or done.
void Supervisor::schedule(Slot& s) {
  const std::string& policy = pod_.restart_policy;
  bool failed = s.last.exit_code != 0;
  // Init containers run to completion: only a failure repeats them (not under Never).
  bool restart = s.init ? failed && policy != "Never" : policy == "Always" || (policy == "OnFailure" && failed);
  if (!restart || stopping_) {
    s.done = true;
    return;
  }
  if (Clock::now() - s.run_began >= kBackoffReset) s.backoff = kFirstBackoff;
  s.waiting = true;
  s.restart_at = Clock::now() + s.backoff;
  s.backoff = std::min(s.backoff * 2, kMaxBackoff);
}

void Supervisor::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    for (auto& s : slots_) {
      if (s.pid == pid) {
        on_exit(s, status);
        break;
      }
    }
    // Any other child is an orphan of the pod reparented to us: reaping it is all it needs.
  }
}

void Supervisor::restart_due(const std::vector<Slot*>& slots) {
  for (Slot* s : slots) {
    if (!s->waiting || Clock::now() < s->restart_at) continue;
    s->waiting = false;
    ContainerResult previous = s->last;
    ++s->restart_count;
    previous.restart_count = s->restart_count;
    bool started = start(*s);
    observer_.restarted(previous);
    if (!started) schedule(*s);
  }
}

bool Supervisor::stop_requested(Clock::time_point& next_poll) {
  if (g_sigterm) return true;
  if (Clock::now() < next_poll) return false;
  next_poll = Clock::now() + kStopPoll;
  return observer_.should_stop();
}

// Starts `slots` and supervises them until each ended for good (true) or a stop was asked
// (false: they were terminated).
bool Supervisor::run_until_done(const std::vector<Slot*>& slots, bool report_running) {
  for (Slot* s : slots) {
    if (!start(*s)) schedule(*s);
  }
  if (report_running) {
    std::vector<std::string> started_at;
    for (Slot* s : slots) started_at.push_back(s->last.started_at);
    observer_.running(pod_.network, started_at);
  }
  auto next_poll = Clock::now();
  for (;;) {
    reap();
    restart_due(slots);
    if (std::all_of(slots.begin(), slots.end(), [](const Slot* s) { return s->done; })) return true;
    if (stop_requested(next_poll)) {
      terminate(slots);
      return false;
    }
    auto wake = next_poll;
    for (Slot* s : slots) {
      if (s->waiting) wake = std::min(wake, s->restart_at);
    }
    signals_.wait_until(wake);
  }
}

// kubelet's stop: SIGTERM to every container, termination_grace_seconds for the pod as a
// whole, then SIGKILL.
void Supervisor::terminate(const std::vector<Slot*>& slots) {
  stopping_ = true;
  auto running = [&] { return std::any_of(slots.begin(), slots.end(), [](const Slot* s) { return s->pid > 0; }); };
  for (Slot* s : slots) {
    if (s->waiting) {
      s->waiting = false;
      s->done = true;
    }
    if (s->pid > 0) {
      ::kill(-s->pid, SIGTERM);
      ::kill(s->pid, SIGTERM);  // also when it left its group
    }
  }
  auto deadline = Clock::now() + std::chrono::seconds(std::max(0, pod_.termination_grace_seconds));
  for (reap(); running() && Clock::now() < deadline; reap()) signals_.wait_until(deadline);
  for (Slot* s : slots) {
    if (s->pid > 0) {
      ::kill(-s->pid, SIGKILL);
      ::kill(s->pid, SIGKILL);
    }
  }
  auto kill_deadline = Clock::now() + kKillWait;
  for (reap(); running() && Clock::now() < kill_deadline; reap()) {
    signals_.wait_until(std::min(kill_deadline, Clock::now() + std::chrono::milliseconds(50)));
  }
  for (Slot* s : slots) {
    if (s->pid <= 0) continue;
    // Stuck in the kernel: reported, and left in dir/pgids for kill_pod_leftovers.
    s->last.exit_code = 128 + SIGKILL;
    s->last.reason = "Error";
    s->last.message = "still running " + std::to_string(kKillWait.count()) + " s after SIGKILL";
    s->last.finished_at = store::now_rfc3339();
    s->pid = -1;
    s->done = true;
  }
}

// Processes of the pod that left their container's process group (setsid, double fork) were
// reparented to us when their parents died: every child we still have is one of them.
void Supervisor::sweep_children() {
  auto deadline = Clock::now() + kKillWait;
  for (;;) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    std::vector<std::pair<pid_t, detail::ProcStat>> kids;
    for (const auto& [pid, st] : detail::list_processes()) {
      if (st.ppid == ::getpid()) kids.emplace_back(pid, st);
    }
    if (kids.empty() || Clock::now() >= deadline) return;
    for (const auto& [pid, st] : kids) {
      ::kill(pid, SIGKILL);
      if (st.pgid == pid && st.pgid != ::getpgrp()) ::kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void Supervisor::abort() {
  stopping_ = true;
  for (auto& s : slots_) {
    if (s.pid <= 0) continue;
    ::kill(s.pid, SIGKILL);
    while (::waitpid(s.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    finish_group(s.pid);
    s.pid = -1;
  }
  sweep_children();
}

std::vector<ContainerResult> Supervisor::run() {
  // A previous supervisor of this pod that died by SIGKILL may have left processes behind.
  detail::kill_groups(detail::read_group_records(pgids_file_), kKillWait);

  auto add = [&](const ContainerRun& c, bool init) {
    Slot s;
    s.spec = &c;
    s.init = init;
    s.last.name = c.name;
    slots_.push_back(std::move(s));
  };
  for (const auto& c : pod_.init_containers) add(c, true);
  for (const auto& c : pod_.containers) add(c, false);

  std::size_t n_init = pod_.init_containers.size();
  for (std::size_t i = 0; i < n_init; ++i) {
    Slot& s = slots_[i];
    bool finished = run_until_done({&s}, false);
    if (!finished || s.last.exit_code != 0) {
      sweep_children();
      return {s.last};
    }
  }
  std::vector<Slot*> main;
  for (std::size_t i = n_init; i < slots_.size(); ++i) main.push_back(&slots_[i]);
  run_until_done(main, true);
  sweep_children();
  std::vector<ContainerResult> results;
  for (Slot* s : main) results.push_back(s->last);
  return results;
}

}  // namespace

const char* to_string(NetworkMode m) {
  switch (m) {
    case NetworkMode::kJobNamespace:
      return "JobNamespace";
    case NetworkMode::kHostHosts:
      return "HostHosts";
    case NetworkMode::kHostAddress:
      return "HostAddress";
  }
  return "Unknown";
}

fs::path visible_path(const PodRun& pod, const std::string& file) {
  if (pod.network != NetworkMode::kHostAddress) {
    if (const std::string* d = mount_dir_of(pod, file)) {
      if (detail::mountable_dir(*d)) return file;
    } else if (detail::mountable_file(file)) {
      return file;
    }
  }
  return root_copy(fs::absolute(pod.dir), file);
}

std::vector<ContainerResult> run_pod(const PodRun& pod, PodObserver& observer) {
  validate(pod);
  SignalScope signals;
  Supervisor supervisor(pod, observer, signals);
  try {
    return supervisor.run();
  } catch (...) {
    supervisor.abort();
    throw;
  }
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
namespace {

// What spawn_background's child reads: all in one private mapping that the parent never
// writes nor frees after clone(), so the child (which shares the parent's memory until it
// execs) sees it intact whatever the parent does meanwhile, exiting included.
struct BackgroundChild {
  char** argv;
  char** envp;
  int null_fd;
  int log_fd;
  int pass_fd;
};

// Runs on its own stack in the parent's memory: raw system calls only (no allocation, no
// locks, no errno: glibc's wrappers would write the parent's errno through the shared TLS).
int background_child_main(void* p) {
  const auto* c = static_cast<const BackgroundChild*>(p);
  ::syscall(SYS_setsid);
  struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  } dfl{SIG_DFL, 0, nullptr, 0};
  for (int sig = 1; sig < 65; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(uint64_t));
  }
  uint64_t none = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none);
  if (::syscall(SYS_dup2, c->null_fd, 0) < 0 || ::syscall(SYS_dup2, c->log_fd, 1) < 0 ||
      ::syscall(SYS_dup2, c->log_fd, 2) < 0) {
    ::syscall(SYS_exit, 126);
  }
  if (c->pass_fd >= 0 && (c->pass_fd == 3 ? ::syscall(SYS_fcntl, 3, F_SETFD, 0) : ::syscall(SYS_dup2, c->pass_fd, 3)) < 0) {
    ::syscall(SYS_exit, 126);
  }
  ::syscall(SYS_execve, c->argv[0], c->argv, c->envp);
  ::syscall(SYS_exit, 127);
  return 127;
}

}  // namespace
#endif

pid_t spawn_background(const std::vector<std::string>& argv, const fs::path& log, int pass_fd) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    throw Error::invalid("spawn_background: the command needs an absolute path");
  }
  UniqueFd log_fd = detail::open_append_private(log);
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd.valid()) throw Error::internal("cannot open /dev/null: " + detail::errno_text(errno));
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Sanitizers do not follow a child that shares their memory: posix_spawn, which waits for exec.
  std::vector<std::string> argv_copy = argv;
  std::vector<char*> args;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&fa, null_fd.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, log_fd.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, log_fd.get(), 2);
  if (pass_fd >= 0) posix_spawn_file_actions_adddup2(&fa, pass_fd, 3);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error::unavailable("cannot start " + argv[0] + ": " + detail::errno_text(rc));
  return pid;
#else
  // Unlike posix_spawn, the parent does not wait for the child to exec (a few milliseconds of
  // page-table work in a VM): clone(CLONE_VM) without CLONE_VFORK. Everything the child reads is
  // copied into one mapping first, which is deliberately never unmapped (the child may still
  // read it after this returns; it is a few KiB, once per command).
  std::size_t strings = 0, nenv = 0;
  for (const auto& a : argv) strings += a.size() + 1;
  for (char** e = environ; e && *e; ++e, ++nenv) strings += std::strlen(*e) + 1;
  constexpr std::size_t kStack = 64 * 1024;
  const std::size_t size = kStack + sizeof(BackgroundChild) + (argv.size() + nenv + 2) * sizeof(char*) + strings + 64;
  void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw Error::internal("mmap: " + detail::errno_text(errno));
  char* base = static_cast<char*>(mem);
  auto* child = reinterpret_cast<BackgroundChild*>(base + kStack);
  auto** ptrs = reinterpret_cast<char**>(child + 1);
  char* text = reinterpret_cast<char*>(ptrs + argv.size() + nenv + 2);
  auto copy = [&](const char* from, std::size_t n) {
    char* at = text;
    std::memcpy(text, from, n);
    text[n] = '\0';
    text += n + 1;
    return at;
  };
  child->argv = ptrs;
  for (const auto& a : argv) *ptrs++ = copy(a.c_str(), a.size());
  *ptrs++ = nullptr;
  child->envp = ptrs;
  for (char** e = environ; e && *e; ++e) *ptrs++ = copy(*e, std::strlen(*e));
  *ptrs++ = nullptr;
  child->null_fd = null_fd.get();
  child->log_fd = log_fd.get();
  child->pass_fd = pass_fd;
  // The descriptors must stay open until the child has duplicated them: the child gets a copy
  // of the descriptor table at clone() (no CLONE_FILES), so closing ours afterwards is safe.
  const pid_t pid = ::clone(background_child_main, base + kStack, CLONE_VM | SIGCHLD, child);
  if (pid < 0) {
    const int err = errno;
    ::munmap(mem, size);
    throw Error::unavailable("cannot start " + argv[0] + ": clone: " + detail::errno_text(err));
  }
  return pid;
#endif
}

pid_t spawn_detached(const std::vector<std::string>& argv, const fs::path& log) {
  if (argv.empty()) throw Error::invalid("spawn_detached: empty command");
  const char* path_env = std::getenv("PATH");
  auto exe = detail::find_executable(argv[0], path_env ? path_env : kDefaultPath, fs::current_path());
  if (!exe) throw Error::not_found("cannot start " + argv[0] + ": executable file not found in $PATH");
  UniqueFd log_fd = detail::open_append_private(log);
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd.valid()) throw Error::internal("cannot open /dev/null: " + detail::errno_text(errno));
  std::vector<std::string> argv_copy = argv;
  std::vector<char*> args;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error::internal("pipe: " + detail::errno_text(errno));
  UniqueFd report_read(fds[0]);
  UniqueFd report_write(fds[1]);
  // Messages on the pipe: {pid, 0} from the middle process, then {-1, errno} if the grandchild
  // could not start; EOF alone after the pid means exec succeeded.
  struct Message {
    int32_t pid;
    int32_t err;
  };
  pid_t middle = ::fork();
  if (middle < 0) throw Error::internal("fork: " + detail::errno_text(errno));
  if (middle == 0) {
    // The middle process exits at once, so the grandchild is adopted by init (or a subreaper)
    // and never becomes a zombie of the caller; setsid makes the grandchild a session leader
    // with no controlling terminal.
    pid_t pid = ::fork();
    if (pid == 0) {
      auto fail = [&](int err) {
        Message m{-1, err};
        ssize_t n = ::write(report_write.get(), &m, sizeof m);
        ::_exit(n == sizeof m ? 127 : 126);
      };
      if (::setsid() < 0) fail(errno);
      detail::reset_signals();
      int in = ::fcntl(null_fd.get(), F_DUPFD_CLOEXEC, 3);
      int out = ::fcntl(log_fd.get(), F_DUPFD_CLOEXEC, 3);
      if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) fail(errno);
      detail::cloexec_from(3);
      ::execve(exe->c_str(), args.data(), environ);
      fail(errno);
    }
    Message m{pid < 0 ? -1 : static_cast<int32_t>(pid), pid < 0 ? errno : 0};
    ssize_t n = ::write(report_write.get(), &m, sizeof m);
    ::_exit(n == sizeof m ? 0 : 1);
  }
  report_write.reset();
  auto read_message = [&](Message& m) {
    ssize_t n;
    do {
      n = ::read(report_read.get(), &m, sizeof m);
    } while (n < 0 && errno == EINTR);
    return n;
  };
  Message first{};
  ssize_t n1 = read_message(first);
  while (::waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n1 != sizeof first || first.pid < 0) {
    throw Error::internal("cannot start " + argv[0] + ": fork: " + detail::errno_text(n1 == sizeof first ? first.err : EIO));
  }
  Message second{};
  ssize_t n2 = read_message(second);
  if (n2 == sizeof second) {
    throw Error::internal("cannot start " + argv[0] + ": " + detail::errno_text(second.err));
  }
  return first.pid;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  auto st = detail::read_proc_stat(pid);
  if (is_dead(st)) return std::nullopt;
  return st->start_time;
}

int kill_pod_leftovers(const fs::path& dir) {
  return detail::kill_groups(detail::read_group_records(dir / "pgids"), kKillWait);
}

namespace {

// The process groups of a supervisor's children (its containers, and orphans it adopted), with
// their leaders' start times, to kill after the supervisor itself.
std::vector<GroupRecord> child_groups(pid_t supervisor) {
  auto sup = detail::read_proc_stat(supervisor);
  std::vector<GroupRecord> out;
  for (const auto& [pid, st] : detail::list_processes()) {
    if (st.ppid != supervisor || (sup && st.pgid == sup->pgid)) continue;
    auto leader = detail::read_proc_stat(st.pgid);
    GroupRecord g{st.pgid, leader ? leader->start_time : st.start_time};
    if (std::none_of(out.begin(), out.end(), [&](const GroupRecord& o) { return o.pgid == g.pgid; })) out.push_back(g);
  }
  return out;
}

void stop_supervisor_impl(pid_t pid, uint64_t start_time, int wait_seconds, const fs::path* dir) {
  if (pid > 1) {
    // Opened before the start-time check, the pidfd then names exactly the checked process,
    // so a reused pid is never signalled.
    UniqueFd pidfd(detail::pidfd_open(pid));
    auto same = [&] { return process_start_time(pid) == start_time; };
    auto signal = [&](int sig) { pidfd.valid() ? detail::pidfd_send_signal(pidfd.get(), sig) : ::kill(pid, sig); };
    auto wait_gone = [&](Clock::time_point deadline) {
      while (same() && Clock::now() < deadline) {
        if (pidfd.valid()) {
          pollfd p{pidfd.get(), POLLIN, 0};
          ::poll(&p, 1, 50);
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
      return !same();
    };
    if (same()) {
      signal(SIGTERM);
      if (!wait_gone(Clock::now() + std::chrono::seconds(std::max(0, wait_seconds)))) {
        // Taken while the supervisor lives: once it dies its containers die (parent-death
        // signal) and leave groups whose leaders are gone.
        auto groups = child_groups(pid);
        signal(SIGKILL);
        wait_gone(Clock::now() + kKillWait);
        detail::kill_groups(groups, kKillWait);
      }
    }
  }
  if (dir) kill_pod_leftovers(*dir);
}

}  // namespace

void stop_supervisor(pid_t pid, uint64_t start_time, int wait_seconds) {
  stop_supervisor_impl(pid, start_time, wait_seconds, nullptr);
}

void stop_supervisor(pid_t pid, uint64_t start_time, int wait_seconds, const fs::path& dir) {
  stop_supervisor_impl(pid, start_time, wait_seconds, &dir);
}

}  // namespace kai::minicluster::runtime
