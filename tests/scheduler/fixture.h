#pragma once
// Builders for scheduler tests: Kubernetes objects as JSON (like Volcano's uthelper BuildNode,
// BuildPod, BuildPodGroup, BuildQueue), and a session run with a fixed clock.

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/scheduler/model.h"
#include "lib/scheduler/scheduler.h"
#include "lib/scheduler/session.h"

namespace kai::scheduler::test {

using nlohmann::json;

inline json resources(const std::string& cpu, const std::string& mem, const std::string& gpu = "") {
  json r = {{"cpu", cpu}, {"memory", mem}};
  if (!gpu.empty()) r["nvidia.com/gpu"] = gpu;
  return r;
}

inline json node(const std::string& name, const std::string& cpu, const std::string& mem, const std::string& gpu = "",
                 const std::string& pods = "110") {
  json alloc = resources(cpu, mem, gpu);
  alloc["pods"] = pods;
  return {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}, {"status", {{"allocatable", alloc}}}};
}

inline json queue(const std::string& name, int weight = 1, const json& capability = json()) {
  json q = {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
            {"kind", "Queue"},
            {"metadata", {{"name", name}, {"uid", "q-" + name}, {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
            {"spec", {{"weight", weight}}}};
  if (!capability.is_null()) q["spec"]["capability"] = capability;
  return q;
}

inline json podgroup(const std::string& name, int min_member, const std::string& queue_name = "default",
                     const std::string& phase = "Inqueue", const std::string& created = "2024-05-01T10:00:00Z") {
  return {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
          {"kind", "PodGroup"},
          {"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "pg-" + name}, {"creationTimestamp", created}}},
          {"spec", {{"minMember", min_member}, {"queue", queue_name}}},
          {"status", {{"phase", phase}}}};
}

/// A pod of PodGroup `group` requesting cpu/memory(/gpu); nodeName set makes it Bound.
inline json pod(const std::string& name, const std::string& group, const std::string& cpu, const std::string& mem,
                const std::string& node_name = "", const std::string& phase = "Pending", const std::string& gpu = "") {
  json p = {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", name},
              {"namespace", "ns"},
              {"uid", "pod-" + name},
              {"creationTimestamp", "2024-05-01T10:00:00Z"},
              {"annotations", {{"scheduling.k8s.io/group-name", group}}}}},
            {"spec", {{"schedulerName", "volcano"}, {"containers", json::array({{{"name", "main"}}})}}},
            {"status", {{"phase", phase}}}};
  json req = json::object();
  if (!cpu.empty()) req["cpu"] = cpu;
  if (!mem.empty()) req["memory"] = mem;
  if (!gpu.empty()) req["nvidia.com/gpu"] = gpu;
  if (!req.empty()) p["spec"]["containers"][0]["resources"] = {{"requests", req}};
  if (!node_name.empty()) p["spec"]["nodeName"] = node_name;
  return p;
}

inline Snapshot snapshot(const std::vector<json>& objects) { return snapshot_from_objects(objects, "test.yaml"); }

/// The session clock the tests use: 2024-05-01T12:00:00Z.
inline std::chrono::system_clock::time_point test_now() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1714564800));
}

inline SessionOptions options() {
  SessionOptions o;
  o.now = test_now();
  o.session_uid = "test-session";
  return o;
}

inline SessionResult run(const std::vector<json>& objects, const Config& config = default_config()) {
  return run_session_with(snapshot(objects), config, options());
}

inline Config conf(const std::string& yaml) { return parse_config(yaml, "conf.yaml"); }

/// A session held open over a model, for tests that call the framework directly.
struct OpenSession {
  OpenSession(const std::vector<json>& objects, const Config& c)
      : snap(snapshot(objects)), config(c), opts(options()), session(*snap.model, config, opts) {
    session.open(builtin_registry());
  }
  Snapshot snap;
  Config config;
  SessionOptions opts;
  Session session;
  /// The model index of the task (pod) named `name`.
  int task(const std::string& name) const {
    for (std::size_t i = 0; i < snap.model->tasks.size(); ++i) {
      if (snap.model->tasks[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  /// The session index of the node named `name`.
  int node(const std::string& name) const {
    for (std::size_t i = 0; i < session.nodes.size(); ++i) {
      if (session.mnode(static_cast<int>(i)).name == name) return static_cast<int>(i);
    }
    return -1;
  }
  /// The session index of the PodGroup `ns/name`.
  int job(const std::string& name) const {
    for (std::size_t i = 0; i < session.jobs.size(); ++i) {
      if (session.mjob(static_cast<int>(i)).name == name) return static_cast<int>(i);
    }
    return -1;
  }
};

}  // namespace kai::scheduler::test
