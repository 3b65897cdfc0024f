#pragma once
// Private helpers of the process runtime: file descriptors, /proc parsing, files with private
// modes, process-group bookkeeping. Nothing here knows pods.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kai::minicluster::runtime::detail {

/// Owns one file descriptor; closes it at scope exit.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// An exclusive flock(2) on `path` (created 0600), held until the descriptor closes. With
/// wait=false an invalid descriptor means another process holds it.
UniqueFd lock_file(const std::filesystem::path& path, bool wait = true);

/// The fields of /proc/<pid>/stat the runtime reads.
struct ProcStat {
  char state = '?';          ///< R, S, D, Z (zombie), X (dead), ...
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  uint64_t start_time = 0;   ///< clock ticks after boot (field 22)
};

/// Parses the text of /proc/<pid>/stat. The command name (field 2) may hold spaces and
/// parentheses, so fields are counted after the last ')'. nullopt when malformed.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

/// Reads /proc/<pid>/stat; nullopt when there is no such process. Zombies are returned.
std::optional<ProcStat> read_proc_stat(pid_t pid);

/// Every process visible in /proc, with its stat (those that vanish while listing are skipped).
std::vector<std::pair<pid_t, ProcStat>> list_processes();

/// A process group as recorded in <pod dir>/pgids: its id and its leader's start time.
struct GroupRecord {
  pid_t pgid = 0;
  uint64_t start_time = 0;
};

/// Reads a pgids file ("<pgid> <start time>" per line); missing file = empty.
std::vector<GroupRecord> read_group_records(const std::filesystem::path& file);
/// Replaces a pgids file atomically (temporary file + rename), so a reader sees a whole set.
void write_group_records(const std::filesystem::path& file, const std::vector<GroupRecord>& groups);

/// SIGKILLs each recorded group that still belongs to us: its leader is alive with the recorded
/// start time, or the leader is gone and every remaining member started after it (a group id
/// cannot be reused while the group has members). Waits up to `wait` for the members to die.
/// Returns how many groups were signalled.
int kill_groups(const std::vector<GroupRecord>& groups, std::chrono::milliseconds wait);

/// True while some non-zombie process is in process group `pgid`.
bool group_has_live_members(pid_t pgid);

/// strerror(err) with a lower-case first letter, as Go (and so kubelet) words errors.
std::string errno_text(int err);

/// mkdir -p; directories it creates get mode 0700. Throws kai::Error.
void make_private_dirs(const std::filesystem::path& dir);

/// Opens `file` for appending (O_CLOEXEC), creating it 0600 and its parents 0700. Throws kai::Error.
UniqueFd open_append_private(const std::filesystem::path& file);

/// Writes `contents` to `file` (truncating) with `mode`, parents created 0700. Throws kai::Error.
void write_file(const std::filesystem::path& file, const std::string& contents, mode_t mode);

/// Looks `name` up like execvp would, but in `path_var` (a PATH value) rather than this
/// process's PATH; a name with a '/' is taken as is. Relative results are relative to `cwd`.
/// nullopt when no executable regular file is found.
std::optional<std::string> find_executable(const std::string& name, const std::string& path_var,
                                           const std::filesystem::path& cwd);

/// pidfd_open(2); -1 with errno when unavailable.
int pidfd_open(pid_t pid);
/// pidfd_send_signal(2); -1 with errno on failure.
int pidfd_send_signal(int pidfd, int sig);

/// After fork, before exec: marks every descriptor from `low` up close-on-exec
/// (close_range(CLOSE_RANGE_CLOEXEC), or a loop where that is missing). Async-signal-safe.
void cloexec_from(int low);

/// After fork, before exec: default disposition for every signal, none blocked. Async-signal-safe.
void reset_signals();

}  // namespace kai::minicluster::runtime::detail
