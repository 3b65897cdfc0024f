#include "lib/output/printer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/output/gofmt.h"

namespace kai::output {
namespace {

using detail::find_path;
using detail::str_at;

constexpr std::string_view kAllowedFormats =
    "custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,wide,yaml";

/// Reads a whole file; on failure returns false with Go's os error text in `err`
/// ("open x: no such file or directory", "read x: is a directory").
bool read_file(const std::string& path, std::string& out, std::string& err) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    err = "read " + path + ": is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::string e = std::strerror(errno);
    if (!e.empty()) e[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(e[0])));
    err = "open " + path + ": " + e;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// ---- custom columns ----

struct Column {
  std::string header;
  JsonPath path;
};

/// kubectl's RelaxedJSONPathExpression: `a.b`, `.a.b`, `{a.b}`, `{.a.b}` -> `{.a.b}`.
std::string relaxed_expression(const std::string& e) {
  if (e.empty()) return e;
  std::string inner;
  if (e.size() >= 2 && e.front() == '{' && e.back() == '}') {
    inner = e.substr(1, e.size() - 2);
    if (!inner.empty() && inner.front() == '.') inner.erase(0, 1);
  } else {
    inner = e;
    if (inner.front() == '.') inner.erase(0, 1);
  }
  if (inner.empty() || inner.find_first_of("{}") != std::string::npos) {
    throw Error::usage(
        "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or "
        "'{.name1.name2}'");
  }
  return "{." + inner + "}";
}

/// Splits a custom-columns spec on the commas that separate columns. Commas inside [...] or
/// {...} belong to the expression (kubectl splits on every comma and rejects such specs).
std::vector<std::string> split_columns(const std::string& spec) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char c : spec) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      if (depth > 0) quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  parts.push_back(std::move(cur));
  return parts;
}

std::vector<Column> parse_columns(const std::string& spec) {
  if (spec.empty()) throw Error::usage("custom-columns format specified but no custom columns given");
  std::vector<Column> cols;
  for (const auto& part : split_columns(spec)) {
    auto colon = part.find(':');
    if (colon == std::string::npos) {
      throw Error::usage("unexpected custom-columns spec: " + part + ", expected <header>:<json-path-expr>");
    }
    Column c;
    c.header = part.substr(0, colon);
    c.path = JsonPath::parse(relaxed_expression(part.substr(colon + 1)));
    cols.push_back(std::move(c));
  }
  return cols;
}

std::vector<std::string> split_ws(const std::string& line) {
  std::istringstream in(line);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

/// custom-columns-file: a header line and a spec line, whitespace separated; returned as the
/// equivalent inline spec.
std::string columns_file_to_spec(const std::string& text) {
  std::istringstream in(text);
  std::string header_line, spec_line;
  if (!std::getline(in, header_line)) {
    throw Error::usage(
        "invalid template, missing header line. Expected format is one line of space separated headers, one "
        "line of space separated column specs.");
  }
  if (!std::getline(in, spec_line)) {
    throw Error::usage(
        "invalid template, missing spec line. Expected format is one line of space separated headers, one line "
        "of space separated column specs.");
  }
  auto headers = split_ws(header_line);
  auto specs = split_ws(spec_line);
  if (headers.size() != specs.size()) {
    throw Error::usage("number of headers (" + std::to_string(headers.size()) + ") and field specifications (" +
                       std::to_string(specs.size()) + ") don't match");
  }
  std::string spec;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i) spec += ',';
    spec += headers[i] + ":" + specs[i];
  }
  return spec;
}

std::string print_custom_columns(const std::string& spec, const std::vector<json>& objs, bool no_headers) {
  auto cols = parse_columns(spec);
  std::vector<std::string> header;
  if (!no_headers) {
    for (const auto& c : cols) header.push_back(c.header);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& obj : objs) {
    std::vector<std::string> row;
    for (const auto& c : cols) {
      auto values = c.path.evaluate(obj);
      if (values.empty() || values.front().empty()) {
        row.push_back("<none>");
        continue;
      }
      std::string cell;
      bool first = true;
      for (const auto& set : values) {
        for (const auto& v : set) {
          if (!first) cell += ',';
          first = false;
          cell += detail::go_sprint(v);
        }
      }
      row.push_back(std::move(cell));
    }
    rows.push_back(std::move(row));
  }
  return render_table(header, rows);
}

// ---- cells ----

