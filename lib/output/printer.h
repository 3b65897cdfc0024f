#pragma once
// Printers: every command prints objects through here (tables, wide, json, yaml, name,
// jsonpath, custom-columns), never formatting JSON by hand.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/api/resources.h"

namespace kai::output {

using json = nlohmann::json;

enum class Format { Table, Wide, Json, Yaml, Name, JsonPath, JsonPathAsJson, CustomColumns };

/// What `-o/--output` asked for.
struct OutputSpec {
  Format format = Format::Table;
  std::string arg;  ///< template for jsonpath / custom-columns (file already read for *-file forms)

  /// Parses an -o value: "", "wide", "json", "yaml", "name", "jsonpath=T", "jsonpath-as-json=T",
  /// "jsonpath-file=F", "custom-columns=SPEC", "custom-columns-file=F".
  /// Throws kai::Error Usage for anything else: `unable to match a printer suitable for the
  /// output format "x", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,
  /// jsonpath-as-json,jsonpath-file,name,wide,yaml`.
  static OutputSpec parse(std::string_view value);
};

/// Printing options shared by kubectl-style printers.
struct PrintOptions {
  bool no_headers = false;
  bool show_labels = false;
  bool with_namespace = false;  ///< -A: leading NAMESPACE column
  std::vector<std::string> label_columns;  ///< -L a,b
  /// "now", for ages; tests set it.
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

/// Prints `objs` of resource `res` as kubectl would for `kubectl get` with this output spec:
/// - Table/Wide: the resource's columns, tabwriter-style (3 spaces), as kubectl shows them:
///   jobs NAME STATUS MINAVAILABLE RUNNINGS AGE (+QUEUE) and podgroups NAME STATUS MINMEMBER
///   RUNNINGS AGE (+QUEUE) from the Volcano CRDs' additionalPrinterColumns (missing values
///   `<none>`); queues NAME PARENT (the Queue CRD declares only PARENT, so no AGE); commands and
///   unknown kinds NAME AGE; pods NAME READY STATUS RESTARTS AGE (+IP NODE NOMINATED NODE
///   READINESS GATES GPUS); nodes NAME STATUS ROLES AGE VERSION (+INTERNAL-IP EXTERNAL-IP
///   OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME GPUS); namespaces NAME STATUS AGE; events
///   LAST SEEN TYPE REASON OBJECT MESSAGE (wide: kubectl's SUBOBJECT SOURCE ... COUNT NAME).
///   GPUS is kai's: for a pod the annotation `kai.dev/gpus`, else the sum of its containers'
///   `nvidia.com/gpu` requests (limits when no request); for a node allocatable
///   `nvidia.com/gpu`; "0" when none. Then NAMESPACE first (opts.with_namespace, namespaced
///   resources only), -L columns, LABELS (--show-labels).
/// - Json/Yaml: one object alone when `single` is true, else a `kind: List` (apiVersion v1,
///   metadata.resourceVersion ""); metadata.managedFields dropped.
/// - Name: `<qualified_singular>/<name>` per line.
/// - JsonPath: the template over the single object or the List; no trailing newline.
/// - JsonPathAsJson: each expression's results as a 4-space indented JSON array and "\n".
/// - CustomColumns: header + rows, `<none>` for missing, several values comma-joined (Go's
///   fmt.Sprint, so maps print as `map[k:v]`).
/// Returns the text to write to stdout (empty for an empty table: callers print
/// "No resources found" to stderr themselves).
std::string print_objects(const api::ResourceInfo& res, const std::vector<json>& objs, bool single,
                          const OutputSpec& spec, const PrintOptions& opts = {});

/// The meta.k8s.io/v1 Table an API server answers `kubectl get` with (k8s-api.md §3.5): the
/// columns print_objects shows for this resource (those only `-o wide` shows get priority 1),
/// cells as strings (ages humanised relative to `now`), each row's object a
/// PartialObjectMetadata (`object_mode` "Metadata", the default), the whole object ("Object") or
/// none ("None"). Without `column_definitions` (watch events after the first) the list is empty.
json server_table(const api::ResourceInfo& res, const std::vector<json>& objs, const std::string& object_mode,
                  bool column_definitions, std::chrono::system_clock::time_point now);

/// A cell-based table rendered like Go's tabwriter as kubectl configures it
/// (cli-runtime printers.GetNewTabWriter: minwidth 6, padding 3, padchar ' '): each column is
/// max(widest cell + 3, 6) wide, left-aligned; the last column is not padded. Empty header: no
/// header line (--no-headers).
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

/// kubectl/apimachinery HumanDuration: "5s", "3m20s", "2h", "4d", "<invalid>", ...
std::string human_duration(std::chrono::seconds d);
/// Age of an RFC 3339 timestamp relative to `now`; "<unknown>" when empty/unparsable.
std::string age(const std::string& rfc3339, std::chrono::system_clock::time_point now);
/// Parses RFC 3339 ("2026-11-22T17:26:52Z", fractional seconds and offsets allowed).
std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& rfc3339);
/// Formats as RFC 3339 UTC seconds "2026-11-22T17:26:52Z".
std::string format_time(std::chrono::system_clock::time_point t);

/// Kubernetes JSONPath (client-go util/jsonpath dialect): `{.a.b}`, `{range}{end}`, filters,
/// unions, slices, recursive descent, literal text. `['a.b']` takes the literal key "a.b" when
/// the object has one, else (like client-go) the path .a.b. Throws kai::Error Usage on bad templates,
/// and (allow_missing_keys=false) kai::Error Invalid `<key> is not found`.
class JsonPath {
 public:
  static JsonPath parse(std::string_view tmpl);
  /// Text output as kubectl prints it: the values of one expression space-separated, strings
  /// raw, numbers as Go prints them, maps and lists as compact JSON (client-go since
  /// Kubernetes 1.19), null as `null`, no trailing newline.
  std::string execute(const json& root, bool allow_missing_keys = true) const;
  /// Results as JSON values (for jsonpath-as-json and custom-columns).
  std::vector<std::vector<json>> evaluate(const json& root) const;

