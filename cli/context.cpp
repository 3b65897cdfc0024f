#include "cli/context.h"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "lib/api/error.h"
#include "minicluster/local_cluster.h"

namespace kai::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Context::Context(std::ostream& out, std::ostream& err) : out(out), err(err) {}
Context::~Context() = default;

const client::Target& Context::target() {
  if (!target_) {
    client::TargetRequest req;
    req.local = global.local;
    req.kubeconfig = global.kubeconfig;
    req.context = global.context;
    req.env_kubeconfig = env("KUBECONFIG");
    req.env_cluster = env("KAI_CLUSTER");
    req.home = env("HOME");
    target_ = std::make_unique<client::Target>(client::choose_target(req));
    if (target_->kind == client::Target::Kind::Local) {
      spdlog::info("target: local cluster in {} ({})", home(), target_->why);
    } else {
      spdlog::info("target: context \"{}\" of {} ({})", target_->context, target_->kubeconfig_path, target_->why);
    }
  }
  return *target_;
}

std::string Context::home() const {
  if (!global.kai_home.empty()) return global.kai_home;
  return store::default_home().string();
}

minicluster::LocalCluster& Context::local_cluster() {
  if (!local_) local_ = minicluster::LocalCluster::open(home());
  return *local_;
}

client::ResourceClient& Context::client() {
  const auto& t = target();
  if (t.kind == client::Target::Kind::Kubeconfig) {
    throw Error::unavailable("context \"" + t.context + "\" in " + t.kubeconfig_path +
                             " points at a real cluster (" + (t.server.empty() ? "no server" : t.server) +
                             "); the REST backend is not supported yet: use --local (or KAI_CLUSTER=local) "
                             "for the embedded cluster");
  }
  auto& lc = local_cluster();
  if (!lc.initialised() && lc.initialise(minicluster::NodeShape{})) {
    spdlog::info("created the default local cluster in {}", home());
  }
  return lc;
}

std::string Context::ns() {
  if (!global.ns.empty()) return global.ns;
  const auto& t = target();
  if (t.kind == client::Target::Kind::Kubeconfig && !t.ns.empty()) return t.ns;
  return "default";
}

output::OutputSpec Context::output_spec() const { return output::OutputSpec::parse(global.output); }

}  // namespace kai::cli
