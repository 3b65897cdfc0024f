#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "runtime/runtime_testing.h"

using namespace kai::minicluster::runtime;
using namespace kai::minicluster::runtime::testing;

namespace {

constexpr const char* kHosts =
    "127.0.0.1 localhost\n"
    "127.0.1.1 myjob-master-0.myjob myjob-master-0\n"
    "127.0.1.2 myjob-worker-0.myjob myjob-worker-0\n";

// Modes to run a test in: those this machine allows that make names resolve. Empty: a skip.
std::vector<NetworkMode> resolving_modes() {
  std::vector<NetworkMode> modes;
  NetworkMode best = best_network_mode();
  if (best == NetworkMode::kJobNamespace) modes.push_back(NetworkMode::kJobNamespace);
  if (best != NetworkMode::kHostAddress) modes.push_back(NetworkMode::kHostHosts);
  return modes;
}

bool job_namespaces_allowed() {
  if (best_network_mode() == NetworkMode::kJobNamespace) return true;
  WARN("skipped: best_network_mode() is " << to_string(best_network_mode()) << ", not JobNamespace");
  return false;
}

std::string net_ns_of_self() { return fs::read_symlink("/proc/self/ns/net").string(); }

int random_port() {
  std::mt19937 rng(std::random_device{}());
  return std::uniform_int_distribution<int>(20000, 40000)(rng);
}

// A TCP socket bound to 0.0.0.0:port in this (the host's) namespace; -1 when that fails.
int bind_any(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 1) != 0) {
    ::close(s);
    return -1;
  }
  return s;
}

ContainerRun python(const fs::path& dir, const std::string& name, const std::string& code) {
  write_text(dir / (name + ".py"), code);
  ContainerRun c;
  c.name = name;
  c.argv = {"python3", (dir / (name + ".py")).string()};
  c.env = {"PATH=/usr/bin:/bin", "PYTHONUNBUFFERED=1"};
  c.log_path = dir / "logs" / (name + ".log");
  return c;
}

}  // namespace

TEST_CASE("best_network_mode is stable and what the probe says") {
  NetworkMode best = best_network_mode();
  CHECK(best_network_mode() == best);
  CHECK(probe_network_mode() == best);
  if (::geteuid() != 0) CHECK(best != NetworkMode::kJobNamespace);
  WARN("best_network_mode() here: " << to_string(best));
}

TEST_CASE("a private /etc/hosts makes the pod's names resolve, and the hostname is the pod's") {
  auto modes = resolving_modes();
  if (modes.empty()) {
    WARN("skipped: best_network_mode() is HostAddress (no mount namespace for a private /etc/hosts)");
    return;
  }
  for (NetworkMode mode : modes) {
    INFO(to_string(mode));
    TempDir tmp;
    std::string host_hosts = read_file("/etc/hosts");
    char host_name[256] = {};
    ::gethostname(host_name, sizeof host_name - 1);

    PodRun pod = pod_in(tmp.path(), mode);
    pod.job_netns = tmp.netns("myjob");
    pod.hostname = "myjob-master-0";
    pod.hosts_file = kHosts;
    // One target that exists on the host (mounted over it) and one that does not (left under
    // dir/root), when the machine has /etc/hostname at all.
    bool has_etc_hostname = fs::is_regular_file("/etc/hostname");
    if (has_etc_hostname) pod.files.push_back({"/etc/hostname", "from-the-pod\n"});
    pod.files.push_back({"/etc/volcano-kai-test/worker.host", "myjob-worker-0.myjob\n"});
    CHECK(visible_path(pod, "/etc/hosts") == "/etc/hosts");
    fs::path worker_file = visible_path(pod, "/etc/volcano-kai-test/worker.host");
    CHECK(worker_file == fs::absolute(pod.dir) / "root/etc/volcano-kai-test/worker.host");
    pod.containers = {sh(tmp.path(), "c",
                         "getent hosts myjob-master-0.myjob; getent hosts myjob-worker-0; "
                         "cat /proc/sys/kernel/hostname; cat " + worker_file.string() +
                             (has_etc_hostname ? "; cat /etc/hostname" : ""))};
    RecordingObserver observer;
    auto results = run_pod(pod, observer);
    REQUIRE(results.size() == 1);
    INFO(results[0].message);
    CHECK(results[0].exit_code == 0);
    CHECK(observer.network == mode);
    std::string log = read_file(pod.containers[0].log_path);
    CHECK(log.find("127.0.1.1       myjob-master-0.myjob myjob-master-0\n") != std::string::npos);
    CHECK(log.find("127.0.1.2       myjob-worker-0.myjob myjob-worker-0\n") != std::string::npos);
    CHECK(log.find("\nmyjob-master-0\n") != std::string::npos);
    CHECK(log.find("myjob-worker-0.myjob\n") != std::string::npos);
    if (has_etc_hostname) CHECK(log.find("from-the-pod\n") != std::string::npos);
    // The host saw none of it.
    CHECK(read_file("/etc/hosts") == host_hosts);
    char after[256] = {};
    ::gethostname(after, sizeof after - 1);
    CHECK(std::string(after) == host_name);
    CHECK_FALSE(fs::exists("/etc/volcano-kai-test"));
  }
}

