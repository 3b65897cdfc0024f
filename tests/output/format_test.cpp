// -o parsing and the non-table printers: name, json, yaml, jsonpath, custom-columns.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "lib/api/error.h"
#include "lib/output/printer.h"

using namespace kai::output;
namespace api = kai::api;

namespace {

const json kJob = json::parse(R"({"apiVersion":"batch.volcano.sh/v1alpha1","kind":"Job",
  "metadata":{"name":"demo","namespace":"default","creationTimestamp":"2026-11-22T17:55:00Z",
    "managedFields":[{"manager":"kubectl-create","operation":"Update"}]},
  "spec":{"minAvailable":2,"queue":"default","tasks":[{"name":"ps","replicas":1},{"name":"worker","replicas":2,
    "template":{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"1"}}}]}}}]}})");
const json kJob2 = json::parse(R"({"apiVersion":"batch.volcano.sh/v1alpha1","kind":"Job",
  "metadata":{"name":"other","namespace":"default"},"spec":{"minAvailable":1}})");

std::string usage_error(const std::string& value) {
  try {
    OutputSpec::parse(value);
  } catch (const kai::Error& e) {
    CHECK(e.kind() == kai::ErrorKind::Usage);
    return e.what();
  }
  FAIL("no error for -o " << value);
  return "";
}

/// A temporary file removed at scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/kai-output-test-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    path = tmpl;
    std::ofstream(path) << content;
    close(fd);
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("output format -o values parse to formats") {
  CHECK(OutputSpec::parse("").format == Format::Table);
  CHECK(OutputSpec::parse("wide").format == Format::Wide);
  CHECK(OutputSpec::parse("json").format == Format::Json);
  CHECK(OutputSpec::parse("yaml").format == Format::Yaml);
  CHECK(OutputSpec::parse("name").format == Format::Name);
  auto jp = OutputSpec::parse("jsonpath={.metadata.name}");
  CHECK(jp.format == Format::JsonPath);
  CHECK(jp.arg == "{.metadata.name}");
  CHECK(OutputSpec::parse("jsonpath-as-json={.spec}").format == Format::JsonPathAsJson);
  auto cc = OutputSpec::parse("custom-columns=NAME:.metadata.name");
  CHECK(cc.format == Format::CustomColumns);
  CHECK(cc.arg == "NAME:.metadata.name");
}

TEST_CASE("output format -o errors use kubectl's text") {
  CHECK(usage_error("xml") ==
        "unable to match a printer suitable for the output format \"xml\", allowed formats are: "
        "custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,wide,yaml");
  CHECK(usage_error("JSON").starts_with("unable to match a printer suitable for the output format \"JSON\""));
  CHECK(usage_error("go-template={{.x}}").starts_with("unable to match a printer"));
  CHECK(usage_error("jsonpath") == "template format specified but no template given");
  CHECK(usage_error("jsonpath=") == "template format specified but no template given");
  CHECK(usage_error("jsonpath-file=") == "template format specified but no template given");
  CHECK(usage_error("custom-columns") == "custom-columns format specified but no custom columns given");
  CHECK(usage_error("custom-columns=") == "custom-columns format specified but no custom columns given");
  CHECK(usage_error("jsonpath={.a") == "error parsing jsonpath {.a, unclosed action");
  CHECK(usage_error("jsonpath-file=/nonexistent/t.txt") ==
        "error reading --template /nonexistent/t.txt, open /nonexistent/t.txt: no such file or directory");
  CHECK(usage_error("custom-columns-file=/nonexistent/c.txt") ==
        "error reading template /nonexistent/c.txt, open /nonexistent/c.txt: no such file or directory");
  CHECK(usage_error("jsonpath-file=/tmp") == "error reading --template /tmp, read /tmp: is a directory");
  CHECK(usage_error("custom-columns=NAME") ==
        "unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>");
  CHECK(usage_error("custom-columns=NAME:{.a}{.b}") ==
        "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'");
}

TEST_CASE("output format -o jsonpath-file and custom-columns-file read the file") {
  TempFile tmpl("{.metadata.name}{\"\\n\"}");
  auto spec = OutputSpec::parse("jsonpath-file=" + tmpl.path);
  CHECK(spec.format == Format::JsonPath);
  CHECK(print_objects(api::jobs(), {kJob, kJob2}, false, spec) == "\n");  // the List has no metadata.name
  CHECK(print_objects(api::jobs(), {kJob}, true, spec) == "demo\n");

  TempFile cols("NAME      MIN\n.metadata.name   {.spec.minAvailable}\n");
  auto cc = OutputSpec::parse("custom-columns-file=" + cols.path);
  CHECK(cc.format == Format::CustomColumns);
  CHECK(print_objects(api::jobs(), {kJob, kJob2}, false, cc) ==
        "NAME    MIN\n"
        "demo    2\n"
        "other   1\n");

  TempFile bad("A B\n.x\n");
  CHECK(usage_error("custom-columns-file=" + bad.path) == "number of headers (2) and field specifications (1) don't match");
  TempFile empty("");
  CHECK(usage_error("custom-columns-file=" + empty.path).starts_with("invalid template, missing header line."));
}

