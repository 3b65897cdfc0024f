#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>

#include "lib/api/error.h"
#include "runtime/runtime_testing.h"

using namespace kai::minicluster::runtime;
using namespace kai::minicluster::runtime::testing;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

mode_t mode_of(const fs::path& p) {
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("run_pod reports exit codes, 128+signal for a signal, and the running containers") {
  TempDir tmp;
  PodRun pod = pod_in(tmp.path());
  pod.containers = {sh(tmp.path(), "ok", "exit 0"), sh(tmp.path(), "three", "exit 3"),
                    sh(tmp.path(), "killed", "kill -KILL $$"), sh(tmp.path(), "termed", "kill -TERM $$")};
  RecordingObserver observer;
  struct sigaction term_before{};
  ::sigaction(SIGTERM, nullptr, &term_before);  // Catch2 has a handler of its own
  auto results = run_pod(pod, observer);
  REQUIRE(results.size() == 4);
  CHECK(results[0].name == "ok");
  CHECK(results[0].exit_code == 0);
  CHECK(results[0].reason == "Completed");
  CHECK(results[1].exit_code == 3);
  CHECK(results[1].reason == "Error");
  CHECK(results[2].exit_code == 128 + SIGKILL);
  CHECK(results[2].reason == "Error");
  CHECK(results[3].exit_code == 128 + SIGTERM);
  for (const auto& r : results) {
    CHECK(r.restart_count == 0);
    CHECK(r.started_at.size() == 20);  // "2026-11-22T17:26:52Z"
    CHECK(r.finished_at >= r.started_at);
  }
  CHECK(observer.running_calls == 1);
  CHECK(observer.network == NetworkMode::kHostAddress);
  CHECK(observer.started_at.size() == 4);
  CHECK(observer.restarts.empty());
  CHECK(read_file(pod.dir / "pgids").empty());  // every group ended and was forgotten

  // The caller's signal set-up is as it was.
  struct sigaction term{};
  ::sigaction(SIGTERM, nullptr, &term);
  CHECK(term.sa_handler == term_before.sa_handler);
  sigset_t mask;
  ::sigprocmask(SIG_BLOCK, nullptr, &mask);
  CHECK_FALSE(sigismember(&mask, SIGCHLD));
  CHECK_FALSE(sigismember(&mask, SIGTERM));
}

TEST_CASE("an observer that throws leaves no process of the pod behind") {
  TempDir tmp;
  fs::path d = tmp.path();
  PodRun pod = pod_in(d);
  pod.containers = {sh(d, "main", "sleep 1000 & " + save_pid("$!", d / "grandchild") + "; exec sleep 1000")};
  RecordingObserver observer;
  observer.stop_when = [&]() -> bool {
    if (fs::exists(d / "grandchild")) throw std::runtime_error("the store went away");
    return false;
  };
  CHECK_THROWS_WITH(run_pod(pod, observer), "the store went away");
  REQUIRE(wait_for_file(d / "grandchild"));
  CHECK_FALSE(alive(read_pid(d / "grandchild")));
}

TEST_CASE("a container gets exactly the given environment and its working directory") {
  TempDir tmp;
  ::setenv("KAI_RUNTIME_TEST_LEAK", "1", 1);
  PodRun pod = pod_in(tmp.path());
  ContainerRun env;
  env.name = "env";
  env.argv = {"env"};
  env.env = {"PATH=/usr/bin:/bin", "FOO=bar baz", "EMPTY="};
  env.log_path = tmp.path() / "env.log";
  ContainerRun pwd = env;
  pwd.name = "pwd";
  pwd.argv = {"pwd", "-P"};
  pwd.working_dir = (tmp.path() / "work").string();
  pwd.log_path = tmp.path() / "pwd.log";
  ContainerRun default_dir = pwd;
  default_dir.name = "default-dir";
  default_dir.working_dir = "";
  default_dir.log_path = tmp.path() / "default.log";
  fs::create_directories(tmp.path() / "work");
  pod.containers = {env, pwd, default_dir};
  RecordingObserver observer;
  auto results = run_pod(pod, observer);
  ::unsetenv("KAI_RUNTIME_TEST_LEAK");
  for (const auto& r : results) CHECK(r.exit_code == 0);
  auto env_lines = lines(read_file(tmp.path() / "env.log"));
  std::sort(env_lines.begin(), env_lines.end());
  CHECK(env_lines == std::vector<std::string>{"EMPTY=", "FOO=bar baz", "PATH=/usr/bin:/bin"});
  CHECK(read_file(tmp.path() / "pwd.log") == fs::canonical(tmp.path() / "work").string() + "\n");
  CHECK(read_file(tmp.path() / "default.log") == fs::canonical(pod.dir).string() + "\n");
}

TEST_CASE("logs get stdout and stderr appended, in private files and directories") {
  TempDir tmp;
  PodRun pod = pod_in(tmp.path());
  ContainerRun c = sh(tmp.path(), "log", "echo to-stdout; echo to-stderr >&2");
  c.log_path = tmp.path() / "deep" / "logs" / "c.log";
  write_text(c.log_path, "earlier\n");
  pod.containers = {c};
  RecordingObserver observer;
  auto results = run_pod(pod, observer);
  REQUIRE(results.size() == 1);
  CHECK(results[0].exit_code == 0);
  CHECK(read_file(c.log_path) == "earlier\nto-stdout\nto-stderr\n");

  fs::remove_all(tmp.path() / "deep");
  run_pod(pod, observer);
  CHECK(mode_of(c.log_path) == 0600);
  CHECK(mode_of(c.log_path.parent_path()) == 0700);
  CHECK(mode_of(tmp.path() / "deep") == 0700);
  CHECK(mode_of(pod.dir) == 0700);
}

TEST_CASE("restartPolicy decides which exits restart the container") {
  TempDir tmp;
  // Fails on its first two runs, succeeds on the third.
  std::string counting = "n=$(cat " + (tmp.path() / "count").string() + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " +
                         (tmp.path() / "count").string() + "; echo run $n; [ $n -ge 3 ]";
  PodRun pod = pod_in(tmp.path());
  pod.containers = {sh(tmp.path(), "flaky", counting)};
  RecordingObserver observer;

  SECTION("OnFailure restarts after failures, with a growing back-off, until it succeeds") {
    pod.restart_policy = "OnFailure";
    auto t0 = Clock::now();
    auto results = run_pod(pod, observer);
    auto elapsed = Clock::now() - t0;
    REQUIRE(results.size() == 1);
    CHECK(results[0].exit_code == 0);
    CHECK(results[0].reason == "Completed");
    CHECK(results[0].restart_count == 2);
    CHECK(read_file(tmp.path() / "count") == "3\n");
    REQUIRE(observer.restarts.size() == 2);
    CHECK(observer.restarts[0].exit_code == 1);
    CHECK(observer.restarts[0].restart_count == 1);
    CHECK(observer.restarts[1].restart_count == 2);
    CHECK(elapsed >= std::chrono::milliseconds(2900));  // 1 s, then 2 s of back-off
    CHECK(read_file(pod.containers[0].log_path) == "run 1\nrun 2\nrun 3\n");
  }
  SECTION("Never does not restart") {
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 1);
    CHECK(results[0].exit_code == 1);
    CHECK(results[0].restart_count == 0);
    CHECK(observer.restarts.empty());
    CHECK(read_file(tmp.path() / "count") == "1\n");
  }
  SECTION("Always restarts a successful exit too") {
    pod.restart_policy = "Always";
    pod.containers = {sh(tmp.path(), "done", "echo x >> " + (tmp.path() / "runs").string())};
    observer.stop_when = [&] { return read_file(tmp.path() / "runs").size() >= 4; };
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 1);
    CHECK(results[0].restart_count >= 1);
    CHECK(observer.restarts.size() == static_cast<std::size_t>(results[0].restart_count));
    CHECK(observer.restarts[0].exit_code == 0);
  }
}

