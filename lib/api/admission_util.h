#pragma once
// Private helpers shared by the admission_*.cpp files: field-error collection with Kubernetes
// wording, field paths, typed JSON access that reports type errors, quantities, object metadata
// and pod spec validation. Not part of the public API of lib/api.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/api/admission.h"
#include "lib/api/error.h"
#include "lib/api/quantity.h"
#include "lib/api/resources.h"

namespace kai::api::admission_detail {

using json = nlohmann::json;

/// Field paths as Kubernetes' field.Path prints them: `spec.tasks[1].template`, `requests[cpu]`.
inline std::string child(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}
inline std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }
inline std::string key(const std::string& path, std::string_view k) { return path + "[" + std::string(k) + "]"; }

/// Go's %q for a string: double quotes, `"` and `\` escaped, control characters as \n, \t, \xNN.
std::string go_quote(std::string_view s);

/// A value as Kubernetes' field.Error prints it: strings quoted (%q), numbers and booleans bare,
/// null as `null`, objects and arrays as compact JSON.
std::string format_value(const json& v);

/// Collects field errors in the order they are found; each message is the Kubernetes ErrorBody
/// (`Required value`, `Invalid value: -1: must be ...`, `Duplicate value: "x"`, ...).
class FieldErrors {
 public:
  /// `Required value[: detail]`.
  void required(const std::string& field, const std::string& detail = "");
  /// `Invalid value: <value>: detail`.
  void invalid(const std::string& field, const json& value, const std::string& detail);
  /// `Invalid value: <raw>: detail` with the value printed as is (Kubernetes prints a Quantity
  /// passed as a fmt.Stringer without quotes).
  void invalid_raw(const std::string& field, const std::string& raw, const std::string& detail);
  /// `Duplicate value: <value>`.
  void duplicate(const std::string& field, const json& value);
  /// `Unsupported value: <value>: supported values: "a", "b"`.
  void unsupported(const std::string& field, const json& value, const std::vector<std::string>& supported);
  /// `Not found: <value>`.
  void not_found(const std::string& field, const json& value);
  /// `Forbidden: detail`.
  void forbidden(const std::string& field, const std::string& detail);
  /// The CRD structural-schema wording for a value of the wrong JSON type:
  /// `Invalid value: "string": spec.x in body must be of type integer: "string"`.
  void wrong_type(const std::string& field, const json& value, std::string_view expected);

  bool empty() const { return causes_.empty(); }
  std::size_t size() const { return causes_.size(); }
  const std::vector<FieldCause>& causes() const { return causes_; }

 private:
  std::vector<FieldCause> causes_;
};

/// The JSON-schema type name of a value: string, integer, number, boolean, object, array, null.
std::string_view json_type_name(const json& v);

/// Member `name` of `parent`, or nullptr when `parent` is not an object, or the member is absent
/// or null (Kubernetes decodes null as "not set").
const json* member(const json& parent, std::string_view name);

/// Typed getters: nullopt when absent/null; a wrong type is recorded in `errs` and also yields
/// nullopt. Integers must fit in an int32 (every count in these APIs is an int32); integral
/// floats (`3.0`) are accepted.
std::optional<int64_t> get_int(const json& parent, std::string_view name, const std::string& path,
                               FieldErrors& errs);
std::optional<std::string> get_string(const json& parent, std::string_view name, const std::string& path,
                                      FieldErrors& errs);
std::optional<bool> get_bool(const json& parent, std::string_view name, const std::string& path,
                             FieldErrors& errs);
/// Returns the member if it is an object (or nullptr if absent/wrong type, recording the latter).
const json* get_object(const json& parent, std::string_view name, const std::string& path, FieldErrors& errs);
/// Returns the member if it is an array (or nullptr if absent/wrong type, recording the latter).
const json* get_array(const json& parent, std::string_view name, const std::string& path, FieldErrors& errs);

/// Same conversions for a value already in hand (array elements).
std::optional<int64_t> as_int(const json& v, const std::string& path, FieldErrors& errs);
std::optional<std::string> as_string(const json& v, const std::string& path, FieldErrors& errs);

/// Text of a quantity written as a JSON string or number (`cpu: 2`, `cpu: 0.5`, `cpu: "500m"`).
std::optional<std::string> quantity_text(const json& v);

/// Parses one quantity; a value that is not one is recorded as
/// `Invalid value: "abc": quantities must match the regular expression '...'`.
std::optional<Quantity> get_quantity(const json& v, const std::string& path, FieldErrors& errs);

