// Volcano's ssh job plugin as the local runtime gives it: one RSA 2048 key pair per job, shared
// by every pod, the Secret's four files (mode 0600) and a config naming every pod; and
// PodRun::mount_dirs, which puts them at the key path the way a Kubernetes volume would.

#include <catch2/catch.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/api/error.h"
#include "minicluster/job_plugins.h"
#include "minicluster/ssh_keys.h"
#include "runtime/runtime_testing.h"

using namespace kai::minicluster;
using namespace kai::minicluster::runtime;
using namespace kai::minicluster::runtime::testing;
using nlohmann::json;

namespace {

json job_with_ssh(const json& ssh_args) {
  json job = json::parse(R"({
    "metadata": {"name": "mpi", "namespace": "default", "uid": "u-1"},
    "spec": {"plugins": {"svc": []},
             "tasks": [{"name": "master", "replicas": 1, "template": {"spec": {}}},
                       {"name": "worker", "replicas": 2, "template": {"spec": {}}}]}})");
  job["spec"]["plugins"]["ssh"] = ssh_args;
  return job;
}

std::map<std::string, PodFile> by_path(const std::vector<PodFile>& files) {
  std::map<std::string, PodFile> m;
  for (const auto& f : files) m[f.path] = f;
  return m;
}

struct PrivateKey {
  int bits = 0;
  std::string n_hex, e_hex;
};

/// Parses a PEM private key with OpenSSL, independently of the code under test.
std::optional<PrivateKey> parse_private(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, const_cast<char*>(""));
  BIO_free(bio);
  if (!key) return std::nullopt;
  PrivateKey out;
  if (EVP_PKEY_is_a(key, "RSA")) {
    out.bits = EVP_PKEY_get_bits(key);
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
    char* nh = BN_bn2hex(n);
    char* eh = BN_bn2hex(e);
    out.n_hex = nh;
    out.e_hex = eh;
    OPENSSL_free(nh);
    OPENSSL_free(eh);
    BN_free(n);
    BN_free(e);
  }
  EVP_PKEY_free(key);
  return out;
}

/// "ssh-rsa <base64>" -> (e, n) in hex, read from the RFC 4253 wire format.
std::pair<std::string, std::string> parse_public(const std::string& line) {
  REQUIRE(line.rfind("ssh-rsa ", 0) == 0);
  std::string b64 = line.substr(8);
  while (!b64.empty() && (b64.back() == '\n' || b64.back() == ' ')) b64.pop_back();
  std::string raw(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()), reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  REQUIRE(n > 0);
  raw.resize(static_cast<std::size_t>(n) - static_cast<std::size_t>(std::count(b64.end() - 2, b64.end(), '=')));
  std::size_t pos = 0;
  auto next = [&]() {
    REQUIRE(pos + 4 <= raw.size());
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<unsigned char>(raw[pos++]);
    REQUIRE(pos + len <= raw.size());
    std::string s = raw.substr(pos, len);
    pos += len;
    return s;
  };
  auto hex = [](const std::string& mpint) {
    BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(mpint.data()), static_cast<int>(mpint.size()), nullptr);
    char* h = BN_bn2hex(bn);
    std::string out = h;
    OPENSSL_free(h);
    BN_free(bn);
    return out;
  };
  CHECK(next() == "ssh-rsa");
  std::string e = next();
  std::string m = next();
  CHECK(pos == raw.size());
  CHECK((static_cast<unsigned char>(m[0]) & 0x80) == 0);  // a positive mpint
  return {hex(e), hex(m)};
}

