// kai job explain's library entry: one case per cause of a pending or partly placed PodGroup,
// with the exact words `kai job explain` prints.

#include <catch2/catch.hpp>

#include <algorithm>

#include "lib/api/error.h"
#include "lib/scheduler/explain.h"
#include "scheduler/fixture.h"

using namespace kai::scheduler;
using namespace kai::scheduler::test;

namespace {

/// A pod of PodGroup `group` in task role `role`.
json role_pod(const std::string& name, const std::string& group, const std::string& role, const std::string& cpu,
              const std::string& mem, const std::string& gpu = "", const std::string& node_name = "",
              const std::string& phase = "Pending") {
  json p = pod(name, group, cpu, mem, node_name, phase, gpu);
  p["metadata"]["annotations"]["volcano.sh/task-spec"] = role;
  return p;
}

json priority_class(const std::string& name, int value) {
  return {{"apiVersion", "scheduling.k8s.io/v1"}, {"kind", "PriorityClass"}, {"metadata", {{"name", name}}}, {"value", value}};
}

ExplainOptions opts(const std::string& job = "") {
  ExplainOptions o;
  o.session = options();
  o.job = job;
  return o;
}

Explanation explain(const std::vector<json>& objects, const std::string& pg, const ExplainOptions& o = opts(),
                    const Config& config = default_config()) {
  return explain_job(snapshot(objects), config, pg, o);
}

/// The lines of the text report, for checking one at a time.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto nl = text.find('\n', at);
    out.push_back(text.substr(at, nl - at));
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

/// 2 nodes of 8 cpu, 32Gi and 2 GPUs; PodGroup train (minMember 8) of 8 one-GPU workers.
std::vector<json> gpu_cluster() {
  std::vector<json> objs = {node("n1", "8", "32Gi", "2"), node("n2", "8", "32Gi", "2"), queue("default"), podgroup("train", 8)};
  for (int i = 0; i < 8; ++i) objs.push_back(role_pod("train-worker-" + std::to_string(i), "train", "worker", "1", "1Gi", "1"));
  return objs;
}

/// A job of two one-cpu workers (minMember 2) over the given nodes.
std::vector<json> two_workers(std::vector<json> nodes, const json& constraints = json::object()) {
  nodes.push_back(queue("default"));
  nodes.push_back(podgroup("pg", 2));
  for (int i = 0; i < 2; ++i) {
    json p = role_pod("pg-worker-" + std::to_string(i), "pg", "worker", "1", "1Gi");
    for (auto it = constraints.begin(); it != constraints.end(); ++it) p["spec"][it.key()] = it.value();
    nodes.push_back(p);
  }
  return nodes;
}

}  // namespace

