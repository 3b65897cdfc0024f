// conformance (plugins/conformance/conformance.go): never evicts critical system pods.

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

class Conformance : public Plugin {
 public:
  void on_session_open(Session& s, const PluginCtx& p) override {
    auto may_evict = [&s](int v) {
      const ModelTask& t = s.mtask(v);
      return t.priority_class != "system-cluster-critical" && t.priority_class != "system-node-critical" && t.ns != "kube-system";
    };
    auto evictable = [may_evict](int, const std::vector<int>& candidates) {
      std::vector<int> victims;
      for (int v : candidates) {
        if (may_evict(v)) victims.push_back(v);
      }
      return std::pair{victims, kPermit};
    };
    s.add_preemptable_fn(p, evictable, [may_evict](int32_t, int32_t, int v) { return may_evict(v); });
    s.add_reclaimable_fn(p, evictable, Session::ReclaimerReads::QueueAndSignature,  // reads only the victims
                         may_evict);
  }
};

}  // namespace

std::unique_ptr<Plugin> make_conformance(const PluginArgs&) { return std::make_unique<Conformance>(); }

}  // namespace kai::scheduler
