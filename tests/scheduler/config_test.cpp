// Configuration: Volcano's default, its YAML format, and errors that name the file and field.

#include <catch2/catch.hpp>

#include "lib/api/error.h"
#include "lib/scheduler/scheduler.h"

using kai::scheduler::Config;
using kai::scheduler::parse_config;

namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "conf.yaml");
  } catch (const kai::Error& e) {
    CHECK(e.kind() == kai::ErrorKind::Invalid);
    return e.what();
  }
  return "(parsed)";
}

const char* kHelmConf = R"(
actions: "enqueue, allocate, backfill"
tiers:
- plugins:
  - name: priority
  - name: gang
    enablePreemptable: false
  - name: conformance
- plugins:
  - name: overcommit
  - name: drf
    enablePreemptable: false
  - name: predicates
  - name: proportion
  - name: nodeorder
  - name: binpack
    arguments:
      binpack.weight: 10
      binpack.resources: nvidia.com/gpu
configurations:
- name: allocate
  arguments:
    predicateErrorCacheEnable: true
)";

}  // namespace

TEST_CASE("the default configuration is Volcano's compiled-in one") {
  const Config c = kai::scheduler::default_config();
  CHECK(c.actions == std::vector<std::string>{"enqueue", "allocate", "backfill"});
  REQUIRE(c.tiers.size() == 2);
  std::vector<std::string> names;
  for (const auto& t : c.tiers) {
    for (const auto& p : t.plugins) names.push_back(p.name);
  }
  CHECK(names == std::vector<std::string>{"priority", "gang", "conformance", "overcommit", "drf", "predicates",
                                          "proportion", "nodeorder"});
}

TEST_CASE("the Helm chart's configuration parses with switches and arguments") {
  const Config c = parse_config(kHelmConf, "conf.yaml");
  CHECK(c.actions == std::vector<std::string>{"enqueue", "allocate", "backfill"});
  REQUIRE(c.tiers.size() == 2);
  CHECK_FALSE(c.tiers[0].plugins[1].enabled("enablePreemptable"));
  CHECK(c.tiers[0].plugins[1].enabled("enableJobOrder"));  // absent means true
  CHECK(c.tiers[1].plugins[5].arguments["binpack.weight"] == 10);
  CHECK(c.configurations.at("allocate")["predicateErrorCacheEnable"] == true);
  // Spaces around commas do not matter.
  CHECK(parse_config("actions: enqueue,allocate ,  backfill\n", "c").actions.size() == 3);
}

