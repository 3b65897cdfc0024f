#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include "lib/client/resource_client.h"
#include "store/store_testing.h"

using kai::store::json;
using kai::store::ListOptions;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;
namespace fs = std::filesystem;

namespace {

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO(sql << ": " << (err ? err : ""));
  sqlite3_free(err);
  REQUIRE(rc == SQLITE_OK);
}

// A store as kai with schema version 1 left it (the DDL of migrate_to_1, as shipped), holding
// one job and one pod.
void make_schema_1_store(const fs::path& home, const json& job_body, const json& pod_body) {
  fs::create_directories(home);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((home / "store.db").c_str(), &db) == SQLITE_OK);
  exec(db, "PRAGMA journal_mode = WAL");
  exec(db, R"sql(
BEGIN;
CREATE TABLE objects(
  resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL UNIQUE,
  resource_version INTEGER NOT NULL, generation INTEGER NOT NULL, creation_timestamp TEXT NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY(resource, namespace, name));
CREATE TABLE owners(owner_uid TEXT NOT NULL, child_uid TEXT NOT NULL, PRIMARY KEY(owner_uid, child_uid)) WITHOUT ROWID;
CREATE INDEX owners_by_child ON owners(child_uid);
CREATE TABLE changes(resource_version INTEGER PRIMARY KEY, type TEXT NOT NULL, resource TEXT NOT NULL,
  namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE counter(id INTEGER PRIMARY KEY CHECK (id = 0), resource_version INTEGER NOT NULL);
INSERT INTO counter(id, resource_version) VALUES(0, 2);
PRAGMA user_version = 1;
)sql");
  for (const auto& [res, body] : {std::pair{api::jobs(), job_body}, std::pair{api::pods(), pod_body}}) {
    const json& md = body["metadata"];
    exec(db, "INSERT INTO objects VALUES('" + res.key() + "', '" + md["namespace"].get<std::string>() + "', '" +
                 md["name"].get<std::string>() + "', '" + md["uid"].get<std::string>() + "', " +
                 md["resourceVersion"].get<std::string>() + ", 1, '" + md["creationTimestamp"].get<std::string>() +
                 "', '" + body.dump() + "')");
  }
  exec(db, "COMMIT");
  sqlite3_close(db);
}

json stored(const std::string& kind, const std::string& api_version, json obj, const std::string& uid, int rv) {
  obj["apiVersion"] = api_version;
  obj["kind"] = kind;
  obj["metadata"]["uid"] = uid;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  obj["metadata"]["generation"] = 1;
  obj["metadata"]["creationTimestamp"] = "2026-01-02T03:04:05Z";
  return obj;
}

}  // namespace

TEST_CASE("a schema 1 store is upgraded in place to the current schema (summaries, compaction)") {
  TempDir dir;
  json j = job("default", "train", {{"team", "ml"}});
  j["spec"]["tasks"][0]["template"] = {{"spec", {{"containers", json::array({{{"name", "c"}, {"image", "x"}}})}}}};
  j["status"] = {{"state", {{"phase", "Pending"}}}, {"conditions", json::array({{{"status", "Pending"}}})}};
  j = stored("Job", "batch.volcano.sh/v1alpha1", j, "11111111-1111-4111-8111-111111111111", 1);
  json p = stored("Pod", "v1", pod("default", "train-0"), "22222222-2222-4222-8222-222222222222", 2);
  make_schema_1_store(dir.home(), j, p);

  auto store = Store::open(dir.home());
  CHECK(store->schema_version() == 3);
  CHECK(Store::kSchemaVersion == 3);
  CHECK(store->get(api::jobs(), "default", "train") == j);
  CHECK(store->list(api::jobs()) == std::vector<json>{j});
  CHECK(store->list(api::pods()) == std::vector<json>{p});

  // The migration wrote the summaries: a table list finds the job without its template.
  ListOptions opts;
  opts.omit = kai::client::table_omit(api::jobs());
  auto listed = store->list(api::jobs(), opts);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["metadata"]["name"] == "train");
  CHECK(listed[0]["status"]["state"]["phase"] == "Pending");
  CHECK_FALSE(listed[0]["spec"]["tasks"][0].contains("template"));
  CHECK_FALSE(listed[0]["status"].contains("conditions"));
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(store->handle(), "SELECT count(*) FROM summaries", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 2);
  sqlite3_finalize(st);

  // It goes on as any store: the counter and the indexes carried over.
  json next = store->create(api::pods(), owned_by(pod("default", "train-1"), j, "Job"));
  CHECK(next["metadata"]["resourceVersion"] == "3");
  store->remove(api::jobs(), "default", "train");
  CHECK(store->list(api::pods()) == std::vector<json>{p});
  CHECK(store->list(api::jobs(), opts).empty());

  // Its change log starts uncompacted; reopening migrates nothing.
  CHECK(store->compacted_resource_version() == 0);
  store.reset();
  CHECK(Store::open(dir.home())->schema_version() == 3);
}

TEST_CASE("reading does not write the database file") {
  TempDir dir;
  {
    auto store = Store::open(dir.home());
    store->create(api::jobs(), job("default", "a"));
  }
  const fs::path db = dir.home() / "store.db";
  struct stat before {};
  REQUIRE(::stat(db.c_str(), &before) == 0);
  {
    auto store = Store::open(dir.home());
    CHECK(store->list(api::jobs()).size() == 1);
    ListOptions opts;
    opts.omit = kai::client::table_omit(api::jobs());
    CHECK(store->list(api::jobs(), opts).size() == 1);
  }
  struct stat after {};
  REQUIRE(::stat(db.c_str(), &after) == 0);
  CHECK(after.st_size == before.st_size);
  CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  // Nor does closing after a write checkpoint the WAL into it (that is left to the commits).
  {
    auto store = Store::open(dir.home());
    store->create(api::jobs(), job("default", "b"));
  }
  struct stat written {};
  REQUIRE(::stat(db.c_str(), &written) == 0);
  CHECK(written.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  CHECK(fs::file_size(dir.home() / "store.db-wal") > 0);
  CHECK(Store::open(dir.home())->list(api::jobs()).size() == 2);
}
