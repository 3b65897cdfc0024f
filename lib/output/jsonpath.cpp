// Kubernetes JSONPath (k8s.io/client-go/util/jsonpath): the parser follows parser.go's
// scanner rule for rule so templates parse (and fail) the same way; evaluation follows
// jsonpath.go over nlohmann::json instead of reflect values.

#include "lib/output/printer.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <utility>

#include "lib/api/error.h"
#include "lib/output/gofmt.h"

namespace kai::output {
namespace {

// ---- parse tree (parser.go's node types) ----

enum class NodeType { Text, Field, Array, Filter, Int, Float, Bool, Wildcard, Recursive, Union, Identifier, QuotedKey };

struct Param {
  bool known = false;
  long long value = 0;
  bool derived = false;  ///< end index derived from a single [i]
};

struct Node;
using NodeList = std::vector<Node>;

struct Node {
  NodeType type = NodeType::Text;
  std::string text;  ///< Text value, Field name, Identifier name, Filter operator, QuotedKey key
  long long ival = 0;
  double fval = 0;
  bool bval = false;
  std::array<Param, 3> params{};
  std::vector<NodeList> lists;  ///< Union: alternatives; Filter: {left, right}; QuotedKey: {path}
};

Node node_of(NodeType t) {
  Node n;
  n.type = t;
  return n;
}

/// One piece of the template: literal text, an expression, or a {range}...{end} block.
struct Item {
  enum Kind { Text, Expr, Range } kind = Text;
  std::string text;
  NodeList expr;
  std::vector<Item> body;
};

[[noreturn]] void syntax(const std::string& msg) { throw Error::usage(msg); }

bool is_terminator(int r) {
  switch (r) {
    case -1: case ' ': case '\t': case '\r': case '\n': case '.': case ',': case '[': case ']': case '$': case '@':
    case '{': case '}':
      return true;
    default:
      return false;
  }
}

bool is_alnum(int r) { return r == '_' || r >= 0x80 || std::isalnum(r); }

std::string rune_name(int r) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "U+%04X", static_cast<unsigned>(r));
  std::string out = buf;
  if (r >= 0x20 && r < 0x7f) {
    out += " '";
    out += static_cast<char>(r);
    out += "'";
  }
  return out;
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// UnquoteExtend: strconv.Unquote that also accepts single-quoted strings. nullopt on bad syntax.
std::optional<std::string> unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != s.back() || (s.front() != '"' && s.front() != '\'')) return std::nullopt;
  const char quote = s.front();
  s = s.substr(1, s.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == quote) return std::nullopt;
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    char e = s[i++];
    switch (e) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'':
      case '"':
        if (e != quote) return std::nullopt;
        out += e;
        break;
      case 'x':
      case 'u':
      case 'U': {
        std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n > s.size()) return std::nullopt;
        char32_t v = 0;
        for (std::size_t k = 0; k < n; ++k) {
          int h = hexval(s[i + k]);
          if (h < 0) return std::nullopt;
          v = v * 16 + static_cast<char32_t>(h);
        }
        i += n;
        if (e == 'x') {
          out += static_cast<char>(v);
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return std::nullopt;
          append_utf8(out, v);
        }
        break;
      }
      default: {
        if (e < '0' || e > '7' || i + 2 > s.size()) return std::nullopt;
        unsigned v = static_cast<unsigned>(e - '0');
        for (int k = 0; k < 2; ++k) {
          char o = s[i++];
          if (o < '0' || o > '7') return std::nullopt;
          v = v * 8 + static_cast<unsigned>(o - '0');
        }
        if (v > 255) return std::nullopt;
        out += static_cast<char>(v);
      }
    }
  }
  return out;
}

