// bench_store: throughput of the local store, through its public API only.
//
//   bench_store [DIR]   DIR: where to put the temporary stores (default $TMPDIR or /tmp)
//
// Prints one `store: <what>: <figure>` line per measurement: creates per second as single-row
// transactions and as create_many batches of job-sized objects (~1.5 KB), list() of 1,000 jobs
// (warm: repeated in this process; cold: in a fresh process, as `kai job list` runs it), whole
// and as tables list them (ListOptions::omit = client::table_omit: the stored summaries), and
// open() of an existing store (what every kai command pays before its first read).

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/api/resources.h"
#include "lib/client/resource_client.h"
#include "minicluster/store.h"

namespace {

namespace fs = std::filesystem;
using kai::store::json;
using kai::store::Store;
using Clock = std::chrono::steady_clock;

constexpr int kSingleCreates = 2000;
constexpr int kBatch = 1000;
constexpr int kBatches = 10;
constexpr int kListed = 1000;
constexpr int kRepeats = 20;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A Volcano job as `kai job run` would store it: two tasks with a pod template each (~1.5 KB).
json job(const std::string& name) {
  auto task = [](const std::string& task_name, int replicas) {
    return json{
        {"name", task_name},
        {"replicas", replicas},
        {"policies", json::array({{{"event", "TaskCompleted"}, {"action", "CompleteJob"}}})},
        {"template",
         {{"metadata", {{"labels", {{"app", "bench"}, {"task", task_name}}}}},
          {"spec",
           {{"restartPolicy", "OnFailure"},
            {"containers",
             json::array({{{"name", task_name},
                           {"image", "registry.example.com/ml/trainer:2026.11"},
                           {"command", json::array({"python", "-m", "trainer", "--epochs=10", "--batch-size=256"})},
                           {"env", json::array({{{"name", "NCCL_DEBUG"}, {"value", "INFO"}},
                                                {{"name", "OMP_NUM_THREADS"}, {"value", "8"}}})},
                           {"resources",
                            {{"requests", {{"cpu", "8"}, {"memory", "32Gi"}, {"nvidia.com/gpu", "1"}}},
                             {"limits", {{"cpu", "8"}, {"memory", "32Gi"}, {"nvidia.com/gpu", "1"}}}}}}})}}}}}};
  };
  return {{"apiVersion", "batch.volcano.sh/v1alpha1"},
          {"kind", "Job"},
          {"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"labels", {{"team", "research"}, {"project", "bench"}}},
            {"annotations", {{"kai.io/submitted-by", "bench"}}}}},
          {"spec",
           {{"minAvailable", 3},
            {"schedulerName", "volcano"},
            {"queue", "default"},
            {"maxRetry", 3},
            {"plugins", {{"env", json::array()}, {"svc", json::array()}}},
            {"tasks", json::array({task("master", 1), task("worker", 2)})}}}};
}

