// End to end: vcctl's queue commands on the embedded cluster.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;

namespace {

/// These tests check formats on jobs that stay Pending: a one-node cluster too small for any of
/// them, so the enqueue gate (overcommit) keeps their PodGroups Pending and no pod is made.
void hold_jobs(const KaiEnv& env) {
  auto r = env.kai({"cluster", "init", "--nodes", "1", "--cpu", "10m", "--memory", "10Mi", "--gpus-per-node", "0"});
  REQUIRE(r.code == 0);
}
}  // namespace
using nlohmann::json;

TEST_CASE("queue create, list and get print vcctl's columns with PodGroup counts") {
  KaiEnv env;
  hold_jobs(env);
  auto c = env.kai({"queue", "create", "-n", "research", "-w", "3"});
  INFO(c.err);
  REQUIRE(c.code == 0);
  CHECK(c.out == "queue.scheduling.volcano.sh/research created\n");
  REQUIRE(env.kai({"job", "run", "a", "-q", "research"}).code == 0);
  REQUIRE(env.kai({"job", "run", "b", "-q", "research"}).code == 0);
  auto l = env.kai({"queue", "list"});
  REQUIRE(l.code == 0);
  CHECK(l.out ==
        "Name                     Weight  State   Parent  Inqueue Pending Running Unknown Completed\n"
        "default                  1       Open    root    0       0       0       0       0       \n"
        "research                 3       Open    root    0       2       0       0       0       \n"
        "root                     1       Open            0       0       0       0       0       \n");
  auto g = env.kai({"queue", "get", "research"});
  CHECK(g.out ==
        "Name                     Weight  State   Parent  Inqueue Pending Running Unknown Completed\n"
        "research                 3       Open    root    0       2       0       0       0       \n");
  auto y = env.kai({"queue", "get", "research", "-o", "json"});
  auto q = json::parse(y.out);
  CHECK(q["spec"]["weight"] == 3);
  CHECK(q["spec"]["reclaimable"] == true);
  auto missing = env.kai({"queue", "get", "nope"});
  CHECK(missing.code == 1);
  CHECK(missing.err == "kai: error: queues.scheduling.volcano.sh \"nope\" not found\n");
  auto dup = env.kai({"queue", "create", "research"});
  CHECK(dup.code == 1);
  CHECK(dup.err == "kai: error: queues.scheduling.volcano.sh \"research\" already exists\n");
  auto w = env.kai({"queue", "create", "heavy", "-w", "0"});
  CHECK(w.code == 2);
}

TEST_CASE("queue operate closes, opens and updates through Commands") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"queue", "create", "team"}).code == 0);
  auto close = env.kai({"queue", "operate", "-n", "team", "-a", "close"});
  INFO(close.err);
  REQUIRE(close.code == 0);
  CHECK(close.out == "queue.scheduling.volcano.sh/team closed (state Closed)\n");
  // The controller ran the Command and deleted it, as Volcano's does.
  CHECK(env.kai({"get", "commands"}).err == "No resources found in default namespace.\n");
  auto refused = env.kai({"job", "run", "x", "-q", "team"});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("can only submit job to queue with state `Open`, queue `team` status is `Closed`") != std::string::npos);
  auto open = env.kai({"queue", "operate", "team", "-a", "open"});
  CHECK(open.out == "queue.scheduling.volcano.sh/team opened (state Open)\n");
  CHECK(env.kai({"job", "run", "x", "-q", "team"}).code == 0);
  auto closing = env.kai({"queue", "operate", "team", "-a", "close"});
  CHECK(closing.out == "queue.scheduling.volcano.sh/team closed (state Closing)\n");
  auto upd = env.kai({"queue", "operate", "team", "-a", "update", "-w", "7"});
  CHECK(upd.code == 0);
  CHECK(json::parse(env.kai({"queue", "get", "team", "-o", "json"}).out)["spec"]["weight"] == 7);

  auto now = env.kai({"queue", "operate", "team", "-a", "update"});
  CHECK(now.code == 2);
  CHECK(now.err.find("when update queue team, weight must be specified, the value must be greater than 0") != std::string::npos);
  auto bad = env.kai({"queue", "operate", "team", "-a", "explode"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("action explode invalid, valid actions are open, close and update") != std::string::npos);
  auto none = env.kai({"queue", "operate", "team"});
  CHECK(none.code == 2);
  CHECK(none.err.find("action can not be null") != std::string::npos);
}

