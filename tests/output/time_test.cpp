#include <catch2/catch.hpp>

#include "lib/output/printer.h"

using namespace kai::output;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {
constexpr long long kDay = 24 * 3600;
constexpr long long kYear = 365 * kDay;
}  // namespace

TEST_CASE("human_duration follows apimachinery HumanDuration branch by branch") {
  struct Row {
    long long secs;
    const char* want;
  };
  const Row rows[] = {
      {-5, "<invalid>"},            // more than a second in the future
      {-2, "<invalid>"},
      {-1, "0s"},                   // clock skew tolerated
      {0, "0s"},
      {1, "1s"},
      {59, "59s"},
      {119, "119s"},                // seconds up to 2 minutes
      {120, "2m"},
      {125, "2m5s"},                // minutes+seconds below 10 minutes
      {599, "9m59s"},
      {600, "10m"},
      {601, "10m"},
      {3 * 3600 - 1, "179m"},       // minutes below 3 hours
      {3 * 3600, "3h"},
      {3 * 3600 + 60, "3h1m"},      // hours+minutes below 8 hours
      {8 * 3600 - 1, "7h59m"},
      {8 * 3600, "8h"},
      {47 * 3600 + 3599, "47h"},    // hours below 2 days
      {48 * 3600, "2d"},
      {2 * kDay + 5 * 3600, "2d5h"},  // days+hours below 8 days
      {8 * kDay - 1, "7d23h"},
      {8 * kDay, "8d"},
      {2 * kYear - 1, "729d"},      // days below 2 years
      {2 * kYear, "2y"},
      {2 * kYear + 10 * kDay, "2y10d"},  // years+days below 8 years
      {8 * kYear - 1, "7y364d"},
      {8 * kYear, "8y"},
      {20 * kYear + 100 * kDay, "20y"},
  };
  for (const auto& r : rows) {
    INFO(r.secs);
    CHECK(human_duration(seconds(r.secs)) == r.want);
  }
}

TEST_CASE("parse_time and format_time handle RFC 3339") {
  auto t = parse_time("2026-11-22T17:26:52Z");
  REQUIRE(t);
  CHECK(format_time(*t) == "2026-11-22T17:26:52Z");
  CHECK(std::chrono::duration_cast<seconds>(t->time_since_epoch()).count() == 1795368412);

  SECTION("fractions and offsets") {
    auto f = parse_time("2026-11-22T17:26:52.123456Z");
    REQUIRE(f);
    CHECK(format_time(*f) == "2026-11-22T17:26:52Z");
    CHECK(*f - *t == std::chrono::microseconds(123456));
    auto o = parse_time("2026-11-22T19:26:52+02:00");
    REQUIRE(o);
    CHECK(*o == *t);
    auto n = parse_time("2026-11-22T12:26:52-05:00");
    REQUIRE(n);
    CHECK(*n == *t);
  }
  SECTION("epoch, leap day and old dates") {
    CHECK(format_time(*parse_time("1970-01-01T00:00:00Z")) == "1970-01-01T00:00:00Z");
    CHECK(format_time(*parse_time("2024-02-29T23:59:59Z")) == "2024-02-29T23:59:59Z");
    CHECK(format_time(*parse_time("1969-12-31T23:59:59Z")) == "1969-12-31T23:59:59Z");
  }
  SECTION("rejects what is not RFC 3339") {
    for (const char* bad : {"", "2026-11-22", "2026-11-22 17:26:52Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                            "2025-02-29T00:00:00Z", "2026-11-22T17:26:52", "2026-11-22T17:26:52Zjunk",
                            "2026-11-22T24:00:00Z", "2026-11-22T17:26:52.Z", "2026-11-22T17:26:52+0200"}) {
      INFO(bad);
      CHECK_FALSE(parse_time(bad));
    }
  }
}

TEST_CASE("age is relative to a fixed now") {
  auto now = *parse_time("2026-11-22T18:00:00Z");
  CHECK(age("2026-11-22T17:55:00Z", now) == "5m");
  CHECK(age("2026-11-22T17:59:30Z", now) == "30s");
  CHECK(age("2026-11-20T18:00:00Z", now) == "2d");
  CHECK(age("2026-11-22T18:00:01Z", now) == "0s");
  CHECK(age("2026-11-22T18:00:10Z", now) == "<invalid>");
  CHECK(age("", now) == "<unknown>");
  CHECK(age("yesterday", now) == "<unknown>");
}
