// The reconcile's working set: in-memory changes with the store's semantics, written once.

#include <catch2/catch.hpp>

#include "lib/api/error.h"
#include "minicluster/working_set.h"
#include "store_testing.h"

using kai::Error;
using kai::ErrorKind;
using kai::minicluster::WorkingSet;
using kai::store::Store;
using kai::store::json;
using namespace kai::store::testing;

namespace {

json owned_pod(const std::string& name, const json& owner) {
  json p = pod("default", name);
  p["metadata"]["ownerReferences"] = json::array(
      {{{"apiVersion", "batch.volcano.sh/v1alpha1"}, {"kind", "Job"}, {"name", owner["metadata"]["name"]}, {"uid", owner["metadata"]["uid"]}}});
  return p;
}

}  // namespace

TEST_CASE("a pod made, changed and changed again in one working set is one row in the store", "[working_set]") {
  TempDir dir;
  auto s = Store::open(dir.home());
  const int64_t rv0 = s->current_resource_version();
  std::string uid;
  s->transact([&] {
    WorkingSet ws(*s);
    json p = ws.create(kai::api::pods(), pod("default", "p1"));
    uid = p["metadata"]["uid"];
    CHECK(uid.size() == 36);
    p["spec"]["nodeName"] = "node-1";
    p = ws.update(kai::api::pods(), p);
    p["status"]["phase"] = "Running";
    ws.update(kai::api::pods(), p);
    CHECK(ws.mutations() == 3);
    CHECK(s->current_resource_version() == rv0);  // nothing written yet
    CHECK(ws.flush() == 1);
  });
  auto changes = s->changes_since(rv0);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].type == "ADDED");
  const json stored = s->get(kai::api::pods(), "default", "p1");
  CHECK(stored["metadata"]["uid"] == uid);
  CHECK(stored["spec"]["nodeName"] == "node-1");
  CHECK(stored["status"]["phase"] == "Running");
  CHECK(stored["metadata"]["resourceVersion"] == std::to_string(rv0 + 1));
}

TEST_CASE("working set: an update that changes nothing is not a change", "[working_set]") {
  TempDir dir;
  auto s = Store::open(dir.home());
  json stored = s->create(kai::api::pods(), pod("default", "p1"));
  const int64_t rv = s->current_resource_version();
  s->transact([&] {
    WorkingSet ws(*s);
    json p = *ws.find(kai::api::pods(), "default", "p1");
    ws.update(kai::api::pods(), p);
    CHECK(ws.mutations() == 0);
    CHECK(ws.flush() == 0);
  });
  CHECK(s->current_resource_version() == rv);
}

