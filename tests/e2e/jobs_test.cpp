// End to end: the real kai binary in a temporary KAI_HOME, submitting, listing, viewing and
// deleting Volcano jobs on the embedded cluster.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;
using nlohmann::json;

namespace {

/// These tests check formats on jobs that stay Pending: a one-node cluster too small for any of
/// them, so the enqueue gate (overcommit) keeps their PodGroups Pending and no pod is made.
void hold_jobs(const KaiEnv& env) {
  auto r = env.kai({"cluster", "init", "--nodes", "1", "--cpu", "10m", "--memory", "10Mi", "--gpus-per-node", "0"});
  REQUIRE(r.code == 0);
}

json parse(const std::string& s) { return json::parse(s); }

}  // namespace

TEST_CASE("job submit creates each example job with Volcano's defaults") {
  KaiEnv env;
  hold_jobs(env);
  for (const char* f : {"examples/hello-job.yaml", "examples/pytorch-ddp.yaml", "examples/mpi-job.yaml"}) {
    auto r = env.kai({"job", "submit", "-f", f});
    INFO(f << "\n" << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("job.batch.volcano.sh/") == 0);
    CHECK(r.out.find(" created\n") != std::string::npos);
  }
  auto r = env.kai({"apply", "-f", "examples/queues.yaml"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "queue.scheduling.volcano.sh/research created\n"
        "queue.scheduling.volcano.sh/production created\n"
        "priorityclass.scheduling.k8s.io/urgent created\n"
        "job.batch.volcano.sh/research-sweep created\n"
        "job.batch.volcano.sh/production-train created\n"
        "job.batch.volcano.sh/production-urgent created\n");

  // Volcano's mutating webhook defaults: queue, maxRetry, task minAvailable/maxRetry, svc+ssh for mpi.
  auto mpi = parse(env.kai({"get", "vcjob", "mpi-hello", "-o", "json"}).out);
  CHECK(mpi["spec"]["queue"] == "default");
  CHECK(mpi["spec"]["maxRetry"] == 3);
  CHECK(mpi["spec"]["tasks"][1]["minAvailable"] == 2);
  CHECK(mpi["spec"]["plugins"].contains("svc"));
  CHECK(mpi["spec"]["plugins"].contains("ssh"));
  CHECK(mpi["status"]["state"]["phase"] == "Pending");
  CHECK(mpi["status"]["minAvailable"] == 3);
  CHECK(mpi["metadata"]["uid"].get<std::string>().size() == 36);
}

TEST_CASE("job list prints vcctl's exact columns") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"job", "submit", "-f", "examples/hello-job.yaml"}).code == 0);
  const std::string d = kai::test::today_utc();
  auto r = env.kai({"job", "list"});
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "Name    Creation       Phase       JobType     Replicas    Min   Pending   Running   Succeeded   Failed    Unknown     RetryCount\n"
        "hello   " + d + "     Pending     Batch       2           2     0         0         0           0         0           0         \n");

  SECTION("all namespaces puts Namespace first") {
    REQUIRE(env.kai({"job", "run", "long-job-name", "-n", "default", "-r", "3", "-m", "2"}).code == 0);
    auto a = env.kai({"job", "list", "-A"});
    REQUIRE(a.code == 0);
    CHECK(a.out ==
          "Namespace   Name            Creation       Phase       JobType     Replicas    Min   Pending   Running   Succeeded   Failed    Unknown     RetryCount\n"
          "default     hello           " + d + "     Pending     Batch       2           2     0         0         0           0         0           0         \n"
          "default     long-job-name   " + d + "     Pending     Batch       3           2     0         0         0           0         0           0         \n");
  }
  SECTION("filters: --queue, --selector (substring, as vcctl) and -l labels") {
    REQUIRE(env.kai({"job", "run", "other", "-q", "default"}).code == 0);
    CHECK(env.kai({"job", "list", "--selector", "hel"}).out.find("other") == std::string::npos);
    CHECK(env.kai({"job", "list", "-l", "team=demo", "-o", "name"}).out == "job.batch.volcano.sh/hello\n");
    auto none = env.kai({"job", "list", "--queue", "nope"});
    CHECK(none.code == 0);
    CHECK(none.out == "No resources found\n");
  }
  SECTION("an empty namespace says so") {
    auto e = env.kai({"job", "list", "-n", "empty"});
    CHECK(e.code == 0);
    CHECK(e.out == "No resources found\n");
  }
}

