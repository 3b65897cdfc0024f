#include "lib/kube/rest_client.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "lib/api/error.h"
#include "lib/output/printer.h"

extern char** environ;

namespace kai::kube {
namespace {

namespace fs = std::filesystem;

std::string label_selector_text(const api::LabelSelector& sel) {
  using Op = api::LabelSelector::Requirement::Op;
  std::string out;
  for (const auto& r : sel.requirements()) {
    if (!out.empty()) out += ",";
    auto values = [&] {
      std::string v;
      for (const auto& x : r.values) v += (v.empty() ? "" : ",") + x;
      return v;
    };
    switch (r.op) {
      case Op::Equals: out += r.key + "=" + (r.values.empty() ? "" : r.values[0]); break;
      case Op::NotEquals: out += r.key + "!=" + (r.values.empty() ? "" : r.values[0]); break;
      case Op::In: out += r.key + " in (" + values() + ")"; break;
      case Op::NotIn: out += r.key + " notin (" + values() + ")"; break;
      case Op::Exists: out += r.key; break;
      case Op::DoesNotExist: out += "!" + r.key; break;
      case Op::GreaterThan: out += r.key + ">" + (r.values.empty() ? "" : r.values[0]); break;
      case Op::LessThan: out += r.key + "<" + (r.values.empty() ? "" : r.values[0]); break;
    }
  }
  return out;
}

std::string field_selector_text(const api::FieldSelector& sel) {
  std::string out;
  for (const auto& r : sel.requirements()) {
    if (!out.empty()) out += ",";
    std::string v;
    for (char c : r.value) {
      if (c == '\\' || c == ',' || c == '=') v.push_back('\\');
      v.push_back(c);
    }
    out += r.field + (r.equals ? "=" : "!=") + v;
  }
  return out;
}

std::string ns_of(const api::ResourceInfo& res, const json& obj) {
  if (!res.namespaced) return "";
  const std::string ns = obj.contains("metadata") ? obj["metadata"].value("namespace", std::string()) : "";
  return ns.empty() ? "default" : ns;
}

std::string name_of(const json& obj) {
  return obj.contains("metadata") && obj["metadata"].is_object() ? obj["metadata"].value("name", std::string()) : "";
}

/// Seconds to wait before retrying, from Retry-After (seconds; an HTTP date counts as 1).
std::optional<int> retry_after(const HttpResponse& r) {
  const std::string v = r.header("retry-after");
  if (v.empty()) return std::nullopt;
  try {
    return std::clamp(std::stoi(v), 0, 60);
  } catch (const std::exception&) {
    return 1;
  }
}

/// The JSON body of an answer ({} when empty).
json json_answer(const HttpResponse& resp, const std::string& method, const std::string& path_and_query) {
  if (resp.body.empty()) return json::object();
  try {
    return json::parse(resp.body);
  } catch (const std::exception& e) {
    throw Error::unavailable("the server's answer to " + method + " " + path_and_query + " is not JSON: " + e.what());
  }
}

}  // namespace

std::string resource_path(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  std::string p = res.group.empty() ? "/api/" + res.version : "/apis/" + res.group + "/" + res.version;
  if (res.namespaced && !ns.empty()) p += "/namespaces/" + url_escape(ns);
  p += "/" + res.plural;
  if (!name.empty()) p += "/" + url_escape(name);
  return p;
}

Error status_error(long http_status, const std::string& body) {
  json st;
  try {
    st = json::parse(body);
  } catch (const std::exception&) {
  }
  if (!st.is_object() || st.value("kind", std::string()) != "Status") {
    std::string text = body.substr(0, 300);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (http_status == 401) return Error::unavailable("You must be logged in to the server (Unauthorized)");
    return Error::unavailable("the server returned HTTP " + std::to_string(http_status) +
                              (text.empty() ? std::string() : ": " + text));
  }
  const std::string reason = st.value("reason", std::string());
  const std::string message = st.value("message", std::string());
  if (reason == "NotFound") return Error::not_found(message);
  if (reason == "AlreadyExists") return Error::already_exists(message);
  if (reason == "Conflict") return Error::conflict(message);
  if (reason == "Expired" || reason == "Gone") return Error::gone("Error from server (" + reason + "): " + message);
  if (reason == "Invalid" || reason == "BadRequest") {
    std::vector<FieldCause> causes;
    for (const auto& c : st.value("/details/causes"_json_pointer, json::array())) {
      if (c.is_object()) causes.push_back({c.value("field", std::string()), c.value("message", std::string())});
    }
    return Error::invalid(message, std::move(causes));
  }
  if (http_status == 401 || reason == "Unauthorized") {
    return Error::unavailable("You must be logged in to the server (" + (message.empty() ? std::string("Unauthorized") : message) + ")");
  }
  return Error::unavailable("Error from server" + (reason.empty() ? std::string() : " (" + reason + ")") + ": " + message);
}

ExecCredential run_exec_plugin(const ExecConfig& exec, const RestConfig& cluster) {
  std::string command = exec.command;
  if (command.find('/') != std::string::npos && command[0] != '/' && !exec.base_dir.empty()) {
    command = (fs::path(exec.base_dir) / command).lexically_normal().string();
  }
  const bool tty = isatty(STDIN_FILENO);
  if (exec.interactive_mode == "Always" && !tty) {
    throw Error::unavailable("exec plugin " + exec.command + " is configured to need an interactive terminal (interactiveMode: Always) but stdin is not a terminal");
  }
  const bool interactive = exec.interactive_mode != "Never" && tty;
  json info = {{"kind", "ExecCredential"}, {"apiVersion", exec.api_version}, {"spec", {{"interactive", interactive}}}};
  if (exec.provide_cluster_info) {
    json c = {{"server", cluster.server}, {"tls-server-name", cluster.tls_server_name},
              {"insecure-skip-tls-verify", cluster.insecure_skip_tls_verify}, {"proxy-url", cluster.proxy_url},
              {"disable-compression", cluster.disable_compression}};
    if (!cluster.ca_pem.empty()) c["certificate-authority-data"] = base64_encode(cluster.ca_pem);
    if (!exec.cluster_config.is_null()) c["config"] = exec.cluster_config;
    info["spec"]["cluster"] = c;
  }
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "KUBERNETES_EXEC_INFO=", 21) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : exec.env) env_strings.push_back(k + "=" + v);
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + info.dump());
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args{command};
  args.insert(args.end(), exec.args.begin(), exec.args.end());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw Error::unavailable(std::string("exec plugin: pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  if (!interactive) posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, command.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    std::string msg = "exec plugin: cannot run " + exec.command + ": " + std::strerror(rc);
    if (rc == ENOENT && !exec.install_hint.empty()) msg += "\n\n" + exec.install_hint;
    throw Error::unavailable(msg);
  }
  std::string output;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (output.size() < (1u << 20)) output.append(buf, static_cast<std::size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status)) : "a signal";
    std::string msg = "exec plugin: " + exec.command + " failed with " + how;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !exec.install_hint.empty()) msg += "\n\n" + exec.install_hint;
    throw Error::unavailable(msg);
  }
  json cred;
  try {
    cred = json::parse(output);
  } catch (const std::exception& e) {
    throw Error::unavailable("exec plugin " + exec.command + ": its output is not an ExecCredential: " + e.what());
  }
  if (!cred.is_object() || cred.value("kind", std::string()) != "ExecCredential") {
    throw Error::unavailable("exec plugin " + exec.command + ": its output is not an ExecCredential");
  }
  if (cred.value("apiVersion", std::string()) != exec.api_version) {
    throw Error::unavailable("exec plugin " + exec.command + " is configured to use API version " + exec.api_version +
                             ", plugin returned version " + cred.value("apiVersion", std::string("(none)")));
  }
  const json st = cred.value("status", json());
  if (!st.is_object()) throw Error::unavailable("exec plugin " + exec.command + " didn't return a status field");
  ExecCredential c;
  c.token = st.value("token", std::string());
  c.cert_pem = st.value("clientCertificateData", std::string());
  c.key_pem = st.value("clientKeyData", std::string());
  if (c.token.empty() && c.cert_pem.empty() && c.key_pem.empty()) {
    throw Error::unavailable("exec plugin " + exec.command + " didn't return a token or cert/key pair");
  }
  if (c.cert_pem.empty() != c.key_pem.empty()) {
    throw Error::unavailable("exec plugin " + exec.command + " returned only " + (c.cert_pem.empty() ? "clientKeyData" : "clientCertificateData"));
  }
  if (const std::string exp = st.value("expirationTimestamp", std::string()); !exp.empty()) {
    c.expires = output::parse_time(exp);
    if (!c.expires) throw Error::unavailable("exec plugin " + exec.command + ": bad expirationTimestamp \"" + exp + "\"");
  }
  return c;
}

