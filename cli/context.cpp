#include "cli/context.h"

#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "lib/api/error.h"
#include "lib/kube/rest_client.h"
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
    kube::TargetRequest req;
    req.local = global.local;
    req.env_cluster = env("KAI_CLUSTER");
    req.kubeconfig = global.kubeconfig;
    req.context = global.context;
    req.server = global.server;
    req.env_kubeconfig = env("KUBECONFIG");
    req.home = env("HOME");
    req.service_host = env("KUBERNETES_SERVICE_HOST");
    req.service_port = env("KUBERNETES_SERVICE_PORT");
    kube::ChosenTarget chosen = kube::choose_target(req);
    target_ = std::make_unique<client::Target>(std::move(chosen.target));
    if (chosen.rest) rest_ = std::make_unique<kube::RestClient>(std::move(*chosen.rest));
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

client::ResourceClient& Context::client() { return open_client(true); }

bool Context::local() { return target().kind == client::Target::Kind::Local; }

kube::RestClient& Context::rest() {
  target();
  if (!rest_) throw Error::usage("this needs a real cluster (a kubeconfig context); the target is the local cluster");
  return *rest_;
}

client::ResourceClient& Context::writer() { return open_client(false); }

client::ResourceClient& Context::open_client(bool advance_first) {
  const auto& t = target();
  if (t.kind == client::Target::Kind::Kubeconfig) return *rest_;
  auto& lc = local_cluster();
  if (!used_) {
    used_ = true;
    // Copying the WAL into the database (two fsyncs and a few hundred pages) is left to the
    // background reconcile that follows a write, up to 4 MiB of WAL (each process that opens
    // the store reads all of it: ~0.6 ms per MiB).
    lc.store().set_checkpoint_pages(1024);
    if (!lc.initialised() && lc.initialise(minicluster::NodeShape{})) {
      spdlog::info("created the default local cluster in {}", home());
    }
    // Pods are run by `kai __supervise`: this very binary, re-executed.
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
      lc.set_supervisor_command({exe.string(), "__supervise", "--kai-home", lc.home().string()});
    }
  }
  if (advance_first && !advanced_) {
    advanced_ = true;
    try {
      auto st = lc.reconcile_if_needed();
      if (!st.skipped) spdlog::debug("local cluster advanced in {} pass(es)", st.passes);
    } catch (const Error& e) {
      // The command itself can still run; say why the cluster did not move.
      spdlog::warn("the local cluster could not advance: {}", e.what());
    }
  }
  return lc;
}

void Context::finish() {
  if (!local_ || !used_) return;
  // What the command wrote is the controllers' to act on: in the background, so the command
  // returns once its write is committed (as against a real API server).
  bool needed = false;
  try {
    needed = local_->reconcile_needed();
  } catch (const Error& e) {
    spdlog::warn("the local cluster could not advance: {}", e.what());
  }
  auto stopping = local_->take_stopping();
  const auto home = local_->home();
  local_.reset();
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (needed && !ec) {
    try {
      minicluster::LocalCluster::start_background_reconcile(home, {exe.string(), "__reconcile", "--kai-home", home.string()});
    } catch (const Error& e) {
      spdlog::warn("the local cluster could not advance: {}", e.what());
    }
  }
  minicluster::LocalCluster::wait_for_exit(stopping, 60);
}

std::string Context::ns() {
  if (!global.ns.empty()) return global.ns;
  const auto& t = target();
  if (t.kind == client::Target::Kind::Kubeconfig && !t.ns.empty()) return t.ns;
  return "default";
}

output::OutputSpec Context::output_spec() const { return output::OutputSpec::parse(global.output); }

}  // namespace kai::cli
