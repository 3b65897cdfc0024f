// Each plugin's arithmetic and decisions: binpack, nodeorder, drf, proportion, overcommit, sla,
// gang, priority.

#include <catch2/catch.hpp>

#include "scheduler/fixture.h"

using namespace kai::scheduler;
using namespace kai::scheduler::test;

namespace {

std::vector<std::string> bound_pods(const SessionResult& r) {
  std::vector<std::string> out;
  for (const auto& [k, v] : r.bound) out.push_back(k);
  return out;
}

int count_bound_with_prefix(const SessionResult& r, const std::string& prefix) {
  int n = 0;
  for (const auto& [k, v] : r.bound) n += k.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_CASE("binpack: Volcano's test-verified example scores 700") {
  // Task 1 cpu / 1Gi on a 2 cpu / 4Gi node already using 1 cpu / 1Gi; cpu weight 2, memory 3,
  // binpack.weight 10: ((2*2/2) + (2*3/4)) / 5 * 100 * 10 = 700.
  OpenSession o({node("n1", "2", "4Gi"), queue("default"), podgroup("pg", 1), pod("used", "other", "1", "1Gi", "n1", "Running"),
                 pod("t-0", "pg", "1", "1Gi")},
                conf("actions: allocate\ntiers:\n- plugins:\n  - name: binpack\n    arguments:\n      binpack.weight: 10\n"
                     "      binpack.cpu: 2\n      binpack.memory: 3\n"));
  CHECK(o.session.node_order(o.task("t-0"), o.node("n1")) == Approx(700));
}

TEST_CASE("binpack: overfilling a resource scores 0, extended resources count only when listed") {
  const std::string base = "actions: allocate\ntiers:\n- plugins:\n  - name: binpack\n";
  // n1 has 4 gpus, 2 of them used by a running pod that requests nothing else.
  std::vector<json> objects = {node("n1", "4", "8Gi", "4"), queue("default"), podgroup("pg", 1),
                               pod("gpus", "other", "", "", "n1", "Running", "2"), pod("big", "pg", "8", "1Gi"),
                               pod("gpu", "pg", "2", "4Gi", "", "Pending", "2")};
  OpenSession plain(objects, conf(base));
  CHECK(plain.session.node_order(plain.task("big"), plain.node("n1")) == 0);
  // cpu 2/4 and memory 4/8 only: 0.5 * 100.
  CHECK(plain.session.node_order(plain.task("gpu"), plain.node("n1")) == Approx(50));
  OpenSession listed(objects, conf(base + "    arguments:\n      binpack.resources: nvidia.com/gpu\n"
                                          "      binpack.resources.nvidia.com/gpu: 2\n"));
  // (0.5 + 0.5 + 2 * 4/4) / (1 + 1 + 2) * 100.
  CHECK(listed.session.node_order(listed.task("gpu"), listed.node("n1")) == Approx(75));
  OpenSession zero(objects, conf(base + "    arguments:\n      binpack.weight: 0\n"));
  CHECK(zero.session.node_order(zero.task("gpu"), zero.node("n1")) == 0);
}

TEST_CASE("nodeorder: least requested, balanced resources and node affinity on kube-scheduler's scale") {
  json affine = pod("aff", "pg", "1", "2Gi");
  affine["spec"]["affinity"] = json::parse(R"({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 30, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}},
      {"weight": 5, "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]}}]}})");
  json n2 = node("n2", "4", "8Gi");
  n2["metadata"]["labels"] = {{"zone", "a"}};
  OpenSession o({node("n1", "4", "8Gi"), n2, queue("default"), podgroup("pg", 1), pod("t-0", "pg", "1", "2Gi"),
                 pod("half", "other", "2", "2Gi", "n2", "Running"), affine},
                conf("actions: allocate\ntiers:\n- plugins:\n  - name: predicates\n  - name: nodeorder\n"));
  Session& s = o.session;
  // Empty node: least (3000/4000, 6Gi/8Gi) = 75, balanced (0.25, 0.25) = 100.
  CHECK(s.node_order(o.task("t-0"), o.node("n1")) == 175);
  // Half-used node: least cpu (4-3)/4 = 25, memory (8-4)/8 = 50 -> 37; balanced |0.75-0.5|/2 -> 87.
  CHECK(s.node_order(o.task("t-0"), o.node("n2")) == 37 + 87);
  // Preferred terms: 30 matches zone=a on n2, times the default weight 2.
  CHECK(s.node_order(o.task("aff"), o.node("n2")) == 37 + 87 + 60);
  CHECK(s.node_order(o.task("aff"), o.node("n1")) == 175);
}

TEST_CASE("nodeorder: tainttoleration normalises PreferNoSchedule taints over the candidates") {
  json one = node("one", "4", "8Gi");
  one["spec"]["taints"] = {{{"key", "a"}, {"effect", "PreferNoSchedule"}}};
  json two = node("two", "4", "8Gi");
  two["spec"]["taints"] = {{{"key", "a"}, {"effect", "PreferNoSchedule"}}, {{"key", "b"}, {"effect", "PreferNoSchedule"}}};
  json tolerant = pod("tol", "pg", "1", "1Gi");
  tolerant["spec"]["tolerations"] = {{{"key", "b"}, {"operator", "Exists"}}};
  OpenSession o({node("none", "4", "8Gi"), one, two, queue("default"), podgroup("pg", 1), pod("t-0", "pg", "1", "1Gi"), tolerant},
                conf("actions: allocate\ntiers:\n- plugins:\n  - name: nodeorder\n"));
  Session& s = o.session;
  const std::vector<int> nodes = {o.node("none"), o.node("one"), o.node("two")};
  std::vector<double> scores(3, 0.0);
  REQUIRE(s.batch_node_order(o.task("t-0"), nodes, scores));
  // Counts 0, 1, 2: 100, 50, 0, times the default weight 3.
  CHECK(scores == std::vector<double>{300, 150, 0});
  scores.assign(3, 0.0);
  s.batch_node_order(o.task("tol"), nodes, scores);
  CHECK(scores == std::vector<double>{300, 0, 0});  // counts 0, 1, 1
  // And the allocation follows: an untainted node wins ties on the other scores.
  const SessionResult r = run({one, node("none", "4", "8Gi"), queue("default"), podgroup("pg", 1), pod("t-0", "pg", "1", "1Gi")});
  CHECK(r.bound.at("ns/t-0") == "none");
}

TEST_CASE("drf: jobs with the lower dominant share go first") {
  // Cluster 10 cpu / 10Gi. Job small holds 1 cpu; job big holds 4 cpu: small first, although big
  // is older.
  std::vector<json> objects = {node("n1", "10", "10Gi"),
                               queue("default"),
                               podgroup("big", 1, "default", "Running", "2024-05-01T08:00:00Z"),
                               podgroup("small", 1, "default", "Running", "2024-05-01T09:00:00Z"),
                               pod("big-0", "big", "4", "1Gi", "n1", "Running"),
                               pod("small-0", "small", "1", "1Gi", "n1", "Running"),
                               pod("big-1", "big", "4", "1Gi"),
                               pod("small-1", "small", "4", "1Gi")};
  const Config c = conf("actions: allocate\ntiers:\n- plugins:\n  - name: drf\n  - name: predicates\n");
  const SessionResult r = run(objects, c);
  // 5 cpu free: the small job's 4 cpu task goes first, then the big one no longer fits.
  CHECK(bound_pods(r) == std::vector<std::string>{"ns/small-1"});
  OpenSession o(objects, c);
  CHECK(o.session.job_order_less(o.job("small"), o.job("big")));
  // Without drf, creation time decides.
  CHECK(bound_pods(run(objects, conf("actions: allocate\ntiers:\n- plugins:\n  - name: predicates\n"))) ==
        std::vector<std::string>{"ns/big-1"});
}

TEST_CASE("drf with enableHierarchy: queue order down the tree, Reclaimable, event handlers") {
  auto hqueue = [](const std::string& name, const std::string& hierarchy, const std::string& weights) {
    json q = queue(name);
    q["metadata"]["annotations"] = {{"volcano.sh/hierarchy", hierarchy}, {"volcano.sh/hierarchy-weights", weights}};
    return q;
  };
  // 10 cpu: sci holds 6 (of 7 it wants), eng/dev 1 (of 2), eng/prod nothing yet (wants 2). No job
  // holds all it asks for and cpu is not used up, so nothing is saturated.
  std::vector<json> objects = {node("n1", "10", "100Gi"), hqueue("sci", "root/sci", "1/1"),
                               hqueue("dev", "root/eng/dev", "1/1/1"), hqueue("prod", "root/eng/prod", "1/1/1"),
                               podgroup("s", 1, "sci", "Running"), podgroup("d", 1, "dev", "Running"),
                               podgroup("p", 1, "prod", "Inqueue"), pod("d-0", "d", "1", "", "n1", "Running"),
                               pod("d-1", "d", "1", ""), pod("p-0", "p", "1", ""), pod("p-1", "p", "1", ""),
                               pod("s-6", "s", "1", "")};
  for (int i = 0; i < 6; ++i) objects.push_back(pod("s-" + std::to_string(i), "s", "1", "", "n1", "Running"));
  OpenSession o(objects, conf("actions: reclaim\ntiers:\n- plugins:\n  - name: drf\n    enableHierarchy: true\n"));
  Session& s = o.session;
  const int sci = 0, dev = 1, prod = 2;
  // eng (0.1) before sci (0.6); within eng, prod (0) before dev (0.1).
  CHECK(s.queue_order_less(prod, dev));
  CHECK(s.queue_order_less(dev, sci));
  CHECK_FALSE(s.queue_order_less(sci, prod));
  // With p-0 given 1 cpu, eng's share is 0.2: a sci task is a victim (sci would still hold 0.5), but
  // not dev's (prod at 0.1 would then be above dev at 0).
  const auto victims = s.reclaimable(o.task("p-0"), {o.task("s-0"), o.task("d-0")});
  REQUIRE(victims.has_value());
  CHECK(*victims == std::vector<int>{o.task("s-0")});
  // The event handlers move the tree: once p-0 holds 1 cpu, prod and dev tie (creation, then uid
  // decide: dev first); discarding puts prod first again.
  Statement stmt(s);
  stmt.allocate(o.task("p-0"), o.node("n1"));
  CHECK_FALSE(s.queue_order_less(prod, dev));
  CHECK(s.queue_order_less(dev, prod));
  stmt.discard();
  CHECK(s.queue_order_less(prod, dev));
  // Without enableHierarchy drf neither orders queues nor chooses reclaim victims.
  OpenSession flat(objects, conf("actions: reclaim\ntiers:\n- plugins:\n  - name: drf\n"));
  CHECK_FALSE(flat.session.reclaimable(flat.task("p-0"), {flat.task("s-0")}).has_value());
  CHECK_FALSE(flat.session.queue_order_less(prod, dev));  // equal creation: uid q-dev first
}

TEST_CASE("proportion: weights share the cluster by water-filling, capability caps a queue") {
  auto objects = [](const json& heavy_capability) {
    std::vector<json> o = {node("n1", "8", "64Gi"), queue("light", 1), queue("heavy", 3, heavy_capability),
                           podgroup("l", 1, "light"), podgroup("h", 1, "heavy")};
    for (int i = 0; i < 8; ++i) {
      o.push_back(pod("l-" + std::to_string(i), "l", "1", "1Gi"));
      o.push_back(pod("h-" + std::to_string(i), "h", "1", "1Gi"));
    }
    return o;
  };
  const Config c = conf("actions: allocate\ntiers:\n- plugins:\n  - name: gang\n- plugins:\n  - name: predicates\n  - name: proportion\n");
  // Deserved cpu: light 8 * 1/4 = 2, heavy 6; memory is requested 8Gi each, less than a share.
  SessionResult r = run(objects(json()), c);
  CHECK(count_bound_with_prefix(r, "ns/l-") == 2);
  CHECK(count_bound_with_prefix(r, "ns/h-") == 6);
  // Heavy capped at 3 cpu: the second round gives light what heavy cannot take.
  r = run(objects(json{{"cpu", "3"}}), c);
  CHECK(count_bound_with_prefix(r, "ns/l-") == 5);
  CHECK(count_bound_with_prefix(r, "ns/h-") == 3);
}

TEST_CASE("proportion: enqueue refuses a job over the queue's capability, naming the resource") {
  json pg = podgroup("big", 1, "small", "Pending");
  pg["spec"]["minResources"] = {{"cpu", "4"}, {"memory", "1Gi"}};
  const SessionResult r = run({node("n1", "8", "8Gi"), queue("small", 1, json{{"cpu", "2"}}), pg, pod("big-0", "big", "4", "1Gi")});
  CHECK(r.podgroup_phases.at("ns/big") == "Pending");
  CHECK(r.bound.empty());
  bool seen = false;
  for (const auto& e : r.events) {
    if (e.kind == "PodGroup" && e.name == "big" && e.type == "Normal" && e.reason == "Unschedulable") {
      CHECK(e.message == "queue resource quota insufficient: insufficient cpu");
      seen = true;
    }
  }
  CHECK(seen);
}

TEST_CASE("overcommit: enqueue admits minimum resources up to total times the factor minus used") {
  auto objects = [](const std::string& second_cpu) {
    json a = podgroup("a", 1, "default", "Pending", "2024-05-01T09:00:00Z");
    a["spec"]["minResources"] = {{"cpu", "7"}};
    json b = podgroup("b", 1, "default", "Pending", "2024-05-01T10:00:00Z");
    b["spec"]["minResources"] = {{"cpu", second_cpu}};
    return std::vector<json>{node("n1", "10", "10Gi"), queue("default"), a, b};
  };
  const std::string head = "actions: enqueue\ntiers:\n- plugins:\n  - name: overcommit\n";
  // 10 * 1.2 = 12: 7 + 5 fits, 7 + 6 does not.
  SessionResult r = run(objects("5"), conf(head));
  CHECK(r.podgroup_phases.at("ns/b") == "Inqueue");
  r = run(objects("6"), conf(head));
  CHECK(r.podgroup_phases.at("ns/a") == "Inqueue");
  CHECK(r.podgroup_phases.at("ns/b") == "Pending");
  REQUIRE_FALSE(r.events.empty());
  CHECK(r.events.front().message == "resource in cluster is overused: overused cpu");
  // overcommit-factor 1.5: 15.
  r = run(objects("6"), conf(head + "    arguments:\n      overcommit-factor: 1.5\n"));
  CHECK(r.podgroup_phases.at("ns/b") == "Inqueue");
  // A factor below 1 is reset to 1.2.
  r = run(objects("6"), conf(head + "    arguments:\n      overcommit-factor: 0.5\n"));
  CHECK(r.podgroup_phases.at("ns/b") == "Pending");
}

TEST_CASE("sla: jobs with a waiting time first, earlier deadline first, past it, enqueue is permitted") {
  json a = podgroup("a", 1, "default", "Pending", "2024-05-01T08:00:00Z");
  json b = podgroup("b", 1, "default", "Pending", "2024-05-01T09:00:00Z");
  b["metadata"]["annotations"] = {{"sla-waiting-time", "30m"}};
  json c = podgroup("c", 1, "default", "Pending", "2024-05-01T11:50:00Z");
  c["metadata"]["annotations"] = {{"sla-waiting-time", "5m"}};
  OpenSession o({node("n1", "1", "1Gi"), queue("default"), a, b, c},
                conf("actions: enqueue\ntiers:\n- plugins:\n  - name: sla\n"));
  Session& s = o.session;
  // b's deadline 09:30 is before c's 11:55; a has none.
  CHECK(s.job_order_less(o.job("b"), o.job("c")));
  CHECK(s.job_order_less(o.job("c"), o.job("a")));
  // The session clock is 12:00: b and c are past their deadlines.
  CHECK(s.job_enqueueable(o.job("b")));
  CHECK(s.job_pipelined(o.job("c")));
  // With a plugin-wide waiting time, a has a deadline too (08:00 + 1h = 09:00, before b).
  OpenSession g({node("n1", "1", "1Gi"), queue("default"), a, b},
                conf("actions: enqueue\ntiers:\n- plugins:\n  - name: sla\n    arguments:\n      sla-waiting-time: 1h\n"));
  CHECK(g.session.job_order_less(g.job("a"), g.job("b")));
}

TEST_CASE("gang: the Unschedulable condition counts tasks and gives the first node fit error") {
  // Without proportion, whose deserved share (2 cpu) would stop the third task before any node
  // is tried.
  const SessionResult r = run({node("n1", "2", "4Gi"), queue("default"), podgroup("job", 3), pod("job-0", "job", "1", "1Gi"),
                               pod("job-1", "job", "1", "1Gi"), pod("job-2", "job", "1", "1Gi")},
                              conf("actions: enqueue, allocate, backfill\ntiers:\n- plugins:\n  - name: gang\n"
                                   "- plugins:\n  - name: predicates\n  - name: nodeorder\n"));
  CHECK(r.bound.empty());
  const json& c = r.podgroup_conditions.at("ns/job");
  CHECK(c["type"] == "Unschedulable");
  CHECK(c["reason"] == "NotEnoughResources");
  CHECK(c["transitionID"] == "test-session");
  // Two tasks were placed and rolled back (Schedulable), the third fit no node.
  CHECK(c["message"] ==
        "1/3 tasks in gang unschedulable: pod group is not ready, 3 Pending, 3 minAvailable; Pending: 1 Unschedulable, "
        "2 Schedulable. Origin reason is job-2: 0/1 nodes are unavailable: 1 Insufficient cpu.");
  CHECK(r.podgroup_phases.at("ns/job") == "Inqueue");
  // The PodGroup event repeats it with the pending count, and the pods get their reasons.
  bool warned = false;
  for (const auto& e : r.events) {
    if (e.kind == "PodGroup" && e.type == "Warning") {
      warned = true;
      CHECK(e.message.rfind("3/3 tasks in gang unschedulable: pod group is not ready, 3 Pending, 3 minAvailable; Pending: ", 0) == 0);
    }
  }
  CHECK(warned);
  CHECK(r.pod_conditions.at("ns/job-2")["message"] == "0/1 nodes are unavailable: 1 Insufficient cpu.");
  CHECK(r.pod_conditions.at("ns/job-0")["reason"] == "Schedulable");
  CHECK(r.pod_conditions.at("ns/job-0")["message"] ==
        "Pod ns/job-0 can possibly be assigned to n1, once minAvailable is satisfied");
}

TEST_CASE("gang: a ready job gets the Scheduled condition, Running once its pods are bound") {
  const SessionResult r = run({node("n1", "4", "4Gi"), queue("default"), podgroup("job", 2), pod("job-0", "job", "1", "1Gi"),
                               pod("job-1", "job", "1", "1Gi")});
  CHECK(r.bound.size() == 2);
  CHECK(r.podgroup_conditions.at("ns/job")["type"] == "Scheduled");
  CHECK(r.podgroup_conditions.at("ns/job")["reason"] == "tasks in gang are ready to be scheduled");
  // Bound in this session: Binding, not yet scheduled (volcano.md §3.2).
  CHECK(r.podgroup_phases.at("ns/job") == "Inqueue");
  // Ready, so no Unschedulable warning: the event says the group is ready.
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].type == "Normal");
  CHECK(r.events[0].reason == "Scheduled");
  CHECK(r.events[0].message == "pod group is ready");
  // The next session sees the pods Bound (a Pending pod with a nodeName).
  const SessionResult next = run({node("n1", "4", "4Gi"), queue("default"), podgroup("job", 2),
                                  pod("job-0", "job", "1", "1Gi", "n1"), pod("job-1", "job", "1", "1Gi", "n1")});
  CHECK(next.bound.empty());
  CHECK(next.podgroup_phases.at("ns/job") == "Running");
}

TEST_CASE("PodGroup phases: Unknown, Completed, Pending (volcano.md §3.2)") {
  // Running tasks and an Unschedulable condition from this session: Unknown.
  SessionResult r = run({node("n1", "1", "4Gi"), queue("default"), podgroup("job", 2, "default", "Running"),
                         pod("job-0", "job", "1", "1Gi", "n1", "Running"), pod("job-1", "job", "1", "1Gi")});
  CHECK(r.podgroup_phases.at("ns/job") == "Unknown");
  // Every scheduled task finished: Completed.
  r = run({node("n1", "1", "4Gi"), queue("default"), podgroup("job", 2, "default", "Running"),
           pod("job-0", "job", "1", "1Gi", "n1", "Succeeded"), pod("job-1", "job", "1", "1Gi", "n1", "Failed")});
  CHECK(r.podgroup_phases.at("ns/job") == "Completed");
  // A Running PodGroup that lost its pods falls back to Pending, not Inqueue.
  r = run({node("n1", "1", "4Gi"), queue("default"), podgroup("job", 2, "default", "Running")});
  CHECK(r.podgroup_phases.at("ns/job") == "Pending");
}

TEST_CASE("gang: JobValid keeps a job with too few pods out of allocate") {
  OpenSession o({node("n1", "8", "8Gi"), queue("default"), podgroup("job", 3), pod("job-0", "job", "1", "1Gi")}, default_config());
  auto v = o.session.job_valid(o.job("job"));
  REQUIRE(v.has_value());
  CHECK(v->reason == "NotEnoughTasks");
  CHECK(v->message == "Not enough valid tasks for gang-scheduling, valid: 1, min: 3");
}

TEST_CASE("priority: higher priority jobs and tasks first") {
  json pc = {{"apiVersion", "scheduling.k8s.io/v1"}, {"kind", "PriorityClass"}, {"metadata", {{"name", "high"}}}, {"value", 100}};
  json hi = podgroup("hi", 1, "default", "Inqueue", "2024-05-01T11:00:00Z");
  hi["spec"]["priorityClassName"] = "high";
  json urgent = pod("lo-1", "lo", "2", "1Gi");
  urgent["spec"]["priority"] = 10;
  const SessionResult r = run({pc, node("n1", "2", "8Gi"), queue("default"), podgroup("lo", 1), hi, pod("lo-0", "lo", "2", "1Gi"),
                               urgent, pod("hi-0", "hi", "2", "1Gi")});
  // One 2-cpu slot: the younger but higher priority job takes it.
  CHECK(bound_pods(r) == std::vector<std::string>{"ns/hi-0"});
  OpenSession o({pc, node("n1", "2", "8Gi"), queue("default"), podgroup("lo", 1), pod("lo-0", "lo", "2", "1Gi"), urgent},
                default_config());
  CHECK(o.session.task_order_less(o.task("lo-1"), o.task("lo-0")));  // priority 10 before 1
}

TEST_CASE("capacity: enqueue refuses a job over an ancestor's capability, naming the resource") {
  json parent = queue("parent", 1, json{{"cpu", "8"}, {"memory", "2Gi"}});
  json child = queue("child");
  child["spec"]["parent"] = "parent";
  json pg = podgroup("big", 1, "child", "Pending");
  pg["spec"]["minResources"] = {{"cpu", "4"}, {"memory", "4Gi"}};
  const Config c = conf(
      "actions: enqueue, allocate\ntiers:\n- plugins:\n  - name: gang\n- plugins:\n  - name: predicates\n"
      "  - name: capacity\n    enableHierarchy: true\n");
  const SessionResult r = run({node("n1", "8", "8Gi"), queue("root"), parent, child, pg, pod("big-0", "big", "4", "4Gi")}, c);
  CHECK(r.podgroup_phases.at("ns/big") == "Pending");
  CHECK(r.bound.empty());
  std::vector<std::string> messages;
  for (const auto& e : r.events) {
    if (e.kind == "PodGroup" && e.name == "big" && e.reason == "Unschedulable" && e.type == "Normal") messages.push_back(e.message);
  }
  CHECK(messages == std::vector<std::string>{"queue resource quota insufficient: insufficient memory"});
  // Without enableHierarchy the parent's capability does not apply.
  const SessionResult flat = run({node("n1", "8", "8Gi"), queue("root"), parent, child, pg, pod("big-0", "big", "4", "4Gi")},
                                 conf("actions: enqueue, allocate\ntiers:\n- plugins:\n  - name: gang\n- plugins:\n"
                                      "  - name: predicates\n  - name: capacity\n"));
  CHECK(flat.bound.at("ns/big-0") == "n1");
}

TEST_CASE("capacity: allocation moves the queue's share, so queues take turns by share") {
  json a = queue("a");
  a["spec"]["deserved"] = {{"cpu", "3"}};
  json b = queue("b");
  b["spec"]["deserved"] = {{"cpu", "1"}};
  std::vector<json> o = {node("n1", "4", "64Gi"), a, b, podgroup("ja", 1, "a"), podgroup("jb", 1, "b")};
  for (int i = 0; i < 4; ++i) {
    o.push_back(pod("ja-" + std::to_string(i), "ja", "1", "1Gi"));
    o.push_back(pod("jb-" + std::to_string(i), "jb", "1", "1Gi"));
  }
  const Config c = conf("actions: allocate\ntiers:\n- plugins:\n  - name: gang\n- plugins:\n  - name: predicates\n  - name: capacity\n");
  const SessionResult r = run(o, c);
  // a (older uid) 1/3, then b 0 -> 1/1, then a 2/3 and 3/3: the 4 cpu split 3:1 as deserved is.
  // Were shares not updated, a would win every turn and take all 4.
  CHECK(count_bound_with_prefix(r, "ns/ja-") == 3);
  CHECK(count_bound_with_prefix(r, "ns/jb-") == 1);
}