RestClient::RestClient(RestConfig cfg) : cfg_(std::move(cfg)) {
  secure_ = cfg_.server.rfind("https://", 0) == 0;
  TlsOptions tls;
  if (secure_) {
    tls.ca_pem = cfg_.ca_pem;
    tls.cert_pem = cfg_.cert_pem;
    tls.key_pem = cfg_.key_pem;
    tls.insecure = cfg_.insecure_skip_tls_verify;
    tls.server_name = cfg_.tls_server_name;
    if (tls.insecure) {
      spdlog::warn("insecure-skip-tls-verify is set for {}: the server's certificate is not checked", cfg_.server);
    }
  }
  tls.proxy_url = cfg_.proxy_url;
  tls.compression = !cfg_.disable_compression;
  http_ = std::make_unique<HttpClient>(tls);
  token_read_at_ = std::chrono::steady_clock::now();
}

RestClient::~RestClient() = default;

std::string RestClient::describe_target() const { return cfg_.server + " (" + cfg_.source + ")"; }

std::vector<std::string> RestClient::auth_headers(bool refresh_exec) {
  std::vector<std::string> h;
  // As client-go: credentials only over TLS.
  if (!secure_) return h;
  if (!cfg_.impersonate.empty()) h.push_back("Impersonate-User: " + cfg_.impersonate);
  for (const auto& g : cfg_.impersonate_groups) h.push_back("Impersonate-Group: " + g);
  if (!cfg_.token_file.empty() && std::chrono::steady_clock::now() - token_read_at_ > std::chrono::minutes(1)) {
    // Bound service-account tokens rotate: read the file again, at most once a minute.
    std::ifstream in(cfg_.token_file);
    std::string t;
    if (in && std::getline(in, t) && !t.empty()) cfg_.token = t;
    token_read_at_ = std::chrono::steady_clock::now();
  }
  if (!cfg_.token.empty()) {
    h.push_back("Authorization: Bearer " + cfg_.token);
    return h;
  }
  if (!cfg_.username.empty()) {
    h.push_back("Authorization: Basic " + base64_encode(cfg_.username + ":" + cfg_.password));
    return h;
  }
  if (cfg_.exec && cfg_.cert_pem.empty()) {
    const bool expired = exec_cred_ && exec_cred_->expires && *exec_cred_->expires <= std::chrono::system_clock::now();
    if (!exec_cred_ || expired || refresh_exec) {
      exec_cred_ = run_exec_plugin(*cfg_.exec, cfg_);
      http_exec_cert_.reset();
      if (!exec_cred_->cert_pem.empty()) {
        TlsOptions tls;
        tls.ca_pem = cfg_.ca_pem;
        tls.cert_pem = exec_cred_->cert_pem;
        tls.key_pem = exec_cred_->key_pem;
        tls.insecure = cfg_.insecure_skip_tls_verify;
        tls.server_name = cfg_.tls_server_name;
        tls.proxy_url = cfg_.proxy_url;
        tls.compression = !cfg_.disable_compression;
        http_exec_cert_ = std::make_unique<HttpClient>(tls);
      }
    }
    if (!exec_cred_->token.empty()) h.push_back("Authorization: Bearer " + exec_cred_->token);
  }
  return h;
}

