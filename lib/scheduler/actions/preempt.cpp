// preempt (actions/preempt/preempt.go): jobs that are starving (not enough ready and pipelined
// tasks) take resources from lower jobs of their own queue. Per queue, per starving job (job
// order), per pending task (task order): on the best-scored nodes the task's predicates pass,
// victims are the node's Bound/Running preemptable tasks of other jobs of the same queue that
// every tier's Preemptable functions allow; they are evicted lowest first until the task fits
// FutureIdle and its queue allows it, and the task is pipelined there. The job's evictions are
// committed only when the job is then pipelined. A second phase lets a job's pending tasks evict
// its own lower-priority running tasks (committed per task).
//
// With the argument enableTopologyAwarePreemption (Volcano's topologyAwarePreempt, after
// kube-scheduler's default preemption) a task does not take the first node that works: victims
// are chosen on a number of candidate nodes (minCandidateNodesPercentage of the nodes the
// predicates pass, at least minCandidateNodesAbsolute, at most maxCandidateNodesAbsolute): every
// preemptable candidate is taken off, then the most important ones (higher priority first) are
// given back while the task still fits; the node is then picked as kube-scheduler picks one (the
// lowest highest victim priority, the smallest sum of priorities, the fewest victims), its victims
// are evicted and the task is pipelined there.
//
// Where kai differs: queues are visited in queue order (Volcano ranges over a Go map), and the
// evictions made on a node that then cannot take the preemptor are undone before the next node.
// With topology-aware preemption the candidates are looked for from the first feasible node
// (Volcano starts at a random offset), tied picks go to the earlier node (kube-scheduler's last
// criterion, the victims' start times, is not in kai's model), topologyAwarePreemptWorkerNum is
// accepted but the dry runs run one after another, and there are no PodDisruptionBudgets to weigh.

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>

#include "lib/scheduler/actions/heap.h"
#include "lib/scheduler/actions/victims.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

using VictimFilter = std::function<bool(int victim)>;

/// Volcano's PreemptableStatus and the empty-request rule shared by both phases.
bool running_with_request(const Session& s, int v) {
  const TaskStatus st = s.task(v).status;
  return (st == TaskStatus::Bound || st == TaskStatus::Running) && !s.mtask(v).best_effort;
}

/// A task preempt may take between jobs, when the action starts on node n: Bound or Running
/// there, preemptable, with a request.
bool candidate_at_start(const Session& s, int v, int n) {
  const TaskState& vs = s.task(v);
  return vs.node == n && vs.job >= 0 && running_with_request(s, v) && s.mtask(v).preemptable;
}

/// The tasks still on node n (of those there when the action started) that `filter` lets go.
std::vector<int> preemptees_on(const Session& s, const TasksByNode& on_node, int n, const VictimFilter& filter) {
  std::vector<int> out;
  for (int v : on_node[static_cast<std::size_t>(n)]) {
    if (s.task(v).node == n && filter(v)) out.push_back(v);
  }
  return out;
}

/// What the candidates on a node could free at most, or nullptr when the node has none.
using CandidateBound = std::function<const Resource*(int node)>;

/// The shortcut between jobs of a queue: of the queue's candidates when the action starts (the
/// Bound or Running preemptable tasks with a request), those the Preemptable functions' bounds
/// let through for a preemptor of given job and task priorities, counted and summed per node.
/// Evictions only take candidates away, so what these cannot free no choice of victims can.
struct PriorityBound {
  int count = 0;
  std::vector<int> slot;  ///< per node: index into sums, -1 when none is on the node
  std::vector<Resource> sums;
};

class PriorityBounds {
 public:
  PriorityBounds(const Session& s, const std::vector<int>& candidates, const std::vector<char>& is_candidate)
      : s_(s), candidates_(candidates), is_candidate_(is_candidate) {}

