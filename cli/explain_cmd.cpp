// kai job explain JOB, kai explain pod NAME, kai explain podgroup NAME: why a job is pending or
// only partly placed. The objects a scheduler reads are listed from the target (the local cluster
// or a real one through the REST backend) and lib/scheduler's explain_job runs the scheduler over
// them without writing anything back.

#include <algorithm>

#include "cli/commands.h"
#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/api/names.h"
#include "lib/scheduler/explain.h"
#include "lib/scheduler/model.h"
#include "minicluster/local_cluster.h"

namespace kai::cli {
namespace {

constexpr const char* kGroupNameKey = "scheduling.k8s.io/group-name";

struct ExplainCmdOptions {
  std::string name;
  std::string name_flag;  ///< -N/--name (kai job explain, as the other job commands)
  std::string conf;  ///< --scheduler-conf
};

enum class ExplainFormat { Text, Json, Yaml };

ExplainFormat explain_format(const std::string& o) {
  if (o.empty()) return ExplainFormat::Text;
  if (o == "json") return ExplainFormat::Json;
  if (o == "yaml") return ExplainFormat::Yaml;
  throw Error::usage("-o " + o + ": explain prints plain text (the default), json or yaml");
}

/// The configuration the cluster's scheduler runs: --scheduler-conf, else the local cluster's
/// ($KAI_HOME/scheduler.conf or Volcano's default), else (a real cluster, whose configuration
/// kai cannot read) Volcano's default.
scheduler::Config explain_config(Context& ctx, const std::string& conf) {
  if (!conf.empty()) {
    const std::vector<json> docs = api::decode_file(conf);
    if (docs.size() != 1) throw Error::invalid(conf + ": expected one document, found " + std::to_string(docs.size()));
    return scheduler::config_from_json(docs.front(), conf);
  }
  if (ctx.local()) return ctx.local_cluster().scheduler_config();
  return scheduler::default_config();
}

/// Everything a session reads, listed in all namespaces (queues and nodes are shared, and other
/// namespaces' pods use the nodes too).
scheduler::Snapshot take_snapshot(Context& ctx) {
  client::ResourceClient& c = ctx.client();
  client::ListOptions all;
  all.all_namespaces = true;
  scheduler::Snapshot s;
  s.nodes = c.list(api::nodes(), all);
  s.queues = c.list(api::queues(), all);
  s.podgroups = c.list(api::podgroups(), all);
  s.pods = c.list(api::pods(), all);
  s.priority_classes = c.list(api::priority_classes(), all);
  s.model = scheduler::build_model(s, c.describe_target());
  return s;
}

std::string key_of(const json& o) {
  return o["metadata"].value("namespace", std::string()) + "/" + o["metadata"].value("name", std::string());
}

/// The PodGroup of a Volcano Job: the one the job owns, else Volcano's names for it
/// (<job>-<uid>, or <job> before v1.8).
const json* podgroup_of_job(const std::vector<json>& podgroups, const json& job) {
  const std::string ns = job["metadata"].value("namespace", std::string());
  const std::string name = job["metadata"].value("name", std::string());
  const std::string uid = job["metadata"].value("uid", std::string());
  auto in_ns = [&](const json& pg) { return pg["metadata"].value("namespace", std::string()) == ns; };
  for (const json& pg : podgroups) {
    if (!in_ns(pg) || uid.empty()) continue;
    for (const json& ref : pg["metadata"].value("ownerReferences", json::array())) {
      if (ref.value("uid", std::string()) == uid) return &pg;
    }
  }
  for (const std::string& want : {name + "-" + uid, name}) {
    for (const json& pg : podgroups) {
      if (in_ns(pg) && pg["metadata"].value("name", std::string()) == want) return &pg;
    }
  }
  return nullptr;
}

/// The Volcano Job that owns a PodGroup, if any and if it can be read.
std::optional<json> job_of_podgroup(Context& ctx, const json& pg) {
  for (const json& ref : pg["metadata"].value("ownerReferences", json::array())) {
    if (ref.value("kind", std::string()) != api::jobs().kind ||
        ref.value("apiVersion", std::string()).rfind("batch.volcano.sh/", 0) != 0) {
      continue;
    }
    try {
      return ctx.client().get(api::jobs(), pg["metadata"].value("namespace", std::string()), ref.value("name", std::string()));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;
      return std::nullopt;  // the job is being deleted: explain the PodGroup alone
    }
  }
  return std::nullopt;
}

/// What explain_job needs to know of the job: its name and its tasks' replicas.
void describe_job(const json& job, scheduler::ExplainOptions& o) {
  o.job = key_of(job);
  const json tasks = job.value("/spec/tasks"_json_pointer, json::array());
  for (const json& t : tasks) {
    const int replicas = t.value("replicas", 0);
    o.job_tasks.emplace_back(t.value("name", std::string()), replicas);
  }
  const std::string sched = job.value("/spec/schedulerName"_json_pointer, std::string());
  if (!sched.empty() && std::find(o.session.scheduler_names.begin(), o.session.scheduler_names.end(), sched) ==
                            o.session.scheduler_names.end()) {
    o.session.scheduler_names.push_back(sched);
  }
}

scheduler::ExplainOptions base_options(Context& ctx) {
  scheduler::ExplainOptions o;
  // The local cluster's scheduler answers to both names (minicluster/reconcile.cpp).
  o.session.scheduler_names = ctx.local() ? std::vector<std::string>{"volcano", "kai"} : std::vector<std::string>{"volcano"};
  o.session.now = std::chrono::system_clock::now();
  o.session.session_uid = "kai-explain";
  return o;
}

void print_explanation(Context& ctx, const scheduler::Explanation& ex, ExplainFormat format) {
  switch (format) {
    case ExplainFormat::Json:
      ctx.out << api::to_json(ex.to_json());
      break;
    case ExplainFormat::Yaml:
      ctx.out << api::to_yaml(ex.to_json());
      break;
    case ExplainFormat::Text:
      ctx.out << ex.text();
      break;
  }
}

/// Gets one object; a missing one reads as kubectl prints it (exit 1).
json get_or_not_found(Context& ctx, const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  try {
    return ctx.client().get(res, ns, name);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::NotFound) throw;
    ctx.err << "Error from server (NotFound): " << e.what() << "\n";
    throw CLI::RuntimeError(1);
  }
}

/// Runs the explanation of the PodGroup `pg` (the job's, or the pod's) and prints it.
void explain_podgroup_object(Context& ctx, const json& pg, const scheduler::ExplainOptions& o, const std::string& conf,
                             ExplainFormat format) {
  const scheduler::Config config = explain_config(ctx, conf);
  const scheduler::Snapshot snap = take_snapshot(ctx);
  print_explanation(ctx, scheduler::explain_job(snap, config, key_of(pg), o), format);
}

std::string checked_name(const std::string& name, const std::string& what) {
  if (name.empty()) throw Error::usage(what + " name is mandatory (give NAME)");
  api::require_dns1123_subdomain(name, what + " name");
  return name;
}

void explain_job_cmd(Context& ctx, const ExplainCmdOptions& opt) {
  std::string name = opt.name;
  if (!opt.name_flag.empty()) {
    if (!name.empty() && name != opt.name_flag) throw Error::usage("the job name is given twice: " + name + " and --name " + opt.name_flag);
    name = opt.name_flag;
  }
  const ExplainFormat format = explain_format(ctx.global.output);
  checked_name(name, "job");
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  const json job = get_or_not_found(ctx, api::jobs(), ns, name);
  scheduler::ExplainOptions o = base_options(ctx);
  describe_job(job, o);
  const scheduler::Config config = explain_config(ctx, opt.conf);
  const scheduler::Snapshot snap = take_snapshot(ctx);
  const json* pg = podgroup_of_job(snap.podgroups, job);
  if (pg == nullptr) {
    // The job controller has not made the PodGroup yet (or no controller runs on this cluster).
    throw Error::not_found("job " + ns + "/" + name + " has no PodGroup yet: the Volcano job controller creates it (state " +
                           job.value("/status/state/phase"_json_pointer, std::string("Pending")) + ")");
  }
  print_explanation(ctx, scheduler::explain_job(snap, config, key_of(*pg), o), format);
}

void explain_pod_cmd(Context& ctx, const ExplainCmdOptions& opt) {
  const ExplainFormat format = explain_format(ctx.global.output);
  const std::string name = checked_name(opt.name, "pod");
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  const json pod = get_or_not_found(ctx, api::pods(), ns, name);
  const std::string group = pod.value("/metadata/annotations"_json_pointer, json::object()).value(kGroupNameKey, std::string());
  if (group.empty()) {
    throw Error::invalid("pod " + ns + "/" + name + " belongs to no PodGroup (no " + std::string(kGroupNameKey) +
                         " annotation): kai explains pods that Volcano schedules");
  }
  const json pg = get_or_not_found(ctx, api::podgroups(), ns, group);
  scheduler::ExplainOptions o = base_options(ctx);
  if (auto job = job_of_podgroup(ctx, pg)) describe_job(*job, o);
  const std::string sched = pod.value("/spec/schedulerName"_json_pointer, std::string());
  if (!sched.empty() && std::find(o.session.scheduler_names.begin(), o.session.scheduler_names.end(), sched) ==
                            o.session.scheduler_names.end()) {
    o.session.scheduler_names.push_back(sched);
  }
  o.pod = ns + "/" + name;
  explain_podgroup_object(ctx, pg, o, opt.conf, format);
}

void explain_pg_cmd(Context& ctx, const ExplainCmdOptions& opt) {
  const ExplainFormat format = explain_format(ctx.global.output);
  const std::string name = checked_name(opt.name, "podgroup");
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  const json pg = get_or_not_found(ctx, api::podgroups(), ns, name);
  scheduler::ExplainOptions o = base_options(ctx);
  if (auto job = job_of_podgroup(ctx, pg)) describe_job(*job, o);
  explain_podgroup_object(ctx, pg, o, opt.conf, format);
}

constexpr const char* kExplainFooter =
    "Runs Volcano's scheduler (kai's implementation) over a snapshot of the cluster's nodes, queues,\n"
    "PodGroups, pods and priority classes, and writes nothing back. It says:\n"
    "  - the PodGroup's phase and why: enqueue's verdict (e.g. \"queue resource quota insufficient\",\n"
    "    \"resource in cluster is overused\"), gang validity, the queue, or the nodes;\n"
    "  - the gang: ready tasks against minAvailable (and each role's minTaskMember);\n"
    "  - per task role: pods pending, how many could be placed now (placed one after another on the\n"
    "    nodes' idle resources), and for the first that fits nowhere each node's first failing\n"
    "    predicate, aggregated as kube-scheduler does (\"0/2 nodes are available: 2 Insufficient\n"
    "    nvidia.com/gpu.\");\n"
    "  - the queue: state, weight, capability, deserved, allocated, share, overused (proportion,\n"
    "    capacity; with hDRF the queue's path and weights in the tree and its node's share);\n"
    "  - whether the preempt or reclaim action would help: which pods it would evict, and whether the\n"
    "    job would then be pipelined.\n"
    "The scheduler configuration is the local cluster's ($KAI_HOME/scheduler.conf, else Volcano's\n"
    "default); for a real cluster Volcano's default unless --scheduler-conf gives the one it runs.\n"
    "-o json|yaml prints the same as one object with every key present. Exit 0 whatever the verdict;\n"
    "1 when the object does not exist.";

void add_conf_option(CLI::App* cmd, ExplainCmdOptions& o) {
  cmd->add_option("--scheduler-conf", o.conf,
                  "explain with this Volcano scheduler configuration (volcano-scheduler.conf) instead of the cluster's")
      ->type_name("FILE");
}

}  // namespace

