#include "minicluster/serve/certs.h"

#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/api/error.h"
#include "minicluster/runtime_sys.h"

namespace kai::serve {
namespace {

namespace fs = std::filesystem;

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

[[noreturn]] void fail(const std::string& what) { throw Error::unavailable("kai cluster serve: " + what); }

/// Writes a file with mode 0600 (made so, never widened), replacing it atomically.
void write_private(const fs::path& p, const std::string& data) {
  const fs::path tmp = p.string() + ".tmp";
  minicluster::runtime::detail::write_file(tmp, data, 0600);
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) fail("cannot write " + p.string() + ": " + ec.message());
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Key new_key() {
  EVP_PKEY* k = EVP_EC_gen("P-256");
  if (!k) fail("cannot make a key");
  return Key(k);
}

std::string key_pem(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return out;
}

std::string cert_pem(X509* c) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, c);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return out;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) fail("cannot set certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, bool ca, const std::string& san,
               long days) {
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), days * 24 * 3600);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* iss = issuer ? issuer : c.get();
  if (ca) {
    add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(c.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(c.get(), iss, NID_ext_key_usage, "serverAuth");
    add_ext(c.get(), iss, NID_subject_alt_name, san);
  }
  add_ext(c.get(), iss, NID_subject_key_identifier, "hash");
  if (!X509_sign(c.get(), issuer_key ? issuer_key : key, EVP_sha256())) fail("cannot sign a certificate");
  return c;
}

std::string san_for(const std::string& address) {
  std::string san = "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,IP:127.0.0.1,IP:::1";
  if (!address.empty() && address != "127.0.0.1" && address != "::1" && address != "localhost" && address != "0.0.0.0" &&
      address != "::") {
    const bool ip = address.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos;
    san += std::string(",") + (ip ? "IP:" : "DNS:") + address;
  }
  return san;
}

}  // namespace

ServeFiles ensure_serve_files(const fs::path& home, const std::string& address) {
  ServeFiles f;
  f.dir = home / "serve";
  std::error_code ec;
  fs::create_directories(f.dir, ec);
  if (ec) fail("cannot create " + f.dir.string() + ": " + ec.message());
  ::chmod(f.dir.c_str(), 0700);
  f.ca_crt = f.dir / "ca.crt";
  f.server_crt = f.dir / "server.crt";
  f.server_key = f.dir / "server.key";
  const fs::path ca_key = f.dir / "ca.key", token = f.dir / "token", san_file = f.dir / "server.san";

  Key cak;
  Cert cac;
  if (fs::exists(f.ca_crt) && fs::exists(ca_key)) {
    BIO* kb = BIO_new_file(ca_key.c_str(), "r");
    BIO* cb = BIO_new_file(f.ca_crt.c_str(), "r");
    if (kb) cak.reset(PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr));
    if (cb) cac.reset(PEM_read_bio_X509(cb, nullptr, nullptr, nullptr));
    if (kb) BIO_free(kb);
    if (cb) BIO_free(cb);
  }
  bool new_ca = false;
  if (!cak || !cac) {
    cak = new_key();
    cac = make_cert(cak.get(), "kai-local-ca", nullptr, nullptr, true, "", 3650);
    write_private(ca_key, key_pem(cak.get()));
    write_private(f.ca_crt, cert_pem(cac.get()));
    new_ca = true;
  }
  const std::string san = san_for(address);
  if (new_ca || !fs::exists(f.server_crt) || !fs::exists(f.server_key) || read_all(san_file) != san) {
    Key k = new_key();
    Cert c = make_cert(k.get(), "kai-apiserver", cac.get(), cak.get(), false, san, 825);
    write_private(f.server_key, key_pem(k.get()));
    write_private(f.server_crt, cert_pem(c.get()));
    write_private(san_file, san);
  }
  f.token = read_all(token);
  while (!f.token.empty() && (f.token.back() == '\n' || f.token.back() == '\r')) f.token.pop_back();
  if (f.token.size() < 32) {
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1) fail("no randomness for the token");
    static const char* hex = "0123456789abcdef";
    f.token.clear();
    for (unsigned char b : raw) {
      f.token.push_back(hex[b >> 4]);
      f.token.push_back(hex[b & 15]);
    }
    write_private(token, f.token + "\n");
  }
  return f;
}

}  // namespace kai::serve
