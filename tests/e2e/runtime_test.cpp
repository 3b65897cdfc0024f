// End to end: jobs actually run on the embedded cluster. The real kai binary schedules gangs,
// starts pods as processes under supervisors, and jobs reach Completed or Failed.

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::get_json;
using kai::test::KaiEnv;
using nlohmann::json;

namespace {

std::string job_yaml(const std::string& name, int replicas, int min, const std::string& cpu, const std::string& cmd,
                     const std::string& extra_spec = "", const std::string& restart = "Never") {
  return "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: " + name +
         "\nspec:\n  minAvailable: " + std::to_string(min) + "\n  schedulerName: volcano\n" + extra_spec +
         "  tasks:\n  - name: worker\n    replicas: " + std::to_string(replicas) +
         "\n    template:\n      spec:\n        restartPolicy: " + restart +
         "\n        terminationGracePeriodSeconds: 2\n        containers:\n        - name: main\n          image: busybox\n"
         "          command: [\"sh\", \"-c\", \"" + cmd + "\"]\n          resources:\n            requests: {cpu: \"" + cpu +
         "\", memory: 64Mi}\n";
}

/// Pids recorded by the pods' supervisors ("pid:start").
std::vector<pid_t> supervisor_pids(const KaiEnv& env) {
  std::vector<pid_t> pids;
  const json all = get_json(env, {"get", "pods"});
  for (const auto& p : all["items"]) {
    const json& a = p["metadata"].value("annotations", json::object());
    std::string s = a.value("kai.dev/supervisor", std::string());
    if (s.empty() || s.rfind("launching", 0) == 0) continue;
    pids.push_back(static_cast<pid_t>(std::stol(s.substr(0, s.find(':')))));
  }
  return pids;
}

bool alive(pid_t pid) { return kai::test::process_alive(pid); }

}  // namespace

TEST_CASE("a master and workers meet over TCP through the injected env and the job completes") {
  KaiEnv env;
  auto r = env.kai({"job", "submit", "-f", "examples/rendezvous.yaml"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  r = env.kai({"job", "wait", "rendezvous", "--timeout", "60s"});
  INFO(r.out << r.err << env.kai({"job", "view", "rendezvous"}).out << env.kai({"job", "logs", "rendezvous"}).out);
  REQUIRE(r.code == 0);
  CHECK(r.out == "job.batch.volcano.sh/rendezvous condition met\n");
  auto logs = env.kai({"job", "logs", "rendezvous", "--task", "master"});
  CHECK(logs.code == 0);
  CHECK(logs.out == "rank 0: all 3 ranks joined: 0,1,2\n");
  logs = env.kai({"job", "logs", "rendezvous", "--task", "worker", "--index", "1"});
  CHECK(logs.out == "rank 2: joined via rendezvous-master-0.rendezvous:23456: 0,1,2\n");
  auto job = get_json(env, {"get", "vcjob", "rendezvous"});
  CHECK(job["status"]["state"]["phase"] == "Completed");
  CHECK(job["status"]["succeeded"] == 3);
  // Volcano's labels, annotations and plugin env on the pods.
  auto pod = get_json(env, {"get", "pod", "rendezvous-worker-1"});
  CHECK(pod["metadata"]["annotations"]["volcano.sh/task-spec"] == "worker");
  CHECK(pod["metadata"]["labels"]["volcano.sh/job-name"] == "rendezvous");
  CHECK(pod["spec"]["nodeName"].get<std::string>().rfind("node-", 0) == 0);
  std::map<std::string, std::string> envs;
  for (const auto& e : pod["spec"]["containers"][0]["env"]) envs[e["name"]] = e.value("value", std::string());
  CHECK(envs["MASTER_ADDR"] == "rendezvous-master-0.rendezvous");
  CHECK(envs["RANK"] == "2");
  CHECK(envs["WORLD_SIZE"] == "3");
  CHECK(envs["VC_TASK_INDEX"] == "1");
  CHECK(envs["VC_WORKER_HOSTS"] == "rendezvous-worker-0.rendezvous,rendezvous-worker-1.rendezvous");
}

TEST_CASE("a gang that does not fit stays Pending with no pod started, then runs when resources free") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "4", "--gpus-per-node", "0"}).code == 0);
  // The first job holds the node until the test opens the gate (however slow the build is).
  const std::string gate = env.home() + "/gate";
  REQUIRE(env.kai({"job", "submit", "-f", "-"},
                  job_yaml("first", 2, 2, "2", "while [ ! -e " + gate + " ]; do sleep 0.1; done")).code == 0);
  // Running once its supervisors have started its processes (asynchronously). Only then the
  // second: two jobs submitted within the same second are ordered by uid, as in Volcano.
  REQUIRE(env.kai({"job", "wait", "first", "--for", "Running", "--timeout", "20s"}).code == 0);
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("second", 2, 2, "2", "echo second ran")).code == 0);
  auto first = get_json(env, {"get", "vcjob", "first"});
  auto second = get_json(env, {"get", "vcjob", "second"});
  CHECK(first["status"]["state"]["phase"] == "Running");
  CHECK(second["status"]["state"]["phase"] == "Pending");
  // No pod of the waiting gang runs: none exists or none is bound.
  const json second_pods = get_json(env, {"get", "pods", "-l", "volcano.sh/job-name=second"});
  for (const auto& p : second_pods["items"]) {
    CHECK_FALSE(p["spec"].contains("nodeName"));
  }
  auto view = env.kai({"job", "view", "second"});
  INFO(view.out);
  CHECK(view.out.find("unschedulable") != std::string::npos);
  REQUIRE(env.sh("touch " + gate).code == 0);
  auto r = env.kai({"job", "wait", "second", "--timeout", "60s"});
  INFO(r.err << env.kai({"job", "view", "second"}).out);
  CHECK(r.code == 0);
  CHECK(env.kai({"job", "logs", "second", "--index", "0"}).out == "second ran\n");
}

