// capacity (plugins/capacity/capacity.go), used instead of proportion: each queue's deserved is
// its spec.deserved (not a weight share), capped by its real capability and raised to its
// guarantee. Allocation and enqueue are bounded by the real capability (of the queue and, with
// enableHierarchy, of every ancestor); reclaim takes back what queues hold beyond deserved.
//
// Hierarchy (switch enableHierarchy: true on the plugin's tier entry) follows Queue spec.parent;
// a queue without a parent is a child of `root`. When the snapshot has no `root` queue (a
// hand-written `kai sim` snapshot), an implicit one with unlimited capability stands in for it;
// Volcano's scheduler creates it in its cache.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

constexpr double kInfinite = std::numeric_limits<double>::max();
constexpr const char* kRoot = "root";

struct QueueAttr {
  int queue = -1;  ///< model queue, -1 for the implicit root
  std::string name;
  double share = 0;
  std::vector<int> ancestors;  ///< attr indices, root first (empty without hierarchy)
  std::vector<int> children;   ///< attr indices, in snapshot order
  Resource deserved, allocated, request, elastic, inqueue, guarantee;
  Resource capability;       ///< hierarchy: empty when unset (inherits the parent's)
  Resource real_capability;  ///< the hard limit allocation and enqueue check
};

/// Volcano's Intersection: some dimension where both are at least kMinResource.
bool intersects(const Resource& a, const Resource& b) {
  for (int d = 0; d < a.dims(); ++d) {
    if (a.has(d) && b.has(d) && a.get(d) >= kMinResource && b.get(d) >= kMinResource) return true;
  }
  return false;
}

/// Volcano's GreaterPartlyWithRelevantDimensions: on a dimension `req` asks for where `deserved`
/// is set (cpu and memory: at least kMinResource; a scalar: present), `allocated` exceeds it.
bool exceeds_relevant(const Resource& allocated, const Resource& deserved, const Resource& req) {
  for (int d = 0; d < req.dims(); ++d) {
    if (!req.has(d) || req.get(d) <= 0) continue;
    const bool relevant = d < 2 ? deserved.get(d) >= kMinResource : deserved.has(d);
    if (relevant && allocated.get(d) > deserved.get(d)) return true;
  }
  return false;
}

/// Volcano's LessEqualPartlyWithDimensionZeroFiltered: on some dimension `req` asks for, where
/// `used` or `limit` is non-zero, used <= limit (within kMinResource).
bool within_somewhere(const Resource& used, const Resource& limit, const Resource& req) {
  for (int d = 0; d < req.dims(); ++d) {
    if (!req.has(d) || req.get(d) <= 0) continue;
    const double u = used.get(d), l = limit.get(d);
    if (u < kMinResource && l < kMinResource) continue;
    if (u < l || std::abs(u - l) < kMinResource) return true;
  }
  return false;
}

/// Volcano's GetInqueueResource: what of minResources the job does not hold yet.
Resource unfilled_min(const ModelJob& mj, const Resource& allocated) { return exceeded_part(mj.min_resources, allocated); }

class Capacity : public Plugin {
 public:
  explicit Capacity(int ancestor_reclaim_level) : ancestor_reclaim_level_(std::max(0, ancestor_reclaim_level)) {}

  void on_session_open(Session& s, const PluginCtx& p) override {
    s_ = &s;
    // Volcano's HierarchyEnabled: only an explicit `enableHierarchy: true` turns it on.
    hierarchy_ = p.option != nullptr && p.option->switches.count("enableHierarchy") != 0 &&
                 p.option->switches.at("enableHierarchy");
    attr_of_.assign(s.model.queues.size(), -1);
    if (hierarchy_) {
      ready_ = build_hierarchical();
    } else {
      build_flat();
    }
    register_fns(s, p);
  }

 private:
  // ---- building the queue attributes ----