TEST_CASE("two pods of one job share a network namespace: they talk over TCP on a pod address") {
  if (!job_namespaces_allowed()) return;
  TempDir tmp;
  fs::path d = tmp.path();
  fs::path netns = tmp.netns("myjob");
  int port = random_port();
  std::string addr = "('127.0.1.1', " + std::to_string(port) + ")";
  auto pod = [&](const std::string& name, const ContainerRun& c) {
    PodRun p = pod_in(d / name, NetworkMode::kJobNamespace);
    p.key = "default/" + name;
    p.job_netns = netns;
    p.hostname = name;
    p.hosts_file = kHosts;
    p.containers = {c};
    return p;
  };
  std::string server_code =
      "import os, socket\n"
      "print('netns', os.readlink('/proc/self/ns/net'))\n"
      "s = socket.socket()\n"
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
      "s.bind(" + addr + ")\n"
      "s.listen(1)\n"
      "s.settimeout(10)\n"
      "c, _ = s.accept()\n"
      "print('got', c.recv(100).decode())\n";
  std::string client_code =
      "import os, socket, time\n"
      "print('netns', os.readlink('/proc/self/ns/net'))\n"
      "for _ in range(200):\n"
      "    try:\n"
      "        c = socket.create_connection(('myjob-master-0.myjob', " + std::to_string(port) + "))\n"
      "        break\n"
      "    except OSError:\n"
      "        time.sleep(0.05)\n"
      "c.sendall(b'hello from the worker')\n";
  PodRun master = pod("myjob-master-0", python(d, "server", server_code));
  PodRun worker = pod("myjob-worker-0", python(d, "client", client_code));
  // Both supervisors start together: the lock makes them agree on one namespace.
  pid_t a = fork_supervisor(master);
  pid_t b = fork_supervisor(worker);
  CHECK(wait_child(b) == 0);
  CHECK(wait_child(a) == 0);
  std::string server_log = read_file(master.containers[0].log_path);
  std::string client_log = read_file(worker.containers[0].log_path);
  INFO(server_log << client_log);
  CHECK(server_log.find("got hello from the worker\n") != std::string::npos);
  auto ns_line = [](const std::string& log) { return log.substr(0, log.find('\n')); };
  CHECK(ns_line(server_log) == ns_line(client_log));
  CHECK(ns_line(server_log) != "netns " + net_ns_of_self());

  release_job_netns(netns);
  CHECK_FALSE(fs::exists(netns));
  CHECK_FALSE(fs::exists(netns.string() + ".lock"));
  release_job_netns(netns);  // again: nothing to do
}

