// bench_scheduler: one scheduling session at scale, in process, through the library's API.
//
//   bench_scheduler [--quick]
//
// Full: 10,000 nodes (64 cpu, 512Gi, 8 nvidia.com/gpu each) and 100,000 pending pods in 12,500
// gangs of 8 (PodGroups Inqueue, minMember 8): half the gangs ask 1 gpu, 4 cpu, 32Gi per pod, the
// other half 2 cpu, 8Gi. Volcano's default configuration plus binpack. --quick: 1,000 nodes and
// 10,000 pods. Prints the sizes, pods bound, the seconds to build the snapshot (parse and
// validate the objects) and to run the session, pods bound per second of session, and peak RSS,
// each beside its target (>= 100,000 pods/s, <= 2 GiB).

#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/scheduler/scheduler.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kGang = 8;
constexpr double kTargetPodsPerSecond = 100000;
constexpr double kTargetRssMiB = 2048;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// CPU seconds of this (single-threaded) process: on a busy machine wall time also counts the
/// time other processes ran.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::vector<json> objects(int nodes, int pods) {
  std::vector<json> out;
  out.reserve(static_cast<std::size_t>(nodes + pods + pods / kGang + 1));
  char name[64];
  for (int i = 0; i < nodes; ++i) {
    std::snprintf(name, sizeof name, "node-%05d", i);
    out.push_back({{"apiVersion", "v1"},
                   {"kind", "Node"},
                   {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
                   {"status",
                    {{"allocatable", {{"cpu", "64"}, {"memory", "512Gi"}, {"nvidia.com/gpu", "8"}, {"pods", "110"}}}}}});
  }
  out.push_back({{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                 {"kind", "Queue"},
                 {"metadata", {{"name", "default"}, {"uid", "queue-default"}}},
                 {"spec", {{"weight", 1}}}});
  for (int j = 0; j < pods / kGang; ++j) {
    std::snprintf(name, sizeof name, "job-%05d", j);
    const std::string job = name;
    char created[32];
    std::snprintf(created, sizeof created, "2026-01-01T%02d:%02d:%02dZ", j / 3600 % 24, j / 60 % 60, j % 60);
    out.push_back({{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                   {"kind", "PodGroup"},
                   {"metadata", {{"name", job}, {"namespace", "bench"}, {"uid", "pg-" + job}, {"creationTimestamp", created}}},
                   {"spec", {{"minMember", kGang}, {"queue", "default"}}},
                   {"status", {{"phase", "Inqueue"}}}});
    const bool gpu = j % 2 == 0;
    const json requests = gpu ? json{{"cpu", "4"}, {"memory", "32Gi"}, {"nvidia.com/gpu", "1"}} : json{{"cpu", "2"}, {"memory", "8Gi"}};
    for (int t = 0; t < kGang; ++t) {
      const std::string pod = job + "-worker-" + std::to_string(t);
      out.push_back({{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata",
                      {{"name", pod},
                       {"namespace", "bench"},
                       {"uid", "pod-" + pod},
                       {"creationTimestamp", created},
                       {"annotations", {{"scheduling.k8s.io/group-name", job}, {"volcano.sh/task-spec", "worker"}}}}},
                     {"spec",
                      {{"schedulerName", "volcano"},
                       {"containers", json::array({{{"name", "main"}, {"image", "trainer:1"}, {"resources", {{"requests", requests}}}}})}}},
                     {"status", {{"phase", "Pending"}}}});
    }
  }
  return out;
}

int run(const char* label, int nodes, int pods) {
  const auto objs = objects(nodes, pods);
  auto start = Clock::now();
  const kai::scheduler::Snapshot snapshot = kai::scheduler::snapshot_from_objects(objs, "bench");
  const double build_s = seconds_since(start);

  kai::scheduler::Config config = kai::scheduler::default_config();
  kai::scheduler::PluginOption binpack;
  binpack.name = "binpack";
  config.tiers.back().plugins.push_back(binpack);

  start = Clock::now();
  const double cpu_start = cpu_seconds();
  const kai::scheduler::SessionResult result = kai::scheduler::run_session(snapshot, config);
  const double session_s = seconds_since(start);
  const double session_cpu_s = cpu_seconds() - cpu_start;
  const double rate = static_cast<double>(result.bound.size()) / session_s;
  const double rss = peak_rss_mib();

  std::printf("scheduler (%s): %d nodes, %d pods in %d gangs of %d\n", label, nodes, pods, pods / kGang, kGang);
  std::printf("scheduler (%s): pods bound: %zu\n", label, result.bound.size());
  std::printf("scheduler (%s): snapshot build: %.3f s\n", label, build_s);
  std::printf("scheduler (%s): session: %.3f s (%.3f s of cpu)\n", label, session_s, session_cpu_s);
  std::printf("scheduler (%s): placed: %.0f pods/s (target >= %.0f; %.0f pods per cpu second)\n", label, rate,
              kTargetPodsPerSecond, static_cast<double>(result.bound.size()) / session_cpu_s);
  std::printf("scheduler (%s): peak RSS: %.0f MiB (target <= %.0f)\n", label, rss, kTargetRssMiB);
  return rate >= kTargetPodsPerSecond && rss <= kTargetRssMiB ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (argc > 2 || (argc == 2 && !quick)) {
    std::fprintf(stderr, "usage: bench_scheduler [--quick]\n");
    return 2;
  }
  return quick ? run("quick", 1000, 10000) : run("full", 10000, 100000);
}