json RestClient::call(const std::string& method, const std::string& path_and_query, const std::string& body,
                      const std::string& content_type) {
  return json_answer(send(method, path_and_query, body, content_type, "application/json"), method, path_and_query);
}

std::string RestClient::get_text(const std::string& path_and_query) {
  return send("GET", path_and_query, "", "", "*/*").body;
}

HttpResponse RestClient::send(const std::string& method, const std::string& path_and_query, const std::string& body,
                              const std::string& content_type, const std::string& accept, long pass_status) {
  constexpr int kMaxRetries = 10;  // client-go's default
  bool refreshed = false;
  for (int attempt = 0;; ++attempt) {
    HttpRequest req;
    req.method = method;
    req.url = cfg_.server + path_and_query;
    req.headers = auth_headers(false);
    req.headers.push_back("Accept: " + accept);
    req.headers.push_back("User-Agent: kai");
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      req.headers.push_back("Content-Type: " + (content_type.empty() ? std::string("application/json") : content_type));
    }
    req.body = body;
    req.timeout_ms = 60000;
    HttpResponse resp;
    try {
      resp = (http_exec_cert_ ? *http_exec_cert_ : *http_).perform(req);
    } catch (const Error&) {
      // Connection failures: GETs are retried a few times with backoff (as client-go's
      // "connection reset" retries); writes are not (the server may have applied them).
      if (method != "GET" || attempt >= 2) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
      continue;
    }
    spdlog::debug("{} {} -> {}", method, req.url, resp.status);
    if (resp.status == 401 && cfg_.exec && !refreshed && secure_) {
      refreshed = true;
      auth_headers(true);  // the plugin again, once
      continue;
    }
    if ((resp.status == 429 || resp.status >= 500) && attempt < kMaxRetries) {
      if (auto wait = retry_after(resp)) {
        spdlog::info("retries: {}, retry-after: {}s - retry-reason: {}", attempt + 1, *wait,
                     resp.status == 429 ? "due to server-side throttling" : "HTTP " + std::to_string(resp.status));
        std::this_thread::sleep_for(std::chrono::seconds(*wait));
        continue;
      }
    }
    if ((resp.status < 200 || resp.status > 299) && resp.status != pass_status) throw status_error(resp.status, resp.body);
    return resp;
  }
}

