// `kai cluster serve` with real clients: kubectl (preinstalled on this machine image), Debian's
// python3-kubernetes, kai's own REST backend, and raw requests carrying bad input. Loopback only,
// a free port each time.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "support/run_kai.h"
#include "support/served.h"

using namespace kai::test;
using nlohmann::json;

namespace {

bool have(const char* tool) {
  return run_process({"/bin/sh", "-c", std::string("command -v ") + tool}, {{"PATH", "/usr/local/bin:/usr/bin:/bin"}}).code == 0;
}

}  // namespace

TEST_CASE("serve: kubectl applies every example, gets tables, watches, waits, patches, labels, reads logs and explains (skipped without kubectl)") {
  if (!have("kubectl")) return skip_test("kubectl is not installed");
  KaiEnv env;
  Served srv(env);
  auto v = srv.kubectl({"version", "-o", "json"});
  INFO(v.out << v.err);
  REQUIRE(v.code == 0);
  CHECK(json::parse(v.out)["serverVersion"]["minor"] == "32");

  auto w = run_process({"/bin/sh", "-c", "timeout 90 kubectl --context kai-local get vcjob -w > watch.out 2>&1 &"}, env.env(), "",
                       env.dir().str());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  for (const char* f : {"examples/hello-job.yaml", "examples/rendezvous.yaml", "examples/mpi-job.yaml", "examples/queues.yaml",
                        "examples/pytorch-ddp.yaml"}) {
    auto r = srv.kubectl({"apply", "-f", f});
    INFO(f << ": " << r.out << r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find(" created") != std::string::npos);
  }
  auto again = srv.kubectl({"apply", "-f", "examples/hello-job.yaml"});
  CHECK(again.code == 0);

  auto wait = srv.kubectl({"wait", "vcjob/hello", "--for=jsonpath={.status.state.phase}=Completed", "--timeout=30s"});
  INFO(wait.err);
  CHECK(wait.code == 0);
  CHECK(wait.out == "job.batch.volcano.sh/hello condition met\n");

  auto table = srv.kubectl({"get", "vcjob"});
  CHECK(table.code == 0);
  CHECK(table.out.rfind("NAME ", 0) == 0);
  CHECK(table.out.find("STATUS") != std::string::npos);
  CHECK(table.out.find("MINAVAILABLE") != std::string::npos);
  CHECK(table.out.find("QUEUE") == std::string::npos);
  CHECK(srv.kubectl({"get", "vcjob", "-o", "wide"}).out.find("QUEUE") != std::string::npos);
  auto pods = srv.kubectl({"get", "pods", "-o", "wide"});
  CHECK(pods.out.find("hello-worker-0") != std::string::npos);
  CHECK(pods.out.find("NODE") != std::string::npos);
  auto j = json::parse(srv.kubectl({"get", "vcjob", "hello", "-o", "json"}).out);
  CHECK(j["kind"] == "Job");
  CHECK(j["status"]["state"]["phase"] == "Completed");
  CHECK(srv.kubectl({"get", "q", "production"}).out.find("production") != std::string::npos);

  auto desc = srv.kubectl({"describe", "vcjob", "hello"});
  CHECK(desc.code == 0);
  CHECK(desc.out.rfind("Name:         hello\n", 0) == 0);
  CHECK(desc.out.find("Kind:         Job") != std::string::npos);
  auto logs = srv.kubectl({"logs", "hello-worker-0"});
  CHECK(logs.code == 0);
  CHECK(logs.out.find("hello") != std::string::npos);

  CHECK(srv.kubectl({"label", "vcjob", "hello", "owner=me"}).code == 0);
  CHECK(srv.kubectl({"get", "vcjob", "-l", "owner=me", "-o", "name"}).out == "job.batch.volcano.sh/hello\n");
  CHECK(srv.kubectl({"patch", "queue", "research", "--type=merge", "-p", R"({"spec":{"weight":7}})"}).code == 0);
  CHECK(json::parse(srv.kubectl({"get", "queue", "research", "-o", "json"}).out)["spec"]["weight"] == 7);
  auto smp = srv.kubectl({"patch", "vcjob", "hello", "-p", R"({"metadata":{"labels":{"a":"b"}}})"});
  CHECK(smp.code == 1);
  CHECK(smp.err.find("application/strategic-merge-patch+json is not supported by batch.volcano.sh/v1alpha1, Kind=Job") != std::string::npos);

  auto explain = srv.kubectl({"explain", "vcjob.spec.tasks"});
  INFO(explain.err);
  CHECK(explain.code == 0);
  CHECK(explain.out.find("replicas") != std::string::npos);
  auto res = srv.kubectl({"api-resources"});
  CHECK(res.out.find("vcjob") != std::string::npos);
  CHECK(res.out.find("podgroups") != std::string::npos);

  auto del = srv.kubectl({"delete", "vcjob", "hello"});
  CHECK(del.out == "job.batch.volcano.sh \"hello\" deleted\n");
  CHECK(srv.kubectl({"get", "vcjob", "hello"}).err.find("Error from server (NotFound): jobs.batch.volcano.sh \"hello\" not found") !=
        std::string::npos);
  // What kubectl did is the local cluster's: kai sees it too.
  auto mine = get_json(env, {"get", "vcjob", "--local"});
  CHECK(mine["items"].size() >= 5);

  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::string watched = read_file(env.dir().str() + "/watch.out");
  INFO(watched);
  CHECK(watched.find("rendezvous") != std::string::npos);
  CHECK(watched.find("Completed") != std::string::npos);
  (void)w;
  run_process({"/bin/sh", "-c", "pkill -f 'kubectl --context kai-local get vcjob -w' || true"}, env.env());
}

