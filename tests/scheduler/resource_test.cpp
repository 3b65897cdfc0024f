// Resource: Volcano's api.Resource arithmetic and comparisons, including scalar presence.

#include <catch2/catch.hpp>

#include "lib/scheduler/resource.h"

using kai::scheduler::DimDefault;
using kai::scheduler::Resource;

namespace {

// Dimensions: 0 cpu, 1 memory, 2 nvidia.com/gpu, 3 example.com/foo.
Resource res(double cpu, double mem, double gpu = -1, double foo = -1) {
  Resource r(4);
  r.set(Resource::kCpu, cpu);
  r.set(Resource::kMemory, mem);
  if (gpu >= 0) r.set(2, gpu);
  if (foo >= 0) r.set(3, foo);
  return r;
}

}  // namespace

TEST_CASE("less_equal ignores differences below 0.1 and reads absent scalars by the default") {
  CHECK(res(1000.05, 10).less_equal(res(1000, 10), DimDefault::Zero));
  CHECK_FALSE(res(1000.2, 10).less_equal(res(1000, 10), DimDefault::Zero));
  SECTION("Zero: a scalar the right side lacks is 0 there") {
    CHECK_FALSE(res(1, 1, 1000).less_equal(res(2, 2), DimDefault::Zero));
    CHECK(res(1, 1).less_equal(res(2, 2, 1000), DimDefault::Zero));
  }
  SECTION("Infinity: a scalar the right side lacks is unlimited, one only the right has is infinite on the left") {
    CHECK(res(1, 1, 1000).less_equal(res(2, 2), DimDefault::Infinity));
    CHECK_FALSE(res(1, 1).less_equal(res(2, 2, 1000), DimDefault::Infinity));
  }
}

TEST_CASE("greater_dims names the short dimensions in cpu, memory, scalar order") {
  CHECK(res(3, 5, 2000).greater_dims(res(2, 4, 1000), DimDefault::Zero) == std::vector<int>{0, 1, 2});
  CHECK(res(1, 5).greater_dims(res(2, 4), DimDefault::Zero) == std::vector<int>{1});
  CHECK(res(1, 1).greater_dims(res(2, 2), DimDefault::Zero).empty());
}

TEST_CASE("greater_dims_within compares only what the request asks for, strictly") {
  const Resource req = res(0, 0, 1000);
  // cpu and memory are over, but the request asks only for gpu.
  CHECK(res(9, 9, 1000).greater_dims_within(res(1, 1, 1000), req).empty());
  CHECK(res(9, 9, 1001).greater_dims_within(res(1, 1, 1000), req) == std::vector<int>{2});
  // No tolerance here (Volcano's LessEqualWithDimensionAndResourcesName).
  CHECK(res(1000.05, 0).greater_dims_within(res(1000, 0), res(1, 0)) == std::vector<int>{0});
}

TEST_CASE("min_dimension with Zero drops what the other side lacks, with Infinity keeps it") {
  Resource a = res(4, 8, 3000, 5000);
  a.min_dimension(res(2, 16, 1000), DimDefault::Zero);
  CHECK(a.get(0) == 2);
  CHECK(a.get(1) == 8);
  CHECK(a.get(2) == 1000);
  CHECK(a.get(3) == 0);
  Resource b = res(4, 8, 3000, 5000);
  b.min_dimension(res(2, 16, 1000), DimDefault::Infinity);
  CHECK(b.get(3) == 5000);
}

TEST_CASE("diff splits into increased and decreased parts") {
  auto [inc, dec] = res(3, 1, 2000).diff(res(1, 4));
  CHECK(inc.get(0) == 2);
  CHECK(inc.get(1) == 0);
  CHECK(inc.get(2) == 2000);
  CHECK(dec.get(1) == 3);
  CHECK(dec.get(0) == 0);
  CHECK(kai::scheduler::exceeded_part(res(1, 4), res(3, 1)).get(1) == 3);
}

TEST_CASE("helpers.Min drops scalars unless both sides have some, helpers.Max keeps positive scalars") {
  const Resource m = kai::scheduler::resource_min(res(4, 8, 3000), res(2, 16));
  CHECK(m.get(0) == 2);
  CHECK_FALSE(m.has(2));
  const Resource m2 = kai::scheduler::resource_min(res(4, 8, 3000, 7), res(2, 16, 1000));
  CHECK(m2.get(2) == 1000);
  CHECK(m2.get(3) == 0);  // absent in r reads 0
  CHECK(m2.has(3));
  const Resource x = kai::scheduler::resource_max(res(1, 8, 0), res(2, 4, 5));
  CHECK(x.get(0) == 2);
  CHECK(x.get(1) == 8);
  CHECK(x.get(2) == 5);
  CHECK_FALSE(kai::scheduler::resource_max(res(1, 1, 0), res(1, 1)).has(2));
}

TEST_CASE("add, sub, multi, emptiness and names") {
  Resource r = res(1, 2);
  r.add(res(1, 1, 1000));
  CHECK(r.get(2) == 1000);
  r.multi(0.5);
  CHECK(r.get(0) == 1);
  CHECK(r.get(2) == 500);
  r.sub(res(1, 1.5, 500));
  CHECK(r.is_empty());
  CHECK(res(0.05, 0, 0.2).resource_names() == std::vector<int>{2});
  // Volcano's sub leaves scalars alone when the left side has none.
  Resource plain = res(5, 5);
  plain.sub(res(1, 1, 1000));
  CHECK_FALSE(plain.has(2));
  CHECK(kai::scheduler::share(0, 0) == 0);
  CHECK(kai::scheduler::share(3, 0) == 1);
  CHECK(kai::scheduler::share(1, 4) == 0.25);
}
