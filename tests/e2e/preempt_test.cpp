// End to end: preempt and reclaim on the embedded cluster. Victim pods' processes are stopped
// (SIGTERM, the grace period, then SIGKILL), the job controller sees PodEvicted and makes the pods
// again, and every job finishes.

#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::get_json;
using kai::test::KaiEnv;
using nlohmann::json;

namespace {

// Volcano's Helm tiers (gang and drf do not vote on Preemptable) with the given actions.
std::string conf(const std::string& actions) {
  return "actions: \"" + actions +
         "\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n"
         "- plugins:\n  - name: drf\n    enablePreemptable: false\n  - name: predicates\n  - name: proportion\n"
         "  - name: nodeorder\n";
}

std::string job(const std::string& name, int replicas, int min, const std::string& cmd, const std::string& extra) {
  return "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: " + name + "\nspec:\n  minAvailable: " +
         std::to_string(min) + "\n  schedulerName: volcano\n" + extra + "  tasks:\n  - name: worker\n    replicas: " +
         std::to_string(replicas) +
         "\n    template:\n      spec:\n        restartPolicy: Never\n        terminationGracePeriodSeconds: 2\n"
         "        containers:\n        - name: main\n          image: busybox\n          command: [\"sh\", \"-c\", \"" + cmd +
         "\"]\n          resources:\n            requests: {cpu: \"1\", memory: 64Mi}\n";
}

int running_pods(const KaiEnv& env, const std::string& job) {
  return get_json(env, {"get", "vcjob", job})["status"].value("running", 0);
}

/// Names of the pods the scheduler evicted (its Evict events).
std::vector<std::string> evicted(const KaiEnv& env) {
  std::vector<std::string> out;
  const json events = get_json(env, {"get", "events"});
  for (const auto& e : events["items"]) {
    if (e.value("reason", std::string()) == "Evict") out.push_back(e["involvedObject"].value("name", std::string()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Pod name -> the pid of its supervisor ("pid:start" annotation).
std::map<std::string, pid_t> supervisors(const KaiEnv& env) {
  std::map<std::string, pid_t> out;
  const json pods = get_json(env, {"get", "pods"});
  for (const auto& p : pods["items"]) {
    const std::string s = p["metadata"].value("annotations", json::object()).value("kai.dev/supervisor", std::string());
    if (s.empty() || s.rfind("launching", 0) == 0) continue;
    out[p["metadata"]["name"]] = static_cast<pid_t>(std::stol(s.substr(0, s.find(':'))));
  }
  return out;
}

}  // namespace

TEST_CASE("a high-priority job preempts a low-priority one in local mode and both finish") {
  KaiEnv env;
  const std::string conf_file = env.dir().write("conf.yaml", conf("enqueue, allocate, preempt, backfill"));
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "4", "--gpus-per-node", "0", "--scheduler-conf", conf_file}).code == 0);
  REQUIRE(env.kai({"apply", "-f", "-"},
                  "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: 1000\n---\n"
                  "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: low\nvalue: 10\n")
              .code == 0);
  // low fills the node and holds it until the gate opens.
  const std::string gate = env.home() + "/gate";
  REQUIRE(env.kai({"job", "submit", "-f", "-"},
                  job("low", 4, 1, "while [ ! -e " + gate + " ]; do sleep 0.1; done", "  priorityClassName: low\n"))
              .code == 0);
  REQUIRE(env.kai({"job", "wait", "low", "--for", "Running", "--timeout", "30s"}).code == 0);
  for (int i = 0; i < 200 && running_pods(env, "low") < 4; ++i) ::usleep(100000);
  REQUIRE(running_pods(env, "low") == 4);
  const auto before = supervisors(env);
  REQUIRE(before.size() == 4);

  // high (a gang of 2) can only run by preempting: it does, and finishes while low still waits.
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job("high", 2, 2, "echo high ran", "  priorityClassName: high\n")).code == 0);
  auto r = env.kai({"job", "wait", "high", "--timeout", "60s"});
  INFO(r.err << env.kai({"job", "view", "high"}).out << env.kai({"get", "events"}).out);
  REQUIRE(r.code == 0);
  CHECK(env.kai({"job", "logs", "high", "--index", "1"}).out == "high ran\n");
  // Exactly two victims (gang keeps low above minAvailable; no more than high needs), the lowest
  // in task order first.
  CHECK(evicted(env) == std::vector<std::string>{"low-worker-1", "low-worker-2"});
  CHECK(get_json(env, {"get", "vcjob", "low"})["status"]["state"]["phase"] == "Running");
  // The victims' processes are gone; the others still run. With no PodEvicted policy the job
  // controller makes the evicted pods again.
  CHECK_FALSE(kai::test::process_alive(before.at("low-worker-1")));
  CHECK_FALSE(kai::test::process_alive(before.at("low-worker-2")));
  CHECK(kai::test::process_alive(before.at("low-worker-0")));
  CHECK(kai::test::process_alive(before.at("low-worker-3")));
  // The two pods come back (in one reconcile or two, as their processes end) and run again,
  // as new processes, once high is done.
  auto low_supervisors = [&env] {
    auto all = supervisors(env);
    std::map<std::string, pid_t> low;
    for (const auto& [pod, pid] : all) {
      if (pod.rfind("low-", 0) == 0) low[pod] = pid;
    }
    return low;
  };
  for (int i = 0; i < 300 && (running_pods(env, "low") < 4 || low_supervisors().size() < 4); ++i) ::usleep(100000);
  REQUIRE(running_pods(env, "low") == 4);
  const auto after = low_supervisors();
  REQUIRE(after.size() == 4);
  CHECK(after.at("low-worker-1") != before.at("low-worker-1"));
  CHECK(after.at("low-worker-2") != before.at("low-worker-2"));
  CHECK(after.at("low-worker-0") == before.at("low-worker-0"));
  CHECK(env.kai({"get", "events"}).out.find("for job low") != std::string::npos);

  REQUIRE(env.sh("touch " + gate).code == 0);
  r = env.kai({"job", "wait", "low", "--timeout", "60s"});
  INFO(r.err << env.kai({"job", "view", "low"}).out);
  CHECK(r.code == 0);
}

