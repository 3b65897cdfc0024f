#pragma once
// Reading one field by its JSON pointer ("/status/phase") in the controllers' hot loops: walks
// the objects with transparent lookups instead of building a json::json_pointer (a parse and a
// vector of strings) and looking each level up twice (contains, then at) on every call. Object
// keys only (no array indices); "~1" and "~0" are unescaped as in RFC 6901.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kai::minicluster {

/// The value at `path`, or nullptr when some level is missing or not an object.
inline const nlohmann::json* find_field(const nlohmann::json& o, std::string_view path) {
  const nlohmann::json* cur = &o;
  std::string unescaped;
  while (!path.empty()) {
    if (path.front() != '/' || !cur->is_object()) return nullptr;
    path.remove_prefix(1);
    const std::size_t end = path.find('/');
    std::string_view key = path.substr(0, end);
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
    if (key.find('~') != std::string_view::npos) {
      unescaped.clear();
      for (std::size_t i = 0; i < key.size(); ++i) {
        if (key[i] == '~' && i + 1 < key.size() && (key[i + 1] == '1' || key[i + 1] == '0')) {
          unescaped.push_back(key[++i] == '1' ? '/' : '~');
        } else {
          unescaped.push_back(key[i]);
        }
      }
      key = unescaped;
    }
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

/// The string at `path`, or `def` when it is missing or not a string.
inline std::string string_at(const nlohmann::json& o, std::string_view path, const std::string& def = "") {
  const nlohmann::json* v = find_field(o, path);
  return v && v->is_string() ? v->get<std::string>() : def;
}

}  // namespace kai::minicluster
