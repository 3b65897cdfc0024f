// YAML <-> JSON: kubectl-style typing and output, multi-document input, and hostile input that
// must stay bounded (size, alias expansion, nesting).

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "lib/api/codec.h"
#include "lib/api/error.h"

using namespace kai::api;
namespace fs = std::filesystem;

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

std::string decode_error(const std::string& text, const DecodeLimits& limits = {}) {
  return error_of([&] { decode_documents(text, "t.yaml", limits); });
}

// The value of `v:` in a one-key document.
json value_of(const std::string& yaml_value) {
  auto docs = decode_documents("v: " + yaml_value + "\n", "t.yaml");
  REQUIRE(docs.size() == 1);
  return docs[0]["v"];
}

json round_trip(const json& v) { return decode_value(to_yaml(v), "rt.yaml"); }

// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kai-codec-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

const char* const kTrickyStrings[] = {
    "10", "-10", "1.5", "1e3", "0x10", "0o17", "017", "08", "1_000", ".5", "+1", "-", "-x", "--port=80", "---",
    "...", "true", "True", "false", "yes", "no", "Yes", "on", "off", "y", "n", "Y", "N", "null", "Null", "~",
    "", " ", " x", "x ", "a: b", "a:b", "a:", ":a", "#x", "a #b", "a#b", "- x", "? x", "?x", "[a]", "{a}", "a,b",
    "a[0]", "*x", "&x", "!x", "|x", ">x", "%x", "@x", "`x", "'x'", "\"x\"", "it's", "2026-11-22T17:26:52Z",
    "2026-11-22", "1:20", "12:30:45", ".inf", "-.inf", ".nan", "<<", "=", "\u00e9t\u00e9", "\u65e5\u672c",
    "emoji \U0001F600", "line1\nline2", "line1\nline2\n", "trail\n\n", "\n", "\n\nx", " lead\nx", "x\n y",
    "tab\tin", "\ttab", "cr\rlf", "nul\x01", "back\\slash", "quote\"d",
    "\u2028sep", "bom\ufeff", "a\n\n\nb", "  \n", "x\n  \ny", "x \ny", "del\x7f", "c1\u0085", "1 2", "0", "-0",
    "1e", "0b101", "0x", "+.5", "1.", "v1", "NaN", "Infinity",
};

}  // namespace

TEST_CASE("codec decodes a manifest and keeps unknown fields") {
  const std::string yaml = R"(apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata:
  name: demo
  labels:
    app: train
spec:
  minAvailable: 2
  schedulerName: volcano
  someFutureField:
    nested: [1, two, {three: 3}]
  tasks:
  - name: worker
    replicas: 2
    template:
      spec:
        containers:
        - name: c
          image: busybox
          resources:
            requests: {cpu: "1", memory: 1Gi}
)";
  auto docs = decode_documents(yaml, "job.yaml");
  REQUIRE(docs.size() == 1);
  const json& job = docs[0];
  CHECK(job["kind"] == "Job");
  CHECK(job["spec"]["minAvailable"] == 2);
  CHECK(job["spec"]["someFutureField"]["nested"] == json::parse(R"([1, "two", {"three": 3}])"));
  CHECK(job["spec"]["tasks"][0]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "1");
  CHECK(round_trip(job) == job);
  CHECK(decode_documents(to_json(job), "job.json").at(0) == job);
}

