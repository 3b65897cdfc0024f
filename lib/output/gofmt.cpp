#include "lib/output/gofmt.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <vector>

namespace kai::output::detail {
namespace {

/// Shortest round-trip decimal digits of |v| and its decimal point position:
/// v = 0.d1d2...dn * 10^dp (Go's decimalSlice nd/dp).
struct Digits {
  bool neg = false;
  std::string d;  ///< no leading/trailing zeros ("0" never appears for v != 0)
  int dp = 0;
};

Digits shortest_digits(double v) {
  Digits out;
  out.neg = std::signbit(v);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(v), std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  auto e = s.find('e');
  std::string_view mant = s.substr(0, e);
  int exp10 = 0;
  std::from_chars(s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0), s.data() + s.size(), exp10);
  for (char c : mant) {
    if (c != '.') out.d.push_back(c);
  }
  while (out.d.size() > 1 && out.d.back() == '0') out.d.pop_back();
  out.dp = exp10 + 1;
  return out;
}

/// strconv %e with the shortest digits: d.ddde±dd.
std::string fmt_e(const Digits& g) {
  std::string out = g.neg ? "-" : "";
  out += g.d[0];
  if (g.d.size() > 1) {
    out += '.';
    out.append(g.d, 1, std::string::npos);
  }
  out += 'e';
  int exp = g.dp - 1;
  out += exp < 0 ? '-' : '+';
  int a = std::abs(exp);
  if (a < 10) out += '0';
  out += std::to_string(a);
  return out;
}

/// strconv %f with the shortest digits.
std::string fmt_f(const Digits& g) {
  std::string out = g.neg ? "-" : "";
  const int nd = static_cast<int>(g.d.size());
  if (g.dp > 0) {
    for (int i = 0; i < g.dp; ++i) out += i < nd ? g.d[static_cast<std::size_t>(i)] : '0';
  } else {
    out += '0';
  }
  int prec = std::max(nd - g.dp, 0);
  if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      int j = g.dp + i;
      out += (j >= 0 && j < nd) ? g.d[static_cast<std::size_t>(j)] : '0';
    }
  }
  return out;
}

std::string special_float(double v) {
  if (std::isnan(v)) return "NaN";
  return v > 0 ? "+Inf" : "-Inf";
}

/// encoding/json's float64 format: 'f' unless the magnitude is < 1e-6 or >= 1e21.
std::string json_float(double v) {
  if (!std::isfinite(v)) return special_float(v);
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  double a = std::fabs(v);
  Digits g = shortest_digits(v);
  if (a < 1e-6 || a >= 1e21) {
    std::string s = fmt_e(g);
    // Go cleans up e-09 to e-9.
    auto n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    return s;
  }
  return fmt_f(g);
}

constexpr char kHex[] = "0123456789abcdef";

/// Decodes one UTF-8 sequence at s[i]; returns the code point and its length, or
/// (0xFFFD, 1) for an invalid byte (Go's utf8.DecodeRuneInString).
std::pair<char32_t, std::size_t> decode_rune(std::string_view s, std::size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return {b, 1};
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b & 0xE0) == 0xC0) {
    len = 2, cp = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, cp = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, cp = b & 0x07, min = 0x10000;
  } else {
    return {0xFFFD, 1};
  }
  if (i + len > s.size()) return {0xFFFD, 1};
  for (std::size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return {0xFFFD, 1};
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0xFFFD, 1};
  return {cp, len};
}

void json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      switch (b) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (b < 0x20 || b == '<' || b == '>' || b == '&') {
            out += "\\u00";
            out += kHex[b >> 4];
            out += kHex[b & 0xF];
          } else {
            out += static_cast<char>(b);
          }
      }
      ++i;
      continue;
    }
    auto [cp, len] = decode_rune(s, i);
    if (cp == 0xFFFD && len == 1) {
      out += "\\ufffd";
    } else if (cp == 0x2028 || cp == 0x2029) {
      out += "\\u202";
      out += kHex[cp & 0xF];
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  out += '"';
}

void json_value(std::string& out, const json& v, std::string_view indent, std::size_t depth) {
  auto newline = [&](std::size_t d) {
    if (indent.empty()) return;
    out += '\n';
    for (std::size_t k = 0; k < d; ++k) out += indent;
  };
  switch (v.type()) {
    case json::value_t::null: out += "null"; return;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); return;
    case json::value_t::number_float: out += json_float(v.get<double>()); return;
    case json::value_t::string: json_string(out, v.get_ref<const std::string&>()); return;
    case json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        json_value(out, e, indent, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.items()) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        json_string(out, k);
        out += indent.empty() ? ":" : ": ";
        json_value(out, e, indent, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    default: out += "null"; return;  // binary/discarded: never produced by the codecs
  }
}

void sprint(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null: out += "<nil>"; return;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); return;
    case json::value_t::number_float: out += go_float(v.get<double>()); return;
    case json::value_t::string: out += v.get_ref<const std::string&>(); return;
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ' ';
        first = false;
        sprint(out, e);
      }
      out += ']';
      return;
    }
    case json::value_t::object: {
      out += "map[";
      bool first = true;
      for (const auto& [k, e] : v.items()) {
        if (!first) out += ' ';
        first = false;
        out += k;
        out += ':';
        sprint(out, e);
      }
      out += ']';
      return;
    }
    default: return;
  }
}

// ---- tabwriter ----

struct Cell {
  std::string_view text;
  std::size_t width = 0;
};
using Line = std::vector<Cell>;

