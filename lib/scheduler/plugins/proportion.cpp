// proportion (plugins/proportion/proportion.go): queues share the cluster by weight. Each queue
// with jobs in the session gets a deserved share by water-filling (capped by its capability
// and its request, raised to its guarantee); the share (allocated / deserved) orders queues, an
// overused queue gets nothing more, and enqueue admits jobs while the queue's capability holds.

#include <limits>

#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {
namespace {

struct QueueAttr {
  int queue = -1;
  int32_t weight = 1;
  double share = 0;
  Resource deserved, allocated, request, elastic, inqueue, guarantee;
  bool has_capability = false;
  Resource capability;
  Resource real_capability;
};

class Proportion : public Plugin {
 public:
  void on_session_open(Session& s, const PluginCtx& p) override {
    const int dims = s.dims();
    Resource total = s.total_resource;
    Resource total_guarantee(dims);
    for (const auto& q : s.model.queues) {
      if (q.has_guarantee) total_guarantee.add(q.guarantee);
    }
    attr_of_.assign(s.model.queues.size(), -1);
    for (std::size_t ji = 0; ji < s.jobs.size(); ++ji) {
      const JobState& js = s.jobs[ji];
      const ModelJob& mj = s.mjob(static_cast<int>(ji));
      if (attr_of_[static_cast<std::size_t>(js.queue)] < 0) {
        const ModelQueue& q = s.queue(js.queue);
        QueueAttr a;
        a.queue = js.queue;
        a.weight = q.weight;
        for (Resource* r : {&a.deserved, &a.allocated, &a.request, &a.elastic, &a.inqueue, &a.guarantee}) *r = Resource(dims);
        if (q.has_capability) {
          a.has_capability = true;
          a.capability = q.capability;
          // An unset (or zero) cpu or memory in a set capability is unlimited.
          if (a.capability.get(Resource::kCpu) <= 0) a.capability.set(Resource::kCpu, std::numeric_limits<double>::max());
          if (a.capability.get(Resource::kMemory) <= 0) a.capability.set(Resource::kMemory, std::numeric_limits<double>::max());
        }
        if (q.has_guarantee) a.guarantee = q.guarantee;
        Resource real = total;
        real.sub(total_guarantee).add(a.guarantee);
        a.real_capability = a.has_capability ? resource_min(real, a.capability) : real;
        attr_of_[static_cast<std::size_t>(js.queue)] = static_cast<int>(attrs_.size());
        attrs_.push_back(std::move(a));
      }
      QueueAttr& a = attrs_[static_cast<std::size_t>(attr_of_[static_cast<std::size_t>(js.queue)])];
      int32_t allocated_tasks = 0;
      for (int t : js.tasks) {
        const TaskStatus st = s.task(t).status;
        if (allocated_status(st)) {
          a.allocated.add(s.mtask(t).request);
          a.request.add(s.mtask(t).request);
          ++allocated_tasks;
        } else if (st == TaskStatus::Pending) {
          a.request.add(s.mtask(t).request);
        }
      }
      if (js.phase == "Inqueue" && mj.has_min_resources) {
        a.inqueue.add(mj.min_resources);
      } else if (js.phase == "Running" && mj.has_min_resources && allocated_tasks >= mj.min_member) {
        a.inqueue.add(exceeded_part(mj.min_resources, js.allocated));
      }
      // elastic: what the job holds beyond its minimum resources.
      a.elastic.add(exceeded_part(js.allocated, mj.has_min_resources ? mj.min_resources : Resource(dims)));
    }
    water_fill(total);
    register_fns(s, p);
  }

  /// The deserved share of each queue (volcano.md §4.3 proportion).
  void water_fill(const Resource& total) {
    Resource remaining = total;
    std::vector<char> met(attrs_.size(), 0);
    while (true) {
      int32_t total_weight = 0;
      for (std::size_t i = 0; i < attrs_.size(); ++i) {
        if (!met[i]) total_weight += attrs_[i].weight;
      }
      if (total_weight == 0) break;
      const Resource old_remaining = remaining;
      Resource increased(total.dims()), decreased(total.dims());
      for (std::size_t i = 0; i < attrs_.size(); ++i) {
        if (met[i]) continue;
        QueueAttr& a = attrs_[i];
        const Resource old = a.deserved;
        Resource part = remaining;
        part.multi(static_cast<double>(a.weight) / static_cast<double>(total_weight));
        a.deserved.add(part);
        a.deserved.min_dimension(a.real_capability, DimDefault::Infinity);
        a.deserved.min_dimension(a.request, DimDefault::Zero);
        a.deserved = resource_max(a.deserved, a.guarantee);
        if (a.request.less_equal(a.deserved, DimDefault::Zero) || a.deserved == old) met[i] = 1;
        update_share(a);
        auto [inc, dec] = a.deserved.diff(old);
        increased.add(inc);
        decreased.add(dec);
      }
      Resource next = remaining;
      next.add(decreased);
      remaining = exceeded_part(next, increased);
      if (remaining.is_empty() || remaining == old_remaining) break;
    }
  }

  /// share = max over deserved's dimensions (ResourceNames) of allocated / deserved.
  static void update_share(QueueAttr& a) {
    double res = 0;
    for (int d = 0; d < a.deserved.dims(); ++d) {
      if (a.deserved.has(d) && a.deserved.get(d) >= kMinResource) res = std::max(res, share(a.allocated.get(d), a.deserved.get(d)));
    }
    a.share = res;
  }

