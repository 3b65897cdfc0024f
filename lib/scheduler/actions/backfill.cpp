// backfill (actions/backfill/backfill.go): best-effort tasks (no requests) of jobs that are
// past Pending and valid, in queue, job and task order, each to its best node at once (bound
// when the job is ready).

#include "lib/scheduler/actions/heap.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {

void run_backfill(Session& s) {
  Heap queues([&s](int l, int r) { return s.queue_order_less(l, r); });
  std::vector<std::unique_ptr<Heap>> jobs(s.model.queues.size());
  std::vector<std::unique_ptr<Heap>> tasks(s.jobs.size());
  for (std::size_t ji = 0; ji < s.jobs.size(); ++ji) {
    const int j = static_cast<int>(ji);
    const JobState& js = s.job(j);
    if (js.is_pending() || s.job_valid(j)) continue;
    for (int t : js.tasks) {
      if (!s.mtask(t).best_effort) continue;
      TaskStatus st = s.task(t).status;
      if (st == TaskStatus::Pipelined) {
        // A pipelined best-effort task is un-pipelined and tried again.
        s.set_task_status(t, TaskStatus::Pending);
        s.node_remove_task(t);
        s.fire_deallocate(t);
        s.task(t).node = -1;
        st = TaskStatus::Pending;
      }
      if (st != TaskStatus::Pending) continue;
      if (!tasks[ji]) tasks[ji] = std::make_unique<Heap>([&s](int l, int r) { return s.task_order_less(l, r); });
      tasks[ji]->push(t);
    }
    if (!tasks[ji]) continue;
    auto& heap = jobs[static_cast<std::size_t>(js.queue)];
    if (!heap) {
      heap = std::make_unique<Heap>([&s](int l, int r) { return s.job_order_less(l, r); });
      queues.push(js.queue);
    }
    heap->push(j);
  }
  std::vector<int> order;
  while (!queues.empty()) {
    Heap& queue_jobs = *jobs[static_cast<std::size_t>(queues.pop())];
    while (!queue_jobs.empty()) {
      Heap& job_tasks = *tasks[static_cast<std::size_t>(queue_jobs.pop())];
      while (!job_tasks.empty()) order.push_back(job_tasks.pop());
    }
  }

  for (int t : order) {
    FitErrors errors;
    const int n = s.find_node(t, SearchMode::Backfill, &errors);
    if (n < 0) {
      s.add_fit_errors(t, std::move(errors));
      continue;
    }
    s.allocate_and_dispatch(t, n);
  }
}

}  // namespace kai::scheduler
