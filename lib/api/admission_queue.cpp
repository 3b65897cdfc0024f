// Queue and PodGroup (scheduling.volcano.sh/v1beta1) admission: Volcano's mutatequeue,
// validatequeue, mutatepodgroup and validatepodgroup webhooks plus the CRD schema bounds.
// The message mapping is documented at the top of admission.cpp.

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string_view>

#include "lib/api/admission_util.h"

namespace kai::api::admission_detail {
namespace {

constexpr const char* kHierarchyKey = "volcano.sh/hierarchy";
constexpr const char* kHierarchyWeightsKey = "volcano.sh/hierarchy-weights";
constexpr int64_t kMaxWeight = 65535;
// Bound on parent-chain walks, so a cycle already in the store cannot hang admission.
constexpr int kMaxAncestors = 64;

std::string object_name(const json& obj) {
  const json* meta = member(obj, "metadata");
  return meta ? peek_string(*meta, "name").value_or("") : "";
}

std::string queue_parent(const json& queue) {
  const json* spec = member(queue, "spec");
  return spec ? peek_string(*spec, "parent").value_or("") : "";
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

// validateHierarchicalAttributes: the legacy hierarchy annotations (path and weights).
void validate_hierarchy_annotations(const json& queue, FieldErrors& errs) {
  const json* meta = member(queue, "metadata");
  const json* ann = meta ? member(*meta, "annotations") : nullptr;
  if (!ann) return;
  const std::string hierarchy = peek_string(*ann, kHierarchyKey).value_or("");
  const std::string weights = peek_string(*ann, kHierarchyWeightsKey).value_or("");
  if (hierarchy.empty() && weights.empty()) return;
  const std::string path = "metadata.annotations";
  auto parts = split(hierarchy, '/');
  auto ws = split(weights, '/');
  if (parts.size() != ws.size()) {
    errs.invalid(path, hierarchy,
                 std::string(kHierarchyKey) + " must have the same length with " + kHierarchyWeightsKey);
    return;
  }
  for (const auto& w : ws) {
    errno = 0;
    char* end = nullptr;
    double d = std::strtod(w.c_str(), &end);
    if (w.empty() || end != w.c_str() + w.size() || errno == ERANGE) {
      errs.invalid(path, weights,
                   w + " in the " + weights + " is invalid number: strconv.ParseFloat: parsing " + go_quote(w) +
                       ": " + (errno == ERANGE ? "value out of range" : "invalid syntax"));
      return;
    }
    if (d <= 0) {
      errs.invalid(path, weights, w + " in the " + weights + " must be larger than 0");
      return;
    }
  }
}

// The nearest ancestor (below root) whose capability sets `resource` to a positive value.
std::optional<Quantity> ancestor_capability(const std::string& parent_name, const std::string& resource,
                                            const AdmissionContext& ctx) {
  std::string parent = parent_name;
  for (int depth = 0; depth < kMaxAncestors && !parent.empty() && parent != "root"; ++depth) {
    auto pq = ctx.get_queue(parent);
    if (!pq) return std::nullopt;
    const json* spec = member(*pq, "spec");
    const json* cap = spec ? member(*spec, "capability") : nullptr;
    const json* v = cap ? member(*cap, resource) : nullptr;
    if (auto text = v ? quantity_text(*v) : std::nullopt) {
      Quantity q;
      if (Quantity::try_parse(*text, q) && q > Quantity()) return q;
    }
    parent = queue_parent(*pq);
  }
  return std::nullopt;
}

// validateHierarchicalQueue: the parent is not the queue itself, exists, and is not a descendant.
void validate_parent(const std::string& name, const std::string& parent, const AdmissionContext& ctx,
                     FieldErrors& errs) {
  const std::string path = "spec.parent";
  if (parent.empty() || parent == "root") return;
  if (parent == name) {
    errs.invalid(path, parent, "queue " + name + " cannot use itself as parent");
    return;
  }
  if (!ctx.get_queue) return;
  auto pq = ctx.get_queue(parent);
  if (!pq) {
    errs.invalid(path, parent, "failed to get parent queue of queue " + name + ": " + not_found_text(queues(), parent));
    return;
  }
  std::string cur = queue_parent(*pq);
  for (int depth = 0; depth < kMaxAncestors && !cur.empty() && cur != "root"; ++depth) {
    if (cur == name) {
      errs.invalid(path, parent, "queue " + name + " cannot use its descendant " + parent + " as parent");
      return;
    }
    auto q = ctx.get_queue(cur);
    if (!q) return;
    cur = queue_parent(*q);
  }
}

// Volcano's api.Resource as its queue webhook builds it from a ResourceList (NewResource): cpu in
// milli-cores, memory in bytes, pods as a count, other resources in milli-units.
struct VolcanoResource {
  double cpu = 0, memory = 0;
  std::map<std::string, double> scalars;

  static VolcanoResource of(const json* list) {
    VolcanoResource r;
    if (list == nullptr || !list->is_object()) return r;
    for (const auto& [name, v] : list->items()) {
      auto text = quantity_text(v);
      Quantity q;
      if (!text || !Quantity::try_parse(*text, q)) continue;
      if (name == "cpu") {
        r.cpu += static_cast<double>(q.milli_value());
      } else if (name == "memory") {
        r.memory += static_cast<double>(q.value());
      } else if (name == "pods") {
        r.scalars[name] += static_cast<double>(q.value());
      } else if (name.rfind("count/", 0) != 0) {
        r.scalars[name] += static_cast<double>(q.milli_value());
      }
    }
    return r;
  }
  void add(const VolcanoResource& o) {
    cpu += o.cpu;
    memory += o.memory;
    for (const auto& [n, v] : o.scalars) scalars[n] += v;
  }
  /// LessPartly with the Zero default: some dimension of this is below `o` (a scalar `o` has and
  /// this lacks counts as below).
  bool less_partly(const VolcanoResource& o) const {
    if (cpu < o.cpu || memory < o.memory) return true;
    for (const auto& [n, v] : o.scalars) {
      auto it = scalars.find(n);
      if (it == scalars.end() || it->second < v) return true;
    }
    return false;
  }
  /// Go's Resource.String(): `cpu 4000.00, memory 0.00[, <scalar> <v>...]`, scalars by name.
  std::string str() const {
    auto fixed = [](double v) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f", v);
      return std::string(buf);
    };
    std::string out = "cpu " + fixed(cpu) + ", memory " + fixed(memory);
    for (const auto& [n, v] : scalars) out += ", " + n + " " + fixed(v);
    return out;
  }
};

const json* spec_field(const json& queue, std::initializer_list<const char*> path) {
  const json* cur = member(queue, "spec");
  for (const char* k : path) cur = cur ? member(*cur, k) : nullptr;
  return cur;
}
VolcanoResource guarantee_of(const json& q) { return VolcanoResource::of(spec_field(q, {"guarantee", "resource"})); }
VolcanoResource deserved_of(const json& q) { return VolcanoResource::of(spec_field(q, {"deserved"})); }

/// Volcano's formatResourceWithType: cpu and memory as quantities, other resources as milli-units.
std::string resource_value_text(const std::string& name, double v) {
  if (name == "cpu") return Quantity::from_milli(static_cast<int64_t>(v)).canonical();
  if (name == "memory") return Quantity::from_int(static_cast<int64_t>(v), Quantity::Format::BinarySI).canonical();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

double resource_get(const VolcanoResource& r, const std::string& name) {
  if (name == "cpu") return r.cpu;
  if (name == "memory") return r.memory;
  auto it = r.scalars.find(name);
  return it == r.scalars.end() ? 0 : it->second;
}

/// Volcano's findSubtreeMaxCapability: the queue's own capability for `name` when set (> 0),
/// else the largest in its children's subtrees.
double subtree_max_capability(const json& q, const std::string& name, const AdmissionContext& ctx, int depth) {
  const double own = resource_get(VolcanoResource::of(spec_field(q, {"capability"})), name);
  if (own > 0 || depth >= kMaxAncestors) return own;
  double best = 0;
  for (const json& c : ctx.list_child_queues(object_name(q))) best = std::max(best, subtree_max_capability(c, name, ctx, depth + 1));
  return best;
}

/// Volcano's validateSiblingsSum and validateChildrenConstraints (validateHierarchicalQueueResources):
/// the children of a parent may not be guaranteed or deserve more than the parent, and a parent's
/// capability may not be below any descendant's. Volcano stops at the first failure; so does this.
void validate_hierarchy_resources(const json& queue, const std::string& name, const std::string& parent,
                                  const AdmissionContext& ctx, FieldErrors& errs) {
  auto sums_fail = [&](const std::string& who, const VolcanoResource& limit_g, const VolcanoResource& limit_d,
                       const std::vector<const json*>& children) {
    VolcanoResource total_g, total_d;
    for (const json* c : children) {
      total_g.add(guarantee_of(*c));
      if (limit_g.less_partly(total_g)) {
        errs.forbidden("spec.guarantee.resource", who + " validation failed: sum of children's guarantee (" + total_g.str() +
                                                      ") exceeds parent's guarantee limit (" + limit_g.str() + ")");
        return true;
      }
      total_d.add(deserved_of(*c));
      if (limit_d.less_partly(total_d)) {
        errs.forbidden("spec.deserved", who + " validation failed: sum of children's deserved (" + total_d.str() +
                                            ") exceeds parent's deserved limit (" + limit_d.str() + ")");
        return true;
      }
    }
    return false;
  };
  if (!parent.empty() && parent != "root") {
    auto pq = ctx.get_queue(parent);
    if (!pq) return;  // validate_parent has said so
    std::vector<json> siblings = ctx.list_child_queues(parent);
    std::vector<const json*> children;
    for (const json& sib : siblings) {
      if (object_name(sib) != name) children.push_back(&sib);
    }
    children.push_back(&queue);
    if (sums_fail("parent queue " + parent, guarantee_of(*pq), deserved_of(*pq), children)) return;
  }
  std::vector<json> kids = ctx.list_child_queues(name);
  if (kids.empty()) return;
  if (const json* cap = spec_field(queue, {"capability"}); cap && cap->is_object() && !cap->empty()) {
    const VolcanoResource mine = VolcanoResource::of(cap);
    std::vector<std::pair<std::string, double>> dims = {{"cpu", mine.cpu}, {"memory", mine.memory}};
    for (const auto& [n, v] : mine.scalars) dims.emplace_back(n, v);
    for (const auto& [n, v] : dims) {
      if (v < 0.1) continue;  // ResourceNames: only the dimensions set
      double child_max = 0;
      for (const json& k : kids) child_max = std::max(child_max, subtree_max_capability(k, n, ctx, 0));
      if (v < child_max) {
        errs.invalid(key("spec.capability", n), resource_value_text(n, v),
                     "queue " + name + " capability[" + n + "]=" + resource_value_text(n, v) +
                         " is smaller than its descendants' max capability=" + resource_value_text(n, child_max));
        return;
      }
    }
  }
  std::vector<const json*> children;
  for (const json& k : kids) children.push_back(&k);
  sums_fail("queue " + name, guarantee_of(queue), deserved_of(queue), children);
}

}  // namespace

void default_queue(json& queue, bool create) {
  if (!queue.is_object()) return;
  if (!member(queue, "spec")) queue["spec"] = json::object();
  json& spec = queue["spec"];
  if (spec.is_object()) {
    const json* w = member(spec, "weight");
    if (!w || (w->is_number() && w->get<double>() == 0)) spec["weight"] = 1;
    if (!member(spec, "reclaimable")) spec["reclaimable"] = true;
    const json* parent = member(spec, "parent");
    if (object_name(queue) != "root" && (!parent || (parent->is_string() && parent->get<std::string>().empty()))) {
      spec["parent"] = "root";
    }
  }
  if (!member(queue, "status")) queue["status"] = json::object();
  json& status = queue["status"];
  if (status.is_object()) {
    const json* state = member(status, "state");
    if (!state || (state->is_string() && state->get<std::string>().empty())) status["state"] = "Open";
  }
  if (!create) return;
  // Legacy hierarchy annotations are rooted: `a/b` becomes `root/a/b` with weights `1/...`.
  json* meta = member(queue, "metadata") ? &queue["metadata"] : nullptr;
  json* ann = meta && member(*meta, "annotations") ? &(*meta)["annotations"] : nullptr;
  if (!ann || !ann->is_object()) return;
  auto h = peek_string(*ann, kHierarchyKey);
  auto w = peek_string(*ann, kHierarchyWeightsKey);
  if (h && w && !h->empty() && !w->empty() && h->rfind("root", 0) != 0) {
    (*ann)[kHierarchyKey] = "root/" + *h;
    (*ann)[kHierarchyWeightsKey] = "1/" + *w;
  }
}

void validate_queue(const json& queue, const json* old_queue, const AdmissionContext& ctx, FieldErrors& errs) {
  const bool create = old_queue == nullptr;
  const std::string name = object_name(queue);
  const json* spec = get_object(queue, "spec", "spec", errs);
  const json empty = json::object();
  if (!spec) spec = &empty;

  if (auto w = get_int(*spec, "weight", "spec.weight", errs)) {
    if (*w < 1) errs.invalid("spec.weight", *w, "spec.weight in body should be greater than or equal to 1");
    if (*w > kMaxWeight) {
      errs.invalid("spec.weight", *w, "spec.weight in body should be less than or equal to " + std::to_string(kMaxWeight));
    }
  }
  if (auto p = get_int(*spec, "priority", "spec.priority", errs); p && *p < 0) {
    errs.invalid("spec.priority", *p, "spec.priority in body should be greater than or equal to 0");
  }
  get_bool(*spec, "reclaimable", "spec.reclaimable", errs);
  if (auto d = get_string(*spec, "dequeueStrategy", "spec.dequeueStrategy", errs)) {
    if (*d != "fifo" && *d != "traverse") errs.unsupported("spec.dequeueStrategy", *d, {"fifo", "traverse"});
  }
  auto parent = get_string(*spec, "parent", "spec.parent", errs).value_or("");

  // Users may set Open or Closed; the queue controller also writes Closing and Unknown, which
  // updates must carry through.
  if (const json* status = get_object(queue, "status", "status", errs)) {
    if (auto state = get_string(*status, "state", "status.state", errs); state && !state->empty()) {
      bool ok = *state == "Open" || *state == "Closed" || (!create && (*state == "Closing" || *state == "Unknown"));
      if (!ok) errs.invalid("status.state", *state, "queue state must be in [Open Closed]");
    }
  }

  // validateResourceQuantityOfQueue: guarantee <= deserved <= capability, per resource.
  auto capability = get_resource_list(*spec, "capability", "spec.capability", ResourceListKind::Plain, errs);
  auto deserved = get_resource_list(*spec, "deserved", "spec.deserved", ResourceListKind::Plain, errs);
  std::map<std::string, Quantity> guarantee;
  if (const json* g = get_object(*spec, "guarantee", "spec.guarantee", errs)) {
    guarantee = get_resource_list(*g, "resource", "spec.guarantee.resource", ResourceListKind::Plain, errs);
  }
  for (const auto& [r, g] : guarantee) {
    auto d = deserved.find(r);
    if (d == deserved.end()) {
      errs.invalid(key("spec.deserved", r), "<nil>",
                   "deserved[" + r + "] must be >= guarantee[" + r + "]=" + g.canonical());
    } else if (d->second < g) {
      errs.invalid(key("spec.deserved", r), d->second.canonical(),
                   "deserved[" + r + "]=" + d->second.canonical() + " must be >= guarantee[" + r + "]=" + g.canonical());
    }
  }
  for (const auto& [r, d] : deserved) {
    auto c = capability.find(r);
    if (c != capability.end() && d > c->second) {
      errs.invalid(key("spec.deserved", r), d.canonical(),
                   "deserved[" + r + "]=" + d.canonical() + " must be <= capability[" + r + "]=" + c->second.canonical());
    }
  }

  validate_hierarchy_annotations(queue, errs);

  const std::string old_parent = old_queue ? queue_parent(*old_queue) : "";
  if (create || parent != old_parent) validate_parent(name, parent, ctx, errs);

  // validateChildAgainstAncestor: a capability may not exceed the nearest ancestor's.
  bool capability_changed = create || parent != old_parent;
  if (!create) {
    const json* old_spec = member(*old_queue, "spec");
    const json* old_cap = old_spec ? member(*old_spec, "capability") : nullptr;
    const json* new_cap = member(*spec, "capability");
    capability_changed = capability_changed || (old_cap ? *old_cap : json()) != (new_cap ? *new_cap : json());
  }
  if (name != "root" && ctx.get_queue && capability_changed) {
    for (const auto& [r, mine] : capability) {
      auto limit = ancestor_capability(parent, r, ctx);
      if (limit && mine > *limit) {
        errs.invalid(key("spec.capability", r), mine.canonical(),
                     "queue " + name + " capability[" + r + "]=" + mine.canonical() +
                         " exceeds its ancestor's capability=" + limit->canonical());
      }
    }
  }

  // needsValidateHierarchicalQueue: on create, or when the parent or a resource list changed.
  bool resources_changed = create || parent != old_parent;
  if (!create) {
    for (auto path : {std::initializer_list<const char*>{"capability"}, {"deserved"}, {"guarantee", "resource"}}) {
      const json* a = spec_field(*old_queue, path);
      const json* b = spec_field(queue, path);
      resources_changed = resources_changed || (a ? *a : json()) != (b ? *b : json());
    }
  }
  if (name != "root" && resources_changed && ctx.get_queue && ctx.list_child_queues && errs.empty()) {
    validate_hierarchy_resources(queue, name, parent, ctx, errs);
  }
}

std::string queue_delete_denial(const json& queue, const AdmissionContext& ctx) {
  const std::string name = object_name(queue);
  if (name == "default" || name == "root") return "`" + name + "` queue can not be deleted";
  if (ctx.list_child_queues) {
    std::vector<json> kids = ctx.list_child_queues(name);
    if (!kids.empty()) {
      std::string names;
      for (const json& k : kids) names += (names.empty() ? "" : ", ") + object_name(k);
      return "queue " + name + " can not be deleted because it has " + std::to_string(kids.size()) +
             " child queues: " + names;
    }
  } else if (ctx.count_child_queues) {
    if (int n = ctx.count_child_queues(name); n > 0) {
      return "queue " + name + " can not be deleted because it has " + std::to_string(n) + " child queues";
    }
  }
  return "";
}

void default_podgroup(json& pg) {
  if (!pg.is_object()) return;
  if (!member(pg, "spec")) pg["spec"] = json::object();
  json& spec = pg["spec"];
  if (!spec.is_object()) return;
  const json* q = member(spec, "queue");
  if (!q || (q->is_string() && q->get<std::string>().empty())) spec["queue"] = "default";
}

void validate_podgroup(const json& pg, bool create, const AdmissionContext& ctx, FieldErrors& errs) {
  const json* spec = get_object(pg, "spec", "spec", errs);
  if (!spec) return;
  if (auto m = get_int(*spec, "minMember", "spec.minMember", errs); m && *m < 0) {
    errs.invalid("spec.minMember", *m, "must be greater than or equal to 0");
  }
  if (const json* mtm = get_object(*spec, "minTaskMember", "spec.minTaskMember", errs)) {
    for (const auto& [task, v] : mtm->items()) {
      const std::string p = key("spec.minTaskMember", task);
      if (auto n = as_int(v, p, errs); n && *n < 0) errs.invalid(p, *n, "must be greater than or equal to 0");
    }
  }
  get_resource_list(*spec, "minResources", "spec.minResources", ResourceListKind::Plain, errs);
  get_string(*spec, "priorityClassName", "spec.priorityClassName", errs);
  const json* nt = get_object(*spec, "networkTopology", "spec.networkTopology", errs);
  if (nt) {
    auto tier = get_int(*nt, "highestTierAllowed", "spec.networkTopology.highestTierAllowed", errs);
    auto tier_name = get_string(*nt, "highestTierName", "spec.networkTopology.highestTierName", errs);
    if (tier && tier_name && !tier_name->empty()) {
      errs.forbidden("spec.networkTopology.highestTierName",
                     "must not specify 'highestTierAllowed' and 'highestTierName' in networkTopology simultaneously");
    }
  }
  auto queue = get_string(*spec, "queue", "spec.queue", errs);
  // Volcano checks the queue on CREATE only: an existing PodGroup stays updatable after its queue
  // is closed.
  if (!create || !queue || queue->empty() || !ctx.get_queue) return;
  auto q = ctx.get_queue(*queue);
  if (!q) {
    errs.invalid("spec.queue", *queue, "unable to find queue: " + not_found_text(queues(), *queue));
  } else if (auto state = queue_state(*q); !state.empty() && state != "Open") {
    errs.invalid("spec.queue", *queue,
                 "can only submit PodGroup to queue with state `Open`, queue `" + *queue + "` status is `" + state + "`.");
  }
}

}  // namespace kai::api::admission_detail
