// How plugin callbacks combine across plugins and tiers (volcano.md §4.1), the per-plugin
// switches, and the Statement's commit and discard.

#include <catch2/catch.hpp>

#include "scheduler/fixture.h"

using namespace kai::scheduler;
using namespace kai::scheduler::test;

namespace {

/// A session without plugins over two jobs (a, b) of one pending task each and one node.
struct Bare {
  Bare() : open(objects(), empty_config()) {}
  static std::vector<json> objects() {
    json a = podgroup("a", 1, "default", "Inqueue", "2024-05-01T10:00:00Z");
    json b = podgroup("b", 1, "default", "Inqueue", "2024-05-01T09:00:00Z");
    return {node("n1", "4", "8Gi"), queue("default"), a, b, pod("a-0", "a", "1", "1Gi"), pod("b-0", "b", "1", "1Gi")};
  }
  static Config empty_config() {
    Config c;
    c.actions = {"allocate"};
    return c;
  }
  /// A plugin context in `tier`, with optional switches.
  PluginCtx ctx(int tier, std::map<std::string, bool> switches = {}) {
    options.push_back(std::make_unique<PluginOption>());
    options.back()->name = "fake" + std::to_string(options.size());
    options.back()->switches = std::move(switches);
    return PluginCtx{options.back()->name, tier, options.back().get()};
  }
  OpenSession open;
  Session& s = open.session;
  std::vector<std::unique_ptr<PluginOption>> options;
};

}  // namespace

TEST_CASE("order functions: the first non-zero answer wins, then creation time, then uid") {
  Bare b;
  const int a = b.open.job("a"), j = b.open.job("b");
  // No functions: b was created first.
  CHECK(b.s.job_order_less(j, a));
  b.s.add_job_order_fn(b.ctx(0), [](int, int) { return 0; });
  CHECK(b.s.job_order_less(j, a));
  // A later tier's non-zero answer decides when earlier ones abstain with 0.
  b.s.add_job_order_fn(b.ctx(1), [a](int l, int) { return l == a ? -1 : 1; });
  CHECK(b.s.job_order_less(a, j));
  CHECK_FALSE(b.s.job_order_less(j, a));
  // An earlier registration that answers wins over the later one.
  Bare c;
  c.s.add_job_order_fn(c.ctx(0), [&c](int l, int) { return l == c.open.job("b") ? -1 : 1; });
  c.s.add_job_order_fn(c.ctx(1), [&c](int l, int) { return l == c.open.job("a") ? -1 : 1; });
  CHECK(c.s.job_order_less(c.open.job("b"), c.open.job("a")));
}

TEST_CASE("task order falls back to the pod-name index, then creation time, then uid") {
  OpenSession o({node("n1", "8", "8Gi"), queue("default"), podgroup("pg", 1), pod("w-10", "pg", "1", "1Gi"),
                 pod("w-2", "pg", "1", "1Gi"), pod("w-x", "pg", "1", "1Gi"), pod("w-y", "pg", "1", "1Gi")},
                Bare::empty_config());
  Session& s = o.session;
  CHECK(s.task_order_less(o.task("w-2"), o.task("w-10")));   // 2 < 10 as numbers
  CHECK(s.task_order_less(o.task("w-x"), o.task("w-y")));    // no index: uid pod-w-x < pod-w-y
  CHECK_FALSE(s.task_order_less(o.task("w-10"), o.task("w-2")));
}

TEST_CASE("JobReady is an AND, Overused an OR, Allocatable an AND, predicates stop at the first failure") {
  Bare b;
  const int j = b.open.job("a"), t = b.open.task("a-0");
  CHECK(b.s.job_ready(j));  // no function: ready
  b.s.add_job_ready_fn(b.ctx(0), [](int) { return true; });
  b.s.add_job_ready_fn(b.ctx(1), [](int) { return false; });
  CHECK_FALSE(b.s.job_ready(j));
  CHECK_FALSE(b.s.overused(0));
  b.s.add_overused_fn(b.ctx(0), [](int) { return false; });
  b.s.add_overused_fn(b.ctx(1), [](int) { return true; });
  CHECK(b.s.overused(0));
  b.s.add_allocatable_fn(b.ctx(0), [](int, int) { return true; });
  CHECK(b.s.allocatable(0, t));
  b.s.add_allocatable_fn(b.ctx(0), [](int, int) { return false; });
  CHECK_FALSE(b.s.allocatable(0, t));
  const uint32_t r1 = b.s.intern_reasons({"first"}), r2 = b.s.intern_reasons({"second"});
  b.s.add_predicate_fn(b.ctx(0), [](int, int) { return 0u; });
  b.s.add_predicate_fn(b.ctx(0), [r1](int, int) { return r1; });
  b.s.add_predicate_fn(b.ctx(1), [r2](int, int) { return r2; });
  CHECK(b.s.reasons(b.s.predicate(t, 0)) == std::vector<std::string>{"first"});
  b.s.add_node_order_fn(b.ctx(0), [](int, int) { return 1.5; });
  b.s.add_node_order_fn(b.ctx(1), [](int, int) { return 2.0; });
  CHECK(b.s.node_order(t, 0) == 3.5);
}