TEST_CASE("serve: kai's REST backend drives the served cluster: run, list, suspend, queues") {
  KaiEnv env;
  Served srv(env);
  auto kai_rest = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--context", "kai-local"});
    return env.kai(args);
  };
  auto r = kai_rest({"job", "run", "--name", "sleeper", "--image", "busybox", "--", "sleep", "30"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(kai_rest({"job", "wait", "sleeper", "--for", "Running", "--timeout", "20s"}).code == 0);
  CHECK(kai_rest({"job", "list"}).out.find("sleeper") != std::string::npos);
  CHECK(kai_rest({"job", "suspend", "sleeper"}).code == 0);
  CHECK(kai_rest({"job", "wait", "sleeper", "--for", "Aborted", "--timeout", "20s"}).code == 0);
  CHECK(kai_rest({"queue", "create", "team-b", "--weight", "2"}).code == 0);
  CHECK(kai_rest({"queue", "list"}).out.find("team-b") != std::string::npos);
  CHECK(kai_rest({"queue", "delete", "team-b"}).code == 0);
  CHECK(kai_rest({"job", "delete", "sleeper"}).out == "delete job sleeper successfully\n");
  CHECK(get_json(env, {"get", "vcjob", "--local"})["items"].empty());
  // ~/.kube/config now holds only kai-local, with no current-context: plain kai commands keep to
  // the local cluster, as with no kubeconfig.
  auto st = get_json(env, {"cluster", "status"});
  CHECK(st["target"] == "local");
  CHECK(env.kai({"job", "list"}).code == 0);
}

TEST_CASE("serve: the Python client creates, gets, lists, patches, deletes and watches (skipped without python3-kubernetes)") {
  if (run_process({"/usr/bin/python3", "-c", "import kubernetes"}, {{"PATH", "/usr/bin:/bin"}}).code != 0) {
    return skip_test("Debian's python3-kubernetes is not installed");
  }
  KaiEnv env;
  Served srv(env);
  const std::string script = R"(
import threading, time
from kubernetes import client, config, watch
config.load_kube_config(context="kai-local")
co = client.CustomObjectsApi()
g, v, p = "batch.volcano.sh", "v1alpha1", "jobs"
events = []
def w():
    # Ends at the DELETED event (the server's timeout only bounds a broken run): a fixed short
    # timeout lost the DELETED event on a loaded machine.
    wt = watch.Watch()
    for ev in wt.stream(co.list_namespaced_custom_object, g, v, "default", p, timeout_seconds=60):
        events.append(ev["type"] + " " + ev["object"]["metadata"]["name"])
        if ev["type"] == "DELETED":
            wt.stop()
t = threading.Thread(target=w); t.start(); time.sleep(0.5)
job = {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": {"name": "py1"},
       "spec": {"minAvailable": 1, "tasks": [{"name": "t", "replicas": 1, "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}}]}}
co.create_namespaced_custom_object(g, v, "default", p, job)
print("get", co.get_namespaced_custom_object(g, v, "default", p, "py1")["metadata"]["name"])
print("list", [i["metadata"]["name"] for i in co.list_namespaced_custom_object(g, v, "default", p)["items"]])
co.patch_namespaced_custom_object(g, v, "default", p, "py1", {"metadata": {"labels": {"x": "y"}}})
print("labels", co.get_namespaced_custom_object(g, v, "default", p, "py1")["metadata"]["labels"])
print("nodes", [n.metadata.name for n in client.CoreV1Api().list_node().items])
co.delete_namespaced_custom_object(g, v, "default", p, "py1")
try:
    co.get_namespaced_custom_object(g, v, "default", p, "py1")
except client.exceptions.ApiException as e:
    print("after delete", e.status)
t.join()
print("events", events[0], events[-1])
)";
  auto r = run_process({"/usr/bin/python3", "-c", script}, env.env());
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("get py1\n") != std::string::npos);
  CHECK(r.out.find("list ['py1']\n") != std::string::npos);
  CHECK(r.out.find("labels {'x': 'y'}\n") != std::string::npos);
  CHECK(r.out.find("nodes ['node-1', 'node-2']\n") != std::string::npos);
  CHECK(r.out.find("after delete 404\n") != std::string::npos);
  CHECK(r.out.find("events ADDED py1 DELETED py1\n") != std::string::npos);
}

TEST_CASE("serve: bad requests get the API server's Status codes and change nothing") {
  KaiEnv env;
  Served srv(env);
  const std::string bearer = "Bearer " + srv.token;
  const std::string jobs = "/apis/batch.volcano.sh/v1alpha1/namespaces/default/jobs";
  const std::string good = R"({"apiVersion":"batch.volcano.sh/v1alpha1","kind":"Job","metadata":{"name":"ok"},"spec":{"minAvailable":1,"tasks":[{"name":"t","replicas":1,"template":{"spec":{"containers":[{"name":"c","image":"busybox","command":["sleep","30"]}]}}}]}})";
  auto code = [](const Result& r) { return r.out.substr(0, r.out.find('\n')); };
  CHECK(code(srv.raw("GET", jobs, "", "application/json", "")) == "401");
  CHECK(code(srv.raw("GET", jobs, "", "application/json", "Bearer not-the-token")) == "401");
  CHECK(code(srv.raw("POST", jobs, good, "application/json", "")) == "401");
  CHECK(code(srv.raw("POST", jobs, good.substr(0, 40), "application/json", bearer)) == "400");
  CHECK(code(srv.raw("POST", jobs, std::string(10 * 1024 * 1024, 'x'), "application/json", bearer)) == "413");
  CHECK(code(srv.raw("POST", jobs, "[1,2]", "application/json", bearer)) == "400");
  auto nf = srv.raw("GET", jobs + "/..%2Fetc", "", "application/json", bearer);
  CHECK(code(nf) == "404");
  CHECK(nf.out.find(R"("reason":"NotFound")") != std::string::npos);
  CHECK(code(srv.raw("GET", "/apis/batch.volcano.sh/v1alpha1/namespaces/..%2F/jobs", "", "application/json", bearer)) == "404");
  CHECK(code(srv.raw("GET", jobs + "?labelSelector=a%20b", "", "application/json", bearer)) == "400");
  CHECK(code(srv.raw("GET", jobs + "?fieldSelector=spec.foo%3Dx", "", "application/json", bearer)) == "400");
  CHECK(code(srv.raw("DELETE", jobs + "/absent", "", "application/json", bearer)) == "404");
  CHECK(code(srv.raw("GET", "/apis/batch.volcano.sh/v1alpha1/nothings", "", "application/json", bearer)) == "404");
  CHECK(get_json(env, {"get", "vcjob", "--local"})["items"].empty());  // nothing of it was stored

  // A good create, then: dryRun stores nothing, a duplicate is 409, a stale update 409,
  // strategic merge on a CR 415, a JSON patch whose test fails 422.
  CHECK(code(srv.raw("POST", jobs + "?dryRun=All", good, "application/json", bearer)) == "201");
  CHECK(get_json(env, {"get", "vcjob", "--local"})["items"].empty());
  CHECK(code(srv.raw("POST", jobs, good, "application/json", bearer)) == "201");
  auto dup = srv.raw("POST", jobs, good, "application/json", bearer);
  CHECK(code(dup) == "409");
  CHECK(dup.out.find(R"(jobs.batch.volcano.sh \"ok\" already exists)") != std::string::npos);
  json stale = json::parse(good);
  stale["metadata"]["resourceVersion"] = "1";
  CHECK(code(srv.raw("PUT", jobs + "/ok", stale.dump(), "application/json", bearer)) == "409");
  CHECK(code(srv.raw("PATCH", jobs + "/ok", R"({"metadata":{"labels":{"a":"b"}}})", "application/strategic-merge-patch+json", bearer)) == "415");
  CHECK(code(srv.raw("PATCH", jobs + "/ok", R"([{"op":"test","path":"/spec/minAvailable","value":9}])", "application/json-patch+json", bearer)) == "422");
  auto lab = srv.raw("PATCH", jobs + "/ok", R"([{"op":"add","path":"/metadata/labels","value":{"a":"b"}}])", "application/json-patch+json", bearer);
  CHECK(code(lab) == "200");
  CHECK(get_json(env, {"get", "vcjob", "ok", "--local"})["metadata"]["labels"]["a"] == "b");
  auto ns = srv.raw("POST", "/apis/batch.volcano.sh/v1alpha1/namespaces/other/jobs", good, "application/json", bearer);
  CHECK(code(ns) == "404");  // the namespace comes from the path, and must exist
  CHECK(ns.out.find(R"(namespaces \"other\" not found)") != std::string::npos);
  auto mismatch = json::parse(good);
  mismatch["metadata"]["namespace"] = "default";
  mismatch["metadata"]["name"] = "mm";
  auto mm = srv.raw("POST", "/apis/batch.volcano.sh/v1alpha1/namespaces/other/jobs", mismatch.dump(), "application/json", bearer);
  CHECK(code(mm) == "400");
  CHECK(mm.out.find("the namespace of the provided object does not match the namespace sent on the request") != std::string::npos);
  // Bodies in YAML are taken as kube-apiserver takes them; other media types get 415, and a
  // malformed YAML body 400; neither stores anything.
  const std::string yaml_job = "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: from-yaml\nspec:\n"
                               "  minAvailable: 1\n  tasks:\n  - name: t\n    replicas: 1\n    template:\n      spec:\n"
                               "        containers:\n        - name: c\n          image: busybox\n          command: [sleep, '30']\n";
  CHECK(code(srv.raw("POST", jobs, yaml_job, "application/yaml", bearer)) == "201");
  CHECK(get_json(env, {"get", "vcjob", "from-yaml", "--local"})["spec"]["tasks"][0]["replicas"] == 1);
  auto text = srv.raw("POST", jobs, good, "text/plain", bearer);
  CHECK(code(text) == "415");
  CHECK(text.out.find("accepted media types include: application/json, application/yaml") != std::string::npos);
  auto bad_yaml = srv.raw("POST", jobs, "metadata: {name: [unclosed\n", "application/yaml", bearer);
  CHECK(code(bad_yaml) == "400");
  CHECK(bad_yaml.out.find("the body of the request") != std::string::npos);
  CHECK(code(srv.raw("PUT", jobs + "/ok", "- a\n- b\n", "application/yaml", bearer)) == "400");
  CHECK(get_json(env, {"get", "vcjob", "--local"})["items"].size() == 2);  // ok and from-yaml
  // Pages: limit and continue, remainingItemCount only without a selector.
  auto body_of = [](const Result& r) { return json::parse(r.out.substr(r.out.find('\n') + 1)); };
  const json first = body_of(srv.raw("GET", jobs + "?limit=1", "", "application/json", bearer));
  REQUIRE(first["items"].size() == 1);
  CHECK(first["items"][0]["metadata"]["name"] == "from-yaml");
  CHECK(first["metadata"]["remainingItemCount"] == 1);
  const std::string cont = first["metadata"]["continue"];
  const json second = body_of(srv.raw("GET", jobs + "?limit=1&continue=" + cont, "", "application/json", bearer));
  REQUIRE(second["items"].size() == 1);
  CHECK(second["items"][0]["metadata"]["name"] == "ok");
  CHECK_FALSE(second["metadata"].contains("continue"));
  const json selected = body_of(srv.raw("GET", jobs + "?limit=1&labelSelector=a%3Db", "", "application/json", bearer));
  REQUIRE(selected["items"].size() == 1);
  CHECK(selected["items"][0]["metadata"]["name"] == "ok");
  CHECK_FALSE(selected["metadata"].contains("continue"));
  CHECK_FALSE(selected["metadata"].contains("remainingItemCount"));
  // Health checks need no token.
  CHECK(code(srv.raw("GET", "/healthz", "", "application/json", "")) == "200");
}

TEST_CASE("serve: concurrent writes are committed together, and one that fails leaves the others standing") {
  KaiEnv env;
  Served srv(env);
  // 40 clients at once: 8 create the same job (one wins, 7 get 409), 8 send an invalid job (422),
  // 24 create jobs of their own. The server commits what arrives together in one transaction
  // with a savepoint per write, so the failures must not undo (or leak into) the others.
  auto r = srv.python(R"(
def job(name, min_available):
    return json.dumps({"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": {"name": name},
        "spec": {"minAvailable": min_available, "tasks": [{"name": "t", "replicas": 1, "template": {"spec":
        {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "30"]}]}}}]}})
bodies = [("same", job("same", 1))] * 8 + [("bad", job("bad-%d" % i, -1)) for i in range(8)] + \
         [("own", job("own-%d" % i, 1)) for i in range(24)]
results, lock, start = [], threading.Lock(), threading.Barrier(len(bodies))
def post(kind, body):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    c.connect()
    start.wait()
    c.request("POST", "/apis/batch.volcano.sh/v1alpha1/namespaces/default/jobs", body=body,
              headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    r = c.getresponse()
    r.read()
    with lock: results.append("%s %d" % (kind, r.status))
ts = [threading.Thread(target=post, args=b) for b in bodies]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(sorted(results)))
)");
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::map<std::string, int> got;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) got[line]++;
  CHECK(got == std::map<std::string, int>{{"bad 422", 8}, {"own 201", 24}, {"same 201", 1}, {"same 409", 7}});
  std::set<std::string> names;
  const json listed = get_json(env, {"get", "vcjob", "--local"});
  INFO(listed.dump());
  for (const auto& j : listed["items"]) names.insert(j["metadata"]["name"].get<std::string>());
  CHECK(names.size() == 25);
  CHECK(names.count("same") == 1);
  CHECK(names.count("own-0") == 1);
  CHECK(names.count("own-23") == 1);
  CHECK(names.count("bad-0") == 0);
}

