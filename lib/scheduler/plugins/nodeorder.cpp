// nodeorder (plugins/nodeorder/nodeorder.go): a weighted sum of kube-scheduler's scores
// (0-100 each). Per node: LeastAllocated (cpu 50, memory 50 on non-zero requests),
// MostAllocated, BalancedAllocation (cpu, memory, nvidia.com/gpu on actual requests) and
// NodeAffinity (the raw sum of matching preferred terms' weights, not normalised, as Volcano).
// Over the candidate nodes: TaintToleration (PreferNoSchedule taints, normalised, reversed).
// InterPodAffinity, PodTopologySpread and ImageLocality have nothing to score in a snapshot
// (no pod affinity, spread constraints or image lists), so they add 0.

#include <cmath>

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

constexpr int64_t kMaxNodeScore = 100;

class NodeOrder : public Plugin {
 public:
  explicit NodeOrder(const PluginArgs& args) {
    args.get_int(node_affinity_, "nodeaffinity.weight");
    args.get_int(pod_affinity_, "podaffinity.weight");
    args.get_int(least_, "leastrequested.weight");
    args.get_int(most_, "mostrequested.weight");
    args.get_int(balanced_, "balancedresource.weight");
    args.get_int(taint_toleration_, "tainttoleration.weight");
    args.get_int(image_locality_, "imagelocality.weight");
    args.get_int(pod_topology_spread_, "podtopologyspread.weight");
  }

  void on_session_open(Session& s, const PluginCtx& p) override {
    gpu_dim_ = -1;
    for (int d = 2; d < s.dims(); ++d) {
      if (s.model.dims[static_cast<std::size_t>(d)] == "nvidia.com/gpu") gpu_dim_ = d;
    }
    any_prefer_no_schedule_ = false;
    for (const NodeState& n : s.nodes) any_prefer_no_schedule_ |= s.model.nodes[static_cast<std::size_t>(n.model)].has_prefer_no_schedule;

    s.add_node_order_fn(p, [this, &s](int t, int n) {
      double score = 0;
      if (least_ != 0) score += static_cast<double>(least_allocated(s, t, n)) * least_;
      if (most_ != 0) score += static_cast<double>(most_allocated(s, t, n)) * most_;
      if (balanced_ != 0) score += static_cast<double>(balanced_allocation(s, t, n)) * balanced_;
      if (node_affinity_ != 0) score += static_cast<double>(preferred_affinity(s, t, n)) * node_affinity_;
      return score;
    });
    s.add_batch_node_order_fn(
        p, [this, &s](int t, const std::vector<int>& nodes, std::vector<double>& scores) { taint_toleration(s, t, nodes, scores); },
        [this](int) -> std::optional<double> {
          // Without PreferNoSchedule taints every node normalises to the maximum.
          if (any_prefer_no_schedule_) return std::nullopt;
          return static_cast<double>(kMaxNodeScore * taint_toleration_);
        });
  }

 private:
  /// kube's leastRequestedScore / mostRequestedScore on (requested, allocatable) pairs.
  static int64_t least(int64_t req, int64_t cap) { return req > cap ? 0 : (cap - req) * kMaxNodeScore / cap; }
  static int64_t most(int64_t req, int64_t cap) { return (std::min(req, cap) * kMaxNodeScore) / cap; }

  /// NodeResourcesFit with LeastAllocated, cpu and memory weighted 50 each, on non-zero requests.
  static int64_t least_allocated(const Session& s, int t, int n) {
    const NodeState& ns = s.node(n);
    const ModelNode& mn = s.mnode(n);
    const ModelTask& mt = s.mtask(t);
    int64_t score = 0, weights = 0;
    const auto cpu = static_cast<int64_t>(mn.allocatable.get(Resource::kCpu));
    const auto mem = static_cast<int64_t>(mn.allocatable.get(Resource::kMemory));
    if (cpu != 0) {
      score += least(static_cast<int64_t>(ns.k8s_nonzero_cpu + mt.nonzero_cpu), cpu) * 50;
      weights += 50;
    }
    if (mem != 0) {
      score += least(static_cast<int64_t>(ns.k8s_nonzero_mem + mt.nonzero_mem), mem) * 50;
      weights += 50;
    }
    return weights == 0 ? 0 : score / weights;
  }

  /// NodeResourcesFit with MostAllocated, cpu and memory weighted 1 each, on non-zero requests.
  static int64_t most_allocated(const Session& s, int t, int n) {
    const NodeState& ns = s.node(n);
    const ModelNode& mn = s.mnode(n);
    const ModelTask& mt = s.mtask(t);
    int64_t score = 0, weights = 0;
    const auto cpu = static_cast<int64_t>(mn.allocatable.get(Resource::kCpu));
    const auto mem = static_cast<int64_t>(mn.allocatable.get(Resource::kMemory));
    if (cpu != 0) {
      score += most(static_cast<int64_t>(ns.k8s_nonzero_cpu + mt.nonzero_cpu), cpu);
      ++weights;
    }
    if (mem != 0) {
      score += most(static_cast<int64_t>(ns.k8s_nonzero_mem + mt.nonzero_mem), mem);
      ++weights;
    }
    return weights == 0 ? 0 : score / weights;
  }

