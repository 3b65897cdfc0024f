// kai's REST backend end to end: the real kai binary against tests/support/fake_apiserver.py,
// a stand-in for kube-apiserver answering as the exchanges recorded in k8s-api.md (HTTPS with
// its own CA, bearer tokens, Status errors, pagination, 410 on an expired continue token, 429
// with Retry-After). Loopback only.

#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "support/run_kai.h"

using namespace kai::test;
using nlohmann::json;

extern char** environ;

namespace {

/// Certificates made with the openssl command: a CA, and a server certificate for 127.0.0.1
/// (and DNS name kubernetes.default) signed by it; a second, unrelated CA.
void make_certs(const TempDir& d) {
  const std::string dir = d.str();
  const std::string script =
      "set -e; cd '" + dir + "'; "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca 2>/dev/null; "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 2 -subj /CN=other-ca 2>/dev/null; "
      "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=kube-apiserver 2>/dev/null; "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default\\n' > ext; "
      "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext 2>/dev/null";
  auto r = run_process({"/bin/sh", "-c", script}, {{"PATH", "/usr/bin:/bin"}}, "", dir);
  INFO(r.err);
  REQUIRE(r.code == 0);
}

class FakeApiServer {
 public:
  FakeApiServer(const TempDir& d, std::vector<std::string> args) : dir_(d) {
    const std::string port_file = d.str() + "/port." + std::to_string(counter_++);
    std::vector<std::string> argv{"python3", std::string(KAI_SOURCE_DIR) + "/tests/support/fake_apiserver.py", "--port-file",
                                  port_file, "--log", log()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    REQUIRE(posix_spawnp(&pid_, "python3", nullptr, nullptr, cargv.data(), environ) == 0);
    for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(std::filesystem::exists(port_file));
    port_ = read_file(port_file);
  }
  ~FakeApiServer() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string url(const std::string& scheme = "https") const { return scheme + "://127.0.0.1:" + port_; }
  std::string log() const { return dir_.str() + "/requests.log"; }
  std::vector<json> requests() const {
    std::vector<json> out;
    std::stringstream ss(read_file(log()));
    for (std::string line; std::getline(ss, line);) {
      if (!line.empty()) out.push_back(json::parse(line));
    }
    return out;
  }

 private:
  const TempDir& dir_;
  pid_t pid_ = -1;
  std::string port_;
  static inline int counter_ = 0;
};

std::string kubeconfig(const std::string& server, const std::string& cluster_extra, const std::string& user) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: t\ncontexts:\n- name: t\n  context: {cluster: c, user: u, namespace: team-a}\n"
         "clusters:\n- name: c\n  cluster: {server: \"" + server + "\"" + cluster_extra + "}\nusers:\n- name: u\n  user: " + user + "\n";
}

bool have_tools() {
  return run_process({"/bin/sh", "-c", "command -v python3 && command -v openssl"}, {{"PATH", "/usr/bin:/bin"}}).code == 0;
}

}  // namespace

