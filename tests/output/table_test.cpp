// kubectl get tables: tabwriter layout and the columns of every resource kai knows.

#include <catch2/catch.hpp>

#include "lib/output/printer.h"

using namespace kai::output;
namespace api = kai::api;

namespace {

PrintOptions fixed_now() {
  PrintOptions o;
  o.now = *parse_time("2026-11-22T18:00:00Z");
  return o;
}

std::string table(const api::ResourceInfo& res, const std::vector<json>& objs, PrintOptions o = fixed_now(),
                  const char* format = "") {
  return print_objects(res, objs, false, OutputSpec::parse(format), o);
}

const std::vector<json> kJobs = {
    json::parse(R"({"apiVersion":"batch.volcano.sh/v1alpha1","kind":"Job",
      "metadata":{"name":"demo","namespace":"default","creationTimestamp":"2026-11-22T17:55:00Z",
                  "labels":{"app":"demo","tier":"gpu"}},
      "spec":{"queue":"default","minAvailable":2},
      "status":{"state":{"phase":"Running"},"minAvailable":2,"running":2}})"),
    json::parse(R"({"apiVersion":"batch.volcano.sh/v1alpha1","kind":"Job",
      "metadata":{"name":"pending-one","namespace":"team-a","creationTimestamp":"2026-11-20T18:00:00Z"},
      "spec":{"queue":"research"}})"),
};

}  // namespace

TEST_CASE("render_table pads like kubectl's tabwriter") {
  SECTION("each column is its widest cell plus 3, the last column unpadded") {
    CHECK(render_table({"NAME", "STATUS", "AGE"}, {{"a-long-name", "Running", "5m"}, {"b", "Pending", "10d"}}) ==
          "NAME          STATUS    AGE\n"
          "a-long-name   Running   5m\n"
          "b             Pending   10d\n");
  }
  SECTION("minimum width 6") {
    CHECK(render_table({"A", "B"}, {{"x", "y"}}) ==
          "A     B\n"
          "x     y\n");
  }
  SECTION("no headers, empty cells, unicode counted in code points") {
    CHECK(render_table({}, {{"", "z"}, {"\xc3\xa9t\xc3\xa9", ""}}) ==
          "      z\n"
          "\xc3\xa9t\xc3\xa9   \n");
  }
  SECTION("no rows") {
    CHECK(render_table({}, {}).empty());
    CHECK(render_table({"NAME"}, {}) == "NAME\n");
  }
}

TEST_CASE("jobs use the vcjob CRD printer columns") {
  CHECK(table(api::jobs(), kJobs) ==
        "NAME          STATUS    MINAVAILABLE   RUNNINGS   AGE\n"
        "demo          Running   2              2          5m\n"
        "pending-one   <none>    <none>         <none>     2d\n");
  SECTION("wide adds QUEUE") {
    CHECK(table(api::jobs(), kJobs, fixed_now(), "wide") ==
          "NAME          STATUS    MINAVAILABLE   RUNNINGS   AGE   QUEUE\n"
          "demo          Running   2              2          5m    default\n"
          "pending-one   <none>    <none>         <none>     2d    research\n");
  }
  SECTION("-A, -L, --show-labels, --no-headers") {
    auto o = fixed_now();
    o.with_namespace = true;
    o.label_columns = {"app", "example.com/tier"};
    o.show_labels = true;
    CHECK(table(api::jobs(), kJobs, o) ==
          "NAMESPACE   NAME          STATUS    MINAVAILABLE   RUNNINGS   AGE   APP    TIER   LABELS\n"
          "default     demo          Running   2              2          5m    demo          app=demo,tier=gpu\n"
          "team-a      pending-one   <none>    <none>         <none>     2d                  <none>\n");
    o.no_headers = true;
    o.label_columns.clear();
    o.show_labels = false;
    CHECK(table(api::jobs(), kJobs, o) ==
          "default   demo          Running   2        2        5m\n"
          "team-a    pending-one   <none>    <none>   <none>   2d\n");
  }
  SECTION("an empty table prints nothing") { CHECK(table(api::jobs(), {}).empty()); }
}

TEST_CASE("queues, podgroups and commands use their CRD columns") {
  std::vector<json> queues = {
      json::parse(R"({"metadata":{"name":"default","creationTimestamp":"2026-11-22T17:00:00Z"},"spec":{"parent":"root"}})"),
      json::parse(R"({"metadata":{"name":"root","creationTimestamp":"2026-11-22T17:00:00Z"},"spec":{}})"),
  };
  auto o = fixed_now();
  o.with_namespace = true;  // cluster-scoped: no NAMESPACE column
  CHECK(table(api::queues(), queues, o) ==
        "NAME      PARENT\n"
        "default   root\n"
        "root      <none>\n");

  std::vector<json> pgs = {json::parse(R"({"metadata":{"name":"demo-1a2b","namespace":"default",
      "creationTimestamp":"2026-11-22T17:57:30Z"},"spec":{"minMember":2,"queue":"default"},
      "status":{"phase":"Inqueue"}})")};
  CHECK(table(api::podgroups(), pgs) ==
        "NAME        STATUS    MINMEMBER   RUNNINGS   AGE\n"
        "demo-1a2b   Inqueue   2           <none>     2m30s\n");
  CHECK(table(api::podgroups(), pgs, fixed_now(), "wide") ==
        "NAME        STATUS    MINMEMBER   RUNNINGS   AGE     QUEUE\n"
        "demo-1a2b   Inqueue   2           <none>     2m30s   default\n");

  std::vector<json> cmds = {json::parse(
      R"({"metadata":{"name":"demo-abortjob-x7k2q","namespace":"default","creationTimestamp":"2026-11-22T17:59:58Z"},
          "action":"AbortJob"})")};
  CHECK(table(api::commands(), cmds) ==
        "NAME                  AGE\n"
        "demo-abortjob-x7k2q   2s\n");
}