  /// NodeResourcesBalancedAllocation over cpu, memory and nvidia.com/gpu (actual requests): 100
  /// times one minus the standard deviation of the requested fractions. A pod requesting none
  /// of them scores 0; a gpu it does not request is left out.
  int64_t balanced_allocation(const Session& s, int t, int n) const {
    const NodeState& ns = s.node(n);
    const ModelNode& mn = s.mnode(n);
    const ModelTask& mt = s.mtask(t);
    const double req_cpu = mt.request.get(Resource::kCpu), req_mem = mt.request.get(Resource::kMemory);
    const double req_gpu = gpu_dim_ >= 0 ? mt.request.get(gpu_dim_) : 0;
    if (req_cpu == 0 && req_mem == 0 && req_gpu == 0) return 0;
    double fractions[3];
    int count = 0;
    double total = 0;
    auto add = [&](double requested, double allocatable) {
      if (allocatable == 0) return;
      double f = requested / allocatable;
      if (f > 1) f = 1;
      total += f;
      fractions[count++] = f;
    };
    add(ns.k8s_requested.get(Resource::kCpu) + req_cpu, mn.allocatable.get(Resource::kCpu));
    add(ns.k8s_requested.get(Resource::kMemory) + req_mem, mn.allocatable.get(Resource::kMemory));
    if (gpu_dim_ >= 0 && req_gpu != 0 && mn.allocatable.has(gpu_dim_)) {
      add(ns.k8s_requested.get(gpu_dim_) + req_gpu, mn.allocatable.get(gpu_dim_));
    }
    double std = 0;
    if (count == 2) {
      std = std::abs((fractions[0] - fractions[1]) / 2);
    } else if (count > 2) {
      const double mean = total / count;
      double sum = 0;
      for (int i = 0; i < count; ++i) sum += (fractions[i] - mean) * (fractions[i] - mean);
      std = std::sqrt(sum / count);
    }
    return static_cast<int64_t>((1 - std) * static_cast<double>(kMaxNodeScore));
  }

  /// NodeAffinity's Score: the sum of the weights of the preferred terms the node matches.
  static int64_t preferred_affinity(const Session& s, int t, int n) {
    const Placement& pl = s.model.placements[static_cast<std::size_t>(s.mtask(t).placement)];
    int64_t sum = 0;
    for (const auto& term : pl.preferred) {
      if (term_matches(term.term, s.mnode(n))) sum += term.weight;
    }
    return sum;
  }

  /// TaintToleration: count PreferNoSchedule taints the pod does not tolerate, normalise over
  /// the candidates (DefaultNormalizeScore, reversed) and weight.
  void taint_toleration(const Session& s, int t, const std::vector<int>& nodes, std::vector<double>& scores) const {
    if (!any_prefer_no_schedule_) {
      // No candidate has such a taint: every node normalises to the maximum.
      const double add = static_cast<double>(kMaxNodeScore * taint_toleration_);
      for (double& sc : scores) sc += add;
      return;
    }
    const Placement& pl = s.model.placements[static_cast<std::size_t>(s.mtask(t).placement)];
    std::vector<int64_t> counts(nodes.size(), 0);
    int64_t max = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      for (const auto& taint : s.mnode(nodes[i]).taints) {
        if (taint.effect != "PreferNoSchedule") continue;
        bool tolerated = false;
        for (const auto& tol : pl.tolerations) {
          if (!tol.effect.empty() && tol.effect != "PreferNoSchedule") continue;
          tolerated |= tolerates(tol, taint);
        }
        counts[i] += tolerated ? 0 : 1;
      }
      max = std::max(max, counts[i]);
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const int64_t normalised = max == 0 ? kMaxNodeScore : kMaxNodeScore - kMaxNodeScore * counts[i] / max;
      scores[i] += static_cast<double>(normalised * taint_toleration_);
    }
  }

  int node_affinity_ = 2, least_ = 1, most_ = 0, balanced_ = 1, taint_toleration_ = 3;
  // Read (and type-checked) so that Volcano configurations carry over; what they weight scores
  // 0 on a snapshot (see the top of the file).
  int pod_affinity_ = 2, image_locality_ = 1, pod_topology_spread_ = 2;
  int gpu_dim_ = -1;
  bool any_prefer_no_schedule_ = false;
};

}  // namespace

std::unique_ptr<Plugin> make_nodeorder(const PluginArgs& args) { return std::make_unique<NodeOrder>(args); }

}  // namespace kai::scheduler
