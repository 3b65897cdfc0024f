#include "lib/api/codec.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <istream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <streambuf>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include "lib/api/error.h"
#include "lib/api/text_util.h"

namespace kai::api {
namespace {

using text_detail::go_quote;

// ---------------------------------------------------------------------------------------------
// Scalar typing: go-yaml v2's resolve() as sigs.k8s.io/yaml uses it, then JSON.
// ---------------------------------------------------------------------------------------------

enum class Resolved { Null, Bool, Int, Uint, Float, String, NotFinite, Merge };

struct Scalar {
  Resolved kind = Resolved::String;
  json value;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Go's strconv.ParseUint(s, 0, 64) digits part, after the sign was handled; underscores were
// already removed by the caller. nullopt on syntax error or overflow.
std::optional<uint64_t> parse_go_uint_base0(std::string_view s) {
  if (s.empty()) return std::nullopt;
  unsigned base = 10;
  if (s[0] == '0') {
    char p = s.size() >= 3 ? static_cast<char>(s[1] | 0x20) : '\0';
    if (p == 'b') {
      base = 2, s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8, s.remove_prefix(2);
    } else if (p == 'x') {
      base = 16, s.remove_prefix(2);
    } else {
      base = 8, s.remove_prefix(1);  // "017" is octal; "0" alone is zero
    }
  }
  uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (is_digit(c)) {
      d = static_cast<unsigned>(c - '0');
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      d = static_cast<unsigned>((c | 0x20) - 'a' + 10);
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (v > (std::numeric_limits<uint64_t>::max() - d) / base) return std::nullopt;
    v = v * base + d;
  }
  return v;
}

// Go's strconv.ParseInt(s, 0, 64).
std::optional<int64_t> parse_go_int_base0(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  auto u = parse_go_uint_base0(s);
  if (!u) return std::nullopt;
  if (neg) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) return std::nullopt;
    return static_cast<int64_t>(0 - *u);
  }
  if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(*u);
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ (go-yaml's yamlStyleFloat).
bool yaml_style_float(std::string_view s) {
  std::size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < n && s[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == start) return false;
  } else {
    std::size_t start = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == start) return false;
    if (i < n && s[i] == '.') {
      ++i;
      while (i < n && is_digit(s[i])) ++i;
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t start = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == n;
}

// A float in the syntax above, as Go's ParseFloat would give it; nullopt when out of range.
std::optional<double> parse_float(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  if (std::isinf(d)) return std::nullopt;  // Go: ErrRange with ±Inf; an underflow to 0 is fine
  return d;
}

// What a float becomes after Kubernetes' JSON round trip: integral values in int64 range are
// integers (Go writes 1000.0 as `1000`, which decodes as int64).
Scalar float_scalar(double d) {
  if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
    return {Resolved::Int, json(static_cast<int64_t>(d))};
  }
  return {Resolved::Float, json(d)};
}

// go-yaml v2 resolve() for a plain scalar.
Scalar resolve_plain(const std::string& s) {
  static const std::map<std::string, Scalar, std::less<>> kWords = [] {
    std::map<std::string, Scalar, std::less<>> m;
    for (const char* w : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
      m[w] = {Resolved::Bool, json(true)};
    }
    for (const char* w : {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
      m[w] = {Resolved::Bool, json(false)};
    }
    for (const char* w : {"", "~", "null", "Null", "NULL"}) m[w] = {Resolved::Null, json()};
    for (const char* w : {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
                          "-.Inf", "-.INF"}) {
      m[w] = {Resolved::NotFinite, json(w)};
    }
    m["<<"] = {Resolved::Merge, json("<<")};
    return m;
  }();
  if (auto it = kWords.find(s); it != kWords.end()) return it->second;
  if (s.empty()) return {Resolved::Null, json()};
  char c = s[0];
  if (c == '.') {
    if (yaml_style_float(s)) {
      if (auto d = parse_float(s)) return float_scalar(*d);
    }
    return {Resolved::String, json(s)};
  }
  if (!is_digit(c) && c != '+' && c != '-') return {Resolved::String, json(s)};
  // Timestamps ("2006-01-02...") would be read as time.Time and handed back as the same string.
  std::string plain;
  plain.reserve(s.size());
  for (char ch : s) {
    if (ch != '_') plain += ch;
  }
  if (auto v = parse_go_int_base0(plain)) return {Resolved::Int, json(*v)};
  if (plain[0] != '+' && plain[0] != '-') {
    if (auto v = parse_go_uint_base0(plain)) return {Resolved::Uint, json(*v)};
  }
  if (yaml_style_float(plain)) {
    if (auto d = parse_float(plain)) return float_scalar(*d);
  }
  return {Resolved::String, json(s)};
}

// go-yaml's isBase60Float: YAML 1.1 readers take "1:20" as a number, so such strings are quoted.
bool looks_base60(std::string_view s) {
  std::size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  if (i >= n || !is_digit(s[i])) return false;
  while (i < n && (is_digit(s[i]) || s[i] == '_')) ++i;
  int groups = 0;
  while (i < n && s[i] == ':') {
    ++i;
    std::size_t start = i;
    while (i < n && is_digit(s[i]) && i - start < 2) ++i;
    if (i == start) return false;
    if (i - start == 2 && s[start] > '5') return false;
    ++groups;
  }
  if (groups == 0) return false;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && (is_digit(s[i]) || s[i] == '_')) ++i;
  }
  return i == n;
}

// go-yaml's timestamp quick check: four digits then '-'.
bool looks_timestamp(std::string_view s) {
  return s.size() > 4 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-';
}


// ---------------------------------------------------------------------------------------------
// Building JSON from yaml-cpp's events, with limits.
// ---------------------------------------------------------------------------------------------

const std::string kTagPrefix = "tag:yaml.org,2002:";

// A read-only streambuf over the caller's text, so yaml-cpp reads it without a copy.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view s) {
    char* p = const_cast<char*>(s.data());  // only read through the get area
    setg(p, p, p + s.size());
  }
};