TEST_CASE("a container that cannot start is a StartError") {
  TempDir tmp;
  PodRun pod = pod_in(tmp.path());
  RecordingObserver observer;
  ContainerRun c = sh(tmp.path(), "c", "true");

  SECTION("missing from PATH: exit code 127 and kubelet's message") {
    c.argv = {"kai-no-such-program", "arg"};
    pod.containers = {c};
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 1);
    CHECK(results[0].reason == "StartError");
    CHECK(results[0].exit_code == 127);
    CHECK(results[0].message == "exec: \"kai-no-such-program\": executable file not found in $PATH");
  }
  SECTION("looked up in the container's PATH, not the supervisor's") {
    c.argv = {"sh", "-c", "true"};
    c.env = {"PATH=" + (tmp.path() / "empty").string()};
    pod.containers = {c};
    auto results = run_pod(pod, observer);
    CHECK(results[0].exit_code == 127);
    CHECK(results[0].reason == "StartError");
  }
  SECTION("a missing path: 127") {
    c.argv = {"./not-here"};
    pod.containers = {c};
    auto results = run_pod(pod, observer);
    CHECK(results[0].reason == "StartError");
    CHECK(results[0].exit_code == 127);
    CHECK(results[0].message == "exec: \"./not-here\": no such file or directory");
  }
  SECTION("a file that is not executable: 128") {
    write_text(tmp.path() / "script", "#!/bin/sh\n");
    c.argv = {(tmp.path() / "script").string()};
    pod.containers = {c};
    auto results = run_pod(pod, observer);
    CHECK(results[0].reason == "StartError");
    CHECK(results[0].exit_code == 128);
    CHECK(results[0].message.find("permission denied") != std::string::npos);
  }
  SECTION("a missing working directory: 128, naming it") {
    c.working_dir = (tmp.path() / "nowhere").string();
    pod.containers = {c};
    auto results = run_pod(pod, observer);
    CHECK(results[0].reason == "StartError");
    CHECK(results[0].exit_code == 128);
    CHECK(results[0].message == "chdir to working directory \"" + c.working_dir + "\": no such file or directory");
  }
  SECTION("an unwritable log: 128, naming it") {
    write_text(tmp.path() / "file", "");
    c.log_path = tmp.path() / "file" / "c.log";
    pod.containers = {c};
    auto results = run_pod(pod, observer);
    CHECK(results[0].reason == "StartError");
    CHECK(results[0].message.find((tmp.path() / "file").string()) != std::string::npos);
  }
  SECTION("with OnFailure it is retried, and the other containers run") {
    c.argv = {"kai-no-such-program"};
    pod.restart_policy = "OnFailure";
    pod.containers = {c, sh(tmp.path(), "other", "echo ran")};
    observer.stop_when = [&] { return !observer.restarts.empty(); };
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 2);
    CHECK(results[0].reason == "StartError");
    CHECK(results[0].restart_count >= 1);
    CHECK(results[1].exit_code == 0);
    CHECK(read_file(pod.containers[1].log_path) == "ran\n");
  }
}

