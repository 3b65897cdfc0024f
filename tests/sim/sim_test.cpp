// kai sim run's engine: small traces whose outcome is computed by hand, the trace format's errors,
// and a simulated step checked against run_session on the same state as Kubernetes objects.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lib/api/error.h"
#include "lib/scheduler/model.h"
#include "lib/scheduler/scheduler.h"
#include "lib/sim/simulator.h"
#include "lib/sim/trace.h"

using nlohmann::json;
namespace sim = kai::sim;
namespace sch = kai::scheduler;

namespace {

std::vector<json> nodes(int n, int gpus) {
  std::vector<json> out;
  for (int i = 1; i <= n; ++i) {
    const std::string name = "node-" + std::to_string(i);
    json res = {{"cpu", "64"}, {"memory", "512Gi"}, {"pods", "110"}, {"nvidia.com/gpu", std::to_string(gpus)}};
    out.push_back({{"apiVersion", "v1"},
                   {"kind", "Node"},
                   {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
                   {"status", {{"allocatable", res}, {"capacity", res}}}});
  }
  return out;
}

sim::Report run(const std::string& trace, const std::vector<json>& cluster, const sch::Config& conf = sch::default_config()) {
  sim::SimOptions o;
  return sim::simulate(sim::parse_trace(trace, "trace.yaml"), cluster, "cluster", conf, "default", o);
}

std::string error_of(const std::string& text, const std::string& file) {
  try {
    sim::parse_trace(text, file);
  } catch (const kai::Error& e) {
    return e.what();
  }
  return "no error";
}

const char* kThreeJobs = R"(time: 0
name: a
tasks: [{name: w, gpus: 8, cpu: 4, memory: 16Gi, duration: 10}]
---
time: 0
name: b
tasks: [{name: w, gpus: 8, cpu: 4, memory: 16Gi, duration: 10}]
---
time: 0s
name: c
tasks: [{name: w, gpus: 8, cpu: 4, memory: 16Gi, duration: 10s}]
)";

/// Volcano's helm tiers, where gang lets victims go (enablePreemptable: false), with preemption.
const char* kPreemptConf = R"(actions: "allocate, preempt, backfill"
tiers:
- plugins:
  - name: priority
  - name: gang
    enablePreemptable: false
    enableReclaimable: false
  - name: conformance
- plugins:
  - name: drf
  - name: predicates
  - name: proportion
  - name: nodeorder
)";

}  // namespace

TEST_CASE("three 8-GPU jobs on two 8-GPU nodes: two run at once, the third when one ends") {
  const sim::Report r = run(kThreeJobs, nodes(2, 8));
  CHECK(r.jobs == 3);
  CHECK(r.completed == 3);
  CHECK(r.makespan == Approx(20));
  // Waits 0, 0 and 10 s.
  CHECK(r.wait.p50 == Approx(0));
  CHECK(r.wait.p90 == Approx(10));
  CHECK(r.wait.max == Approx(10));
  CHECK(r.wait.mean == Approx(10.0 / 3));
  // 16 GPUs busy for 10 s, then 8 for 10 s, of 16 over 20 s.
  CHECK(r.gpu_utilisation == Approx(0.75));
  CHECK(r.gpu_total == 16);
  REQUIRE(r.queues.size() == 1);
  CHECK(r.queues[0].name == "default");
  CHECK(r.queues[0].share == Approx(1));
  CHECK(r.queues[0].deserved == Approx(1));
  CHECK(r.preemptions == 0);
  // Idle periods are skipped: sessions at 0, 1 (the jobs turned Running), 2, then 10, 11, 12, 20.
  CHECK(r.sessions < 10);
  REQUIRE_FALSE(r.timeline.empty());
  CHECK(r.timeline.front().gpu_used == 16);
  CHECK(r.timeline.back().gpu_used == 0);
}