class Builder : public YAML::EventHandler {
 public:
  Builder(const std::string& source, const DecodeLimits& limits) : source_(source), limits_(limits) {}

  /// The documents seen so far, null for empty ones.
  std::vector<json>& documents() { return documents_; }

  void OnDocumentStart(const YAML::Mark&) override {
    anchors_.clear();
    stack_.clear();
    root_ = json();
  }
  void OnDocumentEnd() override { documents_.push_back(std::move(root_)); }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (expecting_key()) fail(mark, "a map key must be a string, got null");
    begin_anchor(anchor);
    count(1, 0);
    add(mark, json(), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) fail(mark, "unknown anchor");
    Anchored& a = it->second;
    if (!a.complete) fail(mark, "anchor " + go_quote(a.name) + " value contains itself");
    if (expecting_key()) {
      if (!a.value.is_string()) fail(mark, std::string("a map key must be a string, got ") + yaml_type_name(a.value));
      set_key(mark, a.value.get<std::string>(), false);
      return;
    }
    count(a.nodes, a.bytes);
    add(mark, a.value, 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (!text_detail::valid_utf8(value)) fail(mark, "invalid UTF-8 in a scalar");
    if (expecting_key()) {
      if (anchor != 0) {
        begin_anchor(anchor);
        finish_anchor(anchor, json(value), 1, value.size());
      }
      set_key(mark, value, tag == "?" && value == "<<");
      return;
    }
    begin_anchor(anchor);
    json v = typed(mark, tag, value);
    count(1, v.is_string() ? value.size() : 0);
    add(mark, std::move(v), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, json::array(), anchor, "a sequence");
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, json::object(), anchor, "a map");
  }
  void OnMapEnd() override {
    Frame& f = stack_.back();
    // Merge keys: explicit keys win, then earlier merge sources over later ones.
    for (json& src : f.merges) {
      for (auto& [k, v] : src.items()) {
        if (!f.value.contains(k)) f.value[k] = std::move(v);
      }
    }
    close();
  }

  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_anchor_name_ = name; }

 private:
  struct Frame {
    json value;
    YAML::anchor_t anchor = 0;
    std::size_t nodes_at_start = 0;
    std::size_t bytes_at_start = 0;
    // Maps only.
    std::optional<std::string> key;
    bool key_is_merge = false;
    YAML::Mark key_mark;
    std::map<std::string, int> key_lines;
    std::vector<json> merges;
  };
  struct Anchored {
    std::string name;
    json value;
    std::size_t nodes = 0;
    std::size_t bytes = 0;
    bool complete = false;
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& what) const {
    if (mark.is_null()) throw Error::invalid(source_ + ": " + what);
    throw Error::invalid(source_ + ": line " + std::to_string(mark.line + 1) + ", column " +
                         std::to_string(mark.column + 1) + ": " + what);
  }

  bool expecting_key() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key.has_value();
  }

  // Adds what a value costs; nodes_ and bytes_ never exceed their limits.
  void count(std::size_t nodes, std::size_t bytes) {
    if (nodes > limits_.max_nodes - nodes_) {
      throw Error::invalid(source_ + ": document expands to more than " + std::to_string(limits_.max_nodes) +
                           " values (YAML aliases?)");
    }
    if (bytes > limits_.max_expanded_bytes - bytes_) {
      throw Error::invalid(source_ + ": document expands to more than " + std::to_string(limits_.max_expanded_bytes) +
                           " bytes of text (YAML aliases?)");
    }
    nodes_ += nodes;
    bytes_ += bytes;
  }

  void begin_anchor(YAML::anchor_t anchor) {
    if (anchor == 0) return;
    Anchored& a = anchors_[anchor];
    a = Anchored{};
    a.name = pending_anchor_name_;
  }
  void finish_anchor(YAML::anchor_t anchor, const json& v, std::size_t nodes, std::size_t bytes) {
    if (anchor == 0) return;
    Anchored& a = anchors_[anchor];
    a.value = v;
    a.nodes = nodes;
    a.bytes = bytes;
    a.complete = true;
  }

  void set_key(const YAML::Mark& mark, const std::string& key, bool merge) {
    Frame& f = stack_.back();
    count(0, key.size());
    if (!merge) {
      if (auto it = f.key_lines.find(key); it != f.key_lines.end()) {
        fail(mark, "mapping key " + go_quote(key) + " already defined at line " + std::to_string(it->second));
      }
      f.key_lines.emplace(key, mark.line + 1);
    }
    f.key = key;
    f.key_is_merge = merge;
    f.key_mark = mark;
  }

  json typed(const YAML::Mark& mark, const std::string& tag, const std::string& value) {
    if (tag == "!") return json(value);  // quoted or block scalar
    if (tag == "?") {
      Scalar s = resolve_plain(value);
      if (s.kind == Resolved::NotFinite) fail(mark, "cannot represent " + value + " in JSON");
      return std::move(s.value);
    }
    if (tag.rfind(kTagPrefix, 0) != 0) return json(value);  // local tags like !foo: a string
    std::string name = tag.substr(kTagPrefix.size());
    if (name != "int" && name != "float" && name != "bool" && name != "null") return json(value);
    Scalar s = resolve_plain(value);
    bool ok = (name == "null" && s.kind == Resolved::Null) || (name == "bool" && s.kind == Resolved::Bool) ||
              (name == "int" && (s.kind == Resolved::Int || s.kind == Resolved::Uint)) ||
              (name == "float" && (s.kind == Resolved::Float || s.kind == Resolved::Int || s.kind == Resolved::Uint));
    if (!ok) {
      const char* got = "str";
      switch (s.kind) {
        case Resolved::Null: got = "null"; break;
        case Resolved::Bool: got = "bool"; break;
        case Resolved::Int:
        case Resolved::Uint: got = "int"; break;
        case Resolved::Float:
        case Resolved::NotFinite: got = "float"; break;
        default: break;
      }
      fail(mark, std::string("cannot decode !!") + got + " `" + value + "` as a !!" + name);
    }
    return std::move(s.value);
  }

  void open(const YAML::Mark& mark, json empty, YAML::anchor_t anchor, const char* what) {
    if (expecting_key()) fail(mark, std::string("a map key must be a string, got ") + what);
    if (stack_.size() >= limits_.max_depth) {
      fail(mark, "nesting is deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    begin_anchor(anchor);
    count(1, 0);
    Frame f;
    f.value = std::move(empty);
    f.anchor = anchor;
    f.nodes_at_start = nodes_;
    f.bytes_at_start = bytes_;
    stack_.push_back(std::move(f));
    stack_.back().key_mark = mark;
  }

  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor != 0) {
      // The anchor's cost is everything it produced, its own value included.
      finish_anchor(f.anchor, f.value, nodes_ - f.nodes_at_start + 1, bytes_ - f.bytes_at_start);
    }
    add(f.key_mark, std::move(f.value), 0);
  }

  // Places a finished value in its parent (or as the document root).
  void add(const YAML::Mark& mark, json v, YAML::anchor_t anchor) {
    if (anchor != 0) finish_anchor(anchor, v, 1, v.is_string() ? v.get_ref<const std::string&>().size() : 0);
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& parent = stack_.back();
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(v));
      return;
    }
    std::string key = std::move(*parent.key);
    parent.key.reset();
    if (parent.key_is_merge) {
      parent.key_is_merge = false;
      if (v.is_object()) {
        parent.merges.push_back(std::move(v));
        return;
      }
      if (v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_object(); })) {
        for (auto& e : v) parent.merges.push_back(std::move(e));
        return;
      }
      fail(mark, "map merge requires map or sequence of maps as the value");
    }
    parent.value[key] = std::move(v);
  }

  const std::string& source_;
  const DecodeLimits& limits_;
  std::vector<json> documents_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::string pending_anchor_name_;
  json root_;
  std::size_t nodes_ = 0;  // over the whole input: aliases in many documents add up
  std::size_t bytes_ = 0;
};

