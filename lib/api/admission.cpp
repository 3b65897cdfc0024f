// Admission: what Volcano's webhooks (mutate + validate) and the Kubernetes API server's own
// validation do to an object before it is stored.
//
// Error format. Every problem is gathered as a Kubernetes field error, then one kai::Error
// Invalid is thrown whose message is the API server's:
//   <Kind.group> "<name>" is invalid: <field>: <body>                      (one cause)
//   <Kind.group> "<name>" is invalid: [<field>: <body>, <field>: <body>]   (several; repeats dropped)
// and whose causes() hold every {field, body}. Bodies use Kubernetes' field-error wording:
//   Required value[: detail] | Invalid value: <v>: detail | Duplicate value: <v> |
//   Unsupported value: <v>: supported values: "a", "b" | Not found: <v> | Forbidden: detail
// with <v> printed as Kubernetes does (strings quoted, numbers bare). Where Volcano's webhook has
// its own text, that text (minus its leading space and trailing `;`) is the detail.
// Map keys are in brackets: `spec.tasks[0].template.spec.containers[0].resources.requests[cpu]`.
//
// Mapping (rule -> field: body). <t> task name, <j> job name, <q> queue name.
// Common (every kind)
//   apiVersion / kind absent          -> set from the resource
//   apiVersion / kind other           -> apiVersion: Unsupported value: "x": supported values: "<gv>"
//   wrong JSON type anywhere          -> <f>: Invalid value: "string": <f> in body must be of type integer: "string"
//   no name and no generateName       -> metadata.name: Required value: name or generateName is required
//   name not a DNS-1123 subdomain     -> metadata.name: Invalid value: "N": <names.h message>  (Namespace: label)
//   generateName prefix invalid       -> metadata.generateName: Invalid value: ...
//   namespace (namespaced kinds)      -> defaults to "default"; not a DNS label -> metadata.namespace: Invalid value
//   namespace (cluster-scoped kinds)  -> cleared, as the API server does
//   label key / value, annotation key -> metadata.labels: Invalid value: "k": <message>   (as ValidateLabels)
//   update: name/namespace/uid change -> metadata.name: Invalid value: "new": field is immutable
// Job create (defaults first: queue "default", schedulerName ctx.default_scheduler, maxRetry 3,
// task name default<i>, task minAvailable = replicas (minPartitions*partitionSize with a partition
// policy), task maxRetry 3, hostNetwork dnsPolicy ClusterFirstWithHostNet, minAvailable = sum of
// task minAvailable, svc for tensorflow/mpi/pytorch/ray, ssh for mpi)
//   name longer than 63               -> metadata.name: Invalid value: "N": create job with name N validate failed [..]
//   no tasks                          -> spec.tasks: Required value: No task specified in job spec
//   minAvailable < 0                  -> spec.minAvailable: Invalid value: -1: must be greater than or equal to 0
//   maxRetry < 0                      -> spec.maxRetry: Invalid value: -1: must be greater than or equal to 0
//   ttlSecondsAfterFinished < 0       -> spec.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal to 0
//   minSuccess < 1                    -> spec.minSuccess: Invalid value: 0: must be greater than or equal to 1
//   task replicas < 0                 -> spec.tasks[i].replicas: Invalid value: -1: must be greater than or equal to 0
//   task minAvailable < 0             -> spec.tasks[i].minAvailable: Invalid value: -1: must be greater than or equal to 0
//   task minAvailable > replicas      -> spec.tasks[i].minAvailable: Invalid value: 5: 'minAvailable' is greater than 'replicas' in task: <t>, job: <j>
//   task name not a DNS-1123 label    -> spec.tasks[i].name: Invalid value: "T": <names.h message>
//   duplicated task name              -> spec.tasks[i].name: Duplicate value: "t"
//   pod name <j>-<t>-<replicas-1> not a DNS label
//                                     -> spec.tasks[i].name: Invalid value: "t": create pod with name P validate failed [..]
//   minAvailable > total replicas     -> spec.minAvailable: Invalid value: 9: job 'minAvailable' should not be greater than total replicas in tasks
//   policy event and exitCode         -> <p>.exitCode: Invalid value: 1: must not specify event and exitCode simultaneously
//   policy neither                    -> <p>: Required value: either event and exitCode should be specified
//   policy event not allowed          -> <p>.event (or .events[k]): Invalid value: "E": invalid policy event, valid events are [* PodFailed ...]
//   policy action missing / bad       -> <p>.action: Required value | Invalid value: "A": invalid policy action, valid actions are [AbortJob ...]
//   event repeated across policies    -> <p>.event: Duplicate value: "PodFailed"
//   exitCode 0 / repeated             -> <p>.exitCode: Invalid value: 0: 0 is not a valid error code | Duplicate value: 3
//   `*` with other events             -> spec.policies: Forbidden: if there's * here, no other policy should be here
//   policy timeout not a Go duration  -> <p>.timeout: Invalid value: "x": time: invalid duration "x"
//   unknown plugin                    -> spec.plugins[p]: Invalid value: "p": unable to find job plugin: p
//   mpi without master / worker task  -> spec.plugins[mpi]: Invalid value: "master": The specified mpi master task was not found
//   networkTopology both tiers        -> spec.networkTopology.highestTierName: Forbidden: must not specify 'highestTierAllowed' and 'highestTierName' in networkTopology simultaneously
//   networkTopology.mode              -> Unsupported value: "x": supported values: "hard", "soft"
//   partitionPolicy                   -> spec.tasks[i].partitionPolicy.totalPartitions: Invalid value: 0: 'TotalPartitions' must be greater than 0 in task: <t>, job: <j>
//                                        (...partitionSize: 'PartitionSize' must be greater than 0 ...;
//                                         spec.tasks[i].replicas: 'Replicas' are not equal to TotalPartitions*PartitionSize ...;
//                                         spec.tasks[i].minAvailable: 'MinAvailable' is not equal to MinPartitions*PartitionSize ...)
//   topologyPolicy                    -> Unsupported value (none, best-effort, restricted, single-numa-node);
//                                        Invalid value: "restricted": task <t> isn't Guaranteed pod, kind=Burstable;
//                                        ...resources.requests[cpu]: Invalid value: "500m": the cpu request isn't an integer
//   volumes                           -> spec.volumes[k].mountPath: Required value | Duplicate value: "/d" | Invalid value: "a:b": must not contain ':'
//                                        spec.volumes[k]: Required value: either VolumeClaim or VolumeClaimName must be specified
//                                        spec.volumes[k].volumeClaimName: Forbidden: conflict: If you want to use an existing PVC, ...
//                                        spec.volumes[k].volumeClaimName: Invalid value: "X": invalid VolumeClaimName X : [..]
//   queue missing                     -> spec.queue: Invalid value: "q": unable to find job queue: queues.scheduling.volcano.sh "q" not found
//   queue not Open                    -> spec.queue: Invalid value: "q": can only submit job to queue with state `Open`, queue `q` status is `Closed`
//   queue root                        -> spec.queue: Invalid value: "root": can not submit job to root queue
//   queue with children               -> spec.queue: Invalid value: "p": can only submit job to leaf queue, queue `p` has 1 child queues
//   dependsOn unknown task            -> spec.tasks[i].dependsOn.name[k]: Not found: "x"
//   dependsOn cycle                   -> spec.tasks: Forbidden: job has dependencies between tasks, but doesn't form a directed acyclic graph(DAG)
//   dependsOn.iteration               -> Unsupported value: "x": supported values: "any", "all"
// Pod template (task templates and Pods), as ValidatePodTemplate commonly rejects:
//   no containers                     -> <s>.containers: Required value
//   container name missing/bad/dup    -> <c>.name: Required value | Invalid value: "N": <label message> | Duplicate value: "x"
//   image missing                     -> <c>.image: Required value
//   bad quantity                      -> <c>.resources.requests[cpu]: Invalid value: "abc": quantities must match the regular expression '...'
//   negative quantity                 -> ...: Invalid value: "-1": must be greater than or equal to 0
//   fractional extended resource      -> ...limits[nvidia.com/gpu]: Invalid value: 500m: must be an integer
//   resource name                     -> ...requests[gpu]: Invalid value: "gpu": must be a standard resource for containers
//   request > limit                   -> ...requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1
//   extended request != limit         -> ...requests[nvidia.com/gpu]: Invalid value: "2": must be equal to nvidia.com/gpu limit of 1
//   extended request without limit    -> ...resources.limits: Required value: Limit must be set for non overcommitable resources
//   restartPolicy                     -> <s>.restartPolicy: Unsupported value: "x": supported values: "Always", "OnFailure", "Never"
// Job update (Volcano validateJobUpdate; spec only, status is free; absent defaults re-applied)
//   replicas / minAvailable < 0       -> as on create
//   task minAvailable > replicas      -> spec.tasks[i].minAvailable: Invalid value: 5: 'minAvailable' must be <= 'replicas' in task: <t>
//   minAvailable > total replicas     -> spec.minAvailable: Invalid value: 9: job 'minAvailable' must not be greater than total replicas
//   task count changed                -> spec.tasks: Forbidden: job updates may not add or remove tasks
//   other spec field changed          -> spec: Forbidden: job updates may not change fields other than `minAvailable`, `tasks[*].replicas under spec` and `PriorityClassName`
// Queue create/update (defaults: weight 1, reclaimable true, parent "root" except for root,
// status.state "Open"; on create, legacy hierarchy annotations get the root/ and 1/ prefixes)
//   weight out of 1..65535            -> spec.weight: Invalid value: 0: spec.weight in body should be greater than or equal to 1 (less than or equal to 65535)
//   priority < 0                      -> spec.priority: Invalid value: -1: spec.priority in body should be greater than or equal to 0
//   dequeueStrategy                   -> Unsupported value: "x": supported values: "fifo", "traverse"
//   state not Open/Closed             -> status.state: Invalid value: "X": queue state must be in [Open Closed]  (updates may also carry Closing/Unknown)
//   quantities                        -> spec.capability[cpu] / spec.deserved[cpu] / spec.guarantee.resource[cpu]: as for containers
//   guarantee without deserved        -> spec.deserved[cpu]: Invalid value: "<nil>": deserved[cpu] must be >= guarantee[cpu]=2
//   deserved < guarantee              -> spec.deserved[cpu]: Invalid value: "1": deserved[cpu]=1 must be >= guarantee[cpu]=2
//   deserved > capability             -> spec.deserved[cpu]: Invalid value: "8": deserved[cpu]=8 must be <= capability[cpu]=4
//   parent is itself                  -> spec.parent: Invalid value: "q": queue q cannot use itself as parent
//   parent missing                    -> spec.parent: Invalid value: "p": failed to get parent queue of queue q: queues.scheduling.volcano.sh "p" not found
//   parent is a descendant (kai)      -> spec.parent: Invalid value: "p": queue q cannot use its descendant p as parent
//   capability over ancestor's        -> spec.capability[cpu]: Invalid value: "8": queue q capability[cpu]=8 exceeds its ancestor's capability=4
//   hierarchy annotations             -> metadata.annotations: Invalid value: "a/b": volcano.sh/hierarchy must have the same length with volcano.sh/hierarchy-weights
//                                        (and "<w> in the <ws> is invalid number: ...", "<w> in the <ws> must be larger than 0")
// Queue delete (the webhook's denial text is the whole message; one cause on metadata.name)
//   default / root                    -> `default` queue can not be deleted | `root` queue can not be deleted
//   has children                      -> queue p can not be deleted because it has 2 child queues
// PodGroup (default queue "default")
//   minMember < 0                     -> spec.minMember: Invalid value: -1: must be greater than or equal to 0
//   minTaskMember[t] < 0              -> spec.minTaskMember[t]: Invalid value: -1: must be greater than or equal to 0
//   minResources                      -> quantities as above
//   networkTopology both tiers        -> as for Job
//   queue missing (create)            -> spec.queue: Invalid value: "q": unable to find queue: queues.scheduling.volcano.sh "q" not found
//   queue not Open (create)           -> spec.queue: Invalid value: "q": can only submit PodGroup to queue with state `Open`, queue `q` status is `Closed`.
// Command
//   action missing / unknown          -> action: Required value | Unsupported value: "X": supported values: "AbortJob", ...
//   target missing                    -> target: Required value; target.name / target.kind: Required value
//   target kind                       -> target.kind: Unsupported value: "Pod": supported values: "Job", "Queue"
//   action for the other kind         -> action: Invalid value: "OpenQueue": action OpenQueue does not apply to a Job
// Node: status.capacity / status.allocatable quantities. Namespace, Event: metadata only.
//
// Lookups: queue rules run only when ctx.get_queue is set (child counts when
// ctx.count_child_queues is); a queue whose status.state is unset counts as Open, as the queue
// controller reads it. Volcano stops at the first failing rule in places; kai reports them all.

