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

/// The parts of `res` objects that kai's tables never read: the kubectl-style table, wide and
/// name printers and vcctl's `job list` (lib/output), with -A, -L, --show-labels and label
/// selectors. Dotted paths, `*` for every element of an array. Commands printing those formats
/// pass this as ListOptions::omit; the local store keeps each object of these resources also
/// without these parts (a summary), so such a list never parses whole bodies. Empty for other
/// resources.
///
/// A printer that starts reading one of these paths must drop it here. The local store records
/// which lists its summaries follow, never reads summaries made from other lists, and rebuilds
/// them in its next write transaction.
inline std::vector<std::string> table_omit(const api::ResourceInfo& res) {
  // apiVersion and kind (the printers know the resource), server-set and bulky metadata.
  auto metadata = [] {
    return std::vector<std::string>{"apiVersion",          "kind",
                                    "metadata.annotations", "metadata.finalizers",
                                    "metadata.generateName", "metadata.generation",
                                    "metadata.managedFields", "metadata.ownerReferences",
                                    "metadata.resourceVersion", "metadata.uid"};
  };
  const std::string key = res.key();
  if (key == "batch.volcano.sh/jobs") {
    // vcctl job list: name, namespace, creation, labels, spec.tasks[].replicas, spec.queue and
    // schedulerName (its filters), status.state.phase and the status counters.
    auto out = metadata();
    out.insert(out.end(), {"spec.maxRetry", "spec.minAvailable", "spec.minSuccess", "spec.networkTopology",
                           "spec.plugins", "spec.policies", "spec.priorityClassName", "spec.tasks.*.dependsOn",
                           "spec.tasks.*.maxRetry", "spec.tasks.*.minAvailable", "spec.tasks.*.name",
                           "spec.tasks.*.policies", "spec.tasks.*.template", "spec.tasks.*.topologyPolicy",
                           "spec.ttlSecondsAfterFinished", "spec.volumes", "status.conditions",
                           "status.controlledResources", "status.runningDuration", "status.state.lastTransitionTime",
                           "status.state.message", "status.state.reason", "status.taskStatusCount",
                           "status.terminating", "status.version"});
    return out;
  }
  if (key == "scheduling.volcano.sh/podgroups") {
    auto out = metadata();
    out.insert(out.end(), {"spec.minResources", "spec.minTaskMember", "spec.priorityClassName", "status.conditions"});
    return out;
  }
  if (key == "core/pods") {
    // kubectl's pod columns read the containers' count, names and resources (GPUS), the init
    // containers' restartPolicy, readinessGates, nodeName, all of status but container images
    // and ids, and the kai.dev/gpus annotation (so annotations stay).
    std::vector<std::string> out;
    for (auto& m : metadata()) {
      if (m != "metadata.annotations") out.push_back(std::move(m));
    }
    for (const char* list : {"spec.containers", "spec.initContainers"}) {
      for (const char* field : {"args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle",
                                "livenessProbe", "ports", "readinessProbe", "securityContext", "startupProbe",
                                "terminationMessagePath", "terminationMessagePolicy", "volumeMounts", "workingDir"}) {
        out.push_back(std::string(list) + ".*." + field);
      }
    }
    out.insert(out.end(), {"spec.affinity", "spec.imagePullSecrets", "spec.securityContext", "spec.tolerations",
                           "spec.topologySpreadConstraints", "spec.volumes"});
    for (const char* list : {"status.containerStatuses", "status.initContainerStatuses"}) {
      for (const char* field : {"containerID", "image", "imageID"}) out.push_back(std::string(list) + ".*." + field);
    }
    return out;
  }
  return {};
}

/// One change a watch delivers (Kubernetes' watch.Event): ADDED, MODIFIED or DELETED (the object
/// as it was). A watch that lists first ends that list with one SYNCED event (no object).
struct WatchEvent {
  std::string type;
  json object;
};

/// What to watch and for how long.
struct WatchOptions {
  ListOptions list;
  /// Deliver changes after this resourceVersion; "" lists first and delivers every current object
  /// as ADDED (kubectl get -w).
  std::string resource_version;
  /// Stop after this many seconds; 0 means only when the callback says so.
  double timeout_seconds = 0;
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
  /// Streams the changes of `res` objects that match the options, calling `on` per event until it
  /// returns false or the timeout passes. A resourceVersion the server no longer keeps (410 Gone)
  /// is answered by listing again and going on from the new one: objects changed meanwhile come
  /// as MODIFIED (or ADDED when new), objects gone as DELETED.
  virtual void watch(const api::ResourceInfo& res, const WatchOptions& opts,
                     const std::function<bool(const WatchEvent&)>& on) = 0;
  /// Runs fn so that the calls it makes are applied all together or not at all where the
  /// backend can (the local store: one transaction); elsewhere it simply runs fn.
  virtual void batch(const std::function<void()>& fn) = 0;
  /// Human name of the target ("local cluster at /path", "https://...").
  virtual std::string describe_target() const = 0;
};

}  // namespace kai::client
