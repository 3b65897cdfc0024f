#pragma once
// Volcano's job plugins (volcano.md §2.4): what env, svc, ssh, pytorch, mpi and tensorflow
// inject into a job's pods. kai writes the values the real plugins reference (the svc
// ConfigMap's host lists) straight into the environment, since the local cluster has no
// ConfigMaps or Secrets; the files they would mount (svc's /etc/volcano, ssh's key directory)
// are given to the pod's supervisor. The names and values are Volcano's.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "minicluster/runtime.h"

namespace kai::minicluster {

/// Adds the job's plugins' env vars, hostname/subdomain and container ports to `pod` (a pod of
/// task `task` with index `index`, built from the task template).
void apply_job_plugins(const nlohmann::json& job, const std::string& task, int index, nlohmann::json& pod);

/// The files Volcano's svc plugin mounts at /etc/volcano (from ConfigMap `<job>-svc`), mode
/// 0644. Empty when the job has no svc plugin.
std::vector<runtime::PodFile> svc_files(const nlohmann::json& job);

/// The directory Volcano's ssh plugin mounts its Secret at: --ssh-key-file-path, default
/// /root/.ssh. "" when the job has no ssh plugin.
std::string ssh_key_dir(const nlohmann::json& job);

/// The `config` key of the ssh plugin's Secret: Volcano's StrictHostKeyChecking/UserKnownHostsFile
/// lines, then for every pod of the job in task order `Host <pod host>`, `HostName
/// <host>.<subdomain>`, `Port <--ssh-port, default 22>` (one entry for a task whose template
/// sets a hostname).
std::string ssh_config(const nlohmann::json& job);

/// The files of Volcano's ssh plugin's Secret `<job>-ssh` as every pod of the job sees them,
/// mode 0600, in ssh_key_dir(job): id_rsa (PEM), id_rsa.pub and authorized_keys (the OpenSSH
/// public key), config. The key pair is --ssh-private-key/--ssh-public-key when given (the
/// public key derived from the private one when only that is given), else `job_key()`, the
/// job's generated private key (called only then). Empty when the job has no ssh plugin.
/// Throws kai::Error Invalid when --ssh-private-key is no RSA private key (never quoting it).
std::vector<runtime::PodFile> ssh_files(const nlohmann::json& job, const std::function<std::string()>& job_key);

/// A plugin argument as Volcano's flag parsing reads it: `--port=23456` or `--port 23456`.
std::string plugin_arg(const nlohmann::json& args, const std::string& flag, const std::string& def);

}  // namespace kai::minicluster