TEST_CASE("explain: insufficient GPUs: how many of the role fit, then kube-scheduler's aggregated reason", "[explain]") {
  const Explanation e = explain(gpu_cluster(), "ns/train", opts("ns/train"));
  CHECK(e.reason == "GangNotReady");
  CHECK(e.text() ==
        "Job ns/train (PodGroup train, queue default): Inqueue \u2014 gang not ready: 4/8 tasks placeable, minAvailable 8\n"
        "Gang: 0 ready of minAvailable 8\n"
        "Task worker: 8 pending, 4 could be placed now\n"
        "  0/2 nodes are available: 2 Insufficient nvidia.com/gpu.\n"
        "Queue default: Open, weight 1, deserved cpu 8/memory 8Gi/nvidia.com/gpu 4, allocated cpu 0/memory 0, share 0.00, not overused\n"
        "Preemption: would not help: no lower-priority pods of the same queue can be evicted to make room\n"
        "Reclaim: would not help: no pods of other reclaimable queues over their deserved share can be evicted to make room\n");
  REQUIRE(e.roles.size() == 1);
  CHECK(e.roles[0].unplaced_pod == "ns/train-worker-4");
  CHECK(e.roles[0].unplaced == 4);

  SECTION("-o json: every key present, per-node reasons") {
    const json j = e.to_json();
    for (const char* k : {"job", "podGroup", "queue", "phase", "reason", "message", "enqueue", "gang", "schedulerMessage", "tasks",
                          "queueStatus", "preemption", "reclaim", "pod"}) {
      CHECK(j.contains(k));
    }
    CHECK(j["pod"].is_null());
    CHECK(j["gang"] == json({{"minAvailable", 8}, {"ready", 0}, {"placeable", 4}, {"pipelinable", 0}, {"validMessage", ""}}));
    CHECK(j["tasks"][0]["reasons"] == json({{"Insufficient nvidia.com/gpu", 2}}));
    CHECK(j["tasks"][0]["nodes"] == json({{"n1", "Insufficient nvidia.com/gpu"}, {"n2", "Insufficient nvidia.com/gpu"}}));
    CHECK(j["queueStatus"]["deserved"] == json({{"cpu", "8"}, {"memory", "8Gi"}, {"nvidia.com/gpu", "4"}}));
    CHECK(j["queueStatus"]["plugin"] == "proportion");
    CHECK(j["preemption"]["victims"] == json::array());
    CHECK(j["schedulerMessage"] ==
          "4/8 tasks in gang unschedulable: pod group is not ready, 8 Pending, 8 minAvailable; Pending: 4 Schedulable, 4 Unschedulable");
  }
  SECTION("explain pod: the pod's own outcome") {
    ExplainOptions o = opts("ns/train");
    o.pod = "ns/train-worker-6";
    const Explanation p = explain(gpu_cluster(), "ns/train", o);
    CHECK(lines(p.text())[1] == "Pod ns/train-worker-6 (task worker): fits no node: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu.");
    o.pod = "ns/train-worker-1";
    CHECK(lines(explain(gpu_cluster(), "ns/train", o).text())[1] == "Pod ns/train-worker-1 (task worker): placeable on n2");
    CHECK(explain(gpu_cluster(), "ns/train", o).to_json()["pod"]["outcome"] == "placeable on n2");
  }
}

TEST_CASE("explain: node selector mismatch, mixed with insufficient resources, sorted as kube-scheduler sorts", "[explain]") {
  json gpu_node = node("n1", "8", "32Gi", "1");
  gpu_node["metadata"]["labels"] = {{"accelerator", "a100"}};
  std::vector<json> objs = two_workers({gpu_node, node("n2", "8", "32Gi"), node("n3", "8", "32Gi")},
                                       {{"nodeSelector", {{"accelerator", "a100"}}}});
  for (int i = 0; i < 2; ++i) objs[static_cast<std::size_t>(5 + i)]["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] = "1";
  const Explanation e = explain(objs, "ns/pg");
  CHECK(e.message == "gang not ready: 1/2 tasks placeable, minAvailable 2");
  REQUIRE(e.roles.size() == 1);
  CHECK(e.roles[0].message ==
        "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node affinity/selector.");

  SECTION("no node matches at all") {
    const Explanation none = explain(two_workers({node("n1", "8", "32Gi"), node("n2", "8", "32Gi")},
                                                 {{"nodeSelector", {{"accelerator", "h100"}}}}),
                                     "ns/pg");
    CHECK(lines(none.text())[0] == "PodGroup ns/pg (queue default): Inqueue \u2014 gang not ready: 0/2 tasks placeable, minAvailable 2");
    CHECK(lines(none.text())[2] == "Task worker: 2 pending, 0 could be placed now");
    CHECK(lines(none.text())[3] == "  0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.");
  }
}

TEST_CASE("explain: a taint the pod does not tolerate", "[explain]") {
  json tainted = node("n2", "8", "32Gi");
  tainted["spec"]["taints"] = json::array({{{"key", "dedicated"}, {"value", "infra"}, {"effect", "NoSchedule"}}});
  json small = node("n1", "500m", "32Gi");
  const Explanation e = explain(two_workers({small, tainted}), "ns/pg");
  REQUIRE(e.roles.size() == 1);
  CHECK(e.roles[0].message == "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: infra}.");
  CHECK(e.reason == "GangNotReady");

  SECTION("tolerated, it fits") {
    const json tol = {{"tolerations", json::array({{{"key", "dedicated"}, {"operator", "Equal"}, {"value", "infra"}, {"effect", "NoSchedule"}}})}};
    const Explanation ok = explain(two_workers({small, tainted}, tol), "ns/pg");
    CHECK(ok.reason == "Schedulable");
    CHECK(ok.message == "the next cycle binds 2 pods");
  }
}

TEST_CASE("explain: an unschedulable (cordoned) node", "[explain]") {
  json cordoned = node("n1", "8", "32Gi");
  cordoned["spec"]["unschedulable"] = true;
  const Explanation e = explain(two_workers({cordoned}), "ns/pg");
  REQUIRE(e.roles.size() == 1);
  CHECK(e.roles[0].message == "0/1 nodes are available: 1 node(s) were unschedulable.");
  CHECK(e.roles[0].nodes.size() == 1);
}

TEST_CASE("explain: a node whose pod count is used up, and one not Ready", "[explain]") {
  json full = node("n1", "8", "32Gi", "", "2");
  json not_ready = node("n2", "8", "32Gi");
  not_ready["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", "False"}}});
  std::vector<json> objs = two_workers({full, not_ready});
  objs.push_back(podgroup("other", 1, "default", "Running"));
  objs.push_back(pod("other-0", "other", "100m", "1Mi", "n1", "Running"));
  objs.push_back(pod("other-1", "other", "100m", "1Mi", "n1", "Running"));
  const Explanation e = explain(objs, "ns/pg");
  REQUIRE(e.roles.size() == 1);
  CHECK(e.roles[0].message == "0/2 nodes are available: 1 Too many pods, 1 node(s) were not ready.");
}