TEST_CASE("working set: stale resourceVersion, taken name and missing object fail as in the store", "[working_set]") {
  TempDir dir;
  auto s = Store::open(dir.home());
  s->create(kai::api::pods(), pod("default", "p1"));
  s->transact([&] {
    WorkingSet ws(*s);
    json old = *ws.find(kai::api::pods(), "default", "p1");
    json newer = old;
    newer["metadata"]["labels"]["a"] = "b";
    ws.update(kai::api::pods(), newer);
    old["metadata"]["labels"]["c"] = "d";
    try {
      ws.update(kai::api::pods(), old);
      FAIL("stale update accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Conflict);
      CHECK(std::string(e.what()) ==
            "Operation cannot be fulfilled on pods \"p1\": the object has been modified; please apply your changes to "
            "the latest version and try again");
    }
    try {
      ws.create(kai::api::pods(), pod("default", "p1"));
      FAIL("duplicate name accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::AlreadyExists);
      CHECK(std::string(e.what()) == "pods \"p1\" already exists");
    }
    CHECK_FALSE(ws.find(kai::api::pods(), "default", "nope"));
    CHECK_THROWS_AS(ws.remove(kai::api::pods(), "default", "nope"), Error);
    ws.flush();
  });
  CHECK(s->get(kai::api::pods(), "default", "p1")["metadata"]["labels"]["a"] == "b");
}

TEST_CASE("working set: removing a job removes what it owns, stored or made here", "[working_set]") {
  TempDir dir;
  auto s = Store::open(dir.home());
  json j = s->create(kai::api::jobs(), job("default", "train"));
  s->create(kai::api::pods(), owned_pod("train-worker-0", j));
  s->create(kai::api::pods(), pod("default", "other"));
  const int64_t rv0 = s->current_resource_version();
  s->transact([&] {
    WorkingSet ws(*s);
    ws.create(kai::api::pods(), owned_pod("train-worker-1", j));
    CHECK(ws.list(kai::api::pods()).size() == 3);
    ws.remove(kai::api::jobs(), "default", "train");
    // Neither the stored pod nor the one made here is visible any more.
    auto left = ws.list(kai::api::pods());
    REQUIRE(left.size() == 1);
    CHECK(left[0]["metadata"]["name"] == "other");
    CHECK_FALSE(ws.find(kai::api::pods(), "default", "train-worker-0"));
    ws.flush();
  });
  CHECK_FALSE(s->find(kai::api::jobs(), "default", "train"));
  CHECK_FALSE(s->find(kai::api::pods(), "default", "train-worker-0"));
  CHECK_FALSE(s->find(kai::api::pods(), "default", "train-worker-1"));
  CHECK(s->find(kai::api::pods(), "default", "other"));
  // The pod made and deleted here never reached the store's change log.
  for (const auto& c : s->changes_since(rv0)) CHECK(c.object["metadata"]["name"] != "train-worker-1");
}

TEST_CASE("working set: a name deleted and made again here is a new object in the store", "[working_set]") {
  TempDir dir;
  auto s = Store::open(dir.home());
  const std::string old_uid = s->create(kai::api::pods(), pod("default", "p1"))["metadata"]["uid"];
  std::string new_uid;
  s->transact([&] {
    WorkingSet ws(*s);
    ws.remove(kai::api::pods(), "default", "p1");
    new_uid = ws.create(kai::api::pods(), pod("default", "p1"))["metadata"]["uid"];
    ws.flush();
  });
  CHECK(new_uid != old_uid);
  CHECK(s->get(kai::api::pods(), "default", "p1")["metadata"]["uid"] == new_uid);
}

TEST_CASE("working set: lists are sorted by namespace, then name, and include what was made here", "[working_set]") {
  TempDir dir;
  auto s = Store::open(dir.home());
  s->create(kai::api::pods(), pod("a", "z"));
  s->create(kai::api::pods(), pod("a-b", "a"));
  s->transact([&] {
    WorkingSet ws(*s);
    ws.create(kai::api::pods(), pod("a", "m"));
    std::vector<std::string> names;
    for (const auto& p : ws.list(kai::api::pods())) {
      names.push_back(p["metadata"]["namespace"].get<std::string>() + "/" + p["metadata"]["name"].get<std::string>());
    }
    CHECK(names == std::vector<std::string>{"a/m", "a/z", "a-b/a"});
  });
}

TEST_CASE("store: the resourceVersion counter advances once per object written in a transaction", "[working_set]") {
  TempDir dir;
  auto s = Store::open(dir.home());
  const int64_t rv0 = s->current_resource_version();
  s->transact([&] {
    for (int i = 0; i < 5; ++i) s->create(kai::api::pods(), pod("default", "p" + std::to_string(i)));
    CHECK(s->current_resource_version() == rv0 + 5);
  });
  CHECK(s->current_resource_version() == rv0 + 5);
  // A transaction that fails leaves the counter where it was.
  CHECK_THROWS(s->transact([&] {
    s->create(kai::api::pods(), pod("default", "q"));
    throw std::runtime_error("boom");
  }));
  CHECK(s->current_resource_version() == rv0 + 5);
  CHECK(s->create(kai::api::pods(), pod("default", "q"))["metadata"]["resourceVersion"] == std::to_string(rv0 + 6));
}