bool parse_ll(std::string_view s, long long& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

/// Go's strconv.ParseFloat for the characters parseNumber collects (sign, digits, dots).
bool parse_double(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

/// The scanner of parser.go. Actions are parsed into node lists; literal text stays text.
class Parser {
 public:
  explicit Parser(std::string_view input) : in_(input) {}

  /// A whole template: literal text and actions, in order (ranges not yet nested).
  std::vector<Item> parse_flat() {
    std::vector<Item> items;
    while (pos_ < in_.size()) {
      auto open = in_.find('{', pos_);
      if (open == std::string_view::npos) {
        items.push_back({Item::Text, std::string(in_.substr(pos_)), {}, {}});
        break;
      }
      if (open > pos_) items.push_back({Item::Text, std::string(in_.substr(pos_, open - pos_)), {}, {}});
      pos_ = open + 1;
      Item action;
      action.kind = Item::Expr;
      parse_action(action.expr);
      items.push_back(std::move(action));
    }
    return items;
  }

 private:
  int next() {
    if (pos_ >= in_.size()) {
      width_ = 0;
      return -1;
    }
    width_ = 1;
    return static_cast<unsigned char>(in_[pos_++]);
  }
  void backup() { pos_ -= width_; }
  int peek() {
    int r = next();
    backup();
    return r;
  }
  bool starts_with(std::string_view p) const { return in_.substr(pos_).starts_with(p); }

  /// Parses a sub-expression the way parseAction does: as the template "{text}".
  static NodeList parse_sub(std::string_view text) {
    std::string wrapped = "{" + std::string(text) + "}";
    Parser p(wrapped);
    auto items = p.parse_flat();
    if (items.empty() || items.front().kind != Item::Expr) return {};
    return std::move(items.front().expr);
  }

  void parse_action(NodeList& cur) {
    for (;;) {
      if (starts_with("}")) {
        ++pos_;
        return;
      }
      if (starts_with("[?(")) {
        parse_filter(cur);
        continue;
      }
      if (starts_with("..")) {
        parse_recursive(cur);
        continue;
      }
      const std::size_t at = pos_;
      int r = next();
      if (r == -1 || r == '\r' || r == '\n') syntax("unclosed action");
      if (r == ' ' || r == '@' || r == '$') continue;
      if (r == '[') {
        parse_array(cur);
      } else if (r == '"' || r == '\'') {
        parse_quote(cur, at, static_cast<char>(r));
      } else if (r == '.') {
        parse_field(cur);
      } else if (r == '+' || r == '-' || std::isdigit(r)) {
        backup();
        parse_number(cur);
      } else if (is_alnum(r)) {
        backup();
        parse_identifier(cur);
      } else {
        syntax("unrecognized character in action: " + rune_name(r));
      }
    }
  }

  void parse_identifier(NodeList& cur) {
    std::size_t start = pos_;
    while (!is_terminator(next())) {
    }
    backup();
    std::string value(in_.substr(start, pos_ - start));
    Node n;
    if (value == "true" || value == "false") {
      n.type = NodeType::Bool;
      n.bval = value == "true";
    } else {
      n.type = NodeType::Identifier;
      n.text = std::move(value);
    }
    cur.push_back(std::move(n));
  }

  void parse_recursive(NodeList& cur) {
    if (!cur.empty() && cur.back().type == NodeType::Recursive) syntax("invalid multiple recursive descent");
    pos_ += 2;
    cur.push_back(node_of(NodeType::Recursive));
    if (is_alnum(peek())) parse_field(cur);
  }

  void parse_number(NodeList& cur) {
    std::size_t start = pos_;
    int r = peek();
    if (r == '+' || r == '-') next();
    for (;;) {
      r = next();
      if (r != '.' && !(r >= 0 && std::isdigit(r))) {
        backup();
        break;
      }
    }
    std::string_view value = in_.substr(start, pos_ - start);
    Node n;
    if (parse_ll(value, n.ival)) {
      n.type = NodeType::Int;
    } else if (parse_double(value, n.fval)) {
      n.type = NodeType::Float;
    } else {
      syntax("cannot parse number " + std::string(value));
    }
    cur.push_back(std::move(n));
  }

  void parse_array(NodeList& cur) {
    std::size_t start = pos_;
    for (;;) {
      int r = next();
      if (r == -1 || r == '\n') syntax("unterminated array");
      if (r == ']') break;
    }
    std::string text(in_.substr(start, pos_ - 1 - start));
    if (text == "*") text = ":";

    // union operator
    std::vector<std::string_view> parts;
    for (std::size_t b = 0;;) {
      auto c = text.find(',', b);
      parts.push_back(std::string_view(text).substr(b, c == std::string::npos ? std::string::npos : c - b));
      if (c == std::string::npos) break;
      b = c + 1;
    }
    if (parts.size() > 1) {
      Node u = node_of(NodeType::Union);
      for (auto part : parts) {
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        u.lists.push_back(parse_sub("[" + std::string(part) + "]"));
      }
      cur.push_back(std::move(u));
      return;
    }

    // dict key: ['a.b'] is re-parsed as the path .a.b (client-go); kai also tries the literal key.
    if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'' &&
        text.find('\'', 1) == text.size() - 1) {
      Node q = node_of(NodeType::QuotedKey);
      q.text = text.substr(1, text.size() - 2);
      q.lists.push_back(parse_sub("." + q.text));
      cur.push_back(std::move(q));
      return;
    }

    // slice operator ^(-?[\d]*)(:-?[\d]*)?(:-?[\d]*)?$
    std::vector<std::string> groups;
    for (std::size_t b = 0;;) {
      auto c = text.find(':', b);
      groups.push_back(text.substr(b, c == std::string::npos ? std::string::npos : c - b));
      if (c == std::string::npos) break;
      b = c + 1;
    }
    auto number_like = [](const std::string& g) {
      std::size_t i = !g.empty() && g[0] == '-' ? 1 : 0;
      for (; i < g.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(g[i]))) return false;
      }
      return true;
    };
    if (groups.size() > 3) syntax("invalid array index " + text);
    for (const auto& g : groups) {
      if (!number_like(g)) syntax("invalid array index " + text);
    }
    Node a = node_of(NodeType::Array);
    for (std::size_t i = 0; i < 3; ++i) {
      const bool present = i < groups.size() && (i > 0 || !groups[0].empty());
      if (present) {
        const std::string& v = groups[i];
        if (i > 0 && v.empty()) {
          a.params[i].known = false;
        } else {
          a.params[i].known = true;
          if (!parse_ll(v, a.params[i].value)) syntax("array index " + v + " is not a number");
        }
      } else if (i == 1) {
        a.params[1] = {true, a.params[0].value + 1, true};
      } else {
        a.params[i] = {false, 0, false};
      }
    }
    cur.push_back(std::move(a));
  }

  void parse_filter(NodeList& cur) {
    pos_ += 3;
    std::size_t start = pos_;
    bool begin = false, end = false;
    int pair = 0;
    for (;;) {
      int r = next();
      if (r == -1 || r == '\n') syntax("unterminated filter");
      if (r == '"' || r == '\'') {
        if (!begin) {
          begin = true;
          pair = r;
          continue;
        }
        if (in_[pos_ - 2] != '\\' && r == pair) end = true;
      } else if (r == ')') {
        if (begin == end) break;
      }
    }
    if (next() != ']') syntax("unclosed array expect ]");
    std::string text(in_.substr(start, pos_ - 2 - start));
    // ^([^!<>=]+)([!<>=]+)(.+?)$
    auto is_op = [](char c) { return c == '!' || c == '<' || c == '>' || c == '='; };
    std::size_t l = 0;
    while (l < text.size() && !is_op(text[l])) ++l;
    std::size_t o = l;
    while (o < text.size() && is_op(text[o])) ++o;
    Node f = node_of(NodeType::Filter);
    if (l == 0 || o == l || o == text.size()) {
      f.text = "exists";
      f.lists.push_back(parse_sub(text));
      f.lists.emplace_back();
    } else {
      f.text = text.substr(l, o - l);
      f.lists.push_back(parse_sub(text.substr(0, l)));
      f.lists.push_back(parse_sub(text.substr(o)));
    }
    cur.push_back(std::move(f));
  }

  void parse_quote(NodeList& cur, std::size_t start, char quote) {
    for (;;) {
      int r = next();
      if (r == -1 || r == '\n') syntax("unterminated quoted string");
      if (r == quote && in_[pos_ - 2] != '\\') break;
    }
    std::string_view value = in_.substr(start, pos_ - start);
    auto s = unquote(value);
    if (!s) syntax("unquote string " + std::string(value) + " error invalid syntax");
    Node n = node_of(NodeType::Text);
    n.text = std::move(*s);
    cur.push_back(std::move(n));
  }

  void parse_field(NodeList& cur) {
    std::size_t start = pos_;
    for (;;) {
      int r = next();
      if (r == '\\') {
        next();
      } else if (is_terminator(r)) {
        backup();
        break;
      }
    }
    std::string value(in_.substr(start, pos_ - start));
    if (value == "*") {
      cur.push_back(node_of(NodeType::Wildcard));
      return;
    }
    Node n = node_of(NodeType::Field);
    for (char c : value) {
      if (c != '\\') n.text += c;
    }
    cur.push_back(std::move(n));
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::size_t width_ = 0;
};

