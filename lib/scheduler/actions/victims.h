#pragma once
// What preempt and reclaim share (Volcano's preempt.go, reclaim.go, util.ValidateVictims and
// Session.BuildVictimsPriorityQueue): the running tasks of each node, the check that victims free
// enough, and the order victims are evicted in.

#include <memory>
#include <span>
#include <vector>

#include "lib/scheduler/actions/heap.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {

/// The tasks on each session node when the action starts (index: session node), in task order,
/// in one block. An action reads a task's current status and node before using it: victims
/// become Releasing, preemptors join nodes as Pipelined.
class TasksByNode {
 public:
  explicit TasksByNode(const Session& s);
  std::span<const int> operator[](std::size_t n) const {
    return {ids_.data() + first_[n], static_cast<std::size_t>(first_[n + 1] - first_[n])};
  }
  std::size_t size() const { return first_.size() - 1; }

 private:
  std::vector<int> first_;  ///< per node, and one past the last
  std::vector<int> ids_;
};
inline TasksByNode tasks_by_node(const Session& s) { return TasksByNode(s); }

/// The preemptor fits node n's FutureIdle once the requests of `freed` are added to it (none:
/// as the node is).
bool fits_once_freed(const Session& s, int preemptor, int n, const std::vector<int>& freed);

/// Volcano's ValidateVictims: some victim, and the node's FutureIdle plus every victim's request
/// covers the preemptor's request.
bool victims_free_enough(const Session& s, int preemptor, int n, const std::vector<int>& victims);

/// The pending tasks of a job that may preempt or reclaim (not preemptionPolicy Never), in task
/// order.
TaskHeap pending_preemptors(Session& s, int j);
/// Whether task t is one of them.
bool is_pending_preemptor(const Session& s, int t);
/// The first of them in task order, -1 when there is none.
int first_pending_preemptor(const Session& s, int j);

/// Where preempt and reclaim start (Volcano's loop over the session's jobs): the queues of the
/// jobs that are neither Pending nor invalid, first seen first; among those jobs the starving
/// ones, per queue in job order and in session order; and each starving job's pending tasks.
struct StarvingJobs {
  std::vector<int> queues;
  std::vector<std::unique_ptr<Heap>> by_queue;  ///< per model queue; null when none starves
  TaskQueues pending;  ///< filled for the starving jobs
  std::vector<int> jobs;
};
StarvingJobs starving_jobs(Session& s);

/// A bound for victims_free_enough: false when the preemptor cannot fit the node even if every
/// request in `could_free` (less `except`, when given) were freed, whichever victims are chosen.
/// Evicting moves a victim's request to the node's releasing resources, so a bound summed when an
/// action starts stays a bound for the whole action. Checked before a node is looked at closer.
bool may_free_enough(const Session& s, int preemptor, int n, const Resource& could_free, const Resource* except);

/// Volcano's victims priority queue: within a job the task that task order puts last goes first;
/// across queues (neither the preemptor's) the newer queue's task goes first; otherwise the task
/// of the job that job order puts last goes first.
Heap victim_heap(const Session& s, int preemptor, const std::vector<int>& victims);

}  // namespace kai::scheduler