TEST_CASE("codec writes YAML the way kubectl does") {
  json pod = json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "x", "labels": {"app": "web"}, "annotations": {}},
    "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "echo hi"],
                             "ports": [{"containerPort": 80}], "env": [{"name": "A", "value": "10"}]}],
             "nodeSelector": {}, "tolerations": [], "matrix": [[1, 2], []]},
    "status": {}})");
  CHECK(to_yaml(pod) == R"(apiVersion: v1
kind: Pod
metadata:
  annotations: {}
  labels:
    app: web
  name: x
spec:
  containers:
  - command:
    - sh
    - -c
    - echo hi
    env:
    - name: A
      value: "10"
    image: busybox
    name: c
    ports:
    - containerPort: 80
  matrix:
  - - 1
    - 2
  - []
  nodeSelector: {}
  tolerations: []
status: {}
)");
  SECTION("scalars") {
    CHECK(to_yaml(json::parse(R"({"a": null, "b": true, "c": 1.5, "d": -3, "e": "", "f": "yes", "g": "2026-11-22T17:26:52Z"})")) ==
          "a: null\nb: true\nc: 1.5\nd: -3\ne: \"\"\nf: \"yes\"\ng: \"2026-11-22T17:26:52Z\"\n");
  }
  SECTION("multi-line strings use literal blocks") {
    CHECK(to_yaml(json{{"script", "echo a\necho b\n"}}) == "script: |\n  echo a\n  echo b\n");
    CHECK(to_yaml(json{{"script", "echo a\necho b"}}) == "script: |-\n  echo a\n  echo b\n");
    CHECK(to_yaml(json{{"s", {"x\ny"}}}) == "s:\n- |-\n  x\n  y\n");
    CHECK(to_yaml(json{{"s", "cr\r\nlf"}}) == "s: \"cr\\r\\nlf\"\n");
  }
  SECTION("top level values") {
    CHECK(to_yaml(json::object()) == "{}\n");
    CHECK(to_yaml(json::array()) == "[]\n");
    CHECK(to_yaml(json("x")) == "x\n");
    CHECK(to_yaml(json(7)) == "7\n");
    CHECK(to_yaml(json::array({1, "a"})) == "- 1\n- a\n");
  }
}

TEST_CASE("codec decode_value reads one document of any shape") {
  CHECK(decode_value("", "v.yaml").is_null());
  CHECK(decode_value("- 1\n- x\n", "v.yaml") == json::array({1, "x"}));
  CHECK(decode_value("\"s\"", "v.yaml") == "s");
  CHECK(error_of([] { decode_value("a: 1\n---\nb: 2\n", "v.yaml"); }) == "v.yaml: expected one document, found 2");
}

TEST_CASE("codec writes JSON the way kubectl does") {
  CHECK(to_json(json{{"a", {1, 2}}, {"b", json::object()}}) == "{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": {}\n}\n");
}

TEST_CASE("codec round trip keeps every value") {
  SECTION("tricky strings as values, keys and sequence items") {
    for (const std::string s : kTrickyStrings) {
      INFO("string: " << json(s).dump());
      json doc = {{"v", s}, {s, "key"}, {"list", {s, {{"k", s}}}}, {"nested", {{"deep", {{"v", s}}}}}};
      std::string yaml = to_yaml(doc);
      INFO("yaml:\n" << yaml);
      CHECK(round_trip(doc) == doc);
      CHECK(round_trip(json::array({s})) == json::array({s}));
      CHECK(round_trip(json(s)) == json(s));
    }
    std::string nul("zero\0byte", 9);
    CHECK(to_yaml(json{{"v", nul}}) == "v: \"zero\\0byte\"\n");
    CHECK(round_trip(json{{"v", nul}}) == json{{"v", nul}});
  }
  SECTION("random strings") {
    const char* pieces[] = {"a", " ", ":", "#", "-", "\n", "\t", "'", "\"", "\\", "{", "}", "[", "]", ",", "0", "1",
                            ".", "e", "x", "\u00e9", "\u65e5", "\r", "\x01", "?", "!", "&", "*", "|", ">", "%",
                            "@", "`", "~", "y", "true", "null", "0x", "_", "+", "\u2028", "  ", "\n\n", "---"};
    std::mt19937 rng(12345);
    for (int i = 0; i < 3000; ++i) {
      std::string s;
      int len = static_cast<int>(rng() % 8);
      for (int j = 0; j < len; ++j) s += pieces[rng() % std::size(pieces)];
      INFO("string: " << json(s).dump() << "\nyaml:\n" << to_yaml(json{{"v", s}, {s, 1}}));
      json doc = {{"v", s}, {s, 1}, {"l", {s}}};
      REQUIRE(round_trip(doc) == doc);
    }
  }
  SECTION("numbers") {
    json nums = {0, -1, 42, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                 std::numeric_limits<uint64_t>::max(), 1.5, -0.25, 1e300, 5e-324, 0.1, 1e21, 123456.789};
    CHECK(round_trip(nums) == nums);
    CHECK(round_trip(json{{"x", nums}}) == json{{"x", nums}});
  }
  SECTION("keys longer than YAML's 1024-character implicit key limit") {
    std::string k(2000, 'k');
    json v = {{k, "x"}, {k + " #: q", {{"a", 1}}}, {k + "s", {1, {{"b", "two\nlines"}}}}, {"short", k}};
    CHECK(round_trip(v) == v);
    CHECK(round_trip(json::array({v})) == json::array({v}));
  }
    SECTION("nesting and empties") {
    json v = json::parse(R"({"a": [[], {}, [[1]], [{"b": [{}]}]], "": {"": ""}, "e": {"f": null}})");
    CHECK(round_trip(v) == v);
  }
}

