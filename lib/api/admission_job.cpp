// Job (batch.volcano.sh/v1alpha1) admission: Volcano's mutatejob and validatejob webhooks.
// The message mapping is documented at the top of admission.cpp.

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

#include "lib/api/admission_util.h"
#include "lib/api/names.h"

namespace kai::api::admission_detail {
namespace {

// Events and actions a user may write in a LifecyclePolicy (bus/v1alpha1; the internal ones,
// OutOfSync/CommandIssued/PodRunning and SyncJob/EnqueueJob/SyncQueue/OpenQueue/CloseQueue, are not).
constexpr std::array<std::string_view, 8> kPolicyEvents = {
    "*", "PodFailed", "PodEvicted", "PodPending", "Unknown", "TaskCompleted", "TaskFailed", "JobUpdated"};
constexpr std::array<std::string_view, 8> kPolicyActions = {
    "AbortJob", "RestartJob", "RestartTask", "RestartPod", "RestartPartition", "TerminateJob", "CompleteJob",
    "ResumeJob"};
// Job plugins the controller knows (pkg/controllers/job/plugins).
constexpr std::array<std::string_view, 8> kJobPlugins = {"env", "hcclrank", "mpi", "pytorch", "ray", "ssh", "svc",
                                                         "tensorflow"};
constexpr std::array<std::string_view, 4> kTopologyPolicies = {"none", "best-effort", "restricted",
                                                               "single-numa-node"};
constexpr int64_t kDefaultMaxRetry = 3;

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

template <std::size_t N>
std::vector<std::string> to_strings(const std::array<std::string_view, N>& set) {
  return {set.begin(), set.end()};
}

// Go's %v of a []string: `[a b c]`.
template <typename C>
std::string go_list(const C& items) {
  std::string out = "[";
  bool first = true;
  for (const auto& s : items) {
    if (!first) out += " ";
    out += s;
    first = false;
  }
  return out + "]";
}

std::string job_name(const json& job) {
  const json* meta = member(job, "metadata");
  auto name = meta ? peek_string(*meta, "name") : std::nullopt;
  return name.value_or("");
}

bool absent_or_empty_string(const json& obj, std::string_view name) {
  const json* v = member(obj, name);
  return !v || (v->is_string() && v->get_ref<const std::string&>().empty());
}

bool absent_or_zero(const json& obj, std::string_view name) {
  const json* v = member(obj, name);
  return !v || (v->is_number() && v->get<double>() == 0);
}

// The minAvailable the mutating webhook gives a task without one: minPartitions x partitionSize
// when a partition policy sets both, else replicas (0 when unset, as Go's zero value).
int64_t default_task_min_available(const json& task) {
  if (const json* pp = member(task, "partitionPolicy")) {
    auto minp = peek_int(*pp, "minPartitions");
    auto size = peek_int(*pp, "partitionSize");
    if (minp && size && *minp > 0 && *size > 0) return *minp * *size;
  }
  return peek_int(task, "replicas").value_or(0);
}

// --master / --worker arguments of the mpi plugin (Go flag syntax: -x=v, --x=v, -x v, --x v).
std::string plugin_flag(const json& args, std::string_view flag, std::string_view fallback) {
  if (!args.is_array()) return std::string(fallback);
  std::string value(fallback);
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!args[i].is_string()) continue;
    std::string_view a = args[i].get_ref<const std::string&>();
    if (a.substr(0, 2) == "--") {
      a.remove_prefix(2);
    } else if (a.substr(0, 1) == "-") {
      a.remove_prefix(1);
    } else {
      continue;
    }
    if (a == flag && i + 1 < args.size() && args[i + 1].is_string()) {
      value = args[i + 1].get<std::string>();
    } else if (a.substr(0, flag.size()) == flag && a.size() > flag.size() && a[flag.size()] == '=') {
      value = std::string(a.substr(flag.size() + 1));
    }
  }
  return value;
}

