#pragma once
// Go's time.ParseDuration, the one duration syntax Kubernetes and Volcano objects use
// ("300ms", "1.5h", "2h45m", "-1m"; units ns, us, µs, ms, s, m, h; "0" alone needs no unit).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kai::api {

/// Parses `text` as Go does. On success sets `nanos` and returns true; otherwise returns false
/// and, when `error` is given, sets Go's message: `time: invalid duration "x"`,
/// `time: missing unit in duration "1"`, `time: unknown unit "x" in duration "10x"`.
bool parse_go_duration(std::string_view text, int64_t& nanos, std::string* error = nullptr);

/// The duration in seconds, or nullopt when `text` is not a Go duration.
std::optional<double> go_duration_seconds(std::string_view text);

}  // namespace kai::api
