#pragma once
// One scheduling session (Volcano's framework.Session): the state taken over the snapshot, the
// callbacks plugins register, the rules that combine them across plugins and tiers
// (session_plugins.go), and the primitives statements and actions use to change the state.
//
// Entities are indices: tasks share the model's task indices, queues the model's queue indices;
// jobs (PodGroups in the session) and nodes (Ready nodes) have session indices.

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/scheduler/model.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/resource.h"
#include "lib/scheduler/scheduler.h"

namespace kai::scheduler {

/// Votes of JobEnqueueable, JobPipelined (Volcano's util.Permit/Abstain/Reject).
inline constexpr int kPermit = 1;
inline constexpr int kAbstain = 0;
inline constexpr int kReject = -1;

/// Volcano's api.ValidateResult.
struct ValidateResult {
  bool pass = true;
  std::string reason, message;
};

/// A PodGroup condition (type Unschedulable or Scheduled).
struct Condition {
  std::string type, status, reason, message, transition_id;
};

/// Volcano's api.FitErrors: why a task fits no node. Either per-node reasons, counted, or one
/// common message (SetError).
struct FitErrors {
  std::string err;
  int nodes = 0;  ///< nodes that gave reasons
  /// reason -> number of nodes giving it; shared, never changed once made, so that the many
  /// tasks one failed search speaks for copy it cheaply (null: none).
  std::shared_ptr<const std::map<std::string, int>> reasons;
  /// `0/<nodes> nodes are unavailable: <count reason, ... sorted as strings>.`, or err.
  std::string message() const;
};

/// Volcano's NodeInfo accounting, plus kube-scheduler's view of the node that the predicates
/// plugin keeps (nodeMap): what kube filters and scores read.
struct NodeState {
  int model = -1;
  Resource idle, used, releasing, pipelined;
  Resource k8s_requested;  ///< Σ requests of pods on the node (kube NodeInfo.Requested)
  double k8s_nonzero_cpu = 0, k8s_nonzero_mem = 0;  ///< kube NodeInfo.NonZeroRequested
  int k8s_pods = 0;
};

struct TaskState {
  TaskStatus status = TaskStatus::Pending;
  int node = -1;  ///< session node, -1 when on none
  TaskStatus node_status = TaskStatus::Pending;  ///< the status the task had when it joined its node
  int job = -1;  ///< session job, -1 when the task takes no part in the session
  int role = -1;  ///< index into the job's roles
  /// Volcano's LastTransaction: set when a statement is discarded, cleared on commit.
  bool has_last_tx = false;
  int fit_errors_at = -1;  ///< index of its entry in its job's JobNotes::fit_errors, -1: none
  TaskStatus last_status = TaskStatus::Pending;
  int last_node = -1;
};

struct RoleState {
  std::string_view name;  ///< the model's role name (the model outlives the session)
  int32_t min = 0;  ///< minTaskMember for the role (0 when not given)
  std::array<int32_t, kTaskStatusCount> count{};
  int32_t pending_best_effort = 0;
};

/// What a session writes of a job only when a task of it fits no node or the session closes,
/// kept apart and made on first use: a session builds a state for every job of the snapshot and
/// reads most of them only.
struct JobNotes {
  /// task -> why it fit no node (NodesFitErrors), first recorded first; a task finds its entry
  /// through TaskState::fit_errors_at.
  std::vector<std::pair<int, FitErrors>> fit_errors;
  /// The roles some task of which has fit errors (FitFailedRoles): the first 64 as bits, the
  /// others (rare) by index.
  uint64_t failed_role_bits = 0;
  std::vector<int> failed_roles_beyond;
  void mark_role_failed(int role) {
    if (role < 64) {
      failed_role_bits |= uint64_t{1} << role;
    } else if (!role_failed(role)) {
      failed_roles_beyond.push_back(role);
    }
  }
  bool role_failed(int role) const {
    if (role < 64) return (failed_role_bits >> role) & 1U;
    return std::find(failed_roles_beyond.begin(), failed_roles_beyond.end(), role) != failed_roles_beyond.end();
  }
  std::string job_fit_errors;  ///< JobFitErrors
  std::optional<Condition> condition;  ///< the condition this session wrote
};

struct JobState {
  int model = -1;
  int queue = -1;  ///< model queue index
  std::string phase;  ///< the PodGroup phase as the session moves it (enqueue sets Inqueue)
  int32_t min_available = 0;
  int32_t priority = 0;
  int32_t min_task_total = 0;  ///< Σ minTaskMember
  std::array<int32_t, kTaskStatusCount> count{};
  int32_t pending_best_effort = 0;
  std::span<RoleState> roles;  ///< the session's (Session::role_states_)
  std::span<const int> tasks;  ///< in snapshot order (Session::job_task_ids_)
  Resource allocated;  ///< Σ requests of tasks in an allocated status (Volcano's job.Allocated)
  JobNotes* notes = nullptr;  ///< null until something is written (Session::notes_of; the session owns it)

