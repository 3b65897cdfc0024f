// kai cluster init|status|reset: the embedded local cluster.

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>
#include <optional>

#include "cli/commands.h"
#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/api/duration.h"
#include "lib/api/names.h"
#include "lib/api/quantity.h"
#include "lib/kube/kubeconfig.h"
#include "lib/scheduler/scheduler.h"
#include "minicluster/local_cluster.h"
#include "minicluster/runtime.h"
#include "minicluster/runtime_sys.h"

extern char** environ;

namespace kai::cli {
namespace {

namespace fs = std::filesystem;

struct InitOptions {
  minicluster::NodeShape shape;
  std::string file;
  std::string scheduler_conf;
  bool force = false;
};

/// Stops every pod process of the local cluster (SIGTERM to supervisors, which give their
/// processes their grace period), so a reset leaves nothing running. Jobs go first, all in one
/// transaction: a supervisor that exits reconciles the cluster, and must find no job whose pods
/// it would make again (or start, on the resources just freed).
void stop_all_pods(const std::string& home) {
  if (!fs::exists(fs::path(home) / "store.db")) return;
  auto lc = minicluster::LocalCluster::open(home);
  // A reconcile running now may be starting pods: wait for it, and keep the next one out until
  // the jobs and pods are gone (not while waiting for supervisors: they reconcile as they exit).
  std::optional<minicluster::runtime::detail::UniqueFd> reconcile_lock;
  if (fs::is_directory(fs::path(home) / "run")) {
    reconcile_lock.emplace(minicluster::runtime::detail::lock_file(minicluster::LocalCluster::reconcile_lock_path(home)));
  }
  lc->batch([&] {
    for (const auto& job : lc->store().list(api::jobs())) {
      try {
        lc->remove(api::jobs(), job["metadata"]["namespace"], job["metadata"]["name"]);
      } catch (const Error&) {
      }
    }
  });
  for (const auto& pod : lc->store().list(api::pods())) {
    if (!pod["metadata"].contains("/annotations/kai.dev~1supervisor"_json_pointer)) continue;
    try {
      lc->remove(api::pods(), pod["metadata"]["namespace"], pod["metadata"]["name"]);
    } catch (const Error&) {
    }
  }
  reconcile_lock.reset();
  lc->wait_for_stopped(60);
  std::error_code ec;
  // Whatever a supervisor left (or one that was still starting when its pod went, which then
  // exits by itself): the process groups each pod directory records.
  if (fs::is_directory(fs::path(home) / "pods", ec)) {
    for (const auto& ns_dir : fs::directory_iterator(fs::path(home) / "pods", ec)) {
      std::error_code ec2;
      for (const auto& pod_dir : fs::directory_iterator(ns_dir.path(), ec2)) minicluster::runtime::kill_pod_leftovers(pod_dir.path());
    }
  }
  if (fs::exists(fs::path(home) / "run" / "netns", ec)) {
    for (const auto& e : fs::directory_iterator(fs::path(home) / "run" / "netns", ec)) {
      if (e.path().extension() != ".lock") minicluster::runtime::release_job_netns(e.path());
    }
  }
}

void reset_files(const std::string& home) {
  stop_all_pods(home);
  for (const char* d : {"pods", "run", "jobs"}) {
    std::error_code ec;
    fs::remove_all(fs::path(home) / d, ec);
  }
  for (const char* f : {"store.db", "store.db-wal", "store.db-shm", "scheduler.conf", "reconcile.state"}) {
    std::error_code ec;
    fs::remove(fs::path(home) / f, ec);
    if (ec) throw Error::unavailable("cannot remove " + (fs::path(home) / f).string() + ": " + ec.message());
  }
}

/// The text of a configuration file, after decode_file's checks (exists, not a directory, size).
std::string read_text_file(const std::string& path) {
  api::decode_file(path);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_quantity(const std::string& flag, const std::string& v) {
  api::Quantity q;
  if (!api::Quantity::try_parse(v, q) || q.is_negative() || q.is_zero()) {
    throw Error::usage(flag + " " + v + ": must be a positive quantity such as 8, 500m, 64Gi");
  }
}

void init(Context& ctx, const InitOptions& o) {
  if (ctx.target().kind != client::Target::Kind::Local) {
    throw Error::usage("kai cluster init works on the local cluster; add --local");
  }
  const minicluster::NodeShape& shape = o.shape;
  std::vector<json> nodes;
  if (!o.file.empty()) {
    nodes = read_manifest(o.file);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].value("kind", std::string()) != "Node" || nodes[i].value("apiVersion", std::string()) != "v1") {
        throw Error::invalid(o.file + ": document " + std::to_string(i + 1) + ": expected a v1 Node, got kind \"" +
                             nodes[i].value("kind", std::string()) + "\"");
      }
    }
  } else {
    if (shape.count < 1 || shape.count > 100000) {
      throw Error::usage("--nodes " + std::to_string(shape.count) + ": must be between 1 and 100000");
    }
    if (shape.gpus_per_node < 0) throw Error::usage("--gpus-per-node " + std::to_string(shape.gpus_per_node) + ": must be >= 0");
    if (shape.max_pods < 1) throw Error::usage("--max-pods " + std::to_string(shape.max_pods) + ": must be >= 1");
    check_quantity("--cpu", shape.cpu);
    check_quantity("--memory", shape.memory);
  }
  std::string conf_text;
  if (!o.scheduler_conf.empty()) {
    // Checked before anything is written: a bad configuration leaves no cluster behind.
    conf_text = read_text_file(o.scheduler_conf);
    scheduler::parse_config(conf_text, o.scheduler_conf);
  }
  if (o.force) reset_files(ctx.home());
  auto& lc = ctx.local_cluster();
  bool created = false;
  try {
    created = lc.initialise(shape, nodes);
  } catch (const Error&) {
    if (!o.file.empty()) rethrow_for_file(o.file, 0, 1);
    throw;
  }
  if (!created) {
    throw Error::already_exists("the local cluster at " + ctx.home() +
                                " is already initialised; run 'kai cluster reset' first, or pass --force");
  }
  if (!o.scheduler_conf.empty()) {
    const auto dest = fs::path(ctx.home()) / "scheduler.conf";
    const auto tmp = dest.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << conf_text;
    }
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    fs::rename(tmp, dest);
  }
  const auto n = lc.store().list(api::nodes()).size();
  ctx.out << "initialised local cluster at " << ctx.home() << ": " << n << " node" << (n == 1 ? "" : "s");
  if (o.file.empty()) {
    ctx.out << " (" << shape.cpu << " cpu, " << shape.memory << " memory, " << shape.gpus_per_node << " nvidia.com/gpu each)";
  }
  ctx.out << ", queues root and default, namespace default\n";
}