std::string name_of(const json& o) { return str_at(o, {"metadata", "name"}); }

/// A CRD additionalPrinterColumn cell as the apiextensions table convertor makes it;
/// missing or null values print `<none>` (kubectl's rendering of a nil cell).
enum class ColType { String, Integer, Date };
std::string crd_cell(const json& o, std::initializer_list<std::string_view> path, ColType type,
                     std::chrono::system_clock::time_point now) {
  const json* v = find_path(o, path);
  if (!v || v->is_null()) return "<none>";
  switch (type) {
    case ColType::String:
      if (v->is_object() || v->is_array()) return detail::go_json(*v);
      return detail::go_sprint(*v);
    case ColType::Integer:
      if (v->is_number()) return std::to_string(detail::as_int(*v));
      return "<none>";
    case ColType::Date:
      if (!v->is_string()) return "<none>";
      if (!parse_time(v->get<std::string>())) return "<invalid>";
      return age(v->get<std::string>(), now);
  }
  return "<none>";
}

std::string or_none(std::string s) { return s.empty() ? "<none>" : s; }

bool condition_true(const json& obj, std::string_view type) {
  const json* conds = find_path(obj, {"status", "conditions"});
  if (!conds || !conds->is_array()) return false;
  for (const auto& c : *conds) {
    if (str_at(c, {"type"}) == type) return str_at(c, {"status"}) == "True";
  }
  return false;
}

