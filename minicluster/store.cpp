#include "minicluster/store.h"

#include <fcntl.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>

#include "lib/api/error.h"
#include "lib/client/resource_client.h"

// Durability: every write is one SQLite transaction in WAL mode with synchronous=FULL, so a
// write is on disk (WAL fsynced) before create/update/remove return. A killed process (kill -9)
// loses nothing it acknowledged with any WAL setting; FULL also covers power loss, for the price
// of one fsync per transaction (see bench/bench_store.cpp; batch with transact or create_many).
//
// Concurrency: writers take the write lock up front (BEGIN IMMEDIATE), so a transaction never
// has to upgrade a read lock and never dies with SQLITE_BUSY halfway. Waiting is done by our own
// busy handler (short sleeps with jitter) plus a retry loop around BEGIN for the cases where
// SQLite reports busy without calling the handler.

namespace kai::store {
namespace {

namespace fs = std::filesystem;

// Runs SQL for a migration; errors name the version being migrated to.
void exec_migration(sqlite3* db, const fs::path& path, int to, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return;
  std::string what = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  throw Error::internal("local store " + path.string() + ": migrating to schema version " + std::to_string(to) +
                        ": " + what);
}

// 0 -> 1: objects, the owner index for cascading deletes, the change log, the counter.
void migrate_to_1(sqlite3* db, const fs::path& path) {
  exec_migration(db, path, 1, R"sql(
CREATE TABLE objects(
  resource TEXT NOT NULL,            -- ResourceInfo::key(): "batch.volcano.sh/jobs", "core/pods"
  namespace TEXT NOT NULL,           -- "" for cluster-scoped resources
  name TEXT NOT NULL,
  uid TEXT NOT NULL UNIQUE,
  resource_version INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  creation_timestamp TEXT NOT NULL,
  body TEXT NOT NULL,                -- the whole object as JSON, metadata included
  PRIMARY KEY(resource, namespace, name)
);
CREATE TABLE owners(
  owner_uid TEXT NOT NULL,           -- metadata.ownerReferences[].uid of the child
  child_uid TEXT NOT NULL,
  PRIMARY KEY(owner_uid, child_uid)
) WITHOUT ROWID;
CREATE INDEX owners_by_child ON owners(child_uid);
CREATE TABLE changes(
  resource_version INTEGER PRIMARY KEY,
  type TEXT NOT NULL,                -- ADDED, MODIFIED, DELETED
  resource TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE counter(
  id INTEGER PRIMARY KEY CHECK (id = 0),
  resource_version INTEGER NOT NULL  -- the last resourceVersion handed out
);
INSERT INTO counter(id, resource_version) VALUES(0, 0);
)sql");
}

// 1 -> 2: summaries, what tables list instead of the bodies. The rows are written by
// Ops::sync_summaries once the migrations are done (and again whenever the lists change).
void migrate_to_2(sqlite3* db, const fs::path& path) {
  exec_migration(db, path, 2, R"sql(
CREATE TABLE summaries(
  resource TEXT NOT NULL,            -- only resources with a client::table_omit list
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  summary TEXT NOT NULL,             -- objects.body without client::table_omit(resource), as JSON
  PRIMARY KEY(resource, namespace, name)
) WITHOUT ROWID;
CREATE TABLE summary_spec(
  id INTEGER PRIMARY KEY CHECK (id = 0),
  spec TEXT NOT NULL                 -- SummaryPlan::fingerprint of the lists the summaries follow
);
)sql");
}

// 2 -> 3: the compaction of the change log (Store::compact_changes_if_due).
void migrate_to_3(sqlite3* db, const fs::path& path) {
  exec_migration(db, path, 3, R"sql(
CREATE TABLE compaction(
  id INTEGER PRIMARY KEY CHECK (id = 0),
  compacted INTEGER NOT NULL,        -- the changes up to this resourceVersion are gone
  mark_rv INTEGER NOT NULL,          -- the resourceVersion at the last compaction check
  mark_time REAL NOT NULL            -- when that was (unix seconds; 0: never)
);
INSERT INTO compaction(id, compacted, mark_rv, mark_time) VALUES(0, 0, 0, 0);
)sql");
}

// kMigrations[i] upgrades a store from schema version i to i + 1, inside the migrating
// transaction. Append new versions at the end (and bump Store::kSchemaVersion); never edit a
// migration that has shipped.
using Migration = void (*)(sqlite3* db, const fs::path& path);
constexpr std::array<Migration, Store::kSchemaVersion> kMigrations = {migrate_to_1, migrate_to_2, migrate_to_3};

// The statements a Store prepares once and keeps; index into Store::stmts_.
enum Sql : std::size_t {
  kBegin,
  kBeginRead,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackTo,
  kUserVersion,
  kNextVersion,
  kCurrentVersion,
  kInsertObject,
  kGetObject,
  kUpdateObject,
  kDeleteObject,
  kListAll,
  kListNamespace,
  kInsertOwner,
  kDeleteOwners,
  kChildren,
  kInsertChange,
  kChangesSince,
  kSummarySpec,
  kSetSummarySpec,
  kClearSummaries,
  kPutSummary,
  kDeleteSummary,
  kListSummaries,
  kListSummariesNamespace,
  kBodiesOf,
  kCountAfter,
  kCompaction,
  kCompact,
  kSetCompaction,
  kSqlCount,
};

constexpr std::array<const char*, kSqlCount> kSqlText = {
    "BEGIN IMMEDIATE",
    "BEGIN DEFERRED",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT kai_nested",
    "RELEASE kai_nested",
    "ROLLBACK TO kai_nested",
    "PRAGMA user_version",
    "UPDATE counter SET resource_version = ?1 WHERE id = 0",
    "SELECT resource_version FROM counter WHERE id = 0",
    "INSERT INTO objects(resource, namespace, name, uid, resource_version, generation, creation_timestamp, body)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(resource, namespace, name) DO NOTHING",
    "SELECT body, uid, resource_version, generation, creation_timestamp FROM objects"
    " WHERE resource = ?1 AND namespace = ?2 AND name = ?3",
    "UPDATE objects SET resource_version = ?4, generation = ?5, body = ?6"
    " WHERE resource = ?1 AND namespace = ?2 AND name = ?3",
    "DELETE FROM objects WHERE uid = ?1",
    "SELECT namespace, name, body FROM objects WHERE resource = ?1 ORDER BY namespace, name",
    "SELECT namespace, name, body FROM objects WHERE resource = ?1 AND namespace = ?2 ORDER BY name",
    "INSERT OR IGNORE INTO owners(owner_uid, child_uid) VALUES(?1, ?2)",
    "DELETE FROM owners WHERE child_uid = ?1",
    "SELECT o.resource, o.namespace, o.name, o.uid, o.body FROM owners w JOIN objects o ON o.uid = w.child_uid"
    " WHERE w.owner_uid = ?1 ORDER BY o.resource, o.namespace, o.name",
    "INSERT INTO changes(resource_version, type, resource, namespace, name, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    // The compaction check is in the same statement, so in the same snapshot as the rows: no rows
    // when the changes after ?1 are partly gone (changes_since then tells why).
    "SELECT resource_version, type, resource, body FROM changes WHERE resource_version > ?1"
    " AND ?1 >= (SELECT compacted FROM compaction WHERE id = 0) ORDER BY resource_version LIMIT ?2",
    "SELECT spec FROM summary_spec WHERE id = 0",
    "INSERT OR REPLACE INTO summary_spec(id, spec) VALUES(0, ?1)",
    "DELETE FROM summaries",
    "INSERT OR REPLACE INTO summaries(resource, namespace, name, summary) VALUES(?1, ?2, ?3, ?4)",
    "DELETE FROM summaries WHERE resource = ?1 AND namespace = ?2 AND name = ?3",
    // The spec check is in the same statement, so in the same snapshot as the rows: a store whose
    // summaries follow other lists (another kai build wrote it) yields no rows.
    "SELECT namespace, name, summary FROM summaries WHERE resource = ?1"
    " AND (SELECT spec FROM summary_spec WHERE id = 0) = ?2 ORDER BY namespace, name",
    "SELECT namespace, name, summary FROM summaries WHERE resource = ?1 AND namespace = ?3"
    " AND (SELECT spec FROM summary_spec WHERE id = 0) = ?2 ORDER BY name",
    "SELECT namespace, name, body FROM objects WHERE resource = ?1",
    "SELECT count(*) FROM objects WHERE resource = ?1 AND (?2 = '' OR namespace = ?2)"
    " AND (namespace > ?3 OR (namespace = ?3 AND name > ?4))",
    "SELECT compacted, mark_rv, mark_time FROM compaction WHERE id = 0",
    "DELETE FROM changes WHERE resource_version <= ?1",
    "UPDATE compaction SET compacted = ?1, mark_rv = ?2, mark_time = ?3 WHERE id = 0",
};

// The WAL is checkpointed and restarted after the commit that takes it to this many pages (4 KiB
// each). Each process that opens the store first rebuilds the WAL index by reading every valid
// frame of the WAL (~0.6 ms per MiB), so it is kept short: about 16 job submissions (each
// checkpoint costs two fsyncs, and the next commit a third).
constexpr int kCheckpointPages = 256;
// A restarted WAL keeps its file, so that later commits overwrite blocks already allocated
// (their fdatasync then has no metadata to write: truncating every time cost a third of
// single-object creates/s), and its frames stay valid until the next write. After a commit this
// large (a big batch) it is truncated instead, or every process opening the store meanwhile
// would read all of it.
constexpr int kTruncatePages = 1024;

// Process-wide SQLite settings, made before its first use (sqlite3_config refuses them later,
// harmlessly). Statement journals in memory: a nested transact is a SAVEPOINT, whose journal of
// a job's submission (~60 KB) would otherwise spill into a temporary file.
void configure_sqlite() {
  static const bool done = [] {
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
    return true;
  }();
  (void)done;
}

// How long a write waits for the lock held by other processes before giving up.
constexpr auto kLockWait = std::chrono::seconds(30);
// Sleeps of the busy handler: 50 us doubling up to 4 ms (writers hold the lock for well under a
// millisecond, so SQLite's default back-off of up to 100 ms would leave the lock idle).
constexpr int64_t kBusyFirstSleepUs = 50;
constexpr int64_t kBusyMaxSleepUs = 4000;
// Gives up after about kLockWait: the first 7 sleeps add up to ~6 ms, the rest are ~kBusyMaxSleepUs.
constexpr int kBusyMaxTries = 7 + static_cast<int>(kLockWait / std::chrono::microseconds(kBusyMaxSleepUs));

std::string errno_text(int e) { return std::generic_category().message(e); }

// Jitter so that waiting processes do not wake up in lock step; the clock's low bits differ
// enough between processes for that.
int64_t jitter(int64_t below) {
  auto ns = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return below <= 0 ? 0 : static_cast<int64_t>((ns * 0x9e3779b97f4a7c15ULL >> 32) % static_cast<uint64_t>(below));
}

// `no_wait`: points to Store::busy_no_wait_.
int on_busy(void* no_wait, int count) {
  if (*static_cast<const bool*>(no_wait) || count >= kBusyMaxTries) return 0;
  int64_t base = std::min(kBusyFirstSleepUs << std::min(count, 16), kBusyMaxSleepUs);
  std::this_thread::sleep_for(std::chrono::microseconds(base / 2 + jitter(base)));
  return 1;
}

bool is_unavailable(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

// The prefix of errors from a store that is open: `local store <path>: <what>`.
std::string error_prefix(const fs::path& path) { return "local store " + path.string() + ": "; }

[[noreturn]] void throw_sqlite(sqlite3* db, const fs::path& path, int rc) {
  std::string msg = error_prefix(path) + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (is_unavailable(rc)) throw Error::unavailable(std::move(msg));
  throw Error::internal(std::move(msg));
}

// Dotted paths as a tree: a path's last component is marked omitted; "*" stands for every
// element of an array.
struct OmitTree {
  bool omitted = false;
  std::map<std::string, OmitTree, std::less<>> children;

  void add(std::string_view dotted) {
    OmitTree* node = this;
    while (!dotted.empty()) {
      std::size_t dot = dotted.find('.');
      std::string_view part = dotted.substr(0, dot);
      node = &node->children[std::string(part)];
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    node->omitted = true;
  }

  // Whether the value at `dotted` (a field or label path, no "*") lies in an omitted part.
  bool covers(std::string_view dotted) const {
    const OmitTree* node = this;
    while (!node->omitted) {
      if (dotted.empty()) return false;
      std::size_t dot = dotted.find('.');
      std::string_view part = dotted.substr(0, dot);
      auto it = node->children.find(part);
      if (it == node->children.end()) it = node->children.find(std::string_view("*"));
      if (it == node->children.end()) return false;
      node = &it->second;
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    return true;
  }
};

// A copy of v without the parts `omit` marks.
json project(const json& v, const OmitTree& omit) {
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      auto child = omit.children.find(it.key());
      if (child == omit.children.end()) {
        out[it.key()] = *it;
      } else if (!child->second.omitted) {
        out[it.key()] = project(*it, child->second);
      }
    }
    return out;
  }
  if (v.is_array()) {
    auto each = omit.children.find(std::string_view("*"));
    if (each == omit.children.end()) return v;
    json out = json::array();
    if (each->second.omitted) return out;
    for (const json& e : v) out.push_back(project(e, each->second));
    return out;
  }
  return v;
}

// What project(v, omit).dump() returns, written straight into `out` without building the copy
// (a summary is written for every object a transaction writes). Keys that need no escaping
// (no quote, backslash or control character) are copied as they are; everything else goes
// through nlohmann's serializer, so the text is byte for byte the same.
class OmittingWriter {
 public:
  explicit OmittingWriter(std::string& out)
      : out_(out), ser_(nlohmann::detail::output_adapter<char, std::string>(out), ' ', json::error_handler_t::strict) {}

  void write(const json& v, const OmitTree& omit) {
    if (v.is_object()) {
      out_ += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        auto child = omit.children.find(it.key());
        if (child != omit.children.end() && child->second.omitted) continue;
        if (!first) out_ += ',';
        first = false;
        key(it.key());
        if (child == omit.children.end()) {
          ser_.dump(*it, false, false, 0);
        } else {
          write(*it, child->second);
        }
      }
      out_ += '}';
      return;
    }
    auto each = omit.children.find(std::string_view("*"));
    if (v.is_array() && each != omit.children.end()) {
      out_ += '[';
      if (!each->second.omitted) {
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (i) out_ += ',';
          write(v[i], each->second);
        }
      }
      out_ += ']';
      return;
    }
    ser_.dump(v, false, false, 0);
  }

 private:
  void key(const std::string& k) {
    const bool plain = std::none_of(k.begin(), k.end(), [](char c) {
      return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
    });
    if (plain) {
      out_ += '"';
      out_ += k;
      out_ += '"';
    } else {
      ser_.dump(json(k), false, false, 0);
    }
    out_ += ':';
  }

  std::string& out_;
  nlohmann::detail::serializer<json> ser_;
};

std::string summary_text(const json& v, const OmitTree& omit) {
  std::string out;
  out.reserve(512);
  OmittingWriter(out).write(v, omit);
  return out;
}

// Parses the JSON that nlohmann's dump() writes, which is all the store holds, three to four
// times faster than nlohmann's parser (that one copies every character into a token buffer for
// its error messages): listing is mostly parsing. Builds the same values: objects keyed in
// order with the last duplicate winning, non-negative integers unsigned, negative ones signed.
// Parts that `omit` marks are skipped over, not built. Gives up (returns false) on what dump()
// seldom writes: \u escapes, fractions and exponents, integers beyond 64 bits, nesting deeper
// than kMaxDepth, and on anything malformed; the caller then parses with nlohmann, for the same
// value or its error.
class FastJsonParser {
 public:
  explicit FastJsonParser(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool parse(json& out, const OmitTree* omit) {
    if (!value(out, 0, omit)) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  static constexpr int kMaxDepth = 256;

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // omit: the part of the omitted paths below this value (null: nothing omitted).
  bool value(json& out, int depth, const OmitTree* omit) {
    skip_space();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object(out, depth + 1, omit);
      case '[': return array(out, depth + 1, omit);
      case '"': {
        out = json::value_t::string;
        return string(*out.get_ptr<json::string_t*>());
      }
      case 't': return word("true") && (out = true, true);
      case 'f': return word("false") && (out = false, true);
      case 'n': return word("null") && (out = nullptr, true);
      default: return number(out);
    }
  }

  bool word(std::string_view w) {
    if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w) return false;
    p_ += w.size();
    return true;
  }

