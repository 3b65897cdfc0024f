// Admission: defaults and every validation rule, with the exact field path and message users see.
// Job rules live in admission_job_test.cpp; this file covers the common metadata rules, Queue,
// PodGroup, Command, Pod, Node, Namespace and Event.

#include <catch2/catch.hpp>

#include "admission_fixture.h"

using namespace kai::api;
using namespace kai::test;
using nlohmann::json;

// --- common metadata -------------------------------------------------------------------------

TEST_CASE("admission sets apiVersion kind and the default namespace when absent") {
  FakeQueues cluster;
  json job = valid_job();
  job.erase("apiVersion");
  job.erase("kind");
  admit_create(jobs(), job, cluster.ctx());
  CHECK(job["apiVersion"] == "batch.volcano.sh/v1alpha1");
  CHECK(job["kind"] == "Job");
  CHECK(job["metadata"]["namespace"] == "default");
}

TEST_CASE("admission keeps an explicit namespace") {
  FakeQueues cluster;
  json job = valid_job();
  job["metadata"]["namespace"] = "team-a";
  admit_create(jobs(), job, cluster.ctx());
  CHECK(job["metadata"]["namespace"] == "team-a");
}

TEST_CASE("admission refuses an apiVersion of another resource") {
  FakeQueues cluster;
  json job = valid_job();
  job["apiVersion"] = "batch/v1";
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: apiVersion: Unsupported value: \"batch/v1\": supported values: "
        "\"batch.volcano.sh/v1alpha1\"");
  REQUIRE(e.causes().size() == 1);
  CHECK(e.causes()[0].field == "apiVersion");
  CHECK(e.kind() == kai::ErrorKind::Invalid);
}

TEST_CASE("admission refuses a kind of another resource") {
  FakeQueues cluster;
  json job = valid_job();
  job["kind"] = "Pod";
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(has_cause(e, "kind", "Unsupported value: \"Pod\": supported values: \"Job\""));
}

TEST_CASE("admission requires a name or generateName") {
  FakeQueues cluster;
  json job = valid_job();
  job["metadata"].erase("name");
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"\" is invalid: metadata.name: Required value: name or generateName is required");
}

TEST_CASE("admission accepts generateName without a name") {
  FakeQueues cluster;
  json job = valid_job();
  job["metadata"].erase("name");
  job["metadata"]["generateName"] = "demo-";
  admit_create(jobs(), job, cluster.ctx());
  CHECK(job["metadata"]["generateName"] == "demo-");
}