TEST_CASE("serve: the change log is compacted, and a watch from a compacted resourceVersion ends with 410 Expired") {
  KaiEnv env;
  Served srv(env, {"--compaction-interval", "1s"});
  const std::string bearer = "Bearer " + srv.token;
  const std::string queues = "/apis/scheduling.volcano.sh/v1beta1/queues";
  auto code = [](const Result& r) { return r.out.substr(0, r.out.find('\n')); };
  auto body = [](const Result& r) { return r.out.substr(r.out.find('\n') + 1); };
  // Writes keep the server's loop reconciling; each reconcile checks whether an interval passed
  // since the last mark and, if so, drops the changes up to that mark.
  std::string watched;
  for (int i = 0; i < 40; ++i) {
    const std::string q = R"({"apiVersion":"scheduling.volcano.sh/v1beta1","kind":"Queue","metadata":{"name":"q)" +
                          std::to_string(i) + R"("},"spec":{"weight":1}})";
    REQUIRE(code(srv.raw("POST", queues, q, "application/json", bearer)) == "201");
    auto w = srv.raw("GET", queues + "?watch=true&resourceVersion=1&timeoutSeconds=1", "", "application/json", bearer);
    if (body(w).find(R"("type":"ERROR")") != std::string::npos) {
      watched = w.out;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  INFO(read_file(env.dir().str() + "/serve.log"));
  REQUIRE(!watched.empty());
  // As kube-apiserver: 200, then one ERROR event carrying a Status 410 Expired, then the end.
  CHECK(code(Result{0, watched, ""}) == "200");
  const json ev = json::parse(watched.substr(watched.find('\n') + 1));
  CHECK(ev["type"] == "ERROR");
  CHECK(ev["object"]["kind"] == "Status");
  CHECK(ev["object"]["code"] == 410);
  CHECK(ev["object"]["reason"] == "Expired");
  CHECK(ev["object"]["message"].get<std::string>().rfind("too old resource version: 1 (", 0) == 0);
  // A watch from a resourceVersion just listed is never too old: it waits for changes.
  const json list = json::parse(body(srv.raw("GET", queues, "", "application/json", bearer)));
  const std::string rv = list["metadata"]["resourceVersion"];
  auto fresh = srv.raw("GET", queues + "?watch=true&resourceVersion=" + rv + "&timeoutSeconds=1", "", "application/json", bearer);
  CHECK(code(fresh) == "200");
  CHECK(body(fresh).find("ERROR") == std::string::npos);
  // kai's REST backend lists again when its watch is told 410 (it starts with a list anyway):
  // the objects are all still there.
  CHECK(get_json(env, {"--context", "kai-local", "get", "queue", "q0"})["metadata"]["name"] == "q0");
}

