// Job admission: Volcano's mutating defaults and every validateJob rule (create and update),
// each with its exact field path and message.

#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "admission_fixture.h"

using namespace kai::api;
using namespace kai::test;
using nlohmann::json;

namespace {

json& task0(json& job) { return job["spec"]["tasks"][0]; }
json& container0(json& job) { return task0(job)["template"]["spec"]["containers"][0]; }

json second_task(const std::string& name, int replicas) {
  json t = valid_job()["spec"]["tasks"][0];
  t["name"] = name;
  t["replicas"] = replicas;
  return t;
}

kai::Error refuse(const json& job) {
  FakeQueues cluster;
  return refuse_create(jobs(), job, cluster.ctx());
}

}  // namespace

// --- defaults --------------------------------------------------------------------------------

TEST_CASE("job defaults queue scheduler maxRetry and minAvailable") {
  FakeQueues cluster;
  json job = valid_job();
  job["spec"]["tasks"].push_back(second_task("ps", 1));
  admit_create(jobs(), job, cluster.ctx());
  CHECK(job["spec"]["queue"] == "default");
  CHECK(job["spec"]["schedulerName"] == "kai-scheduler");
  CHECK(job["spec"]["maxRetry"] == 3);
  CHECK(job["spec"]["minAvailable"] == 3);
  CHECK(task0(job)["minAvailable"] == 2);
  CHECK(task0(job)["maxRetry"] == 3);
  CHECK(job["spec"]["tasks"][1]["minAvailable"] == 1);
}

TEST_CASE("job default scheduler is volcano unless the context says otherwise") {
  json job = valid_job();
  FakeQueues cluster;
  AdmissionContext ctx = cluster.ctx();
  ctx.default_scheduler = AdmissionContext{}.default_scheduler;
  admit_create(jobs(), job, ctx);
  CHECK(job["spec"]["schedulerName"] == "volcano");
}

TEST_CASE("job defaults task names to default and the index") {
  FakeQueues cluster;
  json job = valid_job();
  task0(job).erase("name");
  job["spec"]["tasks"].push_back(second_task("", 1));
  admit_create(jobs(), job, cluster.ctx());
  CHECK(task0(job)["name"] == "default0");
  CHECK(job["spec"]["tasks"][1]["name"] == "default1");
}

TEST_CASE("job minAvailable is the sum of explicit task minAvailable") {
  FakeQueues cluster;
  json job = valid_job();
  task0(job)["minAvailable"] = 1;
  job["spec"]["tasks"].push_back(second_task("ps", 3));
  admit_create(jobs(), job, cluster.ctx());
  CHECK(job["spec"]["minAvailable"] == 4);
  CHECK(task0(job)["minAvailable"] == 1);
}

TEST_CASE("job keeps explicit queue scheduler maxRetry and minAvailable") {
  FakeQueues cluster;
  json job = valid_job();
  job["spec"]["queue"] = "child";
  job["spec"]["schedulerName"] = "other";
  job["spec"]["maxRetry"] = 7;
  job["spec"]["minAvailable"] = 1;
  task0(job)["maxRetry"] = -1;
  admit_create(jobs(), job, cluster.ctx());
  CHECK(job["spec"]["queue"] == "child");
  CHECK(job["spec"]["schedulerName"] == "other");
  CHECK(job["spec"]["maxRetry"] == 7);
  CHECK(job["spec"]["minAvailable"] == 1);
  CHECK(task0(job)["maxRetry"] == -1);
}

