#include "minicluster/local_cluster.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "lib/api/admission.h"
#include "lib/api/error.h"
#include "lib/api/quantity.h"
#include "minicluster/controller.h"
#include "minicluster/runtime.h"

namespace kai::minicluster {

std::unique_ptr<LocalCluster> LocalCluster::open(const std::filesystem::path& home) {
  return std::unique_ptr<LocalCluster>(new LocalCluster(store::Store::open(home), home));
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
                         {"kubeProxyVersion", ""},
                         {"osImage", "kai fake node"},
                         {"kernelVersion", ""},
                         {"containerRuntimeVersion", "kai-process://1"},
                         {"operatingSystem", "linux"},
                         {"architecture", "amd64"},
                         // Required by the Python client's V1NodeSystemInfo.
                         {"bootID", ""},
                         {"machineID", ""},
                         {"systemUUID", ""}}}}}});
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
  ctx.list_child_queues = [this](const std::string& name) {
    std::vector<json> out;
    for (auto& q : store_->list(api::queues())) {
      if (q.value("/spec/parent"_json_pointer, std::string()) == name) out.push_back(std::move(q));
    }
    std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
      return a["metadata"].value("name", "") < b["metadata"].value("name", "");
    });
    return out;
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
    if (res.key() == api::jobs().key() && !obj["metadata"].contains("/annotations/kai.dev~1working-dir"_json_pointer)) {
      std::error_code ec;
      auto cwd = std::filesystem::current_path(ec);
      if (!ec) obj["metadata"]["annotations"][ann::kWorkingDir] = cwd.string();
    }
    stored = store_->create(res, std::move(obj));
    if (res.key() == api::jobs().key()) stored = initiate_job(stored);
    if (res.key() == api::commands().key()) execute_command(stored);
  });
  return stored;
}

json LocalCluster::initiate_job(json job) {
  const int min_available = job["spec"].value("minAvailable", 0);

  store_->create(api::podgroups(), make_podgroup(job));

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

void LocalCluster::watch(const api::ResourceInfo& res, const client::WatchOptions& opts,
                         const std::function<bool(const client::WatchEvent&)>& on) {
  store::ListOptions lo;
  lo.ns = (opts.list.all_namespaces || !res.namespaced) ? "" : opts.list.ns;
  lo.labels = opts.list.labels;
  lo.fields = opts.list.fields;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(opts.timeout_seconds * 1000));
  auto timed_out = [&] { return opts.timeout_seconds > 0 && std::chrono::steady_clock::now() >= deadline; };
  int64_t rv = 0;
  if (opts.resource_version.empty()) {
    std::vector<json> items;
    store_->read_snapshot([&] {
      rv = store_->current_resource_version();
      items = store_->list(res, lo);
    });
    for (auto& o : items) {
      if (!on(client::WatchEvent{"ADDED", std::move(o)})) return;
    }
    if (!on(client::WatchEvent{"SYNCED", json()})) return;
  } else {
    try {
      std::size_t used = 0;
      rv = std::stoll(opts.resource_version, &used);
      if (used != opts.resource_version.size() || rv < 0) throw std::invalid_argument("rv");
    } catch (const std::exception&) {
      throw Error::usage("resourceVersion: invalid value \"" + opts.resource_version + "\"");
    }
  }
  const std::string key = res.key();
  auto matches = [&](const json& obj) {
    if (res.namespaced && !lo.ns.empty() && obj["metadata"].value("namespace", std::string()) != lo.ns) return false;
    return lo.labels.matches_object(obj) && lo.fields.matches_object(obj);
  };
  while (!timed_out()) {
    bool any = false;
    for (auto& c : store_->changes_since(rv, 1000)) {
      rv = c.resource_version;
      any = true;
      if (c.resource != key || !matches(c.object)) continue;
      if (!on(client::WatchEvent{c.type, std::move(c.object)})) return;
    }
    if (any) continue;
    reconcile_if_needed();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
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

/// A pod of a job deleted by a user is, to the job controller, a PodEvicted event (volcano.md
/// §2.6: "pod delete -> PodEvicted"). The pod itself is gone by the time the controller runs, so
/// the event waits on the job, in annotation kai.dev/evicted-pods, for the next sync.
void LocalCluster::note_eviction(const json& pod) {
  const auto ref = controlling_job(pod);
  if (!ref) return;
  auto job = store_->find(api::jobs(), ref->first, ref->second);
  if (!job) return;
  if (auto noted = with_eviction_noted(std::move(*job), pod)) store_->update(api::jobs(), *noted);
}

void LocalCluster::signal_supervisor(const std::string& annotation) {
  auto p = parse_supervisor(annotation);
  if (!p) return;
  // SIGTERM only: the supervisor gives its processes their grace period.
  if (auto cur = runtime::process_start_time(p->pid); cur && *cur == p->start_time) {
    ::kill(p->pid, SIGTERM);
    stopping_.push_back({p->pid, p->start_time});
  }
}

json LocalCluster::remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  json removed;
  std::vector<std::string> supervisors;
  store_->transact([&] {
    supervisors.clear();
    json obj = store_->get(res, res.namespaced ? ns : "", name);
    api::admit_delete(res, obj, admission_context());
    // Pods that go with it (the object itself, or owned by it) may have processes running.
    const std::string uid = obj["metadata"].value("uid", std::string());
    auto note = [&](const json& pod) {
      const json& a = pod["metadata"].value("annotations", json::object());
      if (a.contains(ann::kSupervisor)) supervisors.push_back(a[ann::kSupervisor]);
    };
    if (res.key() == api::pods().key()) {
      note(obj);
      note_eviction(obj);
    } else if (res.key() == api::jobs().key() || res.key() == api::namespaces().key()) {
      store::ListOptions lo;
      lo.ns = res.key() == api::namespaces().key() ? name : ns;
      for (const auto& pod : store_->list(api::pods(), lo)) {
        bool owned = res.key() == api::namespaces().key();
        for (const auto& r : pod["metadata"].value("ownerReferences", json::array())) {
          owned = owned || r.value("uid", std::string()) == uid;
        }
        if (owned) note(pod);
      }
    }
    removed = store_->remove(res, res.namespaced ? ns : "", name);
  });
  for (const auto& sup : supervisors) signal_supervisor(sup);
  if (res.key() == api::jobs().key()) {
    // The job's own files go with it (pods that run on got their copies when they started).
    std::error_code ec;
    std::filesystem::remove_all(job_dir(removed), ec);
  }
  return removed;
}

std::filesystem::path LocalCluster::job_dir(const json& job) const {
  return home_ / "jobs" / job["metadata"].value("namespace", std::string("default")) /
         (job["metadata"].value("name", std::string()) + "." + job["metadata"].value("uid", std::string()));
}

void LocalCluster::batch(const std::function<void()>& fn) { store_->transact(fn); }

std::string LocalCluster::describe_target() const { return "local cluster at " + store_->path().string(); }

}  // namespace kai::minicluster
