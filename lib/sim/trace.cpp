// Trace records (JSON lines or YAML documents) to TraceJobs, with errors that name the file, the
// record's line and the field.

#include "lib/sim/trace.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "lib/api/admission.h"
#include "lib/api/codec.h"
#include "lib/api/duration.h"
#include "lib/api/error.h"
#include "lib/api/quantity.h"
#include "lib/api/resources.h"

namespace kai::sim {
namespace {

constexpr const char* kSimulateDuration = "kai.dev/simulate-duration";
constexpr const char* kTaskSpecKey = "volcano.sh/task-spec";
constexpr const char* kGpu = "nvidia.com/gpu";
constexpr std::size_t kMaxBytes = 1u << 30;

/// One record of the file and the line it starts on.
struct Record {
  int line = 0;
  std::string text;
};

bool blank_or_comment(std::string_view line) {
  for (char c : line) {
    if (c == '#') return true;
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

/// Splits JSON lines (the first non-blank character is `{`) or YAML documents (`---`).
std::vector<Record> split_records(std::string_view text, bool& json_lines) {
  std::vector<Record> out;
  // JSON lines when the first line that is not blank or a comment starts with `{`.
  json_lines = false;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view l = text.substr(at, end - at);
    at = end + 1;
    if (blank_or_comment(l)) continue;
    json_lines = l[l.find_first_not_of(" \t")] == '{';
    break;
  }
  std::size_t pos = 0;
  int line = 0;
  Record cur;
  auto flush = [&] {
    if (!cur.text.empty()) out.push_back(std::move(cur));
    cur = Record{};
  };
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view l = text.substr(pos, end - pos);
    ++line;
    pos = end + 1;
    if (json_lines) {
      if (blank_or_comment(l)) continue;
      out.push_back(Record{line, std::string(l)});
      continue;
    }
    if (l.rfind("---", 0) == 0 && (l.size() == 3 || l[3] == ' ' || l[3] == '\r')) {
      flush();
      continue;
    }
    if (cur.text.empty()) {
      if (blank_or_comment(l)) continue;
      cur.line = line;
    }
    cur.text.append(l);
    cur.text.push_back('\n');
  }
  flush();
  return out;
}

/// Reads a record's fields; every error names `where` (file:line) and the field path.
class Fields {
 public:
  explicit Fields(std::string where) : where_(std::move(where)) {}
  const std::string& where() const { return where_; }

  [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
    throw Error::invalid(where_ + ": " + (path.empty() ? msg : path + ": " + msg));
  }

