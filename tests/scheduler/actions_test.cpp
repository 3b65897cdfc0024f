// The actions and the predicates: which nodes a task may use and why not, the feasible-node
// budget and its rotation, enqueue, allocate (commit, pipeline, discard), backfill.

#include <catch2/catch.hpp>

#include <cstdio>

#include "lib/scheduler/actions/heap.h"
#include "scheduler/fixture.h"

using namespace kai::scheduler;
using namespace kai::scheduler::test;

namespace {

const char* kPredicatesOnly = "actions: allocate\ntiers:\n- plugins:\n  - name: predicates\n";

/// The reasons the predicates give for the pod on the node, "" when it may go there.
std::string why_not(const std::vector<json>& objects, const std::string& pod_name, const std::string& node_name) {
  OpenSession o(objects, conf(kPredicatesOnly));
  const uint32_t r = o.session.predicate(o.task(pod_name), o.node(node_name));
  std::string out;
  for (const auto& s : o.session.reasons(r)) out += (out.empty() ? "" : ", ") + s;
  return out;
}

json with(json obj, const std::string& pointer, json value) {
  obj[json::json_pointer(pointer)] = std::move(value);
  return obj;
}

json match(const std::string& key, const std::string& op, std::vector<std::string> values = {}) {
  json e = {{"key", key}, {"operator", op}};
  if (!values.empty()) e["values"] = values;
  return e;
}

json required(json expressions, json fields = json()) {
  json term = {{"matchExpressions", std::move(expressions)}};
  if (!fields.is_null()) term["matchFields"] = std::move(fields);
  return {{"nodeAffinity", {{"requiredDuringSchedulingIgnoredDuringExecution", {{"nodeSelectorTerms", {term}}}}}}};
}

}  // namespace

TEST_CASE("predicates: the node's pod count") {
  const json full = node("n1", "8", "8Gi", "", "1");
  CHECK(why_not({full, queue("default"), podgroup("pg", 1), pod("t", "pg", "1", "1Gi")}, "t", "n1").empty());
  CHECK(why_not({full, queue("default"), podgroup("pg", 1), pod("old", "x", "1", "1Gi", "n1", "Running"), pod("t", "pg", "1", "1Gi")},
                "t", "n1") == "node(s) pod number exceeded");
}

TEST_CASE("predicates: nodeSelector and required node affinity") {
  const json labelled = with(node("n1", "8", "8Gi"), "/metadata/labels", {{"zone", "a"}, {"gpus", "4"}});
  auto check = [&](const json& affinity) {
    return why_not({labelled, queue("default"), podgroup("pg", 1), with(pod("t", "pg", "1", "1Gi"), "/spec/affinity", affinity)}, "t",
                   "n1");
  };
  const std::string no = "node(s) didn't match Pod's node affinity/selector";
  CHECK(why_not({labelled, queue("default"), podgroup("pg", 1),
                 with(pod("t", "pg", "1", "1Gi"), "/spec/nodeSelector", {{"zone", "b"}})},
                "t", "n1") == no);
  CHECK(why_not({labelled, queue("default"), podgroup("pg", 1),
                 with(pod("t", "pg", "1", "1Gi"), "/spec/nodeSelector", {{"zone", "a"}})},
                "t", "n1")
            .empty());
  CHECK(check(required({match("zone", "In", {"a", "b"})})).empty());
  CHECK(check(required({match("zone", "NotIn", {"a"})})) == no);
  CHECK(check(required({match("zone", "Exists")})).empty());
  CHECK(check(required({match("zone", "DoesNotExist")})) == no);
  CHECK(check(required({match("gpus", "Gt", {"3"})})).empty());
  CHECK(check(required({match("gpus", "Lt", {"3"})})) == no);
  CHECK(check(required({match("zone", "Exists")}, {match("metadata.name", "In", {"n1"})})).empty());
  CHECK(check(required({match("zone", "Exists")}, {match("metadata.name", "NotIn", {"n1"})})) == no);
  // Terms are ORed.
  json two = required({match("zone", "In", {"z"})});
  two["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"].push_back(
      {{"matchExpressions", {match("zone", "In", {"a"})}}});
  CHECK(check(two).empty());
}

