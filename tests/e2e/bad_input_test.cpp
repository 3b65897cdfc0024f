// Bad input: each case gets one clear error naming the file and field, exit 1 (2 for usage),
// and nothing is stored.

#include <sys/stat.h>

#include <chrono>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;
using nlohmann::json;

namespace {

const char* kGoodJob = R"(apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata:
  name: good
spec:
  minAvailable: 1
  tasks:
    - name: a
      replicas: 1
      template:
        spec:
          containers:
            - name: c
              image: busybox
)";

/// Number of jobs stored, in any namespace.
std::size_t job_count(const KaiEnv& env) {
  auto r = env.kai({"get", "vcjob", "-A", "-o", "json"});
  REQUIRE(r.code == 0);
  return json::parse(r.out)["items"].size();
}

/// Submits `yaml` from job.yaml in the env dir and expects exit 1 with `expected` in stderr.
void expect_refused(KaiEnv& env, const std::string& yaml, const std::string& expected) {
  auto file = env.dir().write("job.yaml", yaml);
  auto r = env.kai({"job", "submit", "-f", file});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.rfind("kai: error: ", 0) == 0);
  CHECK(r.err.find(expected) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(job_count(env) == 0);
}

std::string with(const std::string& from, const std::string& to) {
  std::string y = kGoodJob;
  auto pos = y.find(from);
  REQUIRE(pos != std::string::npos);
  return y.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("invalid jobs are refused with the file and field path") {
  KaiEnv env;
  SECTION("not YAML") { expect_refused(env, "apiVersion: [unclosed\n", "job.yaml: line "); }
  SECTION("unknown kind") {
    expect_refused(env, "apiVersion: v1\nkind: Widget\nmetadata: {name: x}\n",
                   "job.yaml: kind \"Widget\" (apiVersion \"v1\") is not a Volcano Job");
  }
  SECTION("unknown apiVersion") {
    expect_refused(env, with("batch.volcano.sh/v1alpha1", "batch.volcano.sh/v9"), "is not a Volcano Job");
  }
  SECTION("missing metadata.name") { expect_refused(env, with("  name: good\n", "  labels: {}\n"), "metadata.name: Required value"); }
  SECTION("name not DNS-1123") {
    expect_refused(env, with("name: good", "name: Bad_Name"), "job.yaml: metadata.name: Invalid value: \"Bad_Name\"");
  }
  SECTION("negative replicas") {
    expect_refused(env, with("replicas: 1", "replicas: -1"), "job.yaml: spec.tasks[0].replicas: Invalid value: -1");
  }
  SECTION("minAvailable above the total replicas") {
    expect_refused(env, with("minAvailable: 1", "minAvailable: 5"),
                   "job 'minAvailable' should not be greater than total replicas in tasks");
  }
  SECTION("duplicate task names") {
    std::string y = kGoodJob;
    y += "    - name: a\n      replicas: 1\n      template:\n        spec:\n          containers:\n            - name: c\n              image: busybox\n";
    expect_refused(env, y, "job.yaml: spec.tasks[1].name: Duplicate value: \"a\"");
  }
  SECTION("a queue that does not exist") {
    expect_refused(env, with("  minAvailable: 1\n", "  minAvailable: 1\n  queue: nope\n"), "unable to find job queue");
  }
  SECTION("a closed queue") {
    REQUIRE(env.kai({"queue", "create", "shut", "--state", "Closed"}).code == 0);
    expect_refused(env, with("  minAvailable: 1\n", "  minAvailable: 1\n  queue: shut\n"),
                   "can only submit job to queue with state `Open`, queue `shut` status is `Closed`");
  }
  SECTION("an invalid quantity") {
    expect_refused(env, with("              image: busybox\n",
                             "              image: busybox\n              resources:\n                requests:\n                  cpu: 1.2.3\n"),
                   "spec.tasks[0].template.spec.containers[0].resources.requests[cpu]");
  }
}

TEST_CASE("files that cannot be read are refused clearly") {
  KaiEnv env;
  auto missing = env.kai({"job", "submit", "-f", "/nonexistent/job.yaml"});
  CHECK(missing.code == 1);
  CHECK(missing.err == "kai: error: /nonexistent/job.yaml: no such file or directory\n");
  auto dir = env.kai({"job", "submit", "-f", env.dir().str()});
  CHECK(dir.code == 1);
  CHECK(dir.err == "kai: error: " + env.dir().str() + ": is a directory\n");
  auto empty = env.kai({"job", "submit", "-f", env.dir().write("empty.yaml", "# nothing\n")});
  CHECK(empty.code == 1);
  CHECK(empty.err.find("empty.yaml: no objects found") != std::string::npos);
  auto usage = env.kai({"job", "submit"});
  CHECK(usage.code == 2);
}

TEST_CASE("hostile YAML is refused in bounded time and memory") {
  KaiEnv env;
  SECTION("a 50 MB file") {
    std::string big(50u << 20, ' ');
    const std::string head = "apiVersion: v1\nx: \"";
    big.replace(0, head.size(), head);
    auto t0 = std::chrono::steady_clock::now();
    auto r = env.kai({"apply", "-f", env.dir().write("big.yaml", big)});
    INFO(r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find("big.yaml: input is 52428800 bytes, larger than the limit of") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  }
  SECTION("billion laughs") {
    std::string y = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
    for (char c = 'b'; c <= 'j'; ++c) {
      std::string prev(1, static_cast<char>(c - 1));
      y += std::string(1, c) + ": &" + c + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev +
           ",*" + prev + ",*" + prev + ",*" + prev + "]\n";
    }
    y += "apiVersion: v1\nkind: Pod\n";
    auto r = env.kai({"apply", "-f", env.dir().write("lol.yaml", y)});
    CHECK(r.code == 1);
    CHECK(r.err.find("lol.yaml") != std::string::npos);
  }
  SECTION("10,000-deep nesting, flow and block") {
    std::string flow = "a: " + std::string(10000, '[') + std::string(10000, ']') + "\n";
    auto r = env.kai({"apply", "-f", env.dir().write("deep.yaml", flow)});
    CHECK(r.code == 1);
    CHECK(r.err.find("deep.yaml") != std::string::npos);
    std::string block = "a: ";
    for (int i = 0; i < 10000; ++i) block += "{a: ";
    block += "1" + std::string(10000, '}') + "\n";
    auto b = env.kai({"apply", "-f", env.dir().write("deep2.yaml", block)});
    CHECK(b.code == 1);
    CHECK(b.err.find("deep2.yaml") != std::string::npos);
    // Block style: compact nested sequences, "- - - ... x".
    std::string seq;
    for (int i = 0; i < 10000; ++i) seq += "- ";
    auto c = env.kai({"apply", "-f", env.dir().write("deep3.yaml", "a:\n" + seq + "x\n")});
    CHECK(c.code == 1);
    CHECK(c.err.find("deep3.yaml") != std::string::npos);
  }
}

TEST_CASE("a job name that already exists is AlreadyExists and the first job is kept") {
  KaiEnv env;
  auto file = env.dir().write("job.yaml", kGoodJob);
  REQUIRE(env.kai({"job", "submit", "-f", file}).code == 0);
  auto r = env.kai({"job", "submit", "-f", file});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: " + file + ": jobs.batch.volcano.sh \"good\" already exists\n");
  CHECK(job_count(env) == 1);
}

TEST_CASE("a multi-document submit is all or nothing") {
  KaiEnv env;
  std::string two = std::string(kGoodJob) + "---\n" + with("name: good", "name: second");
  two = two.replace(two.rfind("replicas: 1"), 11, "replicas: -3");
  auto r = env.kai({"job", "submit", "-f", env.dir().write("two.yaml", two)});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("two.yaml: document 2: spec.tasks[0].replicas") != std::string::npos);
  CHECK(job_count(env) == 0);
}

