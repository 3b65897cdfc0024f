// priority (plugins/priority/priority.go): higher task and job priority first; a lower
// priority job (or, within one job, a lower priority task) may be preempted.

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

class Priority : public Plugin {
 public:
  void on_session_open(Session& s, const PluginCtx& p) override {
    s.add_task_order_fn(p, [&s](int l, int r) {
      const int32_t lp = s.mtask(l).priority, rp = s.mtask(r).priority;
      if (lp == rp) return 0;
      return lp > rp ? -1 : 1;
    });
    s.add_job_order_fn(p, [&s](int l, int r) {
      const int32_t lp = s.job(l).priority, rp = s.job(r).priority;
      if (lp == rp) return 0;
      return lp > rp ? -1 : 1;
    });
    auto preemptable = [&s](int preemptor, const std::vector<int>& candidates) {
      std::vector<int> victims;
      const int pj = s.task(preemptor).job;
      for (int v : candidates) {
        const int vj = s.task(v).job;
        if (vj < 0 || pj < 0) continue;
        if (vj != pj) {
          if (s.job(vj).priority < s.job(pj).priority) victims.push_back(v);
        } else if (s.mtask(v).priority < s.mtask(preemptor).priority) {
          victims.push_back(v);
        }
      }
      return std::pair{victims, kPermit};
    };
    // Between jobs only the job priorities count (and a victim of the same job is never asked).
    s.add_preemptable_fn(p, preemptable, [&s](int32_t job_priority, int32_t, int v) {
      const int vj = s.task(v).job;
      return vj >= 0 && s.job(vj).priority < job_priority;
    });
    s.add_job_starving_fn(p, [&s](int j) {
      const JobState& js = s.job(j);
      return js.ready_num() + js.waiting_num() < static_cast<int32_t>(js.tasks.size());
    });
  }
};

}  // namespace

std::unique_ptr<Plugin> make_priority(const PluginArgs&) { return std::make_unique<Priority>(); }

}  // namespace kai::scheduler
