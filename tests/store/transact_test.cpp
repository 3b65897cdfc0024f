#include <catch2/catch.hpp>

#include <stdexcept>

#include "lib/api/error.h"
#include "store/store_testing.h"

using kai::store::json;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;

TEST_CASE("transact commits everything fn did at once") {
  TempDir dir;
  auto store = Store::open(dir.home());
  auto other = Store::open(dir.home());
  store->transact([&] {
    store->create(api::pods(), pod("default", "a"));
    store->transact([&] { store->create(api::pods(), pod("default", "b")); });
    // Reads inside the transaction see its writes; other connections do not, yet.
    CHECK(store->list(api::pods()).size() == 2);
    CHECK(other->list(api::pods()).empty());
  });
  CHECK(other->list(api::pods()).size() == 2);
}

TEST_CASE("transact rolls back and rethrows when fn throws") {
  TempDir dir;
  auto store = Store::open(dir.home());
  store->create(api::pods(), pod("default", "keep"));
  CHECK_THROWS_WITH(store->transact([&] {
    store->create(api::pods(), pod("default", "a"));
    store->transact([&] { store->create(api::pods(), pod("default", "b")); });
    throw std::runtime_error("boom");
  }),
                    "boom");
  CHECK(store->list(api::pods()).size() == 1);
  CHECK(store->current_resource_version() == 1);
  // The store is usable afterwards.
  store->create(api::pods(), pod("default", "a"));
  CHECK(store->list(api::pods()).size() == 2);
}

TEST_CASE("a failed call inside transact leaves the rest of the transaction intact") {
  TempDir dir;
  auto store = Store::open(dir.home());
  store->create(api::pods(), pod("default", "taken"));
  store->transact([&] {
    store->create(api::pods(), pod("default", "a"));
    CHECK_THROWS_AS(store->create(api::pods(), pod("default", "taken")), kai::Error);
    CHECK_THROWS_AS(store->transact([&] {
      store->create(api::pods(), pod("default", "inner"));
      throw std::runtime_error("inner fails");
    }),
                    std::runtime_error);
    store->create(api::pods(), pod("default", "b"));
  });
  auto pods = store->list(api::pods());
  REQUIRE(pods.size() == 3);
  CHECK(pods[0]["metadata"]["name"] == "a");
  CHECK(pods[1]["metadata"]["name"] == "b");
  CHECK(pods[2]["metadata"]["name"] == "taken");
  // Versions are dense: the failed calls used none that survived.
  CHECK(store->current_resource_version() == 3);
  CHECK(store->changes_since(0).size() == 3);
}