// Appends `doc` (or, for a *List with items, its items, recursively) to `out`.
void add_objects(json doc, const std::string& where, std::vector<json>& out, std::size_t depth = 0) {
  if (!doc.is_object()) {
    throw Error::invalid(where + ": expected a Kubernetes object (a map with apiVersion and kind), got " +
                         yaml_type_name(doc));
  }
  auto kind = doc.find("kind");
  auto items = doc.find("items");
  bool is_list = kind != doc.end() && kind->is_string() && kind->get_ref<const std::string&>().ends_with("List") &&
                 items != doc.end();
  if (!is_list || depth > 16) {
    out.push_back(std::move(doc));
    return;
  }
  if (items->is_null()) return;
  if (!items->is_array()) throw Error::invalid(where + ": items: expected a sequence, got " + yaml_type_name(*items));
  json list = std::move(*items);
  for (std::size_t i = 0; i < list.size(); ++i) {
    add_objects(std::move(list[i]), where + ": items[" + std::to_string(i) + "]", out, depth + 1);
  }
}

std::string too_big(const std::string& source, std::size_t size, std::size_t limit) {
  return source + ": input is " + std::to_string(size) + " bytes, larger than the limit of " + std::to_string(limit) +
         " bytes";
}

// ---------------------------------------------------------------------------------------------
// YAML output.
// ---------------------------------------------------------------------------------------------

