// kubectl-style generic commands: get, apply, delete, describe.

#include <algorithm>

#include "cli/commands.h"
#include "lib/api/duration.h"
#include "lib/api/error.h"
#include "lib/api/names.h"

namespace kai::cli {
namespace {

api::ResourceInfo resolve(const std::string& name) {
  auto r = api::find_resource(name);
  if (!r) {
    std::string known;
    for (const auto& x : api::all_resources()) known += (known.empty() ? "" : ", ") + x.plural;
    throw Error::invalid("the server doesn't have a resource type \"" + name + "\" (known: " + known + ")");
  }
  return *r;
}

std::string not_found_line(const Error& e) { return "Error from server (NotFound): " + std::string(e.what()); }

struct GetOptions {
  std::string resource;
  std::vector<std::string> names;
  bool all_namespaces = false;
  std::string labels;
  std::string fields;
  bool show_labels = false;
  std::vector<std::string> label_columns;
  bool no_headers = false;
  bool watch = false;       ///< -w: the list, then each change
  bool watch_only = false;  ///< only the changes
  std::string request_timeout;  ///< the watch ends after this long ("" or "0": never)
};

/// kubectl get -w: the list as a table (or in the -o format), then one row (or object) per change.
void watch_objects(Context& ctx, const GetOptions& o, const api::ResourceInfo& res, client::ListOptions lo,
                   output::PrintOptions po) {
  if (o.names.size() > 1) throw Error::usage("watch is only supported on individual resources and resource collections, but 2 resources were found");
  if (o.all_namespaces && !o.names.empty()) throw Error::usage("a resource cannot be retrieved by name across all namespaces");
  if (!o.names.empty()) {
    api::require_dns1123_subdomain(o.names[0], res.singular + " name");
    lo.fields = api::FieldSelector::parse("metadata.name=" + o.names[0] + (o.fields.empty() ? "" : "," + o.fields));
  }
  client::WatchOptions wo;
  wo.list = std::move(lo);
  if (!o.request_timeout.empty() && o.request_timeout != "0") {
    // kubectl's --request-timeout: a Go duration or a bare number of seconds.
    int64_t nanos = 0;
    std::string err;
    if (api::parse_go_duration(o.request_timeout, nanos, &err)) {
      wo.timeout_seconds = static_cast<double>(nanos) / 1e9;
    } else if (o.request_timeout.find_first_not_of("0123456789") == std::string::npos) {
      wo.timeout_seconds = std::stod(o.request_timeout);
    } else {
      throw Error::usage("--request-timeout: " + err + " (e.g. 30s, 5m, 1h)");
    }
    if (wo.timeout_seconds < 0) throw Error::usage("--request-timeout: must not be negative: \"" + o.request_timeout + "\"");
  }
  std::vector<json> initial;
  bool synced = false, headers = !o.no_headers;
  auto print = [&](const std::vector<json>& objs) {
    if (objs.empty()) return;
    output::PrintOptions p = po;
    p.no_headers = !headers;
    ctx.out << output::print_objects(res, objs, !o.names.empty() || objs.size() == 1, ctx.output_spec(), p);
    ctx.out.flush();
    headers = false;
  };
  ctx.client().watch(res, wo, [&](const client::WatchEvent& ev) {
    if (!synced) {
      if (ev.type == "SYNCED") {
        synced = true;
        if (!o.watch_only) print(initial);
        initial.clear();
      } else {
        initial.push_back(ev.object);
      }
      return true;
    }
    print({ev.object});
    return true;
  });
  if (!synced && !o.watch_only) print(initial);
}

void get_objects(Context& ctx, const GetOptions& o) {
  auto res = resolve(o.resource);
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  output::PrintOptions po;
  po.no_headers = o.no_headers;
  po.show_labels = o.show_labels;
  po.label_columns = o.label_columns;
  po.with_namespace = o.all_namespaces && res.namespaced;
  auto& client = ctx.client();
  if (!o.names.empty() && !o.watch && !o.watch_only) {
    if (o.all_namespaces) throw Error::usage("a resource cannot be retrieved by name across all namespaces");
    std::vector<json> found;
    std::vector<std::string> missing;
    for (const auto& n : o.names) {
      try {
        api::require_dns1123_subdomain(n, res.singular + " name");
        found.push_back(client.get(res, ns, n));
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound && e.kind() != ErrorKind::Invalid) throw;
        missing.push_back(e.kind() == ErrorKind::NotFound ? not_found_line(e) : std::string("error: ") + e.what());
      }
    }
    if (!found.empty()) ctx.out << output::print_objects(res, found, o.names.size() == 1, ctx.output_spec(), po);
    for (const auto& m : missing) ctx.err << m << "\n";
    if (!missing.empty()) throw CLI::RuntimeError(1);
    return;
  }
  client::ListOptions lo;
  lo.ns = ns;
  lo.all_namespaces = o.all_namespaces;
  if (!o.labels.empty()) lo.labels = api::LabelSelector::parse(o.labels);
  if (!o.fields.empty()) lo.fields = api::FieldSelector::parse(o.fields);
  // Tables read a few fields of each object: the local store lists its summaries instead.
  const auto format = ctx.output_spec().format;
  if (format == output::Format::Table || format == output::Format::Wide || format == output::Format::Name) {
    lo.omit = client::table_omit(res);
  }
  if (o.watch || o.watch_only) {
    watch_objects(ctx, o, res, std::move(lo), po);
    return;
  }
  auto items = client.list(res, lo);
  print_list(ctx, res, items, false, po, o.all_namespaces ? "" : ns);
  free_at_exit(items);
}

/// The parts of an object `kai apply` owns: everything but status and server-set metadata.
json desired_state(const json& obj) {
  json d = obj;
  d.erase("status");
  if (d.contains("metadata")) {
    for (const char* k : {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"}) {
      d["metadata"].erase(k);
    }
  }
  return d;
}

void apply_manifest(Context& ctx, const std::string& file) {
  auto docs = read_manifest(file);
  auto& client = ctx.writer();
  struct Item {
    api::ResourceInfo res;
    json obj;
  };
  std::vector<Item> items;
  const std::string display = file == "-" ? "<stdin>" : file;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    const std::string av = d.value("apiVersion", std::string());
    const std::string kind = d.value("kind", std::string());
    auto res = api::find_resource_by_kind(av, kind);
    if (!res) {
      throw Error::invalid(display + (docs.size() > 1 ? ": document " + std::to_string(i + 1) : std::string()) +
                           ": no matches for kind \"" + kind + "\" in version \"" + av + "\"");
    }
    items.push_back({*res, d});
  }
  std::vector<std::string> messages;
  std::size_t index = 0;
  try {
    client.batch([&] {
      messages.clear();
      for (index = 0; index < items.size(); ++index) {
        auto& [res, obj] = items[index];
        if (!obj["metadata"].is_object()) obj["metadata"] = json::object();
        auto& meta = obj["metadata"];
        std::string ns;
        if (res.namespaced) {
          const std::string file_ns = meta.value("namespace", std::string());
          if (!ctx.global.ns.empty() && !file_ns.empty() && file_ns != ctx.global.ns) {
            throw Error::invalid("the namespace from the provided object \"" + file_ns +
                                 "\" does not match the namespace \"" + ctx.global.ns +
                                 "\". You must pass '--namespace=" + file_ns + "' to perform this operation.");
          }
          ns = file_ns.empty() ? ctx.ns() : file_ns;
          meta["namespace"] = ns;
        }
        const std::string name = meta.value("name", std::string());
        std::optional<json> existing;
        if (!name.empty()) {
          api::require_dns1123_subdomain(name, "metadata.name");
          try {
            existing = client.get(res, ns, name);
          } catch (const Error& e) {
            if (e.kind() != ErrorKind::NotFound) throw;
          }
        }
        const std::string prefix = res.qualified_singular() + "/";
        if (!existing) {
          json created = client.create(res, obj);
          messages.push_back(prefix + created["metadata"]["name"].get<std::string>() + " created");
          continue;
        }
        // Replace what the manifest owns; keep status and server-set metadata.
        json merged = desired_state(obj);
        merged["metadata"]["uid"] = (*existing)["metadata"]["uid"];
        merged["metadata"]["resourceVersion"] = (*existing)["metadata"]["resourceVersion"];
        merged["metadata"]["creationTimestamp"] = (*existing)["metadata"]["creationTimestamp"];
        if (existing->contains("status")) merged["status"] = (*existing)["status"];
        json before = desired_state(*existing);
        json after = desired_state(merged);
        if (before == after) {
          messages.push_back(prefix + name + " unchanged");
          continue;
        }
        client.update(res, merged);
        messages.push_back(prefix + name + " configured");
      }
    });
  } catch (const Error&) {
    rethrow_for_file(file, index, items.size());
  }
  for (const auto& m : messages) ctx.out << m << "\n";
}

struct DeleteOptions {
  std::string resource;
  std::vector<std::string> names;
  std::string file;
  std::string labels;
};

void delete_objects(Context& ctx, const DeleteOptions& o) {
  auto& client = ctx.writer();
  struct Target {
    api::ResourceInfo res;
    std::string ns, name;
  };
  std::vector<Target> targets;
  if (!o.file.empty()) {
    if (!o.resource.empty()) throw Error::usage("give either RESOURCE NAME... or -f FILE, not both");
    for (const auto& d : read_manifest(o.file)) {
      auto res = api::find_resource_by_kind(d.value("apiVersion", std::string()), d.value("kind", std::string()));
      if (!res) throw Error::invalid(o.file + ": no matches for kind \"" + d.value("kind", std::string()) + "\"");
      const json& meta = d.value("metadata", json::object());
      targets.push_back({*res, res->namespaced ? meta.value("namespace", ctx.ns()) : "", meta.value("name", std::string())});
    }
  } else {
    if (o.resource.empty()) throw Error::usage("You must provide one or more resources by argument or filename (RESOURCE NAME... or -f FILE)");
    auto res = resolve(o.resource);
    std::vector<std::string> names = o.names;
    if (!o.labels.empty()) {
      client::ListOptions lo;
      lo.ns = ctx.ns();
      lo.labels = api::LabelSelector::parse(o.labels);
      for (const auto& obj : client.list(res, lo)) names.push_back(obj["metadata"]["name"]);
      if (names.empty()) {
        ctx.err << "No resources found\n";
        return;
      }
    }
    if (names.empty()) throw Error::usage("resource(s) were provided, but no name was specified");
    for (const auto& n : names) targets.push_back({res, res.namespaced ? ctx.ns() : "", n});
  }
  int rc = 0;
  for (const auto& t : targets) {
    try {
      api::require_dns1123_subdomain(t.name, t.res.singular + " name");
      client.remove(t.res, t.ns, t.name);
      ctx.out << t.res.qualified_singular() << " \"" << t.name << "\" deleted\n";
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Internal || e.kind() == ErrorKind::Unavailable) throw;
      ctx.err << (e.kind() == ErrorKind::NotFound ? not_found_line(e) : "kai: error: " + std::string(e.what())) << "\n";
      rc = 1;
    }
  }
  if (rc != 0) throw CLI::RuntimeError(rc);
}

