#include "lib/kube/http.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "lib/api/error.h"

namespace kai::kube {
namespace {

// The libcurl functions kai uses, resolved once from libcurl.so.4 (Debian's libcurl4, which
// libcurl4-openssl-dev depends on).
struct CurlFns {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  void (*easy_reset)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

const CurlFns& curl() {
  static CurlFns fns;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      failure = std::string("cannot load libcurl.so.4 (install Debian's libcurl4): ") + dlerror();
      return;
    }
    auto sym = [&](const char* name) {
      void* p = dlsym(h, name);
      if (!p && failure.empty()) failure = std::string("libcurl.so.4 lacks ") + name;
      return p;
    };
    fns.global_init = reinterpret_cast<decltype(fns.global_init)>(sym("curl_global_init"));
    fns.easy_init = reinterpret_cast<decltype(fns.easy_init)>(sym("curl_easy_init"));
    fns.easy_setopt = reinterpret_cast<decltype(fns.easy_setopt)>(sym("curl_easy_setopt"));
    fns.easy_perform = reinterpret_cast<decltype(fns.easy_perform)>(sym("curl_easy_perform"));
    fns.easy_getinfo = reinterpret_cast<decltype(fns.easy_getinfo)>(sym("curl_easy_getinfo"));
    fns.easy_cleanup = reinterpret_cast<decltype(fns.easy_cleanup)>(sym("curl_easy_cleanup"));
    fns.easy_reset = reinterpret_cast<decltype(fns.easy_reset)>(sym("curl_easy_reset"));
    fns.easy_strerror = reinterpret_cast<decltype(fns.easy_strerror)>(sym("curl_easy_strerror"));
    fns.slist_append = reinterpret_cast<decltype(fns.slist_append)>(sym("curl_slist_append"));
    fns.slist_free_all = reinterpret_cast<decltype(fns.slist_free_all)>(sym("curl_slist_free_all"));
    if (failure.empty()) fns.global_init(CURL_GLOBAL_DEFAULT);
  });
  if (!failure.empty()) throw Error::unavailable(failure);
  return fns;
}

struct Slist {
  curl_slist* list = nullptr;
  ~Slist() {
    if (list) curl().slist_free_all(list);
  }
  void add(const std::string& s) { list = curl().slist_append(list, s.c_str()); }
};

struct Transfer {
  const HttpRequest* req;
  HttpResponse* resp;
  bool stopped = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->req->on_data) {
    if (!t->req->on_data(std::string_view(data, len))) {
      t->stopped = true;
      return 0;  // aborts the transfer
    }
    return len;
  }
  t->resp->body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    t->resp->headers.clear();  // a new response (after 100 Continue or a redirect)
    return len;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return len;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(value.begin());
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
  t->resp->headers[name] = value;
  return len;
}

/// scheme, host, port and the rest of a URL.
struct UrlParts {
  std::string scheme, host, port, rest;
};

UrlParts split_url(const std::string& url) {
  UrlParts u;
  auto s = url.find("://");
  if (s == std::string::npos) return u;
  u.scheme = url.substr(0, s);
  auto host_start = s + 3;
  auto path = url.find('/', host_start);
  std::string hostport = url.substr(host_start, path == std::string::npos ? std::string::npos : path - host_start);
  u.rest = path == std::string::npos ? "" : url.substr(path);
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    u.host = hostport.substr(0, close + 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') u.port = hostport.substr(close + 2);
  } else {
    auto c = hostport.rfind(':');
    u.host = hostport.substr(0, c);
    if (c != std::string::npos) u.port = hostport.substr(c + 1);
  }
  if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
  return u;
}

}  // namespace

struct HttpClient::Impl {
  TlsOptions tls;
  CURL* easy = nullptr;
};

HttpClient::HttpClient(TlsOptions tls) : impl_(std::make_unique<Impl>()) { impl_->tls = std::move(tls); }

HttpClient::~HttpClient() {
  if (impl_->easy) curl().easy_cleanup(impl_->easy);
}

HttpResponse HttpClient::perform(const HttpRequest& req) {
  const CurlFns& c = curl();
  if (!impl_->easy) {
    impl_->easy = c.easy_init();
    if (!impl_->easy) throw Error::unavailable("libcurl: cannot create a handle");
  } else {
    c.easy_reset(impl_->easy);  // keeps the connection cache
  }
  CURL* e = impl_->easy;
  const TlsOptions& tls = impl_->tls;
  HttpResponse resp;
  Transfer t{&req, &resp};

  std::string url = req.url;
  Slist connect_to;
  if (!tls.server_name.empty()) {
    // Connect to the URL's host but speak TLS (SNI, verification) with server_name.
    UrlParts u = split_url(url);
    if (!u.host.empty()) {
      connect_to.add(tls.server_name + ":" + u.port + ":" + u.host + ":" + u.port);
      url = u.scheme + "://" + tls.server_name + ":" + u.port + u.rest;
      c.easy_setopt(e, CURLOPT_CONNECT_TO, connect_to.list);
    }
  }
  c.easy_setopt(e, CURLOPT_URL, url.c_str());
  c.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  c.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  c.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  c.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  if (req.timeout_ms > 0) c.easy_setopt(e, CURLOPT_TIMEOUT_MS, req.timeout_ms);
  if (tls.compression) c.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
  // Without proxy-url, libcurl follows $https_proxy/$no_proxy as client-go follows
  // $HTTPS_PROXY/$NO_PROXY.
  if (!tls.proxy_url.empty()) c.easy_setopt(e, CURLOPT_PROXY, tls.proxy_url.c_str());
  curl_blob ca{const_cast<char*>(tls.ca_pem.data()), tls.ca_pem.size(), CURL_BLOB_NOCOPY};
  curl_blob cert{const_cast<char*>(tls.cert_pem.data()), tls.cert_pem.size(), CURL_BLOB_NOCOPY};
  curl_blob key{const_cast<char*>(tls.key_pem.data()), tls.key_pem.size(), CURL_BLOB_NOCOPY};
  if (tls.insecure) {
    c.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    c.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!tls.ca_pem.empty()) {
    c.easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
    c.easy_setopt(e, CURLOPT_CAPATH, nullptr);
  }
  if (!tls.cert_pem.empty()) {
    c.easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
    c.easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    c.easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
    c.easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
  }
  Slist headers;
  for (const auto& h : req.headers) headers.add(h);
  headers.add("Expect:");  // no 100-continue round trip for larger bodies
  c.easy_setopt(e, CURLOPT_HTTPHEADER, headers.list);
  if (req.method == "GET") {
    c.easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    c.easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      c.easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());
      c.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  c.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  c.easy_setopt(e, CURLOPT_WRITEDATA, &t);
  c.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  c.easy_setopt(e, CURLOPT_HEADERDATA, &t);
  char errbuf[CURL_ERROR_SIZE] = {0};
  c.easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  const CURLcode rc = c.easy_perform(e);
  c.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp.status);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.stopped)) {
    if (rc == CURLE_OPERATION_TIMEDOUT && resp.status > 0 && req.on_data) return resp;  // a watch that ran its time
    std::string why = errbuf[0] ? errbuf : c.easy_strerror(rc);
    throw Error::unavailable("unable to connect to the server at " + req.url + ": " + why);
  }
  return resp;
}

std::string url_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(hex[ch >> 4]);
      out.push_back(hex[ch & 15]);
    }
  }
  return out;
}

}  // namespace kai::kube