TEST_CASE("queue delete protects default and root") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"queue", "create", "tmp"}).code == 0);
  auto d = env.kai({"queue", "delete", "tmp"});
  CHECK(d.code == 0);
  CHECK(d.out == "queues.scheduling.volcano.sh \"tmp\" deleted\n");
  auto def = env.kai({"queue", "delete", "default"});
  CHECK(def.code == 1);
  CHECK(def.err.find("`default` queue can not be deleted") != std::string::npos);
  auto root = env.kai({"queue", "delete", "-n", "root"});
  CHECK(root.code == 1);
  CHECK(root.err.find("`root` queue can not be deleted") != std::string::npos);
}

TEST_CASE("queue create sets deserved, guarantee and capability, and list shows the parent and the tree") {
  KaiEnv env;
  hold_jobs(env);
  // A child may deserve a gpu only if its parent does (Volcano sums children's deserved per resource).
  auto c = env.kai({"queue", "create", "org", "--deserved", "cpu=8,memory=16Gi,nvidia.com/gpu=4", "--guarantee", "cpu=2",
                    "--capability", "cpu=16,memory=32Gi,nvidia.com/gpu=4"});
  INFO(c.err);
  REQUIRE(c.code == 0);
  CHECK(c.out == "queue.scheduling.volcano.sh/org created\n");
  c = env.kai({"queue", "create", "team", "--parent", "org", "-w", "2", "--deserved", "cpu=4,nvidia.com/gpu=2",
               "--guarantee", "cpu=1", "--capability", "cpu=8"});
  INFO(c.err);
  REQUIRE(c.code == 0);
  auto q = json::parse(env.kai({"queue", "get", "team", "-o", "json"}).out);
  CHECK(q["spec"]["parent"] == "org");
  CHECK(q["spec"]["weight"] == 2);
  CHECK(q["spec"]["deserved"] == json({{"cpu", "4"}, {"nvidia.com/gpu", "2"}}));
  CHECK(q["spec"]["guarantee"]["resource"] == json({{"cpu", "1"}}));
  CHECK(q["spec"]["capability"] == json({{"cpu", "8"}}));
  auto closed = env.kai({"queue", "create", "later", "--parent", "org", "-S", "Closed"});
  CHECK(closed.code == 0);

  auto l = env.kai({"queue", "list"});
  REQUIRE(l.code == 0);
  CHECK(l.out ==
        "Name                     Weight  State   Parent  Inqueue Pending Running Unknown Completed\n"
        "default                  1       Open    root    0       0       0       0       0       \n"
        "later                    1       Closed  org     0       0       0       0       0       \n"
        "org                      1       Open    root    0       0       0       0       0       \n"
        "root                     1       Open            0       0       0       0       0       \n"
        "team                     2       Open    org     0       0       0       0       0       \n");
  auto t = env.kai({"queue", "list", "--tree"});
  INFO(t.err);
  REQUIRE(t.code == 0);
  CHECK(t.out ==
        "NAME        WEIGHT   STATE    DESERVED                             GUARANTEE   CAPABILITY\n"
        "root        1        Open     <none>                               <none>      <none>\n"
        "  default   1        Open     <none>                               <none>      <none>\n"
        "  org       1        Open     cpu=8,memory=16Gi,nvidia.com/gpu=4   cpu=2       cpu=16,memory=32Gi,nvidia.com/gpu=4\n"
        "    later   1        Closed   <none>                               <none>      <none>\n"
        "    team    2        Open     cpu=4,nvidia.com/gpu=2               cpu=1       cpu=8\n");
  auto both = env.kai({"queue", "list", "--tree", "-o", "json"});
  CHECK(both.code == 2);
  CHECK(both.err.find("kai: error: --tree prints a table; it cannot be combined with -o\n") == 0);
  auto bad = env.kai({"queue", "create", "x", "--deserved", "cpu"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("kai: error: --deserved cpu: expected NAME=QUANTITY pairs separated by commas, such as "
                     "cpu=4,memory=8Gi\n") == 0);
}

TEST_CASE("queue create refuses what Volcano's queue webhook refuses, with its messages") {
  KaiEnv env;
  hold_jobs(env);
  REQUIRE(env.kai({"queue", "create", "org", "--deserved", "cpu=4", "--guarantee", "cpu=2", "--capability", "cpu=8"}).code == 0);
  REQUIRE(env.kai({"queue", "create", "team", "--parent", "org", "--deserved", "cpu=3", "--guarantee", "cpu=1"}).code == 0);
  const std::string invalid = "kai: error: Queue.scheduling.volcano.sh ";
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"q1", "--guarantee", "cpu=2"},
       invalid + "\"q1\" is invalid: spec.deserved[cpu]: Invalid value: \"<nil>\": deserved[cpu] must be >= guarantee[cpu]=2\n"},
      {{"q2", "--deserved", "cpu=1", "--guarantee", "cpu=2"},
       invalid + "\"q2\" is invalid: spec.deserved[cpu]: Invalid value: \"1\": deserved[cpu]=1 must be >= guarantee[cpu]=2\n"},
      {{"q3", "--deserved", "cpu=8", "--capability", "cpu=4"},
       invalid + "\"q3\" is invalid: spec.deserved[cpu]: Invalid value: \"8\": deserved[cpu]=8 must be <= capability[cpu]=4\n"},
      {{"q4", "--parent", "q4"}, invalid + "\"q4\" is invalid: spec.parent: Invalid value: \"q4\": queue q4 cannot use itself as parent\n"},
      {{"q5", "--parent", "nowhere"},
       invalid + "\"q5\" is invalid: spec.parent: Invalid value: \"nowhere\": failed to get parent queue of queue q5: "
                 "queues.scheduling.volcano.sh \"nowhere\" not found\n"},
      {{"q6", "--parent", "org", "--capability", "cpu=16"},
       invalid + "\"q6\" is invalid: spec.capability[cpu]: Invalid value: \"16\": queue q6 capability[cpu]=16 exceeds its "
                 "ancestor's capability=8\n"},
      {{"q7", "--parent", "org", "--deserved", "cpu=2", "--guarantee", "cpu=2"},
       invalid + "\"q7\" is invalid: spec.guarantee.resource: Forbidden: parent queue org validation failed: sum of "
                 "children's guarantee (cpu 3000.00, memory 0.00) exceeds parent's guarantee limit (cpu 2000.00, memory 0.00)\n"},
      {{"q8", "--parent", "org", "--deserved", "cpu=2"},
       invalid + "\"q8\" is invalid: spec.deserved: Forbidden: parent queue org validation failed: sum of children's "
                 "deserved (cpu 5000.00, memory 0.00) exceeds parent's deserved limit (cpu 4000.00, memory 0.00)\n"},
      {{"q9", "--deserved", "cpu=abc"},
       invalid + "\"q9\" is invalid: spec.deserved[cpu]: Invalid value: \"abc\": quantities must match the regular "
                 "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'\n"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {"queue", "create"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = env.kai(argv);
    INFO(c.args[0]);
    CHECK(r.code == 1);
    CHECK(r.err == c.err);
  }
  auto del = env.kai({"queue", "delete", "org"});
  CHECK(del.code == 1);
  CHECK(del.err == "kai: error: queue org can not be deleted because it has 1 child queues: team\n");
  CHECK(env.kai({"queue", "delete", "team"}).code == 0);
  CHECK(env.kai({"queue", "delete", "org"}).code == 0);
}

