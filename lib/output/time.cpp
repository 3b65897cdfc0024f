// Durations and timestamps as kubectl prints them (apimachinery duration.HumanDuration,
// metav1.Time RFC 3339).

#include "lib/output/printer.h"

#include <cctype>
#include <cstdio>

#include "lib/output/gofmt.h"

namespace kai::output {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  out = v;
  return true;
}

std::string num(long long v, const char* unit) { return std::to_string(v) + unit; }

}  // namespace

std::string human_duration(std::chrono::seconds d) {
  // Same branches as k8s.io/apimachinery/pkg/util/duration.HumanDuration; a whole number of
  // seconds loses nothing because every branch truncates to seconds or coarser.
  const long long seconds = d.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return num(seconds, "s");
  const long long minutes = seconds / 60;
  if (minutes < 10) {
    const long long s = seconds % 60;
    if (s == 0) return num(minutes, "m");
    return num(minutes, "m") + num(s, "s");
  }
  if (minutes < 60 * 3) return num(minutes, "m");
  const long long hours = seconds / 3600;
  if (hours < 8) {
    const long long m = minutes % 60;
    if (m == 0) return num(hours, "h");
    return num(hours, "h") + num(m, "m");
  }
  if (hours < 48) return num(hours, "h");
  if (hours < 24 * 8) {
    const long long h = hours % 24;
    if (h == 0) return num(hours / 24, "d");
    return num(hours / 24, "d") + num(h, "h");
  }
  if (hours < 24 * 365 * 2) return num(hours / 24, "d");
  if (hours < 24 * 365 * 8) {
    const long long dy = (hours / 24) % 365;
    if (dy == 0) return num(hours / 24 / 365, "y");
    return num(hours / 24 / 365, "y") + num(dy, "d");
  }
  return num(hours / 24 / 365, "y");
}

std::string age(const std::string& rfc3339, std::chrono::system_clock::time_point now) {
  auto t = parse_time(rfc3339);
  if (!t) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), as Go's time.RFC3339 parser accepts it.
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hour) || s[13] != ':' ||
      !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  static constexpr unsigned kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  std::size_t pos = 19;
  long long nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    long long scale = 100'000'000;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  long long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    unsigned oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600LL + om * 60LL) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  long long unix = detail::civil_to_unix(year, month, day, hour, minute, second) - offset;
  // system_clock holds int64 nanoseconds: years outside ~1678..2261 cannot be represented.
  constexpr long long kLimit = 9'000'000'000LL;
  if (unix > kLimit || unix < -kLimit) return std::nullopt;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(unix) +
                                                                       std::chrono::nanoseconds(nanos)));
}

std::string format_time(std::chrono::system_clock::time_point t) {
  auto c = detail::to_civil(t);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02uZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second);
  return buf;
}

}  // namespace kai::output