TEST_CASE("job with hostNetwork gets the ClusterFirstWithHostNet dnsPolicy") {
  FakeQueues cluster;
  json job = valid_job();
  task0(job)["template"]["spec"]["hostNetwork"] = true;
  admit_create(jobs(), job, cluster.ctx());
  CHECK(task0(job)["template"]["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet");
}

TEST_CASE("job mpi plugin adds svc and ssh plugins") {
  FakeQueues cluster;
  json job = valid_job();
  task0(job)["name"] = "master";
  task0(job)["replicas"] = 1;
  job["spec"]["tasks"].push_back(second_task("worker", 2));
  job["spec"]["plugins"] = {{"mpi", json::array()}};
  admit_create(jobs(), job, cluster.ctx());
  CHECK(job["spec"]["plugins"]["svc"] == json::array());
  CHECK(job["spec"]["plugins"]["ssh"] == json::array());
}

TEST_CASE("job pytorch plugin adds only the svc plugin") {
  FakeQueues cluster;
  json job = valid_job();
  job["spec"]["plugins"] = {{"pytorch", {"--master=worker"}}, {"env", json::array()}};
  admit_create(jobs(), job, cluster.ctx());
  CHECK(job["spec"]["plugins"].contains("svc"));
  CHECK_FALSE(job["spec"]["plugins"].contains("ssh"));
  CHECK(job["spec"]["plugins"]["pytorch"] == json{"--master=worker"});
}

TEST_CASE("job task minAvailable defaults from the partition policy") {
  FakeQueues cluster;
  json job = valid_job();
  task0(job)["replicas"] = 8;
  task0(job)["partitionPolicy"] = {{"totalPartitions", 4}, {"partitionSize", 2}, {"minPartitions", 2}};
  admit_create(jobs(), job, cluster.ctx());
  CHECK(task0(job)["minAvailable"] == 4);
  CHECK(job["spec"]["minAvailable"] == 4);
}

// --- create rules ----------------------------------------------------------------------------

TEST_CASE("job without tasks is refused") {
  json job = valid_job();
  job["spec"]["tasks"] = json::array();
  auto e = refuse(job);
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: spec.tasks: Required value: No task specified in job spec");
  job["spec"].erase("tasks");
  CHECK(has_cause(refuse(job), "spec.tasks", "Required value: No task specified in job spec"));
}

TEST_CASE("job with duplicated task names is refused") {
  json job = valid_job();
  job["spec"]["tasks"].push_back(second_task("worker", 1));
  auto e = refuse(job);
  CHECK(std::string(e.what()) == "Job.batch.volcano.sh \"demo\" is invalid: spec.tasks[1].name: Duplicate value: \"worker\"");
}

TEST_CASE("job task minAvailable greater than replicas is refused") {
  json job = valid_job();
  job["metadata"]["name"] = "j";
  task0(job)["name"] = "t";
  task0(job)["minAvailable"] = 5;
  auto e = refuse(job);
  CHECK(has_cause(e, "spec.tasks[0].minAvailable",
                  "Invalid value: 5: 'minAvailable' is greater than 'replicas' in task: t, job: j"));
}

TEST_CASE("job task replicas below zero is refused") {
  json job = valid_job();
  job["spec"]["tasks"].push_back(second_task("ps", -1));
  auto e = refuse(job);
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: spec.tasks[1].replicas: Invalid value: -1: must be greater than or "
        "equal to 0");
}

TEST_CASE("job task minAvailable below zero is refused") {
  json job = valid_job();
  task0(job)["minAvailable"] = -1;
  auto e = refuse(job);
  CHECK(has_cause(e, "spec.tasks[0].minAvailable", "Invalid value: -1: must be greater than or equal to 0"));
}

TEST_CASE("job minAvailable below zero is refused") {
  json job = valid_job();
  job["spec"]["minAvailable"] = -1;
  auto e = refuse(job);
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: spec.minAvailable: Invalid value: -1: must be greater than or "
        "equal to 0");
}

TEST_CASE("job minAvailable above total replicas is refused") {
  json job = valid_job();
  job["spec"]["minAvailable"] = 3;
  auto e = refuse(job);
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: spec.minAvailable: Invalid value: 3: job 'minAvailable' should not "
        "be greater than total replicas in tasks");
}

TEST_CASE("job maxRetry below zero is refused") {
  json job = valid_job();
  job["spec"]["maxRetry"] = -1;
  CHECK(has_cause(refuse(job), "spec.maxRetry", "Invalid value: -1: must be greater than or equal to 0"));
}

TEST_CASE("job ttlSecondsAfterFinished below zero is refused") {
  json job = valid_job();
  job["spec"]["ttlSecondsAfterFinished"] = -5;
  CHECK(has_cause(refuse(job), "spec.ttlSecondsAfterFinished", "Invalid value: -5: must be greater than or equal to 0"));
}

TEST_CASE("job minSuccess below one is refused") {
  json job = valid_job();
  job["spec"]["minSuccess"] = 0;
  CHECK(has_cause(refuse(job), "spec.minSuccess", "Invalid value: 0: must be greater than or equal to 1"));
}

TEST_CASE("job task name must be a DNS-1123 label") {
  json job = valid_job();
  task0(job)["name"] = "Worker_1";
  auto e = refuse(job);
  CHECK(has_cause_prefix(e, "spec.tasks[0].name", "Invalid value: \"Worker_1\": a lowercase RFC 1123 label"));
}

