// Snapshots: objects read into the model (defaults, requests, statuses, priorities), and errors
// that name the file, the object and the field.

#include <catch2/catch.hpp>

#include "lib/api/error.h"
#include "scheduler/fixture.h"

using namespace kai::scheduler;
using namespace kai::scheduler::test;

namespace {

std::string error_of(const std::vector<json>& objects) {
  try {
    snapshot_from_objects(objects, "snap.yaml");
  } catch (const kai::Error& e) {
    CHECK(e.kind() == kai::ErrorKind::Invalid);
    return e.what();
  }
  return "(parsed)";
}

const ModelTask& task_named(const SnapshotModel& m, const std::string& name) {
  for (const auto& t : m.tasks) {
    if (t.name == name) return t;
  }
  FAIL("no task " << name);
  return m.tasks.front();
}

}  // namespace

TEST_CASE("snapshot errors name the file, the object and the field path") {
  json bad = pod("p1", "pg", "one", "1Gi");
  CHECK(error_of({node("n1", "4", "8Gi"), bad}) ==
        "snap.yaml: items[1] (Pod ns/p1): spec.containers[0].resources.requests[cpu]: quantities must match the "
        "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  json nameless = node("n1", "4", "8Gi");
  nameless["metadata"].erase("name");
  CHECK(error_of({nameless}) == "snap.yaml: items[0]: metadata.name: Required value: name is required");
  CHECK(error_of({node("n1", "4", "8Gi"), queue("q"), node("n1", "2", "1Gi")}) ==
        "snap.yaml: items[2] (Node n1): metadata.name: duplicate Node \"n1\" (also items[0])");
  json late = podgroup("pg", 1);
  late["metadata"]["creationTimestamp"] = "yesterday";
  CHECK(error_of({late}) ==
        "snap.yaml: items[0] (PodGroup ns/pg): metadata.creationTimestamp: invalid time \"yesterday\": expected RFC 3339 "
        "such as 2024-05-01T10:00:00Z");
  json negative = node("n1", "-4", "8Gi");
  CHECK(error_of({negative}) ==
        "snap.yaml: items[0] (Node n1): status.allocatable[cpu]: Invalid value: \"-4\": must be greater than or equal to 0");
  json weight = queue("q");
  weight["spec"]["weight"] = "heavy";
  CHECK(error_of({weight}) == "snap.yaml: items[0] (Queue q): spec.weight: expected an integer, got a string");
  CHECK(error_of({json{{"kind", "Node"}, {"metadata", {{"name", "x"}}}}}) == "snap.yaml: items[0]: apiVersion: Required value");
  json op = pod("p1", "pg", "1", "1Gi");
  op["spec"]["affinity"] = {{"nodeAffinity",
                             {{"requiredDuringSchedulingIgnoredDuringExecution",
                               {{"nodeSelectorTerms", {{{"matchExpressions", {{{"key", "zone"}, {"operator", "Near"}}}}}}}}}}}};
  CHECK(error_of({op}).find("snap.yaml: items[0] (Pod ns/p1): spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
                            ".nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Near\"") == 0);
}

TEST_CASE("other kinds are ignored, a List's items were flattened by the decoder") {
  Snapshot s = snapshot({node("n1", "4", "8Gi"), json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}}},
                         json{{"apiVersion", "batch.volcano.sh/v1alpha1"}, {"kind", "Job"}, {"metadata", {{"name", "j"}}}}});
  CHECK(s.nodes.size() == 1);
  CHECK(s.model->nodes.size() == 1);
}

TEST_CASE("nodes: capacity defaults to allocatable, pods to 110, only scalar resources become dimensions") {
  json n = node("n1", "4", "8Gi", "2");
  n["status"]["allocatable"].erase("pods");
  n["status"]["allocatable"]["gpu"] = "3";  // not a Kubernetes scalar resource name: ignored
  n["status"]["allocatable"]["hugepages-2Mi"] = "1Gi";
  Snapshot s = snapshot({n});
  const SnapshotModel& m = *s.model;
  CHECK(m.dims == std::vector<std::string>{"cpu", "memory", "hugepages-2Mi", "nvidia.com/gpu"});
  const ModelNode& mn = m.nodes[0];
  CHECK(mn.max_pods == 110);
  CHECK(mn.allocatable.get(0) == 4000);                    // milli-cpu
  CHECK(mn.allocatable.get(1) == 8.0 * 1024 * 1024 * 1024);  // bytes
  CHECK(mn.allocatable.get(3) == 2000);                    // scalars in milli-units, as Volcano
  CHECK(mn.capacity == mn.allocatable);
}

