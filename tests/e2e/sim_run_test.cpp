// End to end: kai sim run replays a trace in virtual time without a cluster: the README's example
// trace, JSON keys, the CSV timeline, the SVG plot, --compare, and bad traces and flags.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;
using nlohmann::json;

namespace {

const std::vector<std::string> kShape = {"--nodes", "4", "--gpus-per-node", "8", "--cpu", "64", "--memory", "512Gi"};

std::vector<std::string> args(std::vector<std::string> a, const std::vector<std::string>& more = {}) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("kai sim run -o json: the example trace runs to completion and every report key is there") {
  KaiEnv env;
  auto r = env.kai(args({"sim", "run", "-f", "examples/sim/trace.yaml", "-o", "json"}, kShape));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const json got = json::parse(r.out);
  for (const char* k : {"schedulerConf", "nodes", "gpus", "sessions", "virtualSeconds", "overall", "queues"}) CHECK(got.contains(k));
  CHECK(got["schedulerConf"] == "default");
  CHECK(got["nodes"] == 4);
  CHECK(got["gpus"] == 32);
  const json& o = got["overall"];
  for (const char* k : {"jobs", "completed", "unfinished", "makespanSeconds", "gpuUtilisation", "waitSeconds", "preemptions", "restarts"}) {
    CHECK(o.contains(k));
  }
  CHECK(o["jobs"] == 6);
  CHECK(o["completed"] == 6);
  CHECK(o["makespanSeconds"].get<double>() > 1800);
  for (const char* k : {"p50", "p90", "p99", "mean", "max"}) CHECK(o["waitSeconds"].contains(k));
  REQUIRE(got["queues"].contains("research"));
  const json& q = got["queues"]["research"];
  for (const char* k : {"weight", "jobs", "completed", "makespanSeconds", "gpuUtilisation", "gpuSeconds", "share", "deserved",
                        "waitSeconds", "preemptions", "restarts"}) {
    CHECK(q.contains(k));
  }
  CHECK(q["weight"] == 3);
  CHECK(q["deserved"] == 0.75);
  CHECK(got["queues"]["prod"]["deserved"] == 0.25);
  // Pure: no local cluster was created.
  CHECK_FALSE(std::filesystem::exists(env.home()));
}

TEST_CASE("kai sim run prints a summary table per queue by default") {
  KaiEnv env;
  auto r = env.kai(args({"sim", "run", "-f", "examples/sim/trace.yaml"}, kShape));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("6 jobs on 4 nodes (32 GPUs), scheduler configuration default") != std::string::npos);
  for (const char* s : {"METRIC", "OVERALL", "QUEUE prod", "QUEUE research", "makespan", "GPU utilisation", "wait p50/p90/p99",
                        "preemptions", "share / deserved"}) {
    INFO(s);
    CHECK(r.out.find(s) != std::string::npos);
  }
}

