// Go's time.ParseDuration, as Kubernetes objects, Volcano's arguments and kai's flags use it.

#include <catch2/catch.hpp>

#include "lib/api/duration.h"

using kai::api::go_duration_seconds;
using kai::api::parse_go_duration;

TEST_CASE("Go durations parse to nanoseconds as time.ParseDuration does") {
  int64_t ns = -1;
  struct Case {
    const char* text;
    int64_t nanos;
  };
  for (const Case& c : {Case{"0", 0}, Case{"+0", 0}, Case{"-0", 0}, Case{"300ms", 300'000'000},
                        Case{"1.5h", 5'400'000'000'000}, Case{"2h45m", 9'900'000'000'000}, Case{"-1m", -60'000'000'000},
                        Case{"1h30m15s", 5'415'000'000'000}, Case{".5s", 500'000'000}, Case{"1.s", 1'000'000'000},
                        Case{"10us", 10'000}, Case{"10\xc2\xb5s", 10'000}, Case{"7ns", 7}}) {
    INFO(c.text);
    REQUIRE(parse_go_duration(c.text, ns));
    CHECK(ns == c.nanos);
  }
  CHECK(go_duration_seconds("1m30s") == Approx(90.0));
  CHECK(go_duration_seconds("250ms") == Approx(0.25));
}

TEST_CASE("bad Go durations are refused with Go's message") {
  int64_t ns = 0;
  std::string err;
  auto refused = [&](const char* text) {
    err.clear();
    return !parse_go_duration(text, ns, &err);
  };
  CHECK(refused(""));
  CHECK(err == "time: invalid duration \"\"");
  CHECK(refused("1"));
  CHECK(err == "time: missing unit in duration \"1\"");
  CHECK(refused("10x"));
  CHECK(err == "time: unknown unit \"x\" in duration \"10x\"");
  CHECK(refused("soon"));
  CHECK(err == "time: invalid duration \"soon\"");
  CHECK(refused("."));
  CHECK(err == "time: invalid duration \".\"");
  CHECK(refused("1h-2m"));
  CHECK(refused("9999999999h"));
  CHECK(err == "time: invalid duration \"9999999999h\"");
  CHECK_FALSE(go_duration_seconds("3 s"));
}