TEST_CASE("two jobs bind 0.0.0.0 on the same port at the same time") {
  if (!job_namespaces_allowed()) return;
  TempDir tmp;
  fs::path d = tmp.path();
  // The host holds the port too, for the whole test.
  int port = 0;
  int host_socket = -1;
  for (int i = 0; i < 20 && host_socket < 0; ++i) host_socket = bind_any(port = random_port());
  REQUIRE(host_socket >= 0);
  auto job_pod = [&](const std::string& job, const std::string& other) {
    std::string code =
        "import os, socket, time\n"
        "s = socket.socket()\n"
        "s.bind(('0.0.0.0', " + std::to_string(port) + "))\n"
        "s.listen(1)\n"
        "print('bound')\n"
        "open('" + (d / ("bound-" + job)).string() + "', 'w').write('1')\n"
        "deadline = time.time() + 10\n"
        "while not os.path.exists('" + (d / ("bound-" + other)).string() + "') and time.time() < deadline:\n"
        "    time.sleep(0.02)\n"
        "print('both' if os.path.exists('" + (d / ("bound-" + other)).string() + "') else 'alone')\n";
    PodRun p = pod_in(d / job, NetworkMode::kJobNamespace);
    p.key = "default/" + job + "-master-0";
    p.job_netns = tmp.netns(job);
    p.containers = {python(d, job, code)};
    return p;
  };
  PodRun one = job_pod("job-one", "job-two");
  PodRun two = job_pod("job-two", "job-one");
  pid_t a = fork_supervisor(one);
  pid_t b = fork_supervisor(two);
  CHECK(wait_child(a) == 0);
  CHECK(wait_child(b) == 0);
  ::close(host_socket);
  std::string log_one = read_file(one.containers[0].log_path);
  std::string log_two = read_file(two.containers[0].log_path);
  INFO(log_one << log_two);
  CHECK(log_one == "bound\nboth\n");
  CHECK(log_two == "bound\nboth\n");
}

TEST_CASE("as a user without privileges: no JobNamespace, and HostHosts works where user namespaces do") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to become the user nobody");
    return;
  }
  TempDir tmp;
  constexpr uid_t kNobody = 65534;
  REQUIRE(::chown(tmp.path().c_str(), kNobody, kNobody) == 0);
  fs::path d = tmp.path();
  pid_t child = ::fork();
  if (child == 0) {
    int code = 90;
    try {
      if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(91);
      // Dropping root left /proc/self owned by root (not dumpable), so the child could not
      // write its own uid_map; a user who starts kai normally is dumpable.
      ::prctl(PR_SET_DUMPABLE, 1);
      NetworkMode mode = probe_network_mode();
      write_text(d / "mode", to_string(mode));
      // Asked for anyway, JobNamespace fails to start with a reason, and nothing runs.
      PodRun job_pod = pod_in(d / "job", NetworkMode::kJobNamespace);
      job_pod.job_netns = d / "job" / "netns";
      job_pod.containers = {sh(d / "job", "c", "touch " + (d / "job" / "ran").string())};
      RecordingObserver job_observer;
      write_text(d / "job-message", run_pod(job_pod, job_observer).at(0).message);
      if (mode == NetworkMode::kHostHosts) {
        PodRun pod = pod_in(d, mode);
        pod.hostname = "unprivileged-pod";
        pod.hosts_file = kHosts;
        pod.containers = {sh(d, "c", "getent hosts myjob-master-0.myjob; cat /proc/sys/kernel/hostname; id -u")};
        RecordingObserver observer;
        auto results = run_pod(pod, observer);
        code = results.at(0).exit_code;
      } else {
        code = 0;
      }
    } catch (...) {
      code = 92;
    }
    ::_exit(code);
  }
  CHECK(wait_child(child) == 0);
  std::string mode = read_file(d / "mode");
  WARN("probe_network_mode() as nobody: " << mode);
  CHECK(mode != "JobNamespace");
  CHECK(read_file(d / "job-message").find("needs root") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "job" / "ran"));
  if (mode == "HostHosts") {
    std::string log = read_file(d / "logs" / "c.log");
    INFO(log);
    CHECK(log.find("127.0.1.1       myjob-master-0.myjob") != std::string::npos);
    CHECK(log.find("unprivileged-pod\n65534\n") != std::string::npos);
  }
}

TEST_CASE("a JobNamespace pod whose namespace cannot be made is a StartError, not a crash") {
  TempDir tmp;
  PodRun pod = pod_in(tmp.path(), NetworkMode::kJobNamespace);
  // A directory where the namespace file should be: it can be neither opened as one nor made.
  pod.job_netns = tmp.path() / "netns-dir";
  fs::create_directories(pod.job_netns);
  pod.containers = {sh(tmp.path(), "c", "true")};
  RecordingObserver observer;
  auto results = run_pod(pod, observer);
  REQUIRE(results.size() == 1);
  CHECK(results[0].reason == "StartError");
  CHECK(results[0].exit_code == 128);
  CHECK(results[0].message.find((tmp.path() / "netns-dir").string()) != std::string::npos);
}