TEST_CASE("job pod names must be DNS-1123 labels") {
  json job = valid_job();
  job["metadata"]["name"] = std::string(50, 'j');
  task0(job)["name"] = std::string(10, 't');
  task0(job)["replicas"] = 12;
  auto e = refuse(job);
  const std::string pod = std::string(50, 'j') + "-" + std::string(10, 't') + "-11";
  CHECK(has_cause_prefix(e, "spec.tasks[0].name",
                         "Invalid value: \"tttttttttt\": create pod with name " + pod + " validate failed ["));
  CHECK(std::string(e.what()).find("must be no more than 63 characters") != std::string::npos);
}

TEST_CASE("job name longer than 63 characters is refused") {
  json job = valid_job();
  const std::string name(64, 'a');
  job["metadata"]["name"] = name;
  auto e = refuse(job);
  CHECK(has_cause_prefix(e, "metadata.name",
                         "Invalid value: \"" + name + "\": create job with name " + name + " validate failed ["));
}

TEST_CASE("job template is required") {
  json job = valid_job();
  task0(job).erase("template");
  auto e = refuse(job);
  CHECK(has_cause(e, "spec.tasks[0].template.spec.containers", "Required value"));
}

// --- policies --------------------------------------------------------------------------------

TEST_CASE("job policy with event and exitCode is refused") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"event": "PodFailed", "exitCode": 3, "action": "RestartJob"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[0].exitCode",
                  "Invalid value: 3: must not specify event and exitCode simultaneously"));
}

TEST_CASE("job policy without event or exitCode is refused") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"action": "RestartJob"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[0]", "Required value: either event and exitCode should be specified"));
}

TEST_CASE("job policy event must be a user event") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"event": "OutOfSync", "action": "RestartJob"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[0].event",
                  "Invalid value: \"OutOfSync\": invalid policy event, valid events are [* PodFailed PodEvicted "
                  "PodPending Unknown TaskCompleted TaskFailed JobUpdated]"));
}

TEST_CASE("job policy events list entries are checked") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"events": ["PodEvicted", "Bogus"], "action": "RestartJob"}])"_json;
  CHECK(has_cause_prefix(refuse(job), "spec.policies[0].events[1]", "Invalid value: \"Bogus\": invalid policy event"));
}

TEST_CASE("job policy action must be a user action") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"event": "PodFailed", "action": "SyncJob"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[0].action",
                  "Invalid value: \"SyncJob\": invalid policy action, valid actions are [AbortJob RestartJob "
                  "RestartTask RestartPod RestartPartition TerminateJob CompleteJob ResumeJob]"));
}

TEST_CASE("job policy action is required") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"event": "PodFailed"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[0].action", "Required value"));
}

TEST_CASE("job policy event repeated across policies is refused") {
  json job = valid_job();
  job["spec"]["policies"] =
      R"([{"event": "PodFailed", "action": "RestartJob"}, {"events": ["PodFailed"], "action": "AbortJob"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[1].events[0]", "Duplicate value: \"PodFailed\""));
}

TEST_CASE("job policy event repeated inside one policy is accepted") {
  FakeQueues cluster;
  json job = valid_job();
  job["spec"]["policies"] = R"([{"event": "PodFailed", "events": ["PodFailed"], "action": "RestartJob"}])"_json;
  CHECK_NOTHROW(admit_create(jobs(), job, cluster.ctx()));
}

TEST_CASE("job policy exitCode zero is refused") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"exitCode": 0, "action": "RestartJob"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[0].exitCode", "Invalid value: 0: 0 is not a valid error code"));
}

TEST_CASE("job policy exitCode repeated is refused") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"exitCode": 3, "action": "RestartJob"}, {"exitCode": 3, "action": "AbortJob"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[1].exitCode", "Duplicate value: 3"));
}

TEST_CASE("job policy any event excludes other events") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"event": "*", "action": "AbortJob"}, {"event": "PodFailed", "action": "RestartJob"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies", "Forbidden: if there's * here, no other policy should be here"));
}

TEST_CASE("job policy timeout must be a duration") {
  json job = valid_job();
  job["spec"]["policies"] = R"([{"event": "PodPending", "action": "RestartJob", "timeout": "10x"}])"_json;
  CHECK(has_cause(refuse(job), "spec.policies[0].timeout",
                  "Invalid value: \"10x\": time: unknown unit \"x\" in duration \"10x\""));
  job["spec"]["policies"][0]["timeout"] = "1h30m";
  FakeQueues cluster;
  CHECK_NOTHROW(admit_create(jobs(), job, cluster.ctx()));
}