// Replaces invalid UTF-8 with U+FFFD so the output always reads back.
std::string clean_utf8(const std::string& s) {
  if (text_detail::valid_utf8(s)) return s;
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = text_detail::utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

// Code point at s[i] for a valid sequence of length n.
uint32_t code_point(std::string_view s, std::size_t i, std::size_t n) {
  auto b = [&](std::size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k])); };
  if (n == 1) return b(0);
  if (n == 2) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (n == 3) return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
}

// Characters that must be escaped: C0 controls (tab and newline handled by the caller), DEL,
// C1 controls, the YAML 1.1 line breaks U+2028/U+2029, BOM and non-characters.
bool needs_escape(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
         cp == 0xFFFE || cp == 0xFFFF;
}

bool has_special_chars(std::string_view s, bool allow_newline) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = text_detail::utf8_sequence_length(s, i);
    uint32_t cp = code_point(s, i, n);
    if (needs_escape(cp) && !(allow_newline && cp == '\n')) return true;
    i += n;
  }
  return false;
}

std::string double_quoted(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = text_detail::utf8_sequence_length(s, i);
    uint32_t cp = code_point(s, i, n);
    char buf[16];
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case 0: out += "\\0"; break;
      default:
        if (!needs_escape(cp)) {
          out.append(s.substr(i, n));
        } else if (cp <= 0xFF) {
          std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
          out += buf;
        } else {
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
          out += buf;
        }
    }
    i += n;
  }
  return out + "\"";
}