  QueueAttr* attr(int q) {
    const int i = attr_of_[static_cast<std::size_t>(q)];
    return i < 0 ? nullptr : &attrs_[static_cast<std::size_t>(i)];
  }

  std::optional<QueueShare> queue_share(int q) const override {
    const int i = q >= 0 && static_cast<std::size_t>(q) < attr_of_.size() ? attr_of_[static_cast<std::size_t>(q)] : -1;
    if (i < 0) return std::nullopt;
    const QueueAttr& a = attrs_[static_cast<std::size_t>(i)];
    return QueueShare{"", a.deserved, a.allocated, a.share, "", ""};
  }

  /// allocated + the task's request within deserved, on the dimensions the task asks for.
  bool within_deserved(Session& s, int q, int t) {
    QueueAttr* a = attr(q);
    if (a == nullptr) return true;
    if (s.queue(q).state != "Open") return false;
    // (allocated + request).greater_dims_within(deserved, request), without the temporary: it
    // runs once per task.
    const Resource& req = s.mtask(t).request;
    for (int d = 0; d < req.dims(); ++d) {
      if (d >= 2 && !req.has(d)) continue;
      if (req.get(d) > 0 && a->allocated.get(d) + req.get(d) > a->deserved.get(d)) return false;
    }
    return true;
  }

  void register_fns(Session& s, const PluginCtx& p) {
    // Higher queue priority first, then the lower share.
    s.add_queue_order_fn(p, [this, &s](int l, int r) {
      const int32_t lp = s.queue(l).priority, rp = s.queue(r).priority;
      if (lp != rp) return lp > rp ? -1 : 1;
      const QueueAttr* la = attr(l);
      const QueueAttr* ra = attr(r);
      const double ls = la ? la->share : 0, rs = ra ? ra->share : 0;
      if (ls == rs) return 0;
      return ls < rs ? -1 : 1;
    });

    s.add_reclaimable_fn(p, [this, &s](int, const std::vector<int>& candidates) {
      std::vector<int> victims;
      std::map<int, Resource> allocations;
      for (int v : candidates) {
        const int j = s.task(v).job;
        if (j < 0) continue;
        const int q = s.job(j).queue;
        QueueAttr* a = attr(q);
        if (a == nullptr) continue;
        auto it = allocations.find(q);
        if (it == allocations.end()) it = allocations.emplace(q, a->allocated).first;
        if (!it->second.less_equal(a->deserved, DimDefault::Zero)) {
          it->second.sub(s.mtask(v).request);
          victims.push_back(v);
        }
      }
      return std::pair{victims, kPermit};
    }, Session::ReclaimerReads::QueueAndSignature,  // reads nothing of the reclaimer
    // The first victim of a queue sees its whole allocation, later ones less: a queue within
    // what it deserves gives none.
    [this, &s](int v) {
      const int j = s.task(v).job;
      if (j < 0) return false;
      const QueueAttr* a = attr(s.job(j).queue);
      return a != nullptr && !a->allocated.less_equal(a->deserved, DimDefault::Zero);
    });

    s.add_overused_fn(p, [this](int q) {
      const QueueAttr* a = attr(q);
      return a != nullptr && a->deserved.less_equal(a->allocated, DimDefault::Zero);
    });

    s.add_allocatable_fn(p, [this, &s](int q, int t) { return within_deserved(s, q, t); });
    s.add_preemptive_fn(p, [this, &s](int q, int t) { return within_deserved(s, q, t); });

    s.add_job_enqueueable_fn(p, [this, &s](int j) {
      const int q = s.job(j).queue;
      QueueAttr* a = attr(q);
      if (s.queue(q).state != "Open") return kReject;
      const ModelJob& mj = s.mjob(j);
      if (a == nullptr || !mj.has_min_resources) return kPermit;
      Resource want = mj.min_resources;
      want.add(a->allocated).add(a->inqueue).sub(a->elastic);
      const std::vector<int> over = want.greater_dims_within(a->real_capability, mj.min_resources);
      if (over.empty()) return kPermit;
      std::string msg = "queue resource quota insufficient";
      for (std::size_t i = 0; i < over.size(); ++i) {
        msg += (i == 0 ? ": " : ", ") + std::string("insufficient ") + s.model.dims[static_cast<std::size_t>(over[i])];
      }
      s.record_podgroup_event(j, "Normal", "Unschedulable", msg);
      return kReject;
    });
    s.add_job_enqueued_fn(p, [this, &s](int j) {
      QueueAttr* a = attr(s.job(j).queue);
      if (a != nullptr && s.mjob(j).has_min_resources) a->inqueue.add(s.mjob(j).min_resources);
    });

    s.add_event_handler(
        [this, &s](int t) {
          if (s.task(t).job < 0) return;
          if (QueueAttr* a = attr(s.job(s.task(t).job).queue)) {
            a->allocated.add(s.mtask(t).request);
            update_share(*a);
          }
        },
        [this, &s](int t) {
          if (s.task(t).job < 0) return;
          if (QueueAttr* a = attr(s.job(s.task(t).job).queue)) {
            a->allocated.sub(s.mtask(t).request);
            update_share(*a);
          }
        });
  }

 private:
  std::vector<QueueAttr> attrs_;
  std::vector<int> attr_of_;  ///< model queue -> attrs_ index, -1 for queues without jobs
};

}  // namespace

std::unique_ptr<Plugin> make_proportion(const PluginArgs&) { return std::make_unique<Proportion>(); }

}  // namespace kai::scheduler
