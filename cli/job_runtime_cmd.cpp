// Commands about running jobs: `kai job logs`, `kai job wait`, and the hidden `__supervise`
// that runs one pod's processes.

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "lib/api/duration.h"
#include "lib/api/error.h"
#include "lib/api/names.h"
#include "lib/kube/rest_client.h"
#include "minicluster/local_cluster.h"
#include "minicluster/supervisor.h"

namespace kai::cli {
namespace {

const api::ResourceInfo& kJobs = api::jobs();

/// --timeout: a Go duration ("30s", "5m", "1h30m", "500ms"), or a bare number of seconds.
double parse_timeout(const std::string& text) {
  if (text.empty()) throw Error::usage("--timeout: empty duration");
  if (text.find_first_not_of("0123456789.") == std::string::npos && text.find_first_of("0123456789") != std::string::npos) {
    return std::stod(text);
  }
  int64_t nanos = 0;
  std::string err;
  if (!api::parse_go_duration(text, nanos, &err)) throw Error::usage("--timeout: " + err + " (e.g. 30s, 5m, 1h)");
  if (nanos < 0) throw Error::usage("--timeout: must not be negative: \"" + text + "\"");
  return static_cast<double>(nanos) / 1e9;
}

bool pod_terminal(const json& pod) {
  const std::string ph = pod.value("/status/phase"_json_pointer, std::string("Pending"));
  return ph == "Succeeded" || ph == "Failed";
}

struct LogsOptions {
  std::string job;
  std::string task;
  int index = -1;
  bool follow = false;
  std::string container;
};

/// The job's pods that match --task/--index, in name order.
std::vector<json> job_pods(Context& ctx, const std::string& ns, const LogsOptions& o) {
  client::ListOptions lo;
  lo.ns = ns;
  lo.labels = api::LabelSelector::parse("volcano.sh/job-name=" + o.job);
  auto pods = ctx.client().list(api::pods(), lo);
  std::erase_if(pods, [&](const json& p) {
    const json& l = p["metadata"].value("labels", json::object());
    if (!o.task.empty() && l.value("volcano.sh/task-spec", std::string()) != o.task) return true;
    if (o.index >= 0 && l.value("volcano.sh/task-index", std::string()) != std::to_string(o.index)) return true;
    return false;
  });
  return pods;
}

void logs(Context& ctx, const LogsOptions& o) {
  if (o.job.empty()) throw Error::usage("job name is mandatory: kai job logs JOB");
  api::require_dns1123_subdomain(o.job, "job name");
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  ctx.client().get(kJobs, ns, o.job);  // NotFound reads like kubectl
  minicluster::LocalCluster* lc = ctx.local() ? &ctx.local_cluster() : nullptr;
  auto pods = job_pods(ctx, ns, o);
  if (pods.empty()) {
    std::string what = "job " + o.job + " has no pods";
    if (!o.task.empty()) what += " in task " + o.task;
    if (o.index >= 0) what += " with index " + std::to_string(o.index);
    throw Error::not_found(what + " yet (see: kai job view " + o.job + ")");
  }
  // One stream per pod container; with several, each line says where it came from (kubectl --prefix).
  struct Stream {
    std::string ns, pod, uid, container;
    std::filesystem::path path;
    std::streamoff offset = 0;
    std::string partial;
  };
  std::vector<Stream> streams;
  for (const auto& p : pods) {
    for (const auto& c : p["spec"].value("containers", json::array())) {
      const std::string cname = c.value("name", std::string());
      if (!o.container.empty() && cname != o.container) continue;
      streams.push_back({ns, p["metadata"]["name"], p["metadata"].value("uid", std::string()), cname,
                         lc ? lc->pod_dir(p) / (cname + ".log") : std::filesystem::path(), 0, ""});
    }
  }
  if (streams.empty()) throw Error::not_found("container \"" + o.container + "\" not found in the job's pods");
  const bool prefix = streams.size() > 1;
  // What a container wrote since `s.offset`: its log file here; on a real cluster the pod's
  // log from the API server (the whole log each time, of which the part not printed yet).
  auto read_new = [&](Stream& s) -> std::optional<std::string> {
    if (!lc) {
      std::string all;
      try {
        all = ctx.rest().get_text("/api/v1/namespaces/" + kube::url_escape(s.ns) + "/pods/" + kube::url_escape(s.pod) +
                                  "/log?container=" + kube::url_escape(s.container));
      } catch (const Error& e) {
        // A container that has not started has no log yet (BadRequest "... is waiting to start").
        if (e.kind() == ErrorKind::Invalid) return std::nullopt;
        throw;
      }
      if (static_cast<std::size_t>(s.offset) > all.size()) s.offset = 0;  // restarted: a new log
      return all.substr(static_cast<std::size_t>(s.offset));
    }
    std::ifstream in(s.path, std::ios::binary);
    if (!in) return std::nullopt;
    in.seekg(s.offset);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto pump = [&](Stream& s, bool flush_partial) {
    auto got = read_new(s);
    if (!got) return;
    std::string chunk = std::move(*got);
    s.offset += static_cast<std::streamoff>(chunk.size());
    s.partial += chunk;
    std::size_t start = 0;
    for (std::size_t nl = s.partial.find('\n'); nl != std::string::npos; nl = s.partial.find('\n', start)) {
      if (prefix) ctx.out << "[pod/" << s.pod << "/" << s.container << "] ";
      ctx.out << s.partial.substr(start, nl - start + 1);
      start = nl + 1;
    }
    s.partial.erase(0, start);
    if (flush_partial && !s.partial.empty()) {
      if (prefix) ctx.out << "[pod/" << s.pod << "/" << s.container << "] ";
      ctx.out << s.partial << "\n";
      s.partial.clear();
    }
    ctx.out.flush();
  };
  if (!o.follow) {
    for (auto& s : streams) pump(s, true);
    return;
  }
  while (true) {
    for (auto& s : streams) pump(s, false);
    if (lc) lc->reconcile_if_needed();
    bool all_done = true;
    for (const auto& s : streams) {
      std::optional<json> p;
      if (lc) {
        p = lc->store().find(api::pods(), s.ns, s.pod);
      } else {
        try {
          p = ctx.client().get(api::pods(), s.ns, s.pod);
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::NotFound) throw;
        }
      }
      if (p && (*p)["metadata"].value("uid", std::string()) == s.uid && !pod_terminal(*p)) all_done = false;
    }
    if (all_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(lc ? 200 : 1000));
  }
  for (auto& s : streams) pump(s, true);
}

struct WaitOptions {
  std::string job;
  std::string for_phase = "Completed";
  std::string timeout = "30s";
};

const std::vector<std::string> kPhases = {"Pending",   "Aborting",   "Aborted",   "Running",    "Restarting",
                                          "Completing", "Completed", "Terminating", "Terminated", "Failed"};

int wait(Context& ctx, const WaitOptions& o) {
  if (o.job.empty()) throw Error::usage("job name is mandatory: kai job wait JOB");
  api::require_dns1123_subdomain(o.job, "job name");
  std::string want = o.for_phase;
  if (want.rfind("jsonpath", 0) == 0 || want.rfind("condition=", 0) == 0) {
    // kubectl's --for=condition=X: Volcano jobs carry their phase in status.state.phase.
    want = want.substr(want.find('=') + 1);
  }
  if (std::find(kPhases.begin(), kPhases.end(), want) == kPhases.end()) {
    std::string all;
    for (const auto& p : kPhases) all += (all.empty() ? "" : ", ") + p;
    throw Error::usage("--for: unknown job phase \"" + o.for_phase + "\" (one of " + all + ")");
  }
  const double timeout = parse_timeout(o.timeout);
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  auto& client = ctx.client();
  minicluster::LocalCluster* lc = ctx.local() ? &ctx.local_cluster() : nullptr;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
  std::string phase;
  while (true) {
    if (lc) lc->reconcile_if_needed();
    json job = client.get(kJobs, ns, o.job);
    phase = job.value("/status/state/phase"_json_pointer, std::string());
    if (phase == want) {
      ctx.out << kJobs.qualified_singular() << "/" << o.job << " condition met\n";
      return 0;
    }
    // A finished job will not reach another phase: say so now instead of waiting for the timeout.
    if (phase == "Completed" || phase == "Failed" || phase == "Aborted" || phase == "Terminated") {
      ctx.err << "kai: error: job " << o.job << " is " << phase << ", not " << want;
      const std::string msg = job.value("/status/state/message"_json_pointer, std::string());
      if (!msg.empty()) ctx.err << ": " << msg;
      ctx.err << "\n";
      return 1;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    // A real API server is asked once a second (kubectl wait watches; a poll is simpler).
    std::this_thread::sleep_for(std::chrono::milliseconds(lc ? 100 : 1000));
  }
  ctx.err << "kai: error: timed out waiting for job " << o.job << " to be " << want << " (phase " << phase << " after "
          << o.timeout << ")\n";
  return 1;
}

}  // namespace

void add_job_runtime_commands(CLI::App& job, Context& ctx) {
  auto lo = std::make_shared<LogsOptions>();
  auto* logs_cmd = job.add_subcommand("logs", "Print the logs of a job's pods");
  logs_cmd->add_option("name", lo->job, "job name")->type_name("JOB");
  logs_cmd->add_option("--task", lo->task, "only pods of this task")->type_name("TASK");
  logs_cmd->add_option("--index", lo->index, "only the pod with this task index")->type_name("I");
  logs_cmd->add_option("-c,--container", lo->container, "only this container")->type_name("NAME");
  logs_cmd->add_flag("-f,--follow", lo->follow, "keep printing until the pods end");
  logs_cmd->footer("With several pods or containers each line starts with [pod/POD/CONTAINER].");
  logs_cmd->callback([&ctx, lo] { logs(ctx, *lo); });

  auto wo = std::make_shared<WaitOptions>();
  auto* wait_cmd = job.add_subcommand("wait", "Wait until a job reaches a phase (exit 0), fails or times out (exit 1)");
  wait_cmd->add_option("name", wo->job, "job name")->type_name("JOB");
  wait_cmd->add_option("--for", wo->for_phase, "the phase to wait for")->capture_default_str()->type_name("PHASE");
  wait_cmd->add_option("--timeout", wo->timeout, "give up after this long (30s, 5m, 1h)")->capture_default_str()->type_name("D");
  wait_cmd->footer("Exit status: 0 when the job reached the phase; 1 when it finished otherwise (Failed, Aborted, ...) or\n"
                   "the timeout passed. Example: kai job submit -f job.yaml && kai job wait train --timeout 10m");
  wait_cmd->callback([&ctx, wo] {
    int rc = wait(ctx, *wo);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

void add_internal_commands(CLI::App& root, Context& ctx) {
  auto args = std::make_shared<std::vector<std::string>>();
  auto* sup = root.add_subcommand("__supervise", "Run one pod's processes (started by kai itself)")->group("");
  sup->add_option("pod", *args, "NAMESPACE NAME UID")->expected(3);
  sup->callback([&ctx, args] {
    auto& lc = ctx.local_cluster();
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) lc.set_supervisor_command({exe.string(), "__supervise", "--kai-home", lc.home().string()});
    int rc = minicluster::supervise(lc, (*args)[0], (*args)[1], (*args)[2]);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  // Started by a command that wrote (LocalCluster::start_background_reconcile), holding the
  // queue lock as descriptor 3: advances the cluster so that the command need not wait.
  auto* rec = root.add_subcommand("__reconcile", "Advance the local cluster in the background (started by kai itself)")->group("");
  rec->callback([&ctx] {
    // A reset may have removed the cluster since this one was started: make none.
    if (!std::filesystem::exists(std::filesystem::path(ctx.home()) / "store.db")) return;
    auto& lc = ctx.local_cluster();
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) lc.set_supervisor_command({exe.string(), "__supervise", "--kai-home", lc.home().string()});
    const int rounds = lc.reconcile_when_turn(3);
    spdlog::debug("background reconcile: {} round(s)", rounds);
  });

}

}  // namespace kai::cli
