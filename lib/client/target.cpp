#include "lib/client/target.h"

#include <filesystem>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "lib/api/error.h"

namespace kai::client {
namespace {

namespace fs = std::filesystem;

bool is_file(const std::string& p) {
  std::error_code ec;
  return !p.empty() && fs::is_regular_file(p, ec);
}

/// Reads the context named `want` (or current-context) from a kubeconfig file.
void read_context(const std::string& path, const std::string& want, Target& t) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw Error::invalid(path + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  std::string ctx_name = want;
  if (ctx_name.empty() && doc["current-context"] && doc["current-context"].IsScalar()) {
    ctx_name = doc["current-context"].as<std::string>();
  }
  t.context = ctx_name;
  t.ns = "default";
  if (ctx_name.empty()) return;
  std::string cluster;
  bool found = false;
  if (doc["contexts"] && doc["contexts"].IsSequence()) {
    for (const auto& c : doc["contexts"]) {
      if (!c["name"] || c["name"].as<std::string>() != ctx_name) continue;
      found = true;
      const auto& body = c["context"];
      if (body && body["namespace"] && !body["namespace"].as<std::string>().empty()) t.ns = body["namespace"].as<std::string>();
      if (body && body["cluster"]) cluster = body["cluster"].as<std::string>();
      break;
    }
  }
  if (!found) {
    if (!want.empty()) throw Error::invalid("context \"" + want + "\" does not exist in " + path);
    return;
  }
  if (doc["clusters"] && doc["clusters"].IsSequence()) {
    for (const auto& c : doc["clusters"]) {
      if (c["name"] && c["name"].as<std::string>() == cluster && c["cluster"] && c["cluster"]["server"]) {
        t.server = c["cluster"]["server"].as<std::string>();
      }
    }
  }
}

}  // namespace

Target choose_target(const TargetRequest& req) {
  Target t;
  if (req.local || req.env_cluster == "local") {
    t.why = req.local ? "--local" : "KAI_CLUSTER=local";
    return t;
  }
  std::string path;
  if (!req.kubeconfig.empty()) {
    if (!is_file(req.kubeconfig)) throw Error::invalid("--kubeconfig " + req.kubeconfig + ": no such file");
    path = req.kubeconfig;
    t.why = "--kubeconfig " + path;
  } else if (!req.env_kubeconfig.empty()) {
    std::stringstream ss(req.env_kubeconfig);
    for (std::string part; std::getline(ss, part, ':');) {
      if (is_file(part)) {
        path = part;
        break;
      }
    }
    t.why = "$KUBECONFIG";
  } else if (!req.home.empty() && is_file(req.home + "/.kube/config")) {
    path = req.home + "/.kube/config";
    t.why = "~/.kube/config";
  }
  if (path.empty()) {
    if (!req.context.empty()) throw Error::invalid("--context " + req.context + ": no kubeconfig found");
    t.why = "no kubeconfig found";
    return t;
  }
  t.kind = Target::Kind::Kubeconfig;
  t.kubeconfig_path = path;
  read_context(path, req.context, t);
  return t;
}

}  // namespace kai::client