  // Skips one value without building it. Only strings and brackets are matched: what is
  // skipped is not validated.
  bool skip_value() {
    skip_space();
    if (p_ == end_) return false;
    if (*p_ == '"') return skip_string();
    if (*p_ != '{' && *p_ != '[') {  // a scalar runs up to the next delimiter
      const char* start = p_;
      while (p_ != end_ && *p_ != ',' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\n' && *p_ != '\r' &&
             *p_ != '\t') {
        ++p_;
      }
      return p_ != start;
    }
    int open = 0;
    while (p_ != end_) {
      char c = *p_;
      if (c == '"') {
        if (!skip_string()) return false;
        continue;
      }
      ++p_;
      if (c == '{' || c == '[') {
        ++open;
      } else if ((c == '}' || c == ']') && --open == 0) {
        return true;
      }
    }
    return false;
  }

  bool skip_string() {
    ++p_;  // "
    while (p_ != end_) {
      char c = *p_++;
      if (c == '"') return true;
      if (c == '\\') {
        if (p_ == end_) return false;
        ++p_;
      }
    }
    return false;
  }

  // After a member or element: true at the closing bracket (consumed), else past the comma.
  bool next(char close, bool& done) {
    skip_space();
    if (p_ == end_) return false;
    done = *p_ == close;
    if (!done && *p_ != ',') return false;
    ++p_;
    return true;
  }

