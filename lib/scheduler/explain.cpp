#include "lib/scheduler/explain.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "lib/api/error.h"
#include "lib/api/quantity.h"
#include "lib/scheduler/model.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

constexpr const char* kNotReady = "node(s) were not ready";
constexpr const char* kOutOfSync = "node(s) had pods requesting more than they allocate";

/// A dimension's value as Kubernetes writes it: memory in bytes (binary suffixes), cpu and
/// scalar resources in milli-units.
std::string quantity(const std::string& dim, double v) {
  if (dim == "memory") return api::Quantity::from_int(std::llround(v), api::Quantity::Format::BinarySI).canonical();
  return api::Quantity::from_milli(std::llround(v)).canonical();
}

/// The dimensions a Resource holds (cpu and memory always, scalars when present).
/// With `skip_zero` (a queue's capability or guarantee, where 0 means not set) zeros are left out.
std::map<std::string, std::string> quantities(const SnapshotModel& m, const Resource& r, bool skip_zero = false) {
  std::map<std::string, std::string> out;
  for (int d = 0; d < r.dims() && d < m.dim_count(); ++d) {
    if (!r.has(d) || (skip_zero && r.get(d) < kMinResource)) continue;
    out[m.dims[static_cast<std::size_t>(d)]] = quantity(m.dims[static_cast<std::size_t>(d)], r.get(d));
  }
  return out;
}

/// "cpu 16/memory 64Gi/nvidia.com/gpu 16", cpu and memory first.
std::string resource_text(const std::map<std::string, std::string>& r) {
  std::string out;
  auto add = [&](const std::string& k, const std::string& v) { out += (out.empty() ? "" : "/") + k + " " + v; };
  for (const char* first : {"cpu", "memory"}) {
    if (auto it = r.find(first); it != r.end()) add(it->first, it->second);
  }
  for (const auto& [k, v] : r) {
    if (k != "cpu" && k != "memory") add(k, v);
  }
  return out.empty() ? "none" : out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep = ", ") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

/// kube-scheduler's filter order (NodeUnschedulable, TaintToleration, NodeAffinity, then
/// NodeResourcesFit: pod count before resources): a node's first failing predicate.
int kube_rank(const std::string& r) {
  if (r == kNotReady || r == kOutOfSync) return 0;
  if (r == "node(s) were unschedulable") return 1;
  if (r.rfind("node(s) had untolerated taint", 0) == 0) return 2;
  if (r.rfind("node(s) didn't match", 0) == 0) return 3;
  if (r == "Too many pods") return 4;
  if (r.rfind("Insufficient ", 0) == 0) return 5;
  return 6;
}