void add_job_explain_command(CLI::App& job, Context& ctx) {
  auto o = std::make_shared<ExplainCmdOptions>();
  auto* cmd = job.add_subcommand("explain", "Say in plain words why a job is pending or only partly placed");
  cmd->add_option("name", o->name, "job name")->type_name("NAME");
  cmd->add_option("-N,--name", o->name_flag, "the name of job")->type_name("NAME");
  add_conf_option(cmd, *o);
  cmd->footer(std::string(kExplainFooter) + "\n\nExamples:\n  kai job explain train\n  kai job explain train -o json\n"
              "  kai job explain train --context prod --scheduler-conf volcano-scheduler.conf");
  cmd->callback([&ctx, o] { explain_job_cmd(ctx, *o); });
}

void add_explain_commands(CLI::App& root, Context& ctx) {
  auto* explain = root.add_subcommand("explain", "Say why a pod or PodGroup is pending (kai job explain for pods and PodGroups)");
  explain->require_subcommand(0, 1);

  auto po = std::make_shared<ExplainCmdOptions>();
  auto* pod = explain->add_subcommand("pod", "Explain the PodGroup of a pod, with that pod's own outcome");
  pod->alias("pods");
  pod->alias("po");
  pod->add_option("name", po->name, "pod name")->type_name("NAME");
  add_conf_option(pod, *po);
  pod->footer(std::string(kExplainFooter) + "\n\nThe pod's line says where it could go now, or why it fits no node.");
  pod->callback([&ctx, po] { explain_pod_cmd(ctx, *po); });

  auto pgo = std::make_shared<ExplainCmdOptions>();
  auto* pg = explain->add_subcommand("podgroup", "Explain a PodGroup (a Volcano Job's, a Ray cluster's, or one of your own)");
  pg->alias("podgroups");
  pg->alias("pg");
  pg->add_option("name", pgo->name, "PodGroup name")->type_name("NAME");
  add_conf_option(pg, *pgo);
  pg->footer(kExplainFooter);
  pg->callback([&ctx, pgo] { explain_pg_cmd(ctx, *pgo); });
}

}  // namespace kai::cli