TEST_CASE("admission refuses a name that is not a DNS-1123 subdomain") {
  FakeQueues cluster;
  json job = valid_job();
  job["metadata"]["name"] = "Bad_Name";
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(has_cause_prefix(e, "metadata.name", "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
  CHECK(std::string(e.what()).rfind("Job.batch.volcano.sh \"Bad_Name\" is invalid: ", 0) == 0);
}

TEST_CASE("admission refuses an invalid namespace name") {
  FakeQueues cluster;
  json job = valid_job();
  job["metadata"]["namespace"] = "Team_A";
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(has_cause_prefix(e, "metadata.namespace", "Invalid value: \"Team_A\": a lowercase RFC 1123 label"));
}

TEST_CASE("admission clears the namespace of a cluster-scoped object") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research", "namespace": "team-a"}})"_json;
  admit_create(queues(), q, cluster.ctx());
  CHECK_FALSE(q["metadata"].contains("namespace"));
}

TEST_CASE("admission refuses an invalid label key") {
  FakeQueues cluster;
  json job = valid_job();
  job["metadata"]["labels"] = {{"bad key", "v"}};
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(has_cause_prefix(e, "metadata.labels", "Invalid value: \"bad key\": "));
}

TEST_CASE("admission refuses an invalid label value") {
  FakeQueues cluster;
  json job = valid_job();
  job["metadata"]["labels"] = {{"team", "has space"}};
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(has_cause_prefix(e, "metadata.labels", "Invalid value: \"has space\": "));
}

TEST_CASE("admission refuses a label value that is not a string") {
  FakeQueues cluster;
  json job = valid_job();
  job["metadata"]["labels"] = {{"team", 3}};
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(has_cause(e, "metadata.labels[team]",
                  "Invalid value: \"integer\": metadata.labels[team] in body must be of type string: \"integer\""));
}

TEST_CASE("admission reports a value of the wrong type with the CRD wording") {
  FakeQueues cluster;
  json job = valid_job();
  job["spec"]["tasks"][0]["replicas"] = "two";
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(has_cause(e, "spec.tasks[0].replicas",
                  "Invalid value: \"string\": spec.tasks[0].replicas in body must be of type integer: \"string\""));
}

TEST_CASE("admission refuses an object that is not a JSON object") {
  FakeQueues cluster;
  json not_object = json::array();
  auto e = refuse_create(jobs(), not_object, cluster.ctx());
  CHECK(e.kind() == kai::ErrorKind::Invalid);
}

TEST_CASE("admission lists several causes in brackets and keeps them all") {
  FakeQueues cluster;
  json job = valid_job();
  job["spec"]["tasks"][0]["replicas"] = -1;
  job["spec"]["maxRetry"] = -2;
  auto e = refuse_create(jobs(), job, cluster.ctx());
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: [spec.maxRetry: Invalid value: -2: must be greater than or equal "
        "to 0, spec.tasks[0].replicas: Invalid value: -1: must be greater than or equal to 0]");
  CHECK(e.causes().size() == 2);
}

TEST_CASE("admission leaves the object unchanged when it refuses it") {
  FakeQueues cluster;
  json job = valid_job();
  job.erase("apiVersion");
  job["spec"]["queue"] = "missing";
  const json before = job;
  try {
    admit_create(jobs(), job, cluster.ctx());
    FAIL("admission accepted the job");
  } catch (const kai::Error&) {
  }
  CHECK(job == before);
  CHECK_FALSE(job.contains("apiVersion"));
  CHECK_FALSE(job["spec"].contains("schedulerName"));
}

TEST_CASE("admission update refuses a changed name namespace or uid") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  old_job["metadata"]["uid"] = "u-1";
  json job = old_job;
  job["metadata"]["uid"] = "u-2";
  job["metadata"]["namespace"] = "other";
  auto e = refuse_update(jobs(), old_job, job, cluster.ctx());
  CHECK(has_cause(e, "metadata.uid", "Invalid value: \"u-2\": field is immutable"));
  CHECK(has_cause(e, "metadata.namespace", "Invalid value: \"other\": field is immutable"));
}

TEST_CASE("admission update keeps identity fields and status left out of a replacement") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  old_job["metadata"]["uid"] = "u-1";
  old_job["metadata"]["namespace"] = "team-a";
  old_job["status"] = {{"state", {{"phase", "Running"}}}};
  json job = valid_job();
  admit_update(jobs(), old_job, job, cluster.ctx());
  CHECK(job["metadata"]["uid"] == "u-1");
  CHECK(job["metadata"]["namespace"] == "team-a");
  CHECK(job["status"]["state"]["phase"] == "Running");
}

// --- Queue -----------------------------------------------------------------------------------

TEST_CASE("queue create applies weight reclaimable parent and state defaults") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}})"_json;
  admit_create(queues(), q, cluster.ctx());
  CHECK(q["apiVersion"] == "scheduling.volcano.sh/v1beta1");
  CHECK(q["kind"] == "Queue");
  CHECK(q["spec"]["weight"] == 1);
  CHECK(q["spec"]["reclaimable"] == true);
  CHECK(q["spec"]["parent"] == "root");
  CHECK(q["status"]["state"] == "Open");
}

TEST_CASE("queue create gives the root queue no parent") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "root"}})"_json;
  admit_create(queues(), q, cluster.ctx());
  CHECK_FALSE(q["spec"].contains("parent"));
}

TEST_CASE("queue create keeps explicit weight reclaimable and state") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"weight": 7, "reclaimable": false},
              "status": {"state": "Closed"}})"_json;
  admit_create(queues(), q, cluster.ctx());
  CHECK(q["spec"]["weight"] == 7);
  CHECK(q["spec"]["reclaimable"] == false);
  CHECK(q["status"]["state"] == "Closed");
}

TEST_CASE("queue weight zero is defaulted to one") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"weight": 0}})"_json;
  admit_create(queues(), q, cluster.ctx());
  CHECK(q["spec"]["weight"] == 1);
}

