// drf (plugins/drf/drf.go): a job's share is its dominant share of the cluster (max over resources
// of allocated / total); lower shares go first.
//
// With `enableHierarchy: true` on its tier entry (hDRF), queues also sit in a tree: each queue's
// path comes from its annotations volcano.sh/hierarchy ("root/eng/prod") and
// volcano.sh/hierarchy-weights ("1/2/8"), or, when either is missing, from spec.parent and
// spec.weight up to `root` (Volcano's BuildEffectiveQueueHierarchy). Every job hangs as a leaf under
// its queue's node. A node's allocation is the sum of its children's, each non-saturated child
// scaled down to the smallest dominant share among them; a node is saturated when all its
// children are, and a job when it holds all it asks of some resource or asks for a resource the
// cluster has no more of. Queues are ordered by walking down both paths from the root: a
// saturated node goes after a demanding one, else the lower share / weight goes first. hDRF also
// adds a Reclaimable function: a reclaimee is a victim when, after giving the reclaimer its task
// and taking that one task from the reclaimee, the reclaimer's queue still comes first.
//
// Where kai differs from Volcano: without a `root` queue in the snapshot (a hand-written `kai sim`
// snapshot), an implicit one (path "root", weight 1) stands in for it, as Volcano's cache creates
// one; children are kept in the order they were first seen (Go iterates a map), so sums are
// deterministic.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

/// Volcano's shareDelta: shares closer than this are equal for preemption.
constexpr double kShareDelta = 0.000001;
constexpr const char* kRoot = "root";

