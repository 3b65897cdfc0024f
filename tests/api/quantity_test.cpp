// Quantities: Kubernetes' resource.Quantity parse, canonical String(), rounding and arithmetic.
// Expected values come from apimachinery's quantity.go / quantity_test.go behaviour.

#include <catch2/catch.hpp>

#include <string>

#include "lib/api/error.h"
#include "lib/api/quantity.h"

using kai::api::Quantity;
using F = Quantity::Format;

namespace {

const std::string kFormatError =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const std::string kSuffixError = "unable to parse quantity's suffix";

std::string parse_error(const std::string& text) {
  try {
    Quantity::parse(text);
  } catch (const kai::Error& e) {
    CHECK(e.kind() == kai::ErrorKind::Invalid);
    return e.what();
  }
  return "(parsed)";
}

}  // namespace

TEST_CASE("quantity parse gives Kubernetes' canonical string") {
  struct Row {
    const char* in;
    const char* canonical;
    F format;
  };
  // clang-format off
  const Row rows[] = {
      {"0", "0", F::DecimalSI},
      {"0m", "0", F::DecimalSI},
      {"0Gi", "0", F::BinarySI},
      {"-0", "0", F::DecimalSI},
      {"500m", "500m", F::DecimalSI},
      {"1.5", "1500m", F::DecimalSI},
      {"2", "2", F::DecimalSI},
      {"1Gi", "1Gi", F::BinarySI},
      {"1G", "1G", F::DecimalSI},
      {"1M", "1M", F::DecimalSI},
      {"1e3", "1e3", F::DecimalExponent},
      {"1E6", "1E6", F::DecimalExponent},
      {"1e-3", "1e-3", F::DecimalExponent},
      {"0.5Gi", "512Mi", F::BinarySI},
      {"100Mi", "100Mi", F::BinarySI},
      {"1000", "1k", F::DecimalSI},
      {"1024Mi", "1Gi", F::BinarySI},
      {"1000M", "1G", F::DecimalSI},
      {"0.1", "100m", F::DecimalSI},
      {"0.5", "500m", F::DecimalSI},
      {"1.5Gi", "1536Mi", F::BinarySI},
      {"8Ki", "8Ki", F::BinarySI},
      {"1025Ki", "1025Ki", F::BinarySI},
      {"1.5Ki", "1536", F::BinarySI},
      {"0.5Ki", "512", F::BinarySI},
      {".001Ki", "1024m", F::BinarySI},
      {".000001Ki", "1024u", F::DecimalSI},
      {".000000001Ki", "1024n", F::DecimalSI},
      {".000000000001Ki", "2n", F::DecimalSI},
      {"9Ei", "9223372036854775807", F::BinarySI},
      {"-500m", "-500m", F::DecimalSI},
      {"-1.5", "-1500m", F::DecimalSI},
      {"-1024Mi", "-1Gi", F::BinarySI},
      {"1.0", "1", F::DecimalSI},
      {"1000m", "1", F::DecimalSI},
      {"12E", "12E", F::DecimalSI},
      {"1000E", "1e21", F::DecimalSI},
      {"0.0000000001", "1n", F::DecimalSI},
      {"3.001n", "4n", F::DecimalSI},
      {"1.1E-9", "2e-9", F::DecimalExponent},
      {"1.2e3", "1200", F::DecimalExponent},
      {"0.001", "1m", F::DecimalSI},
      {"0.00000012345", "124n", F::DecimalSI},
      // Kubernetes reuses an input already "canonical" by its int64 fast path, quirks included.
      {"100.035k", "100.035k", F::DecimalSI},
      {"1.500", "1.500", F::DecimalSI},
      {"+1", "+1", F::DecimalSI},
      {"01", "01", F::DecimalSI},
      {"1.G", "1.G", F::DecimalSI},
      {"5e0", "5e0", F::DecimalExponent},
  };
  // clang-format on
  for (const auto& r : rows) {
    SECTION(r.in) {
      Quantity q = Quantity::parse(r.in);
      CHECK(q.canonical() == r.canonical);
      CHECK(q.format() == r.format);
      // The canonical text parses back to the same value.
      CHECK(Quantity::parse(q.canonical()) == q);
    }
  }
}

TEST_CASE("quantity milli_value and value round up away from zero") {
  struct Row {
    const char* in;
    int64_t milli;
    int64_t units;
  };
  const Row rows[] = {
      {"1", 1000, 1},          {"500m", 500, 1},   {"1.5", 1500, 2},      {"-1.5", -1500, -2},
      {"0.0001", 1, 1},        {"-0.0001", -1, -1}, {"1n", 1, 1},          {"1Ki", 1024000, 1024},
      {"1Gi", 1073741824000, 1073741824},           {"2.5m", 3, 1},        {"0", 0, 0},
  };
  for (const auto& r : rows) {
    SECTION(r.in) {
      Quantity q = Quantity::parse(r.in);
      CHECK(q.milli_value() == r.milli);
      CHECK(q.value() == r.units);
    }
  }
  SECTION("saturates instead of overflowing") {
    Quantity big = Quantity::parse("100E");
    CHECK(big.milli_value() == std::numeric_limits<int64_t>::max());
    CHECK(Quantity::parse("-100E").milli_value() == std::numeric_limits<int64_t>::min());
  }
}