TEST_CASE("queue weight below one is refused") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"weight": -1}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(std::string(e.what()) ==
        "Queue.scheduling.volcano.sh \"research\" is invalid: spec.weight: Invalid value: -1: spec.weight in body "
        "should be greater than or equal to 1");
}

TEST_CASE("queue weight above 65535 is refused") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"weight": 70000}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.weight", "Invalid value: 70000: spec.weight in body should be less than or equal to 65535"));
}

TEST_CASE("queue priority below zero is refused") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"priority": -1}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.priority", "Invalid value: -1: spec.priority in body should be greater than or equal to 0"));
}

TEST_CASE("queue dequeueStrategy must be fifo or traverse") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"dequeueStrategy": "lifo"}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.dequeueStrategy", "Unsupported value: \"lifo\": supported values: \"fifo\", \"traverse\""));
}

TEST_CASE("queue state must be Open or Closed on create") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "status": {"state": "Closing"}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "status.state", "Invalid value: \"Closing\": queue state must be in [Open Closed]"));
}

TEST_CASE("queue update may carry the controller states Closing and Unknown") {
  FakeQueues cluster;
  json old_q = cluster.queues.at("default");
  json q = old_q;
  q["status"]["state"] = "Closing";
  admit_update(queues(), old_q, q, cluster.ctx());
  CHECK(q["status"]["state"] == "Closing");
  q["status"]["state"] = "Bogus";
  auto e = refuse_update(queues(), old_q, q, cluster.ctx());
  CHECK(has_cause(e, "status.state", "Invalid value: \"Bogus\": queue state must be in [Open Closed]"));
}

TEST_CASE("queue capability must hold quantities") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"capability": {"cpu": "lots"}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.capability[cpu]",
                  "Invalid value: \"lots\": quantities must match the regular expression "
                  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
}

TEST_CASE("queue quantities may not be negative") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"deserved": {"memory": "-1Gi"}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.deserved[memory]", "Invalid value: \"-1Gi\": must be greater than or equal to 0"));
}

TEST_CASE("queue guarantee without deserved is refused") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"guarantee": {"resource": {"cpu": "2"}}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.deserved[cpu]", "Invalid value: \"<nil>\": deserved[cpu] must be >= guarantee[cpu]=2"));
}

TEST_CASE("queue deserved below guarantee is refused") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"},
              "spec": {"deserved": {"cpu": "1"}, "guarantee": {"resource": {"cpu": "2"}}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.deserved[cpu]", "Invalid value: \"1\": deserved[cpu]=1 must be >= guarantee[cpu]=2"));
}

TEST_CASE("queue deserved above capability is refused") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"},
              "spec": {"deserved": {"cpu": "8"}, "capability": {"cpu": "4"}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.deserved[cpu]", "Invalid value: \"8\": deserved[cpu]=8 must be <= capability[cpu]=4"));
}

TEST_CASE("queue guarantee deserved capability in order are accepted") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"},
              "spec": {"guarantee": {"resource": {"cpu": "1"}}, "deserved": {"cpu": "2"}, "capability": {"cpu": 4}}})"_json;
  admit_create(queues(), q, cluster.ctx());
  CHECK(q["spec"]["capability"]["cpu"] == 4);
}

TEST_CASE("queue cannot use itself as parent") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"parent": "research"}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.parent", "Invalid value: \"research\": queue research cannot use itself as parent"));
}

TEST_CASE("queue parent must exist") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"parent": "nowhere"}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(std::string(e.what()) ==
        "Queue.scheduling.volcano.sh \"research\" is invalid: spec.parent: Invalid value: \"nowhere\": failed to get "
        "parent queue of queue research: queues.scheduling.volcano.sh \"nowhere\" not found");
}

TEST_CASE("queue with an existing parent is accepted") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research"}, "spec": {"parent": "parent"}})"_json;
  admit_create(queues(), q, cluster.ctx());
  CHECK(q["spec"]["parent"] == "parent");
}

TEST_CASE("queue cannot take its descendant as parent") {
  FakeQueues cluster;
  json old_q = cluster.queues.at("parent");
  json q = old_q;
  q["spec"]["parent"] = "child";
  auto e = refuse_update(queues(), old_q, q, cluster.ctx());
  CHECK(has_cause(e, "spec.parent", "Invalid value: \"child\": queue parent cannot use its descendant child as parent"));
}