json RestClient::create(const api::ResourceInfo& res, json obj) {
  const std::string ns = ns_of(res, obj);
  if (res.namespaced) obj["metadata"]["namespace"] = ns;
  obj["apiVersion"] = res.api_version();
  obj["kind"] = res.kind;
  return call("POST", resource_path(res, ns), obj.dump());
}

json RestClient::get(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  json out = call("GET", resource_path(res, res.namespaced ? (ns.empty() ? "default" : ns) : "", name));
  out["apiVersion"] = res.api_version();
  out["kind"] = res.kind;
  return out;
}

std::vector<json> RestClient::list(const api::ResourceInfo& res, const client::ListOptions& opts) {
  return list_all(res, opts, nullptr);
}

std::vector<json> RestClient::list_all(const api::ResourceInfo& res, const client::ListOptions& opts, std::string* rv) {
  const std::string ns = opts.all_namespaces ? "" : (opts.ns.empty() ? "default" : opts.ns);
  std::string query;
  auto add = [&](const std::string& k, const std::string& v) { query += (query.empty() ? "?" : "&") + k + "=" + url_escape(v); };
  if (!opts.labels.empty()) add("labelSelector", label_selector_text(opts.labels));
  if (!opts.fields.empty()) add("fieldSelector", field_selector_text(opts.fields));
  if (page_size_ > 0) add("limit", std::to_string(page_size_));
  std::vector<json> items;
  std::string cont;
  for (int page = 0;; ++page) {
    std::string q = query;
    if (!cont.empty()) q += (q.empty() ? "?" : "&") + std::string("continue=") + url_escape(cont);
    const HttpResponse resp = send("GET", resource_path(res, ns) + q, "", "", "application/json", cont.empty() ? 0 : 410);
    if (resp.status == 410) {
      // An expired continue token: the list starts again, as kubectl's pager does.
      if (page >= 100) throw status_error(resp.status, resp.body);
      items.clear();
      cont.clear();
      continue;
    }
    json l = json_answer(resp, "GET", resource_path(res, ns) + q);
    for (auto& it : l.value("items", json::array())) {
      it["apiVersion"] = res.api_version();
      it["kind"] = res.kind;
      items.push_back(std::move(it));
    }
    cont = l.value("/metadata/continue"_json_pointer, std::string());
    if (rv != nullptr) *rv = l.value("/metadata/resourceVersion"_json_pointer, std::string());
    if (cont.empty()) break;
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    const auto& ma = a["metadata"];
    const auto& mb = b["metadata"];
    const std::string na = ma.value("namespace", std::string()), nb = mb.value("namespace", std::string());
    if (na != nb) return na < nb;
    return ma.value("name", std::string()) < mb.value("name", std::string());
  });
  return items;
}

