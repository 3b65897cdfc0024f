#pragma once
// YAML <-> JSON. Objects are nlohmann::json, Kubernetes-shaped; unknown fields are kept.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kai::api {

using json = nlohmann::json;

/// Limits that keep hostile input bounded in memory and time.
struct DecodeLimits {
  std::size_t max_bytes = 16u << 20;        ///< whole input (a 50 MB file is refused up front)
  std::size_t max_depth = 512;              ///< nesting of maps/sequences
  std::size_t max_nodes = 2'000'000;        ///< JSON values produced, aliases expanded (billion laughs)
};

/// Parses YAML (or JSON) text with one or more documents separated by `---`.
/// Empty documents are skipped; a `kind: List` / `*List` document is expanded into its items.
/// Scalars follow YAML 1.2 core schema as Kubernetes reads them (plain `10` is a number,
/// `"10"` a string, `true`/`false` booleans, `null`/`~`/empty null).
/// `source` names the input in errors ("job.yaml", "<stdin>"): throws kai::Error Invalid with
/// a message like `job.yaml: line 3, column 5: <what yaml-cpp says>` or
/// `job.yaml: input is 52428800 bytes, larger than the limit of 16777216`.
std::vector<json> decode_documents(std::string_view text, const std::string& source,
                                   const DecodeLimits& limits = {});

/// Reads a file (or stdin when path is "-") with the size limit checked before reading it whole,
/// then decode_documents. Errors: `kai: error: x.yaml: no such file or directory`,
/// `x: is a directory`, `x.yaml: no objects passed to apply` style (see implementation).
std::vector<json> decode_file(const std::string& path, const DecodeLimits& limits = {});

/// Emits JSON as YAML the way kubectl does: block style, 2-space indent, keys in the object's
/// order (nlohmann::json keeps them sorted), strings quoted only when a plain scalar would be
/// read back as something else (numbers, booleans, null, timestamps, leading special chars).
std::string to_yaml(const json& value);

/// JSON as kubectl prints it: 4-space indent, trailing newline.
std::string to_json(const json& value);

}  // namespace kai::api
