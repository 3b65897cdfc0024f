#pragma once
// Private helpers for lib/output: the Go formatting rules kubectl's output depends on
// (fmt's %v, encoding/json, text/tabwriter, time.Time.String). Not part of the public API.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kai::output::detail {

using json = nlohmann::json;

/// Number of UTF-8 code points (Go's utf8.RuneCountInString; invalid bytes count one each).
std::size_t rune_count(std::string_view s);

/// `s` padded on the right with spaces to `width` code points (Go's `%-<width>s`).
std::string pad_right(std::string_view s, std::size_t width);

/// A float64 as Go's fmt prints it with %v (strconv 'g', shortest): exponent form when the
/// decimal exponent is < -4 or >= 6 ("1e+06", "123456", "1.5", "1e-05").
std::string go_float(double v);

/// A JSON value as Go's fmt.Sprint prints the equivalent unstructured value:
/// strings raw, `<nil>`, `map[a:1 b:x]` with sorted keys, `[1 2 3]`.
std::string go_sprint(const json& v);

/// A JSON value as Go's encoding/json prints it: json.Marshal when indent is empty,
/// json.MarshalIndent(v, "", indent) otherwise. Keys sorted, `<`, `>`, `&`, U+2028/9 escaped.
std::string go_json(const json& v, std::string_view indent = {});

/// Go's reflect type name of an unstructured value, for error messages
/// ("map[string]interface {}", "[]interface {}", "string", "int64", "float64", "bool").
std::string go_type_name(const json& v);

/// Go's text/tabwriter over `text` (cells separated by '\t', lines by '\n'), padchar ' ',
/// flags 0: each column block is as wide as its widest cell plus `padding`, at least
/// `minwidth`; the last cell of a line is never padded.
std::string tabwrite(std::string_view text, std::size_t minwidth, std::size_t padding);

/// time.Time.String() of a UTC time: "2026-11-22 17:26:52 +0000 UTC" (fraction appended
/// like Go when non-zero: "2026-11-22 17:26:52.5 +0000 UTC").
std::string go_time_string(std::chrono::system_clock::time_point t);

/// A UTC time broken down into calendar fields (proleptic Gregorian, any year).
struct Civil {
  long long year = 1970;
  unsigned month = 1, day = 1, hour = 0, minute = 0, second = 0;
  long long nanos = 0;  ///< 0..999'999'999
};
Civil to_civil(std::chrono::system_clock::time_point t);
/// Seconds since the Unix epoch of a civil UTC date-time (fields may be out of range
/// only as far as days_from_civil allows: month 1..12, day 1..31).
long long civil_to_unix(long long year, unsigned month, unsigned day, unsigned hour, unsigned minute,
                        unsigned second);

/// Go's zero time.Time.String(): "0001-01-01 00:00:00 +0000 UTC".
inline constexpr std::string_view kGoZeroTime = "0001-01-01 00:00:00 +0000 UTC";

/// Integer value of a JSON number (floats truncated), 0 for anything else.
long long as_int(const json& v);

/// The value at a chain of object keys, or nullptr when any step is missing or not an object.
const json* find_path(const json& root, std::initializer_list<std::string_view> keys);

/// String at a chain of object keys, or "" when missing or not a string.
std::string str_at(const json& root, std::initializer_list<std::string_view> keys);

}  // namespace kai::output::detail
