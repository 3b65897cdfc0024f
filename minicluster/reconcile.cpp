// Advancing the local cluster without a daemon: every kai invocation in local mode, and every
// pod supervisor when its process exits, runs reconcile(): controllers, one scheduling
// session and the runtime's bookkeeping, each pass in one store transaction, until a pass
// changes nothing. Processes are started and stopped only after the pass that decided it has
// committed, so a rolled-back pass never leaves a process behind.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "lib/api/duration.h"
#include "lib/api/error.h"
#include "lib/api/quantity.h"
#include "lib/scheduler/model.h"
#include "lib/scheduler/scheduler.h"
#include "minicluster/controller.h"
#include "minicluster/json_fields.h"
#include "minicluster/local_cluster.h"
#include "minicluster/runtime.h"
#include "minicluster/runtime_sys.h"

namespace kai::minicluster {
namespace {

std::string str(const json& o, std::string_view path, const std::string& def = "") { return string_at(o, path, def); }

std::string key_of(const json& o) {
  return o["metadata"].value("namespace", std::string()) + "/" + o["metadata"].value("name", std::string());
}

/// A Go duration in seconds; -1 when invalid.
double parse_go_duration(const std::string& s) { return api::go_duration_seconds(s).value_or(-1); }

std::chrono::system_clock::time_point parse_time(const std::string& s) {
  std::tm tm{};
  std::istringstream in(s);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  if (in.fail()) return std::chrono::system_clock::time_point{};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

/// nvidia.com/gpu the pod asks for (limits, as the device plugin reads them, else requests).
int gpu_request(const json& pod) {
  int n = 0;
  for (const auto& c : pod["spec"].value("containers", json::array())) {
    const json& r = c.value("resources", json::object());
    std::string v;
    if (r.contains("limits") && r["limits"].contains("nvidia.com/gpu")) {
      const json& q = r["limits"]["nvidia.com/gpu"];
      v = q.is_string() ? q.get<std::string>() : q.dump();
    } else if (r.contains("requests") && r["requests"].contains("nvidia.com/gpu")) {
      const json& q = r["requests"]["nvidia.com/gpu"];
      v = q.is_string() ? q.get<std::string>() : q.dump();
    }
    api::Quantity qty;
    if (!v.empty() && api::Quantity::try_parse(v, qty)) n += static_cast<int>(qty.value());
  }
  return n;
}

bool terminal(const json& pod) {
  const std::string ph = str(pod, "/status/phase", "Pending");
  return ph == "Succeeded" || ph == "Failed";
}

/// The scheduler names kai's scheduler answers to.
const std::vector<std::string> kSchedulerNames = {"volcano", "kai"};

}  // namespace

std::filesystem::path LocalCluster::pod_dir(const json& pod) const {
  return home_ / "pods" / pod["metadata"].value("namespace", std::string("default")) /
         (pod["metadata"].value("name", std::string()) + "." + pod["metadata"].value("uid", std::string()));
}

scheduler::Config LocalCluster::scheduler_config() const {
  const auto path = home_ / "scheduler.conf";
  std::ifstream in(path);
  if (!in) return scheduler::default_config();
  std::stringstream ss;
  ss << in.rdbuf();
  return scheduler::parse_config(ss.str(), path.string());
}

/// Applies one session's decisions: binds (node, GPUs, address), PodGroup phases and
/// conditions, events.
void LocalCluster::schedule(ControllerPass& pass) {
  WorkingSet& ws = pass.store;
  const std::vector<const json*> pods = ws.view(api::pods());
  const std::vector<const json*> podgroups = ws.view(api::podgroups());
  bool pending_work = false;
  for (const json* p : pods) {
    if (!(*p)["spec"].contains("nodeName") && !terminal(*p)) {
      pending_work = true;
      break;
    }
  }
  for (const json* pg : podgroups) {
    const std::string ph = str(*pg, "/status/phase", "Pending");
    if (ph == "Pending" || ph == "Inqueue" || ph == "Running" || ph == "Unknown") pending_work = true;
  }
  if (!pending_work) return;
  // A session reads pods, PodGroups, nodes, queues and priority classes. Once one ran in this
  // reconcile and none of those changed since its decisions were applied, another comes to the
  // same result when it decided nothing; and when it did, everything is placed already, so what
  // is left for a session (PodGroup phases and counts of running gangs) reflects that same state.
  // (Of a queue only spec and state count: the queue controller rewrites its PodGroup counts.)
  const auto inputs = [&] {
    std::string queues;
    for (const json* q : ws.view(api::queues())) {
      queues += (*q)["metadata"].value("name", std::string()) + '\n' + q->value("spec", json::object()).dump() + '\n' +
                str(*q, "/status/state") + '\n';
    }
    return LastSessionInputs{ws.mutations(api::pods()) + ws.mutations(api::podgroups()) + ws.mutations(api::nodes()) +
                                 ws.mutations(api::priority_classes()),
                             std::move(queues)};
  };
  if (pass.last_session && pass.last_session->ran && pass.last_session->inputs == inputs()) {
    bool waiting = false;  // pods to place or gangs to admit
    for (const json* p : pods) {
      if (!(*p)["spec"].contains("nodeName") && !terminal(*p)) waiting = true;
    }
    for (const json* pg : podgroups) {
      const std::string ph = str(*pg, "/status/phase", "Pending");
      if (ph == "Pending" || ph == "Inqueue") waiting = true;
    }
    if (!pass.last_session->changed || !waiting) return;
  }
  const int64_t mutations_before = ws.mutations();
  // The session reads the working set's objects in place. Pods being deleted still hold their
  // node's resources, as Releasing tasks.
  scheduler::SnapshotRefs refs;
  refs.nodes = ws.view(api::nodes());
  refs.queues = ws.view(api::queues());
  refs.podgroups = podgroups;
  refs.pods = pods;
  refs.priority_classes = ws.view(api::priority_classes());
  scheduler::Snapshot snap;
  snap.model = scheduler::build_model(refs, "the local cluster");
  const scheduler::SessionResult result = scheduler::run_session(snap, scheduler_config(), kSchedulerNames);

  // Pointers into the working set: an update changes the object they point at.
  std::unordered_map<std::string, const json*> by_key;
  by_key.reserve(pods.size());
  for (const json* p : pods) by_key[key_of(*p)] = p;
  std::map<std::string, const json*> nodes;
  for (const json* n : refs.nodes) nodes[(*n)["metadata"]["name"]] = n;

  // Devices and addresses in use by live pods.
  std::map<std::string, std::set<int>> gpus_used;
  std::set<std::string> ips_used;
  for (const json* pp : pods) {
    const json& p = *pp;
    if (terminal(p) || !p["spec"].contains("nodeName")) continue;
    std::stringstream ids(str(p, "/metadata/annotations/kai.dev~1gpu-ids"));
    for (std::string id; std::getline(ids, id, ',');) {
      if (!id.empty()) gpus_used[p["spec"]["nodeName"]].insert(std::stoi(id));
    }
    if (auto ip = str(p, "/status/podIP"); !ip.empty()) ips_used.insert(ip);
  }
  uint32_t next_ip = 1;
  auto allocate_ip = [&]() {
    // 127.0.1.1 upwards: the whole 127.0.0.0/8 routes to the loopback device.
    while (true) {
      uint32_t n = 256 + next_ip++;
      std::string ip = "127." + std::to_string((n >> 16) & 255) + "." + std::to_string((n >> 8) & 255) + "." +
                       std::to_string(n & 255);
      if ((n & 255) == 0 || (n & 255) == 255) continue;
      if (ips_used.insert(ip).second) return ip;
    }
  };

  for (const auto& [key, node] : result.bound) {
    auto it = by_key.find(key);
    if (it == by_key.end()) continue;
    json pod = *it->second;
    pod["spec"]["nodeName"] = node;
    json& st = pod["status"];
    if (!st.is_object()) st = json::object();
    st["phase"] = "Pending";
    st["podIP"] = allocate_ip();
    st["podIPs"] = json::array({{{"ip", st["podIP"]}}});
    st["hostIP"] = "127.0.0.1";
    st["conditions"] = json::array({{{"type", "PodScheduled"}, {"status", "True"}, {"lastTransitionTime", pass.now}}});
    if (int want = gpu_request(pod); want > 0) {
      int have = 0;
      if (auto n = nodes.find(node); n != nodes.end()) {
        api::Quantity q;
        std::string v = str(*n->second, "/status/allocatable/nvidia.com~1gpu");
        if (!v.empty() && api::Quantity::try_parse(v, q)) have = static_cast<int>(q.value());
      }
      std::string ids;
      auto& used = gpus_used[node];
      for (int g = 0; g < have && want > 0; ++g) {
        if (used.count(g)) continue;
        used.insert(g);
        ids += (ids.empty() ? "" : ",") + std::to_string(g);
        --want;
      }
      pod["metadata"]["annotations"][ann::kGpuIds] = ids;
    }
    if (pod["metadata"].contains("annotations") && pod["metadata"]["annotations"].contains(ann::kSimulateDuration)) {
      // A simulated pod "runs" from its bind on; reconcile ends it when its duration is over.
      st["phase"] = "Running";
      st["startTime"] = pass.now;
      json cs = json::array();
      for (const auto& c : pod["spec"].value("containers", json::array())) {
        cs.push_back({{"name", c.value("name", std::string())},
                      {"ready", true},
                      {"started", true},
                      {"restartCount", 0},
                      {"image", c.value("image", std::string())},
                      {"state", {{"running", {{"startedAt", pass.now}}}}}});
      }
      st["containerStatuses"] = cs;
    }
    pass.events.record(ws.update(api::pods(), pod), "Normal", "Scheduled", "Successfully assigned " + key + " to " + node,
                       "volcano");
  }
  for (const auto& key : result.evicted) {
    auto it = by_key.find(key);
    if (it == by_key.end()) continue;
    const json& pod = *it->second;
    pass.events.record(pod, "Warning", "Evict", "Pod is evicted by the scheduler", "volcano");
    // The job controller applies the job's PodEvicted policy at its next sync.
    if (const auto ref = controlling_job(pod)) {
      if (const json* job = ws.peek(api::jobs(), ref->first, ref->second)) {
        if (auto noted = with_eviction_noted(*job, pod)) ws.update(api::jobs(), std::move(*noted));
      }
    }
    delete_pod(pass, pod);
  }
  // PodGroup phases, conditions and task counts.
  std::map<std::string, std::array<int, 3>> counts;  // running, succeeded, failed
  for (const json* pp : pods) {
    const json& p = *pp;
    // (An evicted pod with no process was deleted just now.)
    if (!result.evicted.empty() && !ws.peek(api::pods(), p["metadata"]["namespace"], p["metadata"]["name"])) continue;
    const std::string group = str(p, "/metadata/annotations/scheduling.k8s.io~1group-name");
    if (group.empty()) continue;
    auto& c = counts[p["metadata"]["namespace"].get<std::string>() + "/" + group];
    const std::string ph = str(p, "/status/phase", "Pending");
    if (ph == "Running") ++c[0];
    if (ph == "Succeeded") ++c[1];
    if (ph == "Failed") ++c[2];
  }
  for (const json* pgp : podgroups) {
    const std::string key = key_of(*pgp);
    const json st = pgp->value("status", json::object());
    json want = st;
    if (auto it = result.podgroup_phases.find(key); it != result.podgroup_phases.end()) want["phase"] = it->second;
    if (auto it = result.podgroup_conditions.find(key); it != result.podgroup_conditions.end()) {
      json cond = it->second;
      json conds = json::array();
      bool same = false;
      for (const auto& c : want.value("conditions", json::array())) {
        if (c.value("type", std::string()) == cond.value("type", std::string()) &&
            c.value("status", std::string()) == cond.value("status", std::string()) &&
            c.value("reason", std::string()) == cond.value("reason", std::string()) &&
            c.value("message", std::string()) == cond.value("message", std::string())) {
          same = true;
          conds.push_back(c);
        } else if (c.value("type", std::string()) != cond.value("type", std::string()) &&
                   !(cond.value("type", std::string()) == "Scheduled" && c.value("type", std::string()) == "Unschedulable") &&
                   !(cond.value("type", std::string()) == "Unschedulable" && c.value("type", std::string()) == "Scheduled")) {
          conds.push_back(c);
        }
      }
      if (!same) {
        cond.erase("transitionID");
        cond["lastTransitionTime"] = pass.now;
        conds.push_back(cond);
      }
      want["conditions"] = conds;
    }
    const auto& c = counts[key];
    want["running"] = c[0];
    want["succeeded"] = c[1];
    want["failed"] = c[2];
    if (want != st) {
      json pg = *pgp;
      pg["status"] = want;
      ws.update(api::podgroups(), pg);
    }
  }
  for (const auto& ev : result.events) {
    json involved = {{"kind", ev.kind}, {"metadata", {{"namespace", ev.ns}, {"name", ev.name}}}};
    involved["apiVersion"] = ev.kind == "PodGroup" ? api::podgroups().api_version() : "v1";
    pass.events.record(involved, ev.type, ev.reason, ev.message, "volcano");
  }
  if (pass.last_session) *pass.last_session = {true, inputs(), ws.mutations() != mutations_before};
}

/// Runtime bookkeeping: simulated pods that are done, pods whose supervisor died, claims that
/// were never taken up.
void LocalCluster::observe_runtime(ControllerPass& pass, std::vector<json>& to_launch, double& wake_in) {
  const auto now = std::chrono::system_clock::now();
  live_jobs_.clear();
  static const json kNone = json::object();
  for (const json* current : pass.store.view(api::pods())) {
    const json& md = (*current)["metadata"];
    if (!terminal(*current)) {
      if (auto refs = md.find("ownerReferences"); refs != md.end() && refs->is_array()) {
        for (const auto& r : *refs) live_jobs_.insert(r.value("uid", std::string()));
      }
    }
    if (!(*current)["spec"].contains("nodeName")) continue;
    auto ann_it = md.find("annotations");
    const json& cur_ann = ann_it != md.end() && ann_it->is_object() ? *ann_it : kNone;
    // Only cheap checks on the working set's object; a copy only for a pod that may change.
    if (terminal(*current) && !md.contains("deletionTimestamp")) continue;
    if (cur_ann.contains(ann::kSimulateDuration) && str(*current, "/status/phase") != "Running" &&
        !md.contains("deletionTimestamp")) {
      continue;
    }
    const bool deleting_now = md.contains("deletionTimestamp");
    if (cur_ann.contains(ann::kSimulateDuration) && !deleting_now) {
      double secs = parse_go_duration(cur_ann.value(ann::kSimulateDuration, std::string()));
      if (secs < 0) secs = 0;
      auto end = parse_time(str(*current, "/status/startTime")) +
                 std::chrono::milliseconds(static_cast<long long>(secs * 1000));
      if (end > now) {
        double left = std::chrono::duration<double>(end - now).count();
        wake_in = wake_in < 0 ? left : std::min(wake_in, left);
        continue;
      }
    } else if (!deleting_now) {
      const std::string sup = cur_ann.value(ann::kSupervisor, std::string());
      if (!sup.empty() && supervisor_alive(sup)) continue;
    }
    json pod = *current;  // `current` may change under an update below; `pod` does not
    const json& a = pod["metadata"].contains("annotations") ? std::as_const(pod)["metadata"]["annotations"] : kNone;
    const bool deleting = pod["metadata"].contains("deletionTimestamp");
    const std::string phase = str(pod, "/status/phase", "Pending");
    if (a.contains(ann::kSimulateDuration)) {
      if (deleting) {
        pass.store.remove(api::pods(), pod["metadata"]["namespace"], pod["metadata"]["name"]);
        continue;
      }
      if (phase != "Running") continue;
      double secs = parse_go_duration(a.value(ann::kSimulateDuration, std::string()));
      if (secs < 0) secs = 0;
      auto end = parse_time(str(pod, "/status/startTime")) +
                 std::chrono::milliseconds(static_cast<long long>(secs * 1000));
      if (end > now) {
        double left = std::chrono::duration<double>(end - now).count();
        wake_in = wake_in < 0 ? left : std::min(wake_in, left);
        continue;
      }
      pod["status"]["phase"] = "Succeeded";
      for (auto& cs : pod["status"]["containerStatuses"]) {
        cs["ready"] = false;
        cs["started"] = false;
        cs["state"] = {{"terminated",
                        {{"exitCode", 0},
                         {"reason", "Completed"},
                         {"startedAt", str(pod, "/status/startTime")},
                         {"finishedAt", pass.now}}}};
      }
      pass.store.update(api::pods(), pod);
      continue;
    }
    if (terminal(pod) && !deleting) continue;
    const std::string sup = a.value(ann::kSupervisor, std::string());
    if (sup.empty()) {
      if (deleting) {
        pass.store.remove(api::pods(), pod["metadata"]["namespace"], pod["metadata"]["name"]);
      } else if (!terminal(pod) && !supervisor_command_.empty()) {
        to_launch.push_back(pod);
      }
      continue;
    }
    if (supervisor_alive(sup)) continue;
    // The supervisor is gone (killed, machine rebooted) or never started.
    runtime::kill_pod_leftovers(pod_dir(pod));
    if (deleting) {
      pass.store.remove(api::pods(), pod["metadata"]["namespace"], pod["metadata"]["name"]);
      continue;
    }
    if (sup.rfind("launching:", 0) == 0) {
      pod["metadata"]["annotations"].erase(ann::kSupervisor);  // relaunched below
      pass.store.update(api::pods(), pod);
      continue;
    }
    pod["status"]["phase"] = "Failed";
    pod["status"]["reason"] = "SupervisorLost";
    pod["status"]["message"] = "the pod's supervisor (" + sup.substr(0, sup.find(':')) +
                               ") exited without reporting; its processes were killed";
    for (auto& cs : pod["status"]["containerStatuses"]) {
      if (cs.contains("state") && cs["state"].contains("terminated")) continue;
      cs["ready"] = false;
      cs["state"] = {{"terminated", {{"exitCode", 137}, {"reason", "Error"}, {"finishedAt", pass.now}}}};
    }
    pass.store.update(api::pods(), pod);
    pass.events.record(pod, "Warning", "SupervisorLost", pod["status"]["message"], "kai-runtime");
  }
}

ReconcileStats LocalCluster::reconcile() {
  ReconcileStats stats;
  const auto started = std::chrono::steady_clock::now();
  std::vector<PodToStop> stops;
  std::vector<json> launches;
  std::set<std::string> job_uids;
  double wake_in = -1;
  // All passes run on one working set; only the final state of what changed is written (a pod
  // made, bound and started here is one row). Optimistically: the passes read one snapshot, so
  // commands that write are not held up while they run, and the result is written only if
  // nobody wrote meanwhile (else it is worked out again on the newer state). After three such
  // misses, passes and write run in one write transaction.
  auto attempt = [&](bool optimistic) -> bool {
    stops.clear();
    launches.clear();
    stats.passes = 0;
    WorkingSet ws(*store_);
    EventRecorder recorder(ws);
    int64_t seen = -1;
    double delayed_at = 0;  // unix seconds: the first delayed policy action due (0 none)
    ControllerPass::LastSession last_session;
    auto passes = [&] {
      seen = store_->current_resource_version();
      const std::string now = now_rfc3339();
      for (int pass_no = 0; pass_no < 20; ++pass_no) {
        const int64_t before = ws.mutations();
        std::vector<json> to_launch;
        ControllerPass pass{ws, recorder, now, {}};
        pass.last_session = &last_session;
        wake_in = -1;
        const auto T0 = std::chrono::steady_clock::now();
        observe_runtime(pass, to_launch, wake_in);
        const auto T1 = std::chrono::steady_clock::now();
        // The first pass looks at every job (time passes, other processes write); later ones only
        // at jobs whose objects the pass before changed.
        std::unordered_set<std::string> touched = ws.take_touched();
        sync_jobs(pass, pass_no == 0 ? nullptr : &touched);
        if (pass.wake_at > 0) delayed_at = delayed_at > 0 ? std::min(delayed_at, pass.wake_at) : pass.wake_at;
        const auto T2 = std::chrono::steady_clock::now();
        schedule(pass);
        const auto T3 = std::chrono::steady_clock::now();
        sync_queues(pass);
        const auto T4 = std::chrono::steady_clock::now();
        using ms = std::chrono::duration<double, std::milli>;
        spdlog::debug("reconcile pass {}: runtime {:.1f} ms, jobs {:.1f} ms, scheduler {:.1f} ms, queues {:.1f} ms", pass_no,
                      ms(T1 - T0).count(), ms(T2 - T1).count(), ms(T3 - T2).count(), ms(T4 - T3).count());
        // Claim the pods this process will start, so a concurrent reconcile does not start them
        // too. (Current copies: the controllers may have changed these pods since.)
        for (const auto& stale : to_launch) {
          const json* cur = ws.peek(api::pods(), stale["metadata"]["namespace"], stale["metadata"]["name"]);
          if (!cur || (*cur)["metadata"].value("uid", std::string()) != stale["metadata"].value("uid", std::string())) continue;
          json pod = *cur;
          if (terminal(pod) || pod["metadata"].contains("deletionTimestamp") ||
              find_field(pod, "/metadata/annotations/kai.dev~1supervisor")) {
            continue;
          }
          pod["metadata"]["annotations"][ann::kSupervisor] = "launching:" + std::to_string(std::time(nullptr));
          launches.push_back(ws.update(api::pods(), pod));
        }
        for (auto& st : pass.stops) stops.push_back(std::move(st));
        ++stats.passes;
        if (ws.mutations() == before) break;
      }
      if (delayed_at > 0) {
        const double left = std::max(0.0, delayed_at - unix_now());
        wake_in = wake_in < 0 ? left : std::min(wake_in, left);
      }
    };
    auto finish = [&] {
      const auto F0 = std::chrono::steady_clock::now();
      stats.written = ws.flush();
      spdlog::debug("reconcile: wrote {} object(s) in {:.1f} ms", stats.written,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - F0).count());
      job_uids.clear();
      for (const json* job : ws.view(api::jobs())) job_uids.insert((*job)["metadata"].value("uid", std::string()));
      // What reconcile_if_needed remembers: the supervisors of pods not finished.
      last_supervisors_.clear();
      for (const json* pod : ws.view(api::pods())) {
        const std::string sup = str(*pod, "/metadata/annotations/kai.dev~1supervisor");
        if (!sup.empty() && !terminal(*pod)) last_supervisors_.push_back(sup);
      }
    };
    if (!optimistic) {
      store_->transact([&] {
        passes();
        finish();
        reconciled_rv_ = store_->current_resource_version();
      });
      return true;
    }
    store_->read_snapshot(passes);
    if (ws.mutations() == 0) {
      finish();  // writes nothing
      reconciled_rv_ = seen;
      return true;
    }
    // reconciled_rv_: the version this reconcile saw. A write committed after it has a later
    // version, so the next command reconciles again.
    bool written = false;
    store_->transact([&] {
      if (store_->current_resource_version() != seen) return;
      finish();
      reconciled_rv_ = store_->current_resource_version();
      written = true;
    });
    if (!written) spdlog::debug("reconcile: the store changed while it ran; again on the newer state");
    return written;
  };
  bool done = false;
  for (int i = 0; i < 3 && !done; ++i) done = attempt(true);
  if (!done) attempt(false);
  for (const auto& pod : launches) {
    try {
      launch_supervisor(pod);
      ++stats.launched;
    } catch (const Error& e) {
      spdlog::warn("cannot start pod {}: {}", key_of(pod), e.what());
    }
  }
  // The supervisor deletes the pod once its processes are gone.
  for (const auto& s : stops) signal_supervisor(s.supervisor);
  // A job network namespace lives while some pod of the job may still run in it.
  std::error_code ec;
  const auto netns_dir = home_ / "run" / "netns";
  if (std::filesystem::is_directory(netns_dir, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(netns_dir, ec)) {
      if (e.path().extension() == ".lock" || live_jobs_.count(e.path().filename().string())) continue;
      runtime::release_job_netns(e.path());
    }
  }
  // A job's own files ($KAI_HOME/jobs/<ns>/<job>.<uid>: its ssh key pair) go with the job.
  const auto jobs_dir = home_ / "jobs";
  if (std::filesystem::is_directory(jobs_dir, ec)) {
    for (const auto& ns_dir : std::filesystem::directory_iterator(jobs_dir, ec)) {
      std::error_code ec2;
      for (const auto& d : std::filesystem::directory_iterator(ns_dir.path(), ec2)) {
        const std::string n = d.path().filename().string();
        const auto dot = n.rfind('.');
        if (dot == std::string::npos || job_uids.count(n.substr(dot + 1))) continue;
        std::filesystem::remove_all(d.path(), ec2);
      }
    }
  }
  stats.wake_in_seconds = wake_in;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::debug("reconcile: {} pass(es), {} pod(s) started, {:.1f} ms", stats.passes, stats.launched,
                stats.seconds * 1000);
  return stats;
}

namespace {

/// $KAI_HOME/reconcile.state: what the last reconcile left, so read-only commands can skip one.
struct ReconcileState {
  int64_t resource_version = -1;
  double wake_at = 0;  ///< unix seconds; 0 = never
  std::vector<std::string> supervisors;
};

ReconcileState read_state(const std::filesystem::path& path) {
  ReconcileState st;
  std::ifstream in(path);
  if (!in) return st;
  try {
    json j = json::parse(in);
    st.resource_version = j.value("resourceVersion", int64_t{-1});
    st.wake_at = j.value("wakeAt", 0.0);
    st.supervisors = j.value("supervisors", std::vector<std::string>{});
  } catch (const std::exception&) {
    st.resource_version = -1;
  }
  return st;
}

}  // namespace

bool LocalCluster::reconcile_needed() const {
  const ReconcileState st = read_state(home_ / "reconcile.state");
  if (st.resource_version != store_->current_resource_version()) return true;
  if (st.wake_at > 0 && unix_now() >= st.wake_at) return true;
  for (const auto& s : st.supervisors) {
    if (!supervisor_alive(s)) return true;
  }
  return false;
}

std::filesystem::path LocalCluster::run_dir(const std::filesystem::path& home) {
  const auto dir = home / "run";
  std::error_code ec;
  if (std::filesystem::create_directory(dir, ec)) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
  }
  return dir;
}