  bool object(json& out, int depth, const OmitTree* omit) {
    if (depth > kMaxDepth) return false;
    ++p_;  // {
    out = json::value_t::object;
    auto& members = *out.get_ptr<json::object_t*>();
    skip_space();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    std::string key;
    for (bool done = false; !done;) {
      skip_space();
      if (p_ == end_ || *p_ != '"') return false;
      key.clear();
      if (!string(key)) return false;
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      const OmitTree* below = nullptr;
      if (omit) {
        auto it = omit->children.find(key);
        if (it != omit->children.end()) below = &it->second;
      }
      if (below && below->omitted) {
        if (!skip_value()) return false;
      } else {
        // dump() writes keys in order: append at the end; anything else goes through operator[].
        json* slot;
        if (members.empty() || members.rbegin()->first < key) {
          slot = &members.emplace_hint(members.end(), std::move(key), nullptr)->second;
        } else {
          slot = &members[key];
        }
        if (!value(*slot, depth, below)) return false;
      }
      if (!next('}', done)) return false;
    }
    return true;
  }

  bool array(json& out, int depth, const OmitTree* omit) {
    if (depth > kMaxDepth) return false;
    ++p_;  // [
    out = json::value_t::array;
    auto& elements = *out.get_ptr<json::array_t*>();
    const OmitTree* each = nullptr;
    if (omit) {
      auto it = omit->children.find(std::string_view("*"));
      if (it != omit->children.end()) each = &it->second;
    }
    skip_space();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (bool done = false; !done;) {
      if (each && each->omitted) {
        if (!skip_value()) return false;
      } else if (!value(elements.emplace_back(), depth, each)) {
        return false;
      }
      if (!next(']', done)) return false;
    }
    return true;
  }

  // After the opening quote is seen: appends the unescaped text to out.
  bool string(std::string& out) {
    ++p_;  // "
    for (;;) {
      const char* start = p_;
      while (p_ != end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
      out.append(start, static_cast<std::size_t>(p_ - start));
      if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      if (++p_ == end_) return false;  // the backslash
      switch (*p_++) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        default: return false;  // \u (nlohmann decodes surrogate pairs) or invalid
      }
    }
  }

  bool number(json& out) {
    bool negative = p_ != end_ && *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 != end_ && p_[1] >= '0' && p_[1] <= '9') return false;  // leading zero
    uint64_t v = 0;
    for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_) {
      auto digit = static_cast<uint64_t>(*p_ - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
      v = v * 10 + digit;
    }
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (!negative) {
      out = static_cast<json::number_unsigned_t>(v);
      return true;
    }
    constexpr auto kMinMagnitude = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
    if (v > kMinMagnitude) return false;
    out = v == kMinMagnitude ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
    return true;
  }