  void only(const json& obj, const std::string& path, std::initializer_list<const char*> allowed) const {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; });
      if (!ok) fail(join(path, it.key()), "unknown field" + suggestion(it.key(), allowed));
    }
  }

  std::string str(const json& obj, const char* key, const std::string& path, const std::string& def) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return def;
    if (!it->is_string()) fail(join(path, key), std::string("expected a string, got ") + api::yaml_type_name(*it, true));
    return it->get<std::string>();
  }

  /// An integer in [lo, hi]; absent gives `def`.
  int64_t integer(const json& obj, const char* key, const std::string& path, int64_t def, int64_t lo, int64_t hi) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return def;
    const std::string p = join(path, key);
    int64_t v = 0;
    if (it->is_number_integer()) {
      v = it->get<int64_t>();
    } else if (it->is_number_unsigned()) {
      v = hi + 1;
    } else {
      fail(p, std::string("expected an integer, got ") + api::yaml_type_name(*it, true));
    }
    if (v < lo) fail(p, "must be >= " + std::to_string(lo));
    if (v > hi) fail(p, "must be <= " + std::to_string(hi));
    return v;
  }

  /// Seconds (a number) or a Go duration ("90s", "1h30m"), at least 0; absent gives -1.
  Nanos duration(const json& obj, const char* key, const std::string& path) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return -1;
    return duration_value(*it, join(path, key));
  }

  Nanos duration_value(const json& v, const std::string& p) const {
    Nanos out = 0;
    if (v.is_number()) {
      const double s = v.get<double>();
      if (!std::isfinite(s) || s > 9.2e9) fail(p, "must be at most 9200000000 seconds");
      out = static_cast<Nanos>(std::llround(s * 1e9));
    } else if (v.is_string()) {
      std::string err;
      if (!api::parse_go_duration(v.get<std::string>(), out, &err)) {
        fail(p, "expected seconds or a duration such as 90s or 1h30m, got \"" + v.get<std::string>() + "\"");
      }
    } else {
      fail(p, std::string("expected seconds or a duration such as 90s, got ") + api::yaml_type_name(v, true));
    }
    if (out < 0) fail(p, "must be >= 0");
    return out;
  }

  /// A quantity (a string such as "500m", "64Gi" or a number) that is not negative.
  std::optional<std::string> quantity(const json& obj, const char* key, const std::string& path) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    const std::string p = join(path, key);
    std::string text;
    if (it->is_string()) {
      text = it->get<std::string>();
    } else if (it->is_number()) {
      text = it->dump();
    } else {
      fail(p, std::string("expected a quantity such as 4, 500m or 64Gi, got ") + api::yaml_type_name(*it, true));
    }
    api::Quantity q;
    if (!api::Quantity::try_parse(text, q)) fail(p, "expected a quantity such as 4, 500m or 64Gi, got \"" + text + "\"");
    if (q.is_negative()) fail(p, "must be >= 0");
    return text;
  }

  static std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

 private:
  static std::string suggestion(const std::string& key, std::initializer_list<const char*> allowed) {
    // A key that differs from an allowed one only in case or a trailing 's' is a likely typo.
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return s;
    };
    for (const char* a : allowed) {
      const std::string l = lower(key), r = lower(a);
      if (l == r || l + "s" == r || l == r + "s") return std::string(" (did you mean ") + a + "?)";
    }
    std::string list;
    for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return " (expected one of " + list + ")";
  }

  std::string where_;
};

std::string priority_class_for(int64_t value) {
  return "kai-sim-priority-" + (value < 0 ? "m" + std::to_string(-value) : std::to_string(value));
}

/// The pod a compact task asks for.
json compact_pod(const std::string& task, const std::optional<std::string>& cpu, const std::optional<std::string>& memory,
                 int64_t gpus, const std::string& priority_class) {
  json requests = json::object();
  json limits = json::object();
  if (cpu) requests["cpu"] = *cpu;
  if (memory) requests["memory"] = *memory;
  if (gpus > 0) {
    requests[kGpu] = std::to_string(gpus);
    limits[kGpu] = std::to_string(gpus);
  }
  json container = {{"name", "main"}, {"image", "kai-sim"}, {"resources", {{"requests", requests}}}};
  if (!limits.empty()) container["resources"]["limits"] = limits;
  json spec = {{"schedulerName", "volcano"}, {"containers", json::array({container})}};
  if (!priority_class.empty()) spec["priorityClassName"] = priority_class;
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"annotations", {{kTaskSpecKey, task}}}}}, {"spec", spec}};
}

class Parser {
 public:
  Parser(const std::string& file) : file_(file) {}