TEST_CASE("pods print READY, STATUS and RESTARTS like kubectl") {
  std::vector<json> pods = {
      json::parse(R"({"metadata":{"name":"demo-worker-0","namespace":"default","creationTimestamp":"2026-11-22T17:55:00Z"},
        "spec":{"nodeName":"node-1","containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"2"}}},{"name":"d"}]},
        "status":{"phase":"Running","podIP":"10.0.0.5","conditions":[{"type":"Ready","status":"True"}],
          "containerStatuses":[
            {"name":"c","ready":true,"restartCount":1,"state":{"running":{}},
             "lastState":{"terminated":{"exitCode":1,"finishedAt":"2026-11-22T17:58:00Z"}}},
            {"name":"d","ready":true,"restartCount":0,"state":{"running":{}}}]}})"),
      json::parse(R"({"metadata":{"name":"demo-worker-1","namespace":"default","creationTimestamp":"2026-11-22T17:55:00Z",
          "annotations":{"kai.dev/gpu-ids":"3"}},
        "spec":{"containers":[{"name":"c"}],"readinessGates":[{"conditionType":"x/ok"}]},
        "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable"}]}})"),
      json::parse(R"({"metadata":{"name":"crash","namespace":"default","creationTimestamp":"2026-11-22T16:00:00Z"},
        "spec":{"containers":[{"name":"c"}]},
        "status":{"phase":"Running","containerStatuses":[{"name":"c","ready":false,"restartCount":5,
          "state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})"),
      json::parse(R"({"metadata":{"name":"done","namespace":"default","creationTimestamp":"2026-11-22T16:00:00Z"},
        "spec":{"containers":[{"name":"c"}]},
        "status":{"phase":"Succeeded","containerStatuses":[{"name":"c","ready":false,"restartCount":0,
          "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})"),
      json::parse(R"({"metadata":{"name":"init","namespace":"default","creationTimestamp":"2026-11-22T16:00:00Z"},
        "spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"c"}]},
        "status":{"phase":"Pending","initContainerStatuses":[
          {"name":"i1","restartCount":0,"state":{"terminated":{"exitCode":0}}},
          {"name":"i2","restartCount":0,"state":{"running":{}}}]}})"),
      json::parse(R"({"metadata":{"name":"going","namespace":"default","creationTimestamp":"2026-11-22T16:00:00Z",
          "deletionTimestamp":"2026-11-22T17:59:00Z"},
        "spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running"}})"),
      json::parse(R"({"metadata":{"name":"gated","namespace":"default","creationTimestamp":"2026-11-22T16:00:00Z"},
        "spec":{"containers":[{"name":"c"}]},
        "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})"),
  };
  CHECK(table(api::pods(), pods) ==
        "NAME            READY   STATUS             RESTARTS     AGE    NODE     GPUS\n"
        "demo-worker-0   2/2     Running            1 (2m ago)   5m     node-1   2\n"
        "demo-worker-1   0/1     Pending            0            5m     <none>   3\n"
        "crash           0/1     CrashLoopBackOff   5            120m   <none>   0\n"
        "done            0/1     Completed          0            120m   <none>   0\n"
        "init            0/1     Init:1/2           0            120m   <none>   0\n"
        "going           0/1     Terminating        0            120m   <none>   0\n"
        "gated           0/1     SchedulingGated    0            120m   <none>   0\n");
  SECTION("wide adds kubectl's IP, NOMINATED NODE and READINESS GATES") {
    std::vector<json> two(pods.begin(), pods.begin() + 2);
    CHECK(table(api::pods(), two, fixed_now(), "wide") ==
          "NAME            READY   STATUS    RESTARTS     AGE   NODE     GPUS   IP         NOMINATED NODE   READINESS GATES\n"
          "demo-worker-0   2/2     Running   1 (2m ago)   5m    node-1   2      10.0.0.5   <none>           <none>\n"
          "demo-worker-1   0/1     Pending   0            5m    <none>   3      <none>     <none>           0/1\n");
  }
}

