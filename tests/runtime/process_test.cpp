#include <catch2/catch.hpp>

#include <unistd.h>

#include "lib/api/error.h"
#include "minicluster/runtime_sys.h"
#include "runtime/runtime_testing.h"

using namespace kai::minicluster::runtime;
using namespace kai::minicluster::runtime::testing;
namespace detail = kai::minicluster::runtime::detail;

namespace {

// Field 22 of a made-up stat line whose command name is `comm`.
std::string stat_line(const std::string& comm, char state) {
  return "4242 (" + comm + ") " + std::string(1, state) +
         " 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 200 18446744073709551615\n";
}

uint64_t boot_ticks_now() {
  double uptime = std::stod(read_file("/proc/uptime"));
  return static_cast<uint64_t>(uptime * static_cast<double>(::sysconf(_SC_CLK_TCK)));
}

}  // namespace

TEST_CASE("/proc/<pid>/stat is parsed after the last parenthesis") {
  for (std::string comm : {"sh", "a b", "x) (y", ") S 1 2 3", "((", "a)"}) {
    INFO(comm);
    auto st = detail::parse_proc_stat(stat_line(comm, 'S'));
    REQUIRE(st);
    CHECK(st->state == 'S');
    CHECK(st->ppid == 1);
    CHECK(st->pgid == 4242);
    CHECK(st->sid == 4242);
    CHECK(st->start_time == 987654);
  }
  CHECK_FALSE(detail::parse_proc_stat("4242 (sh S 1"));
  CHECK_FALSE(detail::parse_proc_stat("4242 (sh) S 1 2"));
}

TEST_CASE("process_start_time of a live process, a zombie and no process") {
  TempDir tmp;
  SECTION("a command name with spaces and parentheses") {
    fs::path odd = tmp.path() / "x) (y z";
    fs::create_symlink("/bin/sleep", odd);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::execl(odd.c_str(), odd.c_str(), "1000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    REQUIRE(eventually([&] { return read_file("/proc/" + std::to_string(pid) + "/comm") == "x) (y z\n"; }));
    auto start = process_start_time(pid);
    REQUIRE(start);
    CHECK(*start >= *process_start_time(::getpid()));
    CHECK(*start <= boot_ticks_now() + 1);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  SECTION("a zombie has none") {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    REQUIRE(eventually([&] { return read_file("/proc/" + std::to_string(pid) + "/stat").find(") Z ") != std::string::npos; }));
    CHECK_FALSE(process_start_time(pid));
    ::waitpid(pid, nullptr, 0);
    CHECK_FALSE(process_start_time(pid));
  }
  SECTION("no such process") {
    CHECK_FALSE(process_start_time(0));
    CHECK_FALSE(process_start_time(-1));
    CHECK_FALSE(process_start_time(0x3fffffff));
  }
}

TEST_CASE("spawn_detached starts a session leader with /dev/null in and the log out") {
  TempDir tmp;
  fs::path log = tmp.path() / "logs" / "supervisor.log";
  pid_t pid = spawn_detached({"sh", "-c", "echo started; echo warning >&2; exec sleep 1000"}, log);
  REQUIRE(pid > 0);
  CHECK(process_start_time(pid).has_value());
  CHECK(::getsid(pid) == pid);
  CHECK(::getpgid(pid) == pid);
  CHECK(detail::read_proc_stat(pid)->ppid != ::getpid());  // not our child: nobody to reap it here
  REQUIRE(eventually([&] { return read_file(log) == "started\nwarning\n"; }));
  REQUIRE(eventually([&] { return read_file("/proc/" + std::to_string(pid) + "/comm") == "sleep\n"; }));
  // Only 0, 1 and 2 once the dynamic loader of sleep closed what it opened while starting.
  auto fds = [&] {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(eventually([&] { return fds() == std::vector<std::string>{"0", "1", "2"}; }, std::chrono::seconds(2)));
  CHECK(fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/0") == "/dev/null");
  CHECK(fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/1") == log);
  CHECK((fs::status(log).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  stop_supervisor(pid, *process_start_time(pid), 5);
  CHECK_FALSE(alive(pid));
}

TEST_CASE("spawn_detached of a missing program throws") {
  TempDir tmp;
  CHECK_THROWS_AS(spawn_detached({"kai-no-such-program"}, tmp.path() / "log"), kai::Error);
  CHECK_THROWS_AS(spawn_detached({}, tmp.path() / "log"), kai::Error);
}

TEST_CASE("stop_supervisor escalates to SIGKILL and kills its containers' groups") {
  TempDir tmp;
  fs::path d = tmp.path();
  // A stand-in supervisor that ignores SIGTERM, with a "container" in a process group of its own
  // that has a child of its own.
  std::string script =
      "import os, signal, subprocess, time\n"
      "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
      "subprocess.Popen(['sh', '-c', 'sleep 1000 & echo $! > " + (d / "grandchild").string() + "; echo $$ > " +
      (d / "container").string() + "; wait'], process_group=0)\n"
      "time.sleep(1000)\n";
  write_text(d / "fake_supervisor.py", script);
  pid_t pid = spawn_detached({"/usr/bin/python3", (d / "fake_supervisor.py").string()}, d / "supervisor.log");
  auto start = process_start_time(pid);
  REQUIRE(start);
  REQUIRE(wait_for_file(d / "grandchild"));
  REQUIRE(wait_for_file(d / "container"));
  pid_t container = read_pid(d / "container");
  pid_t grandchild = read_pid(d / "grandchild");

  SECTION("a wrong start time is another process: left alone") {
    stop_supervisor(pid, *start + 1, 0);
    CHECK(alive(pid));
    stop_supervisor(pid, *start, 0);
  }
  SECTION("SIGTERM ignored: SIGKILL after the wait, and its groups after it") {
    auto t0 = Clock::now();
    stop_supervisor(pid, *start, 1);
    CHECK(Clock::now() - t0 >= std::chrono::seconds(1));
  }
  CHECK_FALSE(alive(pid));
  CHECK_FALSE(alive(container));
  CHECK_FALSE(alive(grandchild));
}

TEST_CASE("stop_supervisor stops a real supervisor and, given the dir, its leftovers") {
  TempDir tmp;
  fs::path d = tmp.path();
  PodRun pod = pod_in(d);
  pod.containers = {sh(d, "main", "sleep 1000 & echo $! > " + (d / "grandchild").string() + "; wait")};
  pid_t supervisor = fork_supervisor(pod);
  REQUIRE(wait_for_file(d / "grandchild"));
  auto start = process_start_time(supervisor);
  REQUIRE(start);
  stop_supervisor(supervisor, *start, 10, pod.dir);
  CHECK_FALSE(alive(read_pid(d / "grandchild")));
  CHECK(wait_child(supervisor) == 128 + SIGTERM);
}