TEST_CASE("output format -o name prints resource.group/name") {
  CHECK(print_objects(api::jobs(), {kJob, kJob2}, false, OutputSpec::parse("name")) ==
        "job.batch.volcano.sh/demo\njob.batch.volcano.sh/other\n");
  CHECK(print_objects(api::pods(), {json{{"metadata", {{"name", "p"}}}}}, true, OutputSpec::parse("name")) ==
        "pod/p\n");
  CHECK(print_objects(api::queues(), {json{{"metadata", {{"name", "default"}}}}}, true, OutputSpec::parse("name")) ==
        "queue.scheduling.volcano.sh/default\n");
}

TEST_CASE("output format -o json prints one object or a List, without managedFields") {
  json small = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "ns1"}, {"managedFields", json::array()}}}};
  CHECK(print_objects(api::namespaces(), {small}, true, OutputSpec::parse("json")) ==
        "{\n"
        "    \"apiVersion\": \"v1\",\n"
        "    \"kind\": \"Namespace\",\n"
        "    \"metadata\": {\n"
        "        \"name\": \"ns1\"\n"
        "    }\n"
        "}\n");
  auto list = json::parse(print_objects(api::namespaces(), {small, small}, false, OutputSpec::parse("json")));
  CHECK(list["apiVersion"] == "v1");
  CHECK(list["kind"] == "List");
  CHECK(list["metadata"] == json{{"resourceVersion", ""}});
  CHECK(list["items"].size() == 2);
  CHECK_FALSE(list["items"][0]["metadata"].contains("managedFields"));
  SECTION("an empty result is an empty List") {
    auto empty = json::parse(print_objects(api::jobs(), {}, false, OutputSpec::parse("json")));
    CHECK(empty["items"] == json::array());
  }
  SECTION("single with several objects still prints a List") {
    auto l = json::parse(print_objects(api::jobs(), {kJob, kJob2}, true, OutputSpec::parse("json")));
    CHECK(l["kind"] == "List");
  }
}

TEST_CASE("output format -o yaml prints one object or a List, without managedFields") {
  json small = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "ns1"}, {"managedFields", json::array()}}}};
  CHECK(print_objects(api::namespaces(), {small}, true, OutputSpec::parse("yaml")) ==
        "apiVersion: v1\n"
        "kind: Namespace\n"
        "metadata:\n"
        "  name: ns1\n");
  std::string list = print_objects(api::namespaces(), {small}, false, OutputSpec::parse("yaml"));
  CHECK(list.find("kind: List\n") != std::string::npos);
  CHECK(list.find("items:\n") != std::string::npos);
  CHECK(list.find("resourceVersion: \"\"\n") != std::string::npos);
  CHECK(list.find("managedFields") == std::string::npos);
}

TEST_CASE("output format -o jsonpath runs over the object or the List") {
  auto spec = OutputSpec::parse("jsonpath={.items[*].metadata.name}");
  CHECK(print_objects(api::jobs(), {kJob, kJob2}, false, spec) == "demo other");
  CHECK(print_objects(api::jobs(), {kJob}, true, OutputSpec::parse("jsonpath={.spec.minAvailable}")) == "2");
  CHECK(print_objects(api::jobs(), {kJob}, true, OutputSpec::parse("jsonpath={.metadata.managedFields}")) == "");
  CHECK(print_objects(api::jobs(), {kJob, kJob2}, false,
                      OutputSpec::parse(R"(jsonpath={range .items[*]}{.metadata.name}={.spec.minAvailable}{"\n"}{end})")) ==
        "demo=2\nother=1\n");
  SECTION("execution errors name the template") {
    try {
      print_objects(api::jobs(), {kJob}, true, OutputSpec::parse("jsonpath={.spec.tasks[7]}"));
      FAIL("expected an error");
    } catch (const kai::Error& e) {
      CHECK(std::string(e.what()) ==
            "error executing jsonpath \"{.spec.tasks[7]}\": array index out of bounds: index 7, length 2");
    }
  }
}

TEST_CASE("output format -o jsonpath-as-json prints JSON arrays") {
  CHECK(print_objects(api::jobs(), {kJob}, true, OutputSpec::parse("jsonpath-as-json={.spec.minAvailable}")) ==
        "[\n    2\n]\n");
  CHECK(print_objects(api::jobs(), {kJob, kJob2}, false,
                      OutputSpec::parse("jsonpath-as-json={.items[*].metadata.name}")) ==
        "[\n    \"demo\",\n    \"other\"\n]\n");
  CHECK(print_objects(api::jobs(), {kJob}, true, OutputSpec::parse("jsonpath-as-json={.nope}")) == "[]\n");
}

TEST_CASE("output format -o custom-columns prints a table with <none> for missing values") {
  auto spec = OutputSpec::parse(
      "custom-columns=NAME:.metadata.name,MIN:.spec.minAvailable,Q:{.spec.queue},TASKS:spec.tasks[*].name,"
      "LIMITS:.spec.tasks[1].template.spec.containers[0].resources.limits,BOTH:{.spec.tasks[0,1].replicas}");
  CHECK(print_objects(api::jobs(), {kJob, kJob2}, false, spec) ==
        "NAME    MIN   Q         TASKS       LIMITS       BOTH\n"
        "demo    2     default   ps,worker   map[cpu:1]   1,2\n"
        "other   1     <none>    <none>      <none>       <none>\n");
  PrintOptions o;
  o.no_headers = true;
  CHECK(print_objects(api::jobs(), {kJob}, true, OutputSpec::parse("custom-columns=N:.metadata.name"), o) ==
        "demo\n");
}
