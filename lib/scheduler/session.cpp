#include "lib/scheduler/session.h"

#include <algorithm>
#include <cmath>

#include "lib/api/error.h"

namespace kai::scheduler {
namespace {

constexpr int idx(TaskStatus s) { return static_cast<int>(s); }

bool terminated(TaskStatus s) { return s == TaskStatus::Succeeded || s == TaskStatus::Failed; }

/// The allocated statuses and Succeeded, per role or job counters.
int32_t allocated_or_succeeded(const std::array<int32_t, kTaskStatusCount>& c) {
  return c[idx(TaskStatus::Bound)] + c[idx(TaskStatus::Binding)] + c[idx(TaskStatus::Running)] +
         c[idx(TaskStatus::Allocated)] + c[idx(TaskStatus::Succeeded)];
}

std::string join_sorted(std::vector<std::string> parts) {
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

// ---- FitErrors ----

std::string FitErrors::message() const {
  const std::string head = err.empty() ? "0/" + std::to_string(nodes) + " nodes are unavailable" : err;
  if (nodes == 0 || !reasons || reasons->empty()) return head;
  std::vector<std::string> parts;
  for (const auto& [reason, n] : *reasons) parts.push_back(std::to_string(n) + " " + reason);
  return head + ": " + join_sorted(std::move(parts)) + ".";
}

// ---- JobState: Volcano's JobInfo counters and gang checks ----

int32_t JobState::ready_num() const { return allocated_or_succeeded(count); }

int32_t JobState::valid_num() const {
  return allocated_or_succeeded(count) + count[idx(TaskStatus::Pipelined)] + count[idx(TaskStatus::Pending)];
}

bool JobState::check_task_valid() const {
  if (min_available < min_task_total) return true;
  for (const auto& r : roles) {
    if (r.min == 0) continue;
    if (allocated_or_succeeded(r.count) + r.count[idx(TaskStatus::Pipelined)] + r.count[idx(TaskStatus::Pending)] < r.min) {
      return false;
    }
  }
  return true;
}

bool JobState::check_task_ready() const {
  if (min_available < min_task_total) return true;
  for (const auto& r : roles) {
    if (allocated_or_succeeded(r.count) + r.pending_best_effort < r.min) return false;
  }
  return true;
}

bool JobState::check_task_pipelined() const {
  if (min_available < min_task_total) return true;
  for (const auto& r : roles) {
    if (allocated_or_succeeded(r.count) + r.count[idx(TaskStatus::Pipelined)] + r.pending_best_effort < r.min) return false;
  }
  return true;
}

bool JobState::task_has_fit_errors(int role) const {
  // Volcano's TaskHasFitErrors: a task without a role never uses the cache.
  if (roles[static_cast<std::size_t>(role)].name.empty() || !notes) return false;
  return notes->role_failed(role);
}

const std::string& JobState::job_fit_errors() const {
  static const std::string none;
  return notes ? notes->job_fit_errors : none;
}

const std::optional<Condition>& JobState::condition() const {
  static const std::optional<Condition> none;
  return notes ? notes->condition : none;
}

bool JobState::need_continue_allocating() const {
  // Volcano's NeedContinueAllocating: not when every task is needed; else when the roles that
  // did not fail can still make up minAvailable, or every failed role has its own minimum.
  if (min_available == static_cast<int32_t>(tasks.size())) return false;
  auto failed = [&](std::size_t r) { return notes && notes->role_failed(static_cast<int>(r)); };
  if (min_available < min_task_total) {
    int32_t left = 0;
    for (std::size_t r = 0; r < roles.size(); ++r) {
      if (!failed(r)) left += roles[r].count[idx(TaskStatus::Pending)];
    }
    return ready_num() + left >= min_available;
  }
  for (std::size_t r = 0; r < roles.size(); ++r) {
    if (!failed(r) || roles[r].min == 0) continue;
    if (allocated_or_succeeded(roles[r].count) + roles[r].pending_best_effort < roles[r].min) return false;
  }
  return true;
}

// ---- Session: state ----

Session::Session(const SnapshotModel& m, const Config& c, const SessionOptions& o) : model(m), config(c), options(o) {
  now = std::chrono::duration_cast<std::chrono::nanoseconds>(o.now.time_since_epoch()).count();
  reason_lists_.emplace_back();  // id 0: fits
  for (int d = 0; d < dims(); ++d) {
    insufficient_.push_back(intern_reasons({"Insufficient " + model.dims[static_cast<std::size_t>(d)]}));
  }
  build_state();
}

Session::~Session() = default;

void Session::build_state() {
  const std::size_t model_nodes = model.nodes.size();
  job_of_model.assign(model.jobs.size(), -1);
  jobs.reserve(model.jobs.size());
  for (std::size_t i = 0; i < model.jobs.size(); ++i) {
    const ModelJob& mj = model.jobs[i];
    if (mj.queue_index < 0) continue;  // sim-session.md item 5: left out, phase unchanged
    job_of_model[i] = static_cast<int>(jobs.size());
    JobState& j = jobs.emplace_back();
    j.model = static_cast<int>(i);
    j.queue = mj.queue_index;
    j.phase = mj.phase;
    j.min_available = mj.min_member;
    j.priority = mj.priority;
    j.allocated = model.empty_resource();
  }

  // One walk over the tasks (a snapshot has many): what the pods on each node use, which tasks
  // take part (a job's, and ours), and how many each job has.
  // Volcano leaves out nodes that are not Ready and nodes whose pods use more than they
  // allocate (OutOfSync).
  std::vector<Resource> used(model_nodes, model.empty_resource());
  tasks.assign(model.tasks.size(), TaskState{});
  const auto& names = options.scheduler_names;
  std::vector<int> first(jobs.size() + 1, 0);
  for (std::size_t i = 0; i < model.tasks.size(); ++i) {
    const ModelTask& mt = model.tasks[i];
    if (mt.node >= 0 && !terminated(mt.status)) used[static_cast<std::size_t>(mt.node)].add(mt.request);
    if (mt.job < 0 || job_of_model[static_cast<std::size_t>(mt.job)] < 0) continue;
    const bool ours = mt.scheduler_name.empty() || std::find(names.begin(), names.end(), mt.scheduler_name) != names.end();
    if (ours) {
      tasks[i].job = job_of_model[static_cast<std::size_t>(mt.job)];
      first[static_cast<std::size_t>(tasks[i].job) + 1]++;
    }
  }

  std::vector<int> node_of_model(model_nodes, -1);
  nodes.reserve(model_nodes);
  total_resource = model.empty_resource();
  for (std::size_t i = 0; i < model_nodes; ++i) {
    const ModelNode& mn = model.nodes[i];
    if (!mn.ready || !used[i].greater_dims(mn.allocatable, DimDefault::Zero).empty()) continue;
    node_of_model[i] = static_cast<int>(nodes.size());
    NodeState& ns = nodes.emplace_back();
    ns.model = static_cast<int>(i);
    ns.idle = mn.allocatable;
    ns.used = model.empty_resource();
    ns.releasing = model.empty_resource();
    ns.pipelined = model.empty_resource();
    ns.k8s_requested = model.empty_resource();
    total_resource.add(mn.allocatable);
  }
  node_cache_.assign(nodes.size(), NodeCache{});

  // Each job's block of task ids (in snapshot order).
  for (std::size_t j = 0; j < jobs.size(); ++j) first[j + 1] += first[j];
  job_task_ids_.assign(static_cast<std::size_t>(first.back()), 0);
  {
    std::vector<int> at(first.begin(), first.end() - 1);
    for (std::size_t i = 0; i < model.tasks.size(); ++i) {
      if (tasks[i].job >= 0) job_task_ids_[static_cast<std::size_t>(at[static_cast<std::size_t>(tasks[i].job)]++)] = static_cast<int>(i);
    }
  }
  // Each job's roles: its minTaskMember ones, then those its tasks name, in order of appearance.
  role_states_.clear();
  role_states_.reserve(jobs.size());  // mostly one role a job (the spans are set once it is full)
  std::vector<std::size_t> role_first(jobs.size() + 1, 0);
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    role_first[j] = role_states_.size();
    for (const auto& [role, min] : model.jobs[static_cast<std::size_t>(jobs[j].model)].min_task_member) {
      role_states_.push_back(RoleState{role, min, {}, 0});
      jobs[j].min_task_total += min;
    }
    for (int k = first[j]; k < first[j + 1]; ++k) {
      const int t = job_task_ids_[static_cast<std::size_t>(k)];
      const std::string& name = model.tasks[static_cast<std::size_t>(t)].role;
      std::size_t r = role_first[j];
      while (r < role_states_.size() && role_states_[r].name != name) ++r;
      if (r == role_states_.size()) role_states_.push_back(RoleState{name, 0, {}, 0});
      tasks[static_cast<std::size_t>(t)].role = static_cast<int>(r - role_first[j]);
    }
  }
  role_first[jobs.size()] = role_states_.size();
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    jobs[j].tasks = std::span<const int>(job_task_ids_.data() + first[j], static_cast<std::size_t>(first[j + 1] - first[j]));
    jobs[j].roles = std::span<RoleState>(role_states_.data() + role_first[j], role_first[j + 1] - role_first[j]);
  }