  /// Whether some victim of another job than the preemptor's may exist, and the bound per node.
  const PriorityBound& of(int preemptor, bool& some_victim) {
    const int j = s_.task(preemptor).job;
    const int32_t jp = s_.job(j).priority, tp = s_.mtask(preemptor).priority;
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(jp)) << 32) | static_cast<uint32_t>(tp);
    auto it = bounds_.find(key);
    if (it == bounds_.end()) {
      PriorityBound b;
      b.slot.assign(s_.nodes.size(), -1);
      for (int v : candidates_) {
        if (!s_.may_be_preemptable(jp, tp, v)) continue;
        ++b.count;
        int& at = b.slot[static_cast<std::size_t>(s_.task(v).node)];
        if (at < 0) {
          at = static_cast<int>(b.sums.size());
          b.sums.push_back(s_.model.empty_resource());
        }
        b.sums[static_cast<std::size_t>(at)].add(s_.mtask(v).request);
      }
      it = bounds_.emplace(key, std::move(b)).first;
    }
    // The preemptor's own job's candidates are never its victims here.
    int own = 0;
    for (int v : s_.job(j).tasks) {
      if (is_candidate_[static_cast<std::size_t>(v)] && s_.may_be_preemptable(jp, tp, v)) ++own;
    }
    some_victim = it->second.count > own;
    return it->second;
  }

 private:
  const Session& s_;
  const std::vector<int>& candidates_;
  const std::vector<char>& is_candidate_;
  std::unordered_map<uint64_t, PriorityBound> bounds_;
};

/// The preempt action's arguments (`configurations: [{name: preempt, arguments: {...}}]`), with
/// Volcano's defaults; values of the wrong type keep the default, out-of-range ones are reset.
struct PreemptArgs {
  bool topology_aware = false;
  int min_percentage = 10;
  int min_absolute = 1;
  int max_absolute = 100;
};

PreemptArgs preempt_args(const Session& s) {
  PreemptArgs a;
  auto it = s.config.configurations.find("preempt");
  if (it == s.config.configurations.end() || !it->second.is_object()) return a;
  const json& args = it->second;
  auto get_bool = [&](const char* key, bool& out) {
    auto v = args.find(key);
    if (v != args.end() && v->is_boolean()) out = v->get<bool>();
  };
  auto get_int = [&](const char* key, int& out) {
    auto v = args.find(key);
    if (v != args.end() && v->is_number_integer()) out = v->get<int>();
  };
  get_bool("enableTopologyAwarePreemption", a.topology_aware);
  get_int("minCandidateNodesPercentage", a.min_percentage);
  get_int("minCandidateNodesAbsolute", a.min_absolute);
  get_int("maxCandidateNodesAbsolute", a.max_absolute);
  if (a.min_percentage < 0 || a.min_percentage > 100) a.min_percentage = 10;
  if (a.min_absolute < 1) a.min_absolute = 1;
  if (a.max_absolute < 1) a.max_absolute = 100;
  return a;
}

/// A node where preemption would work, and the victims it would take (kube-scheduler's
/// SelectVictimsOnNode): all preemptable candidates off, then the most important given back
/// while the preemptor still fits.
struct Candidate {
  int node = -1;
  std::vector<int> victims;
};

std::optional<Candidate> victims_on_node(Session& s, int preemptor, int n, const std::vector<int>& preemptees) {
  std::vector<int> potential = s.preemptable(preemptor, preemptees).value_or(std::vector<int>{});
  if (potential.empty()) return std::nullopt;  // "No preemption victims found for incoming pod"
  if (!fits_once_freed(s, preemptor, n, potential)) return std::nullopt;
  // MoreImportantPod: higher priority first (kai's model has no start times: then task order).
  std::stable_sort(potential.begin(), potential.end(), [&s](int l, int r) {
    if (s.mtask(l).priority != s.mtask(r).priority) return s.mtask(l).priority > s.mtask(r).priority;
    return s.task_order_less(l, r);
  });
  Candidate c;
  c.node = n;
  for (std::size_t i = 0; i < potential.size(); ++i) {
    // Given back, would the preemptor still fit? Off the node are the victims so far and the
    // candidates not looked at yet.
    std::vector<int> off = c.victims;
    off.insert(off.end(), potential.begin() + static_cast<std::ptrdiff_t>(i) + 1, potential.end());
    if (!fits_once_freed(s, preemptor, n, off)) c.victims.push_back(potential[i]);
  }
  return c;
}

