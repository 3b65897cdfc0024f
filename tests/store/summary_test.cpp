#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <sstream>

#include "lib/client/resource_client.h"
#include "store/store_testing.h"

using kai::store::json;
using kai::store::ListOptions;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;

namespace {

// `obj` without the dotted paths ("*": every array element), as the summaries should be.
void erase_path(json& obj, const std::vector<std::string>& parts, std::size_t i) {
  if (i == parts.size()) return;
  if (parts[i] == "*") {
    if (!obj.is_array()) return;
    if (i + 1 == parts.size()) obj = json::array();  // every element omitted
    for (auto& e : obj) erase_path(e, parts, i + 1);
    return;
  }
  if (!obj.is_object() || !obj.contains(parts[i])) return;
  if (i + 1 == parts.size()) {
    obj.erase(parts[i]);
    return;
  }
  erase_path(obj[parts[i]], parts, i + 1);
}

json without(json obj, const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    std::vector<std::string> parts;
    std::stringstream ss(path);
    for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
    erase_path(obj, parts, 0);
  }
  return obj;
}

ListOptions table_list(const api::ResourceInfo& res) {
  ListOptions opts;
  opts.omit = kai::client::table_omit(res);
  return opts;
}

// A job as kai stores it: pod templates, policies, status with conditions.
json full_job(const std::string& ns, const std::string& name) {
  json j = job(ns, name, {{"team", "ml"}, {"volcano.sh/job-type", "Train"}});
  j["metadata"]["annotations"] = {{"note", std::string(300, 'x')}};
  j["spec"]["schedulerName"] = "volcano";
  j["spec"]["policies"] = json::array({{{"event", "PodEvicted"}, {"action", "RestartJob"}}});
  j["spec"]["tasks"][0]["template"] = {
      {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}, {"command", {"sleep", "1"}}}})}}}};
  j["status"] = {{"state", {{"phase", "Running"}, {"lastTransitionTime", "2026-01-02T03:04:05Z"}}},
                 {"minAvailable", 1},
                 {"running", 1},
                 {"conditions", json::array({{{"status", "Running"}}})}};
  return j;
}

int64_t count(Store& store, const char* sql) {
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(store.handle(), sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

}  // namespace

TEST_CASE("a table list returns each object without the parts tables do not read") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json a = store->create(api::jobs(), full_job("default", "a"));
  json b = store->create(api::jobs(), full_job("team", "b"));
  json p = store->create(api::pods(), owned_by(pod("default", "a-0"), a, "Job"));
  const auto job_omit = kai::client::table_omit(api::jobs());
  REQUIRE(count(*store, "SELECT count(*) FROM summaries") == 3);

  auto jobs = store->list(api::jobs(), table_list(api::jobs()));
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0] == without(a, job_omit));
  CHECK(jobs[1] == without(b, job_omit));
  CHECK_FALSE(jobs[0]["spec"]["tasks"][0].contains("template"));
  CHECK(jobs[0]["spec"]["tasks"][0]["replicas"] == 1);
  CHECK(jobs[0]["status"]["state"] == json{{"phase", "Running"}});
  CHECK(store->list(api::pods(), table_list(api::pods())) ==
        std::vector<json>{without(p, kai::client::table_omit(api::pods()))});

  SECTION("in one namespace, with a label selector") {
    ListOptions opts = table_list(api::jobs());
    opts.ns = "team";
    CHECK(store->list(api::jobs(), opts) == std::vector<json>{without(b, job_omit)});
    opts.ns = "";
    opts.labels = api::LabelSelector::parse("team=ml");
    CHECK(store->list(api::jobs(), opts).size() == 2);
    opts.labels = api::LabelSelector::parse("team=web");
    CHECK(store->list(api::jobs(), opts).empty());
  }
  SECTION("a field selector on an omitted part reads the bodies") {
    ListOptions opts = table_list(api::jobs());
    opts.fields = api::FieldSelector::parse("metadata.uid=" + b["metadata"]["uid"].get<std::string>());
    CHECK(store->list(api::jobs(), opts) == std::vector<json>{b});
  }
  SECTION("a list that needs more than the summary reads the bodies") {
    ListOptions opts;
    opts.omit = {"spec.tasks.*.template"};
    auto listed = store->list(api::jobs(), opts);
    REQUIRE(listed.size() == 2);
    CHECK(without(listed[0], opts.omit) == without(a, opts.omit));
    CHECK(listed[0]["metadata"]["annotations"] == a["metadata"]["annotations"]);
    CHECK(store->list(api::jobs()) == std::vector<json>{a, b});
  }
}

TEST_CASE("summaries follow updates and deletes") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json j = store->create(api::jobs(), full_job("default", "a"));
  store->create(api::pods(), owned_by(pod("default", "a-0"), j, "Job"));
  j["status"]["state"]["phase"] = "Completed";
  j["status"]["succeeded"] = 1;
  json updated = store->update(api::jobs(), j);
  auto jobs = store->list(api::jobs(), table_list(api::jobs()));
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0] == without(updated, kai::client::table_omit(api::jobs())));
  CHECK(jobs[0]["status"]["succeeded"] == 1);

  store->remove(api::jobs(), "default", "a");  // cascades to the pod
  CHECK(store->list(api::jobs(), table_list(api::jobs())).empty());
  CHECK(store->list(api::pods(), table_list(api::pods())).empty());
  CHECK(count(*store, "SELECT count(*) FROM summaries") == 0);
}

