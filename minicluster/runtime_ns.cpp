#include "minicluster/runtime_ns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/api/error.h"

namespace kai::minicluster::runtime::detail {
namespace {

namespace fs = std::filesystem;

bool fail(ChildFailure* f, ChildStage stage, int index = 0) {
  f->stage = stage;
  f->index = index;
  f->err = errno;
  return false;
}

// Runs `fn(ChildFailure*)` in a forked child and waits for it; nullopt on success. `fn` runs
// after fork, so async-signal-safe calls only.
template <typename Fn>
std::optional<ChildFailure> in_child(Fn&& fn) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ChildFailure{kStageUnknown, 0, errno};
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return ChildFailure{kStageUnknown, 0, err};
  }
  if (pid == 0) {
    ::close(fds[0]);
    ChildFailure f;
    if (fn(&f)) ::_exit(0);
    ssize_t n = ::write(fds[1], &f, sizeof f);
    ::_exit(n == sizeof f ? 1 : 2);
  }
  ::close(fds[1]);
  ChildFailure f;
  ssize_t n;
  do {
    n = ::read(fds[0], &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == sizeof f) return f;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  return ChildFailure{kStageUnknown, 0, 0};
}

// Writes a whole short string to a /proc file; async-signal-safe.
bool write_proc(const char* path, const std::string& text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::write(fd, text.data(), text.size());
  int saved = errno;
  ::close(fd);
  errno = saved;
  return n == static_cast<ssize_t>(text.size());
}

// A fresh network namespace has `lo` down; up, it gets 127.0.0.1/8, so every 127.x.y.z is a
// local address in it and pods need no address of their own configured.
bool loopback_up(ChildFailure* f) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail(f, kStageLoopback);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  if (ok) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ok = ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  }
  int saved = errno;
  ::close(s);
  errno = saved;
  return ok || fail(f, kStageLoopback);
}

// In a (helper) child: a new network namespace with lo up, kept alive by a bind mount of
// /proc/self/ns/net onto `target` (an existing file) after this process exits.
bool create_persistent_netns(const char* target, ChildFailure* f) {
  if (::unshare(CLONE_NEWNET) != 0) return fail(f, kStageNetnsCreate);
  if (!loopback_up(f)) return false;
  if (::mount("/proc/self/ns/net", target, nullptr, MS_BIND, nullptr) != 0) return fail(f, kStageNetnsMount);
  return true;
}

bool is_netns(int fd) {
  struct statfs sfs{};
  if (::fstatfs(fd, &sfs) != 0 || sfs.f_type != static_cast<decltype(sfs.f_type)>(NSFS_MAGIC)) return false;
  return ::ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

std::string unshare_flags_text(int flags) {
  std::string s;
  auto add = [&](int bit, const char* name) {
    if (!(flags & bit)) return;
    if (!s.empty()) s += "|";
    s += name;
  };
  add(CLONE_NEWUSER, "CLONE_NEWUSER");
  add(CLONE_NEWNS, "CLONE_NEWNS");
  add(CLONE_NEWUTS, "CLONE_NEWUTS");
  return s;
}

fs::path lock_path(const fs::path& job_netns) {
  fs::path p = job_netns;
  p += ".lock";
  return p;
}

std::string netns_failure_text(const ChildFailure& f, const fs::path& job_netns) {
  std::string why = errno_text(f.err);
  switch (f.stage) {
    case kStageNetnsCreate:
      return "unshare(CLONE_NEWNET): " + why +
             (f.err == EPERM ? " (a network namespace shared by a job's pods needs root; see best_network_mode())" : "");
    case kStageLoopback:
      return "bring up lo: " + why;
    case kStageNetnsMount:
      return "bind-mount /proc/self/ns/net on " + job_netns.string() + ": " + why +
             (f.err == EPERM ? " (keeping a network namespace for later pods needs root)" : "");
    default:
      return "helper process failed";
  }
}

bool probe_job_namespace() {
  // Keeping a namespace after its creator exits needs a bind mount in the host's mount
  // namespace, which only root (CAP_SYS_ADMIN in the initial user namespace) may make.
  if (::geteuid() != 0) return false;
  std::vector<std::pair<std::string, std::string>> binds;
  if (mountable_file("/etc/hosts")) binds.emplace_back("/etc/hosts", "/etc/hosts");
  // The probe works in a private mount namespace on a private tmpfs, so it leaves nothing behind.
  const char* target = "/tmp/kai-netns-probe";
  auto failure = in_child([&](ChildFailure* f) {
    if (::unshare(CLONE_NEWNS) != 0) return fail(f, kStageUnshare, CLONE_NEWNS);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(f, kStageMountPrivate);
    if (::mount("kai-probe", "/tmp", "tmpfs", 0, "size=64k,mode=0700") != 0) return fail(f, kStageTmpfs);
    int file = ::open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (file < 0) return fail(f, kStageNetnsFile);
    ::close(file);
    if (!create_persistent_netns(target, f)) return false;
    int ns = ::open(target, O_RDONLY | O_CLOEXEC);
    if (ns < 0) return fail(f, kStageSetns);
    NsPlan plan;
    plan.netns_fd = ns;
    plan.new_mount = true;
    plan.new_uts = true;
    plan.hostname = "kai-probe";
    plan.binds = binds;
    return apply_ns_plan(plan, f);
  });
  return !failure;
}

bool probe_host_hosts() {
  std::vector<std::pair<std::string, std::string>> binds;
  if (mountable_file("/etc/hosts")) binds.emplace_back("/etc/hosts", "/etc/hosts");
  NsPlan plan = make_ns_plan(NetworkMode::kHostHosts, -1, "kai-probe", binds);
  auto failure = in_child([&](ChildFailure* f) { return apply_ns_plan(plan, f); });
  return !failure;
}

}  // namespace