  const char* p_;
  const char* end_;
};

// `text` as JSON, without the parts `omit` marks (none when null).
json parse_json(std::string_view text, const OmitTree* omit = nullptr) {
  json out;
  if (FastJsonParser(text).parse(out, omit)) return out;
  out = json::parse(text.begin(), text.end());
  return omit ? project(out, *omit) : out;
}

// One use of a cached prepared statement: binds, steps, and resets it when it goes out of scope.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* st, const fs::path& path) : db_(db), st_(st), path_(path) {}
  ~Query() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Query& bind(int i, int64_t v) {
    check(sqlite3_bind_int64(st_, i, v));
    return *this;
  }
  Query& bind(int i, double v) {
    check(sqlite3_bind_double(st_, i, v));
    return *this;
  }
  /// True when a row is ready, false when done.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_sqlite(db_, path_, rc);
  }
  /// Steps to completion (a statement without rows).
  void run() {
    while (step()) {
    }
  }
  int step_code() { return sqlite3_step(st_); }
  std::string_view text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string_view();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(st_, col); }
  double real(int col) const { return sqlite3_column_double(st_, col); }
  json parse(int col, const OmitTree* omit = nullptr) const { return parse_json(text(col), omit); }


 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw_sqlite(db_, path_, rc);
  }
  sqlite3* db_;
  sqlite3_stmt* st_;
  const fs::path& path_;
};

// Random bytes from the kernel (getrandom reads the /dev/urandom pool).
void random_bytes(unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got == n) return;
  std::random_device rd;
  for (; got < n; ++got) out[got] = static_cast<unsigned char>(rd());
}

std::string new_uid() {
  std::array<unsigned char, 16> b{};
  random_bytes(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0f];
  }
  return out;
}

// Five characters as Kubernetes' generateName uses (lower-case alphanumerics without vowels and
// look-alikes, so no words and no 0/o, 1/l).
std::string random_suffix() {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  constexpr unsigned kLimit = 256 / kAlphabet.size() * kAlphabet.size();  // unbiased
  std::string out;
  while (out.size() < 5) {
    std::array<unsigned char, 8> b{};
    random_bytes(b.data(), b.size());
    for (unsigned char c : b) {
      if (c < kLimit && out.size() < 5) out += kAlphabet[c % kAlphabet.size()];
    }
  }
  return out;
}

std::string string_field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

json& metadata_of(const api::ResourceInfo& res, json& obj) {
  if (!obj.is_object()) throw Error::invalid(res.qualified_kind() + ": expected a JSON object");
  json& md = obj["metadata"];
  if (md.is_null()) md = json::object();
  if (!md.is_object()) throw Error::invalid(res.qualified_kind() + ": metadata: expected an object");
  return md;
}

// The namespace the object lives in: "" for cluster-scoped resources, "default" when unset.
std::string resolve_namespace(const api::ResourceInfo& res, std::string ns) {
  if (!res.namespaced) return "";
  return ns.empty() ? "default" : ns;
}

std::string object_namespace(const api::ResourceInfo& res, json& md) {
  std::string ns = resolve_namespace(res, string_field(md, "namespace"));
  if (ns.empty()) {
    md.erase("namespace");
  } else {
    md["namespace"] = ns;
  }
  return ns;
}