void validate_network_topology(const json& parent, const std::string& path, FieldErrors& errs) {
  const json* nt = get_object(parent, "networkTopology", path, errs);
  if (!nt) return;
  if (auto mode = get_string(*nt, "mode", child(path, "mode"), errs)) {
    if (*mode != "hard" && *mode != "soft") errs.unsupported(child(path, "mode"), *mode, {"hard", "soft"});
  }
  auto tier = get_int(*nt, "highestTierAllowed", child(path, "highestTierAllowed"), errs);
  auto tier_name = get_string(*nt, "highestTierName", child(path, "highestTierName"), errs);
  if (tier && tier_name && !tier_name->empty()) {
    errs.forbidden(child(path, "highestTierName"),
                   "must not specify 'highestTierAllowed' and 'highestTierName' in networkTopology simultaneously");
  }
}

// validatePolicies: one LifecyclePolicy list (job level or task level).
void validate_policies(const json& parent, const std::string& path, FieldErrors& errs) {
  const json* policies = get_array(parent, "policies", path, errs);
  if (!policies) return;
  std::set<std::string> events_seen;
  std::set<int64_t> codes_seen;
  const std::string valid_events = ", valid events are " + go_list(kPolicyEvents);
  const std::string valid_actions = ", valid actions are " + go_list(kPolicyActions);
  for (std::size_t i = 0; i < policies->size(); ++i) {
    const json& p = (*policies)[i];
    const std::string pp = index(path, i);
    if (!p.is_object()) {
      errs.wrong_type(pp, p, "object");
      continue;
    }
    // Events of this policy with their paths, duplicates inside one policy dropped (getEventList).
    std::vector<std::pair<std::string, std::string>> events;
    auto add_event = [&events](const std::string& e, const std::string& at) {
      for (const auto& [have, where] : events) {
        if (have == e) return;
      }
      events.emplace_back(e, at);
    };
    if (const json* list = get_array(p, "events", child(pp, "events"), errs)) {
      for (std::size_t k = 0; k < list->size(); ++k) {
        if (auto e = as_string((*list)[k], index(child(pp, "events"), k), errs)) add_event(*e, index(child(pp, "events"), k));
      }
    }
    if (auto e = get_string(p, "event", child(pp, "event"), errs); e && !e->empty()) add_event(*e, child(pp, "event"));
    auto code = get_int(p, "exitCode", child(pp, "exitCode"), errs);

    auto action = get_string(p, "action", child(pp, "action"), errs);
    if (!action || action->empty()) {
      if (!member(p, "action") || action) errs.required(child(pp, "action"));
    } else if (!contains(kPolicyActions, *action)) {
      errs.invalid(child(pp, "action"), *action, "invalid policy action" + valid_actions);
    }
    if (auto timeout = get_string(p, "timeout", child(pp, "timeout"), errs)) {
      if (auto err = go_duration_error(*timeout); !err.empty()) errs.invalid(child(pp, "timeout"), *timeout, err);
    }

    if (!events.empty() && code) {
      errs.invalid(child(pp, "exitCode"), *code, "must not specify event and exitCode simultaneously");
      continue;
    }
    if (events.empty() && !code) {
      if (!member(p, "exitCode")) errs.required(pp, "either event and exitCode should be specified");
      continue;
    }
    if (code) {
      if (*code == 0) {
        errs.invalid(child(pp, "exitCode"), *code, "0 is not a valid error code");
      } else if (!codes_seen.insert(*code).second) {
        errs.duplicate(child(pp, "exitCode"), *code);
      }
      continue;
    }
    for (const auto& [e, at] : events) {
      if (!contains(kPolicyEvents, e)) {
        errs.invalid(at, e, "invalid policy event" + valid_events);
      } else if (!events_seen.insert(e).second) {
        errs.duplicate(at, e);
      }
    }
  }
  if (events_seen.count("*") && events_seen.size() > 1) {
    errs.forbidden(path, "if there's * here, no other policy should be here");
  }
}

