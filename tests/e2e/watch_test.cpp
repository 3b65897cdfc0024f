// End to end: `kai get -w` on the embedded cluster prints the list, then each change.

#include <algorithm>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;
using nlohmann::json;

TEST_CASE("get -w prints the list and then each change, --watch-only only the changes") {
  KaiEnv env;
  REQUIRE(env.kai({"queue", "create", "first"}).code == 0);
  const std::string kai = KAI_BINARY;
  auto r = env.sh("(sleep 1; '" + kai + "' queue create second >/dev/null; '" + kai + "' queue operate second -a close >/dev/null) & '" +
                  kai + "' get queues -w --request-timeout 3s; wait");
  INFO(r.err);
  REQUIRE(r.code == 0);
  // The header once, the queues there were, then `second` added and then closed.
  CHECK(r.out.rfind("NAME ", 0) == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') >= 5);  // header, default, first, root?, second x2
  CHECK(r.out.find("\nfirst ") != std::string::npos);
  const auto added = r.out.find("\nsecond ");
  REQUIRE(added != std::string::npos);
  CHECK(r.out.find("\nsecond ", added + 1) != std::string::npos);
  CHECK(r.out.find("NAME ", 1) == std::string::npos);

  r = env.sh("(sleep 1; '" + kai + "' queue create third >/dev/null) & '" + kai +
             "' get queue --watch-only -o json --request-timeout 3s; wait");
  REQUIRE(r.code == 0);
  // Only the changes: third added (and updated by the queue controller), one JSON object each.
  std::istringstream in(r.out);
  int objects = 0;
  for (json q; in >> std::ws && in.peek() != EOF; ++objects) {
    in >> q;
    CHECK(q["metadata"]["name"] == "third");
  }
  CHECK(objects >= 1);

  // One name: only that object's changes.
  r = env.sh("(sleep 1; '" + kai + "' queue create fourth >/dev/null; '" + kai + "' queue operate first -a close >/dev/null) & '" + kai +
             "' get queue first -w --no-headers --request-timeout 3s; wait");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("fourth") == std::string::npos);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);  // first, then first closed

  auto bad = env.kai({"get", "queue", "a", "b", "-w"});
  CHECK(bad.code == 2);
  CHECK(bad.err.rfind("kai: error: watch is only supported on individual resources and resource collections, but 2 resources were found\n", 0) == 0);
  bad = env.kai({"get", "queue", "-w", "--request-timeout", "soon"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--request-timeout: ") != std::string::npos);
}