void status(Context& ctx) {
  const auto& t = ctx.target();
  json st;
  if (t.kind == client::Target::Kind::Kubeconfig) {
    st = {{"target", "kubeconfig"}, {"kubeconfig", t.kubeconfig_path}, {"context", t.context}, {"server", t.server}, {"namespace", t.ns}};
  } else {
    auto& lc = ctx.local_cluster();
    auto& s = lc.store();
    st["target"] = "local";
    st["home"] = ctx.home();
    st["store"] = s.path().string();
    st["schemaVersion"] = s.schema_version();
    st["resourceVersion"] = s.current_resource_version();
    st["initialised"] = lc.initialised();
    std::map<std::string, api::Quantity> total;
    auto nodes = s.list(api::nodes());
    for (const auto& n : nodes) {
      const json allocatable = n.value("/status/allocatable"_json_pointer, json::object());
      for (const auto& [k, v] : allocatable.items()) {
        api::Quantity q;
        if (v.is_string() && api::Quantity::try_parse(v.get<std::string>(), q)) total[k] += q;
      }
    }
    st["nodes"] = nodes.size();
    st["allocatable"] = json::object();
    for (const auto& [k, q] : total) st["allocatable"][k] = q.canonical();
    st["queues"] = s.list(api::queues()).size();
    json phases = json::object();
    auto jobs = s.list(api::jobs());
    for (const auto& j : jobs) {
      std::string p = j.value("/status/state/phase"_json_pointer, std::string("Pending"));
      phases[p] = phases.value(p, 0) + 1;
    }
    st["jobs"] = {{"total", jobs.size()}, {"phases", phases}};
    st["pods"] = s.list(api::pods()).size();
  }
  auto spec = ctx.output_spec();
  if (spec.format == output::Format::Json) {
    ctx.out << api::to_json(st);
    return;
  }
  if (spec.format == output::Format::Yaml) {
    ctx.out << api::to_yaml(st);
    return;
  }
  if (spec.format != output::Format::Table) throw Error::usage("kai cluster status supports -o json|yaml only");
  if (st["target"] == "kubeconfig") {
    ctx.out << "Target:      kubeconfig " << t.kubeconfig_path << "\nContext:     " << t.context
            << "\nServer:      " << t.server << "\nNamespace:   " << t.ns << "\n";
    return;
  }
  ctx.out << "Target:      local cluster (" << t.why << ")\n";
  ctx.out << "Home:        " << st["home"].get<std::string>() << "\n";
  ctx.out << "Store:       " << st["store"].get<std::string>() << " (schema " << st["schemaVersion"].get<int>()
          << ", resourceVersion " << st["resourceVersion"].get<int64_t>() << ")\n";
  if (!st["initialised"].get<bool>()) {
    ctx.out << "State:       not initialised (the first command creates a default cluster; or run 'kai cluster init')\n";
    return;
  }
  ctx.out << "Nodes:       " << st["nodes"].get<std::size_t>();
  std::string sep = " (";
  for (const auto& [k, v] : st["allocatable"].items()) {
    if (k == "pods" || k == "ephemeral-storage") continue;
    ctx.out << sep << k << "=" << v.get<std::string>();
    sep = ", ";
  }
  ctx.out << (sep == ", " ? ")" : "") << "\n";
  ctx.out << "Queues:      " << st["queues"].get<std::size_t>() << "\n";
  ctx.out << "Jobs:        " << st["jobs"]["total"].get<std::size_t>();
  sep = " (";
  for (const auto& [k, v] : st["jobs"]["phases"].items()) {
    ctx.out << sep << k << " " << v.get<int>();
    sep = ", ";
  }
  ctx.out << (sep == ", " ? ")" : "") << "\n";
  ctx.out << "Pods:        " << st["pods"].get<std::size_t>() << "\n";
}