/// Nests {range}...{end} blocks; an unclosed range runs to the end of the template.
std::vector<Item> nest(std::vector<Item> flat) {
  std::vector<std::vector<Item>> stack(1);
  std::vector<Item> ranges;  // open range items, parallel to stack[1..]
  for (auto& item : flat) {
    if (item.kind == Item::Text || item.expr.empty() || item.expr.front().type != NodeType::Identifier) {
      for (const auto& n : item.expr) {
        if (n.type == NodeType::Identifier) syntax("unrecognized identifier " + n.text);
      }
      stack.back().push_back(std::move(item));
      continue;
    }
    const std::string name = item.expr.front().text;
    if (name == "range") {
      Item r;
      r.kind = Item::Range;
      r.expr.assign(std::make_move_iterator(item.expr.begin() + 1), std::make_move_iterator(item.expr.end()));
      ranges.push_back(std::move(r));
      stack.emplace_back();
    } else if (name == "end") {
      if (ranges.empty()) syntax("not in range, nothing to end");
      Item r = std::move(ranges.back());
      ranges.pop_back();
      r.body = std::move(stack.back());
      stack.pop_back();
      stack.back().push_back(std::move(r));
    } else {
      syntax("unrecognized identifier " + name);
    }
  }
  while (!ranges.empty()) {
    Item r = std::move(ranges.back());
    ranges.pop_back();
    r.body = std::move(stack.back());
    stack.pop_back();
    stack.back().push_back(std::move(r));
  }
  return std::move(stack.front());
}

