#include "minicluster/supervisor.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "lib/api/error.h"
#include "lib/api/resources.h"
#include "minicluster/controller.h"
#include "minicluster/job_plugins.h"
#include "minicluster/local_cluster.h"
#include "minicluster/ssh_keys.h"

namespace kai::minicluster {
namespace {

using json = nlohmann::json;

std::string str(const json& o, const json::json_pointer& p, const std::string& def = "") {
  if (!o.contains(p)) return def;
  const json& v = o.at(p);
  return v.is_string() ? v.get<std::string>() : def;
}

std::string env_or(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}

/// `metadata.labels['app']` -> the label's value.
std::string field_ref(const json& pod, const std::string& path, const std::string& where) {
  static const std::map<std::string, json::json_pointer> simple = {
      {"metadata.name", "/metadata/name"_json_pointer},
      {"metadata.namespace", "/metadata/namespace"_json_pointer},
      {"metadata.uid", "/metadata/uid"_json_pointer},
      {"spec.nodeName", "/spec/nodeName"_json_pointer},
      {"spec.serviceAccountName", "/spec/serviceAccountName"_json_pointer},
      {"status.podIP", "/status/podIP"_json_pointer},
      {"status.hostIP", "/status/hostIP"_json_pointer},
  };
  if (auto it = simple.find(path); it != simple.end()) {
    if (path == "spec.serviceAccountName") return str(pod, it->second, "default");
    return str(pod, it->second);
  }
  for (const char* map : {"labels", "annotations"}) {
    const std::string prefix = std::string("metadata.") + map + "['";
    if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() + 2 && path.substr(path.size() - 2) == "']") {
      const std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      const json& m = pod["metadata"].value(map, json::object());
      return m.contains(key) && m[key].is_string() ? m[key].get<std::string>() : "";
    }
  }
  throw Error::invalid(where + ".valueFrom.fieldRef.fieldPath: Unsupported value: \"" + path + "\"");
}

std::string substitute_all(std::string v, const std::vector<std::pair<std::string, std::string>>& subs) {
  for (const auto& [from, to] : subs) {
    for (std::size_t pos = v.find(from); pos != std::string::npos; pos = v.find(from, pos + to.size())) {
      v.replace(pos, from.size(), to);
    }
  }
  return v;
}

/// Marks the pod Failed because it could not be started (nothing ran).
void fail_unstartable(LocalCluster& cluster, const std::string& ns, const std::string& name, const std::string& uid,
                      const std::string& message) {
  auto& st = cluster.store();
  st.transact([&] {
    auto p = st.find(api::pods(), ns, name);
    if (!p || (*p)["metadata"].value("uid", std::string()) != uid) return;
    json pod = *p;
    if (pod["metadata"].contains("deletionTimestamp")) {
      st.remove(api::pods(), ns, name);
      return;
    }
    const std::string now = now_rfc3339();
    pod["status"]["phase"] = "Failed";
    pod["status"]["reason"] = "StartError";
    pod["status"]["message"] = message;
    json cs = json::array();
    for (const auto& c : pod["spec"].value("containers", json::array())) {
      cs.push_back({{"name", c.value("name", std::string())},
                    {"ready", false},
                    {"restartCount", 0},
                    {"image", c.value("image", std::string())},
                    {"state", {{"terminated", {{"exitCode", 128}, {"reason", "StartError"}, {"message", message}, {"finishedAt", now}}}}}});
    }
    pod["status"]["containerStatuses"] = cs;
    st.update(api::pods(), pod);
    WorkingSet ws(st);
    EventRecorder ev(ws);
    ev.record(pod, "Warning", "Failed", message, "kai-runtime");
    ws.flush();
  });
}

class StoreObserver : public runtime::PodObserver {
 public:
  StoreObserver(LocalCluster& c, std::string ns, std::string name, std::string uid)
      : cluster_(c), ns_(std::move(ns)), name_(std::move(name)), uid_(std::move(uid)) {}