TEST_CASE("pods: requests, statuses, roles, priorities as Volcano reads them") {
  json pc = {{"apiVersion", "scheduling.k8s.io/v1"}, {"kind", "PriorityClass"}, {"metadata", {{"name", "high"}}}, {"value", 1000}};
  json dflt = {{"apiVersion", "scheduling.k8s.io/v1"},
               {"kind", "PriorityClass"},
               {"metadata", {{"name", "normal"}}},
               {"value", 50},
               {"globalDefault", true}};
  json multi = pod("multi-3", "pg", "1", "1Gi");
  multi["spec"]["containers"].push_back({{"name", "side"}, {"resources", {{"limits", {{"cpu", "500m"}, {"memory", "1Gi"}}}}}});
  multi["spec"]["initContainers"] = json::array({{{"name", "init"}, {"resources", {{"requests", {{"cpu", "4"}}}}}}});
  multi["metadata"]["labels"] = {{"volcano.sh/task-spec", "worker"}};
  json bound = pod("bound", "pg", "1", "1Gi", "n1");
  json releasing = pod("releasing", "pg", "1", "1Gi", "n1", "Running");
  releasing["metadata"]["deletionTimestamp"] = "2024-05-01T11:00:00Z";
  json done = pod("done", "pg", "1", "1Gi", "n1", "Succeeded");
  json classy = pod("classy", "pg", "1", "1Gi");
  classy["spec"]["priorityClassName"] = "high";
  json ghost = pod("ghost", "pg", "1", "1Gi");
  ghost["spec"]["priorityClassName"] = "missing";
  json annotated = pod("annotated", "pg", "1", "1Gi");
  annotated["spec"]["priority"] = 7;
  annotated["metadata"]["annotations"]["volcano.sh/task-priority"] = "9";
  annotated["metadata"]["annotations"]["volcano.sh/preemptable"] = "false";
  json empty = pod("empty", "pg", "", "");
  Snapshot s = snapshot({pc, dflt, node("n1", "8", "16Gi"), queue("default"), podgroup("pg", 1), multi, bound, releasing,
                         done, classy, ghost, annotated, empty, pod("plain", "pg", "1", "1Gi")});
  const SnapshotModel& m = *s.model;
  const ModelTask& mt = task_named(m, "multi-3");
  CHECK(mt.request.get(0) == 4000);  // the init container's 4 cpu beat the containers' 1.5
  CHECK(mt.request.get(1) == 2.0 * 1024 * 1024 * 1024);  // limits stand in for missing requests
  CHECK(mt.role == "worker");
  CHECK(mt.has_index);
  CHECK(mt.index == 3);
  CHECK(mt.preemptable);
  CHECK(task_named(m, "bound").status == TaskStatus::Bound);
  CHECK(task_named(m, "releasing").status == TaskStatus::Releasing);
  CHECK(task_named(m, "done").status == TaskStatus::Succeeded);
  CHECK(task_named(m, "plain").status == TaskStatus::Pending);
  CHECK(task_named(m, "plain").priority == 1);  // no spec.priority: Volcano's default
  CHECK(task_named(m, "classy").priority == 1000);
  CHECK(task_named(m, "ghost").priority == 50);  // unknown class: the global default's value
  CHECK(task_named(m, "annotated").priority == 9);
  CHECK_FALSE(task_named(m, "annotated").preemptable);
  CHECK(task_named(m, "empty").best_effort);
  // kube-scheduler's non-zero defaults for scores: 100m and 200Mi.
  CHECK(task_named(m, "empty").nonzero_cpu == 100);
  CHECK(task_named(m, "empty").nonzero_mem == 200.0 * 1024 * 1024);
  CHECK(m.jobs[0].priority == 50);  // PodGroup without a class: the global default
  CHECK(m.jobs[0].queue == "default");
  CHECK(m.jobs[0].tasks.size() == 9);
}

TEST_CASE("PodGroups: queue defaults to default, phase to Pending, sla-waiting-time from annotations") {
  json pg = podgroup("pg", 2, "");
  pg["status"].erase("phase");
  pg["metadata"]["annotations"] = {{"sla-waiting-time", "1h30m"}};
  json bad = podgroup("bad", 1);
  bad["metadata"]["annotations"] = {{"sla-waiting-time", "eventually"}};  // ignored, as Volcano does
  Snapshot s = snapshot({queue("default"), pg, bad});
  const ModelJob& j = s.model->jobs[0];
  CHECK(j.queue == "default");
  CHECK(j.queue_index == 0);
  CHECK(j.phase == "Pending");
  REQUIRE(j.waiting_time.has_value());
  CHECK(*j.waiting_time == 5400LL * 1'000'000'000);
  CHECK_FALSE(s.model->jobs[1].waiting_time.has_value());
}

TEST_CASE("Queues: the hDRF hierarchy annotations are kept as written") {
  json q = queue("prod");
  q["metadata"]["annotations"] = {{"volcano.sh/hierarchy", "eng/prod"}, {"volcano.sh/hierarchy-weights", "2/8"}, {"other", "x"}};
  Snapshot s = snapshot({q, queue("plain")});
  CHECK(s.model->queues[0].hierarchy == "eng/prod");  // drf roots it when it reads it
  CHECK(s.model->queues[0].hierarchy_weights == "2/8");
  CHECK(s.model->queues[1].hierarchy.empty());
  CHECK(s.model->queues[1].hierarchy_weights.empty());
  json bad = queue("q");
  bad["metadata"]["annotations"] = {{"volcano.sh/hierarchy-weights", 3}};
  CHECK(error_of({bad}) ==
        "snap.yaml: items[0] (Queue q): metadata.annotations[volcano.sh/hierarchy-weights]: expected a string, got an integer");
}

TEST_CASE("Go durations and RFC 3339 times") {
  Nanos d = 0;
  CHECK(parse_go_duration("1h30m", d));
  CHECK(d == 5400LL * 1'000'000'000);
  CHECK(parse_go_duration("1.5s", d));
  CHECK(d == 1'500'000'000);
  CHECK(parse_go_duration("300ms", d));
  CHECK(d == 300'000'000);
  CHECK(parse_go_duration("0", d));
  CHECK_FALSE(parse_go_duration("10", d));
  CHECK_FALSE(parse_go_duration("1d", d));
  Nanos t = 0;
  CHECK(parse_rfc3339("2024-05-01T12:00:00Z", t));
  CHECK(t == 1714564800LL * 1'000'000'000);
  CHECK(parse_rfc3339("2024-05-01T14:00:00.5+02:00", t));
  CHECK(t == 1714564800LL * 1'000'000'000 + 500'000'000);
  CHECK_FALSE(parse_rfc3339("2024-02-30T00:00:00Z", t));
  CHECK_FALSE(parse_rfc3339("2024-05-01 12:00:00Z", t));
}
