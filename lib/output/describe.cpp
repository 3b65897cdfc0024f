// kubectl describe's generic describer (kubectl/pkg/describe genericDescriber), used by
// kubectl for custom resources and by kai for every resource.

#include "lib/output/printer.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "lib/output/gofmt.h"

namespace kai::output {
namespace {

using detail::find_path;
using detail::str_at;

constexpr std::size_t kMaxAnnotationLen = 140;

std::string indent(int level) { return std::string(static_cast<std::size_t>(level) * 2, ' '); }

/// fatih/camelcase.Split as kubectl uses it: runs of lower, upper, digit and other
/// characters, with an upper->lower boundary moving the last capital ("PDFLoader" ->
/// "PDF", "Loader"). ASCII classes; other bytes count as lower-case letters.
std::vector<std::string> camel_split(const std::string& s) {
  auto cls = [](unsigned char c) {
    if (std::islower(c) || c >= 0x80) return 1;
    if (std::isupper(c)) return 2;
    if (std::isdigit(c)) return 3;
    return 4;
  };
  std::vector<std::string> runs;
  int last = 0;
  for (unsigned char c : s) {
    int k = cls(c);
    if (k == last && !runs.empty()) {
      runs.back() += static_cast<char>(c);
    } else {
      runs.emplace_back(1, static_cast<char>(c));
    }
    last = k;
  }
  for (std::size_t i = 0; i + 1 < runs.size(); ++i) {
    if (std::isupper(static_cast<unsigned char>(runs[i][0])) && cls(static_cast<unsigned char>(runs[i + 1][0])) == 1 &&
        (static_cast<unsigned char>(runs[i + 1][0]) < 0x80)) {
      runs[i + 1].insert(runs[i + 1].begin(), runs[i].back());
      runs[i].pop_back();
    }
  }
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const std::string& r) { return r.empty(); }), runs.end());
  return runs;
}

/// smartLabelFor: "apiVersion" -> "API Version", "minAvailable" -> "Min Available"; keys
/// with characters other than letters and '-' stay as they are ("nvidia.com/gpu").
std::string smart_label(const std::string& field) {
  for (unsigned char c : field) {
    if (!(std::isalpha(c) || c >= 0x80 || c == '-')) return field;
  }
  static const std::set<std::string> kAcronyms = {"API", "URL", "UID", "OSB", "GUID"};
  std::string out;
  for (auto part : camel_split(field)) {
    if (part == "_") continue;
    std::string upper = part;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    if (kAcronyms.count(upper)) {
      part = upper;
    } else {
      part[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(part[0])));
    }
    if (!out.empty()) out += ' ';
    out += part;
  }
  return out;
}

std::string scalar(const json& v) { return detail::go_sprint(v); }

void print_unstructured(std::string& w, int level, const json& content, const std::string& prefix,
                        const std::set<std::string>& skip) {
  for (const auto& [field, value] : content.items()) {
    const std::string expr = prefix + "." + field;
    if (skip.count(expr)) continue;
    if (value.is_object()) {
      w += indent(level) + smart_label(field) + ":\n";
      print_unstructured(w, level + 1, value, expr, skip);
    } else if (value.is_array()) {
      w += indent(level) + smart_label(field) + ":\n";
      for (const auto& child : value) {
        if (child.is_object()) {
          print_unstructured(w, level + 1, child, expr, skip);
        } else {
          w += indent(level + 1) + scalar(child) + "\n";
        }
      }
    } else {
      w += indent(level) + smart_label(field) + ":\t" + scalar(value) + "\n";
    }
  }
}

void print_labels(std::string& w, const json& obj) {
  w += "Labels:\t";
  const json* labels = find_path(obj, {"metadata", "labels"});
  if (!labels || !labels->is_object() || labels->empty()) {
    w += "<none>\n";
    return;
  }
  bool first = true;
  for (const auto& [k, v] : labels->items()) {
    if (!first) w += "\t";
    first = false;
    w += k + "=" + (v.is_string() ? v.get<std::string>() : scalar(v)) + "\n";
  }
}

std::string shorten(const std::string& s, std::size_t max) { return s.size() > max ? s.substr(0, max) + "..." : s; }

