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

/// Per node, its reclaimees when the action starts: the Running preemptable tasks of reclaimable
/// queues, in the node's order. Reclaim never makes a task Running, so the reclaimees of a later
/// moment are the ones of these still Running there. One block for all nodes.
class Reclaimees {
 public:
  explicit Reclaimees(const Session& s) {
    const TasksByNode on_node = tasks_by_node(s);
    begin_.reserve(s.nodes.size() + 1);
    for (std::size_t n = 0; n < s.nodes.size(); ++n) {
      begin_.push_back(static_cast<int>(tasks_.size()));
      for (int v : on_node[n]) {
        if (is_reclaimee_of_any_queue(s, v, static_cast<int>(n))) tasks_.push_back(v);
      }
    }
    begin_.push_back(static_cast<int>(tasks_.size()));
  }
  std::span<const int> of(int n) const {
    const auto i = static_cast<std::size_t>(n);
    return {tasks_.data() + begin_[i], tasks_.data() + begin_[i + 1]};
  }

 private:
  std::vector<int> begin_;  ///< per node and one more: its range of tasks_
  std::vector<int> tasks_;
};

/// The reclaimees that the Reclaimable functions may keep as victims (Session::may_be_reclaimable),
/// by node, and the nodes that have any: valid while the session's epoch stays the same, and
/// built again when it has moved on. Reclaimers that fail leave the epoch as it was, so the
/// reclaimers after them walk only these nodes, usually none.
class MayBeVictims {
 public:
  MayBeVictims(const Session& s, const Reclaimees& reclaimees) : s_(s), reclaimees_(reclaimees) {}

  /// Nodes after `after` (in node order) with some victim, for the present epoch.
  std::span<const int> nodes_after(int after) {
    refresh();
    auto first = std::upper_bound(nodes_.begin(), nodes_.end(), after);
    return {nodes_.data() + (first - nodes_.begin()), nodes_.data() + nodes_.size()};
  }
  bool stale() const { return epoch_ != s_.epoch(); }
  /// The victims of a node nodes_after gave, for the present epoch.
  std::span<const int> on(int n) const {
    const auto i = static_cast<std::size_t>(std::lower_bound(nodes_.begin(), nodes_.end(), n) - nodes_.begin());
    return {tasks_.data() + begin_[i], tasks_.data() + begin_[i + 1]};
  }

 private:
  void refresh() {
    if (built_ && !stale()) return;
    built_ = true;
    epoch_ = s_.epoch();
    nodes_.clear();
    begin_.clear();
    tasks_.clear();
    for (int n = 0; n < static_cast<int>(s_.nodes.size()); ++n) {
      const auto first = tasks_.size();
      for (int v : reclaimees_.of(n)) {
        if (s_.task(v).node == n && s_.task(v).status == TaskStatus::Running && s_.may_be_reclaimable(v)) tasks_.push_back(v);
      }
      if (tasks_.size() == first) continue;
      nodes_.push_back(n);
      begin_.push_back(static_cast<int>(first));
    }
    begin_.push_back(static_cast<int>(tasks_.size()));
  }

  const Session& s_;
  const Reclaimees& reclaimees_;
  bool built_ = false;
  uint64_t epoch_ = 0;
  std::vector<int> nodes_;  ///< in node order
  std::vector<int> begin_;  ///< per entry of nodes_ and one more: its range of tasks_
  std::vector<int> tasks_;
};

/// Tries the task on node n: its reclaimees of other queues, the Reclaimable functions' victims,
/// evicted in victim order until the task fits; true when it was pipelined there, else the
/// node's evictions are undone.
bool reclaim_on(Session& s, Statement& stmt, int t, int q, int n, std::span<const int> candidates, std::vector<int>& reclaimees) {
  if (s.predicate(t, n) != 0) return false;
  reclaimees.clear();
  for (int v : candidates) {
    const TaskState& vs = s.task(v);
    if (vs.node != n || vs.status != TaskStatus::Running || s.job(vs.job).queue == q) continue;
    reclaimees.push_back(v);
  }
  // The victims are some of the candidates: when all of them cannot free enough, none can.
  if (!victims_free_enough(s, t, n, reclaimees)) return false;
  const std::vector<int> victims = s.reclaimable(t, reclaimees).value_or(std::vector<int>{});
  if (!victims_free_enough(s, t, n, victims)) return false;
  const std::size_t mark = stmt.size();
  Heap heap = victim_heap(s, t, victims);
  while (!heap.empty() && !s.fits_future_idle(t, n)) stmt.evict(heap.pop());
  if (s.fits_future_idle(t, n)) {
    stmt.pipeline(t, n);
    return true;
  }
  stmt.discard_from(mark);
  return false;
}

/// True when the task was pipelined on some node (the first, in node order, where it can be).
bool reclaim_task(Session& s, Statement& stmt, int t, int q, const Reclaimees& all, MayBeVictims& may) {
  std::vector<int> reclaimees;
  if (!s.options.shortcuts) {
    for (int n = 0; n < static_cast<int>(s.nodes.size()); ++n) {
      if (reclaim_on(s, stmt, t, q, n, all.of(n), reclaimees)) return true;
    }
    return false;
  }
  // Only the nodes where the victims the Reclaimable functions may keep (of other queues) could
  // free enough. A node whose evictions were undone moves the epoch on: the walk then goes on
  // over the nodes after it, found afresh.
  std::vector<int> others;
  int last = -1;
  bool again = true;
  while (again) {
    again = false;
    const std::span<const int> nodes = may.nodes_after(last);
    for (int n : nodes) {
      last = n;
      others.clear();
      for (int v : may.on(n)) {
        if (s.job(s.task(v).job).queue != q) others.push_back(v);
      }
      if (!victims_free_enough(s, t, n, others)) continue;
      if (reclaim_on(s, stmt, t, q, n, all.of(n), reclaimees)) return true;
      if (may.stale()) {
        again = true;
        break;
      }
    }
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
  TaskQueues& tasks = sj.pending;
  const bool any_starving = !sj.jobs.empty();

  // Without a starving job the loop below only pops queues: skip the per-node work.
  if (!any_starving) return;
  const Reclaimees reclaimees(s);
  MayBeVictims may(s, reclaimees);
  while (!queues.empty()) {
    const int q = queues.pop();
    if (s.overused(q)) continue;
    Heap* jobs = starving[static_cast<std::size_t>(q)].get();
    if (jobs == nullptr || jobs->empty()) continue;
    const int j = jobs->pop();
    Statement stmt(s);
    bool assigned = false;
    while (s.job_starving(j) && !tasks.empty(j)) {
      const int t = tasks.pop(j);
      if (!s.preemptive(q, t)) continue;
      if (failed.known(t, q)) continue;
      const uint64_t before = s.epoch();
      if (reclaim_task(s, stmt, t, q, reclaimees, may)) {
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
