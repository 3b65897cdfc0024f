// overcommit (plugins/overcommit/overcommit.go): enqueue admits a job while the minimum
// resources of the jobs already admitted, plus its own, fit the cluster's total times the
// overcommit factor minus what is used.

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

constexpr double kDefaultFactor = 1.2;

class Overcommit : public Plugin {
 public:
  explicit Overcommit(const PluginArgs& args) {
    args.get_float(factor_, "overcommit-factor");
    // As Volcano: a factor below 1 falls back to the default.
    if (factor_ < 1.0) factor_ = kDefaultFactor;
  }

  void on_session_open(Session& s, const PluginCtx& p) override {
    Resource used = s.model.empty_resource();
    for (const NodeState& n : s.nodes) used.add(n.used);
    idle_ = s.total_resource;
    idle_.multi(factor_);
    idle_.sub(used);
    inqueue_ = s.model.empty_resource();
    for (std::size_t j = 0; j < s.jobs.size(); ++j) {
      const JobState& js = s.jobs[j];
      const ModelJob& mj = s.mjob(static_cast<int>(j));
      if (!mj.has_min_resources) continue;
      if (js.phase == "Inqueue") {
        inqueue_.add(mj.min_resources);
      } else if (js.phase == "Running" && allocated_count(s, js) >= js.min_available) {
        // A running job still holds what it has not been allocated of its minimum.
        inqueue_.add(exceeded_part(mj.min_resources, js.allocated));
      }
    }

    s.add_job_enqueueable_fn(p, [this, &s](int j) {
      const ModelJob& mj = s.mjob(j);
      if (!mj.has_min_resources) return kPermit;
      Resource want = inqueue_;
      want.add(mj.min_resources);
      const std::vector<int> over = want.greater_dims_within(idle_, mj.min_resources);
      if (over.empty()) return kPermit;
      std::string msg = "resource in cluster is overused";
      for (std::size_t i = 0; i < over.size(); ++i) {
        msg += (i == 0 ? ": " : ", ") + std::string("overused ") + s.model.dims[static_cast<std::size_t>(over[i])];
      }
      s.record_podgroup_event(j, "Normal", "Unschedulable", msg);
      return kReject;
    });
    s.add_job_enqueued_fn(p, [this, &s](int j) {
      const ModelJob& mj = s.mjob(j);
      if (mj.has_min_resources) inqueue_.add(mj.min_resources);
    });
  }

 private:
  static int32_t allocated_count(const Session&, const JobState& js) {
    // The job's status counts (kept by the session): no walk over its tasks.
    auto c = [&js](TaskStatus st) { return js.count[static_cast<std::size_t>(st)]; };
    return c(TaskStatus::Bound) + c(TaskStatus::Binding) + c(TaskStatus::Running) + c(TaskStatus::Allocated);
  }

  double factor_ = kDefaultFactor;
  Resource idle_, inqueue_;
};

}  // namespace

std::unique_ptr<Plugin> make_overcommit(const PluginArgs& args) { return std::make_unique<Overcommit>(args); }

}  // namespace kai::scheduler
