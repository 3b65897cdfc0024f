#include "minicluster/serve/apiserver.h"

#include <signal.h>
#include <strings.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/api/names.h"
#include "lib/api/resources.h"
#include "lib/output/printer.h"
#include "minicluster/local_cluster.h"
#include "minicluster/serve/certs.h"
#include "minicluster/store.h"

namespace kai::serve {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t kMaxBody = 3 * 1024 * 1024;  // the API server's request limit
constexpr const char* kTableType = "application/json;as=Table;v=v1;g=meta.k8s.io";

std::atomic<bool> g_stop{false};
httplib::Server* g_server = nullptr;

void on_signal(int) {
  g_stop = true;
  if (g_server) g_server->stop();
}

/// Writers in this process wake the reconcile loop and the watches.
struct Notifier {
  std::mutex m;
  std::condition_variable cv;
  uint64_t generation = 0;
  void notify() {
    {
      std::lock_guard<std::mutex> l(m);
      ++generation;
    }
    cv.notify_all();
  }
  /// Waits until notified or `d` passed; true when notified.
  bool wait(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> l(m);
    const uint64_t g = generation;
    return cv.wait_for(l, d, [&] { return generation != g || g_stop.load(); });
  }
};

Notifier g_changes;

// ---- Status --------------------------------------------------------------------------------

json status_body(int code, const std::string& reason, const std::string& message, json details = nullptr) {
  json st = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Failure"},
             {"message", message}, {"reason", reason}, {"code", code}};
  if (!details.is_null()) st["details"] = std::move(details);
  return st;
}

void send_status(httplib::Response& res, int code, const std::string& reason, const std::string& message,
                 json details = nullptr) {
  res.status = code;
  res.set_content(status_body(code, reason, message, std::move(details)).dump(), "application/json");
}

void send_error(httplib::Response& res, const Error& e, const api::ResourceInfo* r, const std::string& name) {
  json details = {{"name", name}};
  if (r) {
    details["group"] = r->group;
    details["kind"] = r->plural;
  }
  switch (e.kind()) {
    case ErrorKind::NotFound: return send_status(res, 404, "NotFound", e.what(), details);
    case ErrorKind::AlreadyExists: return send_status(res, 409, "AlreadyExists", e.what(), details);
    case ErrorKind::Conflict: return send_status(res, 409, "Conflict", e.what(), details);
    case ErrorKind::Gone: return send_status(res, 410, "Expired", e.what());
    case ErrorKind::Invalid: {
      if (e.causes().empty()) return send_status(res, 400, "BadRequest", e.what());
      json causes = json::array();
      for (const auto& c : e.causes()) causes.push_back({{"reason", "FieldValueInvalid"}, {"message", c.message}, {"field", c.field}});
      details["causes"] = causes;
      if (r) details["kind"] = r->kind;
      return send_status(res, 422, "Invalid", e.what(), details);
    }
    case ErrorKind::Usage: return send_status(res, 400, "BadRequest", e.what());
    case ErrorKind::Unavailable: return send_status(res, 503, "ServiceUnavailable", e.what());
    case ErrorKind::Internal: break;
  }
  send_status(res, 500, "InternalError", std::string("Internal error occurred: ") + e.what());
}

// ---- request parsing --------------------------------------------------------------------

std::string percent_decode(const std::string& s, bool& ok) {
  std::string out;
  ok = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        ok = false;
        return out;
      }
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

/// The path of the raw request target, split at '/' and each segment decoded on its own (so
/// that %2F stays part of a name).
std::optional<std::vector<std::string>> segments(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) {
      bool ok = true;
      out.push_back(percent_decode(path.substr(start, end - start), ok));
      if (!ok) return std::nullopt;
    }
    start = end + 1;
  }
  return out;
}

struct Target {
  const api::ResourceInfo* res = nullptr;
  std::string group, version;
  std::string ns;  ///< "" = all namespaces (or cluster-scoped)
  bool ns_given = false;
  std::string name;
  std::string sub;  ///< "status", "log", ...
};

/// Recognises /api/v1/... and /apis/G/V/... resource paths (nullopt: not one).
std::optional<Target> parse_target(const std::vector<std::string>& seg) {
  Target t;
  std::size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    t.version = seg[1];
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    t.group = seg[1];
    t.version = seg[2];
    i = 3;
  } else {
    return std::nullopt;
  }
  if (i < seg.size() && seg[i] == "namespaces" && i + 2 < seg.size()) {
    t.ns = seg[i + 1];
    t.ns_given = true;
    i += 2;
  }
  if (i >= seg.size()) return std::nullopt;
  const std::string plural = seg[i++];
  for (const auto& r : api::all_resources()) {
    if (r.group == t.group && r.version == t.version && r.plural == plural) t.res = &r;
  }
  if (!t.res) {
    // namespaces themselves: /api/v1/namespaces/NAME
    if (t.group.empty() && plural != "namespaces") return t;
  }
  if (i < seg.size()) t.name = seg[i++];
  if (i < seg.size()) t.sub = seg[i++];
  if (i < seg.size()) t.res = nullptr;  // deeper than any resource path
  return t;
}

bool is_true(const std::string& v) {
  std::string l = v;
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return l == "true" || l == "1";
}

/// Streams (watch, log -f) go out uncompressed: cpp-httplib gzips a chunked response with
/// Z_NO_FLUSH, so events would sit in the compressor until it ends. It decides after the
/// handler ran, from the request's Accept-Encoding, which is therefore dropped here.
void no_compression(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  for (auto it = headers.begin(); it != headers.end();) {
    it = strcasecmp(it->first.c_str(), "Accept-Encoding") == 0 ? headers.erase(it) : std::next(it);
  }
}

