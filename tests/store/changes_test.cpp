#include <catch2/catch.hpp>

#include "lib/api/error.h"
#include "store/store_testing.h"

using kai::store::json;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;

TEST_CASE("the change log records every write in resourceVersion order") {
  TempDir dir;
  auto store = Store::open(dir.home());
  CHECK(store->current_resource_version() == 0);
  CHECK(store->changes_since(0).empty());

  json j = store->create(api::jobs(), job("default", "a"));
  store->create(api::pods(), pod("default", "p"));
  j["status"] = {{"state", "Running"}};
  store->update(api::jobs(), j);
  store->remove(api::pods(), "default", "p");
  CHECK(store->current_resource_version() == 4);

  auto all = store->changes_since(0);
  REQUIRE(all.size() == 4);
  std::vector<std::string> types;
  for (const auto& c : all) types.push_back(c.type);
  CHECK(types == std::vector<std::string>{"ADDED", "ADDED", "MODIFIED", "DELETED"});
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].resource_version == static_cast<int64_t>(i) + 1);
    CHECK(all[i].object["metadata"]["resourceVersion"] == std::to_string(i + 1));
  }
  CHECK(all[0].resource == "batch.volcano.sh/jobs");
  CHECK(all[1].resource == "core/pods");
  CHECK(all[2].object["status"]["state"] == "Running");
  CHECK(all[3].object["metadata"]["name"] == "p");

  auto later = store->changes_since(2);
  REQUIRE(later.size() == 2);
  CHECK(later[0].resource_version == 3);

  auto limited = store->changes_since(0, 3);
  REQUIRE(limited.size() == 3);
  CHECK(limited.back().resource_version == 3);
  CHECK(store->changes_since(4).empty());
}

TEST_CASE("changes made by another Store are seen") {
  TempDir dir;
  auto writer = Store::open(dir.home());
  auto reader = Store::open(dir.home());
  writer->create(api::pods(), pod("default", "p"));
  REQUIRE(reader->changes_since(0).size() == 1);
  CHECK(reader->current_resource_version() == 1);
  CHECK(reader->get(api::pods(), "default", "p")["metadata"]["resourceVersion"] == "1");
}

TEST_CASE("the change log is compacted an interval behind, and a watch from before that is told it is too old") {
  TempDir dir;
  auto store = Store::open(dir.home());
  auto gone_message = [&](int64_t since) -> std::string {
    try {
      store->changes_since(since);
    } catch (const kai::Error& e) {
      CHECK(e.kind() == kai::ErrorKind::Gone);
      return e.what();
    }
    return "(no error)";
  };
  store->create(api::pods(), pod("default", "a"));
  store->create(api::pods(), pod("default", "b"));  // rv 2
  // The first check only marks where the log stands (rv 2 at t=1000): nothing is deleted.
  CHECK_FALSE(store->compact_changes_if_due(300, 1000));
  store->create(api::pods(), pod("default", "c"));  // rv 3
  // Not an interval later: nothing happens, not even a new mark.
  CHECK_FALSE(store->compact_changes_if_due(300, 1299));
  CHECK(store->changes_since(0).size() == 3);
  // An interval later: what the log held at the mark goes (rv <= 2); the rest of it stays, and
  // the new mark is rv 3. At least one interval of history is always kept.
  CHECK(store->compact_changes_if_due(300, 1300));
  CHECK(store->compacted_resource_version() == 2);
  CHECK(gone_message(0) == "too old resource version: 0 (2)");
  CHECK(gone_message(1) == "too old resource version: 1 (2)");
  auto kept = store->changes_since(2);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].object["metadata"]["name"] == "c");
  CHECK(store->changes_since(3).empty());  // up to date: nothing new, not gone
  // The objects themselves are untouched.
  CHECK(store->list(api::pods()).size() == 3);
  // Another process's Store sees the same compaction; the next one deletes up to rv 3.
  auto other = Store::open(dir.home());
  CHECK(other->compacted_resource_version() == 2);
  store->create(api::pods(), pod("default", "d"));  // rv 4
  CHECK(other->compact_changes_if_due(300, 1600));
  CHECK(store->compacted_resource_version() == 3);
  REQUIRE(store->changes_since(3).size() == 1);
  // 0 turns it off; a clock that went back only sets a new mark.
  CHECK_FALSE(store->compact_changes_if_due(0, 99999));
  CHECK_FALSE(store->compact_changes_if_due(300, 10));
  CHECK(store->compacted_resource_version() == 3);
}