  QueueAttr new_attr(int q) const {
    const int dims = s_->dims();
    QueueAttr a;
    a.queue = q;
    for (Resource* r : {&a.deserved, &a.allocated, &a.request, &a.elastic, &a.inqueue, &a.guarantee, &a.capability,
                        &a.real_capability}) {
      *r = Resource(dims);
    }
    if (q < 0) {
      a.name = kRoot;
      return a;
    }
    const ModelQueue& mq = s_->queue(q);
    a.name = mq.name;
    if (mq.has_deserved) a.deserved = mq.deserved;
    if (mq.has_guarantee) a.guarantee = mq.guarantee;
    if (mq.has_capability) a.capability = mq.capability;
    return a;
  }

  /// Adds the job's tasks, inqueue and elastic resources to its queue (Volcano's per-job loop).
  void add_job(QueueAttr& a, int j) const {
    const JobState& js = s_->job(j);
    const ModelJob& mj = s_->mjob(j);
    int32_t allocated_tasks = 0;
    for (int t : js.tasks) {
      const TaskStatus st = s_->task(t).status;
      if (allocated_status(st)) {
        a.allocated.add(s_->mtask(t).request);
        a.request.add(s_->mtask(t).request);
        ++allocated_tasks;
      } else if (st == TaskStatus::Pending) {
        a.request.add(s_->mtask(t).request);
      }
    }
    if (mj.has_min_resources && js.phase == "Inqueue") a.inqueue.add(unfilled_min(mj, js.allocated));
    if (mj.has_min_resources && js.phase == "Running" && allocated_tasks >= mj.min_member) {
      a.inqueue.add(unfilled_min(mj, js.allocated));
    }
    a.elastic.add(exceeded_part(js.allocated, mj.has_min_resources ? mj.min_resources : s_->model.empty_resource()));
  }

  /// Without hierarchy: attributes for the queues that have jobs in the session.
  void build_flat() {
    const int dims = s_->dims();
    Resource total_guarantee(dims);
    for (const ModelQueue& q : s_->model.queues) {
      if (q.has_guarantee) total_guarantee.add(q.guarantee);
    }
    for (std::size_t j = 0; j < s_->jobs.size(); ++j) {
      const int q = s_->jobs[j].queue;
      if (attr_of_[static_cast<std::size_t>(q)] < 0) {
        QueueAttr a = new_attr(q);
        // An unset (or zero) cpu or memory in a set capability is unlimited.
        if (s_->queue(q).has_capability) {
          if (a.capability.get(Resource::kCpu) <= 0) a.capability.set(Resource::kCpu, kInfinite);
          if (a.capability.get(Resource::kMemory) <= 0) a.capability.set(Resource::kMemory, kInfinite);
        }
        a.real_capability = exceeded_part(s_->total_resource, total_guarantee).add(a.guarantee);
        if (s_->queue(q).has_capability) a.real_capability.min_dimension(a.capability, DimDefault::Infinity);
        attr_of_[static_cast<std::size_t>(q)] = static_cast<int>(attrs_.size());
        attrs_.push_back(std::move(a));
      }
      add_job(attrs_[static_cast<std::size_t>(attr_of_[static_cast<std::size_t>(q)])], static_cast<int>(j));
    }
    for (QueueAttr& a : attrs_) {
      a.deserved.min_dimension(a.real_capability, DimDefault::Infinity);
      a.deserved = resource_max(a.deserved, a.guarantee);
      update_share(a);
    }
  }