TEST_CASE("queue capability may not exceed its ancestor's") {
  FakeQueues cluster;
  cluster.queues["parent"]["spec"]["capability"] = {{"cpu", "4"}};
  json q = R"({"metadata": {"name": "research"}, "spec": {"parent": "parent", "capability": {"cpu": "8"}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.capability[cpu]",
                  "Invalid value: \"8\": queue research capability[cpu]=8 exceeds its ancestor's capability=4"));
}

TEST_CASE("queue hierarchy annotations must have as many weights as levels") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research", "annotations": {"volcano.sh/hierarchy": "root/a/b",
              "volcano.sh/hierarchy-weights": "1/2"}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "metadata.annotations",
                  "Invalid value: \"root/a/b\": volcano.sh/hierarchy must have the same length with "
                  "volcano.sh/hierarchy-weights"));
}

TEST_CASE("queue hierarchy weights must be positive numbers") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research", "annotations": {"volcano.sh/hierarchy": "root/a",
              "volcano.sh/hierarchy-weights": "1/x"}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "metadata.annotations",
                  "Invalid value: \"1/x\": x in the 1/x is invalid number: strconv.ParseFloat: parsing \"x\": invalid "
                  "syntax"));
  q["metadata"]["annotations"]["volcano.sh/hierarchy-weights"] = "1/0";
  e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "metadata.annotations", "Invalid value: \"1/0\": 0 in the 1/0 must be larger than 0"));
}

TEST_CASE("queue hierarchy annotations are rooted on create") {
  FakeQueues cluster;
  json q = R"({"metadata": {"name": "research", "annotations": {"volcano.sh/hierarchy": "a/b",
              "volcano.sh/hierarchy-weights": "2/3"}}})"_json;
  admit_create(queues(), q, cluster.ctx());
  CHECK(q["metadata"]["annotations"]["volcano.sh/hierarchy"] == "root/a/b");
  CHECK(q["metadata"]["annotations"]["volcano.sh/hierarchy-weights"] == "1/2/3");
}

TEST_CASE("queue update is validated like create") {
  FakeQueues cluster;
  json old_q = cluster.queues.at("default");
  json q = old_q;
  q["spec"]["weight"] = 70000;
  auto e = refuse_update(queues(), old_q, q, cluster.ctx());
  CHECK(has_cause(e, "spec.weight", "Invalid value: 70000: spec.weight in body should be less than or equal to 65535"));
}

TEST_CASE("queue delete refuses the default queue") {
  FakeQueues cluster;
  try {
    admit_delete(queues(), cluster.queues.at("default"), cluster.ctx());
    FAIL("deleted");
  } catch (const kai::Error& e) {
    CHECK(std::string(e.what()) == "`default` queue can not be deleted");
    CHECK(e.kind() == kai::ErrorKind::Invalid);
    REQUIRE(e.causes().size() == 1);
    CHECK(e.causes()[0].field == "metadata.name");
  }
}

TEST_CASE("queue delete refuses the root queue") {
  FakeQueues cluster;
  CHECK_THROWS_WITH(admit_delete(queues(), cluster.queues.at("root"), cluster.ctx()),
                    "`root` queue can not be deleted");
}

TEST_CASE("queue delete refuses a queue with child queues") {
  FakeQueues cluster;
  CHECK_THROWS_WITH(admit_delete(queues(), cluster.queues.at("parent"), cluster.ctx()),
                    "queue parent can not be deleted because it has 1 child queues: child");
}

TEST_CASE("queue children may not be guaranteed more than their parent") {
  FakeQueues cluster;
  cluster.queues["parent"]["spec"]["deserved"] = {{"cpu", "4"}};
  cluster.queues["parent"]["spec"]["guarantee"] = {{"resource", {{"cpu", "2"}}}};
  json q = R"({"metadata": {"name": "research"}, "spec": {"parent": "parent",
              "deserved": {"cpu": "3"}, "guarantee": {"resource": {"cpu": "3"}}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.guarantee.resource",
                  "Forbidden: parent queue parent validation failed: sum of children's guarantee (cpu 3000.00, "
                  "memory 0.00) exceeds parent's guarantee limit (cpu 2000.00, memory 0.00)"));
}

