#pragma once
// kubeconfig loading as client-go's clientcmd does it (../shared/reference/k8s-api.md §1): which
// files, how they merge, which context, cluster and user, relative paths, the in-cluster config,
// and the command line's overrides. The result is everything the REST client needs to connect.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/client/target.h"

namespace kai::kube {

/// users[].user.exec: a credential plugin (client.authentication.k8s.io v1 or v1beta1).
struct ExecConfig {
  std::string api_version;
  std::string command;  ///< as written; a path with '/' is resolved against base_dir
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  ///< Never, IfAvailable, Always
  std::string base_dir;          ///< directory of the kubeconfig file that defined it
  nlohmann::json cluster_config;  ///< the cluster's client.authentication.k8s.io/exec extension, or null
};

/// Where to connect and as whom.
struct RestConfig {
  std::string server;  ///< scheme://host[:port][/prefix], no trailing '/'
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string ca_pem;  ///< certificate-authority(-data), PEM; empty = the system's roots
  std::string ca_file;  ///< where ca_pem came from (messages), "" when inline
  std::string proxy_url;
  bool disable_compression = false;

  std::string token;       ///< bearer token (user.token, or the tokenFile's content when read)
  std::string token_file;  ///< user.tokenFile (absolute), re-read by the client
  std::string cert_pem, key_pem;  ///< client certificate and key, PEM
  std::string username, password;
  std::string impersonate;
  std::vector<std::string> impersonate_groups;
  std::optional<ExecConfig> exec;

  std::string ns = "default";  ///< the context's namespace
  std::string context;         ///< context name ("" for in-cluster)
  std::string source;          ///< "kubeconfig /path (context x)" or "in-cluster service account"
};

/// What decides the files and the context.
struct LoadRequest {
  std::string kubeconfig;      ///< --kubeconfig (only that file, must exist)
  std::string context;         ///< --context
  std::string server;          ///< --server / -s: replaces the cluster's server
  std::string env_kubeconfig;  ///< $KUBECONFIG (':'-separated, merged)
  std::string home;            ///< $HOME, for ~/.kube/config
  /// In-cluster: $KUBERNETES_SERVICE_HOST/PORT and the service-account directory.
  std::string service_host, service_port;
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

/// Standard base64 with padding (what kubeconfig's -data fields hold).
std::string base64_encode(const std::string& in);

/// The kubeconfig files that apply, in merge order: --kubeconfig alone; else $KUBECONFIG's
/// existing files (duplicates dropped); else ~/.kube/config if it exists; else none.
/// Throws kai::Error Invalid when --kubeconfig names no file.
std::vector<std::string> kubeconfig_files(const LoadRequest& req);

/// The merged kubeconfig (clusters, users, contexts as name -> entry, first file wins per name,
/// each entry remembering its file's directory under "$dir"; current-context: first non-empty).
/// Throws kai::Error Invalid with the file and line for unparsable YAML.
nlohmann::json merge_kubeconfigs(const std::vector<std::string>& files);

/// Resolves the context (--context, else current-context) into a RestConfig: server, TLS,
/// credentials (files read now, relative to the defining file), namespace. Without kubeconfig
/// files, the in-cluster config when the service variables are set. Throws kai::Error Invalid
/// naming the file and field for a missing context/cluster/user, a missing server, a
/// certificate without its key, token together with a client certificate or basic auth, an
/// insecure cluster with a CA, exec without command/apiVersion or with a bad interactiveMode,
/// and files that cannot be read.
RestConfig load_rest_config(const LoadRequest& req);

/// What decides the target beyond LoadRequest: --local and $KAI_CLUSTER ("local" forces the
/// embedded cluster, "in-cluster" the pod's service account).
struct TargetRequest : LoadRequest {
  bool local = false;
  std::string env_cluster;
};

struct ChosenTarget {
  client::Target target;
  std::optional<RestConfig> rest;  ///< for a Kubeconfig target
};

/// Decides which cluster a command talks to, reading the kubeconfig files once: --local or
/// KAI_CLUSTER=local -> local; KAI_CLUSTER=in-cluster -> the service account; kubeconfig files
/// (kubeconfig_files) -> their context (--context, else current-context; none set and no
/// --server -> local); no files: --server -> that server, else local. Throws load_rest_config's
/// errors, and `--context X: no kubeconfig found`.
ChosenTarget choose_target(const TargetRequest& req);

}  // namespace kai::kube