TEST_CASE("REST backend: jobs and queues against an API server over TLS with a token") {
  REQUIRE(have_tools());
  KaiEnv env;
  make_certs(env.dir());
  FakeApiServer srv(env.dir(), {"--tls", env.dir().str() + "/srv.crt", env.dir().str() + "/srv.key", "--token", "s3cret", "--page-max", "2"});
  env.env()["KUBECONFIG"] = env.dir().write("kc", kubeconfig(srv.url(), ", certificate-authority: ca.crt", "{token: s3cret}"));

  auto r = env.kai({"job", "list"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.out == "No resources found\n");
  for (const char* n : {"a1", "a2", "a3"}) {
    r = env.kai({"job", "run", "--name", n, "--image", "busybox", "--replicas", "2", "--", "sleep", "1"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == std::string("run job ") + n + " successfully\n");
  }
  // Three jobs over pages of two: the list follows the continue token.
  auto list = get_json(env, {"get", "vcjob"});
  REQUIRE(list["items"].size() == 3);
  CHECK(list["items"][2]["metadata"]["name"] == "a3");
  CHECK(list["items"][0]["metadata"]["namespace"] == "team-a");  // the context's namespace
  auto job = get_json(env, {"job", "view", "a1"});
  CHECK(job["spec"]["tasks"][0]["replicas"] == 2);

  r = env.kai({"job", "view", "nope"});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: jobs.batch.volcano.sh \"nope\" not found\n");
  r = env.kai({"job", "run", "--name", "a1", "--image", "busybox"});
  CHECK(r.code == 1);
  CHECK(r.err.find("jobs.batch.volcano.sh \"a1\" already exists") != std::string::npos);

  CHECK(env.kai({"queue", "create", "q1", "--weight", "3"}).code == 0);
  auto q = get_json(env, {"get", "queue", "q1"});
  CHECK(q["spec"]["weight"] == 3);
  CHECK(env.kai({"job", "delete", "a1"}).out == "delete job a1 successfully\n");
  CHECK(get_json(env, {"get", "vcjob"})["items"].size() == 2);
  CHECK(env.kai({"queue", "delete", "q1"}).code == 0);

  // suspend: a Command for the job's controller, as vcctl creates it; nothing printed.
  r = env.kai({"job", "suspend", "a2"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  auto cmds = get_json(env, {"get", "commands"})["items"];
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0]["action"] == "AbortJob");
  CHECK(cmds[0]["metadata"]["name"].get<std::string>().rfind("a2-abortjob-", 0) == 0);
  CHECK(cmds[0]["target"]["kind"] == "Job");
  CHECK(cmds[0]["target"]["name"] == "a2");
  CHECK(cmds[0]["target"]["uid"] == get_json(env, {"get", "vcjob", "a2"})["metadata"]["uid"]);
  CHECK(cmds[0]["metadata"]["ownerReferences"][0]["controller"] == true);

  bool saw_continue = false;
  for (const auto& req : srv.requests()) {
    CHECK(req["authorization"] == "Bearer s3cret");
    if (req["path"].get<std::string>().find("continue=2") != std::string::npos) saw_continue = true;
  }
  CHECK(saw_continue);
  // Nothing of it went to the local store.
  CHECK_FALSE(std::filesystem::exists(env.home() + "/store.db"));
}

TEST_CASE("REST backend: a server certificate from another CA, a missing token and a wrong one are refused") {
  REQUIRE(have_tools());
  KaiEnv env;
  make_certs(env.dir());
  FakeApiServer srv(env.dir(), {"--tls", env.dir().str() + "/srv.crt", env.dir().str() + "/srv.key", "--token", "s3cret"});
  env.env()["KUBECONFIG"] = env.dir().write("kc", kubeconfig(srv.url(), ", certificate-authority: other.crt", "{token: s3cret}"));
  auto r = env.kai({"job", "list"});
  CHECK(r.code == 1);
  CHECK(r.err.find("kai: error: unable to connect to the server at " + srv.url()) == 0);
  CHECK(r.err.find("s3cret") == std::string::npos);

  env.env()["KUBECONFIG"] = env.dir().write("kc2", kubeconfig(srv.url(), ", certificate-authority: ca.crt", "{token: wrong}"));
  r = env.kai({"job", "list"});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: You must be logged in to the server (Unauthorized)\n");

  // insecure-skip-tls-verify connects to the untrusted server, with a warning.
  env.env()["KUBECONFIG"] = env.dir().write("kc3", kubeconfig(srv.url(), ", insecure-skip-tls-verify: true", "{token: s3cret}"));
  r = env.kai({"job", "list"});
  CHECK(r.code == 0);
  CHECK(r.err.find("insecure-skip-tls-verify is set") != std::string::npos);

  // tls-server-name: the certificate is checked against that name, not the URL's address.
  env.env()["KUBECONFIG"] = env.dir().write(
      "kc4", kubeconfig(srv.url(), ", certificate-authority: ca.crt, tls-server-name: kubernetes.default", "{token: s3cret}"));
  r = env.kai({"job", "list"});
  INFO(r.err);
  CHECK(r.code == 0);
  env.env()["KUBECONFIG"] = env.dir().write(
      "kc5", kubeconfig(srv.url(), ", certificate-authority: ca.crt, tls-server-name: not-in-the-cert", "{token: s3cret}"));
  CHECK(env.kai({"job", "list"}).code == 1);
}

TEST_CASE("REST backend: no credentials over plain http, 429 with Retry-After is retried, an expired continue restarts the list") {
  REQUIRE(have_tools());
  KaiEnv env;
  FakeApiServer srv(env.dir(), {"--throttle", "1", "--page-max", "1", "--expire-continue-once"});
  env.env()["KUBECONFIG"] = env.dir().write("kc", kubeconfig(srv.url("http"), "", "{token: never-sent}"));
  for (const char* n : {"b1", "b2"}) {
    auto r = env.kai({"job", "run", "--name", n, "--image", "busybox"});
    INFO(r.err);
    CHECK(r.code == 0);
  }
  auto list = get_json(env, {"get", "vcjob"});
  CHECK(list["items"].size() == 2);
  auto reqs = srv.requests();
  REQUIRE(reqs.size() >= 6);
  CHECK(reqs[0]["code"] == 429);  // the first create, throttled
  CHECK(reqs[1]["code"] == 201);  // and retried after a second
  CHECK(reqs[1]["method"] == "POST");
  int expired = 0;
  for (const auto& r : reqs) {
    CHECK(r["authorization"] == "");
    if (r["code"] == 410) ++expired;
  }
  CHECK(expired == 1);
}

TEST_CASE("REST backend: an exec credential plugin's token is used, and the plugin runs again after a 401") {
  REQUIRE(have_tools());
  KaiEnv env;
  make_certs(env.dir());
  FakeApiServer srv(env.dir(), {"--tls", env.dir().str() + "/srv.crt", env.dir().str() + "/srv.key", "--token", "fresh"});
  // The plugin answers "stale" the first time, "fresh" after; it counts its runs.
  const std::string plugin = env.dir().write("plugin.sh", R"(#!/bin/sh
n=$(cat "$(dirname "$0")/runs" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$(dirname "$0")/runs"
echo "$KUBERNETES_EXEC_INFO" > "$(dirname "$0")/exec-info"
tok=stale; [ $n -gt 1 ] && tok=fresh
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}\n' $tok
)");
  chmod(plugin.c_str(), 0755);
  env.env()["KUBECONFIG"] = env.dir().write(
      "kc", kubeconfig(srv.url(), ", certificate-authority: ca.crt",
                       "{exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, interactiveMode: Never, "
                       "provideClusterInfo: true, env: [{name: EXTRA, value: x}]}}"));
  auto r = env.kai({"job", "list"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(read_file(env.dir().str() + "/runs") == "2\n");
  auto info = json::parse(read_file(env.dir().str() + "/exec-info"));
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == srv.url());
  auto reqs = srv.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0]["code"] == 401);
  CHECK(reqs[1]["authorization"] == "Bearer fresh");

  // A plugin that fails: its exit code, and the install hint when it is not there at all.
  env.env()["KUBECONFIG"] = env.dir().write(
      "kc2", kubeconfig(srv.url(), ", certificate-authority: ca.crt",
                        "{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kai-no-such-plugin, "
                        "installHint: 'install it with apt'}}"));
  r = env.kai({"job", "list"});
  CHECK(r.code == 1);
  CHECK(r.err.find("exec plugin: cannot run kai-no-such-plugin") != std::string::npos);
  CHECK(r.err.find("install it with apt") != std::string::npos);
}

