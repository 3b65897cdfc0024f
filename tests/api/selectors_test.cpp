// Label selectors (Kubernetes labels.Parse grammar and messages) and field selectors
// (fields.ParseSelector).

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "lib/api/error.h"
#include "lib/api/selectors.h"

using namespace kai::api;
using nlohmann::json;
using Op = LabelSelector::Requirement::Op;

namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const kai::Error& e) {
    CHECK(e.kind() == kai::ErrorKind::Invalid);
    return e.what();
  }
  return "(no error)";
}

std::string label_error(const std::string& text) {
  return error_of([&] { LabelSelector::parse(text); });
}

const std::map<std::string, std::string> kLabels = {{"app", "web"}, {"tier", "frontend"}, {"env", "prod"}, {"n", "5"}};

}  // namespace

TEST_CASE("label selector parse and match") {
  struct Row {
    const char* selector;
    bool matches;
  };
  const Row rows[] = {
      {"", true},
      {"app=web", true},
      {"app==web", true},
      {"app=db", false},
      {"app!=web", false},
      {"app!=db", true},
      {"missing!=x", true},
      {"missing=x", false},
      {"app in (web,db)", true},
      {"app in (db)", false},
      {"app notin (web)", false},
      {"app notin (db)", true},
      {"missing notin (x)", true},
      {"missing in (x)", false},
      {"tier", true},
      {"missing", false},
      {"!tier", false},
      {"!missing", true},
      {"n>4", true},
      {"n>5", false},
      {"n<6", true},
      {"app>1", false},
      {"app=web,tier=frontend", true},
      {"app=web,tier=backend", false},
      {"app=web,!missing,env in (prod, dev),tier notin (db)", true},
      {"  app = web ,  tier in ( frontend , x ) ", true},
      {"app in (,web)", true},
      {"app=", false},
      {"missing=", false},
  };
  for (const auto& r : rows) {
    SECTION(std::string("'") + r.selector + "'") {
      LabelSelector sel = LabelSelector::parse(r.selector);
      CHECK(sel.matches(kLabels) == r.matches);
      json obj = {{"metadata", {{"labels", kLabels}}}};
      CHECK(sel.matches_object(obj) == r.matches);
    }
  }
  SECTION("empty selector") {
    CHECK(LabelSelector::parse("").empty());
    CHECK(LabelSelector().matches({}));
    CHECK(LabelSelector::parse("app").matches_object(json::object()) == false);
  }
}

TEST_CASE("label selector requirements are normalised like Kubernetes") {
  SECTION("sorted by key, values sorted and unique") {
    auto reqs = LabelSelector::parse("b in (z,y,y),a").requirements();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].key == "a");
    CHECK(reqs[0].op == Op::Exists);
    CHECK(reqs[1].key == "b");
    CHECK(reqs[1].op == Op::In);
    CHECK(reqs[1].values == std::vector<std::string>{"y", "z"});
  }
  SECTION("in and notin are plain words where a value is expected") {
    auto reqs = LabelSelector::parse("x in (in, notin)").requirements();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].values == std::vector<std::string>{"in", "notin"});
    CHECK(LabelSelector::parse("in=notin").requirements()[0].key == "in");
  }
  SECTION("empty values") {
    CHECK(LabelSelector::parse("a in ()").requirements()[0].values == std::vector<std::string>{""});
    CHECK(LabelSelector::parse("a=").requirements()[0].values == std::vector<std::string>{""});
    CHECK(LabelSelector::parse("a in (x,,y)").requirements()[0].values == std::vector<std::string>{"", "x", "y"});
  }
  SECTION("operators") {
    CHECK(LabelSelector::parse("a==b").requirements()[0].op == Op::Equals);
    CHECK(LabelSelector::parse("a!=b").requirements()[0].op == Op::NotEquals);
    CHECK(LabelSelector::parse("!a").requirements()[0].op == Op::DoesNotExist);
    CHECK(LabelSelector::parse("a notin (b)").requirements()[0].op == Op::NotIn);
    CHECK(LabelSelector::parse("a<3").requirements()[0].op == Op::LessThan);
    CHECK(LabelSelector::parse("a>3").requirements()[0].op == Op::GreaterThan);
  }
}

