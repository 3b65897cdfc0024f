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