// ---- evaluation (jsonpath.go) ----

/// A value during evaluation: a reference into the input document, or a value the template
/// made (a literal, a byte of a string). Made values are shared between result lists and
/// the lists outlive the node that made them, hence shared_ptr.
struct Val {
  const json* p = nullptr;
  std::shared_ptr<const json> owned;

  static Val ref(const json& j) { return Val{&j, nullptr}; }
  static Val make(json j) {
    auto s = std::make_shared<const json>(std::move(j));
    const json* raw = s.get();
    return Val{raw, std::move(s)};
  }
  const json& operator*() const { return *p; }
  const json* operator->() const { return p; }
};
using Vals = std::vector<Val>;

[[noreturn]] void exec_error(const std::string& msg) { throw Error::invalid(msg); }

enum class Kind { Invalid, Bool, Int, Uint, Float, String };

Kind kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::boolean: return Kind::Bool;
    case json::value_t::number_integer: return Kind::Int;
    case json::value_t::number_unsigned:
      return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ? Kind::Int
                                                                                                               : Kind::Uint;
    case json::value_t::number_float: return Kind::Float;
    case json::value_t::string: return Kind::String;
    default: return Kind::Invalid;
  }
}

long long int_of(const json& v) {
  return v.is_number_unsigned() ? static_cast<long long>(v.get<std::uint64_t>()) : v.get<long long>();
}

