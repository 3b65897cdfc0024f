// The snapshot's objects parsed into SnapshotModel, with errors that name the file, the object
// and the field; and snapshot_from_objects, which validates by building the model.

#include "lib/scheduler/model.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <unordered_map>

#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/api/quantity.h"

namespace kai::scheduler {
namespace {

constexpr const char* kGroupNameKey = "scheduling.k8s.io/group-name";
constexpr const char* kTaskSpecKey = "volcano.sh/task-spec";
constexpr const char* kPreemptableKey = "volcano.sh/preemptable";
constexpr const char* kTaskPriorityKey = "volcano.sh/task-priority";
constexpr const char* kSlaWaitingTime = "sla-waiting-time";
constexpr const char* kSlaWaitingTimePrefixed = "volcano.sh/sla-waiting-time";
constexpr const char* kHierarchyKey = "volcano.sh/hierarchy";
constexpr const char* kHierarchyWeightsKey = "volcano.sh/hierarchy-weights";
/// kube-scheduler's defaults for containers without a cpu or memory request (scores only).
constexpr double kDefaultMilliCpuRequest = 100;
constexpr double kDefaultMemoryRequest = 200.0 * 1024 * 1024;

/// How Kubernetes tells a scalar resource (Volcano's IsScalarResourceName): extended and
/// prefixed native resources (a name with a '/'), hugepages, attachable volumes, and
/// ephemeral-storage, which Volcano adds explicitly. Other plain names are not scheduled on.
bool is_scalar_resource(const std::string& name) {
  return name.find('/') != std::string::npos || name.rfind("hugepages-", 0) == 0 ||
         name.rfind("attachable-volumes-", 0) == 0 || name == "ephemeral-storage";
}

/// Go's strconv.ParseBool.
std::optional<bool> parse_go_bool(const std::string& s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") return false;
  return std::nullopt;
}

/// Quantities of one resource list, by name: milli-units for cpu and scalars, units otherwise.
using RawList = std::vector<std::pair<std::string, __int128>>;  // name -> nano-units

/// Reads one object with a path cursor; every error names `where` and the field.
class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
    throw Error::invalid(where_ + ": " + path + ": " + msg);
  }

  /// The value at a dotted path under `obj` (nullptr when absent or null).
  static const json* at(const json& obj, std::initializer_list<const char*> keys) {
    const json* cur = &obj;
    for (const char* k : keys) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(k);
      if (it == cur->end() || it->is_null()) return nullptr;
      cur = &*it;
    }
    return cur;
  }

  std::string str(const json* v, const std::string& path, const std::string& def = "") const {
    if (v == nullptr) return def;
    if (!v->is_string()) fail(path, std::string("expected a string, got ") + api::yaml_type_name(*v, true));
    return v->get<std::string>();
  }

  int64_t integer(const json* v, const std::string& path, int64_t def, int64_t lo, int64_t hi) const {
    if (v == nullptr) return def;
    int64_t out = 0;
    if (v->is_number_integer()) {
      out = v->get<int64_t>();
    } else if (v->is_number_unsigned()) {
      out = v->get<uint64_t>() > static_cast<uint64_t>(hi) ? hi + 1 : static_cast<int64_t>(v->get<uint64_t>());
    } else {
      fail(path, std::string("expected an integer, got ") + api::yaml_type_name(*v, true));
    }
    if (out < lo || out > hi) {
      fail(path, "Invalid value: " + std::to_string(out) + ": must be between " + std::to_string(lo) + " and " +
                     std::to_string(hi));
    }
    return out;
  }

  bool boolean(const json* v, const std::string& path, bool def) const {
    if (v == nullptr) return def;
    if (!v->is_boolean()) fail(path, std::string("expected a boolean, got ") + api::yaml_type_name(*v, true));
    return v->get<bool>();
  }

  const json* object(const json* v, const std::string& path) const {
    if (v != nullptr && !v->is_object()) fail(path, std::string("expected a map, got ") + api::yaml_type_name(*v, true));
    return v;
  }

  const json* array(const json* v, const std::string& path) const {
    if (v != nullptr && !v->is_array()) fail(path, std::string("expected a sequence, got ") + api::yaml_type_name(*v, true));
    return v;
  }

  /// A map of strings (labels, annotations, nodeSelector), sorted by key.
  std::vector<std::pair<std::string, std::string>> string_map(const json* v, const std::string& path) const {
    std::vector<std::pair<std::string, std::string>> out;
    if (object(v, path) == nullptr) return out;
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (!it->is_string()) {
        fail(path + "[" + it.key() + "]", std::string("expected a string, got ") + api::yaml_type_name(*it, true));
      }
      out.emplace_back(it.key(), it->get<std::string>());
    }
    return out;  // nlohmann's object keeps keys sorted
  }

  /// A Kubernetes ResourceList; negative quantities are refused.
  RawList resource_list(const json* v, const std::string& path) const {
    RawList out;
    if (object(v, path) == nullptr) return out;
    for (auto it = v->begin(); it != v->end(); ++it) {
      const std::string p = path + "[" + it.key() + "]";
      std::string text;
      if (it->is_string()) {
        text = it->get<std::string>();
      } else if (it->is_number()) {
        text = it->dump();
      } else {
        fail(p, std::string("expected a quantity, got ") + api::yaml_type_name(*it, true));
      }
      api::Quantity q;
      try {
        q = api::Quantity::parse(text);
      } catch (const Error& e) {
        fail(p, e.what());
      }
      if (q.is_negative()) fail(p, "Invalid value: \"" + text + "\": must be greater than or equal to 0");
      out.emplace_back(it.key(), q.nano());
    }
    return out;
  }

  Nanos time(const json* v, const std::string& path) const {
    if (v == nullptr) return 0;
    const std::string s = str(v, path);
    Nanos out = 0;
    if (!parse_rfc3339(s, out)) fail(path, "invalid time \"" + s + "\": expected RFC 3339 such as 2024-05-01T10:00:00Z");
    return out;
  }

 private:
  std::string where_;
};

