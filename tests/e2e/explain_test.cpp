// kai job explain / kai explain pod / kai explain podgroup end to end: the real binary on a local
// cluster of fake GPU nodes, with simulated pods (no processes), and through the REST backend
// against `kai cluster serve`.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "support/run_kai.h"
#include "support/served.h"

using namespace kai::test;
using nlohmann::json;

namespace {

/// A Volcano Job of `replicas` simulated pods (task "worker") asking for one cpu and `gpus` GPUs
/// each, with an optional nodeSelector.
std::string job_yaml(const std::string& name, int replicas, int min, int gpus, const std::string& selector = "") {
  std::string y = "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: " + name +
                  "\n  annotations: {kai.dev/simulate-duration: 24h}\nspec:\n  minAvailable: " + std::to_string(min) +
                  "\n  schedulerName: volcano\n  tasks:\n  - name: worker\n    replicas: " + std::to_string(replicas) +
                  "\n    template:\n      spec:\n        restartPolicy: Never\n";
  if (!selector.empty()) y += "        nodeSelector: {" + selector + "}\n";
  y += "        containers:\n        - name: main\n          image: busybox\n          resources:\n";
  const std::string res = gpus > 0 ? "{cpu: \"1\", nvidia.com/gpu: \"" + std::to_string(gpus) + "\"}" : "{cpu: \"1\"}";
  y += "            requests: " + res + "\n            limits: " + res + "\n";
  return y;
}

void submit(const KaiEnv& env, const std::string& name, const std::string& yaml) {
  const std::string file = env.dir().write(name + ".yaml", yaml);
  auto r = env.kai({"job", "submit", "-f", file});
  INFO(r.err);
  REQUIRE(r.code == 0);
}

/// Two nodes of 8 cpus and 4 GPUs; job hog holds 4 GPUs; job train (6 one-GPU workers,
/// minAvailable 2) gets the other 4 and leaves 2 pending.
void gpu_cluster(const KaiEnv& env) {
  auto r = env.kai({"cluster", "init", "--nodes", "2", "--cpu", "8", "--memory", "32Gi", "--gpus-per-node", "4"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  submit(env, "hog", job_yaml("hog", 4, 4, 1));
  auto w = env.kai({"job", "wait", "hog", "--for", "Running", "--timeout", "30s"});
  INFO(w.out << w.err);
  REQUIRE(w.code == 0);
  submit(env, "train", job_yaml("train", 6, 2, 1));
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string podgroup_of(const KaiEnv& env, const std::string& job) {
  auto r = env.kai({"get", "vj", job, "-o", "jsonpath={.metadata.uid}"});
  REQUIRE(r.code == 0);
  return job + "-" + r.out;
}

}  // namespace

TEST_CASE("job explain: a partly placed GPU job, per role and per node, in words and as json", "[explain]") {
  KaiEnv env;
  gpu_cluster(env);
  const std::string pg = podgroup_of(env, "train");
  auto r = env.kai({"job", "explain", "train"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "Job default/train (PodGroup " + pg + ", queue default): Running \u2014 partly placed: 4/6 tasks running, minAvailable 2; "
        "2 pending pods fit no node\n"
        "Gang: 4 ready of minAvailable 2\n"
        "Task worker: 4 running, 2 pending, 0 could be placed now\n"
        "  0/2 nodes are available: 2 Insufficient nvidia.com/gpu.\n"
        "Queue default: Open, weight 1, deserved cpu 10/memory 0/nvidia.com/gpu 8, allocated cpu 8/memory 0/nvidia.com/gpu 8, "
        "share 1.00, not overused\n"
        "Preemption: would not act: the job has minAvailable tasks placed (preempt acts only for jobs below it)\n"
        "Reclaim: would not act: the job has minAvailable tasks placed (reclaim acts only for jobs below it)\n");

  auto j = env.kai({"job", "explain", "train", "-o", "json"});
  REQUIRE(j.code == 0);
  const json e = json::parse(j.out);
  CHECK(e["job"] == "default/train");
  CHECK(e["podGroup"] == "default/" + pg);
  CHECK(e["reason"] == "PartlyPlaced");
  CHECK(e["gang"]["minAvailable"] == 2);
  CHECK(e["gang"]["ready"] == 4);
  REQUIRE(e["tasks"].size() == 1);
  CHECK(e["tasks"][0]["name"] == "worker");
  CHECK(e["tasks"][0]["unplaced"] == 2);
  CHECK(e["tasks"][0]["unplacedPod"] == "default/train-worker-4");
  CHECK(e["tasks"][0]["reasons"] == json({{"Insufficient nvidia.com/gpu", 2}}));
  CHECK(e["tasks"][0]["nodes"] == json({{"node-1", "Insufficient nvidia.com/gpu"}, {"node-2", "Insufficient nvidia.com/gpu"}}));
  CHECK(e["queueStatus"]["overused"] == false);
  CHECK(e["preemption"]["victims"] == json::array());
  CHECK(e["pod"].is_null());

  SECTION("the other job runs in full") {
    auto h = env.kai({"job", "explain", "hog"});
    CHECK(h.code == 0);
    CHECK(first_line(h.out) == "Job default/hog (PodGroup " + podgroup_of(env, "hog") + ", queue default): Running \u2014 all 4 tasks placed");
  }
  SECTION("explain pod: that pod's own outcome; explain podgroup: the same report") {
    auto p = env.kai({"explain", "pod", "train-worker-5"});
    INFO(p.err);
    REQUIRE(p.code == 0);
    CHECK(p.out.find("\nPod default/train-worker-5 (task worker): fits no node: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu.\n") !=
          std::string::npos);
    auto running = env.kai({"explain", "pod", "train-worker-0"});
    CHECK(running.out.find("\nPod default/train-worker-0 (task worker): Running on node-") != std::string::npos);
    auto g = env.kai({"explain", "podgroup", pg});
    REQUIRE(g.code == 0);
    CHECK(g.out == r.out);
  }
}

TEST_CASE("job explain: a node selector no node matches, and a missing job is NotFound", "[explain]") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "2", "--gpus-per-node", "0"}).code == 0);
  submit(env, "sel", job_yaml("sel", 2, 2, 0, "accelerator: h100"));
  auto r = env.kai({"job", "explain", "sel"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(first_line(r.out) == "Job default/sel (PodGroup " + podgroup_of(env, "sel") +
                                 ", queue default): Inqueue \u2014 gang not ready: 0/2 tasks placeable, minAvailable 2");
  CHECK(r.out.find("\nTask worker (minAvailable 2): 2 pending, 0 could be placed now\n"
                   "  0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.\n") != std::string::npos);

  auto missing = env.kai({"job", "explain", "nope"});
  CHECK(missing.code == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err == "Error from server (NotFound): jobs.batch.volcano.sh \"nope\" not found\n");
  auto no_pod = env.kai({"explain", "pod", "nope"});
  CHECK(no_pod.code == 1);
  CHECK(no_pod.err == "Error from server (NotFound): pods \"nope\" not found\n");
  auto bad_output = env.kai({"job", "explain", "sel", "-o", "wide"});
  CHECK(bad_output.code == 2);
  CHECK(bad_output.err.find("-o wide: explain prints plain text (the default), json or yaml") != std::string::npos);
}

TEST_CASE("job explain: a real cluster through the REST backend (kai cluster serve) gives the same report", "[explain]") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "2", "--gpus-per-node", "0"}).code == 0);
  submit(env, "sel", job_yaml("sel", 2, 2, 0, "accelerator: h100"));
  auto local = env.kai({"job", "explain", "sel"});
  REQUIRE(local.code == 0);
  Served srv(env);
  auto rest = env.kai({"--context", "kai-local", "job", "explain", "sel"});
  INFO(rest.err);
  REQUIRE(rest.code == 0);
  CHECK(rest.out == local.out);
  auto missing = env.kai({"--context", "kai-local", "job", "explain", "nope"});
  CHECK(missing.code == 1);
  CHECK(missing.err == "Error from server (NotFound): jobs.batch.volcano.sh \"nope\" not found\n");
}