// template.Equal / template.Less from client-go's forked text/template.
bool go_equal(const json& a, const json& b) {
  Kind ka = kind_of(a);
  if (ka == Kind::Invalid) exec_error("invalid type for comparison");
  Kind kb = kind_of(b);
  if (kb == Kind::Invalid) exec_error("invalid type for comparison");
  if (ka != kb) {
    if (ka == Kind::Int && kb == Kind::Uint) return int_of(a) >= 0 && static_cast<std::uint64_t>(int_of(a)) == b.get<std::uint64_t>();
    if (ka == Kind::Uint && kb == Kind::Int) return int_of(b) >= 0 && a.get<std::uint64_t>() == static_cast<std::uint64_t>(int_of(b));
    exec_error("incompatible types for comparison");
  }
  switch (ka) {
    case Kind::Bool: return a.get<bool>() == b.get<bool>();
    case Kind::Int: return int_of(a) == int_of(b);
    case Kind::Uint: return a.get<std::uint64_t>() == b.get<std::uint64_t>();
    case Kind::Float: return a.get<double>() == b.get<double>();
    case Kind::String: return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    default: exec_error("invalid type for comparison");
  }
}

bool go_less(const json& a, const json& b) {
  Kind ka = kind_of(a);
  if (ka == Kind::Invalid) exec_error("invalid type for comparison");
  Kind kb = kind_of(b);
  if (kb == Kind::Invalid) exec_error("invalid type for comparison");
  if (ka != kb) {
    if (ka == Kind::Int && kb == Kind::Uint) return int_of(a) < 0 || static_cast<std::uint64_t>(int_of(a)) < b.get<std::uint64_t>();
    if (ka == Kind::Uint && kb == Kind::Int) return int_of(b) >= 0 && a.get<std::uint64_t>() < static_cast<std::uint64_t>(int_of(b));
    exec_error("incompatible types for comparison");
  }
  switch (ka) {
    case Kind::Int: return int_of(a) < int_of(b);
    case Kind::Uint: return a.get<std::uint64_t>() < b.get<std::uint64_t>();
    case Kind::Float: return a.get<double>() < b.get<double>();
    case Kind::String: return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
    default: exec_error("invalid type for comparison");
  }
}

/// The elements `*` and `..` descend into: object values (sorted keys, where Go's map order
/// is random), array elements, and the bytes of a string (Go indexes strings bytewise).
Vals children(const Val& v) {
  Vals out;
  if (v->is_object()) {
    for (const auto& [k, e] : v->items()) out.push_back(Val::ref(e));
  } else if (v->is_array()) {
    for (const auto& e : *v) out.push_back(Val::ref(e));
  } else if (v->is_string()) {
    for (unsigned char c : v->get_ref<const std::string&>()) out.push_back(Val::make(json(static_cast<std::uint64_t>(c))));
  }
  return out;
}

class Evaluator {
 public:
  explicit Evaluator(bool allow_missing) : allow_missing_(allow_missing) {}

  /// FindResults: one list of values per expression or literal text, ranges expanded.
  void run(const std::vector<Item>& items, const Val& cur, std::vector<Vals>& out) {
    for (const auto& item : items) {
      switch (item.kind) {
        case Item::Text: out.push_back({Val::make(json(item.text))}); break;
        case Item::Expr: out.push_back(eval_list({cur}, item.expr)); break;
        case Item::Range:
          for (const auto& v : eval_list({cur}, item.expr)) run(item.body, v, out);
          break;
      }
    }
  }

