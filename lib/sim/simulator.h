#pragma once
// `kai sim run`: a trace of job arrivals replayed against simulated nodes in virtual time.
//
// The scheduler is lib/scheduler's Session, unchanged: every period (Volcano's schedule-period)
// in which something changed, one session (open, the configured actions) runs over a
// SnapshotModel that the simulator keeps itself, holding the nodes, the queues and only the live
// jobs and pods; nothing is turned into JSON. Idle periods are skipped: a session over a state
// that did not change decides nothing new, so the clock jumps to the next arrival or completion.
//
// Semantics (README "kai sim run"):
// - A job's pods exist from its arrival, its PodGroup Pending (minMember = minAvailable,
//   minTaskMember and minResources as Volcano's job controller sets them) until enqueue admits it.
// - A pod bound in a session at time t runs from t for its duration, then Succeeded; a job
//   completes when all its pods have. Binding is instant (no Binding -> Running delay).
// - An evicted pod (preempt, reclaim) restarts its job (Volcano's default PodEvicted -> RestartJob):
//   every pod of the job goes back to Pending and later reruns its full duration; the PodGroup
//   is Pending again.
// - Wait time: arrival until the session in which minAvailable of the job's pods are bound
//   (the first time, for a restarted job).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/scheduler/scheduler.h"
#include "lib/sim/trace.h"

namespace kai::sim {

/// How the simulation runs.
struct SimOptions {
  /// Volcano's schedule-period: sessions run at multiples of it.
  Nanos period = 1'000'000'000;
  /// Pods with another spec.schedulerName are never scheduled (as in `kai sim session`).
  std::vector<std::string> scheduler_names = {"volcano"};
  /// Whether to keep the timeline (one sample per change of the allocation).
  bool timeline = true;
  /// SessionOptions::shortcuts for every session (tests turn them off to compare).
  bool shortcuts = true;
};

/// The allocation between two changes: from `time` until the next sample's time.
struct Sample {
  Nanos time = 0;
  double gpu_used = 0;
  int pending_jobs = 0;  ///< arrived, not yet running their minAvailable pods
  std::vector<double> queue_gpus;  ///< per Report::queues entry
};

/// Wait times in seconds.
struct WaitStats {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0, max = 0;
};

struct QueueReport {
  std::string name;
  int32_t weight = 1;
  int jobs = 0, completed = 0;
  double makespan = 0;  ///< seconds from the queue's first arrival to its last completion
  /// ∫ allocated GPUs dt / (total GPUs × the overall makespan): the queue's average part of the cluster.
  double gpu_utilisation = 0;
  /// The queue's part of the GPU time all queues used.
  double share = 0;
  /// The part of the cluster its weight entitles it to among the queues the trace uses
  /// (proportion's weight-based deserved share), or spec.deserved's GPUs / total GPUs when given.
  double deserved = 0;
  double gpu_seconds = 0;
  WaitStats wait;
  int preemptions = 0;  ///< pods of the queue evicted
  int restarts = 0;     ///< jobs of the queue restarted by an eviction
};

struct Report {
  std::string config;  ///< the scheduler configuration's name ("default" or the file)
  int nodes = 0;
  double gpu_total = 0;
  int jobs = 0, completed = 0;
  double makespan = 0;  ///< seconds from the first arrival to the last completion
  double gpu_utilisation = 0;  ///< ∫ used GPUs dt / (total GPUs × makespan)
  WaitStats wait;
  int preemptions = 0, restarts = 0;
  int sessions = 0;  ///< scheduling sessions run
  double virtual_seconds = 0;  ///< the clock when the simulation ended
  std::vector<QueueReport> queues;  ///< sorted by name
  std::vector<Sample> timeline;  ///< empty unless SimOptions::timeline

  /// The `-o json` object (every key present, stable names).
  nlohmann::json to_json() const;
};

/// Runs the trace over the cluster. `cluster` holds v1 Nodes and, optionally, Queues and
/// PriorityClasses (the trace may add Queues and PriorityClasses too; a queue a job names that
/// exists nowhere is created with weight 1). `cluster_file` names the cluster in errors.
/// Throws kai::Error Invalid for a bad cluster object, a pod template the scheduler refuses
/// (naming the trace record), or a cluster without nodes.
Report simulate(const Trace& trace, const std::vector<nlohmann::json>& cluster, const std::string& cluster_file,
                const scheduler::Config& config, const std::string& config_name, const SimOptions& options);

/// One scheduling step as `kai sim session` would see it: the state before the session, as
/// Kubernetes objects. simulate_steps stops after `steps` sessions and returns that snapshot with
/// the SessionResult the simulator's own session produced (tests compare it with run_session).
struct Step {
  std::vector<nlohmann::json> objects;  ///< Nodes, Queues, PriorityClasses, PodGroups, Pods
  std::map<std::string, std::string> bound;  ///< "<ns>/<pod>" -> node
  std::vector<std::string> evicted;
  std::map<std::string, std::string> phases;  ///< "<ns>/<podgroup>" -> the phase the next session reads
  Nanos time = 0;
};
std::vector<Step> simulate_steps(const Trace& trace, const std::vector<nlohmann::json>& cluster, const scheduler::Config& config,
                                 const SimOptions& options, int steps);

/// The timeline as CSV: `time,gpu_used,gpu_total,queue_<name>_gpus...,pending_jobs`, one row per sample.
std::string timeline_csv(const Report& r);
/// Two runs' timelines in one CSV, with a leading `config` column (baseline, compare).
std::string timeline_csv(const Report& a, const Report& b);
/// An SVG of GPU utilisation over time (every report given, one line each) and the first report's
/// queues' GPU shares (stacked areas), with axes and a legend.
std::string plot_svg(const std::vector<const Report*>& reports);

}  // namespace kai::sim
