#pragma once
// Shared fixtures for the admission tests: a fake cluster of queues behind AdmissionContext,
// a valid Job, and helpers that expect a refusal and check its causes.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lib/api/admission.h"
#include "lib/api/error.h"

namespace kai::test {

using nlohmann::json;

/// Queues the admission context can see: root, default (Open), closed (Closed),
/// parent (Open, has one child) and child (Open, parent "parent").
struct FakeQueues {
  std::map<std::string, json> queues;

  FakeQueues() {
    add("root", "", "Open");
    add("default", "root", "Open");
    add("closed", "root", "Closed");
    add("parent", "root", "Open");
    add("child", "parent", "Open");
  }

  void add(const std::string& name, const std::string& parent, const std::string& state) {
    json q = {{"apiVersion", "scheduling.volcano.sh/v1beta1"},
              {"kind", "Queue"},
              {"metadata", {{"name", name}}},
              {"spec", {{"weight", 1}, {"reclaimable", true}}},
              {"status", {{"state", state}}}};
    if (!parent.empty()) q["spec"]["parent"] = parent;
    queues[name] = q;
  }

  kai::api::AdmissionContext ctx() const {
    kai::api::AdmissionContext c;
    c.get_queue = [this](const std::string& name) -> std::optional<json> {
      auto it = queues.find(name);
      if (it == queues.end()) return std::nullopt;
      return it->second;
    };
    c.count_child_queues = [this](const std::string& name) {
      int n = 0;
      for (const auto& [_, q] : queues) {
        if (q["spec"].value("parent", "") == name) ++n;
      }
      return n;
    };
    c.list_child_queues = [this](const std::string& name) {
      std::vector<json> out;  // std::map: already sorted by name
      for (const auto& [_, q] : queues) {
        if (q["spec"].value("parent", "") == name) out.push_back(q);
      }
      return out;
    };
    c.default_scheduler = "kai-scheduler";
    return c;
  }
};

/// A Job that passes admission against FakeQueues: one task "worker" of 2 replicas.
inline json valid_job() {
  return R"({
    "apiVersion": "batch.volcano.sh/v1alpha1",
    "kind": "Job",
    "metadata": {"name": "demo"},
    "spec": {
      "tasks": [{
        "name": "worker",
        "replicas": 2,
        "template": {"spec": {"restartPolicy": "Never",
                              "containers": [{"name": "main", "image": "busybox",
                                              "resources": {"requests": {"cpu": "500m", "memory": "64Mi"},
                                                            "limits": {"cpu": "1", "memory": "64Mi"}}}]}}
      }]
    }
  })"_json;
}

/// valid_job() after admission, as the store would hold it.
inline json admitted_job(const FakeQueues& cluster) {
  json job = valid_job();
  kai::api::admit_create(kai::api::jobs(), job, cluster.ctx());
  return job;
}

/// Expects admit_create to refuse `obj`, checks it left `obj` untouched, returns the error.
inline kai::Error refuse_create(const kai::api::ResourceInfo& res, json obj, const kai::api::AdmissionContext& ctx) {
  const json before = obj;
  try {
    kai::api::admit_create(res, obj, ctx);
  } catch (const kai::Error& e) {
    CHECK(obj == before);
    return e;
  }
  FAIL("admission accepted: " << obj.dump());
  throw std::logic_error("unreachable");
}

/// Expects admit_update to refuse `obj`, checks it left `obj` untouched, returns the error.
inline kai::Error refuse_update(const kai::api::ResourceInfo& res, const json& old_obj, json obj,
                                const kai::api::AdmissionContext& ctx) {
  const json before = obj;
  try {
    kai::api::admit_update(res, old_obj, obj, ctx);
  } catch (const kai::Error& e) {
    CHECK(obj == before);
    return e;
  }
  FAIL("update accepted: " << obj.dump());
  throw std::logic_error("unreachable");
}

inline bool find_cause(const kai::Error& e, const std::string& field, const std::string& message, bool prefix) {
  for (const auto& c : e.causes()) {
    if (c.field != field) continue;
    if (prefix ? c.message.rfind(message, 0) == 0 : c.message == message) return true;
  }
  UNSCOPED_INFO("error was: " << e.what());
  return false;
}

/// True when `e` has a cause with exactly this field and message (logs the error otherwise).
inline bool has_cause(const kai::Error& e, const std::string& field, const std::string& message) {
  return find_cause(e, field, message, false);
}

/// True when `e` has a cause with this field whose message starts with `prefix`.
inline bool has_cause_prefix(const kai::Error& e, const std::string& field, const std::string& prefix) {
  return find_cause(e, field, prefix, true);
}

}  // namespace kai::test