TEST_CASE("summaries made from other lists are not read, and the next write rebuilds them") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json a = store->create(api::jobs(), full_job("default", "a"));
  // As a kai with other lists would leave them.
  REQUIRE(sqlite3_exec(store->handle(),
                       "UPDATE summary_spec SET spec = 'other'; UPDATE summaries SET summary = '{\"stale\":true}'",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto omit = kai::client::table_omit(api::jobs());
  CHECK(store->list(api::jobs(), table_list(api::jobs())) == std::vector<json>{without(a, omit)});

  json b = store->create(api::pods(), pod("default", "p"));
  CHECK(count(*store, "SELECT count(*) FROM summaries WHERE summary LIKE '%stale%'") == 0);
  CHECK(count(*store, "SELECT count(*) FROM summary_spec WHERE spec = 'other'") == 0);
  CHECK(store->list(api::jobs(), table_list(api::jobs())) == std::vector<json>{without(a, omit)});
}

TEST_CASE("objects read back as they were stored, whatever JSON they hold") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json obj = object("default", "odd");
  obj["spec"] = {{"unicode", "caf\u00e9 \xe2\x9c\x93 \xf0\x9f\x9a\x80"},
                 {"control", std::string("tab\there\nnew \x01 \x1f end")},
                 {"escapes", "quote \" backslash \\ slash /"},
                 {"empty", ""},
                 {"numbers",
                  {0, 1, -1, 42, -9223372036854775807LL - 1, 9223372036854775807LL, 18446744073709551615ULL, 1.5,
                   -0.25, 1e300, 3.0}},
                 {"nested", {{"a", json::array()}, {"b", json::object()}, {"c", {{"d", {nullptr, true, false}}}}}},
                 {"zero-keys", {{"", 1}, {"Z", 2}, {"a", 3}}}};
  json created = store->create(api::pods(), obj);
  json got = store->get(api::pods(), "default", "odd");
  CHECK(got == created);
  CHECK(got.dump() == created.dump());
  // The same kinds of numbers as nlohmann's own parser gives.
  json reparsed = json::parse(created.dump());
  const json& n = got["spec"]["numbers"];
  for (std::size_t i = 0; i < n.size(); ++i) {
    INFO("number " << i << ": " << n[i].dump());
    CHECK(n[i].type() == reparsed["spec"]["numbers"][i].type());
  }
  CHECK(store->list(api::pods()) == std::vector<json>{created});

  // Omitted parts are skipped over, whatever they hold.
  for (const std::vector<std::string>& omit :
       {std::vector<std::string>{"spec.escapes", "spec.nested", "spec.numbers", "spec.control"},
        std::vector<std::string>{"spec.unicode", "spec.zero-keys.a", "spec.nested.c.d", "metadata"},
        std::vector<std::string>{"spec.numbers.*", "spec.nested.a", "spec.empty", "spec.zero-keys."}}) {
    ListOptions opts;
    opts.omit = omit;
    INFO("omit " << json(omit).dump());
    CHECK(store->list(api::pods(), opts) == std::vector<json>{without(created, omit)});
  }
}

TEST_CASE("a summary is the object's JSON text without the omitted parts, byte for byte, whatever its keys") {
  TempDir dir;
  auto store = Store::open(dir.home());
  json j = full_job("default", "odd");
  // Keys the writer must escape (quote, backslash, control character), non-ASCII ones, an
  // omitted part of the wrong type (a string where an object is expected) and an empty list.
  j["metadata"]["annotations"] = {{"say \"hi\"", "1"}, {"back\\slash", "2"}, {std::string("tab\there"), "3"},
                                  {"ünïcode/ключ", "4"}, {"kai.dev/plain", "5"}};
  j["metadata"]["labels"] = j["metadata"]["annotations"];  // labels are kept in the summary
  j["spec"]["tasks"].push_back({{"name", "w"}, {"replicas", 2}, {"template", "not an object"}});
  j["spec"]["tasks"].push_back({{"name", "e"}, {"replicas", 0}});
  j["status"]["conditions"] = json::array();
  json p = pod("default", "odd-0");
  p["spec"]["containers"] = json::array({{{"name", "c\n1"}, {"image", "i"}, {"env", json::array({{{"name", "A"}}})}}});
  const json stored_job = store->create(api::jobs(), j);
  const json stored_pod = store->create(api::pods(), p);

  auto summary_of = [&](const char* resource, const char* name) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(store->handle(), "SELECT summary FROM summaries WHERE resource = ?1 AND name = ?2", -1, &st,
                               nullptr) == SQLITE_OK);
    sqlite3_bind_text(st, 1, resource, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    std::string text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return text;
  };
  CHECK(summary_of(api::jobs().key().c_str(), "odd") == without(stored_job, kai::client::table_omit(api::jobs())).dump());
  CHECK(summary_of(api::pods().key().c_str(), "odd-0") == without(stored_pod, kai::client::table_omit(api::pods())).dump());
  auto listed = store->list(api::jobs(), table_list(api::jobs()));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0] == without(stored_job, kai::client::table_omit(api::jobs())));
  CHECK(listed[0]["metadata"]["labels"]["say \"hi\""] == "1");
  CHECK(listed[0]["metadata"]["labels"]["tab\there"] == "3");
  CHECK_FALSE(listed[0]["metadata"].contains("annotations"));
}