TEST_CASE("job task policies are checked with their task path") {
  json job = valid_job();
  task0(job)["policies"] = R"([{"event": "TaskCompleted", "action": "Explode"}])"_json;
  CHECK(has_cause_prefix(refuse(job), "spec.tasks[0].policies[0].action",
                         "Invalid value: \"Explode\": invalid policy action"));
}

// --- plugins, topology, partitions ------------------------------------------------------------

TEST_CASE("job unknown plugin is refused") {
  json job = valid_job();
  job["spec"]["plugins"] = {{"magic", json::array()}};
  CHECK(has_cause(refuse(job), "spec.plugins[magic]", "Invalid value: \"magic\": unable to find job plugin: magic"));
}

TEST_CASE("job mpi plugin without master task is refused") {
  json job = valid_job();
  job["spec"]["plugins"] = {{"mpi", json::array()}};
  auto e = refuse(job);
  CHECK(has_cause(e, "spec.plugins[mpi]", "Invalid value: \"master\": The specified mpi master task was not found"));
}

TEST_CASE("job mpi plugin honours master and worker arguments") {
  FakeQueues cluster;
  json job = valid_job();
  task0(job)["name"] = "launcher";
  task0(job)["replicas"] = 1;
  job["spec"]["tasks"].push_back(second_task("node", 2));
  job["spec"]["plugins"] = {{"mpi", {"--master=launcher", "--worker", "node"}}};
  CHECK_NOTHROW(admit_create(jobs(), job, cluster.ctx()));
  job["spec"]["plugins"]["mpi"] = {"--master=launcher"};
  CHECK(has_cause(refuse_create(jobs(), job, cluster.ctx()), "spec.plugins[mpi]",
                  "Invalid value: \"worker\": The specified mpi worker task was not found"));
}

TEST_CASE("job networkTopology tiers are exclusive") {
  json job = valid_job();
  job["spec"]["networkTopology"] = {{"mode", "hard"}, {"highestTierAllowed", 2}, {"highestTierName", "rack"}};
  CHECK(has_cause(refuse(job), "spec.networkTopology.highestTierName",
                  "Forbidden: must not specify 'highestTierAllowed' and 'highestTierName' in networkTopology "
                  "simultaneously"));
}

TEST_CASE("job networkTopology mode must be hard or soft") {
  json job = valid_job();
  job["spec"]["networkTopology"] = {{"mode", "strict"}};
  CHECK(has_cause(refuse(job), "spec.networkTopology.mode",
                  "Unsupported value: \"strict\": supported values: \"hard\", \"soft\""));
}

TEST_CASE("job partitionPolicy needs positive totalPartitions and partitionSize") {
  json job = valid_job();
  job["metadata"]["name"] = "j";
  task0(job)["name"] = "t";
  task0(job)["partitionPolicy"] = {{"totalPartitions", 0}, {"partitionSize", -1}};
  auto e = refuse(job);
  CHECK(has_cause(e, "spec.tasks[0].partitionPolicy.totalPartitions",
                  "Invalid value: 0: 'TotalPartitions' must be greater than 0 in task: t, job: j"));
  CHECK(has_cause(e, "spec.tasks[0].partitionPolicy.partitionSize",
                  "Invalid value: -1: 'PartitionSize' must be greater than 0 in task: t, job: j"));
}

TEST_CASE("job partitionPolicy replicas must equal totalPartitions times partitionSize") {
  json job = valid_job();
  job["metadata"]["name"] = "j";
  task0(job)["name"] = "t";
  task0(job)["replicas"] = 8;
  task0(job)["partitionPolicy"] = {{"totalPartitions", 2}, {"partitionSize", 3}};
  CHECK(has_cause(refuse(job), "spec.tasks[0].replicas",
                  "Invalid value: 8: 'Replicas' are not equal to TotalPartitions*PartitionSize in task: t, job: j"));
}

TEST_CASE("job partitionPolicy minAvailable must equal minPartitions times partitionSize") {
  json job = valid_job();
  job["metadata"]["name"] = "j";
  task0(job)["name"] = "t";
  task0(job)["replicas"] = 8;
  task0(job)["minAvailable"] = 4;
  task0(job)["partitionPolicy"] = {{"totalPartitions", 4}, {"partitionSize", 2}, {"minPartitions", 1}};
  CHECK(has_cause(refuse(job), "spec.tasks[0].minAvailable",
                  "Invalid value: 4: 'MinAvailable' is not equal to MinPartitions*PartitionSize in task: t, job: j"));
}