  /// With hierarchy: every queue gets attributes and its ancestors. False (Volcano's
  /// readyToSchedule) when a parent is missing, the parents form a cycle, or a job sits in a
  /// queue that has children: the plugin then refuses every allocation, enqueue and reclaim.
  bool build_hierarchical() {
    const auto& queues = s_->model.queues;
    std::map<std::string, int> by_name;
    for (std::size_t q = 0; q < queues.size(); ++q) by_name.emplace(queues[q].name, static_cast<int>(q));
    for (std::size_t q = 0; q < queues.size(); ++q) {
      attr_of_[q] = static_cast<int>(attrs_.size());
      attrs_.push_back(new_attr(static_cast<int>(q)));
    }
    if (auto it = by_name.find(kRoot); it != by_name.end()) {
      root_ = attr_of_[static_cast<std::size_t>(it->second)];
    } else {
      root_ = static_cast<int>(attrs_.size());
      attrs_.push_back(new_attr(-1));
    }
    // Parents and ancestors, resolved in snapshot order (children in snapshot order too).
    std::vector<char> state(attrs_.size(), 0);  // 0 new, 1 on the current path, 2 done
    state[static_cast<std::size_t>(root_)] = 2;
    std::vector<int> parent_of(attrs_.size(), -1);
    for (std::size_t q = 0; q < queues.size(); ++q) {
      const int a = attr_of_[q];
      if (a == root_) continue;
      const std::string& p = queues[q].parent.empty() ? std::string(kRoot) : queues[q].parent;
      if (p == kRoot) {
        parent_of[static_cast<std::size_t>(a)] = root_;
      } else if (auto it = by_name.find(p); it != by_name.end()) {
        parent_of[static_cast<std::size_t>(a)] = attr_of_[static_cast<std::size_t>(it->second)];
      } else {
        return false;  // "the queue <q> has invalid parent queue <p>"
      }
    }
    for (std::size_t a = 0; a < attrs_.size(); ++a) {
      if (!resolve_ancestors(static_cast<int>(a), parent_of, state)) return false;  // a cycle
    }
    for (std::size_t a = 0; a < attrs_.size(); ++a) {
      if (static_cast<int>(a) != root_) attrs_[static_cast<std::size_t>(parent_of[a])].children.push_back(static_cast<int>(a));
    }

    for (std::size_t j = 0; j < s_->jobs.size(); ++j) {
      const int a = attr_of_[static_cast<std::size_t>(s_->jobs[j].queue)];
      QueueAttr& leaf = attrs_[static_cast<std::size_t>(a)];
      if (!leaf.children.empty()) return false;  // "the Queue <q> of Job <j> is not leaf queue"
      QueueAttr one = new_attr(-1);  // this job's usage alone, added to the leaf and its ancestors
      add_job(one, static_cast<int>(j));
      for (int x : leaf.ancestors) add_usage(attrs_[static_cast<std::size_t>(x)], one);
      add_usage(leaf, one);
    }

    // The root: unlimited unless its capability says otherwise (users may submit more than the
    // cluster holds; limits come from the queues they create).
    QueueAttr& root = attrs_[static_cast<std::size_t>(root_)];
    if (root.capability.is_empty()) {
      root.capability = s_->model.empty_resource();
      root.capability.set(Resource::kCpu, kInfinite);
      root.capability.set(Resource::kMemory, kInfinite);
      for (int d = 2; d < s_->dims(); ++d) {
        if (s_->total_resource.has(d)) root.capability.set(d, static_cast<double>(std::numeric_limits<int64_t>::max()));
      }
    }
    root.real_capability = root.capability;
    settle_children(root_);
    for (QueueAttr& a : attrs_) update_share(a);
    return true;
  }

  bool resolve_ancestors(int a, const std::vector<int>& parent_of, std::vector<char>& state) {
    auto& st = state[static_cast<std::size_t>(a)];
    if (st == 2) return true;
    if (st == 1) return false;
    st = 1;
    const int p = parent_of[static_cast<std::size_t>(a)];
    if (!resolve_ancestors(p, parent_of, state)) return false;
    QueueAttr& attr = attrs_[static_cast<std::size_t>(a)];
    attr.ancestors = attrs_[static_cast<std::size_t>(p)].ancestors;
    attr.ancestors.push_back(p);
    state[static_cast<std::size_t>(a)] = 2;
    return true;
  }

