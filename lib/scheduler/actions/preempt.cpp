// preempt (actions/preempt/preempt.go): jobs that are starving (not enough ready and pipelined
// tasks) take resources from lower jobs of their own queue. Per queue, per starving job (job
// order), per pending task (task order): on the best-scored nodes the task's predicates pass,
// victims are the node's Bound/Running preemptable tasks of other jobs of the same queue that
// every tier's Preemptable functions allow; they are evicted lowest first until the task fits
// FutureIdle and its queue allows it, and the task is pipelined there. The job's evictions are
// committed only when the job is then pipelined. A second phase lets a job's pending tasks evict
// its own lower-priority running tasks (committed per task).
//
// Where kai differs: queues are visited in queue order (Volcano ranges over a Go map), and the
// evictions made on a node that then cannot take the preemptor are undone before the next node.
// The topology-aware arguments (enableTopologyAwarePreemption, ...) are not implemented.

#include <functional>
#include <memory>
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

/// Per node, for a bound on what victims could free (see may_free_enough): the requests of the
/// Bound or Running preemptable tasks with a request, per queue, when the action starts.
std::vector<QueueSums> preemptee_bounds(const Session& s, const std::vector<std::vector<int>>& on_node) {
  std::vector<QueueSums> out(s.nodes.size());
  for (std::size_t n = 0; n < out.size(); ++n) {
    for (int v : on_node[n]) {
      const TaskState& vs = s.task(v);
      if (vs.node != static_cast<int>(n) || vs.job < 0 || !running_with_request(s, v) || !s.mtask(v).preemptable) continue;
      add_to_queue_sums(s, out[n], s.job(vs.job).queue, s.mtask(v).request);
    }
  }
  return out;
}

/// What the candidates on a node could free at most, or nullptr when the node has none.
using CandidateBound = std::function<const Resource*(int node)>;

/// Volcano's preempt(): true when the preemptor was pipelined on some node.
bool preempt_task(Session& s, Statement& stmt, int preemptor, const std::vector<std::vector<int>>& on_node,
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
    std::vector<int> preemptees;
    for (int v : on_node[static_cast<std::size_t>(n)]) {
      if (s.task(v).node == n && filter(v)) preemptees.push_back(v);
    }
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
  StarvingJobs sj = starving_jobs(s);
  std::vector<int>& queue_order = sj.queues;
  std::vector<std::unique_ptr<Heap>>& starving = sj.by_queue;
  std::vector<std::unique_ptr<Heap>>& tasks = sj.pending;
  const std::vector<int>& under_request = sj.jobs;
  // Without a starving job neither phase does anything: skip the per-node work.
  if (under_request.empty()) return;
  const auto on_node = tasks_by_node(s);
  const auto by_queue = preemptee_bounds(s, on_node);
  std::stable_sort(queue_order.begin(), queue_order.end(), [&s](int l, int r) { return s.queue_order_less(l, r); });

  for (int q : queue_order) {
    // Between jobs of the queue.
    Heap* jobs = starving[static_cast<std::size_t>(q)].get();
    // The queue's bound on each node, looked up once for all its preemptors.
    std::vector<const Resource*> queue_bound;
    if (jobs != nullptr && !jobs->empty()) {
      queue_bound.resize(s.nodes.size());
      for (std::size_t n = 0; n < queue_bound.size(); ++n) queue_bound[n] = queue_sum(by_queue[n], q);
    }
    const CandidateBound same_queue = [&queue_bound](int n) { return queue_bound[static_cast<std::size_t>(n)]; };
    while (jobs != nullptr && !jobs->empty()) {
      const int j = jobs->pop();
      Heap& pending = *tasks[static_cast<std::size_t>(j)];
      Statement stmt(s);
      bool assigned = false;
      while (s.job_starving(j) && !pending.empty()) {
        const int t = pending.pop();
        const VictimFilter other_jobs = [&s, j, q](int v) {
          const int vj = s.task(v).job;
          return running_with_request(s, v) && s.mtask(v).preemptable && vj >= 0 && vj != j && s.job(vj).queue == q;
        };
        if (preempt_task(s, stmt, t, on_node, other_jobs, same_queue)) assigned = true;
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
      auto pending = pending_preemptors(s, j);
      if (pending->empty()) continue;
      // The job's own tasks with a request, Bound or Running when the phase starts, per node.
      std::unordered_map<int, Resource> own;
      for (int v : s.job(j).tasks) {
        if (s.task(v).node >= 0 && running_with_request(s, v)) {
          auto it = own.try_emplace(s.task(v).node, s.model.empty_resource()).first;
          it->second.add(s.mtask(v).request);
        }
      }
      const CandidateBound own_tasks = [&own](int n) {
        auto it = own.find(n);
        return it == own.end() ? nullptr : &it->second;
      };
      while (!pending->empty()) {
        const int t = pending->pop();
        const VictimFilter same_job = [&s, j](int v) { return running_with_request(s, v) && s.task(v).job == j; };
        Statement stmt(s);
        const bool assigned = preempt_task(s, stmt, t, on_node, same_job, own_tasks);
        stmt.commit();
        if (!assigned) break;
      }
    }
  }
}

}  // namespace kai::scheduler