TEST_CASE("predicates: taints and tolerations, PreferNoSchedule only scores") {
  auto tainted = [](const std::string& effect) {
    return with(node("n1", "8", "8Gi"), "/spec/taints", {{{"key", "gpu"}, {"value", "yes"}, {"effect", effect}}});
  };
  auto on = [&](const json& n, const json& tolerations) {
    json p = pod("t", "pg", "1", "1Gi");
    if (!tolerations.is_null()) p["spec"]["tolerations"] = tolerations;
    return why_not({n, queue("default"), podgroup("pg", 1), p}, "t", "n1");
  };
  CHECK(on(tainted("NoSchedule"), json()) == "node(s) had untolerated taint {gpu: yes}");
  CHECK(on(tainted("NoExecute"), json()) == "node(s) had untolerated taint {gpu: yes}");
  CHECK(on(tainted("PreferNoSchedule"), json()).empty());
  CHECK(on(tainted("NoSchedule"), json{{{"key", "gpu"}, {"value", "yes"}}}).empty());  // Equal, any effect
  CHECK(on(tainted("NoSchedule"), json{{{"key", "gpu"}, {"value", "no"}}}) == "node(s) had untolerated taint {gpu: yes}");
  CHECK(on(tainted("NoSchedule"), json{{{"key", "gpu"}, {"operator", "Exists"}}}).empty());
  CHECK(on(tainted("NoSchedule"), json{{{"operator", "Exists"}}}).empty());  // empty key: every taint
  CHECK(on(tainted("NoExecute"), json{{{"key", "gpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}}) ==
        "node(s) had untolerated taint {gpu: yes}");
}

TEST_CASE("predicates: unschedulable nodes, unless the pod tolerates the cordon") {
  const json cordoned = with(node("n1", "8", "8Gi"), "/spec/unschedulable", true);
  CHECK(why_not({cordoned, queue("default"), podgroup("pg", 1), pod("t", "pg", "1", "1Gi")}, "t", "n1") ==
        "node(s) were unschedulable");
  json tolerant = with(pod("t", "pg", "1", "1Gi"), "/spec/tolerations",
                       {{{"key", "node.kubernetes.io/unschedulable"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}});
  CHECK(why_not({cordoned, queue("default"), podgroup("pg", 1), tolerant}, "t", "n1").empty());
  // The pod count is reported with the reason that stops the check.
  const json full = with(node("n1", "8", "8Gi", "", "0"), "/spec/unschedulable", true);
  CHECK(why_not({full, queue("default"), podgroup("pg", 1), pod("t", "pg", "1", "1Gi")}, "t", "n1") ==
        "node(s) pod number exceeded, node(s) were unschedulable");
}

TEST_CASE("resources: cpu, memory and extended resources such as nvidia.com/gpu must fit FutureIdle") {
  std::vector<json> objects = {node("cpu", "2", "64Gi"), node("mem", "16", "2Gi"), node("gpu", "16", "64Gi", "1"),
                               queue("default"), podgroup("pg", 1), pod("t-0", "pg", "4", "4Gi", "", "Pending", "2")};
  const SessionResult r = run(objects, conf(kPredicatesOnly + std::string("  - name: gang\n")));
  CHECK(r.bound.empty());
  // Strings sort: each node gives the first dimension it is short of.
  CHECK(r.pod_conditions.at("ns/t-0")["message"] ==
        "0/3 nodes are unavailable: 1 Insufficient cpu, 1 Insufficient memory, 1 Insufficient nvidia.com/gpu.");
}

TEST_CASE("fit errors count reasons over nodes and sort them as strings") {
  std::vector<json> objects = {queue("default"), podgroup("pg", 1), pod("t-0", "pg", "4", "1Gi")};
  for (int i = 0; i < 10; ++i) {
    objects.push_back(with(node("tainted-" + std::to_string(i), "8", "8Gi"), "/spec/taints",
                           {{{"key", "k"}, {"value", "v"}, {"effect", "NoSchedule"}}}));
  }
  objects.push_back(node("small-0", "2", "8Gi"));
  objects.push_back(node("small-1", "2", "8Gi"));
  const SessionResult r = run(objects);
  CHECK(r.pod_conditions.at("ns/t-0")["message"] ==
        "0/12 nodes are unavailable: 10 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.");
}

TEST_CASE("the feasible-node budget: Volcano's adaptive percentage, at least 100 nodes") {
  CHECK(Session::feasible_nodes_to_find(50) == 50);
  CHECK(Session::feasible_nodes_to_find(100) == 100);
  CHECK(Session::feasible_nodes_to_find(150) == 100);    // 49% = 73, raised to 100
  CHECK(Session::feasible_nodes_to_find(1000) == 420);   // 50 - 8 = 42%
  CHECK(Session::feasible_nodes_to_find(5000) == 500);   // 10%
  CHECK(Session::feasible_nodes_to_find(10000) == 500);  // 50 - 80 < 5: 5%
}

TEST_CASE("a node search stops after the budget and the next one starts where it stopped, wrapping") {
  std::vector<json> objects = {queue("default"), podgroup("pg", 1), pod("t-0", "pg", "1", "1Gi")};
  for (int i = 0; i < 150; ++i) objects.push_back(node("n" + std::to_string(i), "4", "8Gi"));
  OpenSession o(objects, default_config());
  Session& s = o.session;
  const int t = o.task("t-0");
  REQUIRE(s.predicate_nodes(t, SearchMode::Allocate, nullptr) == 100);
  CHECK(s.feasible().front() == 0);
  CHECK(s.feasible().back() == 99);
  REQUIRE(s.predicate_nodes(t, SearchMode::Allocate, nullptr) == 100);
  CHECK(s.feasible().front() == 100);
  CHECK(s.feasible()[49] == 149);
  CHECK(s.feasible()[50] == 0);
  // All equal: the first tried wins.
  CHECK(s.best_node(t, SearchMode::Allocate) == 100);
}

TEST_CASE("node searches rotate their start, as kube-scheduler does") {
  // 200 equal nodes: a search stops after 100 fitting nodes, and the next one starts after them.
  std::vector<json> objects = {queue("default")};
  char name[16];
  for (int i = 0; i < 200; ++i) {
    std::snprintf(name, sizeof name, "n%03d", i);
    objects.push_back(node(name, "4", "8Gi"));
  }
  for (const char* j : {"a", "b", "c"}) {
    objects.push_back(podgroup(j, 1, "default", "Inqueue", std::string("2024-05-01T10:00:0") + (j[0] == 'a' ? "1" : j[0] == 'b' ? "2" : "3") + "Z"));
    objects.push_back(pod(std::string(j) + "-0", j, "1", "1Gi"));
  }
  const SessionResult r = run(objects);
  // Equal scores: the first node searched wins. The third search starts at n000 again, which is
  // no longer empty: least-requested prefers n001.
  CHECK(r.bound.at("ns/a-0") == "n000");
  CHECK(r.bound.at("ns/b-0") == "n100");
  CHECK(r.bound.at("ns/c-0") == "n001");
}

TEST_CASE("allocate pipelines onto releasing resources, the statement is kept when the job is pipelined") {
  json leaving = pod("old", "other", "2", "1Gi", "n1", "Running");
  leaving["metadata"]["deletionTimestamp"] = "2024-05-01T11:59:00Z";
  const SessionResult r = run({node("n1", "2", "4Gi"), queue("default"), podgroup("job", 1), leaving, pod("job-0", "job", "1", "1Gi")});
  CHECK(r.bound.empty());
  CHECK(r.pipelined == std::map<std::string, std::string>{{"ns/job-0", "n1"}});
  CHECK(r.podgroup_phases.at("ns/job") == "Inqueue");
}

TEST_CASE("a ready job with more replicas than minAvailable is committed, then gets more turns") {
  std::vector<json> objects = {node("n1", "3", "8Gi"), queue("default"), podgroup("job", 2)};
  for (int i = 0; i < 4; ++i) objects.push_back(pod("job-" + std::to_string(i), "job", "1", "1Gi"));
  const SessionResult r = run(objects);
  CHECK(r.bound.size() == 3);
  CHECK(r.bound.count("ns/job-3") == 0);
  CHECK(r.podgroup_phases.at("ns/job") == "Inqueue");  // bound now, Running in the next session
}

TEST_CASE("enqueue moves Pending PodGroups to Inqueue, without enqueue, allocate does") {
  std::vector<json> objects = {node("n1", "4", "8Gi"), queue("default"), podgroup("job", 1, "default", "Pending"),
                               pod("job-0", "job", "1", "1Gi")};
  SessionResult r = run(objects, conf("actions: enqueue\ntiers:\n- plugins:\n  - name: gang\n"));
  CHECK(r.podgroup_phases.at("ns/job") == "Inqueue");
  CHECK(r.bound.empty());
  r = run(objects, conf("actions: allocate\ntiers:\n- plugins:\n  - name: gang\n  - name: predicates\n"));
  CHECK(r.bound.size() == 1);
  r = run(objects, conf("actions: enqueue, allocate\ntiers:\n- plugins:\n  - name: gang\n  - name: predicates\n"));
  CHECK(r.bound.size() == 1);
  // With enqueue configured but not run first, allocate leaves the Pending job alone.
  r = run(objects, conf("actions: allocate, enqueue\ntiers:\n- plugins:\n  - name: gang\n  - name: predicates\n"));
  CHECK(r.bound.empty());
}

TEST_CASE("backfill binds best-effort tasks, allocate leaves them alone") {
  const SessionResult r = run({node("n1", "1", "1Gi"), queue("default"), podgroup("job", 1), pod("be-0", "job", "", "")});
  CHECK(r.bound == std::map<std::string, std::string>{{"ns/be-0", "n1"}});
  const SessionResult a = run({node("n1", "1", "1Gi"), queue("default"), podgroup("job", 1), pod("be-0", "job", "", "")},
                              conf("actions: enqueue, allocate\ntiers:\n- plugins:\n  - name: gang\n"));
  CHECK(a.bound.empty());
}

TEST_CASE("PodGroups whose queue does not exist keep their phase, pods of other schedulers only use their node") {
  json other = pod("foreign", "job", "4", "1Gi", "n1", "Running");
  other["spec"]["schedulerName"] = "default-scheduler";
  const SessionResult r = run({node("n1", "4", "8Gi"), queue("default"), podgroup("lost", 1, "nowhere", "Pending"),
                               pod("lost-0", "lost", "1", "1Gi"), podgroup("job", 1), other, pod("job-0", "job", "1", "1Gi")});
  CHECK(r.podgroup_phases.at("ns/lost") == "Pending");
  CHECK(r.podgroup_conditions.count("ns/lost") == 0);
  CHECK(r.bound.empty());  // the foreign pod fills n1
  CHECK(r.podgroup_phases.at("ns/job") == "Inqueue");
}

TEST_CASE("sessions are deterministic") {
  std::vector<json> objects = {queue("default")};
  for (int i = 0; i < 30; ++i) objects.push_back(node("n" + std::to_string(i), "8", "32Gi", "4"));
  for (int j = 0; j < 20; ++j) {
    const std::string g = "j" + std::to_string(j);
    objects.push_back(podgroup(g, 3));
    for (int t = 0; t < 4; ++t) objects.push_back(pod(g + "-" + std::to_string(t), g, std::to_string(1 + (j + t) % 3), "2Gi", "", "Pending", j % 2 ? "1" : ""));
  }
  const Config c = conf("actions: enqueue, allocate, backfill\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n"
                        "- plugins:\n  - name: drf\n  - name: predicates\n  - name: proportion\n  - name: nodeorder\n  - name: binpack\n");
  const SessionResult a = run(objects, c), b = run(objects, c);
  CHECK(a.to_json() == b.to_json());
  CHECK(a.bound.size() == 80);
}

TEST_CASE("the action queues pop in the order a heap pops, elements pushed back included") {
  // A total order that is not the numeric one: odd numbers first, then by value descending.
  auto less = [](int a, int b) {
    if ((a % 2) != (b % 2)) return a % 2 == 1;
    return a > b;
  };
  std::vector<int> input;
  for (int i = 0; i < 200; ++i) input.push_back((i * 7919) % 211);

  // SortedThenHeap: the first pops come from the sorted list; elements pushed back after the
  // first pop, some with a new key (here: a new value), land where a heap would put them.
  Heap heap(less);
  SortedThenHeap sorted(less);
  for (int v : input) {
    heap.push(v);
    sorted.push(v);
  }
  std::vector<int> from_heap, from_sorted;
  for (int round = 0; !heap.empty(); ++round) {
    REQUIRE_FALSE(sorted.empty());
    const int a = heap.pop();
    const int b = sorted.pop();
    from_heap.push_back(a);
    from_sorted.push_back(b);
    if (round % 3 == 0 && round < 150) {
      // Comes back, as a job with tasks left does; every fifth with another key.
      const int back = round % 5 == 0 ? a + 1000 : a;
      heap.push(back);
      sorted.push(round % 5 == 0 ? b + 1000 : b);
    }
  }
  CHECK(sorted.empty());
  CHECK(from_sorted == from_heap);
  CHECK(from_heap.size() > input.size());

  // TaskQueues: each job's tasks in one buffer pop as a heap of just them would, whatever the
  // order jobs are filled and popped in.
  const std::vector<std::vector<int>> jobs = {{5, 3, 9, 1, 7}, {}, {42, 8, 15, 16, 23, 4}, {2}};
  TaskQueues queues(jobs.size(), less);
  for (int j : {2, 0, 3, 1}) {
    CHECK_FALSE(queues.filled(j));
    queues.fill(j, jobs[static_cast<std::size_t>(j)], [](int t) { return t != 23; });
    CHECK(queues.filled(j));
  }
  CHECK(queues.empty(1));
  for (int j : {0, 2, 3}) {
    Heap want(less);
    for (int t : jobs[static_cast<std::size_t>(j)]) {
      if (t != 23) want.push(t);
    }
    std::vector<int> got, expected;
    while (!want.empty()) expected.push_back(want.pop());
    while (!queues.empty(j)) got.push_back(queues.pop(j));
    CHECK(got == expected);
  }
  TaskHeap one({5, 3, 9, 1, 7}, less);
  std::vector<int> got;
  while (!one.empty()) got.push_back(one.pop());
  CHECK(got == std::vector<int>{9, 7, 5, 3, 1});
}