class TabWriter {
 public:
  TabWriter(std::vector<Line> lines, std::size_t minwidth, std::size_t padding)
      : lines_(std::move(lines)), minwidth_(minwidth), padding_(padding) {}

  std::string run() {
    format(0, lines_.size());
    return std::move(out_);
  }

 private:
  // Mirrors text/tabwriter's Writer.format: a column block is a run of consecutive lines that
  // have a tab-terminated cell in this column; its width is fixed before recursing right.
  void format(std::size_t line0, std::size_t line1) {
    const std::size_t column = widths_.size();
    for (std::size_t cur = line0; cur < line1; ++cur) {
      if (column + 1 >= lines_[cur].size()) continue;
      write_lines(line0, cur);
      line0 = cur;
      std::size_t width = minwidth_;
      for (; cur < line1; ++cur) {
        const Line& line = lines_[cur];
        if (column + 1 >= line.size()) break;
        width = std::max(width, line[column].width + padding_);
      }
      widths_.push_back(width);
      format(line0, cur);
      widths_.pop_back();
      line0 = cur;
      if (cur == line1) break;
    }
    write_lines(line0, line1);
  }

  void write_lines(std::size_t line0, std::size_t line1) {
    for (std::size_t i = line0; i < line1; ++i) {
      const Line& line = lines_[i];
      for (std::size_t j = 0; j < line.size(); ++j) {
        out_ += line[j].text;
        if (j < widths_.size() && widths_[j] > line[j].width) out_.append(widths_[j] - line[j].width, ' ');
      }
      if (i + 1 < lines_.size()) out_ += '\n';
    }
  }

  std::vector<Line> lines_;
  std::size_t minwidth_;
  std::size_t padding_;
  std::vector<std::size_t> widths_;
  std::string out_;
};

}  // namespace

std::size_t rune_count(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    i += decode_rune(s, i).second;
    ++n;
  }
  return n;
}

std::string pad_right(std::string_view s, std::size_t width) {
  std::string out(s);
  std::size_t w = rune_count(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string go_float(double v) {
  if (!std::isfinite(v)) return special_float(v);
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  Digits g = shortest_digits(v);
  int exp = g.dp - 1;
  if (exp < -4 || exp >= 6) return fmt_e(g);
  return fmt_f(g);
}

std::string go_sprint(const json& v) {
  std::string out;
  sprint(out, v);
  return out;
}

std::string go_json(const json& v, std::string_view indent) {
  std::string out;
  json_value(out, v, indent, 0);
  return out;
}

std::string go_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "map[string]interface {}";
    case json::value_t::array: return "[]interface {}";
    case json::value_t::string: return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "int64";
    case json::value_t::number_float: return "float64";
    case json::value_t::boolean: return "bool";
    default: return "<nil>";
  }
}

std::string tabwrite(std::string_view text, std::size_t minwidth, std::size_t padding) {
  std::vector<Line> lines;
  Line line;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '\t' && text[i] != '\n') continue;
    std::string_view cell = text.substr(start, i - start);
    line.push_back({cell, rune_count(cell)});
    start = i + 1;
    if (i == text.size() || text[i] == '\n') {
      lines.push_back(std::move(line));
      line.clear();
    }
  }
  return TabWriter(std::move(lines), minwidth, padding).run();
}

Civil to_civil(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ns = duration_cast<nanoseconds>(t.time_since_epoch()).count();
  long long secs = ns / 1'000'000'000;
  long long frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  long long days = secs / 86400;
  long long rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Howard Hinnant's civil_from_days.
  long long z = days + 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long y = yoe + era * 400;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  long long d = doy - (153 * mp + 2) / 5 + 1;
  long long m = mp < 10 ? mp + 3 : mp - 9;
  Civil c;
  c.year = y + (m <= 2 ? 1 : 0);
  c.month = static_cast<unsigned>(m);
  c.day = static_cast<unsigned>(d);
  c.hour = static_cast<unsigned>(rem / 3600);
  c.minute = static_cast<unsigned>(rem % 3600 / 60);
  c.second = static_cast<unsigned>(rem % 60);
  c.nanos = frac;
  return c;
}

long long civil_to_unix(long long year, unsigned month, unsigned day, unsigned hour, unsigned minute,
                        unsigned second) {
  // Howard Hinnant's days_from_civil.
  long long y = year - (month <= 2 ? 1 : 0);
  long long era = (y >= 0 ? y : y - 399) / 400;
  long long yoe = y - era * 400;
  long long mp = month > 2 ? month - 3 : month + 9;
  long long doy = (153 * mp + 2) / 5 + day - 1;
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long long days = era * 146097 + doe - 719468;
  return days * 86400 + hour * 3600LL + minute * 60LL + second;
}

std::string go_time_string(std::chrono::system_clock::time_point t) {
  Civil c = to_civil(t);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u %02u:%02u:%02u", c.year, c.month, c.day, c.hour, c.minute,
                c.second);
  std::string out = buf;
  if (c.nanos != 0) {
    std::snprintf(buf, sizeof(buf), ".%09lld", c.nanos);
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += " +0000 UTC";
  return out;
}

long long as_int(const json& v) {
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d)) return 0;
    return static_cast<long long>(d);
  }
  return 0;
}

const json* find_path(const json& root, std::initializer_list<std::string_view> keys) {
  const json* cur = &root;
  for (auto k : keys) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string str_at(const json& root, std::initializer_list<std::string_view> keys) {
  const json* v = find_path(root, keys);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace kai::output::detail