bool have_ssh_keygen() { return std::system("command -v ssh-keygen >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("ssh plugin: the Secret's four files, mode 0600, RSA 2048, public key matching, config naming every pod") {
  int key_calls = 0;
  const std::string pem = generate_rsa_private_key(2048);
  auto files = by_path(ssh_files(job_with_ssh(json::array({"--ssh-port=2222"})), [&] {
    ++key_calls;
    return pem;
  }));
  CHECK(key_calls == 1);
  REQUIRE(files.size() == 4);
  for (const char* name : {"id_rsa", "id_rsa.pub", "authorized_keys", "config"}) {
    INFO(name);
    REQUIRE(files.count(std::string("/root/.ssh/") + name) == 1);
    CHECK(files[std::string("/root/.ssh/") + name].mode == 0600);
  }
  const std::string priv = files["/root/.ssh/id_rsa"].contents;
  const std::string pub = files["/root/.ssh/id_rsa.pub"].contents;
  CHECK(priv == pem);
  CHECK(priv.rfind("-----BEGIN RSA PRIVATE KEY-----\n", 0) == 0);  // PKCS#1, as Volcano writes it
  auto key = parse_private(priv);
  REQUIRE(key);
  CHECK(key->bits == 2048);
  CHECK(key->e_hex == "010001");
  CHECK(files["/root/.ssh/authorized_keys"].contents == pub);
  CHECK(pub.back() == '\n');
  CHECK(std::count(pub.begin(), pub.end(), '\n') == 1);
  auto [e, n] = parse_public(pub);
  CHECK(e == key->e_hex);
  CHECK(n == key->n_hex);
  CHECK(files["/root/.ssh/config"].contents ==
        "StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\n"
        "Host mpi-master-0\n  HostName mpi-master-0.mpi\n  Port 2222\n"
        "Host mpi-worker-0\n  HostName mpi-worker-0.mpi\n  Port 2222\n"
        "Host mpi-worker-1\n  HostName mpi-worker-1.mpi\n  Port 2222\n");

  if (have_ssh_keygen()) {
    // OpenSSH itself derives the same public key from id_rsa.
    TempDir tmp;
    write_text(tmp.path() / "id_rsa", priv);
    fs::permissions(tmp.path() / "id_rsa", fs::perms::owner_read | fs::perms::owner_write);
    FILE* p = ::popen(("ssh-keygen -y -f " + (tmp.path() / "id_rsa").string()).c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    for (std::size_t k; (k = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, k);
    CHECK(::pclose(p) == 0);
    CHECK(out == pub);
  } else {
    WARN("ssh-keygen not installed: the public key is checked with OpenSSL only");
  }
}

TEST_CASE("ssh plugin: default port 22, --ssh-key-file-path, a template hostname, no plugin") {
  json job = job_with_ssh(json::array({"--ssh-key-file-path", "/home/mpi/.ssh/"}));
  job["spec"]["tasks"][1]["template"]["spec"]["hostname"] = "w";
  job["spec"]["tasks"][1]["template"]["spec"]["subdomain"] = "grid";
  CHECK(ssh_key_dir(job) == "/home/mpi/.ssh");
  CHECK(ssh_config(job) ==
        "StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\n"
        "Host mpi-master-0\n  HostName mpi-master-0.mpi\n  Port 22\n"
        "Host w\n  HostName w.grid\n  Port 22\n");
  const std::string pem = generate_rsa_private_key(2048);
  auto files = by_path(ssh_files(job, [&] { return pem; }));
  CHECK(files.count("/home/mpi/.ssh/id_rsa") == 1);
  CHECK(files.count("/home/mpi/.ssh/config") == 1);

  json none = job;
  none["spec"]["plugins"].erase("ssh");
  CHECK(ssh_key_dir(none).empty());
  CHECK(ssh_files(none, [] () -> std::string { FAIL("no key wanted"); return ""; }).empty());

  json relative = job_with_ssh(json::array({"--ssh-key-file-path=keys"}));
  CHECK_THROWS_WITH(ssh_files(relative, [&] { return pem; }),
                    "spec.plugins.ssh: --ssh-key-file-path: Invalid value: \"keys\": must be an absolute path");
}

TEST_CASE("ssh plugin: user-given keys are used as given, a bad one is refused without quoting it") {
  const std::string pem = generate_rsa_private_key(2048);
  const std::string pub = ssh_public_key(pem);
  auto never = []() -> std::string {
    FAIL("the job's generated key must not be used");
    return "";
  };
  auto files = by_path(ssh_files(job_with_ssh(json::array({"--ssh-private-key=" + pem, "--ssh-public-key=" + pub})), never));
  CHECK(files["/root/.ssh/id_rsa"].contents == pem);
  CHECK(files["/root/.ssh/authorized_keys"].contents == pub);
  // Only the private key: its public half is derived.
  files = by_path(ssh_files(job_with_ssh(json::array({"--ssh-private-key", pem})), never));
  CHECK(files["/root/.ssh/id_rsa.pub"].contents == pub);
  // Not a key: the error names the flag, never the value.
  const std::string secret = "-----BEGIN RSA PRIVATE KEY-----\nnot-really-a-key-c2VjcmV0\n-----END RSA PRIVATE KEY-----\n";
  try {
    ssh_files(job_with_ssh(json::array({"--ssh-private-key=" + secret})), never);
    FAIL("expected an error");
  } catch (const kai::Error& e) {
    const std::string what = e.what();
    CHECK(what.find("--ssh-private-key") != std::string::npos);
    CHECK(what.find("c2VjcmV0") == std::string::npos);
    CHECK(what.find("BEGIN") == std::string::npos);
  }
}

TEST_CASE("job_private_key: concurrent callers all get the one key, kept 0600 in a 0700 directory") {
  TempDir tmp;
  const fs::path file = tmp.path() / "jobs" / "default" / "mpi.u-1" / "ssh" / "id_rsa";
  constexpr int kCallers = 6;
  std::vector<pid_t> kids;
  for (int i = 0; i < kCallers; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 0;
      try {
        write_text(tmp.path() / ("got-" + std::to_string(i)), job_private_key(file));
      } catch (...) {
        code = 1;
      }
      ::_exit(code);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) CHECK(wait_child(k, std::chrono::seconds(60)) == 0);
  const std::string key = read_file(file);
  auto parsed = parse_private(key);
  REQUIRE(parsed);
  CHECK(parsed->bits == 2048);
  for (int i = 0; i < kCallers; ++i) CHECK(read_file(tmp.path() / ("got-" + std::to_string(i))) == key);
  CHECK(job_private_key(file) == key);  // later calls read it back
  struct stat st{};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  REQUIRE(::stat(file.parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  // Nothing but the key is left in its directory (no temporary files).
  CHECK(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()) == 1);
  // A damaged key file is an error that names the file, not a silent new key.
  write_text(file, "garbage");
  CHECK_THROWS_WITH(job_private_key(file), Catch::Contains(file.string()) && Catch::Contains("no PEM RSA private key"));
}

TEST_CASE("mount_dirs: the directory's files replace what the host has there, in the pod only") {
  TempDir tmp;
  // A key directory that exists on the host, with a file of the host's own.
  const fs::path host_dir = tmp.path() / "host" / ".ssh";
  write_text(host_dir / "host-only", "the host's\n");
  PodRun pod = pod_in(tmp.path(), best_network_mode());
  pod.job_netns = tmp.netns("sshjob");
  pod.mount_dirs = {host_dir.string()};
  pod.files = {{host_dir.string() + "/id_rsa", "private\n", 0600}, {host_dir.string() + "/config", "Host a\n", 0600}};
  const bool mounted = best_network_mode() != NetworkMode::kHostAddress;
  const fs::path seen = visible_path(pod, host_dir.string() + "/config");
  CHECK(seen == (mounted ? host_dir / "config" : fs::absolute(pod.dir) / "root" / host_dir.relative_path() / "config"));
  const fs::path seen_dir = seen.parent_path();
  pod.containers = {sh(tmp.path(), "c", "ls -a " + seen_dir.string() + " | tr '\\n' ' '; echo; stat -c %a " +
                                            seen_dir.string() + "/id_rsa " + seen_dir.string() + "/config; cat " +
                                            seen.string())};
  RecordingObserver observer;
  auto results = run_pod(pod, observer);
  REQUIRE(results.size() == 1);
  INFO(results[0].message);
  CHECK(results[0].exit_code == 0);
  const std::string log = read_file(pod.containers[0].log_path);
  CHECK(log == ". .. config id_rsa \n600\n600\nHost a\n");
  // The copies under dir/root are private too, and the host's directory is untouched.
  struct stat st{};
  REQUIRE(::stat((pod.dir / "root" / host_dir.relative_path() / "id_rsa").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(read_file(host_dir / "host-only") == "the host's\n");
  CHECK_FALSE(fs::exists(host_dir / "id_rsa"));
  if (!mounted) WARN("HostAddress mode: checked the copy under the pod's directory only");
}

TEST_CASE("mount_dirs: a directory missing on the host stays under the pod directory, bad paths are refused") {
  TempDir tmp;
  PodRun pod = pod_in(tmp.path(), best_network_mode());
  pod.job_netns = tmp.netns("sshjob");
  pod.mount_dirs = {"/nonexistent-kai-test/.ssh"};
  pod.files = {{"/nonexistent-kai-test/.ssh/id_rsa", "k\n", 0600}};
  CHECK(visible_path(pod, "/nonexistent-kai-test/.ssh/id_rsa") ==
        fs::absolute(pod.dir) / "root/nonexistent-kai-test/.ssh/id_rsa");
  pod.containers = {sh(tmp.path(), "c", "cat " + visible_path(pod, "/nonexistent-kai-test/.ssh/id_rsa").string())};
  RecordingObserver observer;
  auto results = run_pod(pod, observer);
  REQUIRE(results.size() == 1);
  CHECK(results[0].exit_code == 0);
  CHECK(read_file(pod.containers[0].log_path) == "k\n");
  CHECK_FALSE(fs::exists("/nonexistent-kai-test"));

  for (const std::string bad : {"relative/.ssh", "/", "/a/../b"}) {
    INFO(bad);
    PodRun p = pod_in(tmp.path());
    p.mount_dirs = {bad};
    p.containers = {sh(tmp.path(), "c", "true")};
    CHECK_THROWS_WITH(run_pod(p, observer), Catch::Contains("mount_dirs[0]: Invalid value"));
  }
}