TEST_CASE("codec types plain scalars like kubectl") {
  struct Row {
    const char* yaml;
    json expected;
  };
  const Row rows[] = {
      {"10", 10},
      {"-10", -10},
      {"+10", 10},
      {"0x1F", 31},
      {"0o17", 15},
      {"017", 15},
      {"0b101", 5},
      {"1_000", 1000},
      {"18446744073709551615", std::numeric_limits<uint64_t>::max()},
      {"1.5", 1.5},
      {".5", 0.5},
      {"1e3", 1000},
      {"1.0", 1},
      {"08", 8},
      {"1e400", "1e400"},
      {"true", true},
      {"True", true},
      {"TRUE", true},
      {"false", false},
      {"yes", true},
      {"No", false},
      {"on", true},
      {"OFF", false},
      {"y", true},
      {"n", false},
      {"tRUE", "tRUE"},
      {"null", nullptr},
      {"Null", nullptr},
      {"~", nullptr},
      {"", nullptr},
      {"\"10\"", "10"},
      {"'true'", "true"},
      {"\"\"", ""},
      {"!!str 10", "10"},
      {"!!int \"10\"", 10},
      {"!!float 1", 1},
      {"!!bool yes", true},
      {"!custom 10", "10"},
      {"|\n  10\n", "10\n"},
      {"2026-11-22T17:26:52Z", "2026-11-22T17:26:52Z"},
      {"1:20", "1:20"},
      {"0x", "0x"},
      {"1.2.3", "1.2.3"},
      {"hello world", "hello world"},
      {"\"\\u00e9\\t\"", "\u00e9\t"},
      {"[1, a, \"b\"]", json::array({1, "a", "b"})},
      {"{a: 1}", json{{"a", 1}}},
  };
  for (const auto& r : rows) {
    SECTION(r.yaml) {
      json v = value_of(r.yaml);
      CHECK(v == r.expected);
      CHECK(v.type() == r.expected.type());
    }
  }
  SECTION("map keys are the key's text") {
    auto doc = decode_documents("yes: 1\n10: 2\nnull_: 3\n\"q\": 4\n1.0: 5\n", "t.yaml").at(0);
    CHECK(doc == json{{"yes", 1}, {"10", 2}, {"null_", 3}, {"q", 4}, {"1.0", 5}});
  }
  SECTION("anchors, aliases and merge keys") {
    auto doc = decode_documents(R"(base: &base {cpu: "1", memory: 1Gi}
a: *base
b:
  <<: *base
  cpu: "2"
c:
  <<: [{x: 1}, {x: 2, y: 2}]
)", "t.yaml").at(0);
    CHECK(doc["a"] == json{{"cpu", "1"}, {"memory", "1Gi"}});
    CHECK(doc["b"] == json{{"cpu", "2"}, {"memory", "1Gi"}});
    CHECK(doc["c"] == json{{"x", 1}, {"y", 2}});
  }
}

TEST_CASE("codec reads several documents and expands lists") {
  const std::string yaml = R"(# leading comment
---
apiVersion: v1
kind: Pod
metadata: {name: a}
---
---
null
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: b}}
- apiVersion: v1
  kind: PodList
  items:
  - {apiVersion: v1, kind: Pod, metadata: {name: c}}