TEST_CASE("queue children may not deserve more than their parent") {
  FakeQueues cluster;
  cluster.queues["parent"]["spec"]["deserved"] = {{"cpu", "4"}};
  cluster.queues["child"]["spec"]["deserved"] = {{"cpu", "3"}};
  json q = R"({"metadata": {"name": "research"}, "spec": {"parent": "parent", "deserved": {"cpu": "2"}}})"_json;
  auto e = refuse_create(queues(), q, cluster.ctx());
  CHECK(has_cause(e, "spec.deserved",
                  "Forbidden: parent queue parent validation failed: sum of children's deserved (cpu 5000.00, "
                  "memory 0.00) exceeds parent's deserved limit (cpu 4000.00, memory 0.00)"));
  q["spec"]["deserved"]["cpu"] = "1";
  CHECK_NOTHROW(admit_create(queues(), q, cluster.ctx()));
}

TEST_CASE("queue capability may not drop below a descendant's") {
  FakeQueues cluster;
  cluster.queues["child"]["spec"]["capability"] = {{"cpu", "4"}};
  json old_q = cluster.queues.at("parent");
  json q = old_q;
  q["spec"]["capability"] = {{"cpu", "2"}};
  auto e = refuse_update(queues(), old_q, q, cluster.ctx());
  CHECK(has_cause(e, "spec.capability[cpu]",
                  "Invalid value: \"2\": queue parent capability[cpu]=2 is smaller than its descendants' max "
                  "capability=4"));
}

TEST_CASE("queue update of a parent checks its children's sums") {
  FakeQueues cluster;
  cluster.queues["child"]["spec"]["deserved"] = {{"cpu", "3"}};
  json old_q = cluster.queues.at("parent");
  json q = old_q;
  q["spec"]["deserved"] = {{"cpu", "2"}};
  auto e = refuse_update(queues(), old_q, q, cluster.ctx());
  CHECK(has_cause(e, "spec.deserved",
                  "Forbidden: queue parent validation failed: sum of children's deserved (cpu 3000.00, memory 0.00) "
                  "exceeds parent's deserved limit (cpu 2000.00, memory 0.00)"));
}

TEST_CASE("queue delete allows a leaf queue and other kinds") {
  FakeQueues cluster;
  CHECK_NOTHROW(admit_delete(queues(), cluster.queues.at("closed"), cluster.ctx()));
  CHECK_NOTHROW(admit_delete(jobs(), valid_job(), cluster.ctx()));
}

// --- PodGroup --------------------------------------------------------------------------------

namespace {
json valid_podgroup() {
  return R"({"metadata": {"name": "pg"}, "spec": {"minMember": 2}})"_json;
}
}  // namespace

TEST_CASE("podgroup create defaults the queue") {
  FakeQueues cluster;
  json pg = valid_podgroup();
  admit_create(podgroups(), pg, cluster.ctx());
  CHECK(pg["spec"]["queue"] == "default");
  CHECK(pg["apiVersion"] == "scheduling.volcano.sh/v1beta1");
  CHECK(pg["metadata"]["namespace"] == "default");
}

TEST_CASE("podgroup minMember below zero is refused") {
  FakeQueues cluster;
  json pg = valid_podgroup();
  pg["spec"]["minMember"] = -1;
  auto e = refuse_create(podgroups(), pg, cluster.ctx());
  CHECK(std::string(e.what()) ==
        "PodGroup.scheduling.volcano.sh \"pg\" is invalid: spec.minMember: Invalid value: -1: must be greater than "
        "or equal to 0");
}

TEST_CASE("podgroup minTaskMember below zero is refused") {
  FakeQueues cluster;
  json pg = valid_podgroup();
  pg["spec"]["minTaskMember"] = {{"worker", -2}};
  auto e = refuse_create(podgroups(), pg, cluster.ctx());
  CHECK(has_cause(e, "spec.minTaskMember[worker]", "Invalid value: -2: must be greater than or equal to 0"));
}

TEST_CASE("podgroup minResources must hold quantities") {
  FakeQueues cluster;
  json pg = valid_podgroup();
  pg["spec"]["minResources"] = {{"cpu", "x1"}};
  auto e = refuse_create(podgroups(), pg, cluster.ctx());
  CHECK(has_cause_prefix(e, "spec.minResources[cpu]", "Invalid value: \"x1\": quantities must match"));
}

