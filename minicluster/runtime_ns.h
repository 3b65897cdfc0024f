#pragma once
// Private to the process runtime: Linux namespaces for pods. A plan is built before fork and
// applied in the child with async-signal-safe calls only (the supervisor may have threads).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "minicluster/runtime.h"
#include "minicluster/runtime_sys.h"

namespace kai::minicluster::runtime::detail {

/// What a child was doing when its set-up failed.
enum ChildStage : int32_t {
  kStageUnknown = 0,
  kStagePdeathsig,
  kStageSetns,          ///< setns(CLONE_NEWNET) into the job's namespace
  kStageUnshare,        ///< index = the CLONE_* flags
  kStageSetgroups,
  kStageUidMap,
  kStageGidMap,
  kStageMountPrivate,
  kStageBind,           ///< index = NsPlan::binds index
  kStageHostname,
  kStageNetnsCreate,    ///< unshare(CLONE_NEWNET) for a new job namespace
  kStageLoopback,
  kStageNetnsFile,
  kStageNetnsMount,     ///< bind /proc/self/ns/net onto the job_netns file
  kStageTmpfs,
  kStageStdio,
  kStageChdir,
  kStageExec,
};

/// A child's failure report, written to its parent through a close-on-exec pipe.
struct ChildFailure {
  int32_t stage = kStageUnknown;
  int32_t index = 0;
  int32_t err = 0;
};

/// The namespaces of one container process, in the order they are applied.
struct NsPlan {
  int netns_fd = -1;        ///< setns(CLONE_NEWNET) into it first (kJobNamespace)
  bool new_user = false;    ///< CLONE_NEWUSER mapping our own uid/gid (when not root)
  bool new_mount = false;   ///< CLONE_NEWNS, then every mount made private
  bool new_uts = false;     ///< CLONE_NEWUTS, then `hostname`
  std::string hostname;
  std::string uid_map;      ///< "<uid> <uid> 1", prepared before fork
  std::string gid_map;
  std::vector<std::pair<std::string, std::string>> binds;  ///< source file -> target file
};

/// The plan for `mode`: nothing for kHostAddress; a private mount and UTS namespace (in a user
/// namespace when not root) for kHostHosts; the same inside `netns_fd` for kJobNamespace.
NsPlan make_ns_plan(NetworkMode mode, int netns_fd, std::string hostname,
                    std::vector<std::pair<std::string, std::string>> binds);

/// In the child: applies `plan`. Async-signal-safe. false with *failure filled in.
bool apply_ns_plan(const NsPlan& plan, ChildFailure* failure);

/// A message for a failure of a namespace stage, naming what failed and why.
std::string describe_ns_failure(const ChildFailure& f, const NsPlan& plan, const std::filesystem::path& job_netns);

/// True for a regular file a bind mount can cover (mounts need an existing target).
bool mountable_file(const std::string& target);
/// True for a directory a bind mount can cover.
bool mountable_dir(const std::string& target);

/// Opens the job's network namespace at `job_netns`, creating it when absent: a helper child
/// unshares a network namespace, brings `lo` up and bind-mounts /proc/self/ns/net onto the file
/// (which needs root). flock(job_netns + ".lock") makes pods of one job starting together agree.
/// Throws kai::Error Unavailable with the failing step.
UniqueFd open_job_netns(const std::filesystem::path& job_netns);

}  // namespace kai::minicluster::runtime::detail
