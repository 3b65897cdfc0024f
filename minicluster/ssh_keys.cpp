#include "minicluster/ssh_keys.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "lib/api/error.h"
#include "minicluster/runtime_sys.h"

#define KAI_CRYPTO_FNS \
  KAI_CRYPTO_FN(BIO_free) \
  KAI_CRYPTO_FN(BIO_new) \
  KAI_CRYPTO_FN(BIO_new_mem_buf) \
  KAI_CRYPTO_FN(BIO_s_mem) \
  KAI_CRYPTO_FN(BIO_ctrl) \
  KAI_CRYPTO_FN(BN_bn2bin) \
  KAI_CRYPTO_FN(BN_free) \
  KAI_CRYPTO_FN(BN_num_bits) \
  KAI_CRYPTO_FN(ERR_clear_error) \
  KAI_CRYPTO_FN(ERR_error_string_n) \
  KAI_CRYPTO_FN(ERR_get_error) \
  KAI_CRYPTO_FN(EVP_EncodeBlock) \
  KAI_CRYPTO_FN(EVP_PKEY_free) \
  KAI_CRYPTO_FN(EVP_PKEY_get_bn_param) \
  KAI_CRYPTO_FN(EVP_PKEY_is_a) \
  KAI_CRYPTO_FN(EVP_PKEY_Q_keygen) \
  KAI_CRYPTO_FN(PEM_read_bio_PrivateKey) \
  KAI_CRYPTO_FN(PEM_write_bio_PrivateKey_traditional) \
  KAI_CRYPTO_FN(RAND_bytes)

namespace kai::minicluster {
namespace {

namespace fs = std::filesystem;

/// libcrypto, loaded when a key is first needed: linked in, its constructor (CPUID probes,
/// which trap in a VM) and relocations cost every kai start ~1.2 ms, and only the ssh plugin
/// uses it. Debian's libssl3 (which libcurl needs too) provides libcrypto.so.3.
struct Crypto {
#define KAI_CRYPTO_FN(name) decltype(&::name) name = nullptr;
  KAI_CRYPTO_FNS
#undef KAI_CRYPTO_FN
};

const Crypto& crypto() {
  static const Crypto* loaded = [] {
    void* lib = ::dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* why = ::dlerror();
      throw Error::unavailable(std::string("the ssh plugin needs OpenSSL's libcrypto.so.3 (Debian package libssl3): ") +
                               (why ? why : "cannot load it"));
    }
    auto* c = new Crypto();
#define KAI_CRYPTO_FN(name)                                                                             \
  c->name = reinterpret_cast<decltype(&::name)>(::dlsym(lib, #name));                                  \
  if (!c->name) throw Error::unavailable("libcrypto.so.3 has no " #name " (OpenSSL 3 is needed)");
    KAI_CRYPTO_FNS
#undef KAI_CRYPTO_FN
    return c;
  }();
  return *loaded;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { crypto().EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* b) const { crypto().BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { crypto().BN_free(b); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;

/// OpenSSL's first queued error, as text (the queue is cleared).
std::string openssl_error() {
  unsigned long e = crypto().ERR_get_error();
  crypto().ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  crypto().ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

/// Never prompts for a pass phrase: an encrypted key is refused.
int no_passphrase(char*, int, int, void*) { return 0; }

Pkey read_private_key(const std::string& pem) {
  Bio bio(crypto().BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw Error::internal("ssh key: " + openssl_error());
  Pkey key(crypto().PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  crypto().ERR_clear_error();
  if (!key || !crypto().EVP_PKEY_is_a(key.get(), "RSA")) {
    throw Error::invalid("ssh key: not an unencrypted PEM RSA private key");
  }
  return key;
}

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_string(std::string& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

/// RFC 4251 mpint of a non-negative number: big-endian, a leading zero byte when the top bit is set.
void put_mpint(std::string& out, const BIGNUM* n) {
  std::string bytes(static_cast<std::size_t>((crypto().BN_num_bits(n) + 7) / 8), '\0');
  crypto().BN_bn2bin(n, reinterpret_cast<unsigned char*>(bytes.data()));
  if (!bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0x80)) bytes.insert(bytes.begin(), '\0');
  put_string(out, bytes);
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = crypto().EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string read_whole(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error::unavailable("cannot read the job's ssh key " + file.string() + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string generate_rsa_private_key(int bits) {
  Pkey key(crypto().EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (!key) throw Error::internal("cannot generate an RSA key: " + openssl_error());
  Bio bio(crypto().BIO_new(crypto().BIO_s_mem()));
  if (!bio || crypto().PEM_write_bio_PrivateKey_traditional(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw Error::internal("cannot encode an RSA key: " + openssl_error());
  }
  char* data = nullptr;
  long len = crypto().BIO_ctrl(bio.get(), BIO_CTRL_INFO, 0, reinterpret_cast<char*>(&data));
  return std::string(data, static_cast<std::size_t>(len));
}

std::string ssh_public_key(const std::string& private_pem) {
  Pkey key = read_private_key(private_pem);
  BIGNUM* n_raw = nullptr;
  BIGNUM* e_raw = nullptr;
  if (crypto().EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n_raw) != 1 ||
      crypto().EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e_raw) != 1) {
    crypto().BN_free(n_raw);
    crypto().BN_free(e_raw);
    throw Error::internal("ssh key: cannot read the RSA public numbers: " + openssl_error());
  }
  Bn n(n_raw), e(e_raw);
  std::string blob;
  put_string(blob, "ssh-rsa");
  put_mpint(blob, e.get());
  put_mpint(blob, n.get());
  return "ssh-rsa " + base64(blob) + "\n";
}

std::string job_private_key(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    runtime::detail::make_private_dirs(file.parent_path());
    const std::string pem = generate_rsa_private_key(2048);
    unsigned char rnd[8];
    if (crypto().RAND_bytes(rnd, sizeof rnd) != 1) throw Error::internal("cannot name a temporary file: " + openssl_error());
    std::string suffix;
    for (unsigned char c : rnd) suffix += "0123456789abcdef"[c & 0xf];
    const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid()) + "." + suffix;
    {
      runtime::detail::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600));
      if (!fd.valid()) {
        throw Error::unavailable("cannot create " + tmp.string() + ": " + runtime::detail::errno_text(errno));
      }
      std::size_t done = 0;
      while (done < pem.size()) {
        ssize_t w = ::write(fd.get(), pem.data() + done, pem.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          int err = errno;
          ::unlink(tmp.c_str());
          throw Error::unavailable("cannot write " + tmp.string() + ": " + runtime::detail::errno_text(err));
        }
        done += static_cast<std::size_t>(w);
      }
      if (::fsync(fd.get()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error::unavailable("cannot write " + tmp.string() + ": " + runtime::detail::errno_text(err));
      }
    }
    // link(2) never replaces: the first of concurrent callers wins and everyone reads its key.
    int rc = ::link(tmp.c_str(), file.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0 && err != EEXIST) {
      throw Error::unavailable("cannot create the job's ssh key " + file.string() + ": " + runtime::detail::errno_text(err));
    }
  }
  std::string pem = read_whole(file);
  try {
    read_private_key(pem);
  } catch (const Error&) {
    throw Error::invalid("the job's ssh key " + file.string() + " holds no PEM RSA private key (delete it to make a new one)");
  }
  return pem;
}

}  // namespace kai::minicluster