TEST_CASE("init containers run in order before the containers") {
  TempDir tmp;
  std::string order = (tmp.path() / "order").string();
  PodRun pod = pod_in(tmp.path());
  pod.init_containers = {sh(tmp.path(), "init-1", "printf 1 >> " + order),
                         sh(tmp.path(), "init-2", "printf 2 >> " + order)};
  pod.containers = {sh(tmp.path(), "main", "printf m >> " + order)};
  RecordingObserver observer;

  SECTION("all succeed") {
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 1);
    CHECK(results[0].name == "main");
    CHECK(results[0].exit_code == 0);
    CHECK(read_file(order) == "12m");
    CHECK(observer.running_calls == 1);
  }
  SECTION("a failing init container stops the pod with its result") {
    pod.init_containers[1] = sh(tmp.path(), "init-2", "printf 2 >> " + order + "; exit 7");
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 1);
    CHECK(results[0].name == "init-2");
    CHECK(results[0].exit_code == 7);
    CHECK(results[0].reason == "Error");
    CHECK(read_file(order) == "12");
    CHECK(observer.running_calls == 0);
  }
  SECTION("a missing init executable stops the pod as a StartError") {
    pod.init_containers[0].argv = {"kai-no-such-init"};
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 1);
    CHECK(results[0].name == "init-1");
    CHECK(results[0].reason == "StartError");
    CHECK(results[0].exit_code == 127);
    CHECK(read_file(order).empty());
  }
  SECTION("under OnFailure a failed init container is retried, as kubelet does") {
    pod.restart_policy = "OnFailure";
    std::string flag = (tmp.path() / "flag").string();
    pod.init_containers[1] = sh(tmp.path(), "init-2", "[ -e " + flag + " ] || { touch " + flag + "; exit 1; }");
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 1);
    CHECK(results[0].name == "main");
    CHECK(results[0].exit_code == 0);
    REQUIRE(observer.restarts.size() == 1);
    CHECK(observer.restarts[0].name == "init-2");
    CHECK(read_file(order) == "1m");
  }
}