TEST_CASE("job delete stops every process of the job") {
  KaiEnv env;
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("sleeper", 2, 2, "100m", "trap '' TERM; sleep 302 & wait")).code == 0);
  // Wait until both pods run.
  for (int i = 0; i < 100; ++i) {
    auto job = get_json(env, {"get", "vcjob", "sleeper"});
    if (job["status"].value("running", 0) == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto pids = supervisor_pids(env);
  REQUIRE(pids.size() == 2);
  std::string pgids;
  auto r = env.kai({"job", "delete", "sleeper"});
  CHECK(r.code == 0);
  CHECK(r.out == "delete job sleeper successfully\n");
  for (pid_t p : pids) CHECK_FALSE(alive(p));
  // No process of the pods survives either: nothing runs `sleep 300` under this KAI_HOME.
  auto ps = env.sh("ps -eo args | grep -c '^sleep 302$' || true");
  CHECK(ps.out == "0\n");
}

TEST_CASE("a pod whose supervisor is killed with SIGKILL is marked Failed by the next reconcile") {
  KaiEnv env;
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("lost", 1, 1, "100m", "sleep 301")).code == 0);
  for (int i = 0; i < 100 && supervisor_pids(env).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto pids = supervisor_pids(env);
  REQUIRE(pids.size() == 1);
  ::kill(pids[0], SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto pod = get_json(env, {"get", "pod", "lost-worker-0"});
  CHECK(pod["status"]["phase"] == "Failed");
  CHECK(pod["status"]["reason"] == "SupervisorLost");
  auto r = env.kai({"job", "wait", "lost", "--timeout", "10s"});
  CHECK(r.code == 1);
  CHECK(r.err.find("job lost is Failed, not Completed") != std::string::npos);
  auto ps = env.sh("ps -eo args | grep -c '^sleep 301$' || true");
  CHECK(ps.out == "0\n");
}

TEST_CASE("PodFailed -> RestartJob restarts the job up to maxRetry, then it is Failed") {
  KaiEnv env;
  const std::string spec = "  maxRetry: 2\n  policies:\n  - event: PodFailed\n    action: RestartJob\n";
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("flaky", 1, 1, "100m", "echo try; exit 3", spec)).code == 0);
  auto r = env.kai({"job", "wait", "flaky", "--for", "Failed", "--timeout", "60s"});
  INFO(r.err << env.kai({"job", "view", "flaky"}).out);
  REQUIRE(r.code == 0);
  auto job = get_json(env, {"get", "vcjob", "flaky"});
  CHECK(job["status"]["retryCount"] == 2);
  auto list = env.kai({"job", "list"});
  CHECK(list.out.find("Failed") != std::string::npos);
}

