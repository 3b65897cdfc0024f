// End to end: every example in examples/ runs as the README tells a user to run it, from the
// repository root with the real kai binary, and does what its comment says.
// (examples/rendezvous.yaml: runtime_test.cpp.)

#include <algorithm>
#include <regex>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::get_json;
using kai::test::KaiEnv;
using nlohmann::json;

namespace {

/// Waits for `job` to be Completed; on failure the job's view, logs and pods are in the message.
void run_to_completion(const KaiEnv& env, const std::string& job, const std::string& timeout) {
  auto r = env.kai({"job", "wait", job, "--timeout", timeout});
  INFO(r.out << r.err << env.kai({"job", "view", job}).out << env.kai({"job", "logs", job}).out
             << env.kai({"get", "pods"}).out);
  REQUIRE(r.code == 0);
  CHECK(r.out == "job.batch.volcano.sh/" + job + " condition met\n");
}

std::string network_mode(const KaiEnv& env, const std::string& pod) {
  return get_json(env, {"get", "pod", pod})["metadata"]["annotations"].value("kai.dev/network", std::string());
}

}  // namespace

TEST_CASE("examples/hello-job.yaml: the gang of 2 runs and each pod says hello with its index") {
  KaiEnv env;
  auto r = env.kai({"job", "submit", "-f", "examples/hello-job.yaml"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  run_to_completion(env, "hello", "60s");
  CHECK(env.kai({"job", "logs", "hello", "--index", "0"}).out == "hello from 0\n");
  CHECK(env.kai({"job", "logs", "hello", "--index", "1"}).out == "hello from 1\n");
  auto job = get_json(env, {"get", "vcjob", "hello"});
  CHECK(job["status"]["state"]["phase"] == "Completed");
  CHECK(job["status"]["succeeded"] == 2);
}

TEST_CASE("examples/pytorch-ddp.yaml: DDP over gloo completes and every rank learned the same parameters "
          "(skipped without python3-torch)") {
  {
    KaiEnv probe;
    // What examples/ddp_train.py does: the python3 on PATH, else Debian's, where python3-torch is.
    if (probe.sh("python3 -c 'import torch' 2>/dev/null || /usr/bin/python3 -c 'import torch' 2>/dev/null").code != 0) {
      kai::test::skip_test("neither python3 on PATH nor /usr/bin/python3 can import torch: apt-get install python3-torch");
      return;
    }
  }
  KaiEnv env;
  auto r = env.kai({"job", "submit", "-f", "examples/pytorch-ddp.yaml"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  run_to_completion(env, "pytorch-ddp", "300s");
  auto job = get_json(env, {"get", "vcjob", "pytorch-ddp"});
  CHECK(job["status"]["state"]["phase"] == "Completed");
  CHECK(job["status"]["succeeded"] == 3);

  const std::regex learned(R"(rank (\d)/3: learned y = (-?[0-9.]+)x \+ (-?[0-9.]+)\n)");
  std::set<int> ranks;
  std::set<std::string> params;
  auto check_log = [&](const std::vector<std::string>& which) {
    auto argv = std::vector<std::string>{"job", "logs", "pytorch-ddp"};
    argv.insert(argv.end(), which.begin(), which.end());
    const std::string log = env.kai(argv).out;
    INFO(log);
    std::smatch m;
    REQUIRE(std::regex_search(log, m, learned));
    ranks.insert(std::stoi(m[1]));
    params.insert(m[2].str() + " " + m[3].str());
    // y = 3x + 1 was learned, not just agreed on.
    CHECK(std::stod(m[2]) == Approx(3.0).margin(0.05));
    CHECK(std::stod(m[3]) == Approx(1.0).margin(0.05));
  };
  check_log({"--task", "master"});
  check_log({"--task", "worker", "--index", "0"});
  check_log({"--task", "worker", "--index", "1"});
  CHECK(ranks == std::set<int>{0, 1, 2});
  INFO(*params.begin());
  CHECK(params.size() == 1);  // bit-for-bit the same model on every rank
}

TEST_CASE("examples/mpi-job.yaml: the master reads the svc hostfile and every worker answers it") {
  KaiEnv env;
  auto r = env.kai({"job", "submit", "-f", "examples/mpi-job.yaml"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  run_to_completion(env, "mpi-hello", "90s");
  auto job = get_json(env, {"get", "vcjob", "mpi-hello"});
  CHECK(job["status"]["state"]["phase"] == "Completed");
  const std::string master = env.kai({"job", "logs", "mpi-hello", "--task", "mpimaster"}).out;
  INFO(master);
  if (network_mode(env, "mpi-hello-mpimaster-0") == "HostAddress") {
    // No private /etc/hosts: the host names in the files are pod addresses instead.
    CHECK(master.find("master: 2 workers in /etc/volcano/mpiworker.host: 127.0.1.") == 0);
    CHECK(std::regex_search(master, std::regex("reply from 127\\.0\\.1\\.[0-9]+: hello from mpi-hello-mpiworker-0\n")));
    CHECK(std::regex_search(master, std::regex("reply from 127\\.0\\.1\\.[0-9]+: hello from mpi-hello-mpiworker-1\n")));
    return;
  }
  CHECK(master ==
        "master: 2 workers in /etc/volcano/mpiworker.host: mpi-hello-mpiworker-0.mpi-hello mpi-hello-mpiworker-1.mpi-hello\n"
        "master: ssh plugin config names mpi-hello-mpimaster-0 mpi-hello-mpiworker-0 mpi-hello-mpiworker-1\n"
        "master: reply from mpi-hello-mpiworker-0.mpi-hello: hello from mpi-hello-mpiworker-0\n"
        "master: reply from mpi-hello-mpiworker-1.mpi-hello: hello from mpi-hello-mpiworker-1\n");
  // (The workers' own logs are not checked: the master's TaskCompleted -> CompleteJob may stop and
  // delete a worker that has answered but not yet exited, as on Volcano.)
}

TEST_CASE("examples/queues.yaml: weighted queues, and the urgent job runs before a bigger one queued ahead of it") {
  KaiEnv env;
  auto r = env.kai({"apply", "-f", "examples/queues.yaml"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  // The queues as a user lists them.
  auto research = get_json(env, {"queue", "get", "research"});
  auto production = get_json(env, {"queue", "get", "production"});
  CHECK(research["spec"]["weight"] == 2);
  CHECK(production["spec"]["weight"] == 1);
  CHECK(production["spec"]["capability"]["nvidia.com/gpu"] == "8");
  auto list = env.kai({"queue", "list"});
  CHECK(std::regex_search(list.out, std::regex("\nresearch +2 +Open +root ")));
  CHECK(std::regex_search(list.out, std::regex("\nproduction +1 +Open +root ")));

  // 8 GPUs for 2 + 8 + 4 asked: production-urgent (PriorityClass urgent, listed last) and
  // research-sweep start; production-train waits whole, no pod of it bound.
  auto bound = [&](const std::string& job) {
    int n = 0;
    const json pods = get_json(env, {"get", "pods", "-l", "volcano.sh/job-name=" + job});
    for (const auto& p : pods["items"]) {
      n += p["spec"].contains("nodeName");
    }
    return n;
  };
  CHECK(bound("production-urgent") == 2);
  CHECK(bound("research-sweep") == 2);
  CHECK(bound("production-train") == 0);
  CHECK(get_json(env, {"get", "vcjob", "production-train"})["status"]["state"]["phase"] == "Pending");

  for (const char* job : {"production-urgent", "research-sweep", "production-train"}) run_to_completion(env, job, "90s");
  // production-train's pods started only once production-urgent's had finished (RFC 3339
  // seconds compare as strings).
  std::string urgent_done, train_started = "9999";
  const json pods = get_json(env, {"get", "pods"});
  for (const auto& p : pods["items"]) {
    const std::string name = p["metadata"]["name"];
    if (name.rfind("production-urgent-", 0) == 0) {
      urgent_done = std::max(urgent_done, p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"].get<std::string>());
    }
    if (name.rfind("production-train-", 0) == 0) train_started = std::min(train_started, p["status"]["startTime"].get<std::string>());
  }
  INFO(urgent_done << " " << train_started);
  CHECK(!urgent_done.empty());
  CHECK(train_started >= urgent_done);
  CHECK(env.kai({"job", "logs", "production-train", "--index", "3"}).out == "train\n");
}