TEST_CASE("JobPipelined and JobEnqueueable votes: a Reject loses, a tier with a Permit wins, abstaining passes") {
  auto pipelined = [](std::vector<std::pair<int, int>> votes) {
    Bare b;
    for (auto [tier, vote] : votes) b.s.add_job_pipelined_fn(b.ctx(tier), [vote = vote](int) { return vote; });
    return b.s.job_pipelined(b.open.job("a"));
  };
  CHECK(pipelined({}));
  CHECK(pipelined({{0, kAbstain}, {1, kAbstain}}));
  CHECK(pipelined({{0, kAbstain}, {1, kPermit}}));
  CHECK(pipelined({{0, kPermit}, {1, kReject}}));  // tier 0 decided: tier 1 is not asked
  CHECK_FALSE(pipelined({{0, kPermit}, {0, kReject}}));
  CHECK_FALSE(pipelined({{0, kAbstain}, {1, kPermit}, {1, kReject}}));
  CHECK_FALSE(pipelined({{0, kReject}, {1, kPermit}}));
  Bare e;
  e.s.add_job_enqueueable_fn(e.ctx(0), [](int) { return kAbstain; });
  e.s.add_job_enqueueable_fn(e.ctx(1), [](int) { return kReject; });
  CHECK_FALSE(e.s.job_enqueueable(e.open.job("a")));
}

TEST_CASE("JobStarving: the first tier with a function decides, none means not starving") {
  Bare b;
  const int j = b.open.job("a");
  CHECK_FALSE(b.s.job_starving(j));
  b.s.add_job_starving_fn(b.ctx(0), [](int) { return true; });
  b.s.add_job_starving_fn(b.ctx(1), [](int) { return false; });
  CHECK(b.s.job_starving(j));
}

TEST_CASE("victims: intersection within a tier, an empty set ends it, the first tier with victims wins") {
  Bare b;
  const int preemptor = b.open.task("a-0");
  const std::vector<int> candidates = {10, 11, 12};
  CHECK_FALSE(b.s.preemptable(preemptor, candidates).has_value());
  b.s.add_preemptable_fn(b.ctx(0), [](int, const std::vector<int>&) { return std::pair{std::vector<int>{}, kAbstain}; });
  b.s.add_preemptable_fn(b.ctx(0), [](int, const std::vector<int>&) { return std::pair{std::vector<int>{10, 11}, kPermit}; });
  b.s.add_preemptable_fn(b.ctx(0), [](int, const std::vector<int>&) { return std::pair{std::vector<int>{11, 12}, kPermit}; });
  b.s.add_preemptable_fn(b.ctx(1), [](int, const std::vector<int>&) { return std::pair{std::vector<int>{12}, kPermit}; });
  CHECK(b.s.preemptable(preemptor, candidates) == std::vector<int>{11});
  // Volcano's nil: the first plugin to answer says "none", so the tier ends without victims and
  // the next tier decides afresh (why Volcano's Helm configuration turns drf's enablePreemptable off).
  Bare e;
  e.s.add_reclaimable_fn(e.ctx(0), [](int, const std::vector<int>&) { return std::pair{std::vector<int>{}, kPermit}; });
  e.s.add_reclaimable_fn(e.ctx(0), [](int, const std::vector<int>& c) { return std::pair{c, kPermit}; });
  e.s.add_reclaimable_fn(e.ctx(1), [](int, const std::vector<int>& c) { return std::pair{c, kPermit}; });
  CHECK(e.s.reclaimable(preemptor, candidates) == candidates);
  // A plugin that answered with victims before the empty answer: nothing in any later tier.
  Bare f;
  f.s.add_reclaimable_fn(f.ctx(0), [](int, const std::vector<int>&) { return std::pair{std::vector<int>{10}, kPermit}; });
  f.s.add_reclaimable_fn(f.ctx(0), [](int, const std::vector<int>&) { return std::pair{std::vector<int>{11}, kPermit}; });
  f.s.add_reclaimable_fn(f.ctx(1), [](int, const std::vector<int>& c) { return std::pair{c, kPermit}; });
  CHECK(f.s.reclaimable(preemptor, candidates) == std::vector<int>{});
}

