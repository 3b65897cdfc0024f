#pragma once
// Which cluster a command talks to: the embedded local cluster or a kubeconfig context.

#include <string>

namespace kai::client {

/// What the user asked for on the command line and in the environment.
struct TargetRequest {
  bool local = false;        ///< --local
  std::string kubeconfig;    ///< --kubeconfig
  std::string context;       ///< --context
  std::string env_kubeconfig;  ///< $KUBECONFIG
  std::string env_cluster;     ///< $KAI_CLUSTER ("local" forces the embedded cluster)
  std::string home;            ///< $HOME, for ~/.kube/config
};

/// The chosen cluster.
struct Target {
  enum class Kind { Local, Kubeconfig };
  Kind kind = Kind::Local;
  std::string kubeconfig_path;  ///< the file (first of $KUBECONFIG) that was found
  std::string context;          ///< context name in use
  std::string server;           ///< cluster.server of that context ("" if unknown)
  std::string ns;               ///< the context's namespace, "default" when unset
  std::string why;              ///< one line: why this target was chosen (for -v and `cluster status`)
};

/// Decides the target: --local or KAI_CLUSTER=local -> local; --kubeconfig FILE (must exist),
/// else $KUBECONFIG (first existing file), else ~/.kube/config -> that kubeconfig's context
/// (--context, else current-context); nothing at all -> local.
/// Throws kai::Error Usage/Invalid for a --kubeconfig that does not exist, an unparsable
/// kubeconfig, or a --context that is not in it.
Target choose_target(const TargetRequest& req);

}  // namespace kai::client
