#pragma once
// Volcano's job plugins (volcano.md §2.4): what env, svc, ssh, pytorch, mpi and tensorflow
// inject into a job's pods. kai writes the values the real plugins reference (the svc
// ConfigMap's host lists) straight into the environment, since the local cluster has no
// ConfigMaps; the names and values are Volcano's.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kai::minicluster {

/// Adds the job's plugins' env vars, hostname/subdomain and container ports to `pod` (a pod of
/// task `task` with index `index`, built from the task template).
void apply_job_plugins(const nlohmann::json& job, const std::string& task, int index, nlohmann::json& pod);

/// The files Volcano's svc plugin mounts at /etc/volcano (from ConfigMap `<job>-svc`):
/// absolute path -> contents. Empty when the job has no svc plugin.
std::vector<std::pair<std::string, std::string>> svc_files(const nlohmann::json& job);

/// A plugin argument as Volcano's flag parsing reads it: `--port=23456` or `--port 23456`.
std::string plugin_arg(const nlohmann::json& args, const std::string& flag, const std::string& def);

}  // namespace kai::minicluster