TEST_CASE("job topologyPolicy must be a known policy") {
  json job = valid_job();
  task0(job)["topologyPolicy"] = "numa";
  CHECK(has_cause(refuse(job), "spec.tasks[0].topologyPolicy",
                  "Unsupported value: \"numa\": supported values: \"none\", \"best-effort\", \"restricted\", "
                  "\"single-numa-node\""));
}

TEST_CASE("job topologyPolicy needs a Guaranteed pod") {
  json job = valid_job();
  task0(job)["name"] = "t";
  task0(job)["topologyPolicy"] = "single-numa-node";
  CHECK(has_cause(refuse(job), "spec.tasks[0].topologyPolicy",
                  "Invalid value: \"single-numa-node\": task t isn't Guaranteed pod, kind=Burstable"));
}

TEST_CASE("job topologyPolicy needs whole cpus") {
  json job = valid_job();
  task0(job)["topologyPolicy"] = "restricted";
  container0(job)["resources"] = {{"limits", {{"cpu", "1500m"}, {"memory", "1Gi"}}}};
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].resources.limits[cpu]",
                  "Invalid value: \"1500m\": the cpu request isn't an integer"));
  container0(job)["resources"]["limits"]["cpu"] = 2;
  FakeQueues cluster;
  CHECK_NOTHROW(admit_create(jobs(), job, cluster.ctx()));
}

// --- volumes ---------------------------------------------------------------------------------

TEST_CASE("job volume mountPath is required") {
  json job = valid_job();
  job["spec"]["volumes"] = R"([{"volumeClaimName": "data"}])"_json;
  CHECK(has_cause(refuse(job), "spec.volumes[0].mountPath", "Required value"));
}

TEST_CASE("job volume mountPath may not repeat") {
  json job = valid_job();
  job["spec"]["volumes"] =
      R"([{"mountPath": "/data", "volumeClaimName": "a"}, {"mountPath": "/data", "volumeClaimName": "b"}])"_json;
  CHECK(has_cause(refuse(job), "spec.volumes[1].mountPath", "Duplicate value: \"/data\""));
}

TEST_CASE("job volume mountPath may not contain a colon") {
  json job = valid_job();
  job["spec"]["volumes"] = R"([{"mountPath": "/a:b", "volumeClaimName": "a"}])"_json;
  CHECK(has_cause(refuse(job), "spec.volumes[0].mountPath", "Invalid value: \"/a:b\": must not contain ':'"));
}

TEST_CASE("job volume needs a claim or a claim name") {
  json job = valid_job();
  job["spec"]["volumes"] = R"([{"mountPath": "/data"}])"_json;
  CHECK(has_cause(refuse(job), "spec.volumes[0]",
                  "Required value: either VolumeClaim or VolumeClaimName must be specified"));
}

TEST_CASE("job volume claim and claim name conflict") {
  json job = valid_job();
  job["spec"]["volumes"] = R"([{"mountPath": "/data", "volumeClaimName": "a",
                                "volumeClaim": {"accessModes": ["ReadWriteOnce"]}}])"_json;
  CHECK(has_cause(refuse(job), "spec.volumes[0].volumeClaimName",
                  "Forbidden: conflict: If you want to use an existing PVC, just specify VolumeClaimName.If you want "
                  "to create a new PVC, you do not need to specify VolumeClaimName"));
}

TEST_CASE("job volume claim name must be a DNS-1123 subdomain") {
  json job = valid_job();
  job["spec"]["volumes"] = R"([{"mountPath": "/data", "volumeClaimName": "Data_1"}])"_json;
  CHECK(has_cause_prefix(refuse(job), "spec.volumes[0].volumeClaimName",
                         "Invalid value: \"Data_1\": invalid VolumeClaimName Data_1 : [a lowercase RFC 1123 subdomain"));
}

// --- queue -----------------------------------------------------------------------------------

TEST_CASE("job queue must exist") {
  json job = valid_job();
  job["spec"]["queue"] = "q";
  auto e = refuse(job);
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: spec.queue: Invalid value: \"q\": unable to find job queue: "
        "queues.scheduling.volcano.sh \"q\" not found");
}

TEST_CASE("job queue must be Open") {
  json job = valid_job();
  job["spec"]["queue"] = "closed";
  CHECK(has_cause(refuse(job), "spec.queue",
                  "Invalid value: \"closed\": can only submit job to queue with state `Open`, queue `closed` status "
                  "is `Closed`"));
}

