#include "lib/api/resources.h"

#include <algorithm>
#include <cctype>

namespace kai::api {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::vector<ResourceInfo> make_resources() {
  return {
      {"batch.volcano.sh", "v1alpha1", "Job", "jobs", "job", {"vcjob", "vj"}, true},
      {"scheduling.volcano.sh", "v1beta1", "Queue", "queues", "queue", {"q", "queue-v1beta1"}, false},
      {"scheduling.volcano.sh", "v1beta1", "PodGroup", "podgroups", "podgroup", {"pg", "podgroup-v1beta1"}, true},
      {"bus.volcano.sh", "v1alpha1", "Command", "commands", "command", {}, true},
      {"", "v1", "Pod", "pods", "pod", {"po"}, true},
      {"", "v1", "Node", "nodes", "node", {"no"}, false},
      {"", "v1", "Namespace", "namespaces", "namespace", {"ns"}, false},
      {"", "v1", "Event", "events", "event", {"ev"}, true},
      {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", {"pc"}, false},
  };
}

}  // namespace

const std::vector<ResourceInfo>& all_resources() {
  static const std::vector<ResourceInfo> kResources = make_resources();
  return kResources;
}

std::optional<ResourceInfo> find_resource(std::string_view name) {
  std::string n = lower(name);
  std::string group;
  // "jobs.batch.volcano.sh" / "job.batch.volcano.sh": split off the group after the first dot.
  if (auto dot = n.find('.'); dot != std::string::npos) {
    group = n.substr(dot + 1);
    n = n.substr(0, dot);
  }
  for (const auto& r : all_resources()) {
    if (!group.empty() && group != r.group) continue;
    if (n == r.plural || n == r.singular || n == lower(r.kind)) return r;
    if (std::find(r.short_names.begin(), r.short_names.end(), n) != r.short_names.end()) return r;
  }
  return std::nullopt;
}

std::optional<ResourceInfo> find_resource_by_kind(std::string_view api_version, std::string_view kind) {
  for (const auto& r : all_resources()) {
    if (r.kind == kind && r.api_version() == api_version) return r;
  }
  return std::nullopt;
}

const ResourceInfo& jobs() { return all_resources()[0]; }
const ResourceInfo& queues() { return all_resources()[1]; }
const ResourceInfo& podgroups() { return all_resources()[2]; }
const ResourceInfo& commands() { return all_resources()[3]; }
const ResourceInfo& pods() { return all_resources()[4]; }
const ResourceInfo& nodes() { return all_resources()[5]; }
const ResourceInfo& namespaces() { return all_resources()[6]; }
const ResourceInfo& events() { return all_resources()[7]; }
const ResourceInfo& priority_classes() { return all_resources()[8]; }

}  // namespace kai::api