void print_annotations(std::string& w, const json& obj) {
  w += "Annotations:\t";
  const json* ann = find_path(obj, {"metadata", "annotations"});
  std::vector<std::pair<std::string, std::string>> kv;
  if (ann && ann->is_object()) {
    for (const auto& [k, v] : ann->items()) {
      if (k == "kubectl.kubernetes.io/last-applied-configuration") continue;
      kv.emplace_back(k, v.is_string() ? v.get<std::string>() : scalar(v));
    }
  }
  if (kv.empty()) {
    w += "<none>\n";
    return;
  }
  bool first = true;
  for (auto& [k, value] : kv) {
    if (!first) w += "\t";
    first = false;
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (value.size() + k.size() + 2 > kMaxAnnotationLen || value.find('\n') != std::string::npos) {
      w += k + ":\n";
      std::size_t start = 0;
      for (;;) {
        auto nl = value.find('\n', start);
        w += "\t  " + shorten(value.substr(start, nl == std::string::npos ? std::string::npos : nl - start),
                              kMaxAnnotationLen - 2) +
             "\n";
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    } else {
      w += k + ": " + value + "\n";
    }
  }
}

std::string since_key(const json& o, std::initializer_list<std::string_view> path,
                      std::chrono::system_clock::time_point now) {
  auto t = parse_time(str_at(o, path));
  if (!t) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

/// The sort key kubectl's SortableEvents uses (lastTimestamp), with eventTime and
/// firstTimestamp as fallbacks for events that only carry those.
std::string last_seen_key(const json& ev) {
  for (auto key : {"lastTimestamp", "eventTime", "firstTimestamp"}) {
    if (auto t = parse_time(str_at(ev, {key}))) return format_time(*t) + str_at(ev, {key});
  }
  return "";
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string describe(const api::ResourceInfo& res, const json& obj, const std::vector<json>& events,
                     std::chrono::system_clock::time_point now) {
  (void)res;  // the generic describer prints every resource the same way
  std::string w;
  w += "Name:\t" + str_at(obj, {"metadata", "name"}) + "\n";
  w += "Namespace:\t" + str_at(obj, {"metadata", "namespace"}) + "\n";
  print_labels(w, obj);
  print_annotations(w, obj);
  static const std::set<std::string> kSkip = {".metadata.name", ".metadata.namespace", ".metadata.labels",
                                              ".metadata.annotations", ".metadata.managedFields"};
  if (obj.is_object()) print_unstructured(w, 0, obj, "", kSkip);
  if (events.empty()) {
    w += "Events:\t<none>\n";
    return detail::tabwrite(w, 0, 2);
  }

  // DescribeEvents flushes the tab writer first, so the events table aligns on its own.
  std::vector<const json*> sorted;
  for (const auto& e : events) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const json* a, const json* b) { return last_seen_key(*a) < last_seen_key(*b); });
  std::string ev = "Events:\n  Type\tReason\tAge\tFrom\tMessage\n";
  ev += "  ----\t------\t----\t----\t-------\n";
  for (const json* e : sorted) {
    std::string first = parse_time(str_at(*e, {"eventTime"})) ? since_key(*e, {"eventTime"}, now)
                                                               : since_key(*e, {"firstTimestamp"}, now);
    std::string interval = first;
    const long long count = detail::as_int(e->value("count", json(0)));
    if (const json* series = find_path(*e, {"series"}); series && series->is_object()) {
      interval = since_key(*series, {"lastObservedTime"}, now) + " (x" +
                 std::to_string(detail::as_int(series->value("count", json(0)))) + " over " + first + ")";
    } else if (count > 1) {
      interval = since_key(*e, {"lastTimestamp"}, now) + " (x" + std::to_string(count) + " over " + first + ")";
    }
    std::string source = str_at(*e, {"source", "component"});
    if (source.empty()) source = str_at(*e, {"reportingComponent"});
    ev += "  " + str_at(*e, {"type"}) + "\t" + str_at(*e, {"reason"}) + "\t" + interval + "\t" + source + "\t" +
          trim(str_at(*e, {"message"})) + "\n";
  }
  return detail::tabwrite(w, 0, 2) + detail::tabwrite(ev, 0, 2);
}

}  // namespace kai::output
