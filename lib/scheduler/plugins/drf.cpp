// drf (plugins/drf/drf.go), without hierarchy: a job's share is its dominant share of the
// cluster (max over resources of allocated / total); lower shares go first.

#include <cmath>

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

/// Volcano's shareDelta: shares closer than this are equal for preemption.
constexpr double kShareDelta = 0.000001;

class Drf : public Plugin {
 public:
  void on_session_open(Session& s, const PluginCtx& p) override {
    total_ = s.total_resource;
    total_names_ = total_.resource_names();
    allocated_.assign(s.jobs.size(), s.model.empty_resource());
    shares_.assign(s.jobs.size(), 0.0);
    for (std::size_t j = 0; j < s.jobs.size(); ++j) {
      for (int t : s.jobs[j].tasks) {
        if (allocated_status(s.task(t).status)) allocated_[j].add(s.mtask(t).request);
      }
      shares_[j] = share_of(allocated_[j]);
    }

    s.add_preemptable_fn(p, [this, &s](int preemptor, const std::vector<int>& candidates) {
      std::vector<int> victims;
      const int pj = s.task(preemptor).job;
      if (pj < 0) return std::pair{victims, kPermit};
      Resource l = allocated_[static_cast<std::size_t>(pj)];
      l.add(s.mtask(preemptor).request);
      const double ls = share_of(l);
      std::map<int, Resource> left;
      for (int v : candidates) {
        const int vj = s.task(v).job;
        if (vj < 0) continue;
        auto it = left.find(vj);
        if (it == left.end()) it = left.emplace(vj, allocated_[static_cast<std::size_t>(vj)]).first;
        it->second.sub(s.mtask(v).request);
        const double rs = share_of(it->second);
        if (ls < rs || std::abs(ls - rs) <= kShareDelta) victims.push_back(v);
      }
      return std::pair{victims, kPermit};
    });

    s.add_job_order_fn(p, [this](int l, int r) {
      const double ls = shares_[static_cast<std::size_t>(l)], rs = shares_[static_cast<std::size_t>(r)];
      if (ls == rs) return 0;
      return ls < rs ? -1 : 1;
    });

    // Pipelined tasks count too: Volcano's AllocateFunc sees allocate and pipeline alike.
    s.add_event_handler(
        [this, &s](int t) {
          const int j = s.task(t).job;
          if (j < 0) return;
          allocated_[static_cast<std::size_t>(j)].add(s.mtask(t).request);
          shares_[static_cast<std::size_t>(j)] = share_of(allocated_[static_cast<std::size_t>(j)]);
        },
        [this, &s](int t) {
          const int j = s.task(t).job;
          if (j < 0) return;
          allocated_[static_cast<std::size_t>(j)].sub(s.mtask(t).request);
          shares_[static_cast<std::size_t>(j)] = share_of(allocated_[static_cast<std::size_t>(j)]);
        });
  }

  /// The job's dominant share (calculateShare).
  double share_of(const Resource& allocated) const {
    double res = 0;
    for (int d : total_names_) res = std::max(res, share(allocated.get(d), total_.get(d)));
    return res;
  }

 private:
  Resource total_;
  std::vector<int> total_names_;
  std::vector<Resource> allocated_;  ///< per session job
  std::vector<double> shares_;
};

}  // namespace

std::unique_ptr<Plugin> make_drf(const PluginArgs&) { return std::make_unique<Drf>(); }

}  // namespace kai::scheduler