std::string temp_home(const fs::path& base, const char* what) {
  std::string pattern = (base / (std::string("kai-bench-") + what + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return pattern;
}

void single_creates(const fs::path& base) {
  fs::path home = temp_home(base, "single");
  auto store = Store::open(home);
  auto start = Clock::now();
  for (int i = 0; i < kSingleCreates; ++i) store->create(kai::api::jobs(), job("job-" + std::to_string(i)));
  double s = seconds_since(start);
  std::printf("store: single creates: %.0f/s (%d jobs of %zu bytes, one transaction each)\n", kSingleCreates / s,
              kSingleCreates, job("job-0").dump().size());
  store.reset();
  fs::remove_all(home);
}

void batch_creates(const fs::path& base) {
  fs::path home = temp_home(base, "batch");
  auto store = Store::open(home);
  auto start = Clock::now();
  for (int b = 0; b < kBatches; ++b) {
    std::vector<json> batch;
    batch.reserve(kBatch);
    for (int i = 0; i < kBatch; ++i) batch.push_back(job("job-" + std::to_string(b) + "-" + std::to_string(i)));
    store->create_many(kai::api::jobs(), std::move(batch));
  }
  double s = seconds_since(start);
  std::printf("store: create_many creates: %.0f/s (%d batches of %d jobs)\n", kBatches * kBatch / s, kBatches, kBatch);
  store.reset();
  fs::remove_all(home);
}

void list_and_open(const fs::path& base) {
  fs::path home = temp_home(base, "list");
  {
    auto store = Store::open(home);
    std::vector<json> batch;
    for (int i = 0; i < kListed; ++i) batch.push_back(job("job-" + std::to_string(i)));
    store->create_many(kai::api::jobs(), std::move(batch));
  }
  std::vector<double> lists;
  std::vector<double> table_lists;
  std::vector<double> opens;
  std::size_t n = 0;
  kai::store::ListOptions table;
  table.omit = kai::client::table_omit(kai::api::jobs());
  for (int r = 0; r < kRepeats; ++r) {
    auto start = Clock::now();
    auto store = Store::open(home);
    opens.push_back(seconds_since(start));
    start = Clock::now();
    n = store->list(kai::api::jobs()).size();
    lists.push_back(seconds_since(start));
    start = Clock::now();
    if (store->list(kai::api::jobs(), table).size() != n) std::exit(1);
    table_lists.push_back(seconds_since(start));
  }
  std::sort(lists.begin(), lists.end());
  std::sort(table_lists.begin(), table_lists.end());
  std::sort(opens.begin(), opens.end());
  std::printf("store: list %zu jobs: %.2f ms (median of %d; best %.2f ms)\n", n, lists[kRepeats / 2] * 1e3, kRepeats,
              lists.front() * 1e3);
  std::printf("store: list %zu jobs for a table: %.2f ms (median of %d; best %.2f ms)\n", n,
              table_lists[kRepeats / 2] * 1e3, kRepeats, table_lists.front() * 1e3);
  std::printf("store: open existing store: %.2f ms (median of %d)\n", opens[kRepeats / 2] * 1e3, kRepeats);

  // A fresh process pays for growing its heap (page faults) while list() builds the objects.
  for (const char* mode : {"--list-once", "--table-list-once"}) {
    std::vector<double> cold;
    for (int r = 0; r < 5; ++r) {
      std::string cmd = "'" + fs::read_symlink("/proc/self/exe").string() + "' " + mode + " '" + home.string() + "'";
      FILE* p = ::popen(cmd.c_str(), "r");
      double list_ms = -1;
      if (!p || std::fscanf(p, "%lf", &list_ms) != 1 || ::pclose(p) != 0) {
        std::fprintf(stderr, "bench_store: %s failed\n", cmd.c_str());
        std::exit(1);
      }
      cold.push_back(list_ms);
    }
    std::sort(cold.begin(), cold.end());
    std::printf("store: list %zu jobs%s in a fresh process: %.2f ms (open + list, median of 5)\n", n,
                std::string(mode) == "--list-once" ? "" : " for a table", cold[2]);
  }
  fs::remove_all(home);
}

// Child of list_and_open: prints the milliseconds that open() + list() took.
int list_once(const fs::path& home, bool for_table) {
  auto start = Clock::now();
  auto store = Store::open(home);
  kai::store::ListOptions opts;
  if (for_table) opts.omit = kai::client::table_omit(kai::api::jobs());
  auto jobs = store->list(kai::api::jobs(), opts);
  std::printf("%.3f\n", seconds_since(start) * 1e3);
  return jobs.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--list-once") return list_once(argv[2], false);
  if (argc == 3 && std::string(argv[1]) == "--table-list-once") return list_once(argv[2], true);
  const char* tmp = std::getenv("TMPDIR");
  fs::path base = argc > 1 ? argv[1] : (tmp && *tmp ? tmp : "/tmp");
  try {
    single_creates(base);
    batch_creates(base);
    list_and_open(base);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_store: %s\n", e.what());
    return 1;
  }
  return 0;
}