TEST_CASE("kai sim run with a cluster file writes a CSV timeline and a valid SVG plot") {
  KaiEnv env;
  const std::string csv = env.dir().str() + "/timeline.csv", svg = env.dir().str() + "/plot.svg";
  auto r = env.kai({"sim", "run", "-f", "examples/sim/trace.yaml", "-f", "examples/sim/cluster.yaml", "--timeline", csv, "--plot", svg,
                    "-o", "json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out)["nodes"] == 4);
  const std::string text = slurp(csv);
  CHECK(text.rfind("time,gpu_used,gpu_total,queue_default_gpus,queue_prod_gpus,queue_research_gpus,pending_jobs\n0,26,32,0,0,26,0\n", 0) == 0);
  const std::string plot = slurp(svg);
  CHECK(plot.find("<svg") != std::string::npos);
  auto parsed = env.sh("python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
                       "ns = \"{http://www.w3.org/2000/svg}\"; assert r.tag == ns + \"svg\", r.tag; "
                       "print(len(r.findall(ns + \"polyline\")), len(r.findall(ns + \"polygon\")))' " + svg);
  if (parsed.code == 127) return;  // no python3
  INFO(parsed.err);
  CHECK(parsed.code == 0);
  CHECK(parsed.out == "1 3\n");  // one utilisation line, one area per queue
}

TEST_CASE("kai sim run --compare runs the trace under both configurations") {
  KaiEnv env;
  auto j = env.kai(args({"sim", "run", "-f", "examples/sim/trace.yaml", "--compare", "examples/sim/preempt.conf", "-o", "json"}, kShape));
  INFO(j.err);
  REQUIRE(j.code == 0);
  const json got = json::parse(j.out);
  REQUIRE(got.contains("baseline"));
  REQUIRE(got.contains("compare"));
  CHECK(got["baseline"]["schedulerConf"] == "default");
  CHECK(got["compare"]["schedulerConf"] == "examples/sim/preempt.conf");
  CHECK(got["compare"]["overall"]["completed"] == 6);
  auto t = env.kai(args({"sim", "run", "-f", "examples/sim/trace.yaml", "--compare", "examples/sim/preempt.conf"}, kShape));
  REQUIRE(t.code == 0);
  CHECK(t.out.find("baseline: default\ncompare:  examples/sim/preempt.conf\n") == 0);
  CHECK(t.out.find("BASELINE") != std::string::npos);
  CHECK(t.out.find("makespan (research)") != std::string::npos);
  const std::string csv = env.dir().str() + "/both.csv";
  REQUIRE(env.kai(args({"sim", "run", "-f", "examples/sim/trace.yaml", "--compare", "examples/sim/preempt.conf", "--timeline", csv},
                       kShape))
              .code == 0);
  const std::string text = slurp(csv);
  CHECK(text.rfind("config,time,gpu_used,", 0) == 0);
  CHECK(text.find("\nbaseline,0,") != std::string::npos);
  CHECK(text.find("\ncompare,0,") != std::string::npos);
}

TEST_CASE("kai sim run refuses a bad trace naming the file, the line and the field") {
  KaiEnv env;
  const auto file = env.dir().write("trace.jsonl", "{\"time\": 0, \"tasks\": [{\"gpus\": 1, \"duration\": 5}]}\n"
                                                   "{\"time\": 1, \"tasks\": [{\"replicas\": -1, \"duration\": 5}]}\n");
  auto r = env.kai({"sim", "run", "-f", file});
  CHECK(r.code == 1);
  CHECK(r.err == "kai: error: " + file + ":2: tasks[0].replicas: must be >= 0\n");
  auto missing = env.kai({"sim", "run", "-f", env.dir().str() + "/nope.yaml"});
  CHECK(missing.code == 1);
  CHECK(missing.err == "kai: error: " + env.dir().str() + "/nope.yaml: no such file or directory\n");
  const auto pod = env.dir().write("pod.yaml", "time: 0\ntasks: [{cpu: lots, duration: 5}]\n");
  auto q = env.kai({"sim", "run", "-f", pod});
  CHECK(q.code == 1);
  CHECK(q.err == "kai: error: " + pod + ":1: tasks[0].cpu: expected a quantity such as 4, 500m or 64Gi, got \"lots\"\n");
}

TEST_CASE("kai sim run refuses clashing or bad flags as usage errors") {
  KaiEnv env;
  auto two = env.kai({"sim", "run", "-f", "examples/sim/trace.yaml", "-f", "examples/sim/cluster.yaml", "--cluster",
                      "examples/sim/cluster.yaml"});
  CHECK(two.code == 2);
  CHECK(two.err.find("the cluster is given twice") != std::string::npos);
  auto both = env.kai({"sim", "run", "-f", "examples/sim/trace.yaml", "--cluster", "examples/sim/cluster.yaml", "--nodes", "3"});
  CHECK(both.code == 2);
  CHECK(both.err.find("cannot be combined with a cluster file") != std::string::npos);
  auto period = env.kai({"sim", "run", "-f", "examples/sim/trace.yaml", "--period", "0s"});
  CHECK(period.code == 2);
  CHECK(period.err.rfind("kai: error: --period 0s: must be a positive duration such as 1s or 500ms\n", 0) == 0);
  auto notnode = env.kai({"sim", "run", "-f", "examples/sim/trace.yaml", "--cluster", "examples/hello-job.yaml"});
  CHECK(notnode.code == 1);
  CHECK(notnode.err.find("expected a Node, Queue or PriorityClass") != std::string::npos);
}

TEST_CASE("kai sim run --help explains the trace format") {
  KaiEnv env;
  auto r = env.kai({"sim", "run", "--help"});
  REQUIRE(r.code == 0);
  for (const char* s : {"--compare", "--timeline", "--plot", "--period", "--gpus-per-node", "kai.dev/simulate-duration", "RestartJob"}) {
    INFO(s);
    CHECK(r.out.find(s) != std::string::npos);
  }
}