/// kube-scheduler's message: `0/<n> nodes are available: <count> <reason>, ... .`, the entries
/// sorted as strings (its sortReasonsHistogram).
std::string fit_message(int nodes, const std::map<std::string, int>& reasons) {
  if (nodes == 0) return "no nodes available to schedule pods";
  std::vector<std::string> parts;
  for (const auto& [r, n] : reasons) parts.push_back(std::to_string(n) + " " + r);
  std::sort(parts.begin(), parts.end());
  return "0/" + std::to_string(nodes) + " nodes are available: " + join(parts) + ".";
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

/// Everything the sessions tell about one task's placement.
struct FitReport {
  std::string message;
  std::map<std::string, int> reasons;
  std::vector<NodeReason> nodes;
};

/// Each node's first failing predicate for task t in the session's current state, with the
/// model's nodes the session left out (not Ready, or pods requesting more than they allocate).
FitReport fit_report(Session& s, int t) {
  FitReport out;
  std::vector<char> in_session(s.model.nodes.size(), 0);
  for (int n = 0; n < static_cast<int>(s.nodes.size()); ++n) {
    in_session[static_cast<std::size_t>(s.node(n).model)] = 1;
    std::vector<std::string> rs;
    for (int d : s.future_idle_shortfall(t, n)) rs.push_back("Insufficient " + s.model.dims[static_cast<std::size_t>(d)]);
    if (const uint32_t id = s.predicate(t, n); id != 0) {
      for (const auto& r : s.reasons(id)) rs.push_back(kube_reason(r));
    }
    if (rs.empty()) continue;
    std::stable_sort(rs.begin(), rs.end(), [](const std::string& a, const std::string& b) { return kube_rank(a) < kube_rank(b); });
    out.nodes.push_back({s.mnode(n).name, rs.front()});
  }
  for (std::size_t i = 0; i < s.model.nodes.size(); ++i) {
    if (!in_session[i]) out.nodes.push_back({s.model.nodes[i].name, s.model.nodes[i].ready ? kOutOfSync : kNotReady});
  }
  std::sort(out.nodes.begin(), out.nodes.end(), [](const NodeReason& a, const NodeReason& b) { return a.node < b.node; });
  for (const auto& nr : out.nodes) out.reasons[nr.reason]++;
  out.message = fit_message(static_cast<int>(s.model.nodes.size()), out.reasons);
  return out;
}

/// The configuration with `action` run right after allocate (or the other eviction action),
/// as Volcano's "enqueue, allocate, preempt, reclaim, backfill".
Config with_action(const Config& config, const std::string& action) {
  Config c = config;
  if (contains(c.actions, action)) return c;
  std::size_t at = c.actions.size();
  for (std::size_t i = 0; i < c.actions.size(); ++i) {
    if (c.actions[i] == "allocate" || c.actions[i] == "preempt" || c.actions[i] == "reclaim") at = i + 1;
  }
  c.actions.insert(c.actions.begin() + static_cast<std::ptrdiff_t>(at), action);
  return c;
}

void run_actions(Session& s, const Config& c, const Registry& registry) {
  s.open(registry);
  for (const auto& a : c.actions) s.run_action(a, registry);
}

/// The preempt or reclaim what-if: a session with the action added; the victims evicted on the
/// nodes where the job's pods were then pipelined.
EvictionExplanation what_if(const SnapshotModel& model, const Config& config, const ExplainOptions& o, int mj,
                            const std::string& action, bool enqueued, int32_t waiting, bool starving) {
  EvictionExplanation e;
  e.action = action;
  e.configured = contains(config.actions, action);
  const Registry& registry = builtin_registry();
  if (registry.action(action) == nullptr) {
    e.message = "not available (kai does not implement the " + action + " action yet)";
    return e;
  }
  e.available = true;
  const Config c = with_action(config, action);
  Session w(model, c, o.session);
  run_actions(w, c, registry);
  const int j = w.job_of_model[static_cast<std::size_t>(mj)];
  e.job_pipelined = w.job_pipelined(j);
  const int32_t job_priority = w.job(j).priority;
  const int job_queue = w.job(j).queue;
  const SessionResult r = w.close();

  std::set<std::string> nodes;
  for (int t : w.job(j).tasks) {
    if (auto it = r.pipelined.find(w.mtask(t).key); it != r.pipelined.end()) {
      nodes.insert(it->second);
      ++e.pipelined;
    }
  }
  std::map<std::string, int> task_of;
  for (std::size_t i = 0; i < model.tasks.size(); ++i) task_of[model.tasks[i].key] = static_cast<int>(i);
  bool lower = true, same_queue = true, same_job = true;
  std::set<std::string> queues;
  for (const auto& key : r.evicted) {
    auto it = task_of.find(key);
    if (it == task_of.end()) continue;
    const ModelTask& mt = model.tasks[static_cast<std::size_t>(it->second)];
    if (!nodes.count(mt.node_name)) continue;
    EvictionExplanation::Victim v;
    v.pod = key;
    v.node = mt.node_name;
    if (mt.job >= 0) {
      const ModelJob& vj = model.jobs[static_cast<std::size_t>(mt.job)];
      v.podgroup = vj.key;
      v.queue = vj.queue;
      v.priority = vj.priority;
      if (mt.job != mj) {
        lower = lower && vj.priority < job_priority;
        same_job = false;
      }
      same_queue = same_queue && vj.queue_index == job_queue;
      queues.insert(vj.queue);
    }
    e.victims.push_back(std::move(v));
  }
  if (!e.victims.empty()) {
    std::vector<std::string> names;
    for (const auto& v : e.victims) names.push_back(v.pod);
    std::string why;
    if (same_job) {
      why = "lower priority tasks of the same job";
    } else {
      why = lower ? "lower priority, " : "";
      why += same_queue ? "same queue" : "queue " + join(std::vector<std::string>(queues.begin(), queues.end()));
    }
    e.message = "would evict " + join(names) + " (" + why + "); the job would then " +
                (e.job_pipelined ? "be pipelined" : "still not be pipelined");
  } else if (!enqueued) {
    e.message = "would not help: the PodGroup is not enqueued (" + action + " acts only for Inqueue or Running jobs)";
  } else if (waiting == 0) {
    e.message = "not needed: no pod of the job is pending";
  } else if (!starving) {
    e.message = "would not act: the job has minAvailable tasks placed (" + action + " acts only for jobs below it)";
  } else if (action == "preempt") {
    e.message = "would not help: no lower-priority pods of the same queue can be evicted to make room";
  } else {
    e.message = "would not help: no pods of other reclaimable queues over their deserved share can be evicted to make room";
  }
  if (e.configured) e.message += "; the configuration runs " + action;
  return e;
}

json resources_json(const std::map<std::string, std::string>& r) {
  json out = json::object();
  for (const auto& [k, v] : r) out[k] = v;
  return out;
}

json eviction_json(const EvictionExplanation& e) {
  json victims = json::array();
  for (const auto& v : e.victims) {
    victims.push_back({{"pod", v.pod}, {"podGroup", v.podgroup}, {"queue", v.queue}, {"node", v.node}, {"priority", v.priority}});
  }
  return {{"action", e.action},         {"available", e.available}, {"configured", e.configured},
          {"victims", victims},         {"pipelined", e.pipelined}, {"jobPipelined", e.job_pipelined},
          {"message", e.message}};
}

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string plural(int32_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string kube_reason(const std::string& reason) {
  if (reason == "node(s) pod number exceeded") return "Too many pods";
  return reason;
}

Explanation explain_job(const Snapshot& snapshot, const Config& config, const std::string& podgroup_key,
                        const ExplainOptions& options) {
  std::shared_ptr<const SnapshotModel> model_ptr = snapshot.model;
  if (!model_ptr) model_ptr = build_model(snapshot, "snapshot");
  const SnapshotModel& model = *model_ptr;
  const Registry& registry = builtin_registry();
  for (const auto& a : config.actions) {
    if (registry.action(a) == nullptr) {
      throw Error::invalid("scheduler configuration: actions: " +
                           (volcano_action_not_supported(a) ? "action \"" + a + "\" is not supported yet"
                                                            : "failed to find Action " + a));
    }
  }
  int mj = -1;
  for (std::size_t i = 0; i < model.jobs.size(); ++i) {
    if (model.jobs[i].key == podgroup_key) mj = static_cast<int>(i);
  }
  if (mj < 0) throw Error::not_found("podgroup " + podgroup_key + " is not in the snapshot");
  const ModelJob& job = model.jobs[static_cast<std::size_t>(mj)];

  Explanation ex;
  ex.job = options.job;
  ex.podgroup = job.key;
  ex.queue = job.queue;
  ex.phase = job.phase;
  ex.min_available = job.min_member;

  // ---- roles, from the pods as the snapshot has them ----
  auto role_of = [&ex](const std::string& name) -> RoleExplanation& {
    for (auto& r : ex.roles) {
      if (r.name == name) return r;
    }
    ex.roles.push_back(RoleExplanation{});
    ex.roles.back().name = name;
    return ex.roles.back();
  };
  for (const auto& [name, replicas] : options.job_tasks) role_of(name).replicas = replicas;
  for (const auto& [name, min] : job.min_task_member) role_of(name).min_available = min;
  for (int t : job.tasks) {
    const ModelTask& mt = model.tasks[static_cast<std::size_t>(t)];
    RoleExplanation& r = role_of(mt.role);
    ++r.pods;
    switch (mt.status) {
      case TaskStatus::Pending:
      case TaskStatus::Pipelined:
        ++r.pending;
        break;
      case TaskStatus::Succeeded:
        ++r.succeeded;
        break;
      case TaskStatus::Failed:
        ++r.failed;
        break;
      case TaskStatus::Releasing:
        ++r.releasing;
        break;
      default:
        if (allocated_status(mt.status)) ++r.running;
        break;
    }
  }
  for (auto& r : ex.roles) r.replicas = std::max(r.replicas, r.pods);
  std::sort(ex.roles.begin(), ex.roles.end(), [](const RoleExplanation& a, const RoleExplanation& b) { return a.name < b.name; });
  int32_t total_pods = 0, replicas = 0, pending = 0, running = 0, finished = 0;
  for (const auto& r : ex.roles) {
    total_pods += r.pods;
    replicas += r.replicas;
    pending += r.pending;
    running += r.running;
    finished += r.succeeded + r.failed;
  }

  // ---- the queue, as the spec says ----
  QueueExplanation& qi = ex.queue_info;
  qi.name = job.queue;
  if (job.queue_index >= 0) {
    const ModelQueue& q = model.queues[static_cast<std::size_t>(job.queue_index)];
    qi.exists = true;
    qi.state = q.state;
    qi.weight = q.weight;
    qi.reclaimable = q.reclaimable;
    if (q.has_capability) qi.capability = quantities(model, q.capability, true);
    if (q.has_guarantee) qi.guarantee = quantities(model, q.guarantee, true);
  }

  auto pod_info = [&](const ModelTask& mt) {
    Explanation::PodInfo p;
    p.name = mt.key;
    p.role = mt.role;
    p.status = status_name(mt.status);
    p.node = mt.node_name;
    p.outcome = mt.node_name.empty() ? p.status : p.status + " on " + mt.node_name;
    return p;
  };
  int highlight = -1;
  if (!options.pod.empty()) {
    for (int t : job.tasks) {
      if (model.tasks[static_cast<std::size_t>(t)].key == options.pod) highlight = t;
    }
    if (highlight >= 0) ex.pod = pod_info(model.tasks[static_cast<std::size_t>(highlight)]);
  }

  if (job.queue_index < 0) {
    ex.reason = "QueueNotFound";
    ex.message = "queue \"" + job.queue + "\" does not exist";
    ex.enqueue_message = ex.message;
    for (auto* e : {&ex.preemption, &ex.reclaim}) {
      e->action = e == &ex.preemption ? "preempt" : "reclaim";
      e->available = registry.action(e->action) != nullptr;
      e->configured = contains(config.actions, e->action);
      e->message = "would not help: the PodGroup's queue does not exist";
    }
    return ex;
  }

  // ---- the next cycle, as the cluster would run it ----
  Session s(model, config, options.session);
  s.open(registry);
  const int j = s.job_of_model[static_cast<std::size_t>(mj)];
  const int q = job.queue_index;
  if (auto share = s.queue_share(q)) {
    qi.plugin = share->plugin;
    if (share->hierarchy.empty()) qi.deserved = quantities(model, share->deserved);  // hDRF has none
    qi.allocated = quantities(model, share->allocated);
    qi.share = share->share;
    qi.hierarchy = share->hierarchy;
    qi.hierarchy_weights = share->hierarchy_weights;
  } else {
    Resource allocated = model.empty_resource();
    for (const JobState& js : s.jobs) {
      if (js.queue == q) allocated.add(js.allocated);
    }
    qi.allocated = quantities(model, allocated);
    // No plugin computed a share (capacity, say, or none): the queue's own spec.deserved.
    if (model.queues[static_cast<std::size_t>(q)].has_deserved) {
      qi.deserved = quantities(model, model.queues[static_cast<std::size_t>(q)].deserved, true);
    }
  }
  qi.overused = s.overused(q);
  std::vector<int> waiting;  // the job's pending tasks in task order
  for (int t : s.job(j).tasks) {
    if (s.task(t).status == TaskStatus::Pending) waiting.push_back(t);
  }
  std::stable_sort(waiting.begin(), waiting.end(), [&s](int l, int r) { return s.task_order_less(l, r); });
  ex.ready = s.job(j).ready_num();

  for (const auto& a : config.actions) s.run_action(a, registry);
  ex.enqueued = !s.job(j).is_pending();
  if (auto v = s.job_valid(j)) ex.valid_message = v->message;
  int32_t bound_now = 0;
  std::map<int, std::string> outcome;  // task -> what the cycle or the dry allocation did
  for (int t : waiting) {
    const TaskState& ts = s.task(t);
    RoleExplanation& r = role_of(model.tasks[static_cast<std::size_t>(t)].role);
    if (ts.status == TaskStatus::Binding || ts.status == TaskStatus::Allocated) {
      ++r.placeable;
      bound_now += ts.status == TaskStatus::Binding;
      outcome[t] = "placeable on " + s.mnode(ts.node).name;
    } else if (ts.status == TaskStatus::Pipelined) {
      ++r.pipelinable;
      outcome[t] = "pipelinable on " + s.mnode(ts.node).name + " once resources are released";
    }
  }
  const SessionResult cycle = s.close();
  for (const auto& e : cycle.events) {
    if (e.kind == "PodGroup" && e.ns == job.ns && e.name == job.name && e.type == "Normal" && e.reason == "Unschedulable") {
      if (ex.enqueue_message.empty()) ex.enqueue_message = e.message;
    }
  }
  if (auto c = cycle.podgroup_conditions.find(job.key); c != cycle.podgroup_conditions.end() && c->second.value("type", std::string()) == "Unschedulable") {
    ex.scheduler_message = c->second.value("message", std::string());
  }
  if (!ex.enqueued && ex.enqueue_message.empty()) {
    ex.enqueue_message = qi.state != "Open" ? "queue " + qi.name + " is " + qi.state : "rejected by JobEnqueueable";
  }

  // ---- the dry allocation: the job's tasks still pending, one after another ----
  {
    Statement dry(s);
    for (int t : waiting) {
      if (s.task(t).status != TaskStatus::Pending) continue;
      RoleExplanation& r = role_of(model.tasks[static_cast<std::size_t>(t)].role);
      const int n = s.find_node(t, SearchMode::Allocate, nullptr);
      if (n >= 0 && !s.allocatable(q, t)) {
        // allocate would skip it: the queue's share, not the nodes, holds it back.
        ++r.queue_limited;
        outcome[t] = "fits " + s.mnode(n).name + " but not queue " + qi.name + "'s deserved share";
        continue;
      }
      if (n >= 0 && s.fits_idle(t, n)) {
        dry.allocate(t, n);
        ++r.placeable;
        outcome[t] = "placeable on " + s.mnode(n).name;
        continue;
      }
      if (n >= 0) {
        dry.pipeline(t, n);
        ++r.pipelinable;
        outcome[t] = "pipelinable on " + s.mnode(n).name + " once resources are released";
        continue;
      }
      const bool first = r.unplaced_pod.empty();
      if (first || t == highlight) {
        FitReport fr = fit_report(s, t);
        outcome[t] = "fits no node: " + fr.message;
        if (first) {
          r.unplaced_pod = model.tasks[static_cast<std::size_t>(t)].key;
          r.message = std::move(fr.message);
          r.reasons = std::move(fr.reasons);
          r.nodes = std::move(fr.nodes);
        }
      } else {
        outcome[t] = "fits no node";
      }
    }
    dry.discard();
  }
  if (highlight >= 0 && ex.pod) {
    if (auto it = outcome.find(highlight); it != outcome.end()) ex.pod->outcome = it->second;
  }

  int32_t placeable = 0, pipelinable = 0, unplaced = 0, queue_limited = 0;
  // Volcano checks each role's minTaskMember only when minAvailable covers their sum (a job's
  // tasks default minAvailable to their replicas, so a smaller job minAvailable overrides them).
  int32_t min_task_total = 0;
  for (const auto& r : ex.roles) min_task_total += r.min_available;
  const bool role_minimums = ex.min_available >= min_task_total;
  std::vector<std::string> short_roles;
  for (auto& r : ex.roles) {
    r.unplaced = r.pending - r.placeable - r.pipelinable - r.queue_limited;
    queue_limited += r.queue_limited;
    placeable += r.placeable;
    pipelinable += r.pipelinable;
    unplaced += r.unplaced;
    // (With one role the job's own count already says it.)
    if (role_minimums && ex.roles.size() > 1 && r.min_available > 0 && r.running + r.succeeded + r.placeable < r.min_available) {
      short_roles.push_back("task " + (r.name.empty() ? std::string("(no role)") : r.name) + ": " +
                            std::to_string(r.running + r.succeeded + r.placeable) + "/" + std::to_string(r.pods) +
                            " placeable, minAvailable " + std::to_string(r.min_available));
    }
  }
  ex.placeable = ex.ready + placeable;
  qi.allocatable = queue_limited == 0;
  ex.pipelinable = pipelinable;

  // ---- the verdict: the first thing that stops the job ----
  const std::string gang = std::to_string(ex.placeable) + "/" + std::to_string(total_pods) + " tasks placeable" +
                           (pipelinable > 0 ? " (" + std::to_string(pipelinable) + " more once resources are released)" : "") +
                           ", minAvailable " + std::to_string(ex.min_available) +
                           (short_roles.empty() ? "" : "; " + join(short_roles, "; "));
  const bool pending_phase = ex.phase == "Pending" || ex.phase.empty();
  if (pending_phase && !ex.enqueued) {
    ex.reason = qi.state != "Open" ? "QueueClosed" : "NotEnqueued";
    ex.message = qi.state != "Open" ? "queue " + qi.name + " is " + qi.state + ": it admits no new jobs"
                                    : "not enqueued: " + ex.enqueue_message;
  } else if (!ex.valid_message.empty()) {
    ex.reason = "GangInvalid";
    ex.message = ex.valid_message;
    if (total_pods < replicas || total_pods < ex.min_available) {
      ex.message += pending_phase ? " (the next cycle admits the PodGroup; its pods are created then)"
                                  : " (" + plural(total_pods, "pod exists", "pods exist") + " of " +
                                        std::to_string(std::max(replicas, ex.min_available)) + ")";
    }
  } else if (pending == 0 && total_pods >= replicas) {
    ex.reason = finished == total_pods && total_pods > 0 ? "Completed" : "Running";
    ex.message = ex.reason == "Completed" ? "all " + std::to_string(total_pods) + " tasks finished"
                                          : "all " + std::to_string(total_pods) + " tasks placed";
  } else if (bound_now > 0 && s.job(j).is_ready()) {
    ex.reason = "Schedulable";
    ex.message = "the next cycle binds " + plural(bound_now, "pod", "pods");
  } else if (qi.state != "Open" && pending > 0) {
    ex.reason = "QueueClosed";
    ex.message = "queue " + qi.name + " is " + qi.state + ": its pending pods get no node";
  } else if (qi.overused && pending > 0) {
    ex.reason = "QueueOverused";
    ex.message = "queue " + qi.name + " is overused: allocated " + resource_text(qi.allocated) + " reaches deserved " +
                 resource_text(qi.deserved);
  } else if (queue_limited > 0) {
    ex.reason = "QueueDeservedExceeded";
    ex.message = "queue " + qi.name + " would exceed its deserved " + resource_text(qi.deserved) + " (allocated " +
                 resource_text(qi.allocated) + "): " + plural(queue_limited, "pending pod fits", "pending pods fit") +
                 " a node but not the queue's share";
  } else if (ex.placeable < ex.min_available || !short_roles.empty()) {
    if (ex.placeable + pipelinable >= ex.min_available && short_roles.empty()) {
      ex.reason = "Pipelined";
      ex.message = "waiting for resources being released: " + gang;
    } else {
      ex.reason = "GangNotReady";
      ex.message = "gang not ready: " + gang;
    }
  } else if (unplaced > 0) {
    ex.reason = "PartlyPlaced";
    ex.message = "partly placed: " + std::to_string(running) + "/" + std::to_string(total_pods) + " tasks running, minAvailable " +
                 std::to_string(ex.min_available) + "; " + plural(unplaced, "pending pod fits", "pending pods fit") + " no node";
  } else {
    ex.reason = "Schedulable";
    ex.message = "schedulable now: " + gang;
  }

  // ---- what preempt and reclaim would do for it ----
  const int32_t still_waiting = unplaced + pipelinable + queue_limited;
  if (options.what_if) {
    // Volcano's gang JobStarving: fewer ready tasks than minAvailable (or than a role's minimum).
    bool starving = ex.ready < ex.min_available;
    for (const auto& r : ex.roles) starving = starving || (role_minimums && r.running + r.succeeded < r.min_available);
    ex.preemption = what_if(model, config, options, mj, "preempt", ex.enqueued, still_waiting, starving);
    ex.reclaim = what_if(model, config, options, mj, "reclaim", ex.enqueued, still_waiting, starving);
  } else {
    for (auto* e : {&ex.preemption, &ex.reclaim}) {
      e->action = e == &ex.preemption ? "preempt" : "reclaim";
      e->available = registry.action(e->action) != nullptr;
      e->configured = contains(config.actions, e->action);
      e->message = "not evaluated";
    }
  }
  return ex;
}

json Explanation::to_json() const {
  json tasks = json::array();
  for (const auto& r : roles) {
    json nodes_json = json::object();
    for (const auto& n : r.nodes) nodes_json[n.node] = n.reason;
    json reasons_json = json::object();
    for (const auto& [k, v] : r.reasons) reasons_json[k] = v;
    tasks.push_back({{"name", r.name},
                     {"minAvailable", r.min_available},
                     {"replicas", r.replicas},
                     {"pods", r.pods},
                     {"running", r.running},
                     {"succeeded", r.succeeded},
                     {"failed", r.failed},
                     {"releasing", r.releasing},
                     {"pending", r.pending},
                     {"placeable", r.placeable},
                     {"pipelinable", r.pipelinable},
                     {"queueLimited", r.queue_limited},
                     {"unplaced", r.unplaced},
                     {"unplacedPod", r.unplaced_pod},
                     {"message", r.message},
                     {"reasons", reasons_json},
                     {"nodes", nodes_json}});
  }
  const QueueExplanation& qi = queue_info;
  json out = {{"job", job},
              {"podGroup", podgroup},
              {"queue", queue},
              {"phase", phase},
              {"reason", reason},
              {"message", message},
              {"enqueue", {{"admitted", enqueued}, {"message", enqueue_message}}},
              {"gang",
               {{"minAvailable", min_available},
                {"ready", ready},
                {"placeable", placeable},
                {"pipelinable", pipelinable},
                {"validMessage", valid_message}}},
              {"schedulerMessage", scheduler_message},
              {"tasks", tasks},
              {"queueStatus",
               {{"name", qi.name},
                {"exists", qi.exists},
                {"state", qi.state},
                {"weight", qi.weight},
                {"reclaimable", qi.reclaimable},
                {"plugin", qi.plugin},
                {"deserved", resources_json(qi.deserved)},
                {"allocated", resources_json(qi.allocated)},
                {"capability", resources_json(qi.capability)},
                {"guarantee", resources_json(qi.guarantee)},
                {"share", qi.share},
                {"hierarchy", qi.hierarchy},
                {"hierarchyWeights", qi.hierarchy_weights},
                {"overused", qi.overused},
                {"allocatable", qi.allocatable}}},
              {"preemption", eviction_json(preemption)},
              {"reclaim", eviction_json(reclaim)},
              {"pod", nullptr}};
  if (pod) {
    out["pod"] = {{"name", pod->name}, {"role", pod->role}, {"status", pod->status}, {"node", pod->node}, {"outcome", pod->outcome}};
  }
  return out;
}

std::string Explanation::text() const {
  std::string out;
  const auto slash = podgroup.find('/');
  const std::string pg_name = slash == std::string::npos ? podgroup : podgroup.substr(slash + 1);
  const std::string head = job.empty() ? "PodGroup " + podgroup + " (queue " + queue + ")"
                                       : "Job " + job + " (PodGroup " + pg_name + ", queue " + queue + ")";
  out += head + ": " + (phase.empty() ? "Pending" : phase) + " \u2014 " + message + "\n";
  if (pod) {
    out += "Pod " + pod->name + (pod->role.empty() ? "" : " (task " + pod->role + ")") + ": " + pod->outcome + "\n";
  }
  if (phase == "Pending" || phase.empty()) {
    out += "Enqueue: " + (enqueued ? std::string("admitted by the next cycle (Inqueue)") : "rejected: " + enqueue_message) + "\n";
  }
  out += "Gang: " + std::to_string(ready) + " ready of minAvailable " + std::to_string(min_available) + "\n";
  int32_t min_task_total = 0;  // role minimums count only when minAvailable covers their sum
  for (const auto& r : roles) min_task_total += r.min_available;
  for (const auto& r : roles) {
    std::string line = r.name.empty() ? "Pods without a task role" : "Task " + r.name;
    if (r.min_available > 0 && min_available >= min_task_total) line += " (minAvailable " + std::to_string(r.min_available) + ")";
    std::vector<std::string> parts;
    if (r.pods < r.replicas) {
      parts.push_back(std::to_string(r.replicas - r.pods) + " of " + std::to_string(r.replicas) +
                      (r.replicas - r.pods == 1 ? " pod not created yet" : " pods not created yet"));
    }
    if (r.running > 0) parts.push_back(std::to_string(r.running) + " running");
    if (r.succeeded > 0) parts.push_back(std::to_string(r.succeeded) + " succeeded");
    if (r.failed > 0) parts.push_back(std::to_string(r.failed) + " failed");
    if (r.releasing > 0) parts.push_back(std::to_string(r.releasing) + " releasing");
    if (r.pending > 0) {
      parts.push_back(std::to_string(r.pending) + " pending");
      parts.push_back(std::to_string(r.placeable) + " could be placed now");
      if (r.pipelinable > 0) parts.push_back(std::to_string(r.pipelinable) + " once resources are released");
      if (r.queue_limited > 0) parts.push_back(std::to_string(r.queue_limited) + " held back by the queue's deserved share");
    }
    out += line + ": " + (parts.empty() ? std::string("no pods") : join(parts)) + "\n";
    if (!r.message.empty()) out += "  " + r.message + "\n";
  }
  const QueueExplanation& qi = queue_info;
  if (!qi.exists) {
    out += "Queue " + qi.name + ": does not exist\n";
  } else {
    out += "Queue " + qi.name + ": " + qi.state + ", weight " + std::to_string(qi.weight);
    if (!qi.capability.empty()) out += ", capability " + resource_text(qi.capability);
    if (!qi.guarantee.empty()) out += ", guarantee " + resource_text(qi.guarantee);
    if (qi.plugin.empty()) {
      if (!qi.deserved.empty()) out += ", deserved " + resource_text(qi.deserved) + " (spec)";
      out += ", allocated " + resource_text(qi.allocated) + (qi.overused ? ", overused" : ", not overused") +
             " (no configured plugin reports a share)";
    } else if (!qi.hierarchy.empty()) {
      out += ", allocated " + resource_text(qi.allocated) + ", hDRF share " + fixed2(qi.share) + " at " + qi.hierarchy +
             " (weights " + qi.hierarchy_weights + ")" + (qi.overused ? ", overused" : ", not overused");
    } else {
      out += ", deserved " + resource_text(qi.deserved) + ", allocated " + resource_text(qi.allocated) + ", share " +
             fixed2(qi.share) + (qi.overused ? ", overused" : ", not overused");
    }
    out += "\n";
  }
  out += "Preemption: " + preemption.message + "\n";
  out += "Reclaim: " + reclaim.message + "\n";
  return out;
}

}  // namespace kai::scheduler
