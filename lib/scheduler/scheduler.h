#pragma once
// kai's scheduler: Volcano's model (volcano.md §4). A session is opened over a snapshot of
// Kubernetes-shaped objects; plugins register callbacks in tiers; actions run in the configured
// order; a Statement commits or discards a gang's tentative placements as one unit.
//
// This header is the boundary used by `kai sim session`, the local cluster's reconcile loop and
// (later) `kai job explain`. It knows nothing of SQLite, HTTP or processes.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kai::scheduler {

using json = nlohmann::json;

struct SnapshotModel;  // lib/scheduler/model.h: the objects parsed into dense form

/// Objects a session is taken over. Each vector holds decoded Kubernetes objects
/// (v1 Node, scheduling.volcano.sh/v1beta1 Queue and PodGroup, v1 Pod,
/// scheduling.k8s.io/v1 PriorityClass) exactly as a user or the store wrote them.
struct Snapshot {
  std::vector<json> nodes;
  std::vector<json> queues;
  std::vector<json> podgroups;
  std::vector<json> pods;
  std::vector<json> priority_classes;
  /// The objects above, parsed once by snapshot_from_objects (which validates them anyway), so that
  /// run_session does not read the JSON again. Shared because the model is immutable and a Snapshot
  /// may be copied. Null means run_session parses the vectors itself; code that edits the vectors
  /// after snapshot_from_objects must reset it.
  std::shared_ptr<const SnapshotModel> model;
};

/// A Snapshot's objects, borrowed: build_model(SnapshotRefs) reads them without copying.
struct SnapshotRefs {
  std::vector<const json*> nodes, queues, podgroups, pods, priority_classes;
};

/// One tier entry of the configuration: a plugin, its switches and its arguments.
struct PluginOption {
  std::string name;
  /// Volcano's per-plugin switches by exact YAML key (enableJobOrder, enabledOverused, ...);
  /// a key not present means true.
  std::map<std::string, bool> switches;
  /// Plugin arguments as given (values kept as JSON: numbers, strings, booleans).
  json arguments = json::object();
  bool enabled(const std::string& key) const {
    auto it = switches.find(key);
    return it == switches.end() || it->second;
  }
};

struct Tier {
  std::vector<PluginOption> plugins;
};

/// Volcano's scheduler configuration (`volcano-scheduler.conf`).
struct Config {
  std::vector<std::string> actions;  ///< in execution order
  std::vector<Tier> tiers;
  /// `configurations[]`: action name -> arguments.
  std::map<std::string, json> configurations;
};

/// Volcano's compiled-in default configuration (enqueue, allocate, backfill; priority, gang,
/// conformance | overcommit, drf, predicates, proportion, nodeorder).
Config default_config();

/// Parses a configuration from YAML text. Errors are kai::Error Invalid naming `file` and the
/// field path (`conf.yaml: tiers[0].plugins[1].name: unknown plugin "foo"`); an unknown action
/// reads `failed to find Action <a>` as in Volcano.
Config parse_config(const std::string& yaml_text, const std::string& file);

/// Like parse_config, for a document already decoded (kai sim reads the file with api::decode_file).
Config config_from_json(const json& doc, const std::string& file);

/// Splits decoded objects into a Snapshot by kind; other kinds are ignored. Errors (a node
/// without a name, an invalid quantity, ...) name `file` and the object's path
/// (`snap.yaml: items[3] (Pod default/p1): spec.containers[0].resources.requests.cpu: ...`).
Snapshot snapshot_from_objects(const std::vector<json>& objects, const std::string& file);

/// An event a session records (what a user needs to know about a PodGroup or Pod).
struct Event {
  std::string kind;       ///< "PodGroup" or "Pod"
  std::string ns;
  std::string name;
  std::string type;       ///< "Normal" or "Warning"
  std::string reason;     ///< "Unschedulable", "Scheduled", "FailedScheduling", ...
  std::string message;
};

/// What one session decided.
struct SessionResult {
  std::map<std::string, std::string> bound;      ///< "<ns>/<pod>" -> node, binds dispatched
  std::vector<std::string> evicted;              ///< "<ns>/<pod>", sorted
  std::map<std::string, std::string> pipelined;  ///< "<ns>/<pod>" -> node, kept statements only
  std::map<std::string, std::string> podgroup_phases;  ///< "<ns>/<podgroup>" -> phase after close
  /// "<ns>/<podgroup>" -> the PodGroup condition written at close (Volcano's
  /// {type, status, reason, message, transitionID}), for PodGroups whose jobs were in the session.
  std::map<std::string, json> podgroup_conditions;
  /// "<ns>/<pod>" -> the PodScheduled condition ({type, status False, reason, message}) of pods
  /// that still wait, when it differs from the one the pod carries (Volcano updates it then and
  /// records a FailedScheduling event).
  std::map<std::string, json> pod_conditions;
  /// PodGroup events (enqueue rejections, Unschedulable or Scheduled at close) and the
  /// FailedScheduling events of pods whose PodScheduled condition changed. Binds and evictions
  /// carry no event here: whoever applies them records Scheduled or Evict.
  std::vector<Event> events;

  /// The `kai sim session -o json` object: bound, evicted, pipelined, podGroups (every key present).
  json to_json() const;
};

/// Runs exactly one session: open (plugins' OnSessionOpen), the configured actions in order,
/// close (plugins' OnSessionClose, PodGroup phases and conditions).
/// `scheduler_names`: pods whose spec.schedulerName is set and is not one of these are left
/// alone (not scheduled, though their resources count on their nodes). A pod with no
/// schedulerName is treated as kai's (a hand-written snapshot usually omits it).
SessionResult run_session(const Snapshot& snapshot, const Config& config,
                          const std::vector<std::string>& scheduler_names = {"volcano"});

/// What a session needs besides the snapshot and the configuration.
struct SessionOptions {
  /// As for run_session: pods with another spec.schedulerName are left alone.
  std::vector<std::string> scheduler_names = {"volcano"};
  /// The session's clock (sla compares it with creation + waiting time): the wall clock when the
  /// options are made; tests fix it so that results repeat.
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  /// Written as the transitionID of the PodGroup conditions this session sets.
  std::string session_uid = "kai-session";
  /// Preempt and reclaim skip nodes and tasks that provably cannot succeed (a bound on what
  /// victims could free, failures remembered until the session changes), and a node search that
  /// failed is not walked again for a task alike until the session changes. Off: every node is
  /// tried, as Volcano tries them; the decisions are the same either way (tests compare them).
  bool shortcuts = true;
};

/// run_session with every option explicit.
SessionResult run_session_with(const Snapshot& snapshot, const Config& config, const SessionOptions& options);

}  // namespace kai::scheduler