std::filesystem::path LocalCluster::reconcile_lock_path(const std::filesystem::path& home) {
  return run_dir(home) / "reconcile.lock";
}

ReconcileStats LocalCluster::reconcile_if_needed() {
  ReconcileStats skipped;
  skipped.skipped = true;
  if (!reconcile_needed()) return skipped;
  // One reconcile at a time per KAI_HOME: a command that finds one running waits for it and then,
  // usually, has nothing left to do.
  auto lock = runtime::detail::lock_file(reconcile_lock_path(home_));
  if (!reconcile_needed()) return skipped;
  return reconcile_locked();
}

ReconcileStats LocalCluster::reconcile_locked() {
  ReconcileStats stats = reconcile();
  if (store_->compact_changes_if_due(compaction_interval_seconds_, unix_now())) {
    spdlog::debug("compacted the change log up to resourceVersion {}", store_->compacted_resource_version());
  }
  json j = {{"resourceVersion", reconciled_rv_},
            {"wakeAt", stats.wake_in_seconds < 0 ? 0.0 : unix_now() + stats.wake_in_seconds},
            {"supervisors", json::array()}};
  for (const auto& sup : last_supervisors_) j["supervisors"].push_back(sup);
  const auto path = home_ / "reconcile.state";
  const auto tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump();
  }
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace);
  std::filesystem::rename(tmp, path);
  return stats;
}