TEST_CASE("a KAI_HOME that is not writable is refused cleanly") {
  KaiEnv env;
  auto ro = env.dir().path() / "ro";
  std::filesystem::create_directories(ro);
  chmod(ro.c_str(), 0500);
  env.env()["KAI_HOME"] = (ro / "kai").string();
  auto r = env.kai({"job", "list"});
  if (geteuid() == 0) {
    // root ignores permissions; use a path under a file instead.
    env.env()["KAI_HOME"] = env.dir().write("plainfile", "x") + "/kai";
    r = env.kai({"job", "list"});
  }
  CHECK(r.code == 1);
  CHECK(r.err.find("kai: error: cannot open the local store at ") == 0);
}

TEST_CASE("usage errors exit 2 with a hint") {
  KaiEnv env;
  auto r = env.kai({"jbo"});
  CHECK(r.code == 2);
  CHECK(r.err.find("unknown command \"jbo\" for \"kai\"") != std::string::npos);
  CHECK(r.err.find("Did you mean this?\n\tjob") != std::string::npos);
  auto flag = env.kai({"job", "list", "--bogus"});
  CHECK(flag.code == 2);
  auto out = env.kai({"job", "list", "-o", "xml"});
  CHECK(out.code == 2);
  CHECK(out.err.find("unable to match a printer suitable for the output format \"xml\"") != std::string::npos);
  auto ns = env.kai({"job", "list", "-n", "Bad_NS"});
  CHECK(ns.code == 1);
  CHECK(ns.err.find("invalid namespace \"Bad_NS\"") != std::string::npos);
  auto path = env.kai({"job", "view", "../../etc"});
  CHECK(path.code == 1);
}