/// Sum of a GPU quantity: integers and integer strings ("2"); anything else counts 0.
long long gpu_count(const json* v) {
  if (!v) return 0;
  if (v->is_number()) return detail::as_int(*v);
  if (!v->is_string()) return 0;
  const auto& s = v->get_ref<const std::string&>();
  long long n = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

/// kai's GPUS column for pods: annotation kai.dev/gpus, else the containers' nvidia.com/gpu
/// requests (limits when no request, as Kubernetes defaults extended resources).
std::string pod_gpus(const json& pod) {
  // Device indices the local cluster gave the pod on its node; else how many it asks for.
  std::string ann = str_at(pod, {"metadata", "annotations", "kai.dev/gpu-ids"});
  if (!ann.empty()) return ann;
  long long total = 0;
  const json* cs = find_path(pod, {"spec", "containers"});
  if (cs && cs->is_array()) {
    for (const auto& c : *cs) {
      const json* q = find_path(c, {"resources", "requests", "nvidia.com/gpu"});
      if (!q) q = find_path(c, {"resources", "limits", "nvidia.com/gpu"});
      total += gpu_count(q);
    }
  }
  return std::to_string(total);
}

std::string node_gpus(const json& node) {
  const json* q = find_path(node, {"status", "allocatable", "nvidia.com/gpu"});
  if (!q) return "0";
  return q->is_string() ? q->get<std::string>() : detail::go_sprint(*q);
}

std::optional<std::chrono::system_clock::time_point> time_at(const json& o,
                                                             std::initializer_list<std::string_view> path) {
  return parse_time(str_at(o, path));
}

std::string since(const std::optional<std::chrono::system_clock::time_point>& t,
                  std::chrono::system_clock::time_point now) {
  if (!t) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

/// kubectl's printPod (pkg/printers/internalversion): READY, STATUS (reason), RESTARTS.
std::vector<std::string> pod_row(const json& pod, bool wide, std::chrono::system_clock::time_point now) {
  const json empty = json::object();
  const json* spec = find_path(pod, {"spec"});
  if (!spec) spec = &empty;
  const json* containers = find_path(*spec, {"containers"});
  const json* init_specs = find_path(*spec, {"initContainers"});
  long long total = containers && containers->is_array() ? static_cast<long long>(containers->size()) : 0;
  std::map<std::string, bool> restartable;  // init container name -> restartPolicy Always (sidecar)
  long long init_count = 0;
  if (init_specs && init_specs->is_array()) {
    init_count = static_cast<long long>(init_specs->size());
    for (const auto& c : *init_specs) {
      bool r = str_at(c, {"restartPolicy"}) == "Always";
      restartable[str_at(c, {"name"})] = r;
      if (r) ++total;
    }
  }
  const std::string phase = str_at(pod, {"status", "phase"});
  std::string reason = phase;
  if (!str_at(pod, {"status", "reason"}).empty()) reason = str_at(pod, {"status", "reason"});
  if (const json* conds = find_path(pod, {"status", "conditions"}); conds && conds->is_array()) {
    for (const auto& c : *conds) {
      if (str_at(c, {"type"}) == "PodScheduled" && str_at(c, {"reason"}) == "SchedulingGated") {
        reason = "SchedulingGated";
      }
    }
  }

  long long restarts = 0, sidecar_restarts = 0, ready = 0;
  std::optional<std::chrono::system_clock::time_point> last_restart, last_sidecar_restart;
  auto later = [](auto& cur, const auto& t) {
    if (t && (!cur || *cur < *t)) cur = t;
  };
  bool initializing = false;
  if (const json* st = find_path(pod, {"status", "initContainerStatuses"}); st && st->is_array()) {
    for (std::size_t i = 0; i < st->size(); ++i) {
      const json& c = (*st)[i];
      long long rc = detail::as_int(c.value("restartCount", json(0)));
      restarts += rc;
      auto finished = time_at(c, {"lastState", "terminated", "finishedAt"});
      later(last_restart, finished);
      const bool is_sidecar = restartable[str_at(c, {"name"})];
      if (is_sidecar) {
        sidecar_restarts += rc;
        later(last_sidecar_restart, finished);
      }
      const json* term = find_path(c, {"state", "terminated"});
      const json* wait = find_path(c, {"state", "waiting"});
      if (term && detail::as_int(term->value("exitCode", json(0))) == 0) continue;
      const json* started = find_path(c, {"started"});
      if (is_sidecar && started && started->is_boolean() && started->get<bool>()) {
        if (c.value("ready", false)) ++ready;
        continue;
      }
      if (term) {
        std::string r = str_at(*term, {"reason"});
        if (r.empty()) {
          long long sig = detail::as_int(term->value("signal", json(0)));
          reason = sig != 0 ? "Init:Signal:" + std::to_string(sig)
                            : "Init:ExitCode:" + std::to_string(detail::as_int(term->value("exitCode", json(0))));
        } else {
          reason = "Init:" + r;
        }
      } else if (wait && !str_at(*wait, {"reason"}).empty() && str_at(*wait, {"reason"}) != "PodInitializing") {
        reason = "Init:" + str_at(*wait, {"reason"});
      } else {
        reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_count);
      }
      initializing = true;
      break;
    }
  }
  if (!initializing || condition_true(pod, "Initialized")) {
    restarts = sidecar_restarts;
    last_restart = last_sidecar_restart;
    bool has_running = false;
    if (const json* st = find_path(pod, {"status", "containerStatuses"}); st && st->is_array()) {
      for (auto it = st->rbegin(); it != st->rend(); ++it) {
        const json& c = *it;
        restarts += detail::as_int(c.value("restartCount", json(0)));
        later(last_restart, time_at(c, {"lastState", "terminated", "finishedAt"}));
        const json* term = find_path(c, {"state", "terminated"});
        const std::string wait_reason = str_at(c, {"state", "waiting", "reason"});
        if (!wait_reason.empty()) {
          reason = wait_reason;
        } else if (term && !str_at(*term, {"reason"}).empty()) {
          reason = str_at(*term, {"reason"});
        } else if (term) {
          long long sig = detail::as_int(term->value("signal", json(0)));
          reason = sig != 0 ? "Signal:" + std::to_string(sig)
                            : "ExitCode:" + std::to_string(detail::as_int(term->value("exitCode", json(0))));
        } else if (c.value("ready", false) && find_path(c, {"state", "running"})) {
          has_running = true;
          ++ready;
        }
      }
    }
    if (reason == "Completed" && has_running) reason = condition_true(pod, "Ready") ? "Running" : "NotReady";
  }
  const bool deleting = find_path(pod, {"metadata", "deletionTimestamp"}) != nullptr &&
                        !find_path(pod, {"metadata", "deletionTimestamp"})->is_null();
  if (deleting && str_at(pod, {"status", "reason"}) == "NodeLost") {
    reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }
  std::string restarts_str = std::to_string(restarts);
  if (restarts != 0 && last_restart) restarts_str += " (" + since(last_restart, now) + " ago)";

  std::vector<std::string> row{name_of(pod), std::to_string(ready) + "/" + std::to_string(total), reason,
                               restarts_str, age(str_at(pod, {"metadata", "creationTimestamp"}), now)};
  row.push_back(or_none(str_at(pod, {"spec", "nodeName"})));
  row.push_back(pod_gpus(pod));
  if (wide) {
    std::string ip;
    if (const json* ips = find_path(pod, {"status", "podIPs"}); ips && ips->is_array() && !ips->empty()) {
      ip = str_at((*ips)[0], {"ip"});
    }
    if (ip.empty()) ip = str_at(pod, {"status", "podIP"});
    std::string gates = "<none>";
    if (const json* rg = find_path(*spec, {"readinessGates"}); rg && rg->is_array() && !rg->empty()) {
      long long ok = 0;
      for (const auto& g : *rg) ok += condition_true(pod, str_at(g, {"conditionType"})) ? 1 : 0;
      gates = std::to_string(ok) + "/" + std::to_string(rg->size());
    }
    row.push_back(or_none(ip));
    row.push_back(or_none(str_at(pod, {"status", "nominatedNodeName"})));
    row.push_back(gates);
  }
  return row;
}

std::string node_address(const json& node, std::string_view type) {
  const json* addrs = find_path(node, {"status", "addresses"});
  if (addrs && addrs->is_array()) {
    for (const auto& a : *addrs) {
      if (str_at(a, {"type"}) == type) return str_at(a, {"address"});
    }
  }
  return "<none>";
}

/// kubectl's printNode: Ready/NotReady/Unknown, ",SchedulingDisabled", roles from labels.
std::vector<std::string> node_row(const json& node, bool wide, std::chrono::system_clock::time_point now) {
  std::string status = "Unknown";
  if (const json* conds = find_path(node, {"status", "conditions"}); conds && conds->is_array()) {
    for (const auto& c : *conds) {
      if (str_at(c, {"type"}) == "Ready") status = str_at(c, {"status"}) == "True" ? "Ready" : "NotReady";
    }
  }
  const json* unsched = find_path(node, {"spec", "unschedulable"});
  if (unsched && unsched->is_boolean() && unsched->get<bool>()) status += ",SchedulingDisabled";
  std::vector<std::string> roles;
  if (const json* labels = find_path(node, {"metadata", "labels"}); labels && labels->is_object()) {
    constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
    for (const auto& [k, v] : labels->items()) {
      if (k.starts_with(kRolePrefix) && k.size() > kRolePrefix.size()) {
        roles.push_back(k.substr(kRolePrefix.size()));
      } else if (k == "kubernetes.io/role" && v.is_string() && !v.get<std::string>().empty()) {
        roles.push_back(v.get<std::string>());
      }
    }
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  std::string role_str;
  for (const auto& r : roles) role_str += (role_str.empty() ? "" : ",") + r;
  std::vector<std::string> row{name_of(node), status, or_none(role_str),
                               age(str_at(node, {"metadata", "creationTimestamp"}), now),
                               str_at(node, {"status", "nodeInfo", "kubeletVersion"})};
  if (wide) {
    auto unknown = [](std::string s) { return s.empty() ? std::string("<unknown>") : s; };
    row.push_back(node_address(node, "InternalIP"));
    row.push_back(node_address(node, "ExternalIP"));
    row.push_back(unknown(str_at(node, {"status", "nodeInfo", "osImage"})));
    row.push_back(unknown(str_at(node, {"status", "nodeInfo", "kernelVersion"})));
    row.push_back(unknown(str_at(node, {"status", "nodeInfo", "containerRuntimeVersion"})));
    row.push_back(node_gpus(node));
  }
  return row;
}

/// kubectl's printEvent.
std::vector<std::string> event_row(const json& ev, bool wide, std::chrono::system_clock::time_point now) {
  std::string first = since(time_at(ev, {"firstTimestamp"}), now);
  if (!time_at(ev, {"firstTimestamp"})) first = since(time_at(ev, {"eventTime"}), now);
  std::string last = time_at(ev, {"lastTimestamp"}) ? since(time_at(ev, {"lastTimestamp"}), now) : first;
  long long count = detail::as_int(ev.value("count", json(0)));
  if (const json* series = find_path(ev, {"series"}); series && series->is_object()) {
    last = since(time_at(*series, {"lastObservedTime"}), now);
    count = detail::as_int(series->value("count", json(0)));
  } else if (count == 0) {
    count = 1;
  }
  std::string kind = str_at(ev, {"involvedObject", "kind"});
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string target = kind;
  if (!str_at(ev, {"involvedObject", "name"}).empty()) target += "/" + str_at(ev, {"involvedObject", "name"});
  std::string message = str_at(ev, {"message"});
  auto b = message.find_first_not_of(" \t\r\n");
  auto e = message.find_last_not_of(" \t\r\n");
  message = b == std::string::npos ? "" : message.substr(b, e - b + 1);
  if (!wide) return {last, str_at(ev, {"type"}), str_at(ev, {"reason"}), target, message};
  std::string component = str_at(ev, {"source", "component"});
  if (component.empty()) component = str_at(ev, {"reportingComponent"});
  std::string host = str_at(ev, {"source", "host"});
  if (host.empty()) host = str_at(ev, {"reportingInstance"});
  std::string source = host.empty() ? component : component + ", " + host;
  return {last,    str_at(ev, {"type"}), str_at(ev, {"reason"}), target, str_at(ev, {"involvedObject", "fieldPath"}),
          source,  message,              first,                  std::to_string(count), name_of(ev)};
}

struct ResourceTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

/// The resource's own columns (what the server's Table would hold), before -A/-L/--show-labels.
ResourceTable resource_table(const api::ResourceInfo& res, const std::vector<json>& objs, bool wide,
                             std::chrono::system_clock::time_point now) {
  ResourceTable t;
  const std::string key = res.key();
  if (key == "batch.volcano.sh/jobs") {
    // vcjob CRD additionalPrinterColumns: STATUS, minAvailable, RUNNINGS, AGE, QUEUE (priority 1).
    t.header = {"NAME", "STATUS", "MINAVAILABLE", "RUNNINGS", "AGE"};
    if (wide) t.header.push_back("QUEUE");
    for (const auto& o : objs) {
      std::vector<std::string> r{name_of(o), crd_cell(o, {"status", "state", "phase"}, ColType::String, now),
                                 crd_cell(o, {"status", "minAvailable"}, ColType::Integer, now),
                                 crd_cell(o, {"status", "running"}, ColType::Integer, now),
                                 crd_cell(o, {"metadata", "creationTimestamp"}, ColType::Date, now)};
      if (wide) r.push_back(crd_cell(o, {"spec", "queue"}, ColType::String, now));
      t.rows.push_back(std::move(r));
    }
  } else if (key == "scheduling.volcano.sh/podgroups") {
    // PodGroup CRD: STATUS, minMember, RUNNINGS, AGE, QUEUE (priority 1).
    t.header = {"NAME", "STATUS", "MINMEMBER", "RUNNINGS", "AGE"};
    if (wide) t.header.push_back("QUEUE");
    for (const auto& o : objs) {
      std::vector<std::string> r{name_of(o), crd_cell(o, {"status", "phase"}, ColType::String, now),
                                 crd_cell(o, {"spec", "minMember"}, ColType::Integer, now),
                                 crd_cell(o, {"status", "running"}, ColType::Integer, now),
                                 crd_cell(o, {"metadata", "creationTimestamp"}, ColType::Date, now)};
      if (wide) r.push_back(crd_cell(o, {"spec", "queue"}, ColType::String, now));
      t.rows.push_back(std::move(r));
    }
  } else if (key == "scheduling.volcano.sh/queues") {
    // Queue CRD declares only PARENT; a CRD with declared columns gets no automatic AGE.
    t.header = {"NAME", "PARENT"};
    for (const auto& o : objs) t.rows.push_back({name_of(o), crd_cell(o, {"spec", "parent"}, ColType::String, now)});
  } else if (key == "core/pods") {
    // kubectl's columns plus NODE and GPUS (device indices on the node), which a local cluster
    // user asks about first; -o wide adds kubectl's IP, NOMINATED NODE, READINESS GATES.
    t.header = {"NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE", "GPUS"};
    if (wide) t.header.insert(t.header.end(), {"IP", "NOMINATED NODE", "READINESS GATES"});
    for (const auto& o : objs) t.rows.push_back(pod_row(o, wide, now));
  } else if (key == "core/nodes") {
    t.header = {"NAME", "STATUS", "ROLES", "AGE", "VERSION"};
    if (wide) {
      t.header.insert(t.header.end(),
                      {"INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME", "GPUS"});
    }
    for (const auto& o : objs) t.rows.push_back(node_row(o, wide, now));
  } else if (key == "core/namespaces") {
    t.header = {"NAME", "STATUS", "AGE"};
    for (const auto& o : objs) {
      t.rows.push_back({name_of(o), str_at(o, {"status", "phase"}), age(str_at(o, {"metadata", "creationTimestamp"}), now)});
    }
  } else if (key == "core/events") {
    if (wide) {
      t.header = {"LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"};
    } else {
      t.header = {"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"};
    }
    for (const auto& o : objs) t.rows.push_back(event_row(o, wide, now));
  } else {
    // Commands and anything else: a CRD without printer columns gets NAME and AGE.
    t.header = {"NAME", "AGE"};
    for (const auto& o : objs) {
      t.rows.push_back({name_of(o), crd_cell(o, {"metadata", "creationTimestamp"}, ColType::Date, now)});
    }
  }
  return t;
}

}  // namespace

json server_table(const api::ResourceInfo& res, const std::vector<json>& objs, const std::string& object_mode,
                  bool column_definitions, std::chrono::system_clock::time_point now) {
  const ResourceTable wide = resource_table(res, objs, true, now);
  const ResourceTable narrow = resource_table(res, {}, false, now);  // the header without -o wide
  json cols = json::array();
  if (column_definitions) {
    for (std::size_t i = 0; i < wide.header.size(); ++i) {
      const std::string& h = wide.header[i];
      const bool shown = std::find(narrow.header.begin(), narrow.header.end(), h) != narrow.header.end();
      json c = {{"name", i == 0 && h == "NAME" ? std::string("Name") : h},
                {"type", h == "AGE" ? "date" : "string"},
                {"format", i == 0 && h == "NAME" ? "name" : ""},
                {"description", ""},
                {"priority", shown ? 0 : 1}};
      cols.push_back(std::move(c));
    }
  }
  json rows = json::array();
  for (std::size_t i = 0; i < objs.size(); ++i) {
    json row = {{"cells", wide.rows[i]}};
    if (object_mode == "Object") {
      row["object"] = objs[i];
    } else if (object_mode != "None") {
      json md = objs[i].value("metadata", json::object());
      md.erase("managedFields");
      row["object"] = {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", md}};
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", json::object()},
          {"columnDefinitions", cols}, {"rows", rows}};
}

namespace {

std::string format_labels(const json& o) {
  const json* labels = find_path(o, {"metadata", "labels"});
  if (!labels || !labels->is_object() || labels->empty()) return "<none>";
  std::string out;
  for (const auto& [k, v] : labels->items()) {
    if (!out.empty()) out += ',';
    out += k + "=" + (v.is_string() ? v.get<std::string>() : detail::go_sprint(v));
  }
  return out;
}

/// cli-runtime's decorateTable: NAMESPACE first, -L columns and LABELS last.
std::string print_table(const api::ResourceInfo& res, const std::vector<json>& objs, bool wide,
                        const PrintOptions& opts) {
  if (objs.empty()) return "";
  ResourceTable t = resource_table(res, objs, wide, opts.now);
  const bool with_ns = opts.with_namespace && res.namespaced;
  if (with_ns) t.header.insert(t.header.begin(), "NAMESPACE");
  for (const auto& label : opts.label_columns) {
    std::string h = label.substr(label.rfind('/') == std::string::npos ? 0 : label.rfind('/') + 1);
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::toupper(c); });
    t.header.push_back(h);
  }
  if (opts.show_labels) t.header.push_back("LABELS");
  for (std::size_t i = 0; i < objs.size(); ++i) {
    auto& row = t.rows[i];
    if (with_ns) row.insert(row.begin(), str_at(objs[i], {"metadata", "namespace"}));
    for (const auto& label : opts.label_columns) {
      const json* v = find_path(objs[i], {"metadata", "labels", label});
      row.push_back(v && v->is_string() ? v->get<std::string>() : "");
    }
    if (opts.show_labels) row.push_back(format_labels(objs[i]));
  }
  return render_table(opts.no_headers ? std::vector<std::string>{} : t.header, t.rows);
}

json without_managed_fields(json o) {
  if (o.is_object()) {
    auto it = o.find("metadata");
    if (it != o.end() && it->is_object()) it->erase("managedFields");
  }
  return o;
}

json as_list(const std::vector<json>& objs) {
  json items = json::array();
  for (const auto& o : objs) items.push_back(o);
  return json{{"apiVersion", "v1"}, {"items", std::move(items)}, {"kind", "List"},
              {"metadata", {{"resourceVersion", ""}}}};
}

}  // namespace

OutputSpec OutputSpec::parse(std::string_view value) {
  OutputSpec spec;
  if (value.empty()) return spec;
  if (value == "wide") {
    spec.format = Format::Wide;
    return spec;
  }
  if (value == "json") {
    spec.format = Format::Json;
    return spec;
  }
  if (value == "yaml") {
    spec.format = Format::Yaml;
    return spec;
  }
  if (value == "name") {
    spec.format = Format::Name;
    return spec;
  }
  struct Templated {
    std::string_view name;
    Format format;
    bool file;
  };
  static constexpr Templated kTemplated[] = {
      {"jsonpath", Format::JsonPath, false},          {"jsonpath-as-json", Format::JsonPathAsJson, false},
      {"jsonpath-file", Format::JsonPath, true},      {"custom-columns", Format::CustomColumns, false},
      {"custom-columns-file", Format::CustomColumns, true},
  };
  for (const auto& t : kTemplated) {
    std::string_view arg;
    if (value == t.name) {
      arg = {};
    } else if (value.size() > t.name.size() && value.starts_with(t.name) && value[t.name.size()] == '=') {
      arg = value.substr(t.name.size() + 1);
    } else {
      continue;
    }
    spec.format = t.format;
    spec.arg = std::string(arg);
    const bool columns = t.format == Format::CustomColumns;
    if (spec.arg.empty()) {
      throw Error::usage(columns ? "custom-columns format specified but no custom columns given"
                                 : "template format specified but no template given");
    }
    if (t.file) {
      std::string content, err;
      if (!read_file(spec.arg, content, err)) {
        throw Error::usage(columns ? "error reading template " + spec.arg + ", " + err
                                   : "error reading --template " + spec.arg + ", " + err);
      }
      spec.arg = columns ? columns_file_to_spec(content) : content;
    }
    if (columns) {
      parse_columns(spec.arg);  // validates
    } else {
      try {
        JsonPath::parse(spec.arg);
      } catch (const Error& e) {
        throw Error::usage("error parsing jsonpath " + spec.arg + ", " + e.what());
      }
    }
    return spec;
  }
  throw Error::usage("unable to match a printer suitable for the output format \"" + std::string(value) +
                     "\", allowed formats are: " + std::string(kAllowedFormats));
}

std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::string text;
  auto add = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) text += '\t';
      // A tab or newline inside a cell would start a new cell or line.
      for (char c : cells[i]) text += (c == '\t' || c == '\n') ? ' ' : c;
    }
    text += '\n';
  };
  if (!header.empty()) add(header);
  for (const auto& r : rows) add(r);
  return detail::tabwrite(text, 6, 3);
}