  static void add_usage(QueueAttr& to, const QueueAttr& from) {
    to.allocated.add(from.allocated);
    to.request.add(from.request);
    to.inqueue.add(from.inqueue);
    to.elastic.add(from.elastic);
  }

  /// Volcano's checkHierarchicalQueue: children's deserved raised to their guarantee, unset
  /// capability dimensions inherited from the parent, real capability = the parent's minus what
  /// all its children are guaranteed, plus the child's own guarantee, capped by its capability.
  /// The root's deserved and guarantee are the sums of its children's. Inconsistent sums are
  /// only logged by Volcano; kai ignores them likewise.
  void settle_children(int a) {
    QueueAttr& parent = attrs_[static_cast<std::size_t>(a)];
    Resource total_guarantee = s_->model.empty_resource();
    Resource total_deserved = s_->model.empty_resource();
    for (int c : parent.children) {
      QueueAttr& child = attrs_[static_cast<std::size_t>(c)];
      child.deserved = resource_max(child.deserved, child.guarantee);
      total_deserved.add(child.deserved);
      total_guarantee.add(child.guarantee);
      if (child.capability.get(Resource::kCpu) <= 0) child.capability.set(Resource::kCpu, parent.capability.get(Resource::kCpu));
      if (child.capability.get(Resource::kMemory) <= 0) {
        child.capability.set(Resource::kMemory, parent.capability.get(Resource::kMemory));
      }
      for (int d = 2; d < s_->dims(); ++d) {
        if (parent.capability.has(d) && !child.capability.has(d)) child.capability.set(d, parent.capability.get(d));
      }
    }
    if (a == root_) {
      parent.guarantee = total_guarantee;
      parent.deserved = total_deserved;
    }
    for (int c : parent.children) {
      QueueAttr& child = attrs_[static_cast<std::size_t>(c)];
      child.real_capability = exceeded_part(parent.real_capability, total_guarantee).add(child.guarantee);
      child.real_capability.min_dimension(child.capability, DimDefault::Infinity);
    }
    for (int c : std::vector<int>(parent.children)) settle_children(c);
  }

  // ---- shares and order ----

  /// share = max over deserved's dimensions of allocated / deserved; a queue without deserved
  /// is best-effort and always has share 1 (it goes after every queue below its deserved).
  static void update_share(QueueAttr& a) {
    if (a.deserved.is_empty()) {
      a.share = 1;
      return;
    }
    double res = 0;
    for (int d : a.deserved.resource_names()) res = std::max(res, share(a.allocated.get(d), a.deserved.get(d)));
    a.share = res;
  }

  /// Lower share first; at equal shares, a queue with deserved before a best-effort one.
  static int compare_share(const QueueAttr& l, const QueueAttr& r) {
    if (l.share == r.share) {
      const bool ld = !l.deserved.is_empty(), rd = !r.deserved.is_empty();
      if (ld == rd) return 0;
      return ld ? -1 : 1;
    }
    return l.share < r.share ? -1 : 1;
  }

  /// Volcano's getQueueLevel: the index (in root-first ancestors) of the deepest shared ancestor.
  static int shared_level(const QueueAttr& l, const QueueAttr& r) {
    int level = 0;
    const std::size_t n = std::min(l.ancestors.size(), r.ancestors.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (l.ancestors[i] != r.ancestors[i]) return level;
      level = static_cast<int>(i);
    }
    return level;
  }

  std::optional<QueueShare> queue_share(int q) const override {
    const int i = q >= 0 && static_cast<std::size_t>(q) < attr_of_.size() ? attr_of_[static_cast<std::size_t>(q)] : -1;
    if (i < 0) return std::nullopt;
    const QueueAttr& a = attrs_[static_cast<std::size_t>(i)];
    return QueueShare{"", a.deserved, a.allocated, a.share, "", ""};
  }

