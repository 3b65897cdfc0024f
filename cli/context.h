#pragma once
// What every command shares: the global flags, the chosen cluster, the printer, the streams.

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "lib/client/resource_client.h"
#include "lib/client/target.h"
#include "lib/output/printer.h"

namespace kai::kube {
class RestClient;
}
namespace kai::minicluster {
class LocalCluster;
}

namespace kai::cli {

using json = nlohmann::json;

/// Global flags, filled by CLI11 before any command runs.
struct GlobalOptions {
  std::string kubeconfig;
  std::string context;
  std::string server;  ///< --server: replaces the kubeconfig cluster's server
  std::string ns;  ///< -n/--namespace ("" = the context's, else "default")
  bool local = false;
  std::string output;  ///< -o
  int verbosity = 0;
  std::string kai_home;
};

/// Per-invocation state. Commands call client() lazily, so `kai completion` opens no store.
class Context {
 public:
  Context(std::ostream& out, std::ostream& err);
  ~Context();

  GlobalOptions global;
  std::ostream& out;
  std::ostream& err;
  /// Words after a literal `--` on the command line (the container command of `kai job run`).
  std::vector<std::string> trailing;

  /// The target cluster, decided once from flags and environment.
  const client::Target& target();
  /// The ResourceClient for the target: the local cluster (opened and, on first use,
  /// initialised with the default shape) or the REST backend for a kubeconfig context.
  client::ResourceClient& client();
  /// True when the target is the embedded local cluster.
  bool local();
  /// The REST backend (kubeconfig targets only; throws Usage for the local cluster).
  kube::RestClient& rest();
  /// The same client for a command that writes: the cluster is not advanced first (the write
  /// does not depend on it), which keeps writes fast; finish() hands the write to a background
  /// reconcile.
  client::ResourceClient& writer();
  /// The local cluster (opened without initialising it); for `kai cluster ...`.
  minicluster::LocalCluster& local_cluster();
  /// KAI_HOME in effect.
  std::string home() const;
  /// The namespace in effect: -n, else the kubeconfig context's, else "default".
  std::string ns();
  /// After a command: start a background reconcile if the command changed the local cluster,
  /// and wait for the processes of pods it deleted to be gone.
  void finish();
  /// The parsed -o value.
  output::OutputSpec output_spec() const;

 private:
  std::unique_ptr<client::Target> target_;
  std::unique_ptr<minicluster::LocalCluster> local_;
  std::unique_ptr<kube::RestClient> rest_;
  bool used_ = false;      // the local cluster was opened as a client
  bool advanced_ = false;  // and advanced before the command read it
  client::ResourceClient& open_client(bool advance_first);
};

}  // namespace kai::cli