TEST_CASE("job wait refuses bad input and times out with exit 1") {
  KaiEnv env;
  auto r = env.kai({"job", "wait", "nope", "--timeout", "1s"});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: jobs.batch.volcano.sh \"nope\" not found\n");
  r = env.kai({"job", "wait", "nope", "--for", "Done"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--for: unknown job phase \"Done\"") != std::string::npos);
  r = env.kai({"job", "wait", "nope", "--timeout", "soon"});
  CHECK(r.code == 2);
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("slow", 1, 1, "100m", "sleep 30")).code == 0);
  r = env.kai({"job", "wait", "slow", "--timeout", "500ms"});
  CHECK(r.code == 1);
  CHECK(r.err.find("timed out waiting for job slow to be Completed") != std::string::npos);
}

TEST_CASE("pods get their own fake GPUs, never shared between running pods") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "8", "--gpus-per-node", "4"}).code == 0);
  std::string yaml = job_yaml("gpus", 2, 2, "1", "echo $CUDA_VISIBLE_DEVICES; sleep 1");
  auto pos = yaml.find("memory: 64Mi}");
  // Extended resources need a limit (Kubernetes' pod validation); the request defaults to it.
  yaml.replace(pos, std::string("memory: 64Mi}").size(), "memory: 64Mi}\n            limits: {nvidia.com/gpu: 2}");
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, yaml).code == 0);
  REQUIRE(env.kai({"job", "wait", "gpus", "--timeout", "60s"}).code == 0);
  auto a = env.kai({"job", "logs", "gpus", "--index", "0"}).out;
  auto b = env.kai({"job", "logs", "gpus", "--index", "1"}).out;
  CHECK(((a == "0,1\n" && b == "2,3\n") || (a == "2,3\n" && b == "0,1\n")));
  auto pods = env.kai({"get", "pods"});
  CHECK(pods.out.find("NODE") != std::string::npos);
  CHECK(pods.out.find("GPUS") != std::string::npos);
}

TEST_CASE("8 concurrent job submits lose nothing") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "2", "--cpu", "64"}).code == 0);
  std::string script;
  for (int i = 0; i < 8; ++i) {
    env.dir().write("j" + std::to_string(i) + ".yaml", job_yaml("c" + std::to_string(i), 1, 1, "100m", "true"));
    script += "\"$KAI\" job submit -f " + (env.dir().path() / ("j" + std::to_string(i) + ".yaml")).string() + " & ";
  }
  script += "wait";
  env.env()["KAI"] = KAI_BINARY;
  auto r = env.sh(script);
  CHECK(r.err == "");
  auto jobs = get_json(env, {"get", "vcjob"})["items"];
  CHECK(jobs.size() == 8);
  for (int i = 0; i < 8; ++i) {
    auto w = env.kai({"job", "wait", "c" + std::to_string(i), "--timeout", "60s"});
    INFO(w.err);
    CHECK(w.code == 0);
  }
}

