// kai job submit|run|list|view|delete: vcctl's job commands (volcano.md §1.2-1.5), plus
// `submit -f` for the same Job YAML that `kubectl apply -f` takes to a Volcano cluster.

#include <tuple>
#include <algorithm>
#include <sstream>

#include "cli/commands.h"
#include "lib/api/error.h"
#include "lib/api/names.h"
#include "lib/api/quantity.h"

namespace kai::cli {
namespace {

const api::ResourceInfo& kJobs = api::jobs();

/// Parses vcctl's `cpu=1000m,memory=100Mi` resource strings.
json parse_resource_list(const std::string& text, const std::string& flag) {
  json out = json::object();
  if (text.empty()) return out;
  std::stringstream ss(text);
  for (std::string pair; std::getline(ss, pair, ',');) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
      throw Error::usage(flag + ": invalid argument syntax " + pair + ", expected <resource>=<value>");
    }
    const std::string key = pair.substr(0, eq);
    const std::string val = pair.substr(eq + 1);
    api::Quantity q;
    if (!api::Quantity::try_parse(val, q)) {
      throw Error::usage(flag + ": " + key + "=" + val +
                         ": quantities must match the regular expression "
                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    }
    out[key] = val;
  }
  return out;
}

/// Creates every Job of a manifest in one batch (all or nothing) and prints the result.
void create_jobs_from_file(Context& ctx, const std::string& file, const std::string& ns_override,
                           bool vcctl_message) {
  auto docs = read_manifest(file);
  const std::string display = file == "-" ? "<stdin>" : file;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    const std::string kind = d.value("kind", std::string());
    const std::string av = d.value("apiVersion", std::string());
    if (kind != "Job" || av != kJobs.api_version()) {
      std::string where = display + (docs.size() > 1 ? ": document " + std::to_string(i + 1) : std::string());
      throw Error::invalid(where + ": kind \"" + kind + "\" (apiVersion \"" + av +
                           "\") is not a Volcano Job (batch.volcano.sh/v1alpha1 Job); use 'kai apply -f' for other kinds");
    }
  }
  auto& client = ctx.writer();
  std::vector<json> created;
  std::size_t index = 0;
  try {
    client.batch([&] {
      created.clear();
      for (index = 0; index < docs.size(); ++index) {
        json obj = docs[index];
        auto& meta = obj["metadata"];
        if (!meta.is_object()) meta = json::object();
        const std::string file_ns = meta.value("namespace", std::string());
        if (!ns_override.empty()) {
          if (!file_ns.empty() && file_ns != ns_override) {
            throw Error::invalid("the namespace from the provided object \"" + file_ns +
                                 "\" does not match the namespace \"" + ns_override +
                                 "\". You must pass '--namespace=" + file_ns + "' to perform this operation.");
          }
          meta["namespace"] = ns_override;
        } else if (file_ns.empty()) {
          meta["namespace"] = ctx.ns();
        }
        created.push_back(client.create(kJobs, std::move(obj)));
      }
    });
  } catch (const Error&) {
    rethrow_for_file(file, index, docs.size());
  }
  auto spec = ctx.output_spec();
  if (spec.format != output::Format::Table) {
    ctx.out << output::print_objects(kJobs, created, created.size() == 1, spec);
    return;
  }
  for (const auto& j : created) {
    if (vcctl_message) {
      ctx.out << "run job " << j["metadata"]["name"].get<std::string>() << " successfully\n";
    } else {
      ctx.out << kJobs.qualified_singular() << "/" << j["metadata"]["name"].get<std::string>() << " created\n";
    }
  }
}

struct RunOptions {
  std::string name;
  std::string name_flag;
  std::string image = "busybox";
  int replicas = 1;
  int min = 1;
  std::string requests = "cpu=1000m,memory=100Mi";
  std::string limits = "cpu=1000m,memory=100Mi";
  std::string scheduler = "volcano";
  std::string queue;
  std::string filename;
};