/// kube-scheduler's pickOneNodeForPreemption without PodDisruptionBudgets and start times: a
/// node without victims, else the lowest highest victim priority, the smallest sum of victim
/// priorities (each offset by 2^31, so more victims weigh more), the fewest victims, the first.
const Candidate* pick_candidate(const Session& s, const std::vector<Candidate>& candidates) {
  const Candidate* best = nullptr;
  int64_t best_high = 0, best_sum = 0;
  for (const Candidate& c : candidates) {
    if (c.victims.empty()) return &c;
    int64_t high = std::numeric_limits<int64_t>::min(), sum = 0;
    for (int v : c.victims) {
      high = std::max<int64_t>(high, s.mtask(v).priority);
      sum += static_cast<int64_t>(s.mtask(v).priority) + (int64_t{1} << 31);
    }
    const bool better = best == nullptr || high < best_high || (high == best_high && sum < best_sum) ||
                        (high == best_high && sum == best_sum && c.victims.size() < best->victims.size());
    if (better) {
      best = &c;
      best_high = high;
      best_sum = sum;
    }
  }
  return best;
}

/// Volcano's topologyAwarePreempt: the dry runs over the candidate nodes, the pick, then the
/// evictions and the pipelining. True when the preemptor was pipelined.
bool topology_aware_preempt(Session& s, Statement& stmt, int preemptor, const TasksByNode& on_node,
                            const VictimFilter& filter, const PreemptArgs& args) {
  const int q = s.job(s.task(preemptor).job).queue;
  const int found = s.predicate_nodes(preemptor, SearchMode::Backfill, nullptr);
  if (found == 0) return false;
  const std::vector<int> feasible = s.feasible();
  // calculateNumCandidates
  int wanted = static_cast<int>(static_cast<int64_t>(feasible.size()) * args.min_percentage / 100);
  wanted = std::max(wanted, args.min_absolute);
  wanted = std::min(wanted, args.max_absolute);
  wanted = std::min(wanted, static_cast<int>(feasible.size()));
  std::vector<Candidate> candidates;
  for (int n : feasible) {
    if (static_cast<int>(candidates.size()) >= wanted) break;
    if (auto c = victims_on_node(s, preemptor, n, preemptees_on(s, on_node, n, filter))) candidates.push_back(std::move(*c));
  }
  const Candidate* best = pick_candidate(s, candidates);
  if (best == nullptr) return false;
  const std::size_t mark = stmt.size();
  for (int v : best->victims) stmt.evict(v);
  if (!s.allocatable(q, preemptor) || !s.fits_future_idle(preemptor, best->node)) {
    stmt.discard_from(mark);
    return false;
  }
  stmt.pipeline(preemptor, best->node);
  return true;
}

/// Volcano's preempt(): true when the preemptor was pipelined on some node. `bound` is read only
/// with the session's shortcuts on.
bool preempt_task(Session& s, Statement& stmt, int preemptor, const TasksByNode& on_node,
                  const VictimFilter& filter, const CandidateBound& bound) {
  const int q = s.job(s.task(preemptor).job).queue;
  if (s.predicate_nodes(preemptor, SearchMode::Backfill, nullptr) == 0) return false;
  auto fits = [&](int n) { return s.allocatable(q, preemptor) && s.fits_future_idle(preemptor, n); };
  // Nodes where no choice of victims could free enough are left out before sorting: the
  // victims_free_enough checks below would pass them over anyway.
  auto may_fit = [&](int n) {
    const Resource* could_free = bound(n);
    return could_free != nullptr && may_free_enough(s, preemptor, n, *could_free, nullptr);
  };
  for (int n : s.options.shortcuts ? s.sorted_feasible(preemptor, may_fit) : s.sorted_feasible(preemptor)) {
    const std::vector<int> preemptees = preemptees_on(s, on_node, n, filter);
    // The victims are some of the candidates: when all of them cannot free enough, none can.
    if (!victims_free_enough(s, preemptor, n, preemptees)) continue;
    const std::vector<int> victims = s.preemptable(preemptor, preemptees).value_or(std::vector<int>{});
    if (!victims_free_enough(s, preemptor, n, victims)) continue;
    const std::size_t mark = stmt.size();
    Heap heap = victim_heap(s, preemptor, victims);
    while (!heap.empty() && !fits(n)) stmt.evict(heap.pop());
    if (fits(n)) {
      stmt.pipeline(preemptor, n);
      return true;
    }
    stmt.discard_from(mark);
  }
  return false;
}

}  // namespace

