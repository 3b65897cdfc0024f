// Volcano's scheduler configuration: the compiled-in default and the YAML format
// (pkg/scheduler/conf/scheduler_conf.go, util.go UnmarshalSchedulerConf).

#include "lib/scheduler/scheduler.h"

#include <algorithm>
#include <set>

#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/api/text_util.h"
#include "lib/scheduler/plugin.h"

namespace kai::scheduler {
namespace {

/// Volcano's per-plugin switches, spelled as its YAML keys (pkg/scheduler/conf).
const std::vector<std::string>& switch_keys() {
  static const std::vector<std::string> keys = {
      "enableJobOrder",        "enableHierarchy",         "enableJobReady",        "enableJobPipelined",
      "enableTaskOrder",       "enablePreemptable",       "enableReclaimable",     "enablePreemptive",
      "enableQueueOrder",      "enabledClusterOrder",     "enablePredicate",       "enableBestNode",
      "enableNodeOrder",       "enableTargetJob",         "enableReservedNodes",   "enableJobEnqueued",
      "enabledVictim",         "enableJobStarving",       "enabledOverused",       "enabledAllocatable",
      "enabledHyperNodeOrder", "enabledSubJobReady",      "enabledSubJobPipelined", "enabledSubJobOrder",
      "enabledHyperNodeGradient", "enableNamespaceOrder"};
  return keys;
}

using api::text_detail::edit_distance;

/// `; did you mean "x"?` when one of `known` is close to `word`.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = 3;
  for (const auto& k : known) {
    const std::size_t d = edit_distance(word, k);
    if (d < best_d) best_d = d, best = k;
  }
  return best.empty() ? "" : "; did you mean \"" + best + "\"?";
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

class ConfReader {
 public:
  explicit ConfReader(const std::string& file) : file_(file) {}
  [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
    throw Error::invalid(file_ + ": " + (path.empty() ? "" : path + ": ") + msg);
  }

  Config read(const json& doc) const {
    if (!doc.is_object()) {
      fail("", std::string("expected a scheduler configuration (a map with actions and tiers), got ") + api::yaml_type_name(doc));
    }
    static const std::vector<std::string> kTop = {"actions", "tiers", "configurations", "metrics"};
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (std::find(kTop.begin(), kTop.end(), it.key()) == kTop.end()) {
        fail(it.key(), "unknown field; expected one of actions, tiers, configurations, metrics" + did_you_mean(it.key(), kTop));
      }
    }
    Config c;
    actions(doc, c);
    tiers(doc, c);
    configurations(doc, c);
    conflicts(c);
    return c;
  }

