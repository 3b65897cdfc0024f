// End to end: Volcano's ssh job plugin on the local cluster. Every pod of a job sees the same
// key pair and an ssh config naming every pod; the private key is kept 0600 and written nowhere
// else (no log holds it).

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kJob = R"(apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata:
  name: keys
spec:
  minAvailable: 2
  plugins:
    ssh: ["--ssh-port=2222"]
  tasks:
  - name: node
    replicas: 2
    template:
      spec:
        restartPolicy: Never
        containers:
        - name: main
          image: busybox
          command: ["sh", "-c", "cd \"$KAI_POD_ROOT/root/.ssh\" && stat -c '%n %a' id_rsa id_rsa.pub authorized_keys config && cmp id_rsa.pub authorized_keys && cat id_rsa.pub && grep -A2 '^Host keys-node-1$' config"]
          resources:
            requests: {cpu: 100m}
)";

int mode_of(const fs::path& p) {
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

}  // namespace

TEST_CASE("ssh plugin: every pod of a job gets the job's one key pair, mode 0600, and a config naming every pod") {
  KaiEnv env;
  auto r = env.kai({"job", "submit", "-f", "-"}, kJob);
  INFO(r.err);
  REQUIRE(r.code == 0);
  r = env.kai({"job", "wait", "keys", "--timeout", "60s"});
  INFO(r.err << env.kai({"job", "view", "keys"}).out << env.kai({"job", "logs", "keys"}).out);
  REQUIRE(r.code == 0);

  const std::string a = env.kai({"job", "logs", "keys", "--index", "0"}).out;
  const std::string b = env.kai({"job", "logs", "keys", "--index", "1"}).out;
  INFO(a << "---\n" << b);
  CHECK(a == b);  // same files, same key, in both pods
  CHECK(a.find("id_rsa 600\nid_rsa.pub 600\nauthorized_keys 600\nconfig 600\nssh-rsa AAAAB3NzaC1yc2E") == 0);
  CHECK(a.find("Host keys-node-1\n  HostName keys-node-1.keys\n  Port 2222\n") != std::string::npos);
  CHECK(a.find("PRIVATE KEY") == std::string::npos);

  // The job's key: one file, 0600, under $KAI_HOME/jobs/<ns>/<job>.<uid>/.
  const std::string uid = json::parse(env.kai({"get", "vcjob", "keys", "-o", "json"}).out)["metadata"]["uid"];
  const fs::path key = fs::path(env.home()) / "jobs" / "default" / ("keys." + uid) / "ssh" / "id_rsa";
  REQUIRE(fs::exists(key));
  CHECK(mode_of(key) == 0600);
  if (env.sh("command -v ssh-keygen >/dev/null").code == 0) {
    auto pub = env.sh("ssh-keygen -y -f " + key.string());
    CHECK(pub.code == 0);
    CHECK(a.find(pub.out) != std::string::npos);  // the pods' id_rsa.pub is that key's
  }

  // The private key is nowhere but in that file and the pods' own copies of the Secret, all 0600:
  // not in the store, not in any log.
  std::vector<std::string> holders;
  for (const auto& e : fs::recursive_directory_iterator(env.home())) {
    if (!e.is_regular_file()) continue;
    if (kai::test::read_file(e.path().string()).find("PRIVATE KEY") == std::string::npos) continue;
    holders.push_back(fs::relative(e.path(), env.home()).string());
    CHECK(mode_of(e.path()) == 0600);
  }
  std::sort(holders.begin(), holders.end());
  REQUIRE(holders.size() == 3);
  CHECK(holders[0] == "jobs/default/keys." + uid + "/ssh/id_rsa");
  CHECK(std::regex_match(holders[1], std::regex("pods/default/keys-node-0\\.[-0-9a-f]+/root/root/\\.ssh/id_rsa")));
  CHECK(std::regex_match(holders[2], std::regex("pods/default/keys-node-1\\.[-0-9a-f]+/root/root/\\.ssh/id_rsa")));
  CHECK(env.kai({"get", "pods", "-o", "yaml"}).out.find("PRIVATE KEY") == std::string::npos);

  // The job's key goes with the job; cluster reset removes the rest.
  REQUIRE(env.kai({"job", "delete", "keys"}).code == 0);
  CHECK_FALSE(fs::exists(key.parent_path().parent_path()));
  REQUIRE(env.kai({"cluster", "reset"}).code == 0);
  CHECK_FALSE(fs::exists(fs::path(env.home()) / "jobs"));
}