TEST_CASE("job run builds the job vcctl builds, with the command after --") {
  KaiEnv env;
  hold_jobs(env);
  auto r = env.kai({"job", "run", "-N", "train", "-r", "2", "-m", "2", "-i", "python:3.11", "-R", "cpu=2,nvidia.com/gpu=1", "-L", "cpu=2,memory=100Mi,nvidia.com/gpu=1", "-q",
                    "default", "--", "python3", "-c", "print(1)"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "run job train successfully\n");
  auto j = parse(env.kai({"get", "vj", "train", "-o", "json"}).out);
  const auto& task = j["spec"]["tasks"][0];
  CHECK(task["name"] == "default0");
  CHECK(task["replicas"] == 2);
  CHECK(j["spec"]["minAvailable"] == 2);
  CHECK(j["spec"]["schedulerName"] == "volcano");
  const auto& c = task["template"]["spec"]["containers"][0];
  CHECK(c["image"] == "python:3.11");
  CHECK(c["command"] == json::array({"python3"}));
  CHECK(c["args"] == json::array({"-c", "print(1)"}));
  CHECK(c["resources"]["requests"]["nvidia.com/gpu"] == "1");
  CHECK(c["resources"]["limits"]["memory"] == "100Mi");
  CHECK(task["template"]["spec"]["restartPolicy"] == "Never");

  auto bad = env.kai({"job", "run", "x", "-R", "cpu"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--requests: invalid argument syntax cpu, expected <resource>=<value>") != std::string::npos);
  auto noname = env.kai({"job", "run"});
  CHECK(noname.code == 2);
  CHECK(noname.err.find("job name cannot be left blank") != std::string::npos);
}

TEST_CASE("job view shows vcctl's layout and the job's events") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"job", "submit", "-f", "examples/hello-job.yaml"}).code == 0);
  auto r = env.kai({"job", "view", "hello"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Name:       \thello\n") == 0);
  CHECK(r.out.find("Namespace:  \tdefault\n") != std::string::npos);
  CHECK(r.out.find("Kind:       \tJob\n") != std::string::npos);
  CHECK(r.out.find("  Min Available:") != std::string::npos);
  CHECK(r.out.find("    Phase:\tPending\n") != std::string::npos);
  CHECK(r.out.find("Events:") != std::string::npos);
  // vcctl's -N works too, and a missing job reads like kubectl.
  // (Up to the events, whose ages move on between the two calls.)
  const auto head = [](const std::string& out) { return out.substr(0, out.find("Events:")); };
  CHECK(head(env.kai({"job", "view", "-N", "hello"}).out) == head(r.out));
  auto missing = env.kai({"job", "view", "nope"});
  CHECK(missing.code == 1);
  CHECK(missing.err == "kai: error: jobs.batch.volcano.sh \"nope\" not found\n");
}

TEST_CASE("json and yaml output round-trip through kai apply -f") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"job", "submit", "-f", "examples/pytorch-ddp.yaml"}).code == 0);
  auto out = env.kai({"get", "vcjob", "pytorch-ddp", "-o", "json"});
  REQUIRE(out.code == 0);
  json j = parse(out.out);
  CHECK(j["kind"] == "Job");
  auto file = env.dir().write("ddp.json", out.out);
  auto again = env.kai({"apply", "-f", file});
  INFO(again.err);
  REQUIRE(again.code == 0);
  CHECK(again.out == "job.batch.volcano.sh/pytorch-ddp unchanged\n");
  // -o yaml too, through stdin.
  auto yaml = env.kai({"get", "vcjob", "pytorch-ddp", "-o", "yaml"});
  REQUIRE(yaml.code == 0);
  CHECK(yaml.out.find("apiVersion: batch.volcano.sh/v1alpha1\n") == 0);
  auto viastdin = env.kai({"apply", "-f", "-"}, yaml.out);
  CHECK(viastdin.code == 0);
  CHECK(viastdin.out == "job.batch.volcano.sh/pytorch-ddp unchanged\n");
  // A list of several objects is a kind: List.
  REQUIRE(env.kai({"job", "submit", "-f", "examples/hello-job.yaml"}).code == 0);
  json list = parse(env.kai({"get", "vcjob", "-o", "json"}).out);
  CHECK(list["kind"] == "List");
  CHECK(list["apiVersion"] == "v1");
  CHECK(list["items"].size() == 2);
}

TEST_CASE("apply configures a changed job within what Volcano allows") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"job", "submit", "-f", "examples/hello-job.yaml"}).code == 0);
  json j = parse(env.kai({"get", "vcjob", "hello", "-o", "json"}).out);
  j["spec"]["tasks"][0]["replicas"] = 3;
  auto r = env.kai({"apply", "-f", env.dir().write("h.json", j.dump())});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.out == "job.batch.volcano.sh/hello configured\n");
  j = parse(env.kai({"get", "vcjob", "hello", "-o", "json"}).out);
  CHECK(j["spec"]["tasks"][0]["replicas"] == 3);
  CHECK(j["metadata"]["generation"] == 2);
  j["spec"]["schedulerName"] = "other";
  auto refused = env.kai({"apply", "-f", env.dir().write("h2.json", j.dump())});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("job updates may not change fields other than") != std::string::npos);
}

