// vcctl-compatible printers: `vcctl job list` (pkg/cli/job/list.go), `vcctl job view`
// (pkg/cli/job/view.go) and `vcctl queue list|get` (pkg/cli/queue/list.go). Fixed-width
// printf output, byte for byte, trailing padding included.

#include "lib/output/printer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>

#include "lib/api/quantity.h"
#include "lib/output/gofmt.h"

namespace kai::output {
namespace {

using detail::as_int;
using detail::find_path;
using detail::pad_right;
using detail::str_at;

long long int_at(const json& o, std::initializer_list<std::string_view> path) {
  const json* v = find_path(o, path);
  return v ? as_int(*v) : 0;
}

std::string num(long long v) { return std::to_string(v); }

/// metav1.Time printed with %s: Go's time.Time.String(), zero time when absent.
std::string go_time_at(const json& o, std::initializer_list<std::string_view> path) {
  auto t = parse_time(str_at(o, path));
  return t ? detail::go_time_string(*t) : std::string(detail::kGoZeroTime);
}

/// creationTimestamp.Format("2006-01-02").
std::string creation_date(const json& job) {
  auto t = parse_time(str_at(job, {"metadata", "creationTimestamp"}));
  if (!t) return "0001-01-01";
  auto c = detail::to_civil(*t);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

/// Quantity.String() of a resource list entry, "0" when absent (ResourceList.Cpu()).
std::string quantity_text(const json* v) {
  if (!v || v->is_null()) return "0";
  std::string text = v->is_string() ? v->get<std::string>() : detail::go_sprint(*v);
  api::Quantity q;
  if (api::Quantity::try_parse(text, q)) return q.canonical();
  return text;
}

/// WriteLine: two spaces per level, then the already formatted content.
void line(std::string& out, int level, const std::string& content) {
  out.append(static_cast<std::size_t>(level) * 2, ' ');
  out += content;
}

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

void print_task(std::string& out, const json& task) {
  constexpr int L2 = 2;
  line(out, L2, "Name:\t" + str_at(task, {"name"}) + "\n");
  line(out, L2, "Replicas:\t" + num(int_at(task, {"replicas"})) + "\n");
  line(out, L2, "Template:\n");
  line(out, L2 + 1, "Metadata:\n");
  line(out, L2 + 2, "Annotations:\n");
  static constexpr std::pair<std::string_view, std::string_view> kFixedAnnotations[] = {
      {"Cri . Cci . Io / Container - Type:          \t", "cri.cci.io/container-type"},
      {"Kubernetes . Io / Availablezone:            \t", "kubernetes.io/availablezone"},
      {"Network . Alpha . Kubernetes . Io / Network:\t", "network.alpha.kubernetes.io/network"},
  };
  const json* annotations = find_path(task, {"template", "metadata", "annotations"});
  for (const auto& [label, key] : kFixedAnnotations) {
    std::string value = annotations ? str_at(*annotations, {key}) : "";
    line(out, L2 + 3, std::string(label) + value + "\n");
  }
  if (annotations && annotations->is_object()) {
    for (const auto& [k, v] : annotations->items()) {
      bool fixed = std::any_of(std::begin(kFixedAnnotations), std::end(kFixedAnnotations),
                               [&](const auto& f) { return f.second == k; });
      if (!fixed) line(out, L2 + 3, k + ":\t" + (v.is_string() ? v.get<std::string>() : detail::go_sprint(v)) + "\n");
    }
  }
  line(out, L2 + 2, "Creation Timestamp:\t" + go_time_at(task, {"template", "metadata", "creationTimestamp"}) + "\n");

  line(out, L2 + 1, "Spec:\n");
  line(out, L2 + 2, "Containers:\n");
  const json* containers = find_path(task, {"template", "spec", "containers"});
  if (containers && containers->is_array()) {
    for (const auto& c : *containers) {
      line(out, L2 + 3, "Command:\n");
      if (const json* cmd = find_path(c, {"command"}); cmd && cmd->is_array()) {
        for (const auto& arg : *cmd) line(out, L2 + 4, detail::go_sprint(arg) + "\n");
      }
      line(out, L2 + 3, "Image:\t" + str_at(c, {"image"}) + "\n");
      line(out, L2 + 3, "Name: \t" + str_at(c, {"name"}) + "\n");
      line(out, L2 + 3, "Ports:\n");
      if (const json* ports = find_path(c, {"ports"}); ports && ports->is_array()) {
        for (const auto& p : *ports) {
          line(out, L2 + 4, "Container Port:\t" + num(int_at(p, {"containerPort"})) + "\n");
          line(out, L2 + 4, "Name:          \t" + str_at(p, {"name"}) + "\n");
        }
      }
      line(out, L2 + 3, "Resources:\n");
      for (std::string_view kind : {"limits", "requests"}) {
        line(out, L2 + 4, kind == "limits" ? "Limits:\n" : "Requests:\n");
        const json* list = find_path(c, {"resources", kind});
        line(out, L2 + 5, "Cpu:   \t" + quantity_text(list ? find_path(*list, {"cpu"}) : nullptr) + "\n");
        line(out, L2 + 5, "Memory:\t" + quantity_text(list ? find_path(*list, {"memory"}) : nullptr) + "\n");
        if (list && list->is_object()) {
          for (const auto& [k, v] : list->items()) {
            if (k != "cpu" && k != "memory") line(out, L2 + 5, k + ":\t" + quantity_text(&v) + "\n");
          }
        }
      }
      line(out, L2 + 4, "Working Dir:\t" + str_at(c, {"workingDir"}) + "\n");
    }
  }
  line(out, L2 + 2, "Image Pull Secrets:\n");
  if (const json* secrets = find_path(task, {"template", "spec", "imagePullSecrets"}); secrets && secrets->is_array()) {
    for (const auto& s : *secrets) line(out, L2 + 3, "Name:     \t" + str_at(s, {"name"}) + "\n");
  }
  line(out, L2 + 2, "Restart Policy:   \t" + str_at(task, {"template", "spec", "restartPolicy"}) + "\n");
}

/// The time an event first happened, for ordering (firstTimestamp, else eventTime, else lastTimestamp).
std::string first_seen_key(const json& ev) {
  for (auto key : {"firstTimestamp", "eventTime", "lastTimestamp"}) {
    if (auto t = parse_time(str_at(ev, {key}))) return format_time(*t) + str_at(ev, {key});
  }
  return "";
}

std::string since_at(const json& ev, std::string_view key, std::chrono::system_clock::time_point now) {
  auto t = parse_time(str_at(ev, {key}));
  if (!t) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string vcctl_job_list(const std::vector<json>& jobs, bool all_namespaces) {
  if (jobs.empty()) return "No resources found\n";
  // One lookup per object level and no string per cell: this prints a row per job.
  auto member = [](const json* o, std::string_view key) -> const json* {
    if (!o || !o->is_object()) return nullptr;
    auto it = o->find(key);
    return it == o->end() ? nullptr : &*it;
  };
  auto text = [&](const json* o, std::string_view key) -> std::string_view {
    const json* v = member(o, key);
    return v && v->is_string() ? std::string_view(v->get_ref<const std::string&>()) : std::string_view();
  };
  auto integer = [&](const json* o, std::string_view key) -> long long {
    const json* v = member(o, key);
    return v ? as_int(*v) : 0;
  };
  std::size_t name_len = 4, ns_len = 9;  // len("Name"), len("Namespace")
  for (const auto& j : jobs) {
    const json* md = member(&j, "metadata");
    name_len = std::max(name_len, text(md, "name").size());
    ns_len = std::max(ns_len, text(md, "namespace").size());
  }
  name_len += 3;
  ns_len += 3;
  static constexpr std::size_t kWidths[] = {15, 12, 12, 12, 6, 10, 10, 12, 10, 12, 10};
  std::string out;
  // Go's %-*s: pads to a width in code points.
  auto cell = [&out](std::string_view v, std::size_t width) {
    out += v;
    std::size_t w = detail::rune_count(v);
    if (w < width) out.append(width - w, ' ');
  };
  auto number = [&](long long v, std::size_t width) {
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;  // snprintf costs 10x as much
    cell(std::string_view(buf, static_cast<std::size_t>(end - buf)), width);
  };
  if (all_namespaces) cell("Namespace", ns_len);
  cell("Name", name_len);
  static constexpr std::string_view kHeader[] = {"Creation", "Phase",  "JobType", "Replicas", "Min",       "Pending",
                                                 "Running",  "Succeeded", "Failed",  "Unknown",  "RetryCount"};
  for (std::size_t i = 0; i < std::size(kHeader); ++i) cell(kHeader[i], kWidths[i]);
  out += '\n';
  for (const auto& j : jobs) {
    const json* md = member(&j, "metadata");
    const json* status = member(&j, "status");
    long long replicas = 0;
    if (const json* tasks = member(member(&j, "spec"), "tasks"); tasks && tasks->is_array()) {
      for (const auto& t : *tasks) replicas += integer(&t, "replicas");
    }
    std::string_view job_type = text(member(md, "labels"), "volcano.sh/job-type");
    if (job_type.empty()) job_type = "Batch";
    if (all_namespaces) cell(text(md, "namespace"), ns_len);
    cell(text(md, "name"), name_len);
    cell(creation_date(j), kWidths[0]);
    cell(text(member(status, "state"), "phase"), kWidths[1]);
    cell(job_type, kWidths[2]);
    number(replicas, kWidths[3]);
    static constexpr std::string_view kCounters[] = {"minAvailable", "pending", "running", "succeeded",
                                                     "failed",       "unknown", "retryCount"};
    for (std::size_t i = 0; i < std::size(kCounters); ++i) number(integer(status, kCounters[i]), kWidths[4 + i]);
    out += '\n';
  }
  return out;
}

std::string vcctl_queue_list(const std::vector<json>& queues, const std::vector<json>& podgroups) {
  if (queues.empty()) return "No resources found\n";
  auto row = [](const std::vector<std::string>& cells) {
    std::string out = pad_right(cells[0], 25);
    for (std::size_t i = 1; i < cells.size(); ++i) out += pad_right(cells[i], 8);
    return out + "\n";
  };
  std::string out =
      row({"Name", "Weight", "State", "Parent", "Inqueue", "Pending", "Running", "Unknown", "Completed"});
  for (const auto& q : queues) {
    const std::string name = str_at(q, {"metadata", "name"});
    long long inqueue = 0, pending = 0, running = 0, unknown = 0, completed = 0;
    for (const auto& pg : podgroups) {
      if (str_at(pg, {"spec", "queue"}) != name) continue;
      const std::string phase = str_at(pg, {"status", "phase"});
      if (phase == "Inqueue") ++inqueue;
      if (phase == "Pending") ++pending;
      if (phase == "Running") ++running;
      if (phase == "Unknown") ++unknown;
      if (phase == "Completed") ++completed;
    }
    out += row({name, num(int_at(q, {"spec", "weight"})), str_at(q, {"status", "state"}), str_at(q, {"spec", "parent"}),
                num(inqueue), num(pending), num(running), num(unknown), num(completed)});
  }
  return out;
}

std::string queue_tree(const std::vector<json>& queues) {
  if (queues.empty()) return "No resources found\n";
  auto list_text = [](const json* m) {
    if (m == nullptr || !m->is_object() || m->empty()) return std::string("<none>");
    std::string out;
    for (const auto& [k, v] : m->items()) {  // nlohmann keeps object keys sorted
      out += (out.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    return out;
  };
  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < queues.size(); ++i) by_name.emplace(str_at(queues[i], {"metadata", "name"}), i);
  std::map<std::string, std::vector<std::string>> children;  // parent -> names, sorted
  std::vector<std::string> tops;
  for (const auto& [name, i] : by_name) {
    std::string parent = str_at(queues[i], {"spec", "parent"});
    if (parent.empty() && name != "root" && by_name.count("root")) parent = "root";
    if (parent.empty() || parent == name || !by_name.count(parent)) {
      tops.push_back(name);
    } else {
      children[parent].push_back(name);
    }
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "WEIGHT", "STATE", "DESERVED", "GUARANTEE", "CAPABILITY"}};
  std::set<std::string> shown;
  auto visit = [&](auto&& self, const std::string& name, int depth) -> void {
    if (!shown.insert(name).second) return;
    const json& q = queues[by_name.at(name)];
    rows.push_back({std::string(static_cast<std::size_t>(depth) * 2, ' ') + name, num(int_at(q, {"spec", "weight"})),
                    str_at(q, {"status", "state"}), list_text(find_path(q, {"spec", "deserved"})),
                    list_text(find_path(q, {"spec", "guarantee", "resource"})), list_text(find_path(q, {"spec", "capability"}))});
    for (const auto& c : children[name]) self(self, c, depth + 1);
  };
  for (const auto& t : tops) visit(visit, t, 0);
  for (const auto& [name, i] : by_name) visit(visit, name, 0);  // queues on a parent cycle
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line_text;
    for (std::size_t c = 0; c < r.size(); ++c) line_text += c + 1 < r.size() ? pad_right(r[c], width[c] + 3) : r[c];
    out += line_text + "\n";
  }
  return out;
}

std::string vcctl_job_view(const json& job, const std::vector<json>& events, std::chrono::system_clock::time_point now) {
  std::string out;
  auto map_or_none = [&](std::string_view key) {
    const json* m = find_path(job, {"metadata", key});
    return m && m->is_object() && !m->empty() ? detail::go_json(*m) : std::string("<none>");
  };
  line(out, 0, "Name:       \t" + str_at(job, {"metadata", "name"}) + "\n");
  line(out, 0, "Namespace:  \t" + str_at(job, {"metadata", "namespace"}) + "\n");
  line(out, 0, "Labels:     \t" + map_or_none("labels") + "\n");
  line(out, 0, "Annotations:\t" + map_or_none("annotations") + "\n");
  line(out, 0, "API Version:\t" + str_at(job, {"apiVersion"}) + "\n");
  line(out, 0, "Kind:       \t" + str_at(job, {"kind"}) + "\n");

  line(out, 0, "Metadata:\n");
  line(out, 1, "Creation Timestamp:\t" + go_time_at(job, {"metadata", "creationTimestamp"}) + "\n");
  line(out, 1, "Generate Name:     \t" + str_at(job, {"metadata", "generateName"}) + "\n");
  line(out, 1, "Generation:        \t" + num(int_at(job, {"metadata", "generation"})) + "\n");
  line(out, 1, "Resource Version:  \t" + str_at(job, {"metadata", "resourceVersion"}) + "\n");
  line(out, 1, "UID:               \t" + str_at(job, {"metadata", "uid"}) + "\n");

  line(out, 0, "Spec:\n");
  line(out, 1, "Min Available:     \t" + num(int_at(job, {"spec", "minAvailable"})) + "\n");
  line(out, 1, "Plugins:\n");
  const json* plugins = find_path(job, {"spec", "plugins"});
  auto plugin_args = [&](const std::string& key) {
    const json* v = plugins ? find_path(*plugins, {key}) : nullptr;
    return v && v->is_array() ? detail::go_sprint(*v) : std::string("[]");
  };
  line(out, 2, "Env:\t" + plugin_args("env") + "\n");
  line(out, 2, "Ssh:\t" + plugin_args("ssh") + "\n");
  if (plugins && plugins->is_object()) {
    for (const auto& [k, v] : plugins->items()) {
      if (k != "env" && k != "ssh") line(out, 2, capitalized(k) + ":\t" + plugin_args(k) + "\n");
    }
  }
  line(out, 1, "Scheduler Name:    \t" + str_at(job, {"spec", "schedulerName"}) + "\n");
  line(out, 1, "Tasks:\n");
  if (const json* tasks = find_path(job, {"spec", "tasks"}); tasks && tasks->is_array()) {
    for (const auto& t : *tasks) print_task(out, t);
  }

  line(out, 0, "Status:\n");
  static constexpr std::pair<std::string_view, std::string_view> kCounters[] = {
      {"Succeeded:    \t", "succeeded"}, {"Pending:      \t", "pending"},  {"Running:      \t", "running"},
      {"Failed:       \t", "failed"},    {"Terminating:  \t", "terminating"}, {"Unknown:      \t", "unknown"},
      {"RetryCount:   \t", "retryCount"}, {"Min Available:\t", "minAvailable"}, {"Version:      \t", "version"},
  };
  for (const auto& [label, key] : kCounters) {
    long long v = int_at(job, {"status", key});
    if (v > 0) line(out, 1, std::string(label) + num(v) + "\n");
  }
  line(out, 1, "State:\n");
  line(out, 2, "Phase:\t" + str_at(job, {"status", "state", "phase"}) + "\n");
  if (const json* cr = find_path(job, {"status", "controlledResources"}); cr && cr->is_object() && !cr->empty()) {
    line(out, 1, "Controlled Resources:\n");
    for (const auto& [k, v] : cr->items()) {
      line(out, 2, k + ": \t" + (v.is_string() ? v.get<std::string>() : detail::go_sprint(v)) + "\n");
    }
  }
  if (const json* conds = find_path(job, {"status", "conditions"}); conds && conds->is_array() && !conds->empty()) {
    line(out, 1, "Conditions:\n    Status\tTransitionTime\n");
    for (const auto& c : *conds) {
      line(out, 2, str_at(c, {"status"}) + " \t" + go_time_at(c, {"lastTransitionTime"}) + " \n");
    }
  }

  // PrintEvents
  if (events.empty()) {
    line(out, 0, "Events: \t<none>\n");
    return out;
  }
  std::vector<const json*> sorted;
  for (const auto& e : events) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const json* a, const json* b) { return first_seen_key(*a) < first_seen_key(*b); });
  auto event_line = [](const std::string& type, const std::string& reason, const std::string& age,
                       const std::string& from, const std::string& message) {
    return pad_right(type, 15) + "\t" + pad_right(reason, 40) + "\t" + pad_right(age, 30) + "\t" + pad_right(from, 40) +
           "\t" + message + "\n";
  };
  out += "Events:\n" + event_line("Type", "Reason", "Age", "Form", "Message");
  out += event_line("-------", "-------", "-------", "-------", "-------");
  for (const json* e : sorted) {
    std::string first = since_at(*e, "firstTimestamp", now);
    if (!parse_time(str_at(*e, {"firstTimestamp"}))) first = since_at(*e, "eventTime", now);
    long long count = int_at(*e, {"count"});
    std::string interval = count > 1 ? since_at(*e, "lastTimestamp", now) + " (x" + num(count) + " over " + first + ")"
                                     : first;
    std::string from = str_at(*e, {"source", "component"});
    if (!str_at(*e, {"source", "host"}).empty()) from += ", " + str_at(*e, {"source", "host"});
    out += event_line(str_at(*e, {"type"}), str_at(*e, {"reason"}), interval, from, trim(str_at(*e, {"message"})));
  }
  return out;
}

}  // namespace kai::output