const std::string* find_value(const std::vector<std::pair<std::string, std::string>>& kv, const std::string& key) {
  for (const auto& [k, v] : kv) {
    if (k == key) return &v;
  }
  return nullptr;
}

/// Nano-units to Volcano's units: milli for cpu and scalars, whole units for memory and pods
/// (Kubernetes' MilliValue() and Value(), rounding up).
double volcano_value(const std::string& name, __int128 nano) {
  if (name == "memory" || name == "pods") {
    __int128 units = nano / 1'000'000'000;
    if (nano % 1'000'000'000 > 0) ++units;
    return static_cast<double>(units);
  }
  __int128 milli = nano / 1'000'000;
  if (nano % 1'000'000 > 0) ++milli;
  return static_cast<double>(milli);
}

/// Builds the dimension table and converts raw lists to Resources.
class Dims {
 public:
  void note(const RawList& l) {
    for (const auto& [name, q] : l) {
      if (is_scalar_resource(name)) scalars_.insert(name);
    }
  }
  void finish(SnapshotModel& m, const std::string& file) {
    m.dims = {"cpu", "memory"};
    for (const auto& s : scalars_) m.dims.push_back(s);
    if (m.dim_count() > kMaxDims) {
      throw Error::invalid(file + ": the snapshot names " + std::to_string(scalars_.size()) +
                           " extended resources; at most " + std::to_string(kMaxDims - 2) + " are supported");
    }
    for (int i = 0; i < m.dim_count(); ++i) index_[m.dims[static_cast<std::size_t>(i)]] = i;
    dims_ = m.dim_count();
  }
  /// The list as a Resource (names that are neither cpu, memory nor scalar are dropped).
  Resource convert(const RawList& l) const {
    Resource r(dims_);
    for (const auto& [name, q] : l) {
      auto it = index_.find(name);
      if (it == index_.end()) continue;
      r.set(it->second, r.get(it->second) + volcano_value(name, q));
    }
    return r;
  }

 private:
  std::set<std::string> scalars_;
  std::unordered_map<std::string, int> index_;
  int dims_ = 2;
};

/// Per-object intermediate state kept until the dimension table exists.
struct PendingNode {
  RawList allocatable, capacity;
};
struct PendingTask {
  RawList request;
  std::string group;  ///< the PodGroup name the pod names
};
struct PendingJob {
  RawList min_resources;
};
struct PendingQueue {
  RawList capability, deserved, guarantee;
};

struct PriorityClassInfo {
  int32_t value = 0;
  bool never = false;  ///< preemptionPolicy: Never
};

SelectorRequirement parse_requirement(const Reader& r, const json& v, const std::string& path, bool field) {
  SelectorRequirement req;
  r.object(&v, path);
  req.key = r.str(Reader::at(v, {"key"}), path + ".key");
  req.op = r.str(Reader::at(v, {"operator"}), path + ".operator");
  if (const json* vals = r.array(Reader::at(v, {"values"}), path + ".values")) {
    for (std::size_t i = 0; i < vals->size(); ++i) {
      req.values.push_back(r.str(&(*vals)[i], path + ".values[" + std::to_string(i) + "]"));
    }
  }
  if (req.key.empty()) r.fail(path + ".key", "Required value");
  static const std::set<std::string> kOps = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
  if (!kOps.count(req.op)) {
    r.fail(path + ".operator", "Unsupported value: \"" + req.op +
                                   "\": supported values: \"DoesNotExist\", \"Exists\", \"Gt\", \"In\", \"Lt\", \"NotIn\"");
  }
  if (field) {
    if (req.key != "metadata.name") r.fail(path + ".key", "Invalid value: \"" + req.key + "\": not a valid field selector key");
    if ((req.op != "In" && req.op != "NotIn") || req.values.size() != 1) {
      r.fail(path + ".values", "must be only one value when `operator` is 'In' or 'NotIn' for node field selector");
    }
    return req;
  }
  if ((req.op == "In" || req.op == "NotIn") && req.values.empty()) {
    r.fail(path + ".values", "Required value: must be specified when `operator` is 'In' or 'NotIn'");
  }
  if ((req.op == "Exists" || req.op == "DoesNotExist") && !req.values.empty()) {
    r.fail(path + ".values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  }
  if (req.op == "Gt" || req.op == "Lt") {
    if (req.values.size() != 1) r.fail(path + ".values", "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'");
    char* end = nullptr;
    std::strtoll(req.values[0].c_str(), &end, 10);
    if (req.values[0].empty() || *end != '\0') r.fail(path + ".values[0]", "Invalid value: \"" + req.values[0] + "\": must be an integer");
  }
  return req;
}

SelectorTerm parse_term(const Reader& r, const json& v, const std::string& path) {
  SelectorTerm t;
  r.object(&v, path);
  if (const json* ex = r.array(Reader::at(v, {"matchExpressions"}), path + ".matchExpressions")) {
    for (std::size_t i = 0; i < ex->size(); ++i) {
      t.expressions.push_back(parse_requirement(r, (*ex)[i], path + ".matchExpressions[" + std::to_string(i) + "]", false));
    }
  }
  if (const json* fs = r.array(Reader::at(v, {"matchFields"}), path + ".matchFields")) {
    for (std::size_t i = 0; i < fs->size(); ++i) {
      t.fields.push_back(parse_requirement(r, (*fs)[i], path + ".matchFields[" + std::to_string(i) + "]", true));
    }
  }
  return t;
}

Placement parse_placement(const Reader& r, const json& spec) {
  Placement p;
  p.node_selector = r.string_map(Reader::at(spec, {"nodeSelector"}), "spec.nodeSelector");
  const std::string na = "spec.affinity.nodeAffinity";
  if (const json* aff = r.object(Reader::at(spec, {"affinity", "nodeAffinity"}), na)) {
    const std::string rq = na + ".requiredDuringSchedulingIgnoredDuringExecution";
    if (const json* req = r.object(Reader::at(*aff, {"requiredDuringSchedulingIgnoredDuringExecution"}), rq)) {
      p.has_required = true;
      if (const json* terms = r.array(Reader::at(*req, {"nodeSelectorTerms"}), rq + ".nodeSelectorTerms")) {
        for (std::size_t i = 0; i < terms->size(); ++i) {
          p.required.push_back(parse_term(r, (*terms)[i], rq + ".nodeSelectorTerms[" + std::to_string(i) + "]"));
        }
      }
      if (p.required.empty()) r.fail(rq + ".nodeSelectorTerms", "Required value: must have at least one node selector term");
    }
    const std::string pf = na + ".preferredDuringSchedulingIgnoredDuringExecution";
    if (const json* pref = r.array(Reader::at(*aff, {"preferredDuringSchedulingIgnoredDuringExecution"}), pf)) {
      for (std::size_t i = 0; i < pref->size(); ++i) {
        const std::string pi = pf + "[" + std::to_string(i) + "]";
        const json& item = (*pref)[i];
        r.object(&item, pi);
        PreferredTerm t;
        t.weight = static_cast<int32_t>(r.integer(Reader::at(item, {"weight"}), pi + ".weight", 0, 1, 100));
        const json* pre = Reader::at(item, {"preference"});
        if (pre == nullptr) r.fail(pi + ".preference", "Required value");
        t.term = parse_term(r, *pre, pi + ".preference");
        p.preferred.push_back(std::move(t));
      }
    }
  }
  if (const json* tols = r.array(Reader::at(spec, {"tolerations"}), "spec.tolerations")) {
    for (std::size_t i = 0; i < tols->size(); ++i) {
      const std::string ti = "spec.tolerations[" + std::to_string(i) + "]";
      const json& item = (*tols)[i];
      r.object(&item, ti);
      Toleration t;
      t.key = r.str(Reader::at(item, {"key"}), ti + ".key");
      t.op = r.str(Reader::at(item, {"operator"}), ti + ".operator");
      t.value = r.str(Reader::at(item, {"value"}), ti + ".value");
      t.effect = r.str(Reader::at(item, {"effect"}), ti + ".effect");
      if (!t.op.empty() && t.op != "Equal" && t.op != "Exists") {
        r.fail(ti + ".operator", "Unsupported value: \"" + t.op + "\": supported values: \"Equal\", \"Exists\"");
      }
      if (!t.effect.empty() && t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" && t.effect != "NoExecute") {
        r.fail(ti + ".effect", "Unsupported value: \"" + t.effect +
                                   "\": supported values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"");
      }
      p.tolerations.push_back(std::move(t));
    }
  }
  return p;
}

/// Sums one container list's requests per resource (limits stand in for missing requests, as
/// Kubernetes defaults them). `nonzero` gets kube-scheduler's cpu/memory defaults for containers
/// that request neither.
struct ContainerSums {
  std::map<std::string, __int128> sum;
  std::map<std::string, __int128> max_init;
  double nz_cpu = 0, nz_mem = 0, nz_init_cpu = 0, nz_init_mem = 0;
};

void add_containers(const Reader& r, const json* list, const std::string& path, bool init, ContainerSums& out) {
  if (r.array(list, path) == nullptr) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string ci = path + "[" + std::to_string(i) + "]";
    const json& c = (*list)[i];
    r.object(&c, ci);
    RawList req = r.resource_list(Reader::at(c, {"resources", "requests"}), ci + ".resources.requests");
    RawList lim = r.resource_list(Reader::at(c, {"resources", "limits"}), ci + ".resources.limits");
    for (const auto& [name, q] : lim) {
      if (std::none_of(req.begin(), req.end(), [&](const auto& kv) { return kv.first == name; })) req.emplace_back(name, q);
    }
    // A restartable init container (sidecar) runs beside the containers: it adds like one.
    const bool sidecar = init && r.str(Reader::at(c, {"restartPolicy"}), ci + ".restartPolicy") == "Always";
    double cpu = kDefaultMilliCpuRequest, mem = kDefaultMemoryRequest;
    for (const auto& [name, q] : req) {
      if (name == "cpu") cpu = volcano_value(name, q);
      if (name == "memory") mem = volcano_value(name, q);
      if (!init || sidecar) {
        out.sum[name] += q;
      } else {
        out.max_init[name] = std::max(out.max_init[name], q);
      }
    }
    if (!init || sidecar) {
      out.nz_cpu += cpu;
      out.nz_mem += mem;
    } else {
      out.nz_init_cpu = std::max(out.nz_init_cpu, cpu);
      out.nz_init_mem = std::max(out.nz_init_mem, mem);
    }
  }
}

std::string object_name(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + " " + (ns.empty() ? name : ns + "/" + name);
}

/// Task index: the integer after the pod name's last '-' (Volcano's GetPodIndex).
void parse_index(ModelTask& t) {
  auto dash = t.name.rfind('-');
  if (dash == std::string::npos || dash + 1 >= t.name.size()) return;
  const std::string tail = t.name.substr(dash + 1);
  if (tail.size() > 18 || !std::all_of(tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; })) return;
  t.has_index = true;
  t.index = std::stoll(tail);
}

class ModelBuilder {
 public:
  ModelBuilder(const SnapshotRefs& s, const std::string& file, const ObjectPositions* pos) : s_(s), file_(file), pos_(pos) {}

  std::shared_ptr<const SnapshotModel> build() {
    auto m = std::make_shared<SnapshotModel>();
    m_ = m.get();
    priority_classes();
    nodes();
    queues();
    podgroups();
    pods();
    dims_.finish(*m_, file_);
    convert();
    return m;
  }

 private:
  std::string where(const char* vec, const std::vector<std::size_t>* positions, std::size_t i, const std::string& what) const {
    std::string w = file_ + ": ";
    if (positions != nullptr && i < positions->size()) {
      w += "items[" + std::to_string((*positions)[i]) + "]";
    } else {
      w += std::string(vec) + "[" + std::to_string(i) + "]";
    }
    return what.empty() ? w : w + " (" + what + ")";
  }

  /// Reads metadata.name (required) and metadata.namespace; returns the object's Reader.
  Reader open(const json& obj, const char* vec, const std::vector<std::size_t>* positions, std::size_t i,
              const std::string& kind, bool namespaced, std::string& ns, std::string& name) const {
    Reader pre(where(vec, positions, i, ""));
    if (!obj.is_object()) pre.fail("", std::string("expected a ") + kind + " object, got " + api::yaml_type_name(obj, true));
    pre.object(Reader::at(obj, {"metadata"}), "metadata");
    name = pre.str(Reader::at(obj, {"metadata", "name"}), "metadata.name");
    if (name.empty()) pre.fail("metadata.name", "Required value: name is required");
    ns = namespaced ? pre.str(Reader::at(obj, {"metadata", "namespace"}), "metadata.namespace", "default") : "";
    if (namespaced && ns.empty()) ns = "default";
    return Reader(where(vec, positions, i, object_name(kind, ns, name)));
  }

  void duplicate(const Reader& r, const std::string& kind, const std::string& key, std::size_t first) const {
    r.fail("metadata.name", "duplicate " + kind + " \"" + key + "\" (also " +
                                (pos_ ? "items[" + std::to_string(first) + "]" : "the object at index " + std::to_string(first)) + ")");
  }

  void priority_classes() {
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < s_.priority_classes.size(); ++i) {
      const json& o = *s_.priority_classes[i];
      std::string ns, name;
      Reader r = open(o, "priority_classes", pos_ ? &pos_->priority_classes : nullptr, i, "PriorityClass", false, ns, name);
      const std::size_t at = pos_ ? pos_->priority_classes[i] : i;
      if (auto [it, fresh] = seen.emplace(name, at); !fresh) duplicate(r, "PriorityClass", name, it->second);
      PriorityClassInfo pc;
      const json* v = Reader::at(o, {"value"});
      if (v == nullptr) r.fail("value", "Required value");
      pc.value = static_cast<int32_t>(r.integer(v, "value", 0, -2147483648LL, 2147483647LL));
      pc.never = r.str(Reader::at(o, {"preemptionPolicy"}), "preemptionPolicy") == "Never";
      if (r.boolean(Reader::at(o, {"globalDefault"}), "globalDefault", false)) {
        // Kubernetes admits one global default; with several, the lowest value wins (as the
        // priority admission plugin picks it).
        if (!default_priority_ || pc.value < *default_priority_) default_priority_ = pc.value;
      }
      classes_[name] = pc;
    }
  }

  void nodes() {
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < s_.nodes.size(); ++i) {
      const json& o = *s_.nodes[i];
      std::string ns, name;
      Reader r = open(o, "nodes", pos_ ? &pos_->nodes : nullptr, i, "Node", false, ns, name);
      const std::size_t at = pos_ ? pos_->nodes[i] : i;
      if (auto [it, fresh] = seen.emplace(name, at); !fresh) duplicate(r, "Node", name, it->second);
      ModelNode n;
      n.name = name;
      n.labels = r.string_map(Reader::at(o, {"metadata", "labels"}), "metadata.labels");
      r.time(Reader::at(o, {"metadata", "creationTimestamp"}), "metadata.creationTimestamp");
      r.object(Reader::at(o, {"spec"}), "spec");
      n.unschedulable = r.boolean(Reader::at(o, {"spec", "unschedulable"}), "spec.unschedulable", false);
      if (const json* taints = r.array(Reader::at(o, {"spec", "taints"}), "spec.taints")) {
        for (std::size_t t = 0; t < taints->size(); ++t) {
          const std::string tp = "spec.taints[" + std::to_string(t) + "]";
          const json& tj = (*taints)[t];
          r.object(&tj, tp);
          Taint taint;
          taint.key = r.str(Reader::at(tj, {"key"}), tp + ".key");
          taint.value = r.str(Reader::at(tj, {"value"}), tp + ".value");
          taint.effect = r.str(Reader::at(tj, {"effect"}), tp + ".effect");
          if (taint.key.empty()) r.fail(tp + ".key", "Required value");
          if (taint.effect != "NoSchedule" && taint.effect != "PreferNoSchedule" && taint.effect != "NoExecute") {
            r.fail(tp + ".effect", "Unsupported value: \"" + taint.effect +
                                       "\": supported values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"");
          }
          n.has_prefer_no_schedule |= taint.effect == "PreferNoSchedule";
          n.taints.push_back(std::move(taint));
        }
      }
      r.object(Reader::at(o, {"status"}), "status");
      PendingNode pn;
      pn.allocatable = r.resource_list(Reader::at(o, {"status", "allocatable"}), "status.allocatable");
      pn.capacity = r.resource_list(Reader::at(o, {"status", "capacity"}), "status.capacity");
      // Each defaults to the other: a hand-written node usually gives one of them.
      if (pn.capacity.empty()) pn.capacity = pn.allocatable;
      if (pn.allocatable.empty()) pn.allocatable = pn.capacity;
      for (const auto& [k, q] : pn.allocatable) {
        if (k == "pods") n.max_pods = static_cast<int64_t>(volcano_value(k, q));
      }
      if (const json* conds = r.array(Reader::at(o, {"status", "conditions"}), "status.conditions")) {
        for (std::size_t c = 0; c < conds->size(); ++c) {
          const std::string cp = "status.conditions[" + std::to_string(c) + "]";
          r.object(&(*conds)[c], cp);
          if (r.str(Reader::at((*conds)[c], {"type"}), cp + ".type") == "Ready") {
            n.ready = r.str(Reader::at((*conds)[c], {"status"}), cp + ".status") == "True";
          }
        }
      }
      dims_.note(pn.allocatable);
      dims_.note(pn.capacity);
      node_index_[name] = static_cast<int>(m_->nodes.size());
      m_->nodes.push_back(std::move(n));
      pending_nodes_.push_back(std::move(pn));
    }
  }

  void queues() {
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < s_.queues.size(); ++i) {
      const json& o = *s_.queues[i];
      std::string ns, name;
      Reader r = open(o, "queues", pos_ ? &pos_->queues : nullptr, i, "Queue", false, ns, name);
      const std::size_t at = pos_ ? pos_->queues[i] : i;
      if (auto [it, fresh] = seen.emplace(name, at); !fresh) duplicate(r, "Queue", name, it->second);
      ModelQueue q;
      q.name = name;
      q.uid = r.str(Reader::at(o, {"metadata", "uid"}), "metadata.uid");
      q.creation = r.time(Reader::at(o, {"metadata", "creationTimestamp"}), "metadata.creationTimestamp");
      r.object(Reader::at(o, {"spec"}), "spec");
      q.weight = static_cast<int32_t>(r.integer(Reader::at(o, {"spec", "weight"}), "spec.weight", 1, 0, 65535));
      if (q.weight == 0) q.weight = 1;  // the webhook defaults 0 to 1
      PendingQueue pq;
      const json* cap = Reader::at(o, {"spec", "capability"});
      pq.capability = r.resource_list(cap, "spec.capability");
      q.has_capability = !pq.capability.empty();
      pq.deserved = r.resource_list(Reader::at(o, {"spec", "deserved"}), "spec.deserved");
      q.has_deserved = !pq.deserved.empty();
      pq.guarantee = r.resource_list(Reader::at(o, {"spec", "guarantee", "resource"}), "spec.guarantee.resource");
      q.has_guarantee = !pq.guarantee.empty();
      q.parent = r.str(Reader::at(o, {"spec", "parent"}), "spec.parent");
      if (const json* ann = r.object(Reader::at(o, {"metadata", "annotations"}), "metadata.annotations")) {
        q.hierarchy = r.str(Reader::at(*ann, {kHierarchyKey}), std::string("metadata.annotations[") + kHierarchyKey + "]");
        q.hierarchy_weights =
            r.str(Reader::at(*ann, {kHierarchyWeightsKey}), std::string("metadata.annotations[") + kHierarchyWeightsKey + "]");
      }
      q.reclaimable = r.boolean(Reader::at(o, {"spec", "reclaimable"}), "spec.reclaimable", true);
      q.priority = static_cast<int32_t>(r.integer(Reader::at(o, {"spec", "priority"}), "spec.priority", 0, 0, 2147483647LL));
      q.state = r.str(Reader::at(o, {"status", "state"}), "status.state", "Open");
      if (q.state.empty()) q.state = "Open";
      dims_.note(pq.capability);
      dims_.note(pq.deserved);
      dims_.note(pq.guarantee);
      queue_index_[name] = static_cast<int>(m_->queues.size());
      m_->queues.push_back(std::move(q));
      pending_queues_.push_back(std::move(pq));
    }
  }

  void podgroups() {
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < s_.podgroups.size(); ++i) {
      const json& o = *s_.podgroups[i];
      std::string ns, name;
      Reader r = open(o, "podgroups", pos_ ? &pos_->podgroups : nullptr, i, "PodGroup", true, ns, name);
      const std::size_t at = pos_ ? pos_->podgroups[i] : i;
      if (auto [it, fresh] = seen.emplace(ns + "/" + name, at); !fresh) duplicate(r, "PodGroup", ns + "/" + name, it->second);
      ModelJob j;
      j.ns = ns;
      j.name = name;
      j.key = ns + "/" + name;
      j.uid = r.str(Reader::at(o, {"metadata", "uid"}), "metadata.uid");
      j.creation = r.time(Reader::at(o, {"metadata", "creationTimestamp"}), "metadata.creationTimestamp");
      auto annotations = r.string_map(Reader::at(o, {"metadata", "annotations"}), "metadata.annotations");
      for (const char* key : {kSlaWaitingTimePrefixed, kSlaWaitingTime}) {
        const std::string* v = find_value(annotations, key);
        Nanos d = 0;
        // As Volcano: an unparsable or non-positive waiting time is ignored (logged there).
        if (v != nullptr && parse_go_duration(*v, d) && d > 0) {
          j.waiting_time = d;
          break;
        }
      }
      r.object(Reader::at(o, {"spec"}), "spec");
      j.min_member = static_cast<int32_t>(r.integer(Reader::at(o, {"spec", "minMember"}), "spec.minMember", 0, 0, 2147483647LL));
      if (const json* mtm = r.object(Reader::at(o, {"spec", "minTaskMember"}), "spec.minTaskMember")) {
        for (auto it = mtm->begin(); it != mtm->end(); ++it) {
          j.min_task_member.emplace_back(
              it.key(), static_cast<int32_t>(r.integer(&*it, "spec.minTaskMember[" + it.key() + "]", 0, 0, 2147483647LL)));
        }
      }
      PendingJob pj;
      const json* minres = Reader::at(o, {"spec", "minResources"});
      pj.min_resources = r.resource_list(minres, "spec.minResources");
      j.has_min_resources = minres != nullptr;
      j.queue = r.str(Reader::at(o, {"spec", "queue"}), "spec.queue");
      if (j.queue.empty()) j.queue = "default";
      if (auto it = queue_index_.find(j.queue); it != queue_index_.end()) j.queue_index = it->second;
      j.priority_class = r.str(Reader::at(o, {"spec", "priorityClassName"}), "spec.priorityClassName");
      // Volcano: the class's value, else the global default's, else 0.
      j.priority = default_priority_.value_or(0);
      if (auto it = classes_.find(j.priority_class); it != classes_.end()) j.priority = it->second.value;
      j.phase = r.str(Reader::at(o, {"status", "phase"}), "status.phase", "Pending");
      if (j.phase.empty()) j.phase = "Pending";
      if (const json* conds = r.array(Reader::at(o, {"status", "conditions"}), "status.conditions")) {
        j.has_conditions = true;
        for (std::size_t c = 0; c < conds->size(); ++c) {
          const std::string cp = "status.conditions[" + std::to_string(c) + "]";
          const json& cj = (*conds)[c];
          r.object(&cj, cp);
          j.conditions.push_back({r.str(Reader::at(cj, {"type"}), cp + ".type"), r.str(Reader::at(cj, {"status"}), cp + ".status"),
                                  r.str(Reader::at(cj, {"reason"}), cp + ".reason"),
                                  r.str(Reader::at(cj, {"message"}), cp + ".message")});
        }
      }
      j.running = static_cast<int32_t>(r.integer(Reader::at(o, {"status", "running"}), "status.running", 0, 0, 2147483647LL));
      j.succeeded = static_cast<int32_t>(r.integer(Reader::at(o, {"status", "succeeded"}), "status.succeeded", 0, 0, 2147483647LL));
      j.failed = static_cast<int32_t>(r.integer(Reader::at(o, {"status", "failed"}), "status.failed", 0, 0, 2147483647LL));
      dims_.note(pj.min_resources);
      job_index_[ns + "/" + name] = static_cast<int>(m_->jobs.size());
      m_->jobs.push_back(std::move(j));
      pending_jobs_.push_back(std::move(pj));
    }
  }

  void pods() {
    std::unordered_map<std::string, std::size_t> seen;
    seen.reserve(s_.pods.size());
    std::unordered_map<std::string, int> placement_ids;
    m_->placements.emplace_back();  // 0: unconstrained
    m_->tasks.reserve(s_.pods.size());
    pending_tasks_.reserve(s_.pods.size());
    for (std::size_t i = 0; i < s_.pods.size(); ++i) {
      const json& o = *s_.pods[i];
      std::string ns, name;
      Reader r = open(o, "pods", pos_ ? &pos_->pods : nullptr, i, "Pod", true, ns, name);
      const std::size_t at = pos_ ? pos_->pods[i] : i;
      if (auto [it, fresh] = seen.emplace(ns + "/" + name, at); !fresh) duplicate(r, "Pod", ns + "/" + name, it->second);
      ModelTask t;
      t.ns = ns;
      t.name = name;
      t.key = ns + "/" + name;
      t.uid = r.str(Reader::at(o, {"metadata", "uid"}), "metadata.uid");
      t.creation = r.time(Reader::at(o, {"metadata", "creationTimestamp"}), "metadata.creationTimestamp");
      const bool deleting = Reader::at(o, {"metadata", "deletionTimestamp"}) != nullptr;
      r.time(Reader::at(o, {"metadata", "deletionTimestamp"}), "metadata.deletionTimestamp");
      auto annotations = r.string_map(Reader::at(o, {"metadata", "annotations"}), "metadata.annotations");
      auto labels = r.string_map(Reader::at(o, {"metadata", "labels"}), "metadata.labels");
      PendingTask pt;
      if (const std::string* g = find_value(annotations, kGroupNameKey)) pt.group = *g;
      // Role and preemptable: the annotation first, then the label, as Volcano reads them.
      for (const auto* kv : {&annotations, &labels}) {
        if (const std::string* v = find_value(*kv, kTaskSpecKey); v != nullptr && !v->empty() && t.role.empty()) t.role = *v;
      }
      const std::string* pre = find_value(annotations, kPreemptableKey);
      if (pre == nullptr) pre = find_value(labels, kPreemptableKey);
      if (pre != nullptr) t.preemptable = parse_go_bool(*pre).value_or(false);

      const json* spec = r.object(Reader::at(o, {"spec"}), "spec");
      static const json kEmpty = json::object();
      const json& sp = spec ? *spec : kEmpty;
      t.scheduler_name = r.str(Reader::at(sp, {"schedulerName"}), "spec.schedulerName");
      t.node_name = r.str(Reader::at(sp, {"nodeName"}), "spec.nodeName");
      if (!t.node_name.empty()) {
        if (auto it = node_index_.find(t.node_name); it != node_index_.end()) t.node = it->second;
      }
      t.priority_class = r.str(Reader::at(sp, {"priorityClassName"}), "spec.priorityClassName");
      const PriorityClassInfo* pc = nullptr;
      if (auto it = classes_.find(t.priority_class); it != classes_.end()) pc = &it->second;
      if (const json* prio = Reader::at(sp, {"priority"})) {
        t.priority = static_cast<int32_t>(r.integer(prio, "spec.priority", 0, -2147483648LL, 2147483647LL));
      } else if (!t.priority_class.empty()) {
        // Admission would have resolved the class; a class that does not exist reads as the
        // global default (sim-session.md item 4).
        t.priority = pc ? pc->value : default_priority_.value_or(0);
      }
      if (const std::string* tp = find_value(annotations, kTaskPriorityKey)) {
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(tp->c_str(), &end, 10);
        if (!tp->empty() && *end == '\0' && errno == 0 && v >= -2147483648LL && v <= 2147483647LL) {
          t.priority = static_cast<int32_t>(v);
        }
      }
      t.preempt_never = r.str(Reader::at(sp, {"preemptionPolicy"}), "spec.preemptionPolicy") == "Never" || (pc && pc->never);

      ContainerSums sums;
      add_containers(r, Reader::at(sp, {"containers"}), "spec.containers", false, sums);
      add_containers(r, Reader::at(sp, {"initContainers"}), "spec.initContainers", true, sums);
      // Kubernetes' PodRequests: max(containers, each init container) plus the pod overhead.
      for (const auto& [k, q] : sums.max_init) sums.sum[k] = std::max(sums.sum[k], q);
      t.nonzero_cpu = std::max(sums.nz_cpu, sums.nz_init_cpu);
      t.nonzero_mem = std::max(sums.nz_mem, sums.nz_init_mem);
      for (const auto& [k, q] : r.resource_list(Reader::at(sp, {"overhead"}), "spec.overhead")) {
        sums.sum[k] += q;
        if (k == "cpu") t.nonzero_cpu += volcano_value(k, q);
        if (k == "memory") t.nonzero_mem += volcano_value(k, q);
      }
      for (const auto& [k, q] : sums.sum) pt.request.emplace_back(k, q);

      if (spec != nullptr && (sp.contains("nodeSelector") || sp.contains("affinity") || sp.contains("tolerations"))) {
        json key = {{"s", sp.value("nodeSelector", json())},
                    {"a", sp.contains("affinity") && sp["affinity"].is_object() ? sp["affinity"].value("nodeAffinity", json()) : json()},
                    {"t", sp.value("tolerations", json())}};
        const std::string k = key.dump();
        auto it = placement_ids.find(k);
        if (it == placement_ids.end()) {
          Placement p = parse_placement(r, sp);
          int id = 0;
          if (!p.unconstrained()) {
            id = static_cast<int>(m_->placements.size());
            m_->placements.push_back(std::move(p));
          }
          it = placement_ids.emplace(k, id).first;
        }
        t.placement = it->second;
      }

      const std::string phase = r.str(Reader::at(o, {"status", "phase"}), "status.phase", "Pending");
      // Volcano's getTaskStatus; a pod without a phase is taken as just created (Pending).
      if (phase == "Running") {
        t.status = deleting ? TaskStatus::Releasing : TaskStatus::Running;
      } else if (phase == "Pending" || phase.empty()) {
        t.status = deleting ? TaskStatus::Releasing : t.node_name.empty() ? TaskStatus::Pending : TaskStatus::Bound;
      } else if (phase == "Succeeded") {
        t.status = TaskStatus::Succeeded;
      } else if (phase == "Failed") {
        t.status = TaskStatus::Failed;
      } else {
        t.status = TaskStatus::Unknown;
      }
      if (const json* conds = r.array(Reader::at(o, {"status", "conditions"}), "status.conditions")) {
        for (std::size_t c = 0; c < conds->size(); ++c) {
          const std::string cp = "status.conditions[" + std::to_string(c) + "]";
          r.object(&(*conds)[c], cp);
          if (r.str(Reader::at((*conds)[c], {"type"}), cp + ".type") != "PodScheduled") continue;
          t.scheduled_reason = r.str(Reader::at((*conds)[c], {"reason"}), cp + ".reason");
          t.scheduled_message = r.str(Reader::at((*conds)[c], {"message"}), cp + ".message");
        }
      }
      parse_index(t);
      if (!pt.group.empty()) {
        if (auto it = job_index_.find(ns + "/" + pt.group); it != job_index_.end()) t.job = it->second;
      }
      dims_.note(pt.request);
      m_->tasks.push_back(std::move(t));
      pending_tasks_.push_back(std::move(pt));
    }
  }

  void convert() {
    for (std::size_t i = 0; i < m_->nodes.size(); ++i) {
      m_->nodes[i].allocatable = dims_.convert(pending_nodes_[i].allocatable);
      m_->nodes[i].capacity = dims_.convert(pending_nodes_[i].capacity);
    }
    for (std::size_t i = 0; i < m_->queues.size(); ++i) {
      m_->queues[i].capability = dims_.convert(pending_queues_[i].capability);
      m_->queues[i].deserved = dims_.convert(pending_queues_[i].deserved);
      m_->queues[i].guarantee = dims_.convert(pending_queues_[i].guarantee);
    }
    for (std::size_t i = 0; i < m_->jobs.size(); ++i) {
      m_->jobs[i].min_resources = dims_.convert(pending_jobs_[i].min_resources);
    }
    std::unordered_map<std::string, int> signatures;
    for (std::size_t i = 0; i < m_->tasks.size(); ++i) {
      ModelTask& t = m_->tasks[i];
      t.request = dims_.convert(pending_tasks_[i].request);
      t.best_effort = t.request.is_empty();
      if (t.job >= 0) m_->jobs[static_cast<std::size_t>(t.job)].tasks.push_back(static_cast<int>(i));
      // Everything a predicate or a score reads of a task: placement, requests, non-zero requests.
      std::string key(reinterpret_cast<const char*>(&t.placement), sizeof t.placement);
      for (int d = 0; d < t.request.dims(); ++d) {
        const double v = t.request.has(d) ? t.request.get(d) : -1;
        key.append(reinterpret_cast<const char*>(&v), sizeof v);
      }
      key.append(reinterpret_cast<const char*>(&t.nonzero_cpu), sizeof(double));
      key.append(reinterpret_cast<const char*>(&t.nonzero_mem), sizeof(double));
      t.signature = signatures.emplace(key, static_cast<int>(signatures.size())).first->second;
    }
    m_->signatures = static_cast<int>(signatures.size());
    auto by_key = [](const auto& items) {
      std::vector<int> order(items.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
      std::sort(order.begin(), order.end(), [&](int a, int b) {
        return items[static_cast<std::size_t>(a)].key < items[static_cast<std::size_t>(b)].key;
      });
      return order;
    };
    m_->tasks_by_key = by_key(m_->tasks);
    m_->jobs_by_key = by_key(m_->jobs);
  }

  const SnapshotRefs& s_;
  const std::string& file_;
  const ObjectPositions* pos_;
  SnapshotModel* m_ = nullptr;
  Dims dims_;
  std::map<std::string, PriorityClassInfo> classes_;
  std::optional<int32_t> default_priority_;
  std::unordered_map<std::string, int> node_index_, queue_index_, job_index_;
  std::vector<PendingNode> pending_nodes_;
  std::vector<PendingQueue> pending_queues_;
  std::vector<PendingJob> pending_jobs_;
  std::vector<PendingTask> pending_tasks_;
};

}  // namespace