// validateIO: job volumes.
void validate_volumes(const json& spec, FieldErrors& errs) {
  const std::string path = "spec.volumes";
  const json* volumes = get_array(spec, "volumes", path, errs);
  if (!volumes) return;
  std::set<std::string> mount_paths;
  for (std::size_t i = 0; i < volumes->size(); ++i) {
    const json& v = (*volumes)[i];
    const std::string vp = index(path, i);
    if (!v.is_object()) {
      errs.wrong_type(vp, v, "object");
      continue;
    }
    auto mount = get_string(v, "mountPath", child(vp, "mountPath"), errs);
    if (!mount || mount->empty()) {
      if (!member(v, "mountPath") || mount) errs.required(child(vp, "mountPath"));
    } else if (mount->find(':') != std::string::npos) {
      errs.invalid(child(vp, "mountPath"), *mount, "must not contain ':'");
    } else if (!mount_paths.insert(*mount).second) {
      errs.duplicate(child(vp, "mountPath"), *mount);
    }
    auto claim_name = get_string(v, "volumeClaimName", child(vp, "volumeClaimName"), errs);
    const json* claim = get_object(v, "volumeClaim", child(vp, "volumeClaim"), errs);
    bool has_name = claim_name && !claim_name->empty();
    if (!claim && !has_name && !member(v, "volumeClaim")) {
      errs.required(vp, "either VolumeClaim or VolumeClaimName must be specified");
    }
    if (!has_name) continue;
    if (claim) {
      errs.forbidden(child(vp, "volumeClaimName"),
                     "conflict: If you want to use an existing PVC, just specify VolumeClaimName."
                     "If you want to create a new PVC, you do not need to specify VolumeClaimName");
    } else if (auto problems = dns1123_subdomain_errors(*claim_name); !problems.empty()) {
      errs.invalid(child(vp, "volumeClaimName"), *claim_name,
                   "invalid VolumeClaimName " + *claim_name + " : " + go_list(problems));
    }
  }
}

