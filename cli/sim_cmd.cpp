// kai sim session: one scheduling session (Volcano's: open, the configured actions, close) over
// a snapshot file, printing what it decides. kai sim run: a trace of job arrivals replayed in
// virtual time (lib/sim). Both are pure: they open no store and need no cluster.

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/api/duration.h"
#include "lib/api/quantity.h"
#include "lib/scheduler/scheduler.h"
#include "lib/sim/simulator.h"
#include "lib/sim/trace.h"
#include "minicluster/local_cluster.h"

namespace kai::cli {
namespace {

struct SimSessionOptions {
  std::string file;  ///< -f: the snapshot
  std::string conf;  ///< --scheduler-conf: Volcano's configuration, default when empty
};

enum class SimFormat { Table, Json, Yaml };

SimFormat sim_format(const std::string& o) {
  if (o.empty() || o == "table") return SimFormat::Table;
  if (o == "json") return SimFormat::Json;
  if (o == "yaml") return SimFormat::Yaml;
  throw Error::usage("-o " + o + ": kai sim session prints table (the default), json or yaml");
}

/// The configuration file's text, with decode_file's checks (exists, not a directory, size).
std::string read_conf(const std::string& path) {
  constexpr std::size_t kMaxBytes = 16u << 20;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw Error::invalid(path + ": no such file or directory");
    std::string m = std::strerror(errno);
    if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
    throw Error::invalid(path + ": " + m);
  }
  if (S_ISDIR(st.st_mode)) throw Error::invalid(path + ": is a directory");
  if (static_cast<std::size_t>(st.st_size) > kMaxBytes) {
    throw Error::invalid(path + ": input is " + std::to_string(st.st_size) + " bytes, larger than the limit of " +
                         std::to_string(kMaxBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::invalid(path + ": permission denied");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string condition_text(const json& c) {
  const std::string reason = c.value("reason", std::string());
  const std::string message = c.value("message", std::string());
  if (c.value("type", std::string()) == "Scheduled") return "Scheduled";
  return message.empty() ? reason : reason + ": " + message;
}

/// The default output: binds, pipelined tasks, evictions, then every PodGroup's phase with the
/// condition the session wrote, then the enqueue decisions (why a PodGroup stays Pending).
std::string table(const scheduler::SessionResult& r) {
  std::string out;
  auto section = [&](const std::string& title, const std::map<std::string, std::string>& m) {
    out += title + " (" + std::to_string(m.size()) + ")" + (m.empty() ? ": none\n" : ":\n");
    if (m.empty()) return;
    std::vector<std::vector<std::string>> rows;
    for (const auto& [pod, node] : m) rows.push_back({"  " + pod, node});
    out += output::render_table({"  POD", "NODE"}, rows);
  };
  section("Bound", r.bound);
  section("Pipelined", r.pipelined);
  out += "Evicted (" + std::to_string(r.evicted.size()) + ")" + (r.evicted.empty() ? ": none\n" : ":\n");
  for (const auto& e : r.evicted) out += "  " + e + "\n";
  out += "PodGroups (" + std::to_string(r.podgroup_phases.size()) + ")" + (r.podgroup_phases.empty() ? ": none\n" : ":\n");
  if (!r.podgroup_phases.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [pg, phase] : r.podgroup_phases) {
      auto c = r.podgroup_conditions.find(pg);
      rows.push_back({"  " + pg, phase, c == r.podgroup_conditions.end() ? "" : condition_text(c->second)});
    }
    out += output::render_table({"  PODGROUP", "PHASE", "CONDITION"}, rows);
  }
  std::vector<std::vector<std::string>> enqueue;
  for (const auto& e : r.events) {
    if (e.kind == "PodGroup" && e.type == "Normal" && e.reason == "Unschedulable") {
      enqueue.push_back({"  " + e.ns + "/" + e.name, e.message});
    }
  }
  if (!enqueue.empty()) {
    out += "Not enqueued (" + std::to_string(enqueue.size()) + "):\n";
    out += output::render_table({"  PODGROUP", "REASON"}, enqueue);
  }
  return out;
}

void sim_session(Context& ctx, const SimSessionOptions& o) {
  const SimFormat format = sim_format(ctx.global.output);
  const std::string name = o.file == "-" ? "<stdin>" : o.file;
  scheduler::Snapshot snapshot = scheduler::snapshot_from_objects(read_manifest(o.file), name);
  scheduler::Config config =
      o.conf.empty() ? scheduler::default_config() : scheduler::parse_config(read_conf(o.conf), o.conf);
  const scheduler::SessionResult result = scheduler::run_session(snapshot, config);
  switch (format) {
    case SimFormat::Json:
      ctx.out << api::to_json(result.to_json());
      break;
    case SimFormat::Yaml:
      ctx.out << api::to_yaml(result.to_json());
      break;
    case SimFormat::Table:
      ctx.out << table(result);
      break;
  }
}

// ---- kai sim run ----

struct SimRunOptions {
  std::vector<std::string> files;  ///< -f: the trace, then optionally the cluster
  std::string cluster;             ///< --cluster: Nodes, Queues, PriorityClasses
  minicluster::NodeShape shape;    ///< --nodes, --cpu, --memory, --gpus-per-node, --max-pods
  bool shape_given = false;        ///< one of the shape flags was on the command line
  std::string conf;                ///< --scheduler-conf
  std::string compare;             ///< --compare: a second configuration
  std::string period = "1s";       ///< --period
  std::string timeline;            ///< --timeline FILE.csv
  std::string plot;                ///< --plot FILE.svg
};

/// Checks the flags alone (no file is read).
void validate_run(const SimRunOptions& o) {
  if (o.files.empty() || o.files.size() > 2) {
    throw Error::usage("kai sim run needs -f TRACE, and at most one more -f for the cluster");
  }
  if (o.files.size() == 2 && !o.cluster.empty()) {
    throw Error::usage("the cluster is given twice: a second -f and --cluster; keep one");
  }
  const bool cluster_file = o.files.size() == 2 || !o.cluster.empty();
  if (o.files[0] == "-" && (o.cluster == "-" || (o.files.size() == 2 && o.files[1] == "-"))) {
    throw Error::usage("only one of the trace and the cluster can come from standard input (-)");
  }
  if (cluster_file && o.shape_given) {
    throw Error::usage("--nodes, --cpu, --memory, --gpus-per-node and --max-pods describe generated nodes; "
                       "they cannot be combined with a cluster file");
  }
  const auto& shape = o.shape;
  if (shape.count < 1 || shape.count > 100000) throw Error::usage("--nodes " + std::to_string(shape.count) + ": must be between 1 and 100000");
  if (shape.gpus_per_node < 0) throw Error::usage("--gpus-per-node " + std::to_string(shape.gpus_per_node) + ": must be >= 0");
  if (shape.max_pods < 1) throw Error::usage("--max-pods " + std::to_string(shape.max_pods) + ": must be >= 1");
  for (const auto& [flag, v] : {std::pair{"--cpu", shape.cpu}, std::pair{"--memory", shape.memory}}) {
    api::Quantity q;
    if (!api::Quantity::try_parse(v, q) || q.is_negative() || q.is_zero()) {
      throw Error::usage(std::string(flag) + " " + v + ": must be a positive quantity such as 8, 500m, 64Gi");
    }
  }
  int64_t period = 0;
  if (!api::parse_go_duration(o.period, period) || period <= 0) {
    throw Error::usage("--period " + o.period + ": must be a positive duration such as 1s or 500ms");
  }
}

/// The cluster's objects: the file's Nodes, Queues and PriorityClasses, or generated nodes.
std::vector<json> sim_cluster(const SimRunOptions& o, std::string& name) {
  const std::string file = o.files.size() == 2 ? o.files[1] : o.cluster;
  if (file.empty()) {
    name = "--nodes";
    return minicluster::LocalCluster::make_nodes(o.shape);
  }
  name = file == "-" ? "<stdin>" : file;
  std::vector<json> objs = read_manifest(file);
  for (std::size_t i = 0; i < objs.size(); ++i) {
    const std::string kind = objs[i].value("kind", std::string());
    if (kind != "Node" && kind != "Queue" && kind != "PriorityClass") {
      throw Error::invalid(name + ": document " + std::to_string(i + 1) +
                           ": expected a Node, Queue or PriorityClass, got kind \"" + kind + "\"");
    }
  }
  return objs;
}

std::string secs(double s) {
  char buf[64];
  if (std::abs(s - std::round(s)) < 1e-9) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  }
  return buf;
}

std::string pct(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", f * 100);
  return buf;
}

std::string waits(const sim::WaitStats& w) { return secs(w.p50) + " / " + secs(w.p90) + " / " + secs(w.p99); }

/// Rows of one report: metric, overall, then one column per queue that has jobs.
std::vector<std::vector<std::string>> report_rows(const sim::Report& r, std::vector<std::string>& header) {
  header = {"METRIC", "OVERALL"};
  std::vector<const sim::QueueReport*> qs;
  for (const auto& q : r.queues) {
    if (q.jobs > 0) qs.push_back(&q);
  }
  for (const auto* q : qs) header.push_back("QUEUE " + q->name);
  std::vector<std::vector<std::string>> rows;
  auto row = [&](const std::string& metric, const std::string& overall, auto per_queue) {
    std::vector<std::string> cells = {metric, overall};
    for (const auto* q : qs) cells.push_back(per_queue(*q));
    rows.push_back(std::move(cells));
  };
  row("jobs", std::to_string(r.jobs), [](const sim::QueueReport& q) { return std::to_string(q.jobs); });
  row("completed", std::to_string(r.completed), [](const sim::QueueReport& q) { return std::to_string(q.completed); });
  row("makespan", secs(r.makespan), [](const sim::QueueReport& q) { return secs(q.makespan); });
  row("GPU utilisation", pct(r.gpu_utilisation), [](const sim::QueueReport& q) { return pct(q.gpu_utilisation); });
  row("wait p50/p90/p99", waits(r.wait), [](const sim::QueueReport& q) { return waits(q.wait); });
  row("preemptions", std::to_string(r.preemptions), [](const sim::QueueReport& q) { return std::to_string(q.preemptions); });
  row("restarts", std::to_string(r.restarts), [](const sim::QueueReport& q) { return std::to_string(q.restarts); });
  row("share / deserved", "-", [](const sim::QueueReport& q) { return pct(q.share) + " / " + pct(q.deserved); });
  return rows;
}

std::string run_table(const sim::Report& r) {
  std::vector<std::string> header;
  const auto rows = report_rows(r, header);
  char head[256];
  std::snprintf(head, sizeof head, "%d jobs on %d nodes (%g GPUs), scheduler configuration %s: %d sessions over %s of virtual time\n",
                r.jobs, r.nodes, r.gpu_total, r.config.c_str(), r.sessions, secs(r.virtual_seconds).c_str());
  return head + output::render_table(header, rows);
}

/// Both runs side by side: each metric's overall and per-queue rows with one column per run.
std::string compare_table(const sim::Report& a, const sim::Report& b) {
  std::vector<std::string> ha, hb;
  const auto ra = report_rows(a, ha);
  const auto rb = report_rows(b, hb);
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    for (std::size_t c = 1; c < ha.size(); ++c) {
      if (ra[i][c] == "-") continue;
      const std::string scope = c == 1 ? "" : " (" + ha[c].substr(6) + ")";
      rows.push_back({ra[i][0] + scope, ra[i][c], c < rb[i].size() ? rb[i][c] : "-"});
    }
  }
  rows.push_back({"sessions", std::to_string(a.sessions), std::to_string(b.sessions)});
  return "baseline: " + a.config + "\ncompare:  " + b.config + "\n" + output::render_table({"METRIC", "BASELINE", "COMPARE"}, rows);
}

void write_output_file(const std::string& flag, const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  if (!out) {
    std::string m = std::strerror(errno);
    if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
    throw Error::invalid(flag + " " + path + ": " + m);
  }
}

void sim_run(Context& ctx, const SimRunOptions& o) {
  const SimFormat format = sim_format(ctx.global.output);
  validate_run(o);
  std::string cluster_name;
  const std::vector<json> cluster = sim_cluster(o, cluster_name);
  const sim::Trace trace = sim::read_trace(o.files[0]);
  const scheduler::Config conf = o.conf.empty() ? scheduler::default_config() : scheduler::parse_config(read_conf(o.conf), o.conf);
  std::optional<scheduler::Config> conf2;
  if (!o.compare.empty()) conf2 = scheduler::parse_config(read_conf(o.compare), o.compare);
  sim::SimOptions so;
  api::parse_go_duration(o.period, so.period);
  so.timeline = !o.timeline.empty() || !o.plot.empty();
  const sim::Report a = sim::simulate(trace, cluster, cluster_name, conf, o.conf.empty() ? "default" : o.conf, so);
  std::optional<sim::Report> b;
  if (conf2) b = sim::simulate(trace, cluster, cluster_name, *conf2, o.compare, so);

  if (!o.timeline.empty()) write_output_file("--timeline", o.timeline, b ? sim::timeline_csv(a, *b) : sim::timeline_csv(a));
  if (!o.plot.empty()) {
    std::vector<const sim::Report*> reports = {&a};
    if (b) reports.push_back(&*b);
    write_output_file("--plot", o.plot, sim::plot_svg(reports));
  }
  const json doc = b ? json{{"baseline", a.to_json()}, {"compare", b->to_json()}} : a.to_json();
  switch (format) {
    case SimFormat::Json:
      ctx.out << api::to_json(doc);
      break;
    case SimFormat::Yaml:
      ctx.out << api::to_yaml(doc);
      break;
    case SimFormat::Table:
      ctx.out << (b ? compare_table(a, *b) : run_table(a));
      break;
  }
}

const char* kRunFooter = R"(The trace (-f, JSON lines or YAML documents) has one record per job arrival:
  {"time": 30, "name": "train-1", "queue": "research", "priority": 10, "minAvailable": 2,
   "tasks": [{"name": "worker", "replicas": 2, "gpus": 8, "cpu": "32", "memory": "256Gi", "duration": "1h"}]}
time and duration are seconds or Go durations (90s, 1h30m). Instead of the compact spec a record
may hold `job:`, a batch.volcano.sh/v1alpha1 Job manifest whose pods run for the annotation
kai.dev/simulate-duration (task template or Job) or the record's `duration`. Records without time
may be Queue or PriorityClass objects. Errors name the record: trace.jsonl:12: tasks[0].replicas: ...

The cluster: generated nodes (--nodes, --cpu, --memory, --gpus-per-node, --max-pods, as kai cluster
init makes them), or a file of Nodes (and Queues, PriorityClasses) given by --cluster or a second -f.
The queue "default" and every queue a job names exist (weight 1) unless defined.

Virtual time: a session (the configured actions) runs every --period in which something changed
(an arrival, a completion, or the previous session's binds, evictions or phase changes); idle
periods are skipped. A pod runs its duration from the session that binds it. An evicted pod
restarts its whole job (Volcano's PodEvicted -> RestartJob): its pods rerun their full durations.

Reports overall and per queue: jobs, completed, makespan (first arrival to last completion), GPU
utilisation (GPU-seconds used over total GPUs x makespan), wait p50/p90/p99 (arrival until
minAvailable pods are bound, the first time), preemptions (pods evicted), restarts, and share (the
queue's part of the GPU time used) against deserved (its weight over the weights of the queues
with jobs, or spec.deserved's GPUs over the cluster's). -o json|yaml prints the same as one object
({baseline, compare} with --compare). --timeline writes CSV (time, gpu_used, gpu_total,
queue_<q>_gpus..., pending_jobs; a leading config column with --compare); --plot writes an SVG
of GPU utilisation and queue shares over time.)";

}  // namespace

void add_sim_commands(CLI::App& root, Context& ctx) {
  auto* sim = root.add_subcommand(
      "sim", "Simulate Volcano's scheduler without a cluster: one session over a snapshot, or a trace in virtual time");
  sim->require_subcommand(0, 1);

  auto so = std::make_shared<SimSessionOptions>();
  auto* session = sim->add_subcommand(
      "session", "Run one scheduling session (enqueue, allocate, backfill...) over a snapshot and print its decisions");
  session->add_option("-f,--filename", so->file, "the snapshot: YAML/JSON of Nodes, Queues, PodGroups, Pods, PriorityClasses (- for stdin)")
      ->type_name("SNAPSHOT")
      ->required();
  session->add_option("--scheduler-conf", so->conf, "Volcano's scheduler configuration (default: Volcano's compiled-in one)")
      ->type_name("CONF");
  session->footer(
      "Prints the binds, pipelined tasks, evictions and every PodGroup's phase with its condition;\n"
      "-o json|yaml prints {bound, evicted, pipelined, podGroups}. Opens no cluster.");
  session->callback([&ctx, so] { sim_session(ctx, *so); });

  auto ro = std::make_shared<SimRunOptions>();
  auto* run = sim->add_subcommand("run", "Replay a trace of job arrivals against simulated nodes in virtual time and report "
                                         "makespan, GPU utilisation, waits, preemptions and fairness per queue");
  run->add_option("-f,--filename", ro->files,
                  "the trace (JSON lines or YAML documents; - for stdin); a second -f names the cluster file")
      ->type_name("TRACE")
      ->required()
      ->expected(1, 2)
      ->allow_extra_args(false);
  run->add_option("--cluster", ro->cluster, "the simulated cluster: a YAML/JSON file of v1 Nodes, Queues and PriorityClasses")
      ->type_name("FILE");
  auto* nodes = run->add_option("--nodes", ro->shape.count, "number of generated nodes (without a cluster file)")->capture_default_str();
  auto* cpu = run->add_option("--cpu", ro->shape.cpu, "allocatable cpu per generated node")->capture_default_str();
  auto* memory = run->add_option("--memory", ro->shape.memory, "allocatable memory per generated node")->capture_default_str();
  auto* gpus = run->add_option("--gpus-per-node", ro->shape.gpus_per_node, "nvidia.com/gpu per generated node")->capture_default_str();
  auto* pods = run->add_option("--max-pods", ro->shape.max_pods, "allocatable pods per generated node")->capture_default_str();
  run->add_option("--scheduler-conf", ro->conf, "Volcano's scheduler configuration (default: Volcano's compiled-in one)")
      ->type_name("CONF");
  run->add_option("--compare", ro->compare, "a second scheduler configuration: run the trace with both and report them side by side")
      ->type_name("CONF2");
  run->add_option("--period", ro->period, "virtual time between sessions (Volcano's schedule-period)")->capture_default_str();
  run->add_option("--timeline", ro->timeline, "write the allocation over time as CSV to this file")->type_name("FILE.csv");
  run->add_option("--plot", ro->plot, "write an SVG plot of GPU utilisation and queue shares over time to this file")
      ->type_name("FILE.svg");
  run->footer(kRunFooter);
  run->callback([&ctx, ro, nodes, cpu, memory, gpus, pods] {
    ro->shape_given = nodes->count() + cpu->count() + memory->count() + gpus->count() + pods->count() > 0;
    sim_run(ctx, *ro);
  });
}

}  // namespace kai::cli