// Can `s` be written as a plain scalar and read back as the same string?
bool plain_ok(const std::string& s) {
  if (s.empty()) return false;
  if (resolve_plain(s).kind != Resolved::String) return false;
  if (looks_timestamp(s) || looks_base60(s)) return false;
  if (has_special_chars(s, false) || s.find('\n') != std::string::npos || s.find('\t') != std::string::npos) {
    return false;
  }
  char first = s.front(), last = s.back();
  if (first == ' ' || last == ' ') return false;
  if (std::string_view("?:,[]{}#&*!|>'\"%@`").find(first) != std::string_view::npos) return false;
  if (first == '-' && (s.size() == 1 || s[1] == ' ' || s.rfind("---", 0) == 0)) return false;
  if (s.rfind("...", 0) == 0) return false;
  if (last == ':') return false;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  return true;
}

// A literal block can hold `s` exactly: printable text and newlines, no trailing blanks that
// the block would lose, and a first line the indentation detection can handle.
bool literal_ok(const std::string& s) {
  if (s.find('\n') == std::string::npos) return false;
  if (has_special_chars(s, true)) return false;
  // Lines made only of blanks and trailing blanks before a newline are kept by a literal block,
  // but readers differ on blank-only lines; use quotes for them.
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t nl = s.find('\n', start);
    std::string_view line(s.data() + start, (nl == std::string::npos ? s.size() : nl) - start);
    if (!line.empty() && line.find_first_not_of(" \t") == std::string_view::npos) return false;
    if (!line.empty() && line.front() == '\t') return false;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return true;
}

void write_literal(std::string& out, const std::string& s, std::size_t indent) {
  out += '|';
  // The first non-empty line sets the block's indentation: say it when that line starts blank.
  std::size_t first = s.find_first_not_of('\n');
  if (first != std::string::npos && s[first] == ' ') out += '2';
  std::size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
  if (trailing == 0) {
    out += '-';
  } else if (trailing > 1 || trailing == s.size()) {
    out += '+';
  }
  out += '\n';
  std::string_view body(s.data(), s.size() - trailing);
  std::size_t start = 0;
  while (true) {
    std::size_t nl = body.find('\n', start);
    std::string_view line = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty()) out.append(indent + 2, ' ').append(line);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  // Kept trailing newlines beyond the one ending the last line.
  for (std::size_t i = 1; i < trailing; ++i) out += '\n';
}

std::string scalar_text(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case json::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      return v.dump();
    }
    case json::value_t::binary: throw Error::internal("to_yaml: binary JSON values are not supported");
    default: return "";
  }
}

std::string key_text(const std::string& raw) {
  std::string k = clean_utf8(raw);
  return plain_ok(k) ? k : double_quoted(k);
}

void emit(std::string& out, const json& v, std::size_t indent, bool inline_first);

constexpr std::size_t kMaxImplicitKey = 1000;

