#include "lib/scheduler/actions/victims.h"

namespace kai::scheduler {

std::vector<std::vector<int>> tasks_by_node(const Session& s) {
  std::vector<std::vector<int>> out(s.nodes.size());
  for (std::size_t t = 0; t < s.tasks.size(); ++t) {
    const int n = s.tasks[t].node;
    if (n >= 0) out[static_cast<std::size_t>(n)].push_back(static_cast<int>(t));
  }
  return out;
}

bool victims_free_enough(const Session& s, int preemptor, int n, const std::vector<int>& victims) {
  if (victims.empty()) return false;  // "no victims"
  const NodeState& ns = s.node(n);
  Resource future = ns.idle;
  future.add(ns.releasing);
  future.sub(ns.pipelined);
  for (int v : victims) future.add(s.mtask(v).request);
  return s.mtask(preemptor).request.less_equal(future, DimDefault::Zero);
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