TEST_CASE("podgroup queue must exist") {
  FakeQueues cluster;
  json pg = valid_podgroup();
  pg["spec"]["queue"] = "nowhere";
  auto e = refuse_create(podgroups(), pg, cluster.ctx());
  CHECK(has_cause(e, "spec.queue",
                  "Invalid value: \"nowhere\": unable to find queue: queues.scheduling.volcano.sh \"nowhere\" not found"));
}

TEST_CASE("podgroup queue must be Open") {
  FakeQueues cluster;
  json pg = valid_podgroup();
  pg["spec"]["queue"] = "closed";
  auto e = refuse_create(podgroups(), pg, cluster.ctx());
  CHECK(has_cause(e, "spec.queue",
                  "Invalid value: \"closed\": can only submit PodGroup to queue with state `Open`, queue `closed` "
                  "status is `Closed`."));
}

TEST_CASE("podgroup update is allowed after its queue closed") {
  FakeQueues cluster;
  json pg = valid_podgroup();
  pg["spec"]["queue"] = "closed";
  json old_pg = pg;
  pg["status"] = {{"phase", "Running"}};
  admit_update(podgroups(), old_pg, pg, cluster.ctx());
  CHECK(pg["status"]["phase"] == "Running");
}

TEST_CASE("podgroup networkTopology tiers are exclusive") {
  FakeQueues cluster;
  json pg = valid_podgroup();
  pg["spec"]["networkTopology"] = {{"mode", "hard"}, {"highestTierAllowed", 1}, {"highestTierName", "rack"}};
  auto e = refuse_create(podgroups(), pg, cluster.ctx());
  CHECK(has_cause(e, "spec.networkTopology.highestTierName",
                  "Forbidden: must not specify 'highestTierAllowed' and 'highestTierName' in networkTopology "
                  "simultaneously"));
}

// --- Command ---------------------------------------------------------------------------------

namespace {
json valid_command() {
  return R"({"metadata": {"name": "demo-abortjob-x1"}, "action": "AbortJob",
             "target": {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "name": "demo", "uid": "u"}})"_json;
}
}  // namespace

TEST_CASE("command with a known action and target is accepted") {
  FakeQueues cluster;
  json cmd = valid_command();
  admit_create(commands(), cmd, cluster.ctx());
  CHECK(cmd["apiVersion"] == "bus.volcano.sh/v1alpha1");
  CHECK(cmd["kind"] == "Command");
}

TEST_CASE("command action is required") {
  FakeQueues cluster;
  json cmd = valid_command();
  cmd.erase("action");
  auto e = refuse_create(commands(), cmd, cluster.ctx());
  CHECK(std::string(e.what()) == "Command.bus.volcano.sh \"demo-abortjob-x1\" is invalid: action: Required value");
}

TEST_CASE("command action must be a known action") {
  FakeQueues cluster;
  json cmd = valid_command();
  cmd["action"] = "Explode";
  auto e = refuse_create(commands(), cmd, cluster.ctx());
  CHECK(has_cause(e, "action",
                  "Unsupported value: \"Explode\": supported values: \"AbortJob\", \"CompleteJob\", \"RestartJob\", "
                  "\"RestartPartition\", \"RestartPod\", \"RestartTask\", \"ResumeJob\", \"TerminateJob\", "
                  "\"OpenQueue\", \"CloseQueue\""));
}

TEST_CASE("command target is required") {
  FakeQueues cluster;
  json cmd = valid_command();
  cmd.erase("target");
  auto e = refuse_create(commands(), cmd, cluster.ctx());
  CHECK(has_cause(e, "target", "Required value"));
  cmd["target"] = json::object();
  e = refuse_create(commands(), cmd, cluster.ctx());
  CHECK(has_cause(e, "target.name", "Required value"));
  CHECK(has_cause(e, "target.kind", "Required value"));
}

TEST_CASE("command target kind must be Job or Queue") {
  FakeQueues cluster;
  json cmd = valid_command();
  cmd["target"]["kind"] = "Pod";
  auto e = refuse_create(commands(), cmd, cluster.ctx());
  CHECK(has_cause(e, "target.kind", "Unsupported value: \"Pod\": supported values: \"Job\", \"Queue\""));
}

