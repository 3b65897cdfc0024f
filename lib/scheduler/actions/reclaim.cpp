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

#include <memory>

#include "lib/scheduler/actions/heap.h"
#include "lib/scheduler/actions/victims.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

/// True when the task was pipelined on some node.
bool reclaim_task(Session& s, Statement& stmt, int t, int q, const std::vector<std::vector<int>>& on_node) {
  for (int n = 0; n < static_cast<int>(s.nodes.size()); ++n) {
    if (s.predicate(t, n) != 0) continue;
    std::vector<int> reclaimees;
    for (int v : on_node[static_cast<std::size_t>(n)]) {
      const TaskState& vs = s.task(v);
      if (vs.node != n || vs.status != TaskStatus::Running || !s.mtask(v).preemptable || vs.job < 0) continue;
      const int vq = s.job(vs.job).queue;
      if (vq == q || !s.queue(vq).reclaimable) continue;
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

}  // namespace

void run_reclaim(Session& s) {
  const auto on_node = tasks_by_node(s);
  Heap queues([&s](int l, int r) { return s.queue_order_less(l, r); });
  std::vector<char> seen(s.model.queues.size(), 0);
  std::vector<std::unique_ptr<Heap>> starving(s.model.queues.size());
  std::vector<std::unique_ptr<Heap>> tasks(s.jobs.size());
  for (std::size_t ji = 0; ji < s.jobs.size(); ++ji) {
    const int j = static_cast<int>(ji);
    const JobState& js = s.job(j);
    if (js.is_pending() || s.job_valid(j)) continue;
    const auto q = static_cast<std::size_t>(js.queue);
    if (!seen[q]) {
      seen[q] = 1;
      queues.push(js.queue);
    }
    if (!s.job_starving(j)) continue;
    if (!starving[q]) starving[q] = std::make_unique<Heap>([&s](int l, int r) { return s.job_order_less(l, r); });
    starving[q]->push(j);
    tasks[ji] = std::make_unique<Heap>([&s](int l, int r) { return s.task_order_less(l, r); });
    for (int t : js.tasks) {
      if (s.task(t).status == TaskStatus::Pending && !s.mtask(t).preempt_never) tasks[ji]->push(t);
    }
  }

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
      if (reclaim_task(s, stmt, t, q, on_node)) assigned = true;
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