// Writes ` value` after `key:` (or `- `), choosing inline or block layout.
void emit_after_key(std::string& out, const json& v, std::size_t indent, bool in_sequence) {
  if (v.is_object() && !v.empty()) {
    if (in_sequence) {
      emit(out, v, indent + 2, true);
    } else {
      out += '\n';
      emit(out, v, indent + 2, false);
    }
    return;
  }
  if (v.is_array() && !v.empty()) {
    if (in_sequence) {
      emit(out, v, indent + 2, true);
    } else {
      out += '\n';
      emit(out, v, indent, false);  // kubectl: a sequence sits at its key's indentation
    }
    return;
  }
  if (!in_sequence) out += ' ';
  if (v.is_object()) {
    out += "{}\n";
  } else if (v.is_array()) {
    out += "[]\n";
  } else if (v.is_string()) {
    std::string s = clean_utf8(v.get_ref<const std::string&>());
    if (plain_ok(s)) {
      out += s + "\n";
    } else if (literal_ok(s)) {
      write_literal(out, s, indent);
    } else {
      out += double_quoted(s) + "\n";
    }
  } else {
    out += scalar_text(v) + "\n";
  }
}

// Writes a non-empty map or sequence whose lines start at `indent`; with `inline_first` the
// first line continues a `- ` already written.
void emit(std::string& out, const json& v, std::size_t indent, bool inline_first) {
  bool first = true;
  auto line_start = [&] {
    if (!(first && inline_first)) out.append(indent, ' ');
    first = false;
  };
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) {
      line_start();
      std::string key = key_text(k);
      if (key.size() <= kMaxImplicitKey) {
        out += key + ":";
        emit_after_key(out, child, indent, false);
        continue;
      }
      // YAML limits implicit keys to 1024 characters: write `? key` then `: value`.
      out += "? " + key + "\n";
      out.append(indent, ' ');
      out += ':';
      if (child.is_array() && !child.empty()) {
        out += '\n';
        emit(out, child, indent + 2, false);
      } else {
        emit_after_key(out, child, indent, false);
      }
    }
    return;
  }
  for (const auto& child : v) {
    line_start();
    out += "- ";
    emit_after_key(out, child, indent, true);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON input: like kubectl's YAMLOrJSONDecoder, text whose first non-blank byte is '{' is a
// stream of JSON values. JSON is read by nlohmann (surrogate pairs in \u escapes, which YAML
// does not combine; duplicate keys: the last wins, as in Go's encoding/json).
// ---------------------------------------------------------------------------------------------

bool looks_like_json(std::string_view text) {
  std::size_t i = text.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && text[i] == '{';
}

// End of the balanced object/array starting at `start`, or npos if it never closes.
std::size_t json_container_end(std::string_view s, std::size_t start) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = start; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

std::string line_column(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  std::size_t line = 1, line_start = 0;
  for (std::size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') ++line, line_start = i + 1;
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(pos - line_start + 1);
}

std::vector<json> parse_json_stream(std::string_view text, const std::string& source, const DecodeLimits& limits) {
  std::vector<json> docs;
  std::size_t nodes = 0;
  std::size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(" \t\r\n", pos);
    if (pos == std::string_view::npos) return docs;
    std::size_t end = text.size();
    if (text[pos] == '{' || text[pos] == '[') end = std::min(end, json_container_end(text, pos));
    std::string_view slice = text.substr(pos, end - pos);
    auto limit = [&](int depth, json::parse_event_t event, json&) {
      if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
          static_cast<std::size_t>(depth) + 1 > limits.max_depth) {
        throw Error::invalid(source + ": nesting is deeper than " + std::to_string(limits.max_depth) + " levels");
      }
      if (event == json::parse_event_t::value || event == json::parse_event_t::object_end ||
          event == json::parse_event_t::array_end) {
        if (++nodes > limits.max_nodes) {
          throw Error::invalid(source + ": document expands to more than " + std::to_string(limits.max_nodes) +
                               " values (YAML aliases?)");
        }
      }
      return true;
    };
    try {
      docs.push_back(json::parse(slice.begin(), slice.end(), limit));
    } catch (const json::parse_error& e) {
      // "[json.exception.parse_error.101] parse error at line 1, column 5: <what>": keep <what>.
      std::string what = e.what();
      std::size_t at = what.find(": ", what.find("column"));
      std::string detail = at == std::string::npos ? what : what.substr(at + 2);
      std::size_t byte = e.byte == 0 ? 0 : e.byte - 1;
      throw Error::invalid(source + ": " + line_column(text, pos + byte) + ": " + detail);
    }
    pos = end;
  }
}

// Every document of the stream, null for empty ones.
std::vector<json> parse_stream(std::string_view text, const std::string& source, const DecodeLimits& limits) {
  if (text.size() > limits.max_bytes) throw Error::invalid(too_big(source, text.size(), limits.max_bytes));
  if (looks_like_json(text)) return parse_json_stream(text, source, limits);
  Builder builder(source, limits);
  ViewBuf buf(text);
  std::istream in(&buf);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const YAML::DeepRecursion& e) {
    throw Error::invalid(source + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                         std::to_string(e.mark.column + 1) + ": nesting is deeper than the YAML parser allows (" +
                         std::to_string(e.depth() - 1) + " levels)");
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) throw Error::invalid(source + ": " + e.msg);
    throw Error::invalid(source + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                         std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  return std::move(builder.documents());
}

}  // namespace