std::shared_ptr<const SnapshotModel> build_model(const Snapshot& snapshot, const std::string& file,
                                                 const ObjectPositions* positions) {
  SnapshotRefs refs;
  auto borrow = [](const std::vector<json>& from, std::vector<const json*>& to) {
    to.reserve(from.size());
    for (const auto& o : from) to.push_back(&o);
  };
  borrow(snapshot.nodes, refs.nodes);
  borrow(snapshot.queues, refs.queues);
  borrow(snapshot.podgroups, refs.podgroups);
  borrow(snapshot.pods, refs.pods);
  borrow(snapshot.priority_classes, refs.priority_classes);
  return ModelBuilder(refs, file, positions).build();
}

std::shared_ptr<const SnapshotModel> build_model(const SnapshotRefs& objects, const std::string& file) {
  return ModelBuilder(objects, file, nullptr).build();
}

Snapshot snapshot_from_objects(const std::vector<json>& objects, const std::string& file) {
  Snapshot s;
  ObjectPositions pos;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const json& o = objects[i];
    const std::string where = file + ": items[" + std::to_string(i) + "]";
    if (!o.is_object()) throw Error::invalid(where + ": expected a Kubernetes object (a map), got " + api::yaml_type_name(o, true));
    auto kind_it = o.find("kind");
    auto api_it = o.find("apiVersion");
    if (kind_it == o.end() || !kind_it->is_string() || kind_it->get_ref<const std::string&>().empty()) {
      throw Error::invalid(where + ": kind: Required value");
    }
    if (api_it == o.end() || !api_it->is_string() || api_it->get_ref<const std::string&>().empty()) {
      throw Error::invalid(where + ": apiVersion: Required value");
    }
    const std::string& kind = kind_it->get_ref<const std::string&>();
    const std::string& api = api_it->get_ref<const std::string&>();
    const bool core = api == "v1";
    const bool volcano = api == "scheduling.volcano.sh/v1beta1";
    if (kind == "Node" && core) {
      s.nodes.push_back(o);
      pos.nodes.push_back(i);
    } else if (kind == "Pod" && core) {
      s.pods.push_back(o);
      pos.pods.push_back(i);
    } else if (kind == "Queue" && volcano) {
      s.queues.push_back(o);
      pos.queues.push_back(i);
    } else if (kind == "PodGroup" && volcano) {
      s.podgroups.push_back(o);
      pos.podgroups.push_back(i);
    } else if (kind == "PriorityClass" && api.rfind("scheduling.k8s.io/", 0) == 0) {
      s.priority_classes.push_back(o);
      pos.priority_classes.push_back(i);
    }
  }
  s.model = build_model(s, file, &pos);
  return s;
}

}  // namespace kai::scheduler