const json& field_or_null(const json& obj, const char* key) {
  static const json kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string quoted(const api::ResourceInfo& res, const std::string& name) {
  return res.qualified_plural() + " \"" + name + "\"";
}

Error not_found(const api::ResourceInfo& res, const std::string& name) {
  return Error::not_found(quoted(res, name) + " not found");
}

Error name_required(const api::ResourceInfo& res) {
  std::string cause = "Required value: name or generateName is required";
  return Error::invalid(res.qualified_kind() + " \"\" is invalid: metadata.name: " + cause,
                        {{"metadata.name", cause}});
}

// Opens a directory for the store: `mkdir -p`, then mode 0700 on the last component. An existing
// directory is only made private when we own it and it is empty or already a store: KAI_HOME=/
// or =$HOME by mistake (as root, say) must not chmod a system or home directory. The database
// files are 0600 either way. Returns the reason on failure, "" on success.
std::string prepare_home(const fs::path& home) {
  std::error_code ec;
  if (home.has_parent_path()) {
    fs::create_directories(home.parent_path(), ec);
    if (ec) return ec.message();
  }
  if (::mkdir(home.c_str(), 0700) == 0) {
    // mkdir applied the umask; the owner must keep rwx whatever it is.
    if (::chmod(home.c_str(), 0700) != 0) return errno_text(errno);
    return "";
  }
  if (errno != EEXIST) return errno_text(errno);
  struct stat st {};
  if (::stat(home.c_str(), &st) != 0) return errno_text(errno);
  if (!S_ISDIR(st.st_mode)) return errno_text(ENOTDIR);
  if (st.st_uid == ::geteuid() && (st.st_mode & 07777) != 0700 &&
      (fs::exists(home / "store.db", ec) || fs::is_empty(home, ec)) && ::chmod(home.c_str(), 0700) != 0) {
    return errno_text(errno);
  }
  if (::faccessat(AT_FDCWD, home.c_str(), W_OK | X_OK, AT_EACCESS) != 0) return errno_text(errno);
  return "";
}

// Creates the database file with mode 0600 before SQLite sees it: SQLite gives the -wal and -shm
// files the mode of the database file. Returns the reason on failure, "" on success.
std::string prepare_db_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text(errno);
  struct stat st {};
  std::string reason;
  if (::fstat(fd, &st) != 0) {
    reason = errno_text(errno);
  } else if (st.st_uid == ::geteuid() && (st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) {
    reason = errno_text(errno);
  }
  ::close(fd);
  return reason;
}

// Whether a selector of opts reads a part that `omit` leaves out.
bool selectors_read(const ListOptions& opts, const OmitTree& omit) {
  if (!opts.labels.empty() && omit.covers("metadata.labels")) return true;
  return std::any_of(opts.fields.requirements().begin(), opts.fields.requirements().end(),
                     [&](const api::FieldSelector::Requirement& r) { return omit.covers(r.field); });
}

// 64-bit FNV-1a, as hex: a fingerprint that changes when the summary lists do.
std::string fnv1a_hex(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The resources with summaries, from client::table_omit, and a fingerprint of the lists that
// summary_spec records: summaries made from other lists (an older or newer kai) are never read,
// and the first write transaction of this kai rebuilds them.
struct Store::SummaryPlan {
  struct Projection {
    std::set<std::string> paths;
    OmitTree tree;
  };
  std::map<std::string, Projection, std::less<>> by_resource;  // by ResourceInfo::key()
  std::string fingerprint;

  SummaryPlan() {
    std::string text = "kai summaries 1\n";
    for (const auto& res : api::all_resources()) {
      auto omit = client::table_omit(res);
      if (omit.empty()) continue;
      Projection& p = by_resource[res.key()];
      for (const auto& path : omit) {
        p.paths.insert(path);
        p.tree.add(path);
      }
      text += res.key() + ":";
      for (const auto& path : p.paths) text += " " + path;
      text += "\n";
    }
    fingerprint = fnv1a_hex(text);
  }

  const Projection* find(std::string_view key) const {
    auto it = by_resource.find(key);
    return it == by_resource.end() ? nullptr : &it->second;
  }
};

struct Store::Ops {
  // Sets WAL mode and brings the schema to kSchemaVersion.
  static void migrate(Store& s) {
    // WAL mode is a property of the file, so it is set once, here; switching needs a moment
    // alone with the file, hence the retries.
    auto deadline = std::chrono::steady_clock::now() + kLockWait;
    for (;;) {
      std::string mode;
      auto keep_mode = [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] ? values[0] : "";
        return 0;
      };
      int rc = sqlite3_exec(s.db_, "PRAGMA journal_mode = WAL", keep_mode, &mode, nullptr);
      if (rc == SQLITE_OK && mode == "wal") break;
      if (rc == SQLITE_OK) {
        throw Error::unavailable(error_prefix(s.path_) + "cannot use write-ahead logging here (journal mode " + mode +
                                 ")");
      }
      int primary = rc & 0xff;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline) {
        throw_sqlite(s.db_, s.path_, rc);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter(5)));
    }
    s.migrating_ = true;
    try {
      s.transact([&] {
        // Another process may have migrated while we waited for the lock.
        for (int v = user_version(s); v < kSchemaVersion; ++v) kMigrations[static_cast<std::size_t>(v)](s.db_, s.path_);
        std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
        if (sqlite3_exec(s.db_, set_version.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
          throw_sqlite(s.db_, s.path_, sqlite3_errcode(s.db_));
        }
        sync_summaries(s);
      });
    } catch (...) {
      s.migrating_ = false;
      throw;
    }
    s.migrating_ = false;
  }

  // Rebuilds every summary when summary_spec names other lists than this kai's (a store just
  // migrated, or last written by a kai with other lists). Inside a write transaction; costs one
  // read when the summaries are current.
  static void sync_summaries(const Store& s) {
    {
      Query q = query(s, kSummarySpec);
      if (q.step() && q.text(0) == s.plan_->fingerprint) return;
    }
    exec(s, kClearSummaries);
    for (const auto& [key, projection] : s.plan_->by_resource) {
      Query q = query(s, kBodiesOf);
      q.bind(1, key);
      while (q.step()) {
        std::string summary = summary_text(q.parse(2), projection.tree);
        query(s, kPutSummary).bind(1, key).bind(2, q.text(0)).bind(3, q.text(1)).bind(4, summary).run();
      }
    }
    query(s, kSetSummarySpec).bind(1, s.plan_->fingerprint).run();
  }

  static void write_summary(const Store& s, const std::string& key, const std::string& ns, const std::string& name,
                            const json& obj) {
    const SummaryPlan::Projection* p = s.plan_->find(key);
    if (!p) return;
    query(s, kPutSummary).bind(1, key).bind(2, ns).bind(3, name).bind(4, summary_text(obj, p->tree)).run();
  }

  // Copies the WAL into the database and restarts it, without waiting: while another process
  // reads from or writes to the WAL this does what it can, and the next commit tries again.
  // The commit before stands either way (it is in the WAL), so failures are not errors here.
  static void checkpoint(Store& s) {
    s.busy_no_wait_ = true;
    const int mode = s.wal_frames_ >= kTruncatePages ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_RESTART;
    int rc = sqlite3_wal_checkpoint_v2(s.db_, nullptr, mode, nullptr, nullptr);
    s.busy_no_wait_ = false;
    if (rc == SQLITE_OK) s.wal_frames_ = 0;
  }

  static Query query(const Store& s, Sql which) {
    sqlite3_stmt*& st = s.stmts_[which];
    if (!st) {
      int rc = sqlite3_prepare_v3(s.db_, kSqlText[which], -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
      if (rc != SQLITE_OK) throw_sqlite(s.db_, s.path_, rc);
    }
    return Query(s.db_, st, s.path_);
  }

  static void exec(const Store& s, Sql which) { query(s, which).run(); }

  static int user_version(const Store& s) {
    Query q = query(s, kUserVersion);
    return q.step() ? static_cast<int>(q.integer(0)) : 0;
  }

  // BEGIN IMMEDIATE, retried until kLockWait has passed: the busy handler covers most waits, but
  // SQLite returns SQLITE_BUSY without calling it in some cases (e.g. while another process runs
  // WAL recovery) and SQLITE_LOCKED never calls it.
  static void begin(const Store& s) {
    auto deadline = std::chrono::steady_clock::now() + kLockWait;
    for (int attempt = 0;; ++attempt) {
      int rc;
      {
        Query q = query(s, kBegin);
        rc = q.step_code();
      }
      if (rc == SQLITE_DONE) return;
      int primary = rc & 0xff;
      bool retry = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
      if (!retry || std::chrono::steady_clock::now() >= deadline) throw_sqlite(s.db_, s.path_, rc);
      int64_t base = std::min(kBusyFirstSleepUs << std::min(attempt, 16), kBusyMaxSleepUs);
      std::this_thread::sleep_for(std::chrono::microseconds(base / 2 + jitter(base)));
    }
  }

  // Called while an exception is in flight: must not throw. A failed ROLLBACK leaves nothing to
  // do (SQLite has already rolled back when it reports that no transaction is active).
  static void rollback(const Store& s) {
    if (sqlite3_get_autocommit(s.db_)) return;
    if (sqlite3_stmt* st = s.stmts_[kRollback]) {
      sqlite3_step(st);
      sqlite3_reset(st);
    } else {
      sqlite3_exec(s.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  static void rollback_savepoint(const Store& s) {
    if (sqlite3_get_autocommit(s.db_)) return;  // an I/O error already ended the transaction
    for (Sql which : {kRollbackTo, kRelease}) {
      sqlite3_stmt* st = s.stmts_[which];
      if (!st) continue;  // prepared by transact before the savepoint; never null in practice
      sqlite3_step(st);
      sqlite3_reset(st);
    }
  }

  // Writes require the transaction opened by transact to still be there: after an I/O error
  // SQLite may have rolled it back, and writing on in autocommit mode would break atomicity.
  static void require_transaction(const Store& s) {
    if (s.tx_depth_ == 0 || sqlite3_get_autocommit(s.db_)) {
      throw Error::unavailable(error_prefix(s.path_) + "the transaction was rolled back");
    }
  }

  // The counter is read once per transaction and written back once, before it commits (an
  // UPDATE per object cost a fifth of a batch's inserts). A savepoint rolled back leaves a gap
  // in the versions, which only have to increase.
  static int64_t next_version(const Store& s) {
    if (s.rv_next_ < 0) {
      Query q = query(s, kCurrentVersion);
      if (!q.step()) throw Error::internal(error_prefix(s.path_) + "the counter row is missing");
      s.rv_next_ = s.rv_saved_ = q.integer(0);
    }
    return ++s.rv_next_;
  }

  static void save_version(const Store& s) {
    if (s.rv_next_ > s.rv_saved_) query(s, kNextVersion).bind(1, s.rv_next_).run();
    s.rv_next_ = s.rv_saved_ = -1;
  }

  static void record_change(const Store& s, int64_t rv, const char* type, const std::string& key,
                            const std::string& ns, const std::string& name, const std::string& body) {
    query(s, kInsertChange).bind(1, rv).bind(2, type).bind(3, key).bind(4, ns).bind(5, name).bind(6, body).run();
  }

  static void index_owners(const Store& s, const std::string& uid, const json& md, bool replace) {
    if (replace) query(s, kDeleteOwners).bind(1, uid).run();
    auto refs = md.find("ownerReferences");
    if (refs == md.end() || !refs->is_array()) return;
    for (const json& ref : *refs) {
      if (!ref.is_object()) continue;
      std::string owner = string_field(ref, "uid");
      if (!owner.empty()) query(s, kInsertOwner).bind(1, owner).bind(2, uid).run();
    }
  }

  struct Row {
    json body;
    std::string uid;
    int64_t resource_version;
    int64_t generation;
    std::string creation_timestamp;
  };

  static std::optional<Row> load(const Store& s, const std::string& key, const std::string& ns,
                                 const std::string& name) {
    Query q = query(s, kGetObject);
    q.bind(1, key).bind(2, ns).bind(3, name);
    if (!q.step()) return std::nullopt;
    return Row{q.parse(0), std::string(q.text(1)), q.integer(2), q.integer(3), std::string(q.text(4))};
  }

  static json insert(const Store& s, const api::ResourceInfo& res, json obj, bool keep_uid = false) {
    require_transaction(s);
    json& md = metadata_of(res, obj);
    std::string ns = object_namespace(res, md);
    std::string name = string_field(md, "name");
    std::string prefix = string_field(md, "generateName");
    bool generated = name.empty();
    if (generated && prefix.empty()) throw name_required(res);

    obj["apiVersion"] = res.api_version();
    obj["kind"] = res.kind;
    std::string uid = keep_uid ? string_field(md, "uid") : new_uid();
    if (uid.empty()) uid = new_uid();
    int64_t rv = next_version(s);
    std::string created = string_field(md, "creationTimestamp");
    if (created.empty()) created = now_rfc3339();
    md["uid"] = uid;
    md["resourceVersion"] = std::to_string(rv);
    md["generation"] = 1;
    md["creationTimestamp"] = created;

    // A generated name that is taken is drawn again, a few times, as the API server would not
    // (it returns AlreadyExists) but a local user would not want either.
    std::string key = res.key();
    for (int attempt = 0;; ++attempt) {
      if (generated) {
        name = prefix + random_suffix();
        md["name"] = name;
      }
      std::string body = obj.dump();
      query(s, kInsertObject)
          .bind(1, key)
          .bind(2, ns)
          .bind(3, name)
          .bind(4, uid)
          .bind(5, rv)
          .bind(6, int64_t{1})
          .bind(7, created)
          .bind(8, body)
          .run();
      if (sqlite3_changes(s.db_) == 1) {
        index_owners(s, uid, md, false);
        write_summary(s, key, ns, name, obj);
        record_change(s, rv, "ADDED", key, ns, name, body);
        return obj;
      }
      if (!generated || attempt == 8) throw Error::already_exists(quoted(res, name) + " already exists");
    }
  }

  static json update(const Store& s, const api::ResourceInfo& res, json obj) {
    require_transaction(s);
    json& md = metadata_of(res, obj);
    std::string ns = object_namespace(res, md);
    std::string name = string_field(md, "name");
    if (name.empty()) throw name_required(res);
    std::string key = res.key();
    std::optional<Row> cur = load(s, key, ns, name);
    if (!cur) throw not_found(res, name);

    std::string current_rv = std::to_string(cur->resource_version);
    std::string given_rv = string_field(md, "resourceVersion");
    if (!given_rv.empty() && given_rv != current_rv) {
      throw Error::conflict("Operation cannot be fulfilled on " + quoted(res, name) +
                            ": the object has been modified; please apply your changes to the latest "
                            "version and try again");
    }
    int64_t generation = cur->generation;
    if (field_or_null(obj, "spec") != field_or_null(cur->body, "spec")) ++generation;

    obj["apiVersion"] = res.api_version();
    obj["kind"] = res.kind;
    md["uid"] = cur->uid;
    md["creationTimestamp"] = cur->creation_timestamp;
    md["generation"] = generation;
    md["resourceVersion"] = current_rv;
    // Nothing changed: like the API server, keep the stored object and its resourceVersion
    // (controllers that write back what they read cause no churn in the change log).
    if (obj == cur->body) return std::move(cur->body);

    int64_t rv = next_version(s);
    md["resourceVersion"] = std::to_string(rv);
    std::string body = obj.dump();
    query(s, kUpdateObject).bind(1, key).bind(2, ns).bind(3, name).bind(4, rv).bind(5, generation).bind(6, body).run();
    const json& old_refs = field_or_null(field_or_null(cur->body, "metadata"), "ownerReferences");
    if (field_or_null(md, "ownerReferences") != old_refs) index_owners(s, cur->uid, md, true);
    write_summary(s, key, ns, name, obj);
    record_change(s, rv, "MODIFIED", key, ns, name, body);
    return obj;
  }

  struct Victim {
    std::string resource;
    std::string ns;
    std::string name;
    std::string uid;
    json body;
  };

  static json remove(const Store& s, const api::ResourceInfo& res, const std::string& ns,
                     const std::string& name) {
    require_transaction(s);
    std::string key = res.key();
    std::optional<Row> root = load(s, key, ns, name);
    if (!root) throw not_found(res, name);

    // Breadth-first over ownerReferences; `seen` stops cycles.
    std::vector<Victim> victims;
    victims.push_back({key, ns, name, root->uid, std::move(root->body)});
    std::set<std::string> seen{victims.front().uid};
    for (std::size_t i = 0; i < victims.size(); ++i) {
      Query q = query(s, kChildren);
      q.bind(1, victims[i].uid);
      while (q.step()) {
        std::string uid(q.text(3));
        if (!seen.insert(uid).second) continue;
        victims.push_back({std::string(q.text(0)), std::string(q.text(1)), std::string(q.text(2)), uid, q.parse(4)});
      }
    }

    // Dependents go first, the object itself last (foreground deletion order). Each deletion
    // gets its own resourceVersion, which the DELETED entry's object carries, as in Kubernetes.
    for (auto it = victims.rbegin(); it != victims.rend(); ++it) {
      int64_t rv = next_version(s);
      if (it->body.is_object() && it->body["metadata"].is_object()) {
        it->body["metadata"]["resourceVersion"] = std::to_string(rv);
      }
      query(s, kDeleteObject).bind(1, it->uid).run();
      query(s, kDeleteOwners).bind(1, it->uid).run();
      if (s.plan_->find(it->resource)) query(s, kDeleteSummary).bind(1, it->resource).bind(2, it->ns).bind(3, it->name).run();
      record_change(s, rv, "DELETED", it->resource, it->ns, it->name, it->body.dump());
    }
    return std::move(victims.front().body);
  }
};

std::unique_ptr<Store> Store::open(const fs::path& home) {
  fs::path db_path = home / "store.db";
  auto fail = [&](const std::string& reason) {
    return Error::unavailable("cannot open the local store at " + db_path.string() + ": " + reason);
  };
  if (std::string reason = prepare_home(home); !reason.empty()) throw fail(reason);
  if (std::string reason = prepare_db_file(db_path); !reason.empty()) throw fail(reason);

  configure_sqlite();
  std::unique_ptr<Store> s(new Store());
  s->path_ = db_path;
  s->plan_ = std::make_unique<const SummaryPlan>();
  s->stmts_.assign(kSqlCount, nullptr);
  // One Store is used by one thread at a time, so SQLite's own mutexes are not needed.
  int rc = sqlite3_open_v2(db_path.c_str(), &s->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) throw fail(s->db_ ? sqlite3_errmsg(s->db_) : sqlite3_errstr(rc));
  sqlite3_extended_result_codes(s->db_, 1);
  sqlite3_busy_handler(s->db_, on_busy, &s->busy_no_wait_);
  // Replaces SQLite's automatic checkpoints (see Store::transact).
  sqlite3_wal_hook(
      s->db_,
      [](void* frames, sqlite3*, const char*, int n) {
        *static_cast<int*>(frames) = n;
        return SQLITE_OK;
      },
      &s->wal_frames_);

  try {
    // Per connection, no I/O. No mmap: a table list reads ~100 pages of summaries, and a page
    // fault on a mapping (plus unmapping at close) costs more than a pread into the page cache:
    // `kai job list` took 2-4 ms longer with a 256 MiB mapping, and whole-body lists no less.
    if (sqlite3_exec(s->db_, "PRAGMA synchronous = FULL; PRAGMA mmap_size = 0; PRAGMA cache_size = -65536", nullptr, nullptr, nullptr) !=
        SQLITE_OK) {
      throw_sqlite(s->db_, s->path_, sqlite3_errcode(s->db_));
    }
    // The last connection to close would checkpoint the whole WAL into the database and delete
    // it: two more fsyncs after every write command (and a write, for a read-only one). Commits
    // are durable in the WAL already (synchronous=FULL), so the WAL stays, and the commit that
    // takes it to kCheckpointPages checkpoints it.
    if (sqlite3_db_config(s->db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr) != SQLITE_OK) {
      throw_sqlite(s->db_, s->path_, sqlite3_errcode(s->db_));
    }
    int version = Ops::user_version(*s);
    if (version == kSchemaVersion) return s;  // the common case: one read, no DDL
    if (version > kSchemaVersion) {
      throw Error::unavailable(error_prefix(db_path) + "schema version " + std::to_string(version) +
                               " is newer than this kai supports (" + std::to_string(kSchemaVersion) + ")");
    }
    Ops::migrate(*s);
  } catch (const Error& e) {
    std::string reason = e.what();
    if (std::string prefix = error_prefix(db_path); reason.starts_with(prefix)) reason.erase(0, prefix.size());
    throw fail(reason);
  }
  return s;
}

Store::Store() = default;

Store::~Store() {
  for (sqlite3_stmt* st : stmts_) sqlite3_finalize(st);
  sqlite3_close_v2(db_);
}

int Store::schema_version() const { return Ops::user_version(*this); }

json Store::create(const api::ResourceInfo& res, json obj) {
  json out;
  transact([&] { out = Ops::insert(*this, res, std::move(obj)); });
  return out;
}

json Store::create_with_uid(const api::ResourceInfo& res, json obj) {
  // No savepoint of its own (a fifth of a big flush's time): the caller's transaction is rolled
  // back as a whole when this throws.
  return Ops::insert(*this, res, std::move(obj), true);
}

std::string Store::new_uid() { return kai::store::new_uid(); }

std::vector<Store::ObjectRef> Store::dependents(const std::string& uid) const {
  std::vector<ObjectRef> out;
  std::set<std::string> seen{uid};
  std::vector<std::string> frontier{uid};
  for (std::size_t i = 0; i < frontier.size(); ++i) {
    Query q = Ops::query(*this, kChildren);
    q.bind(1, frontier[i]);
    while (q.step()) {
      std::string child(q.text(3));
      if (!seen.insert(child).second) continue;
      frontier.push_back(child);
      out.push_back({std::string(q.text(0)), std::string(q.text(1)), std::string(q.text(2))});
    }
  }
  return out;
}

std::vector<json> Store::create_many(const api::ResourceInfo& res, std::vector<json> objs) {
  std::vector<json> out;
  out.reserve(objs.size());
  transact([&] {
    for (json& obj : objs) out.push_back(Ops::insert(*this, res, std::move(obj)));
  });
  return out;
}

json Store::get(const api::ResourceInfo& res, const std::string& ns, const std::string& name) const {
  std::optional<json> obj = find(res, ns, name);
  if (!obj) throw not_found(res, name);
  return std::move(*obj);
}

std::optional<json> Store::find(const api::ResourceInfo& res, const std::string& ns, const std::string& name) const {
  Query q = Ops::query(*this, kGetObject);
  q.bind(1, res.key()).bind(2, resolve_namespace(res, ns)).bind(3, name);
  if (!q.step()) return std::nullopt;
  return q.parse(0);
}

std::vector<json> Store::list(const api::ResourceInfo& res, const ListOptions& opts) const {
  bool one_namespace = res.namespaced && !opts.ns.empty();
  const std::string key = res.key();
  std::vector<json> out;
  auto keep = [&](json obj) {
    if (!opts.labels.empty() && !opts.labels.matches_object(obj)) return;
    if (!opts.fields.empty() && !opts.fields.matches_object(obj)) return;
    out.push_back(std::move(obj));
  };
  using Key = std::pair<std::string_view, std::string_view>;
  auto before_start = [&](const Query& q) {
    return opts.after && Key(q.text(0), q.text(1)) <= Key(opts.after->first, opts.after->second);
  };
  auto full = [&] { return opts.limit > 0 && out.size() >= opts.limit; };
  // Summaries, when the caller reads nothing they leave out.
  if (const SummaryPlan::Projection* p = plan_->find(key);
      p && !selectors_read(opts, p->tree) &&
      std::all_of(p->paths.begin(), p->paths.end(), [&](const std::string& path) {
        return std::find(opts.omit.begin(), opts.omit.end(), path) != opts.omit.end();
      })) {
    Query q = Ops::query(*this, one_namespace ? kListSummariesNamespace : kListSummaries);
    q.bind(1, key).bind(2, plan_->fingerprint);
    if (one_namespace) q.bind(3, opts.ns);
    bool any = false;
    while (!full() && q.step()) {
      any = true;
      if (!before_start(q)) keep(q.parse(2));
    }
    // No rows: nothing to list, or summaries from other lists; the bodies tell.
    if (any) return out;
  }
  // The bodies, skipping what the caller omits (unless a selector reads it).
  OmitTree omitted;
  for (const auto& path : opts.omit) omitted.add(path);
  const OmitTree* skip = opts.omit.empty() || selectors_read(opts, omitted) ? nullptr : &omitted;
  Query q = Ops::query(*this, one_namespace ? kListNamespace : kListAll);
  q.bind(1, key);
  if (one_namespace) q.bind(2, opts.ns);
  while (!full() && q.step()) {
    if (!before_start(q)) keep(q.parse(2, skip));
  }
  return out;
}

std::size_t Store::count_after(const api::ResourceInfo& res, const std::string& ns,
                               const std::pair<std::string, std::string>& after) const {
  Query q = Ops::query(*this, kCountAfter);
  q.bind(1, res.key()).bind(2, res.namespaced ? ns : std::string()).bind(3, after.first).bind(4, after.second);
  return q.step() ? static_cast<std::size_t>(q.integer(0)) : 0;
}

json Store::update(const api::ResourceInfo& res, json obj) {
  json out;
  transact([&] { out = Ops::update(*this, res, std::move(obj)); });
  return out;
}

json Store::remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  json out;
  transact([&] { out = Ops::remove(*this, res, resolve_namespace(res, ns), name); });
  return out;
}

void Store::transact(const std::function<void()>& fn) {
  if (tx_depth_ > 0) {
    // Nested: a savepoint, so that a failed inner call (say, a create that found the name taken
    // and was caught by fn) leaves no partial writes in the outer transaction.
    Ops::query(*this, kRollbackTo);  // prepared now: rolling back must not need to prepare
    Ops::query(*this, kRelease);
    Ops::exec(*this, kSavepoint);
    ++tx_depth_;
    const int64_t rv_at_savepoint = rv_next_;
    try {
      fn();
    } catch (...) {
      --tx_depth_;
      // The versions handed out since the savepoint were rolled back with it: no gap.
      rv_next_ = rv_at_savepoint >= 0 ? rv_at_savepoint : rv_saved_;
      Ops::rollback_savepoint(*this);
      throw;
    }
    --tx_depth_;
    Ops::exec(*this, kRelease);
    return;
  }
  Ops::query(*this, kRollback);
  Ops::begin(*this);
  tx_depth_ = 1;
  try {
    if (!migrating_) Ops::sync_summaries(*this);
    fn();
    Ops::save_version(*this);
    Ops::exec(*this, kCommit);
  } catch (...) {
    tx_depth_ = 0;
    rv_next_ = rv_saved_ = -1;
    Ops::rollback(*this);
    throw;
  }
  tx_depth_ = 0;
  if (wal_frames_ >= checkpoint_pages_) Ops::checkpoint(*this);
}

void Store::read_snapshot(const std::function<void()>& fn) {
  if (tx_depth_ > 0) {
    fn();
    return;
  }
  Ops::query(*this, kRollback);
  Ops::exec(*this, kBeginRead);
  try {
    fn();
  } catch (...) {
    Ops::rollback(*this);
    throw;
  }
  Ops::rollback(*this);  // nothing was written: ending the read is all there is to do
}

int64_t Store::current_resource_version() const {
  if (tx_depth_ > 0 && rv_next_ >= 0) return rv_next_;
  Query q = Ops::query(*this, kCurrentVersion);
  return q.step() ? q.integer(0) : 0;
}

void Store::checkpoint() {
  // PASSIVE: copies what it can without the writer lock, so commands writing meanwhile are not
  // held up; the next writer that finds it all copied starts the WAL over by itself.
  if (tx_depth_ == 0) sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

void Store::set_checkpoint_pages(int pages) { checkpoint_pages_ = pages > 0 ? pages : kCheckpointPages; }

std::vector<Change> Store::changes_since(int64_t since, std::size_t limit) const {
  std::vector<Change> out;
  if (limit == 0) return out;
  {
    Query q = Ops::query(*this, kChangesSince);
    int64_t max_limit = std::numeric_limits<int64_t>::max();
    q.bind(1, since).bind(2, limit > static_cast<std::size_t>(max_limit) ? max_limit : static_cast<int64_t>(limit));
    while (q.step()) out.push_back(Change{q.integer(0), std::string(q.text(1)), std::string(q.text(2)), q.parse(3)});
  }
  if (out.empty()) {
    // None: nothing happened since, or the change log no longer goes back that far.
    const int64_t compacted = compacted_resource_version();
    if (since < compacted) {
      throw Error::gone("too old resource version: " + std::to_string(since) + " (" + std::to_string(compacted) + ")");
    }
  }
  return out;
}

int64_t Store::compacted_resource_version() const {
  Query q = Ops::query(*this, kCompaction);
  return q.step() ? q.integer(0) : 0;
}

bool Store::compact_changes_if_due(double interval_seconds, double now) {
  if (interval_seconds <= 0) return false;
  int64_t compacted = 0, mark_rv = 0;
  double mark_time = 0;
  auto read = [&] {
    Query q = Ops::query(*this, kCompaction);
    if (!q.step()) throw Error::internal(error_prefix(path_) + "the compaction row is missing");
    compacted = q.integer(0);
    mark_rv = q.integer(1);
    mark_time = q.real(2);
  };
  auto due = [&] { return mark_time <= 0 || now < mark_time || now - mark_time >= interval_seconds; };
  read();  // without the write lock: most calls find nothing due
  if (!due()) return false;
  bool compacted_now = false;
  transact([&] {
    read();
    if (!due()) return;
    const int64_t current = current_resource_version();
    if (mark_time > 0 && now >= mark_time && mark_rv > compacted) {
      Ops::query(*this, kCompact).bind(1, mark_rv).run();
      compacted = mark_rv;
      compacted_now = true;
    }
    Ops::query(*this, kSetCompaction).bind(1, compacted).bind(2, current).bind(3, now).run();
  });
  return compacted_now;
}

fs::path default_home() {
  if (const char* h = std::getenv("KAI_HOME"); h && *h) return h;
  // The XDG spec says relative paths are invalid and are to be ignored.
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x == '/') return fs::path(x) / "kai";
  std::string user_home;
  if (const char* h = std::getenv("HOME"); h && *h) {
    user_home = h;
  } else if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_dir) {
    user_home = pw->pw_dir;
  }
  return fs::path(user_home.empty() ? "/" : user_home) / ".local" / "state" / "kai";
}

}  // namespace kai::store