  Vals eval_list(Vals in, const NodeList& list) {
    for (const auto& n : list) in = walk(in, n);
    return in;
  }

 private:
  Vals walk(const Vals& in, const Node& n) {
    switch (n.type) {
      case NodeType::Text: return {Val::make(json(n.text))};
      case NodeType::Field: return eval_field(in, n.text);
      case NodeType::Array: return eval_array(in, n);
      case NodeType::Filter: return eval_filter(in, n);
      case NodeType::Int: return Vals(in.size(), Val::make(json(n.ival)));
      case NodeType::Float: return Vals(in.size(), Val::make(json(n.fval)));
      case NodeType::Bool: return Vals(in.size(), Val::make(json(n.bval)));
      case NodeType::Wildcard: {
        Vals out;
        for (const auto& v : in) {
          auto c = children(v);
          out.insert(out.end(), c.begin(), c.end());
        }
        return out;
      }
      case NodeType::Recursive: {
        Vals out;
        recurse(in, out);
        return out;
      }
      case NodeType::Union: {
        Vals out;
        for (const auto& alt : n.lists) {
          auto r = eval_list(in, alt);
          out.insert(out.end(), r.begin(), r.end());
        }
        return out;
      }
      case NodeType::QuotedKey: return eval_quoted_key(in, n);
      case NodeType::Identifier: exec_error("unrecognized identifier " + n.text);
    }
    return {};
  }

  Vals eval_field(const Vals& in, const std::string& name) {
    Vals out;
    if (in.empty()) return out;
    for (const auto& v : in) {
      if (!v->is_object()) continue;
      auto it = v->find(name);
      if (it != v->end()) out.push_back(Val::ref(*it));
    }
    if (out.empty() && !allow_missing_) exec_error(name + " is not found");
    return out;
  }

  /// ['key']: the literal key when the object has it (kai), else client-go's reading of the
  /// quoted text as a path, so ['metadata.name'] still means .metadata.name.
  Vals eval_quoted_key(const Vals& in, const Node& n) {
    Vals out;
    for (const auto& v : in) {
      if (v->is_object()) {
        auto it = v->find(n.text);
        if (it != v->end()) {
          out.push_back(Val::ref(*it));
          continue;
        }
      }
      auto r = Evaluator(true).eval_list({v}, n.lists[0]);
      out.insert(out.end(), r.begin(), r.end());
    }
    if (out.empty() && !in.empty() && !allow_missing_) exec_error(n.text + " is not found");
    return out;
  }

  Vals eval_array(const Vals& in, const Node& n) {
    Vals out;
    for (const auto& v : in) {
      if (v->is_null()) continue;
      if (!v->is_array()) exec_error(detail::go_type_name(*v) + " is not array or slice");
      const long long len = static_cast<long long>(v->size());
      auto p = n.params;
      if (!p[0].known) p[0].value = 0;
      if (p[0].value < 0) p[0].value += len;
      if (!p[1].known) p[1].value = len;
      if (p[1].value < 0 || (p[1].value == 0 && p[1].derived)) p[1].value += len;
      if (p[1].value == p[0].value) return out;  // zero elements requested (client-go returns here)
      if (p[0].value >= len || p[0].value < 0) {
        exec_error("array index out of bounds: index " + std::to_string(p[0].value) + ", length " + std::to_string(len));
      }
      if (p[1].value > len || p[1].value < 0) {
        exec_error("array index out of bounds: index " + std::to_string(p[1].value - 1) + ", length " +
                   std::to_string(len));
      }
      if (p[0].value > p[1].value) {
        exec_error("starting index " + std::to_string(p[0].value) + " is greater than ending index " +
                   std::to_string(p[1].value));
      }
      long long step = 1;
      if (p[2].known) {
        if (p[2].value <= 0) exec_error("step must be > 0");
        step = p[2].value;
      }
      for (long long i = p[0].value; i < p[1].value; i += step) out.push_back(Val::ref((*v)[static_cast<std::size_t>(i)]));
    }
    return out;
  }

