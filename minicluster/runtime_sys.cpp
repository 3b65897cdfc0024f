#include "minicluster/runtime_sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>
#include <thread>

#include "lib/api/error.h"

namespace kai::minicluster::runtime::detail {
namespace {

namespace fs = std::filesystem;

// Reads a small file whole with plain syscalls (the /proc files change between reads, so one
// read(2) loop on one descriptor, no stream buffering).
std::optional<std::string> read_small_file(const char* path) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string text;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

Error sys_error(const std::string& what, int err) {
  return Error::internal(what + ": " + errno_text(err));
}

}  // namespace

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Fields after the command name, split on single spaces: [0] is field 3 (state).
  std::vector<std::string_view> fields;
  std::size_t pos = close + 1;
  while (pos < text.size() && fields.size() < 20) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n')) ++pos;
    std::size_t end = pos;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n') ++end;
    if (end > pos) fields.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  if (fields.size() < 20 || fields[0].size() != 1) return std::nullopt;
  ProcStat st;
  st.state = fields[0][0];
  if (!parse_number(fields[1], st.ppid) || !parse_number(fields[2], st.pgid) ||
      !parse_number(fields[3], st.sid) || !parse_number(fields[19], st.start_time)) {
    return std::nullopt;
  }
  return st;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  auto text = read_small_file(path);
  if (!text) return std::nullopt;
  return parse_proc_stat(*text);
}

std::vector<std::pair<pid_t, ProcStat>> list_processes() {
  std::vector<std::pair<pid_t, ProcStat>> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    pid_t pid = 0;
    if (!parse_number(std::string_view(e->d_name), pid) || pid <= 0) continue;
    if (auto st = read_proc_stat(pid)) out.emplace_back(pid, *st);
  }
  ::closedir(d);
  return out;
}

std::vector<GroupRecord> read_group_records(const fs::path& file) {
  std::vector<GroupRecord> out;
  auto text = read_small_file(file.c_str());
  if (!text) return out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    GroupRecord r;
    if (parse_number(line.substr(0, sp), r.pgid) && parse_number(line.substr(sp + 1), r.start_time) && r.pgid > 1) {
      out.push_back(r);
    }
  }
  return out;
}

void write_group_records(const fs::path& file, const std::vector<GroupRecord>& groups) {
  std::string text;
  for (const auto& g : groups) text += std::to_string(g.pgid) + " " + std::to_string(g.start_time) + "\n";
  fs::path tmp = file;
  tmp += ".tmp";
  write_file(tmp, text, 0600);
  if (::rename(tmp.c_str(), file.c_str()) != 0) throw sys_error("cannot replace " + file.string(), errno);
}

bool group_has_live_members(pid_t pgid) {
  // kill(-pgid, 0) also succeeds for zombies, which cannot hurt anyone: scan /proc instead.
  if (::kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  for (const auto& [pid, st] : list_processes()) {
    if (st.pgid == pgid && st.state != 'Z' && st.state != 'X') return true;
  }
  return false;
}

int kill_groups(const std::vector<GroupRecord>& groups, std::chrono::milliseconds wait) {
  std::vector<pid_t> signalled;
  for (const auto& g : groups) {
    if (g.pgid <= 1 || g.pgid == ::getpgrp()) continue;  // never our own group (or init's)
    bool ours = false;
    bool leader_alive = false;
    auto leader = read_proc_stat(g.pgid);
    if (leader && leader->start_time != g.start_time) {
      // A pid in use with another start time is a reused pid: that group is someone else's.
      ours = false;
    } else if (leader && leader->state != 'Z' && leader->state != 'X') {
      ours = true;
      leader_alive = true;
    } else {
      // Leader gone (or a zombie nobody reaped): the group id stays reserved while members
      // remain, so live members that all started after our leader are our leftovers (a new
      // group with this id would need the id to be free first, which only happens once every
      // member has exited). Zombies alone need no killing.
      bool any = false;
      bool all_later = true;
      for (const auto& [pid, st] : list_processes()) {
        if (st.pgid != g.pgid || st.state == 'Z' || st.state == 'X') continue;
        any = true;
        if (st.start_time < g.start_time) all_later = false;
      }
      ours = any && all_later;
    }
    if (!ours) continue;
    // The leader too, by pid: it may have moved to a group of its own (setsid) since.
    bool hit = ::kill(-g.pgid, SIGKILL) == 0;
    if (leader_alive && ::kill(g.pgid, SIGKILL) == 0) hit = true;
    if (hit) signalled.push_back(g.pgid);
  }
  auto deadline = std::chrono::steady_clock::now() + wait;
  auto alive = [](pid_t pgid) {
    auto leader = read_proc_stat(pgid);
    return group_has_live_members(pgid) || (leader && leader->state != 'Z' && leader->state != 'X');
  };
  for (pid_t pgid : signalled) {
    while (alive(pgid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return static_cast<int>(signalled.size());
}

std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

void make_private_dirs(const fs::path& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  make_private_dirs(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw sys_error("cannot create directory " + dir.string(), errno);
}

UniqueFd open_append_private(const fs::path& file) {
  make_private_dirs(file.parent_path());
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd.valid()) throw sys_error("cannot open " + file.string(), errno);
  return fd;
}

void write_file(const fs::path& file, const std::string& contents, mode_t mode) {
  make_private_dirs(file.parent_path());
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, mode));
  if (!fd.valid()) throw sys_error("cannot write " + file.string(), errno);
  // The mode of an existing file is not changed by open(2); a rewritten file must not keep a
  // wider one.
  if (::fchmod(fd.get(), mode) != 0) throw sys_error("cannot chmod " + file.string(), errno);
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error("cannot write " + file.string(), errno);
    done += static_cast<std::size_t>(n);
  }
}

std::optional<std::string> find_executable(const std::string& name, const std::string& path_var,
                                           const fs::path& cwd) {
  auto usable = [&](const fs::path& p) {
    fs::path full = p.is_absolute() ? p : cwd / p;
    struct stat st{};
    return ::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(full.c_str(), X_OK) == 0;
  };
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (!usable(name)) return std::nullopt;
    return name;
  }
  std::string_view rest = path_var;
  for (;;) {
    auto colon = rest.find(':');
    std::string_view dir = rest.substr(0, colon);
    fs::path candidate = dir.empty() ? fs::path(".") / name : fs::path(dir) / name;  // "" = cwd, as POSIX says
    if (usable(candidate)) return (candidate.is_absolute() ? candidate : cwd / candidate).string();
    if (colon == std::string_view::npos) break;
    rest = rest.substr(colon + 1);
  }
  return std::nullopt;
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

void cloexec_from(int low) {
  if (::syscall(SYS_close_range, static_cast<unsigned>(low), ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Kernels before 5.11: walk the descriptor table up to its limit.
  long max = ::sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1 << 20) max = 1 << 20;
  for (int fd = low; fd < max; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

void reset_signals() {
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for the signals glibc reserves
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

UniqueFd lock_file(const fs::path& path, bool wait) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd.valid()) throw Error::unavailable("cannot open " + path.string() + ": " + errno_text(errno));
  while (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (!wait && errno == EWOULDBLOCK) return UniqueFd();
    if (errno != EINTR) throw Error::unavailable("cannot lock " + path.string() + ": " + errno_text(errno));
  }
  return fd;
}

}  // namespace kai::minicluster::runtime::detail