- {apiVersion: v1, kind: Pod, metadata: {name: d}}
...
---
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "e"}}
---
kind: EmptyList
items: []
)";
  auto docs = decode_documents(yaml, "all.yaml");
  REQUIRE(docs.size() == 5);
  std::string names;
  for (const auto& d : docs) names += d["metadata"]["name"].get<std::string>();
  CHECK(names == "abcde");
  SECTION("nothing but comments and separators") {
    CHECK(decode_documents("# only a comment\n", "c.yaml").empty());
    CHECK(decode_documents("---\n---\n", "c.yaml").empty());
    CHECK(decode_documents("", "c.yaml").empty());
  }
  SECTION("a kind ending in List without items is an object") {
    auto d = decode_documents("kind: ConfigList\ndata: 1\n", "c.yaml");
    REQUIRE(d.size() == 1);
    CHECK(d[0]["data"] == 1);
  }
}

TEST_CASE("codec reads JSON streams like kubectl") {
  SECTION("surrogate pairs, tabs and escapes") {
    auto docs = decode_documents("{\n\t\"kind\": \"Pod\",\n\t\"e\": \"\\ud83d\\ude00\\/\",\n\t\"n\": [1, 1.5, -2]\n}\n", "p.json");
    REQUIRE(docs.size() == 1);
    CHECK(docs[0]["e"] == "\U0001F600/");
    CHECK(docs[0]["n"] == json::parse("[1, 1.5, -2]"));
  }
  SECTION("concatenated objects and a List") {
    auto docs = decode_documents(
        R"({"kind": "Pod", "metadata": {"name": "a"}} {"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "b}"}}]}
{"kind": "Pod", "metadata": {"name": "c"}})",
        "p.json");
    REQUIRE(docs.size() == 3);
    CHECK(docs[1]["metadata"]["name"] == "b}");
    CHECK(docs[2]["metadata"]["name"] == "c");
  }
  SECTION("a repeated key keeps the last value") {
    CHECK(decode_documents(R"({"a": 1, "a": 2})", "p.json").at(0) == json{{"a", 2}});
  }
  SECTION("errors") {
    CHECK(decode_error("{\"a\": 1,\n \"b\": x}") ==
          "t.yaml: line 2, column 7: syntax error while parsing value - invalid literal; last read: '\"b\": x'");
    CHECK(decode_error("{\"a\": 1} [1]") ==
          "t.yaml: document 2: expected a Kubernetes object (a map with apiVersion and kind), got a sequence");
    CHECK(decode_error("{\"a\": \"\xff\"}").starts_with("t.yaml: line 1, column 8: syntax error while parsing value - invalid string: ill-formed UTF-8 byte"));
  }
}

TEST_CASE("codec errors name the source, line and column") {
  SECTION("yaml-cpp syntax errors") {
    CHECK(decode_error("a: b: c\n") == "t.yaml: line 1, column 5: illegal map value");
    CHECK(decode_error("a: [1,\n") == "t.yaml: line 2, column 1: end of sequence flow not found");
    CHECK(decode_error("a: \"\\q\"\n") == "t.yaml: line 1, column 7: unknown escape character: q");
    CHECK(decode_error("a: *nope\n") == "t.yaml: line 1, column 4: the referenced anchor is not defined");
  }
  SECTION("documents that are not objects") {
    CHECK(decode_error("kind: Pod\n---\n- a\n- b\n") ==
          "t.yaml: document 2: expected a Kubernetes object (a map with apiVersion and kind), got a sequence");
    CHECK(decode_error("just text\n") ==
          "t.yaml: document 1: expected a Kubernetes object (a map with apiVersion and kind), got a string");
    CHECK(decode_error("42\n") ==
          "t.yaml: document 1: expected a Kubernetes object (a map with apiVersion and kind), got a number");
    CHECK(decode_error("kind: List\nitems: [1]\n") ==
          "t.yaml: document 1: items[0]: expected a Kubernetes object (a map with apiVersion and kind), got a "
          "number");
    CHECK(decode_error("kind: List\nitems: x\n") == "t.yaml: document 1: items: expected a sequence, got a string");
  }
  SECTION("typing errors") {
    CHECK(decode_error("a: .inf\n") == "t.yaml: line 1, column 4: cannot represent .inf in JSON");
    CHECK(decode_error("a: -.Inf\n") == "t.yaml: line 1, column 4: cannot represent -.Inf in JSON");
    CHECK(decode_error("a: .nan\n") == "t.yaml: line 1, column 4: cannot represent .nan in JSON");
    CHECK(decode_error("a: !!int abc\n") == "t.yaml: line 1, column 4: cannot decode !!str `abc` as a !!int");
    CHECK(decode_error("a: 1\nb: 2\na: 3\n") ==
          "t.yaml: line 3, column 1: mapping key \"a\" already defined at line 1");
    CHECK(decode_error("? [a]\n: 1\n") == "t.yaml: line 1, column 3: a map key must be a string, got a sequence");
    CHECK(decode_error("~: 1\n") == "t.yaml: line 1, column 1: a map key must be a string, got null");
    CHECK(decode_error("a: &x [1, *x]\n") == "t.yaml: line 1, column 11: anchor \"x\" value contains itself");
    CHECK(decode_error("a:\n  <<: 1\n") ==
          "t.yaml: line 2, column 7: map merge requires map or sequence of maps as the value");
    CHECK(decode_error("a: \"\xff\"\n") == "t.yaml: line 1, column 4: invalid UTF-8 in a scalar");
  }
}

