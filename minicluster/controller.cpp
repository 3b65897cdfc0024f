#include "minicluster/controller.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>
#include <random>
#include <unordered_map>

#include "lib/api/duration.h"
#include "lib/api/error.h"
#include "lib/api/quantity.h"
#include "lib/api/resources.h"
#include "minicluster/job_plugins.h"
#include "minicluster/json_fields.h"
#include "minicluster/runtime.h"

namespace kai::minicluster {
namespace {

const std::string kEmpty;

std::string str(const json& o, std::string_view path, const std::string& def = "") { return string_at(o, path, def); }

int num(const json& o, std::string_view path, int def = 0) {
  const json* v = find_field(o, path);
  return v && v->is_number_integer() ? v->get<int>() : def;
}

json owner_ref(const api::ResourceInfo& res, const json& owner) {
  return {{"apiVersion", res.api_version()},
          {"kind", res.kind},
          {"name", owner["metadata"]["name"]},
          {"uid", owner["metadata"]["uid"]},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

/// Sum of a pod template's container requests (limits where a request is missing).
std::map<std::string, api::Quantity> template_requests(const json& tmpl) {
  std::map<std::string, api::Quantity> out;
  if (!tmpl.contains("spec") || !tmpl["spec"].contains("containers")) return out;
  for (const auto& c : tmpl["spec"]["containers"]) {
    if (!c.contains("resources")) continue;
    const json& res = c["resources"];
    json req = res.contains("requests") ? res["requests"] : json::object();
    if (res.contains("limits") && res["limits"].is_object()) {
      for (auto it = res["limits"].begin(); it != res["limits"].end(); ++it) {
        if (!req.contains(it.key())) req[it.key()] = it.value();
      }
    }
    for (auto it = req.begin(); it != req.end(); ++it) {
      const json& v = it.value();
      api::Quantity q;
      if (v.is_string() && api::Quantity::try_parse(v.get<std::string>(), q)) {
        out[it.key()] += q;
      } else if (v.is_number()) {
        out[it.key()] += api::Quantity::parse(v.dump());
      }
    }
  }
  return out;
}

/// Volcano's phases in which the job is finished (no more pods are made).
bool finished(const std::string& phase) {
  return phase == "Completed" || phase == "Failed" || phase == "Terminated" || phase == "Aborted";
}

/// What happened to one pod since the controller last looked.
struct PodEvent {
  std::string event;  ///< PodFailed, PodEvicted, PodPending, TaskCompleted, Unknown
  std::string task;
  int exit_code = 0;
  std::string pod;
};

/// What the lifecycle policies say to do about an event.
struct PolicyAction {
  std::string action = "SyncJob";
  std::string timeout;  ///< the policy's `timeout` as written ("" = act at once)
};


/// The job controller's view of one job during a sync.
struct JobSync {
  ControllerPass& pass;
  json job;
  /// Pods owned by the job, current version or not: the working set's objects (stable for its
  /// lifetime; an update changes the object in place, a removal leaves it readable but gone).
  std::vector<const json*> pods;
  std::optional<json> podgroup;
  bool job_changed = false;

  std::string ns() const { return job["metadata"]["namespace"]; }
  std::string name() const { return job["metadata"]["name"]; }
  std::string uid() const { return job["metadata"]["uid"]; }
  std::string pg_name() const { return name() + "-" + uid(); }
  std::string phase() const { return str(job, "/status/state/phase"); }
  int version() const { return num(job, "/status/version"); }
  int retry_count() const { return num(job, "/status/retryCount"); }
  int max_retry() const { return job["spec"].value("maxRetry", 3); }
  int min_available() const { return job["spec"].value("minAvailable", 0); }

  int total_replicas() const {
    int n = 0;
    for (const auto& t : job["spec"].value("tasks", json::array())) n += t.value("replicas", 0);
    return n;
  }

  const json* task_spec(const std::string& task) const {
    for (const auto& t : job["spec"]["tasks"]) {
      if (t.value("name", std::string()) == task) return &t;
    }
    return nullptr;
  }

  static std::string pod_task(const json& pod) {
    return str(pod, "/metadata/annotations/volcano.sh~1task-spec");
  }
  static int pod_version(const json& pod) {
    try {
      return std::stoi(str(pod, "/metadata/annotations/volcano.sh~1job-version", "0"));
    } catch (const std::exception&) {
      return 0;
    }
  }
  static bool terminating(const json& pod) { return pod["metadata"].contains("deletionTimestamp"); }
  static std::string pod_phase(const json& pod) { return str(pod, "/status/phase", "Pending"); }

  void set_phase(const std::string& phase, const std::string& reason = "", const std::string& message = "") {
    if (this->phase() == phase) return;
    json& st = job["status"];
    st["state"] = {{"phase", phase}, {"lastTransitionTime", pass.now}};
    if (!reason.empty()) st["state"]["reason"] = reason;
    if (!message.empty()) st["state"]["message"] = message;
    if (!st.contains("conditions") || !st["conditions"].is_array()) st["conditions"] = json::array();
    st["conditions"].push_back({{"status", phase}, {"lastTransitionTime", pass.now}});
    job_changed = true;
  }

  // ---- observing pods --------------------------------------------------------------------

  /// Turns pod phase changes into Volcano's request events (volcano.md §2.6) and remembers the
  /// phase acted on in the pod's kai.dev/observed-phase annotation (for the phases that can start
  /// an action: Failed, Succeeded, and Pending under a policy with a timeout).
  std::vector<PodEvent> observe_pods() {
    std::vector<PodEvent> events;
    // Pods a user deleted (LocalCluster::note_eviction): PodEvicted, unless from an older version.
    if (job["metadata"].contains("annotations") && job["metadata"]["annotations"].contains(ann::kEvictedPods)) {
      json& jann = job["metadata"]["annotations"];
      json list = json::parse(jann[ann::kEvictedPods].is_string() ? jann[ann::kEvictedPods].get<std::string>() : "[]",
                              nullptr, false);
      for (const auto& e : list.is_array() ? list : json::array()) {
        int v = 0;
        try {
          v = std::stoi(e.value("version", std::string("0")));
        } catch (const std::exception&) {
        }
        if (v >= version()) events.push_back({"PodEvicted", e.value("task", std::string()), 0, e.value("pod", std::string())});
      }
      jann.erase(ann::kEvictedPods);
      if (jann.empty()) job["metadata"].erase("annotations");
      job_changed = true;
    }
    for (const json* pp : pods) {
      const json& pod = *pp;
      if (pod_version(pod) < version() || terminating(pod)) continue;  // out of sync: SyncJob only
      const std::string cur = pod_phase(pod);
      const std::string seen = str(pod, "/metadata/annotations/kai.dev~1observed-phase");
      if (cur == seen) continue;
      const std::string task = pod_task(pod);
      if (cur == "Failed") {
        int code = 1;
        const json& cs = pod.value("/status/containerStatuses"_json_pointer, json::array());
        if (!cs.empty()) code = cs[0].value("/state/terminated/exitCode"_json_pointer, 1);
        events.push_back({"PodFailed", task, code, pod["metadata"].value("name", std::string())});
      } else if (cur == "Succeeded") {
        bool all = true;
        int n = 0;
        for (const json* p : pods) {
          if (pod_task(*p) != task || pod_version(*p) < version()) continue;
          ++n;
          if (pod_phase(*p) != "Succeeded") all = false;
        }
        const json* ts = task_spec(task);
        if (all && ts && n >= ts->value("replicas", 0)) events.push_back({"TaskCompleted", task, 0, ""});
      } else if (cur == "Running") {
        // A pod that starts running starts no action (Volcano handles it as an internal event),
        // so there is nothing to remember either: a write per pod start would cost a row and a
        // pass.
        continue;
      } else if (cur == "Pending") {
        // PodPending only matters to a policy with a timeout; without one it is not remembered.
        events.push_back({"PodPending", task, 0, pod["metadata"].value("name", std::string())});
        if (policy_action(events.back()).timeout.empty()) continue;
      }
      json seen_now = pod;
      seen_now["metadata"]["annotations"][ann::kObservedPhase] = cur;
      pass.store.update(api::pods(), std::move(seen_now));  // *pp is the updated pod
    }
    return events;
  }

  /// The action the policies give an event: task-level policies of the pod's task first, then
  /// job-level; the first policy naming the event (or `*`), or the pod's exit code, wins.
  /// PodPending only matches a policy with a timeout (a pod is Pending as it is made).
  PolicyAction policy_action(const PodEvent& ev) const {
    auto match = [&](const json& policies) -> std::optional<PolicyAction> {
      for (const auto& p : policies) {
        const std::string timeout = p.contains("timeout") && p["timeout"].is_string() ? p["timeout"].get<std::string>() : "";
        if (ev.event == "PodPending" && timeout.empty()) continue;
        std::vector<std::string> evs;
        if (p.contains("event") && p["event"].is_string()) evs.push_back(p["event"]);
        for (const auto& e : p.value("events", json::array())) {
          if (e.is_string()) evs.push_back(e);
        }
        for (const auto& e : evs) {
          if (e == ev.event || e == "*") return PolicyAction{p.value("action", std::string()), timeout};
        }
        if (ev.event == "PodFailed" && p.contains("exitCode") && p["exitCode"].is_number_integer() &&
            p["exitCode"].get<int>() == ev.exit_code) {
          return PolicyAction{p.value("action", std::string()), timeout};
        }
      }
      return std::nullopt;
    };
    if (const json* ts = task_spec(ev.task)) {
      if (auto a = match(ts->value("policies", json::array()))) return *a;
    }
    if (auto a = match(job["spec"].value("policies", json::array()))) return *a;
    return {};
  }

  // ---- delayed actions --------------------------------------------------------------------
  // A policy with a `timeout` delays its action (volcano.md §2.6). Waiting actions live in the
  // job's kai.dev/delayed-actions annotation (there is no controller process to keep them):
  // [{"event","action","task","pod","phase","timeout","at"(unix seconds),"version"}]. One is
  // cancelled when its pod changes phase (PodEvicted: when a pod of that name runs again) or
  // the job moves to another version; otherwise it runs once `at` has passed.

  json delayed() const {
    const json& a = job["metadata"].value("annotations", json::object());
    if (!a.contains(ann::kDelayedActions) || !a[ann::kDelayedActions].is_string()) return json::array();
    json list = json::parse(a[ann::kDelayedActions].get<std::string>(), nullptr, false);
    return list.is_array() ? list : json::array();
  }

  void set_delayed(const json& list) {
    const json before = delayed();
    if (list == before) return;
    json& md = job["metadata"];
    if (list.empty()) {
      if (md.contains("annotations")) {
        md["annotations"].erase(ann::kDelayedActions);
        if (md["annotations"].empty()) md.erase("annotations");
      }
    } else {
      md["annotations"][ann::kDelayedActions] = list.dump();
    }
    job_changed = true;
  }

  void delay(const PodEvent& ev, const PolicyAction& pa) {
    const double seconds = api::go_duration_seconds(pa.timeout).value_or(0);  // admission checked it
    json list = delayed();
    for (const auto& d : list) {
      if (d.value("pod", std::string()) == ev.pod && d.value("event", std::string()) == ev.event) return;  // waiting already
    }
    const std::string phase = ev.event == "PodFailed" ? "Failed" : ev.event == "PodPending" ? "Pending" : "";
    list.push_back({{"event", ev.event},
                    {"action", pa.action},
                    {"task", ev.task},
                    {"pod", ev.pod},
                    {"phase", phase},
                    {"timeout", pa.timeout},
                    {"at", unix_now() + seconds},
                    {"version", version()}});
    set_delayed(list);
    pass.events.record(job, "Normal", "ExecuteAction", "Execute action " + pa.action + " after " + pa.timeout);
  }

  /// The first delayed action that is due (removed from the list), after dropping cancelled
  /// ones; notes when the next one is due in pass.wake_at.
  std::optional<json> due_delayed_action() {
    json list = delayed();
    if (list.empty()) return std::nullopt;
    if (finished(phase())) {
      set_delayed(json::array());
      return std::nullopt;
    }
    auto find_pod = [&](const std::string& name) -> const json* {
      for (const json* p : pods) {
        if ((*p)["metadata"].value("name", std::string()) == name && !terminating(*p)) return p;
      }
      return nullptr;
    };
    const double now = unix_now();
    json keep = json::array();
    std::optional<json> due;
    for (const auto& d : list) {
      if (d.value("version", 0) != version()) continue;  // the job restarted since
      const json* pod = find_pod(d.value("pod", std::string()));
      const std::string want = d.value("phase", std::string());
      if (want.empty()) {
        if (pod && pod_phase(*pod) == "Running") continue;  // the evicted pod runs again
      } else if (!pod || pod_phase(*pod) != want) {
        continue;  // its pod changed phase (or is gone)
      }
      if (!due && now >= d.value("at", 0.0)) {
        due = d;
        continue;
      }
      keep.push_back(d);
      const double at = d.value("at", 0.0);
      if (pass.wake_at <= 0 || at < pass.wake_at) pass.wake_at = at;
    }
    set_delayed(keep);
    return due;
  }

  // ---- killing ----------------------------------------------------------------------------

  /// Volcano's KillJob: deletes the pods not retained (Soft keeps Succeeded and Failed pods),
  /// bumps status.version and deletes the PodGroup.
  void kill_job(bool soft, bool delete_podgroup = true) {
    // On the last retry the finished pods are kept, so their logs and exit codes stay visible.
    const bool keep_finished = soft || retry_count() >= max_retry() - 1;
    bool killed_any = false;
    for (const json* pod : pods) {
      const std::string ph = pod_phase(*pod);
      if (keep_finished && (ph == "Succeeded" || ph == "Failed")) continue;
      if (terminating(*pod)) continue;
      delete_pod(pass, *pod);
      killed_any = true;
    }
    if (killed_any || !soft) {
      job["status"]["version"] = version() + 1;
      job_changed = true;
    }
    reload_pods();
    if (delete_podgroup && podgroup) {
      pass.store.remove(api::podgroups(), ns(), pg_name());
      podgroup.reset();
    }
  }

  /// Kills the pods of one task (RestartTask) or one pod (RestartPod); the PodGroup stays.
  void kill_target(const std::string& task, const std::string& pod_name) {
    for (const json* pod : pods) {
      if (terminating(*pod)) continue;
      if (!pod_name.empty() ? (*pod)["metadata"]["name"] != pod_name : pod_task(*pod) != task) continue;
      delete_pod(pass, *pod);
    }
    reload_pods();
  }

  void reload_pods() {
    std::vector<const json*> fresh;
    for (const json* p : pods) {
      if (const json* cur = pass.store.peek(api::pods(), ns(), (*p)["metadata"]["name"])) fresh.push_back(cur);
    }
    pods = std::move(fresh);
  }

  // ---- creating ---------------------------------------------------------------------------

  void ensure_podgroup() {
    if (!podgroup) podgroup = pass.store.create(api::podgroups(), make_podgroup(job));
  }

  /// Whether a task's dependsOn are satisfied: each named task has at least its minAvailable
  /// pods Running or Succeeded (`iteration: any`: one of them suffices).
  bool dependencies_met(const json& task) const {
    if (!task.contains("dependsOn")) return true;
    const json& dep = task["dependsOn"];
    const bool any = dep.value("iteration", std::string()) == "any";
    bool any_met = false, all_met = true;
    for (const auto& dn : dep.value("name", json::array())) {
      const json* ds = task_spec(dn.get<std::string>());
      if (!ds) continue;
      int need = ds->value("minAvailable", ds->value("replicas", 0));
      int have = 0;
      for (const json* p : pods) {
        if (pod_task(*p) == dn && (pod_phase(*p) == "Running" || pod_phase(*p) == "Succeeded")) ++have;
      }
      if (have >= need) {
        any_met = true;
      } else {
        all_met = false;
      }
    }
    return any ? any_met : all_met;
  }

  /// Volcano's SyncJob: PodGroup first; pods only once the PodGroup left Pending; surplus and
  /// out-of-date pods deleted.
  void sync_pods() {
    ensure_podgroup();
    const std::string pg_phase = str(*podgroup, "/status/phase");
    // Out of date (older job version) or surplus pods go.
    bool deleted = false;
    for (const json* pp : pods) {
      const json& pod = *pp;
      if (terminating(pod)) continue;
      const std::string task = pod_task(pod);
      const json* ts = task_spec(task);
      int index = -1;
      try {
        index = std::stoi(str(pod, "/metadata/annotations/volcano.sh~1task-index", "-1"));
      } catch (const std::exception&) {
      }
      const bool stale = pod_version(pod) < version() && !finished_pod(pod);
      if (!ts || index >= ts->value("replicas", 0) || stale) {
        delete_pod(pass, pod);
        deleted = true;
      }
    }
    if (deleted) reload_pods();
    if (pg_phase.empty() || pg_phase == "Pending") return;
    std::set<std::string> have;
    for (const json* p : pods) have.insert((*p)["metadata"]["name"].get<std::string>());
    std::vector<json> to_create;
    const auto& tasks = job["spec"]["tasks"];
    for (std::size_t ti = 0; ti < tasks.size(); ++ti) {
      const json& task = tasks[ti];
      if (!dependencies_met(task)) continue;
      const std::string tname = task.value("name", std::string());
      for (int i = 0; i < task.value("replicas", 0); ++i) {
        const std::string pname = name() + "-" + tname + "-" + std::to_string(i);
        if (have.count(pname)) continue;
        to_create.push_back(make_pod(task, i));
      }
    }
    for (auto& p : to_create) {
      const std::string pname = p["metadata"]["name"];
      pods.push_back(&pass.store.create(api::pods(), std::move(p)));
    }
    if (!to_create.empty()) {
      pass.events.record(job, "Normal", "SuccessfulCreate",
                         "Created " + std::to_string(to_create.size()) + " pod(s) for job " + name());
    }
  }

  static bool finished_pod(const json& pod) {
    const std::string ph = pod_phase(pod);
    return ph == "Succeeded" || ph == "Failed";
  }

  /// A pod from a task's template with what Volcano's job controller adds (volcano.md §2.3).
  json make_pod(const json& task, int index) {
    const std::string tname = task.value("name", std::string());
    const json tmpl = task.value("template", json::object());
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
    pod["metadata"] = tmpl.value("metadata", json::object());
    json& md = pod["metadata"];
    md.erase("creationTimestamp");
    md["name"] = name() + "-" + tname + "-" + std::to_string(index);
    md["namespace"] = ns();
    md["ownerReferences"] = json::array({owner_ref(api::jobs(), job)});
    const std::string queue = job["spec"].value("queue", std::string("default"));
    json& a = md["annotations"];
    if (!a.is_object()) a = json::object();
    a["volcano.sh/task-index"] = std::to_string(index);
    a["volcano.sh/task-spec"] = tname;
    a["scheduling.k8s.io/group-name"] = pg_name();
    a["volcano.sh/job-name"] = name();
    a["volcano.sh/queue-name"] = queue;
    a["volcano.sh/job-version"] = std::to_string(version());
    a["volcano.sh/template-uid"] = name() + "-" + tname;
    a["volcano.sh/job-retry-count"] = std::to_string(retry_count());
    const json& job_ann = job["metadata"].value("annotations", json::object());
    const json& job_labels = job["metadata"].value("labels", json::object());
    for (const char* k : {"volcano.sh/preemptable", "volcano.sh/cooldown-time", "volcano.sh/revocable-zone",
                          "volcano.sh/jdb-min-available", "volcano.sh/jdb-max-unavailable", ann::kSimulateDuration,
                          ann::kWorkingDir}) {
      if (job_ann.contains(k) && !a.contains(k)) a[k] = job_ann[k];
    }
    json& l = md["labels"];
    if (!l.is_object()) l = json::object();
    l["volcano.sh/task-index"] = std::to_string(index);
    l["volcano.sh/job-name"] = name();
    l["volcano.sh/task-spec"] = tname;
    l["volcano.sh/job-namespace"] = ns();
    l["volcano.sh/queue-name"] = queue;
    for (const char* k : {"volcano.sh/preemptable", "volcano.sh/cooldown-time"}) {
      if (job_labels.contains(k) && !l.contains(k)) l[k] = job_labels[k];
    }
    pod["spec"] = tmpl.value("spec", json::object());
    json& spec = pod["spec"];
    if (!spec.contains("schedulerName") || spec["schedulerName"] == "") {
      spec["schedulerName"] = job["spec"].value("schedulerName", std::string("volcano"));
    }
    if (!spec.contains("priorityClassName") && job["spec"].contains("priorityClassName")) {
      spec["priorityClassName"] = job["spec"]["priorityClassName"];
    }
    if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
    if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
    apply_job_plugins(job, tname, index, pod);
    pod["status"] = {{"phase", "Pending"}};
    return pod;
  }

  // ---- status -------------------------------------------------------------------------------

  struct Counts {
    int pending = 0, running = 0, succeeded = 0, failed = 0, terminating = 0, unknown = 0;
    json task_status = json::object();
  };

  Counts count() const {
    Counts c;
    for (const json* pp : pods) {
      const json& pod = *pp;
      if (terminating(pod)) {
        ++c.terminating;
        continue;
      }
      if (pod_version(pod) < version() && !finished_pod(pod)) continue;
      const std::string ph = pod_phase(pod);
      if (ph == "Pending") ++c.pending;
      else if (ph == "Running") ++c.running;
      else if (ph == "Succeeded") ++c.succeeded;
      else if (ph == "Failed") ++c.failed;
      else ++c.unknown;
      json& t = c.task_status[pod_task(pod)]["phase"];
      t[ph] = (t.is_object() && t.contains(ph) ? t[ph].get<int>() : 0) + 1;
    }
    return c;
  }

  void write_counts(const Counts& c) {
    json& st = job["status"];
    auto set = [&](const char* k, const json& v) {
      if (!st.contains(k) || st[k] != v) {
        st[k] = v;
        job_changed = true;
      }
    };
    set("pending", c.pending);
    set("running", c.running);
    set("succeeded", c.succeeded);
    set("failed", c.failed);
    set("terminating", c.terminating);
    set("unknown", c.unknown);
    set("minAvailable", min_available());
    set("taskStatusCount", c.task_status);
  }

  // ---- the state machine (volcano.md §2.7) --------------------------------------------------

  void restart(const std::string& action, const std::string& task, const std::string& pod_name) {
    // Volcano counts the retry after the kill, so the last retry's kill keeps finished pods.
    if (action == "RestartJob") {
      kill_job(false);
    } else {
      kill_target(task, pod_name);
    }
    job["status"]["retryCount"] = retry_count() + 1;
    set_phase("Restarting", action, "");
    pass.events.record(job, "Normal", "ExecuteAction", "Start to execute action " + action);
  }

  void execute(const std::string& action, const std::string& task, const std::string& pod_name) {
    const std::string ph = phase();
    const bool is_restart =
        action == "RestartJob" || action == "RestartTask" || action == "RestartPod" || action == "RestartPartition";
    if (ph == "Pending" || ph == "Running") {
      if (is_restart) return restart(action, task, pod_name);
      if (action == "AbortJob") return kill_job(true), set_phase("Aborting", action);
      if (action == "CompleteJob") return kill_job(true), set_phase("Completing", action);
      if (action == "TerminateJob") return kill_job(true), set_phase("Terminating", action);
      sync_pods();
      const Counts c = count();
      write_counts(c);
      if (ph == "Pending") {
        if (min_available() <= c.running + c.succeeded + c.failed) set_phase("Running");
        return;
      }
      running_phase(c);
      return;
    }
    if (ph == "Restarting") {
      if (action == "RestartTask" || action == "RestartPod" || action == "RestartPartition") {
        kill_target(task, pod_name);
      } else if (action == "SyncJob") {
        sync_pods();
      } else {
        kill_job(false);
      }
      const Counts c = count();
      write_counts(c);
      if (retry_count() >= max_retry()) {
        set_phase("Failed", "", "the job was restarted " + std::to_string(retry_count()) + " time(s) (maxRetry " +
                                    std::to_string(max_retry()) + ")");
      } else if (total_replicas() - c.terminating >= num(job, "/status/minAvailable")) {
        set_phase("Pending");
      }
      return;
    }
    if (ph == "Aborting" || ph == "Aborted") {
      if (action == "ResumeJob") {
        job["status"]["retryCount"] = retry_count() + 1;
        kill_job(true);
        return set_phase("Restarting", action);
      }
      kill_job(true);
      const Counts c = count();
      write_counts(c);
      if (ph == "Aborting" && c.terminating == 0 && c.pending == 0 && c.running == 0) set_phase("Aborted");
      return;
    }
    if (ph == "Completing" || ph == "Terminating") {
      kill_job(true);
      const Counts c = count();
      write_counts(c);
      if (c.terminating == 0 && c.pending == 0 && c.running == 0) {
        set_phase(ph == "Completing" ? "Completed" : "Terminated");
      }
      return;
    }
    // Completed, Terminated, Failed: finished. Kill what still runs (Soft), keep the phase.
    if (finished(ph)) {
      bool alive = false;
      for (const json* p : pods) alive = alive || (!finished_pod(*p) && !terminating(*p));
      if (alive || podgroup) kill_job(true, true);
      write_counts(count());
    }
  }

  void running_phase(const Counts& c) {
    const int total = total_replicas();
    if (total == 0) return;
    const json& spec = job["spec"];
    const bool has_min_success = spec.contains("minSuccess") && spec["minSuccess"].is_number_integer();
    const int min_success = has_min_success ? spec["minSuccess"].get<int>() : 0;
    if (has_min_success && c.succeeded >= min_success) return set_phase("Completed");
    if (c.succeeded + c.failed == total) {
      int task_min_sum = 0;
      for (const auto& t : spec["tasks"]) task_min_sum += t.value("minAvailable", t.value("replicas", 0));
      if (min_available() >= task_min_sum) {
        for (const auto& t : spec["tasks"]) {
          if (!t.contains("minAvailable")) continue;
          const std::string tn = t.value("name", std::string());
          int ok = c.task_status.contains(tn) ? c.task_status[tn]["phase"].value("Succeeded", 0) : 0;
          if (ok < t["minAvailable"].get<int>()) return set_phase("Failed", "", "task " + tn + " did not succeed");
        }
      }
      if (has_min_success && c.succeeded < min_success) return set_phase("Failed");
      if (c.succeeded >= min_available()) return set_phase("Completed");
      return set_phase("Failed");
    }
    if (c.pending > total - min_available()) set_phase("Pending");
  }

  void sync(const std::vector<std::pair<std::string, json>>& commands) {
    std::string action = "SyncJob", task, pod_name;
    // An explicit action (a Command) wins; then policies for what happened to pods.
    if (!commands.empty()) {
      action = commands.front().first;
      pass.events.record(job, "Normal", "CommandIssued", "Start to execute command " + action + ", and clean it up to make sure executed not more than once.");
    } else {
      for (const auto& ev : observe_pods()) {
        const PolicyAction pa = policy_action(ev);
        const std::string& a = pa.action;
        if (a == "SyncJob") continue;
        if (!pa.timeout.empty()) {
          delay(ev, pa);
          continue;
        }
        action = a;
        task = ev.task;
        if (ev.event == "PodFailed") {
          pass.events.record(job, "Warning", "PodFailed",
                             "Task " + ev.task + " had a pod fail with exit code " + std::to_string(ev.exit_code) +
                                 "; policy action " + a);
        } else if (ev.event == "PodEvicted") {
          pass.events.record(job, "Warning", "PodEvicted",
                             "Pod " + ev.pod + " of task " + ev.task + " was deleted; policy action " + a);
        }
        break;
      }
      if (action == "SyncJob") {
        if (auto d = due_delayed_action()) {
          action = d->value("action", std::string("SyncJob"));
          task = d->value("task", std::string());
          const std::string ev = d->value("event", std::string());
          const std::string pod = d->value("pod", std::string());
          pass.events.record(job, "Warning", ev,
                             (ev == "PodPending" ? "Pod " + pod + " of task " + task + " stayed Pending"
                              : ev == "PodFailed" ? "Pod " + pod + " of task " + task + " stayed Failed"
                                                  : "Pod " + pod + " of task " + task + " did not run again") +
                                 " for " + d->value("timeout", std::string()) + "; policy action " + action);
        }
      }
    }
    execute(action, task, pod_name);
    // Record the gang's wait on the job, as Volcano's controller does (PodGroupPending).
    if (podgroup) {
      const json* pg = pass.store.peek(api::podgroups(), ns(), pg_name());
      if (!pg) pg = &*podgroup;
      static const json kNoConditions = json::array();
      const auto* status = pg->contains("status") ? &(*pg)["status"] : nullptr;
      const json& conds = status && status->contains("conditions") ? (*status)["conditions"] : kNoConditions;
      for (const auto& cond : conds) {
        if (cond.value("type", std::string()) == "Unschedulable" && cond.value("status", std::string()) == "True") {
          pass.events.record(job, "Warning", "PodGroupPending",
                             "PodGroup " + ns() + ":" + pg_name() +
                                 " unschedulable, reason: " + cond.value("message", std::string()));
        }
      }
    }
    if (job_changed) pass.store.update(api::jobs(), job);
  }
};

}  // namespace

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

EventRecorder::EventRecorder(WorkingSet& s) : store_(s) {}

void EventRecorder::record(const json& involved, const std::string& type, const std::string& reason,
                           const std::string& message, const std::string& component) {
  const json& md = involved["metadata"];
  const std::string ns = md.value("namespace", std::string("default"));
  const std::string name = md.value("name", std::string());
  const std::string kind = involved.value("kind", std::string());
  // FNV-1a, 64 bits, over what makes two events the same.
  uint64_t h = 1469598103934665603ULL;
  for (const std::string& part : {kind, ns, name, md.value("uid", std::string()), reason, message}) {
    for (unsigned char c : part) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;  // separator
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  const std::string ev_name = name + "." + hex;
  if (store_.peek(api::events(), ns, ev_name)) return;
  const std::string now = now_rfc3339();
  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", ev_name}, {"namespace", ns}}},
             {"involvedObject",
              {{"apiVersion", involved.value("apiVersion", std::string())},
               {"kind", kind},
               {"name", name},
               {"namespace", ns},
               {"uid", md.value("uid", std::string())}}},
             {"reason", reason},
             {"message", message},
             {"type", type},
             {"count", 1},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"source", {{"component", component}}},
             {"reportingComponent", component}};
  store_.create(api::events(), std::move(ev));
}

bool supervisor_alive(const std::string& annotation) {
  if (annotation.empty()) return false;
  if (annotation.rfind("launching:", 0) == 0) {
    // A reconcile claimed the pod and is starting its supervisor: alive for a grace period.
    try {
      long long since = std::stoll(annotation.substr(10));
      return std::time(nullptr) - since < 30;
    } catch (const std::exception&) {
      return false;
    }
  }
  auto p = parse_supervisor(annotation);
  if (!p) return false;
  auto cur = runtime::process_start_time(p->pid);
  return cur && *cur == p->start_time;
}

std::optional<SupervisorProcess> parse_supervisor(const std::string& annotation) {
  auto colon = annotation.find(':');
  if (annotation.rfind("launching:", 0) == 0 || colon == std::string::npos) return std::nullopt;
  try {
    return SupervisorProcess{static_cast<pid_t>(std::stol(annotation.substr(0, colon))),
                             std::stoull(annotation.substr(colon + 1))};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void delete_pod(ControllerPass& pass, json pod) {
  const std::string sup = str(pod, "/metadata/annotations/kai.dev~1supervisor");
  const std::string ns = pod["metadata"]["namespace"], name = pod["metadata"]["name"];
  if (!sup.empty() && supervisor_alive(sup)) {
    if (!pod["metadata"].contains("deletionTimestamp")) {
      pod["metadata"]["deletionTimestamp"] = pass.now;
      pod["metadata"]["deletionGracePeriodSeconds"] = pod["spec"].value("terminationGracePeriodSeconds", 30);
      pass.store.update(api::pods(), pod);
    }
    pass.stops.push_back({ns, name, sup});
    return;
  }
  pass.store.remove(api::pods(), ns, name);
}

std::optional<std::pair<std::string, std::string>> controlling_job(const json& pod) {
  const json& md = pod["metadata"];
  for (const auto& ref : md.value("ownerReferences", json::array())) {
    if (ref.value("kind", std::string()) != "Job" || !ref.value("controller", false)) continue;
    return std::pair{md.value("namespace", std::string("default")), ref.value("name", std::string())};
  }
  return std::nullopt;
}

std::optional<json> with_eviction_noted(json job, const json& pod) {
  const std::string phase = string_at(pod, "/status/phase", "Pending");
  if (phase == "Succeeded" || phase == "Failed") return std::nullopt;
  const json& md = pod["metadata"];
  std::string owner_uid;
  for (const auto& ref : md.value("ownerReferences", json::array())) {
    if (ref.value("kind", std::string()) == "Job" && ref.value("controller", false)) owner_uid = ref.value("uid", std::string());
  }
  if (job["metadata"].value("uid", std::string()) != owner_uid) return std::nullopt;
  json& ann = job["metadata"]["annotations"];
  if (!ann.is_object()) ann = json::object();
  json list = json::array();
  if (ann.contains(ann::kEvictedPods) && ann[ann::kEvictedPods].is_string()) {
    list = json::parse(ann[ann::kEvictedPods].get<std::string>(), nullptr, false);
    if (!list.is_array()) list = json::array();
  }
  const json& pann = md.value("annotations", json::object());
  list.push_back({{"pod", md.value("name", std::string())},
                  {"task", pann.value("volcano.sh/task-spec", std::string())},
                  {"version", pann.value("volcano.sh/job-version", std::string("0"))}});
  ann[ann::kEvictedPods] = list.dump();
  return job;
}

std::map<std::string, std::vector<std::string>> job_hosts(const json& job) {
  std::map<std::string, std::vector<std::string>> out;
  const std::string jname = job["metadata"]["name"];
  for (const auto& t : job["spec"].value("tasks", json::array())) {
    const std::string tname = t.value("name", std::string());
    auto& hosts = out[tname];
    const std::string fixed = t.value("/template/spec/hostname"_json_pointer, std::string());
    if (!fixed.empty()) {
      hosts.push_back(fixed);
      continue;
    }
    for (int i = 0; i < t.value("replicas", 0); ++i) hosts.push_back(jname + "-" + tname + "-" + std::to_string(i) + "." + jname);
  }
  return out;
}

json make_podgroup(const json& job) {
  const json& spec = job["spec"];
  const int min_available = spec.value("minAvailable", 0);
  json min_task = json::object();
  std::map<std::string, api::Quantity> min_resources;
  int counted = 0;
  // minResources: the requests of the first minAvailable pods (tasks in spec order).
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
  const std::string name = job["metadata"]["name"];
  json pg = {{"apiVersion", api::podgroups().api_version()},
             {"kind", "PodGroup"},
             {"metadata",
              {{"name", name + "-" + job["metadata"]["uid"].get<std::string>()},
               {"namespace", job["metadata"]["namespace"]},
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
  return pg;
}

void sync_jobs(ControllerPass& pass, const std::unordered_set<std::string>* only) {
  std::vector<json> jobs;
  for (const json* j : pass.store.view(api::jobs())) {
    if (only && !only->count((*j)["metadata"].value("uid", std::string()))) continue;
    jobs.push_back(*j);
  }
  if (jobs.empty()) return;
  // Index pods, podgroups and commands once per pass (pointers into the working set; each
  // job's sync copies its own).
  std::unordered_map<std::string, std::vector<const json*>> pods_by_owner;
  for (const json* p : pass.store.view(api::pods())) {
    const json& md = (*p)["metadata"];
    auto refs = md.find("ownerReferences");
    if (refs == md.end() || !refs->is_array()) continue;
    for (const auto& r : *refs) {
      if (r.value("kind", std::string()) == "Job") pods_by_owner[r.value("uid", std::string())].push_back(p);
    }
  }
  std::unordered_map<std::string, const json*> pgs;
  for (const json* pg : pass.store.view(api::podgroups())) {
    pgs[(*pg)["metadata"]["namespace"].get<std::string>() + "/" + (*pg)["metadata"]["name"].get<std::string>()] = pg;
  }
  std::map<std::string, std::vector<std::pair<std::string, json>>> commands;
  for (auto& c : pass.store.list(api::commands())) {
    const json& t = c.value("target", json::object());
    if (t.value("kind", std::string()) != "Job") continue;
    commands[c["metadata"]["namespace"].get<std::string>() + "/" + t.value("name", std::string())].push_back(
        {c.value("action", std::string()), c});
  }
  for (auto& job : jobs) {
    const std::string ns = job["metadata"]["namespace"], name = job["metadata"]["name"];
    const std::string uid = job["metadata"]["uid"];
    std::vector<const json*> pods;
    if (auto it = pods_by_owner.find(uid); it != pods_by_owner.end()) pods = it->second;
    JobSync js{pass, job, std::move(pods), std::nullopt};
    if (auto it = pgs.find(ns + "/" + name + "-" + uid); it != pgs.end()) js.podgroup = *it->second;
    auto& cmds = commands[ns + "/" + name];
    // Volcano's controller deletes a Command before running it, so it runs at most once.
    for (const auto& [a, c] : cmds) pass.store.remove(api::commands(), ns, c["metadata"]["name"]);
    js.sync(cmds);
  }
}

void sync_queues(ControllerPass& pass) {
  std::map<std::string, std::map<std::string, int>> counts;
  for (const auto& pg : pass.store.list(api::podgroups())) {
    const std::string q = str(pg, "/spec/queue", "default");
    const std::string ph = str(pg, "/status/phase", "Pending");
    counts[q][ph]++;
  }
  for (auto q : pass.store.list(api::queues())) {
    const std::string qname = q["metadata"]["name"];
    const auto& c = counts[qname];
    auto get = [&](const char* ph) {
      auto it = c.find(ph);
      return it == c.end() ? 0 : it->second;
    };
    json st = q.value("status", json::object());
    json want = st;
    want["pending"] = get("Pending");
    want["running"] = get("Running");
    want["inqueue"] = get("Inqueue");
    want["unknown"] = get("Unknown");
    want["completed"] = get("Completed");
    if (!want.contains("state")) want["state"] = "Open";
    if (want["state"] == "Closing" && c.empty()) want["state"] = "Closed";
    if (want != st) {
      q["status"] = want;
      pass.store.update(api::queues(), q);
    }
  }
}

}  // namespace kai::minicluster
