#include "lib/api/admission_util.h"

#include "lib/api/duration.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "lib/api/names.h"

namespace kai::api::admission_detail {
namespace {

constexpr const char* kQuantityRegexMsg =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_native_resource(std::string_view name) {
  return name.find('/') == std::string_view::npos || starts_with(name, "kubernetes.io/");
}

bool is_hugepages(std::string_view name) { return starts_with(name, "hugepages-"); }

bool is_extended_resource(std::string_view name) {
  return !is_native_resource(name) && !starts_with(name, "requests.");
}

// Kubernetes' IsIntegerResourceName: the standard countable resources plus extended resources.
bool is_integer_resource(std::string_view name) {
  static const std::set<std::string_view> kInteger = {
      "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
      "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"};
  return kInteger.count(name) > 0 || is_extended_resource(name);
}

bool is_standard_container_resource(std::string_view name) {
  return name == "cpu" || name == "memory" || name == "ephemeral-storage" || is_hugepages(name);
}

// validateContainerResourceName: fully qualified, or one of the standard container resources.
void validate_container_resource_name(const std::string& name, const std::string& path, FieldErrors& errs) {
  for (const auto& msg : qualified_name_errors(name)) errs.invalid(path, name, msg);
  if (name.find('/') == std::string::npos) {
    if (!is_standard_container_resource(name)) errs.invalid(path, name, "must be a standard resource for containers");
  } else if (!is_native_resource(name) && !is_extended_resource(name)) {
    errs.invalid(path, name, "doesn't follow extended resource name standard");
  }
}

void validate_container(const json& c, const std::string& path, std::set<std::string>& names, FieldErrors& errs) {
  if (!c.is_object()) {
    errs.wrong_type(path, c, "object");
    return;
  }
  auto name = get_string(c, "name", child(path, "name"), errs);
  if (!name || name->empty()) {
    if (!member(c, "name") || name) errs.required(child(path, "name"));
  } else if (auto problems = dns1123_label_errors(*name); !problems.empty()) {
    for (const auto& msg : problems) errs.invalid(child(path, "name"), *name, msg);
  } else if (!names.insert(*name).second) {
    errs.duplicate(child(path, "name"), *name);
  }

  auto image = get_string(c, "image", child(path, "image"), errs);
  if ((!image && !member(c, "image")) || (image && image->empty())) errs.required(child(path, "image"));

  const std::string res_path = child(path, "resources");
  const json* resources = get_object(c, "resources", res_path, errs);
  if (!resources) return;
  const std::string req_path = child(res_path, "requests");
  const std::string lim_path = child(res_path, "limits");
  auto requests = get_resource_list(*resources, "requests", req_path, ResourceListKind::Container, errs);
  auto limits = get_resource_list(*resources, "limits", lim_path, ResourceListKind::Container, errs);
  for (const auto& [rname, req] : requests) {
    auto lim = limits.find(rname);
    if (lim == limits.end()) {
      if (!overcommit_allowed(rname)) errs.required(lim_path, "Limit must be set for non overcommitable resources");
      continue;
    }
    if (!overcommit_allowed(rname) && req != lim->second) {
      errs.invalid(key(req_path, rname), req.canonical(),
                   "must be equal to " + rname + " limit of " + lim->second.canonical());
    } else if (req > lim->second) {
      errs.invalid(key(req_path, rname), req.canonical(),
                   "must be less than or equal to " + rname + " limit of " + lim->second.canonical());
    }
  }
}

}  // namespace

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (ch < 0x20 || ch == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", ch);
          out += buf;
        } else {
          out += static_cast<char>(ch);  // UTF-8 bytes pass through, as %q keeps printable runes
        }
    }
  }
  out += "\"";
  return out;
}

std::string format_value(const json& v) {
  if (v.is_string()) return go_quote(v.get_ref<const std::string&>());
  if (v.is_null()) return "null";
  return v.dump();
}

void FieldErrors::required(const std::string& field, const std::string& detail) {
  causes_.push_back({field, detail.empty() ? "Required value" : "Required value: " + detail});
}

void FieldErrors::invalid(const std::string& field, const json& value, const std::string& detail) {
  invalid_raw(field, format_value(value), detail);
}

void FieldErrors::invalid_raw(const std::string& field, const std::string& raw, const std::string& detail) {
  std::string body = "Invalid value: " + raw;
  if (!detail.empty()) body += ": " + detail;
  causes_.push_back({field, std::move(body)});
}

void FieldErrors::duplicate(const std::string& field, const json& value) {
  causes_.push_back({field, "Duplicate value: " + format_value(value)});
}

void FieldErrors::unsupported(const std::string& field, const json& value, const std::vector<std::string>& supported) {
  std::string body = "Unsupported value: " + format_value(value);
  if (!supported.empty()) {
    body += ": supported values: ";
    for (std::size_t i = 0; i < supported.size(); ++i) {
      if (i) body += ", ";
      body += go_quote(supported[i]);
    }
  }
  causes_.push_back({field, std::move(body)});
}

