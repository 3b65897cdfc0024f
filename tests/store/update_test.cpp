#include <catch2/catch.hpp>

#include "lib/api/error.h"
#include "store/store_testing.h"

using kai::ErrorKind;
using kai::store::json;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;

TEST_CASE("an update with a stale resourceVersion is refused with Conflict") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json first = store->create(api::jobs(), job("default", "x"));
  json second = first;
  first["status"] = {{"state", "Running"}};
  store->update(api::jobs(), first);
  second["status"] = {{"state", "Failed"}};
  try {
    store->update(api::jobs(), second);
    FAIL("a stale update was accepted");
  } catch (const kai::Error& e) {
    CHECK(e.kind() == ErrorKind::Conflict);
    CHECK(std::string(e.what()) ==
          "Operation cannot be fulfilled on jobs.batch.volcano.sh \"x\": the object has been modified; please "
          "apply your changes to the latest version and try again");
  }
  CHECK(store->get(api::jobs(), "default", "x")["status"]["state"] == "Running");

  SECTION("core resources name the plain plural") {
    json p = store->create(api::pods(), pod("default", "p"));
    p["metadata"]["resourceVersion"] = "1";
    CHECK_THROWS_WITH(store->update(api::pods(), p),
                      Catch::StartsWith("Operation cannot be fulfilled on pods \"p\": the object has been modified"));
  }
}

TEST_CASE("an update without resourceVersion overwrites unconditionally") {
  TempDir dir;
  auto store = Store::open(dir.home());
  store->create(api::jobs(), job("default", "x"));
  json blind = job("default", "x");
  blind["status"] = {{"state", "Running"}};
  json out = store->update(api::jobs(), blind);
  CHECK(out["metadata"]["resourceVersion"] == "2");
  CHECK(store->get(api::jobs(), "default", "x")["status"]["state"] == "Running");
}

TEST_CASE("update keeps uid and creationTimestamp and bumps resourceVersion") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json created = store->create(api::jobs(), job("default", "x"));
  json changed = created;
  changed["metadata"]["uid"] = "forged";
  changed["metadata"]["creationTimestamp"] = "1999-01-01T00:00:00Z";
  changed["metadata"]["labels"]["new"] = "label";
  json out = store->update(api::jobs(), changed);
  CHECK(out["metadata"]["uid"] == created["metadata"]["uid"]);
  CHECK(out["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]);
  CHECK(out["metadata"]["resourceVersion"] == "2");
  CHECK(out["metadata"]["labels"]["new"] == "label");
  CHECK(store->get(api::jobs(), "default", "x") == out);
}

TEST_CASE("generation changes only when spec changes") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json j = store->create(api::jobs(), job("default", "x"));
  REQUIRE(j["metadata"]["generation"] == 1);

  j["status"] = {{"state", "Running"}};
  j["metadata"]["labels"]["a"] = "b";
  j = store->update(api::jobs(), j);
  CHECK(j["metadata"]["generation"] == 1);

  j["spec"]["minAvailable"] = 2;
  j = store->update(api::jobs(), j);
  CHECK(j["metadata"]["generation"] == 2);

  j["spec"]["tasks"][0]["replicas"] = 3;
  j["status"]["state"] = "Pending";
  j = store->update(api::jobs(), j);
  CHECK(j["metadata"]["generation"] == 3);

  j.erase("spec");
  j = store->update(api::jobs(), j);
  CHECK(j["metadata"]["generation"] == 4);

  // A generation the caller sends is not trusted.
  j["metadata"]["generation"] = 40;
  j["status"]["state"] = "Running";
  j = store->update(api::jobs(), j);
  CHECK(j["metadata"]["generation"] == 4);
}

TEST_CASE("an update that changes nothing writes nothing") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json j = store->create(api::jobs(), job("default", "x"));
  json same = store->update(api::jobs(), j);
  CHECK(same == j);
  CHECK(store->current_resource_version() == 1);
  CHECK(store->changes_since(1).empty());
}