struct ServeOptions {
  std::string address = "127.0.0.1";
  int port = 6443;
  std::string period = "1s";
  std::string compaction_interval = "5m";
  std::string port_file;
};

/// kai-apiserver: next to kai (the build tree), else in ../libexec/kai (make install).
fs::path apiserver_path() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error::unavailable("cannot find the kai executable: " + ec.message());
  for (const fs::path& p : {exe.parent_path() / "kai-apiserver", exe.parent_path().parent_path() / "libexec" / "kai" / "kai-apiserver"}) {
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  throw Error::unavailable("kai-apiserver is not installed next to " + exe.string() + " (nor in ../libexec/kai): reinstall kai");
}

void serve(Context& ctx, const ServeOptions& o) {
  if (o.port < 0 || o.port > 65535) throw Error::usage("--port: must be between 0 and 65535");
  const auto period = api::go_duration_seconds(o.period);
  if (!period || *period <= 0) throw Error::usage("--period: invalid duration \"" + o.period + "\" (e.g. 500ms, 1s)");
  const auto compaction = api::go_duration_seconds(o.compaction_interval);
  if (!compaction || *compaction < 0) {
    throw Error::usage("--compaction-interval: invalid duration \"" + o.compaction_interval + "\" (e.g. 5m; 0 never compacts)");
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const std::string server = apiserver_path().string();
  std::vector<std::string> args{server, "--kai-home", ctx.home(), "--address", o.address, "--port", std::to_string(o.port),
                                "--period", std::to_string(*period), "--compaction-interval", std::to_string(*compaction),
                                "--supervisor", exe.string()};
  if (!o.port_file.empty()) args.insert(args.end(), {"--port-file", o.port_file});
  if (ctx.global.verbosity >= 2) args.push_back("-v");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ctx.out.flush();
  ::execv(server.c_str(), argv.data());
  throw Error::unavailable("cannot start " + server + ": " + std::strerror(errno));
}

struct KubeconfigOptions {
  bool write = false;
  std::string context = "kai-local";
};

void kubeconfig(Context& ctx, const KubeconfigOptions& o) {
  api::require_dns1123_subdomain(o.context, "context name");
  const fs::path dir = fs::path(ctx.home()) / "serve";
  if (!fs::exists(dir / "token") || !fs::exists(dir / "ca.crt")) {
    // Certificates and token are made by kai-apiserver (it links OpenSSL; kai does not).
    std::string server = apiserver_path().string(), flag = "--init-only", home_flag = "--kai-home", home = ctx.home();
    char* argv[] = {server.data(), flag.data(), home_flag.data(), home.data(), nullptr};
    pid_t pid = -1;
    int st = 0;
    if (::posix_spawn(&pid, server.c_str(), nullptr, nullptr, argv, environ) != 0 || ::waitpid(pid, &st, 0) != pid ||
        !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      throw Error::unavailable("cannot make the serving certificates in " + dir.string());
    }
  }
  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::string url = read(dir / "server.url");
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
  if (url.empty()) url = "https://127.0.0.1:6443";
  std::string token = read(dir / "token");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  const json cluster = {{"name", o.context}, {"cluster", {{"server", url}, {"certificate-authority-data", kube::base64_encode(read(dir / "ca.crt"))}}}};
  const json user = {{"name", o.context}, {"user", {{"token", token}}}};
  const json context = {{"name", o.context}, {"context", {{"cluster", o.context}, {"user", o.context}, {"namespace", "default"}}}};
  if (!o.write) {
    json cfg = {{"apiVersion", "v1"}, {"kind", "Config"}, {"current-context", o.context}, {"preferences", json::object()},
                {"clusters", {cluster}}, {"users", {user}}, {"contexts", {context}}};
    ctx.out << api::to_yaml(cfg);
    return;
  }
  // --write: into the kubeconfig kubectl would write to ($KUBECONFIG's first file, else
  // ~/.kube/config), replacing kai's own entries, leaving the rest and current-context alone.
  std::string target;
  if (const char* k = std::getenv("KUBECONFIG"); k && *k) {
    target = std::string(k).substr(0, std::string(k).find(':'));
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    target = std::string(h) + "/.kube/config";
  } else {
    throw Error::usage("--write: no $KUBECONFIG and no $HOME");
  }
  json cfg = {{"apiVersion", "v1"}, {"kind", "Config"}, {"preferences", json::object()}, {"clusters", json::array()},
              {"users", json::array()}, {"contexts", json::array()}, {"current-context", ""}};
  if (fs::exists(target)) {
    json cur = api::decode_value(read(target), target);
    if (!cur.is_null()) {
      if (!cur.is_object()) throw Error::invalid(target + ": not a kubeconfig (expected a mapping)");
      cfg = cur;
    }
  }
  for (const auto& [list, entry] : {std::pair{"clusters", cluster}, {"users", user}, {"contexts", context}}) {
    json out = json::array();
    for (const auto& e : cfg.value(list, json::array())) {
      if (!(e.is_object() && e.value("name", std::string()) == o.context)) out.push_back(e);
    }
    out.push_back(entry);
    cfg[list] = out;
  }
  const std::string tmp = target + ".kai-tmp";
  minicluster::runtime::detail::write_file(tmp, api::to_yaml(cfg), 0600);
  fs::rename(tmp, target);
  ctx.out << "context \"" << o.context << "\" written to " << target << " (use it: kubectl --context " << o.context << " get vcjob)\n";
}

}  // namespace

