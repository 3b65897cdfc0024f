// Wall time of real kai invocations over a local store holding 1,000 jobs (issue 3's targets:
// `kai job list` < 20 ms median, `kai job submit` < 15 ms). Prints figures; asserts nothing.
//
// usage: bench_cli KAI_BINARY [JOBS=1000] [RUNS=50]
//        bench_cli --populate DIR [JOBS=1000]   fills DIR as the benchmark does and keeps it
//        (for profiling one command: KAI_HOME=DIR perf stat -r 50 kai job list)

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "minicluster/local_cluster.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

json make_job(const std::string& name, int replicas) {
  json container = {{"name", "main"},
                    {"image", "busybox"},
                    {"command", {"sh", "-c", "sleep 1"}},
                    {"resources", {{"requests", {{"cpu", "500m"}, {"memory", "128Mi"}}}}}};
  return {{"apiVersion", "batch.volcano.sh/v1alpha1"},
          {"kind", "Job"},
          {"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"labels", {{"team", "bench"}}},
            {"annotations", {{"kai.dev/simulate-duration", "24h"}}}}},
          {"spec",
           {{"minAvailable", replicas},
            {"tasks", json::array({{{"name", "worker"},
                                    {"replicas", replicas},
                                    {"template", {{"spec", {{"restartPolicy", "Never"}, {"containers", json::array({container})}}}}}}})}}}};
}

/// Runs argv with KAI_HOME set, stdout/stderr to /dev/null; returns seconds. posix_spawn (vfork
/// semantics) so the figure is the command's, not the cost of forking this big process.
double time_run(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto t0 = Clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  if (rc == 0) waitpid(pid, &status, 0);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_cli: command failed:");
    for (const auto& a : argv) std::fprintf(stderr, " %s", a.c_str());
    std::fprintf(stderr, "\n");
    std::exit(1);
  }
  return seconds;
}

void report(const char* what, std::vector<double> s, double target_ms) {
  std::sort(s.begin(), s.end());
  const double median = s[s.size() / 2] * 1e3;
  const double p99 = s[std::min(s.size() - 1, static_cast<std::size_t>(s.size() * 0.99))] * 1e3;
  std::printf("%-28s median %7.2f ms   p99 %7.2f ms   (n=%zu%s)\n", what, median, p99, s.size(),
              target_ms > 0 ? (median <= target_ms ? ", target met" : ", TARGET MISSED") : "");
  if (target_ms > 0) std::printf("%-28s target: median < %.0f ms\n", "", target_ms);
}

/// Populates home through the same admission + store path `kai job submit` takes, in one
/// batch, then lets the cluster reconcile: every job Running with 2 simulated pods (no
/// processes) on 32 nodes. Returns seconds.
double populate(const std::string& home, int njobs) {
  auto t0 = Clock::now();
  auto lc = kai::minicluster::LocalCluster::open(home);
  kai::minicluster::NodeShape shape;
  shape.count = 32;
  shape.cpu = "64";
  shape.memory = "512Gi";
  lc->initialise(shape);
  lc->batch([&] {
    for (int i = 0; i < njobs; ++i) lc->create(kai::api::jobs(), make_job("job-" + std::to_string(i), 2));
  });
  lc->reconcile_if_needed();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_cli KAI_BINARY [JOBS] [RUNS] | bench_cli --populate DIR [JOBS]\n");
    return 2;
  }
  if (std::string(argv[1]) == "--populate") {
    if (argc < 3) return 2;
    const int njobs = argc > 3 ? std::atoi(argv[3]) : 1000;
    populate(argv[2], njobs);
    return 0;
  }
  const std::string kai = std::filesystem::absolute(argv[1]).string();
  const int njobs = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 50;
  char tmpl[] = "/tmp/kai-bench.XXXXXX";
  const std::string home = mkdtemp(tmpl);
  setenv("KAI_HOME", home.c_str(), 1);
  setenv("KAI_CLUSTER", "local", 1);

  const double fill = populate(home, njobs);
  std::printf("kai CLI benchmark: %d jobs (+ %d PodGroups, %d pods) in %s\n", njobs, njobs, 2 * njobs, home.c_str());
  std::printf("%-28s %.0f jobs/s (admission, store, controllers, scheduler: all Running)\n", "populate + reconcile", njobs / fill);

  std::vector<double> version, list, pods, submit;
  for (int i = 0; i < runs; ++i) version.push_back(time_run({kai, "version"}));
  for (int i = 0; i < runs; ++i) list.push_back(time_run({kai, "job", "list"}));
  for (int i = 0; i < runs; ++i) pods.push_back(time_run({kai, "get", "pods", "-A"}));
  const auto submits_started = Clock::now();
  for (int i = 0; i < runs; ++i) {
    const std::string file = home + "/submit-" + std::to_string(i) + ".json";
    std::ofstream(file) << make_job("submitted-" + std::to_string(i), 2).dump();
    submit.push_back(time_run({kai, "job", "submit", "-f", file}));
  }
  // The submits handed their jobs to background reconciles; a read waits for those to finish.
  const double settle = time_run({kai, "job", "list"});
  const double all = std::chrono::duration<double>(Clock::now() - submits_started).count();
  // One submit at a time, each into a settled cluster (no background reconcile sharing the two
  // cores): what a user typing the command sees.
  std::vector<double> single;
  for (int i = 0; i < runs; ++i) {
    const std::string file = home + "/single-" + std::to_string(i) + ".json";
    std::ofstream(file) << make_job("single-" + std::to_string(i), 2).dump();
    single.push_back(time_run({kai, "job", "submit", "-f", file}));
    time_run({kai, "job", "list"});  // waits for the reconcile it started
  }
  report("kai version (startup)", version, 0);
  report("kai job list (1,000 jobs)", list, 20);
  report("kai get pods -A (2,000 pods)", pods, 0);
  report("kai job submit (one by one)", single, 15);
  report("kai job submit (back to back)", submit, 15);
  std::printf("%-28s %.0f ms after the last submit; %d submits + their reconciles: %.2f s\n",
              "background reconcile done", settle * 1e3, runs, all);
  std::filesystem::remove_all(home);
  return 0;
}
