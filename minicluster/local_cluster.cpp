#include "minicluster/local_cluster.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "lib/api/admission.h"
#include "lib/api/error.h"
#include "lib/api/quantity.h"

namespace kai::minicluster {
namespace {

std::string now_rfc3339() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json owner_ref(const api::ResourceInfo& res, const json& owner) {
  return {{"apiVersion", res.api_version()},
          {"kind", res.kind},
          {"name", owner["metadata"]["name"]},
          {"uid", owner["metadata"]["uid"]},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

/// Sum of a pod template's container requests (limits where a request is missing, as
/// Kubernetes defaults requests from limits).
std::map<std::string, api::Quantity> template_requests(const json& tmpl) {
  std::map<std::string, api::Quantity> out;
  const json& containers = tmpl.value("/spec/containers"_json_pointer, json::array());
  for (const auto& c : containers) {
    const json& res = c.value("resources", json::object());
    json req = res.value("requests", json::object());
    const json limits = res.value("limits", json::object());
    for (const auto& [k, v] : limits.items()) {
      if (!req.contains(k)) req[k] = v;
    }
    for (const auto& [k, v] : req.items()) {
      api::Quantity q;
      if (v.is_string() && api::Quantity::try_parse(v.get<std::string>(), q)) {
        out[k] += q;
      } else if (v.is_number()) {
        out[k] += api::Quantity::parse(v.dump());
      }
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<LocalCluster> LocalCluster::open(const std::filesystem::path& home) {
  return std::unique_ptr<LocalCluster>(new LocalCluster(store::Store::open(home)));
}

bool LocalCluster::initialised() const {
  return store_->find(api::namespaces(), "", "default").has_value();
}

std::vector<json> LocalCluster::make_nodes(const NodeShape& shape) {
  std::vector<json> nodes;
  for (int i = 1; i <= shape.count; ++i) {
    std::string name = "node-" + std::to_string(i);
    json resources = {{"cpu", shape.cpu},
                      {"memory", shape.memory},
                      {"pods", std::to_string(shape.max_pods)},
                      {"ephemeral-storage", "100Gi"}};
    if (shape.gpus_per_node > 0) resources["nvidia.com/gpu"] = std::to_string(shape.gpus_per_node);
    nodes.push_back({{"apiVersion", "v1"},
                     {"kind", "Node"},
                     {"metadata",
                      {{"name", name},
                       {"labels",
                        {{"kubernetes.io/hostname", name},
                         {"kubernetes.io/os", "linux"},
                         {"kubernetes.io/arch", "amd64"},
                         {"kai.dev/fake", "true"}}}}},
                     {"spec", json::object()},
                     {"status",
                      {{"capacity", resources},
                       {"allocatable", resources},
                       {"conditions",
                        json::array({{{"type", "Ready"},
                                      {"status", "True"},
                                      {"reason", "KubeletReady"},
                                      {"message", "kai fake node is ready"}}})},
                       {"nodeInfo",
                        {{"kubeletVersion", "v1.32.0-kai"},
                         {"osImage", "kai fake node"},
                         {"kernelVersion", ""},
                         {"containerRuntimeVersion", "kai-process://1"},
                         {"operatingSystem", "linux"},
                         {"architecture", "amd64"}}}}}});
  }
  return nodes;
}

bool LocalCluster::initialise(const NodeShape& shape, const std::vector<json>& nodes) {
  bool created = false;
  store_->transact([&] {
    if (initialised()) return;
    created = true;
    auto ctx = admission_context();
    auto add = [&](const api::ResourceInfo& res, json obj) {
      api::admit_create(res, obj, ctx);
      store_->create(res, std::move(obj));
    };
    add(api::namespaces(), {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "default"}}}});
    // Volcano's scheduler creates root and default when missing (cache.go); root is not reclaimable.
    add(api::queues(), {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                        {"kind", "Queue"},
                        {"metadata", {{"name", "root"}}},
                        {"spec", {{"weight", 1}, {"reclaimable", false}}}});
    add(api::queues(), {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                        {"kind", "Queue"},
                        {"metadata", {{"name", "default"}}},
                        {"spec", {{"weight", 1}, {"reclaimable", true}, {"parent", "root"}}}});
    for (auto& n : nodes.empty() ? make_nodes(shape) : nodes) add(api::nodes(), n);
  });
  return created;
}

api::AdmissionContext LocalCluster::admission_context() {
  api::AdmissionContext ctx;
  ctx.get_queue = [this](const std::string& name) { return store_->find(api::queues(), "", name); };
  ctx.count_child_queues = [this](const std::string& name) {
    int n = 0;
    for (const auto& q : store_->list(api::queues())) {
      if (q.value("/spec/parent"_json_pointer, std::string()) == name) ++n;
    }
    return n;
  };
  return ctx;
}

json LocalCluster::create(const api::ResourceInfo& res, json obj) {
  json stored;
  store_->transact([&] {
    api::admit_create(res, obj, admission_context());
    if (res.namespaced) {
      const std::string ns = obj["metadata"].value("namespace", "default");
      if (!store_->find(api::namespaces(), "", ns)) {
        throw Error::not_found("namespaces \"" + ns + "\" not found");
      }
    }
    stored = store_->create(res, std::move(obj));
    if (res.key() == api::jobs().key()) stored = initiate_job(stored);
    if (res.key() == api::commands().key()) execute_command(stored);
  });
  return stored;
}

json LocalCluster::initiate_job(json job) {
  const json& spec = job["spec"];
  const std::string name = job["metadata"]["name"];
  const std::string ns = job["metadata"]["namespace"];
  const int min_available = spec.value("minAvailable", 0);

  // PodGroup <job>-<uid> as Volcano's job controller makes it (volcano.md §2.3).
  json min_task = json::object();
  std::map<std::string, api::Quantity> min_resources;
  int counted = 0;
  for (const auto& task : spec.value("tasks", json::array())) {
    const int replicas = task.value("replicas", 0);
    min_task[task.value("name", std::string())] = task.value("minAvailable", replicas);
    auto per_pod = template_requests(task.value("template", json::object()));
    for (int i = 0; i < replicas && counted < min_available; ++i, ++counted) {
      for (const auto& [k, q] : per_pod) min_resources[k] += q;
    }
  }
  json min_res = json::object();
  for (const auto& [k, q] : min_resources) min_res[k] = q.canonical();

  json pg = {{"apiVersion", api::podgroups().api_version()},
             {"kind", "PodGroup"},
             {"metadata",
              {{"name", name + "-" + job["metadata"]["uid"].get<std::string>()},
               {"namespace", ns},
               {"ownerReferences", json::array({owner_ref(api::jobs(), job)})}}},
             {"spec",
              {{"minMember", min_available},
               {"minTaskMember", min_task},
               {"minResources", min_res},
               {"queue", spec.value("queue", std::string("default"))}}},
             {"status", {{"phase", "Pending"}}}};
  if (job["metadata"].contains("labels")) pg["metadata"]["labels"] = job["metadata"]["labels"];
  if (job["metadata"].contains("annotations")) pg["metadata"]["annotations"] = job["metadata"]["annotations"];
  if (spec.contains("priorityClassName")) pg["spec"]["priorityClassName"] = spec["priorityClassName"];
  store_->create(api::podgroups(), std::move(pg));

  const std::string now = now_rfc3339();
  job["status"] = {{"state", {{"phase", "Pending"}, {"lastTransitionTime", now}}},
                   {"minAvailable", min_available},
                   {"pending", 0},
                   {"running", 0},
                   {"succeeded", 0},
                   {"failed", 0},
                   {"terminating", 0},
                   {"unknown", 0},
                   {"retryCount", 0},
                   {"version", 0},
                   {"conditions", json::array({{{"status", "Pending"}, {"lastTransitionTime", now}}})}};
  return store_->update(api::jobs(), std::move(job));
}

void LocalCluster::execute_command(const json& cmd) {
  const std::string action = cmd.value("action", std::string());
  const json& target = cmd.value("target", json::object());
  const std::string target_kind = target.value("kind", std::string());
  if (target_kind != "Queue" || (action != "OpenQueue" && action != "CloseQueue")) {
    return;  // job commands are the job controller's (a later issue); they stay queued
  }
  const std::string qname = target.value("name", std::string());
  json queue = store_->get(api::queues(), "", qname);
  std::string state = "Open";
  if (action == "CloseQueue") {
    bool has_groups = false;
    for (const auto& pg : store_->list(api::podgroups())) {
      if (pg.value("/spec/queue"_json_pointer, std::string("default")) == qname) {
        has_groups = true;
        break;
      }
    }
    state = has_groups ? "Closing" : "Closed";
  }
  queue["status"]["state"] = state;
  store_->update(api::queues(), std::move(queue));
  // Volcano's controller deletes the Command first so it runs at most once.
  store_->remove(api::commands(), cmd["metadata"]["namespace"], cmd["metadata"]["name"]);
}

json LocalCluster::get(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  return store_->get(res, res.namespaced ? ns : "", name);
}

std::vector<json> LocalCluster::list(const api::ResourceInfo& res, const client::ListOptions& opts) {
  store::ListOptions lo;
  lo.ns = (opts.all_namespaces || !res.namespaced) ? "" : opts.ns;
  lo.labels = opts.labels;
  lo.fields = opts.fields;
  lo.omit = opts.omit;
  return store_->list(res, lo);
}

json LocalCluster::update(const api::ResourceInfo& res, json obj) {
  json stored;
  store_->transact([&] {
    const json& meta = obj.value("metadata", json::object());
    json old = store_->get(res, res.namespaced ? meta.value("namespace", std::string("default")) : "",
                           meta.value("name", std::string()));
    api::admit_update(res, old, obj, admission_context());
    stored = store_->update(res, std::move(obj));
  });
  return stored;
}

json LocalCluster::merge_patch(const api::ResourceInfo& res, const std::string& ns, const std::string& name,
                               const json& patch) {
  json stored;
  store_->transact([&] {
    json obj = store_->get(res, res.namespaced ? ns : "", name);
    json old = obj;
    obj.merge_patch(patch);
    api::admit_update(res, old, obj, admission_context());
    stored = store_->update(res, std::move(obj));
  });
  return stored;
}

json LocalCluster::remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  json removed;
  store_->transact([&] {
    json obj = store_->get(res, res.namespaced ? ns : "", name);
    api::admit_delete(res, obj, admission_context());
    removed = store_->remove(res, res.namespaced ? ns : "", name);
  });
  return removed;
}

void LocalCluster::batch(const std::function<void()>& fn) { store_->transact(fn); }

std::string LocalCluster::describe_target() const { return "local cluster at " + store_->path().string(); }

}  // namespace kai::minicluster
