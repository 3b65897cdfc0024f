// kubectl describe's generic form (custom resources), events table included.

#include <catch2/catch.hpp>

#include "lib/output/printer.h"

using namespace kai::output;
namespace api = kai::api;

namespace {

const json kJob = json::parse(R"({"apiVersion":"batch.volcano.sh/v1alpha1","kind":"Job",
  "metadata":{"name":"demo","namespace":"default","creationTimestamp":"2026-11-22T17:55:00Z","generation":1,
    "resourceVersion":"42","uid":"0b7a","labels":{"app":"demo","tier":"gpu"},
    "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}","note":"hello"},
    "managedFields":[{"manager":"kubectl"}]},
  "spec":{"minAvailable":2,"queue":"default","schedulerName":"volcano","maxRetry":3,
    "plugins":{"ssh":[]},
    "tasks":[{"name":"worker","replicas":2,"template":{"spec":{"containers":[{"name":"c","image":"busybox",
      "command":["sleep","10"],"resources":{"limits":{"nvidia.com/gpu":"1"}}}]}}}]},
  "status":{"state":{"phase":"Running"},"minAvailable":2,"running":2,"ttlRatio":0.5,"podIP":"10.0.0.1"}})");

}  // namespace

TEST_CASE("describe prints the generic describer's layout") {
  const auto now = *parse_time("2026-11-22T18:00:00Z");
  const std::string body =
      "Name:         demo\n"
      "Namespace:    default\n"
      "Labels:       app=demo\n"
      "              tier=gpu\n"
      "Annotations:  note: hello\n"
      "API Version:  batch.volcano.sh/v1alpha1\n"
      "Kind:         Job\n"
      "Metadata:\n"
      "  Creation Timestamp:  2026-11-22T17:55:00Z\n"
      "  Generation:          1\n"
      "  Resource Version:    42\n"
      "  UID:                 0b7a\n"
      "Spec:\n"
      "  Max Retry:      3\n"
      "  Min Available:  2\n"
      "  Plugins:\n"
      "    Ssh:\n"
      "  Queue:           default\n"
      "  Scheduler Name:  volcano\n"
      "  Tasks:\n"
      "    Name:      worker\n"
      "    Replicas:  2\n"
      "    Template:\n"
      "      Spec:\n"
      "        Containers:\n"
      "          Command:\n"
      "            sleep\n"
      "            10\n"
      "          Image:  busybox\n"
      "          Name:   c\n"
      "          Resources:\n"
      "            Limits:\n"
      "              nvidia.com/gpu:  1\n"
      "Status:\n"
      "  Min Available:  2\n"
      "  Pod IP:         10.0.0.1\n"
      "  Running:        2\n"
      "  State:\n"
      "    Phase:    Running\n"
      "  Ttl Ratio:  0.5\n";

  SECTION("no events") { CHECK(describe(api::jobs(), kJob, {}, now) == body + "Events:       <none>\n"); }

  SECTION("events table sorted by last seen") {
    std::vector<json> events = {
        json::parse(R"({"type":"Normal","reason":"Scheduled","message":"pod group is ready",
          "firstTimestamp":"2026-11-22T17:56:00Z","lastTimestamp":"2026-11-22T17:56:00Z","count":1,
          "source":{"component":"volcano"}})"),
        json::parse(R"({"type":"Warning","reason":"Unschedulable","message":"0/1 nodes are unavailable ",
          "firstTimestamp":"2026-11-22T17:55:00Z","lastTimestamp":"2026-11-22T17:55:30Z","count":4,
          "source":{"component":"volcano"}})"),
        json::parse(R"({"type":"Normal","reason":"CommandIssued","message":"Start to execute command AbortJob",
          "eventTime":"2026-11-22T17:59:00.000000Z","reportingComponent":"vc-controller-manager"})"),
    };
    CHECK(describe(api::jobs(), kJob, events, now) ==
          body +
              "Events:\n"
              "  Type     Reason         Age                 From                   Message\n"
              "  ----     ------         ----                ----                   -------\n"
              "  Warning  Unschedulable  4m30s (x4 over 5m)  volcano                0/1 nodes are unavailable\n"
              "  Normal   Scheduled      4m                  volcano                pod group is ready\n"
              "  Normal   CommandIssued  60s                 vc-controller-manager  Start to execute command "
              "AbortJob\n");
  }
}

TEST_CASE("describe handles cluster-scoped objects, long annotations and lists of scalars") {
  json q = json::parse(R"({"apiVersion":"scheduling.volcano.sh/v1beta1","kind":"Queue",
    "metadata":{"name":"default","annotations":{"a":"line one\nline two","b":"x"}},
    "spec":{"weight":1,"reclaimable":true,"capability":{"cpu":"4"},"affinity":{"nodeGroupAffinity":{
      "requiredDuringSchedulingIgnoredDuringExecution":["g1","g2"]}}},
    "status":{"state":"Open","allocated":{}}})");
  CHECK(describe(api::queues(), q, {}, *parse_time("2026-11-22T18:00:00Z")) ==
        "Name:         default\n"
        "Namespace:    \n"
        "Labels:       <none>\n"
        "Annotations:  a:\n"
        "                line one\n"
        "                line two\n"
        "              b: x\n"
        "API Version:  scheduling.volcano.sh/v1beta1\n"
        "Kind:         Queue\n"
        "Metadata:\n"
        "Spec:\n"
        "  Affinity:\n"
        "    Node Group Affinity:\n"
        "      Required During Scheduling Ignored During Execution:\n"
        "        g1\n"
        "        g2\n"
        "  Capability:\n"
        "    Cpu:        4\n"
        "  Reclaimable:  true\n"
        "  Weight:       1\n"
        "Status:\n"
        "  Allocated:\n"
        "  State:  Open\n"
        "Events:   <none>\n");
}