TEST_CASE("a reclaiming queue gets its deserved share back and both jobs finish") {
  KaiEnv env;
  const std::string conf_file = env.dir().write("conf.yaml", conf("enqueue, allocate, reclaim, backfill"));
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "4", "--gpus-per-node", "0", "--scheduler-conf", conf_file}).code == 0);
  REQUIRE(env.kai({"queue", "create", "q1", "--weight", "1"}).code == 0);
  REQUIRE(env.kai({"queue", "create", "q2", "--weight", "1"}).code == 0);
  const std::string gate = env.home() + "/gate";
  // q1 borrows the whole node while q2 is idle. Its job restarts when a pod of it is evicted.
  REQUIRE(env.kai({"job", "submit", "-f", "-"},
                  job("borrower", 4, 1, "while [ ! -e " + gate + " ]; do sleep 0.1; done",
                      "  queue: q1\n  maxRetry: 3\n  policies:\n  - event: PodEvicted\n    action: RestartJob\n"))
              .code == 0);
  REQUIRE(env.kai({"job", "wait", "borrower", "--for", "Running", "--timeout", "30s"}).code == 0);
  for (int i = 0; i < 200 && running_pods(env, "borrower") < 4; ++i) ::usleep(100000);
  REQUIRE(running_pods(env, "borrower") == 4);

  // q2 deserves half the node (equal weights): its gang of 2 reclaims 2 cpu from q1 and runs.
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job("owner", 2, 2, "echo owner ran", "  queue: q2\n")).code == 0);
  auto r = env.kai({"job", "wait", "owner", "--timeout", "60s"});
  INFO(r.err << env.kai({"job", "view", "owner"}).out << env.kai({"get", "events"}).out);
  REQUIRE(r.code == 0);
  CHECK(env.kai({"job", "logs", "owner", "--index", "0"}).out == "owner ran\n");
  CHECK(evicted(env) == std::vector<std::string>{"borrower-worker-1", "borrower-worker-2"});
  // The job controller applied borrower's PodEvicted policy: the whole job restarted.
  CHECK(get_json(env, {"get", "vcjob", "borrower"})["status"].value("retryCount", 0) == 1);
  CHECK(env.kai({"get", "events"}).out.find("policy action RestartJob") != std::string::npos);

  REQUIRE(env.sh("touch " + gate).code == 0);
  r = env.kai({"job", "wait", "borrower", "--timeout", "60s"});
  INFO(r.err << env.kai({"job", "view", "borrower"}).out);
  CHECK(r.code == 0);
}