/// How a resource list is checked beyond "each value is a quantity".
enum class ResourceListKind {
  Plain,      ///< queue capability/deserved/guarantee, node capacity/allocatable, minResources
  Container,  ///< container requests/limits: resource names must be standard or fully qualified
};

/// Validates a ResourceList (`{cpu: "1", memory: 1Gi}`) at `path` (entries at `path[name]`):
/// a quantity, not negative, an integer for integer resources (pods, extended resources).
/// Returns the entries that parsed (negative ones included), by name.
std::map<std::string, Quantity> validate_resource_list(const json& list, const std::string& path,
                                                       ResourceListKind kind, FieldErrors& errs);
/// Member `name` of `parent` read as a resource list; empty when absent.
std::map<std::string, Quantity> get_resource_list(const json& parent, std::string_view name,
                                                  const std::string& path, ResourceListKind kind,
                                                  FieldErrors& errs);

/// True for resources whose requests may be lower than limits (cpu, memory, ephemeral-storage,
/// storage and other native names); false for hugepages-* and extended resources (nvidia.com/gpu).
bool overcommit_allowed(std::string_view resource);

/// `labels` / `annotations` maps as ValidateObjectMeta checks them; `path` is e.g. `metadata`.
void validate_labels_and_annotations(const json& meta, const std::string& path, FieldErrors& errs);

/// A PodSpec as ValidatePodTemplate would commonly reject it: containers required, container
/// names DNS-1123 labels and unique (init containers included), image required, resources valid
/// and requests <= limits, restartPolicy one of Always/OnFailure/Never.
void validate_pod_spec(const json& spec, const std::string& path, FieldErrors& errs);
/// A PodTemplateSpec: metadata labels/annotations, then validate_pod_spec on `spec`.
void validate_pod_template(const json* tmpl, const std::string& path, FieldErrors& errs);

/// Go's time.ParseDuration rules (`1h30m`, `90s`, `0`); returns the Go error text or "".
std::string go_duration_error(std::string_view text);

/// Throws kai::Error Invalid: `<Kind.group> "<name>" is invalid: <field>: <body>` for one cause,
/// `... is invalid: [<f1>: <b1>, <f2>: <b2>]` for several (Kubernetes' aggregate, duplicates
/// dropped), with every cause attached.
[[noreturn]] void throw_invalid(const ResourceInfo& res, const std::string& name, const FieldErrors& errs);

/// Kubernetes' NotFound text: `queues.scheduling.volcano.sh "q" not found`.
std::string not_found_text(const ResourceInfo& res, const std::string& name);

/// The Open/Closed/... state of a Queue object (status.state); "" when unset.
std::string queue_state(const json& queue);

/// An integer member without reporting anything (defaulting reads leniently; validation reports).
std::optional<int64_t> peek_int(const json& parent, std::string_view name);
/// A string member without reporting anything.
std::optional<std::string> peek_string(const json& parent, std::string_view name);

// Per-resource hooks. Defaults run on a copy before validation; validators only append to errs.

/// Volcano mutatejob (queue, schedulerName, maxRetry, task names/minAvailable/maxRetry,
/// hostNetwork dnsPolicy, job minAvailable, svc/ssh plugins). Only fills what is absent (or 0).
void default_job(json& job, const AdmissionContext& ctx);
/// Volcano validateJobCreate plus the pod template checks.
void validate_job_create(const json& job, const AdmissionContext& ctx, FieldErrors& errs);
/// Volcano validateJobUpdate: spec only; status is free.
void validate_job_update(const json& old_job, const json& job, FieldErrors& errs);

/// Volcano mutatequeue (weight, reclaimable, hierarchy prefix) plus parent `root` and state `Open`.
void default_queue(json& queue, bool create);
/// Volcano validatequeue; `old_queue` is null on create.
void validate_queue(const json& queue, const json* old_queue, const AdmissionContext& ctx, FieldErrors& errs);
/// Volcano validateQueueDeleting; returns the denial text or "".
std::string queue_delete_denial(const json& queue, const AdmissionContext& ctx);

/// PodGroup queue default.
void default_podgroup(json& pg);
/// PodGroup spec checks; queue existence/state only on create (as Volcano's webhook).
void validate_podgroup(const json& pg, bool create, const AdmissionContext& ctx, FieldErrors& errs);

}  // namespace kai::api::admission_detail