TEST_CASE("victim bounds: a victim may be preemptable when some tier's bounds all let it through") {
  Bare b;
  const int v = b.open.task("b-0");
  // No Preemptable function: preemptable() finds no victims, so no victim is possible.
  CHECK_FALSE(b.s.may_be_preemptable(100, 0, v));
  auto all = [](int, const std::vector<int>& c) { return std::pair{c, kPermit}; };
  auto below = [](int32_t job_priority, int32_t, int) { return job_priority > 50; };
  // Tier 0: one bounded function that refuses low preemptors, one without a bound (lets all through).
  b.s.add_preemptable_fn(b.ctx(0), all, below);
  b.s.add_preemptable_fn(b.ctx(0), all);
  CHECK(b.s.may_be_preemptable(100, 0, v));
  CHECK_FALSE(b.s.may_be_preemptable(10, 0, v));
  // A later tier that lets the victim through can decide when the first tier ends without victims.
  b.s.add_preemptable_fn(b.ctx(1), all, [](int32_t, int32_t task_priority, int) { return task_priority > 5; });
  CHECK(b.s.may_be_preemptable(10, 7, v));
  CHECK_FALSE(b.s.may_be_preemptable(10, 3, v));
  // A switch turned off keeps the function and its bound out.
  Bare c;
  c.s.add_preemptable_fn(c.ctx(0, {{"enablePreemptable", false}}), all, [](int32_t, int32_t, int) { return false; });
  c.s.add_preemptable_fn(c.ctx(0), all);
  CHECK(c.s.may_be_preemptable(1, 1, v));
}

TEST_CASE("victim bounds of priority and conformance: lower job priority, and never a critical pod") {
  // Job priorities come from PriorityClasses; conformance never lets kube-system pods go.
  auto klass = [](const std::string& name, int value) {
    return json{{"apiVersion", "scheduling.k8s.io/v1"}, {"kind", "PriorityClass"}, {"metadata", {{"name", name}}}, {"value", value}};
  };
  json low = podgroup("low", 1), high = podgroup("high", 1), sys = podgroup("sys", 1);
  low["spec"]["priorityClassName"] = "low";
  high["spec"]["priorityClassName"] = "high";
  sys["spec"]["priorityClassName"] = "low";
  sys["metadata"]["namespace"] = "kube-system";
  json sys_pod = pod("sys-0", "sys", "1", "1Gi", "n1", "Running");
  sys_pod["metadata"]["namespace"] = "kube-system";
  OpenSession o({node("n1", "8", "8Gi"), queue("default"), klass("low", 10), klass("high", 1000), low, high, sys,
                 pod("low-0", "low", "1", "1Gi", "n1", "Running"), pod("high-0", "high", "1", "1Gi", "n1", "Running"), sys_pod},
                conf("actions: \"preempt\"\ntiers:\n- plugins:\n  - name: priority\n  - name: conformance\n"));
  Session& s = o.session;
  const int lo = o.task("low-0"), hi = o.task("high-0"), sy = o.task("sys-0");
  CHECK(s.may_be_preemptable(1000, 0, lo));
  CHECK_FALSE(s.may_be_preemptable(10, 0, lo));   // equal priority: never
  CHECK_FALSE(s.may_be_preemptable(1000, 0, hi));
  CHECK_FALSE(s.may_be_preemptable(1000, 0, sy));  // kube-system
  // And preemptable() agrees with the bounds on these candidates.
  CHECK(s.preemptable(hi, {lo, sy}) == std::vector<int>{lo});
}

TEST_CASE("a switch set to false keeps the callback out") {
  Bare b;
  const int a = b.open.job("a"), j = b.open.job("b");
  b.s.add_job_order_fn(b.ctx(0, {{"enableJobOrder", false}}), [a](int l, int) { return l == a ? -1 : 1; });
  CHECK(b.s.job_order_less(j, a));  // still by creation time
  b.s.add_job_ready_fn(b.ctx(0, {{"enableJobReady", false}}), [](int) { return false; });
  CHECK(b.s.job_ready(a));
  b.s.add_overused_fn(b.ctx(0, {{"enabledOverused", false}}), [](int) { return true; });
  CHECK_FALSE(b.s.overused(0));
  b.s.add_job_enqueueable_fn(b.ctx(0, {{"enableJobEnqueued", false}}), [](int) { return kReject; });
  CHECK(b.s.job_enqueueable(a));
}

