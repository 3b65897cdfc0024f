#pragma once
// Plugins and actions, and the one registry that names them (style.md: no static registrars).
// A plugin only registers callbacks on the session in on_session_open (Volcano's
// framework/interface.go); an action is a name plus a function over the session.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/scheduler/resource.h"
#include "lib/scheduler/scheduler.h"

namespace kai::scheduler {

class Session;

/// A plugin argument that does not have the expected type; parse_config turns it into an
/// Invalid error naming `tiers[i].plugins[j].arguments[<key>]`.
struct ArgError {
  std::string key;
  std::string message;
};

/// Volcano's framework.Arguments: typed reads that leave the default when the key is absent.
/// Unlike Volcano, which logs and ignores a value of the wrong type, these throw ArgError.
class PluginArgs {
 public:
  explicit PluginArgs(const json& args) : args_(args) {}
  bool has(const std::string& key) const { return args_.is_object() && args_.contains(key) && !args_[key].is_null(); }
  /// An integer (a float with an integral value is accepted).
  void get_int(int& out, const std::string& key) const;
  /// A number.
  void get_float(double& out, const std::string& key) const;
  void get_bool(bool& out, const std::string& key) const;
  /// A string (absent: nullopt).
  std::optional<std::string> get_string(const std::string& key) const;

 private:
  const json& args_;
};

/// What a plugin knows of itself while registering: its name, tier and switches.
struct PluginCtx {
  std::string name;
  int tier = 0;
  const PluginOption* option = nullptr;
  /// Volcano's per-plugin switch (absent = true).
  bool enabled(const std::string& key) const { return option == nullptr || option->enabled(key); }
};

/// A queue's place in the cluster as proportion (or capacity) computes it (Volcano's queueAttr).
struct QueueShare {
  std::string plugin;  ///< who answered (Session::queue_share fills it)
  Resource deserved, allocated;
  double share = 0;  ///< max over deserved's dimensions of allocated / deserved
  /// hDRF (drf with enableHierarchy), which has no deserved: the queue's path in the tree and
  /// its weights ("root/eng/prod", "1/2/8"); share is then the dominant share of the queue's
  /// node, its children's allocations rescaled as hDRF does. Empty otherwise.
  std::string hierarchy, hierarchy_weights;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  /// Registers the plugin's callbacks and event handlers.
  virtual void on_session_open(Session& s, const PluginCtx& self) = 0;
  /// Writes what the plugin decides at the end of the session (gang: PodGroup conditions).
  virtual void on_session_close(Session& s) { (void)s; }
  /// What a plugin that divides the cluster among queues knows of queue `q` (model index), read
  /// after on_session_open by `kai job explain`; nullopt from plugins that keep no such state.
  virtual std::optional<QueueShare> queue_share(int q) const {
    (void)q;
    return std::nullopt;
  }
};

using PluginBuilder = std::function<std::unique_ptr<Plugin>(const PluginArgs&)>;
using ActionFn = std::function<void(Session&)>;

/// Names of actions and plugins, with their builders.
class Registry {
 public:
  void add_plugin(const std::string& name, PluginBuilder build);
  void add_action(const std::string& name, ActionFn run);
  /// nullptr when unknown.
  const PluginBuilder* plugin(const std::string& name) const;
  const ActionFn* action(const std::string& name) const;
  std::vector<std::string> plugin_names() const;
  std::vector<std::string> action_names() const;

 private:
  std::vector<std::pair<std::string, PluginBuilder>> plugins_;
  std::vector<std::pair<std::string, ActionFn>> actions_;
};

/// Registers every action (enqueue, allocate, backfill, preempt, reclaim) and plugin (gang, priority, conformance,
/// drf, proportion, capacity, overcommit, predicates, nodeorder, binpack, sla) kai implements.
void register_builtins(Registry& r);
/// The registry with the builtins, built on first use and never changed afterwards.
const Registry& builtin_registry();

/// Volcano registers these but kai does not implement them yet: a configuration naming one gets
/// "not supported yet" rather than "unknown".
bool volcano_action_not_supported(const std::string& name);
bool volcano_plugin_not_supported(const std::string& name);

// The builtins, one function per plugin and action (lib/scheduler/plugins/*.cpp, actions/*.cpp).
std::unique_ptr<Plugin> make_gang(const PluginArgs& args);
std::unique_ptr<Plugin> make_priority(const PluginArgs& args);
std::unique_ptr<Plugin> make_conformance(const PluginArgs& args);
std::unique_ptr<Plugin> make_drf(const PluginArgs& args);
std::unique_ptr<Plugin> make_proportion(const PluginArgs& args);
std::unique_ptr<Plugin> make_capacity(const PluginArgs& args);
std::unique_ptr<Plugin> make_overcommit(const PluginArgs& args);
std::unique_ptr<Plugin> make_predicates(const PluginArgs& args);
std::unique_ptr<Plugin> make_nodeorder(const PluginArgs& args);
std::unique_ptr<Plugin> make_binpack(const PluginArgs& args);
std::unique_ptr<Plugin> make_sla(const PluginArgs& args);
void run_enqueue(Session& s);
void run_allocate(Session& s);
void run_backfill(Session& s);
void run_preempt(Session& s);
void run_reclaim(Session& s);

}  // namespace kai::scheduler
