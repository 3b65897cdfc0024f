#include "minicluster/working_set.h"

#include <chrono>
#include <ctime>

#include "lib/api/error.h"

namespace kai::minicluster {
namespace {

std::string field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& metadata(const json& obj) {
  static const json kEmpty = json::object();
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::string quoted(const api::ResourceInfo& res, const std::string& name) {
  return res.qualified_plural() + " \"" + name + "\"";
}

Error not_found(const api::ResourceInfo& res, const std::string& name) {
  return Error::not_found(quoted(res, name) + " not found");
}

/// The namespace an object of `res` lives in, written back into its metadata as the store does.
std::string object_namespace(const api::ResourceInfo& res, json& md) {
  if (!res.namespaced) {
    md.erase("namespace");
    return "";
  }
  std::string ns = field(md, "namespace");
  if (ns.empty()) ns = "default";
  md["namespace"] = ns;
  return ns;
}

json& checked_metadata(const api::ResourceInfo& res, json& obj) {
  if (!obj.is_object()) throw Error::invalid(res.qualified_kind() + ": expected a JSON object");
  json& md = obj["metadata"];
  if (md.is_null()) md = json::object();
  if (!md.is_object()) throw Error::invalid(res.qualified_kind() + ": metadata: expected an object");
  return md;
}

const json& spec_of(const json& obj) {
  static const json kNull;
  auto it = obj.find("spec");
  return it == obj.end() ? kNull : *it;
}

}  // namespace

void WorkingSet::touch(const json& obj) {
  const json& md = metadata(obj);
  if (auto uid = field(md, "uid"); !uid.empty()) touched_.insert(uid);
  auto refs = md.find("ownerReferences");
  if (refs == md.end() || !refs->is_array()) return;
  for (const auto& r : *refs) {
    if (r.is_object()) touched_.insert(field(r, "uid"));
  }
}

WorkingSet::Table& WorkingSet::table(const api::ResourceInfo& res) {
  const std::string k = res.key();
  if (!infos_.count(k)) infos_.emplace(k, res);
  return tables_[k];
}

void WorkingSet::index_children(const std::string& res_key, const Key& key, const json& obj) {
  auto refs = metadata(obj).find("ownerReferences");
  if (refs == metadata(obj).end() || !refs->is_array()) return;
  for (const auto& r : *refs) {
    if (!r.is_object()) continue;
    std::string uid = field(r, "uid");
    if (!uid.empty()) children_[uid].insert({res_key, key});
  }
}

void WorkingSet::load_all(const api::ResourceInfo& res, Table& t) {
  if (t.full) return;
  const std::string rk = res.key();
  for (auto& obj : store_.list(res)) {
    const json& md = metadata(obj);
    Key key{field(md, "namespace"), field(md, "name")};
    if (t.entries.count(key)) continue;  // read before, or changed here: ours is newer
    Entry e;
    e.stored_rv = field(md, "resourceVersion");
    e.stored_uid = field(md, "uid");
    e.exists = e.stored = true;
    index_children(rk, key, obj);
    e.obj = std::move(obj);
    t.entries.emplace(std::move(key), std::move(e));
  }
  t.full = true;
}

WorkingSet::Entry* WorkingSet::lookup(const api::ResourceInfo& res, Table& t, const Key& key) {
  if (auto it = t.entries.find(key); it != t.entries.end()) return &it->second;
  if (t.full) return nullptr;
  Entry e;
  if (auto obj = store_.find(res, key.first, key.second)) {
    e.stored_rv = field(metadata(*obj), "resourceVersion");
    e.stored_uid = field(metadata(*obj), "uid");
    e.exists = e.stored = true;
    index_children(res.key(), key, *obj);
    e.obj = std::move(*obj);
  }
  return &t.entries.emplace(key, std::move(e)).first->second;
}

std::vector<const json*> WorkingSet::view(const api::ResourceInfo& res) {
  Table& t = table(res);
  load_all(res, t);
  std::vector<const json*> out;
  out.reserve(t.entries.size());
  for (const auto& [k, e] : t.entries) {
    if (e.exists) out.push_back(&e.obj);
  }
  return out;
}

std::vector<json> WorkingSet::list(const api::ResourceInfo& res) {
  std::vector<json> out;
  for (const json* o : view(res)) out.push_back(*o);
  return out;
}

const json* WorkingSet::peek(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  Table& t = table(res);
  const Entry* e = lookup(res, t, {res.namespaced ? (ns.empty() ? "default" : ns) : "", name});
  return e && e->exists ? &e->obj : nullptr;
}

std::optional<json> WorkingSet::find(const api::ResourceInfo& res, const std::string& ns, const std::string& name) {
  if (const json* o = peek(res, ns, name)) return *o;
  return std::nullopt;
}

const json& WorkingSet::create(const api::ResourceInfo& res, json obj) {
  json& md = checked_metadata(res, obj);
  const std::string ns = object_namespace(res, md);
  std::string name = field(md, "name");
  const std::string prefix = field(md, "generateName");
  if (name.empty() && prefix.empty()) {
    throw Error::invalid(res.qualified_kind() + ": metadata.name: Required value: name or generateName is required");
  }
  Table& t = table(res);
  Entry* e = nullptr;
  for (int attempt = 0;; ++attempt) {
    if (!prefix.empty() && field(md, "name").empty()) {
      static constexpr char kChars[] = "bcdfghjklmnpqrstvwxz2456789";
      const std::string r = store::Store::new_uid();
      name = prefix;
      for (int i = 0; i < 5; ++i) name += kChars[static_cast<unsigned char>(r[i]) % (sizeof kChars - 1)];
    }
    e = lookup(res, t, {ns, name});
    if (!e || !e->exists) break;
    if (field(md, "name") == name || attempt == 8) throw Error::already_exists(quoted(res, name) + " already exists");
  }
  md["name"] = name;
  obj["apiVersion"] = res.api_version();
  obj["kind"] = res.kind;
  md["uid"] = store::Store::new_uid();
  if (field(md, "creationTimestamp").empty()) md["creationTimestamp"] = store::now_rfc3339();
  md["generation"] = 1;
  md["resourceVersion"] = "ws" + std::to_string(++next_local_rv_);
  if (!e) e = &t.entries[{ns, name}];
  index_children(res.key(), {ns, name}, obj);
  e->obj = std::move(obj);
  e->exists = true;
  e->dirty = true;
  ++t.mutations;
  ++mutations_;
  touch(e->obj);
  return e->obj;
}

const json& WorkingSet::update(const api::ResourceInfo& res, json obj) {
  json& md = checked_metadata(res, obj);
  const std::string ns = object_namespace(res, md);
  const std::string name = field(md, "name");
  if (name.empty()) throw Error::invalid(res.qualified_kind() + ": metadata.name: Required value: name is required");
  Table& t = table(res);
  Entry* e = lookup(res, t, {ns, name});
  if (!e || !e->exists) throw not_found(res, name);
  json& cur = e->obj;
  const json& cur_md = metadata(cur);
  const std::string current_rv = field(cur_md, "resourceVersion");
  const std::string given_rv = field(md, "resourceVersion");
  if (!given_rv.empty() && given_rv != current_rv) {
    throw Error::conflict("Operation cannot be fulfilled on " + quoted(res, name) +
                          ": the object has been modified; please apply your changes to the latest "
                          "version and try again");
  }
  int64_t generation = cur_md.value("generation", int64_t{1});
  if (spec_of(obj) != spec_of(cur)) ++generation;
  obj["apiVersion"] = res.api_version();
  obj["kind"] = res.kind;
  md["uid"] = cur_md.value("uid", json());
  md["creationTimestamp"] = cur_md.value("creationTimestamp", json());
  md["generation"] = generation;
  md["resourceVersion"] = current_rv;
  if (obj == cur) return cur;  // nothing changed: no new version, as the store answers
  md["resourceVersion"] = "ws" + std::to_string(++next_local_rv_);
  if (metadata(obj).value("ownerReferences", json()) != cur_md.value("ownerReferences", json())) {
    index_children(res.key(), {ns, name}, obj);
  }
  cur = std::move(obj);
  e->dirty = true;
  ++t.mutations;
  ++mutations_;
  touch(cur);
  return cur;
}

json WorkingSet::remove(const api::ResourceInfo& res, const std::string& ns_in, const std::string& name) {
  const std::string ns = res.namespaced ? (ns_in.empty() ? "default" : ns_in) : "";
  Table& t = table(res);
  Entry* e = lookup(res, t, {ns, name});
  if (!e || !e->exists) throw not_found(res, name);
  json out = e->obj;
  e->exists = false;
  e->dirty = e->stored;  // flush deletes it from the store, and the store its dependents
  ++t.mutations;
  ++mutations_;
  touch(out);
  const std::string root_uid = field(metadata(out), "uid");
  // Dependents: the store's remove() at flush deletes those it holds, so here they only
  // disappear from view (not dirty); those made here are never written.
  std::vector<std::string> frontier{root_uid};
  std::set<std::string> seen{root_uid};
  if (e->stored && !root_uid.empty() && root_uid == e->stored_uid) {
    for (const auto& ref : store_.dependents(root_uid)) {
      Table& ct = tables_[ref.resource];
      Entry& c = ct.entries[{ref.ns, ref.name}];
      ++ct.mutations;
      if (!c.stored && !c.exists) c.stored = true;  // not read yet: known gone from now on
      if (!c.exists) continue;
      c.exists = false;
      c.dirty = false;
      if (auto u = field(metadata(c.obj), "uid"); !u.empty() && seen.insert(u).second) frontier.push_back(u);
    }
  }
  for (std::size_t i = 0; i < frontier.size(); ++i) {
    auto it = children_.find(frontier[i]);
    if (it == children_.end()) continue;
    for (const auto& [rk, key] : it->second) {
      Table& ct = tables_[rk];
      Entry& c = ct.entries[key];
      if (!c.exists) continue;
      // Still owned by it? (ownerReferences may have changed since it was indexed.)
      bool owned = false;
      for (const auto& r : metadata(c.obj).value("ownerReferences", json::array())) {
        if (r.is_object() && field(r, "uid") == frontier[i]) owned = true;
      }
      if (!owned) continue;
      ++ct.mutations;
      c.exists = false;
      c.dirty = false;
      if (auto u = field(metadata(c.obj), "uid"); !u.empty() && seen.insert(u).second) frontier.push_back(u);
    }
  }
  return out;
}

int64_t WorkingSet::mutations(const api::ResourceInfo& res) const {
  auto it = tables_.find(res.key());
  return it == tables_.end() ? 0 : it->second.mutations;
}

int WorkingSet::flush() {
  int written = 0;
  // Deletions first, so that a name deleted and made again here is free in the store.
  for (auto& [rk, t] : tables_) {
    for (auto& [key, e] : t.entries) {
      if (!e.dirty || !e.stored) continue;
      const bool replaced = e.exists && field(metadata(e.obj), "uid") != e.stored_uid;
      if (e.exists && !replaced) continue;
      try {
        store_.remove(infos_.at(rk), key.first, key.second);
      } catch (const Error& err) {
        if (err.kind() != ErrorKind::NotFound) throw;  // gone with its owner already
      }
      ++written;
    }
  }
  for (auto& [rk, t] : tables_) {
    for (auto& [key, e] : t.entries) {
      if (!e.dirty || !e.exists) continue;
      json& md = e.obj["metadata"];
      if (e.stored && field(md, "uid") == e.stored_uid) {
        md["resourceVersion"] = e.stored_rv;
        e.obj = store_.update(infos_.at(rk), std::move(e.obj));
      } else {
        md.erase("resourceVersion");
        e.obj = store_.create_with_uid(infos_.at(rk), std::move(e.obj));
      }
      ++written;
    }
  }
  for (auto& [rk, t] : tables_) {
    for (auto& [key, e] : t.entries) {
      if (!e.dirty) continue;
      e.dirty = false;
      e.stored = e.exists;
      if (e.exists) {
        e.stored_rv = field(metadata(e.obj), "resourceVersion");
        e.stored_uid = field(metadata(e.obj), "uid");
      }
    }
  }
  return written;
}

}  // namespace kai::minicluster