void run_job(Context& ctx, RunOptions o) {
  if (!o.name_flag.empty()) {
    if (!o.name.empty() && o.name != o.name_flag) throw Error::usage("the job name is given twice: " + o.name + " and --name " + o.name_flag);
    o.name = o.name_flag;
  }
  if (!o.filename.empty()) {
    // vcctl: `-f` takes a YAML file; the job goes to --namespace (default "default").
    if (o.filename != "-" && o.filename.find(".yaml") == std::string::npos && o.filename.find(".yml") == std::string::npos) {
      throw Error::usage("--filename " + o.filename + ": only support yaml file");
    }
    create_jobs_from_file(ctx, o.filename, ctx.ns(), true);
    return;
  }
  if (o.name.empty()) throw Error::usage("job name cannot be left blank (give NAME, --name or -f FILE)");
  if (o.replicas < 0) throw Error::usage("--replicas: must be >= 0, got " + std::to_string(o.replicas));
  if (o.min < 0) throw Error::usage("--min: must be >= 0, got " + std::to_string(o.min));
  json container = {{"name", o.name},
                    {"image", o.image},
                    {"imagePullPolicy", "IfNotPresent"},
                    {"resources",
                     {{"requests", parse_resource_list(o.requests, "--requests")},
                      {"limits", parse_resource_list(o.limits, "--limits")}}}};
  if (!ctx.trailing.empty()) {
    container["command"] = json::array({ctx.trailing.front()});
    if (ctx.trailing.size() > 1) {
      container["args"] = json(std::vector<std::string>(ctx.trailing.begin() + 1, ctx.trailing.end()));
    }
  }
  json job = {{"apiVersion", kJobs.api_version()},
              {"kind", "Job"},
              {"metadata", {{"name", o.name}, {"namespace", ctx.ns()}}},
              {"spec",
               {{"minAvailable", o.min},
                {"schedulerName", o.scheduler},
                {"tasks",
                 json::array({{{"replicas", o.replicas},
                               {"template",
                                {{"metadata", {{"name", o.name}, {"labels", {{"job.volcano.sh", o.name}}}}},
                                 {"spec", {{"restartPolicy", "Never"}, {"containers", json::array({container})}}}}}}})}}}};
  if (!o.queue.empty()) job["spec"]["queue"] = o.queue;
  json created = ctx.writer().create(kJobs, job);
  auto spec = ctx.output_spec();
  if (spec.format != output::Format::Table) {
    ctx.out << output::print_objects(kJobs, {created}, true, spec);
    return;
  }
  ctx.out << "run job " << o.name << " successfully\n";
}

struct ListOptions {
  std::string queue;
  std::string scheduler;
  bool all_namespaces = false;
  std::string selector;  ///< vcctl: substring of the job name
  std::string labels;    ///< kubectl-style label selector
};

void list_jobs(Context& ctx, const ListOptions& o) {
  client::ListOptions lo;
  lo.all_namespaces = o.all_namespaces;
  if (!o.all_namespaces) {
    lo.ns = ctx.ns();
    validate_namespace(lo.ns);
  }
  if (!o.labels.empty()) lo.labels = api::LabelSelector::parse(o.labels);
  auto spec = ctx.output_spec();
  // The tables read neither pod templates nor status details: the local store lists its
  // summaries of the jobs instead of parsing whole bodies.
  if (spec.format == output::Format::Table || spec.format == output::Format::Wide || spec.format == output::Format::Name) {
    lo.omit = client::table_omit(kJobs);
  }
  auto jobs = ctx.client().list(kJobs, lo);
  std::erase_if(jobs, [&](const json& j) {
    if (!o.queue.empty() && j.value("/spec/queue"_json_pointer, std::string()) != o.queue) return true;
    if (!o.scheduler.empty() && j.value("/spec/schedulerName"_json_pointer, std::string()) != o.scheduler) return true;
    if (!o.selector.empty() && j["metadata"]["name"].get<std::string>().find(o.selector) == std::string::npos) return true;
    return false;
  });
  if (spec.format == output::Format::Table) {
    ctx.out << output::vcctl_job_list(jobs, o.all_namespaces);
  } else {
    output::PrintOptions po;
    po.with_namespace = o.all_namespaces;
    print_list(ctx, kJobs, jobs, false, po, o.all_namespaces ? "" : lo.ns);
  }
  free_at_exit(jobs);
}

std::string pick_name(const std::string& positional, const std::string& flag, const std::string& what) {
  if (!positional.empty() && !flag.empty() && positional != flag) {
    throw Error::usage("the " + what + " name is given twice: " + positional + " and --name " + flag);
  }
  return positional.empty() ? flag : positional;
}

