#pragma once
// HTTP(S) requests through libcurl, loaded with dlopen when the first request is made: linked
// in, libcurl and the libssl/libcrypto it pulls cost every kai start (local mode included)
// more than a millisecond of relocations and constructors.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kai::kube {

struct TlsOptions {
  std::string ca_pem;  ///< trusted roots (PEM); empty = the system's
  std::string cert_pem, key_pem;  ///< client certificate (mTLS)
  bool insecure = false;          ///< no verification of the server's certificate
  std::string server_name;        ///< name to send (SNI) and verify instead of the URL's host
  std::string proxy_url;
  bool compression = true;  ///< Accept-Encoding: gzip
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::string body;
  long timeout_ms = 0;  ///< whole request; 0 = none
  /// Streamed responses (watch): called with each piece of the body as it arrives; return
  /// false to stop. The response's body then stays empty.
  std::function<bool(std::string_view)> on_data;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

/// One connection pool (kept alive between requests). Not thread-safe.
class HttpClient {
 public:
  explicit HttpClient(TlsOptions tls);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Throws kai::Error Unavailable when no response came (connection refused, TLS failure,
  /// timeout): `unable to connect to the server at <url>: <libcurl's reason>`; or when
  /// libcurl cannot be loaded.
  HttpResponse perform(const HttpRequest& req);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Percent-encodes a query parameter value or a path segment (RFC 3986 unreserved kept).
std::string url_escape(std::string_view s);

}  // namespace kai::kube
