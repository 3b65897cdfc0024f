// Kubernetes semantics the scheduler needs without Kubernetes: taints and tolerations, node
// selector terms, RFC 3339 times and Go durations.

#include "lib/scheduler/model.h"

#include "lib/api/duration.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace kai::scheduler {
namespace {

const std::string* label_of(const ModelNode& node, const std::string& key) {
  // Labels are sorted by key: binary search.
  auto it = std::lower_bound(node.labels.begin(), node.labels.end(), key,
                             [](const auto& kv, const std::string& k) { return kv.first < k; });
  if (it == node.labels.end() || it->first != key) return nullptr;
  return &it->second;
}

bool parse_int64(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  std::size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return false;
  unsigned __int128 v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
    if (v > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()) + 1) return false;
  }
  if (!neg && v > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) return false;
  out = neg ? static_cast<int64_t>(-static_cast<__int128>(v)) : static_cast<int64_t>(v);
  return true;
}

/// One matchExpressions requirement against the node's labels (labels.Selector semantics).
bool expression_matches(const SelectorRequirement& r, const ModelNode& node) {
  const std::string* v = label_of(node, r.key);
  if (r.op == "In") {
    return v != nullptr && std::find(r.values.begin(), r.values.end(), *v) != r.values.end();
  }
  if (r.op == "NotIn") {
    return v == nullptr || std::find(r.values.begin(), r.values.end(), *v) == r.values.end();
  }
  if (r.op == "Exists") return v != nullptr;
  if (r.op == "DoesNotExist") return v == nullptr;
  if (r.op == "Gt" || r.op == "Lt") {
    int64_t have = 0, want = 0;
    if (v == nullptr || r.values.size() != 1 || !parse_int64(*v, have) || !parse_int64(r.values[0], want)) return false;
    return r.op == "Gt" ? have > want : have < want;
  }
  return false;
}

/// One matchFields requirement: only metadata.name with In/NotIn and one value is valid.
bool field_matches(const SelectorRequirement& r, const ModelNode& node) {
  if (r.key != "metadata.name" || r.values.size() != 1) return false;
  if (r.op == "In") return node.name == r.values[0];
  if (r.op == "NotIn") return node.name != r.values[0];
  return false;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(const std::string& s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

const char* status_name(TaskStatus s) {
  switch (s) {
    case TaskStatus::Pending: return "Pending";
    case TaskStatus::Allocated: return "Allocated";
    case TaskStatus::Pipelined: return "Pipelined";
    case TaskStatus::Binding: return "Binding";
    case TaskStatus::Bound: return "Bound";
    case TaskStatus::Running: return "Running";
    case TaskStatus::Releasing: return "Releasing";
    case TaskStatus::Succeeded: return "Succeeded";
    case TaskStatus::Failed: return "Failed";
    case TaskStatus::Unknown: return "Unknown";
  }
  return "Unknown";
}

bool tolerates(const Toleration& t, const Taint& taint) {
  if (!t.effect.empty() && t.effect != taint.effect) return false;
  if (!t.key.empty() && t.key != taint.key) return false;
  if (t.op.empty() || t.op == "Equal") return t.value == taint.value;
  return t.op == "Exists";
}

bool term_matches(const SelectorTerm& term, const ModelNode& node) {
  if (term.expressions.empty() && term.fields.empty()) return false;
  for (const auto& r : term.expressions) {
    if (!expression_matches(r, node)) return false;
  }
  for (const auto& r : term.fields) {
    if (!field_matches(r, node)) return false;
  }
  return true;
}

bool node_affinity_matches(const Placement& p, const ModelNode& node) {
  for (const auto& [k, v] : p.node_selector) {
    const std::string* have = label_of(node, k);
    if (have == nullptr || *have != v) return false;
  }
  if (!p.has_required) return true;
  for (const auto& term : p.required) {
    if (term_matches(term, node)) return true;
  }
  return false;
}

bool parse_rfc3339(const std::string& s, Nanos& out) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), as Go's time.RFC3339Nano reads it.
  int year = 0, mon = 0, day = 0, hh = 0, mm = 0, ss = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mon) || s[7] != '-' ||
      !digits(s, 8, 2, day) || s[10] != 'T' || !digits(s, 11, 2, hh) || s[13] != ':' || !digits(s, 14, 2, mm) ||
      s[16] != ':' || !digits(s, 17, 2, ss)) {
    return false;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59) return false;
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[mon - 1] || (mon == 2 && day == 29 && !leap)) return false;
  std::size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 9) frac = frac * 10 + (s[i] - '0'), ++n;
      ++i;
    }
    if (n == 0) return false;
    for (; n < 9; ++n) frac *= 10;
  }
  int64_t offset = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, om)) return false;
    if (oh > 23 || om > 59) return false;
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  const int64_t secs = days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day)) * 86400 +
                       hh * 3600 + mm * 60 + ss - offset;
  out = secs * 1'000'000'000 + frac;
  return true;
}

bool parse_go_duration(const std::string& s, Nanos& out) {
  int64_t nanos = 0;
  if (!api::parse_go_duration(s, nanos)) return false;
  out = nanos;
  return true;
}

}  // namespace kai::scheduler