TEST_CASE("job delete cascades to the PodGroup and says what vcctl says") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"job", "submit", "-f", "examples/hello-job.yaml"}).code == 0);
  auto pgs = parse(env.kai({"get", "podgroups", "-o", "json"}).out);
  REQUIRE(pgs["items"].size() == 1);
  const auto& pg = pgs["items"][0];
  json job = parse(env.kai({"get", "vcjob", "hello", "-o", "json"}).out);
  CHECK(pg["metadata"]["name"] == "hello-" + job["metadata"]["uid"].get<std::string>());
  CHECK(pg["spec"]["minMember"] == 2);
  CHECK(pg["spec"]["minTaskMember"]["worker"] == 2);
  CHECK(pg["spec"]["minResources"]["cpu"] == "1");
  CHECK(pg["spec"]["minResources"]["memory"] == "256Mi");
  CHECK(pg["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]);
  CHECK(pg["status"]["phase"] == "Pending");

  auto r = env.kai({"job", "delete", "hello"});
  CHECK(r.code == 0);
  CHECK(r.out == "delete job hello successfully\n");
  auto after = env.kai({"get", "podgroups"});
  CHECK(after.code == 0);
  CHECK(after.out.empty());
  CHECK(after.err == "No resources found in default namespace.\n");
  auto again = env.kai({"job", "delete", "hello"});
  CHECK(again.code == 1);
  CHECK(again.err == "kai: error: jobs.batch.volcano.sh \"hello\" not found\n");
}

TEST_CASE("get, describe and delete work kubectl-style with short names and selectors") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"apply", "-f", "examples/queues.yaml"}).code == 0);
  auto nodes = env.kai({"get", "no"});
  REQUIRE(nodes.code == 0);
  CHECK(nodes.out.find("NAME") == 0);
  CHECK(nodes.out.find("node-1") != std::string::npos);
  CHECK(env.kai({"get", "q", "-o", "name"}).out ==
        "queue.scheduling.volcano.sh/default\nqueue.scheduling.volcano.sh/production\n"
        "queue.scheduling.volcano.sh/research\nqueue.scheduling.volcano.sh/root\n");
  CHECK(env.kai({"get", "ns", "-o", "jsonpath={.items[*].metadata.name}"}).out == "default");
  CHECK(env.kai({"get", "vj", "--field-selector", "metadata.name=research-sweep", "-o", "name"}).out ==
        "job.batch.volcano.sh/research-sweep\n");
  auto cc = env.kai({"get", "vj", "-o", "custom-columns=NAME:.metadata.name,QUEUE:.spec.queue"});
  CHECK(cc.out.find("production-train    production\n") != std::string::npos);

  auto some_missing = env.kai({"get", "vj", "research-sweep", "nope"});
  CHECK(some_missing.code == 1);
  CHECK(some_missing.out.find("research-sweep") != std::string::npos);
  CHECK(some_missing.err == "Error from server (NotFound): jobs.batch.volcano.sh \"nope\" not found\n");

  auto d = env.kai({"describe", "vcjob", "research-sweep"});
  CHECK(d.code == 0);
  CHECK(d.out.find("research-sweep") != std::string::npos);

  auto unknown = env.kai({"get", "widgets"});
  CHECK(unknown.code == 1);
  CHECK(unknown.err.find("the server doesn't have a resource type \"widgets\"") != std::string::npos);

  auto del = env.kai({"delete", "vcjob", "research-sweep"});
  CHECK(del.code == 0);
  CHECK(del.out == "job.batch.volcano.sh \"research-sweep\" deleted\n");
  auto delf = env.kai({"delete", "-f", "examples/hello-job.yaml"});
  CHECK(delf.code == 1);
  CHECK(delf.err == "Error from server (NotFound): jobs.batch.volcano.sh \"hello\" not found\n");
}

TEST_CASE("job suspend aborts a running job and job resume runs it again with RetryCount 1 (vcctl's Commands)") {
  KaiEnv env;
  auto r = env.kai({"job", "run", "--name", "s1", "--image", "busybox", "--", "sleep", "60"});
  REQUIRE(r.code == 0);
  REQUIRE(env.kai({"job", "wait", "s1", "--for", "Running", "--timeout", "20s"}).code == 0);
  r = env.kai({"job", "suspend", "s1"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(env.kai({"job", "wait", "s1", "--for", "Aborted", "--timeout", "20s"}).code == 0);
  auto pods = get_json(env, {"get", "pods"})["items"];
  for (const auto& p : pods) CHECK(p["status"]["phase"] != "Running");
  CHECK(get_json(env, {"get", "commands"})["items"].empty());  // executed once, then deleted
  CHECK(env.kai({"job", "resume", "-N", "s1"}).code == 0);
  CHECK(env.kai({"job", "wait", "s1", "--for", "Running", "--timeout", "20s"}).code == 0);
  auto job = get_json(env, {"job", "view", "s1"});
  CHECK(job["status"]["retryCount"] == 1);
  auto view = env.kai({"job", "view", "s1"});
  CHECK(view.out.find("Start to execute command AbortJob, and clean it up to make sure executed not more than once.") != std::string::npos);
  CHECK(view.out.find("Start to execute command ResumeJob") != std::string::npos);
  r = env.kai({"job", "suspend"});
  CHECK(r.code == 2);
  CHECK(r.err.find("kai: error: job name is mandatory to suspend a particular job") == 0);
  r = env.kai({"job", "resume", "nope"});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: jobs.batch.volcano.sh \"nope\" not found\n");
}
