#pragma once
// Which cluster a command talks to: the embedded local cluster or a kubeconfig context
// (decided by kube::choose_target).

#include <string>

namespace kai::client {

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

}  // namespace kai::client
