// kubeconfig loading (client-go's rules, k8s-api.md §1) and the REST backend's pure parts.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "lib/api/error.h"
#include "lib/api/resources.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/rest_client.h"
#include "support/run_kai.h"

using kai::test::TempDir;
namespace kube = kai::kube;

namespace {

std::string write(const TempDir& d, const std::string& name, const std::string& text) { return d.write(name, text); }

std::string error_of(const kube::LoadRequest& req) {
  try {
    kube::load_rest_config(req);
  } catch (const kai::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("KUBECONFIG files merge: first file wins per name, first non-empty current-context") {
  TempDir d;
  auto a = write(d, "a", R"(apiVersion: v1
kind: Config
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team-a}
clusters:
- name: c1
  cluster: {server: "https://a.example:6443"}
users:
- name: u1
  user: {token: from-a}
)");
  auto b = write(d, "b", R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: c2, user: u2}
- name: other
  context: {cluster: c1, user: u1}
clusters:
- name: c1
  cluster: {server: "https://b.example:6443", insecure-skip-tls-verify: true}
users:
- name: u1
  user: {token: from-b, username: x, password: y}
)");
  kube::LoadRequest req;
  req.env_kubeconfig = a + ":" + d.str() + "/missing:" + b + ":" + a;
  CHECK(kube::kubeconfig_files(req) == std::vector<std::string>{a, b});
  auto rc = kube::load_rest_config(req);
  CHECK(rc.context == "dev");               // current-context from b (a sets none)
  CHECK(rc.server == "https://a.example:6443");  // cluster c1 from a, whole entry
  CHECK_FALSE(rc.insecure_skip_tls_verify);
  CHECK(rc.token == "from-a");
  CHECK(rc.username.empty());
  CHECK(rc.ns == "team-a");
  req.context = "other";
  CHECK(kube::load_rest_config(req).ns == "default");
  req.server = "https://override:443/";
  CHECK(kube::load_rest_config(req).server == "https://override:443");
}

TEST_CASE("kubeconfig paths are relative to the file that names them, -data wins over files") {
  TempDir d;
  std::filesystem::create_directories(d.path() / "conf" / "pki");
  write(d, "conf/pki/ca.crt", "CA-PEM\n");
  write(d, "conf/pki/u.crt", "CERT-PEM\n");
  write(d, "conf/pki/u.key", "KEY-PEM\n");
  write(d, "conf/token", "tok-from-file\n");
  auto kc = write(d, "conf/config", R"(apiVersion: v1
kind: Config
current-context: x
contexts:
- name: x
  context: {cluster: c, user: u}
- name: tf
  context: {cluster: c, user: t}
clusters:
- name: c
  cluster: {server: "https://h:6443", certificate-authority: pki/ca.crt, tls-server-name: kubernetes.default}
users:
- name: u
  user: {client-certificate: pki/u.crt, client-key: pki/u.key, client-key-data: S0VZLURBVEE=}
- name: t
  user: {tokenFile: token}
)");
  kube::LoadRequest req;
  req.kubeconfig = kc;
  auto rc = kube::load_rest_config(req);
  CHECK(rc.ca_pem == "CA-PEM\n");
  CHECK(rc.ca_file == (d.path() / "conf/pki/ca.crt").string());
  CHECK(rc.cert_pem == "CERT-PEM\n");
  CHECK(rc.key_pem == "KEY-DATA");
  CHECK(rc.tls_server_name == "kubernetes.default");
  req.context = "tf";
  rc = kube::load_rest_config(req);
  CHECK(rc.token == "tok-from-file");
  CHECK(rc.token_file == (d.path() / "conf/token").string());
}

TEST_CASE("bad kubeconfigs are refused naming the file and the field") {
  TempDir d;
  kube::LoadRequest req;
  auto one = [&](const std::string& users, const std::string& cluster = "{server: \"https://h:6443\"}") {
    req.kubeconfig = write(d, "kc", "apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                                    "clusters:\n- name: c\n  cluster: " + cluster + "\nusers:\n- name: u\n  user: " + users + "\n");
    return error_of(req);
  };
  const std::string f = d.str() + "/kc";
  CHECK(one("{client-certificate-data: QQ==}") == f + ": users[0].user: client-certificate is set but client-key is not: both are needed");
  CHECK(one("{token: t, username: a, password: b}") ==
        f + ": users[0].user: more than one authentication method found (token, client certificate, username/password): use one");
  CHECK(one("{token: t}", "{}") == f + ": clusters[0].cluster.server: required");
  CHECK(one("{token: t}", "{server: \"https://h\", insecure-skip-tls-verify: true, certificate-authority-data: QQ==}") ==
        f + ": clusters[0].cluster: insecure-skip-tls-verify: specifying a root certificates file with the insecure flag is not allowed");
  CHECK(one("{exec: {command: x, apiVersion: client.authentication.k8s.io/v1}}") ==
        f + ": users[0].user.exec.interactiveMode: required for client.authentication.k8s.io/v1");
  CHECK(one("{exec: {command: x, apiVersion: v9}}") ==
        f + ": users[0].user.exec.apiVersion: unsupported \"v9\" (client.authentication.k8s.io/v1 or v1beta1)");
  CHECK(one("{token: t}", "{server: \"ftp://h\"}") == f + ": clusters[0].cluster.server: unsupported scheme in \"ftp://h\" (http or https)");
  CHECK(one("{tokenFile: /nonexistent/token}") == f + ": users[0].user.tokenFile: cannot read /nonexistent/token");
  CHECK(one("{client-certificate-data: '!!notbase64', client-key-data: QQ==}") ==
        f + ": users[0].user.client-certificate-data: illegal base64 data");
  req.context = "nope";
  CHECK(one("{token: t}") == "context \"nope\" does not exist in " + f);
  req.context.clear();
  req.kubeconfig = write(d, "broken", "clusters: [\n");
  CHECK(error_of(req).rfind(d.str() + "/broken: line ", 0) == 0);
  req.kubeconfig = d.str() + "/absent";
  CHECK(error_of(req) == "--kubeconfig " + d.str() + "/absent: no such file");
}

TEST_CASE("in-cluster config reads the service account, --server alone connects anonymously") {
  TempDir d;
  std::filesystem::create_directories(d.path() / "sa");
  write(d, "sa/token", "sa-token\n");
  write(d, "sa/ca.crt", "SA-CA");
  write(d, "sa/namespace", "ml-team");
  kube::LoadRequest req;
  req.service_host = "fd00::1";
  req.service_port = "443";
  req.service_account_dir = d.str() + "/sa";
  auto rc = kube::load_rest_config(req);
  CHECK(rc.server == "https://[fd00::1]:443");
  CHECK(rc.token == "sa-token");
  CHECK(rc.ca_pem == "SA-CA");
  CHECK(rc.ns == "ml-team");
  kube::LoadRequest s;
  s.server = "http://127.0.0.1:8080/";
  rc = kube::load_rest_config(s);
  CHECK(rc.server == "http://127.0.0.1:8080");
  CHECK(rc.token.empty());
  CHECK(error_of(kube::LoadRequest{}) == "no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster");
}

TEST_CASE("API paths and Status errors read as the API server's") {
  CHECK(kube::resource_path(kai::api::jobs(), "team a", "j1") == "/apis/batch.volcano.sh/v1alpha1/namespaces/team%20a/jobs/j1");
  CHECK(kube::resource_path(kai::api::queues(), "ignored") == "/apis/scheduling.volcano.sh/v1beta1/queues");
  CHECK(kube::resource_path(kai::api::pods(), "") == "/api/v1/pods");
  auto nf = kube::status_error(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"jobs.batch.volcano.sh \"x\" not found","reason":"NotFound","code":404})");
  CHECK(nf.kind() == kai::ErrorKind::NotFound);
  CHECK(std::string(nf.what()) == "jobs.batch.volcano.sh \"x\" not found");
  auto inv = kube::status_error(422, R"({"kind":"Status","reason":"Invalid","message":"m","details":{"causes":[{"field":"spec.minAvailable","message":"Invalid value: -1"}]}})");
  CHECK(inv.kind() == kai::ErrorKind::Invalid);
  REQUIRE(inv.causes().size() == 1);
  CHECK(inv.causes()[0].field == "spec.minAvailable");
  CHECK(std::string(kube::status_error(403, R"({"kind":"Status","reason":"Forbidden","message":"jobs is forbidden: User \"u\" cannot list"})").what()) ==
        "Error from server (Forbidden): jobs is forbidden: User \"u\" cannot list");
  CHECK(std::string(kube::status_error(401, R"({"kind":"Status","reason":"Unauthorized","message":"Unauthorized","code":401})").what()) ==
        "You must be logged in to the server (Unauthorized)");
  CHECK(std::string(kube::status_error(502, "<html>bad gateway</html>\n").what()) == "the server returned HTTP 502: <html>bad gateway</html>");
}