std::string print_objects(const api::ResourceInfo& res, const std::vector<json>& objs, bool single,
                          const OutputSpec& spec, const PrintOptions& opts) {
  // Tables and names never read managedFields: no copies for them (listing 2,000 pods).
  switch (spec.format) {
    case Format::Table: return print_table(res, objs, false, opts);
    case Format::Wide: return print_table(res, objs, true, opts);
    case Format::Name: {
      std::string out;
      for (const auto& o : objs) out += res.qualified_singular() + "/" + name_of(o) + "\n";
      return out;
    }
    default: break;
  }
  std::vector<json> clean;
  clean.reserve(objs.size());
  for (const auto& o : objs) clean.push_back(without_managed_fields(o));
  auto data = [&]() -> json { return single && clean.size() == 1 ? clean.front() : as_list(clean); };

  switch (spec.format) {
    case Format::Table:
    case Format::Wide:
    case Format::Name: break;  // printed above
    case Format::Json: return api::to_json(data());
    case Format::Yaml: return api::to_yaml(data());
    case Format::JsonPath:
    case Format::JsonPathAsJson: {
      auto jp = JsonPath::parse(spec.arg);
      try {
        if (spec.format == Format::JsonPath) return jp.execute(data(), true);
        // client-go's outputJSON mode: each expression's results as one indented JSON array.
        std::string out;
        for (auto& set : jp.evaluate(data())) {
          out += detail::go_json(json(std::move(set)), "    ");
          out += '\n';
        }
        return out;
      } catch (const Error& e) {
        throw Error::invalid("error executing jsonpath \"" + spec.arg + "\": " + e.what());
      }
    }
    case Format::CustomColumns: return print_custom_columns(spec.arg, clean, opts.no_headers);
  }
  return "";
}

}  // namespace kai::output
