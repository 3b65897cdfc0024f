#include "lib/kube/kubeconfig.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "lib/api/codec.h"
#include "lib/api/error.h"

namespace kai::kube {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

bool is_file(const std::string& p) {
  std::error_code ec;
  return !p.empty() && fs::is_regular_file(p, ec);
}

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::invalid(what + ": cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Standard base64 (what Go's []byte fields hold in YAML/JSON); whitespace ignored.
std::optional<std::string> base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;  // data after padding
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

std::string str(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return it->dump();
}

bool flag(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return it->is_string() && it->get<std::string>() == "true";
}

/// A path from a kubeconfig: relative ones are relative to the file that defined them.
std::string resolve(const std::string& p, const std::string& dir) {
  if (p.empty() || p[0] == '/' || dir.empty()) return p;
  return (fs::path(dir) / p).lexically_normal().string();
}

/// `-data` (base64) wins over the file.
std::string pem(const json& entry, const char* data_key, const char* file_key, const std::string& where,
                std::string* file_out = nullptr) {
  const std::string data = str(entry, data_key);
  if (!data.empty()) {
    auto d = base64_decode(data);
    if (!d) throw Error::invalid(where + "." + data_key + ": illegal base64 data");
    return *d;
  }
  const std::string file = resolve(str(entry, file_key), entry.value("$dir", std::string()));
  if (file.empty()) return "";
  if (file_out) *file_out = file;
  return read_file(file, where + "." + file_key);
}

}  // namespace

std::string base64_encode(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out.push_back(t[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

std::vector<std::string> kubeconfig_files(const LoadRequest& req) {
  if (!req.kubeconfig.empty()) {
    if (!is_file(req.kubeconfig)) throw Error::invalid("--kubeconfig " + req.kubeconfig + ": no such file");
    return {req.kubeconfig};
  }
  std::vector<std::string> out;
  if (!req.env_kubeconfig.empty()) {
    std::set<std::string> seen;
    std::stringstream ss(req.env_kubeconfig);
    for (std::string part; std::getline(ss, part, ':');) {
      if (part.empty() || !seen.insert(part).second) continue;
      if (is_file(part)) out.push_back(part);
    }
    return out;
  }
  if (!req.home.empty() && is_file(req.home + "/.kube/config")) out.push_back(req.home + "/.kube/config");
  return out;
}

json merge_kubeconfigs(const std::vector<std::string>& files) {
  json merged = {{"clusters", json::object()}, {"users", json::object()}, {"contexts", json::object()},
                 {"current-context", ""}, {"$files", json::array()}};
  for (const auto& file : files) {
    const json doc = api::decode_value(read_file(file, "kubeconfig"), file);
    merged["$files"].push_back(file);
    if (doc.is_null()) continue;
    if (!doc.is_object()) throw Error::invalid(file + ": not a kubeconfig (expected a mapping)");
    const std::string dir = fs::absolute(fs::path(file)).parent_path().string();
    if (merged["current-context"].get<std::string>().empty()) merged["current-context"] = str(doc, "current-context");
    for (const auto& [list, body_key] : {std::pair{"clusters", "cluster"}, {"users", "user"}, {"contexts", "context"}}) {
      auto it = doc.find(list);
      if (it == doc.end() || it->is_null()) continue;
      if (!it->is_array()) throw Error::invalid(file + ": " + list + ": expected a list");
      for (std::size_t i = 0; i < it->size(); ++i) {
        const json& e = (*it)[i];
        const std::string name = e.is_object() ? str(e, "name") : "";
        if (name.empty()) throw Error::invalid(file + ": " + list + "[" + std::to_string(i) + "].name: required");
        if (merged[list].contains(name)) continue;  // the first file that defines a name wins, whole entry
        json body = e.value(body_key, json::object());
        if (!body.is_object()) throw Error::invalid(file + ": " + list + "[" + std::to_string(i) + "]." + body_key + ": expected a mapping");
        body["$dir"] = dir;
        body["$file"] = file;
        body["$index"] = i;
        merged[list][name] = body;
      }
    }
  }
  return merged;
}

namespace {

std::string join_files(const std::vector<std::string>& files) {
  std::string out;
  for (const auto& f : files) out += (out.empty() ? "" : ":") + f;
  return out;
}

/// No kubeconfig file: --server alone, else the in-cluster config.
RestConfig without_files(const LoadRequest& req) {
  RestConfig rc;
  if (!req.server.empty() && (req.service_host.empty() || req.service_port.empty())) {
    rc.server = req.server;  // --server alone: no credentials, as kubectl -s
    while (rc.server.size() > 1 && rc.server.back() == '/') rc.server.pop_back();
    rc.source = "--server";
    return rc;
  }
  {
    if (req.service_host.empty() || req.service_port.empty()) {
      throw Error::invalid("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster");
    }
    std::string host = req.service_host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    rc.server = req.server.empty() ? "https://" + host + ":" + req.service_port : req.server;
    rc.token_file = req.service_account_dir + "/token";
    rc.token = read_file(rc.token_file, "in-cluster config");
    rc.ca_file = req.service_account_dir + "/ca.crt";
    rc.ca_pem = read_file(rc.ca_file, "in-cluster config");
    std::ifstream ns_in(req.service_account_dir + "/namespace");
    std::string ns;
    if (ns_in && std::getline(ns_in, ns) && !ns.empty()) rc.ns = ns;
    rc.source = "in-cluster service account (" + req.service_account_dir + ")";
    while (!rc.token.empty() && (rc.token.back() == '\n' || rc.token.back() == '\r')) rc.token.pop_back();
    return rc;
  }
}

/// The context of merged kubeconfig files (merge_kubeconfigs), resolved.
RestConfig from_merged(const json& cfg, const std::vector<std::string>& files, const LoadRequest& req) {
  RestConfig rc;
  const std::string files_text = join_files(files);
  const std::string ctx_name = req.context.empty() ? cfg["current-context"].get<std::string>() : req.context;
  if (ctx_name.empty()) throw Error::invalid(files_text + ": current-context is not set (use --context)");
  if (!cfg["contexts"].contains(ctx_name)) {
    throw Error::invalid("context \"" + ctx_name + "\" does not exist in " + files_text);
  }
  const json& ctx = cfg["contexts"][ctx_name];
  const std::string ctx_where = ctx["$file"].get<std::string>() + ": contexts[" + std::to_string(ctx["$index"].get<int>()) + "]";
  rc.context = ctx_name;
  rc.source = "kubeconfig " + ctx["$file"].get<std::string>() + " (context " + ctx_name + ")";
  if (const std::string ns = str(ctx, "namespace"); !ns.empty()) rc.ns = ns;

  const std::string cluster_name = str(ctx, "cluster");
  if (cluster_name.empty()) throw Error::invalid(ctx_where + ".context.cluster: required");
  if (!cfg["clusters"].contains(cluster_name)) {
    throw Error::invalid(ctx_where + ".context.cluster: cluster \"" + cluster_name + "\" does not exist in " + files_text);
  }
  const json& cl = cfg["clusters"][cluster_name];
  const std::string cl_where = cl["$file"].get<std::string>() + ": clusters[" + std::to_string(cl["$index"].get<int>()) + "].cluster";
  rc.server = req.server.empty() ? str(cl, "server") : req.server;
  if (rc.server.empty()) throw Error::invalid(cl_where + ".server: required");
  while (rc.server.size() > 1 && rc.server.back() == '/') rc.server.pop_back();
  if (rc.server.rfind("https://", 0) != 0 && rc.server.rfind("http://", 0) != 0) {
    if (rc.server.find("://") != std::string::npos) {
      throw Error::invalid(cl_where + ".server: unsupported scheme in \"" + rc.server + "\" (http or https)");
    }
    rc.server = "https://" + rc.server;  // client-go's default scheme
  }
  rc.tls_server_name = str(cl, "tls-server-name");
  rc.insecure_skip_tls_verify = flag(cl, "insecure-skip-tls-verify");
  rc.proxy_url = str(cl, "proxy-url");
  rc.disable_compression = flag(cl, "disable-compression");
  rc.ca_pem = pem(cl, "certificate-authority-data", "certificate-authority", cl_where, &rc.ca_file);
  if (rc.insecure_skip_tls_verify && !rc.ca_pem.empty()) {
    throw Error::invalid(cl_where + ": insecure-skip-tls-verify: specifying a root certificates file with the insecure flag is not allowed");
  }
  json exec_ext;
  if (auto ex = cl.find("extensions"); ex != cl.end() && ex->is_array()) {
    for (const auto& e : *ex) {
      if (e.is_object() && str(e, "name") == "client.authentication.k8s.io/exec") exec_ext = e.value("extension", json());
    }
  }

  const std::string user_name = str(ctx, "user");
  if (user_name.empty()) return rc;  // anonymous
  if (!cfg["users"].contains(user_name)) {
    throw Error::invalid(ctx_where + ".context.user: user \"" + user_name + "\" does not exist in " + files_text);
  }
  const json& u = cfg["users"][user_name];
  const std::string u_where = u["$file"].get<std::string>() + ": users[" + std::to_string(u["$index"].get<int>()) + "].user";
  const std::string dir = u.value("$dir", std::string());
  rc.token = str(u, "token");
  rc.token_file = resolve(str(u, "tokenFile"), dir);
  if (rc.token.empty() && !rc.token_file.empty()) {
    rc.token = read_file(rc.token_file, u_where + ".tokenFile");
    while (!rc.token.empty() && (rc.token.back() == '\n' || rc.token.back() == '\r')) rc.token.pop_back();
  }
  rc.cert_pem = pem(u, "client-certificate-data", "client-certificate", u_where);
  rc.key_pem = pem(u, "client-key-data", "client-key", u_where);
  if (rc.cert_pem.empty() != rc.key_pem.empty()) {
    throw Error::invalid(u_where + ": " + (rc.cert_pem.empty() ? "client-key" : "client-certificate") + " is set but " +
                         (rc.cert_pem.empty() ? "client-certificate" : "client-key") + " is not: both are needed");
  }
  rc.username = str(u, "username");
  rc.password = str(u, "password");
  int methods = (!rc.token.empty() || !rc.token_file.empty()) + !rc.cert_pem.empty() + !rc.username.empty();
  if (methods > 1) {
    throw Error::invalid(u_where + ": more than one authentication method found (token, client certificate, username/password): use one");
  }
  rc.impersonate = str(u, "as");
  if (auto g = u.find("as-groups"); g != u.end() && g->is_array()) {
    for (const auto& x : *g) rc.impersonate_groups.push_back(x.is_string() ? x.get<std::string>() : x.dump());
  }
  if (auto ex = u.find("exec"); ex != u.end() && ex->is_object()) {
    if (u.contains("auth-provider")) throw Error::invalid(u_where + ": exec and auth-provider cannot both be set");
    ExecConfig e;
    e.api_version = str(*ex, "apiVersion");
    e.command = str(*ex, "command");
    if (e.command.empty()) throw Error::invalid(u_where + ".exec.command: required");
    if (e.api_version != "client.authentication.k8s.io/v1" && e.api_version != "client.authentication.k8s.io/v1beta1") {
      throw Error::invalid(u_where + ".exec.apiVersion: " +
                           (e.api_version.empty() ? std::string("required") : "unsupported \"" + e.api_version + "\"") +
                           " (client.authentication.k8s.io/v1 or v1beta1)");
    }
    for (const auto& a : ex->value("args", json::array())) e.args.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    for (const auto& v : ex->value("env", json::array())) {
      if (v.is_object()) e.env.emplace_back(str(v, "name"), str(v, "value"));
    }
    e.install_hint = str(*ex, "installHint");
    e.provide_cluster_info = flag(*ex, "provideClusterInfo");
    e.interactive_mode = str(*ex, "interactiveMode");
    if (e.interactive_mode.empty()) {
      if (e.api_version == "client.authentication.k8s.io/v1") throw Error::invalid(u_where + ".exec.interactiveMode: required for client.authentication.k8s.io/v1");
      e.interactive_mode = "IfAvailable";
    }
    if (e.interactive_mode != "Never" && e.interactive_mode != "IfAvailable" && e.interactive_mode != "Always") {
      throw Error::invalid(u_where + ".exec.interactiveMode: \"" + e.interactive_mode + "\": must be Never, IfAvailable or Always");
    }
    e.base_dir = dir;
    e.cluster_config = exec_ext;
    rc.exec = std::move(e);
  } else if (u.contains("auth-provider")) {
    throw Error::invalid(u_where + ".auth-provider: not supported by kai (use an exec credential plugin, e.g. kubelogin for OIDC)");
  }
  return rc;
}

}  // namespace

RestConfig load_rest_config(const LoadRequest& req) {
  const auto files = kubeconfig_files(req);
  return files.empty() ? without_files(req) : from_merged(merge_kubeconfigs(files), files, req);
}

ChosenTarget choose_target(const TargetRequest& req) {
  ChosenTarget c;
  client::Target& t = c.target;
  if (req.local || req.env_cluster == "local") {
    t.why = req.local ? "--local" : "KAI_CLUSTER=local";
    return c;
  }
  if (req.env_cluster == "in-cluster") {
    // Opted into, not automatic: kai inside a pod with no kubeconfig keeps to the local cluster
    // (CI jobs running in Kubernetes script against it).
    LoadRequest lr = req;
    lr.kubeconfig.clear();
    lr.env_kubeconfig.clear();
    lr.home.clear();
    t.why = "KAI_CLUSTER=in-cluster";
    c.rest = without_files(lr);
  } else if (const auto files = kubeconfig_files(req); files.empty()) {
    if (!req.context.empty()) throw Error::invalid("--context " + req.context + ": no kubeconfig found");
    if (req.server.empty()) {
      t.why = "no kubeconfig found";
      return c;
    }
    t.why = "--server";
    c.rest = without_files(req);
  } else {
    t.kubeconfig_path = files[0];
    t.why = !req.kubeconfig.empty() ? "--kubeconfig " + files[0] : !req.env_kubeconfig.empty() ? "$KUBECONFIG" : "~/.kube/config";
    const json merged = merge_kubeconfigs(files);
    if (req.context.empty() && req.server.empty() && merged["current-context"].get<std::string>().empty()) {
      // A kubeconfig that names no current context (e.g. only what `kai cluster kubeconfig
      // --write` added to a new file) configures no cluster: the local one, as with none.
      t.why = join_files(files) + " sets no current-context";
      return c;
    }
    c.rest = from_merged(merged, files, req);
  }
  t.kind = client::Target::Kind::Kubeconfig;
  t.context = c.rest->context;
  t.server = c.rest->server;
  t.ns = c.rest->ns;
  return c;
}

}  // namespace kai::kube