std::vector<json> decode_documents(std::string_view text, const std::string& source, const DecodeLimits& limits) {
  std::vector<json> docs = parse_stream(text, source, limits);
  std::vector<json> out;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    if (docs[i].is_null()) continue;
    add_objects(std::move(docs[i]), source + ": document " + std::to_string(i + 1), out);
  }
  return out;
}

json decode_value(std::string_view text, const std::string& source, const DecodeLimits& limits) {
  std::vector<json> docs = parse_stream(text, source, limits);
  if (docs.empty()) return json();
  if (docs.size() > 1) {
    throw Error::invalid(source + ": expected one document, found " + std::to_string(docs.size()));
  }
  return std::move(docs[0]);
}

std::vector<json> decode_file(const std::string& path, const DecodeLimits& limits) {
  const bool is_stdin = path == "-";
  const std::string source = is_stdin ? "<stdin>" : path;
  std::FILE* f = stdin;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned(nullptr, &std::fclose);
  if (!is_stdin) {
    auto errno_text = [&](int err) {
      if (err == ENOENT) return source + ": no such file or directory";
      std::string m = std::strerror(err);
      if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
      return source + ": " + m;
    };
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw Error::invalid(errno_text(errno));
    if (S_ISDIR(st.st_mode)) throw Error::invalid(source + ": is a directory");
    if (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) > limits.max_bytes) {
      throw Error::invalid(too_big(source, static_cast<std::size_t>(st.st_size), limits.max_bytes));
    }
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) throw Error::invalid(errno_text(errno));
    f = owned.get();
  }
  // Read at most max_bytes + 1: enough to tell that a pipe or a growing file is too big.
  std::string text;
  char chunk[65536];
  while (text.size() <= limits.max_bytes) {
    std::size_t want = std::min(sizeof chunk, limits.max_bytes + 1 - text.size());
    std::size_t got = std::fread(chunk, 1, want, f);
    text.append(chunk, got);
    if (got < want) {
      if (std::ferror(f)) throw Error::invalid(source + ": read error: " + std::string(std::strerror(errno)));
      break;
    }
  }
  if (text.size() > limits.max_bytes) {
    throw Error::invalid(source + ": input is larger than the limit of " + std::to_string(limits.max_bytes) + " bytes");
  }
  auto docs = decode_documents(text, source, limits);
  if (docs.empty()) throw Error::invalid(source + ": no objects found");
  return docs;
}

std::string to_yaml(const json& value) {
  std::string out;
  if ((value.is_object() || value.is_array()) && !value.empty()) {
    emit(out, value, 0, false);
    return out;
  }
  // A scalar or empty container on its own: emit_after_key writes it after a leading blank.
  emit_after_key(out, value, 0, true);
  return out;
}

std::string to_json(const json& value) { return value.dump(4, ' ', false, json::error_handler_t::replace) + "\n"; }

const char* yaml_type_name(const json& v, bool integers) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "a map";
    case json::value_t::array: return "a sequence";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return integers ? "an integer" : "a number";
    case json::value_t::number_float: return "a number";
    default: return "a value";
  }
}

}  // namespace kai::api
