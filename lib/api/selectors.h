#pragma once
// Label selectors (equality and set-based) and field selectors, as kubectl -l / --field-selector.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kai::api {

/// `a=b,c!=d,e in (x,y),f notin (z),g,!h` (also `==`, and `>`/`<` on integers), Kubernetes'
/// labels.Parse grammar. Empty selector matches everything.
class LabelSelector {
 public:
  /// Throws kai::Error Invalid `invalid label selector "<text>": <Kubernetes' message>`, e.g.
  /// `invalid label selector "a b": unable to parse requirement: found 'b', expected: in, notin,
  /// =, ==, !=, gt, lt`. Requirements are sorted by key; set values are sorted and unique.
  static LabelSelector parse(std::string_view text);
  /// From a metav1.LabelSelector JSON object (matchLabels + matchExpressions with In, NotIn,
  /// Exists, DoesNotExist). null or `{}` gives the empty selector (matches everything; Kubernetes
  /// would make a nil selector match nothing). Throws kai::Error Invalid `invalid label selector:
  /// <Kubernetes' message>`, e.g. `invalid label selector: "Foo" is not a valid label selector operator`.
  static LabelSelector from_json(const nlohmann::json& selector);
  bool matches(const std::map<std::string, std::string>& labels) const;
  /// Matches against an object's metadata.labels.
  bool matches_object(const nlohmann::json& obj) const;
  bool empty() const { return reqs_.empty(); }

  struct Requirement {
    /// `=` and `==` are both Equals; GreaterThan/LessThan (`>`, `<`) compare as int64.
    enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist, GreaterThan, LessThan };
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  const std::vector<Requirement>& requirements() const { return reqs_; }

 private:
  std::vector<Requirement> reqs_;
};

/// `metadata.name=x,metadata.namespace!=y` (`==` too). Supported fields: metadata.name,
/// metadata.namespace, plus per-kind fields given at match time (status.phase, spec.nodeName...).
/// Parsing follows Kubernetes' fields.ParseSelector: terms split on unescaped commas, the first
/// `!=`, `==` or `=` splits a term, no whitespace trimming, values unescape `\`, `\,` and `\=`.
class FieldSelector {
 public:
  /// Throws kai::Error Invalid for bad syntax: `invalid selector: '<text>'; can't understand
  /// '<term>'`, `invalid field selector "<text>": invalid escape sequence: \q` or
  /// `invalid field selector "<text>": unescaped character in value: '='`.
  static FieldSelector parse(std::string_view text);
  /// Throws kai::Error Invalid `field label not supported: <f>` when a field is not in `supported`.
  void check_supported(const std::vector<std::string>& supported) const;
  /// Compares against the value at each dotted path in `obj` (missing or not a scalar = "";
  /// booleans and numbers as their JSON text).
  bool matches_object(const nlohmann::json& obj) const;
  bool empty() const { return reqs_.empty(); }

  struct Requirement {
    std::string field;
    bool equals;
    std::string value;
  };
  const std::vector<Requirement>& requirements() const { return reqs_; }

 private:
  std::vector<Requirement> reqs_;
};

}  // namespace kai::api
