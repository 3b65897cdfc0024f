// The library's entry points: the registry of builtins, run_session, and the result as JSON.

#include "lib/scheduler/scheduler.h"

#include <algorithm>
#include <cmath>

#include "lib/api/error.h"
#include "lib/scheduler/model.h"
#include "lib/scheduler/plugin.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler {

// ---- PluginArgs ----

void PluginArgs::get_int(int& out, const std::string& key) const {
  if (!has(key)) return;
  const json& v = args_[key];
  if (v.is_number_integer() || v.is_number_unsigned()) {
    const auto x = v.get<int64_t>();
    if (x < -2147483648LL || x > 2147483647LL) throw ArgError{key, "Invalid value: " + v.dump() + ": out of range"};
    out = static_cast<int>(x);
    return;
  }
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() && std::abs(v.get<double>()) < 2147483648.0) {
    out = static_cast<int>(v.get<double>());
    return;
  }
  throw ArgError{key, "expected an integer, got " + v.dump()};
}

void PluginArgs::get_float(double& out, const std::string& key) const {
  if (!has(key)) return;
  const json& v = args_[key];
  if (!v.is_number()) throw ArgError{key, "expected a number, got " + v.dump()};
  out = v.get<double>();
}

void PluginArgs::get_bool(bool& out, const std::string& key) const {
  if (!has(key)) return;
  const json& v = args_[key];
  if (!v.is_boolean()) throw ArgError{key, "expected true or false, got " + v.dump()};
  out = v.get<bool>();
}

std::optional<std::string> PluginArgs::get_string(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const json& v = args_[key];
  if (!v.is_string()) throw ArgError{key, "expected a string, got " + v.dump()};
  return v.get<std::string>();
}

// ---- Registry ----

void Registry::add_plugin(const std::string& name, PluginBuilder build) { plugins_.emplace_back(name, std::move(build)); }

void Registry::add_action(const std::string& name, ActionFn run) { actions_.emplace_back(name, std::move(run)); }

const PluginBuilder* Registry::plugin(const std::string& name) const {
  for (const auto& [n, b] : plugins_) {
    if (n == name) return &b;
  }
  return nullptr;
}

const ActionFn* Registry::action(const std::string& name) const {
  for (const auto& [n, a] : actions_) {
    if (n == name) return &a;
  }
  return nullptr;
}

std::vector<std::string> Registry::plugin_names() const {
  std::vector<std::string> out;
  for (const auto& p : plugins_) out.push_back(p.first);
  return out;
}

std::vector<std::string> Registry::action_names() const {
  std::vector<std::string> out;
  for (const auto& a : actions_) out.push_back(a.first);
  return out;
}

void register_builtins(Registry& r) {
  r.add_action("enqueue", run_enqueue);
  r.add_action("allocate", run_allocate);
  r.add_action("backfill", run_backfill);
  r.add_action("preempt", run_preempt);
  r.add_action("reclaim", run_reclaim);
  r.add_plugin("gang", make_gang);
  r.add_plugin("priority", make_priority);
  r.add_plugin("conformance", make_conformance);
  r.add_plugin("drf", make_drf);
  r.add_plugin("proportion", make_proportion);
  r.add_plugin("capacity", make_capacity);
  r.add_plugin("overcommit", make_overcommit);
  r.add_plugin("predicates", make_predicates);
  r.add_plugin("nodeorder", make_nodeorder);
  r.add_plugin("binpack", make_binpack);
  r.add_plugin("sla", make_sla);
}

const Registry& builtin_registry() {
  static const Registry registry = [] {
    Registry r;
    register_builtins(r);
    return r;
  }();
  return registry;
}

bool volcano_action_not_supported(const std::string& name) {
  static const std::vector<std::string> names = {"gangpreempt", "gangreclaim", "shuffle"};
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool volcano_plugin_not_supported(const std::string& name) {
  static const std::vector<std::string> names = {
      "deviceshare", "resource-strategy-fit", "tdm", "task-topology", "numaaware", "cdp", "rescheduling",
      "usage", "pdb", "nodegroup", "network-topology-aware", "extender", "resourcequota"};
  return std::find(names.begin(), names.end(), name) != names.end();
}

// ---- run_session ----

SessionResult run_session_with(const Snapshot& snapshot, const Config& config, const SessionOptions& options) {
  std::shared_ptr<const SnapshotModel> model = snapshot.model;
  if (!model) model = build_model(snapshot, "snapshot");
  const Registry& registry = builtin_registry();
  // Refuse a bad action name before anything runs (parse_config already does for files).
  for (const auto& a : config.actions) {
    if (registry.action(a) == nullptr) {
      throw Error::invalid("scheduler configuration: actions: " +
                           (volcano_action_not_supported(a) ? "action \"" + a + "\" is not supported yet"
                                                            : "failed to find Action " + a));
    }
  }
  Session session(*model, config, options);
  session.open(registry);
  for (const auto& a : config.actions) session.run_action(a, registry);
  return session.close();
}

SessionResult run_session(const Snapshot& snapshot, const Config& config, const std::vector<std::string>& scheduler_names) {
  SessionOptions options;
  options.scheduler_names = scheduler_names;
  options.now = std::chrono::system_clock::now();
  return run_session_with(snapshot, config, options);
}

json SessionResult::to_json() const {
  json out = json::object();
  out["bound"] = json::object();
  for (const auto& [k, v] : bound) out["bound"][k] = v;
  out["evicted"] = json::array();
  for (const auto& e : evicted) out["evicted"].push_back(e);
  out["pipelined"] = json::object();
  for (const auto& [k, v] : pipelined) out["pipelined"][k] = v;
  out["podGroups"] = json::object();
  for (const auto& [k, v] : podgroup_phases) out["podGroups"][k] = v;
  return out;
}

}  // namespace kai::scheduler