NsPlan make_ns_plan(NetworkMode mode, int netns_fd, std::string hostname,
                    std::vector<std::pair<std::string, std::string>> binds) {
  NsPlan plan;
  if (mode == NetworkMode::kHostAddress) return plan;
  plan.netns_fd = mode == NetworkMode::kJobNamespace ? netns_fd : -1;
  // Root has CAP_SYS_ADMIN over the host's namespaces already; anyone else gets it inside a
  // user namespace of their own, where their uid and gid map to themselves (so files they
  // create keep their owner and nothing looks different to the program).
  plan.new_user = ::geteuid() != 0;
  plan.new_mount = true;
  plan.new_uts = true;
  plan.hostname = std::move(hostname);
  if (plan.new_user) {
    plan.uid_map = std::to_string(::geteuid()) + " " + std::to_string(::geteuid()) + " 1";
    plan.gid_map = std::to_string(::getegid()) + " " + std::to_string(::getegid()) + " 1";
  }
  plan.binds = std::move(binds);
  return plan;
}

bool apply_ns_plan(const NsPlan& plan, ChildFailure* f) {
  // The network namespace first: joining it needs CAP_SYS_ADMIN where it was made, which a
  // new user namespace would take away.
  if (plan.netns_fd >= 0 && ::setns(plan.netns_fd, CLONE_NEWNET) != 0) return fail(f, kStageSetns);
  int flags = (plan.new_user ? CLONE_NEWUSER : 0) | (plan.new_mount ? CLONE_NEWNS : 0) |
              (plan.new_uts ? CLONE_NEWUTS : 0);
  if (flags != 0 && ::unshare(flags) != 0) return fail(f, kStageUnshare, flags);
  if (plan.new_user) {
    // An unprivileged process may map only its own ids, and its gid only once setgroups is off.
    if (!write_proc("/proc/self/setgroups", "deny") && errno != ENOENT) return fail(f, kStageSetgroups);
    if (!write_proc("/proc/self/uid_map", plan.uid_map)) return fail(f, kStageUidMap);
    if (!write_proc("/proc/self/gid_map", plan.gid_map)) return fail(f, kStageGidMap);
  }
  if (plan.new_mount) {
    // Private first, or the bind mounts below would propagate back into the host's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(f, kStageMountPrivate);
    for (std::size_t i = 0; i < plan.binds.size(); ++i) {
      if (::mount(plan.binds[i].first.c_str(), plan.binds[i].second.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        return fail(f, kStageBind, static_cast<int>(i));
      }
    }
  }
  if (plan.new_uts && !plan.hostname.empty() &&
      ::sethostname(plan.hostname.data(), plan.hostname.size()) != 0) {
    return fail(f, kStageHostname);
  }
  return true;
}

std::string describe_ns_failure(const ChildFailure& f, const NsPlan& plan, const fs::path& job_netns) {
  std::string why = errno_text(f.err);
  switch (f.stage) {
    case kStageSetns:
      return "setns into the job network namespace " + job_netns.string() + ": " + why;
    case kStageUnshare:
      return "unshare(" + unshare_flags_text(f.index) + "): " + why;
    case kStageSetgroups:
      return "write /proc/self/setgroups: " + why;
    case kStageUidMap:
      return "write /proc/self/uid_map: " + why;
    case kStageGidMap:
      return "write /proc/self/gid_map: " + why;
    case kStageMountPrivate:
      return "make mounts private: " + why;
    case kStageBind:
      if (f.index >= 0 && static_cast<std::size_t>(f.index) < plan.binds.size()) {
        return "bind-mount " + plan.binds[f.index].first + " on " + plan.binds[f.index].second + ": " + why;
      }
      return "bind-mount: " + why;
    case kStageHostname:
      return "sethostname(\"" + plan.hostname + "\"): " + why;
    default:
      return "namespace set-up failed: " + why;
  }
}

bool mountable_file(const std::string& target) {
  struct stat st{};
  return ::stat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool mountable_dir(const std::string& target) {
  struct stat st{};
  return ::stat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

UniqueFd open_job_netns(const fs::path& job_netns) {
  if (job_netns.empty()) throw Error::invalid("network mode JobNamespace needs the job_netns path");
  make_private_dirs(job_netns.parent_path());
  UniqueFd lock = lock_file(lock_path(job_netns));
  UniqueFd ns(::open(job_netns.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (ns.valid() && is_netns(ns.get())) return ns;
  // Absent, or a plain file left from before a reboot: make the namespace now.
  ns.reset();
  UniqueFd file(::open(job_netns.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
  if (!file.valid()) {
    throw Error::unavailable("cannot create the job network namespace file " + job_netns.string() + ": " +
                             errno_text(errno));
  }
  file.reset();
  std::string target = job_netns.string();
  auto failure = in_child([&](ChildFailure* f) { return create_persistent_netns(target.c_str(), f); });
  if (failure) {
    throw Error::unavailable("cannot create the job network namespace at " + target + ": " +
                             netns_failure_text(*failure, job_netns));
  }
  ns.reset(::open(job_netns.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!ns.valid() || !is_netns(ns.get())) {
    throw Error::unavailable("the job network namespace at " + target + " vanished after it was created");
  }
  return ns;
}

}  // namespace kai::minicluster::runtime::detail

namespace kai::minicluster::runtime {

NetworkMode probe_network_mode() {
  if (detail::probe_job_namespace()) return NetworkMode::kJobNamespace;
  if (detail::probe_host_hosts()) return NetworkMode::kHostHosts;
  return NetworkMode::kHostAddress;
}

NetworkMode best_network_mode() {
  // The machine's answer does not change while a process lives; probing forks, so do it once.
  static const NetworkMode mode = probe_network_mode();
  return mode;
}

void release_job_netns(const std::filesystem::path& job_netns) {
  namespace fs = std::filesystem;
  if (job_netns.empty()) return;
  fs::path lock = detail::lock_path(job_netns);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(job_netns, ec)) && !fs::exists(lock, ec)) return;
  detail::UniqueFd held = detail::lock_file(lock);
  // Detach every mount stacked on the file (normally one); EINVAL: not a mount point (any more).
  while (::umount2(job_netns.c_str(), MNT_DETACH) == 0) {
  }
  if (errno != EINVAL && errno != ENOENT) {
    throw Error::unavailable("cannot unmount the job network namespace " + job_netns.string() + ": " +
                             detail::errno_text(errno));
  }
  if (::unlink(job_netns.c_str()) != 0 && errno != ENOENT) {
    throw Error::unavailable("cannot remove " + job_netns.string() + ": " + detail::errno_text(errno));
  }
  // A pod that starts after this would make a new namespace: hence "once no pod will start".
  if (::unlink(lock.c_str()) != 0 && errno != ENOENT) {
    throw Error::unavailable("cannot remove " + lock.string() + ": " + detail::errno_text(errno));
  }
}

}  // namespace kai::minicluster::runtime
