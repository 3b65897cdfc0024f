// kai sim session: one scheduling session (Volcano's: open, the configured actions, close) over
// a snapshot file, printing what it decides. Pure: it opens no store and needs no cluster.

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/scheduler/scheduler.h"

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

}  // namespace

void add_sim_commands(CLI::App& root, Context& ctx) {
  auto* sim = root.add_subcommand("sim", "Simulate Volcano's scheduler over a snapshot, without a cluster");
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
}

}  // namespace kai::cli