void run_preempt(Session& s) {
  const PreemptArgs args = preempt_args(s);
  StarvingJobs sj = starving_jobs(s);
  std::vector<int>& queue_order = sj.queues;
  std::vector<std::unique_ptr<Heap>>& starving = sj.by_queue;
  TaskQueues& tasks = sj.pending;
  const std::vector<int>& under_request = sj.jobs;
  // Without a starving job neither phase does anything: skip the per-node work.
  if (under_request.empty()) return;
  const auto on_node = tasks_by_node(s);
  // The candidates between jobs when the action starts, per queue (for PriorityBounds).
  std::vector<std::vector<int>> queue_candidates(s.model.queues.size());
  std::vector<char> is_candidate(s.tasks.size(), 0);
  if (s.options.shortcuts && !args.topology_aware) {
    for (std::size_t n = 0; n < on_node.size(); ++n) {
      for (int v : on_node[n]) {
        if (!candidate_at_start(s, v, static_cast<int>(n))) continue;
        queue_candidates[static_cast<std::size_t>(s.job(s.task(v).job).queue)].push_back(v);
        is_candidate[static_cast<std::size_t>(v)] = 1;
      }
    }
  }
  std::stable_sort(queue_order.begin(), queue_order.end(), [&s](int l, int r) { return s.queue_order_less(l, r); });

  for (int q : queue_order) {
    // Between jobs of the queue.
    Heap* jobs = starving[static_cast<std::size_t>(q)].get();
    PriorityBounds priority_bounds(s, queue_candidates[static_cast<std::size_t>(q)], is_candidate);
    while (jobs != nullptr && !jobs->empty()) {
      const int j = jobs->pop();
      Statement stmt(s);
      bool assigned = false;
      while (s.job_starving(j) && !tasks.empty(j)) {
        const int t = tasks.pop(j);
        const VictimFilter other_jobs = [&s, j, q](int v) {
          const int vj = s.task(v).job;
          return running_with_request(s, v) && s.mtask(v).preemptable && vj >= 0 && vj != j && s.job(vj).queue == q;
        };
        bool done = false;
        if (args.topology_aware) {
          done = topology_aware_preempt(s, stmt, t, on_node, other_jobs, args);
        } else if (s.options.shortcuts) {
          bool some_victim = false;
          const PriorityBound& b = priority_bounds.of(t, some_victim);
          if (some_victim) {
            const CandidateBound bound = [&b](int n) {
              const int at = b.slot[static_cast<std::size_t>(n)];
              return at < 0 ? nullptr : &b.sums[static_cast<std::size_t>(at)];
            };
            done = preempt_task(s, stmt, t, on_node, other_jobs, bound);
          } else {
            // No victim anywhere: only the node search's rotation moves on, as it would.
            s.advance_search(t, SearchMode::Backfill);
          }
        } else {
          done = preempt_task(s, stmt, t, on_node, other_jobs, nullptr);
        }
        if (done) assigned = true;
      }
      if (!s.job_pipelined(j)) {
        stmt.discard();
        continue;
      }
      stmt.commit();
      if (assigned) jobs->push(j);
    }
    // Between tasks of one job: a pending task may evict the job's own lower tasks.
    for (int j : under_request) {
      // The job's own tasks with a request, Bound or Running when the phase starts, per node.
      std::unordered_map<int, Resource> own;
      for (int v : s.job(j).tasks) {
        if (s.task(v).node >= 0 && running_with_request(s, v)) {
          auto it = own.try_emplace(s.task(v).node, s.model.empty_resource()).first;
          it->second.add(s.mtask(v).request);
        }
      }
      if (s.options.shortcuts && !args.topology_aware && own.empty()) {
        // No task of its own to evict anywhere: the first pending task's search would keep no
        // node and fail, so only its rotation moves on, as it would; the job's next tasks are
        // not tried. The first in task order needs no heap of them all.
        if (const int t = first_pending_preemptor(s, j); t >= 0) s.advance_search(t, SearchMode::Backfill);
        continue;
      }
      TaskHeap pending = pending_preemptors(s, j);
      if (pending.empty()) continue;
      const CandidateBound own_tasks = [&own](int n) {
        auto it = own.find(n);
        return it == own.end() ? nullptr : &it->second;
      };
      while (!pending.empty()) {
        const int t = pending.pop();
        const VictimFilter same_job = [&s, j](int v) { return running_with_request(s, v) && s.task(v).job == j; };
        Statement stmt(s);
        const bool assigned = args.topology_aware ? topology_aware_preempt(s, stmt, t, on_node, same_job, args)
                                                  : preempt_task(s, stmt, t, on_node, same_job, own_tasks);
        stmt.commit();
        if (!assigned) break;
      }
    }
  }
}

}  // namespace kai::scheduler