TEST_CASE("a submitted job runs with no further kai command: the submit hands it to a background reconcile") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "8"}).code == 0);
  const auto marker = env.dir().path() / "ran";
  env.dir().write("job.yaml", job_yaml("bg", 2, 2, "100m", "echo $(hostname) >> " + marker.string()));
  auto r = env.kai({"job", "submit", "-f", (env.dir().path() / "job.yaml").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "job.batch.volcano.sh/bg created\n");
  // Nothing but the background reconcile (and the supervisors it starts) can run the pods.
  std::string ran;
  for (int i = 0; i < 300; ++i) {
    ran = kai::test::read_file(marker.string());
    if (std::count(ran.begin(), ran.end(), '\n') == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(ran.find("bg-worker-0") != std::string::npos);
  CHECK(ran.find("bg-worker-1") != std::string::npos);
  // Its log is private, and a later reader sees the finished job without reconciling itself.
  const auto log = std::filesystem::path(env.home()) / "run" / "reconcile.log";
  REQUIRE(std::filesystem::exists(log));
  CHECK((std::filesystem::status(log).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  auto w = env.kai({"job", "wait", "bg", "--timeout", "30s"});
  INFO(w.err);
  CHECK(w.code == 0);
  CHECK(kai::test::read_file(log.string()) == "");
}

TEST_CASE("a policy with a timeout delays its action: PodPending for 1s, then AbortJob") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "8"}).code == 0);
  // Enqueued (the cluster has the resources) but never bound (no node has the label): its pod
  // stays Pending.
  const std::string yaml =
      "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: stuck\nspec:\n  minAvailable: 1\n"
      "  policies:\n  - event: PodPending\n    action: AbortJob\n    timeout: 1s\n"
      "  tasks:\n  - name: worker\n    replicas: 1\n    template:\n      spec:\n        restartPolicy: Never\n"
      "        nodeSelector: {gpu-model: h100}\n        containers:\n        - name: main\n          image: busybox\n"
      "          command: [\"true\"]\n          resources:\n            requests: {cpu: 100m, memory: 64Mi}\n";
  env.dir().write("stuck.yaml", yaml);
  auto r = env.kai({"job", "submit", "-f", (env.dir().path() / "stuck.yaml").string()});
  INFO(yaml << r.err);
  REQUIRE(r.code == 0);
  const auto started = std::chrono::steady_clock::now();
  auto w = env.kai({"job", "wait", "stuck", "--for", "Aborted", "--timeout", "20s"});
  INFO(w.err);
  CHECK(w.code == 0);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(900));
  auto view = env.kai({"job", "view", "stuck"});
  CHECK(view.out.find("Execute action AbortJob after 1s") != std::string::npos);
  CHECK(view.out.find("Pod stuck-worker-0 of task worker stayed Pending for 1s; policy action AbortJob") != std::string::npos);
  // Done with: nothing waits on the job any more.
  CHECK(get_json(env, {"get", "vcjob", "stuck"})["metadata"].value("annotations", json::object()).count("kai.dev/delayed-actions") == 0);
}

TEST_CASE("cluster reset stops every pod, and no job comes back to start more") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "4", "--gpus-per-node", "0"}).code == 0);
  // A running gang, and one waiting for its resources: deleting the first one's pods must not
  // let the second start (nor the first's pods be made again) while the reset runs.
  // (One after the other: submitted within the same second, the scheduler orders the two by
  // uid, as Volcano does.)
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("running", 2, 2, "2", "sleep 300")).code == 0);
  REQUIRE(env.kai({"job", "wait", "running", "--for", "Running", "--timeout", "20s"}).code == 0);
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("waiting", 2, 2, "2", "sleep 300")).code == 0);
  REQUIRE(env.kai({"job", "wait", "waiting", "--for", "Pending", "--timeout", "20s"}).code == 0);
  const auto pids = supervisor_pids(env);
  REQUIRE(pids.size() == 2);
  REQUIRE(env.kai({"cluster", "reset"}).code == 0);
  for (pid_t p : pids) CHECK_FALSE(alive(p));
  // No supervisor of this KAI_HOME is left at all (none was started during the reset).
  auto left = env.sh("sleep 0.5; pgrep -f -- '[_]_supervise --kai-home " + env.home() + " ' || true");
  CHECK(left.out.empty());
  auto mounts = env.sh("grep -c -- '" + env.home() + "' /proc/mounts || true");
  CHECK(mounts.out == "0\n");
}