TEST_CASE("should_stop: SIGTERM to every group, SIGKILL after the grace period, nothing left") {
  TempDir tmp;
  fs::path d = tmp.path();
  PodRun pod = pod_in(d);
  pod.restart_policy = "Always";
  pod.termination_grace_seconds = 1;
  // Ignores SIGTERM, and so does the grandchild it starts in the background.
  pod.containers = {
      sh(d, "stubborn",
         "trap '' TERM; sleep 1000 & " + save_pid("$!", d / "grandchild") + "; " + save_pid("$$", d / "stubborn") + "; while :; do sleep 0.05; done"),
      sh(d, "polite", save_pid("$$", d / "polite") + "; exec sleep 1000")};
  RecordingObserver observer;
  observer.stop_when = [&] { return fs::exists(d / "grandchild") && fs::exists(d / "polite"); };
  auto results = run_pod(pod, observer);
  auto stopped_after = Clock::now() - *observer.stop_answered_at;
  REQUIRE(results.size() == 2);
  CHECK(results[0].exit_code == 128 + SIGKILL);
  CHECK(results[1].exit_code == 128 + SIGTERM);
  CHECK(results[0].restart_count == 0);  // a stop is not a restart, even under Always
  CHECK(stopped_after >= std::chrono::seconds(1));
  CHECK(stopped_after < std::chrono::seconds(5));
  CHECK_FALSE(alive(read_pid(d / "stubborn")));
  CHECK_FALSE(alive(read_pid(d / "grandchild")));
  CHECK_FALSE(alive(read_pid(d / "polite")));
}

TEST_CASE("SIGTERM to the supervisor stops the pod like should_stop") {
  TempDir tmp;
  fs::path d = tmp.path();
  PodRun pod = pod_in(d);
  pod.termination_grace_seconds = 10;
  // Exits 42 on SIGTERM, so the supervisor's exit code (the container's) tells that run_pod
  // handled the signal rather than dying of it.
  pod.containers = {
      sh(d, "sleeper", "trap 'exit 42' TERM; " + save_pid("$$", d / "main") + "; sleep 1000 & wait")};
  pid_t supervisor = fork_supervisor(pod);
  REQUIRE(wait_for_file(d / "main"));
  auto t0 = Clock::now();
  ::kill(supervisor, SIGTERM);
  CHECK(wait_child(supervisor) == 42);
  CHECK(Clock::now() - t0 < std::chrono::seconds(5));  // it obeyed SIGTERM: no grace needed
  CHECK_FALSE(alive(read_pid(d / "main")));
}

TEST_CASE("a process of the pod that left its group is killed at the end too") {
  TempDir tmp;
  fs::path d = tmp.path();
  PodRun pod = pod_in(d);
  // setsid puts the daemon in a session and group of its own; its parent exits at once, so the
  // supervisor (a subreaper) adopts it.
  pod.containers = {sh(d, "daemonizer",
                       "setsid sh -c '" + save_pid("$$", d / "daemon") + "; exec sleep 1000' & sleep 0.3; exit 0")};
  RecordingObserver observer;
  auto results = run_pod(pod, observer);
  REQUIRE(results.size() == 1);
  CHECK(results[0].exit_code == 0);
  REQUIRE(wait_for_file(d / "daemon"));
  CHECK_FALSE(alive(read_pid(d / "daemon")));
}

