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
  std::size_t max_bytes = 16u << 20;   ///< whole input (a 50 MB file is refused up front)
  /// Nesting of maps/sequences. yaml-cpp 0.7 also stops by itself at about 500 nested nodes.
  std::size_t max_depth = 256;
  std::size_t max_nodes = 2'000'000;   ///< JSON values produced, aliases expanded (billion laughs)
  /// Bytes of strings (values and keys) produced, aliases expanded: an alias to one long string
  /// repeated many times is refused even when the number of values stays small.
  std::size_t max_expanded_bytes = 64u << 20;
};

/// Parses YAML (or JSON) text with one or more documents separated by `---`. As kubectl does,
/// text whose first non-blank character is `{` is read as a stream of JSON values instead
/// (nlohmann; `\ud83d\ude00` surrogate pairs work, a repeated key keeps the last value).
/// Empty and `null` documents are skipped; a document whose kind ends in "List" and that has
/// `items` is replaced by its items (recursively). Every other document must be a map.
///
/// Scalars are typed the way kubectl reads manifests (sigs.k8s.io/yaml = go-yaml v2, then JSON):
/// - quoted and block (`|`, `>`) scalars are strings; `!!str` forces a string;
/// - plain `null`, `Null`, `NULL`, `~` and empty are null;
/// - plain `true/True/TRUE/false/...` and also YAML 1.1's `yes/no/on/off/y/n` (all three
///   capitalisations) are booleans, as in kubectl (quote them to get strings);
/// - integers as Go's ParseInt(base 0) reads them with `_` removed: `10`, `-3`, `0x1F`, `0o17`,
///   `017` (octal, = 15), `0b101`; too big for int64 but fits uint64: unsigned;
/// - floats `1.5`, `.5`, `1e3`, `08`: a float with an integral value that fits int64 becomes an
///   integer (as Kubernetes' JSON round trip does), others stay floats; `.inf`/`.nan` cannot be
///   represented in JSON and are an error, like in kubectl; a float out of double range stays
///   a string;
/// - timestamps and everything else are strings.
/// Map keys are always the key's text (`yes: 1` keeps the key "yes", unlike kubectl's "true");
/// keys that are maps, sequences or null are errors, and so is a key given twice. Merge keys
/// (`<<: *base`) merge maps with explicit keys winning.
///
/// `source` names the input in errors ("job.yaml", "<stdin>"): throws kai::Error Invalid with
/// messages like `job.yaml: line 3, column 5: illegal map value` (1-based, from yaml-cpp or
/// from the typing above), `job.yaml: input is 52428800 bytes, larger than the limit of
/// 16777216 bytes`, `job.yaml: document expands to more than 2000000 values (YAML aliases?)`,
/// `job.yaml: line 300, column 12: nesting is deeper than 256 levels` or
/// `job.yaml: document 2: expected a Kubernetes object (a map with apiVersion and kind), got a
/// sequence`. Missing apiVersion/kind is left to the caller.
/// A value's type in YAML's words for error messages ("a map", "a sequence", "a string",
/// "a boolean", "null", "a number"); with `integers`, whole numbers read "an integer".
const char* yaml_type_name(const json& v, bool integers = false);

std::vector<json> decode_documents(std::string_view text, const std::string& source,
                                   const DecodeLimits& limits = {});

/// Parses text holding at most one YAML (or JSON) document of any shape (map, sequence or
/// scalar) with the typing and limits of decode_documents; empty input gives null. Throws
/// kai::Error Invalid with decode_documents' messages, or `<source>: expected one document,
/// found N`. decode_value(to_yaml(v)) == v for any JSON value v with valid UTF-8 strings.
json decode_value(std::string_view text, const std::string& source, const DecodeLimits& limits = {});

/// Reads a file (or stdin when path is "-", named "<stdin>" in errors), then decode_documents.
/// The size is checked with stat() before reading, and reading stops after max_bytes + 1 bytes
/// (stdin, pipes). Throws kai::Error Invalid: `x.yaml: no such file or directory`,
/// `x: is a directory`, `x.yaml: permission denied` (other errno texts likewise),
/// `x.yaml: input is N bytes, larger than the limit of M bytes`,
/// `<stdin>: input is larger than the limit of M bytes`, `x.yaml: no objects found` (empty file,
/// only comments or only empty documents), or any decode_documents error.
std::vector<json> decode_file(const std::string& path, const DecodeLimits& limits = {});

/// Emits JSON as YAML the way kubectl does: block style, 2-space indent, sequences at their
/// key's indentation (`containers:` then `- name: x`), keys in the object's order
/// (nlohmann::json keeps them sorted), `{}` and `[]` for empty containers. Strings stay plain
/// unless the plain form would read back as something else or is not valid plain YAML (numbers,
/// booleans incl. yes/no/on/off, null, timestamps, empty, leading/trailing blanks, leading
/// indicator characters, ": ", " #"); then they are double-quoted with escapes. Multi-line
/// strings use a literal block (`|`, `|-`, `|+`, with an indentation indicator when the first
/// line starts with a space) unless they hold characters a block cannot, then double quotes.
/// Long lines are not folded. decode_value(to_yaml(v)) gives v back for any JSON value whose
/// strings are valid UTF-8 (invalid bytes are written as U+FFFD).
std::string to_yaml(const json& value);

/// JSON as kubectl prints it: 4-space indent, trailing newline (invalid UTF-8 as U+FFFD).
std::string to_json(const json& value);

}  // namespace kai::api
