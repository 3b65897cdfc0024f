// kai queue create|get|list|delete|operate: vcctl's queue commands (volcano.md §1.6). Queues are
// cluster-scoped, so here -n is the queue NAME, as in vcctl (use --namespace for a namespace).

#include "cli/commands.h"
#include "lib/api/error.h"
#include "lib/api/names.h"

namespace kai::cli {
namespace {

const api::ResourceInfo& kQueues = api::queues();

std::string queue_name(const std::string& positional, const std::string& flag, const std::string& missing) {
  if (!positional.empty() && !flag.empty() && positional != flag) {
    throw Error::usage("the queue name is given twice: " + positional + " and --name " + flag);
  }
  std::string n = positional.empty() ? flag : positional;
  if (n.empty()) throw Error::usage(missing);
  api::require_dns1123_subdomain(n, "queue name");
  return n;
}

std::vector<json> all_podgroups(Context& ctx) {
  client::ListOptions lo;
  lo.all_namespaces = true;
  return ctx.client().list(api::podgroups(), lo);
}

void print_queues(Context& ctx, const std::vector<json>& queues, bool single, bool tree = false) {
  auto spec = ctx.output_spec();
  if (tree) {
    if (spec.format != output::Format::Table) throw Error::usage("--tree prints a table; it cannot be combined with -o");
    if (queues.empty()) {
      ctx.err << "No resources found\n";
      return;
    }
    ctx.out << output::queue_tree(queues);
    return;
  }
  if (spec.format == output::Format::Table) {
    if (queues.empty()) {
      ctx.err << "No resources found\n";
      return;
    }
    ctx.out << output::vcctl_queue_list(queues, all_podgroups(ctx));
    return;
  }
  print_list(ctx, kQueues, queues, single, {}, "");
}

struct CreateOptions {
  std::string name, name_flag;
  int weight = 1;
  std::string state = "Open";
  std::string parent;
  std::string deserved, guarantee, capability;  ///< NAME=QUANTITY[,NAME=QUANTITY...]
};

/// `cpu=4,memory=8Gi,nvidia.com/gpu=2` as a ResourceList; quantities are checked by admission
/// (with the field path), the shape here.
json resource_list_flag(const std::string& flag, const std::string& value) {
  json out = json::object();
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t comma = value.find(',', start);
    const std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      throw Error::usage(flag + " " + value + ": expected NAME=QUANTITY pairs separated by commas, such as cpu=4,memory=8Gi");
    }
    const std::string key = item.substr(0, eq);
    if (out.contains(key)) throw Error::usage(flag + " " + value + ": " + key + " is given twice");
    out[key] = item.substr(eq + 1);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void create_queue(Context& ctx, const CreateOptions& o) {
  const std::string name = queue_name(o.name, o.name_flag, "queue name must be specified (give NAME or --name)");
  if (o.state != "Open" && o.state != "Closed") {
    throw Error::usage("--state " + o.state + ": queue state must be in [Open Closed]");
  }
  json q = {{"apiVersion", kQueues.api_version()},
            {"kind", "Queue"},
            {"metadata", {{"name", name}}},
            {"spec", {{"weight", o.weight}}},
            {"status", {{"state", o.state}}}};
  if (!o.parent.empty()) q["spec"]["parent"] = o.parent;
  if (!o.deserved.empty()) q["spec"]["deserved"] = resource_list_flag("--deserved", o.deserved);
  if (!o.guarantee.empty()) q["spec"]["guarantee"] = {{"resource", resource_list_flag("--guarantee", o.guarantee)}};
  if (!o.capability.empty()) q["spec"]["capability"] = resource_list_flag("--capability", o.capability);
  json created = ctx.writer().create(kQueues, q);
  auto spec = ctx.output_spec();
  if (spec.format != output::Format::Table) {
    ctx.out << output::print_objects(kQueues, {created}, true, spec);
    return;
  }
  ctx.out << kQueues.qualified_singular() << "/" << name << " created\n";
}

struct OperateOptions {
  std::string name, name_flag;
  int weight = 0;
  std::string action;
};

void operate_queue(Context& ctx, const OperateOptions& o) {
  const std::string name = queue_name(o.name, o.name_flag, "queue name must be specified");
  if (o.action.empty()) throw Error::usage("action can not be null");
  auto& client = ctx.writer();
  if (o.action == "update") {
    if (o.weight <= 0) {
      throw Error::usage("when update queue " + name + ", weight must be specified, the value must be greater than 0");
    }
    client.merge_patch(kQueues, "", name, {{"spec", {{"weight", o.weight}}}});
    ctx.out << kQueues.qualified_singular() << "/" << name << " updated (weight " << o.weight << ")\n";
    return;
  }
  if (o.action != "open" && o.action != "close") {
    throw Error::usage("action " + o.action + " invalid, valid actions are open, close and update");
  }
  // As vcctl: a bus.volcano.sh Command in namespace default, owned by and targeting the Queue;
  // the queue controller executes it and deletes it.
  json queue = client.get(kQueues, "", name);
  const std::string action = o.action == "open" ? "OpenQueue" : "CloseQueue";
  json ref = {{"apiVersion", kQueues.api_version()},
              {"kind", "Queue"},
              {"name", name},
              {"uid", queue["metadata"]["uid"]},
              {"controller", true},
              {"blockOwnerDeletion", true}};
  json cmd = {{"apiVersion", api::commands().api_version()},
              {"kind", "Command"},
              {"metadata",
               {{"generateName", name + (o.action == "open" ? "-openqueue-" : "-closequeue-")},
                {"namespace", "default"},
                {"ownerReferences", json::array({ref})}}},
              {"action", action},
              {"target", ref}};
  client.create(api::commands(), cmd);
  json after = client.get(kQueues, "", name);
  ctx.out << kQueues.qualified_singular() << "/" << name << " " << (o.action == "open" ? "opened" : "closed")
          << " (state " << after.value("/status/state"_json_pointer, std::string("Open")) << ")\n";
}

}  // namespace

void add_queue_commands(CLI::App& root, Context& ctx) {
  auto* queue = root.add_subcommand("queue", "Create, list, get, operate and delete Volcano queues (vcctl queue)");
  queue->alias("queues");
  queue->alias("q");
  queue->require_subcommand(0, 1);
  queue->footer("Queues are cluster-scoped: in these commands -n is the queue NAME, as in vcctl.");

  auto co = std::make_shared<CreateOptions>();
  auto* create = queue->add_subcommand("create", "Create a queue");
  create->add_option("name", co->name, "queue name")->type_name("NAME");
  create->add_option("-n,-N,--name", co->name_flag, "the name of queue (here -n means name, as in vcctl)")->type_name("NAME");
  create->add_option("-w,--weight", co->weight, "the weight of the queue")->capture_default_str()->check(CLI::Range(1, 65535));
  create->add_option("-S,--state", co->state, "the state of queue: Open or Closed")->capture_default_str();
  create->add_option("--parent", co->parent, "the parent queue (hierarchical queues; default root)")->type_name("QUEUE");
  create->add_option("--deserved", co->deserved,
                     "resources the queue is entitled to and may reclaim (capacity plugin), e.g. "
                     "cpu=4,memory=8Gi,nvidia.com/gpu=2")
      ->type_name("RESOURCES");
  create->add_option("--guarantee", co->guarantee,
                     "resources reserved for the queue, kept from every other queue; each must be <= --deserved")
      ->type_name("RESOURCES");
  create->add_option("--capability", co->capability,
                     "the queue's hard limit; an unset cpu or memory is unlimited; each must be >= --deserved")
      ->type_name("RESOURCES");
  create->callback([&ctx, co] { create_queue(ctx, *co); });

  auto get_name = std::make_shared<std::string>();
  auto get_flag = std::make_shared<std::string>();
  auto* get = queue->add_subcommand("get", "Get one queue (vcctl's columns)");
  get->add_option("name", *get_name, "queue name")->type_name("NAME");
  get->add_option("-n,-N,--name", *get_flag, "the name of queue (here -n means name, as in vcctl)")->type_name("NAME");
  get->callback([&ctx, get_name, get_flag] {
    const std::string n = queue_name(*get_name, *get_flag, "name is mandatory to get the particular queue details");
    print_queues(ctx, {ctx.client().get(kQueues, "", n)}, true);
  });

  auto tree = std::make_shared<bool>(false);
  auto* list = queue->add_subcommand("list", "List queues with their PodGroup counts (vcctl's columns)");
  list->alias("ls");
  list->add_flag("--tree", *tree,
                 "show the hierarchy instead: each queue indented under its parent, with its deserved, guarantee "
                 "and capability");
  list->callback([&ctx, tree] { print_queues(ctx, ctx.client().list(kQueues, {}), false, *tree); });

  auto del_names = std::make_shared<std::vector<std::string>>();
  auto del_flag = std::make_shared<std::string>();
  auto* del = queue->add_subcommand("delete", "Delete queues");
  del->alias("rm");
  del->add_option("names", *del_names, "queue names")->type_name("NAME...");
  del->add_option("-n,-N,--name", *del_flag, "the name of queue (here -n means name, as in vcctl)")->type_name("NAME");
  del->callback([&ctx, del_names, del_flag] {
    auto names = *del_names;
    if (!del_flag->empty()) names.push_back(*del_flag);
    if (names.empty()) throw Error::usage("queue name must be specified");
    int rc = 0;
    for (const auto& n : names) {
      try {
        api::require_dns1123_subdomain(n, "queue name");
        ctx.writer().remove(kQueues, "", n);
        ctx.out << kQueues.qualified_plural() << " \"" << n << "\" deleted\n";
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::Internal || e.kind() == ErrorKind::Unavailable) throw;
        ctx.err << "kai: error: " << e.what() << "\n";
        rc = 1;
      }
    }
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto oo = std::make_shared<OperateOptions>();
  auto* op = queue->add_subcommand("operate", "Open, close or update (weight) a queue");
  op->add_option("name", oo->name, "queue name")->type_name("NAME");
  op->add_option("-n,-N,--name", oo->name_flag, "the name of queue (here -n means name, as in vcctl)")->type_name("NAME");
  op->add_option("-a,--action", oo->action, "operate action to queue, valid actions are open, close, update")->type_name("ACTION");
  op->add_option("-w,--weight", oo->weight, "the weight of the queue, for update")->type_name("INT");
  op->callback([&ctx, oo] { operate_queue(ctx, *oo); });
}

}  // namespace kai::cli