void FieldErrors::not_found(const std::string& field, const json& value) {
  causes_.push_back({field, "Not found: " + format_value(value)});
}

void FieldErrors::forbidden(const std::string& field, const std::string& detail) {
  causes_.push_back({field, detail.empty() ? "Forbidden" : "Forbidden: " + detail});
}

void FieldErrors::wrong_type(const std::string& field, const json& value, std::string_view expected) {
  std::string actual(json_type_name(value));
  invalid(field, actual, field + " in body must be of type " + std::string(expected) + ": " + go_quote(actual));
}

std::string_view json_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::boolean: return "boolean";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    default: return "null";
  }
}

const json* member(const json& parent, std::string_view name) {
  if (!parent.is_object()) return nullptr;
  auto it = parent.find(name);
  if (it == parent.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<int64_t> as_int(const json& v, const std::string& path, FieldErrors& errs) {
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(kMax)) {
      errs.invalid(path, v, path + " in body should be less than or equal to " + std::to_string(kMax));
      return std::nullopt;
    }
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) {
    auto i = v.get<int64_t>();
    if (i < kMin || i > kMax) {
      errs.invalid(path, v, path + " in body should be " + (i < kMin ? "greater than or equal to " + std::to_string(kMin)
                                                                     : "less than or equal to " + std::to_string(kMax)));
      return std::nullopt;
    }
    return i;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && d >= static_cast<double>(kMin) && d <= static_cast<double>(kMax)) {
      return static_cast<int64_t>(d);
    }
  }
  errs.wrong_type(path, v, "integer");
  return std::nullopt;
}

std::optional<std::string> as_string(const json& v, const std::string& path, FieldErrors& errs) {
  if (v.is_string()) return v.get<std::string>();
  errs.wrong_type(path, v, "string");
  return std::nullopt;
}

std::optional<int64_t> get_int(const json& parent, std::string_view name, const std::string& path, FieldErrors& errs) {
  const json* v = member(parent, name);
  if (!v) return std::nullopt;
  return as_int(*v, path, errs);
}

std::optional<std::string> get_string(const json& parent, std::string_view name, const std::string& path,
                                      FieldErrors& errs) {
  const json* v = member(parent, name);
  if (!v) return std::nullopt;
  return as_string(*v, path, errs);
}

std::optional<bool> get_bool(const json& parent, std::string_view name, const std::string& path, FieldErrors& errs) {
  const json* v = member(parent, name);
  if (!v) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  errs.wrong_type(path, *v, "boolean");
  return std::nullopt;
}

const json* get_object(const json& parent, std::string_view name, const std::string& path, FieldErrors& errs) {
  const json* v = member(parent, name);
  if (!v) return nullptr;
  if (v->is_object()) return v;
  errs.wrong_type(path, *v, "object");
  return nullptr;
}

const json* get_array(const json& parent, std::string_view name, const std::string& path, FieldErrors& errs) {
  const json* v = member(parent, name);
  if (!v) return nullptr;
  if (v->is_array()) return v;
  errs.wrong_type(path, *v, "array");
  return nullptr;
}

std::optional<std::string> quantity_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_float()) return v.dump();
  return std::nullopt;
}

std::optional<Quantity> get_quantity(const json& v, const std::string& path, FieldErrors& errs) {
  auto text = quantity_text(v);
  Quantity q;
  if (!text || !Quantity::try_parse(*text, q)) {
    errs.invalid(path, text ? json(*text) : v, kQuantityRegexMsg);
    return std::nullopt;
  }
  return q;
}

std::map<std::string, Quantity> validate_resource_list(const json& list, const std::string& path,
                                                       ResourceListKind kind, FieldErrors& errs) {
  std::map<std::string, Quantity> out;
  if (!list.is_object()) {
    errs.wrong_type(path, list, "object");
    return out;
  }
  for (const auto& [name, value] : list.items()) {
    const std::string p = key(path, name);
    if (kind == ResourceListKind::Container) validate_container_resource_name(name, p, errs);
    if (value.is_null()) continue;
    auto q = get_quantity(value, p, errs);
    if (!q) continue;
    // ValidateResourceQuantityValue: not negative; whole units for integer resources.
    if (q->is_negative()) errs.invalid(p, q->canonical(), "must be greater than or equal to 0");
    if (is_integer_resource(name) && q->milli_value() % 1000 != 0) errs.invalid_raw(p, q->canonical(), "must be an integer");
    out.emplace(name, *q);
  }
  return out;
}

std::map<std::string, Quantity> get_resource_list(const json& parent, std::string_view name, const std::string& path,
                                                  ResourceListKind kind, FieldErrors& errs) {
  const json* v = member(parent, name);
  if (!v) return {};
  return validate_resource_list(*v, path, kind, errs);
}

