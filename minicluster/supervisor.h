#pragma once
// The pod supervisor: `kai __supervise` runs this in a detached process for one bound pod. It
// turns the pod object into a runtime::PodRun (env with fieldRefs resolved, the job plugins'
// host names, GPUs, the pod's /etc/hosts), runs it, reports container states to the store,
// and when the pod ends advances the cluster (reconcile) so the job moves on.

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "minicluster/runtime.h"

namespace kai::minicluster {

class LocalCluster;

/// Runs the pod `ns/name` with uid `uid` to its end. Returns the process exit code (0 when the
/// pod ran, whatever its containers' exit codes; 1 when the pod could not be run at all, after
/// marking it Failed with a reason).
int supervise(LocalCluster& cluster, const std::string& ns, const std::string& name, const std::string& uid);

/// The environment of one container of a bound pod as the supervisor gives it: a base
/// (PATH, HOME, HOSTNAME), the container's env (value and fieldRef metadata.name,
/// metadata.namespace, metadata.uid, spec.nodeName, spec.serviceAccountName, status.podIP,
/// status.hostIP, metadata.labels['k'], metadata.annotations['k']), CUDA_VISIBLE_DEVICES and
/// NVIDIA_VISIBLE_DEVICES for pods given GPUs. `substitute`: host name -> address replacements
/// applied to values (NetworkMode::kHostAddress). Throws kai::Error Invalid naming the field for
/// references kai cannot resolve (configMapKeyRef, secretKeyRef).
std::vector<std::string> container_env(const nlohmann::json& pod, const nlohmann::json& container,
                                       const std::vector<std::pair<std::string, std::string>>& substitute);

}  // namespace kai::minicluster
