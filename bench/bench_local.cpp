// End-to-end local-mode benchmark with simulated pods (no processes): 1,000 nodes, 20,000 pods
// submitted as 2,500 gang jobs of 8. Prints the time until every pod is bound, pods/s against
// the target (>= 20,000 pods/s) and the store rows written per pod.
//
//   bench_local [--nodes N] [--jobs J] [--pods-per-job P]

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <filesystem>
#include <string>

#include <spdlog/spdlog.h>

#include "lib/api/resources.h"
#include "minicluster/local_cluster.h"

using nlohmann::json;
namespace mc = kai::minicluster;

int main(int argc, char** argv) {
  int nodes = 1000, jobs = 2500, per_job = 8, then = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--nodes")) nodes = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--jobs")) jobs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--pods-per-job")) per_job = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--then")) then = std::atoi(argv[i + 1]);
  }
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-v")) spdlog::set_level(spdlog::level::debug);  // per-pass timings
  }
  char tmpl[] = "/tmp/kai-bench-local.XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::filesystem::path home = tmpl;
  {
    auto lc = mc::LocalCluster::open(home);
    mc::NodeShape shape;
    shape.count = nodes;
    shape.cpu = "64";
    shape.memory = "512Gi";
    shape.gpus_per_node = 8;
    lc->initialise(shape);
    auto make_job = [&](const std::string& name) {
      return json{{"apiVersion", "batch.volcano.sh/v1alpha1"},
                  {"kind", "Job"},
                  {"metadata",
                   {{"name", name},
                    {"namespace", "default"},
                    {"annotations", {{"kai.dev/simulate-duration", "1h"}}}}},
                  {"spec",
                   {{"minAvailable", per_job},
                    {"schedulerName", "volcano"},
                    {"tasks",
                     json::array({{{"name", "worker"},
                                   {"replicas", per_job},
                                   {"template",
                                    {{"spec",
                                      {{"containers",
                                        json::array({{{"name", "main"},
                                                      {"image", "busybox"},
                                                      {"command", json::array({"true"})},
                                                      {"resources", {{"requests", {{"cpu", "1"}, {"memory", "1Gi"}}}}}}})}}}}}}})}}}};
    };
    const int64_t rv0 = lc->store().current_resource_version();
    const auto t0 = std::chrono::steady_clock::now();
    lc->batch([&] {
      for (int j = 0; j < jobs; ++j) {
        lc->create(kai::api::jobs(), make_job("sim-" + std::to_string(j)));
      }
    });
    const auto t1 = std::chrono::steady_clock::now();
    // As the background reconciler: its commit leaves the WAL to one checkpoint when it is done
    // (timed apart below: the pods are bound and visible once the reconcile has committed).
    lc->store().set_checkpoint_pages(1 << 30);
    auto st = lc->reconcile();
    const auto t2 = std::chrono::steady_clock::now();
    lc->store().checkpoint();
    const auto t3 = std::chrono::steady_clock::now();
    int bound = 0;
    for (const auto& p : lc->store().list(kai::api::pods())) bound += p["spec"].contains("nodeName") ? 1 : 0;
    const int64_t rows = lc->store().current_resource_version() - rv0;
    const double submit_s = std::chrono::duration<double>(t1 - t0).count();
    const double sched_s = std::chrono::duration<double>(t2 - t1).count();
    const int pods = jobs * per_job;
    std::printf("local mode, simulated pods: %d nodes, %d jobs x %d pods = %d pods\n", nodes, jobs, per_job, pods);
    std::printf("  submit (one transaction):      %8.2f s\n", submit_s);
    std::printf("  reconcile until all bound:     %8.2f s  (%d passes)\n", sched_s, st.passes);
    std::printf("  WAL checkpoint afterwards:     %8.2f s\n", std::chrono::duration<double>(t3 - t2).count());
    std::printf("  pods bound:                    %8d\n", bound);
    std::printf("  submit to all bound:           %8.0f pods/s   (target >= 20,000 pods/s)\n", pods / (submit_s + sched_s));
    std::printf("  store rows written per pod:    %8.2f\n", static_cast<double>(rows) / pods);
    std::map<std::string, int> by_resource;
    for (const auto& c : lc->store().changes_since(rv0, 10'000'000)) by_resource[c.resource + " " + c.type]++;
    for (const auto& [what, n] : by_resource) std::printf("    %-40s %8d\n", what.c_str(), n);
    // What a running cluster pays per reconcile: a few jobs more on top of all the above (as
    // `kai cluster serve` reconciles after a burst of creates).
    for (int round = 0; round < 3 && then > 0; ++round) {
      const auto a = std::chrono::steady_clock::now();
      lc->batch([&] {
        for (int j = 0; j < then; ++j) lc->create(kai::api::jobs(), make_job("more-" + std::to_string(round) + "-" + std::to_string(j)));
      });
      const auto b = std::chrono::steady_clock::now();
      auto more = lc->reconcile();
      const auto c = std::chrono::steady_clock::now();
      std::printf("  then %d job(s) more: submit %.1f ms, reconcile %.1f ms (%d passes, %d objects written)\n", then,
                  std::chrono::duration<double, std::milli>(b - a).count(), std::chrono::duration<double, std::milli>(c - b).count(),
                  more.passes, more.written);
    }
  }
  std::filesystem::remove_all(home);
  return 0;
}