TEST_CASE("job queue may not be root") {
  json job = valid_job();
  job["spec"]["queue"] = "root";
  CHECK(has_cause(refuse(job), "spec.queue", "Invalid value: \"root\": can not submit job to root queue"));
}

TEST_CASE("job queue must be a leaf queue") {
  json job = valid_job();
  job["spec"]["queue"] = "parent";
  CHECK(has_cause(refuse(job), "spec.queue",
                  "Invalid value: \"parent\": can only submit job to leaf queue, queue `parent` has 1 child queues"));
}

TEST_CASE("job in a leaf queue is accepted") {
  FakeQueues cluster;
  json job = valid_job();
  job["spec"]["queue"] = "child";
  CHECK_NOTHROW(admit_create(jobs(), job, cluster.ctx()));
}

// --- dependsOn -------------------------------------------------------------------------------

TEST_CASE("job dependsOn must form a DAG") {
  json job = valid_job();
  job["spec"]["tasks"].push_back(second_task("ps", 1));
  task0(job)["dependsOn"] = {{"name", {"ps"}}};
  job["spec"]["tasks"][1]["dependsOn"] = {{"name", {"worker"}}};
  CHECK(has_cause(refuse(job), "spec.tasks",
                  "Forbidden: job has dependencies between tasks, but doesn't form a directed acyclic graph(DAG)"));
}

TEST_CASE("job dependsOn names must be tasks of the job") {
  json job = valid_job();
  task0(job)["dependsOn"] = {{"name", {"nobody"}}};
  CHECK(has_cause(refuse(job), "spec.tasks[0].dependsOn.name[0]", "Not found: \"nobody\""));
}

TEST_CASE("job dependsOn iteration must be any or all") {
  json job = valid_job();
  job["spec"]["tasks"].push_back(second_task("ps", 1));
  task0(job)["dependsOn"] = {{"name", {"ps"}}, {"iteration", "some"}};
  CHECK(has_cause(refuse(job), "spec.tasks[0].dependsOn.iteration",
                  "Unsupported value: \"some\": supported values: \"any\", \"all\""));
}

TEST_CASE("job dependsOn chain is accepted") {
  FakeQueues cluster;
  json job = valid_job();
  job["spec"]["tasks"].push_back(second_task("ps", 1));
  job["spec"]["tasks"].push_back(second_task("eval", 1));
  task0(job)["dependsOn"] = {{"name", {"ps"}}, {"iteration", "all"}};
  job["spec"]["tasks"][2]["dependsOn"] = {{"name", {"worker", "ps"}}};
  CHECK_NOTHROW(admit_create(jobs(), job, cluster.ctx()));
}

// --- pod template ----------------------------------------------------------------------------

TEST_CASE("job template needs at least one container") {
  json job = valid_job();
  task0(job)["template"]["spec"]["containers"] = json::array();
  auto e = refuse(job);
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: spec.tasks[0].template.spec.containers: Required value");
}

TEST_CASE("job container name is required") {
  json job = valid_job();
  container0(job).erase("name");
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].name", "Required value"));
}

TEST_CASE("job container name must be a DNS-1123 label") {
  json job = valid_job();
  container0(job)["name"] = "Main";
  CHECK(has_cause_prefix(refuse(job), "spec.tasks[0].template.spec.containers[0].name",
                         "Invalid value: \"Main\": a lowercase RFC 1123 label"));
}

TEST_CASE("job container names are unique across init and regular containers") {
  json job = valid_job();
  task0(job)["template"]["spec"]["initContainers"] = R"([{"name": "main", "image": "busybox"}])"_json;
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.initContainers[0].name", "Duplicate value: \"main\""));
}

TEST_CASE("job container image is required") {
  json job = valid_job();
  container0(job)["image"] = "";
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].image", "Required value"));
}

TEST_CASE("job container quantities must parse") {
  json job = valid_job();
  container0(job)["resources"]["requests"]["cpu"] = "one";
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].resources.requests[cpu]",
                  "Invalid value: \"one\": quantities must match the regular expression "
                  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
}

TEST_CASE("job container quantities may not be negative") {
  json job = valid_job();
  container0(job)["resources"]["limits"]["memory"] = "-64Mi";
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].resources.limits[memory]",
                  "Invalid value: \"-64Mi\": must be greater than or equal to 0"));
}

TEST_CASE("job container requests may not exceed limits") {
  json job = valid_job();
  container0(job)["resources"]["requests"]["memory"] = "1Gi";
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].resources.requests[memory]",
                  "Invalid value: \"1Gi\": must be less than or equal to memory limit of 64Mi"));
}