void add_cluster_commands(CLI::App& root, Context& ctx) {
  auto* cluster = root.add_subcommand("cluster", "Manage the embedded local cluster");
  cluster->require_subcommand(0, 1);

  auto io = std::make_shared<InitOptions>();
  auto* init_cmd = cluster->add_subcommand("init", "Create the local cluster: fake nodes, queues root and default, namespace default");
  init_cmd->add_option("--nodes", io->shape.count, "number of fake nodes")->capture_default_str();
  init_cmd->add_option("--cpu", io->shape.cpu, "allocatable cpu per node")->capture_default_str();
  init_cmd->add_option("--memory", io->shape.memory, "allocatable memory per node")->capture_default_str();
  init_cmd->add_option("--gpus-per-node", io->shape.gpus_per_node, "fake nvidia.com/gpu per node")->capture_default_str();
  init_cmd->add_option("--max-pods", io->shape.max_pods, "allocatable pods per node")->capture_default_str();
  init_cmd->add_option("-f,--filename", io->file, "take the nodes from this YAML file of v1 Nodes instead")->type_name("FILE");
  init_cmd->add_option("--scheduler-conf", io->scheduler_conf,
                       "Volcano scheduler configuration (actions, tiers) for this cluster; default: Volcano's")
      ->type_name("FILE");
  init_cmd->add_flag("--force", io->force, "reset an existing local cluster first (deletes everything in it)");
  init_cmd->callback([&ctx, io] { init(ctx, *io); });

  auto* st = cluster->add_subcommand("status", "Show which cluster kai targets and what the local one holds");
  st->callback([&ctx] { status(ctx); });

  auto so = std::make_shared<ServeOptions>();
  auto* serve_cmd = cluster->add_subcommand("serve", "Serve the local cluster over the Kubernetes API (HTTPS, token) for kubectl and client libraries");
  serve_cmd->add_option("--address", so->address, "address to listen on (loopback unless you say otherwise)")->capture_default_str();
  serve_cmd->add_option("--port", so->port, "port to listen on (0: any free port)")->capture_default_str();
  serve_cmd->add_option("--period", so->period, "a scheduling session at least this often (Volcano's schedule-period)")->capture_default_str();
  serve_cmd->add_option("--compaction-interval", so->compaction_interval,
                        "compact the change log this often, keeping at least this much history for watches (0: never)")
      ->capture_default_str();
  serve_cmd->add_option("--port-file", so->port_file, "write the port here once listening")->type_name("FILE");
  serve_cmd->footer("Runs until Ctrl-C. Certificates and the token are made on first start in $KAI_HOME/serve (0600);\n"
                    "anonymous requests get 401. Connect with: kai cluster kubeconfig --write; kubectl --context kai-local get vcjob");
  serve_cmd->callback([&ctx, so] { serve(ctx, *so); });

  auto ko = std::make_shared<KubeconfigOptions>();
  auto* kc_cmd = cluster->add_subcommand("kubeconfig", "Print a kubeconfig for kai cluster serve (or merge it into yours with --write)");
  kc_cmd->add_flag("--write", ko->write, "add or replace the context in $KUBECONFIG's first file, else ~/.kube/config");
  kc_cmd->add_option("--context-name", ko->context, "name of the cluster, user and context")->capture_default_str();
  kc_cmd->callback([&ctx, ko] { kubeconfig(ctx, *ko); });

  auto* reset = cluster->add_subcommand("reset", "Delete the local cluster and everything in it");
  reset->callback([&ctx] {
    reset_files(ctx.home());
    ctx.out << "local cluster at " << ctx.home() << " reset\n";
  });
}

}  // namespace kai::cli
