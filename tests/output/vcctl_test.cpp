// vcctl-compatible printers against the golden outputs in volcano.md §1.3, §1.4, §1.6
// (pkg/cli/job/list_test.go and friends), byte for byte including trailing padding.

#include <catch2/catch.hpp>

#include "lib/output/printer.h"

using namespace kai::output;

namespace {

json job(const std::string& ns, const std::string& name) {
  return json{{"apiVersion", "batch.volcano.sh/v1alpha1"},
              {"kind", "Job"},
              {"metadata", {{"name", name}, {"namespace", ns}}}};
}

}  // namespace

TEST_CASE("vcctl job list matches list_test.go") {
  // The reference shows these lines with trailing blanks trimmed; vcctl pads the last
  // column (%-10d) so every row ends in spaces.
  CHECK(vcctl_job_list({job("default", "test-job")}, false) ==
        "Name       Creation       Phase       JobType     Replicas    Min   Pending   Running   Succeeded   Failed    "
        "Unknown     RetryCount\n"
        "test-job   0001-01-01                 Batch       0           0     0         0         0           0         "
        "0           0         \n");
}

TEST_CASE("vcctl job list --all-namespaces matches list_test.go") {
  CHECK(vcctl_job_list({job("kube-sysyem", "test-job"), job("default", "test-queue")}, true) ==
        "Namespace     Name         Creation       Phase       JobType     Replicas    Min   Pending   Running   "
        "Succeeded   Failed    Unknown     RetryCount\n"
        "kube-sysyem   test-job     0001-01-01                 Batch       0           0     0         0         0  "
        "         0         0           0         \n"
        "default       test-queue   0001-01-01                 Batch       0           0     0         0         0  "
        "         0         0           0         \n");
}

TEST_CASE("vcctl job list matches the real-cluster sample of issue 2594") {
  json j = job("default", "job-1");
  j["metadata"]["creationTimestamp"] = "2022-12-07T08:15:00Z";
  j["spec"] = {{"tasks", {{{"name", "t"}, {"replicas", 1}}}}};
  j["status"] = {{"state", {{"phase", "Completed"}}}, {"minAvailable", 1}, {"succeeded", 1}};
  CHECK(vcctl_job_list({j}, false) ==
        "Name    Creation       Phase       JobType     Replicas    Min   Pending   Running   Succeeded   Failed    "
        "Unknown     RetryCount\n"
        "job-1   2022-12-07     Completed   Batch       1           1     0         0         1           0         "
        "0           0         \n");
}

TEST_CASE("vcctl job list counts replicas, job type label and long names") {
  json j = job("default", "a-rather-long-job-name");
  j["metadata"]["labels"] = {{"volcano.sh/job-type", "MPI"}};
  j["metadata"]["creationTimestamp"] = "2026-11-22T23:59:59Z";
  j["spec"] = {{"tasks", {{{"replicas", 2}}, {{"replicas", 3}}}}};
  j["status"] = {{"state", {{"phase", "Running"}}}, {"minAvailable", 5}, {"running", 4}, {"pending", 1},
                 {"failed", 2}, {"unknown", 1}, {"retryCount", 12345678901LL}};
  CHECK(vcctl_job_list({j}, false) ==
        "Name                     Creation       Phase       JobType     Replicas    Min   Pending   Running   "
        "Succeeded   Failed    Unknown     RetryCount\n"
        "a-rather-long-job-name   2026-11-22     Running     MPI         5           5     1         4         0  "
        "         2         1           12345678901\n");
  CHECK(vcctl_job_list({}, false) == "No resources found\n");
  CHECK(vcctl_job_list({}, true) == "No resources found\n");
}

TEST_CASE("vcctl queue list matches the reference sample") {
  json q = {{"metadata", {{"name", "default"}}}, {"spec", {{"weight", 1}, {"parent", "root"}}},
            {"status", {{"state", "Open"}}}};
  CHECK(vcctl_queue_list({q}, {}) ==
        "Name                     Weight  State   Parent  Inqueue Pending Running Unknown Completed\n"
        "default                  1       Open    root    0       0       0       0       0       \n");
}