TEST_CASE("a gang is never placed in part: it waits until all its pods fit") {
  // Without enqueue, allocate takes the gang at once; 2 GPUs are taken on one node, so only one
  // of the gang's two 8-GPU pods fits until the small job ends at 100 s.
  sch::Config conf = sch::parse_config(R"(actions: "allocate, backfill"
tiers:
- plugins: [{name: priority}, {name: gang}, {name: conformance}]
- plugins: [{name: drf}, {name: predicates}, {name: proportion}, {name: nodeorder}]
)",
                                       "conf.yaml");
  const sim::Report r = run(R"({"time": 0, "name": "small", "tasks": [{"name": "w", "gpus": 2, "duration": 100}]}
{"time": 0, "name": "gang", "minAvailable": 2, "tasks": [{"name": "w", "replicas": 2, "gpus": 8, "duration": 10}]}
)",
                            nodes(2, 8), conf);
  CHECK(r.completed == 2);
  CHECK(r.makespan == Approx(110));
  CHECK(r.wait.max == Approx(100));
  for (const auto& s : r.timeline) {
    INFO("t=" << s.time);
    CHECK((s.gpu_used == 0 || s.gpu_used == 2 || s.gpu_used == 16));
  }
}

TEST_CASE("queue shares and deserved shares by weight") {
  const std::string trace = R"(apiVersion: scheduling.volcano.sh/v1beta1
kind: Queue
metadata: {name: research}
spec: {weight: 3}
---
time: 0
name: r1
queue: research
tasks: [{name: w, gpus: 8, duration: 10}]
---
time: 0
name: p1
queue: prod
tasks: [{name: w, gpus: 8, duration: 30}]
)";
  const sim::Report r = run(trace, nodes(2, 8));
  REQUIRE(r.queues.size() == 3);  // default, prod (created for the job), research
  CHECK(r.queues[0].name == "default");
  CHECK(r.queues[0].deserved == 0);  // no jobs
  CHECK(r.queues[1].name == "prod");
  CHECK(r.queues[1].weight == 1);
  CHECK(r.queues[1].deserved == Approx(0.25));
  CHECK(r.queues[2].name == "research");
  CHECK(r.queues[2].deserved == Approx(0.75));
  // prod used 8 GPUs for 30 s, research 8 for 10 s.
  CHECK(r.queues[1].share == Approx(0.75));
  CHECK(r.queues[2].share == Approx(0.25));
  CHECK(r.queues[1].makespan == Approx(30));
  CHECK(r.queues[2].makespan == Approx(10));
  CHECK(r.makespan == Approx(30));
  CHECK(r.queues[1].gpu_utilisation == Approx(0.5));  // 8 of 16 GPUs over the 30 s
}

TEST_CASE("a preempted job restarts: its pods go back to Pending and rerun their whole duration") {
  const sch::Config conf = sch::parse_config(kPreemptConf, "preempt.conf");
  const sim::Report r = run(R"(time: 0
name: low
priority: 1
tasks: [{name: w, gpus: 8, duration: 100}]
---
time: 5
name: high
priority: 100
tasks: [{name: w, gpus: 8, duration: 10}]
)",
                            nodes(1, 8), conf);
  // high evicts low at 5, binds at 6, ends at 16; low starts again at 16 and ends at 116.
  CHECK(r.preemptions == 1);
  CHECK(r.restarts == 1);
  CHECK(r.queues[0].preemptions == 1);
  CHECK(r.completed == 2);
  CHECK(r.makespan == Approx(116));
  CHECK(r.wait.max == Approx(1));  // low was ready at 0 (its first start), high at 6
}