bool wants_table(const httplib::Request& req) {
  return req.get_header_value("Accept").find("as=Table") != std::string::npos;
}

// ---- per-thread store ---------------------------------------------------------------------

fs::path g_home;

/// Each server thread has its own connection to the store (SQLite serialises writers and lets
/// readers run beside them).
minicluster::LocalCluster& cluster() {
  thread_local std::unique_ptr<minicluster::LocalCluster> lc;
  if (!lc) {
    lc = minicluster::LocalCluster::open(g_home);
    lc->store().set_checkpoint_pages(1024);
  }
  return *lc;
}

// ---- discovery ----------------------------------------------------------------------------

json api_resource(const api::ResourceInfo& r) {
  json j = {{"name", r.plural},
            {"singularName", r.singular},
            {"namespaced", r.namespaced},
            {"kind", r.kind},
            {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}},
            {"shortNames", r.short_names}};
  if (r.group.empty() && r.plural == "pods") j["categories"] = {"all"};
  return j;
}

bool has_status(const api::ResourceInfo& r) {
  // Volcano's Job and Queue CRDs have the status subresource, PodGroup not; core kinds do.
  return r.group.empty() || r.key() == "batch.volcano.sh/jobs" || r.key() == "scheduling.volcano.sh/queues";
}

json resource_list(const std::string& group, const std::string& version) {
  json out = {{"kind", "APIResourceList"}, {"apiVersion", "v1"},
              {"groupVersion", group.empty() ? version : group + "/" + version}, {"resources", json::array()}};
  for (const auto& r : api::all_resources()) {
    if (r.group != group || r.version != version) continue;
    out["resources"].push_back(api_resource(r));
    if (has_status(r)) {
      out["resources"].push_back({{"name", r.plural + "/status"}, {"singularName", ""}, {"namespaced", r.namespaced},
                                  {"kind", r.kind}, {"verbs", {"get", "patch", "update"}}});
    }
    if (r.group.empty() && r.plural == "pods") {
      out["resources"].push_back({{"name", "pods/log"}, {"singularName", ""}, {"namespaced", true}, {"kind", "Pod"}, {"verbs", {"get"}}});
    }
  }
  return out;
}

json group_list() {
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& r : api::all_resources()) {
    if (r.group.empty()) continue;
    auto& v = groups[r.group];
    if (std::find(v.begin(), v.end(), r.version) == v.end()) v.push_back(r.version);
  }
  json out = {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", json::array()}};
  for (const auto& [g, versions] : groups) {
    json vs = json::array();
    for (const auto& v : versions) vs.push_back({{"groupVersion", g + "/" + v}, {"version", v}});
    out["groups"].push_back({{"name", g}, {"versions", vs}, {"preferredVersion", vs[0]}});
  }
  return out;
}

// ---- OpenAPI v3 (k8s-api.md §3.4) -------------------------------------------------------------
// kubectl create/apply look for the PATCH operation of the object's group-version-kind and, as
// it lists fieldValidation, leave validation to the server; kubectl explain reads the schemas.

constexpr const char* kOpenApiHash = "kai-1";

json prop(const std::string& type, const std::string& description) { return {{"type", type}, {"description", description}}; }

json object_prop(const std::string& description, json properties = nullptr) {
  json o = {{"type", "object"}, {"description", description}};
  if (properties.is_null()) {
    o["x-kubernetes-preserve-unknown-fields"] = true;
  } else {
    o["properties"] = std::move(properties);
  }
  return o;
}

json array_of(const std::string& description, json items) { return {{"type", "array"}, {"description", description}, {"items", std::move(items)}}; }

/// Volcano's Job spec, the fields users write (batch.volcano.sh/v1alpha1 JobSpec).
json job_spec_schema() {
  const json policy = object_prop("A lifecycle policy: on an event (or exit code), an action.",
                                  {{"event", prop("string", "The event: PodFailed, PodEvicted, PodPending, PodRunning, TaskCompleted, JobUnknown, OutOfSync, CommandIssued, or * for any.")},
                                   {"events", array_of("Several events for one action.", prop("string", ""))},
                                   {"action", prop("string", "The action: AbortJob, RestartJob, RestartTask, RestartPod, TerminateJob, CompleteJob, ResumeJob.")},
                                   {"exitCode", prop("integer", "A container exit code that triggers the action (instead of an event).")},
                                   {"timeout", prop("string", "How long the event must last before the action is taken (e.g. 10m).")}});
  const json task = object_prop("A task: a group of identical pods.",
                                {{"name", prop("string", "The task name; pods are named <job>-<task>-<index>.")},
                                 {"replicas", prop("integer", "The number of pods of this task.")},
                                 {"minAvailable", prop("integer", "Pods of this task that must run for the job to run.")},
                                 {"maxRetry", prop("integer", "Retries of this task before it fails.")},
                                 {"template", object_prop("The pod template (v1 PodTemplateSpec).")},
                                 {"policies", array_of("Lifecycle policies of this task.", policy)},
                                 {"dependsOn", object_prop("Tasks that must be running first.",
                                                           {{"name", array_of("Task names.", prop("string", ""))},
                                                            {"iteration", prop("string", "all (default) or any.")}})}});
  return object_prop("Specification of the desired behavior of the Volcano job.",
                     {{"schedulerName", prop("string", "The scheduler (volcano).")},
                      {"minAvailable", prop("integer", "Pods that must be scheduled together (the gang); default: all replicas.")},
                      {"minSuccess", prop("integer", "Pods that must succeed for the job to complete.")},
                      {"queue", prop("string", "The queue the job goes to (default: default).")},
                      {"priorityClassName", prop("string", "The job's PriorityClass.")},
                      {"maxRetry", prop("integer", "Restarts before the job fails (default 3).")},
                      {"ttlSecondsAfterFinished", prop("integer", "Delete the job this long after it finished.")},
                      {"plugins", object_prop("Job plugins (env, svc, ssh, pytorch, mpi, tensorflow) and their arguments.")},
                      {"policies", array_of("Lifecycle policies of the job.", policy)},
                      {"tasks", array_of("The tasks of the job.", task)},
                      {"volumes", array_of("Volumes of the job.", object_prop("A volume."))}});
}