TEST_CASE("vcctl queue list counts PodGroup phases per queue") {
  json def = {{"metadata", {{"name", "default"}}}, {"spec", {{"weight", 1}, {"parent", "root"}}},
              {"status", {{"state", "Open"}}}};
  json research = {{"metadata", {{"name", "a-queue-with-a-very-long-name"}}}, {"spec", {{"weight", 10}}},
                   {"status", {{"state", "Closing"}}}};
  auto pg = [](const std::string& queue, const std::string& phase) {
    return json{{"spec", {{"queue", queue}}}, {"status", {{"phase", phase}}}};
  };
  std::vector<json> pgs = {pg("default", "Running"), pg("default", "Running"), pg("default", "Pending"),
                           pg("default", "Inqueue"), pg("default", "Completed"), pg("default", "Unknown"),
                           pg("a-queue-with-a-very-long-name", "Pending"), pg("other", "Running")};
  CHECK(vcctl_queue_list({def, research}, pgs) ==
        "Name                     Weight  State   Parent  Inqueue Pending Running Unknown Completed\n"
        "default                  1       Open    root    1       1       2       1       1       \n"
        "a-queue-with-a-very-long-name10      Closing         0       1       0       0       0       \n");
  CHECK(vcctl_queue_list({}, pgs) == "No resources found\n");
}

