// allocate (actions/allocate/allocate.go): queue by queue (skipping overused ones), job by
// job, the job's pending tasks in task order go to the best feasible node inside one
// statement. A ready job commits (its tasks are bound) and, with tasks left, goes back for
// another turn; a job that is not ready keeps its statement when pipelined, else discards it.

#include "lib/scheduler/actions/heap.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

/// One job's turn: tasks until the job is ready (with more left) or none are left.
/// Returns true when the statement is to be committed.
bool allocate_tasks(Session& s, TaskQueues& tasks, int j, int q, Statement& stmt) {
  JobState& js = s.job(j);
  while (!tasks.empty(j)) {
    const int t = tasks.pop(j);
    if (!s.allocatable(q, t)) continue;
    // Another task of the same role already fit no node in this session.
    if (js.task_has_fit_errors(s.task(t).role)) continue;
    FitErrors errors;
    const int n = s.find_node(t, SearchMode::Allocate, &errors);
    if (n < 0) {  // no node fits
      s.add_fit_errors(t, std::move(errors));
      if (js.need_continue_allocating()) continue;
      break;
    }
    if (s.fits_idle(t, n)) {
      stmt.allocate(t, n);
    } else if (s.fits_future_idle(t, n)) {
      stmt.pipeline(t, n);
    }
    if (s.job_ready(j) && !tasks.empty(j)) break;
  }
  if (s.job_ready(j)) return true;
  // Not ready: a pipelined job keeps its reservations for the rest of the session (no binds);
  // otherwise everything is rolled back.
  if (!s.job_pipelined(j)) stmt.discard();
  return false;
}

}  // namespace

void run_allocate(Session& s) {
  const bool enqueue_configured = s.action_configured("enqueue");
  Heap queues([&s](int l, int r) { return s.queue_order_less(l, r); });
  std::vector<std::unique_ptr<SortedThenHeap>> jobs(s.model.queues.size());
  for (std::size_t ji = 0; ji < s.jobs.size(); ++ji) {
    const int j = static_cast<int>(ji);
    JobState& js = s.job(j);
    if (js.is_pending()) {
      // Without enqueue, allocate promotes Pending PodGroups itself (sim-session.md item 7).
      if (enqueue_configured) continue;
      js.phase = "Inqueue";
    }
    if (s.job_valid(j)) continue;  // gang: not enough valid pods
    // A job with nothing for allocate (every task placed, or only best-effort ones left) would
    // be popped and pushed back to no effect.
    bool pending = false;
    for (int t : js.tasks) {
      if (s.task(t).status == TaskStatus::Pending && !s.mtask(t).best_effort) {
        pending = true;
        break;
      }
    }
    if (!pending) continue;
    auto& heap = jobs[static_cast<std::size_t>(js.queue)];
    if (!heap) {
      heap = std::make_unique<SortedThenHeap>([&s](int l, int r) { return s.job_order_less(l, r); });
      queues.push(js.queue);
    }
    heap->push(j);
  }

  // Each job's pending tasks in task order, taken on its first turn.
  TaskQueues tasks(s.jobs.size(), [&s](int l, int r) { return s.task_order_less(l, r); });
  while (!queues.empty()) {
    const int q = queues.pop();
    if (s.overused(q)) continue;
    SortedThenHeap* queue_jobs = jobs[static_cast<std::size_t>(q)].get();
    if (queue_jobs == nullptr || queue_jobs->empty()) continue;
    const int j = queue_jobs->pop();
    if (!tasks.filled(j)) {
      // Best-effort tasks (no requests) are backfill's.
      tasks.fill(j, s.job(j).tasks, [&s](int t) { return s.task(t).status == TaskStatus::Pending && !s.mtask(t).best_effort; });
    }
    if (tasks.empty(j)) {
      queues.push(q);
      continue;
    }
    Statement stmt(s);
    const bool commit = allocate_tasks(s, tasks, j, q, stmt);
    if (!tasks.empty(j)) queue_jobs->push(j);
    if (commit) stmt.commit();
    queues.push(q);
  }
}

}  // namespace kai::scheduler