bool overcommit_allowed(std::string_view resource) { return is_native_resource(resource) && !is_hugepages(resource); }

void validate_labels_and_annotations(const json& meta, const std::string& path, FieldErrors& errs) {
  const std::string lpath = child(path, "labels");
  if (const json* labels = get_object(meta, "labels", lpath, errs)) {
    for (const auto& [k, v] : labels->items()) {
      for (const auto& msg : qualified_name_errors(k)) errs.invalid(lpath, k, msg);
      if (v.is_null()) continue;
      if (!v.is_string()) {
        errs.wrong_type(key(lpath, k), v, "string");
        continue;
      }
      for (const auto& msg : label_value_errors(v.get<std::string>())) errs.invalid(lpath, v, msg);
    }
  }
  const std::string apath = child(path, "annotations");
  if (const json* annotations = get_object(meta, "annotations", apath, errs)) {
    for (const auto& [k, v] : annotations->items()) {
      std::string lower = k;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      for (const auto& msg : qualified_name_errors(lower)) errs.invalid(apath, k, msg);
      if (!v.is_null() && !v.is_string()) errs.wrong_type(key(apath, k), v, "string");
    }
  }
}

void validate_pod_spec(const json& spec, const std::string& path, FieldErrors& errs) {
  const std::string cpath = child(path, "containers");
  std::set<std::string> names;
  const json* containers = get_array(spec, "containers", cpath, errs);
  if (!containers) {
    if (!member(spec, "containers")) errs.required(cpath);
  } else if (containers->empty()) {
    errs.required(cpath);
  } else {
    for (std::size_t i = 0; i < containers->size(); ++i) validate_container((*containers)[i], index(cpath, i), names, errs);
  }
  const std::string ipath = child(path, "initContainers");
  if (const json* init = get_array(spec, "initContainers", ipath, errs)) {
    for (std::size_t i = 0; i < init->size(); ++i) validate_container((*init)[i], index(ipath, i), names, errs);
  }
  if (auto rp = get_string(spec, "restartPolicy", child(path, "restartPolicy"), errs)) {
    if (*rp != "Always" && *rp != "OnFailure" && *rp != "Never") {
      errs.unsupported(child(path, "restartPolicy"), *rp, {"Always", "OnFailure", "Never"});
    }
  }
}

void validate_pod_template(const json* tmpl, const std::string& path, FieldErrors& errs) {
  const std::string spath = child(path, "spec");
  if (!tmpl) {
    errs.required(child(spath, "containers"));
    return;
  }
  if (!tmpl->is_object()) {
    errs.wrong_type(path, *tmpl, "object");
    return;
  }
  if (const json* meta = get_object(*tmpl, "metadata", child(path, "metadata"), errs)) {
    validate_labels_and_annotations(*meta, child(path, "metadata"), errs);
  }
  const json* spec = get_object(*tmpl, "spec", spath, errs);
  if (!spec) {
    if (!member(*tmpl, "spec")) errs.required(child(spath, "containers"));
    return;
  }
  validate_pod_spec(*spec, spath, errs);
}

std::string go_duration_error(std::string_view text) {
  int64_t nanos = 0;
  std::string err;
  return parse_go_duration(text, nanos, &err) ? "" : err;
}

void throw_invalid(const ResourceInfo& res, const std::string& name, const FieldErrors& errs) {
  std::vector<std::string> seen;
  for (const auto& c : errs.causes()) {
    std::string line = c.field.empty() ? c.message : c.field + ": " + c.message;
    bool dup = false;
    for (const auto& s : seen) dup = dup || s == line;
    if (!dup) seen.push_back(std::move(line));
  }
  std::string msg = res.qualified_kind() + " " + go_quote(name) + " is invalid";
  if (seen.size() == 1) {
    msg += ": " + seen[0];
  } else if (!seen.empty()) {
    msg += ": [";
    for (std::size_t i = 0; i < seen.size(); ++i) msg += (i ? ", " : "") + seen[i];
    msg += "]";
  }
  throw Error(ErrorKind::Invalid, std::move(msg), errs.causes());
}

std::string not_found_text(const ResourceInfo& res, const std::string& name) {
  return res.qualified_plural() + " " + go_quote(name) + " not found";
}

std::optional<int64_t> peek_int(const json& parent, std::string_view name) {
  FieldErrors scratch;
  return get_int(parent, name, "", scratch);
}

std::optional<std::string> peek_string(const json& parent, std::string_view name) {
  const json* v = member(parent, name);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::string queue_state(const json& queue) {
  const json* status = member(queue, "status");
  if (!status) return "";
  const json* state = member(*status, "state");
  return state && state->is_string() ? state->get<std::string>() : "";
}

}  // namespace kai::api::admission_detail