  void record(const json& rec, int line) {
    const Fields f(file_ + ":" + std::to_string(line));
    if (!rec.is_object()) f.fail("", std::string("expected a map (a trace record), got ") + api::yaml_type_name(rec, true));
    if (!rec.contains("time") && rec.contains("kind")) return object(rec, f);
    f.only(rec, "", {"time", "job", "name", "namespace", "queue", "priority", "priorityClass", "minAvailable", "duration", "tasks"});
    if (!rec.contains("time")) f.fail("time", "Required value: the arrival time in seconds or as a duration (90s)");
    TraceJob job;
    job.where = f.where();
    job.time = f.duration(rec, "time", "");
    const Nanos duration = f.duration(rec, "duration", "");
    if (rec.contains("job")) {
      for (const char* k : {"name", "namespace", "queue", "priority", "priorityClass", "minAvailable", "tasks"}) {
        if (rec.contains(k)) f.fail(k, "not allowed beside job (set it in the Job manifest)");
      }
      manifest(rec["job"], duration, f, job);
    } else {
      compact(rec, duration, f, job);
    }
    const std::string key = job.ns + "/" + job.name;
    if (auto [it, fresh] = seen_.emplace(key, job.where); !fresh) {
      f.fail(rec.contains("job") ? "job.metadata.name" : "name", "duplicate job \"" + key + "\" (also " + it->second + ")");
    }
    jobs_.push_back(std::move(job));
  }

  /// The template's index in pods_, shared with every equal template.
  int intern(json pod) {
    auto [it, fresh] = pod_ids_.emplace(pod.dump(), static_cast<int>(pods_.size()));
    if (fresh) pods_.push_back(std::move(pod));
    return it->second;
  }

  Trace finish() {
    Trace t;
    t.pods = std::move(pods_);
    std::stable_sort(jobs_.begin(), jobs_.end(), [](const TraceJob& a, const TraceJob& b) { return a.time < b.time; });
    t.jobs = std::move(jobs_);
    t.objects = std::move(objects_);
    for (int64_t v : priorities_) {
      t.objects.push_back({{"apiVersion", "scheduling.k8s.io/v1"},
                           {"kind", "PriorityClass"},
                           {"metadata", {{"name", priority_class_for(v)}}},
                           {"value", v}});
    }
    return t;
  }

 private:
  void object(const json& rec, const Fields& f) {
    const std::string kind = f.str(rec, "kind", "", "");
    if (kind != "Queue" && kind != "PriorityClass") {
      f.fail("kind", "expected a trace record (time, then job or tasks), or a Queue or PriorityClass object; got kind \"" +
                         kind + "\"");
    }
    objects_.push_back(rec);
  }