  QueueAttr* attr(int q) {
    const int i = q < 0 ? -1 : attr_of_[static_cast<std::size_t>(q)];
    return i < 0 ? nullptr : &attrs_[static_cast<std::size_t>(i)];
  }
  QueueAttr& at(int i) { return attrs_[static_cast<std::size_t>(i)]; }
  bool leaf(const QueueAttr& a) const { return a.children.empty(); }

  int queue_order(int l, int r) {
    const int32_t lp = s_->queue(l).priority, rp = s_->queue(r).priority;
    if (lp != rp) return lp > rp ? -1 : 1;
    QueueAttr* la = attr(l);
    QueueAttr* ra = attr(r);
    if (la == nullptr || ra == nullptr) return 0;
    if (!hierarchy_) return compare_share(*la, *ra);
    const bool ll = leaf(*la), rl = leaf(*ra);
    if (ll != rl) return ll ? -1 : 1;
    if (!ll) return compare_share(*la, *ra);
    // Two leaves compare through their ancestors just below the deepest one they share.
    const std::size_t level = static_cast<std::size_t>(shared_level(*la, *ra));
    const QueueAttr& lx = level + 1 < la->ancestors.size() ? at(la->ancestors[level + 1]) : *la;
    const QueueAttr& rx = level + 1 < ra->ancestors.size() ? at(ra->ancestors[level + 1]) : *ra;
    return compare_share(lx, rx);
  }

  // ---- the checks ----

  /// The queue and, with hierarchy, every ancestor (leaf first, as Volcano checks them).
  std::vector<int> chain(const QueueAttr& a) const {
    std::vector<int> out;
    out.push_back(static_cast<int>(&a - attrs_.data()));
    for (auto it = a.ancestors.rbegin(); it != a.ancestors.rend(); ++it) out.push_back(*it);
    return out;
  }

  bool allocatable(int q, int t) {
    if (s_->queue(q).state != "Open") return false;
    if (!ready_) return false;
    QueueAttr* a = attr(q);
    if (a == nullptr) return true;
    if (hierarchy_ && !leaf(*a)) return false;
    const Resource& req = s_->mtask(t).request;
    for (int x : chain(*a)) {
      Resource future = at(x).allocated;
      future.add(req);
      if (!future.greater_dims_within(at(x).real_capability, req).empty()) return false;
    }
    return true;
  }

  int enqueueable(int j) {
    if (!ready_) return kReject;
    const int q = s_->job(j).queue;
    QueueAttr* a = attr(q);
    if (hierarchy_ && a != nullptr && !leaf(*a)) return kReject;
    if (s_->queue(q).state != "Open") return kReject;
    const ModelJob& mj = s_->mjob(j);
    if (a == nullptr || !mj.has_min_resources) return kPermit;
    for (int x : chain(*a)) {
      const QueueAttr& qa = at(x);
      Resource want = mj.min_resources;
      want.add(qa.allocated).add(qa.inqueue).sub(qa.elastic);
      const std::vector<int> over = want.greater_dims_within(qa.real_capability, mj.min_resources);
      if (over.empty()) continue;
      std::string msg = "queue resource quota insufficient";
      for (std::size_t i = 0; i < over.size(); ++i) {
        msg += (i == 0 ? ": " : ", ") + std::string("insufficient ") + s_->model.dims[static_cast<std::size_t>(over[i])];
      }
      s_->record_podgroup_event(j, "Normal", "Unschedulable", msg);
      return kReject;
    }
    return kPermit;
  }

  void enqueued(int j) {
    QueueAttr* a = attr(s_->job(j).queue);
    if (a == nullptr || !s_->mjob(j).has_min_resources) return;
    a->inqueue.add(s_->mjob(j).min_resources);
    if (hierarchy_) {
      for (int x : a->ancestors) at(x).inqueue.add(s_->mjob(j).min_resources);
    }
  }

