// End to end: kai cluster init/status/reset, target selection, store files.

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;
using nlohmann::json;

TEST_CASE("cluster init makes the nodes asked for, with fake GPUs") {
  KaiEnv env;
  auto r = env.kai({"cluster", "init", "--nodes", "3", "--cpu", "64", "--memory", "512Gi", "--gpus-per-node", "8"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "initialised local cluster at " + env.home() +
                     ": 3 nodes (64 cpu, 512Gi memory, 8 nvidia.com/gpu each), queues root and default, namespace default\n");
  auto nodes = json::parse(env.kai({"get", "nodes", "-o", "json"}).out)["items"];
  REQUIRE(nodes.size() == 3);
  CHECK(nodes[0]["status"]["allocatable"]["nvidia.com/gpu"] == "8");
  CHECK(nodes[2]["metadata"]["name"] == "node-3");

  auto again = env.kai({"cluster", "init"});
  CHECK(again.code == 1);
  CHECK(again.err.find("is already initialised; run 'kai cluster reset' first, or pass --force") != std::string::npos);
  auto forced = env.kai({"cluster", "init", "--force", "--nodes", "1"});
  CHECK(forced.code == 0);
  CHECK(json::parse(env.kai({"get", "nodes", "-o", "json"}).out)["items"].size() == 1);

  auto st = env.kai({"cluster", "status", "-o", "json"});
  REQUIRE(st.code == 0);
  auto s = json::parse(st.out);
  CHECK(s["target"] == "local");
  CHECK(s["nodes"] == 1);
  CHECK(s["allocatable"]["nvidia.com/gpu"] == "4");
  CHECK(s["queues"] == 2);

  auto bad = env.kai({"cluster", "init", "--force", "--cpu", "lots"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--cpu lots: must be a positive quantity") != std::string::npos);

  auto reset = env.kai({"cluster", "reset"});
  CHECK(reset.code == 0);
  CHECK(json::parse(env.kai({"cluster", "status", "-o", "json"}).out)["initialised"] == false);
}

TEST_CASE("cluster init -f takes nodes from a YAML file") {
  KaiEnv env;
  auto f = env.dir().write("nodes.yaml", R"(apiVersion: v1
kind: Node
metadata: {name: gpu-a, labels: {zone: a}}
status:
  allocatable: {cpu: "32", memory: 256Gi, nvidia.com/gpu: "8", pods: "110"}
---
apiVersion: v1
kind: Node
metadata: {name: cpu-b}
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110"}
)");
  auto r = env.kai({"cluster", "init", "-f", f});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(env.kai({"get", "nodes", "-o", "name"}).out == "node/cpu-b\nnode/gpu-a\n");
  CHECK(env.kai({"get", "nodes", "-l", "zone=a", "-o", "name"}).out == "node/gpu-a\n");
  auto bad = env.kai({"cluster", "init", "--force", "-f", env.dir().write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("bad.yaml: document 1: expected a v1 Node, got kind \"Pod\"") != std::string::npos);
}

TEST_CASE("the first local command creates a default cluster, state files are private") {
  KaiEnv env;
  auto r = env.kai({"queue", "list"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("default ") != std::string::npos);
  struct stat st{};
  REQUIRE(stat(env.home().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(stat((env.home() + "/store.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(json::parse(env.kai({"get", "nodes", "-o", "json"}).out)["items"].size() == 2);
}

TEST_CASE("a kubeconfig target is used through the REST backend, --local still reaches the local cluster") {
  KaiEnv env;
  // Loopback, a port nothing listens on.
  auto kc = env.dir().write("kubeconfig", R"(apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: prod
  context: {cluster: c1, user: u1, namespace: team-a}
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u1
  user: {token: secret-token}
)");
  env.env()["KUBECONFIG"] = kc;
  auto r = env.kai({"job", "list"});
  CHECK(r.code == 1);
  CHECK(r.err.find("kai: error: unable to connect to the server at https://127.0.0.1:1/apis/batch.volcano.sh/v1alpha1/namespaces/team-a/jobs") == 0);
  CHECK(r.err.find("secret-token") == std::string::npos);
  CHECK(env.kai({"job", "list", "--local"}).code == 0);
  CHECK(env.kai({"job", "list"}, "").code == 1);
  auto st = env.kai({"cluster", "status", "-o", "json"});
  auto s = json::parse(st.out);
  CHECK(s["target"] == "kubeconfig");
  CHECK(s["namespace"] == "team-a");
  CHECK(s["server"] == "https://127.0.0.1:1");
  auto ctx = env.kai({"job", "list", "--context", "nope"});
  CHECK(ctx.code == 1);
  CHECK(ctx.err.find("context \"nope\" does not exist") != std::string::npos);
  env.env()["KAI_CLUSTER"] = "local";
  CHECK(env.kai({"job", "list"}).code == 0);
}

TEST_CASE("version prints the version, -o json too") {
  KaiEnv env;
  auto r = env.kai({"version"});
  CHECK(r.code == 0);
  CHECK(r.out.find("Version: ") == 0);
  auto j = json::parse(env.kai({"version", "-o", "json"}).out);
  CHECK(j.contains("gitSHA"));
}

TEST_CASE("the demo script runs to the end") {
  KaiEnv env;
  auto r = env.sh("scripts/demo.sh " KAI_BINARY);
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("kai demo: done") != std::string::npos);
  CHECK(r.err.find("error") == std::string::npos);
}

TEST_CASE("verbosity 1 logs on stderr which cluster was chosen and why") {
  KaiEnv env;
  auto r = env.kai({"-v", "1", "job", "list"});
  CHECK(r.code == 0);
  CHECK(r.err.find("kai: info: target: local cluster in " + env.home() + " (no kubeconfig found)\n") != std::string::npos);
  CHECK(r.err.find("kai: info: created the default local cluster") != std::string::npos);
  auto again = env.kai({"job", "list", "-v", "2"});
  CHECK(again.err.find("created the default local cluster") == std::string::npos);
  auto quiet = env.kai({"job", "list"});
  CHECK(quiet.err.empty());
}
