#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"

namespace {

/// A kai command lives for milliseconds, and listing objects allocates a few MiB of small
/// blocks: first-touch page faults were a third of `kai job list`'s time. Grow the heap in one
/// 32 MiB step and ask for transparent huge pages on it (what glibc's malloc.hugetlb=1 tunable
/// does), so the faults come 2 MiB at a time. Harmless where THP is off.
void prepare_heap() {
  constexpr std::size_t kPad = 32u << 20;
  constexpr std::uintptr_t kHuge = 2u << 20;
  mallopt(M_TOP_PAD, static_cast<int>(kPad));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * kPad));
  // Allocate blocks below the mmap threshold until the heap grows (by kPad), then advise the
  // new part.
  const auto before = reinterpret_cast<std::uintptr_t>(sbrk(0));
  std::array<void*, 64> probes{};
  std::size_t n = 0;
  while (n < probes.size() && reinterpret_cast<std::uintptr_t>(sbrk(0)) == before) probes[n++] = std::malloc(96u << 10);
  const auto after = reinterpret_cast<std::uintptr_t>(sbrk(0));
  const std::uintptr_t begin = (before + kHuge - 1) & ~(kHuge - 1);
  if (after > begin + kHuge) madvise(reinterpret_cast<void*>(begin), (after - begin) & ~(kHuge - 1), MADV_HUGEPAGE);
  for (std::size_t i = 0; i < n; ++i) std::free(probes[i]);
}

}  // namespace

int main(int argc, char** argv) {
  prepare_heap();
  kai::cli::Context ctx(std::cout, std::cerr);
  return kai::cli::run(argc, argv, ctx);
}
