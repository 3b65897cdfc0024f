// enqueue (actions/enqueue/enqueue.go): Pending PodGroups become Inqueue, queue by queue in
// queue order, job by job in job order, when they set no minResources or the JobEnqueueable
// votes admit them. A rejected job stays Pending; its queue is still put back.

#include "lib/scheduler/actions/heap.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {

void run_enqueue(Session& s) {
  Heap queues([&s](int l, int r) { return s.queue_order_less(l, r); });
  std::vector<std::unique_ptr<Heap>> jobs(s.model.queues.size());
  std::vector<char> queued(s.model.queues.size(), 0);
  for (std::size_t ji = 0; ji < s.jobs.size(); ++ji) {
    const JobState& js = s.jobs[ji];
    const auto q = static_cast<std::size_t>(js.queue);
    if (!queued[q]) {
      queued[q] = 1;
      queues.push(js.queue);
    }
    if (!js.is_pending()) continue;
    if (!jobs[q]) jobs[q] = std::make_unique<Heap>([&s](int l, int r) { return s.job_order_less(l, r); });
    jobs[q]->push(static_cast<int>(ji));
  }
  while (!queues.empty()) {
    const int q = queues.pop();
    auto& pending = jobs[static_cast<std::size_t>(q)];
    if (!pending || pending->empty()) continue;
    const int j = pending->pop();
    if (!s.mjob(j).has_min_resources || s.job_enqueueable(j)) {
      s.job_enqueued(j);
      s.job(j).phase = "Inqueue";
    }
    queues.push(q);
  }
}

}  // namespace kai::scheduler