/// Events about a job: involvedObject is the job (name + uid when known), as vcctl's name-prefix filter.
std::vector<json> events_for(Context& ctx, const json& obj) {
  client::ListOptions lo;
  lo.ns = obj["metadata"].value("namespace", std::string("default"));
  auto events = ctx.client().list(api::events(), lo);
  const std::string name = obj["metadata"]["name"];
  const std::string uid = obj["metadata"].value("uid", std::string());
  const std::string kind = obj.value("kind", std::string());
  std::erase_if(events, [&](const json& e) {
    const json& inv = e.value("involvedObject", json::object());
    if (inv.value("name", std::string()) != name || inv.value("kind", std::string()) != kind) return true;
    const std::string euid = inv.value("uid", std::string());
    return !uid.empty() && !euid.empty() && euid != uid;
  });
  return events;
}

void view_job(Context& ctx, const std::string& name) {
  if (name.empty()) throw Error::usage("job name (specified by NAME, --name or -N) is mandatory to view a particular job");
  api::require_dns1123_subdomain(name, "job name");
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  json job = ctx.client().get(kJobs, ns, name);
  auto spec = ctx.output_spec();
  if (spec.format != output::Format::Table) {
    ctx.out << output::print_objects(kJobs, {job}, true, spec);
    return;
  }
  ctx.out << output::vcctl_job_view(job, events_for(ctx, job), std::chrono::system_clock::now());
}

int delete_jobs(Context& ctx, std::vector<std::string> names, const std::string& flag) {
  if (!flag.empty()) names.push_back(flag);
  if (names.empty()) throw Error::usage("job name is mandatory to delete a particular job (give NAME... or --name)");
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  int rc = 0;
  for (const auto& n : names) {
    try {
      api::require_dns1123_subdomain(n, "job name");
      ctx.writer().remove(kJobs, ns, n);
      ctx.out << "delete job " << n << " successfully\n";
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound && e.kind() != ErrorKind::Invalid) throw;
      ctx.err << "kai: error: " << e.what() << "\n";
      rc = 1;
    }
  }
  return rc;
}

/// vcctl job suspend / resume: a bus.volcano.sh/v1alpha1 Command for the job's controller
/// (AbortJob / ResumeJob), owned by the job; the job itself is not changed. Prints nothing.
void command_job(Context& ctx, std::string name, const std::string& flag, const std::string& action, const char* verb) {
  if (name.empty()) name = flag;
  if (name.empty()) throw Error::usage(std::string("job name is mandatory to ") + verb + " a particular job");
  api::require_dns1123_subdomain(name, "job name");
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  auto& client = ctx.writer();
  const json job = client.get(kJobs, ns, name);
  const json owner = {{"apiVersion", kJobs.api_version()}, {"kind", kJobs.kind},
                      {"name", name}, {"uid", job["metadata"].value("uid", std::string())},
                      {"controller", true}, {"blockOwnerDeletion", true}};
  std::string lower = action;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  json cmd = {{"apiVersion", api::commands().api_version()},
              {"kind", api::commands().kind},
              {"metadata", {{"generateName", name + "-" + lower + "-"}, {"namespace", ns}, {"ownerReferences", json::array({owner})}}},
              {"action", action},
              {"target", owner}};
  client.create(api::commands(), cmd);
}

}  // namespace

