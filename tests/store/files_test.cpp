#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "lib/api/error.h"
#include "store/store_testing.h"

using kai::ErrorKind;
using kai::store::json;
using kai::store::Store;
using namespace kai::store::testing;
namespace api = kai::api;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Opening `home` must fail with Unavailable `cannot open the local store at <home>/store.db: ...`.
void require_unavailable(const fs::path& home) {
  try {
    Store::open(home);
    FAIL("opened a store at " << home);
  } catch (const kai::Error& e) {
    CHECK(e.kind() == ErrorKind::Unavailable);
    std::string prefix = "cannot open the local store at " + (home / "store.db").string() + ": ";
    CHECK_THAT(e.what(), Catch::StartsWith(prefix));
    CHECK(std::string(e.what()).size() > prefix.size());
  }
}

}  // namespace

TEST_CASE("the store directory is 0700 and its files 0600") {
  TempDir dir;
  mode_t old = ::umask(022);
  auto store = Store::open(dir.path() / "a" / "b" / "home");
  store->create(api::pods(), pod("default", "p"));
  ::umask(old);
  fs::path home = dir.path() / "a" / "b" / "home";
  CHECK(store->path() == home / "store.db");
  CHECK(mode_of(home) == 0700);
  CHECK(mode_of(home / "store.db") == 0600);
  REQUIRE(fs::exists(home / "store.db-wal"));
  CHECK(mode_of(home / "store.db-wal") == 0600);
  REQUIRE(fs::exists(home / "store.db-shm"));
  CHECK(mode_of(home / "store.db-shm") == 0600);

  SECTION("an existing directory and database of ours are made private") {
    // Closing leaves the WAL (and what it holds) in place: move it into the database first, so
    // that the files can go and be created again.
    REQUIRE(sqlite3_exec(store->handle(), "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) == SQLITE_OK);
    store.reset();
    fs::remove(home / "store.db-wal");
    fs::remove(home / "store.db-shm");
    ::chmod(home.c_str(), 0755);
    ::chmod((home / "store.db").c_str(), 0644);
    auto again = Store::open(home);
    CHECK(mode_of(home) == 0700);
    CHECK(mode_of(home / "store.db") == 0600);
    CHECK(again->get(api::pods(), "default", "p")["metadata"]["name"] == "p");
    CHECK(mode_of(home / "store.db-wal") == 0600);
  }
}

TEST_CASE("an existing directory that is not a store keeps its mode") {
  TempDir dir;
  fs::path home = dir.path() / "shared";
  fs::create_directory(home);
  std::ofstream(home / "notes.txt") << "x";
  ::chmod(home.c_str(), 0755);
  auto store = Store::open(home);
  CHECK(mode_of(home) == 0755);
  CHECK(mode_of(home / "store.db") == 0600);

  SECTION("an empty one is made private") {
    fs::path empty = dir.path() / "empty";
    fs::create_directory(empty);
    ::chmod(empty.c_str(), 0755);
    Store::open(empty);
    CHECK(mode_of(empty) == 0700);
  }
}

TEST_CASE("a home that cannot be written is Unavailable") {
  TempDir dir;
  SECTION("under /proc") { require_unavailable("/proc/x"); }
  SECTION("below a regular file") {
    std::ofstream(dir.path() / "file") << "x";
    require_unavailable(dir.path() / "file" / "home");
  }
  SECTION("a regular file") {
    std::ofstream(dir.path() / "file") << "x";
    require_unavailable(dir.path() / "file");
  }
  SECTION("a database file that is not a database") {
    fs::create_directory(dir.home());
    std::ofstream(dir.home() / "store.db") << std::string(4096, 'x');
    require_unavailable(dir.home());
  }
  SECTION("a read-only directory") {
    if (::geteuid() == 0) return;  // root writes anywhere
    fs::create_directory(dir.path() / "ro");
    ::chmod((dir.path() / "ro").c_str(), 0500);
    require_unavailable(dir.path() / "ro" / "home");
    fs::create_directory(dir.path() / "ro2");
    Store::open(dir.path() / "ro2").reset();
    ::chmod((dir.path() / "ro2").c_str(), 0500);
    require_unavailable(dir.path() / "ro2");
  }
}

TEST_CASE("reopening an existing store keeps schema and data") {
  TempDir dir;
  json created;
  {
    auto store = Store::open(dir.home());
    CHECK(store->schema_version() == Store::kSchemaVersion);
    created = store->create(api::jobs(), job("default", "a"));
  }
  auto store = Store::open(dir.home());
  CHECK(store->schema_version() == Store::kSchemaVersion);
  CHECK(store->get(api::jobs(), "default", "a") == created);
  CHECK(store->current_resource_version() == 1);
  CHECK(store->create(api::jobs(), job("default", "b"))["metadata"]["resourceVersion"] == "2");

  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(store->handle(), "PRAGMA journal_mode", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
  sqlite3_finalize(st);
}

TEST_CASE("a store from a newer kai is refused") {
  TempDir dir;
  {
    auto store = Store::open(dir.home());
    REQUIRE(sqlite3_exec(store->handle(), "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  CHECK_THROWS_WITH(Store::open(dir.home()),
                    "cannot open the local store at " + (dir.home() / "store.db").string() +
                        ": schema version 99 is newer than this kai supports (" +
                        std::to_string(Store::kSchemaVersion) + ")");
}

TEST_CASE("default_home follows KAI_HOME, then XDG_STATE_HOME, then HOME") {
  auto keep = [](const char* name) {
    const char* v = std::getenv(name);
    return std::pair<std::string, bool>(v ? v : "", v != nullptr);
  };
  auto restore = [](const char* name, const std::pair<std::string, bool>& v) {
    if (v.second) {
      ::setenv(name, v.first.c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  };
  auto kai_home = keep("KAI_HOME"), xdg = keep("XDG_STATE_HOME"), home = keep("HOME");
  ::setenv("HOME", "/home/u", 1);
  ::unsetenv("KAI_HOME");
  ::unsetenv("XDG_STATE_HOME");
  CHECK(kai::store::default_home() == fs::path("/home/u/.local/state/kai"));
  ::setenv("XDG_STATE_HOME", "relative/is/ignored", 1);
  CHECK(kai::store::default_home() == fs::path("/home/u/.local/state/kai"));
  ::setenv("XDG_STATE_HOME", "/xdg", 1);
  CHECK(kai::store::default_home() == fs::path("/xdg/kai"));
  ::setenv("KAI_HOME", "/k", 1);
  CHECK(kai::store::default_home() == fs::path("/k"));
  restore("KAI_HOME", kai_home);
  restore("XDG_STATE_HOME", xdg);
  restore("HOME", home);
}