void describe_objects(Context& ctx, const std::string& resource, const std::vector<std::string>& names) {
  auto res = resolve(resource);
  const std::string ns = ctx.ns();
  validate_namespace(ns);
  auto& client = ctx.client();
  std::vector<json> objs;
  if (names.empty()) {
    client::ListOptions lo;
    lo.ns = ns;
    objs = client.list(res, lo);
  } else {
    for (const auto& n : names) {
      api::require_dns1123_subdomain(n, res.singular + " name");
      objs.push_back(client.get(res, ns, n));
    }
  }
  client::ListOptions elo;
  elo.ns = ns;
  elo.all_namespaces = !res.namespaced;
  auto events = client.list(api::events(), elo);
  bool first = true;
  for (const auto& obj : objs) {
    std::vector<json> mine;
    for (const auto& e : events) {
      const json& inv = e.value("involvedObject", json::object());
      if (inv.value("kind", std::string()) == res.kind && inv.value("name", std::string()) == obj["metadata"]["name"]) {
        mine.push_back(e);
      }
    }
    if (!first) ctx.out << "\n\n";
    first = false;
    ctx.out << output::describe(res, obj, mine, std::chrono::system_clock::now());
  }
  if (objs.empty()) ctx.err << "No resources found in " << ns << " namespace.\n";
}

}  // namespace