  void recurse(const Vals& in, Vals& out) {
    for (const auto& v : in) {
      if (v->is_null()) continue;
      auto c = children(v);
      if (c.empty()) continue;
      out.push_back(v);
      recurse(c, out);
    }
  }

  Vals eval_filter(const Vals& in, const Node& n) {
    Vals out;
    for (const auto& v : in) {
      if (!v->is_array()) exec_error(detail::go_sprint(*v) + " is not array or slice and cannot be filtered");
      for (const auto& e : *v) {
        Vals elem{Val::ref(e)};
        if (n.text == "exists") {
          Vals lefts;
          try {
            lefts = eval_list(elem, n.lists[0]);
          } catch (const Error&) {
            lefts.clear();  // client-go ignores the error of an existence test
          }
          if (!lefts.empty()) out.push_back(Val::ref(e));
          continue;
        }
        Vals lefts = eval_list(elem, n.lists[0]);
        if (lefts.empty()) continue;
        if (lefts.size() > 1) exec_error("can only compare one element at a time");
        Vals rights = eval_list(elem, n.lists[1]);
        if (rights.empty()) continue;
        if (rights.size() > 1) exec_error("can only compare one element at a time");
        const json& l = *lefts[0];
        const json& r = *rights[0];
        bool pass = false;
        if (n.text == "<") {
          pass = go_less(l, r);
        } else if (n.text == ">") {
          pass = !(go_less(l, r) || go_equal(l, r));
        } else if (n.text == "==") {
          pass = go_equal(l, r);
        } else if (n.text == "!=") {
          pass = !go_equal(l, r);
        } else if (n.text == "<=") {
          pass = go_less(l, r) || go_equal(l, r);
        } else if (n.text == ">=") {
          pass = !go_less(l, r);
        } else {
          exec_error("unrecognized filter operator " + n.text);
        }
        if (pass) out.push_back(Val::ref(e));
      }
    }
    return out;
  }

  bool allow_missing_;
};

/// evalToText + PrintResults' JSON rule for one value.
std::string to_text(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
    case json::value_t::array: return detail::go_json(v);
    case json::value_t::null: return "null";
    default: return detail::go_sprint(v);
  }
}

}  // namespace

struct JsonPath::Impl {
  std::vector<Item> items;
};

JsonPath::JsonPath() : impl_(std::make_unique<Impl>()) {}
JsonPath::~JsonPath() = default;
JsonPath::JsonPath(JsonPath&&) noexcept = default;
JsonPath& JsonPath::operator=(JsonPath&&) noexcept = default;

JsonPath JsonPath::parse(std::string_view tmpl) {
  JsonPath jp;
  jp.impl_->items = nest(Parser(tmpl).parse_flat());
  return jp;
}

std::string JsonPath::execute(const json& root, bool allow_missing_keys) const {
  std::vector<Vals> results;
  if (impl_) Evaluator(allow_missing_keys).run(impl_->items, Val::ref(root), results);
  std::string out;
  for (const auto& set : results) {
    for (std::size_t i = 0; i < set.size(); ++i) {
      out += to_text(*set[i]);
      if (i + 1 != set.size()) out += ' ';
    }
  }
  return out;
}

std::vector<std::vector<json>> JsonPath::evaluate(const json& root) const {
  std::vector<Vals> results;
  if (impl_) Evaluator(true).run(impl_->items, Val::ref(root), results);
  std::vector<std::vector<json>> out;
  out.reserve(results.size());
  for (const auto& set : results) {
    std::vector<json> values;
    values.reserve(set.size());
    for (const auto& v : set) values.push_back(*v);
    out.push_back(std::move(values));
  }
  return out;
}

}  // namespace kai::output