TEST_CASE("explain: gang not ready because a role's minTaskMember cannot be met", "[explain]") {
  json pg = podgroup("tf", 3);
  pg["spec"]["minTaskMember"] = {{"ps", 1}, {"worker", 2}};
  const std::vector<json> objs = {node("n1", "4", "16Gi"), queue("default"), pg, role_pod("tf-ps-0", "tf", "ps", "10", "1Gi"),
                                  role_pod("tf-worker-0", "tf", "worker", "1", "1Gi"), role_pod("tf-worker-1", "tf", "worker", "1", "1Gi")};
  const Explanation e = explain(objs, "ns/tf");
  CHECK(e.reason == "GangNotReady");
  CHECK(e.message == "gang not ready: 2/3 tasks placeable, minAvailable 3; task ps: 0/1 placeable, minAvailable 1");
  const auto l = lines(e.text());
  CHECK(l[2] == "Task ps (minAvailable 1): 1 pending, 0 could be placed now");
  CHECK(l[3] == "  0/1 nodes are available: 1 Insufficient cpu.");
  CHECK(l[4] == "Task worker (minAvailable 2): 2 pending, 2 could be placed now");

  SECTION("a minAvailable below the roles' sum overrides them, as in Volcano") {
    std::vector<json> low = objs;
    low[2]["spec"]["minMember"] = 1;
    const Explanation m = explain(low, "ns/tf");
    CHECK(m.reason == "Schedulable");
    CHECK(m.message == "the next cycle binds 2 pods");
    CHECK(lines(m.text())[2] == "Task ps: 1 pending, 0 could be placed now");
  }
}

TEST_CASE("explain: the queue is overused, or would exceed its deserved share", "[explain]") {
  // Two queues of weight 1 on 8 cpus: q-a holds 6, q-b asks for 2, so q-a deserves 6.
  // (q-b's pods fit no node, so the cycle leaves n1's 2 free cpus alone.)
  auto objects = [](const std::string& mem) {
    std::vector<json> objs = {node("n1", "8", "16Gi"), queue("q-a"), queue("q-b"), podgroup("big", 1, "q-a", "Running"),
                              podgroup("more", 1, "q-a"), podgroup("b", 2, "q-b")};
    for (int i = 0; i < 6; ++i) objs.push_back(pod("big-" + std::to_string(i), "big", "1", mem, "n1", "Running"));
    objs.push_back(role_pod("more-worker-0", "more", "worker", "1", mem));
    for (int i = 0; i < 2; ++i) {
      objs.push_back(role_pod("b-worker-" + std::to_string(i), "b", "worker", "1", mem));
      objs.back()["spec"]["nodeSelector"] = {{"zone", "elsewhere"}};
    }
    return objs;
  };
  SECTION("overused: allocated reaches deserved in every resource") {
    const Explanation e = explain(objects(""), "ns/more");
    CHECK(e.reason == "QueueOverused");
    const auto l = lines(e.text());
    CHECK(l[0] == "PodGroup ns/more (queue q-a): Inqueue \u2014 queue q-a is overused: allocated cpu 6/memory 0 reaches deserved cpu 6/memory 0");
    CHECK(l[2] == "Task worker: 1 pending, 0 could be placed now, 1 held back by the queue's deserved share");
    CHECK(l[3] == "Queue q-a: Open, weight 1, deserved cpu 6/memory 0, allocated cpu 6/memory 0, share 1.00, overused");
    CHECK(e.queue_info.overused);
  }
  SECTION("deserved: one more pod would exceed it") {
    const Explanation e = explain(objects("1Gi"), "ns/more");
    CHECK(e.reason == "QueueDeservedExceeded");
    CHECK(e.message ==
          "queue q-a would exceed its deserved cpu 6/memory 7Gi (allocated cpu 6/memory 6Gi): 1 pending pod fits a node but not the queue's share");
    CHECK(e.to_json()["tasks"][0]["queueLimited"] == 1);
    CHECK_FALSE(e.queue_info.overused);
    CHECK_FALSE(e.queue_info.allocatable);
  }
}