TEST_CASE("deleting a running pod is PodEvicted: the job policy restarts the job, without one the pod is made again") {
  KaiEnv env;
  const std::string spec = "  maxRetry: 3\n  policies:\n  - event: PodEvicted\n    action: RestartJob\n";
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("evictme", 2, 2, "100m", "sleep 300", spec)).code == 0);
  REQUIRE(env.kai({"job", "submit", "-f", "-"}, job_yaml("plain", 1, 1, "100m", "sleep 300")).code == 0);
  REQUIRE(env.kai({"job", "wait", "evictme", "--for", "Running", "--timeout", "20s"}).code == 0);
  REQUIRE(env.kai({"job", "wait", "plain", "--for", "Running", "--timeout", "20s"}).code == 0);
  const std::string old_uid = get_json(env, {"get", "pod", "evictme-worker-1"})["metadata"]["uid"];
  const std::string plain_uid = get_json(env, {"get", "pod", "plain-worker-0"})["metadata"]["uid"];

  REQUIRE(env.kai({"delete", "pod", "evictme-worker-0", "plain-worker-0"}).code == 0);
  // RestartJob: the whole job restarts (the other pod too), retryCount 1, Running again.
  json job;
  for (int i = 0; i < 200; ++i) {
    job = get_json(env, {"get", "vcjob", "evictme"});
    if (job["status"].value("retryCount", 0) == 1 && job["status"]["state"]["phase"] == "Running") break;
    ::usleep(100000);
  }
  INFO(env.kai({"job", "view", "evictme"}).out);
  CHECK(job["status"]["retryCount"] == 1);
  CHECK(job["status"]["state"]["phase"] == "Running");
  CHECK(get_json(env, {"get", "pod", "evictme-worker-1"})["metadata"]["uid"] != old_uid);
  const auto events = env.kai({"get", "events"}).out;
  CHECK(events.find("Pod evictme-worker-0 of task worker was deleted; policy action RestartJob") != std::string::npos);
  // No policy for the event: the controller only makes the missing pod again.
  json plain;
  for (int i = 0; i < 100; ++i) {
    auto r = env.kai({"get", "pod", "plain-worker-0", "-o", "json"});
    if (r.code == 0 && json::parse(r.out)["metadata"]["uid"] != plain_uid) break;
    ::usleep(100000);
  }
  plain = get_json(env, {"get", "vcjob", "plain"});
  CHECK(plain["status"].value("retryCount", 0) == 0);
  CHECK(get_json(env, {"get", "pod", "plain-worker-0"})["metadata"]["uid"] != plain_uid);
}

TEST_CASE("simulated pods bound by a reconcile leave their PodGroup Running when it ends, with no note that they were seen running") {
  KaiEnv env;
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "8", "--gpus-per-node", "0"}).code == 0);
  const std::string yaml =
      "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: sim\n"
      "  annotations: {kai.dev/simulate-duration: 1h}\nspec:\n  minAvailable: 2\n  schedulerName: volcano\n"
      "  tasks:\n  - name: worker\n    replicas: 2\n    template:\n      spec:\n        restartPolicy: Never\n"
      "        containers:\n        - name: main\n          image: busybox\n          command: [\"true\"]\n"
      "          resources:\n            requests: {cpu: \"1\", memory: 64Mi}\n";
  env.dir().write("sim.yaml", yaml);
  // One reconcile (the submit's, in the background) creates the PodGroup and pods, binds the
  // gang and runs the session after it, which counts the bound pods: nothing is left for a later
  // command to do, and the readers below find nothing to reconcile.
  auto r = env.kai({"job", "submit", "-f", (env.dir().path() / "sim.yaml").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto w = env.kai({"job", "wait", "sim", "--for", "Running", "--timeout", "30s"});
  INFO(w.err);
  REQUIRE(w.code == 0);
  const json pgs = get_json(env, {"get", "podgroups"});
  REQUIRE(pgs["items"].size() == 1);
  CHECK(pgs["items"][0]["status"]["phase"] == "Running");
  CHECK(pgs["items"][0]["status"]["running"] == 2);
  const json pods = get_json(env, {"get", "pods"});
  REQUIRE(pods["items"].size() == 2);
  for (const auto& p : pods["items"]) {
    CHECK(p["status"]["phase"] == "Running");
    // Starting to run is no event a job policy acts on: the pod is not written again to note it.
    CHECK(p["metadata"].value("annotations", json::object()).count("kai.dev/observed-phase") == 0);
  }
}
