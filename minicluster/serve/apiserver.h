#pragma once
// `kai cluster serve`: the local cluster over a Kubernetes-compatible HTTPS API, so kubectl and
// the Python client drive it (../shared/reference/k8s-api.md §0, §2, §3), and the loop that moves
// the cluster while it serves (controllers, a scheduling session every period and on change, the
// process runtime). Built as its own executable (kai-apiserver, started by `kai cluster serve`)
// so that the HTTP library and OpenSSL load only there, not at every kai start.

#include <filesystem>
#include <string>
#include <vector>

namespace kai::serve {

struct ServeOptions {
  std::filesystem::path home;
  std::string address = "127.0.0.1";
  int port = 6443;
  double period_seconds = 1.0;  ///< a reconcile at least this often (Volcano's schedule-period)
  /// The change log is compacted this often, keeping at least this much history (watches from
  /// older resourceVersions get 410 Expired); 0: never. kube-apiserver's default is 5 minutes.
  double compaction_interval_seconds = 300;
  /// `kai __supervise ...` for pods (the kai binary, not this server's).
  std::vector<std::string> supervisor_command;
  int threads = 128;  ///< connections served at once (each watch holds one)
  /// Written once listening: "<port>\n", for scripts and tests that ask for port 0.
  std::filesystem::path port_file;
};

/// Serves until SIGINT or SIGTERM. Returns the process exit code; throws kai::Error when it
/// cannot start (address in use, KAI_HOME unwritable).
int run_apiserver(const ServeOptions& opts);

}  // namespace kai::serve