TEST_CASE("job container extended resources need equal whole limits") {
  json job = valid_job();
  container0(job)["resources"]["requests"]["nvidia.com/gpu"] = 1;
  auto e = refuse(job);
  CHECK(has_cause(e, "spec.tasks[0].template.spec.containers[0].resources.limits",
                  "Required value: Limit must be set for non overcommitable resources"));
  container0(job)["resources"]["limits"]["nvidia.com/gpu"] = 2;
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].resources.requests[nvidia.com/gpu]",
                  "Invalid value: \"1\": must be equal to nvidia.com/gpu limit of 2"));
  container0(job)["resources"]["requests"]["nvidia.com/gpu"] = "0.5";
  container0(job)["resources"]["limits"]["nvidia.com/gpu"] = "0.5";
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].resources.limits[nvidia.com/gpu]",
                  "Invalid value: 500m: must be an integer"));
}

TEST_CASE("job container resource names must be standard or qualified") {
  json job = valid_job();
  container0(job)["resources"]["limits"]["gpu"] = 1;
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.containers[0].resources.limits[gpu]",
                  "Invalid value: \"gpu\": must be a standard resource for containers"));
}

TEST_CASE("job template restartPolicy must be known") {
  json job = valid_job();
  task0(job)["template"]["spec"]["restartPolicy"] = "Sometimes";
  CHECK(has_cause(refuse(job), "spec.tasks[0].template.spec.restartPolicy",
                  "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""));
}

TEST_CASE("job template labels are validated") {
  json job = valid_job();
  task0(job)["template"]["metadata"] = {{"labels", {{"app", "bad value"}}}};
  CHECK(has_cause_prefix(refuse(job), "spec.tasks[0].template.metadata.labels", "Invalid value: \"bad value\": "));
}

// --- update ----------------------------------------------------------------------------------

TEST_CASE("job update may change status freely") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  json job = old_job;
  job["status"] = {{"state", {{"phase", "Running"}}}, {"running", 2}};
  admit_update(jobs(), old_job, job, cluster.ctx());
  CHECK(job["status"]["running"] == 2);
}

TEST_CASE("job update may change replicas minAvailable and priorityClassName") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  json job = old_job;
  task0(job)["replicas"] = 4;
  task0(job)["minAvailable"] = 3;
  job["spec"]["minAvailable"] = 3;
  job["spec"]["priorityClassName"] = "high";
  admit_update(jobs(), old_job, job, cluster.ctx());
  CHECK(task0(job)["replicas"] == 4);
}

TEST_CASE("job update may not add or remove tasks") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  json job = old_job;
  job["spec"]["tasks"].push_back(second_task("ps", 1));
  auto e = refuse_update(jobs(), old_job, job, cluster.ctx());
  CHECK(std::string(e.what()) ==
        "Job.batch.volcano.sh \"demo\" is invalid: spec.tasks: Forbidden: job updates may not add or remove tasks");
}

TEST_CASE("job update may not change other spec fields") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  json job = old_job;
  container0(job)["image"] = "alpine";
  auto e = refuse_update(jobs(), old_job, job, cluster.ctx());
  CHECK(has_cause(e, "spec",
                  "Forbidden: job updates may not change fields other than `minAvailable`, `tasks[*].replicas under "
                  "spec` and `PriorityClassName`"));
  job = old_job;
  job["spec"]["queue"] = "child";
  CHECK(has_cause_prefix(refuse_update(jobs(), old_job, job, cluster.ctx()), "spec", "Forbidden: job updates may not"));
}

TEST_CASE("job update checks task minAvailable against replicas") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  json job = old_job;
  task0(job)["minAvailable"] = 5;
  auto e = refuse_update(jobs(), old_job, job, cluster.ctx());
  CHECK(has_cause(e, "spec.tasks[0].minAvailable", "Invalid value: 5: 'minAvailable' must be <= 'replicas' in task: worker"));
}

TEST_CASE("job update checks minAvailable against total replicas") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  json job = old_job;
  job["spec"]["minAvailable"] = 9;
  auto e = refuse_update(jobs(), old_job, job, cluster.ctx());
  CHECK(has_cause(e, "spec.minAvailable", "Invalid value: 9: job 'minAvailable' must not be greater than total replicas"));
}

TEST_CASE("job update checks replicas below zero") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  json job = old_job;
  task0(job)["replicas"] = -1;
  task0(job)["minAvailable"] = 0;
  job["spec"]["minAvailable"] = 0;
  auto e = refuse_update(jobs(), old_job, job, cluster.ctx());
  CHECK(has_cause(e, "spec.tasks[0].replicas", "Invalid value: -1: must be greater than or equal to 0"));
}