// Two locks in $KAI_HOME/run: reconcile.lock is held by whoever reconciles; reconcile.queued by
// the one background reconciler waiting for its turn. A writer that finds a reconciler queued
// starts none: that one takes its turn after the write committed (it gives up reconcile.queued
// only once it holds reconcile.lock, before it reads anything), so it sees the write.
int LocalCluster::reconcile_when_turn(int queued_fd) {
  // Only if queued_fd is run/reconcile.queued (run by hand, descriptor 3 may be anything).
  const auto queued_path = run_dir(home_) / "reconcile.queued";
  struct stat fd_st {}, path_st {};
  if (queued_fd >= 0 && (::fstat(queued_fd, &fd_st) != 0 || ::stat(queued_path.c_str(), &path_st) != 0 ||
                         fd_st.st_dev != path_st.st_dev || fd_st.st_ino != path_st.st_ino)) {
    queued_fd = -1;
  }
  runtime::detail::UniqueFd queued(queued_fd);
  if (queued_fd < 0 || ::flock(queued_fd, LOCK_EX | LOCK_NB) != 0) {
    // Not handed one (or not a lock we hold): queue up like a starter would.
    queued = runtime::detail::lock_file(queued_path, /*wait=*/false);
    if (!queued.valid()) return 0;  // another one is queued and will see what this one came for
  }
  int rounds = 0;
  auto lock = runtime::detail::lock_file(reconcile_lock_path(home_));
  queued.reset();
  // Until nothing is left: writes that came while this one ran found no reconciler queued only
  // if they came after it gave up reconcile.queued, so they are this one's to see.
  while (rounds < 50 && reconcile_needed()) {
    reconcile_locked();
    ++rounds;
  }
  // The commands that wrote left the WAL's checkpoint to this one (see set_checkpoint_pages).
  store_->checkpoint();
  return rounds;
}

