#include "lib/api/duration.h"

#include <cmath>
#include <limits>

#include "lib/api/text_util.h"

namespace kai::api {

bool parse_go_duration(std::string_view text, int64_t& nanos, std::string* error) {
  using text_detail::go_quote;
  auto fail = [&](std::string msg) {
    if (error) *error = std::move(msg);
    return false;
  };
  const std::string invalid = "time: invalid duration " + go_quote(text);
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    nanos = 0;
    return true;
  }
  if (s.empty()) return fail(invalid);
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  long double total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return fail(invalid);
    std::size_t i = 0;
    long double v = 0;
    while (i < s.size() && is_digit(s[i])) v = v * 10 + (s[i++] - '0');
    const bool pre = i > 0;
    bool post = false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      const std::size_t start = i;
      while (i < s.size() && is_digit(s[i])) v += (s[i++] - '0') * scale, scale /= 10;
      post = i > start;
    }
    if (!pre && !post) return fail(invalid);
    s.remove_prefix(i);
    std::size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    if (u == 0) return fail("time: missing unit in duration " + go_quote(text));
    const std::string_view unit = s.substr(0, u);
    long double mult = 0;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") mult = 1e3L;
    else if (unit == "ms") mult = 1e6L;
    else if (unit == "s") mult = 1e9L;
    else if (unit == "m") mult = 60e9L;
    else if (unit == "h") mult = 3600e9L;
    else return fail("time: unknown unit " + go_quote(unit) + " in duration " + go_quote(text));
    total += v * mult;
    s.remove_prefix(u);
  }
  if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return fail(invalid);
  nanos = static_cast<int64_t>(std::llround(total));
  if (neg) nanos = -nanos;
  return true;
}

std::optional<double> go_duration_seconds(std::string_view text) {
  int64_t ns = 0;
  if (!parse_go_duration(text, ns)) return std::nullopt;
  return static_cast<double>(ns) / 1e9;
}

}  // namespace kai::api
