#pragma once
// Runs the real kai binary (or any program) in a child process with a controlled environment,
// capturing stdout, stderr and the exit code. Used by the end-to-end tests.

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace kai::test {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

/// A temporary directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kai-test.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  /// Writes a file under the directory and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

/// Runs argv[0] (looked up in PATH if it has no '/') with `env` as the whole environment,
/// feeding `input` on stdin.
inline Result run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                          const std::string& input = "", const std::string& cwd = "") {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);
    if (argv[0].find('/') == std::string::npos) {
      auto it = env.find("PATH");
      std::string path = it == env.end() ? "/usr/bin:/bin" : it->second;
      std::stringstream ss(path);
      for (std::string dir; std::getline(ss, dir, ':');) {
        std::string full = dir + "/" + argv[0];
        if (access(full.c_str(), X_OK) == 0) execve(full.c_str(), args.data(), envp.data());
      }
      _exit(127);
    }
    execve(argv[0].c_str(), args.data(), envp.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  // Feed stdin and drain both outputs without deadlocking.
  std::size_t written = 0;
  int in_fd = in_pipe[1];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  Result r;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open || in_fd >= 0) {
    std::vector<pollfd> fds;
    if (out_open) fds.push_back({out_pipe[0], POLLIN, 0});
    if (err_open) fds.push_back({err_pipe[0], POLLIN, 0});
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) break;
    for (const auto& p : fds) {
      if (p.fd == in_fd && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t n = write(in_fd, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if (n < 0 || written == input.size()) {
          close(in_fd);
          in_fd = -1;
        }
      } else if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = read(p.fd, buf, sizeof buf);
        if (n <= 0) {
          close(p.fd);
          (p.fd == out_pipe[0] ? out_open : err_open) = false;
        } else {
          (p.fd == out_pipe[0] ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
        }
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

/// A kai home in a temp dir and the environment to run kai in it (no kubeconfig, HOME inside).
class KaiEnv {
 public:
  KaiEnv() {
    env_["HOME"] = dir_.str();
    env_["KAI_HOME"] = (dir_.path() / "kai").string();
    env_["PATH"] = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
    env_["LANG"] = "C.UTF-8";
  }
  /// Stops whatever pods the test left running (kai cluster reset stops their processes).
  ~KaiEnv() {
    if (std::filesystem::exists(std::filesystem::path(home()) / "store.db")) {
      try {
        kai({"cluster", "reset"});
      } catch (const std::exception&) {
      }
    }
  }
  KaiEnv(const KaiEnv&) = delete;
  KaiEnv& operator=(const KaiEnv&) = delete;
  /// Runs `kai args...`.
  Result kai(const std::vector<std::string>& args, const std::string& input = "") const {
    std::vector<std::string> argv{KAI_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, env_, input, KAI_SOURCE_DIR);
  }
  Result sh(const std::string& script) const { return run_process({"/bin/sh", "-c", script}, env_, "", KAI_SOURCE_DIR); }
  const TempDir& dir() const { return dir_; }
  std::string home() const { return env_.at("KAI_HOME"); }
  std::map<std::string, std::string>& env() { return env_; }
  const std::map<std::string, std::string>& env() const { return env_; }

 private:
  TempDir dir_;
  std::map<std::string, std::string> env_;
};

/// Runs `kai args... -o json`, requires exit 0 and returns the parsed output.
inline nlohmann::json get_json(const KaiEnv& env, const std::vector<std::string>& args) {
  auto argv = args;
  argv.push_back("-o");
  argv.push_back("json");
  auto r = env.kai(argv);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// Skips the running test case: prints "SKIPPED: <reason>" and, under ctest (whose test
/// processes get KAI_TEST_SKIP_CODE, the code tests/CMakeLists.txt declares SKIP_RETURN_CODE),
/// exits with that code at once so ctest reports the test as Skipped. Run by hand, the reason is
/// a Catch WARN and the caller returns. Call it before starting anything that needs cleaning up;
/// name such tests "... (skipped without X)" so the reason shows on ctest's line too.
inline void skip_test(const std::string& reason) {
  std::printf("SKIPPED: %s\n", reason.c_str());
  std::fflush(stdout);
  if (const char* code = std::getenv("KAI_TEST_SKIP_CODE"); code && *code) std::_Exit(std::atoi(code));
  WARN("SKIPPED: " << reason);
}

inline std::string today_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

/// A live process (a zombie that no one reaped yet counts as gone: it runs nothing).
inline bool process_alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

}  // namespace kai::test
