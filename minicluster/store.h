#pragma once
// The local store: SQLite in WAL mode under $KAI_HOME. One row per object, one global
// resourceVersion counter, a change log for watch, and for the resources that tables list often
// (client::table_omit) a small summary per object, so that a table never parses whole bodies. Safe for many kai processes at once and
// for kill -9 at any instant (every acknowledged write is a committed transaction).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/api/resources.h"
#include "lib/api/selectors.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kai::store {

using json = nlohmann::json;

/// A change log entry, for watch consumers.
struct Change {
  int64_t resource_version;
  std::string type;      ///< "ADDED", "MODIFIED", "DELETED"
  std::string resource;  ///< ResourceInfo::key()
  json object;           ///< the object after the change (before, for DELETED)
};

/// Options of a list.
struct ListOptions {
  std::string ns;  ///< "" = all namespaces (ignored for cluster-scoped resources)
  api::LabelSelector labels;
  api::FieldSelector fields;
  /// Parts of each object the caller will not read, as dotted paths where `*` stands for every
  /// element of an array ("spec.tasks.*.template"). They are left out of the objects returned,
  /// skipped while parsing, which is most of the cost of listing. When `omit` holds every path
  /// of client::table_omit(res), the list reads the stored summaries instead of the bodies (the
  /// objects then lack exactly those paths). Ignored when a selector reads an omitted part.
  /// Empty: whole objects.
  std::vector<std::string> omit;
  /// Paging: only the objects after this (namespace, name) in list order, and at most `limit`
  /// of them (0: all). Rows before the key are skipped without being parsed, and reading stops
  /// once `limit` objects passed the selectors.
  std::optional<std::pair<std::string, std::string>> after;
  std::size_t limit = 0;
};

class Store {
 public:
  /// Opens (creating if needed) `<home>/store.db`. Creates `home` with mode 0700 and the
  /// database files with 0600. Runs schema migrations. Throws kai::Error Unavailable
  /// naming the path when the directory is not writable.
  static std::unique_ptr<Store> open(const std::filesystem::path& home);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Current schema version (kSchemaVersion after open).
  int schema_version() const;
  /// 1: objects, owners, changes, counter. 2: summaries (objects without
  /// client::table_omit(res)) and summary_spec (which lists they follow). 3: compaction.
  static constexpr int kSchemaVersion = 3;

  /// Stores a new object. Assigns metadata.uid (random UUID v4), resourceVersion (string of the
  /// new global counter), generation 1, creationTimestamp (RFC 3339 UTC, seconds) unless already
  /// set by the caller (a creationTimestamp given is kept). metadata.generateName is honoured when
  /// name is empty (5 random [a-z0-9] chars appended). Returns the stored object.
  /// Throws kai::Error AlreadyExists `<qualified_plural> "<name>" already exists`.
  json create(const api::ResourceInfo& res, json obj);
  /// create(), keeping the metadata.uid the caller set (a new one when it has none): for the
  /// reconcile's working set, which hands out uids before its objects reach the store. Only
  /// inside transact(), whose transaction must be abandoned (rethrow) when this throws.
  json create_with_uid(const api::ResourceInfo& res, json obj);
  /// A fresh random UUID v4, as create() assigns.
  static std::string new_uid();
  /// An object named by resource key (ResourceInfo::key()), namespace and name.
  struct ObjectRef {
    std::string resource, ns, name;
  };
  /// Every object that the object with this uid owns, directly or through others (what remove()
  /// would delete with it), breadth first.
  std::vector<ObjectRef> dependents(const std::string& uid) const;
  /// Creates many objects in one transaction (all or nothing). Returns them stored.
  std::vector<json> create_many(const api::ResourceInfo& res, std::vector<json> objs);

  /// Throws kai::Error NotFound `<qualified_plural> "<name>" not found`.
  json get(const api::ResourceInfo& res, const std::string& ns, const std::string& name) const;
  std::optional<json> find(const api::ResourceInfo& res, const std::string& ns, const std::string& name) const;

  /// Objects sorted by namespace, then name (see ListOptions::omit for summaries).
  std::vector<json> list(const api::ResourceInfo& res, const ListOptions& opts = {}) const;

  /// How many objects of `res` (in namespace `ns`, "" = all) come after (namespace, name) in
  /// list order: a list page's remainingItemCount, without reading a body.
  std::size_t count_after(const api::ResourceInfo& res, const std::string& ns, const std::pair<std::string, std::string>& after) const;

