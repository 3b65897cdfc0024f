#include "lib/scheduler/actions/victims.h"

#include <cmath>

namespace kai::scheduler {

TasksByNode::TasksByNode(const Session& s) : first_(s.nodes.size() + 1, 0) {
  for (const TaskState& ts : s.tasks) {
    if (ts.node >= 0) first_[static_cast<std::size_t>(ts.node) + 1]++;
  }
  for (std::size_t n = 1; n < first_.size(); ++n) first_[n] += first_[n - 1];
  ids_.resize(static_cast<std::size_t>(first_.back()));
  std::vector<int> at(first_.begin(), first_.end() - 1);
  for (std::size_t t = 0; t < s.tasks.size(); ++t) {
    const int n = s.tasks[t].node;
    if (n >= 0) ids_[static_cast<std::size_t>(at[static_cast<std::size_t>(n)]++)] = static_cast<int>(t);
  }
}

bool fits_once_freed(const Session& s, int preemptor, int n, const std::vector<int>& freed) {
  const NodeState& ns = s.node(n);
  Resource future = ns.idle;
  future.add(ns.releasing);
  future.sub(ns.pipelined);
  for (int v : freed) future.add(s.mtask(v).request);
  return s.mtask(preemptor).request.less_equal(future, DimDefault::Zero);
}

bool victims_free_enough(const Session& s, int preemptor, int n, const std::vector<int>& victims) {
  if (victims.empty()) return false;  // "no victims"
  return fits_once_freed(s, preemptor, n, victims);
}

bool is_pending_preemptor(const Session& s, int t) {
  return s.task(t).status == TaskStatus::Pending && !s.mtask(t).preempt_never;
}

TaskHeap pending_preemptors(Session& s, int j) {
  std::vector<int> tasks;
  tasks.reserve(static_cast<std::size_t>(s.job(j).count[static_cast<std::size_t>(TaskStatus::Pending)]));
  for (int t : s.job(j).tasks) {
    if (is_pending_preemptor(s, t)) tasks.push_back(t);
  }
  return TaskHeap(std::move(tasks), [&s](int l, int r) { return s.task_order_less(l, r); });
}

int first_pending_preemptor(const Session& s, int j) {
  int first = -1;
  for (int t : s.job(j).tasks) {
    if (is_pending_preemptor(s, t) && (first < 0 || s.task_order_less(t, first))) first = t;
  }
  return first;
}

StarvingJobs starving_jobs(Session& s) {
  StarvingJobs out{{}, {}, TaskQueues(s.jobs.size(), [&s](int l, int r) { return s.task_order_less(l, r); }), {}};
  std::vector<char> seen(s.model.queues.size(), 0);
  out.by_queue.resize(s.model.queues.size());
  for (std::size_t ji = 0; ji < s.jobs.size(); ++ji) {
    const int j = static_cast<int>(ji);
    const JobState& js = s.job(j);
    if (js.is_pending() || s.job_valid(j)) continue;
    const auto q = static_cast<std::size_t>(js.queue);
    if (!seen[q]) {
      seen[q] = 1;
      out.queues.push_back(js.queue);
    }
    if (!s.job_starving(j)) continue;
    if (!out.by_queue[q]) out.by_queue[q] = std::make_unique<Heap>([&s](int l, int r) { return s.job_order_less(l, r); });
    out.by_queue[q]->push(j);
    out.jobs.push_back(j);
    out.pending.fill(j, js.tasks, [&s](int t) { return is_pending_preemptor(s, t); });
  }
  return out;
}

bool may_free_enough(const Session& s, int preemptor, int n, const Resource& could_free, const Resource* except) {
  const Resource& req = s.mtask(preemptor).request;
  const NodeState& ns = s.node(n);
  for (int d = 0; d < req.dims(); ++d) {
    if (!req.has(d)) continue;
    // FutureIdle is idle + releasing - pipelined; leaving out the pipelined part only loosens
    // the bound. The margin keeps the rounding of sums taken in another order on the safe side.
    double bound = ns.idle.get(d) + ns.releasing.get(d) + could_free.get(d);
    if (except != nullptr) bound -= except->get(d);
    const double slack = kMinResource + 1e-9 * (std::abs(ns.idle.get(d)) + std::abs(ns.releasing.get(d)) + std::abs(could_free.get(d)));
    if (req.get(d) > bound + slack) return false;
  }
  return true;
}

Heap victim_heap(const Session& s, int preemptor, const std::vector<int>& victims) {
  const int pq = s.task(preemptor).job >= 0 ? s.job(s.task(preemptor).job).queue : -1;
  Heap heap([&s, pq](int l, int r) {
    const int lj = s.task(l).job, rj = s.task(r).job;
    if (lj == rj) return s.task_order_less(r, l);
    const int lq = s.job(lj).queue, rq = s.job(rj).queue;
    if (lq != pq && lq != rq) {
      // Volcano's VictimQueueOrderFn with no plugin registering one: the newer queue first.
      const ModelQueue& a = s.queue(lq);
      const ModelQueue& b = s.queue(rq);
      if (a.creation != b.creation) return a.creation > b.creation;
      if (a.uid != b.uid) return a.uid > b.uid;
      return a.name > b.name;
    }
    return s.job_order_less(rj, lj);
  });
  for (int v : victims) heap.push(v);
  return heap;
}

}  // namespace kai::scheduler
