// The simulation loop: arrivals and completions in virtual time, one scheduling session per
// period in which something changed, over a SnapshotModel of the live jobs kept in place.

#include "lib/sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <queue>
#include <unordered_map>

#include "lib/api/error.h"
#include "lib/scheduler/model.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::sim {
namespace {

namespace sch = kai::scheduler;
using sch::TaskStatus;

constexpr Nanos kNever = std::numeric_limits<Nanos>::max();
constexpr const char* kGpu = "nvidia.com/gpu";
constexpr const char* kTemplateNs = "kai-sim";
/// Virtual time 0 on the scheduler's clock (creation timestamps, the session's now).
constexpr const char* kEpoch = "2026-01-01T00:00:00Z";
/// A state that keeps changing without binds or evictions (phases only) stops being run every
/// period after this many sessions: the simulation then waits for the next arrival or completion.
constexpr int kMaxQuietSessions = 8;

sch::Nanos epoch() {
  sch::Nanos e = 0;
  sch::parse_rfc3339(kEpoch, e);
  return e;
}

std::string rfc3339(sch::Nanos t) {
  const std::time_t secs = static_cast<std::time_t>(t / 1'000'000'000);
  const int64_t frac = t % 1'000'000'000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%09lld", static_cast<long long>(frac));
    out += f;
  }
  return out + "Z";
}

double seconds(Nanos n) { return static_cast<double>(n) / 1e9; }

/// Nearest-rank percentiles.
WaitStats wait_stats(std::vector<double> w) {
  WaitStats s;
  if (w.empty()) return s;
  std::sort(w.begin(), w.end());
  auto rank = [&](double q) {
    const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(w.size())));
    return w[std::min(w.size(), std::max<std::size_t>(k, 1)) - 1];
  };
  s.p50 = rank(0.50);
  s.p90 = rank(0.90);
  s.p99 = rank(0.99);
  double sum = 0;
  for (double x : w) sum += x;
  s.mean = sum / static_cast<double>(w.size());
  s.max = w.back();
  return s;
}

/// A Resource as a Kubernetes resource list (cpu and scalars in milli-units, memory in bytes).
json resource_list(const sch::SnapshotModel& m, const sch::Resource& r) {
  json out = json::object();
  for (int d = 0; d < r.dims(); ++d) {
    if (!r.has(d) || (d >= 2 && r.get(d) == 0)) continue;
    const auto v = static_cast<long long>(std::llround(r.get(d)));
    out[m.dims[static_cast<std::size_t>(d)]] = d == sch::Resource::kMemory ? std::to_string(v) : std::to_string(v) + "m";
  }
  return out;
}

class Engine {
 public:
  Engine(const Trace& trace, const std::vector<json>& cluster, const std::string& cluster_file, const sch::Config& config,
         const SimOptions& options)
      : trace_(trace), config_(config), options_(options), epoch_(epoch()) {
    setup(cluster, cluster_file);
  }

  /// Runs until nothing is left to happen, or after `max_steps` sessions (>= 0) when recording steps.
  void run(int max_steps = -1) {
    Nanos last_tick = -1;
    bool dirty = false;
    int quiet = 0;
    while (max_steps < 0 || report_.sessions < max_steps) {
      const Nanos next = next_event();
      Nanos tick = 0;
      if (dirty) {
        tick = last_tick + options_.period;
      } else {
        if (next == kNever) break;
        tick = (next + options_.period - 1) / options_.period * options_.period;
        if (tick <= last_tick) tick = last_tick + options_.period;
      }
      const bool events = complete_until(tick) | arrive_until(tick);
      const bool acted = session(tick);
      last_tick = tick;
      quiet = acted || events ? 0 : quiet + 1;
      dirty = changed_ && quiet < kMaxQuietSessions;
    }
    report_.virtual_seconds = seconds(std::max<Nanos>(last_tick, 0));
  }