 private:
  void actions(const json& doc, Config& c) const {
    auto it = doc.find("actions");
    if (it == doc.end() || it->is_null()) fail("actions", "Required value: a comma-separated list such as \"enqueue, allocate, backfill\"");
    if (!it->is_string()) fail("actions", std::string("expected a string such as \"enqueue, allocate, backfill\", got ") + api::yaml_type_name(*it));
    const std::string all = it->get<std::string>();
    const Registry& reg = builtin_registry();
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = all.find(',', start);
      const std::string name = trim(all.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (reg.action(name) == nullptr) {
        if (volcano_action_not_supported(name)) fail("actions", "action \"" + name + "\" is not supported yet");
        fail("actions", "failed to find Action " + name + did_you_mean(name, reg.action_names()));
      }
      c.actions.push_back(name);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }

  void tiers(const json& doc, Config& c) const {
    auto it = doc.find("tiers");
    if (it == doc.end() || it->is_null()) return;
    if (!it->is_array()) fail("tiers", std::string("expected a sequence, got ") + api::yaml_type_name(*it));
    std::set<std::string> seen;
    for (std::size_t ti = 0; ti < it->size(); ++ti) {
      const json& tj = (*it)[ti];
      const std::string tp = "tiers[" + std::to_string(ti) + "]";
      if (!tj.is_object()) fail(tp, std::string("expected a map with plugins, got ") + api::yaml_type_name(tj));
      for (auto k = tj.begin(); k != tj.end(); ++k) {
        if (k.key() != "plugins") fail(tp + "." + k.key(), "unknown field; expected plugins");
      }
      Tier tier;
      auto plugins = tj.find("plugins");
      if (plugins != tj.end() && !plugins->is_null()) {
        if (!plugins->is_array()) fail(tp + ".plugins", std::string("expected a sequence, got ") + api::yaml_type_name(*plugins));
        for (std::size_t pi = 0; pi < plugins->size(); ++pi) {
          tier.plugins.push_back(plugin((*plugins)[pi], tp + ".plugins[" + std::to_string(pi) + "]", seen));
        }
      }
      c.tiers.push_back(std::move(tier));
    }
  }

  PluginOption plugin(const json& pj, const std::string& pp, std::set<std::string>& seen) const {
    if (!pj.is_object()) fail(pp, std::string("expected a map with name, arguments and switches, got ") + api::yaml_type_name(pj));
    PluginOption opt;
    auto name = pj.find("name");
    if (name == pj.end() || name->is_null()) fail(pp + ".name", "Required value");
    if (!name->is_string()) fail(pp + ".name", std::string("expected a string, got ") + api::yaml_type_name(*name));
    opt.name = name->get<std::string>();
    const Registry& reg = builtin_registry();
    const PluginBuilder* build = reg.plugin(opt.name);
    if (build == nullptr) {
      if (volcano_plugin_not_supported(opt.name)) fail(pp + ".name", "plugin \"" + opt.name + "\" is not supported yet");
      fail(pp + ".name", "unknown plugin \"" + opt.name + "\"" + did_you_mean(opt.name, reg.plugin_names()));
    }
    if (!seen.insert(opt.name).second) fail(pp + ".name", "plugin \"" + opt.name + "\" is listed twice");
    std::vector<std::string> known = switch_keys();
    known.push_back("name");
    known.push_back("arguments");
    for (auto it = pj.begin(); it != pj.end(); ++it) {
      const std::string& key = it.key();
      if (key == "name") continue;
      if (key == "arguments") {
        if (it->is_null()) continue;
        if (!it->is_object()) fail(pp + ".arguments", std::string("expected a map, got ") + api::yaml_type_name(*it));
        opt.arguments = *it;
        continue;
      }
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        fail(pp + "." + key, "unknown field" + did_you_mean(key, known));
      }
      if (!it->is_boolean()) fail(pp + "." + key, std::string("expected true or false, got ") + api::yaml_type_name(*it));
      opt.switches[key] = it->get<bool>();
    }
    try {
      (void)(*build)(PluginArgs(opt.arguments));
    } catch (const ArgError& e) {
      fail(pp + ".arguments[" + e.key + "]", e.message);
    }
    return opt;
  }

  void configurations(const json& doc, Config& c) const {
    auto it = doc.find("configurations");
    if (it == doc.end() || it->is_null()) return;
    if (!it->is_array()) fail("configurations", std::string("expected a sequence, got ") + api::yaml_type_name(*it));
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& cj = (*it)[i];
      const std::string cp = "configurations[" + std::to_string(i) + "]";
      if (!cj.is_object()) fail(cp, std::string("expected a map with name and arguments, got ") + api::yaml_type_name(cj));
      auto name = cj.find("name");
      if (name == cj.end() || !name->is_string()) fail(cp + ".name", "Required value: the action the arguments are for");
      json args = json::object();
      if (auto a = cj.find("arguments"); a != cj.end() && !a->is_null()) {
        if (!a->is_object()) fail(cp + ".arguments", std::string("expected a map, got ") + api::yaml_type_name(*a));
        args = *a;
      }
      c.configurations[name->get<std::string>()] = args;
    }
  }

  /// Volcano's UnmarshalSchedulerConf checks each tier on its own: drf with enableHierarchy and
  /// proportion in the same tier conflict. (capacity beside proportion is not refused by Volcano.)
  void conflicts(const Config& c) const {
    for (std::size_t ti = 0; ti < c.tiers.size(); ++ti) {
      bool proportion = false;
      bool hdrf = false;
      for (const PluginOption& p : c.tiers[ti].plugins) {
        proportion |= p.name == "proportion";
        auto h = p.switches.find("enableHierarchy");
        hdrf |= p.name == "drf" && h != p.switches.end() && h->second;
      }
      if (hdrf && proportion) fail("tiers[" + std::to_string(ti) + "]", "proportion and drf with hierarchy enabled conflicts");
    }
  }

  const std::string& file_;
};

}  // namespace

Config default_config() {
  Config c;
  c.actions = {"enqueue", "allocate", "backfill"};
  auto plugin = [](const char* name) {
    PluginOption p;
    p.name = name;
    return p;
  };
  c.tiers.push_back(Tier{{plugin("priority"), plugin("gang"), plugin("conformance")}});
  c.tiers.push_back(
      Tier{{plugin("overcommit"), plugin("drf"), plugin("predicates"), plugin("proportion"), plugin("nodeorder")}});
  return c;
}

Config config_from_json(const json& doc, const std::string& file) { return ConfReader(file).read(doc); }

Config parse_config(const std::string& yaml_text, const std::string& file) {
  return config_from_json(api::decode_value(yaml_text, file), file);
}

}  // namespace kai::scheduler