TEST_CASE("job update with the original manifest keeps its defaults") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  json job = valid_job();
  admit_update(jobs(), old_job, job, cluster.ctx());
  CHECK(job["spec"] == old_job["spec"]);
}

TEST_CASE("job update ignores the claim name the controller filled in") {
  FakeQueues cluster;
  json job0 = valid_job();
  job0["spec"]["volumes"] = R"([{"mountPath": "/data", "volumeClaim": {"accessModes": ["ReadWriteOnce"]}}])"_json;
  admit_create(jobs(), job0, cluster.ctx());
  json job = job0;
  job["spec"]["volumes"][0]["volumeClaimName"] = "demo-pvc-abc";
  CHECK_NOTHROW(admit_update(jobs(), job0, job, cluster.ctx()));
}

TEST_CASE("job update is allowed after its queue closed") {
  FakeQueues cluster;
  json old_job = admitted_job(cluster);
  cluster.queues["default"]["status"]["state"] = "Closed";
  json job = old_job;
  task0(job)["replicas"] = 3;
  CHECK_NOTHROW(admit_update(jobs(), old_job, job, cluster.ctx()));
}

// --- robustness ------------------------------------------------------------------------------

TEST_CASE("admission reports odd shapes as kai Error and nothing else") {
  // Replace every node of an admitted Job (and of a Queue) by values of every JSON type: admission
  // may accept or refuse, but must not crash or leak a nlohmann exception.
  FakeQueues cluster;
  const json samples[] = {json(), json("x"), json(-1), json(2.5), json(true), json::array(), json::object(),
                          json::array({1, "a"}), json{{"k", "v"}}};
  struct Case {
    const ResourceInfo* res;
    json obj;
  };
  json queue = cluster.queues.at("child");
  queue["spec"]["capability"] = {{"cpu", "4"}};
  queue["spec"]["guarantee"] = {{"resource", {{"cpu", "1"}}}};
  queue["spec"]["deserved"] = {{"cpu", "2"}};
  json job = admitted_job(cluster);
  job["spec"]["policies"] = R"([{"event": "PodFailed", "action": "RestartJob", "timeout": "1m"}])"_json;
  job["spec"]["volumes"] = R"([{"mountPath": "/d", "volumeClaimName": "c"}])"_json;
  job["spec"]["plugins"] = {{"mpi", {"--master=worker"}}};
  job["spec"]["networkTopology"] = {{"mode", "soft"}};
  job["spec"]["tasks"][0]["dependsOn"] = {{"name", {"worker"}}, {"iteration", "any"}};
  job["spec"]["tasks"][0]["partitionPolicy"] = {{"totalPartitions", 1}, {"partitionSize", 2}};
  job["spec"]["tasks"][0]["topologyPolicy"] = "restricted";
  json command = R"({"metadata": {"name": "c"}, "action": "AbortJob", "target": {"kind": "Job", "name": "demo"}})"_json;
  json pg = R"({"metadata": {"name": "pg"}, "spec": {"minMember": 1, "minTaskMember": {"a": 1},
                "minResources": {"cpu": "1"}, "networkTopology": {"highestTierAllowed": 1}}})"_json;
  const Case cases[] = {{&jobs(), job}, {&queues(), queue}, {&commands(), command}, {&podgroups(), pg}};
  int runs = 0;
  for (const auto& c : cases) {
    const json flat = c.obj.flatten();
    std::set<std::string> pointers;
    for (const auto& [leaf, _] : flat.items()) {
      // every prefix of every leaf path: containers as well as leaves
      for (std::size_t pos = leaf.find('/', 1);; pos = leaf.find('/', pos + 1)) {
        pointers.insert(leaf.substr(0, pos));
        if (pos == std::string::npos) break;
      }
    }
    for (const auto& p : pointers) {
      for (const auto& sample : samples) {
        json obj = c.obj;
        obj[json::json_pointer(p)] = sample;
        json old_obj = c.obj;
        try {
          admit_create(*c.res, obj, cluster.ctx());
        } catch (const kai::Error&) {
        }
        try {
          admit_update(*c.res, old_obj, obj, cluster.ctx());
        } catch (const kai::Error&) {
        }
        try {
          admit_delete(*c.res, obj, cluster.ctx());
        } catch (const kai::Error&) {
        }
        ++runs;
      }
    }
  }
  CHECK(runs > 500);
}
