// End to end: kai sim session runs one scheduling session over a snapshot file, needs no
// cluster, and refuses bad snapshots and configurations naming the file and the field.

#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;
using nlohmann::json;

namespace {

// Two nodes of 2 cpu, a gang of two that fits, and a gang of three that does not (4 cpu asked,
// 2 left).
const char* kSnapshot = R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1}
  status: {allocatable: {cpu: "2", memory: 8Gi, pods: "110"}}
- apiVersion: v1
  kind: Node
  metadata: {name: n2}
  status: {allocatable: {cpu: "2", memory: 8Gi, pods: "110"}}
- apiVersion: scheduling.volcano.sh/v1beta1
  kind: Queue
  metadata: {name: default}
  spec: {weight: 1}
---
apiVersion: scheduling.volcano.sh/v1beta1
kind: PodGroup
metadata: {name: small, namespace: team, creationTimestamp: "2024-05-01T10:00:00Z"}
spec: {minMember: 2, queue: default}
---
apiVersion: scheduling.volcano.sh/v1beta1
kind: PodGroup
metadata: {name: big, namespace: team, creationTimestamp: "2024-05-01T11:00:00Z"}
spec: {minMember: 3, queue: default}
)";

std::string pod(const std::string& name, const std::string& group, const std::string& cpu) {
  return "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: team\n  annotations: {scheduling.k8s.io/group-name: " +
         group + "}\nspec:\n  containers:\n  - name: main\n    resources: {requests: {cpu: \"" + cpu + "\", memory: 1Gi}}\n";
}

std::string snapshot() {
  return kSnapshot + pod("small-0", "small", "1") + pod("small-1", "small", "1") + pod("big-0", "big", "1") +
         pod("big-1", "big", "1") + pod("big-2", "big", "2");
}

}  // namespace

TEST_CASE("kai sim session -o json prints the session's decisions, every key present") {
  KaiEnv env;
  const auto file = env.dir().write("snap.yaml", snapshot());
  auto r = env.kai({"sim", "session", "-f", file, "-o", "json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const json got = json::parse(r.out);
  CHECK(got == json::parse(R"({
    "bound": {"team/small-0": "n1", "team/small-1": "n2"},
    "evicted": [],
    "pipelined": {},
    "podGroups": {"team/big": "Inqueue", "team/small": "Inqueue"}
  })"));
  // Pure: no local cluster was created.
  CHECK_FALSE(std::filesystem::exists(env.home()));
  auto y = env.kai({"sim", "session", "-f", file, "-o", "yaml"});
  REQUIRE(y.code == 0);
  CHECK(y.out.find("bound:\n  team/small-0: n1\n") != std::string::npos);
  CHECK(y.out.find("evicted: []\n") != std::string::npos);
}

TEST_CASE("kai sim session prints a table with each PodGroup's condition by default") {
  KaiEnv env;
  const auto file = env.dir().write("snap.yaml", snapshot());
  auto r = env.kai({"sim", "session", "-f", file});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Bound (2):\n") == 0);
  CHECK(r.out.find("team/small-0   n1") != std::string::npos);
  CHECK(r.out.find("Pipelined (0): none\n") != std::string::npos);
  CHECK(r.out.find("Evicted (0): none\n") != std::string::npos);
  CHECK(r.out.find("team/small   Inqueue   Scheduled") != std::string::npos);
  // Two of big's tasks were placed and rolled back; proportion's deserved share stopped the third.
  CHECK(r.out.find("team/big     Inqueue   NotEnoughResources: 1/3 tasks in gang unschedulable: pod group is not ready, "
                   "3 Pending, 3 minAvailable; Pending: 1 Unschedulable, 2 Schedulable") != std::string::npos);
}

TEST_CASE("kai sim session takes a Volcano configuration") {
  KaiEnv env;
  const auto file = env.dir().write("snap.yaml", snapshot());
  // Without gang, big's tasks go one by one: the two 1-cpu ones fit.
  const auto conf = env.dir().write("conf.yaml", "actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: predicates\n");
  auto r = env.kai({"sim", "session", "-f", file, "--scheduler-conf", conf, "-o", "json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out)["bound"].size() == 4);
}

TEST_CASE("a bad snapshot is refused with the file and the field path") {
  KaiEnv env;
  const auto file = env.dir().write("snap.yaml", snapshot() + pod("broken", "big", "lots"));
  auto r = env.kai({"sim", "session", "-f", file, "-o", "json"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "kai: error: " + file + ": items[10] (Pod team/broken): spec.containers[0].resources.requests[cpu]: "
                 "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'\n");
  auto missing = env.kai({"sim", "session", "-f", env.dir().str() + "/nope.yaml"});
  CHECK(missing.code == 1);
  CHECK(missing.err == "kai: error: " + env.dir().str() + "/nope.yaml: no such file or directory\n");
}

TEST_CASE("a bad configuration is refused with the file and the field path") {
  KaiEnv env;
  const auto file = env.dir().write("snap.yaml", snapshot());
  const auto conf = env.dir().write("conf.yaml", "actions: allocate\ntiers:\n- plugins:\n  - name: gang\n    enableJobReady: sometimes\n");
  auto r = env.kai({"sim", "session", "-f", file, "--scheduler-conf", conf});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: " + conf + ": tiers[0].plugins[0].enableJobReady: expected true or false, got a string\n");
  const auto plugin = env.dir().write("plugin.yaml", "actions: allocate\ntiers:\n- plugins:\n  - name: gangg\n");
  r = env.kai({"sim", "session", "-f", file, "--scheduler-conf", plugin});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: " + plugin + ": tiers[0].plugins[0].name: unknown plugin \"gangg\"; did you mean \"gang\"?\n");
}

TEST_CASE("an unknown action reads as Volcano says it") {
  KaiEnv env;
  const auto file = env.dir().write("snap.yaml", snapshot());
  const auto conf = env.dir().write("conf.yaml", "actions: \"enqueue, allocate, frobnicate\"\n");
  auto r = env.kai({"sim", "session", "-f", file, "--scheduler-conf", conf});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: " + conf + ": actions: failed to find Action frobnicate\n");
}

TEST_CASE("kai sim session usage errors exit 2") {
  KaiEnv env;
  const auto file = env.dir().write("snap.yaml", snapshot());
  auto r = env.kai({"sim", "session", "-f", file, "-o", "wide"});
  CHECK(r.code == 2);
  CHECK(r.err.find("kai: error: -o wide: kai sim session prints table (the default), json or yaml\n") == 0);
  auto no_file = env.kai({"sim", "session"});
  CHECK(no_file.code == 2);
}