  Report finish(const std::string& config_name) {
    advance(last_change_);
    Report& r = report_;
    r.config = config_name;
    r.nodes = static_cast<int>(model_.nodes.size());
    r.gpu_total = gpu_total_ / 1000;
    r.jobs = static_cast<int>(trace_.jobs.size());
    std::vector<double> all;
    std::vector<std::vector<double>> per_queue(r.queues.size());
    Nanos first = kNever, last = 0;
    std::vector<Nanos> q_first(r.queues.size(), kNever), q_last(r.queues.size(), 0);
    for (std::size_t i = 0; i < trace_.jobs.size(); ++i) {
      const JobRecord& j = records_[i];
      QueueReport& q = r.queues[static_cast<std::size_t>(j.queue)];
      q.jobs++;
      first = std::min(first, trace_.jobs[i].time);
      q_first[static_cast<std::size_t>(j.queue)] = std::min(q_first[static_cast<std::size_t>(j.queue)], trace_.jobs[i].time);
      if (j.ready >= 0) {
        const double w = seconds(j.ready - trace_.jobs[i].time);
        all.push_back(w);
        per_queue[static_cast<std::size_t>(j.queue)].push_back(w);
      }
      if (j.completed >= 0) {
        r.completed++;
        q.completed++;
        last = std::max(last, j.completed);
        q_last[static_cast<std::size_t>(j.queue)] = std::max(q_last[static_cast<std::size_t>(j.queue)], j.completed);
      }
    }
    r.makespan = r.completed > 0 ? seconds(last - first) : 0;
    const double used = total_gpu_seconds_ / 1000;
    r.gpu_utilisation = r.makespan > 0 && r.gpu_total > 0 ? used / (r.gpu_total * r.makespan) : 0;
    r.wait = wait_stats(std::move(all));
    int32_t weights = 0;
    for (const auto& q : r.queues) {
      if (q.jobs > 0) weights += q.weight;
    }
    for (std::size_t qi = 0; qi < r.queues.size(); ++qi) {
      QueueReport& q = r.queues[qi];
      q.makespan = q.completed > 0 ? seconds(q_last[qi] - q_first[qi]) : 0;
      q.gpu_seconds = queue_gpu_seconds_[qi] / 1000;
      q.gpu_utilisation = r.makespan > 0 && r.gpu_total > 0 ? q.gpu_seconds / (r.gpu_total * r.makespan) : 0;
      q.share = used > 0 ? q.gpu_seconds / used : 0;
      const sch::ModelQueue& mq = model_.queues[static_cast<std::size_t>(queue_model_[qi])];
      if (mq.has_deserved && gpu_dim_ >= 0 && mq.deserved.has(gpu_dim_) && gpu_total_ > 0) {
        q.deserved = mq.deserved.get(gpu_dim_) / gpu_total_;
      } else {
        q.deserved = q.jobs > 0 && weights > 0 ? static_cast<double>(q.weight) / weights : 0;
      }
      q.wait = wait_stats(std::move(per_queue[qi]));
      r.preemptions += q.preemptions;
      r.restarts += q.restarts;
    }
    return std::move(report_);
  }

  std::vector<Step> steps;
  bool record_steps = false;

 private:
  /// What the simulator knows of a trace job over the whole run.
  struct JobRecord {
    int queue = 0;             ///< report queue
    int live = -1;             ///< model job index while live
    int generation = 0;        ///< bumped on restart: older completion events are stale
    Nanos ready = -1;          ///< first time minAvailable pods were bound
    Nanos completed = -1;
    bool counted_ready = false;  ///< currently not waiting (pending_jobs)
    int pods = 0;
    int succeeded = 0;
  };
  /// A pod of a live job (parallel to model_.tasks).
  struct LivePod {
    int record = 0;  ///< trace job
    int offset = 0;  ///< position among the job's pods
    int task = 0;    ///< trace task
    Nanos duration = 0;
    double gpus = 0;  ///< milli-GPUs
  };
  struct Completion {
    Nanos time;
    int record, generation, offset;
    bool operator>(const Completion& o) const {
      if (time != o.time) return time > o.time;
      if (record != o.record) return record > o.record;
      return offset > o.offset;
    }
  };

