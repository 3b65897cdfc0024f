#pragma once
// Defaulting and validation as Volcano's (and Kubernetes') admission does it, with field paths.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/api/resources.h"

namespace kai::api {

/// What admission may look up in the cluster (queues for Job/PodGroup rules).
struct AdmissionContext {
  /// Returns the Queue object with this name, or nullopt if it does not exist.
  std::function<std::optional<nlohmann::json>(const std::string& name)> get_queue;
  /// Number of child queues (queues whose spec.parent is `name`).
  std::function<int(const std::string& name)> count_child_queues;
  /// The child queues of `name` (queues whose spec.parent is `name`), sorted by name: the
  /// hierarchy's resource checks and the delete message read them. Unset: those checks are skipped.
  std::function<std::vector<nlohmann::json>(const std::string& name)> list_child_queues;
  /// Default scheduler name for Jobs (Volcano's admission default "volcano").
  std::string default_scheduler = "volcano";
};

/// Applies the mutating defaults for a CREATE of `obj` (Volcano mutatejob/mutatequeue,
/// PodGroup queue default, apiVersion/kind/namespace normalisation), then validates it.
/// On failure throws kai::Error Invalid whose message is
/// `<Kind.group> "<name>" is invalid: <field>: <Invalid value: v: what>[, <field>: ...]`
/// and whose causes list every field error (field path like `spec.tasks[1].replicas`).
/// Never partially mutates on failure (works on a copy; assigns only on success).
void admit_create(const ResourceInfo& res, nlohmann::json& obj, const AdmissionContext& ctx);

/// Validation for UPDATE (Volcano validateJobUpdate etc.): `old_obj` is the stored object.
void admit_update(const ResourceInfo& res, const nlohmann::json& old_obj, nlohmann::json& obj,
                  const AdmissionContext& ctx);

/// Validation for DELETE (`default`/`root` queue can not be deleted...). Throws kai::Error Invalid.
void admit_delete(const ResourceInfo& res, const nlohmann::json& obj, const AdmissionContext& ctx);

}  // namespace kai::api