TEST_CASE("explain: enqueue rejected by overcommit or by the queue's capability", "[explain]") {
  ExplainOptions o = opts("ns/big");
  o.job_tasks = {{"worker", 2}};
  SECTION("overcommit: the cluster's total times 1.2 is not enough") {
    json pg = podgroup("big", 2, "default", "Pending");
    pg["spec"]["minResources"] = {{"cpu", "100"}};
    const Explanation e = explain({node("n1", "8", "32Gi"), queue("default"), pg}, "ns/big", o);
    CHECK(e.reason == "NotEnqueued");
    CHECK_FALSE(e.enqueued);
    CHECK(e.text() ==
          "Job ns/big (PodGroup big, queue default): Pending \u2014 not enqueued: resource in cluster is overused: overused cpu\n"
          "Enqueue: rejected: resource in cluster is overused: overused cpu\n"
          "Gang: 0 ready of minAvailable 2\n"
          "Task worker: 2 of 2 pods not created yet\n"
          "Queue default: Open, weight 1, deserved cpu 0/memory 0, allocated cpu 0/memory 0, share 0.00, overused\n"
          "Preemption: would not help: the PodGroup is not enqueued (preempt acts only for Inqueue or Running jobs)\n"
          "Reclaim: would not help: the PodGroup is not enqueued (reclaim acts only for Inqueue or Running jobs)\n");
  }
  SECTION("proportion: the queue's capability") {
    json pg = podgroup("big", 2, "default", "Pending");
    pg["spec"]["minResources"] = {{"cpu", "4"}};
    const Explanation e = explain({node("n1", "8", "32Gi"), queue("default", 1, {{"cpu", "2"}}), pg}, "ns/big", o);
    CHECK(e.message == "not enqueued: queue resource quota insufficient: insufficient cpu");
    CHECK(lines(e.text())[4] ==
          "Queue default: Open, weight 1, capability cpu 2, deserved cpu 0/memory 0, allocated cpu 0/memory 0, share 0.00, overused");
  }
  SECTION("admitted: the pods come next") {
    json pg = podgroup("big", 2, "default", "Pending");
    pg["spec"]["minResources"] = {{"cpu", "2"}};
    const Explanation e = explain({node("n1", "8", "32Gi"), queue("default"), pg}, "ns/big", o);
    CHECK(e.enqueued);
    CHECK(e.reason == "GangInvalid");
    CHECK(lines(e.text())[0] ==
          "Job ns/big (PodGroup big, queue default): Pending \u2014 Not enough valid tasks for gang-scheduling, valid: 0, min: 2 "
          "(the next cycle admits the PodGroup; its pods are created then)");
    CHECK(lines(e.text())[1] == "Enqueue: admitted by the next cycle (Inqueue)");
  }
}

TEST_CASE("explain: a closed queue admits no new jobs", "[explain]") {
  json q = queue("default");
  q["status"]["state"] = "Closed";
  json pg = podgroup("pg", 1, "default", "Pending");
  pg["spec"]["minResources"] = {{"cpu", "1"}};
  const Explanation e = explain({node("n1", "8", "32Gi"), q, pg}, "ns/pg");
  CHECK(e.reason == "QueueClosed");
  CHECK(lines(e.text())[0] == "PodGroup ns/pg (queue default): Pending \u2014 queue default is Closed: it admits no new jobs");
  CHECK(lines(e.text())[1] == "Enqueue: rejected: queue default is Closed");
}