TEST_CASE("the capacity plugin with enableHierarchy holds a leaf queue to its parent's capability in local mode") {
  KaiEnv env;
  const std::string conf = env.dir().write("capacity.conf",
                                           "actions: \"enqueue, allocate, backfill\"\n"
                                           "tiers:\n"
                                           "- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n"
                                           "- plugins:\n  - name: drf\n  - name: predicates\n"
                                           "  - name: capacity\n    enableHierarchy: true\n  - name: nodeorder\n");
  REQUIRE(env.kai({"cluster", "init", "--nodes", "1", "--cpu", "4", "--gpus-per-node", "0", "--scheduler-conf", conf}).code == 0);
  REQUIRE(env.kai({"queue", "create", "org", "--capability", "cpu=2"}).code == 0);
  REQUIRE(env.kai({"queue", "create", "team", "--parent", "org"}).code == 0);
  auto r = env.kai({"job", "run", "w", "-q", "team", "-r", "4", "-m", "1", "-R", "cpu=1", "--", "sleep", "30"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(env.kai({"job", "wait", "w", "--for", "Running", "--timeout", "30s"}).code == 0);
  // The node has 4 cpu, the queue's parent 2: two of the four 1-cpu pods are placed.
  int placed = 0;
  const auto pods = env.kai({"get", "pods", "-o", "json"});
  INFO(pods.err);
  const json list = json::parse(pods.out);
  for (const auto& p : list["items"]) {
    if (!p["spec"].value("nodeName", std::string()).empty()) ++placed;
  }
  CHECK(placed == 2);
  // Jobs go to leaf queues only (Volcano's job webhook).
  auto parent = env.kai({"job", "run", "p", "-q", "org", "--", "true"});
  CHECK(parent.code == 1);
  CHECK(parent.err.find("can only submit job to leaf queue, queue `org` has 1 child queues") != std::string::npos);
}