  /// The first task recorded as fitting no node and why, nullptr when none.
  const std::pair<int, FitErrors>* first_fit_errors() const {
    return notes && !notes->fit_errors.empty() ? &notes->fit_errors.front() : nullptr;
  }
  const std::string& job_fit_errors() const;
  const std::optional<Condition>& condition() const;

  int32_t ready_num() const;  ///< Bound + Binding + Running + Allocated + Succeeded
  int32_t waiting_num() const { return count[static_cast<int>(TaskStatus::Pipelined)]; }
  int32_t valid_num() const;  ///< allocated statuses + Succeeded + Pipelined + Pending
  bool is_ready() const { return ready_num() + pending_best_effort >= min_available; }
  bool is_pipelined() const { return waiting_num() + ready_num() + pending_best_effort >= min_available; }
  bool is_starving() const { return waiting_num() + ready_num() < min_available; }
  bool is_pending() const { return phase.empty() || std::string_view(phase) == std::string_view("Pending"); }
  bool check_task_valid() const;
  bool check_task_ready() const;
  bool check_task_pipelined() const;
  /// Volcano's TaskHasFitErrors: another task of this (named) role already fit no node.
  bool task_has_fit_errors(int role) const;
  bool need_continue_allocating() const;
};

/// Which predicate an evaluation runs: allocate's (resources against FutureIdle, then the
/// plugins) or backfill's (the plugins only).
enum class SearchMode : uint8_t { Allocate = 0, Backfill = 1 };

class Session {
 public:
  Session(const SnapshotModel& model, const Config& config, const SessionOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // ---- the snapshot and the state ----
  const SnapshotModel& model;
  const Config& config;
  const SessionOptions& options;
  Nanos now = 0;

  std::vector<NodeState> nodes;
  std::vector<TaskState> tasks;  ///< one per model task
  std::vector<JobState> jobs;
  std::vector<int> job_of_model;  ///< model job -> session job or -1
  Resource total_resource;  ///< Σ allocatable of the session's nodes

  const ModelTask& mtask(int t) const { return model.tasks[static_cast<std::size_t>(t)]; }
  const ModelJob& mjob(int j) const { return model.jobs[static_cast<std::size_t>(jobs[static_cast<std::size_t>(j)].model)]; }
  const ModelNode& mnode(int n) const { return model.nodes[static_cast<std::size_t>(nodes[static_cast<std::size_t>(n)].model)]; }
  const ModelQueue& queue(int q) const { return model.queues[static_cast<std::size_t>(q)]; }
  JobState& job(int j) { return jobs[static_cast<std::size_t>(j)]; }
  const JobState& job(int j) const { return jobs[static_cast<std::size_t>(j)]; }
  TaskState& task(int t) { return tasks[static_cast<std::size_t>(t)]; }
  const TaskState& task(int t) const { return tasks[static_cast<std::size_t>(t)]; }
  NodeState& node(int n) { return nodes[static_cast<std::size_t>(n)]; }
  const NodeState& node(int n) const { return nodes[static_cast<std::size_t>(n)]; }
  int dims() const { return model.dim_count(); }
  /// True when `name` is among the configured actions (allocate promotes Pending PodGroups
  /// itself when enqueue is not).
  bool action_configured(const std::string& name) const;

  // ---- callback registration (each checks the plugin's Volcano switch) ----
  using CompareFn = std::function<int(int, int)>;
  using JobBoolFn = std::function<bool(int)>;
  using JobVoteFn = std::function<int(int)>;
  using JobValidFn = std::function<std::optional<ValidateResult>(int)>;
  using QueueBoolFn = std::function<bool(int)>;
  using QueueTaskBoolFn = std::function<bool(int, int)>;
  /// Returns 0 when the task may go on the node, else an id from intern_reasons().
  using PredicateFn = std::function<uint32_t(int task, int node)>;
  using NodeOrderFn = std::function<double(int task, int node)>;
  /// Adds a score per node of `nodes` to `scores` (same order).
  using BatchNodeOrderFn = std::function<void(int task, const std::vector<int>& nodes, std::vector<double>& scores)>;
  /// For a task, the score a BatchNodeOrderFn would add to every node alike, or nullopt when it
  /// depends on the node: lets a search score nodes as it goes instead of collecting them.
  using UniformScoreFn = std::function<std::optional<double>(int task)>;
  /// Victims among `candidates` and the plugin's vote (kAbstain: no opinion).
  using EvictableFn = std::function<std::pair<std::vector<int>, int>(int preemptor, const std::vector<int>& candidates)>;
  using TaskFn = std::function<void(int task)>;

  void add_job_order_fn(const PluginCtx& p, CompareFn fn);
  void add_queue_order_fn(const PluginCtx& p, CompareFn fn);
  void add_task_order_fn(const PluginCtx& p, CompareFn fn);
  void add_job_ready_fn(const PluginCtx& p, JobBoolFn fn);
  void add_job_pipelined_fn(const PluginCtx& p, JobVoteFn fn);
  void add_job_valid_fn(const PluginCtx& p, JobValidFn fn);
  void add_job_enqueueable_fn(const PluginCtx& p, JobVoteFn fn);
  void add_job_enqueued_fn(const PluginCtx& p, std::function<void(int)> fn);
  void add_job_starving_fn(const PluginCtx& p, JobBoolFn fn);
  void add_overused_fn(const PluginCtx& p, QueueBoolFn fn);
  void add_allocatable_fn(const PluginCtx& p, QueueTaskBoolFn fn);
  void add_preemptive_fn(const PluginCtx& p, QueueTaskBoolFn fn);
  void add_predicate_fn(const PluginCtx& p, PredicateFn fn);
  void add_node_order_fn(const PluginCtx& p, NodeOrderFn fn);
  void add_batch_node_order_fn(const PluginCtx& p, BatchNodeOrderFn fn, UniformScoreFn uniform = nullptr);
  /// A bound on a Preemptable function, for preempt's shortcuts: false only when the function
  /// would never keep `victim` among the victims of a preemptor whose job has priority
  /// `job_priority` and whose task has priority `task_priority`, whatever candidates come with
  /// it, for the rest of the preempt action. It is asked only about victims of another job than
  /// the preemptor's, may read only what preempt does not change (priorities, namespaces,
  /// priority classes), and its Preemptable function must never abstain.
  using VictimBoundFn = std::function<bool(int32_t job_priority, int32_t task_priority, int victim)>;
  void add_preemptable_fn(const PluginCtx& p, EvictableFn fn, VictimBoundFn bound = nullptr);
  /// What a Reclaimable function reads of the reclaimer. Anything (the default) is always
  /// right; QueueAndSignature promises it reads only the reclaimer's queue and what its task
  /// signature covers (request, placement), which lets reclaim skip a task whose like already
  /// failed to reclaim since the session last changed.
  enum class ReclaimerReads : uint8_t { Anything, QueueAndSignature };
  /// A bound on a Reclaimable function, for reclaim's shortcuts: false only when the function,
  /// in the session's present state (until its epoch changes), would keep `victim` among the
  /// victims of no reclaimer, whatever candidates come with it. Its Reclaimable function must
  /// never abstain.
  using ReclaimBoundFn = std::function<bool(int victim)>;
  void add_reclaimable_fn(const PluginCtx& p, EvictableFn fn, ReclaimerReads reads = ReclaimerReads::Anything,
                          ReclaimBoundFn bound = nullptr);
  /// True while every registered Reclaimable function reads only QueueAndSignature.
  bool reclaimers_alike_by_queue_and_signature() const { return reclaim_reads_queue_only_; }
  /// Changes whenever the session's state does (a node's tasks, a task's status, an event
  /// handler's call): equal epochs mean that nothing a plugin or predicate reads has changed.
  uint64_t epoch() const { return epoch_; }
  /// Volcano's EventHandler: called after a task is allocated or pipelined (allocate) and after
  /// it is evicted or rolled back (deallocate), with the task still naming its node.
  void add_event_handler(TaskFn on_allocate, TaskFn on_deallocate);

  // ---- how callbacks combine (session_plugins.go) ----
  /// First non-zero answer in tier order, else creation time, then uid (then namespace/name).
  bool job_order_less(int l, int r) const;
  bool queue_order_less(int l, int r) const;
  /// First non-zero answer, else the pod-name index, creation time, uid.
  bool task_order_less(int l, int r) const;
  bool job_ready(int j) const;        ///< AND
  bool job_pipelined(int j) const;    ///< votes: any Reject false, a tier with a Permit true
  std::optional<ValidateResult> job_valid(int j) const;  ///< first failure
  bool job_enqueueable(int j) const;  ///< votes, as job_pipelined
  void job_enqueued(int j) const;
  bool job_starving(int j) const;     ///< the first tier with a function decides (AND)
  bool overused(int q) const;         ///< OR
  bool allocatable(int q, int t) const;  ///< AND
  bool preemptive(int q, int t) const;   ///< AND
  /// Intersection of the victim sets per tier; the first tier that decides wins; nullopt when
  /// no plugin voted.
  std::optional<std::vector<int>> preemptable(int preemptor, const std::vector<int>& candidates) const;
  std::optional<std::vector<int>> reclaimable(int reclaimer, const std::vector<int>& candidates) const;
  /// False when `victim` (of another job) can be among preemptable()'s victims for no preemptor
  /// of these priorities: no tier has every Preemptable function's bound let it through (a
  /// function without a bound lets everything through). See VictimBoundFn.
  bool may_be_preemptable(int32_t job_priority, int32_t task_priority, int victim) const;
  /// False when `victim` can be among reclaimable()'s victims for no reclaimer while the epoch
  /// stays as it is: no tier has every Reclaimable function's bound let it through. See
  /// ReclaimBoundFn.
  bool may_be_reclaimable(int victim) const;
  uint32_t predicate(int t, int n) const;  ///< first failure
  double node_order(int t, int n) const;   ///< sum
  /// Σ batch scores; false when no plugin registered one.
  bool batch_node_order(int t, const std::vector<int>& nodes, std::vector<double>& scores) const;
  /// The batch score every node gets alike for this task, when every batch function says so.
  std::optional<double> uniform_batch_score(int t) const;

  // ---- reasons (node fit failures) ----
  /// An id for this list of reasons (0 is reserved for "fits").
  uint32_t intern_reasons(const std::vector<std::string>& reasons);
  const std::vector<std::string>& reasons(uint32_t id) const { return reason_lists_[id]; }

  // ---- primitives (statements and actions) ----
  /// Moves the task to another status, keeping the job's counters.
  void set_task_status(int t, TaskStatus s);
  /// Volcano's NodeInfo.AddTask / RemoveTask (by the status the task joined with).
  void node_add_task(int n, int t);
  void node_remove_task(int t);
  void fire_allocate(int t);
  void fire_deallocate(int t);
  /// Binds: status Binding, recorded in the result.
  void dispatch(int t);
  /// Records an eviction (a committed Evict).
  void record_eviction(int t);
  /// Volcano's Session.Allocate (backfill): allocate at once, and dispatch the job's allocated
  /// tasks when the job is ready.
  void allocate_and_dispatch(int t, int n);
  /// A PodGroup event (enqueue rejections).
  void record_podgroup_event(int j, const std::string& type, const std::string& reason, const std::string& message);
  void set_condition(int j, Condition c);
  /// The job's notes, made on first use (held by the session, in one pool).
  JobNotes& notes_of(int j);
  /// Records why task t fit no node (NodesFitErrors) and marks its role failed.
  void add_fit_errors(int t, FitErrors fe);
  /// Why task t fit no node, or nullptr.
  const FitErrors* fit_errors_of(int t) const;

  // ---- finding nodes (util.PredicateNodes, PrioritizeNodes, SelectBestNode) ----
  /// Volcano's CalculateNumOfFeasibleNodesToFind with its default flags.
  static int feasible_nodes_to_find(int nodes);
  /// Predicates nodes starting where the previous search stopped, until enough fit or all were
  /// tried; returns how many fit (kept for best_node). When none fits and `errors` is set, it
  /// gets every node's reasons.
  int predicate_nodes(int t, SearchMode mode, FitErrors* errors);
  /// Moves the node search's rotation on exactly as predicate_nodes(t, mode, nullptr) would,
  /// without collecting the nodes (for a search whose nodes a caller knows it will not use).
  /// While the session is unchanged, repeated calls for one task shape share a list of the
  /// nodes that fit and count along it instead of walking the nodes.
  void advance_search(int t, SearchMode mode);
  /// The nodes the last predicate_nodes found, in the order tried.
  const std::vector<int>& feasible() const { return feasible_; }
  /// Over the nodes the last predicate_nodes found for this task: for allocate, nodes where the
  /// task fits idle resources go first (gradient 1), then those where it fits only future idle
  /// resources; the best scored node of the first non-empty gradient (the first tried among
  /// equals); -1 when none. For backfill every such node is a candidate.
  int best_node(int t, SearchMode mode);
  /// Volcano's PrioritizeNodes then SortNodes (preempt): the nodes the last predicate_nodes found,
  /// the best score first, equals in the order tried; with `keep`, only the nodes it keeps.
  std::vector<int> sorted_feasible(int t, const std::function<bool(int)>& keep = nullptr);
  /// predicate_nodes then best_node, in one pass over the nodes when every batch score is the
  /// same for all nodes (the common case: it is then a constant). -1 when no node fits.
  int find_node(int t, SearchMode mode, FitErrors* errors);
  /// Marks the node changed: cached predicate results and scores for it are stale. Every change
  /// of the node's tasks or of what predicates and scores read of it must call this.
  void touch_node(int n) {
    node_cache_[static_cast<std::size_t>(n)].version++;
    ++epoch_;
  }
  /// True when the task fits the node's idle resources (else it can only be pipelined).
  bool fits_idle(int t, int n) const;
  bool fits_future_idle(int t, int n) const;
  /// Resource::greater_dims of the task against the node's FutureIdle (empty: fits).
  std::vector<int> future_idle_shortfall(int t, int n) const;

  // ---- the session's life ----
  /// Instantiates the configured plugins and calls their on_session_open, tier by tier.
  void open(const Registry& registry);
  void run_action(const std::string& name, const Registry& registry);
  /// Plugins' on_session_close, then PodGroup phases, events and the result.
  SessionResult close();
  /// The binds dispatched so far as (task, session node), in dispatch order, and the committed
  /// evictions: what close() reports, for callers that skip close()'s PodGroup and event work
  /// (`kai sim run` runs thousands of sessions and reads only the decisions).
  const std::vector<std::pair<int, int>>& binds() const { return binds_; }
  const std::vector<int>& evictions() const { return evictions_; }

  /// Volcano's JobInfo.FitError(): why the job's tasks wait.
  std::string job_fit_error(int j) const;
  /// The first plugin, in tier order, that keeps a share of queue `q` (proportion), with its
  /// name; nullopt when none does. Read-only (`kai job explain`).
  std::optional<QueueShare> queue_share(int q) const;
  /// Volcano's TaskSchedulingReason: (reason, message) of a task's PodScheduled condition.
  std::pair<std::string, std::string> task_scheduling_reason(int j, int t) const;

 private:
  struct Plugged {
    PluginCtx ctx;
    std::unique_ptr<Plugin> plugin;
  };
  template <class F>
  struct Fn {
    int tier;
    F fn;
  };
  struct NodeEval {
    int32_t key = -1;  ///< signature * 2 + mode
    uint32_t version = 0;
    uint32_t fail = 0;
    uint8_t gradient = 0;  ///< 1: fits idle, 2: fits future idle only
    bool scored = false;
    double score = 0;
  };
  /// Per node, one cache line: the node's version and the last two evaluations (tasks of two
  /// shapes alternate often, e.g. gpu and cpu gangs). A search reads only this line per node.
  struct alignas(64) NodeCache {
    uint32_t version = 0;
    uint8_t next = 0;  ///< which slot to replace next
    NodeEval slot[2];
  };

  void build_state();
  /// Evaluates (or finds cached) the predicate for a task (of signature key) on a node.
  NodeEval& evaluate(int t, int n, SearchMode mode, int32_t key);
  /// evaluate's cache lookup, inline for the node walks: the node's cached evaluation for this
  /// key, else a fresh one.
  NodeEval& cached_eval(int t, int n, SearchMode mode, int32_t key) {
    NodeCache& c = node_cache_[static_cast<std::size_t>(n)];
    for (NodeEval& e : c.slot) {
      if (e.key == key && e.version == c.version) return e;
    }
    return evaluate(t, n, mode, key);
  }
  double cached_score(int t, int n, NodeEval& e);
  /// The FitErrors of the nodes the last search found failing (search_fails_).
  FitErrors fit_errors_of_search();
  std::string job_phase(int j) const;
  bool status_updated(int j, const std::string& phase) const;
  void job_status_events(int j, const std::string& phase, SessionResult& result) const;

  /// The jobs' task lists and role counters, one block per job: one allocation for all jobs
  /// rather than two per job and session.
  std::vector<int> job_task_ids_;
  std::vector<RoleState> role_states_;

  std::vector<Plugged> plugins_;
  std::vector<Fn<CompareFn>> job_order_, queue_order_, task_order_;
  std::vector<Fn<JobBoolFn>> job_ready_, job_starving_;
  std::vector<Fn<JobVoteFn>> job_pipelined_, job_enqueueable_;
  std::vector<Fn<JobValidFn>> job_valid_;
  std::vector<Fn<std::function<void(int)>>> job_enqueued_;
  std::vector<Fn<QueueBoolFn>> overused_;
  std::vector<Fn<QueueTaskBoolFn>> allocatable_, preemptive_;
  std::vector<Fn<PredicateFn>> predicate_;
  std::vector<Fn<NodeOrderFn>> node_order_;
  std::vector<Fn<BatchNodeOrderFn>> batch_node_order_;
  std::vector<UniformScoreFn> batch_uniform_;  ///< parallel to batch_node_order_
  std::vector<Fn<EvictableFn>> preemptable_, reclaimable_;
  std::vector<VictimBoundFn> preemptable_bounds_;  ///< parallel to preemptable_ (null: none)
  std::vector<ReclaimBoundFn> reclaimable_bounds_;  ///< parallel to reclaimable_ (null: none)
  bool reclaim_reads_queue_only_ = true;
  std::deque<JobNotes> job_notes_;  ///< JobState::notes point here
  uint64_t epoch_ = 0;
  std::vector<std::pair<TaskFn, TaskFn>> event_handlers_;

  std::vector<std::vector<std::string>> reason_lists_;
  std::map<std::vector<std::string>, uint32_t> reason_ids_;
  std::vector<uint32_t> insufficient_;  ///< per dimension: the "Insufficient <dim>" reason id

  std::vector<NodeCache> node_cache_;
  std::vector<int> feasible_;  ///< the last predicate_nodes' fitting nodes
  std::vector<NodeEval*> feasible_evals_;  ///< and their evaluations
  std::vector<uint32_t> search_fails_;  ///< scratch for predicate_nodes
  std::vector<double> search_scores_;   ///< scratch for best_node
  std::vector<int> search_nodes_;
  std::vector<NodeEval*> search_evals_;
  int last_processed_ = 0;  ///< where the next node search starts (kube-scheduler's rotation)
  /// advance_search's lists of fitting nodes, per signature key, valid for one epoch.
  struct SearchMemo {
    uint64_t epoch = 0;
    int walks = 0;  ///< searches walked in this epoch (the list is built after a few)
    bool built = false;
    std::vector<int> fit;  ///< ascending
    /// A find_node of this key failed in this epoch, with these errors: every later one fails
    /// alike (a failed walk visits every node, so it leaves the rotation where it was).
    bool failed = false;
    FitErrors fail_errors;
  };
  std::map<int32_t, SearchMemo> search_memo_;
  /// The memo of a search key, reset when the session's epoch moved on since it was written.
  SearchMemo& memo_of(int32_t key);

  std::vector<std::pair<int, int>> binds_;  ///< task, node
  std::vector<int> evictions_;
  std::vector<Event> events_;
};

/// The statement: a job's tentative decisions, committed or discarded as one unit
/// (framework/statement.go). Allocate and Pipeline change the session at once (so the next task
/// sees the node as used); Commit dispatches binds and evictions; Discard undoes in reverse
/// order and remembers each task's last transaction for the PodGroup message.
class Statement {
 public:
  explicit Statement(Session& s) : s_(s) {}
  void allocate(int t, int n);
  void pipeline(int t, int n);
  /// The task becomes Releasing (its resources FutureIdle for others); evicted on Commit.
  void evict(int t);
  void commit();
  void discard();
  /// Discards the operations after the first `mark` (preempt and reclaim undo the evictions made
  /// on a node that did not take the preemptor after all).
  void discard_from(std::size_t mark);
  bool empty() const { return ops_.empty(); }
  std::size_t size() const { return ops_.size(); }

 private:
  enum class Op : uint8_t { Allocate, Pipeline, Evict };
  struct Operation {
    Op op;
    int task;
    TaskStatus before;  ///< Evict: the status to restore on Discard
  };
  void unallocate(int t);
  void unevict(int t, TaskStatus previous);

  Session& s_;
  std::vector<Operation> ops_;
};

}  // namespace kai::scheduler
