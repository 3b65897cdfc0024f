#pragma once
// The resource types kai knows: group/version/kind, plural, short names, scope.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kai::api {

struct ResourceInfo {
  std::string group;     ///< "" for core, "batch.volcano.sh", ...
  std::string version;   ///< "v1", "v1alpha1", "v1beta1"
  std::string kind;      ///< "Job"
  std::string plural;    ///< "jobs"
  std::string singular;  ///< "job"
  std::vector<std::string> short_names;  ///< {"vcjob", "vj"}
  bool namespaced = true;

  /// "batch.volcano.sh/v1alpha1", or "v1" for the core group.
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  /// "jobs.batch.volcano.sh", or "pods" for the core group: the name kubectl uses in messages.
  std::string qualified_plural() const { return group.empty() ? plural : plural + "." + group; }
  /// "job.batch.volcano.sh", or "pod": the prefix of `-o name` output.
  std::string qualified_singular() const { return group.empty() ? singular : singular + "." + group; }
  /// Stable key used by the store: "batch.volcano.sh/jobs", "core/pods".
  std::string key() const { return (group.empty() ? std::string("core") : group) + "/" + plural; }
  /// "Job.batch.volcano.sh": the prefix of Invalid messages.
  std::string qualified_kind() const { return group.empty() ? kind : kind + "." + group; }
};

/// Every resource kai knows, in a fixed order (jobs first).
const std::vector<ResourceInfo>& all_resources();

/// Finds a resource by what a user types: plural, singular, short name, kind (any case),
/// optionally qualified with a group ("jobs.batch.volcano.sh", "vcjob"). nullopt if unknown.
std::optional<ResourceInfo> find_resource(std::string_view name);

/// Finds a resource by apiVersion + kind as written in a manifest. nullopt if unknown.
std::optional<ResourceInfo> find_resource_by_kind(std::string_view api_version, std::string_view kind);

/// Well-known resources.
const ResourceInfo& jobs();
const ResourceInfo& queues();
const ResourceInfo& podgroups();
const ResourceInfo& commands();
const ResourceInfo& pods();
const ResourceInfo& nodes();
const ResourceInfo& namespaces();
const ResourceInfo& events();
const ResourceInfo& priority_classes();

}  // namespace kai::api
