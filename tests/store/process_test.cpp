#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "store/store_testing.h"

using kai::store::json;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;

TEST_CASE("processes opening a new store at the same time all succeed") {
  constexpr int kProcesses = 12;
  TempDir dir;
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < kProcesses; ++i) {
    children.push_back(
        std::make_unique<Child>(std::vector<std::string>{"create", dir.home().string(), "p" + std::to_string(i)}));
  }
  for (auto& c : children) CHECK(c->wait() == 0);
  auto store = Store::open(dir.home());
  CHECK(store->schema_version() == Store::kSchemaVersion);
  CHECK(store->list(api::pods()).size() == kProcesses);
  CHECK(store->current_resource_version() == kProcesses);
}

TEST_CASE("16 processes incrementing one object lose no update") {
  constexpr int kProcesses = 16;
  constexpr int kIncrements = 200;
  TempDir dir;
  {
    auto store = Store::open(dir.home());
    json counter = job("default", "counter");
    counter["status"] = {{"count", 0}};
    store->create(api::jobs(), counter);
  }
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < kProcesses; ++i) {
    children.push_back(std::make_unique<Child>(
        std::vector<std::string>{"increment", dir.home().string(), std::to_string(kIncrements)}));
  }
  for (auto& c : children) CHECK(c->wait() == 0);

  auto store = Store::open(dir.home());
  json counter = store->get(api::jobs(), "default", "counter");
  CHECK(counter["status"]["count"] == kProcesses * kIncrements);
  CHECK(counter["metadata"]["resourceVersion"] == std::to_string(1 + kProcesses * kIncrements));
  CHECK(store->changes_since(0).size() == 1 + kProcesses * kIncrements);
}

TEST_CASE("a writer killed with SIGKILL loses nothing it acknowledged") {
  constexpr int kRounds = 20;
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(5, 50);
  std::set<std::string> acknowledged;
  for (int round = 0; round < kRounds; ++round) {
    Child child({"create-loop", dir.home().string()});
    REQUIRE(child.read_line() == "ready");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    child.kill_hard();
    CHECK(child.wait() == 128 + SIGKILL);
    for (std::string line = child.read_line(); !line.empty(); line = child.read_line()) acknowledged.insert(line);
  }
  INFO(acknowledged.size() << " acknowledged creates");
  CHECK(acknowledged.size() > 0);

  auto store = Store::open(dir.home());
  CHECK(store->schema_version() == Store::kSchemaVersion);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(store->handle(), "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok");
  sqlite3_finalize(st);

  std::size_t missing = 0;
  for (const auto& name : acknowledged) {
    if (!store->find(api::pods(), "default", name)) ++missing;
  }
  CHECK(missing == 0);
  // At most one create per round was committed but not yet acknowledged when the kill came.
  auto pods = store->list(api::pods());
  CHECK(pods.size() >= acknowledged.size());
  CHECK(pods.size() <= acknowledged.size() + kRounds);
  CHECK(store->current_resource_version() == static_cast<int64_t>(pods.size()));
  CHECK(store->changes_since(0).size() == pods.size());
}