  JsonPath();
  ~JsonPath();
  JsonPath(JsonPath&&) noexcept;
  JsonPath& operator=(JsonPath&&) noexcept;

  struct Impl;  // the parsed template; defined in jsonpath.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

// ---- vcctl-compatible printers (volcano.md §1.3, §1.4, §1.6) ----

/// `vcctl job list` table, exact widths and trailing padding; Namespace column first when
/// all_namespaces. Empty `jobs`: returns "No resources found\n".
std::string vcctl_job_list(const std::vector<json>& jobs, bool all_namespaces);

/// `vcctl job view` describe-style dump of a Job, then `Events:` from `events` (already
/// filtered to this job, any order; printed oldest first). Every line of view.go's template
/// is printed as vcctl prints it (empty or zero values included); plugins, task-template
/// annotations and container resources the template does not name follow the named ones as
/// `<key>:\t<value>` lines at the same indentation.
std::string vcctl_job_view(const json& job, const std::vector<json>& events,
                           std::chrono::system_clock::time_point now);

/// `vcctl queue list` / `queue get` table: Name Weight State Parent Inqueue Pending Running
/// Unknown Completed, counts from PodGroups' status.phase per spec.queue. Empty `queues`:
/// "No resources found\n".
std::string vcctl_queue_list(const std::vector<json>& queues, const std::vector<json>& podgroups);

/// `kai queue list --tree`: NAME (indented two spaces per level under its spec.parent; children
/// by name; a queue whose parent is absent is listed at the top), WEIGHT, STATE, DESERVED,
/// GUARANTEE, CAPABILITY (`cpu=4,memory=8Gi`, `<none>` when unset), columns three spaces apart.
std::string queue_tree(const std::vector<json>& queues);

}  // namespace kai::output

namespace kai::output {
/// `kubectl describe`-style dump of any object (generic form kubectl uses for custom
/// resources: Name, Namespace, Labels, Annotations, API Version, Kind, then Metadata/Spec/Status
/// with keys title-cased and nested by two spaces), then an Events table
/// (Type Reason Age From Message) or `Events:  <none>`.
std::string describe(const api::ResourceInfo& res, const json& obj, const std::vector<json>& events,
                     std::chrono::system_clock::time_point now);
}  // namespace kai::output
