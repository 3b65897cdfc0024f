#pragma once
// The objects one reconcile works on, in memory. A reconcile runs its controller passes against
// a WorkingSet inside one store transaction and writes only the final state of what changed
// (flush), so a pod that is created, bound and started within one reconcile costs one row, and
// no pass parses the store again. Same calls and errors as store::Store; resources are read
// from the store when first listed, single objects when first looked up.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/api/resources.h"
#include "minicluster/store.h"

namespace kai::minicluster {

using json = nlohmann::json;

class WorkingSet {
 public:
  /// Must be used inside one store transaction (Store::transact), from load to flush.
  explicit WorkingSet(store::Store& s) : store_(s) {}

  /// Objects sorted by namespace, then name (copies).
  std::vector<json> list(const api::ResourceInfo& res);
  /// The objects themselves, in list order, valid until the next create or remove of `res`.
  std::vector<const json*> view(const api::ResourceInfo& res);
  std::optional<json> find(const api::ResourceInfo& res, const std::string& ns, const std::string& name);
  /// The object itself (no copy) or null; valid until the next create or remove of `res`.
  const json* peek(const api::ResourceInfo& res, const std::string& ns, const std::string& name);

  /// As Store::create: uid, creationTimestamp (unless set), generation 1, apiVersion and kind;
  /// AlreadyExists when the name is taken. Its resourceVersion is the working set's own until
  /// flush.
  /// The returned reference is the working set's object (valid as peek's).
  const json& create(const api::ResourceInfo& res, json obj);
  /// As Store::update: NotFound, Conflict on a stale resourceVersion, uid and creationTimestamp
  /// kept, generation bumped when spec changed.
  const json& update(const api::ResourceInfo& res, json obj);
  /// As Store::remove: the object and everything it owns (ownerReferences), transitively.
  json remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name);

  /// Changes made so far (a pass that adds none has reached the fixed point).
  int64_t mutations() const { return mutations_; }
  /// Changes made so far to objects of one resource (creates, updates, removals, cascades).
  int64_t mutations(const api::ResourceInfo& res) const;
  /// The uids of the objects changed since the last call, and of their owners: which jobs a
  /// controller pass has to look at again.
  std::unordered_set<std::string> take_touched() { return std::exchange(touched_, {}); }
  /// Writes every changed object to the store (creates, updates, deletes), in the caller's
  /// transaction. Returns the number of objects written.
  int flush();

 private:
  struct Entry {
    json obj;             ///< the current object (meaningless when !exists)
    bool exists = false;  ///< false: known absent, or deleted here
    bool stored = false;  ///< the store has (had) it: update/delete at flush, else create
    bool dirty = false;
    std::string stored_rv;   ///< its resourceVersion in the store
    std::string stored_uid;  ///< its uid in the store (another one here: deleted and made again)
  };
  using Key = std::pair<std::string, std::string>;  // namespace, name
  struct Table {
    bool full = false;  ///< every stored object has been read
    int64_t mutations = 0;
    std::map<Key, Entry> entries;
  };

  Table& table(const api::ResourceInfo& res);
  void load_all(const api::ResourceInfo& res, Table& t);
  Entry* lookup(const api::ResourceInfo& res, Table& t, const Key& key);
  void index_children(const std::string& res_key, const Key& key, const json& obj);
  void mark_removed(const std::string& res_key, const Key& key, std::vector<std::string>& uids);

  store::Store& store_;
  std::map<std::string, Table> tables_;                        // by ResourceInfo::key()
  std::map<std::string, api::ResourceInfo> infos_;             // by ResourceInfo::key()
  std::map<std::string, std::set<std::pair<std::string, Key>>> children_;  // owner uid -> (res key, key)
  void touch(const json& obj);
  std::unordered_set<std::string> touched_;
  int64_t mutations_ = 0;
  int64_t next_local_rv_ = 0;
};

}  // namespace kai::minicluster