std::string schema_name(const api::ResourceInfo& r) {
  std::string g = r.group.empty() ? "io.k8s.api.core" : "";
  if (!r.group.empty()) {
    // Reversed group, as the real server names CRD schemas: sh.volcano.batch.
    std::vector<std::string> parts;
    std::stringstream ss(r.group);
    for (std::string p; std::getline(ss, p, '.');) parts.insert(parts.begin(), p);
    for (const auto& p : parts) g += (g.empty() ? "" : ".") + p;
  }
  return g + "." + r.version + "." + r.kind;
}

json openapi_doc(const std::string& group, const std::string& version) {
  json paths = json::object(), schemas = json::object();
  const json query = {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}};
  const json params = json::array({query,
                                   {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                                   {{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}}});
  for (const auto& r : api::all_resources()) {
    if (r.group != group || r.version != version) continue;
    const json gvk = {{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
    const std::string base = (r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version) +
                             (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.plural;
    const json ref = {{"$ref", "#/components/schemas/" + schema_name(r)}};
    const json ok = {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", ref}}}}}}}};
    auto op = [&](const std::string& action, bool with_params) {
      json o = {{"operationId", action + r.kind}, {"x-kubernetes-action", action}, {"x-kubernetes-group-version-kind", gvk},
                {"responses", ok}};
      if (with_params) o["parameters"] = params;
      return o;
    };
    json patch = op("patch", true);
    patch["parameters"].push_back({{"name", "force"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}});
    json content = {{"application/json-patch+json", {{"schema", {{"type", "object"}}}}},
                    {"application/merge-patch+json", {{"schema", {{"type", "object"}}}}}};
    if (r.group.empty()) content["application/strategic-merge-patch+json"] = {{"schema", {{"type", "object"}}}};
    patch["requestBody"] = {{"content", content}};
    json path_params = json::array({{{"name", "name"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}});
    if (r.namespaced) path_params.push_back({{"name", "namespace"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    paths[base + "/{name}"] = {{"parameters", path_params}, {"get", op("get", false)}, {"put", op("put", true)},
                               {"patch", patch}, {"delete", op("delete", true)}};
    json post = op("post", true);
    post["requestBody"] = {{"content", {{"application/json", {{"schema", ref}}}}}};
    paths[base] = {{"get", op("list", false)}, {"post", post}};
    json props = {{"apiVersion", prop("string", "APIVersion defines the versioned schema of this representation of an object.")},
                  {"kind", prop("string", "Kind is a string value representing the REST resource this object represents.")},
                  {"metadata", object_prop("Standard object's metadata.")},
                  {"status", object_prop("Most recently observed status.")}};
    if (r.key() == "batch.volcano.sh/jobs") {
      props["spec"] = job_spec_schema();
    } else if (r.key() == "bus.volcano.sh/commands") {
      props["action"] = prop("string", "The action: AbortJob, ResumeJob, ...");
      props["target"] = object_prop("The object the command is for (an owner reference).");
      props["reason"] = prop("string", "Why.");
      props["message"] = prop("string", "Details.");
      props.erase("status");
    } else {
      props["spec"] = object_prop("Specification of the desired behavior.");
    }
    schemas[schema_name(r)] = {{"type", "object"}, {"description", r.kind + " (" + r.api_version() + ")"},
                               {"x-kubernetes-group-version-kind", json::array({gvk})}, {"properties", props}};
  }
  return {{"openapi", "3.0.0"}, {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}}, {"paths", paths},
          {"components", {{"schemas", schemas}}}};
}

json openapi_index() {
  json paths = json::object();
  std::set<std::pair<std::string, std::string>> gvs;
  for (const auto& r : api::all_resources()) gvs.insert({r.group, r.version});
  for (const auto& [g, v] : gvs) {
    const std::string p = g.empty() ? "api/" + v : "apis/" + g + "/" + v;
    paths[p] = {{"serverRelativeURL", "/openapi/v3/" + p + "?hash=" + kOpenApiHash}};
  }
  return {{"paths", paths}};
}

// ---- objects --------------------------------------------------------------------------------

/// Who a pod's, job's, ... fields a field selector may name beyond metadata.name/namespace.
std::vector<std::string> selectable_fields(const api::ResourceInfo& r) {
  std::vector<std::string> f{"metadata.name", "metadata.namespace"};
  if (r.key() == "core/pods") {
    f.insert(f.end(), {"spec.nodeName", "status.phase", "spec.schedulerName", "spec.restartPolicy",
                       "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName"});
  }
  if (r.key() == "core/events") {
    f.insert(f.end(), {"involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "involvedObject.uid",
                       "reason", "type", "source"});
  }
  return f;
}

json strip(json o) {
  if (o.is_object() && o.contains("metadata") && o["metadata"].is_object()) o["metadata"].erase("managedFields");
  return o;
}

std::string list_kind(const api::ResourceInfo& r) { return r.kind + "List"; }

/// Continue tokens: the namespace and name of the last item sent, hex-encoded.
std::string encode_continue(const json& last) {
  const std::string key = last["metadata"].value("namespace", std::string()) + '\x1f' + last["metadata"].value("name", std::string());
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : key) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> decode_continue(const std::string& tok) {
  if (tok.size() % 2) return std::nullopt;
  std::string key;
  for (std::size_t i = 0; i < tok.size(); i += 2) {
    if (!std::isxdigit(static_cast<unsigned char>(tok[i])) || !std::isxdigit(static_cast<unsigned char>(tok[i + 1]))) return std::nullopt;
    key.push_back(static_cast<char>(std::stoi(tok.substr(i, 2), nullptr, 16)));
  }
  auto sep = key.find('\x1f');
  if (sep == std::string::npos) return std::nullopt;
  return std::pair{key.substr(0, sep), key.substr(sep + 1)};
}

/// Group commit: the writes that request threads hand in while a transaction is being written
/// are run together in the next one, each in its own savepoint (a write that fails leaves the
/// others standing), and answered once that transaction is committed. One fsync serves the
/// whole group instead of one each, and the writers do not take turns on SQLite's write lock by
/// sleeping in its busy handler. The thread that finds no transaction running leads: it runs
/// what has queued up on its own connection, then hands the results back.
class GroupCommit {
 public:
  using Write = std::function<json(minicluster::LocalCluster&)>;

  json run(minicluster::LocalCluster& lc, const Write& write) {
    Item me{&write, {}, nullptr, false};
    std::unique_lock<std::mutex> l(m_);
    queue_.push_back(&me);
    while (!me.done) {
      if (leading_) {
        cv_.wait(l);
        continue;
      }
      leading_ = true;
      std::vector<Item*> group;
      group.swap(queue_);
      l.unlock();
      execute(lc, group);
      l.lock();
      for (Item* it : group) it->done = true;
      leading_ = false;
      cv_.notify_all();
    }
    if (me.error) std::rethrow_exception(me.error);
    return std::move(me.result);
  }

 private:
  struct Item {
    const Write* write;
    json result;
    std::exception_ptr error;
    bool done;
  };

  static void execute(minicluster::LocalCluster& lc, const std::vector<Item*>& group) {
    try {
      lc.batch([&] {
        for (Item* it : group) {
          try {
            lc.batch([&] { it->result = (*it->write)(lc); });  // a savepoint
          } catch (...) {
            it->error = std::current_exception();
          }
        }
      });
    } catch (...) {
      // The transaction did not commit: nothing of the group was stored.
      for (Item* it : group) {
        it->result = json();
        it->error = std::current_exception();
      }
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::vector<Item*> queue_;
  bool leading_ = false;
};

GroupCommit g_writes;

/// A JSON patch that cannot be applied (a failed test, a missing path): 422.
struct PatchFailed {
  std::string what;
};

/// Thrown inside a batch to undo a dry run.
struct DryRun {
  json result;
};

/// Runs a write (with the writes that arrive meanwhile: GroupCommit) and wakes the reconcile
/// loop and the watches; with dryRun=All inside a batch that is rolled back (admission and all
/// run, nothing is stored). Returns the object to answer.
json commit(minicluster::LocalCluster& lc, bool dry, const GroupCommit::Write& write) {
  if (dry) {
    try {
      lc.batch([&] { throw DryRun{write(lc)}; });
    } catch (DryRun& d) {
      return strip(std::move(d.result));
    }
  }
  json out = g_writes.run(lc, write);
  g_changes.notify();
  return strip(std::move(out));
}

/// What a write may change (k8s-api.md §2.5): through /status only .status; through the main
/// resource of a kind with the status subresource (Volcano's Job and Queue CRDs) all but .status.
json scoped(const api::ResourceInfo& r, const std::string& sub, const json& cur, json next) {
  if (sub == "status") {
    json upd = cur;
    upd["status"] = next.value("status", json::object());
    upd["metadata"]["resourceVersion"] =
        next["metadata"].value("resourceVersion", cur["metadata"].value("resourceVersion", std::string()));
    return upd;
  }
  if (has_status(r) && !r.group.empty()) {
    if (cur.contains("status")) {
      next["status"] = cur["status"];
    } else {
      next.erase("status");
    }
  }
  return next;
}

void reply_json(httplib::Response& res, int code, const json& body) {
  res.status = code;
  res.set_content(body.dump(), "application/json");
}

class Api {
 public:

  void handle(const httplib::Request& req, httplib::Response& res) {
    auto seg = segments(req.target);
    if (!seg) return send_status(res, 400, "BadRequest", "invalid escape in the request path");
    const std::string path = "/" + join(*seg);
    if (req.method == "GET") {
      if (path == "/version") return reply_json(res, 200, version());
      if (path == "/healthz" || path == "/livez" || path == "/readyz") {
        res.status = 200;
        return res.set_content("ok", "text/plain");
      }
      if (path == "/api") {
        return reply_json(res, 200, {{"kind", "APIVersions"}, {"versions", {"v1"}},
                                     {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", req.local_addr + ":" + std::to_string(req.local_port)}}}}});
      }
      if (path == "/apis") return reply_json(res, 200, group_list());
      if (path == "/openapi/v3") return reply_json(res, 200, openapi_index());
      if (seg->size() >= 4 && (*seg)[0] == "openapi" && (*seg)[1] == "v3") {
        std::string g, v;
        if ((*seg)[2] == "api" && seg->size() == 4) v = (*seg)[3];
        if ((*seg)[2] == "apis" && seg->size() == 5) {
          g = (*seg)[3];
          v = (*seg)[4];
        }
        json doc = openapi_doc(g, v);
        if (!doc["paths"].empty()) return reply_json(res, 200, doc);
      }
      if (path == "/api/v1") return reply_json(res, 200, resource_list("", "v1"));
      if (seg->size() == 2 && (*seg)[0] == "apis") {
        json gl = group_list();
        for (const auto& g : gl["groups"]) {
          if (g["name"] == (*seg)[1]) {
            json out = g;
            out["kind"] = "APIGroup";
            out["apiVersion"] = "v1";
            return reply_json(res, 200, out);
          }
        }
      }
      if (seg->size() == 3 && (*seg)[0] == "apis") {
        json rl = resource_list((*seg)[1], (*seg)[2]);
        if (!rl["resources"].empty()) return reply_json(res, 200, rl);
      }
    }
    auto t = parse_target(*seg);
    if (!t || !t->res) return send_status(res, 404, "NotFound", "the server could not find the requested resource");
    try {
      resource(req, res, *t);
    } catch (const Error& e) {
      send_error(res, e, t->res, t->name);
    } catch (const json::exception& e) {
      send_status(res, 400, "BadRequest", std::string("the body of the request was in an unknown format: ") + e.what());
    }
  }

 private:
  static std::string join(const std::vector<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : "/") + x;
    return out;
  }

  static json version() {
    return {{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0-kai"}, {"gitCommit", "kai"}, {"gitTreeState", "clean"},
            {"buildDate", "2026-01-01T00:00:00Z"}, {"goVersion", "go1.23"}, {"compiler", "gc"}, {"platform", "linux/amd64"}};
  }

  /// The request's media type: Content-Type without parameters, lower case ("" when absent).
  static std::string media_type(const httplib::Request& req) {
    std::string ct = req.get_header_value("Content-Type");
    ct = ct.substr(0, ct.find(';'));
    while (!ct.empty() && ct.back() == ' ') ct.pop_back();
    std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ct;
  }

  /// The object in a create or replace: JSON (also when there is no Content-Type: kube-apiserver
  /// then takes its first media type) or YAML. Anything else is answered 415 here (nullopt);
  /// malformed bodies throw (400).
  static std::optional<json> parse_body(const httplib::Request& req, httplib::Response& res) {
    const std::string ct = media_type(req);
    const bool yaml = ct == "application/yaml";
    if (!ct.empty() && ct != "application/json" && !yaml) {
      send_status(res, 415, "UnsupportedMediaType",
                  "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml");
      return std::nullopt;
    }
    if (req.body.empty()) throw Error::usage("the body of the request was empty");
    // json::exception -> 400; decode_value throws Invalid (no field causes) -> 400
    json b = yaml ? api::decode_value(req.body, "the body of the request") : json::parse(req.body);
    if (!b.is_object()) throw Error::usage(std::string("the body of the request must be ") + (yaml ? "a YAML map" : "a JSON object"));
    return b;
  }

  void resource(const httplib::Request& req, httplib::Response& res, const Target& t) {
    const api::ResourceInfo& r = *t.res;
    if (!t.name.empty() && !t.sub.empty() && t.sub != "status" && !(t.sub == "log" && r.key() == "core/pods")) {
      return send_status(res, 404, "NotFound", "the server could not find the requested resource");
    }
    if (r.namespaced && t.ns_given && !api::dns1123_label_errors(t.ns).empty()) {
      throw Error::not_found("namespaces \"" + t.ns + "\" not found");
    }
    const std::string ns = r.namespaced ? t.ns : "";
    const bool dry = req.get_param_value("dryRun") == "All";
    auto& lc = cluster();
    if (!t.name.empty() && !api::dns1123_subdomain_errors(t.name).empty()) {
      // No object can have this name (and it must never reach a path on disk).
      throw Error::not_found(r.qualified_plural() + " \"" + t.name + "\" not found");
    }
    if (req.method == "GET" && !t.name.empty() && t.sub == "log") return pod_log(req, res, ns, t.name);
    if (req.method == "GET" && !t.name.empty()) {
      json obj = lc.get(r, ns, t.name);
      if (wants_table(req)) {
        res.status = 200;
        return res.set_content(output::server_table(r, {obj}, req.get_param_value("includeObject"), true,
                                                    std::chrono::system_clock::now()).dump(), kTableType);
      }
      return reply_json(res, 200, strip(obj));
    }
    if (req.method == "GET") {
      if (is_true(req.get_param_value("watch"))) return watch(req, res, r, ns);
      return list(req, res, r, ns);
    }
    if (req.method == "POST" && t.name.empty()) {
      auto parsed = parse_body(req, res);
      if (!parsed) return;
      json body = std::move(*parsed);
      json& md = body["metadata"];
      if (!md.is_object()) md = json::object();
      if (r.namespaced) {
        const std::string bns = md.value("namespace", std::string());
        if (!bns.empty() && bns != ns) {
          throw Error::usage("the namespace of the provided object does not match the namespace sent on the request");
        }
        md["namespace"] = ns.empty() ? "default" : ns;
      }
      if (md.contains("resourceVersion") && !md["resourceVersion"].get<std::string>().empty()) {
        throw Error::usage("resourceVersion should not be set on objects to be created");
      }
      return reply_json(res, 201, commit(lc, dry, [&](minicluster::LocalCluster& w) { return w.create(r, std::move(body)); }));
    }
    if (t.name.empty()) return send_status(res, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    if (req.method == "PUT") {
      auto parsed = parse_body(req, res);
      if (!parsed) return;
      json body = std::move(*parsed);
      if (body.value("/metadata/name"_json_pointer, std::string()) != t.name) {
        throw Error::usage("the name of the object (" + body.value("/metadata/name"_json_pointer, std::string()) +
                           ") does not match the name on the URL (" + t.name + ")");
      }
      if (r.namespaced) body["metadata"]["namespace"] = ns;
      // The stored object is read in the write's own transaction, so what the write keeps of it
      // (.status, or all but .status) is current.
      return reply_json(res, 200, commit(lc, dry, [&](minicluster::LocalCluster& w) {
        return w.update(r, scoped(r, t.sub, w.get(r, ns, t.name), body));
      }));
    }
    if (req.method == "PATCH") {
      const std::string ct = media_type(req);
      const bool merge = ct == "application/merge-patch+json" || (ct == "application/strategic-merge-patch+json" && r.group.empty());
      if (!merge && ct != "application/json-patch+json") {
        return send_status(res, 415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json" +
                               std::string(r.group.empty() ? ", application/strategic-merge-patch+json" : ""));
      }
      json patch = json::parse(req.body.empty() ? "{}" : req.body);
      // Applied to the object as it is in the write's transaction, as kube-apiserver retries a
      // patch on the newest object: a controller's write in between is no conflict.
      try {
        return reply_json(res, 200, commit(lc, dry, [&](minicluster::LocalCluster& w) {
          const json cur = w.get(r, ns, t.name);
          json next;
          if (merge) {
            // Strategic merge for built-in kinds is applied as a JSON merge patch: maps merge the
            // same way; lists are replaced whole (no patchMergeKey merging).
            next = cur;
            next.merge_patch(patch);
          } else {
            try {
              next = cur.patch(patch);
            } catch (const json::exception& e) {
              throw PatchFailed{e.what()};
            }
          }
          next["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"];
          return w.update(r, scoped(r, t.sub, cur, std::move(next)));
        }));
      } catch (const PatchFailed& f) {
        return send_status(res, 422, "Invalid", "the server rejected our request due to an error in our request: " + f.what);
      }
    }
    if (req.method == "DELETE") {
      return reply_json(res, 200, commit(lc, dry, [&](minicluster::LocalCluster& w) { return w.remove(r, ns, t.name); }));
    }
    send_status(res, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }

  store::ListOptions list_options(const httplib::Request& req, const api::ResourceInfo& r, const std::string& ns) {
    store::ListOptions lo;
    lo.ns = ns;
    lo.labels = api::LabelSelector::parse(req.get_param_value("labelSelector"));
    lo.fields = api::FieldSelector::parse(req.get_param_value("fieldSelector"));
    lo.fields.check_supported(selectable_fields(r));
    return lo;
  }

  void list(const httplib::Request& req, httplib::Response& res, const api::ResourceInfo& r, const std::string& ns) {
    store::ListOptions lo = list_options(req, r, ns);
    if (const std::string c = req.get_param_value("continue"); !c.empty()) {
      lo.after = decode_continue(c);
      if (!lo.after) throw Error::usage("invalid continue token");
    }
    long limit = 0;
    try {
      if (req.has_param("limit")) limit = std::stol(req.get_param_value("limit"));
    } catch (const std::exception&) {
      throw Error::usage("limit: must be an integer");
    }
    // One more than the page: whether another page follows. Only the page's bodies are parsed.
    if (limit > 0) lo.limit = static_cast<std::size_t>(limit) + 1;
    auto& st = cluster().store();
    std::vector<json> page;
    int64_t rv = 0;
    std::size_t remaining = 0;
    bool more = false;
    const bool selectors = !lo.labels.empty() || !lo.fields.empty();
    st.read_snapshot([&] {
      rv = st.current_resource_version();
      page = st.list(r, lo);
      if (limit > 0 && page.size() > static_cast<std::size_t>(limit)) {
        more = true;
        page.resize(static_cast<std::size_t>(limit));
        const json& last = page.back()["metadata"];
        // As kube-apiserver: remainingItemCount only when no selector narrows the list.
        remaining = selectors ? 0 : st.count_after(r, ns, {last.value("namespace", std::string()), last.value("name", std::string())});
      }
    });
    json md = {{"resourceVersion", std::to_string(rv)}};
    if (more) {
      md["continue"] = encode_continue(page.back());
      if (!selectors) md["remainingItemCount"] = remaining;
    }
    if (wants_table(req)) {
      json table = output::server_table(r, page, req.get_param_value("includeObject"), true, std::chrono::system_clock::now());
      table["metadata"] = md;
      res.status = 200;
      return res.set_content(table.dump(), kTableType);
    }
    json out = {{"kind", list_kind(r)}, {"apiVersion", r.api_version()}, {"metadata", md}, {"items", json::array()}};
    for (auto& o : page) out["items"].push_back(strip(std::move(o)));
    reply_json(res, 200, out);
  }

  void pod_log(const httplib::Request& req, httplib::Response& res, const std::string& ns, const std::string& name) {
    auto& lc = cluster();
    json pod = lc.get(api::pods(), ns, name);
    std::string container = req.get_param_value("container");
    const json containers = pod["spec"].value("containers", json::array());
    if (container.empty()) {
      if (containers.size() != 1) {
        std::string names;
        for (const auto& c : containers) names += (names.empty() ? "" : " ") + c.value("name", std::string());
        throw Error::usage("a container name must be specified for pod " + name + ", choose one of: [" + names + "]");
      }
      container = containers[0].value("name", std::string());
    }
    bool found = false;
    for (const auto& c : containers) found = found || c.value("name", std::string()) == container;
    if (!found) throw Error::usage("container " + container + " is not valid for pod " + name);
    const fs::path file = lc.pod_dir(pod) / (container + ".log");
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    if (in) ss << in.rdbuf();
    std::string text = ss.str();
    if (!is_true(req.get_param_value("follow"))) {
      res.status = 200;
      return res.set_content(text, "text/plain");
    }
    const std::string uid = pod["metadata"].value("uid", std::string());
    no_compression(req);
    auto offset = std::make_shared<std::size_t>(0);
    res.set_chunked_content_provider("text/plain", [file, offset, ns, name, uid](std::size_t, httplib::DataSink& sink) {
      while (!g_stop && sink.is_writable()) {
        std::ifstream f(file, std::ios::binary);
        if (f) {
          f.seekg(static_cast<std::streamoff>(*offset));
          std::string chunk((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
          if (!chunk.empty()) {
            *offset += chunk.size();
            if (!sink.write(chunk.data(), chunk.size())) return false;
            return true;
          }
        }
        auto p = cluster().store().find(api::pods(), ns, name);
        const std::string phase = p ? p->value("/status/phase"_json_pointer, std::string()) : "";
        if (!p || (*p)["metadata"].value("uid", std::string()) != uid || phase == "Succeeded" || phase == "Failed") {
          sink.done();
          return true;
        }
        g_changes.wait(std::chrono::milliseconds(200));
      }
      return false;
    });
  }

  void watch(const httplib::Request& req, httplib::Response& res, const api::ResourceInfo& r, const std::string& ns) {
    const store::ListOptions lo = list_options(req, r, ns);
    const std::string rv_param = req.get_param_value("resourceVersion");
    int64_t from = 0;
    bool initial = rv_param.empty() || rv_param == "0";
    if (!initial) {
      try {
        from = std::stoll(rv_param);
      } catch (const std::exception&) {
        throw Error::usage("resourceVersion: invalid value \"" + rv_param + "\"");
      }
    }
    double timeout = 1800;
    if (req.has_param("timeoutSeconds")) {
      try {
        timeout = std::max(1.0, std::stod(req.get_param_value("timeoutSeconds")));
      } catch (const std::exception&) {
        throw Error::usage("timeoutSeconds: must be a number");
      }
    }
    const bool table = wants_table(req);
    no_compression(req);
    const std::string include = req.get_param_value("includeObject");
    const bool bookmarks = is_true(req.get_param_value("allowWatchBookmarks"));
    struct State {
      int64_t rv;
      bool initial;
      bool headers_sent = false;
      std::chrono::steady_clock::time_point deadline, last_bookmark;
    };
    auto state = std::make_shared<State>(State{from, initial, false,
                                               std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long long>(timeout * 1000)),
                                               std::chrono::steady_clock::now()});
    const api::ResourceInfo res_info = r;
    const std::string key = r.key();
    auto event = [state, table, include, res_info](const std::string& type, const json& obj) {
      json o;
      if (table) {
        o = output::server_table(res_info, {obj}, include, !state->headers_sent, std::chrono::system_clock::now());
        state->headers_sent = true;
      } else {
        o = strip(obj);
      }
      return json{{"type", type}, {"object", o}}.dump() + "\n";
    };
    auto matches = [lo, ns, res_info](const json& obj) {
      if (res_info.namespaced && !ns.empty() && obj["metadata"].value("namespace", std::string()) != ns) return false;
      return lo.labels.matches_object(obj) && lo.fields.matches_object(obj);
    };
    res.set_chunked_content_provider(table ? kTableType : "application/json",
        [state, event, matches, key, lo, bookmarks, res_info](std::size_t, httplib::DataSink& sink) {
          auto& st = cluster().store();
          if (state->initial) {
            state->initial = false;
            std::vector<json> items;
            st.read_snapshot([&] {
              state->rv = st.current_resource_version();
              items = st.list(res_info, lo);
            });
            std::string out;
            for (const auto& o : items) out += event("ADDED", o);
            if (!out.empty() && !sink.write(out.data(), out.size())) return false;
            return true;
          }
          while (!g_stop && sink.is_writable()) {
            if (std::chrono::steady_clock::now() >= state->deadline) {
              sink.done();
              return true;
            }
            std::vector<store::Change> changes;
            try {
              changes = st.changes_since(state->rv, 1000);
            } catch (const Error& e) {
              if (e.kind() != ErrorKind::Gone) throw;
              // As kube-apiserver: the watch answers 200 and ends with one ERROR event, a
              // Status 410 Expired; the client lists again (kubectl get -w prints it and exits).
              const std::string ev = json{{"type", "ERROR"}, {"object", status_body(410, "Expired", e.what())}}.dump() + "\n";
              sink.write(ev.data(), ev.size());
              sink.done();
              return true;
            }
            std::string out;
            for (const auto& c : changes) {
              state->rv = c.resource_version;
              if (c.resource != key || !matches(c.object)) continue;
              out += event(c.type, c.object);
            }
            if (!out.empty()) return sink.write(out.data(), out.size());
            if (bookmarks && std::chrono::steady_clock::now() - state->last_bookmark > std::chrono::seconds(60)) {
              state->last_bookmark = std::chrono::steady_clock::now();
              const std::string b = json{{"type", "BOOKMARK"},
                                         {"object", {{"kind", res_info.kind}, {"apiVersion", res_info.api_version()},
                                                     {"metadata", {{"resourceVersion", std::to_string(state->rv)}}}}}}.dump() + "\n";
              return sink.write(b.data(), b.size());
            }
            g_changes.wait(std::chrono::milliseconds(100));
          }
          return false;
        });
  }
};

}  // namespace

int run_apiserver(const ServeOptions& opts) {
  g_home = opts.home;
  // The store exists and the cluster is initialised before anyone connects.
  auto lc = minicluster::LocalCluster::open(opts.home);
  if (!lc->initialised()) lc->initialise(minicluster::NodeShape{});
  lc->set_supervisor_command(opts.supervisor_command);
  lc->set_compaction_interval(opts.compaction_interval_seconds);
  const ServeFiles files = ensure_serve_files(opts.home, opts.address);

  httplib::SSLServer svr(files.server_crt.c_str(), files.server_key.c_str());
  if (!svr.is_valid()) throw Error::unavailable("kai cluster serve: cannot load " + files.server_crt.string());
  const int threads = std::max(8, opts.threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  svr.set_payload_max_length(kMaxBody);
  svr.set_read_timeout(30, 0);
  svr.set_keep_alive_timeout(30);
  svr.set_keep_alive_max_count(100000);  // (default 5: a new TLS handshake every fifth request)
  // Headers and body go out in separate writes: without TCP_NODELAY the second waits for the
  // client's delayed ACK (40 ms a request).
  svr.set_tcp_nodelay(true);
  const std::string expected = "Bearer " + files.token;
  svr.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    const std::string auth = req.get_header_value("Authorization");
    // Health checks stay open, as the real server's /healthz, /livez and /readyz.
    const std::string p = req.path;
    if (p == "/healthz" || p == "/livez" || p == "/readyz") return httplib::Server::HandlerResponse::Unhandled;
    if (auth.size() != expected.size() || CRYPTO_memcmp(auth.data(), expected.data(), auth.size()) != 0) {
      send_status(res, 401, "Unauthorized", "Unauthorized");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  Api api;
  auto handler = [&api](const httplib::Request& req, httplib::Response& res) { api.handle(req, res); };
  svr.Get(".*", handler);
  svr.Post(".*", handler);
  svr.Put(".*", handler);
  svr.Patch(".*", handler);
  svr.Delete(".*", handler);
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) return send_status(res, 413, "RequestEntityTooLarge", "the request body is larger than 3 MiB");
    if (res.status == 400) return send_status(res, 400, "BadRequest", "bad request");
    send_status(res, res.status, "NotFound", "the server could not find the requested resource");
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      send_status(res, 500, "InternalError", std::string("Internal error occurred: ") + e.what());
    } catch (...) {
      send_status(res, 500, "InternalError", "Internal error occurred");
    }
  });
  int port = opts.port;
  if (port == 0) {
    port = svr.bind_to_any_port(opts.address);
  } else if (!svr.bind_to_port(opts.address, port)) {
    port = -1;
  }
  if (port <= 0) {
    throw Error::unavailable("kai cluster serve: cannot listen on " + opts.address + ":" + std::to_string(opts.port) +
                             " (address in use?)");
  }
  g_server = &svr;
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // The loop that moves the cluster: a reconcile after every write made here and at least
  // every period (writes by kai commands beside the server are seen within a period).
  std::thread loop([&] {
    while (!g_stop) {
      try {
        auto st = lc->reconcile_if_needed();
        if (!st.skipped && st.written > 0) g_changes.notify();
      } catch (const std::exception& e) {
        spdlog::warn("the local cluster could not advance: {}", e.what());
      }
      const auto period = std::chrono::milliseconds(static_cast<long long>(opts.period_seconds * 1000));
      if (!g_changes.wait(period)) continue;
      // A burst of writes (a client creating many objects) gets one reconcile, not one each: it
      // starts once writes have paused for 20 ms, or a period after the first of them. (A
      // reconcile that runs beside a stream of writes sees the store change under it and works
      // its passes out again, taking CPU from the writers.)
      const auto first = std::chrono::steady_clock::now();
      while (!g_stop && std::chrono::steady_clock::now() - first < period &&
             g_changes.wait(std::chrono::milliseconds(20))) {
      }
    }
  });
  {
    // Where it listens, for `kai cluster kubeconfig`.
    std::string host = opts.address == "0.0.0.0" || opts.address == "::" ? "127.0.0.1" : opts.address;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    std::ofstream((files.dir / "server.url.tmp").string()) << "https://" << host << ":" << port << "\n";
    fs::rename(files.dir / "server.url.tmp", files.dir / "server.url");
  }
  if (!opts.port_file.empty()) {
    std::ofstream(opts.port_file.string() + ".tmp") << port << "\n";
    fs::rename(opts.port_file.string() + ".tmp", opts.port_file);
  }
  spdlog::info("serving the local cluster in {} on https://{}:{}", opts.home.string(), opts.address, port);
  svr.listen_after_bind();
  g_stop = true;
  g_changes.notify();
  loop.join();
  g_server = nullptr;
  return 0;
}

}  // namespace kai::serve