/// Go's strings.Split on "/": empty segments kept, "" gives one empty segment.
std::vector<std::string> split_path(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

/// A level's weight as buildHierarchy reads it: strconv.ParseFloat, 0 when it does not parse,
/// and at least 1.
double parse_weight(const std::string& w) {
  double v = 0;
  if (!w.empty() && !std::isspace(static_cast<unsigned char>(w[0]))) {
    errno = 0;
    char* end = nullptr;
    const double d = std::strtod(w.c_str(), &end);
    // Go returns ±Inf with a range error on overflow, 0 (or the tiny value) on underflow.
    if (end == w.c_str() + w.size()) v = d;
  }
  return v < 1 ? 1 : v;
}

/// One node of the hDRF tree: the root, a hierarchy level, or a job (a leaf).
struct HNode {
  int parent = -1;
  int job = -1;  ///< a leaf's session job; -1 for the root and hierarchy levels
  double weight = 1;
  std::vector<int> children;  ///< in the order they were added
  std::map<std::string, int> levels;  ///< hierarchy children by path segment
  Resource allocated;  ///< a leaf: the job's; else the children's, rescaled
  Resource request;    ///< a leaf: Σ requests of the job's tasks (Volcano's TotalRequest)
  double share = 0;
  bool saturated = false;
};

/// The tree with what its saturation depends on; copied whole by the Reclaimable function.
struct Tree {
  std::vector<HNode> nodes;  ///< nodes[0] is the root; a child always comes after its parent
  Resource total_allocated;  ///< Σ allocated of every job
  std::vector<char> demanding;  ///< per dimension: total's resource with total_allocated < total
};

class Drf : public Plugin {
 public:
  void on_session_open(Session& s, const PluginCtx& p) override {
    // Volcano's HierarchyEnabled: only an explicit `enableHierarchy: true`.
    const bool hierarchy = p.option != nullptr && p.option->switches.count("enableHierarchy") != 0 &&
                           p.option->switches.at("enableHierarchy");
    // Volcano logs the error and registers nothing at all for the session.
    if (hierarchy && !effective_hierarchy(s.model)) return;

    total_ = s.total_resource;
    total_names_ = total_.resource_names();
    allocated_.assign(s.jobs.size(), s.model.empty_resource());
    shares_.assign(s.jobs.size(), 0.0);
    for (std::size_t j = 0; j < s.jobs.size(); ++j) {
      // The session summed the job's allocated tasks' requests (in task order) when it opened.
      allocated_[j] = s.jobs[j].allocated;
      shares_[j] = share_of(allocated_[j]);
    }
    if (hierarchy) {
      hierarchy_ = true;
      job_queue_.clear();
      for (const auto& js : s.jobs) job_queue_.push_back(js.queue);
      build_tree(s);
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

    if (hierarchy) {
      s.add_queue_order_fn(p, [this](int l, int r) {
        const double c = compare_queues(tree_, l, r);
        if (c < 0) return -1;
        return c > 0 ? 1 : 0;
      });
      s.add_reclaimable_fn(p, [this, &s](int reclaimer, const std::vector<int>& reclaimees) {
        return reclaim_victims(s, reclaimer, reclaimees);
      });
    }

    s.add_job_order_fn(p, [this](int l, int r) {
      const double ls = shares_[static_cast<std::size_t>(l)], rs = shares_[static_cast<std::size_t>(r)];
      if (ls == rs) return 0;
      return ls < rs ? -1 : 1;
    });

    // Pipelined tasks count too: Volcano's AllocateFunc sees allocate and pipeline alike.
    s.add_event_handler([this, hierarchy, &s](int t) { on_task(s, t, hierarchy, true); },
                        [this, hierarchy, &s](int t) { on_task(s, t, hierarchy, false); });
  }

  /// A task of a job allocated (or pipelined) or given back: the job's share, and the tree.
  void on_task(const Session& s, int t, bool hierarchy, bool allocated) {
    const int j = s.task(t).job;
    if (j < 0) return;
    const auto ji = static_cast<std::size_t>(j);
    const Resource& req = s.mtask(t).request;
    allocated ? allocated_[ji].add(req) : allocated_[ji].sub(req);
    shares_[ji] = share_of(allocated_[ji]);
    if (hierarchy) {
      allocated ? tree_.total_allocated.add(req) : tree_.total_allocated.sub(req);
      set_job(tree_, j, allocated_[ji]);
    }
  }

  /// The job's dominant share (calculateShare).
  double share_of(const Resource& allocated) const {
    double res = 0;
    for (int d : total_names_) res = std::max(res, share(allocated.get(d), total_.get(d)));
    return res;
  }

 private:
  // ---- the queues' paths ----

  /// Volcano's BuildEffectiveQueueHierarchy: a queue with both annotations keeps them (rooted as
  /// the queue webhook roots them: `a/b`, `2/3` become `root/a/b`, `1/2/3`); any other queue takes
  /// its parent's path and weights plus its own name and spec.weight; `root` is "root" / "1".
  /// False when a parent does not exist or the parents form a cycle.
  bool effective_hierarchy(const SnapshotModel& m) {
    const std::size_t n = m.queues.size();
    std::map<std::string, int> by_name;
    for (std::size_t q = 0; q < n; ++q) by_name.emplace(m.queues[q].name, static_cast<int>(q));
    std::vector<std::string> paths(n), weights(n);
    std::vector<char> state(n, 0);  // 0 new, 1 on the current path, 2 done
    std::function<bool(int)> build = [&](int qi) {
      const auto q = static_cast<std::size_t>(qi);
      const ModelQueue& mq = m.queues[q];
      if (!mq.hierarchy.empty() && !mq.hierarchy_weights.empty()) {
        const bool rooted = mq.hierarchy.rfind(kRoot, 0) == 0;
        paths[q] = rooted ? mq.hierarchy : std::string(kRoot) + "/" + mq.hierarchy;
        weights[q] = rooted ? mq.hierarchy_weights : "1/" + mq.hierarchy_weights;
        state[q] = 2;
        return true;
      }
      if (state[q] == 1) return false;  // "queue hierarchy contains a cycle"
      if (state[q] == 2) return true;
      state[q] = 1;
      if (mq.name == kRoot) {
        paths[q] = kRoot;
        weights[q] = "1";
        state[q] = 2;
        return true;
      }
      const std::string parent = mq.parent.empty() ? std::string(kRoot) : mq.parent;
      std::string ppath = kRoot, pweights = "1";  // the implicit root
      if (auto it = by_name.find(parent); it != by_name.end()) {
        if (!build(it->second)) return false;
        ppath = paths[static_cast<std::size_t>(it->second)];
        pweights = weights[static_cast<std::size_t>(it->second)];
      } else if (parent != kRoot) {
        return false;  // "queue <parent> is not present"
      }
      paths[q] = ppath + "/" + mq.name;
      weights[q] = pweights + "/" + std::to_string(std::max<int32_t>(1, mq.weight));
      state[q] = 2;
      return true;
    };
    for (std::size_t q = 0; q < n; ++q) {
      if (!build(static_cast<int>(q))) return false;
    }
    segments_.resize(n);
    level_weights_.resize(n);
    for (std::size_t q = 0; q < n; ++q) {
      segments_[q] = split_path(paths[q]);
      level_weights_[q] = split_path(weights[q]);
    }
    return true;
  }

  // ---- the tree ----

  HNode new_node(int parent, double weight) const {
    HNode h;
    h.parent = parent;
    h.weight = weight;
    h.allocated = Resource(total_.dims());
    h.request = Resource(total_.dims());
    return h;
  }

  /// buildHierarchy: the queue's levels (created with their weight the first time a job of any
  /// queue reaches them; the first segment stands for the root), then the job's leaf.
  void add_job(Session& s, int j) {
    const auto q = static_cast<std::size_t>(s.job(j).queue);
    const auto& segs = segments_[q];
    const auto& ws = level_weights_[q];
    int at = 0;
    for (std::size_t i = 1; i < segs.size(); ++i) {
      auto it = tree_.nodes[static_cast<std::size_t>(at)].levels.find(segs[i]);
      if (it != tree_.nodes[static_cast<std::size_t>(at)].levels.end()) {
        at = it->second;
        continue;
      }
      const int child = static_cast<int>(tree_.nodes.size());
      tree_.nodes.push_back(new_node(at, i < ws.size() ? parse_weight(ws[i]) : 1));
      tree_.nodes[static_cast<std::size_t>(at)].levels.emplace(segs[i], child);
      tree_.nodes[static_cast<std::size_t>(at)].children.push_back(child);
      at = child;
    }
    const int leaf = static_cast<int>(tree_.nodes.size());
    HNode h = new_node(at, 1);
    h.job = j;
    for (int t : s.job(j).tasks) h.request.add(s.mtask(t).request);
    h.allocated = allocated_[static_cast<std::size_t>(j)];
    h.share = shares_[static_cast<std::size_t>(j)];
    tree_.nodes.push_back(std::move(h));
    tree_.nodes[static_cast<std::size_t>(at)].children.push_back(leaf);
    leaf_of_[static_cast<std::size_t>(j)] = leaf;
  }

  void build_tree(Session& s) {
    tree_.nodes.clear();
    tree_.nodes.push_back(new_node(-1, 1));
    tree_.total_allocated = Resource(total_.dims());
    leaf_of_.assign(s.jobs.size(), -1);
    for (std::size_t j = 0; j < s.jobs.size(); ++j) {
      add_job(s, static_cast<int>(j));
      tree_.total_allocated.add(allocated_[j]);
    }
    tree_.demanding = demanding(tree_.total_allocated);
    for (std::size_t i = tree_.nodes.size(); i-- > 0;) refresh(tree_, static_cast<int>(i));
    // Each queue's nodes from the root down (-1 past the levels no job reached).
    path_nodes_.assign(s.model.queues.size(), {});
    for (std::size_t q = 0; q < s.model.queues.size(); ++q) {
      int at = 0;
      path_nodes_[q].push_back(at);
      for (std::size_t i = 1; i < segments_[q].size(); ++i) {
        if (at >= 0) {
          const auto& levels = tree_.nodes[static_cast<std::size_t>(at)].levels;
          auto it = levels.find(segments_[q][i]);
          at = it == levels.end() ? -1 : it->second;
        }
        path_nodes_[q].push_back(at);
      }
    }
  }

  /// The dimensions of total the jobs do not use up yet.
  std::vector<char> demanding(const Resource& total_allocated) const {
    std::vector<char> out(static_cast<std::size_t>(total_.dims()), 0);
    for (int d : total_names_) out[static_cast<std::size_t>(d)] = total_allocated.get(d) < total_.get(d) ? 1 : 0;
    return out;
  }

  /// resourceSaturated: on some resource it holds, the job holds all it asks for, or asks for a
  /// resource that is no longer demanding.
  static bool leaf_saturated(const HNode& h, const std::vector<char>& demanding) {
    for (int d : h.allocated.resource_names()) {
      const double a = h.allocated.get(d), r = h.request.get(d);
      if (a != 0 && r != 0 && a >= r) return true;
      if (!demanding[static_cast<std::size_t>(d)] && r != 0) return true;
    }
    return false;
  }

  /// updateHierarchicalShare for one node, its children being up to date.
  void refresh(Tree& t, int n) const {
    HNode& h = t.nodes[static_cast<std::size_t>(n)];
    if (h.job >= 0) {
      h.saturated = leaf_saturated(h, t.demanding);
      return;
    }
    // The smallest dominant share of the children that hold something and are not saturated.
    double mdr = 1;
    for (int c : h.children) {
      const HNode& ch = t.nodes[static_cast<std::size_t>(c)];
      if (ch.share != 0 && !ch.saturated) mdr = std::min(mdr, ch.share);
    }
    Resource allocated(total_.dims());
    bool saturated = true;
    for (int c : h.children) {
      const HNode& ch = t.nodes[static_cast<std::size_t>(c)];
      if (!ch.saturated) saturated = false;
      if (ch.share == 0) continue;
      if (ch.saturated) {
        allocated.add(ch.allocated);
      } else {
        Resource scaled = ch.allocated;
        allocated.add(scaled.multi(mdr / ch.share));
      }
    }
    h.allocated = std::move(allocated);
    h.share = share_of(h.allocated);
    h.saturated = saturated;
  }

  /// UpdateHierarchicalShare after job j's allocation changed (t.total_allocated already
  /// changed): the whole tree when the demanding resources changed, else the job's branch.
  void set_job(Tree& t, int j, const Resource& allocated) const {
    const int leaf = leaf_of_[static_cast<std::size_t>(j)];
    HNode& h = t.nodes[static_cast<std::size_t>(leaf)];
    h.allocated = allocated;
    h.share = share_of(allocated);
    std::vector<char> d = demanding(t.total_allocated);
    if (d != t.demanding) {
      t.demanding = std::move(d);
      for (std::size_t i = t.nodes.size(); i-- > 0;) refresh(t, static_cast<int>(i));
      return;
    }
    for (int n = leaf; n >= 0; n = t.nodes[static_cast<std::size_t>(n)].parent) refresh(t, n);
  }

  /// compareQueues: down both paths from the root, a saturated node after a demanding one, else
  /// share / weight; equal all the way down (or to the shorter path) is 0.
  double compare_queues(const Tree& t, int lq, int rq) const {
    const auto& lp = path_nodes_[static_cast<std::size_t>(lq)];
    const auto& rp = path_nodes_[static_cast<std::size_t>(rq)];
    const std::size_t depth = std::min(lp.size(), rp.size());
    for (std::size_t i = 0; i < depth; ++i) {
      if (lp[i] < 0 || rp[i] < 0) return 0;  // a level no job reached (Volcano: a nil node)
      const HNode& l = t.nodes[static_cast<std::size_t>(lp[i])];
      const HNode& r = t.nodes[static_cast<std::size_t>(rp[i])];
      if (!l.saturated && r.saturated) return -1;
      if (l.saturated && !r.saturated) return 1;
      const double ls = l.share / l.weight, rs = r.share / r.weight;
      if (ls != rs) return ls - rs;
    }
    return 0;
  }

  /// hDRF's Reclaimable: on a copy of the tree the reclaimer's job gets the task; then each
  /// reclaimee on its own (the others left in place) is taken from its job, and it is a victim
  /// when the reclaimer's queue still orders first.
  std::pair<std::vector<int>, int> reclaim_victims(Session& s, int reclaimer, const std::vector<int>& reclaimees) const {
    std::vector<int> victims;
    const int lj = s.task(reclaimer).job;
    if (lj < 0) return {victims, kPermit};
    const int lq = s.job(lj).queue;
    Tree t = tree_;
    Resource lalloc = allocated_[static_cast<std::size_t>(lj)];
    lalloc.add(s.mtask(reclaimer).request);
    t.total_allocated.add(s.mtask(reclaimer).request);
    set_job(t, lj, lalloc);
    for (int v : reclaimees) {
      const int rj = s.task(v).job;
      if (rj < 0) continue;
      const Resource& req = s.mtask(v).request;
      t.total_allocated.sub(req);
      Resource ralloc = allocated_[static_cast<std::size_t>(rj)];
      ralloc.sub(req);
      set_job(t, rj, ralloc);
      const double ret = compare_queues(t, lq, s.job(rj).queue);
      // Put the reclaimee back (as Volcano does, from the job's own allocation).
      t.total_allocated.add(req);
      ralloc.add(req);
      set_job(t, rj, ralloc);
      if (ret < 0) victims.push_back(v);
    }
    return {victims, kPermit};
  }

  /// hDRF's view of queue q for `kai job explain`: what its jobs hold, and its node's share.
  std::optional<QueueShare> queue_share(int q) const override {
    if (!hierarchy_ || q < 0 || static_cast<std::size_t>(q) >= path_nodes_.size()) return std::nullopt;
    QueueShare out;
    out.deserved = Resource(total_.dims());
    out.allocated = Resource(total_.dims());
    for (std::size_t j = 0; j < job_queue_.size(); ++j) {
      if (job_queue_[j] == q) out.allocated.add(allocated_[j]);
    }
    const int node = path_nodes_[static_cast<std::size_t>(q)].back();
    out.share = node >= 0 ? tree_.nodes[static_cast<std::size_t>(node)].share : 0;
    auto join = [](const std::vector<std::string>& parts) {
      std::string text;
      for (const auto& part : parts) text += (text.empty() ? "" : "/") + part;
      return text;
    };
    out.hierarchy = join(segments_[static_cast<std::size_t>(q)]);
    std::vector<std::string> weights;
    for (std::size_t i = 0; i < segments_[static_cast<std::size_t>(q)].size(); ++i) {
      const auto& ws = level_weights_[static_cast<std::size_t>(q)];
      weights.push_back(i < ws.size() ? ws[i] : "1");
    }
    out.hierarchy_weights = join(weights);
    return out;
  }

  bool hierarchy_ = false;
  std::vector<int> job_queue_;  ///< hDRF: per session job, its model queue
  Resource total_;
  std::vector<int> total_names_;
  std::vector<Resource> allocated_;  ///< per session job
  std::vector<double> shares_;
  // hDRF
  std::vector<std::vector<std::string>> segments_, level_weights_;  ///< per model queue
  std::vector<std::vector<int>> path_nodes_;  ///< per model queue: its tree nodes, root first
  std::vector<int> leaf_of_;  ///< per session job
  Tree tree_;
};

}  // namespace

std::unique_ptr<Plugin> make_drf(const PluginArgs&) { return std::make_unique<Drf>(); }

}  // namespace kai::scheduler