TEST_CASE("kill_pod_leftovers finishes a pod whose supervisor was SIGKILLed") {
  TempDir tmp;
  fs::path d = tmp.path();
  PodRun pod = pod_in(d);
  pod.containers = {sh(d, "main",
                       "sleep 1000 & " + save_pid("$!", d / "grandchild") + "; " + save_pid("$$", d / "main") + "; wait")};
  pid_t supervisor = fork_supervisor(pod);
  REQUIRE(wait_for_file(d / "grandchild"));
  REQUIRE(wait_for_file(d / "main"));
  pid_t main = read_pid(d / "main");
  pid_t grandchild = read_pid(d / "grandchild");
  REQUIRE(alive(grandchild));
  ::kill(supervisor, SIGKILL);
  CHECK(wait_child(supervisor) == 128 + SIGKILL);
  // The parent-death signal takes the container's main process; its background child stays.
  CHECK(eventually([&] { return !alive(main); }));
  CHECK(alive(grandchild));
  CHECK(kill_pod_leftovers(pod.dir) == 1);
  CHECK_FALSE(alive(grandchild));
  CHECK(kill_pod_leftovers(pod.dir) == 0);
}

TEST_CASE("kill_pod_leftovers leaves a reused pid alone") {
  TempDir tmp;
  fs::create_directories(tmp.path() / "pod");
  // Our own process group, recorded with a start time it does not have.
  pid_t child = ::fork();
  if (child == 0) {
    ::setpgid(0, 0);
    ::pause();
    ::_exit(0);
  }
  ::setpgid(child, child);
  auto start = process_start_time(child);
  REQUIRE(start);
  write_text(tmp.path() / "pod" / "pgids", std::to_string(child) + " " + std::to_string(*start + 1) + "\n");
  CHECK(kill_pod_leftovers(tmp.path() / "pod") == 0);
  CHECK(alive(child));
  write_text(tmp.path() / "pod" / "pgids", std::to_string(child) + " " + std::to_string(*start) + "\n");
  CHECK(kill_pod_leftovers(tmp.path() / "pod") == 1);
  CHECK(wait_child(child) == 128 + SIGKILL);
}

TEST_CASE("a malformed pod is refused before anything runs") {
  TempDir tmp;
  PodRun pod = pod_in(tmp.path());
  pod.containers = {sh(tmp.path(), "c", "touch " + (tmp.path() / "ran").string())};
  RecordingObserver observer;
  SECTION("unknown restart policy") { pod.restart_policy = "Sometimes"; }
  SECTION("relative file path") { pod.files = {{"etc/x", "1"}}; }
  SECTION("file path with ..") { pod.files = {{"/etc/../x", "1"}}; }
  SECTION("no containers") { pod.containers.clear(); }
  SECTION("JobNamespace without job_netns") { pod.network = NetworkMode::kJobNamespace; }
  CHECK_THROWS_AS(run_pod(pod, observer), kai::Error);
  CHECK_FALSE(fs::exists(tmp.path() / "ran"));
}

TEST_CASE("files are written under dir/root in HostAddress mode") {
  TempDir tmp;
  PodRun pod = pod_in(tmp.path());
  pod.hosts_file = "127.0.1.1 myjob-master-0.myjob\n";
  pod.files = {{"/etc/volcano/worker.host", "w0\nw1\n"}};
  CHECK(visible_path(pod, "/etc/volcano/worker.host") == fs::absolute(pod.dir) / "root/etc/volcano/worker.host");
  CHECK(visible_path(pod, "/etc/hosts") == fs::absolute(pod.dir) / "root/etc/hosts");
  pod.containers = {sh(tmp.path(), "c", "cat " + visible_path(pod, "/etc/volcano/worker.host").string())};
  RecordingObserver observer;
  auto results = run_pod(pod, observer);
  CHECK(results[0].exit_code == 0);
  CHECK(read_file(pod.containers[0].log_path) == "w0\nw1\n");
  CHECK(read_file(pod.dir / "root/etc/hosts") == pod.hosts_file);
}
