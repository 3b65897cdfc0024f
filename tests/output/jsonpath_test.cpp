#include <catch2/catch.hpp>

#include "lib/api/error.h"
#include "lib/output/printer.h"

using namespace kai::output;

namespace {

// The input of kubernetes.io/docs/reference/kubectl/jsonpath, plus a few fields for numbers,
// filters and escaped keys.
const json kDoc = json::parse(R"({
  "kind": "List",
  "items": [
    {
      "kind": "None",
      "metadata": {"name": "127.0.0.1", "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
      "status": {"capacity": {"cpu": "4"}, "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}
    },
    {
      "kind": "None",
      "metadata": {"name": "127.0.0.2"},
      "status": {
        "capacity": {"cpu": "8"},
        "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.2"}, {"type": "another", "address": "127.0.0.3"}]
      }
    }
  ],
  "users": [
    {"name": "myself", "user": {}},
    {"name": "e2e", "user": {"username": "admin", "password": "secret"}}
  ],
  "nums": [10, 20, 30, 40, 50],
  "tasks": [{"name": "ps", "replicas": 1, "weight": 0.5}, {"name": "worker", "replicas": 4, "weight": 2.5},
            {"name": "chief", "replicas": 1, "ok": true}],
  "scalars": {"int": 2, "float": 1.5, "million": 1e6, "tiny": 0.00001, "yes": true, "nothing": null,
              "html": "<a&b>"},
  "meta": {"labels": {"app.kubernetes.io/name": "demo", "a.b": "dotted"}, "a": {"b": "nested"}}
})");

std::string run(const std::string& tmpl, const json& doc = kDoc) { return JsonPath::parse(tmpl).execute(doc); }

}  // namespace

TEST_CASE("jsonpath templates print like kubectl") {
  struct Row {
    const char* tmpl;
    const char* want;
  };
  const Row rows[] = {
      // kubernetes.io JSONPath Support table
      {"kind is {.kind}", "kind is List"},
      {"{.kind}", "List"},
      {"{['kind']}", "List"},
      {"{$.kind}", "List"},
      {"{..name}", "127.0.0.1 127.0.0.2 ps worker chief myself e2e"},
      {"{.items[*].metadata.name}", "127.0.0.1 127.0.0.2"},
      {"{.users[0].name}", "myself"},
      {"{.items[*]['metadata.name', 'status.capacity']}", R"(127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"})"},
      {R"({.users[?(@.name=="e2e")].user.password})", "secret"},
      {"{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}",
       R"([127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] )"},
      {"{.items[0].metadata.labels.kubernetes\\.io/hostname}", "127.0.0.1"},
      // kubectl reference examples
      {R"({range .items[*]}{.metadata.name}{"\t"}{.status.capacity.cpu}{"\n"}{end})", "127.0.0.1\t4\n127.0.0.2\t8\n"},
      {"{.items[*].status.addresses[*].address}", "127.0.0.1 127.0.0.2 127.0.0.3"},
      {R"({.items[*].status.addresses[?(@.type=="another")].address})", "127.0.0.3"},
      {R"({.items[?(@.status.capacity.cpu>"5")].metadata.name})", "127.0.0.2"},
      {"{.users[?(@.user.username)].name}", "e2e"},
      {"{.users[?(@.missing)].name}", ""},
      // slices, negative indices, steps, unions of indices
      {"{.nums[1:3]}", "20 30"},
      {"{.nums[-1]}", "50"},
      {"{.nums[-2:]}", "40 50"},
      {"{.nums[:2]}", "10 20"},
      {"{.nums[::2]}", "10 30 50"},
      {"{.nums[1::2]}", "20 40"},
      {"{.nums[0,2,4]}", "10 30 50"},
      {"{.nums[2:2]}", ""},
      {"{.nums[*]}", "10 20 30 40 50"},
      {"{.nums}", "[10,20,30,40,50]"},
      // numeric and boolean filters
      {"{.tasks[?(@.replicas>1)].name}", "worker"},
      {"{.tasks[?(@.replicas==1)].name}", "ps chief"},
      {"{.tasks[?(@.replicas!=1)].name}", "worker"},
      {"{.tasks[?(@.replicas<=1)].name}", "ps chief"},
      {"{.tasks[?(@.replicas>=4)].name}", "worker"},
      {"{.tasks[?(@.replicas<4)].name}", "ps chief"},
      {"{.tasks[?(@.weight<1.0)].name}", "ps"},
      {"{.tasks[?(@.ok==true)].name}", "chief"},
      {"{.tasks[?(@.name=='ps')].replicas}", "1"},
      {"{.tasks[?(@.weight)].name}", "ps worker"},
      // values as Go prints them; maps and lists as JSON
      {"{.scalars.int} {.scalars.float} {.scalars.million} {.scalars.tiny} {.scalars.yes} {.scalars.nothing}",
       "2 1.5 1e+06 1e-05 true null"},
      {"{.scalars.html}", "<a&b>"},
      {"{.meta.labels}", R"({"a.b":"dotted","app.kubernetes.io/name":"demo"})"},
      {"{.meta}", R"({"a":{"b":"nested"},"labels":{"a.b":"dotted","app.kubernetes.io/name":"demo"}})"},
      {"{.items[0].status}", R"({"addresses":[{"address":"127.0.0.1","type":"LegacyHostIP"}],"capacity":{"cpu":"4"}})"},
      {"{.users[1].user.*}", "secret admin"},
      // escaped dots and quoted keys
      {"{.meta.labels.app\\.kubernetes\\.io/name}", "demo"},
      {"{.meta.labels['app.kubernetes.io/name']}", "demo"},
      {"{.meta['a.b']}", "nested"},
      {"{.meta.labels.a\\.b}", "dotted"},
      // literal text, quoted text, @ and $, nested ranges, missing keys
      {"{\"a\"}{'b'}{\"\\u00e9\"}", "ab\xc3\xa9"},
      {"before {.kind} after", "before List after"},
      {"{@.kind}", "List"},
      {"{.missing}", ""},
      {"{.items[*].missing}", ""},
      {"{range .items[*]}{range .status.addresses[*]}{.address};{end}|{end}", "127.0.0.1;|127.0.0.2;127.0.0.3;|"},
      {"{range .missing[*]}x{end}done", "done"},
      {"{range .users[*]}{.name} {end}", "myself e2e "},
      {"{.kind}{.kind}", "ListList"},
      {"", ""},
  };
  for (const auto& r : rows) {
    INFO(r.tmpl);
    CHECK(run(r.tmpl) == r.want);
  }
}

