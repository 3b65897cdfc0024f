#include <catch2/catch.hpp>

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
