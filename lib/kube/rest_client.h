#pragma once
// The REST backend: ResourceClient over a Kubernetes API server, as client-go talks to one
// (../shared/reference/k8s-api.md §1-2): credentials (bearer token and tokenFile re-read, client
// certificates, basic auth, exec plugins cached until expiry and re-run on 401, impersonation;
// none over plain http), paginated lists, retries on 429/5xx that carry Retry-After, and
// Status errors as kai::Error with the server's reason and message.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "lib/api/error.h"
#include "lib/client/resource_client.h"
#include "lib/kube/http.h"
#include "lib/kube/kubeconfig.h"

namespace kai::kube {

using json = nlohmann::json;

/// An API path: /api/v1/namespaces/NS/pods/NAME, /apis/G/V/queues/NAME. `ns` is ignored for
/// cluster-scoped resources; an empty `ns` on a namespaced one lists across namespaces.
std::string resource_path(const api::ResourceInfo& res, const std::string& ns, const std::string& name = "");

/// The error a Status (or any non-2xx answer) stands for. NotFound, AlreadyExists, Conflict and
/// Invalid/BadRequest keep the server's message (so kai prints them as for the local
/// cluster); other reasons read as kubectl prints them: `Error from server (Forbidden): ...`,
/// `You must be logged in to the server (Unauthorized)`.
Error status_error(long http_status, const std::string& body);

/// Runs an exec credential plugin once: its ExecCredential status (token and/or client
/// certificate and key, expirationTimestamp). Throws kai::Error Unavailable with the plugin's
/// failure (and installHint when the command is not found).
struct ExecCredential {
  std::string token, cert_pem, key_pem;
  std::optional<std::chrono::system_clock::time_point> expires;
};
ExecCredential run_exec_plugin(const ExecConfig& exec, const RestConfig& cluster);

class RestClient : public client::ResourceClient {
 public:
  explicit RestClient(RestConfig cfg);
  ~RestClient() override;

  json create(const api::ResourceInfo& res, json obj) override;
  json get(const api::ResourceInfo& res, const std::string& ns, const std::string& name) override;
  std::vector<json> list(const api::ResourceInfo& res, const client::ListOptions& opts) override;
  json update(const api::ResourceInfo& res, json obj) override;
  json merge_patch(const api::ResourceInfo& res, const std::string& ns, const std::string& name,
                   const json& patch) override;
  json remove(const api::ResourceInfo& res, const std::string& ns, const std::string& name) override;
  /// `?watch=1` streams from the last resourceVersion seen (bookmarks included), reconnecting when
  /// the server ends a stream; a 410 (an ERROR event or the answer) lists again.
  void watch(const api::ResourceInfo& res, const client::WatchOptions& opts,
             const std::function<bool(const client::WatchEvent&)>& on) override;
  void batch(const std::function<void()>& fn) override { fn(); }
  std::string describe_target() const override;

  /// One API call with credentials and retries; returns the parsed JSON body of a 2xx answer,
  /// throws status_error otherwise. `content_type` defaults to application/json.
  json call(const std::string& method, const std::string& path_and_query, const std::string& body = "",
            const std::string& content_type = "");

  /// A GET whose answer is text (a pod's log), with the same credentials, retries and errors.
  std::string get_text(const std::string& path_and_query);

  /// Page size of lists (kubectl's --chunk-size default); 0 lists in one request.
  void set_page_size(int n) { page_size_ = n; }
  const RestConfig& config() const { return cfg_; }

 private:
  std::vector<std::string> auth_headers(bool refresh_exec);
  /// Throws status_error for a non-2xx answer, except `pass_status` (returned like a 2xx).
  HttpResponse send(const std::string& method, const std::string& path_and_query, const std::string& body,
                    const std::string& content_type, const std::string& accept, long pass_status = 0);
  /// A streamed GET (watch): each piece of the body goes to on_data; credentials as send's, the
  /// exec plugin run again once after a 401; no retries. Returns the status and, for a non-2xx
  /// answer, its body.
  HttpResponse stream(const std::string& path_and_query, const std::function<bool(std::string_view)>& on_data,
                      long timeout_ms);
  /// Every page of a list, and the list's resourceVersion.
  std::vector<json> list_all(const api::ResourceInfo& res, const client::ListOptions& opts, std::string* rv);
  RestConfig cfg_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<HttpClient> http_exec_cert_;  ///< when an exec plugin returned a client certificate
  std::optional<ExecCredential> exec_cred_;
  std::chrono::steady_clock::time_point token_read_at_;
  int page_size_ = 500;
  bool secure_ = true;
};

}  // namespace kai::kube