TEST_CASE("a simulated session decides what run_session decides on the same state") {
  // Two queues, gangs and elastic jobs of several shapes, priorities, arrivals over time.
  std::string trace;
  for (int i = 0; i < 40; ++i) {
    const int gpus = 1 << (i % 4);
    const int replicas = 1 + i % 3;
    trace += "{\"time\": " + std::to_string(i / 3) + ", \"name\": \"j" + std::to_string(i) + "\", \"queue\": \"" +
             (i % 2 ? "a" : "b") + "\", \"priority\": " + std::to_string(i % 5) + ", \"minAvailable\": " +
             std::to_string(i % 4 == 3 ? 1 : replicas) + ", \"tasks\": [{\"name\": \"w\", \"replicas\": " + std::to_string(replicas) +
             ", \"gpus\": " + std::to_string(gpus) + ", \"cpu\": \"" + std::to_string(2 * gpus) + "\", \"memory\": \"" +
             std::to_string(8 * gpus) + "Gi\", \"duration\": " + std::to_string(3 + i % 7) + "}]}\n";
  }
  const sim::Trace t = sim::parse_trace(trace, "trace.jsonl");
  for (const char* name : {"default", "preempt"}) {
    SECTION(name) {
      const sch::Config conf = std::string(name) == "default" ? sch::default_config() : sch::parse_config(kPreemptConf, "p.conf");
      sim::SimOptions o;
      const auto steps = sim::simulate_steps(t, nodes(3, 8), conf, o, 30);
      REQUIRE(steps.size() == 30);
      std::size_t binds = 0;
      for (const auto& step : steps) {
        INFO("session at " << step.time / 1000000000 << " s");
        const sch::Snapshot snap = sch::snapshot_from_objects(step.objects, "step");
        sch::SessionOptions so;
        so.now = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(snap.model->jobs.empty() ? 0 : step.time)));
        sch::Nanos epoch = 0;
        sch::parse_rfc3339("2026-01-01T00:00:00Z", epoch);
        so.now = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(epoch + step.time)));
        so.session_uid = "kai-sim";
        const sch::SessionResult want = sch::run_session_with(snap, conf, so);
        CHECK(step.bound == want.bound);
        CHECK(step.evicted == want.evicted);
        binds += want.bound.size();
        // The phase the next session reads, for jobs that were not restarted.
        for (const auto& [pg, phase] : want.podgroup_phases) {
          bool restarted = false;
          for (const auto& e : step.evicted) restarted |= e.rfind(pg + "-", 0) == 0;
          if (restarted) continue;
          INFO(pg);
          CHECK(step.phases.at(pg) == phase);
        }
      }
      CHECK(binds > 20);
    }
  }
}

TEST_CASE("the scheduler decides the same with its shortcuts on and off (preempt, reclaim, failed node searches)") {
  // 6 nodes: every node search looks at every node. 120 nodes: a search stops once it has found
  // enough feasible nodes and the next one starts where it stopped, so a shortcut that skipped a
  // search would show here as other nodes chosen later on.
  const int node_count = GENERATE(6, 120);
  const int job_count = node_count == 6 ? 160 : 900;
  INFO(node_count << " nodes");
  // Three weighted queues that overfill the cluster in turn, so that reclaim takes back shares;
  // priorities within a queue, so that preempt evicts; single pods and gangs of several shapes.
  const char* conf_text = R"(actions: "enqueue, allocate, preempt, reclaim, backfill"
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
  std::string trace;
  const char* queues[] = {"a", "b", "c"};
  for (int q = 0; q < 3; ++q) {
    trace += std::string(R"({"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue", "metadata": {"name": ")") + queues[q] +
             R"("}, "spec": {"weight": )" + std::to_string(3 - q) + "}}\n";
  }
  for (int i = 0; i < job_count; ++i) {
    // Queue c floods first, then a and b arrive: c holds more than it deserves.
    const int q = i < job_count / 4 ? 2 : i % 3;
    const int gpus = 1 << (i % 4);
    const int replicas = i % 5 == 0 ? 2 : 1;
    trace += "{\"time\": " + std::to_string(i * 40 / job_count) + ", \"name\": \"j" + std::to_string(i) + "\", \"queue\": \"" + queues[q] +
             "\", \"priority\": " + std::to_string(i % 7 == 0 ? 100 : 1) + ", \"tasks\": [{\"name\": \"w\", \"replicas\": " +
             std::to_string(replicas) + ", \"gpus\": " + std::to_string(gpus) + ", \"cpu\": \"" + std::to_string(4 * gpus) +
             "\", \"memory\": \"" + std::to_string(16 * gpus) + "Gi\", \"duration\": " + std::to_string(20 + (i * 37) % 90) + "}]}\n";
  }
  const sim::Trace t = sim::parse_trace(trace, "trace.jsonl");
  const sch::Config conf = sch::parse_config(conf_text, "preempt.conf");
  sim::SimOptions on, off;
  off.shortcuts = false;
  const auto fast = sim::simulate_steps(t, nodes(node_count, 8), conf, on, 400);
  const auto slow = sim::simulate_steps(t, nodes(node_count, 8), conf, off, 400);
  REQUIRE(fast.size() == slow.size());
  std::size_t evicted = 0, bound = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    INFO("session at " << fast[i].time / 1000000000 << " s");
    REQUIRE(fast[i].time == slow[i].time);
    CHECK(fast[i].bound == slow[i].bound);
    CHECK(fast[i].evicted == slow[i].evicted);
    evicted += slow[i].evicted.size();
    bound += slow[i].bound.size();
  }
  // The trace makes both actions evict, or the comparison would prove little.
  CHECK(evicted >= 5);
  CHECK(bound > static_cast<std::size_t>(job_count - 10));
  const sim::Report a = sim::simulate(t, nodes(node_count, 8), "cluster", conf, "on", on);
  const sim::Report b = sim::simulate(t, nodes(node_count, 8), "cluster", conf, "off", off);
  CHECK(a.preemptions == b.preemptions);
  CHECK(a.makespan == b.makespan);
  CHECK(a.completed == job_count);
}