  void compact(const json& rec, Nanos duration, const Fields& f, TraceJob& job) {
    job.name = f.str(rec, "name", "", "job-" + std::to_string(jobs_.size() + 1));
    if (job.name.empty()) f.fail("name", "Required value");
    job.ns = f.str(rec, "namespace", "", "default");
    if (job.ns.empty()) job.ns = "default";
    job.queue = f.str(rec, "queue", "", "default");
    if (job.queue.empty()) job.queue = "default";
    if (rec.contains("priority") && rec.contains("priorityClass")) f.fail("priority", "give priority or priorityClass, not both");
    if (rec.contains("priority")) {
      const int64_t p = f.integer(rec, "priority", "", 0, -2147483648LL, 1000000000LL);
      job.priority_class = priority_class_for(p);
      priorities_.insert(p);
    }
    job.priority_class = f.str(rec, "priorityClass", "", job.priority_class);
    auto it = rec.find("tasks");
    if (it == rec.end() || it->is_null()) f.fail("tasks", "Required value: a list of {name, replicas, gpus, cpu, memory, duration}");
    if (!it->is_array()) f.fail("tasks", std::string("expected a sequence, got ") + api::yaml_type_name(*it, true));
    if (it->empty()) f.fail("tasks", "must have at least one task");
    int64_t total = 0;
    std::set<std::string> names;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& tj = (*it)[i];
      const std::string p = "tasks[" + std::to_string(i) + "]";
      if (!tj.is_object()) f.fail(p, std::string("expected a map, got ") + api::yaml_type_name(tj, true));
      f.only(tj, p, {"name", "replicas", "minAvailable", "gpus", "cpu", "memory", "duration"});
      TraceTask t;
      t.name = f.str(tj, "name", p, "task" + std::to_string(i));
      if (t.name.empty()) f.fail(p + ".name", "Required value");
      if (!names.insert(t.name).second) f.fail(p + ".name", "duplicate task name \"" + t.name + "\"");
      t.replicas = static_cast<int32_t>(f.integer(tj, "replicas", p, 1, 0, 100000));
      t.min_available = static_cast<int32_t>(f.integer(tj, "minAvailable", p, t.replicas, 0, 100000));
      if (t.min_available > t.replicas) f.fail(p + ".minAvailable", "must be <= replicas (" + std::to_string(t.replicas) + ")");
      const int64_t gpus = f.integer(tj, "gpus", p, 0, 0, 1000000);
      const auto cpu = f.quantity(tj, "cpu", p);
      const auto memory = f.quantity(tj, "memory", p);
      t.duration = f.duration(tj, "duration", p);
      if (t.duration < 0) t.duration = duration;
      if (t.duration < 0) f.fail(p + ".duration", "Required value: how long each pod runs (here or on the record)");
      t.pod = intern(compact_pod(t.name, cpu, memory, gpus, job.priority_class));
      total += t.replicas;
      job.tasks.push_back(std::move(t));
    }
    job.min_available = static_cast<int32_t>(f.integer(rec, "minAvailable", "", total, 0, 2147483647LL));
    if (job.min_available > total) f.fail("minAvailable", "must be <= the total replicas (" + std::to_string(total) + ")");
  }

  void manifest(const json& in, Nanos duration, const Fields& f, TraceJob& job) {
    if (!in.is_object()) f.fail("job", std::string("expected a Job manifest (a map), got ") + api::yaml_type_name(in, true));
    json obj = in;
    if (!obj.contains("apiVersion")) obj["apiVersion"] = "batch.volcano.sh/v1alpha1";
    if (!obj.contains("kind")) obj["kind"] = "Job";
    if (obj["apiVersion"] != "batch.volcano.sh/v1alpha1" || obj["kind"] != "Job") {
      f.fail("job", "expected a batch.volcano.sh/v1alpha1 Job, got " + obj["apiVersion"].dump() + " " + obj["kind"].dump());
    }
    api::AdmissionContext ctx;
    // Every queue exists and is open in the simulation (kai sim run creates the queues jobs name).
    ctx.get_queue = [](const std::string& name) -> std::optional<json> {
      return json{{"apiVersion", "scheduling.volcano.sh/v1beta1"},
                  {"kind", "Queue"},
                  {"metadata", {{"name", name}}},
                  {"spec", {{"weight", 1}}},
                  {"status", {{"state", "Open"}}}};
    };
    ctx.count_child_queues = [](const std::string&) { return 0; };
    try {
      api::admit_create(api::jobs(), obj, ctx);
    } catch (const Error& e) {
      if (e.causes().empty()) f.fail("job", e.what());
      std::string msg;
      for (const auto& c : e.causes()) msg += (msg.empty() ? "" : "; ") + (c.field.empty() ? c.message : "job." + c.field + ": " + c.message);
      throw Error::invalid(f.where() + ": " + msg);
    }
    const json& md = obj["metadata"];
    const json& spec = obj["spec"];
    job.name = md.value("name", std::string());
    job.ns = md.value("namespace", std::string("default"));
    if (job.ns.empty()) job.ns = "default";
    job.queue = spec.value("queue", std::string("default"));
    job.priority_class = spec.value("priorityClassName", std::string());
    job.min_available = spec.value("minAvailable", 0);
    const std::string scheduler = spec.value("schedulerName", std::string("volcano"));
    Nanos job_duration = duration;
    if (auto a = md.find("annotations"); a != md.end() && a->is_object() && a->contains(kSimulateDuration)) {
      job_duration = f.duration_value((*a)[kSimulateDuration], std::string("job.metadata.annotations[") + kSimulateDuration + "]");
    }
    const json& tasks = spec["tasks"];
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      const json& tj = tasks[i];
      const std::string p = "job.spec.tasks[" + std::to_string(i) + "]";
      TraceTask t;
      t.name = tj.value("name", std::string());
      t.replicas = tj.value("replicas", 0);
      t.min_available = tj.contains("minAvailable") ? tj["minAvailable"].get<int32_t>() : t.replicas;
      const json tmpl = tj.value("template", json::object());
      json meta = tmpl.value("metadata", json::object());
      json pod_spec = tmpl.value("spec", json::object());
      t.duration = job_duration;
      if (auto a = meta.find("annotations"); a != meta.end() && a->is_object() && a->contains(kSimulateDuration)) {
        t.duration = f.duration_value((*a)[kSimulateDuration], p + ".template.metadata.annotations[" + kSimulateDuration + "]");
      }
      if (t.duration < 0) {
        f.fail(p, std::string("no duration: set the record's duration or the annotation ") + kSimulateDuration);
      }
      // What the job controller fills in (volcano.md §2.3).
      json pod_meta = json::object();
      if (meta.contains("labels")) pod_meta["labels"] = meta["labels"];
      pod_meta["annotations"] = meta.value("annotations", json::object());
      pod_meta["annotations"][kTaskSpecKey] = t.name;
      if (!pod_spec.contains("schedulerName")) pod_spec["schedulerName"] = scheduler;
      if (!pod_spec.contains("priorityClassName") && !job.priority_class.empty()) pod_spec["priorityClassName"] = job.priority_class;
      t.pod = intern({{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", pod_meta}, {"spec", pod_spec}});
      job.tasks.push_back(std::move(t));
    }
  }

  std::string file_;
  std::vector<TraceJob> jobs_;
  std::vector<json> objects_;
  std::set<int64_t> priorities_;
  std::map<std::string, std::string> seen_;
  std::vector<json> pods_;
  std::unordered_map<std::string, int> pod_ids_;
};

}  // namespace