TEST_CASE("configuration errors name the file and the field") {
  SECTION("unknown action, as Volcano says it") {
    CHECK(error_of("actions: \"enqueue, alocate\"\n") ==
          "conf.yaml: actions: failed to find Action alocate; did you mean \"allocate\"?");
    CHECK(error_of("actions: \"enqueue, frobnicate\"\n") == "conf.yaml: actions: failed to find Action frobnicate");
  }
  SECTION("Volcano actions kai does not have yet") {
    CHECK(error_of("actions: \"enqueue, allocate, gangpreempt\"\n") ==
          "conf.yaml: actions: action \"gangpreempt\" is not supported yet");
    CHECK(error_of("actions: shuffle\n") == "conf.yaml: actions: action \"shuffle\" is not supported yet");
    CHECK(parse_config("actions: \"enqueue, allocate, preempt, reclaim, backfill\"\n", "c").actions.size() == 5);
  }
  SECTION("missing or mistyped actions") {
    CHECK(error_of("tiers: []\n").find("conf.yaml: actions: Required value") == 0);
    CHECK(error_of("actions: [allocate]\n") ==
          "conf.yaml: actions: expected a string such as \"enqueue, allocate, backfill\", got a sequence");
  }
  SECTION("unknown plugin, with the closest name") {
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: gang\n  - name: prioritty\n") ==
          "conf.yaml: tiers[0].plugins[1].name: unknown plugin \"prioritty\"; did you mean \"priority\"?");
  }
  SECTION("Volcano plugins kai does not have yet") {
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: deviceshare\n") ==
          "conf.yaml: tiers[0].plugins[0].name: plugin \"deviceshare\" is not supported yet");
  }
  SECTION("drf with hierarchy and proportion conflict") {
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: drf\n    enableHierarchy: true\n  - name: proportion\n") ==
          "conf.yaml: tiers[0]: proportion and drf with hierarchy enabled conflicts");
    // The order within the tier does not matter.
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: gang\n- plugins:\n  - name: proportion\n"
                   "  - name: drf\n    enableHierarchy: true\n") ==
          "conf.yaml: tiers[1]: proportion and drf with hierarchy enabled conflicts");
    // Volcano checks each tier on its own: in different tiers they do not conflict.
    CHECK_NOTHROW(parse_config("actions: allocate\ntiers:\n- plugins:\n  - name: proportion\n- plugins:\n  - name: drf\n"
                               "    enableHierarchy: true\n",
                               "conf.yaml"));
    // hDRF alone, and drf without hierarchy beside proportion, are fine.
    CHECK_NOTHROW(parse_config("actions: allocate\ntiers:\n- plugins:\n  - name: drf\n    enableHierarchy: true\n", "conf.yaml"));
    CHECK_NOTHROW(parse_config("actions: allocate\ntiers:\n- plugins:\n  - name: drf\n    enableHierarchy: false\n"
                               "  - name: proportion\n",
                               "conf.yaml"));
  }
  SECTION("capacity takes enableHierarchy and an integer ancestorReclaimLevel") {
    CHECK_NOTHROW(kai::scheduler::parse_config(
        "actions: enqueue, allocate\ntiers:\n- plugins:\n  - name: capacity\n    enableHierarchy: true\n"
        "    arguments:\n      ancestorReclaimLevel: 1\n",
        "conf.yaml"));
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: capacity\n    arguments:\n"
                   "      ancestorReclaimLevel: one\n") ==
          "conf.yaml: tiers[0].plugins[0].arguments[ancestorReclaimLevel]: expected an integer, got \"one\"");
  }
  SECTION("switches are Volcano's exact keys and booleans") {
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: gang\n    enableJobOrdr: false\n") ==
          "conf.yaml: tiers[0].plugins[0].enableJobOrdr: unknown field; did you mean \"enableJobOrder\"?");
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: proportion\n    enabledOverused: maybe\n") ==
          "conf.yaml: tiers[0].plugins[0].enabledOverused: expected true or false, got a string");
  }
  SECTION("plugin arguments of the wrong type") {
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: binpack\n    arguments:\n      binpack.weight: ten\n") ==
          "conf.yaml: tiers[0].plugins[0].arguments[binpack.weight]: expected an integer, got \"ten\"");
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: sla\n    arguments:\n      sla-waiting-time: soon\n") ==
          "conf.yaml: tiers[0].plugins[0].arguments[sla-waiting-time]: invalid duration \"soon\" (Go syntax: 30m, 1h30m, 90s)");
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: overcommit\n    arguments:\n      overcommit-factor: high\n") ==
          "conf.yaml: tiers[0].plugins[0].arguments[overcommit-factor]: expected a number, got \"high\"");
  }
  SECTION("shape errors") {
    CHECK(error_of("- a\n") ==
          "conf.yaml: expected a scheduler configuration (a map with actions and tiers), got a sequence");
    CHECK(error_of("actions: allocate\ntier: []\n") ==
          "conf.yaml: tier: unknown field; expected one of actions, tiers, configurations, metrics; did you mean \"tiers\"?");
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - name: gang\n  - name: gang\n") ==
          "conf.yaml: tiers[0].plugins[1].name: plugin \"gang\" is listed twice");
    CHECK(error_of("actions: allocate\ntiers:\n- plugins:\n  - arguments: {}\n") ==
          "conf.yaml: tiers[0].plugins[0].name: Required value");
    CHECK(error_of("actions: [").find("conf.yaml: line ") == 0);
  }
}