  /// Replaces the object. If obj.metadata.resourceVersion is set and differs from the stored
  /// one: kai::Error Conflict `Operation cannot be fulfilled on <qualified_plural> "<name>": the
  /// object has been modified; please apply your changes to the latest version and try again`.
  /// uid and creationTimestamp are kept from the stored object. generation is bumped when
  /// `spec` changed. Returns the stored object with its new resourceVersion.
  json update(const api::ResourceInfo& res, json obj);

  /// Deletes the object and, transitively, every object whose metadata.ownerReferences names
  /// the uid of a deleted object (foreground cascade in one transaction). Returns the deleted
  /// object. Throws NotFound.
  json remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name);

  /// Runs fn inside one write transaction (BEGIN IMMEDIATE ... COMMIT; rolled back if fn
  /// throws). Store calls made by fn on this Store join that transaction. Retries on SQLITE_BUSY.
  /// A commit that leaves the WAL long copies it into the database file (without waiting for
  /// other processes); closing never does, so a read-only command writes nothing.
  void transact(const std::function<void()>& fn);

  /// Runs fn inside one read transaction: every read fn makes sees the same snapshot of the
  /// store, and writers are not held up. Writing inside it is an error (no silent upgrade to a
  /// write transaction). Inside transact(), just runs fn.
  void read_snapshot(const std::function<void()>& fn);

  /// A commit that leaves at least this many pages in the WAL checkpoints it (default 256). A
  /// command the user waits on sets it high and leaves checkpoints to the background reconcile
  /// that follows its write.
  void set_checkpoint_pages(int pages);
  /// Copies the WAL into the database now, as far as readers allow, without taking the writer
  /// lock (the next commit then starts the WAL over). Every process that opens the store first
  /// reads the WAL's valid frames, so background work leaves it short. No-op in a transaction.
  void checkpoint();

  /// The latest resourceVersion handed out (0 when empty).
  int64_t current_resource_version() const;
  /// Changes with resourceVersion > since, oldest first, at most `limit`. Throws kai::Error Gone
  /// `too old resource version: <since> (<compacted>)` when the log was compacted past `since`.
  std::vector<Change> changes_since(int64_t since, std::size_t limit = 10000) const;
  /// The change log's compaction, as kube-apiserver has etcd compact every interval (5 minutes by
  /// default) to the revision it saw at the interval before: when `interval_seconds` have
  /// passed since the last check, the changes up to the resourceVersion current at that check
  /// are deleted, and this one's is remembered. So at least one interval of history is kept: a
  /// watch from a resourceVersion just listed never expires. True when changes were deleted.
  /// (The mark is in the store, so every process that reconciles shares one schedule.)
  bool compact_changes_if_due(double interval_seconds, double now_unix_seconds);
  /// Changes up to this resourceVersion are gone (0: none).
  int64_t compacted_resource_version() const;

  /// Raw handle for diagnostics and tests (PRAGMA integrity_check).
  sqlite3* handle() { return db_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  struct Ops;          // the statements and steps behind the public calls, in store.cpp
  struct SummaryPlan;  // which resources have summaries and what they leave out, in store.cpp
  Store();
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  int tx_depth_ = 0;
  mutable int64_t rv_next_ = -1;   // in a transaction: the last resourceVersion handed out (-1: not read)
  mutable int64_t rv_saved_ = -1;  // the counter's value in the database
  bool migrating_ = false;  // summaries are brought up to date by the migration itself
  int wal_frames_ = 0;       // frames in the WAL after this connection's last commit
  int checkpoint_pages_ = 256;
  bool busy_no_wait_ = false;  // the busy handler gives up at once (while checkpointing)
  std::unique_ptr<const SummaryPlan> plan_;
  mutable std::vector<sqlite3_stmt*> stmts_;  // prepared on first use, indexed by store.cpp's Sql
};

/// Now as Kubernetes writes times (RFC 3339, UTC, whole seconds): creationTimestamp, events,
/// pod and job status. The one clock format of the local cluster.
std::string now_rfc3339();

/// $KAI_HOME, else $XDG_STATE_HOME/kai, else ~/.local/state/kai.
std::filesystem::path default_home();

}  // namespace kai::store