TEST_CASE("explain: a fully running job says so, and a missing PodGroup or queue", "[explain]") {
  const std::vector<json> objs = {node("n1", "8", "32Gi"), queue("default"), podgroup("pg", 2, "default", "Running"),
                                  role_pod("pg-worker-0", "pg", "worker", "1", "1Gi", "", "n1", "Running"),
                                  role_pod("pg-worker-1", "pg", "worker", "1", "1Gi", "", "n1", "Running")};
  const Explanation e = explain(objs, "ns/pg", opts("ns/pg"));
  CHECK(e.reason == "Running");
  CHECK(e.text() ==
        "Job ns/pg (PodGroup pg, queue default): Running \u2014 all 2 tasks placed\n"
        "Gang: 2 ready of minAvailable 2\n"
        "Task worker: 2 running\n"
        "Queue default: Open, weight 1, deserved cpu 2/memory 2Gi, allocated cpu 2/memory 2Gi, share 1.00, overused\n"
        "Preemption: not needed: no pod of the job is pending\n"
        "Reclaim: not needed: no pod of the job is pending\n");

  SECTION("without proportion the queue has no computed share") {
    const Config bare = conf("actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: gang\n  - name: predicates\n");
    CHECK(lines(explain(objs, "ns/pg", opts(), bare).text())[3] ==
          "Queue default: Open, weight 1, allocated cpu 2/memory 2Gi, not overused (no configured plugin reports a share)");
  }
  SECTION("with capacity the share is against the queue's spec.deserved") {
    std::vector<json> with_deserved = objs;
    for (auto& o : with_deserved) {
      if (o["kind"] == "Queue") o["spec"]["deserved"] = {{"cpu", "4"}, {"memory", "8Gi"}};
    }
    const Config cap = conf("actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: gang\n  - name: predicates\n  - name: capacity\n");
    CHECK(lines(explain(with_deserved, "ns/pg", opts(), cap).text())[3] ==
          "Queue default: Open, weight 1, deserved cpu 4/memory 8Gi, allocated cpu 2/memory 2Gi, share 0.50, not overused");
  }
  CHECK_THROWS_AS(explain(objs, "ns/nope"), kai::Error);
  const Explanation lost = explain({node("n1", "8", "32Gi"), podgroup("pg", 1, "gone")}, "ns/pg");
  CHECK(lost.reason == "QueueNotFound");
  CHECK(lines(lost.text())[0] == "PodGroup ns/pg (queue gone): Inqueue \u2014 queue \"gone\" does not exist");
}

TEST_CASE("explain: preemption would evict lower-priority pods of the same queue", "[explain]") {
  json low = podgroup("low", 1, "default", "Running", "2024-05-01T09:00:00Z");
  low["spec"]["priorityClassName"] = "low";
  json high = podgroup("high", 2);
  high["spec"]["priorityClassName"] = "high";
  high["spec"]["minTaskMember"] = {{"worker", 2}};  // as Volcano's job controller writes it
  std::vector<json> objs = {node("n1", "4", "16Gi"), queue("default"), priority_class("low", 1), priority_class("high", 100), low, high};
  for (int i = 0; i < 4; ++i) objs.push_back(pod("low-" + std::to_string(i), "low", "1", "1Gi", "n1", "Running"));
  for (int i = 0; i < 2; ++i) objs.push_back(role_pod("high-worker-" + std::to_string(i), "high", "worker", "1", "1Gi"));
  const Explanation e = explain(objs, "ns/high");
  CHECK(e.reason == "GangNotReady");
  CHECK(e.preemption.available);
  CHECK_FALSE(e.preemption.configured);
  CHECK(e.preemption.job_pipelined);
  REQUIRE(e.preemption.victims.size() == 2);
  CHECK(e.preemption.victims[0].podgroup == "ns/low");
  CHECK(e.preemption.victims[0].priority == 1);
  CHECK(lines(e.text())[5] ==
        "Preemption: would evict ns/low-1, ns/low-2 (lower priority, same queue); the job would then be pipelined");
  CHECK(lines(e.text())[6] ==
        "Reclaim: would not help: no pods of other reclaimable queues over their deserved share can be evicted to make room");
  SECTION("a configuration that runs preempt already says so") {
    Config with = default_config();
    with.actions = {"enqueue", "allocate", "preempt", "backfill"};
    const Explanation c = explain(objs, "ns/high", opts(), with);
    CHECK(c.preemption.configured);
    CHECK(c.preemption.message ==
          "would evict ns/low-1, ns/low-2 (lower priority, same queue); the job would then be pipelined; the configuration runs preempt");
  }
  CHECK(e.to_json()["preemption"]["victims"][1] ==
        json({{"pod", "ns/low-2"}, {"podGroup", "ns/low"}, {"queue", "default"}, {"node", "n1"}, {"priority", 1}}));
}