Trace parse_trace(std::string_view text, const std::string& file) {
  bool json_lines = false;
  const std::vector<Record> records = split_records(text, json_lines);
  Parser p(file);
  for (const Record& r : records) {
    json rec;
    if (json_lines) {
      try {
        rec = json::parse(r.text);
      } catch (const json::parse_error& e) {
        // nlohmann: "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
        std::string m = e.what();
        if (auto at = m.find("column"); at != std::string::npos) m = m.substr(at);
        throw Error::invalid(file + ":" + std::to_string(r.line) + ": invalid JSON: " + m);
      }
    } else {
      try {
        rec = api::decode_value(r.text, file);
      } catch (const Error&) {
        // Again with the record at its place in the file, so that yaml-cpp's line is the file's.
        api::decode_value(std::string(static_cast<std::size_t>(r.line - 1), '\n') + r.text, file);
        throw;
      }
      if (rec.is_null()) continue;
    }
    p.record(rec, r.line);
  }
  return p.finish();
}

Trace read_trace(const std::string& path) {
  const std::string name = path == "-" ? "<stdin>" : path;
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::FILE* fp = std::fopen(path.c_str(), "rb");
    if (fp == nullptr) {
      const int err = errno;
      if (err == ENOENT) throw Error::invalid(path + ": no such file or directory");
      std::string m = std::strerror(err);
      if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
      throw Error::invalid(path + ": " + m);
    }
    char buf[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) {
      text.append(buf, n);
      if (text.size() > kMaxBytes) {
        std::fclose(fp);
        throw Error::invalid(path + ": input is larger than the limit of " + std::to_string(kMaxBytes) + " bytes");
      }
    }
    const bool failed = std::ferror(fp) != 0;
    std::fclose(fp);
    if (failed) throw Error::invalid(path + ": is a directory or cannot be read");
  }
  Trace t = parse_trace(text, name);
  if (t.jobs.empty()) throw Error::invalid(name + ": no jobs found (records need time and job or tasks)");
  return t;
}

}  // namespace kai::sim