TEST_CASE("codec refuses input larger than the limit before parsing") {
  std::string big(50u << 20, '#');
  auto start = std::chrono::steady_clock::now();
  CHECK(decode_error(big) == "t.yaml: input is 52428800 bytes, larger than the limit of 16777216 bytes");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  DecodeLimits small;
  small.max_bytes = 10;
  CHECK(decode_error("a: 12345678\n", small) == "t.yaml: input is 12 bytes, larger than the limit of 10 bytes");
}

TEST_CASE("codec refuses billion laughs quickly with bounded memory") {
  SECTION("9 levels of 10 aliases") {
    std::string yaml = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
    std::string prev = "a";
    for (char c = 'b'; c <= 'i'; ++c) {
      yaml += std::string(1, c) + ": &" + c + " [";
      for (int i = 0; i < 10; ++i) yaml += (i ? ",*" : "*") + prev;
      yaml += "]\n";
      prev = std::string(1, c);
    }
    long rss_before = peak_rss_kib();
    auto start = std::chrono::steady_clock::now();
    CHECK(decode_error(yaml) == "t.yaml: document expands to more than 2000000 values (YAML aliases?)");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    CHECK(peak_rss_kib() - rss_before < 1024 * 1024);  // well under 1 GiB for the whole attempt
  }

  SECTION("a long string repeated by aliases") {
    std::string s = "s: &s \"" + std::string(1 << 20, 'x') + "\"\nl: [";
    for (int i = 0; i < 100; ++i) s += (i ? ",*s" : "*s");
    s += "]\n";
    CHECK(decode_error(s) == "t.yaml: document expands to more than 67108864 bytes of text (YAML aliases?)");
  }
  SECTION("a smaller limit") {
    DecodeLimits limits;
    limits.max_nodes = 100;
    CHECK(decode_error("a: &a [1,2,3,4,5,6,7,8,9,10]\nb: [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n", limits) ==
          "t.yaml: document expands to more than 100 values (YAML aliases?)");
  }
}

