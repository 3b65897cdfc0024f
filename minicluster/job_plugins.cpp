#include "minicluster/job_plugins.h"

#include <algorithm>
#include <cctype>

#include "minicluster/controller.h"

namespace kai::minicluster {
namespace {

using json = nlohmann::json;

/// `VC_<TASK>_HOSTS` key part: the task name upper-cased, `-` as `_`.
std::string env_task(const std::string& task) {
  std::string s = task;
  std::replace(s.begin(), s.end(), '-', '_');
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

/// Sets (or replaces) an env var on every container and init container.
void set_env(json& pod, const std::string& name, const std::string& value) {
  for (const char* list : {"containers", "initContainers"}) {
    if (!pod["spec"].contains(list)) continue;
    for (auto& c : pod["spec"][list]) {
      json& env = c["env"];
      if (!env.is_array()) env = json::array();
      bool found = false;
      for (auto& e : env) {
        if (e.value("name", std::string()) == name) {
          e = {{"name", name}, {"value", value}};
          found = true;
        }
      }
      if (!found) env.push_back({{"name", name}, {"value", value}});
    }
  }
}

void add_port(json& pod, const std::string& name, int port) {
  for (auto& c : pod["spec"]["containers"]) {
    json& ports = c["ports"];
    if (!ports.is_array()) ports = json::array();
    bool found = false;
    for (const auto& p : ports) found = found || p.value("name", std::string()) == name;
    if (!found) ports.push_back({{"name", name}, {"containerPort", port}, {"protocol", "TCP"}});
  }
}

int replicas_of(const json& job, const std::string& task) {
  for (const auto& t : job["spec"]["tasks"]) {
    if (t.value("name", std::string()) == task) return t.value("replicas", 0);
  }
  return 0;
}

bool has_task(const json& job, const std::string& task) {
  for (const auto& t : job["spec"]["tasks"]) {
    if (t.value("name", std::string()) == task) return true;
  }
  return false;
}

int to_int(const std::string& s, int def) {
  try {
    return std::stoi(s);
  } catch (const std::exception&) {
    return def;
  }
}

}  // namespace

std::string plugin_arg(const json& args, const std::string& flag, const std::string& def) {
  if (!args.is_array()) return def;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!args[i].is_string()) continue;
    const std::string a = args[i];
    if (a == flag && i + 1 < args.size() && args[i + 1].is_string()) return args[i + 1];
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
  }
  return def;
}

void apply_job_plugins(const json& job, const std::string& task, int index, json& pod) {
  const json plugins = job["spec"].value("plugins", json::object());
  const std::string jname = job["metadata"]["name"];
  if (plugins.contains("env")) {
    set_env(pod, "VK_TASK_INDEX", std::to_string(index));
    set_env(pod, "VC_TASK_INDEX", std::to_string(index));
  }
  if (plugins.contains("svc")) {
    json& spec = pod["spec"];
    if (!spec.contains("hostname")) spec["hostname"] = pod["metadata"]["name"];
    if (!spec.contains("subdomain")) spec["subdomain"] = jname;
    if (plugin_arg(plugins["svc"], "--inject-hosts-env", "true") != "false") {
      for (const auto& [t, hosts] : job_hosts(job)) {
        std::string joined;
        for (const auto& h : hosts) joined += (joined.empty() ? "" : ",") + h;
        set_env(pod, "VC_" + env_task(t) + "_HOSTS", joined);
        set_env(pod, "VC_" + env_task(t) + "_NUM", std::to_string(hosts.size()));
      }
    }
  }
  if (plugins.contains("pytorch")) {
    const json& args = plugins["pytorch"];
    const std::string master = plugin_arg(args, "--master", "master");
    const std::string worker = plugin_arg(args, "--worker", "worker");
    const int port = to_int(plugin_arg(args, "--port", "23456"), 23456);
    if (has_task(job, master)) {  // no-op without a master task, as in Volcano
      set_env(pod, "MASTER_ADDR", jname + "-" + master + "-0." + jname);
      set_env(pod, "MASTER_PORT", std::to_string(port));
      set_env(pod, "WORLD_SIZE", std::to_string(replicas_of(job, master) + replicas_of(job, worker)));
      if (task == master) set_env(pod, "RANK", "0");
      if (task == worker) set_env(pod, "RANK", std::to_string(index + 1));
      add_port(pod, "pytorchjob-port", port);
    }
  }
  if (plugins.contains("mpi")) {
    const json& args = plugins["mpi"];
    const std::string master = plugin_arg(args, "--master", "master");
    const std::string worker = plugin_arg(args, "--worker", "worker");
    const int port = to_int(plugin_arg(args, "--port", "22"), 22);
    if (task == master) {
      std::string hosts;
      for (int i = 0; i < replicas_of(job, worker); ++i) {
        hosts += (hosts.empty() ? "" : ",") + jname + "-" + worker + "-" + std::to_string(i) + "." + jname;
      }
      set_env(pod, "MPI_HOST", hosts);
    }
    add_port(pod, "mpijob-port", port);
  }
  if (plugins.contains("tensorflow")) {
    const json& args = plugins["tensorflow"];
    const int port = to_int(plugin_arg(args, "--port", "2222"), 2222);
    const auto& tasks = job["spec"]["tasks"];
    const bool single = tasks.size() == 1 && tasks[0].value("replicas", 0) == 1;
    if (!single) {
      json cluster = json::object();
      std::string role_of_task;
      for (const char* role : {"ps", "worker", "chief", "evaluator"}) {
        const std::string tname = plugin_arg(args, std::string("--") + role, role);
        if (!has_task(job, tname)) continue;
        json hosts = json::array();
        for (int i = 0; i < replicas_of(job, tname); ++i) {
          hosts.push_back(jname + "-" + tname + "-" + std::to_string(i) + "." + jname + ":" + std::to_string(port));
        }
        cluster[role] = hosts;
        if (tname == task) role_of_task = role;
      }
      if (!role_of_task.empty()) {
        json cfg = {{"cluster", cluster}, {"task", {{"type", role_of_task}, {"index", index}}}};
        set_env(pod, "TF_CONFIG", cfg.dump());
      }
    }
  }
}

std::vector<std::pair<std::string, std::string>> svc_files(const json& job) {
  std::vector<std::pair<std::string, std::string>> files;
  if (!job["spec"].value("plugins", json::object()).contains("svc")) return files;
  for (const auto& [t, hosts] : job_hosts(job)) {
    std::string lines, joined;
    for (const auto& h : hosts) {
      lines += h + "\n";
      joined += (joined.empty() ? "" : ",") + h;
    }
    std::string key = t;
    std::replace(key.begin(), key.end(), '-', '_');
    files.push_back({"/etc/volcano/" + key + ".host", lines});
    files.push_back({"/etc/volcano/VC_" + env_task(t) + "_HOSTS", joined});
    files.push_back({"/etc/volcano/VC_" + env_task(t) + "_NUM", std::to_string(hosts.size())});
  }
  return files;
}

}  // namespace kai::minicluster
