// bench_sim: `kai sim run` at scale, through the real binary.
//
//   bench_sim KAI [--quick]
//   bench_sim --print-trace quick|full     (the trace, for profiling `kai sim run` by hand)
//   bench_sim --print-conf                 (the scheduler configuration it uses)
//
// Full: a 100,000-job trace over 10,000 simulated nodes (64 cpu, 512Gi, 8 nvidia.com/gpu each)
// with preemption enabled (actions "enqueue, allocate, preempt, reclaim, backfill", Volcano's
// helm tiers). The trace (JSON lines, written to a temporary file) is generated from a fixed seed:
// arrivals spread evenly over an hour in four queues (weights 4, 3, 2, 1), jobs of 1, 2, 4 or 8
// GPUs (one pod) or gangs of 2 or 4 pods of 8 GPUs, with 4 cpu and 32Gi per GPU, running 60 s to
// 30 min (log-uniform), one job in ten at high priority. --quick: 10,000 jobs over 1,000 nodes.
// Prints the wall time of `kai sim run -o json` against the 60 s target, virtual jobs per second
// of wall time, the simulation's own figures (sessions, makespan, utilisation, preemptions) and
// the child's peak RSS.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

constexpr double kTargetSeconds = 60;

/// splitmix64: a fixed sequence, so that every run simulates the same trace.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
};

std::string trace(int jobs, int span_seconds) {
  Rng rng{42};
  const char* queues[] = {"prod", "research", "dev", "batch"};
  std::string out;
  out.reserve(static_cast<std::size_t>(jobs) * 200);
  out += R"({"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue", "metadata": {"name": "prod"}, "spec": {"weight": 4}})" "\n";
  out += R"({"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue", "metadata": {"name": "research"}, "spec": {"weight": 3}})" "\n";
  out += R"({"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue", "metadata": {"name": "dev"}, "spec": {"weight": 2}})" "\n";
  out += R"({"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue", "metadata": {"name": "batch"}, "spec": {"weight": 1}})" "\n";
  char buf[512];
  for (int i = 0; i < jobs; ++i) {
    const double time = std::floor(static_cast<double>(i) * span_seconds / jobs);
    const double shape = rng.uniform();
    int replicas = 1, gpus = 1;
    if (shape < 0.30) gpus = 1;
    else if (shape < 0.50) gpus = 2;
    else if (shape < 0.70) gpus = 4;
    else if (shape < 0.90) gpus = 8;
    else if (shape < 0.97) gpus = 8, replicas = 2;
    else gpus = 8, replicas = 4;
    const int duration = static_cast<int>(60 * std::exp(rng.uniform() * std::log(30.0)));
    const char* queue = queues[rng.next() % 4];
    const int priority = rng.uniform() < 0.1 ? 1000 : 10;
    std::snprintf(buf, sizeof buf,
                  R"({"time": %.0f, "name": "job-%06d", "queue": "%s", "priority": %d, "tasks": [{"name": "w", "replicas": %d, "gpus": %d, "cpu": "%d", "memory": "%dGi", "duration": %d}]})"
                  "\n",
                  time, i, queue, priority, replicas, gpus, 4 * gpus, 32 * gpus, duration);
    out += buf;
  }
  return out;
}

const char* kConf = R"(actions: "enqueue, allocate, preempt, reclaim, backfill"
tiers:
- plugins:
  - name: priority
  - name: gang
    enablePreemptable: false
  - name: conformance
- plugins:
  - name: overcommit
  - name: drf
    enablePreemptable: false
  - name: predicates
  - name: proportion
  - name: nodeorder
  - name: binpack
)";

struct Child {
  int code = -1;
  std::string out;
  double seconds = 0;
  double cpu_seconds = 0;  ///< user + system: on a busy machine wall time also counts others' time
  double rss_mib = 0;
};

Child run(const std::vector<std::string>& argv) {
  int pipefd[2];
  if (pipe(pipefd) != 0) std::exit(2);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  Child c;
  char buf[65536];
  ssize_t n = 0;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) c.out.append(buf, static_cast<std::size_t>(n));
  close(pipefd[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  c.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  c.rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  c.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  // For profiling by hand: the same trace and configuration, printed rather than run.
  if (argc == 3 && std::strcmp(argv[1], "--print-trace") == 0) {
    const bool q = std::strcmp(argv[2], "quick") == 0;
    std::fputs(trace(q ? 10000 : 100000, 3600).c_str(), stdout);
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "--print-conf") == 0) {
    std::fputs(kConf, stdout);
    return 0;
  }
  const bool quick = argc > 2 && std::strcmp(argv[2], "--quick") == 0;
  if (argc < 2 || argc > 3 || (argc == 3 && !quick)) {
    std::fprintf(stderr, "usage: bench_sim KAI [--quick]\n");
    return 2;
  }
  const int jobs = quick ? 10000 : 100000;
  const int nodes = quick ? 1000 : 10000;
  const auto dir = std::filesystem::temp_directory_path() / ("kai-bench-sim-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string trace_file = (dir / "trace.jsonl").string(), conf_file = (dir / "preempt.conf").string();
  std::ofstream(trace_file) << trace(jobs, 3600);
  std::ofstream(conf_file) << kConf;
  const Child c = run({argv[1], "sim", "run", "-f", trace_file, "--nodes", std::to_string(nodes), "--gpus-per-node", "8", "--cpu", "64",
                       "--memory", "512Gi", "--scheduler-conf", conf_file, "-o", "json"});
  std::filesystem::remove_all(dir);
  const char* label = quick ? "quick" : "full";
  if (c.code != 0) {
    std::fprintf(stderr, "sim (%s): kai sim run exited %d\n%s\n", label, c.code, c.out.c_str());
    return 1;
  }
  const auto r = nlohmann::json::parse(c.out);
  const auto& o = r["overall"];
  std::printf("sim (%s): %d jobs over %d nodes of 8 GPUs, preemption enabled\n", label, jobs, nodes);
  std::printf("sim (%s): wall time: %.2f s (target < %.0f s; %.2f s of cpu)\n", label, c.seconds, kTargetSeconds, c.cpu_seconds);
  std::printf("sim (%s): %.0f virtual jobs/s (%d sessions, %.0f virtual seconds: %.0fx real time)\n", label, jobs / c.seconds,
              r["sessions"].get<int>(), r["virtualSeconds"].get<double>(), r["virtualSeconds"].get<double>() / c.seconds);
  std::printf("sim (%s): completed %d, makespan %.0f s, GPU utilisation %.1f%%, wait p50/p90/p99 %.0f/%.0f/%.0f s, preemptions %d\n",
              label, o["completed"].get<int>(), o["makespanSeconds"].get<double>(), 100 * o["gpuUtilisation"].get<double>(),
              o["waitSeconds"]["p50"].get<double>(), o["waitSeconds"]["p90"].get<double>(), o["waitSeconds"]["p99"].get<double>(),
              o["preemptions"].get<int>());
  std::printf("sim (%s): peak RSS: %.0f MiB\n", label, c.rss_mib);
  return c.seconds < kTargetSeconds ? 0 : 1;
}
