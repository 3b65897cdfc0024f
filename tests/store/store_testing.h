#pragma once
// Helpers for the store tests: a temporary KAI_HOME, sample objects, child processes.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "minicluster/store.h"

namespace kai::store::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/kai-store-test-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  /// The store's home inside the directory (not created: Store::open creates it).
  std::filesystem::path home() const { return path_ / "home"; }

 private:
  std::filesystem::path path_;
};

inline json object(const std::string& ns, const std::string& name, json labels = json::object()) {
  json md = {{"name", name}, {"labels", std::move(labels)}};
  if (!ns.empty()) md["namespace"] = ns;
  return {{"metadata", std::move(md)}};
}

inline json job(const std::string& ns, const std::string& name, json labels = json::object()) {
  json j = object(ns, name, std::move(labels));
  j["spec"] = {{"minAvailable", 1},
               {"queue", "default"},
               {"tasks", json::array({{{"name", "worker"}, {"replicas", 1}}})}};
  return j;
}

inline json pod(const std::string& ns, const std::string& name, json labels = json::object()) {
  json p = object(ns, name, std::move(labels));
  p["spec"] = {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}};
  p["status"] = {{"phase", "Pending"}};
  return p;
}

inline ListOptions in_namespace(const std::string& ns) {
  ListOptions opts;
  opts.ns = ns;
  return opts;
}

/// Adds an ownerReference to `owner` (a stored object) to `child`.
inline json owned_by(json child, const json& owner, const std::string& kind) {
  child["metadata"]["ownerReferences"] = json::array(
      {{{"apiVersion", owner["apiVersion"]}, {"kind", kind}, {"name", owner["metadata"]["name"]},
        {"uid", owner["metadata"]["uid"]}, {"controller", true}}});
  return child;
}

/// A running kai_store_child; its stdout is readable line by line.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv_storage = {KAI_STORE_CHILD};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// The next complete line of stdout, or "" at end of file or after timeout_ms.
  std::string read_line(int timeout_ms = 10000) {
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return "";
      char chunk[4096];
      ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n <= 0) return "";  // a partial last line is not an acknowledgement
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// Waits for exit; returns the exit code, or 128 + signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void kill_hard() { ::kill(pid_, SIGKILL); }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

}  // namespace kai::store::testing