TEST_CASE("label selector syntax errors name the input") {
  struct Row {
    const char* selector;
    const char* message;
  };
  const Row rows[] = {
      {"a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"},
      {"a in b", "unable to parse requirement: found 'b' expected: '('"},
      {"a in (b", "unable to parse requirement: found '', expected: ',' or ')'"},
      {"a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"},
      {"a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
      {"a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"},
      {"a=(", "unable to parse requirement: found '(', expected: identifier"},
      {"!", "unable to parse requirement: found '', expected: identifier"},
      {"a,", "found '', expected: identifier after ','"},
      {",a", "found ',', expected: !, identifier, or 'end of string'"},
      {"=a", "found '=', expected: !, identifier, or 'end of string'"},
      {"a=b c", "found 'c', expected: ',' or 'end of string'"},
      {"!a=b", "found '=', expected: ',' or 'end of string'"},
  };
  for (const auto& r : rows) {
    SECTION(r.selector) {
      CHECK(label_error(r.selector) == "invalid label selector \"" + std::string(r.selector) + "\": " + r.message);
    }
  }
}

TEST_CASE("label selector validates keys and values") {
  SECTION("bad key") {
    CHECK(label_error("a_=b") ==
          "invalid label selector \"a_=b\": unable to parse requirement: <nil>: Invalid value: \"a_\": name part "
          "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
          "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
          "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }
  SECTION("bad value") {
    CHECK(label_error("a=b_") ==
          "invalid label selector \"a=b_\": unable to parse requirement: values[0][a]: Invalid value: \"b_\": a "
          "valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
          "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
          "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  }
  SECTION("gt needs an integer") {
    CHECK(label_error("n>x") ==
          "invalid label selector \"n>x\": unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', "
          "'Lt' operators, the value must be an integer");
  }
}

TEST_CASE("label selector from a metav1.LabelSelector object") {
  SECTION("matchLabels and matchExpressions") {
    json sel = json::parse(R"({
      "matchLabels": {"app": "web"},
      "matchExpressions": [
        {"key": "env", "operator": "In", "values": ["prod", "dev"]},
        {"key": "tier", "operator": "NotIn", "values": ["db"]},
        {"key": "tier", "operator": "Exists"},
        {"key": "legacy", "operator": "DoesNotExist"}
      ]})");
    LabelSelector s = LabelSelector::from_json(sel);
    CHECK(s.requirements().size() == 5);
    CHECK(s.matches(kLabels));
    auto other = kLabels;
    other["legacy"] = "1";
    CHECK_FALSE(s.matches(other));
  }
  SECTION("null and empty match everything") {
    CHECK(LabelSelector::from_json(nullptr).empty());
    CHECK(LabelSelector::from_json(json::object()).matches({}));
  }
  SECTION("errors") {
    CHECK(error_of([] {
            LabelSelector::from_json({{"matchExpressions", {{{"key", "a"}, {"operator", "Foo"}}}}});
          }) == "invalid label selector: \"Foo\" is not a valid label selector operator");
    CHECK(error_of([] {
            LabelSelector::from_json({{"matchExpressions", {{{"key", "a"}, {"operator", "In"}}}}});
          }) == "invalid label selector: values: Invalid value: null: for 'in', 'notin' operators, values set "
                "can't be empty");
    CHECK(error_of([] {
            LabelSelector::from_json(
                {{"matchExpressions", {{{"key", "a"}, {"operator", "Exists"}, {"values", {"x"}}}}}});
          }) == "invalid label selector: values: Invalid value: [\"x\"]: values set must be empty for exists and "
                "does not exist");
    CHECK(error_of([] { LabelSelector::from_json({{"matchLabels", {{"a b", "x"}}}}); }) ==
          "invalid label selector: key: Invalid value: \"a b\": name part must consist of alphanumeric characters, "
          "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
          "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }
}

TEST_CASE("field selector parse and match") {
  json pod = json::parse(R"({
    "metadata": {"name": "web-1", "namespace": "default"},
    "spec": {"unschedulable": true, "replicas": 3},
    "status": {"phase": "Running"}})");
  struct Row {
    const char* selector;
    bool matches;
  };
  const Row rows[] = {
      {"", true},
      {"metadata.name=web-1", true},
      {"metadata.name==web-1", true},
      {"metadata.name!=web-1", false},
      {"metadata.name=web-2", false},
      {"metadata.name=web-1,metadata.namespace=default", true},
      {"metadata.name=web-1,metadata.namespace!=default", false},
      {"status.phase=Running", true},
      {"spec.nodeName=", true},
      {"spec.nodeName!=", false},
      {"spec.unschedulable=true", true},
      {"spec.replicas=3", true},
      {"metadata=", true},
      {",metadata.name=web-1,", true},
  };
  for (const auto& r : rows) {
    SECTION(std::string("'") + r.selector + "'") {
      CHECK(FieldSelector::parse(r.selector).matches_object(pod) == r.matches);
    }
  }
  SECTION("escaped values") {
    auto reqs = FieldSelector::parse(R"(metadata.name=a\,b\=c\\d)").requirements();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].field == "metadata.name");
    CHECK(reqs[0].equals);
    CHECK(reqs[0].value == R"(a,b=c\d)");
  }
  SECTION("terms are sorted and not trimmed") {
    auto reqs = FieldSelector::parse("status.phase=x,metadata.name =y").requirements();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].field == "metadata.name ");
    CHECK(reqs[1].field == "status.phase");
  }
}

TEST_CASE("field selector errors") {
  CHECK(error_of([] { FieldSelector::parse("metadata.name"); }) ==
        "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  CHECK(error_of([] { FieldSelector::parse("a=1,b"); }) == "invalid selector: 'a=1,b'; can't understand 'b'");
  CHECK(error_of([] { FieldSelector::parse(R"(a=b\q)"); }) ==
        R"(invalid field selector "a=b\\q": invalid escape sequence: \q)");
  CHECK(error_of([] { FieldSelector::parse(R"(a=b\)"); }) ==
        R"(invalid field selector "a=b\\": invalid escape sequence: \)");
  CHECK(error_of([] { FieldSelector::parse("a=b=c"); }) ==
        R"(invalid field selector "a=b=c": unescaped character in value: '=')");
  SECTION("check_supported") {
    auto sel = FieldSelector::parse("metadata.name=x,spec.foo=y");
    CHECK(error_of([&] { sel.check_supported({"metadata.name", "metadata.namespace"}); }) ==
          "field label not supported: spec.foo");
    CHECK_NOTHROW(sel.check_supported({"metadata.name", "spec.foo"}));
  }
}
