#include <catch2/catch.hpp>

#include "lib/client/resource_client.h"
#include "store/store_testing.h"

using kai::store::json;
using kai::store::ListOptions;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;

namespace {

std::vector<std::string> names(const std::vector<json>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) {
    out.push_back(o["metadata"]["namespace"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  }
  return out;
}

}  // namespace

TEST_CASE("list filters by namespace and sorts by namespace, then name") {
  TempDir dir;
  auto store = Store::open(dir.home());
  store->create(api::pods(), pod("team-b", "z"));
  store->create(api::pods(), pod("team-a", "m"));
  store->create(api::pods(), pod("team-b", "a"));
  store->create(api::pods(), pod("team-a", "b"));
  store->create(api::jobs(), job("team-a", "not-a-pod"));

  CHECK(names(store->list(api::pods())) == std::vector<std::string>{"team-a/b", "team-a/m", "team-b/a", "team-b/z"});
  CHECK(names(store->list(api::pods(), in_namespace("team-b"))) == std::vector<std::string>{"team-b/a", "team-b/z"});
  CHECK(store->list(api::pods(), in_namespace("nobody")).empty());
  CHECK(store->list(api::nodes()).empty());
}

TEST_CASE("list applies label and field selectors") {
  TempDir dir;
  auto store = Store::open(dir.home());
  store->create(api::pods(), pod("default", "web-1", {{"app", "web"}, {"tier", "front"}}));
  store->create(api::pods(), pod("default", "web-2", {{"app", "web"}}));
  store->create(api::pods(), pod("default", "db-1", {{"app", "db"}}));
  json running = pod("other", "web-3", {{"app", "web"}});
  running["status"]["phase"] = "Running";
  store->create(api::pods(), running);

  ListOptions opts;
  opts.labels = api::LabelSelector::parse("app=web");
  CHECK(names(store->list(api::pods(), opts)) ==
        std::vector<std::string>{"default/web-1", "default/web-2", "other/web-3"});

  opts.labels = api::LabelSelector::parse("app=web,tier");
  CHECK(names(store->list(api::pods(), opts)) == std::vector<std::string>{"default/web-1"});

  opts.labels = api::LabelSelector::parse("app in (db, web),!tier");
  opts.fields = api::FieldSelector::parse("status.phase=Pending");
  CHECK(names(store->list(api::pods(), opts)) == std::vector<std::string>{"default/db-1", "default/web-2"});

  opts.labels = {};
  opts.fields = api::FieldSelector::parse("metadata.name!=web-2,metadata.namespace=default");
  CHECK(names(store->list(api::pods(), opts)) == std::vector<std::string>{"default/db-1", "default/web-1"});

  opts.ns = "other";
  opts.fields = api::FieldSelector::parse("status.phase=Running");
  CHECK(names(store->list(api::pods(), opts)) == std::vector<std::string>{"other/web-3"});
}

TEST_CASE("list can leave out parts of objects the caller will not read") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json j = job("team-a", "big");
  j["spec"]["tasks"] = json::array();
  for (int i = 0; i < 3; ++i) {
    j["spec"]["tasks"].push_back({{"name", "t" + std::to_string(i)}, {"replicas", i}, {"template", {{"spec", {{"x", i}}}}}});
  }
  j["spec"]["volumes"] = json::array({{{"mountPath", "/data"}}});
  store->create(api::jobs(), j);
  store->create(api::jobs(), job("team-b", "other"));

  ListOptions opts;
  opts.omit = {"spec.tasks.*.template", "spec.volumes"};
  SECTION("one namespace") {
    opts.ns = "team-a";
    auto got = store->list(api::jobs(), opts);
    REQUIRE(got.size() == 1);
    const json& tasks = got[0]["spec"]["tasks"];
    REQUIRE(tasks.size() == 3);
    for (int i = 0; i < 3; ++i) {
      CHECK(tasks[i] == json{{"name", "t" + std::to_string(i)}, {"replicas", i}});
    }
    CHECK_FALSE(got[0]["spec"].contains("volumes"));
    CHECK(got[0]["metadata"]["name"] == "big");
  }
  SECTION("all namespaces, with a selector") {
    opts.fields = kai::api::FieldSelector::parse("metadata.name=other");
    auto got = store->list(api::jobs(), opts);
    REQUIRE(got.size() == 1);
    CHECK(got[0]["metadata"]["namespace"] == "team-b");
  }
  // The stored object is whole.
  CHECK(store->get(api::jobs(), "team-a", "big")["spec"]["tasks"][2].contains("template"));
}

TEST_CASE("list pages: after a (namespace, name) key and at most a limit, selectors counted after the key") {
  TempDir dir;
  auto store = Store::open(dir.home());
  for (const char* ns : {"team-a", "team-b"}) {
    for (const char* n : {"a", "b", "c"}) {
      json p = pod(ns, n);
      p["metadata"]["labels"]["keep"] = std::string(n) == "b" ? "no" : "yes";
      store->create(api::pods(), p);
    }
  }
  ListOptions o;
  o.limit = 2;
  CHECK(names(store->list(api::pods(), o)) == std::vector<std::string>{"team-a/a", "team-a/b"});
  o.after = std::pair<std::string, std::string>{"team-a", "b"};
  CHECK(names(store->list(api::pods(), o)) == std::vector<std::string>{"team-a/c", "team-b/a"});
  o.limit = 0;
  CHECK(names(store->list(api::pods(), o)) == std::vector<std::string>{"team-a/c", "team-b/a", "team-b/b", "team-b/c"});
  CHECK(store->count_after(api::pods(), "", {"team-a", "b"}) == 4);
  CHECK(store->count_after(api::pods(), "team-b", {"team-b", "a"}) == 2);
  CHECK(store->count_after(api::pods(), "", {"team-b", "c"}) == 0);
  // The limit counts objects that pass the selectors; in one namespace the key still orders.
  ListOptions sel = in_namespace("team-b");
  sel.labels = api::LabelSelector::parse("keep=yes");
  sel.limit = 1;
  sel.after = std::pair<std::string, std::string>{"team-b", "a"};
  CHECK(names(store->list(api::pods(), sel)) == std::vector<std::string>{"team-b/c"});
  // A table list (summaries) pages the same way.
  ListOptions table;
  table.omit = kai::client::table_omit(api::pods());
  table.after = std::pair<std::string, std::string>{"team-a", "c"};
  table.limit = 2;
  CHECK(names(store->list(api::pods(), table)) == std::vector<std::string>{"team-b/a", "team-b/b"});
}
