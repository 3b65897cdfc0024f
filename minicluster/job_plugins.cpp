#include "minicluster/job_plugins.h"

#include <algorithm>
#include <cctype>

#include "lib/api/error.h"

#include "minicluster/controller.h"
#include "minicluster/ssh_keys.h"

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

std::vector<runtime::PodFile> svc_files(const json& job) {
  std::vector<runtime::PodFile> files;
  if (!job["spec"].value("plugins", json::object()).contains("svc")) return files;
  for (const auto& [t, hosts] : job_hosts(job)) {
    std::string lines, joined;
    for (const auto& h : hosts) {
      lines += h + "\n";
      joined += (joined.empty() ? "" : ",") + h;
    }
    std::string key = t;
    std::replace(key.begin(), key.end(), '-', '_');
    files.push_back({"/etc/volcano/" + key + ".host", lines, 0644});
    files.push_back({"/etc/volcano/VC_" + env_task(t) + "_HOSTS", joined, 0644});
    files.push_back({"/etc/volcano/VC_" + env_task(t) + "_NUM", std::to_string(hosts.size()), 0644});
  }
  return files;
}

std::string ssh_key_dir(const json& job) {
  const json plugins = job["spec"].value("plugins", json::object());
  if (!plugins.contains("ssh")) return "";
  std::string dir = plugin_arg(plugins["ssh"], "--ssh-key-file-path", "/root/.ssh");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

std::string ssh_config(const json& job) {
  const json plugins = job["spec"].value("plugins", json::object());
  const std::string port = std::to_string(to_int(plugin_arg(plugins.value("ssh", json::array()), "--ssh-port", "22"), 22));
  const std::string jname = job["metadata"]["name"];
  std::string config = "StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\n";
  for (const auto& t : job["spec"].value("tasks", json::array())) {
    const std::string tname = t.value("name", std::string());
    const std::string fixed = t.value("/template/spec/hostname"_json_pointer, std::string());
    std::string subdomain = t.value("/template/spec/subdomain"_json_pointer, std::string());
    if (subdomain.empty()) subdomain = jname;
    for (int i = 0; i < t.value("replicas", 0); ++i) {
      const std::string host = fixed.empty() ? jname + "-" + tname + "-" + std::to_string(i) : fixed;
      config += "Host " + host + "\n  HostName " + host + "." + subdomain + "\n  Port " + port + "\n";
      if (!fixed.empty()) break;
    }
  }
  return config;
}

std::vector<runtime::PodFile> ssh_files(const json& job, const std::function<std::string()>& job_key) {
  const std::string dir = ssh_key_dir(job);
  if (dir.empty()) return {};
  if (dir.front() != '/') {
    throw Error::invalid("spec.plugins.ssh: --ssh-key-file-path: Invalid value: \"" + dir + "\": must be an absolute path");
  }
  const json& args = job["spec"]["plugins"]["ssh"];
  std::string private_key = plugin_arg(args, "--ssh-private-key", "");
  std::string public_key = plugin_arg(args, "--ssh-public-key", "");
  if (private_key.empty()) {
    private_key = job_key();
    public_key = ssh_public_key(private_key);
  } else if (public_key.empty()) {
    try {
      public_key = ssh_public_key(private_key);
    } catch (const Error&) {
      throw Error::invalid("spec.plugins.ssh: --ssh-private-key: Invalid value: not an unencrypted PEM RSA private key, "
                           "and no --ssh-public-key was given");
    }
  }
  return {{dir + "/id_rsa", private_key, 0600},
          {dir + "/id_rsa.pub", public_key, 0600},
          {dir + "/authorized_keys", public_key, 0600},
          {dir + "/config", ssh_config(job), 0600}};
}

}  // namespace kai::minicluster