TEST_CASE("quantity comparison is by value") {
  CHECK(Quantity::parse("1Gi") > Quantity::parse("1G"));
  CHECK(Quantity::parse("1000m") == Quantity::parse("1"));
  CHECK(Quantity::parse("1k") == Quantity::parse("1e3"));
  CHECK(Quantity::parse("100m") < Quantity::parse("0.2"));
  CHECK(Quantity::parse("-1") < Quantity::parse("0"));
  CHECK(Quantity::parse("10000T") > Quantity::parse("100Gi"));
  CHECK(Quantity() == Quantity::parse("0"));
  CHECK(Quantity::parse("0.5").is_zero() == false);
  CHECK(Quantity::parse("-1m").is_negative());
}

TEST_CASE("quantity addition and subtraction") {
  SECTION("sum is canonicalised in the left format") {
    CHECK((Quantity::parse("500m") + Quantity::parse("1.5")).canonical() == "2");
    CHECK((Quantity::parse("1Gi") + Quantity::parse("512Mi")).canonical() == "1536Mi");
    CHECK((Quantity::parse("1") - Quantity::parse("1500m")).canonical() == "-500m");
  }
  SECTION("a zero left side takes the right side's format") {
    Quantity total;
    total += Quantity::parse("1Gi");
    CHECK(total.canonical() == "1Gi");
    Quantity diff;
    diff -= Quantity::parse("1Gi");
    CHECK(diff.canonical() == "-1Gi");
    CHECK((Quantity::parse("0") + Quantity::parse("100m")).canonical() == "100m");
  }
  SECTION("adding zero keeps the suffix") {
    CHECK((Quantity::parse("1Gi") + Quantity::parse("0")).canonical() == "1Gi");
    CHECK((Quantity::parse("100m") - Quantity::parse("0")).canonical() == "100m");
  }
  SECTION("arithmetic drops a reused input text") {
    Quantity q = Quantity::parse("1.500");
    q += Quantity();
    CHECK(q.canonical() == "1500m");
  }
}

TEST_CASE("quantity constructors from integers") {
  CHECK(Quantity::from_milli(1).canonical() == "1m");
  CHECK(Quantity::from_milli(1000).canonical() == "1");
  CHECK(Quantity::from_milli(1234000).canonical() == "1234");
  CHECK(Quantity::from_milli(1024, F::BinarySI).canonical() == "1024m");
  CHECK(Quantity::from_int(1000).canonical() == "1k");
  CHECK(Quantity::from_int(1234000).canonical() == "1234k");
  CHECK(Quantity::from_int(1024, F::BinarySI).canonical() == "1Ki");
  CHECK(Quantity::from_int(1024 * 1024, F::BinarySI).canonical() == "1Mi");
  CHECK(Quantity::from_int(1000000, F::DecimalExponent).canonical() == "1e6");
  CHECK(Quantity::from_milli(-1500).milli_value() == -1500);
}

TEST_CASE("quantity refuses invalid text with Kubernetes' messages") {
  SECTION("shape errors") {
    for (const char* text : {"", "1.2.3", "abc", "aoeu", "1Qi", " 1", "1 ", "1.1.M", "1+1.0M", "0x10", "1KiB"}) {
      INFO(text);
      CHECK(parse_error(text) == kFormatError);
    }
  }
  SECTION("suffix errors") {
    for (const char* text : {"--1", "1kk", "0.1mi", "1i", "-3.01e-", "1e", ".5i"}) {
      INFO(text);
      CHECK(parse_error(text) == kSuffixError);
    }
  }
  SECTION("beyond the 128-bit range") {
    CHECK(parse_error("1e100") == "quantity \"1e100\" is out of range");
  }
  SECTION("try_parse reports instead of throwing") {
    Quantity q = Quantity::parse("7");
    CHECK_FALSE(Quantity::try_parse("1.2.3", q));
    CHECK(q.canonical() == "7");
    CHECK(Quantity::try_parse("250m", q));
    CHECK(q.milli_value() == 250);
  }
  SECTION("Kubernetes' scanner accepts a lone sign or dot as zero") {
    CHECK(Quantity::parse("-").is_zero());
    CHECK(Quantity::parse(".").is_zero());
  }
}