// The QoS class of a pod template as Kubernetes computes it (GetPodQOS), for topologyPolicy.
// Volcano first copies limits into requests for containers that have no requests at all.
std::string pod_qos(const json& pod_spec) {
  std::map<std::string, Quantity> requests;
  std::map<std::string, Quantity> limits;
  bool guaranteed = true;
  FieldErrors scratch;  // quantities were validated with the template; ignore problems here
  for (const char* list : {"containers", "initContainers"}) {
    const json* cs = member(pod_spec, list);
    if (!cs || !cs->is_array()) continue;
    for (const auto& c : *cs) {
      const json* res = member(c, "resources");
      auto req = res ? get_resource_list(*res, "requests", "", ResourceListKind::Plain, scratch)
                     : std::map<std::string, Quantity>{};
      auto lim = res ? get_resource_list(*res, "limits", "", ResourceListKind::Plain, scratch)
                     : std::map<std::string, Quantity>{};
      if (req.empty()) req = lim;
      int found_limits = 0;
      for (const char* r : {"cpu", "memory"}) {
        if (auto it = req.find(r); it != req.end() && !it->second.is_zero()) requests[r] += it->second;
        if (auto it = lim.find(r); it != lim.end() && !it->second.is_zero()) {
          limits[r] += it->second;
          ++found_limits;
        }
      }
      if (found_limits < 2) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed) {
    for (const auto& [r, q] : requests) {
      auto it = limits.find(r);
      if (it == limits.end() || it->second != q) guaranteed = false;
    }
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

// validateTaskTopoPolicy: a topologyPolicy other than none needs a Guaranteed pod with whole CPUs.
void validate_topology_policy(const json& task, const std::string& tp, const std::string& task_name,
                              FieldErrors& errs) {
  auto policy = get_string(task, "topologyPolicy", child(tp, "topologyPolicy"), errs);
  if (!policy || policy->empty() || *policy == "none") return;
  if (!contains(kTopologyPolicies, *policy)) {
    errs.unsupported(child(tp, "topologyPolicy"), *policy, to_strings(kTopologyPolicies));
    return;
  }
  const json* tmpl = member(task, "template");
  const json* spec = tmpl ? member(*tmpl, "spec") : nullptr;
  if (!spec || !spec->is_object()) return;  // reported by the template checks
  if (auto qos = pod_qos(*spec); qos != "Guaranteed") {
    errs.invalid(child(tp, "topologyPolicy"), *policy, "task " + task_name + " isn't Guaranteed pod, kind=" + qos);
    return;
  }
  const std::string spath = child(child(tp, "template"), "spec");
  for (const char* list : {"containers", "initContainers"}) {
    const json* cs = member(*spec, list);
    if (!cs || !cs->is_array()) continue;
    for (std::size_t j = 0; j < cs->size(); ++j) {
      const json* res = member((*cs)[j], "resources");
      if (!res) continue;
      const char* which = member(*res, "requests") ? "requests" : "limits";
      const json* rl = member(*res, which);
      const json* cpu = rl ? member(*rl, "cpu") : nullptr;
      auto text = cpu ? quantity_text(*cpu) : std::nullopt;
      Quantity q;
      if (!text || !Quantity::try_parse(*text, q)) continue;
      if (q.is_zero() || q.milli_value() % 1000 != 0) {
        errs.invalid(key(child(child(index(child(spath, list), j), "resources"), which), "cpu"), q.canonical(),
                     "the cpu request isn't an integer");
      }
    }
  }
}

void validate_partition_policy(const json& task, const std::string& tp, const std::string& suffix,
                               std::optional<int64_t> replicas, std::optional<int64_t> min_available,
                               FieldErrors& errs) {
  const std::string pp = child(tp, "partitionPolicy");
  const json* policy = get_object(task, "partitionPolicy", pp, errs);
  if (!policy) return;
  auto total = get_int(*policy, "totalPartitions", child(pp, "totalPartitions"), errs);
  auto size = get_int(*policy, "partitionSize", child(pp, "partitionSize"), errs);
  auto min_partitions = get_int(*policy, "minPartitions", child(pp, "minPartitions"), errs);
  if (total.value_or(0) <= 0) {
    errs.invalid(child(pp, "totalPartitions"), total.value_or(0), "'TotalPartitions' must be greater than 0" + suffix);
  }
  if (size.value_or(0) <= 0) {
    errs.invalid(child(pp, "partitionSize"), size.value_or(0), "'PartitionSize' must be greater than 0" + suffix);
  }
  if (total.value_or(0) > 0 && size.value_or(0) > 0) {
    if (replicas && *replicas != *total * *size) {
      errs.invalid(child(tp, "replicas"), *replicas,
                   "'Replicas' are not equal to TotalPartitions*PartitionSize" + suffix);
    }
    if (min_partitions.value_or(0) > 0 && min_available && *min_available != *min_partitions * *size) {
      errs.invalid(child(tp, "minAvailable"), *min_available,
                   "'MinAvailable' is not equal to MinPartitions*PartitionSize" + suffix);
    }
  }
  validate_network_topology(*policy, child(pp, "networkTopology"), errs);
}

// The dependsOn graph must be a DAG (Kahn's algorithm over task names).
void validate_depends_on(const json& tasks, FieldErrors& errs) {
  std::set<std::string> names;
  for (const auto& t : tasks) {
    if (auto n = peek_string(t, "name")) names.insert(*n);
  }
  std::map<std::string, std::set<std::string>> edges;  // dependency -> dependents
  std::map<std::string, int> in_degree;
  for (const auto& n : names) in_degree[n] = 0;
  bool any = false;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const std::string tp = index("spec.tasks", i);
    const json* dep = get_object(tasks[i], "dependsOn", child(tp, "dependsOn"), errs);
    if (!dep) continue;
    auto self = peek_string(tasks[i], "name");
    if (auto it = get_string(*dep, "iteration", child(child(tp, "dependsOn"), "iteration"), errs)) {
      if (*it != "any" && *it != "all") errs.unsupported(child(child(tp, "dependsOn"), "iteration"), *it, {"any", "all"});
    }
    const std::string np = child(child(tp, "dependsOn"), "name");
    const json* deps = get_array(*dep, "name", np, errs);
    if (!deps) continue;
    for (std::size_t k = 0; k < deps->size(); ++k) {
      auto d = as_string((*deps)[k], index(np, k), errs);
      if (!d) continue;
      if (!names.count(*d)) {
        errs.not_found(index(np, k), *d);
        continue;
      }
      if (!self) continue;
      any = true;
      if (edges[*d].insert(*self).second) ++in_degree[*self];
    }
  }
  if (!any) return;
  std::vector<std::string> ready;
  for (const auto& [n, d] : in_degree) {
    if (d == 0) ready.push_back(n);
  }
  std::size_t sorted = 0;
  while (!ready.empty()) {
    std::string n = ready.back();
    ready.pop_back();
    ++sorted;
    for (const auto& m : edges[n]) {
      if (--in_degree[m] == 0) ready.push_back(m);
    }
  }
  if (sorted != in_degree.size()) {
    errs.forbidden("spec.tasks", "job has dependencies between tasks, but doesn't form a directed acyclic graph(DAG)");
  }
}

void validate_plugins(const json& spec, const json* tasks, FieldErrors& errs) {
  const std::string path = "spec.plugins";
  const json* plugins = get_object(spec, "plugins", path, errs);
  if (!plugins) return;
  for (const auto& [name, args] : plugins->items()) {
    const std::string p = key(path, name);
    if (!contains(kJobPlugins, name)) errs.invalid(p, name, "unable to find job plugin: " + name);
    if (args.is_null()) continue;
    if (!args.is_array()) {
      errs.wrong_type(p, args, "array");
      continue;
    }
    for (std::size_t i = 0; i < args.size(); ++i) as_string(args[i], index(p, i), errs);
  }
  const json* mpi = member(*plugins, "mpi");
  if (!plugins->contains("mpi")) return;
  std::set<std::string> task_names;
  if (tasks) {
    for (const auto& t : *tasks) {
      if (auto n = peek_string(t, "name")) task_names.insert(*n);
    }
  }
  const json none = json::array();
  const std::string master = plugin_flag(mpi ? *mpi : none, "master", "master");
  const std::string worker = plugin_flag(mpi ? *mpi : none, "worker", "worker");
  if (!task_names.count(master)) errs.invalid(key(path, "mpi"), master, "The specified mpi master task was not found");
  if (!task_names.count(worker)) errs.invalid(key(path, "mpi"), worker, "The specified mpi worker task was not found");
}

void validate_job_queue(const std::string& queue, const AdmissionContext& ctx, FieldErrors& errs) {
  if (!ctx.get_queue || queue.empty()) return;
  const std::string path = "spec.queue";
  auto q = ctx.get_queue(queue);
  if (!q) {
    errs.invalid(path, queue, "unable to find job queue: " + not_found_text(queues(), queue));
    return;
  }
  // An empty state is what the queue controller reads as Open; only a set, non-Open state refuses.
  if (auto state = queue_state(*q); !state.empty() && state != "Open") {
    errs.invalid(path, queue,
                 "can only submit job to queue with state `Open`, queue `" + queue + "` status is `" + state + "`");
  }
  if (queue == "root") {
    errs.invalid(path, queue, "can not submit job to root queue");
  } else if (ctx.count_child_queues) {
    if (int n = ctx.count_child_queues(queue); n > 0) {
      errs.invalid(path, queue,
                   "can only submit job to leaf queue, queue `" + queue + "` has " + std::to_string(n) + " child queues");
    }
  }
}

// Overlays old's value of `name` onto dst (erasing it when old has none).
void overlay(json& dst, const json& old, const char* name) {
  if (const json* v = member(old, name)) {
    dst[name] = *v;
  } else if (dst.is_object()) {
    dst.erase(name);
  }
}

// The job controller fills volumeClaimName for volumes that carry a volumeClaim; ignore it.
void drop_generated_claim_names(json& spec) {
  json* volumes = spec.is_object() && spec.contains("volumes") ? &spec["volumes"] : nullptr;
  if (!volumes || !volumes->is_array()) return;
  for (auto& v : *volumes) {
    if (member(v, "volumeClaim")) v.erase("volumeClaimName");
  }
}

}  // namespace

void default_job(json& job, const AdmissionContext& ctx) {
  if (!job.is_object()) return;
  if (!member(job, "spec")) job["spec"] = json::object();
  json& spec = job["spec"];
  if (!spec.is_object()) return;
  if (absent_or_empty_string(spec, "queue")) spec["queue"] = "default";
  if (absent_or_empty_string(spec, "schedulerName")) spec["schedulerName"] = ctx.default_scheduler;
  if (absent_or_zero(spec, "maxRetry")) spec["maxRetry"] = kDefaultMaxRetry;

  int64_t min_sum = 0;
  if (member(spec, "tasks") && spec["tasks"].is_array()) {
    json& tasks = spec["tasks"];
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      json& task = tasks[i];
      if (!task.is_object()) continue;
      if (absent_or_empty_string(task, "name")) task["name"] = "default" + std::to_string(i);
      if (json* tmpl = member(task, "template") ? &task["template"] : nullptr; tmpl && tmpl->is_object()) {
        if (json* ps = member(*tmpl, "spec") ? &(*tmpl)["spec"] : nullptr; ps && ps->is_object()) {
          const json* host_net = member(*ps, "hostNetwork");
          if (host_net && host_net->is_boolean() && host_net->get<bool>() && absent_or_empty_string(*ps, "dnsPolicy")) {
            (*ps)["dnsPolicy"] = "ClusterFirstWithHostNet";
          }
        }
      }
      // A negative replicas count gets no derived minAvailable, so that only replicas is reported.
      if (!member(task, "minAvailable") && peek_int(task, "replicas").value_or(0) >= 0) {
        task["minAvailable"] = default_task_min_available(task);
      }
      if (absent_or_zero(task, "maxRetry")) task["maxRetry"] = kDefaultMaxRetry;
      min_sum += std::max<int64_t>(0, peek_int(task, "minAvailable").value_or(0));
    }
  }
  if (absent_or_zero(spec, "minAvailable")) spec["minAvailable"] = min_sum;

  if (member(spec, "plugins") && spec["plugins"].is_object()) {
    json& plugins = spec["plugins"];
    // tensorflow/mpi/pytorch/ray address peers by the svc plugin's hostnames; mpi also needs ssh.
    bool needs_svc = false;
    for (const char* p : {"tensorflow", "mpi", "pytorch", "ray"}) needs_svc = needs_svc || plugins.contains(p);
    if (needs_svc && !plugins.contains("svc")) plugins["svc"] = json::array();
    if (plugins.contains("mpi") && !plugins.contains("ssh")) plugins["ssh"] = json::array();
  }
}