void add_job_commands(CLI::App& root, Context& ctx) {
  auto* job = root.add_subcommand("job", "Submit, list, view and delete Volcano jobs (vcctl job)");
  job->alias("jobs");
  job->alias("vcjob");
  job->require_subcommand(0, 1);

  // submit
  auto submit_file = std::make_shared<std::string>();
  auto* submit = job->add_subcommand("submit", "Submit Volcano Jobs from a YAML file (the same YAML kubectl apply takes)");
  submit->add_option("-f,--filename", *submit_file, "YAML/JSON file with one or more batch.volcano.sh/v1alpha1 Jobs, - for stdin")
      ->required()
      ->type_name("FILE");
  submit->callback([&ctx, submit_file] { create_jobs_from_file(ctx, *submit_file, ctx.global.ns, false); });

  // run
  auto ro = std::make_shared<RunOptions>();
  auto* run = job->add_subcommand("run", "Run a job built from flags (vcctl job run); the container command follows --");
  run->add_option("name", ro->name, "job name")->type_name("NAME");
  run->add_option("-N,--name", ro->name_flag, "the name of job")->type_name("NAME");
  run->add_option("-i,--image", ro->image, "the container image of job")->capture_default_str();
  run->add_option("-r,--replicas", ro->replicas, "the total tasks of job")->capture_default_str();
  run->add_option("-m,--min", ro->min, "the minimal available tasks of job")->capture_default_str();
  run->add_option("-R,--requests", ro->requests, "the resource request of the task")->capture_default_str();
  run->add_option("-L,--limits", ro->limits, "the resource limit of the task")->capture_default_str();
  run->add_option("-S,--scheduler", ro->scheduler, "the scheduler for this job")->capture_default_str();
  run->add_option("-q,--queue", ro->queue, "the queue of job (default: the queue named default)");
  run->add_option("-f,--filename", ro->filename, "the yaml file of job")->type_name("FILE");
  run->footer("Example:\n  kai job run train -r 2 -m 2 -R cpu=1,nvidia.com/gpu=1 -- python3 train.py --epochs 3");
  run->callback([&ctx, ro] { run_job(ctx, *ro); });

  // list
  auto lo = std::make_shared<ListOptions>();
  auto* list = job->add_subcommand("list", "List jobs (vcctl's columns)");
  list->alias("ls");
  list->add_option("-q,--queue", lo->queue, "list job with specified queue name")->type_name("QUEUE");
  list->add_option("-S,--scheduler", lo->scheduler, "list job with specified scheduler name")->type_name("NAME");
  list->add_flag("-A,--all-namespaces", lo->all_namespaces, "list jobs in all namespaces");
  list->add_option("--selector", lo->selector, "fuzzy matching jobName (substring), as vcctl")->type_name("TEXT");
  list->add_option("-l,--label-selector", lo->labels, "label selector, e.g. team=ml,tier!=dev")->type_name("SELECTOR");
  list->callback([&ctx, lo] { list_jobs(ctx, *lo); });

  // view
  auto view_name = std::make_shared<std::string>();
  auto view_flag = std::make_shared<std::string>();
  auto* view = job->add_subcommand("view", "Show a job in detail with its recent events (vcctl job view)");
  view->add_option("name", *view_name, "job name")->type_name("NAME");
  view->add_option("-N,--name", *view_flag, "the name of job")->type_name("NAME");
  view->callback([&ctx, view_name, view_flag] { view_job(ctx, pick_name(*view_name, *view_flag, "job")); });

  // delete
  auto del_names = std::make_shared<std::vector<std::string>>();
  auto del_flag = std::make_shared<std::string>();
  auto* del = job->add_subcommand("delete", "Delete jobs; their PodGroups and Pods go with them");
  del->alias("rm");
  del->add_option("names", *del_names, "job names")->type_name("NAME...");
  del->add_option("-N,--name", *del_flag, "the name of job")->type_name("NAME");
  del->callback([&ctx, del_names, del_flag] {
    int rc = delete_jobs(ctx, *del_names, *del_flag);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  for (const auto& [verb, action, what] : {std::tuple{"suspend", "AbortJob", "Suspend a job: its pods are stopped, the job goes Aborting, then Aborted (vcctl job suspend)"},
                                            std::tuple{"resume", "ResumeJob", "Resume a suspended job: it restarts (RetryCount + 1) and runs again (vcctl job resume)"}}) {
    auto name = std::make_shared<std::string>();
    auto flag = std::make_shared<std::string>();
    auto* c = job->add_subcommand(verb, what);
    c->add_option("name", *name, "job name")->type_name("NAME");
    c->add_option("-N,--name", *flag, "the name of job")->type_name("NAME");
    c->footer(std::string("Creates a bus.volcano.sh/v1alpha1 Command (action ") + action +
              ") that the job controller executes once and deletes; prints nothing on success.");
    const std::string a = action, v = verb;
    c->callback([&ctx, name, flag, a, v] { command_job(ctx, *name, *flag, a, v.c_str()); });
  }

  add_job_runtime_commands(*job, ctx);
  add_job_explain_command(*job, ctx);
}

}  // namespace kai::cli
