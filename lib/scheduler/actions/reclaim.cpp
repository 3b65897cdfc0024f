// reclaim (actions/reclaim/reclaim.go): a starving job takes back resources its queue deserves
// from other queues. Queues in queue order (overused ones skipped), the best starving job of the
// queue, its pending tasks in task order: the queue must be Preemptive for the task; on each node
// (in node order) whose predicates the task passes, reclaimees are the Running preemptable tasks
// of other, reclaimable queues; the Reclaimable functions choose victims, which are evicted in
// victim order until the task fits the node's FutureIdle; the task is pipelined on the first node
// where it then fits. The job's evictions are committed only when the job is then pipelined, so a
// gang never evicts for a placement it cannot complete.
//
// Where kai differs: a job's turn takes its pending tasks while it is starving (one statement per
// turn, as preempt does) rather than one task per turn, and evictions on a node that then cannot
// take the task are undone before the next node.

#include <algorithm>
#include <memory>
#include <span>
#include <unordered_map>

#include "lib/scheduler/actions/heap.h"
#include "lib/scheduler/actions/victims.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

bool is_reclaimee_of_any_queue(const Session& s, int v, int n) {
  const TaskState& vs = s.task(v);
  return vs.node == n && vs.status == TaskStatus::Running && s.mtask(v).preemptable && vs.job >= 0 &&
         s.queue(s.job(vs.job).queue).reclaimable;
}

/// Per node, what reclaimees could free at most: the requests of the Running preemptable tasks
/// of reclaimable queues when the action starts, in all and per queue (see may_free_enough),
/// and those tasks in the node's order. Reclaim never makes a task Running, so the reclaimees of
/// a later moment are the ones of these still Running there. One block for all nodes (built in
/// every session that has a starving job: no allocation per node).
class ReclaimBounds {
 public:
  ReclaimBounds(const Session& s, const TasksByNode& on_node) {
    const std::size_t nodes = s.nodes.size();
    all_.reserve(nodes);
    sums_begin_.reserve(nodes + 1);
    tasks_begin_.reserve(nodes + 1);
    for (std::size_t n = 0; n < nodes; ++n) {
      sums_begin_.push_back(static_cast<int>(sums_.size()));
      tasks_begin_.push_back(static_cast<int>(tasks_.size()));
      Resource all = s.model.empty_resource();
      for (int v : on_node[n]) {
        if (!is_reclaimee_of_any_queue(s, v, static_cast<int>(n))) continue;
        tasks_.push_back(v);
        all.add(s.mtask(v).request);
        const int q = s.job(s.task(v).job).queue;
        auto first = sums_.begin() + sums_begin_.back();
        auto it = std::find_if(first, sums_.end(), [q](const auto& e) { return e.first == q; });
        if (it == sums_.end()) {
          sums_.emplace_back(q, s.model.empty_resource());
          it = sums_.end() - 1;
        }
        it->second.add(s.mtask(v).request);
      }
      all_.push_back(std::move(all));
    }
    sums_begin_.push_back(static_cast<int>(sums_.size()));
    tasks_begin_.push_back(static_cast<int>(tasks_.size()));
  }

  /// No reclaimee of any queue on the node.
  bool none(int n) const { return sums_begin_[idx(n)] == sums_begin_[idx(n) + 1]; }
  const Resource& all(int n) const { return all_[idx(n)]; }
  /// What the node's reclaimees of queue q could free, or nullptr when it has none.
  const Resource* of_queue(int n, int q) const {
    for (int i = sums_begin_[idx(n)]; i < sums_begin_[idx(n) + 1]; ++i) {
      if (sums_[static_cast<std::size_t>(i)].first == q) return &sums_[static_cast<std::size_t>(i)].second;
    }
    return nullptr;
  }
  std::span<const int> tasks(int n) const {
    return {tasks_.data() + tasks_begin_[idx(n)], tasks_.data() + tasks_begin_[idx(n) + 1]};
  }

 private:
  static std::size_t idx(int n) { return static_cast<std::size_t>(n); }
  std::vector<Resource> all_;
  std::vector<int> sums_begin_;  ///< per node and one more: its range of sums_
  std::vector<std::pair<int, Resource>> sums_;
  std::vector<int> tasks_begin_;  ///< per node and one more: its range of tasks_
  std::vector<int> tasks_;
};

