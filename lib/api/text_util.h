#pragma once
// Private helpers for lib/api's parsers (names, selectors, codec): Go-style quoting and UTF-8
// checks. Not part of the public API of lib/api.

#include <string>
#include <string_view>

namespace kai::api::text_detail {

/// Go's %q (strconv.Quote) for a string: double quotes; `"` and `\` escaped; \a \b \f \n \r \t \v;
/// other ASCII control bytes and bytes that are not valid UTF-8 as \xNN; valid non-ASCII kept.
std::string go_quote(std::string_view s);

/// Length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 if it is not valid
/// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

/// Levenshtein distance (insertions, deletions, substitutions), for did-you-mean suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// True if the whole string is valid UTF-8.
bool valid_utf8(std::string_view s);

}  // namespace kai::api::text_detail