  void running(runtime::NetworkMode network, const std::vector<std::string>& started_at) override {
    auto& st = cluster_.store();
    st.transact([&] {
      auto p = st.find(api::pods(), ns_, name_);
      if (!p || (*p)["metadata"].value("uid", std::string()) != uid_) return;
      json pod = *p;
      const std::string now = now_rfc3339();
      pod["metadata"]["annotations"][ann::kNetwork] = runtime::to_string(network);
      pod["status"]["phase"] = "Running";
      if (!pod["status"].contains("startTime")) pod["status"]["startTime"] = now;
      json cs = json::array();
      const auto& containers = pod["spec"].value("containers", json::array());
      for (std::size_t i = 0; i < containers.size(); ++i) {
        cs.push_back({{"name", containers[i].value("name", std::string())},
                      {"ready", true},
                      {"started", true},
                      {"restartCount", restarts_[containers[i].value("name", std::string())]},
                      {"image", containers[i].value("image", std::string())},
                      {"state", {{"running", {{"startedAt", i < started_at.size() ? started_at[i] : now}}}}}});
      }
      pod["status"]["containerStatuses"] = cs;
      pod["status"]["conditions"] = json::array({{{"type", "PodScheduled"}, {"status", "True"}},
                                                 {{"type", "Initialized"}, {"status", "True"}},
                                                 {{"type", "ContainersReady"}, {"status", "True"}},
                                                 {{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", now}}});
      st.update(api::pods(), pod);
      WorkingSet ws(st);
      EventRecorder ev(ws);
      ev.record(pod, "Normal", "Started", "Started the pod's processes (" + std::string(runtime::to_string(network)) + ")",
                "kai-runtime");
      ws.flush();
    });
  }

  void restarted(const runtime::ContainerResult& last) override {
    restarts_[last.name] = last.restart_count;
    auto& st = cluster_.store();
    st.transact([&] {
      auto p = st.find(api::pods(), ns_, name_);
      if (!p || (*p)["metadata"].value("uid", std::string()) != uid_) return;
      json pod = *p;
      for (auto& cs : pod["status"]["containerStatuses"]) {
        if (cs.value("name", std::string()) != last.name) continue;
        cs["restartCount"] = last.restart_count;
        cs["lastState"] = {{"terminated",
                            {{"exitCode", last.exit_code},
                             {"reason", last.reason},
                             {"startedAt", last.started_at},
                             {"finishedAt", last.finished_at}}}};
      }
      st.update(api::pods(), pod);
    });
  }

  bool should_stop() override {
    auto p = cluster_.store().find(api::pods(), ns_, name_);
    return !p || (*p)["metadata"].value("uid", std::string()) != uid_ || (*p)["metadata"].contains("deletionTimestamp");
  }

 private:
  LocalCluster& cluster_;
  std::string ns_, name_, uid_;
  std::map<std::string, int> restarts_;
};

}  // namespace

std::vector<std::string> container_env(const json& pod, const json& container,
                                       const std::vector<std::pair<std::string, std::string>>& substitute) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", env_or("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")},
      {"HOME", env_or("HOME", "/root")},
      {"HOSTNAME", pod["spec"].value("hostname", pod["metadata"].value("name", std::string()))},
  };
  if (const char* lang = std::getenv("LANG")) env.push_back({"LANG", lang});
  auto set = [&](const std::string& k, const std::string& v) {
    for (auto& e : env) {
      if (e.first == k) {
        e.second = v;
        return;
      }
    }
    env.push_back({k, v});
  };
  const std::string gpus = str(pod, "/metadata/annotations/kai.dev~1gpu-ids"_json_pointer);
  if (pod["metadata"].contains("annotations") && pod["metadata"]["annotations"].contains(ann::kGpuIds)) {
    set("CUDA_VISIBLE_DEVICES", gpus);
    set("NVIDIA_VISIBLE_DEVICES", gpus.empty() ? "void" : gpus);
  }
  const std::string cname = container.value("name", std::string());
  const auto& list = container.value("env", json::array());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    const std::string where = "spec.containers[" + cname + "].env[" + std::to_string(i) + "]";
    const std::string k = e.value("name", std::string());
    if (e.contains("value")) {
      set(k, substitute_all(e["value"].is_string() ? e["value"].get<std::string>() : e["value"].dump(), substitute));
    } else if (e.contains("valueFrom")) {
      const json& vf = e["valueFrom"];
      if (vf.contains("fieldRef")) {
        set(k, field_ref(pod, vf["fieldRef"].value("fieldPath", std::string()), where));
      } else {
        throw Error::invalid(where + ".valueFrom: kai's local runtime resolves only value and fieldRef (env " + k + ")");
      }
    } else {
      set(k, "");
    }
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

int supervise(LocalCluster& cluster, const std::string& ns, const std::string& name, const std::string& uid) {
  auto& st = cluster.store();
  const pid_t me = ::getpid();
  const auto my_start = runtime::process_start_time(me);
  const std::string sup = std::to_string(me) + ":" + std::to_string(my_start.value_or(0));
  const runtime::NetworkMode mode = runtime::best_network_mode();
  json pod, job;
  std::vector<json> peers;
  bool go = false;
  st.transact([&] {
    auto p = st.find(api::pods(), ns, name);
    if (!p || (*p)["metadata"].value("uid", std::string()) != uid) return;
    pod = *p;
    if (pod["metadata"].contains("deletionTimestamp")) {
      st.remove(api::pods(), ns, name);
      return;
    }
    pod["metadata"]["annotations"][ann::kSupervisor] = sup;
    pod["metadata"]["annotations"][ann::kNetwork] = runtime::to_string(mode);
    pod = st.update(api::pods(), pod);
    for (const auto& r : pod["metadata"].value("ownerReferences", json::array())) {
      if (r.value("kind", std::string()) == "Job") {
        if (auto j = st.find(api::jobs(), ns, r.value("name", std::string()))) job = *j;
      }
    }
    const std::string group = str(pod, "/metadata/annotations/scheduling.k8s.io~1group-name"_json_pointer);
    store::ListOptions lo;
    lo.ns = ns;
    for (auto& q : st.list(api::pods(), lo)) {
      if (str(q, "/metadata/annotations/scheduling.k8s.io~1group-name"_json_pointer) == group &&
          !str(q, "/status/podIP"_json_pointer).empty()) {
        peers.push_back(std::move(q));
      }
    }
    go = true;
  });
  if (!go) return 0;

  runtime::PodRun run;
  try {
    run.key = ns + "/" + name;
    run.dir = cluster.pod_dir(pod);
    run.restart_policy = pod["spec"].value("restartPolicy", std::string("Always"));
    run.termination_grace_seconds = pod["spec"].value("terminationGracePeriodSeconds", 30);
    run.hostname = pod["spec"].value("hostname", name);
    run.network = mode;
    std::string key_dir;
    if (!job.is_null()) {
      const std::string job_uid = job["metadata"].value("uid", std::string("none"));
      run.job_netns = cluster.home() / "run" / "netns" / job_uid;
      run.files = svc_files(job);
      key_dir = ssh_key_dir(job);
      if (!key_dir.empty()) {
        // One key pair per job, made by whichever of its pods' supervisors comes first.
        const auto key_file = cluster.job_dir(job) / "ssh" / "id_rsa";
        auto ssh = ssh_files(job, [&] { return job_private_key(key_file); });
        run.files.insert(run.files.end(), ssh.begin(), ssh.end());
        run.mount_dirs.push_back(key_dir);
      }
    }
    // /etc/hosts: every pod of the gang by its svc name, as cluster DNS would answer.
    std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
    std::vector<std::pair<std::string, std::string>> subs;
    for (const auto& q : peers) {
      const std::string ip = str(q, "/status/podIP"_json_pointer);
      const std::string host = q["spec"].value("hostname", q["metadata"].value("name", std::string()));
      const std::string sub = q["spec"].value("subdomain", std::string());
      std::string line = ip + "\t";
      if (!sub.empty()) {
        line += host + "." + sub + "." + ns + ".svc.cluster.local\t" + host + "." + sub + "\t";
        subs.push_back({host + "." + sub + "." + ns + ".svc.cluster.local", ip});
        subs.push_back({host + "." + sub, ip});
      }
      hosts += line + host + "\n";
    }
    run.hosts_file = hosts;
    std::sort(subs.begin(), subs.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    if (mode != runtime::NetworkMode::kHostAddress) subs.clear();
    // Host names in the svc files and the ssh config resolve nowhere without a private /etc/hosts.
    for (auto& f : run.files) {
      if (key_dir.empty() || f.path.rfind(key_dir + "/", 0) != 0 || f.path == key_dir + "/config") {
        f.contents = substitute_all(f.contents, subs);
      }
    }
    const std::string pod_root = (std::filesystem::absolute(run.dir) / "root").string();
    // Where relative paths in a command resolve: the container's workingDir, else the directory
    // the job was submitted from (kai runs processes on the host, not images).
    const std::string submit_dir = str(pod, "/metadata/annotations/kai.dev~1working-dir"_json_pointer);
    auto make = [&](const json& c, const char* list, std::size_t i) {
      runtime::ContainerRun r;
      r.name = c.value("name", std::string(list) + std::to_string(i));
      for (const auto& a : c.value("command", json::array())) r.argv.push_back(substitute_all(a.get<std::string>(), subs));
      for (const auto& a : c.value("args", json::array())) r.argv.push_back(substitute_all(a.get<std::string>(), subs));
      if (r.argv.empty()) {
        throw Error::invalid(std::string("spec.") + list + "[" + std::to_string(i) + "].command: container \"" + r.name +
                             "\" has no command: kai runs processes on this machine and does not pull images, so "
                             "the command must be given");
      }
      r.env = container_env(pod, c, subs);
      // Where the pod's files are whether mounted or not: ${KAI_POD_ROOT}/etc/volcano/<task>.host
      // reads the svc plugin's host file here and, with the variable unset, on Volcano.
      if (std::none_of(r.env.begin(), r.env.end(), [](const std::string& kv) { return kv.rfind("KAI_POD_ROOT=", 0) == 0; })) {
        r.env.push_back("KAI_POD_ROOT=" + pod_root);
      }
      r.working_dir = c.value("workingDir", submit_dir);
      r.log_path = run.dir / (r.name + ".log");
      return r;
    };
    const auto& inits = pod["spec"].value("initContainers", json::array());
    for (std::size_t i = 0; i < inits.size(); ++i) run.init_containers.push_back(make(inits[i], "initContainers", i));
    const auto& cs = pod["spec"].value("containers", json::array());
    for (std::size_t i = 0; i < cs.size(); ++i) run.containers.push_back(make(cs[i], "containers", i));
  } catch (const std::exception& e) {
    fail_unstartable(cluster, ns, name, uid, e.what());
    cluster.reconcile_if_needed();
    return 1;
  }

  StoreObserver observer(cluster, ns, name, uid);
  const auto results = runtime::run_pod(run, observer);

  st.transact([&] {
    auto p = st.find(api::pods(), ns, name);
    if (!p || (*p)["metadata"].value("uid", std::string()) != uid) return;
    json done = *p;
    if (done["metadata"].contains("deletionTimestamp")) {
      st.remove(api::pods(), ns, name);  // the kubelet's last word on a deleted pod
      return;
    }
    bool ok = !results.empty();
    json cs = json::array();
    for (const auto& r : results) {
      ok = ok && r.exit_code == 0;
      json term = {{"exitCode", r.exit_code}, {"reason", r.reason}, {"startedAt", r.started_at}, {"finishedAt", r.finished_at}};
      if (!r.message.empty()) term["message"] = r.message;
      cs.push_back({{"name", r.name},
                    {"ready", false},
                    {"started", false},
                    {"restartCount", r.restart_count},
                    {"state", {{"terminated", term}}}});
    }
    done["status"]["phase"] = ok ? "Succeeded" : "Failed";
    done["status"]["containerStatuses"] = cs;
    for (auto& c : done["status"]["conditions"]) {
      if (c.value("type", std::string()) == "Ready" || c.value("type", std::string()) == "ContainersReady") {
        c["status"] = "False";
        c["reason"] = "PodCompleted";
      }
    }
    st.update(api::pods(), done);
  });
  cluster.reconcile_if_needed();
  return 0;
}

}  // namespace kai::minicluster
