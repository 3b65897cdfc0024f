#pragma once
// ResourceClient: what every command works on. Implemented by the embedded cluster
// (minicluster/local_client) and, later, by the REST client (lib/kube).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/api/resources.h"
#include "lib/api/selectors.h"

namespace kai::client {

using json = nlohmann::json;

struct ListOptions {
  std::string ns;  ///< "" with all_namespaces, ignored for cluster-scoped resources
  bool all_namespaces = false;
  api::LabelSelector labels;
  api::FieldSelector fields;
  /// Parts of each object the caller will not read ("spec.tasks.*.template"); a backend may
  /// leave them out to list faster. Callers printing whole objects leave this empty.
  std::vector<std::string> omit;
};

class ResourceClient {
 public:
  virtual ~ResourceClient() = default;
  /// Admits (defaults + validates) and stores a new object; returns it as stored.
  virtual json create(const api::ResourceInfo& res, json obj) = 0;
  virtual json get(const api::ResourceInfo& res, const std::string& ns, const std::string& name) = 0;
  /// Items sorted by namespace, then name.
  virtual std::vector<json> list(const api::ResourceInfo& res, const ListOptions& opts) = 0;
  /// Full replace with optimistic concurrency on metadata.resourceVersion.
  virtual json update(const api::ResourceInfo& res, json obj) = 0;
  /// RFC 7386 JSON merge patch.
  virtual json merge_patch(const api::ResourceInfo& res, const std::string& ns, const std::string& name,
                           const json& patch) = 0;
  /// Deletes (cascading to owned objects); returns the deleted object.
  virtual json remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name) = 0;
  /// Runs fn so that the calls it makes are applied all together or not at all where the
  /// backend can (the local store: one transaction); elsewhere it simply runs fn.
  virtual void batch(const std::function<void()>& fn) = 0;
  /// Human name of the target ("local cluster at /path", "https://...").
  virtual std::string describe_target() const = 0;
};

}  // namespace kai::client