HttpResponse RestClient::stream(const std::string& path_and_query, const std::function<bool(std::string_view)>& on_data,
                                long timeout_ms) {
  for (bool refreshed = false;;) {
    HttpRequest req;
    req.url = cfg_.server + path_and_query;
    req.headers = auth_headers(false);
    req.headers.push_back("Accept: application/json");
    req.headers.push_back("User-Agent: kai");
    req.timeout_ms = timeout_ms;
    // A non-2xx answer is a Status, not a stream: its start is kept for the error.
    std::string head;
    req.on_data = [&](std::string_view piece) {
      if (head.size() < 65536) head.append(piece.substr(0, 65536 - head.size()));
      return on_data(piece);
    };
    HttpResponse resp = (http_exec_cert_ ? *http_exec_cert_ : *http_).perform(req);
    spdlog::debug("GET {} -> {} (watch)", req.url, resp.status);
    if (resp.status == 401 && cfg_.exec && !refreshed && secure_) {
      refreshed = true;
      auth_headers(true);
      continue;
    }
    if (resp.body.empty()) resp.body = std::move(head);
    return resp;
  }
}

void RestClient::watch(const api::ResourceInfo& res, const client::WatchOptions& opts,
                       const std::function<bool(const client::WatchEvent&)>& on) {
  const std::string ns = opts.list.all_namespaces ? "" : (opts.list.ns.empty() ? "default" : opts.list.ns);
  std::string query = "?watch=1&allowWatchBookmarks=true";
  if (!opts.list.labels.empty()) query += "&labelSelector=" + url_escape(label_selector_text(opts.list.labels));
  if (!opts.list.fields.empty()) query += "&fieldSelector=" + url_escape(field_selector_text(opts.list.fields));
  const auto start = std::chrono::steady_clock::now();
  auto remaining = [&] {
    if (opts.timeout_seconds <= 0) return 300.0;  // one stream at most 5 minutes, then the next
    return opts.timeout_seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto key_of = [](const json& o) {
    return o["metadata"].value("namespace", std::string()) + "/" + o["metadata"].value("name", std::string());
  };
  std::map<std::string, json> known;  // what the caller has seen, for the diff after a relist
  std::string rv = opts.resource_version;
  bool stopped = false;
  // Lists again; the first time every object is ADDED, later only the differences are sent.
  auto relist = [&](bool first) {
    std::string list_rv;
    std::map<std::string, json> now;
    for (auto& o : list_all(res, opts.list, &list_rv)) {
      std::string k = key_of(o);  // (before the move: the right of `=` is evaluated first)
      now.emplace(std::move(k), std::move(o));
    }
    for (const auto& [k, o] : now) {
      if (stopped) break;
      auto it = known.find(k);
      if (first || it == known.end()) {
        stopped = !on(client::WatchEvent{"ADDED", o});
      } else if (it->second["metadata"].value("resourceVersion", std::string()) !=
                 o["metadata"].value("resourceVersion", std::string())) {
        stopped = !on(client::WatchEvent{"MODIFIED", o});
      }
    }
    for (const auto& [k, o] : known) {
      if (!stopped && now.find(k) == now.end()) stopped = !on(client::WatchEvent{"DELETED", o});
    }
    known = std::move(now);
    rv = list_rv;
    if (first && !stopped) stopped = !on(client::WatchEvent{"SYNCED", json()});
  };
  if (rv.empty()) relist(true);
  int failures = 0;
  while (!stopped && remaining() > 0) {
    const double left = remaining();
    const std::string q = query + "&resourceVersion=" + url_escape(rv) +
                          "&timeoutSeconds=" + std::to_string(std::max(1, static_cast<int>(left)));
    std::string buffer;
    bool gone = false;
    std::optional<Error> failed;
    auto on_data = [&](std::string_view piece) {
      buffer.append(piece);
      for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
        const std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
        json ev = json::parse(line, nullptr, false);
        if (!ev.is_object() || !(ev.contains("type") || ev.value("kind", std::string()) == "Status")) {
          failed = Error::internal("watch " + resource_path(res, ns) + ": the server sent something that is not an event");
          return false;
        }
        if (ev.value("kind", std::string()) == "Status") ev = json{{"type", "ERROR"}, {"object", ev}};
        const std::string type = ev.value("type", std::string());
        json obj = ev.value("object", json::object());
        if (type == "ERROR") {
          if (obj.value("code", 0) == 410) {
            gone = true;
          } else {
            failed = status_error(obj.value("code", 500), obj.dump());
          }
          return false;
        }
        const std::string obj_rv = obj.value("/metadata/resourceVersion"_json_pointer, std::string());
        if (!obj_rv.empty()) rv = obj_rv;
        if (type == "BOOKMARK") continue;
        obj["apiVersion"] = res.api_version();
        obj["kind"] = res.kind;
        if (type == "DELETED") {
          known.erase(key_of(obj));
        } else {
          known[key_of(obj)] = obj;
        }
        if (!on(client::WatchEvent{type, std::move(obj)})) {
          stopped = true;
          return false;
        }
      }
      return true;
    };
    HttpResponse resp;
    try {
      resp = stream(resource_path(res, ns) + q, on_data, static_cast<long>((left + 5) * 1000));
    } catch (const Error& e) {
      if (stopped || gone || failed) {
        // The callback ended the transfer: what stopped it decides below.
      } else if (remaining() <= 0) {
        return;  // the request's own timeout: the watch is over
      } else if (++failures <= 5) {
        spdlog::info("watch {}: {}; connecting again", resource_path(res, ns), e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(200 << failures));
        continue;
      } else {
        throw;
      }
    }
    if (failed) throw *failed;
    if (resp.status == 410) gone = true;
    if (!gone && !stopped && resp.status != 0 && (resp.status < 200 || resp.status > 299)) {
      throw status_error(resp.status, resp.body);
    }
    failures = 0;
    if (gone) {
      spdlog::info("watch {}: resourceVersion {} is gone (410); listing again", resource_path(res, ns), rv);
      relist(false);
    }
  }
}

json RestClient::update(const api::ResourceInfo& res, json obj) {
  const std::string ns = ns_of(res, obj);
  return call("PUT", resource_path(res, ns, name_of(obj)), obj.dump());
}

json RestClient::merge_patch(const api::ResourceInfo& res, const std::string& ns, const std::string& name, const json& patch) {
  return call("PATCH", resource_path(res, res.namespaced ? (ns.empty() ? "default" : ns) : "", name), patch.dump(),
              "application/merge-patch+json");
}

json RestClient::remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  const std::string n = res.namespaced ? (ns.empty() ? "default" : ns) : "";
  json out = call("DELETE", resource_path(res, n, name), json{{"propagationPolicy", "Background"}}.dump());
  if (out.value("kind", std::string()) == "Status") {
    // Some deletes answer with a Status: what was deleted is its details.
    out = {{"apiVersion", res.api_version()}, {"kind", res.kind}, {"metadata", {{"name", name}}}};
    if (res.namespaced) out["metadata"]["namespace"] = n;
  }
  return out;
}

}  // namespace kai::kube