void LocalCluster::start_background_reconcile(const std::filesystem::path& home, const std::vector<std::string>& command) {
  if (command.empty() || command[0].empty() || command[0][0] != '/') {
    throw Error::invalid("start_background_reconcile: the command needs an absolute path");
  }
  const auto dir = run_dir(home);
  // Taken here and handed over as descriptor 3 (flock belongs to the open file, which the child
  // shares), so the background process is "queued" from the moment it exists.
  auto queued = runtime::detail::lock_file(dir / "reconcile.queued", /*wait=*/false);
  if (!queued.valid()) return;
  runtime::spawn_background(command, dir / "reconcile.log", queued.get());
}

void LocalCluster::wait_for_exit(const std::vector<std::pair<pid_t, uint64_t>>& procs, int timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  for (const auto& [pid, start] : procs) {
    while (std::chrono::steady_clock::now() < deadline) {
      auto cur = runtime::process_start_time(pid);
      if (!cur || *cur != start) break;
      ::usleep(20000);
    }
  }
}

void LocalCluster::wait_for_stopped(int timeout_seconds) { wait_for_exit(take_stopping(), timeout_seconds); }

void LocalCluster::launch_supervisor(const json& pod) {
  std::vector<std::string> argv = supervisor_command_;
  argv.push_back(pod["metadata"]["namespace"]);
  argv.push_back(pod["metadata"]["name"]);
  argv.push_back(pod["metadata"]["uid"]);
  const auto dir = pod_dir(pod);
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  runtime::spawn_detached(argv, dir / "supervisor.log");
}

}  // namespace kai::minicluster