  // ---- setup ----

  void setup(const std::vector<json>& cluster, const std::string& cluster_file) {
    // The cluster alone first, so that its errors name its file.
    sch::Snapshot cs = sch::snapshot_from_objects(cluster, cluster_file);
    if (cs.nodes.empty()) throw Error::invalid(cluster_file + ": no nodes: the simulated cluster needs at least one v1 Node");
    std::vector<json> queues = cs.queues, classes = cs.priority_classes;
    for (const json& o : trace_.objects) {
      (o.value("kind", std::string()) == "Queue" ? queues : classes).push_back(o);
    }
    std::map<std::string, int> known;
    for (const json& q : queues) known.emplace(q["metadata"].value("name", std::string()), 0);
    // Volcano's default queue always exists; so does every queue a job names.
    std::vector<std::string> wanted = {"default"};
    for (const TraceJob& j : trace_.jobs) wanted.push_back(j.queue);
    for (const std::string& name : wanted) {
      if (known.emplace(name, 0).second) {
        queues.push_back({{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                          {"kind", "Queue"},
                          {"metadata", {{"name", name}}},
                          {"spec", {{"weight", 1}}}});
      }
    }
    // Templates: the trace's distinct pods, one PodGroup per priority class name.
    std::map<std::string, int> class_ids;
    records_.resize(trace_.jobs.size());
    std::vector<json> pods;
    std::vector<int> tmpl_first(trace_.pods.size(), -1);  // the first trace job using each template
    for (std::size_t i = 0; i < trace_.pods.size(); ++i) {
      json p = trace_.pods[i];
      p["metadata"]["name"] = "tmpl-" + std::to_string(i);
      p["metadata"]["namespace"] = kTemplateNs;
      pods.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < trace_.jobs.size(); ++i) {
      const TraceJob& j = trace_.jobs[i];
      for (const TraceTask& t : j.tasks) {
        if (tmpl_first[static_cast<std::size_t>(t.pod)] < 0) tmpl_first[static_cast<std::size_t>(t.pod)] = static_cast<int>(i);
      }
      class_ids.emplace(j.priority_class, 0);
    }
    std::vector<json> groups;
    for (auto& [name, id] : class_ids) {
      id = static_cast<int>(groups.size());
      groups.push_back({{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                        {"kind", "PodGroup"},
                        {"metadata", {{"name", "class-" + std::to_string(id)}, {"namespace", kTemplateNs}}},
                        {"spec", {{"priorityClassName", name}, {"queue", "default"}}}});
    }
    sch::Snapshot snap;
    snap.nodes = std::move(cs.nodes);
    snap.queues = std::move(queues);
    snap.priority_classes = std::move(classes);
    snap.podgroups = std::move(groups);
    snap.pods = std::move(pods);
    std::shared_ptr<const sch::SnapshotModel> tm;
    try {
      tm = sch::build_model(snap, cluster_file);
    } catch (const Error&) {
      blame_template(snap, tmpl_first, cluster_file);
      throw;
    }
    cluster_objects_ = snap.nodes;
    cluster_objects_.insert(cluster_objects_.end(), snap.queues.begin(), snap.queues.end());
    cluster_objects_.insert(cluster_objects_.end(), snap.priority_classes.begin(), snap.priority_classes.end());
    templates_ = tm;
    model_.dims = tm->dims;
    model_.nodes = tm->nodes;
    model_.queues = tm->queues;
    model_.placements = tm->placements;
    model_.signatures = tm->signatures;
    for (int d = 0; d < model_.dim_count(); ++d) {
      if (model_.dims[static_cast<std::size_t>(d)] == kGpu) gpu_dim_ = d;
    }
    for (const auto& n : model_.nodes) {
      if (gpu_dim_ >= 0 && n.ready) gpu_total_ += n.allocatable.get(gpu_dim_);
    }
    std::map<std::string, int> queue_index;
    for (std::size_t q = 0; q < model_.queues.size(); ++q) queue_index[model_.queues[q].name] = static_cast<int>(q);
    // Report queues sorted by name.
    for (const auto& [name, mq] : queue_index) {
      QueueReport qr;
      qr.name = name;
      qr.weight = model_.queues[static_cast<std::size_t>(mq)].weight;
      report_queue_of_[name] = static_cast<int>(report_.queues.size());
      queue_model_.push_back(mq);
      report_.queues.push_back(std::move(qr));
    }
    queue_gpus_.assign(report_.queues.size(), 0);
    queue_gpu_seconds_.assign(report_.queues.size(), 0);
    model_queue_of_ = std::move(queue_index);
    for (std::size_t i = 0; i < trace_.jobs.size(); ++i) {
      const TraceJob& j = trace_.jobs[i];
      JobRecord& r = records_[i];
      r.queue = report_queue_of_.at(j.queue);
      job_priority_.push_back(tm->jobs[static_cast<std::size_t>(class_ids.at(j.priority_class))].priority);
      for (const TraceTask& t : j.tasks) r.pods += t.replicas;
    }
  }

  /// Rethrows a template's error as the trace record's.
  void blame_template(const sch::Snapshot& snap, const std::vector<int>& first, const std::string& cluster_file) {
    for (std::size_t i = 0; i < snap.pods.size(); ++i) {
      sch::Snapshot one;
      one.pods = {snap.pods[i]};
      try {
        sch::build_model(one, cluster_file);
      } catch (const Error& e) {
        std::string m = e.what();
        if (auto at = m.find("): "); at != std::string::npos) m = m.substr(at + 3);
        const TraceJob& j = trace_.jobs[static_cast<std::size_t>(first[i])];
        throw Error::invalid(j.where + ": pod template: " + m);
      }
    }
  }

  // ---- events ----

  Nanos next_event() {
    while (!completions_.empty()) {
      const Completion& c = completions_.top();
      if (records_[static_cast<std::size_t>(c.record)].generation == c.generation) break;
      completions_.pop();
    }
    Nanos next = completions_.empty() ? kNever : completions_.top().time;
    if (next_arrival_ < trace_.jobs.size()) next = std::min(next, trace_.jobs[next_arrival_].time);
    return next;
  }

  /// Integrates the allocation up to t.
  void advance(Nanos t) {
    if (t <= last_change_) return;
    const double dt = seconds(t - last_change_);
    total_gpu_seconds_ += gpu_used_ * dt;
    for (std::size_t q = 0; q < queue_gpus_.size(); ++q) queue_gpu_seconds_[q] += queue_gpus_[q] * dt;
    last_change_ = t;
  }

  void sample(Nanos t) {
    if (!options_.timeline) return;
    auto& tl = report_.timeline;
    if (tl.empty() || tl.back().time != t) tl.push_back(Sample{t, 0, 0, {}});
    Sample& s = tl.back();
    s.gpu_used = gpu_used_ / 1000;
    s.pending_jobs = waiting_;
    s.queue_gpus.resize(queue_gpus_.size());
    for (std::size_t q = 0; q < queue_gpus_.size(); ++q) s.queue_gpus[q] = queue_gpus_[q] / 1000;
  }

  void use(int queue, double gpus) {
    gpu_used_ += gpus;
    queue_gpus_[static_cast<std::size_t>(queue)] += gpus;
  }

  bool complete_until(Nanos tick) {
    bool any = false;
    while (next_event() != kNever && !completions_.empty() && completions_.top().time <= tick) {
      const Completion c = completions_.top();
      completions_.pop();
      JobRecord& r = records_[static_cast<std::size_t>(c.record)];
      const auto t = static_cast<std::size_t>(model_.jobs[static_cast<std::size_t>(r.live)].tasks.front() + c.offset);
      advance(c.time);
      sch::ModelTask& mt = model_.tasks[t];
      mt.status = TaskStatus::Succeeded;
      mt.node = -1;
      mt.node_name.clear();
      use(r.queue, -live_[t].gpus);
      if (++r.succeeded == r.pods) {
        r.completed = c.time;
        finished_.push_back(c.record);
      }
      sample(c.time);
      any = true;
    }
    return any;
  }

  bool arrive_until(Nanos tick) {
    retire_finished();
    bool any = false;
    while (next_arrival_ < trace_.jobs.size() && trace_.jobs[next_arrival_].time <= tick) {
      add_job(static_cast<int>(next_arrival_++));
      any = true;
    }
    return any;
  }

  /// Takes the jobs that completed since the last session out of the sessions: a retired job
  /// stays in the model with no queue, which a session leaves out (sim-session.md item 5), and
  /// its pods, all Succeeded, are on no node. Once the retired pods are an eighth of the model,
  /// compact() drops them all: it moves every later pod, and did so on nearly every tick (13% of
  /// the full benchmark's time) when it ran whenever a job had completed.
  void retire_finished() {
    if (finished_.empty()) return;
    for (int record : finished_) {
      sch::ModelJob& mj = model_.jobs[static_cast<std::size_t>(records_[static_cast<std::size_t>(record)].live)];
      mj.queue_index = -1;
      retired_pods_ += mj.tasks.size();
    }
    finished_.clear();
    if (retired_pods_ * 8 > model_.tasks.size()) compact();
  }

  /// A retired job (retire_finished): the trace's jobs all name a queue that exists.
  static bool retired(const sch::ModelJob& mj) { return mj.queue_index < 0; }

  /// Drops completed jobs and their pods from the model, keeping the others' order.
  void compact() {
    retired_pods_ = 0;
    std::size_t jw = 0, tw = 0;
    for (std::size_t j = 0; j < model_.jobs.size(); ++j) {
      JobRecord& r = records_[static_cast<std::size_t>(live_job_[j])];
      if (r.completed >= 0) {
        r.live = -1;
        continue;
      }
      sch::ModelJob& mj = model_.jobs[j];
      for (int& t : mj.tasks) {
        const auto from = static_cast<std::size_t>(t);
        if (from != tw) {
          model_.tasks[tw] = std::move(model_.tasks[from]);
          live_[tw] = live_[from];
        }
        model_.tasks[tw].job = static_cast<int>(jw);
        t = static_cast<int>(tw++);
      }
      if (j != jw) {
        model_.jobs[jw] = std::move(mj);
        live_job_[jw] = live_job_[j];
      }
      r.live = static_cast<int>(jw++);
    }
    model_.jobs.resize(jw);
    live_job_.resize(jw);
    model_.tasks.resize(tw);
    live_.resize(tw);
  }

  void add_job(int record) {
    const TraceJob& tj = trace_.jobs[static_cast<std::size_t>(record)];
    JobRecord& r = records_[static_cast<std::size_t>(record)];
    advance(tj.time);
    sch::ModelJob mj;
    mj.ns = tj.ns;
    mj.name = tj.name;
    mj.key = tj.ns + "/" + tj.name;
    char uid[32];
    std::snprintf(uid, sizeof uid, "kai-sim-%08d", record);
    mj.uid = uid;
    mj.creation = epoch_ + tj.time;
    mj.queue = tj.queue;
    mj.queue_index = model_queue_of_.at(tj.queue);
    mj.min_member = tj.min_available;
    std::map<std::string, int32_t> mtm;
    for (const TraceTask& t : tj.tasks) mtm[t.name] = t.min_available;
    mj.min_task_member.assign(mtm.begin(), mtm.end());
    mj.priority_class = tj.priority_class;
    mj.priority = job_priority_[static_cast<std::size_t>(record)];
    mj.phase = "Pending";
    // minResources: the requests of the first minAvailable pods, higher-priority tasks first
    // (Volcano's calcPGMinResources).
    mj.has_min_resources = true;
    mj.min_resources = model_.empty_resource();
    std::vector<std::size_t> order(tj.tasks.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return tmpl(tj, a).priority > tmpl(tj, b).priority;
    });
    int32_t left = tj.min_available;
    for (std::size_t i : order) {
      for (int32_t k = 0; k < tj.tasks[i].replicas && left > 0; ++k, --left) mj.min_resources.add(tmpl(tj, i).request);
    }
    const int jobs = static_cast<int>(model_.jobs.size());
    int offset = 0;
    for (std::size_t i = 0; i < tj.tasks.size(); ++i) {
      const TraceTask& t = tj.tasks[i];
      const sch::ModelTask& tm = tmpl(tj, i);
      for (int32_t k = 0; k < t.replicas; ++k) {
        sch::ModelTask task = tm;
        task.ns = tj.ns;
        task.name = tj.name + "-" + t.name + "-" + std::to_string(k);
        task.key = tj.ns + "/" + task.name;
        task.uid = task.key;
        task.creation = mj.creation;
        task.job = jobs;
        task.has_index = true;
        task.index = k;
        task.status = TaskStatus::Pending;
        mj.tasks.push_back(static_cast<int>(model_.tasks.size()));
        model_.tasks.push_back(std::move(task));
        live_.push_back(LivePod{record, offset++, static_cast<int>(i), t.duration, gpu_dim_ >= 0 ? tm.request.get(gpu_dim_) : 0});
      }
    }
    r.live = jobs;
    model_.jobs.push_back(std::move(mj));
    live_job_.push_back(record);
    if (tj.min_available == 0) {
      r.ready = tj.time;
      r.counted_ready = true;
    } else {
      ++waiting_;
    }
    if (r.pods == 0) {
      r.completed = tj.time;
      finished_.push_back(record);
    }
    sample(tj.time);
  }

  /// The template (model task) of a trace job's task: templates_' tasks are the trace's pods.
  const sch::ModelTask& tmpl(const TraceJob& j, std::size_t task) const {
    return templates_->tasks[static_cast<std::size_t>(j.tasks[task].pod)];
  }

  // ---- the session ----

  /// Runs one session at `tick` and applies its decisions; returns whether it bound or evicted.
  bool session(Nanos tick) {
    advance(tick);
    ++report_.sessions;
    Step step;
    if (record_steps) step.objects = objects(tick);
    sch::SessionOptions so;
    so.scheduler_names = options_.scheduler_names;
    so.now = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::nanoseconds(epoch_ + tick)));
    so.session_uid = "kai-sim";
    so.shortcuts = options_.shortcuts;
    const sch::Registry& registry = sch::builtin_registry();
    sch::Session s(model_, config_, so);
    s.open(registry);
    for (const auto& a : config_.actions) s.run_action(a, registry);