TEST_CASE("codec refuses 10000-deep nesting without crashing") {
  const int n = 10000;
  SECTION("flow sequences") {
    std::string yaml = std::string(n, '[') + std::string(n, ']');
    CHECK(decode_error(yaml) == "t.yaml: line 1, column 257: nesting is deeper than 256 levels");
  }
  SECTION("flow maps") {
    std::string yaml = "a: ";
    for (int i = 0; i < n; ++i) yaml += "{a: ";
    yaml += "1" + std::string(n, '}');
    CHECK(decode_error(yaml).starts_with("t.yaml: line 1, column "));
    CHECK(decode_error(yaml).ends_with(": nesting is deeper than 256 levels"));
  }
  SECTION("JSON objects and arrays") {
    std::string text;
    for (int i = 0; i < n; ++i) text += "{\"a\":";
    text += "1" + std::string(n, '}');
    CHECK(decode_error(text) == "t.yaml: nesting is deeper than 256 levels");
    text = "{\"a\":" + std::string(n, '[') + std::string(n, ']') + "}";
    CHECK(decode_error(text) == "t.yaml: nesting is deeper than 256 levels");
    DecodeLimits limits;
    limits.max_depth = 100000;  // nlohmann's parser is iterative: no crash either way
    CHECK(decode_documents(text, "t.json", limits).size() == 1);
  }
  SECTION("block sequences") {
    std::string yaml;
    for (int i = 0; i < n; ++i) yaml += "- ";
    yaml += "x\n";
    CHECK(decode_error(yaml).ends_with(": nesting is deeper than 256 levels"));
  }
  SECTION("block maps") {
    std::string yaml;
    for (int i = 0; i < 600; ++i) yaml += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
    CHECK(decode_error(yaml) == "t.yaml: line 257, column 257: nesting is deeper than 256 levels");
  }
  SECTION("yaml-cpp's own guard when the limit is raised") {
    DecodeLimits limits;
    limits.max_depth = 100000;
    std::string flow = std::string(n, '[') + std::string(n, ']');
    CHECK(decode_error(flow, limits).ends_with("nesting is deeper than the YAML parser allows (499 levels)"));
    std::string block;
    for (int i = 0; i < n; ++i) block += "- ";
    CHECK(decode_error(block + "x\n", limits).ends_with("nesting is deeper than the YAML parser allows (499 levels)"));
  }
  SECTION("deep but allowed") {
    std::string yaml = "a: " + std::string(200, '[') + std::string(200, ']') + "\n";
    auto docs = decode_documents(yaml, "t.yaml");
    CHECK(docs.size() == 1);
    CHECK(round_trip(docs[0]) == docs[0]);
  }
}

TEST_CASE("codec decode_file") {
  TempDir dir;
  SECTION("a file") {
    auto p = dir.write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n");
    auto docs = decode_file(p);
    REQUIRE(docs.size() == 1);
    CHECK(docs[0]["metadata"]["name"] == "x");
  }
  SECTION("errors") {
    std::string missing = (dir.path / "missing.yaml").string();
    CHECK(error_of([&] { decode_file(missing); }) == missing + ": no such file or directory");
    CHECK(error_of([&] { decode_file(dir.path.string()); }) == dir.path.string() + ": is a directory");
    auto empty = dir.write("empty.yaml", "");
    CHECK(error_of([&] { decode_file(empty); }) == empty + ": no objects found");
    auto comments = dir.write("c.yaml", "# nothing\n---\n# here\n");
    CHECK(error_of([&] { decode_file(comments); }) == comments + ": no objects found");
    auto bad = dir.write("bad.yaml", "a: 1\n b: 2\n");
    CHECK(error_of([&] { decode_file(bad); }).starts_with(bad + ": line 2, column "));
  }
  SECTION("a 50 MB file is refused from its size, without reading it") {
    std::string big = (dir.path / "big.yaml").string();
    { std::ofstream(big) << "a: 1\n"; }
    fs::resize_file(big, 50u << 20);  // sparse: reading it would show as time, not disk
    auto start = std::chrono::steady_clock::now();
    CHECK(error_of([&] { decode_file(big); }) == big + ": input is 52428800 bytes, larger than the limit of 16777216 bytes");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(200));
  }
  SECTION("stdin") {
    auto feed = [&](const std::string& text, const DecodeLimits& limits) {
      auto p = dir.write("stdin.yaml", text);
      int saved = ::dup(0);
      std::FILE* f = std::fopen(p.c_str(), "rb");
      ::dup2(::fileno(f), 0);
      std::fclose(f);
      std::clearerr(stdin);
      std::string result;
      try {
        result = decode_file("-", limits).at(0).dump();
      } catch (const kai::Error& e) {
        result = e.what();
      }
      ::dup2(saved, 0);
      ::close(saved);
      std::clearerr(stdin);
      return result;
    };
    CHECK(feed("kind: Pod\n", {}) == R"({"kind":"Pod"})");
    DecodeLimits small;
    small.max_bytes = 8;
    CHECK(feed("kind: Pod\n", small) == "<stdin>: input is larger than the limit of 8 bytes");
    CHECK(feed("", {}) == "<stdin>: no objects found");
  }
}