  /// The reclaim gate: the queue is Open, stays within its real capability, and is below its
  /// deserved on at least one dimension the task asks for (or, with ancestorReclaimLevel, one of
  /// its ancestors within that many levels is).
  bool preemptive(int q, int t) {
    if (!ready_) return false;
    if (s_->queue(q).state != "Open") return false;
    QueueAttr* a = attr(q);
    if (a == nullptr) return false;
    const Resource& req = s_->mtask(t).request;
    Resource future = a->allocated;
    future.add(req);
    if (!future.greater_dims_within(a->real_capability, req).empty()) return false;
    if (within_somewhere(future, a->deserved, req)) return true;
    if (!hierarchy_) return false;
    for (int level = 1; level <= ancestor_reclaim_level_; ++level) {
      const int up = ancestor_at(*a, level);
      if (up < 0 || up == root_) continue;
      Resource up_future = at(up).allocated;
      up_future.add(req);
      if (within_somewhere(up_future, at(up).deserved, req)) return true;
    }
    return false;
  }

  /// The ancestor `level` levels above (1 = parent), or -1.
  static int ancestor_at(const QueueAttr& a, int level) {
    if (level <= 0 || static_cast<int>(a.ancestors.size()) < level) return -1;
    return a.ancestors[a.ancestors.size() - static_cast<std::size_t>(level)];
  }

  bool shares_non_root_ancestor(const QueueAttr& a, const QueueAttr& b) const {
    for (int la = 1; la <= ancestor_reclaim_level_; ++la) {
      const int x = ancestor_at(a, la);
      if (x < 0 || x == root_) continue;
      for (int lb = 1; lb <= ancestor_reclaim_level_; ++lb) {
        if (ancestor_at(b, lb) == x) return true;
      }
    }
    return false;
  }

  /// Victims in Volcano's victim order: within a job the task task order puts last first; across
  /// queues (hierarchy) the queue sharing the deeper ancestor with the reclaimer first, else the
  /// newer queue; otherwise the job job order puts last first.
  std::vector<int> victim_order(int reclaimer, std::vector<int> cands) {
    const int pj = s_->task(reclaimer).job;
    const int pq = pj >= 0 ? s_->job(pj).queue : -1;
    std::vector<int> with_job;
    for (int v : cands) {
      if (s_->task(v).job >= 0) with_job.push_back(v);
    }
    std::stable_sort(with_job.begin(), with_job.end(), [&](int l, int r) {
      const int lj = s_->task(l).job, rj = s_->task(r).job;
      if (lj == rj) return s_->task_order_less(r, l);
      const int lq = s_->job(lj).queue, rq = s_->job(rj).queue;
      if (pq >= 0 && lq != rq) {
        if (hierarchy_ && attr(lq) && attr(rq) && attr(pq)) {
          const int ll = shared_level(*attr(lq), *attr(pq)), rl = shared_level(*attr(rq), *attr(pq));
          if (ll != rl) return ll > rl;
        }
        if (lq != pq && rq != pq) {
          const ModelQueue& a = s_->queue(lq);
          const ModelQueue& b = s_->queue(rq);
          if (a.creation != b.creation) return a.creation > b.creation;
          if (a.uid != b.uid) return a.uid > b.uid;
          return a.name > b.name;
        }
      }
      return s_->job_order_less(rj, lj);
    });
    return with_job;
  }