void validate_job_create(const json& job, const AdmissionContext& ctx, FieldErrors& errs) {
  const std::string name = job_name(job);
  // Volcano's validateJobName: a qualified name (<= 63), stricter than the metadata check.
  if (!name.empty() && dns1123_subdomain_errors(name).empty()) {
    if (auto problems = qualified_name_errors(name); !problems.empty()) {
      errs.invalid("metadata.name", name, "create job with name " + name + " validate failed " + go_list(problems));
    }
  }
  const json* spec = get_object(job, "spec", "spec", errs);
  if (!spec) return;

  auto min_available = get_int(*spec, "minAvailable", "spec.minAvailable", errs);
  if (min_available && *min_available < 0) {
    errs.invalid("spec.minAvailable", *min_available, "must be greater than or equal to 0");
  }
  if (auto v = get_int(*spec, "maxRetry", "spec.maxRetry", errs); v && *v < 0) {
    errs.invalid("spec.maxRetry", *v, "must be greater than or equal to 0");
  }
  if (auto v = get_int(*spec, "ttlSecondsAfterFinished", "spec.ttlSecondsAfterFinished", errs); v && *v < 0) {
    errs.invalid("spec.ttlSecondsAfterFinished", *v, "must be greater than or equal to 0");
  }
  if (auto v = get_int(*spec, "minSuccess", "spec.minSuccess", errs); v && *v < 1) {
    errs.invalid("spec.minSuccess", *v, "must be greater than or equal to 1");
  }
  auto queue = get_string(*spec, "queue", "spec.queue", errs);
  get_string(*spec, "schedulerName", "spec.schedulerName", errs);
  get_string(*spec, "priorityClassName", "spec.priorityClassName", errs);

  const json* tasks = get_array(*spec, "tasks", "spec.tasks", errs);
  if ((!tasks && !member(*spec, "tasks")) || (tasks && tasks->empty())) {
    errs.required("spec.tasks", "No task specified in job spec");
  }
  int64_t total_replicas = 0;
  std::set<std::string> task_names;
  const bool job_name_ok = !name.empty() && dns1123_subdomain_errors(name).empty();
  for (std::size_t i = 0; tasks && i < tasks->size(); ++i) {
    const json& task = (*tasks)[i];
    const std::string tp = index("spec.tasks", i);
    if (!task.is_object()) {
      errs.wrong_type(tp, task, "object");
      continue;
    }
    auto task_name = get_string(task, "name", child(tp, "name"), errs).value_or("");
    const std::string suffix = " in task: " + task_name + ", job: " + name;
    auto replicas = get_int(task, "replicas", child(tp, "replicas"), errs);
    if (replicas && *replicas < 0) errs.invalid(child(tp, "replicas"), *replicas, "must be greater than or equal to 0");
    auto task_min = get_int(task, "minAvailable", child(tp, "minAvailable"), errs);
    if (task_min && *task_min < 0) {
      errs.invalid(child(tp, "minAvailable"), *task_min, "must be greater than or equal to 0");
    } else if (task_min && *task_min > replicas.value_or(0)) {
      errs.invalid(child(tp, "minAvailable"), *task_min, "'minAvailable' is greater than 'replicas'" + suffix);
    }
    get_int(task, "maxRetry", child(tp, "maxRetry"), errs);  // -1 means "never fail the task"
    total_replicas += std::max<int64_t>(0, replicas.value_or(0));

    if (auto problems = dns1123_label_errors(task_name); !problems.empty()) {
      for (const auto& msg : problems) errs.invalid(child(tp, "name"), task_name, msg);
    } else if (!task_names.insert(task_name).second) {
      errs.duplicate(child(tp, "name"), task_name);
    } else if (job_name_ok) {
      // The longest pod name the controller will create, <job>-<task>-<replicas-1>, must be a DNS
      // label: the svc plugin uses it as the pod's hostname.
      const std::string pod = name + "-" + task_name + "-" + std::to_string(std::max<int64_t>(0, replicas.value_or(0) - 1));
      if (auto pod_problems = dns1123_label_errors(pod); !pod_problems.empty()) {
        errs.invalid(child(tp, "name"), task_name, "create pod with name " + pod + " validate failed " + go_list(pod_problems));
      }
    }

    validate_policies(task, child(tp, "policies"), errs);
    const json* tmpl = get_object(task, "template", child(tp, "template"), errs);
    if (tmpl || !member(task, "template")) validate_pod_template(tmpl, child(tp, "template"), errs);
    validate_topology_policy(task, tp, task_name, errs);
    validate_partition_policy(task, tp, suffix, replicas, task_min, errs);
  }

  if (min_available && *min_available >= 0 && *min_available > total_replicas) {
    errs.invalid("spec.minAvailable", *min_available, "job 'minAvailable' should not be greater than total replicas in tasks");
  }
  validate_policies(*spec, "spec.policies", errs);
  validate_plugins(*spec, tasks, errs);
  validate_network_topology(*spec, "spec.networkTopology", errs);
  validate_volumes(*spec, errs);
  if (queue) validate_job_queue(*queue, ctx, errs);
  if (tasks) validate_depends_on(*tasks, errs);
}