TEST_CASE("a statement commits binds and pipelines, or discards in reverse and restores the node") {
  OpenSession o({node("n1", "4", "8Gi"), queue("default"), podgroup("pg", 2), pod("w-0", "pg", "1", "1Gi"),
                 pod("w-1", "pg", "2", "1Gi")},
                default_config());
  Session& s = o.session;
  const int n = o.node("n1"), t0 = o.task("w-0"), t1 = o.task("w-1");
  const Resource idle = s.node(n).idle;
  SECTION("discard") {
    Statement stmt(s);
    stmt.allocate(t0, n);
    stmt.pipeline(t1, n);
    CHECK(s.node(n).idle.get(Resource::kCpu) == 3000);
    CHECK(s.node(n).pipelined.get(Resource::kCpu) == 2000);
    CHECK(s.task(t0).status == TaskStatus::Allocated);
    stmt.discard();
    CHECK(s.node(n).idle == idle);
    CHECK(s.node(n).pipelined.get(Resource::kCpu) == 0);
    CHECK(s.task(t0).status == TaskStatus::Pending);
    CHECK(s.task(t0).node == -1);
    // The discarded placement is remembered for the PodGroup's message.
    CHECK(s.task(t0).has_last_tx);
    CHECK(s.task(t0).last_status == TaskStatus::Allocated);
    CHECK(s.task(t1).last_status == TaskStatus::Pipelined);
    CHECK(s.task_scheduling_reason(o.job("pg"), t0).first == "Schedulable");
    const SessionResult r = s.close();
    CHECK(r.bound.empty());
    CHECK(r.pipelined.empty());
  }
  SECTION("commit") {
    Statement stmt(s);
    stmt.allocate(t0, n);
    stmt.allocate(t1, n);
    stmt.commit();
    CHECK(s.task(t0).status == TaskStatus::Binding);
    const SessionResult r = s.close();
    CHECK(r.bound == std::map<std::string, std::string>{{"ns/w-0", "n1"}, {"ns/w-1", "n1"}});
  }
  SECTION("evict, then discard: the task runs again on its node") {
    Statement place(s);
    place.allocate(t0, n);
    place.commit();
    Statement stmt(s);
    stmt.evict(t0);
    CHECK(s.task(t0).status == TaskStatus::Releasing);
    CHECK(s.node(n).releasing.get(Resource::kCpu) == 1000);
    stmt.discard();
    CHECK(s.task(t0).status == TaskStatus::Binding);
    CHECK(s.node(n).releasing.get(Resource::kCpu) == 0);
    Statement again(s);
    again.evict(t0);
    again.commit();
    CHECK(s.close().evicted == std::vector<std::string>{"ns/w-0"});
  }
}

TEST_CASE("advance_search moves the node search on exactly as a search would") {
  // 300 nodes: a search stops after 144 that fit. Tainted nodes never fit the pod.
  auto cluster = [](int every) {
    std::vector<json> objects = {queue("default"), podgroup("pg", 1), pod("w-0", "pg", "1", "1Gi")};
    for (int i = 0; i < 300; ++i) {
      json n = node("n" + std::to_string(1000 + i), "8", "8Gi");
      if (i % every != 0) n["spec"]["taints"] = json::array({{{"key", "k"}, {"value", "v"}, {"effect", "NoSchedule"}}});
      objects.push_back(n);
    }
    return objects;
  };
  // every 1: all fit; every 2: 150 fit (just enough); every 3: 100 fit (a search walks them all).
  for (int every : {1, 2, 3}) {
    INFO("one node in " << every << " fits");
    const Config c = conf("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: predicates\n");
    OpenSession searched(cluster(every), c), advanced(cluster(every), c);
    const int t = searched.task("w-0");
    REQUIRE(t == advanced.task("w-0"));
    // More than a few in a row, so that advance_search also counts along its list.
    for (int i = 0; i < 9; ++i) {
      searched.session.predicate_nodes(t, SearchMode::Backfill, nullptr);
      advanced.session.advance_search(t, SearchMode::Backfill);
      // The next search starts at the same node either way.
      const int a = searched.session.predicate_nodes(t, SearchMode::Backfill, nullptr);
      const int b = advanced.session.predicate_nodes(t, SearchMode::Backfill, nullptr);
      REQUIRE(a == b);
      REQUIRE(searched.session.feasible() == advanced.session.feasible());
    }
    CHECK(searched.session.feasible().size() == static_cast<std::size_t>(std::min(144, 300 / every)));
  }
}
