#pragma once
// Name validation exactly as Kubernetes' apimachinery validation does, before names touch a path.

#include <string>
#include <string_view>
#include <vector>

namespace kai::api {

/// Returns the list of problems (empty = valid), in Kubernetes' wording, e.g.
/// "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.',
///  and must start and end with an alphanumeric character (e.g. 'example.com', regex used for
///  validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
/// and "must be no more than 253 characters".
std::vector<std::string> dns1123_subdomain_errors(std::string_view name);
/// RFC 1123 label (max 63).
std::vector<std::string> dns1123_label_errors(std::string_view name);
/// Qualified name (label keys, annotation keys): optional DNS subdomain prefix + '/' + name
/// (IsQualifiedName; "prefix part ..." / "name part ..." messages, or "a qualified name ..." when
/// there is more than one '/').
std::vector<std::string> qualified_name_errors(std::string_view name);
/// Label values (<= 63, alphanumerics, '-', '_', '.').
std::vector<std::string> label_value_errors(std::string_view value);

/// Throws kai::Error Invalid `invalid <what> "<name>": <first problem>` (the name quoted as Go's
/// %q quotes it) if `name` is not a DNS-1123 subdomain, e.g.
/// `invalid job name "Bad_Name": a lowercase RFC 1123 subdomain must consist of ...`.
/// Use before a name reaches the store or a file path.
void require_dns1123_subdomain(std::string_view name, std::string_view what);

}  // namespace kai::api