#include "lib/api/admission.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "lib/api/admission_util.h"
#include "lib/api/names.h"

namespace kai::api {
namespace {

using namespace admission_detail;

constexpr std::array<std::string_view, 10> kCommandActions = {
    "AbortJob",   "CompleteJob",    "RestartJob", "RestartPartition", "RestartPod",
    "RestartTask", "ResumeJob", "TerminateJob", "OpenQueue",        "CloseQueue"};

bool is(const ResourceInfo& res, const ResourceInfo& other) { return res.key() == other.key(); }

std::string name_of(const json& obj) {
  const json* meta = member(obj, "metadata");
  return meta ? peek_string(*meta, "name").value_or("") : "";
}

std::string namespace_of(const json& obj) {
  const json* meta = member(obj, "metadata");
  return meta ? peek_string(*meta, "namespace").value_or("") : "";
}

[[noreturn]] void throw_not_object(const ResourceInfo& res, const json& obj) {
  FieldErrors errs;
  errs.invalid("", std::string(json_type_name(obj)), "the object must be a JSON object");
  throw_invalid(res, "", errs);
}

// apiVersion and kind: filled in when absent, refused when they name another type.
void normalize_type_meta(const ResourceInfo& res, json& obj, FieldErrors& errs) {
  const std::pair<const char*, std::string> fields[] = {{"apiVersion", res.api_version()}, {"kind", res.kind}};
  for (const auto& [field, expected] : fields) {
    const json* v = member(obj, field);
    if (!v || (v->is_string() && v->get_ref<const std::string&>().empty())) {
      obj[field] = expected;
    } else if (!v->is_string()) {
      errs.wrong_type(field, *v, "string");
    } else if (v->get_ref<const std::string&>() != expected) {
      errs.unsupported(field, *v, {expected});
    }
  }
}

// metadata.namespace: defaulted for namespaced kinds, cleared for cluster-scoped ones (the API
// server ignores a namespace sent with a cluster-scoped object).
void normalize_namespace(const ResourceInfo& res, json& obj, const std::string& fallback) {
  if (!member(obj, "metadata")) obj["metadata"] = json::object();
  json& meta = obj["metadata"];
  if (!meta.is_object()) return;
  if (!res.namespaced) {
    meta.erase("namespace");
    return;
  }
  const json* ns = member(meta, "namespace");
  if (!ns || (ns->is_string() && ns->get_ref<const std::string&>().empty())) meta["namespace"] = fallback;
}

// ValidateObjectMeta: name (or generateName), namespace, labels, annotations.
void validate_object_meta(const ResourceInfo& res, const json& obj, FieldErrors& errs) {
  const json* meta = get_object(obj, "metadata", "metadata", errs);
  if (!meta) return;
  auto name_errors = is(res, namespaces()) ? dns1123_label_errors : dns1123_subdomain_errors;
  auto name = get_string(*meta, "name", "metadata.name", errs);
  auto generate = get_string(*meta, "generateName", "metadata.generateName", errs);
  if (name && !name->empty()) {
    for (const auto& msg : name_errors(*name)) errs.invalid("metadata.name", *name, msg);
  } else if (generate && !generate->empty()) {
    // A prefix: a trailing '-' is fine because random characters follow it.
    std::string masked = *generate;
    if (masked.back() == '-') masked.back() = 'a';
    for (const auto& msg : name_errors(masked)) errs.invalid("metadata.generateName", *generate, msg);
  } else if (!member(*meta, "name") || name) {
    errs.required("metadata.name", "name or generateName is required");
  }
  if (res.namespaced) {
    if (auto ns = get_string(*meta, "namespace", "metadata.namespace", errs); ns && !ns->empty()) {
      for (const auto& msg : dns1123_label_errors(*ns)) errs.invalid("metadata.namespace", *ns, msg);
    }
  }
  validate_labels_and_annotations(*meta, "metadata", errs);
}

void validate_immutable_meta(const json& old_obj, const json& obj, FieldErrors& errs) {
  const json* old_meta = member(old_obj, "metadata");
  const json* meta = member(obj, "metadata");
  if (!old_meta || !meta) return;
  for (const char* f : {"name", "namespace", "uid"}) {
    auto before = peek_string(*old_meta, f);
    auto after = peek_string(*meta, f);
    if (before && !before->empty() && after && *after != *before) {
      errs.invalid(std::string("metadata.") + f, *after, "field is immutable");
    }
  }
}

void validate_command(const json& cmd, FieldErrors& errs) {
  auto action = get_string(cmd, "action", "action", errs);
  bool action_ok = false;
  if (!action || action->empty()) {
    if (!member(cmd, "action") || action) errs.required("action");
  } else if (std::find(kCommandActions.begin(), kCommandActions.end(), *action) == kCommandActions.end()) {
    errs.unsupported("action", *action, {kCommandActions.begin(), kCommandActions.end()});
  } else {
    action_ok = true;
  }
  const json* target = get_object(cmd, "target", "target", errs);
  if (!target) {
    if (!member(cmd, "target")) errs.required("target");
    return;
  }
  auto name = get_string(*target, "name", "target.name", errs);
  if (!name || name->empty()) {
    if (!member(*target, "name") || name) errs.required("target.name");
  }
  auto kind = get_string(*target, "kind", "target.kind", errs);
  if (!kind || kind->empty()) {
    if (!member(*target, "kind") || kind) errs.required("target.kind");
    return;
  }
  if (*kind != "Job" && *kind != "Queue") {
    errs.unsupported("target.kind", *kind, {"Job", "Queue"});
    return;
  }
  bool queue_action = action_ok && (*action == "OpenQueue" || *action == "CloseQueue");
  if (action_ok && queue_action != (*kind == "Queue")) {
    errs.invalid("action", *action, "action " + *action + " does not apply to a " + *kind);
  }
}

void validate_pod(const json& pod, FieldErrors& errs) {
  const json* spec = get_object(pod, "spec", "spec", errs);
  if (!spec) {
    if (!member(pod, "spec")) errs.required("spec.containers");
    return;
  }
  validate_pod_spec(*spec, "spec", errs);
}

void validate_node(const json& node, FieldErrors& errs) {
  const json* status = get_object(node, "status", "status", errs);
  if (!status) return;
  get_resource_list(*status, "capacity", "status.capacity", ResourceListKind::Plain, errs);
  get_resource_list(*status, "allocatable", "status.allocatable", ResourceListKind::Plain, errs);
}

// Checks that do not depend on the operation.
void validate_common_kinds(const ResourceInfo& res, const json& obj, FieldErrors& errs) {
  if (is(res, commands())) validate_command(obj, errs);
  if (is(res, pods())) validate_pod(obj, errs);
  if (is(res, nodes())) validate_node(obj, errs);
}

}  // namespace

void admit_create(const ResourceInfo& res, nlohmann::json& obj, const AdmissionContext& ctx) {
  if (!obj.is_object()) throw_not_object(res, obj);
  json o = obj;  // work on a copy: a refused object is left as it was
  FieldErrors errs;
  normalize_type_meta(res, o, errs);
  normalize_namespace(res, o, "default");
  if (is(res, jobs())) default_job(o, ctx);
  if (is(res, queues())) default_queue(o, /*create=*/true);
  if (is(res, podgroups())) default_podgroup(o);

  validate_object_meta(res, o, errs);
  if (is(res, jobs())) validate_job_create(o, ctx, errs);
  if (is(res, queues())) validate_queue(o, nullptr, ctx, errs);
  if (is(res, podgroups())) validate_podgroup(o, /*create=*/true, ctx, errs);
  validate_common_kinds(res, o, errs);
  if (!errs.empty()) throw_invalid(res, name_of(o), errs);
  obj = std::move(o);
}

void admit_update(const ResourceInfo& res, const nlohmann::json& old_obj, nlohmann::json& obj,
                  const AdmissionContext& ctx) {
  if (!obj.is_object()) throw_not_object(res, obj);
  json o = obj;
  FieldErrors errs;
  normalize_type_meta(res, o, errs);
  const std::string old_ns = namespace_of(old_obj);
  normalize_namespace(res, o, old_ns.empty() ? "default" : old_ns);
  // What a replacement object leaves out is kept from the stored one: identity fields, and the
  // status (controllers and users write spec and status through the same update).
  if (json& meta = o["metadata"]; meta.is_object()) {
    if (const json* old_meta = member(old_obj, "metadata")) {
      for (const char* f : {"name", "uid", "creationTimestamp"}) {
        if (!member(meta, f) && member(*old_meta, f)) meta[f] = (*old_meta)[f];
      }
    }
  }
  if (!member(o, "status") && member(old_obj, "status")) o["status"] = old_obj["status"];
  if (is(res, jobs())) default_job(o, ctx);
  if (is(res, queues())) default_queue(o, /*create=*/false);
  if (is(res, podgroups())) default_podgroup(o);

  validate_object_meta(res, o, errs);
  validate_immutable_meta(old_obj, o, errs);
  if (is(res, jobs())) validate_job_update(old_obj, o, errs);
  if (is(res, queues())) validate_queue(o, &old_obj, ctx, errs);
  if (is(res, podgroups())) validate_podgroup(o, /*create=*/false, ctx, errs);
  validate_common_kinds(res, o, errs);
  if (!errs.empty()) throw_invalid(res, name_of(o), errs);
  obj = std::move(o);
}

void admit_delete(const ResourceInfo& res, const nlohmann::json& obj, const AdmissionContext& ctx) {
  if (!is(res, queues())) return;
  std::string denial = queue_delete_denial(obj, ctx);
  if (denial.empty()) return;
  throw Error(ErrorKind::Invalid, denial, {FieldCause{"metadata.name", "Forbidden: " + denial}});
}

}  // namespace kai::api