  std::pair<std::vector<int>, int> reclaimable(int reclaimer, const std::vector<int>& candidates) {
    std::vector<int> victims;
    if (!ready_) return {victims, kReject};
    const int pj = s_->task(reclaimer).job;
    QueueAttr* ra = pj >= 0 ? attr(s_->job(pj).queue) : nullptr;
    if (ra == nullptr) return {victims, kReject};
    const Resource& want = s_->mtask(reclaimer).request;
    std::map<int, Resource> allocations;  // attr index -> allocated, less the victims chosen
    auto tally = [&](int x) -> Resource& {
      auto it = allocations.find(x);
      if (it == allocations.end()) it = allocations.emplace(x, at(x).allocated).first;
      return it->second;
    };
    for (int v : victim_order(reclaimer, candidates)) {
      const int x = attr_of_[static_cast<std::size_t>(s_->job(s_->task(v).job).queue)];
      if (x < 0) continue;
      const QueueAttr& va = at(x);
      const Resource& req = s_->mtask(v).request;
      // A victim that frees nothing the reclaimer asks for is no use.
      if (!intersects(req, want)) continue;
      Resource& allocated = tally(x);
      // Never below the victim queue's guarantee.
      Resource after = allocated;
      after.sub(req);
      if (!va.guarantee.less_equal(after, DimDefault::Zero)) continue;
      if (!intersects(req, va.deserved)) {
        // An immediate victim (its queue deserves nothing of what it holds), unless ancestor
        // reclaim is on and both sit under a shared ancestor with no deserved signal.
        if (hierarchy_ && ancestor_reclaim_level_ > 0 && shares_non_root_ancestor(*ra, va) && !intersects(want, ra->deserved)) {
          continue;
        }
      } else if (!exceeds_relevant(allocated, va.deserved, req)) {
        continue;
      }
      std::vector<int> checked;
      bool eligible = true;
      if (hierarchy_ && ancestor_reclaim_level_ > 0) {
        for (int level = 1; level <= ancestor_reclaim_level_ && eligible; ++level) {
          const int up = ancestor_at(va, level);
          if (up < 0 || up == root_) continue;
          if (ancestor_at(*ra, level) == up) continue;
          checked.push_back(up);
          if (!intersects(req, at(up).deserved)) continue;
          eligible = exceeds_relevant(tally(up), at(up).deserved, req);
        }
      }
      if (!eligible) continue;
      allocated.sub(req);
      for (int up : checked) tally(up).sub(req);
      victims.push_back(v);
    }
    return {victims, kPermit};
  }

  void on_change(int t, bool add) {
    if (s_->task(t).job < 0) return;
    QueueAttr* a = attr(s_->job(s_->task(t).job).queue);
    if (a == nullptr) return;
    const Resource& req = s_->mtask(t).request;
    std::vector<int> touched = {static_cast<int>(a - attrs_.data())};
    if (hierarchy_) touched.insert(touched.end(), a->ancestors.begin(), a->ancestors.end());
    for (int x : touched) {
      if (add) {
        at(x).allocated.add(req);
      } else {
        at(x).allocated.sub(req);
      }
    }
    update_share(*a);  // as Volcano: the ancestors' shares stay as the session opened them
  }

  void register_fns(Session& s, const PluginCtx& p) {
    s.add_queue_order_fn(p, [this](int l, int r) { return queue_order(l, r); });
    s.add_allocatable_fn(p, [this](int q, int t) { return allocatable(q, t); });
    s.add_job_enqueueable_fn(p, [this](int j) { return enqueueable(j); });
    s.add_job_enqueued_fn(p, [this](int j) { enqueued(j); });
    s.add_preemptive_fn(p, [this](int q, int t) { return preemptive(q, t); });
    // Reads the reclaimer's queue and request only.
    s.add_reclaimable_fn(
        p, [this](int reclaimer, const std::vector<int>& c) { return reclaimable(reclaimer, c); },
        Session::ReclaimerReads::QueueAndSignature);
    s.add_event_handler([this](int t) { on_change(t, true); }, [this](int t) { on_change(t, false); });
  }

  Session* s_ = nullptr;
  int ancestor_reclaim_level_ = 0;
  bool hierarchy_ = false;
  bool ready_ = true;
  int root_ = -1;  ///< attr index of the root (hierarchy only)
  std::vector<QueueAttr> attrs_;
  std::vector<int> attr_of_;  ///< model queue -> attrs_ index, -1 for queues without attributes
};

}  // namespace

std::unique_ptr<Plugin> make_capacity(const PluginArgs& args) {
  int level = 0;
  args.get_int(level, "ancestorReclaimLevel");
  return std::make_unique<Capacity>(level);
}

}  // namespace kai::scheduler
