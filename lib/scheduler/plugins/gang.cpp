// gang (plugins/gang/gang.go): all-or-nothing. A job is valid with enough pods, ready when
// minAvailable tasks are placed (and every role its minTaskMember), pipelined when they are at
// least reserved; at close every job gets its Unschedulable or Scheduled condition.

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

class Gang : public Plugin {
 public:
  void on_session_open(Session& s, const PluginCtx& p) override {
    s.add_job_valid_fn(p, [&s](int j) -> std::optional<ValidateResult> {
      const JobState& js = s.job(j);
      if (!js.check_task_valid()) {
        return ValidateResult{false, "NotEnoughPodsOfTask", "Not enough valid pods of each task for gang-scheduling"};
      }
      if (const int32_t valid = js.valid_num(); valid < js.min_available) {
        return ValidateResult{false, "NotEnoughTasks",
                              "Not enough valid tasks for gang-scheduling, valid: " + std::to_string(valid) +
                                  ", min: " + std::to_string(js.min_available)};
      }
      return std::nullopt;
    });

    // A victim's job keeps at least minAvailable ready tasks.
    auto evictable = [&s](int, const std::vector<int>& candidates) {
      std::vector<int> victims;
      std::map<int, int32_t> occupied;
      for (int v : candidates) {
        const int j = s.task(v).job;
        if (j < 0) continue;
        auto it = occupied.find(j);
        if (it == occupied.end()) it = occupied.emplace(j, s.job(j).ready_num()).first;
        if (it->second > s.job(j).min_available) {
          --it->second;
          victims.push_back(v);
        }
      }
      return std::pair{victims, kPermit};
    };
    // The first victim of a job sees all its ready tasks, later ones fewer.
    s.add_reclaimable_fn(p, evictable, Session::ReclaimerReads::QueueAndSignature,  // reads only the victims
                         [&s](int v) {
                           const int j = s.task(v).job;
                           return j >= 0 && s.job(j).ready_num() > s.job(j).min_available;
                         });
    s.add_preemptable_fn(p, evictable);

    // Jobs that are not ready yet go first.
    s.add_job_order_fn(p, [&s](int l, int r) {
      const bool lr = s.job(l).is_ready(), rr = s.job(r).is_ready();
      if (lr == rr) return 0;
      return lr ? 1 : -1;
    });
    s.add_job_ready_fn(p, [&s](int j) { return s.job(j).check_task_ready() && s.job(j).is_ready(); });
    s.add_job_pipelined_fn(p, [&s](int j) {
      return s.job(j).check_task_pipelined() && s.job(j).is_pipelined() ? kPermit : kReject;
    });
    // Volcano: in preemption only the job's minAvailable counts, not minTaskMember.
    s.add_job_starving_fn(p, [&s](int j) { return s.job(j).is_starving(); });
  }

  void on_session_close(Session& s) override {
    for (std::size_t ji = 0; ji < s.jobs.size(); ++ji) {
      const int j = static_cast<int>(ji);
      JobState& js = s.job(j);
      if (js.is_ready()) {
        s.set_condition(j, Condition{"Scheduled", "True", "tasks in gang are ready to be scheduled", "",
                                     s.options.session_uid});
        continue;
      }
      // Schedulable: ready tasks, and pending ones whose last (discarded) transaction placed them.
      int32_t schedulable = js.ready_num();
      for (int t : js.tasks) {
        const TaskState& ts = s.task(t);
        if (ts.status != TaskStatus::Pending) continue;
        if (allocated_status(ts.has_last_tx ? ts.last_status : ts.status)) ++schedulable;
      }
      const std::string msg = std::to_string(js.min_available - schedulable) + "/" + std::to_string(js.tasks.size()) +
                              " tasks in gang unschedulable: " + s.job_fit_error(j);
      s.notes_of(j).job_fit_errors = msg;
      s.set_condition(j, Condition{"Unschedulable", "True", "NotEnoughResources", msg, s.options.session_uid});
      // Allocated tasks follow the job's message.
      for (int t : js.tasks) {
        if (s.task(t).status != TaskStatus::Allocated || s.fit_errors_of(t) != nullptr) continue;
        FitErrors fe;
        fe.err = msg;
        s.add_fit_errors(t, std::move(fe));
      }
    }
  }
};

}  // namespace

std::unique_ptr<Plugin> make_gang(const PluginArgs&) { return std::make_unique<Gang>(); }

}  // namespace kai::scheduler
