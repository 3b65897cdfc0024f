#pragma once
// Label selectors (equality and set-based) and field selectors, as kubectl -l / --field-selector.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kai::api {

/// `a=b,c!=d,e in (x,y),f notin (z),g,!h` (also `==`). Empty selector matches everything.
class LabelSelector {
 public:
  /// Throws kai::Error Invalid with the Kubernetes wording, e.g.
  /// `unable to parse requirement: found '', expected: identifier` style messages naming the input.
  static LabelSelector parse(std::string_view text);
  /// From a metav1.LabelSelector JSON object (matchLabels + matchExpressions).
  static LabelSelector from_json(const nlohmann::json& selector);
  bool matches(const std::map<std::string, std::string>& labels) const;
  /// Matches against an object's metadata.labels.
  bool matches_object(const nlohmann::json& obj) const;
  bool empty() const { return reqs_.empty(); }

  struct Requirement {
    enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist };
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
class FieldSelector {
 public:
  /// Throws kai::Error Invalid for bad syntax.
  static FieldSelector parse(std::string_view text);
  /// Throws kai::Error Invalid `field label not supported: <f>` when a field is not in `supported`.
  void check_supported(const std::vector<std::string>& supported) const;
  /// Compares against the value at each dotted path in `obj` (missing = "").
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
