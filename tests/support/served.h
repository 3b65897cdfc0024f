#pragma once
// `kai cluster serve --port 0` in the background of a KaiEnv, for end-to-end tests of the served
// cluster (tests/e2e/serve_test.cpp, explain_test.cpp).

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/run_kai.h"

namespace kai::test {

/// `kai cluster serve --port 0` in the background of a KaiEnv, and a kubeconfig for it in the
/// env's HOME (kai cluster kubeconfig --write).
class Served {
 public:
  explicit Served(KaiEnv& env, const std::vector<std::string>& extra_args = {}) : env_(env) {
    const std::string port_file = env.dir().str() + "/serve.port";
    std::vector<std::string> args{KAI_BINARY, "cluster", "serve", "--port", "0", "--port-file", port_file, "--period", "200ms"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envs;
    for (const auto& [k, v] : env.env()) envs.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, (env.dir().str() + "/serve.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    REQUIRE(posix_spawn(&pid_, KAI_BINARY, &fa, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&fa);
    // Up to 60 s: a sanitizer build on a loaded machine starts slowly.
    for (int i = 0; i < 2400 && !std::filesystem::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    INFO(read_file(env.dir().str() + "/serve.log"));
    REQUIRE(std::filesystem::exists(port_file));
    port = std::stoi(read_file(port_file));
    auto r = env.kai({"cluster", "kubeconfig", "--write"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    token = read_file(env.home() + "/serve/token");
    while (!token.empty() && token.back() == '\n') token.pop_back();
  }
  ~Served() {
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  Result kubectl(std::vector<std::string> args, const std::string& input = "") const {
    args.insert(args.begin(), {"kubectl", "--context", "kai-local"});
    return run_process(args, env_.env(), input, KAI_SOURCE_DIR);
  }
  /// A Python script (standard library only) against the server, run after a preamble that
  /// imports http.client, json, socket, ssl, sys, threading and time and defines `ctx` (TLS
  /// trusting the server's CA), `port` and `token`.
  Result python(const std::string& script) const {
    const std::string preamble =
        "import http.client, json, socket, ssl, sys, threading, time\n"
        "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
        "port, token = int(sys.argv[2]), sys.argv[3]\n";
    return run_process({"python3", "-c", preamble + script, env_.home() + "/serve/ca.crt", std::to_string(port), token}, env_.env());
  }
  /// One raw HTTPS request with Python's standard library: "<status>\n<body>".
  Result raw(const std::string& method, const std::string& path, const std::string& body, const std::string& content_type,
             const std::string& auth) const {
    const std::string script = R"(
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[2]), context=ctx, timeout=20)
h = {"Content-Type": sys.argv[5]}
if sys.argv[6]: h["Authorization"] = sys.argv[6]
body = sys.stdin.buffer.read()
c.request(sys.argv[3], sys.argv[4], body=body if body or sys.argv[3] in ("POST", "PUT", "PATCH") else None, headers=h)
r = c.getresponse()
print(r.status)
print(r.read().decode())
)";
    return run_process({"python3", "-c", script, env_.home() + "/serve/ca.crt", std::to_string(port), method, path, content_type, auth},
                       env_.env(), body);
  }
  int port = 0;
  std::string token;

 private:
  KaiEnv& env_;
  pid_t pid_ = -1;
};

}  // namespace kai::test
