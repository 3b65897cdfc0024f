// predicates (plugins/predicates/predicates.go): the node's pod count, then kube-scheduler's
// NodeUnschedulable, NodeAffinity (nodeSelector and required node affinity) and TaintToleration
// filters. The plugin also keeps kube-scheduler's view of each node (its pods and their
// requests) up to date as tasks are placed, which nodeorder's scores read.

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

constexpr const char* kPodNumberExceeded = "node(s) pod number exceeded";
constexpr const char* kUnschedulable = "node(s) were unschedulable";
constexpr const char* kAffinity = "node(s) didn't match Pod's node affinity/selector";

class Predicates : public Plugin {
 public:
  explicit Predicates(const PluginArgs& args) {
    args.get_bool(node_affinity_, "predicate.NodeAffinityEnable");
    args.get_bool(taint_toleration_, "predicate.TaintTolerationEnable");
  }

  void on_session_open(Session& s, const PluginCtx& p) override {
    s.add_event_handler(
        [&s](int t) {
          const int n = s.task(t).node;
          if (n < 0) return;
          NodeState& ns = s.node(n);
          ns.k8s_requested.add(s.mtask(t).request);
          ns.k8s_nonzero_cpu += s.mtask(t).nonzero_cpu;
          ns.k8s_nonzero_mem += s.mtask(t).nonzero_mem;
          ns.k8s_pods++;
          s.touch_node(n);
        },
        [&s](int t) {
          const int n = s.task(t).node;
          if (n < 0) return;
          NodeState& ns = s.node(n);
          ns.k8s_requested.sub(s.mtask(t).request);
          ns.k8s_nonzero_cpu -= s.mtask(t).nonzero_cpu;
          ns.k8s_nonzero_mem -= s.mtask(t).nonzero_mem;
          ns.k8s_pods--;
          s.touch_node(n);
        });

    s.add_predicate_fn(p, [this, &s](int t, int n) -> uint32_t {
      const ModelNode& node = s.mnode(n);
      const Placement& pl = s.model.placements[static_cast<std::size_t>(s.mtask(t).placement)];
      std::vector<std::string> reasons;
      if (node.max_pods <= s.node(n).k8s_pods) reasons.emplace_back(kPodNumberExceeded);
      // Everything below fails only with constraints, taints or cordons: skip it for the common
      // unconstrained pod on a plain node.
      if (!(pl.unconstrained() && node.taints.empty() && !node.unschedulable)) {
        if (const char* r = filter(pl, node)) reasons.emplace_back(r);
        else if (std::string taint = untolerated(pl, node); !taint.empty()) reasons.push_back(std::move(taint));
      }
      return reasons.empty() ? 0 : s.intern_reasons(reasons);
    });
  }

 private:
  /// NodeUnschedulable and NodeAffinity; nullptr when both pass.
  const char* filter(const Placement& pl, const ModelNode& node) const {
    if (node.unschedulable) {
      static const Taint kCordon{"node.kubernetes.io/unschedulable", "", "NoSchedule"};
      bool tolerated = false;
      for (const auto& t : pl.tolerations) tolerated |= tolerates(t, kCordon);
      if (!tolerated) return kUnschedulable;
    }
    if (node_affinity_ && !node_affinity_matches(pl, node)) return kAffinity;
    return nullptr;
  }

  /// TaintToleration: the first NoSchedule or NoExecute taint the pod does not tolerate.
  std::string untolerated(const Placement& pl, const ModelNode& node) const {
    if (!taint_toleration_) return "";
    for (const auto& taint : node.taints) {
      if (taint.effect != "NoSchedule" && taint.effect != "NoExecute") continue;
      bool tolerated = false;
      for (const auto& t : pl.tolerations) tolerated |= tolerates(t, taint);
      if (!tolerated) return "node(s) had untolerated taint {" + taint.key + ": " + taint.value + "}";
    }
    return "";
  }

  bool node_affinity_ = true;
  bool taint_toleration_ = true;
};

}  // namespace

std::unique_ptr<Plugin> make_predicates(const PluginArgs& args) { return std::make_unique<Predicates>(args); }

}  // namespace kai::scheduler