TEST_CASE("REST backend: the server's Invalid Status reaches the user with its field") {
  REQUIRE(have_tools());
  KaiEnv env;
  FakeApiServer srv(env.dir(), {});
  env.env()["KUBECONFIG"] = env.dir().write("kc", kubeconfig(srv.url("http"), "", "{}"));
  const std::string f = env.dir().write("job.yaml", R"(apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: bad}
spec:
  minAvailable: -1
  tasks: [{name: t, replicas: 1, template: {spec: {containers: [{name: c, image: busybox}]}}}]
)");
  auto r = env.kai({"apply", "-f", f});
  CHECK(r.code == 1);
  CHECK(r.err.find("spec.minAvailable: Invalid value: -1: must be greater than or equal to 0") != std::string::npos);
  // --server replaces the context's server (here: a port nothing listens on).
  r = env.kai({"job", "list", "--server", "http://127.0.0.1:1"});
  CHECK(r.code == 1);
  CHECK(r.err.find("unable to connect to the server at http://127.0.0.1:1/") != std::string::npos);
}

TEST_CASE("REST backend: queue create sends parent, deserved, guarantee and capability, and list shows the parent") {
  REQUIRE(have_tools());
  KaiEnv env;
  FakeApiServer srv(env.dir(), {});
  env.env()["KUBECONFIG"] = env.dir().write("kc", kubeconfig(srv.url("http"), "", "{}"));
  auto r = env.kai({"queue", "create", "org", "--deserved", "cpu=4", "--capability", "cpu=8,nvidia.com/gpu=2"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  r = env.kai({"queue", "create", "team", "--parent", "org", "--deserved", "cpu=2", "--guarantee", "cpu=1"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto q = get_json(env, {"get", "queue", "team"});
  CHECK(q["spec"]["parent"] == "org");
  CHECK(q["spec"]["deserved"] == json({{"cpu", "2"}}));
  CHECK(q["spec"]["guarantee"]["resource"] == json({{"cpu", "1"}}));
  CHECK(get_json(env, {"get", "queue", "org"})["spec"]["capability"] == json({{"cpu", "8"}, {"nvidia.com/gpu", "2"}}));
  auto l = env.kai({"queue", "list"});
  INFO(l.err);
  CHECK(l.code == 0);
  CHECK(l.out.find("team                     1       Open    org     ") != std::string::npos);
  auto t = env.kai({"queue", "list", "--tree"});
  CHECK(t.out.find("\n  team   ") != std::string::npos);
}

TEST_CASE("REST backend: get -w lists, watches, and lists again after a 410 on the watch") {
  REQUIRE(have_tools());
  KaiEnv env;
  FakeApiServer srv(env.dir(), {"--expire-watch-once"});
  env.env()["KUBECONFIG"] = env.dir().write("kc", kubeconfig(srv.url("http"), "", "{token: never-sent}"));
  REQUIRE(env.kai({"job", "run", "--name", "before", "--image", "busybox"}).code == 0);
  // The watch starts from the list's resourceVersion; the server answers that first watch with
  // an ERROR event of code 410, so kai lists again, then watches the job created meanwhile.
  const std::string kai = KAI_BINARY;
  auto r = env.sh("(sleep 1.5; '" + kai + "' job run --name after --image busybox >/dev/null) & '" + kai +
                  "' get vcjob -w --request-timeout 4s; wait");
  INFO(r.err);
  CHECK(r.code == 0);
  // kubectl's table once (header and the first list), then a row per change.
  CHECK(r.out.rfind("NAME ", 0) == 0);
  CHECK(r.out.find("\nbefore ") != std::string::npos);
  CHECK(r.out.find("\nafter ") != std::string::npos);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') >= 3);
  int lists = 0, watches = 0, gone = 0;
  for (const auto& q : srv.requests()) {
    const std::string path = q["path"];
    if (path.rfind("/apis/batch.volcano.sh/v1alpha1/namespaces/team-a/jobs", 0) != 0 || q["method"] != "GET") continue;
    if (path.find("watch=1") != std::string::npos) {
      ++watches;
      CHECK(path.find("allowWatchBookmarks=true") != std::string::npos);
      CHECK(path.find("resourceVersion=") != std::string::npos);
    } else {
      ++lists;
    }
  }
  (void)gone;
  CHECK(lists >= 2);    // the first list, and the one after the 410
  CHECK(watches >= 2);  // the expired watch, and the one that saw "after"
}
