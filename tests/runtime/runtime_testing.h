#pragma once
// Helpers for the runtime tests: temporary pod directories, a recording observer, containers
// written as /bin/sh scripts, supervisors run in forked children.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "minicluster/runtime.h"

namespace kai::minicluster::runtime::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit
/// (job network namespaces created under it are released first).
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/kai-runtime-test-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    for (const auto& netns : netns_) {
      try {
        release_job_netns(netns);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "cannot release %s: %s\n", netns.c_str(), e.what());
      }
    }
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  /// A job_netns path under the directory, released at scope exit.
  fs::path netns(const std::string& job) {
    netns_.push_back(path_ / "jobs" / job / "netns");
    return netns_.back();
  }

 private:
  fs::path path_;
  std::vector<fs::path> netns_;
};

inline std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

/// Waits until `pred` holds or `timeout` passes; returns the last answer.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

inline bool wait_for_file(const fs::path& p, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return eventually([&] { return fs::exists(p) && fs::file_size(p) > 0; }, timeout);
}

/// Shell text that writes `var` (a pid such as `$$` or `$!`) into `p` in one step: written beside
/// it and renamed, so whoever sees `p` exist also sees the whole pid, even when the writer is
/// killed a moment later.
inline std::string save_pid(const std::string& var, const fs::path& p) {
  return "echo " + var + " > " + p.string() + ".tmp && mv -f " + p.string() + ".tmp " + p.string();
}

/// The pid written (by a container) in `p`.
inline pid_t read_pid(const fs::path& p) { return static_cast<pid_t>(std::stol(read_file(p))); }

/// True while `pid` is a live (not zombie) process.
inline bool alive(pid_t pid) { return process_start_time(pid).has_value(); }

/// Records what the supervisor reports; stops when `stop_when` says so.
class RecordingObserver : public PodObserver {
 public:
  std::function<bool()> stop_when;
  int running_calls = 0;
  NetworkMode network = NetworkMode::kHostAddress;
  std::vector<std::string> started_at;
  std::vector<ContainerResult> restarts;
  std::optional<Clock::time_point> stop_answered_at;  ///< first time should_stop() said yes

  void running(NetworkMode m, const std::vector<std::string>& s) override {
    ++running_calls;
    network = m;
    started_at = s;
  }
  void restarted(const ContainerResult& last) override { restarts.push_back(last); }
  bool should_stop() override {
    bool stop = stop_when && stop_when();
    if (stop && !stop_answered_at) stop_answered_at = Clock::now();
    return stop;
  }
};

/// A container running `script` with /bin/sh, logging to <dir>/logs/<name>.log.
inline ContainerRun sh(const fs::path& dir, const std::string& name, const std::string& script) {
  ContainerRun c;
  c.name = name;
  c.argv = {"/bin/sh", "-c", script};
  c.env = {"PATH=/usr/bin:/bin"};
  c.log_path = dir / "logs" / (name + ".log");
  return c;
}

/// A pod in <dir>/pod with no containers yet: restartPolicy Never, 1 s of grace.
inline PodRun pod_in(const fs::path& dir, NetworkMode network = NetworkMode::kHostAddress) {
  PodRun p;
  p.key = "default/test-pod";
  p.dir = dir / "pod";
  p.restart_policy = "Never";
  p.termination_grace_seconds = 1;
  p.network = network;
  return p;
}

/// Runs `pod` in a forked child, as a supervisor does; the child exits with the first
/// result's exit code (99 for no result, 98 for an exception).
inline pid_t fork_supervisor(const PodRun& pod) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int code = 98;
  try {
    RecordingObserver observer;
    auto results = run_pod(pod, observer);
    code = results.empty() ? 99 : results.front().exit_code;
  } catch (...) {
    code = 98;
  }
  ::_exit(code);
}

/// Waits for a forked child for up to `timeout`; its exit code, 128+signal, or -1 on timeout
/// (then it is killed).
inline int wait_child(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -2;
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace kai::minicluster::runtime::testing
