#pragma once
// A trace of job arrivals for `kai sim run`: JSON lines or YAML documents, one record each.
//
// A record has `time` (seconds, or a Go duration such as "90s") and either
//  - `job:` a batch.volcano.sh/v1alpha1 Job manifest (defaulted and validated as admission does);
//    each pod runs for the task template's, else the Job's `kai.dev/simulate-duration`
//    annotation, else the record's `duration`; or
//  - a compact spec: `name`, `namespace`, `queue`, `priority` (an integer) or `priorityClass`,
//    `minAvailable`, `duration`, `tasks: [{name, replicas, minAvailable, gpus, cpu, memory,
//    duration}]`.
// Records without `time` may instead be Kubernetes objects the cluster needs (Queue,
// PriorityClass); they apply from the start.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kai::sim {

using json = nlohmann::json;
/// Virtual time in nanoseconds since the start of the trace.
using Nanos = int64_t;

/// One task of a job: `replicas` pods made from `pod`, each running `duration` once bound.
struct TraceTask {
  std::string name;
  int32_t replicas = 1;
  int32_t min_available = 0;  ///< the PodGroup's minTaskMember for this task
  /// Index into Trace::pods: the pod template of the task's replicas.
  int pod = 0;
  Nanos duration = 0;
};

struct TraceJob {
  Nanos time = 0;  ///< arrival
  std::string ns = "default", name, queue = "default";
  std::string priority_class;  ///< "" when none
  int32_t min_available = 0;
  std::vector<TraceTask> tasks;
  std::string where;  ///< "trace.yaml:12", for messages
};

struct Trace {
  std::vector<TraceJob> jobs;  ///< sorted by time; records with equal times keep file order
  /// Distinct pod templates, shared by the tasks that ask for the same pod: a v1 Pod without a
  /// name, with metadata (annotations, labels) and spec (containers with requests, schedulerName,
  /// priorityClassName, placement) as Volcano's job controller would create it.
  std::vector<json> pods;
  /// Queue and PriorityClass objects given in the trace (records without `time`), and the
  /// PriorityClasses compact `priority: N` records need (`kai-sim-priority-N`, value N).
  std::vector<json> objects;
};

/// Parses trace text. `file` names it in errors: kai::Error Invalid
/// `trace.jsonl:12: tasks[0].replicas: must be >= 0` (the record's first line for YAML, plus
/// yaml-cpp's own line for syntax errors), `trace.yaml:3: job: Job "x" is invalid: ...`.
Trace parse_trace(std::string_view text, const std::string& file);

/// Reads a trace file ("-" for stdin) and parses it.
Trace read_trace(const std::string& path);

}  // namespace kai::sim