TEST_CASE("trace errors name the file, the record's line and the field") {
  CHECK(error_of("{\"time\": 0, \"tasks\": [{\"gpus\": 1, \"duration\": 5}]}\n{\"time\": 1, \"tasks\": [{\"replicas\": -1, \"duration\": 5}]}\n",
                 "trace.jsonl") == "trace.jsonl:2: tasks[0].replicas: must be >= 0");
  CHECK(error_of("time: 0\ntasks: [{gpu: 1, duration: 5}]\n", "t.yaml") ==
        "t.yaml:1: tasks[0].gpu: unknown field (did you mean gpus?)");
  CHECK(error_of("# arrivals\n\n---\nname: x\ntasks: [{gpus: 1, duration: 5}]\n", "t.yaml") ==
        "t.yaml:4: time: Required value: the arrival time in seconds or as a duration (90s)");
  CHECK(error_of("time: 0\ntasks: [{gpus: 1, duration: 5}]\n---\ntime: soon\ntasks: [{gpus: 1, duration: 5}]\n", "t.yaml") ==
        "t.yaml:4: time: expected seconds or a duration such as 90s or 1h30m, got \"soon\"");
  CHECK(error_of("time: 0\ntasks: [{gpus: 1}]\n", "t.yaml") ==
        "t.yaml:1: tasks[0].duration: Required value: how long each pod runs (here or on the record)");
  CHECK(error_of("time: 0\nminAvailable: 3\ntasks: [{replicas: 2, duration: 1}]\n", "t.yaml") ==
        "t.yaml:1: minAvailable: must be <= the total replicas (2)");
  CHECK(error_of("time: 0\nname: a\ntasks: [{duration: 1}]\n---\ntime: 1\nname: a\ntasks: [{duration: 1}]\n", "t.yaml") ==
        "t.yaml:5: name: duplicate job \"default/a\" (also t.yaml:1)");
  CHECK(error_of("{\"time\": 0, \"tasks\": [{\"duration\": 1}]}\n{\"time\": 0,,}\n", "t.jsonl").rfind("t.jsonl:2: invalid JSON: ", 0) == 0);
  CHECK(error_of("time: 0\ntasks: [{duration: 1}]\n---\ntime: 1\ntasks: [{duration: 1\n", "t.yaml").rfind("t.yaml: line 5", 0) == 0);
  CHECK(error_of("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "t.yaml") ==
        "t.yaml:1: kind: expected a trace record (time, then job or tasks), or a Queue or PriorityClass object; got kind \"Pod\"");
  CHECK(error_of("time: 0\njob:\n  metadata: {name: j}\n  spec: {tasks: [{name: w, replicas: -1, template: {spec: {containers: [{name: c, image: x}]}}}]}\nduration: 5\n",
                 "t.yaml")
            .rfind("t.yaml:1: job.spec.tasks[0].replicas: ", 0) == 0);
}

TEST_CASE("a record may carry a full Volcano Job manifest, and its pods run for the simulate-duration annotation") {
  const sim::Trace t = sim::parse_trace(R"(time: 2
job:
  apiVersion: batch.volcano.sh/v1alpha1
  kind: Job
  metadata:
    name: ddp
    annotations: {kai.dev/simulate-duration: 30s}
  spec:
    minAvailable: 2
    tasks:
    - name: worker
      replicas: 2
      template:
        spec:
          containers:
          - name: c
            image: trainer
            resources: {limits: {nvidia.com/gpu: 4}}
)",
                                        "t.yaml");
  REQUIRE(t.jobs.size() == 1);
  CHECK(t.jobs[0].tasks[0].duration == 30'000'000'000);
  CHECK(t.jobs[0].min_available == 2);
  CHECK(t.jobs[0].queue == "default");
  sim::SimOptions o;
  const sim::Report r = sim::simulate(t, nodes(1, 8), "cluster", sch::default_config(), "default", o);
  CHECK(r.completed == 1);
  CHECK(r.makespan == Approx(30));
  CHECK(r.gpu_utilisation == Approx(1));
}

TEST_CASE("a job that can never fit stays unfinished and the simulation ends") {
  const sim::Report r = run("time: 0\nname: huge\ntasks: [{gpus: 16, duration: 5}]\n---\ntime: 1\nname: ok\ntasks: [{gpus: 1, duration: 5}]\n",
                            nodes(1, 8));
  CHECK(r.jobs == 2);
  CHECK(r.completed == 1);
  CHECK(r.to_json()["overall"]["unfinished"] == 1);
}

TEST_CASE("the timeline as CSV and the plot as SVG") {
  const sim::Report r = run(kThreeJobs, nodes(2, 8));
  const std::string csv = sim::timeline_csv(r);
  CHECK(csv.rfind("time,gpu_used,gpu_total,queue_default_gpus,pending_jobs\n0,16,16,16,1\n", 0) == 0);
  CHECK(csv.find("\n20,0,16,0,0\n") != std::string::npos);
  const std::string svg = sim::plot_svg({&r});
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("<polyline") != std::string::npos);
  CHECK(svg.find("<polygon") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("JSON lines may start with comments and blank lines, and times and durations may be fractional") {
  const sim::Trace j = sim::parse_trace("# generated\n\n{\"time\": 1, \"name\": \"a\", \"tasks\": [{\"gpus\": 1, \"duration\": 5}]}\n"
                                        "{\"time\": 0, \"name\": \"b\", \"tasks\": [{\"gpus\": 1, \"duration\": \"1m\"}]}\n",
                                        "t.jsonl");
  REQUIRE(j.jobs.size() == 2);
  CHECK(j.jobs[0].name == "b");  // sorted by time
  CHECK(j.jobs[0].tasks[0].duration == 60'000'000'000);
  CHECK(j.jobs[1].time == 1'000'000'000);
  CHECK(j.pods.size() == 1);  // both tasks ask for the same pod
  const sim::Trace y = sim::parse_trace("time: 0.5\nname: c\ntasks: [{replicas: 2, cpu: 500m, memory: 1Gi, duration: 1.5}]\n", "t.yaml");
  REQUIRE(y.jobs.size() == 1);
  CHECK(y.jobs[0].time == 500'000'000);
  CHECK(y.jobs[0].min_available == 2);
  CHECK(y.jobs[0].tasks[0].duration == 1'500'000'000);
}
