#include <catch2/catch.hpp>

#include "store/store_testing.h"

using kai::store::json;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;

TEST_CASE("remove cascades through ownerReferences") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json j = store->create(api::jobs(), job("default", "train"));
  json pg = store->create(api::podgroups(), owned_by(object("default", "train-pg"), j, "Job"));
  json p0 = store->create(api::pods(), owned_by(pod("default", "train-worker-0"), pg, "PodGroup"));
  json p1 = store->create(api::pods(), owned_by(pod("default", "train-worker-1"), j, "Job"));
  // Unrelated: another job with its pod, and a pod with a dangling owner.
  json other = store->create(api::jobs(), job("default", "other"));
  store->create(api::pods(), owned_by(pod("default", "other-worker-0"), other, "Job"));
  json orphan = pod("default", "orphan");
  orphan["metadata"]["ownerReferences"] = json::array({{{"uid", "no-such-uid"}, {"kind", "Job"}, {"name", "gone"}}});
  store->create(api::pods(), orphan);
  int64_t before = store->current_resource_version();

  json removed = store->remove(api::jobs(), "default", "train");
  CHECK(removed["metadata"]["uid"] == j["metadata"]["uid"]);

  CHECK_FALSE(store->find(api::jobs(), "default", "train"));
  CHECK_FALSE(store->find(api::podgroups(), "default", "train-pg"));
  CHECK_FALSE(store->find(api::pods(), "default", "train-worker-0"));
  CHECK_FALSE(store->find(api::pods(), "default", "train-worker-1"));
  CHECK(store->find(api::jobs(), "default", "other"));
  CHECK(store->find(api::pods(), "default", "other-worker-0"));
  CHECK(store->find(api::pods(), "default", "orphan"));

  // One DELETED entry per object, dependents before owners, the job last.
  auto changes = store->changes_since(before);
  REQUIRE(changes.size() == 4);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    CHECK(changes[i].type == "DELETED");
    CHECK(changes[i].resource_version == before + 1 + static_cast<int64_t>(i));
    CHECK(changes[i].object["metadata"]["resourceVersion"] == std::to_string(changes[i].resource_version));
  }
  CHECK(changes[0].object["metadata"]["name"] == "train-worker-0");
  CHECK(changes[0].resource == "core/pods");
  CHECK(changes[3].object["metadata"]["name"] == "train");
  CHECK(changes[3].resource == "batch.volcano.sh/jobs");
}

TEST_CASE("an update that drops an ownerReference ends the cascade there") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json j = store->create(api::jobs(), job("default", "train"));
  json p = store->create(api::pods(), owned_by(pod("default", "p"), j, "Job"));
  p["metadata"].erase("ownerReferences");
  store->update(api::pods(), p);
  store->remove(api::jobs(), "default", "train");
  CHECK(store->find(api::pods(), "default", "p"));
}

TEST_CASE("remove survives ownerReference cycles") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json a = store->create(api::pods(), pod("default", "a"));
  json b = store->create(api::pods(), owned_by(pod("default", "b"), a, "Pod"));
  a = owned_by(a, b, "Pod");
  store->update(api::pods(), a);
  store->remove(api::pods(), "default", "b");
  CHECK(store->list(api::pods()).empty());
}