TEST_CASE("explain: reclaim would take back what another queue holds beyond its deserved share", "[explain]") {
  std::vector<json> objs = {node("n1", "4", "16Gi"), queue("q-a"), queue("q-b"), podgroup("a", 1, "q-a", "Running"), podgroup("b", 2, "q-b")};
  objs[4]["spec"]["minTaskMember"] = {{"worker", 2}};
  for (int i = 0; i < 4; ++i) objs.push_back(pod("a-" + std::to_string(i), "a", "1", "1Gi", "n1", "Running"));
  for (int i = 0; i < 2; ++i) objs.push_back(role_pod("b-worker-" + std::to_string(i), "b", "worker", "1", "1Gi"));
  const Explanation e = explain(objs, "ns/b");
  CHECK(e.reason == "GangNotReady");
  CHECK(e.preemption.message == "would not help: no lower-priority pods of the same queue can be evicted to make room");
  REQUIRE(e.reclaim.victims.size() == 2);
  CHECK(e.reclaim.message == "would evict ns/a-1, ns/a-2 (queue q-a); the job would then be pipelined");
}


TEST_CASE("explain: with hDRF the queue line gives the queue's path, weights and hierarchical share", "[explain]") {
  // drf with enableHierarchy has no deserved share: explain reports where the queue sits in the
  // tree and the dominant share of its node. prod (root/eng/prod, weights 1/2/8) holds 4 of the
  // 8 cpus through a running job; its job `more` waits for 8 more.
  auto hq = [](const std::string& name, const std::string& path, const std::string& weights) {
    json q = queue(name);
    q["metadata"]["annotations"] = {{"volcano.sh/hierarchy", path}, {"volcano.sh/hierarchy-weights", weights}};
    return q;
  };
  std::vector<json> objs = {node("n1", "8", "16Gi"), hq("prod", "root/eng/prod", "1/2/8"), hq("dev", "root/eng/dev", "1/2/1"),
                            podgroup("run", 1, "prod", "Running"), podgroup("more", 1, "prod")};
  for (int i = 0; i < 4; ++i) objs.push_back(pod("run-" + std::to_string(i), "run", "1", "1Gi", "n1", "Running"));
  objs.push_back(role_pod("more-worker-0", "more", "worker", "8", "1Gi"));
  const Config hdrf = conf("actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: drf\n    enableHierarchy: true\n");
  const Explanation e = explain(objs, "ns/more", opts(), hdrf);
  const auto l = lines(e.text());
  const std::string queue_line = "Queue prod: Open, weight 1, allocated cpu 4/memory 4Gi, hDRF share 0.50 at root/eng/prod (weights 1/2/8), not overused";
  CHECK(std::find(l.begin(), l.end(), queue_line) != l.end());
  const json qs = e.to_json()["queueStatus"];
  CHECK(qs["plugin"] == "drf");
  CHECK(qs["hierarchy"] == "root/eng/prod");
  CHECK(qs["hierarchyWeights"] == "1/2/8");
  CHECK(qs["share"] == 0.5);
  CHECK(qs["deserved"] == json::object());
  // Without the hierarchy, drf reports no queue share: the line says so.
  const Explanation flat = explain(objs, "ns/more", opts(), conf("actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: drf\n"));
  CHECK(flat.to_json()["queueStatus"]["hierarchy"] == "");
  CHECK(flat.text().find("(no configured plugin reports a share)") != std::string::npos);
}