TEST_CASE("vcctl job view prints view.go's template") {
  json j = json::parse(R"({"apiVersion":"batch.volcano.sh/v1alpha1","kind":"Job",
    "metadata":{"name":"test","namespace":"default","creationTimestamp":"2026-11-22T17:26:52Z","generation":1,
      "resourceVersion":"1234","uid":"b0a4c1d2-0000-4000-8000-000000000001","labels":{"app":"test"}},
    "spec":{"minAvailable":1,"schedulerName":"volcano","queue":"default",
      "plugins":{"ssh":[],"svc":["--publish-not-ready-addresses"]},
      "tasks":[{"name":"default0","replicas":1,"template":{"metadata":{"name":"test","labels":{"job.volcano.sh":"test"}},
        "spec":{"restartPolicy":"Never","containers":[{"name":"test","image":"busybox","imagePullPolicy":"IfNotPresent",
          "command":["sh","-c","sleep 10"],"ports":[{"containerPort":8080,"name":"http"}],
          "resources":{"limits":{"cpu":"1000m","memory":"100Mi","nvidia.com/gpu":"1"},
                       "requests":{"cpu":"1000m","memory":"100Mi"}}}]}}}]},
    "status":{"state":{"phase":"Running"},"minAvailable":1,"running":1,"version":1,
      "controlledResources":{"plugin-svc":"svc","plugin-ssh":"ssh"},
      "conditions":[{"status":"Pending","lastTransitionTime":"2026-11-22T17:26:52Z"},
                    {"status":"Running","lastTransitionTime":"2026-11-22T17:27:10Z"}]}})");
  const std::string body =
      "Name:       \ttest\n"
      "Namespace:  \tdefault\n"
      "Labels:     \t{\"app\":\"test\"}\n"
      "Annotations:\t<none>\n"
      "API Version:\tbatch.volcano.sh/v1alpha1\n"
      "Kind:       \tJob\n"
      "Metadata:\n"
      "  Creation Timestamp:\t2026-11-22 17:26:52 +0000 UTC\n"
      "  Generate Name:     \t\n"
      "  Generation:        \t1\n"
      "  Resource Version:  \t1234\n"
      "  UID:               \tb0a4c1d2-0000-4000-8000-000000000001\n"
      "Spec:\n"
      "  Min Available:     \t1\n"
      "  Plugins:\n"
      "    Env:\t[]\n"
      "    Ssh:\t[]\n"
      "    Svc:\t[--publish-not-ready-addresses]\n"
      "  Scheduler Name:    \tvolcano\n"
      "  Tasks:\n"
      "    Name:\tdefault0\n"
      "    Replicas:\t1\n"
      "    Template:\n"
      "      Metadata:\n"
      "        Annotations:\n"
      "          Cri . Cci . Io / Container - Type:          \t\n"
      "          Kubernetes . Io / Availablezone:            \t\n"
      "          Network . Alpha . Kubernetes . Io / Network:\t\n"
      "        Creation Timestamp:\t0001-01-01 00:00:00 +0000 UTC\n"
      "      Spec:\n"
      "        Containers:\n"
      "          Command:\n"
      "            sh\n"
      "            -c\n"
      "            sleep 10\n"
      "          Image:\tbusybox\n"
      "          Name: \ttest\n"
      "          Ports:\n"
      "            Container Port:\t8080\n"
      "            Name:          \thttp\n"
      "          Resources:\n"
      "            Limits:\n"
      "              Cpu:   \t1\n"
      "              Memory:\t100Mi\n"
      "              nvidia.com/gpu:\t1\n"
      "            Requests:\n"
      "              Cpu:   \t1\n"
      "              Memory:\t100Mi\n"
      "            Working Dir:\t\n"
      "        Image Pull Secrets:\n"
      "        Restart Policy:   \tNever\n"
      "Status:\n"
      "  Running:      \t1\n"
      "  Min Available:\t1\n"
      "  Version:      \t1\n"
      "  State:\n"
      "    Phase:\tRunning\n"
      "  Controlled Resources:\n"
      "    plugin-ssh: \tssh\n"
      "    plugin-svc: \tsvc\n"
      "  Conditions:\n"
      "    Status\tTransitionTime\n"
      "    Pending \t2026-11-22 17:26:52 +0000 UTC \n"
      "    Running \t2026-11-22 17:27:10 +0000 UTC \n";
  const auto now = *parse_time("2026-11-22T18:00:00Z");

  SECTION("no events") { CHECK(vcctl_job_view(j, {}, now) == body + "Events: \t<none>\n"); }

  SECTION("events oldest first, Form header, count and source host") {
    std::vector<json> events = {
        json::parse(R"({"metadata":{"name":"test.1"},"type":"Normal","reason":"ExecuteAction",
          "message":"Start to execute action AbortJob ","firstTimestamp":"2026-11-22T17:50:00Z",
          "lastTimestamp":"2026-11-22T17:50:00Z","count":1,"source":{"component":"vc-controller-manager"}})"),
        json::parse(R"({"metadata":{"name":"test.2"},"type":"Normal","reason":"CommandIssued",
          "message":"Start to execute command AbortJob, and clean it up to make sure executed not more than once.",
          "firstTimestamp":"2026-11-22T17:49:30Z","lastTimestamp":"2026-11-22T17:58:00Z","count":3,
          "source":{"component":"vc-controller-manager","host":"node-1"}})"),
    };
    CHECK(vcctl_job_view(j, events, now) ==
          body +
              "Events:\n"
              "Type           \tReason                                  \tAge                           \tForm          "
              "                          \tMessage\n"
              "-------        \t-------                                 \t-------                       \t-------       "
              "                          \t-------\n"
              "Normal         \tCommandIssued                           \t2m (x3 over 10m)              \tvc-controller-"
              "manager, node-1           \tStart to execute command AbortJob, and clean it up to make sure executed "
              "not more than once.\n"
              "Normal         \tExecuteAction                           \t10m                           \tvc-controller-"
              "manager                   \tStart to execute action AbortJob\n");
  }
}

TEST_CASE("vcctl job view of a minimal job prints every template line") {
  json j = job("default", "bare");
  std::string out = vcctl_job_view(j, {}, *parse_time("2026-11-22T18:00:00Z"));
  CHECK(out ==
        "Name:       \tbare\n"
        "Namespace:  \tdefault\n"
        "Labels:     \t<none>\n"
        "Annotations:\t<none>\n"
        "API Version:\tbatch.volcano.sh/v1alpha1\n"
        "Kind:       \tJob\n"
        "Metadata:\n"
        "  Creation Timestamp:\t0001-01-01 00:00:00 +0000 UTC\n"
        "  Generate Name:     \t\n"
        "  Generation:        \t0\n"
        "  Resource Version:  \t\n"
        "  UID:               \t\n"
        "Spec:\n"
        "  Min Available:     \t0\n"
        "  Plugins:\n"
        "    Env:\t[]\n"
        "    Ssh:\t[]\n"
        "  Scheduler Name:    \t\n"
        "  Tasks:\n"
        "Status:\n"
        "  State:\n"
        "    Phase:\t\n"
        "Events: \t<none>\n");
}