TEST_CASE("jsonpath @ prints the whole document as JSON") {
  json small = {{"b", 1}, {"a", {{"c", "<"}}}};
  CHECK(run("{@}", small) == R"({"a":{"c":"\u003c"},"b":1})");
  CHECK(run("{}", small) == R"({"a":{"c":"\u003c"},"b":1})");
}

TEST_CASE("jsonpath missing keys are an error when not allowed") {
  auto jp = JsonPath::parse("{.metadata.nope}");
  CHECK(jp.execute(kDoc, true).empty());
  try {
    jp.execute(kDoc, false);
    FAIL("expected an error");
  } catch (const kai::Error& e) {
    CHECK(e.kind() == kai::ErrorKind::Invalid);
    CHECK(std::string(e.what()) == "metadata is not found");
  }
}

TEST_CASE("jsonpath execution errors match client-go") {
  struct Row {
    const char* tmpl;
    const char* want;
  };
  const Row rows[] = {
      {"{.items[5]}", "array index out of bounds: index 5, length 2"},
      {"{.items[-3]}", "array index out of bounds: index -1, length 2"},
      {"{.nums[0:9]}", "array index out of bounds: index 8, length 5"},
      {"{.nums[3:1]}", "starting index 3 is greater than ending index 1"},
      {"{.nums[::0]}", "step must be > 0"},
      {"{.kind[0]}", "string is not array or slice"},
      {"{.meta[0]}", "map[string]interface {} is not array or slice"},
      {"{.tasks[?(@.replicas>1.5)].name}", "incompatible types for comparison"},
      {"{.tasks[?(@.ok<true)].name}", "invalid type for comparison"},
      {"{.kind[?(@.x)]}", "List is not array or slice and cannot be filtered"},
      {"{.items[?(@.status.addresses[*].type=='x')]}", "can only compare one element at a time"},
  };
  for (const auto& r : rows) {
    INFO(r.tmpl);
    try {
      run(r.tmpl);
      FAIL("expected an error");
    } catch (const kai::Error& e) {
      CHECK(e.kind() == kai::ErrorKind::Invalid);
      CHECK(std::string(e.what()) == r.want);
    }
  }
}

TEST_CASE("jsonpath parse errors match client-go") {
  struct Row {
    const char* tmpl;
    const char* want;
  };
  const Row rows[] = {
      {"{.a", "unclosed action"},
      {"{.a[1}", "unterminated array"},
      {"{.a[x]}", "invalid array index x"},
      {"{.a[1:2:3:4]}", "invalid array index 1:2:3:4"},
      {"{.a[-]}", "array index - is not a number"},
      {"{.a[?(@.x==1]}", "unterminated filter"},
      {"{.a[?(@.x==1)x}", "unclosed array expect ]"},
      {"{\"abc}", "unterminated quoted string"},
      {"{ #}", "unrecognized character in action: U+0023 '#'"},
      {"{.a\t}", "unrecognized character in action: U+0009"},
      {"{end}", "not in range, nothing to end"},
      {"{metadata.name}", "unrecognized identifier metadata"},
      {"{..a..b}", ""},  // valid: two separate recursive descents
      {"{.a.....b}", "invalid multiple recursive descent"},
      {"{-}", "cannot parse number -"},
  };
  for (const auto& r : rows) {
    INFO(r.tmpl);
    if (std::string(r.want).empty()) {
      CHECK_NOTHROW(JsonPath::parse(r.tmpl));
      continue;
    }
    try {
      JsonPath::parse(r.tmpl);
      FAIL("expected an error");
    } catch (const kai::Error& e) {
      CHECK(e.kind() == kai::ErrorKind::Usage);
      CHECK(std::string(e.what()) == r.want);
    }
  }
}

TEST_CASE("jsonpath evaluate returns one result list per expression") {
  auto res = JsonPath::parse("{.nums[0]}-{.users[*].name}{.missing}").evaluate(kDoc);
  REQUIRE(res.size() == 4);
  CHECK(res[0] == std::vector<json>{10});
  CHECK(res[1] == std::vector<json>{"-"});
  CHECK(res[2] == std::vector<json>{"myself", "e2e"});
  CHECK(res[3].empty());
}

TEST_CASE("jsonpath is movable and reusable") {
  JsonPath a = JsonPath::parse("{.kind}");
  JsonPath b = std::move(a);
  CHECK(b.execute(kDoc) == "List");
  CHECK(b.execute(json{{"kind", "Pod"}}) == "Pod");
  JsonPath empty;
  CHECK(empty.execute(kDoc).empty());
}