TEST_CASE("nodes print STATUS, ROLES and VERSION like kubectl") {
  std::vector<json> nodes = {
      json::parse(R"J({"metadata":{"name":"node-1","creationTimestamp":"2026-11-12T18:00:00Z",
          "labels":{"node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/worker":""}},
        "spec":{},"status":{"conditions":[{"type":"Ready","status":"True"}],
          "addresses":[{"type":"InternalIP","address":"192.168.1.10"},{"type":"Hostname","address":"node-1"}],
          "allocatable":{"nvidia.com/gpu":"8"},
          "nodeInfo":{"kubeletVersion":"v1.32.4","osImage":"Debian GNU/Linux 12 (bookworm)",
                      "kernelVersion":"6.1.0-18-amd64","containerRuntimeVersion":"containerd://1.7.13"}}})J"),
      json::parse(R"({"metadata":{"name":"node-2","creationTimestamp":"2026-11-22T17:00:00Z"},
        "spec":{"unschedulable":true},"status":{"conditions":[{"type":"Ready","status":"False"}]}})"),
      json::parse(R"({"metadata":{"name":"node-3","creationTimestamp":"2026-11-22T17:00:00Z"},"spec":{},"status":{}})"),
  };
  CHECK(table(api::nodes(), nodes) ==
        "NAME     STATUS                        ROLES                  AGE   VERSION\n"
        "node-1   Ready                         control-plane,worker   10d   v1.32.4\n"
        "node-2   NotReady,SchedulingDisabled   <none>                 60m   \n"
        "node-3   Unknown                       <none>                 60m   \n");
  CHECK(table(api::nodes(), {nodes[0], nodes[2]}, fixed_now(), "wide") ==
        "NAME     STATUS    ROLES                  AGE   VERSION   INTERNAL-IP    EXTERNAL-IP   "
        "OS-IMAGE                         KERNEL-VERSION   CONTAINER-RUNTIME     GPUS\n"
        "node-1   Ready     control-plane,worker   10d   v1.32.4   192.168.1.10   <none>        "
        "Debian GNU/Linux 12 (bookworm)   6.1.0-18-amd64   containerd://1.7.13   8\n"
        "node-3   Unknown   <none>                 60m             <none>         <none>        "
        "<unknown>                        <unknown>        <unknown>             0\n");
}

TEST_CASE("namespaces and events print kubectl's columns") {
  std::vector<json> nss = {
      json::parse(R"({"metadata":{"name":"default","creationTimestamp":"2026-11-01T18:00:00Z"},"status":{"phase":"Active"}})"),
      json::parse(R"({"metadata":{"name":"old","creationTimestamp":"2026-11-22T17:59:00Z",
                      "deletionTimestamp":"2026-11-22T17:59:50Z"},"status":{"phase":"Terminating"}})"),
  };
  CHECK(table(api::namespaces(), nss) ==
        "NAME      STATUS        AGE\n"
        "default   Active        21d\n"
        "old       Terminating   60s\n");

  std::vector<json> evs = {
      json::parse(R"({"metadata":{"name":"demo.1","namespace":"default"},"type":"Normal","reason":"CommandIssued",
        "involvedObject":{"kind":"Job","name":"demo","namespace":"default"},
        "message":"Start to execute command AbortJob, and clean it up to make sure executed not more than once.\n",
        "firstTimestamp":"2026-11-22T17:50:00Z","lastTimestamp":"2026-11-22T17:58:00Z","count":3,
        "source":{"component":"vc-controller-manager"}})"),
      json::parse(R"({"metadata":{"name":"demo-worker-0.2","namespace":"default"},"type":"Warning","reason":"FailedScheduling",
        "involvedObject":{"kind":"Pod","name":"demo-worker-0","namespace":"default"},"message":"0/1 nodes are unavailable",
        "eventTime":"2026-11-22T17:59:55.000000Z","reportingComponent":"volcano","reportingInstance":"kai-sim"})"),
  };
  auto o = fixed_now();
  o.with_namespace = true;
  CHECK(table(api::events(), evs, o) ==
        "NAMESPACE   LAST SEEN   TYPE      REASON             OBJECT              MESSAGE\n"
        "default     2m          Normal    CommandIssued      job/demo            Start to execute command AbortJob, "
        "and clean it up to make sure executed not more than once.\n"
        "default     5s          Warning   FailedScheduling   pod/demo-worker-0   0/1 nodes are unavailable\n");
  CHECK(table(api::events(), evs, fixed_now(), "wide") ==
        "LAST SEEN   TYPE      REASON             OBJECT              SUBOBJECT   SOURCE                  "
        "MESSAGE                                                                                        "
        "FIRST SEEN   COUNT   NAME\n"
        "2m          Normal    CommandIssued      job/demo                        vc-controller-manager   "
        "Start to execute command AbortJob, and clean it up to make sure executed not more than once.   "
        "10m          3       demo.1\n"
        "5s          Warning   FailedScheduling   pod/demo-worker-0               volcano, kai-sim        "
        "0/1 nodes are unavailable                                                                      "
        "5s           1       demo-worker-0.2\n");
}