/// True when the task was pipelined on some node.
bool reclaim_task(Session& s, Statement& stmt, int t, int q, const ReclaimBounds& bounds) {
  for (int n = 0; n < static_cast<int>(s.nodes.size()); ++n) {
    if (s.options.shortcuts && (bounds.none(n) || !may_free_enough(s, t, n, bounds.all(n), bounds.of_queue(n, q)))) continue;
    if (s.predicate(t, n) != 0) continue;
    std::vector<int> reclaimees;
    for (int v : bounds.tasks(n)) {
      const TaskState& vs = s.task(v);
      if (vs.node != n || vs.status != TaskStatus::Running || s.job(vs.job).queue == q) continue;
      reclaimees.push_back(v);
    }
    if (reclaimees.empty()) continue;
    // The victims are some of the candidates: when all of them cannot free enough, none can.
    if (!victims_free_enough(s, t, n, reclaimees)) continue;
    const std::vector<int> victims = s.reclaimable(t, reclaimees).value_or(std::vector<int>{});
    if (!victims_free_enough(s, t, n, victims)) continue;
    const std::size_t mark = stmt.size();
    Heap heap = victim_heap(s, t, victims);
    while (!heap.empty() && !s.fits_future_idle(t, n)) stmt.evict(heap.pop());
    if (s.fits_future_idle(t, n)) {
      stmt.pipeline(t, n);
      return true;
    }
    stmt.discard_from(mark);
  }
  return false;
}

/// Tasks that failed to reclaim, by (queue, signature), with the session epoch of the failure:
/// while the epoch is unchanged a task alike fails the same way, when every Reclaimable function
/// reads no more of the reclaimer than that (and the predicates read only the signature).
class FailedReclaims {
 public:
  explicit FailedReclaims(const Session& s) : s_(s), on_(s.options.shortcuts && s.reclaimers_alike_by_queue_and_signature()) {}
  bool known(int t, int q) const {
    if (!on_) return false;
    auto it = failed_.find(key(t, q));
    return it != failed_.end() && it->second == s_.epoch();
  }
  void note(int t, int q, uint64_t epoch_before) {
    // Only a failure that left the session as it found it says anything about the next task.
    if (on_ && s_.epoch() == epoch_before) failed_[key(t, q)] = epoch_before;
  }

 private:
  uint64_t key(int t, int q) const {
    return (static_cast<uint64_t>(static_cast<uint32_t>(q)) << 32) | static_cast<uint32_t>(s_.mtask(t).signature);
  }
  const Session& s_;
  const bool on_;
  std::unordered_map<uint64_t, uint64_t> failed_;
};

}  // namespace

void run_reclaim(Session& s) {
  FailedReclaims failed(s);
  StarvingJobs sj = starving_jobs(s);
  Heap queues([&s](int l, int r) { return s.queue_order_less(l, r); });
  for (int q : sj.queues) queues.push(q);
  std::vector<std::unique_ptr<Heap>>& starving = sj.by_queue;
  std::vector<std::unique_ptr<Heap>>& tasks = sj.pending;
  const bool any_starving = !sj.jobs.empty();

  // Without a starving job the loop below only pops queues: skip the per-node work.
  if (!any_starving) return;
  const auto on_node = tasks_by_node(s);
  const ReclaimBounds bounds(s, on_node);
  while (!queues.empty()) {
    const int q = queues.pop();
    if (s.overused(q)) continue;
    Heap* jobs = starving[static_cast<std::size_t>(q)].get();
    if (jobs == nullptr || jobs->empty()) continue;
    const int j = jobs->pop();
    Heap& pending = *tasks[static_cast<std::size_t>(j)];
    Statement stmt(s);
    bool assigned = false;
    while (s.job_starving(j) && !pending.empty()) {
      const int t = pending.pop();
      if (!s.preemptive(q, t)) continue;
      if (failed.known(t, q)) continue;
      const uint64_t before = s.epoch();
      if (reclaim_task(s, stmt, t, q, bounds)) {
        assigned = true;
      } else {
        failed.note(t, q, before);
      }
    }
    if (s.job_pipelined(j)) {
      stmt.commit();
      if (assigned) jobs->push(j);
    } else {
      stmt.discard();
    }
    queues.push(q);
  }
}

}  // namespace kai::scheduler
