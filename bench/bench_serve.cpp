// kai cluster serve on loopback (issue 5 §4): kubectl get vcjob vs kai job list through the REST
// backend over 1,000 jobs (median, p99); GETs/s and creates/s from 16 concurrent clients; watch
// fan-out (100 watchers, 1,000 updates: events delivered, p99 delay). Targets: kai's REST list
// at least 2x faster than kubectl; >= 5,000 GETs/s; >= 1,000 creates/s; every event delivered.
//
//   bench_serve KAI [JOBS] [RUNS]

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/kube/http.h"
#include "minicluster/local_cluster.h"

extern char** environ;

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace kube = kai::kube;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs a command with stdout/stderr to /dev/null; returns its exit code.
int run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return 127;
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

json job(const std::string& name) {
  return {{"apiVersion", "batch.volcano.sh/v1alpha1"},
          {"kind", "Job"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"annotations", {{"kai.dev/simulate-duration", "24h"}}}}},
          {"spec",
           {{"minAvailable", 1},
            {"queue", "default"},
            {"tasks", json::array({{{"name", "w"}, {"replicas", 1},
                                    {"template", {{"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"},
                                                                                        {"resources", {{"requests", {{"cpu", "1m"}}}}}}})}}}}}}})}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_serve KAI [JOBS] [RUNS]\n");
    return 2;
  }
  const std::string kai = fs::absolute(argv[1]).string();
  const int jobs = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 20;
  char tmpl[] = "/tmp/kai-bench-serve.XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const fs::path dir = tmpl, home = dir / "kai";
  setenv("KAI_HOME", home.c_str(), 1);
  setenv("HOME", dir.c_str(), 1);
  unsetenv("KUBECONFIG");
  {
    // 1,000 jobs whose pods are simulated (bound, "running" for a day, no processes), on nodes
    // big enough for all of them.
    auto lc = kai::minicluster::LocalCluster::open(home);
    kai::minicluster::NodeShape shape;
    shape.count = 20;
    shape.cpu = "64";
    shape.memory = "512Gi";
    shape.max_pods = 1000;
    lc->initialise(shape);
    lc->batch([&] {
      for (int i = 0; i < jobs; ++i) lc->create(kai::api::jobs(), job("bench-" + std::to_string(i)));
    });
  }
  const fs::path port_file = dir / "port";
  std::vector<std::string> sargs{kai, "cluster", "serve", "--port", "0", "--port-file", port_file.string()};
  std::vector<char*> sargv;
  for (auto& a : sargs) sargv.push_back(a.data());
  sargv.push_back(nullptr);
  pid_t server;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, (dir / "serve.log").c_str(), O_WRONLY | O_CREAT, 0600);
  if (posix_spawn(&server, kai.c_str(), &fa, nullptr, sargv.data(), environ) != 0) return 1;
  for (int i = 0; i < 400 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  if (!fs::exists(port_file)) {
    std::fprintf(stderr, "the server did not start: %s\n", slurp(dir / "serve.log").c_str());
    return 1;
  }
  const std::string port = slurp(port_file).substr(0, slurp(port_file).find('\n'));
  run({kai, "cluster", "kubeconfig", "--write"});
  // Let the reconcile loop place the jobs' pods first (measured apart).
  auto settle = [&] {
    auto lc = kai::minicluster::LocalCluster::open(home);
    const auto t = Clock::now();
    for (int i = 0; i < 1200 && lc->reconcile_needed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return ms_since(t) / 1000;
  };
  std::printf("kai cluster serve: %d jobs scheduled and their (simulated) pods bound by the server's loop in %.1f s\n", jobs, settle());
  const std::string base = "https://127.0.0.1:" + port;
  const std::string token = [&] {
    std::string t = slurp(home / "serve" / "token");
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }();
  kube::TlsOptions tls;
  tls.ca_pem = slurp(home / "serve" / "ca.crt");
  tls.compression = false;
  std::printf("kai cluster serve on loopback, %d jobs (2 cores)\n", jobs);

  // 1. The same table from kubectl and from kai through its REST backend.
  std::vector<double> kubectl_ms, kai_ms;
  const bool have_kubectl = run({"kubectl", "version", "--client"}) == 0;
  for (int i = 0; i < runs; ++i) {
    if (have_kubectl) {
      auto t = Clock::now();
      run({"kubectl", "--context", "kai-local", "get", "vcjob"});
      kubectl_ms.push_back(ms_since(t));
    }
    auto t = Clock::now();
    run({kai, "--context", "kai-local", "get", "vcjob"});
    kai_ms.push_back(ms_since(t));
  }
  if (have_kubectl) {
    std::printf("  kubectl get vcjob:            median %7.1f ms   p99 %7.1f ms\n", pct(kubectl_ms, 0.5), pct(kubectl_ms, 0.99));
  } else {
    std::printf("  kubectl get vcjob:            (kubectl not installed)\n");
  }
  std::printf("  kai get vcjob (REST):         median %7.1f ms   p99 %7.1f ms   (target: 2x faster than kubectl%s)\n",
              pct(kai_ms, 0.5), pct(kai_ms, 0.99),
              have_kubectl ? (pct(kubectl_ms, 0.5) >= 2 * pct(kai_ms, 0.5) ? ": met" : ": not met") : "");

  // 2. GETs and creates from 16 clients, each on its own kept-alive connection.
  auto hammer = [&](const std::string& what, int per_client) {
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> ts;
    std::vector<double> lat;
    std::mutex m;
    const auto t0 = Clock::now();
    for (int c = 0; c < 16; ++c) {
      ts.emplace_back([&, c] {
        kube::HttpClient http(tls);
        std::vector<double> mine;
        for (int i = 0; i < per_client; ++i) {
          kube::HttpRequest req;
          req.headers = {"Authorization: Bearer " + token, "Accept: application/json", "Content-Type: application/json"};
          if (what == "GET") {
            req.url = base + "/apis/batch.volcano.sh/v1alpha1/namespaces/default/jobs/bench-" + std::to_string((c * 131 + i) % jobs);
          } else {
            req.method = "POST";
            req.url = base + "/apis/batch.volcano.sh/v1alpha1/namespaces/default/jobs";
            req.body = job("new-" + std::to_string(c) + "-" + std::to_string(i)).dump();
          }
          auto t = Clock::now();
          try {
            auto r = http.perform(req);
            ((r.status == 200 || r.status == 201) ? ok : failed)++;
          } catch (const std::exception&) {
            failed++;
          }
          mine.push_back(ms_since(t));
        }
        std::lock_guard<std::mutex> l(m);
        lat.insert(lat.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : ts) t.join();
    const double secs = ms_since(t0) / 1000;
    std::printf("  %-6s x16 clients: %6d ok, %d failed, %8.0f requests/s   p99 %6.1f ms   (target >= %s/s)\n", what.c_str(),
                ok.load(), failed.load(), ok / secs, pct(lat, 0.99), what == "GET" ? "5,000" : "1,000");
  };
  hammer("GET", 1000);
  hammer("POST", 100);
  std::printf("  (the %d created jobs settled %.1f s after the last create)\n", 1600, settle());

  // 3. Watch fan-out: 100 watchers of one queue, 1,000 updates stamped with their send time.
  const int watchers = 100, updates = 1000;
  std::vector<std::vector<double>> delays(watchers);
  std::vector<int> counts(watchers, 0);
  std::atomic<int> ready{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> ws;
  for (int w = 0; w < watchers; ++w) {
    ws.emplace_back([&, w] {
      kube::HttpClient http(tls);
      kube::HttpRequest req;
      req.headers = {"Authorization: Bearer " + token, "Accept: application/json"};
      const std::string rv = [&] {
        kube::HttpRequest l = req;
        l.url = base + "/apis/scheduling.volcano.sh/v1beta1/queues?fieldSelector=metadata.name%3Ddefault";
        return json::parse(http.perform(l).body)["metadata"]["resourceVersion"].get<std::string>();
      }();
      req.url = base + "/apis/scheduling.volcano.sh/v1beta1/queues?watch=true&fieldSelector=metadata.name%3Ddefault&timeoutSeconds=60&resourceVersion=" + rv;
      std::string buf;
      ready++;
      req.on_data = [&](std::string_view d) {
        buf.append(d);
        for (auto nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n')) {
          json ev = json::parse(buf.substr(0, nl));
          buf.erase(0, nl + 1);
          const std::string stamp = ev["object"]["metadata"].value("annotations", json::object()).value("bench/sent", std::string());
          if (stamp.empty()) continue;
          const double sent = std::stod(stamp);
          const double now = std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
          delays[w].push_back(now - sent);
          if (++counts[w] >= updates) return false;
        }
        return !stop.load();
      };
      try {
        http.perform(req);
      } catch (const std::exception&) {
      }
    });
  }
  while (ready < watchers) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    kube::HttpClient http(tls);
    const auto t0 = Clock::now();
    for (int i = 0; i < updates; ++i) {
      kube::HttpRequest req;
      req.method = "PATCH";
      req.url = base + "/apis/scheduling.volcano.sh/v1beta1/queues/default";
      req.headers = {"Authorization: Bearer " + token, "Content-Type: application/merge-patch+json"};
      const double now = std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
      req.body = json{{"metadata", {{"annotations", {{"bench/sent", std::to_string(now)}}}}}}.dump();
      http.perform(req);
    }
    std::printf("  watch fan-out: %d updates sent in %.2f s\n", updates, ms_since(t0) / 1000);
  }
  for (auto& t : ws) t.join();  // each ends after its 1,000th event (or its 60 s watch timeout)
  std::vector<double> all;
  int complete = 0;
  long total = 0;
  for (int w = 0; w < watchers; ++w) {
    all.insert(all.end(), delays[w].begin(), delays[w].end());
    total += counts[w];
    if (counts[w] >= updates) ++complete;
  }
  std::printf("  watch fan-out: %d watchers x %d updates: %ld of %ld events delivered (%d watchers got all), delay p50 %.1f ms p99 %.1f ms\n",
              watchers, updates, total, static_cast<long>(watchers) * updates, complete, pct(all, 0.5), pct(all, 0.99));
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  run({kai, "cluster", "reset"});
  fs::remove_all(dir);
  return 0;
}
