#include <catch2/catch.hpp>

#include <regex>

#include "lib/api/error.h"
#include "store/store_testing.h"

using kai::ErrorKind;
using kai::store::json;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;

namespace {

// Runs fn, expecting a kai::Error of `kind` with exactly `message`.
template <typename Fn>
void require_error(Fn&& fn, ErrorKind kind, const std::string& message) {
  try {
    fn();
    FAIL("expected an error: " << message);
  } catch (const kai::Error& e) {
    CHECK(e.kind() == kind);
    CHECK(std::string(e.what()) == message);
  }
}

}  // namespace

TEST_CASE("create assigns uid, resourceVersion, generation and creationTimestamp") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json a = store->create(api::jobs(), job("default", "a"));
  json b = store->create(api::jobs(), job("default", "b"));
  const json& md = a["metadata"];
  CHECK(std::regex_match(md["uid"].get<std::string>(),
                         std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(md["uid"] != b["metadata"]["uid"]);
  CHECK(md["resourceVersion"] == "1");
  CHECK(b["metadata"]["resourceVersion"] == "2");
  CHECK(md["generation"] == 1);
  CHECK(std::regex_match(md["creationTimestamp"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(a["apiVersion"] == "batch.volcano.sh/v1alpha1");
  CHECK(a["kind"] == "Job");
  CHECK(store->get(api::jobs(), "default", "a") == a);
  CHECK(store->current_resource_version() == 2);
}

TEST_CASE("create keeps a creationTimestamp it is given and every unknown field") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json in = job("default", "a");
  in["metadata"]["creationTimestamp"] = "2026-11-22T17:26:52Z";
  in["metadata"]["annotations"] = {{"x/y", "z"}};
  in["spec"]["somethingNew"] = {{"nested", json::array({1, 2.5, "three", nullptr})}};
  in["extra"] = true;
  json out = store->create(api::jobs(), in);
  json got = store->get(api::jobs(), "default", "a");
  CHECK(got == out);
  CHECK(got["metadata"]["creationTimestamp"] == "2026-11-22T17:26:52Z");
  CHECK(got["metadata"]["annotations"] == in["metadata"]["annotations"]);
  CHECK(got["spec"]["somethingNew"] == in["spec"]["somethingNew"]);
  CHECK(got["extra"] == true);
}

TEST_CASE("create refuses a name that is taken") {
  TempDir dir;
  auto store = Store::open(dir.home());
  store->create(api::jobs(), job("default", "x"));
  store->create(api::pods(), pod("default", "x"));
  require_error([&] { store->create(api::jobs(), job("default", "x")); }, ErrorKind::AlreadyExists,
                "jobs.batch.volcano.sh \"x\" already exists");
  require_error([&] { store->create(api::pods(), pod("default", "x")); }, ErrorKind::AlreadyExists,
                "pods \"x\" already exists");
  // The same name in another namespace is another object; the refused creates used no version.
  store->create(api::jobs(), job("other", "x"));
  CHECK(store->current_resource_version() == 3);
}

TEST_CASE("get, update and remove of a missing object are NotFound") {
  TempDir dir;
  auto store = Store::open(dir.home());
  require_error([&] { store->get(api::jobs(), "default", "nope"); }, ErrorKind::NotFound,
                "jobs.batch.volcano.sh \"nope\" not found");
  require_error([&] { store->get(api::pods(), "default", "nope"); }, ErrorKind::NotFound, "pods \"nope\" not found");
  require_error([&] { store->update(api::pods(), pod("default", "nope")); }, ErrorKind::NotFound,
                "pods \"nope\" not found");
  require_error([&] { store->remove(api::queues(), "", "nope"); }, ErrorKind::NotFound,
                "queues.scheduling.volcano.sh \"nope\" not found");
  CHECK_FALSE(store->find(api::pods(), "default", "nope").has_value());
}

TEST_CASE("generateName appends five random characters") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json in = pod("default", "");
  in["metadata"].erase("name");
  in["metadata"]["generateName"] = "web-";
  json a = store->create(api::pods(), in);
  json b = store->create(api::pods(), in);
  std::string name = a["metadata"]["name"];
  CHECK(std::regex_match(name, std::regex("web-[a-z0-9]{5}")));
  CHECK(name != b["metadata"]["name"].get<std::string>());
  CHECK(store->get(api::pods(), "default", name) == a);

  SECTION("without name or generateName create is Invalid") {
    in["metadata"].erase("generateName");
    require_error([&] { store->create(api::pods(), in); }, ErrorKind::Invalid,
                  "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required");
  }
}

TEST_CASE("cluster-scoped objects live in no namespace") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json q = store->create(api::queues(), object("ignored", "research"));
  CHECK_FALSE(q["metadata"].contains("namespace"));
  CHECK(store->get(api::queues(), "", "research") == q);
  CHECK(store->get(api::queues(), "anything", "research") == q);
  CHECK(store->list(api::queues(), in_namespace("elsewhere")).size() == 1);
}

TEST_CASE("a namespaced object without namespace goes to default") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json p = store->create(api::pods(), pod("", "p"));
  CHECK(p["metadata"]["namespace"] == "default");
  CHECK(store->get(api::pods(), "default", "p") == p);
}

TEST_CASE("create_many stores all objects or none") {
  TempDir dir;
  auto store = Store::open(dir.home());
  std::vector<json> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(job("default", "j" + std::to_string(i)));
  auto stored = store->create_many(api::jobs(), batch);
  REQUIRE(stored.size() == 5);
  CHECK(stored[4]["metadata"]["resourceVersion"] == "5");
  CHECK(store->list(api::jobs()).size() == 5);

  SECTION("one taken name rolls the whole batch back") {
    std::vector<json> bad = {job("default", "new1"), job("default", "j3"), job("default", "new2")};
    require_error([&] { store->create_many(api::jobs(), bad); }, ErrorKind::AlreadyExists,
                  "jobs.batch.volcano.sh \"j3\" already exists");
    CHECK(store->list(api::jobs()).size() == 5);
    CHECK_FALSE(store->find(api::jobs(), "default", "new1"));
    CHECK(store->current_resource_version() == 5);
    CHECK(store->changes_since(0).size() == 5);
  }
}

TEST_CASE("remove deletes the object and returns it") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json p = store->create(api::pods(), pod("default", "p"));
  json gone = store->remove(api::pods(), "default", "p");
  CHECK(gone["metadata"]["uid"] == p["metadata"]["uid"]);
  CHECK(gone["metadata"]["resourceVersion"] == "2");
  CHECK_FALSE(store->find(api::pods(), "default", "p"));
  // The name can be used again, by a new object.
  json again = store->create(api::pods(), pod("default", "p"));
  CHECK(again["metadata"]["uid"] != p["metadata"]["uid"]);
}
