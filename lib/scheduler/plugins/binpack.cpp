// binpack (plugins/binpack/binpack.go): prefers nodes that the task fills most. For each
// resource the task requests that has a weight: (request + used) * weight / allocatable; the
// weighted average times 100 times binpack.weight; 0 when the task would overfill a resource.

#include <sstream>

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

constexpr double kMaxNodeScore = 100;

class Binpack : public Plugin {
 public:
  explicit Binpack(const PluginArgs& args) {
    args.get_int(weight_, "binpack.weight");
    args.get_int(cpu_, "binpack.cpu");
    if (cpu_ < 0) cpu_ = 1;
    args.get_int(memory_, "binpack.memory");
    if (memory_ < 0) memory_ = 1;
    std::stringstream list(args.get_string("binpack.resources").value_or(""));
    for (std::string r; std::getline(list, r, ',');) {
      const auto b = r.find_first_not_of(" \t");
      if (b == std::string::npos) continue;
      r = r.substr(b, r.find_last_not_of(" \t") - b + 1);
      int w = 1;
      args.get_int(w, "binpack.resources." + r);
      if (w < 0) w = 1;
      resources_.emplace_back(r, w);
    }
  }

  void on_session_open(Session& s, const PluginCtx& p) override {
    // Registered only with a non-zero weight, as in Volcano.
    if (weight_ == 0) return;
    weights_.assign(static_cast<std::size_t>(s.dims()), -1);
    for (const auto& [name, w] : resources_) {
      for (int d = 2; d < s.dims(); ++d) {
        if (s.model.dims[static_cast<std::size_t>(d)] == name) weights_[static_cast<std::size_t>(d)] = w;
      }
    }
    weights_[Resource::kCpu] = cpu_;
    weights_[Resource::kMemory] = memory_;
    s.add_node_order_fn(p, [this, &s](int t, int n) { return score(s, t, n); });
  }

  /// BinPackingScore.
  double score(const Session& s, int t, int n) const {
    const Resource& req = s.mtask(t).request;
    const Resource& alloc = s.mnode(n).allocatable;
    const Resource& used = s.node(n).used;
    double sum = 0;
    int weights = 0;
    for (int d = 0; d < req.dims(); ++d) {
      if (!req.has(d) || req.get(d) < kMinResource) continue;  // Volcano's ResourceNames
      const double r = req.get(d);
      const int w = weights_[static_cast<std::size_t>(d)];
      if (r == 0 || w < 0) continue;  // no weight configured for this resource
      const double cap = alloc.get(d);
      if (cap != 0 && w != 0) {
        const double final_used = r + used.get(d);
        if (final_used > cap) return 0;
        sum += final_used * w / cap;
      }
      weights += w;
    }
    if (weights > 0) sum /= weights;
    return sum * kMaxNodeScore * weight_;
  }

 private:
  int weight_ = 1, cpu_ = 1, memory_ = 1;
  std::vector<std::pair<std::string, int>> resources_;
  std::vector<int> weights_;  ///< per dimension, -1 when not configured
};

}  // namespace

std::unique_ptr<Plugin> make_binpack(const PluginArgs& args) { return std::make_unique<Binpack>(args); }

}  // namespace kai::scheduler