void add_resource_commands(CLI::App& root, Context& ctx) {
  auto go = std::make_shared<GetOptions>();
  auto* g = root.add_subcommand("get", "Display one or many resources (kubectl get)");
  g->add_option("resource", go->resource, "resource type: jobs (vcjob, vj), queues (q), podgroups (pg), pods (po), nodes (no), namespaces (ns), events (ev), commands")
      ->required()
      ->type_name("RESOURCE");
  g->add_option("names", go->names, "names of objects")->type_name("NAME...");
  g->add_flag("-A,--all-namespaces", go->all_namespaces, "list across all namespaces");
  g->add_option("-l,--selector", go->labels, "label selector, e.g. -l 'app=x,tier in (a,b)'")->type_name("SELECTOR");
  g->add_option("--field-selector", go->fields, "field selector, e.g. metadata.name=x")->type_name("SELECTOR");
  g->add_flag("--show-labels", go->show_labels, "show all labels as the last column");
  g->add_option("-L,--label-columns", go->label_columns, "labels to show as columns")->delimiter(',')->type_name("KEY,...");
  g->add_flag("--no-headers", go->no_headers, "don't print headers");
  g->add_flag("-w,--watch", go->watch, "after the list, print each change as it happens (kubectl get -w)");
  g->add_flag("--watch-only", go->watch_only, "print only the changes, not the list first");
  g->add_option("--request-timeout", go->request_timeout, "stop watching after this long (30s, 5m); default: never")
      ->type_name("D");
  g->callback([&ctx, go] { get_objects(ctx, *go); });

  auto apply_file = std::make_shared<std::string>();
  auto* a = root.add_subcommand("apply", "Create or update objects from a YAML file, all or nothing (kubectl apply)");
  a->add_option("-f,--filename", *apply_file, "YAML/JSON file, - for stdin")->required()->type_name("FILE");
  a->callback([&ctx, apply_file] { apply_manifest(ctx, *apply_file); });

  auto dopt = std::make_shared<DeleteOptions>();
  auto* d = root.add_subcommand("delete", "Delete objects by type and name, by selector or from a file (kubectl delete)");
  d->add_option("resource", dopt->resource, "resource type")->type_name("RESOURCE");
  d->add_option("names", dopt->names, "names of objects")->type_name("NAME...");
  d->add_option("-f,--filename", dopt->file, "delete the objects named in this file")->type_name("FILE");
  d->add_option("-l,--selector", dopt->labels, "delete the objects matching this label selector")->type_name("SELECTOR");
  d->callback([&ctx, dopt] { delete_objects(ctx, *dopt); });

  auto desc_res = std::make_shared<std::string>();
  auto desc_names = std::make_shared<std::vector<std::string>>();
  auto* ds = root.add_subcommand("describe", "Show details of objects with their events (kubectl describe)");
  ds->add_option("resource", *desc_res, "resource type")->required()->type_name("RESOURCE");
  ds->add_option("names", *desc_names, "names of objects (all in the namespace when omitted)")->type_name("NAME...");
  ds->callback([&ctx, desc_res, desc_names] { describe_objects(ctx, *desc_res, *desc_names); });
}

}  // namespace kai::cli