  for (std::size_t i = 0; i < model.tasks.size(); ++i) {
    const ModelTask& mt = model.tasks[i];
    TaskState& ts = tasks[i];
    ts.status = mt.status;
    if (ts.job >= 0) {
      JobState& j = jobs[static_cast<std::size_t>(ts.job)];
      RoleState& role = j.roles[static_cast<std::size_t>(ts.role)];
      j.count[idx(mt.status)]++;
      role.count[idx(mt.status)]++;
      if (mt.status == TaskStatus::Pending && mt.best_effort) {
        j.pending_best_effort++;
        role.pending_best_effort++;
      }
      if (allocated_status(mt.status)) j.allocated.add(mt.request);
    }
    if (mt.node >= 0 && !terminated(mt.status) && node_of_model[static_cast<std::size_t>(mt.node)] >= 0) {
      const int n = node_of_model[static_cast<std::size_t>(mt.node)];
      node_add_task(n, static_cast<int>(i));
      // kube-scheduler's NodeInfo starts with every pod on the node.
      NodeState& ns = nodes[static_cast<std::size_t>(n)];
      ns.k8s_requested.add(mt.request);
      ns.k8s_nonzero_cpu += mt.nonzero_cpu;
      ns.k8s_nonzero_mem += mt.nonzero_mem;
      ns.k8s_pods++;
    }
  }
}

bool Session::action_configured(const std::string& name) const {
  return std::find(config.actions.begin(), config.actions.end(), name) != config.actions.end();
}

// ---- registration ----

void Session::add_job_order_fn(const PluginCtx& p, CompareFn fn) {
  if (p.enabled("enableJobOrder")) job_order_.push_back({p.tier, std::move(fn)});
}
void Session::add_queue_order_fn(const PluginCtx& p, CompareFn fn) {
  if (p.enabled("enableQueueOrder")) queue_order_.push_back({p.tier, std::move(fn)});
}
void Session::add_task_order_fn(const PluginCtx& p, CompareFn fn) {
  if (p.enabled("enableTaskOrder")) task_order_.push_back({p.tier, std::move(fn)});
}
void Session::add_job_ready_fn(const PluginCtx& p, JobBoolFn fn) {
  if (p.enabled("enableJobReady")) job_ready_.push_back({p.tier, std::move(fn)});
}
void Session::add_job_pipelined_fn(const PluginCtx& p, JobVoteFn fn) {
  if (p.enabled("enableJobPipelined")) job_pipelined_.push_back({p.tier, std::move(fn)});
}
void Session::add_job_valid_fn(const PluginCtx& p, JobValidFn fn) {
  // Volcano has no switch for JobValid.
  job_valid_.push_back({p.tier, std::move(fn)});
}
void Session::add_job_enqueueable_fn(const PluginCtx& p, JobVoteFn fn) {
  if (p.enabled("enableJobEnqueued")) job_enqueueable_.push_back({p.tier, std::move(fn)});
}
void Session::add_job_enqueued_fn(const PluginCtx& p, std::function<void(int)> fn) {
  if (p.enabled("enableJobEnqueued")) job_enqueued_.push_back({p.tier, std::move(fn)});
}
void Session::add_job_starving_fn(const PluginCtx& p, JobBoolFn fn) {
  if (p.enabled("enableJobStarving")) job_starving_.push_back({p.tier, std::move(fn)});
}
void Session::add_overused_fn(const PluginCtx& p, QueueBoolFn fn) {
  if (p.enabled("enabledOverused")) overused_.push_back({p.tier, std::move(fn)});
}
void Session::add_allocatable_fn(const PluginCtx& p, QueueTaskBoolFn fn) {
  if (p.enabled("enabledAllocatable")) allocatable_.push_back({p.tier, std::move(fn)});
}
void Session::add_preemptive_fn(const PluginCtx& p, QueueTaskBoolFn fn) {
  if (p.enabled("enablePreemptive")) preemptive_.push_back({p.tier, std::move(fn)});
}
void Session::add_predicate_fn(const PluginCtx& p, PredicateFn fn) {
  if (p.enabled("enablePredicate")) predicate_.push_back({p.tier, std::move(fn)});
}
void Session::add_node_order_fn(const PluginCtx& p, NodeOrderFn fn) {
  if (p.enabled("enableNodeOrder")) node_order_.push_back({p.tier, std::move(fn)});
}
void Session::add_batch_node_order_fn(const PluginCtx& p, BatchNodeOrderFn fn, UniformScoreFn uniform) {
  if (!p.enabled("enableNodeOrder")) return;
  batch_node_order_.push_back({p.tier, std::move(fn)});
  batch_uniform_.push_back(std::move(uniform));
}
void Session::add_preemptable_fn(const PluginCtx& p, EvictableFn fn, VictimBoundFn bound) {
  if (!p.enabled("enablePreemptable")) return;
  preemptable_.push_back({p.tier, std::move(fn)});
  preemptable_bounds_.push_back(std::move(bound));
}
void Session::add_reclaimable_fn(const PluginCtx& p, EvictableFn fn, ReclaimerReads reads, ReclaimBoundFn bound) {
  if (!p.enabled("enableReclaimable")) return;
  reclaimable_.push_back({p.tier, std::move(fn)});
  reclaimable_bounds_.push_back(std::move(bound));
  if (reads == ReclaimerReads::Anything) reclaim_reads_queue_only_ = false;
}
void Session::add_event_handler(TaskFn on_allocate, TaskFn on_deallocate) {
  event_handlers_.emplace_back(std::move(on_allocate), std::move(on_deallocate));
}

// ---- combination ----

bool Session::job_order_less(int l, int r) const {
  for (const auto& f : job_order_) {
    if (int c = f.fn(l, r); c != 0) return c < 0;
  }
  const ModelJob& a = mjob(l);
  const ModelJob& b = mjob(r);
  if (a.creation != b.creation) return a.creation < b.creation;
  if (a.uid != b.uid) return a.uid < b.uid;
  if (a.ns != b.ns) return a.ns < b.ns;
  return a.name < b.name;
}

bool Session::queue_order_less(int l, int r) const {
  for (const auto& f : queue_order_) {
    if (int c = f.fn(l, r); c != 0) return c < 0;
  }
  const ModelQueue& a = queue(l);
  const ModelQueue& b = queue(r);
  if (a.creation != b.creation) return a.creation < b.creation;
  if (a.uid != b.uid) return a.uid < b.uid;
  return a.name < b.name;
}

bool Session::task_order_less(int l, int r) const {
  for (const auto& f : task_order_) {
    if (int c = f.fn(l, r); c != 0) return c < 0;
  }
  const ModelTask& a = mtask(l);
  const ModelTask& b = mtask(r);
  if (a.has_index && b.has_index && a.index != b.index) return a.index < b.index;
  if (a.creation != b.creation) return a.creation < b.creation;
  if (a.uid != b.uid) return a.uid < b.uid;
  if (a.ns != b.ns) return a.ns < b.ns;
  return a.name < b.name;
}

bool Session::job_ready(int j) const {
  for (const auto& f : job_ready_) {
    if (!f.fn(j)) return false;
  }
  return true;
}

namespace {

/// JobPipelined / JobEnqueueable: any Reject is false; a tier with a Permit is true without
/// asking later tiers; all abstaining is true.
template <class Fns>
bool votes(const Fns& fns, int j) {
  bool permit = false;
  int tier = fns.empty() ? 0 : fns.front().tier;
  for (const auto& f : fns) {
    if (f.tier != tier) {
      if (permit) return true;
      tier = f.tier;
    }
    const int v = f.fn(j);
    if (v < 0) return false;
    if (v > 0) permit = true;
  }
  return true;
}

template <class Fns>
std::optional<std::vector<int>> victims_of(const Fns& fns, int preemptor, const std::vector<int>& candidates) {
  // Volcano's Session.Preemptable/Reclaimable, Go nil slices included: `victims` empty is nil.
  // An empty answer ends the tier with nil; a tier ending with victims decides. Once some plugin
  // has answered (init), later answers only intersect, so a nil stays nil in later tiers; an
  // empty first answer leaves init unset and the next tier starts afresh.
  std::vector<int> victims;
  bool init = false;
  std::size_t i = 0;
  while (i < fns.size()) {
    const int tier = fns[i].tier;
    for (; i < fns.size() && fns[i].tier == tier; ++i) {
      auto [cands, vote] = fns[i].fn(preemptor, candidates);
      if (vote == kAbstain) continue;
      if (cands.empty()) {
        victims.clear();
        while (i + 1 < fns.size() && fns[i + 1].tier == tier) ++i;  // break out of the tier
        continue;
      }
      if (!init) {
        victims = std::move(cands);
        init = true;
        continue;
      }
      std::vector<int> both;
      for (int v : victims) {
        if (std::find(cands.begin(), cands.end(), v) != cands.end()) both.push_back(v);
      }
      victims = std::move(both);
    }
    if (!victims.empty()) return victims;
  }
  if (!init) return std::nullopt;
  return victims;
}

/// Whether some tier has every function's bound (asked through `keeps`; none: kept) let a victim
/// through: victims_of's victims come from one tier in which every function answered and kept
/// them.
template <class Fns, class Bounds, class Keeps>
bool some_tier_keeps(const Fns& fns, const Bounds& bounds, Keeps keeps) {
  std::size_t i = 0;
  while (i < fns.size()) {
    const int tier = fns[i].tier;
    bool kept = true;
    for (; i < fns.size() && fns[i].tier == tier; ++i) {
      if (kept && bounds[i] && !keeps(bounds[i])) kept = false;
    }
    if (kept) return true;
  }
  return false;
}

}  // namespace

bool Session::job_pipelined(int j) const { return votes(job_pipelined_, j); }

std::optional<ValidateResult> Session::job_valid(int j) const {
  for (const auto& f : job_valid_) {
    if (auto r = f.fn(j); r && !r->pass) return r;
  }
  return std::nullopt;
}

bool Session::job_enqueueable(int j) const { return votes(job_enqueueable_, j); }

void Session::job_enqueued(int j) const {
  for (const auto& f : job_enqueued_) f.fn(j);
}

bool Session::job_starving(int j) const {
  if (job_starving_.empty()) return false;
  const int tier = job_starving_.front().tier;
  for (const auto& f : job_starving_) {
    if (f.tier != tier) break;
    if (!f.fn(j)) return false;
  }
  return true;
}

bool Session::overused(int q) const {
  for (const auto& f : overused_) {
    if (f.fn(q)) return true;
  }
  return false;
}

bool Session::allocatable(int q, int t) const {
  for (const auto& f : allocatable_) {
    if (!f.fn(q, t)) return false;
  }
  return true;
}

bool Session::preemptive(int q, int t) const {
  for (const auto& f : preemptive_) {
    if (!f.fn(q, t)) return false;
  }
  return true;
}

std::optional<std::vector<int>> Session::preemptable(int preemptor, const std::vector<int>& candidates) const {
  return victims_of(preemptable_, preemptor, candidates);
}

bool Session::may_be_preemptable(int32_t job_priority, int32_t task_priority, int victim) const {
  return some_tier_keeps(preemptable_, preemptable_bounds_,
                         [&](const VictimBoundFn& bound) { return bound(job_priority, task_priority, victim); });
}

std::optional<std::vector<int>> Session::reclaimable(int reclaimer, const std::vector<int>& candidates) const {
  return victims_of(reclaimable_, reclaimer, candidates);
}

bool Session::may_be_reclaimable(int victim) const {
  return some_tier_keeps(reclaimable_, reclaimable_bounds_, [&](const ReclaimBoundFn& bound) { return bound(victim); });
}

uint32_t Session::predicate(int t, int n) const {
  for (const auto& f : predicate_) {
    if (uint32_t r = f.fn(t, n); r != 0) return r;
  }
  return 0;
}

double Session::node_order(int t, int n) const {
  double score = 0;
  for (const auto& f : node_order_) score += f.fn(t, n);
  return score;
}

bool Session::batch_node_order(int t, const std::vector<int>& ns, std::vector<double>& scores) const {
  if (batch_node_order_.empty()) return false;
  for (const auto& f : batch_node_order_) f.fn(t, ns, scores);
  return true;
}

std::optional<double> Session::uniform_batch_score(int t) const {
  double sum = 0;
  for (const auto& u : batch_uniform_) {
    if (!u) return std::nullopt;
    auto v = u(t);
    if (!v) return std::nullopt;
    sum += *v;
  }
  return sum;
}

uint32_t Session::intern_reasons(const std::vector<std::string>& r) {
  auto [it, fresh] = reason_ids_.emplace(r, static_cast<uint32_t>(reason_lists_.size()));
  if (fresh) reason_lists_.push_back(r);
  return it->second;
}

// ---- primitives ----

void Session::set_task_status(int t, TaskStatus s) {
  TaskState& ts = task(t);
  const TaskStatus old = ts.status;
  if (old == s) return;
  ++epoch_;
  if (ts.job >= 0) {
    JobState& j = job(ts.job);
    RoleState& role = j.roles[static_cast<std::size_t>(ts.role)];
    const ModelTask& mt = mtask(t);
    j.count[idx(old)]--;
    j.count[idx(s)]++;
    role.count[idx(old)]--;
    role.count[idx(s)]++;
    if (mt.best_effort) {
      const int delta = (s == TaskStatus::Pending) - (old == TaskStatus::Pending);
      j.pending_best_effort += delta;
      role.pending_best_effort += delta;
    }
    if (allocated_status(old) && !allocated_status(s)) j.allocated.sub(mt.request);
    if (!allocated_status(old) && allocated_status(s)) j.allocated.add(mt.request);
  }
  ts.status = s;
}

void Session::node_add_task(int n, int t) {
  TaskState& ts = task(t);
  NodeState& ns = node(n);
  const Resource& req = mtask(t).request;
  ts.node = n;
  ts.node_status = ts.status;
  switch (ts.status) {
    case TaskStatus::Releasing:
      ns.idle.sub(req);
      ns.releasing.add(req);
      ns.used.add(req);
      break;
    case TaskStatus::Pipelined:
      ns.pipelined.add(req);
      break;
    default:
      ns.idle.sub(req);
      ns.used.add(req);
      break;
  }
  touch_node(n);
}

void Session::node_remove_task(int t) {
  TaskState& ts = task(t);
  if (ts.node < 0) return;
  NodeState& ns = node(ts.node);
  const Resource& req = mtask(t).request;
  switch (ts.node_status) {
    case TaskStatus::Releasing:
      ns.releasing.sub(req);
      ns.idle.add(req);
      ns.used.sub(req);
      break;
    case TaskStatus::Pipelined:
      ns.pipelined.sub(req);
      break;
    default:
      ns.idle.add(req);
      ns.used.sub(req);
      break;
  }
  touch_node(ts.node);
}

void Session::fire_allocate(int t) {
  ++epoch_;
  for (const auto& h : event_handlers_) {
    if (h.first) h.first(t);
  }
}

void Session::fire_deallocate(int t) {
  ++epoch_;
  for (const auto& h : event_handlers_) {
    if (h.second) h.second(t);
  }
}

void Session::dispatch(int t) {
  set_task_status(t, TaskStatus::Binding);
  binds_.emplace_back(t, task(t).node);
}

void Session::record_eviction(int t) { evictions_.push_back(t); }

void Session::allocate_and_dispatch(int t, int n) {
  set_task_status(t, TaskStatus::Allocated);
  node_add_task(n, t);
  fire_allocate(t);
  const int j = task(t).job;
  if (j < 0 || !job_ready(j)) return;
  for (int other : job(j).tasks) {
    if (task(other).status == TaskStatus::Allocated) dispatch(other);
  }
}

void Session::record_podgroup_event(int j, const std::string& type, const std::string& reason, const std::string& message) {
  const ModelJob& mj = mjob(j);
  events_.push_back(Event{"PodGroup", mj.ns, mj.name, type, reason, message});
}

void Session::set_condition(int j, Condition c) { notes_of(j).condition = std::move(c); }

JobNotes& Session::notes_of(int j) {
  JobState& js = job(j);
  if (js.notes == nullptr) js.notes = &job_notes_.emplace_back();
  return *js.notes;
}

void Session::add_fit_errors(int t, FitErrors fe) {
  TaskState& ts = task(t);
  JobNotes& n = notes_of(ts.job);
  n.mark_role_failed(ts.role);
  if (ts.fit_errors_at >= 0) {
    n.fit_errors[static_cast<std::size_t>(ts.fit_errors_at)].second = std::move(fe);
    return;
  }
  ts.fit_errors_at = static_cast<int>(n.fit_errors.size());
  n.fit_errors.emplace_back(t, std::move(fe));
}

const FitErrors* Session::fit_errors_of(int t) const {
  const TaskState& ts = task(t);
  if (ts.fit_errors_at < 0) return nullptr;
  return &job(ts.job).notes->fit_errors[static_cast<std::size_t>(ts.fit_errors_at)].second;
}

// ---- finding nodes ----

int Session::feasible_nodes_to_find(int n) {
  // --minimum-feasible-nodes 100, --minimum-percentage-nodes-to-find 5, --percentage-nodes-to-find 0.
  constexpr int kMinNodes = 100, kMinPercentage = 5, kBaseline = 50;
  if (n <= kMinNodes) return n;
  int pct = kBaseline - n / 125;
  if (pct < kMinPercentage) pct = kMinPercentage;
  int num = static_cast<int>(static_cast<int64_t>(n) * pct / 100);
  return num < kMinNodes ? kMinNodes : num;
}

std::vector<int> Session::future_idle_shortfall(int t, int n) const {
  const Resource& req = mtask(t).request;
  const NodeState& ns = node(n);
  std::vector<int> out;
  for (int d = 0; d < dims(); ++d) {
    if (d >= 2 && !req.has(d)) continue;
    const double fi = ns.idle.get(d) + ns.releasing.get(d) - ns.pipelined.get(d);
    const double r = req.get(d);
    if (!(r < fi || std::abs(r - fi) < kMinResource)) out.push_back(d);
  }
  return out;
}

bool Session::fits_future_idle(int t, int n) const { return future_idle_shortfall(t, n).empty(); }

bool Session::fits_idle(int t, int n) const { return mtask(t).request.less_equal(node(n).idle, DimDefault::Zero); }

Session::NodeEval& Session::evaluate(int t, int n, SearchMode mode, int32_t key) {
  NodeCache& c = node_cache_[static_cast<std::size_t>(n)];
  for (auto& e : c.slot) {
    if (e.key == key && e.version == c.version) return e;
  }
  NodeEval& e = c.slot[c.next];
  c.next ^= 1;
  e = NodeEval{};
  e.key = key;
  e.version = c.version;
  if (mode == SearchMode::Allocate) {
    // allocate's predicate: the request against FutureIdle first (the first short dimension is
    // the reason), then the plugins' predicates.
    const Resource& req = mtask(t).request;
    const NodeState& ns = node(n);
    for (int d = 0; d < dims(); ++d) {
      if (d >= 2 && !req.has(d)) continue;
      const double fi = ns.idle.get(d) + ns.releasing.get(d) - ns.pipelined.get(d);
      const double r = req.get(d);
      if (!(r < fi || std::abs(r - fi) < kMinResource)) {
        e.fail = insufficient_[static_cast<std::size_t>(d)];
        return e;
      }
    }
    e.fail = predicate(t, n);
    if (e.fail == 0) e.gradient = fits_idle(t, n) ? 1 : 2;
    return e;
  }
  e.fail = predicate(t, n);
  e.gradient = 1;
  return e;
}

double Session::cached_score(int t, int n, NodeEval& e) {
  if (!e.scored) {
    e.score = node_order(t, n);
    e.scored = true;
  }
  return e.score;
}

FitErrors Session::fit_errors_of_search() {
  // Nodes mostly fail for the same few reason lists: count the lists first (runs of one id, a
  // short list of distinct ids), then the strings once per list; a cluster of full nodes would
  // otherwise cost a string map update per node.
  std::vector<std::pair<uint32_t, int>> counts;
  for (std::size_t i = 0; i < search_fails_.size();) {
    const uint32_t id = search_fails_[i];
    std::size_t j = i + 1;
    while (j < search_fails_.size() && search_fails_[j] == id) ++j;
    auto it = std::find_if(counts.begin(), counts.end(), [id](const auto& c) { return c.first == id; });
    if (it == counts.end()) {
      counts.emplace_back(id, static_cast<int>(j - i));
    } else {
      it->second += static_cast<int>(j - i);
    }
    i = j;
  }
  FitErrors fe;
  fe.nodes = static_cast<int>(search_fails_.size());
  auto reasons = std::make_shared<std::map<std::string, int>>();
  for (const auto& [id, n] : counts) {
    for (const auto& r : reason_lists_[id]) (*reasons)[r] += n;
  }
  fe.reasons = std::move(reasons);
  return fe;
}

int Session::predicate_nodes(int t, SearchMode mode, FitErrors* errors) {
  feasible_.clear();
  feasible_evals_.clear();
  search_fails_.clear();
  const int n = static_cast<int>(nodes.size());
  if (n == 0) {
    if (errors != nullptr) *errors = FitErrors{};
    return 0;
  }
  const int32_t key = mtask(t).signature * 2 + static_cast<int32_t>(mode);
  const int to_find = feasible_nodes_to_find(n);
  int processed = 0;
  int at = last_processed_ % n;
  for (int i = 0; i < n; ++i, ++at) {
    if (at == n) at = 0;
    ++processed;
    NodeEval& e = evaluate(t, at, mode, key);
    if (e.fail != 0) {
      search_fails_.push_back(e.fail);
      continue;
    }
    feasible_.push_back(at);
    feasible_evals_.push_back(&e);
    if (static_cast<int>(feasible_.size()) == to_find) break;
  }
  last_processed_ = (last_processed_ + processed) % n;
  if (!feasible_.empty() || errors == nullptr) return static_cast<int>(feasible_.size());
  *errors = fit_errors_of_search();
  return 0;
}

Session::SearchMemo& Session::memo_of(int32_t key) {
  SearchMemo& memo = search_memo_[key];
  if (memo.epoch != epoch_) {
    memo.epoch = epoch_;
    memo.walks = 0;
    memo.built = false;
    memo.failed = false;
  }
  return memo;
}

void Session::advance_search(int t, SearchMode mode) {
  const int n = static_cast<int>(nodes.size());
  if (n == 0) return;
  const int32_t key = mtask(t).signature * 2 + static_cast<int32_t>(mode);
  const int to_find = feasible_nodes_to_find(n);
  SearchMemo& memo = memo_of(key);
  // A list costs a walk over every node: worth it once searches repeat within one epoch.
  constexpr int kWalksBeforeList = 4;
  if (!memo.built && ++memo.walks > kWalksBeforeList) {
    memo.fit.clear();
    for (int i = 0; i < n; ++i) {
      if (evaluate(t, i, mode, key).fail == 0) memo.fit.push_back(i);
    }
    memo.built = true;
  }
  const int at = last_processed_ % n;
  int processed = n;
  if (memo.built) {
    // The to_find-th fitting node from `at` on (wrapping around), as the walk would stop there.
    const auto fit = static_cast<int>(memo.fit.size());
    if (fit >= to_find) {
      const int first = static_cast<int>(std::lower_bound(memo.fit.begin(), memo.fit.end(), at) - memo.fit.begin());
      const int last = memo.fit[static_cast<std::size_t>((first + to_find - 1) % fit)];
      processed = (last - at + n) % n + 1;
    }
  } else {
    int found = 0;
    processed = 0;
    for (int i = 0, node = at; i < n; ++i, ++node) {
      if (node == n) node = 0;
      ++processed;
      if (cached_eval(t, node, mode, key).fail == 0 && ++found == to_find) break;
    }
  }
  last_processed_ = (last_processed_ + processed) % n;
}

int Session::find_node(int t, SearchMode mode, FitErrors* errors) {
  const auto uniform = uniform_batch_score(t);
  if (!uniform) return predicate_nodes(t, mode, errors) == 0 ? -1 : best_node(t, mode);
  // The same walk as predicate_nodes, scoring as it goes: the best of each gradient, the first
  // tried winning ties, as best_node picks them.
  feasible_.clear();
  feasible_evals_.clear();
  search_fails_.clear();
  const int n = static_cast<int>(nodes.size());
  if (n == 0) {
    if (errors != nullptr) *errors = FitErrors{};
    return -1;
  }
  const int32_t key = mtask(t).signature * 2 + static_cast<int32_t>(mode);
  SearchMemo& memo = memo_of(key);
  if (options.shortcuts && memo.failed) {
    if (errors != nullptr) *errors = memo.fail_errors;
    return -1;
  }
  const int to_find = feasible_nodes_to_find(n);
  int found = 0, processed = 0, best[2] = {-1, -1};
  double top[2] = {0, 0};
  int at = last_processed_ % n;
  for (int i = 0; i < n; ++i, ++at) {
    if (at == n) at = 0;
    ++processed;
    NodeEval* e = &cached_eval(t, at, mode, key);
    if (e->fail != 0) {
      if (found == 0) search_fails_.push_back(e->fail);
      continue;
    }
    const double score = (e->scored ? e->score : cached_score(t, at, *e)) + *uniform;
    const int g = e->gradient == 2 ? 1 : 0;
    if (best[g] < 0 || score > top[g]) best[g] = at, top[g] = score;
    if (++found == to_find) break;
  }
  last_processed_ = (last_processed_ + processed) % n;
  if (found > 0) return best[0] >= 0 ? best[0] : best[1];
  memo.failed = true;
  memo.fail_errors = fit_errors_of_search();
  if (errors != nullptr) *errors = memo.fail_errors;
  return -1;
}

int Session::best_node(int t, SearchMode mode) {
  // The evaluations stay valid: nothing changed since predicate_nodes filled them.
  if (const auto uniform = uniform_batch_score(t)) {
    // Every node gets the same batch score: keep the best of each gradient in one pass (the
    // first tried wins ties, as below).
    int best[2] = {-1, -1};
    double top[2] = {0, 0};
    for (std::size_t i = 0; i < feasible_.size(); ++i) {
      NodeEval& e = *feasible_evals_[i];
      const int g = mode == SearchMode::Backfill ? 0 : e.gradient - 1;
      const double score = cached_score(t, feasible_[i], e) + *uniform;
      if (best[g] < 0 || score > top[g]) best[g] = feasible_[i], top[g] = score;
    }
    return best[0] >= 0 ? best[0] : best[1];
  }
  for (uint8_t gradient : {uint8_t{1}, uint8_t{2}}) {
    search_nodes_.clear();
    search_evals_.clear();
    for (std::size_t i = 0; i < feasible_.size(); ++i) {
      if (mode == SearchMode::Backfill || feasible_evals_[i]->gradient == gradient) {
        search_nodes_.push_back(feasible_[i]);
        search_evals_.push_back(feasible_evals_[i]);
      }
    }
    if (search_nodes_.empty()) continue;
    if (search_nodes_.size() == 1) return search_nodes_.front();
    search_scores_.resize(search_nodes_.size());
    for (std::size_t i = 0; i < search_nodes_.size(); ++i) {
      search_scores_[i] = cached_score(t, search_nodes_[i], *search_evals_[i]);
    }
    batch_node_order(t, search_nodes_, search_scores_);
    std::size_t best = 0;
    for (std::size_t i = 1; i < search_nodes_.size(); ++i) {
      if (search_scores_[i] > search_scores_[best]) best = i;
    }
    return search_nodes_[best];
  }
  return -1;
}

std::vector<int> Session::sorted_feasible(int t, const std::function<bool(int)>& keep) {
  // Only the nodes kept are sorted, which orders them as sorting all would. A batch score may
  // depend on the whole list of nodes, so it is given every feasible node, unless each batch
  // function adds the same to every node (then the kept ones are enough).
  std::vector<int> nodes_kept;
  std::vector<NodeEval*> evals_kept;
  const bool all = !keep;
  if (!all) {
    for (std::size_t i = 0; i < feasible_.size(); ++i) {
      if (keep(feasible_[i])) {
        nodes_kept.push_back(feasible_[i]);
        evals_kept.push_back(feasible_evals_[i]);
      }
    }
    if (nodes_kept.empty()) return nodes_kept;
  }
  const bool whole_list = all || !uniform_batch_score(t);
  const std::vector<int>& scored = whole_list ? feasible_ : nodes_kept;
  const std::vector<NodeEval*>& evals = whole_list ? feasible_evals_ : evals_kept;
  std::vector<double> scores(scored.size());
  for (std::size_t i = 0; i < scored.size(); ++i) scores[i] = cached_score(t, scored[i], *evals[i]);
  batch_node_order(t, scored, scores);
  std::vector<std::pair<double, int>> sorted_pairs;
  sorted_pairs.reserve(scored.size());
  std::size_t k = 0;  // walks nodes_kept alongside, when the whole list was scored
  for (std::size_t i = 0; i < scored.size(); ++i) {
    if (whole_list && !all) {
      if (k == nodes_kept.size() || nodes_kept[k] != scored[i]) continue;
      ++k;
    }
    sorted_pairs.emplace_back(scores[i], scored[i]);
  }
  std::stable_sort(sorted_pairs.begin(), sorted_pairs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int> sorted;
  sorted.reserve(sorted_pairs.size());
  for (const auto& p : sorted_pairs) sorted.push_back(p.second);
  return sorted;
}

// ---- life ----

void Session::open(const Registry& registry) {
  for (std::size_t ti = 0; ti < config.tiers.size(); ++ti) {
    const auto& tier = config.tiers[ti];
    for (std::size_t pi = 0; pi < tier.plugins.size(); ++pi) {
      const PluginOption& opt = tier.plugins[pi];
      const std::string path = "tiers[" + std::to_string(ti) + "].plugins[" + std::to_string(pi) + "]";
      const PluginBuilder* build = registry.plugin(opt.name);
      if (build == nullptr) {
        throw Error::invalid("scheduler configuration: " + path + ".name: " +
                             (volcano_plugin_not_supported(opt.name) ? "plugin \"" + opt.name + "\" is not supported yet"
                                                                     : "unknown plugin \"" + opt.name + "\""));
      }
      Plugged p;
      p.ctx = PluginCtx{opt.name, static_cast<int>(ti), &opt};
      try {
        p.plugin = (*build)(PluginArgs(opt.arguments));
      } catch (const ArgError& e) {
        throw Error::invalid("scheduler configuration: " + path + ".arguments[" + e.key + "]: " + e.message);
      }
      plugins_.push_back(std::move(p));
      plugins_.back().plugin->on_session_open(*this, plugins_.back().ctx);
    }
  }
}

void Session::run_action(const std::string& name, const Registry& registry) {
  const ActionFn* run = registry.action(name);
  if (run == nullptr) {
    throw Error::invalid("scheduler configuration: actions: " +
                         (volcano_action_not_supported(name) ? "action \"" + name + "\" is not supported yet"
                                                             : "failed to find Action " + name));
  }
  (*run)(*this);
}

std::pair<std::string, std::string> Session::task_scheduling_reason(int j, int t) const {
  const TaskState& ts = task(t);
  const JobState& js = job(j);
  const ModelTask& mt = mtask(t);
  const TaskStatus status = ts.has_last_tx ? ts.last_status : ts.status;
  const int n = ts.has_last_tx ? ts.last_node : ts.node;
  const std::string node_name = n >= 0 ? mnode(n).name : "";
  switch (status) {
    case TaskStatus::Allocated:
      return {"Schedulable", "Pod " + mt.ns + "/" + mt.name + " can possibly be assigned to " + node_name +
                                 ", once minAvailable is satisfied"};
    case TaskStatus::Pipelined:
      return {"Unschedulable", "Pod " + mt.ns + "/" + mt.name + " can possibly be assigned to " + node_name +
                                   ", once resource is released and minAvailable is satisfied"};
    case TaskStatus::Pending:
      if (const FitErrors* fe = fit_errors_of(t)) return {"Unschedulable", fe->message()};
      return {"Unschedulable", js.job_fit_errors()};
    default:
      return {status_name(status), js.job_fit_errors()};
  }
}

std::optional<QueueShare> Session::queue_share(int q) const {
  for (const auto& p : plugins_) {
    if (auto share = p.plugin->queue_share(q)) {
      share->plugin = p.ctx.name;
      return share;
    }
  }
  return std::nullopt;
}

std::string Session::job_fit_error(int j) const {
  const JobState& js = job(j);
  std::vector<std::string> hist;
  for (int s = 0; s < kTaskStatusCount; ++s) {
    if (js.count[static_cast<std::size_t>(s)] > 0) {
      hist.push_back(std::to_string(js.count[static_cast<std::size_t>(s)]) + " " + status_name(static_cast<TaskStatus>(s)));
    }
  }
  hist.push_back(std::to_string(js.min_available) + " minAvailable");
  std::string msg = "pod group is not ready, " + join_sorted(std::move(hist));
  std::map<std::string, int> pending;
  for (int t : js.tasks) {
    if (task(t).status == TaskStatus::Pending) pending[task_scheduling_reason(j, t).first]++;
  }
  if (!pending.empty()) {
    std::vector<std::string> parts;
    for (const auto& [r, c] : pending) parts.push_back(std::to_string(c) + " " + r);
    msg += "; Pending: " + join_sorted(std::move(parts));
  }
  if (!js.job_fit_errors().empty()) return msg + ". Origin reason is: " + js.job_fit_errors();
  // The first task that fit no node (Volcano takes any: it walks a map).
  if (const auto* first = js.first_fit_errors()) {
    return msg + ". Origin reason is " + mtask(first->first).name + ": " + first->second.message();
  }
  return msg;
}

std::string Session::job_phase(int j) const {
  // volcano.md §3.2 getPodGroupPhase: scheduled = tasks Running, Bound, Failed or Succeeded,
  // plus Releasing tasks still on a node. Tasks bound in this session are Binding (the bind is
  // asynchronous) and count from the next session on. (Upstream's jobStatus counts every
  // allocated status, Binding included; kai follows the specification here.)
  const JobState& js = job(j);
  const std::optional<Condition>& cond = js.condition();
  const bool unschedulable = cond && cond->type == "Unschedulable" && cond->status == "True" && cond->transition_id == options.session_uid;
  if (js.count[idx(TaskStatus::Running)] != 0 && unschedulable) return "Unknown";
  const int32_t finished = js.count[idx(TaskStatus::Succeeded)] + js.count[idx(TaskStatus::Failed)];
  int32_t scheduled = js.count[idx(TaskStatus::Running)] + js.count[idx(TaskStatus::Bound)] + finished;
  for (int t : js.tasks) {
    if (task(t).status == TaskStatus::Releasing && task(t).node >= 0) ++scheduled;
  }
  if (scheduled >= js.min_available) return finished == scheduled ? "Completed" : "Running";
  if (js.phase != "Inqueue") return "Pending";
  return "Inqueue";
}

bool Session::status_updated(int j, const std::string& phase) const {
  // Volcano's isPodGroupStatusUpdated, ignoring transition times and IDs; a PodGroup without
  // conditions always counts as updated.
  const JobState& js = job(j);
  const ModelJob& mj = mjob(j);
  if (!mj.has_conditions || phase != mj.phase) return true;
  if (js.count[idx(TaskStatus::Running)] != mj.running || js.count[idx(TaskStatus::Succeeded)] != mj.succeeded ||
      js.count[idx(TaskStatus::Failed)] != mj.failed) {
    return true;
  }
  const std::optional<Condition>& cond = js.condition();
  if (!cond) return false;
  for (const auto& c : mj.conditions) {
    if (c[0] != cond->type) continue;
    return c[1] != cond->status || c[2] != cond->reason || c[3] != cond->message;
  }
  return true;  // a condition of a new type
}

void Session::job_status_events(int j, const std::string& phase, SessionResult& result) const {
  const JobState& js = job(j);
  const ModelJob& mj = mjob(j);
  // Volcano records the Warning for a PodGroup left Pending, Inqueue or Unknown. A gang bound in
  // this session is still Inqueue here (its pods are Binding, see job_phase) but ready: it gets
  // the Normal event, as upstream, where it would already be Running.
  if ((phase == "Unknown" || phase == "Pending" || phase == "Inqueue") && !js.is_ready()) {
    const std::string msg = std::to_string(js.count[idx(TaskStatus::Pending)]) + "/" + std::to_string(js.tasks.size()) +
                            " tasks in gang unschedulable: " + job_fit_error(j);
    result.events.push_back(Event{"PodGroup", mj.ns, mj.name, "Warning", "Unschedulable", msg});
  } else if (status_updated(j, phase)) {
    result.events.push_back(Event{"PodGroup", mj.ns, mj.name, "Normal", "Scheduled", "pod group is ready"});
  }
  // Pods that wait get PodScheduled=False with the reason, and a FailedScheduling event when
  // that condition changes (Volcano's taskUnschedulable).
  const std::string base = js.job_fit_errors().empty() ? "all nodes are unavailable" : js.job_fit_errors();
  for (TaskStatus s : {TaskStatus::Allocated, TaskStatus::Pending, TaskStatus::Pipelined}) {
    for (int t : js.tasks) {
      if (task(t).status != s) continue;
      auto [reason, msg] = task_scheduling_reason(j, t);
      if (msg.empty()) msg = base;
      const ModelTask& mt = mtask(t);
      if (reason == mt.scheduled_reason && msg == mt.scheduled_message) continue;
      result.pod_conditions[mt.key] = {{"type", "PodScheduled"}, {"status", "False"}, {"reason", reason}, {"message", msg}};
      result.events.push_back(Event{"Pod", mt.ns, mt.name, "Warning", "FailedScheduling", msg});
    }
  }
}

SessionResult Session::close() {
  for (auto& p : plugins_) p.plugin->on_session_close(*this);
  SessionResult result;
  result.events = std::move(events_);
  // Maps fill in key order (the model keeps the orders) with hinted inserts at their end.
  for (int mj : model.jobs_by_key) {
    const ModelJob& m = model.jobs[static_cast<std::size_t>(mj)];
    const int j = job_of_model[static_cast<std::size_t>(mj)];
    if (j < 0) {
      result.podgroup_phases.emplace_hint(result.podgroup_phases.end(), m.key, m.phase);
      continue;
    }
    const std::string phase = job_phase(j);
    job_status_events(j, phase, result);
    result.podgroup_phases.emplace_hint(result.podgroup_phases.end(), m.key, phase);
    if (const auto& c = job(j).condition()) {
      result.podgroup_conditions.emplace_hint(result.podgroup_conditions.end(), m.key,
                                              json{{"type", c->type},
                                                   {"status", c->status},
                                                   {"reason", c->reason},
                                                   {"message", c->message},
                                                   {"transitionID", c->transition_id}});
    }
  }
  std::vector<int> bound_to(model.tasks.size(), -1);
  for (const auto& [t, n] : binds_) bound_to[static_cast<std::size_t>(t)] = n;
  for (int t : model.tasks_by_key) {
    if (const int n = bound_to[static_cast<std::size_t>(t)]; n >= 0) {
      result.bound.emplace_hint(result.bound.end(), mtask(t).key, mnode(n).name);
    }
    const TaskState& ts = task(t);
    if (ts.job >= 0 && ts.status == TaskStatus::Pipelined && ts.node >= 0) {
      result.pipelined.emplace_hint(result.pipelined.end(), mtask(t).key, mnode(ts.node).name);
    }
  }
  for (int t : evictions_) result.evicted.push_back(mtask(t).key);
  std::sort(result.evicted.begin(), result.evicted.end());
  return result;
}

// ---- Statement ----

void Statement::allocate(int t, int n) {
  s_.set_task_status(t, TaskStatus::Allocated);
  s_.node_add_task(n, t);
  s_.fire_allocate(t);
  ops_.push_back({Op::Allocate, t, TaskStatus::Allocated});
}

void Statement::pipeline(int t, int n) {
  s_.set_task_status(t, TaskStatus::Pipelined);
  s_.node_add_task(n, t);
  s_.fire_allocate(t);
  ops_.push_back({Op::Pipeline, t, TaskStatus::Pipelined});
}

void Statement::evict(int t) {
  const int n = s_.task(t).node;
  ops_.push_back({Op::Evict, t, s_.task(t).status});
  // Volcano's NodeInfo.UpdateTask: out with the old status, in with Releasing.
  s_.node_remove_task(t);
  s_.set_task_status(t, TaskStatus::Releasing);
  if (n >= 0) s_.node_add_task(n, t);
  s_.fire_deallocate(t);
}

void Statement::commit() {
  for (const auto& op : ops_) {
    s_.task(op.task).has_last_tx = false;
    switch (op.op) {
      case Op::Evict:
        s_.record_eviction(op.task);
        break;
      case Op::Pipeline:
        break;
      case Op::Allocate:
        s_.dispatch(op.task);
        break;
    }
  }
  ops_.clear();
}

void Statement::discard() { discard_from(0); }

void Statement::discard_from(std::size_t mark) {
  if (mark >= ops_.size()) return;
  for (auto it = ops_.rbegin(); it != ops_.rend() - static_cast<std::ptrdiff_t>(mark); ++it) {
    TaskState& ts = s_.task(it->task);
    ts.has_last_tx = true;
    ts.last_status = ts.status;
    ts.last_node = ts.node;
    switch (it->op) {
      case Op::Evict:
        unevict(it->task, it->before);
        break;
      case Op::Pipeline:
      case Op::Allocate:
        unallocate(it->task);
        break;
    }
  }
  ops_.erase(ops_.begin() + static_cast<std::ptrdiff_t>(mark), ops_.end());
}

void Statement::unallocate(int t) {
  s_.set_task_status(t, TaskStatus::Pending);
  s_.node_remove_task(t);
  s_.fire_deallocate(t);
  s_.task(t).node = -1;
}

void Statement::unevict(int t, TaskStatus previous) {
  const int n = s_.task(t).node;
  s_.node_remove_task(t);
  s_.set_task_status(t, previous);
  if (n >= 0) s_.node_add_task(n, t);
  s_.fire_allocate(t);
}

}  // namespace kai::scheduler