    // Phases the next session reads: Session::job_phase's rule (tasks bound now count from the
    // next session on), before this session's binds are applied.
    changed_ = false;
    for (std::size_t j = 0; j < model_.jobs.size(); ++j) {
      const int sj = s.job_of_model[j];
      if (sj < 0) continue;
      const char* phase = next_phase(s.job(sj));
      if (model_.jobs[j].phase != phase) {
        model_.jobs[j].phase = phase;
        changed_ = true;
      }
    }
    std::vector<int> restart;
    for (const auto& [t, n] : s.binds()) bind(t, s.nodes[static_cast<std::size_t>(n)].model, tick);
    for (int t : s.evictions()) {
      const LivePod& p = live_[static_cast<std::size_t>(t)];
      report_.queues[static_cast<std::size_t>(records_[static_cast<std::size_t>(p.record)].queue)].preemptions++;
      restart.push_back(p.record);
    }
    std::sort(restart.begin(), restart.end());
    restart.erase(std::unique(restart.begin(), restart.end()), restart.end());
    for (int r : restart) restart_job(r, tick);
    if (record_steps) {
      for (const auto& [t, n] : s.binds()) {
        step.bound[model_.tasks[static_cast<std::size_t>(t)].key] = model_.nodes[static_cast<std::size_t>(s.nodes[static_cast<std::size_t>(n)].model)].name;
      }
      for (int t : s.evictions()) step.evicted.push_back(model_.tasks[static_cast<std::size_t>(t)].key);
      std::sort(step.evicted.begin(), step.evicted.end());
      for (const auto& mj : model_.jobs) {
        if (!retired(mj)) step.phases[mj.key] = mj.phase;
      }
      step.time = tick;
      steps.push_back(std::move(step));
    }
    const bool acted = !s.binds().empty() || !s.evictions().empty();
    changed_ = changed_ || acted;
    if (acted) sample(tick);
    return acted;
  }

  static const char* next_phase(const sch::JobState& js) {
    auto count = [&](TaskStatus st) { return js.count[static_cast<std::size_t>(st)]; };
    const int32_t finished = count(TaskStatus::Succeeded) + count(TaskStatus::Failed);
    const int32_t scheduled = count(TaskStatus::Running) + count(TaskStatus::Bound) + finished;
    if (scheduled >= js.min_available) return finished == scheduled ? "Completed" : "Running";
    return js.phase == "Inqueue" ? "Inqueue" : "Pending";
  }

  void bind(int t, int node, Nanos tick) {
    sch::ModelTask& mt = model_.tasks[static_cast<std::size_t>(t)];
    const LivePod& p = live_[static_cast<std::size_t>(t)];
    JobRecord& r = records_[static_cast<std::size_t>(p.record)];
    mt.status = TaskStatus::Running;
    mt.node = node;
    mt.node_name = model_.nodes[static_cast<std::size_t>(node)].name;
    use(r.queue, p.gpus);
    completions_.push(Completion{tick + p.duration, p.record, r.generation, p.offset});
    if (!r.counted_ready) {
      // Ready once minAvailable pods are bound, running or done.
      int32_t placed = 0;
      for (int x : model_.jobs[static_cast<std::size_t>(mt.job)].tasks) {
        const TaskStatus st = model_.tasks[static_cast<std::size_t>(x)].status;
        placed += st == TaskStatus::Running || st == TaskStatus::Succeeded;
      }
      if (placed >= model_.jobs[static_cast<std::size_t>(mt.job)].min_member) {
        r.counted_ready = true;
        --waiting_;
        if (r.ready < 0) r.ready = tick;
      }
    }
  }

  /// RestartJob: every pod of the job back to Pending, its PodGroup Pending.
  void restart_job(int record, Nanos tick) {
    JobRecord& r = records_[static_cast<std::size_t>(record)];
    sch::ModelJob& mj = model_.jobs[static_cast<std::size_t>(r.live)];
    for (int t : mj.tasks) {
      sch::ModelTask& mt = model_.tasks[static_cast<std::size_t>(t)];
      if (mt.status == TaskStatus::Running) use(r.queue, -live_[static_cast<std::size_t>(t)].gpus);
      mt.status = TaskStatus::Pending;
      mt.node = -1;
      mt.node_name.clear();
    }
    mj.phase = "Pending";
    r.generation++;
    r.succeeded = 0;
    report_.queues[static_cast<std::size_t>(r.queue)].restarts++;
    if (r.counted_ready) {
      r.counted_ready = false;
      ++waiting_;
    }
    (void)tick;
  }

  /// The state before a session as Kubernetes objects (tests compare with run_session).
  std::vector<json> objects(Nanos tick) const {
    (void)tick;
    std::vector<json> out = cluster_objects_;
    for (std::size_t j = 0; j < model_.jobs.size(); ++j) {
      const sch::ModelJob& mj = model_.jobs[j];
      if (retired(mj)) continue;
      json mtm = json::object();
      for (const auto& [role, n] : mj.min_task_member) mtm[role] = n;
      json spec = {{"minMember", mj.min_member}, {"minTaskMember", mtm}, {"queue", mj.queue},
                   {"minResources", resource_list(model_, mj.min_resources)}};
      if (!mj.priority_class.empty()) spec["priorityClassName"] = mj.priority_class;
      out.push_back({{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                     {"kind", "PodGroup"},
                     {"metadata", {{"name", mj.name}, {"namespace", mj.ns}, {"uid", mj.uid}, {"creationTimestamp", rfc3339(mj.creation)}}},
                     {"spec", spec},
                     {"status", {{"phase", mj.phase}}}});
      for (int t : mj.tasks) {
        const sch::ModelTask& mt = model_.tasks[static_cast<std::size_t>(t)];
        const LivePod& p = live_[static_cast<std::size_t>(t)];
        json pod = trace_.pods[static_cast<std::size_t>(trace_.jobs[static_cast<std::size_t>(p.record)].tasks[static_cast<std::size_t>(p.task)].pod)];
        pod["metadata"]["name"] = mt.name;
        pod["metadata"]["namespace"] = mt.ns;
        pod["metadata"]["uid"] = mt.uid;
        pod["metadata"]["creationTimestamp"] = rfc3339(mt.creation);
        pod["metadata"]["annotations"]["scheduling.k8s.io/group-name"] = mj.name;
        if (mt.node >= 0) pod["spec"]["nodeName"] = mt.node_name;
        pod["status"] = {{"phase", mt.status == TaskStatus::Running ? "Running" : mt.status == TaskStatus::Succeeded ? "Succeeded" : "Pending"}};
        out.push_back(std::move(pod));
      }
    }
    return out;
  }

  const Trace& trace_;
  const sch::Config& config_;
  const SimOptions& options_;
  const sch::Nanos epoch_;

  std::shared_ptr<const sch::SnapshotModel> templates_;
  sch::SnapshotModel model_;  ///< nodes, queues and the live jobs and pods
  std::vector<LivePod> live_;  ///< parallel to model_.tasks
  std::vector<int> live_job_;  ///< model job -> trace job
  std::vector<JobRecord> records_;  ///< per trace job
  std::vector<int32_t> job_priority_;  ///< per trace job: its PodGroup's priority
  std::vector<json> cluster_objects_;
  std::map<std::string, int> model_queue_of_, report_queue_of_;
  std::vector<int> queue_model_;  ///< report queue -> model queue
  int gpu_dim_ = -1;
  double gpu_total_ = 0;  ///< milli-GPUs of Ready nodes

  std::priority_queue<Completion, std::vector<Completion>, std::greater<>> completions_;
  std::size_t next_arrival_ = 0;
  std::vector<int> finished_;  ///< records of the jobs that completed since the last retire_finished
  std::size_t retired_pods_ = 0;  ///< pods of the retired jobs still in the model
  bool changed_ = false;   ///< the last session changed the state
  int waiting_ = 0;

  Nanos last_change_ = 0;
  double gpu_used_ = 0, total_gpu_seconds_ = 0;  ///< milli-GPUs
  std::vector<double> queue_gpus_, queue_gpu_seconds_;
  Report report_;
};

}  // namespace

Report simulate(const Trace& trace, const std::vector<json>& cluster, const std::string& cluster_file,
                const scheduler::Config& config, const std::string& config_name, const SimOptions& options) {
  Engine e(trace, cluster, cluster_file, config, options);
  e.run();
  return e.finish(config_name);
}

std::vector<Step> simulate_steps(const Trace& trace, const std::vector<json>& cluster, const scheduler::Config& config,
                                 const SimOptions& options, int steps) {
  Engine e(trace, cluster, "cluster", config, options);
  e.record_steps = true;
  e.run(steps);
  return std::move(e.steps);
}

}  // namespace kai::sim
