// sla (plugins/sla/sla.go): jobs with a waiting time go first, earlier deadline (creation +
// waiting time) first; past its deadline a job's enqueue and pipeline votes are Permit.

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

class Sla : public Plugin {
 public:
  explicit Sla(const PluginArgs& args) {
    if (auto v = args.get_string("sla-waiting-time")) {
      Nanos d = 0;
      if (!parse_go_duration(*v, d)) throw ArgError{"sla-waiting-time", "invalid duration \"" + *v + "\" (Go syntax: 30m, 1h30m, 90s)"};
      if (d <= 0) throw ArgError{"sla-waiting-time", "Invalid value: \"" + *v + "\": must be greater than 0"};
      waiting_ = d;
    }
  }

  void on_session_open(Session& s, const PluginCtx& p) override {
    s.add_job_order_fn(p, [this, &s](int l, int r) {
      auto lw = waiting(s, l), rw = waiting(s, r);
      if (!lw) return rw ? 1 : 0;
      if (!rw) return -1;
      const Nanos ld = s.mjob(l).creation + *lw, rd = s.mjob(r).creation + *rw;
      if (ld < rd) return -1;
      if (ld > rd) return 1;
      return 0;
    });
    auto permit = [this, &s](int j) {
      auto w = waiting(s, j);
      if (!w || s.now - s.mjob(j).creation < *w) return kAbstain;
      return kPermit;
    };
    s.add_job_enqueueable_fn(p, permit);
    s.add_job_pipelined_fn(p, permit);
  }

 private:
  /// The job's own waiting time (PodGroup annotation), else the plugin's.
  std::optional<Nanos> waiting(const Session& s, int j) const {
    const auto& w = s.mjob(j).waiting_time;
    return w ? w : waiting_;
  }

  std::optional<Nanos> waiting_;
};

}  // namespace

std::unique_ptr<Plugin> make_sla(const PluginArgs& args) { return std::make_unique<Sla>(args); }

}  // namespace kai::scheduler