TEST_CASE("serve: 64 clients each holding a watch, and stalled clients, do not keep others from being answered") {
  KaiEnv env;
  Served srv(env);
  // 64 watchers of the queues from the listed resourceVersion; one client that sends half a
  // request and stops; one that opens a watch and never reads. Meanwhile 20 updates, each
  // followed by a GET whose latency is measured. Every watcher must see all 20 updates.
  auto r = srv.python(R"(
H = {"Authorization": "Bearer " + token, "Accept": "application/json"}
def conn():
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
c = conn()
c.request("GET", "/apis/scheduling.volcano.sh/v1beta1/queues", headers=H)
rv = json.loads(c.getresponse().read())["metadata"]["resourceVersion"]
seen, ready = [0] * 64, threading.Barrier(65)
def watch(i):
    w = conn()
    w.request("GET", "/apis/scheduling.volcano.sh/v1beta1/queues?watch=true&timeoutSeconds=60&fieldSelector=metadata.name%3Ddefault&resourceVersion=" + rv, headers=H)
    r = w.getresponse()
    ready.wait()
    while seen[i] < 20:
        line = r.readline()
        if not line: break
        if json.loads(line)["type"] == "MODIFIED": seen[i] += 1
    w.close()
ts = [threading.Thread(target=watch, args=(i,)) for i in range(64)]
for t in ts: t.start()
half = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
half.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bea")
mute = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
mute.sendall(("GET /apis/scheduling.volcano.sh/v1beta1/queues?watch=true&resourceVersion=" + rv +
              " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n").encode())
ready.wait()
worst = 0.0
for n in range(20):
    c.request("PATCH", "/apis/scheduling.volcano.sh/v1beta1/queues/default", body=json.dumps({"metadata": {"labels": {"n": str(n)}}}),
              headers=dict(H, **{"Content-Type": "application/merge-patch+json"}))
    assert c.getresponse().read()
    t0 = time.monotonic()
    c.request("GET", "/version", headers=H)
    assert json.loads(c.getresponse().read())["minor"] == "32"
    worst = max(worst, time.monotonic() - t0)
for t in ts: t.join(90)
print(sum(1 for s in seen if s == 20), "watchers got all 20 updates")
print("worst GET", "under 2 s" if worst < 2 else "%.1f s" % worst)
)");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "64 watchers got all 20 updates\nworst GET under 2 s\n");
}

TEST_CASE("serve: merge patches racing on one object never conflict (each applies to the newest object)") {
  KaiEnv env;
  Served srv(env);
  // Two clients patch different labels of one queue 40 times each, at once. kube-apiserver
  // applies a patch without a resourceVersion to whatever the object is when it writes; so must
  // the served cluster: every patch answers 200, and both last labels are there.
  auto r = srv.python(R"(
H = {"Authorization": "Bearer " + token, "Content-Type": "application/merge-patch+json"}
path = "/apis/scheduling.volcano.sh/v1beta1/queues/default"
codes, start = [], threading.Barrier(2)
def patch(key):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    start.wait()
    for i in range(40):
        c.request("PATCH", path, body=json.dumps({"metadata": {"labels": {key: str(i)}}}), headers=H)
        r = c.getresponse()
        r.read()
        codes.append(r.status)
ts = [threading.Thread(target=patch, args=(k,)) for k in ("a", "b")]
for t in ts: t.start()
for t in ts: t.join()
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
c.request("GET", path, headers={"Authorization": "Bearer " + token})
labels = json.loads(c.getresponse().read())["metadata"]["labels"]
print(sorted(set(codes)), len(codes), labels["a"], labels["b"])
)");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "[200] 80 39 39\n");
}