TEST_CASE("command action must fit the target kind") {
  FakeQueues cluster;
  json cmd = valid_command();
  cmd["action"] = "OpenQueue";
  auto e = refuse_create(commands(), cmd, cluster.ctx());
  CHECK(has_cause(e, "action", "Invalid value: \"OpenQueue\": action OpenQueue does not apply to a Job"));
  cmd["target"]["kind"] = "Queue";
  CHECK_NOTHROW(admit_create(commands(), cmd, cluster.ctx()));
}

// --- Pod, Node, Namespace, Event -------------------------------------------------------------

namespace {
json valid_pod() {
  return R"({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox",
             "resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": 1}}}]}})"_json;
}
}  // namespace

TEST_CASE("pod with containers and valid resources is accepted") {
  FakeQueues cluster;
  json pod = valid_pod();
  admit_create(pods(), pod, cluster.ctx());
  CHECK(pod["apiVersion"] == "v1");
  CHECK(pod["metadata"]["namespace"] == "default");
}

TEST_CASE("pod containers are required") {
  FakeQueues cluster;
  json pod = R"({"metadata": {"name": "p"}, "spec": {}})"_json;
  auto e = refuse_create(pods(), pod, cluster.ctx());
  CHECK(std::string(e.what()) == "Pod \"p\" is invalid: spec.containers: Required value");
  pod.erase("spec");
  e = refuse_create(pods(), pod, cluster.ctx());
  CHECK(has_cause(e, "spec.containers", "Required value"));
}

TEST_CASE("pod container image is required") {
  FakeQueues cluster;
  json pod = valid_pod();
  pod["spec"]["containers"][0].erase("image");
  auto e = refuse_create(pods(), pod, cluster.ctx());
  CHECK(has_cause(e, "spec.containers[0].image", "Required value"));
}

TEST_CASE("pod container requests above limits are refused") {
  FakeQueues cluster;
  json pod = valid_pod();
  pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "2";
  auto e = refuse_create(pods(), pod, cluster.ctx());
  CHECK(std::string(e.what()) ==
        "Pod \"p\" is invalid: spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than "
        "or equal to cpu limit of 1");
}

TEST_CASE("node capacity and allocatable must hold quantities") {
  FakeQueues cluster;
  json node = R"({"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "8", "memory": "bad"},
                  "allocatable": {"pods": "1.5"}}})"_json;
  auto e = refuse_create(nodes(), node, cluster.ctx());
  CHECK(has_cause_prefix(e, "status.capacity[memory]", "Invalid value: \"bad\": quantities must match"));
  CHECK(has_cause(e, "status.allocatable[pods]", "Invalid value: 1500m: must be an integer"));
  CHECK(std::string(e.what()).rfind("Node \"n1\" is invalid: [", 0) == 0);
}

TEST_CASE("node with valid quantities is accepted without a namespace") {
  FakeQueues cluster;
  json node = R"({"metadata": {"name": "n1", "namespace": "x"}, "status": {"capacity": {"cpu": 8}}})"_json;
  admit_create(nodes(), node, cluster.ctx());
  CHECK_FALSE(node["metadata"].contains("namespace"));
}

TEST_CASE("namespace names must be DNS-1123 labels") {
  FakeQueues cluster;
  json ns = R"({"metadata": {"name": "team.a"}})"_json;
  auto e = refuse_create(namespaces(), ns, cluster.ctx());
  CHECK(has_cause(e, "metadata.name", "Invalid value: \"team.a\": must not contain dots"));
  ns["metadata"]["name"] = "Team";
  e = refuse_create(namespaces(), ns, cluster.ctx());
  CHECK(has_cause_prefix(e, "metadata.name", "Invalid value: \"Team\": a lowercase RFC 1123 label"));
  ns["metadata"]["name"] = "team-a";
  admit_create(namespaces(), ns, cluster.ctx());
  CHECK(ns["kind"] == "Namespace");
}

TEST_CASE("event gets the default namespace") {
  FakeQueues cluster;
  json ev = R"({"metadata": {"name": "demo.17a"}, "reason": "Scheduled"})"_json;
  admit_create(events(), ev, cluster.ctx());
  CHECK(ev["metadata"]["namespace"] == "default");
  CHECK(ev["apiVersion"] == "v1");
}
