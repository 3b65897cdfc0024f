#pragma once
// The embedded cluster behind ResourceClient: admission (Volcano's webhooks), the store, and the
// controllers' reactions that this issue needs (job initiation, queue commands).

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lib/api/admission.h"
#include "lib/client/resource_client.h"
#include "minicluster/store.h"

namespace kai::minicluster {

using json = nlohmann::json;

/// Shape of fake nodes for `kai cluster init`.
struct NodeShape {
  int count = 2;
  std::string cpu = "8";
  std::string memory = "32Gi";
  int gpus_per_node = 4;
  int max_pods = 110;
};

class LocalCluster : public client::ResourceClient {
 public:
  /// Opens the store under `home`. Does not initialise a cluster.
  static std::unique_ptr<LocalCluster> open(const std::filesystem::path& home);

  /// True when the cluster has been initialised (namespace "default" exists).
  bool initialised() const;
  /// Initialises a cluster if none exists: namespace default, queues root and default,
  /// nodes of `shape` (or `nodes` when given, already decoded Node objects). Concurrent
  /// callers: exactly one initialises. Returns false if it already was initialised.
  bool initialise(const NodeShape& shape, const std::vector<json>& nodes = {});
  /// Fake Node objects for a shape: node-1..node-N.
  static std::vector<json> make_nodes(const NodeShape& shape);

  json create(const api::ResourceInfo& res, json obj) override;
  json get(const api::ResourceInfo& res, const std::string& ns, const std::string& name) override;
  std::vector<json> list(const api::ResourceInfo& res, const client::ListOptions& opts) override;
  json update(const api::ResourceInfo& res, json obj) override;
  json merge_patch(const api::ResourceInfo& res, const std::string& ns, const std::string& name,
                   const json& patch) override;
  json remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name) override;
  void batch(const std::function<void()>& fn) override;
  std::string describe_target() const override;

  store::Store& store() { return *store_; }

 private:
  explicit LocalCluster(std::unique_ptr<store::Store> s) : store_(std::move(s)) {}
  api::AdmissionContext admission_context();
  /// Job controller's first step: status.state Pending + minAvailable, PodGroup <job>-<uid>.
  json initiate_job(json job);
  /// Queue controller's handling of an OpenQueue/CloseQueue Command, and the job controller's
  /// handling of AbortJob/ResumeJob as far as this issue goes. The Command is deleted once run,
  /// as Volcano's controllers do.
  void execute_command(const json& cmd);

  std::unique_ptr<store::Store> store_;
};

}  // namespace kai::minicluster
