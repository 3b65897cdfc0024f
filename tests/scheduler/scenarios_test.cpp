// Table-driven scheduler scenarios: each tests/scheduler/scenarios/*.yaml is one Volcano behaviour written
// from volcano.md / sim-session.md (not from kai's implementation). A file holds a description, an optional
// scheduler configuration (`conf`, absent = Volcano's default), a snapshot of Kubernetes objects and the
// expected `kai sim session -o json` result: bound, pipelined and evicted must match exactly; podGroups lists
// only the PodGroups whose phase is checked.
//
// Run one scenario: kai_scheduler_tests "scheduler scenarios" -c <file stem>

#include <catch2/catch.hpp>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/api/codec.h"
#include "lib/scheduler/scheduler.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path kScenarioDir = fs::path(KAI_SOURCE_DIR) / "tests" / "scheduler" / "scenarios";

std::vector<fs::path> scenario_files() {
  std::vector<fs::path> files;
  if (!fs::is_directory(kScenarioDir)) return files;
  for (const auto& entry : fs::directory_iterator(kScenarioDir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string pretty(const json& v) { return v.dump(2); }

// One scenario; returns the list of mismatches (empty = pass). Throws on malformed scenario files.
std::vector<std::string> run_scenario(const fs::path& file, json& got_out) {
  const std::string name = file.filename().string();
  auto docs = kai::api::decode_file(file.string());
  if (docs.size() != 1) throw std::runtime_error(name + ": expected exactly one YAML document");
  json doc = docs[0];
  if (!doc.is_object()) throw std::runtime_error(name + ": not a map");
  if (!doc.contains("snapshot") || !doc["snapshot"].is_array())
    throw std::runtime_error(name + ": `snapshot` must be a list of objects");
  if (!doc.contains("expect") || !doc["expect"].is_object()) throw std::runtime_error(name + ": `expect` missing");
  const json& expect = doc["expect"];
  for (const char* key : {"bound", "pipelined", "evicted", "podGroups"}) {
    if (!expect.contains(key)) throw std::runtime_error(name + ": expect." + key + " missing");
  }

  kai::scheduler::Config config;
  if (doc.contains("conf") && !doc["conf"].is_null()) {
    if (!doc["conf"].is_string()) throw std::runtime_error(name + ": `conf` must be a string (use `conf: |`)");
    config = kai::scheduler::parse_config(doc["conf"].get<std::string>(), name + " conf");
  } else {
    config = kai::scheduler::default_config();
  }

  std::vector<json> objects(doc["snapshot"].begin(), doc["snapshot"].end());
  kai::scheduler::Snapshot snapshot = kai::scheduler::snapshot_from_objects(objects, name);
  kai::scheduler::SessionResult result = kai::scheduler::run_session(snapshot, config);
  json got = result.to_json();
  got_out = got;

  std::vector<std::string> problems;
  for (const char* key : {"bound", "pipelined", "evicted"}) {
    json want = expect[key];
    json have = got.contains(key) ? got[key] : json();
    if (want != have) {
      problems.push_back(std::string(key) + " differs\n  expected: " + want.dump() + "\n  got:      " + have.dump());
    }
  }
  const json have_pgs = got.contains("podGroups") ? got["podGroups"] : json::object();
  for (const auto& [pg, phase] : expect["podGroups"].items()) {
    if (!have_pgs.is_object() || !have_pgs.contains(pg)) {
      problems.push_back("podGroups[" + pg + "]: expected " + phase.dump() + ", got (absent)");
    } else if (have_pgs[pg] != phase) {
      problems.push_back("podGroups[" + pg + "]: expected " + phase.dump() + ", got " + have_pgs[pg].dump());
    }
  }
  return problems;
}

}  // namespace

TEST_CASE("scheduler scenarios") {
  const auto files = scenario_files();
  for (const auto& file : files) {
    DYNAMIC_SECTION(file.stem().string()) {
      json got;
      std::vector<std::string> problems;
      std::string error;
      try {
        problems = run_scenario(file, got);
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::string description;
      try {
        auto docs = kai::api::decode_file(file.string());
        if (!docs.empty() && docs[0].contains("description")) description = docs[0]["description"].get<std::string>();
      } catch (...) {
      }
      INFO("scenario: " << file.filename().string());
      INFO("description: " << description);
      if (!error.empty()) {
        FAIL_CHECK("scenario threw: " << error);
      } else if (!problems.empty()) {
        std::string report;
        for (const auto& p : problems) report += p + "\n";
        FAIL_CHECK(report << "full result:\n" << pretty(got));
      } else {
        SUCCEED();
      }
    }
  }
}

TEST_CASE("scheduler scenarios: at least 45 files") {
  const auto files = scenario_files();
  INFO("directory: " << kScenarioDir.string());
  CHECK(files.size() >= 45);
}
