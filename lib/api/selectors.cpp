#include "lib/api/selectors.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <set>

#include "lib/api/error.h"
#include "lib/api/names.h"
#include "lib/api/text_util.h"

namespace kai::api {
namespace {

using text_detail::go_quote;
using Op = LabelSelector::Requirement::Op;

// ---- Kubernetes' labels.Parse: lexer and recursive-descent parser, same messages. ----

enum class Token { Error, End, ClosedPar, Comma, DoesNotExist, DoubleEquals, Equals, GreaterThan, Identifier,
                   In, LessThan, NotEquals, NotIn, OpenPar };

struct Item {
  Token tok;
  std::string literal;
};

std::optional<Token> keyword(std::string_view s) {
  static constexpr std::pair<std::string_view, Token> kTokens[] = {
      {")", Token::ClosedPar}, {",", Token::Comma},       {"!", Token::DoesNotExist}, {"==", Token::DoubleEquals},
      {"=", Token::Equals},    {">", Token::GreaterThan}, {"in", Token::In},          {"<", Token::LessThan},
      {"!=", Token::NotEquals}, {"notin", Token::NotIn},  {"(", Token::OpenPar}};
  for (auto [text, tok] : kTokens) {
    if (s == text) return tok;
  }
  return std::nullopt;
}

bool is_whitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_special(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

std::vector<Item> lex(std::string_view s) {
  std::vector<Item> items;
  std::size_t pos = 0;
  while (true) {
    while (pos < s.size() && is_whitespace(s[pos])) ++pos;
    // Go's lexer reads a NUL byte as the end of the input.
    if (pos >= s.size() || s[pos] == '\0') {
      items.push_back({Token::End, ""});
      return items;
    }
    if (is_special(s[pos])) {
      // Longest run of special characters that is still a token ("!=", "==").
      std::string buffer;
      std::optional<Item> last;
      while (pos < s.size() && is_special(s[pos])) {
        buffer += s[pos];
        if (auto t = keyword(buffer)) {
          last = Item{*t, buffer};
          ++pos;
        } else if (last) {
          break;
        } else {
          ++pos;
        }
      }
      if (!last) {
        items.push_back({Token::Error, "error expected: keyword found '" + buffer + "'"});
      } else {
        items.push_back(*last);
      }
      continue;
    }
    std::size_t start = pos;
    while (pos < s.size() && s[pos] != '\0' && !is_special(s[pos]) && !is_whitespace(s[pos])) ++pos;
    std::string word(s.substr(start, pos - start));
    auto t = keyword(word);
    items.push_back({t ? *t : Token::Identifier, word});
  }
}

// Kubernetes' field.Error text for an Invalid value that is a string.
std::string invalid_string(const std::string& field, const std::string& value, const std::string& detail) {
  return field + ": Invalid value: " + go_quote(value) + ": " + detail;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// utilerrors.NewAggregate(...).Error(): one message alone, several as "[a, b]", duplicates dropped.
std::string aggregate(const std::vector<std::string>& errs) {
  std::vector<std::string> unique;
  for (const auto& e : errs) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  if (unique.size() == 1) return unique.front();
  return "[" + join(unique, ", ") + "]";
}

// JSON of a []string as Go's json.Marshal writes it (nil slice: null).
std::string json_strings(const std::vector<std::string>& values, bool nil) {
  if (nil) return "null";
  return nlohmann::json(values).dump();
}

// Go's strconv.ParseInt(s, 10, 64).
std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+') ++begin;  // Go's ParseInt accepts a leading '+'
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (begin == end || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

// labels.NewRequirement's validation (field paths as with no root path). Returns the aggregated message, or nullopt when valid.
std::optional<std::string> validate_requirement(const LabelSelector::Requirement& r, bool values_nil) {
  std::vector<std::string> errs;
  if (auto e = qualified_name_errors(r.key); !e.empty()) errs.push_back(invalid_string("key", r.key, join(e, "; ")));
  const std::string values = json_strings(r.values, values_nil);
  switch (r.op) {
    case Op::In:
    case Op::NotIn:
      if (r.values.empty()) {
        errs.push_back("values: Invalid value: " + values + ": for 'in', 'notin' operators, values set can't be empty");
      }
      break;
    case Op::Equals:
    case Op::NotEquals:
      if (r.values.size() != 1) {
        errs.push_back("values: Invalid value: " + values + ": exact-match compatibility requires one single value");
      }
      break;
    case Op::Exists:
    case Op::DoesNotExist:
      if (!r.values.empty()) {
        errs.push_back("values: Invalid value: " + values +
                       ": values set must be empty for exists and does not exist");
      }
      break;
    case Op::GreaterThan:
    case Op::LessThan:
      if (r.values.size() != 1) {
        errs.push_back("values: Invalid value: " + values +
                       ": for 'Gt', 'Lt' operators, exactly one value is required");
      }
      for (std::size_t i = 0; i < r.values.size(); ++i) {
        if (!parse_int(r.values[i])) {
          errs.push_back(invalid_string("values[" + std::to_string(i) + "]", r.values[i],
                                        "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
  for (std::size_t i = 0; i < r.values.size(); ++i) {
    if (auto e = label_value_errors(r.values[i]); !e.empty()) {
      errs.push_back(invalid_string("values[" + std::to_string(i) + "][" + r.key + "]", r.values[i], join(e, "; ")));
    }
  }
  if (errs.empty()) return std::nullopt;
  return aggregate(errs);
}

struct ParseError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : items_(lex(text)) {}

  std::vector<LabelSelector::Requirement> parse() {
    std::vector<LabelSelector::Requirement> reqs;
    while (true) {
      auto [tok, lit] = lookahead(true);
      if (tok == Token::Identifier || tok == Token::DoesNotExist) {
        try {
          reqs.push_back(parse_requirement());
        } catch (const ParseError& e) {
          throw ParseError{"unable to parse requirement: " + e.message};
        }
        auto [t, l] = consume(true);
        if (t == Token::End) return reqs;
        if (t != Token::Comma) throw ParseError{"found '" + l + "', expected: ',' or 'end of string'"};
        auto [t2, l2] = lookahead(true);
        if (t2 != Token::Identifier && t2 != Token::DoesNotExist) {
          throw ParseError{"found '" + l2 + "', expected: identifier after ','"};
        }
      } else if (tok == Token::End) {
        return reqs;
      } else {
        throw ParseError{"found '" + lit + "', expected: !, identifier, or 'end of string'"};
      }
    }
  }

 private:
  // In the "values" context the keywords `in` and `notin` are plain identifiers.
  static Item in_context(Item item, bool values) {
    if (values && (item.tok == Token::In || item.tok == Token::NotIn)) item.tok = Token::Identifier;
    return item;
  }
  Item lookahead(bool values) const { return in_context(items_[pos_], values); }
  Item consume(bool values) { return in_context(items_[pos_++], values); }

  LabelSelector::Requirement parse_requirement() {
    LabelSelector::Requirement r;
    bool does_not_exist = false;
    Item item = consume(true);
    if (item.tok == Token::DoesNotExist) {
      does_not_exist = true;
      item = consume(true);
    }
    if (item.tok != Token::Identifier) throw ParseError{"found '" + item.literal + "', expected: identifier"};
    if (auto e = qualified_name_errors(item.literal); !e.empty()) {
      throw ParseError{invalid_string("<nil>", item.literal, join(e, "; "))};
    }
    r.key = item.literal;
    auto next = lookahead(true).tok;
    if (does_not_exist || next == Token::End || next == Token::Comma) {
      // `!key` followed by anything is DoesNotExist (Kubernetes ignores what follows here and
      // then fails on it as "expected: ',' or 'end of string'").
      r.op = does_not_exist ? Op::DoesNotExist : Op::Exists;
      finish(r, false);
      return r;
    }
    auto [op_tok, op_lit] = consume(false);
    switch (op_tok) {
      case Token::In: r.op = Op::In; break;
      case Token::NotIn: r.op = Op::NotIn; break;
      case Token::Equals:
      case Token::DoubleEquals: r.op = Op::Equals; break;
      case Token::NotEquals: r.op = Op::NotEquals; break;
      case Token::GreaterThan: r.op = Op::GreaterThan; break;
      case Token::LessThan: r.op = Op::LessThan; break;
      default:
        throw ParseError{"found '" + op_lit + "', expected: in, notin, =, ==, !=, gt, lt"};
    }
    std::set<std::string> values = (r.op == Op::In || r.op == Op::NotIn) ? parse_values() : parse_exact_value();
    r.values.assign(values.begin(), values.end());
    finish(r, false);
    return r;
  }

  static void finish(const LabelSelector::Requirement& r, bool values_nil) {
    if (auto e = validate_requirement(r, values_nil)) throw ParseError{*e};
  }

  std::set<std::string> parse_values() {
    Item open = consume(true);
    if (open.tok != Token::OpenPar) throw ParseError{"found '" + open.literal + "' expected: '('"};
    Item next = lookahead(true);
    if (next.tok == Token::Identifier || next.tok == Token::Comma) {
      auto s = parse_identifiers_list();
      // Kubernetes names the token after '(' here, not the one it found.
      if (consume(true).tok != Token::ClosedPar) throw ParseError{"found '" + next.literal + "', expected: ')'"};
      return s;
    }
    if (next.tok == Token::ClosedPar) {
      consume(true);
      return {""};
    }
    throw ParseError{"found '" + next.literal + "', expected: ',', ')' or identifier"};
  }

  std::set<std::string> parse_identifiers_list() {
    std::set<std::string> s;
    while (true) {
      auto [tok, lit] = consume(true);
      if (tok == Token::Identifier) {
        s.insert(lit);
        auto [tok2, lit2] = lookahead(true);
        if (tok2 == Token::Comma) continue;
        if (tok2 == Token::ClosedPar) return s;
        throw ParseError{"found '" + lit2 + "', expected: ',' or ')'"};
      }
      if (tok == Token::Comma) {  // "(," ",)" and ",," add the empty value
        if (s.empty()) s.insert("");
        auto tok2 = lookahead(true).tok;
        if (tok2 == Token::ClosedPar) {
          s.insert("");
          return s;
        }
        if (tok2 == Token::Comma) {
          consume(true);
          s.insert("");
        }
        continue;
      }
      throw ParseError{"found '" + lit + "', expected: ',', or identifier"};
    }
  }

  std::set<std::string> parse_exact_value() {
    auto tok = lookahead(true).tok;
    if (tok == Token::End || tok == Token::Comma) return {""};
    auto [t, lit] = consume(true);
    if (t == Token::Identifier) return {lit};
    throw ParseError{"found '" + lit + "', expected: identifier"};
  }

  std::vector<Item> items_;
  std::size_t pos_ = 0;
};

bool has(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

bool requirement_matches(const LabelSelector::Requirement& r, const std::map<std::string, std::string>& labels) {
  auto it = labels.find(r.key);
  bool present = it != labels.end();
  switch (r.op) {
    case Op::Equals:
    case Op::In: return present && has(r.values, it->second);
    case Op::NotEquals:
    case Op::NotIn: return !present || !has(r.values, it->second);
    case Op::Exists: return present;
    case Op::DoesNotExist: return !present;
    case Op::GreaterThan:
    case Op::LessThan: {
      if (!present || r.values.size() != 1) return false;
      auto have = parse_int(it->second);
      auto want = parse_int(r.values[0]);
      if (!have || !want) return false;
      return r.op == Op::GreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

void sort_by_key(std::vector<LabelSelector::Requirement>& reqs) {
  std::stable_sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
}

}  // namespace

LabelSelector LabelSelector::parse(std::string_view text) {
  LabelSelector sel;
  try {
    sel.reqs_ = Parser(text).parse();
  } catch (const ParseError& e) {
    throw Error::invalid("invalid label selector " + go_quote(text) + ": " + e.message);
  }
  sort_by_key(sel.reqs_);
  return sel;
}

LabelSelector LabelSelector::from_json(const nlohmann::json& selector) {
  LabelSelector sel;
  if (selector.is_null()) return sel;
  auto fail = [](const std::string& m) { return Error::invalid("invalid label selector: " + m); };
  if (!selector.is_object()) throw fail("expected an object with matchLabels and matchExpressions");
  if (auto it = selector.find("matchLabels"); it != selector.end() && !it->is_null()) {
    if (!it->is_object()) throw fail("matchLabels: expected an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) throw fail("matchLabels[" + k + "]: expected a string, got " + v.dump());
      Requirement r{k, Op::Equals, {v.get<std::string>()}};
      if (auto e = validate_requirement(r, false)) throw fail(*e);
      sel.reqs_.push_back(std::move(r));
    }
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && !it->is_null()) {
    if (!it->is_array()) throw fail("matchExpressions: expected a list");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& expr = (*it)[i];
      const std::string where = "matchExpressions[" + std::to_string(i) + "]";
      if (!expr.is_object()) throw fail(where + ": expected an object");
      Requirement r;
      auto key = expr.find("key");
      if (key != expr.end() && !key->is_null()) {
        if (!key->is_string()) throw fail(where + ".key: expected a string");
        r.key = key->get<std::string>();
      }
      std::string op;
      if (auto o = expr.find("operator"); o != expr.end() && o->is_string()) op = o->get<std::string>();
      if (op == "In") {
        r.op = Op::In;
      } else if (op == "NotIn") {
        r.op = Op::NotIn;
      } else if (op == "Exists") {
        r.op = Op::Exists;
      } else if (op == "DoesNotExist") {
        r.op = Op::DoesNotExist;
      } else {
        throw fail(go_quote(op) + " is not a valid label selector operator");
      }
      bool nil = true;
      if (auto vals = expr.find("values"); vals != expr.end() && !vals->is_null()) {
        if (!vals->is_array()) throw fail(where + ".values: expected a list");
        for (const auto& v : *vals) {
          if (!v.is_string()) throw fail(where + ".values: expected strings, got " + v.dump());
          r.values.push_back(v.get<std::string>());
        }
        nil = r.values.empty();  // Kubernetes copies with append([]string(nil), ...): empty is nil
      }
      if (auto e = validate_requirement(r, nil)) throw fail(*e);
      sel.reqs_.push_back(std::move(r));
    }
  }
  sort_by_key(sel.reqs_);
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  return std::all_of(reqs_.begin(), reqs_.end(), [&](const Requirement& r) { return requirement_matches(r, labels); });
}

bool LabelSelector::matches_object(const nlohmann::json& obj) const {
  std::map<std::string, std::string> labels;
  if (obj.is_object()) {
    auto meta = obj.find("metadata");
    if (meta != obj.end() && meta->is_object()) {
      auto l = meta->find("labels");
      if (l != meta->end() && l->is_object()) {
        for (const auto& [k, v] : l->items()) {
          if (v.is_string()) labels.emplace(k, v.get<std::string>());
        }
      }
    }
  }
  return matches(labels);
}

// ---- Kubernetes' fields.ParseSelector ----

namespace {

std::vector<std::string> split_terms(std::string_view s) {
  std::vector<std::string> terms;
  if (s.empty()) return terms;
  std::size_t start = 0;
  bool in_slash = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (in_slash) {
      in_slash = false;
    } else if (s[i] == '\\') {
      in_slash = true;
    } else if (s[i] == ',') {
      terms.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.emplace_back(s.substr(start));
  return terms;
}

// Error text after `invalid field selector "<text>": `, or the unescaped value.
std::string unescape_value(const std::string& s, std::string& error) {
  std::string out;
  bool in_slash = false;
  for (char c : s) {
    if (in_slash) {
      if (c != '\\' && c != ',' && c != '=') {
        error = std::string("invalid escape sequence: \\") + c;
        return {};
      }
      out += c;
      in_slash = false;
      continue;
    }
    if (c == '\\') {
      in_slash = true;
    } else if (c == ',' || c == '=') {
      error = std::string("unescaped character in value: '") + c + "'";
      return {};
    } else {
      out += c;
    }
  }
  if (in_slash) {
    error = "invalid escape sequence: \\";
    return {};
  }
  return out;
}

std::string field_value(const nlohmann::json& obj, const std::string& path) {
  const nlohmann::json* cur = &obj;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return "";
    auto it = cur->find(part);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_boolean() || cur->is_number()) return cur->dump();
  return "";
}

}  // namespace

FieldSelector FieldSelector::parse(std::string_view text) {
  FieldSelector sel;
  auto parts = split_terms(text);
  std::sort(parts.begin(), parts.end());
  for (const auto& part : parts) {
    if (part.empty()) continue;
    // The first operator found, scanning left to right, splits the term; "!=" and "==" win
    // over "=" at the same position.
    std::size_t at = std::string::npos, len = 0;
    bool equals = true;
    for (std::size_t i = 0; i < part.size() && at == std::string::npos; ++i) {
      if (part.compare(i, 2, "!=") == 0) {
        at = i, len = 2, equals = false;
      } else if (part.compare(i, 2, "==") == 0) {
        at = i, len = 2;
      } else if (part[i] == '=') {
        at = i, len = 1;
      }
    }
    if (at == std::string::npos) {
      throw Error::invalid("invalid selector: '" + std::string(text) + "'; can't understand '" + part + "'");
    }
    std::string error;
    std::string value = unescape_value(part.substr(at + len), error);
    if (!error.empty()) throw Error::invalid("invalid field selector " + go_quote(text) + ": " + error);
    sel.reqs_.push_back({part.substr(0, at), equals, std::move(value)});
  }
  return sel;
}

void FieldSelector::check_supported(const std::vector<std::string>& supported) const {
  for (const auto& r : reqs_) {
    if (std::find(supported.begin(), supported.end(), r.field) == supported.end()) {
      throw Error::invalid("field label not supported: " + r.field);
    }
  }
}

bool FieldSelector::matches_object(const nlohmann::json& obj) const {
  return std::all_of(reqs_.begin(), reqs_.end(),
                     [&](const Requirement& r) { return (field_value(obj, r.field) == r.value) == r.equals; });
}

}  // namespace kai::api