void validate_job_update(const json& old_job, const json& job, FieldErrors& errs) {
  const json* spec = get_object(job, "spec", "spec", errs);
  if (!spec) {
    if (!member(job, "spec")) errs.required("spec");
    return;
  }
  const json empty = json::object();
  const json* old_spec = member(old_job, "spec");
  if (!old_spec || !old_spec->is_object()) old_spec = &empty;

  const json* tasks = get_array(*spec, "tasks", "spec.tasks", errs);
  int64_t total_replicas = 0;
  for (std::size_t i = 0; tasks && i < tasks->size(); ++i) {
    const json& task = (*tasks)[i];
    const std::string tp = index("spec.tasks", i);
    if (!task.is_object()) {
      errs.wrong_type(tp, task, "object");
      continue;
    }
    const std::string task_name = peek_string(task, "name").value_or("");
    auto replicas = get_int(task, "replicas", child(tp, "replicas"), errs);
    if (replicas && *replicas < 0) errs.invalid(child(tp, "replicas"), *replicas, "must be greater than or equal to 0");
    auto task_min = get_int(task, "minAvailable", child(tp, "minAvailable"), errs);
    if (task_min && *task_min < 0) {
      errs.invalid(child(tp, "minAvailable"), *task_min, "must be greater than or equal to 0");
    } else if (task_min && *task_min > replicas.value_or(0)) {
      errs.invalid(child(tp, "minAvailable"), *task_min, "'minAvailable' must be <= 'replicas' in task: " + task_name);
    }
    total_replicas += std::max<int64_t>(0, replicas.value_or(0));
  }
  auto min_available = get_int(*spec, "minAvailable", "spec.minAvailable", errs);
  if (min_available && *min_available < 0) {
    errs.invalid("spec.minAvailable", *min_available, "must be greater than or equal to 0");
  } else if (min_available && *min_available > total_replicas) {
    errs.invalid("spec.minAvailable", *min_available, "job 'minAvailable' must not be greater than total replicas");
  }
  validate_network_topology(*spec, "spec.networkTopology", errs);

  const json* old_tasks = member(*old_spec, "tasks");
  std::size_t n_new = tasks ? tasks->size() : 0;
  std::size_t n_old = old_tasks && old_tasks->is_array() ? old_tasks->size() : 0;
  if (n_new != n_old) {
    errs.forbidden("spec.tasks", "job updates may not add or remove tasks");
    return;
  }
  // Everything but the mutable fields must be equal: copy those from old, then compare.
  json a = *spec;
  json b = *old_spec;
  overlay(a, b, "minAvailable");
  overlay(a, b, "priorityClassName");
  for (std::size_t i = 0; i < n_new; ++i) {
    if (!a["tasks"][i].is_object() || !b["tasks"][i].is_object()) continue;
    overlay(a["tasks"][i], b["tasks"][i], "replicas");
    overlay(a["tasks"][i], b["tasks"][i], "minAvailable");
  }
  drop_generated_claim_names(a);
  drop_generated_claim_names(b);
  if (a != b) {
    errs.forbidden("spec",
                   "job updates may not change fields other than `minAvailable`, `tasks[*].replicas under spec` "
                   "and `PriorityClassName`");
  }
}

}  // namespace kai::api::admission_detail
