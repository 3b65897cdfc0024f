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
/// blocks: first-touch page faults were a third of `kai job list`'s time (more in a VM). Grow
/// the heap in one 32 MiB step and ask for transparent huge pages on it (what glibc's
/// malloc.hugetlb=1 tunable does), so the faults come 2 MiB at a time. Harmless where THP is off.
void prepare_heap() {
#if defined(__SANITIZE_ADDRESS__)
  return;  // ASan has its own allocator (and would report the filler below as a leak)
#endif
  constexpr std::size_t kPad = 32u << 20;
  constexpr std::uintptr_t kHuge = 2u << 20;
  mallopt(M_TOP_PAD, static_cast<int>(kPad));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * kPad));
  // Large blocks (the output text, big vectors) from the heap too: an mmap'd block faults in
  // 4 KiB pages, and is unmapped again when freed.
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kPad / 8));
  // Allocate blocks below the mmap threshold until the heap grows (by kPad), then advise the
  // new part. The blocks are small so that malloc writes nothing in the new part before that:
  // one 4 KiB page touched in a 2 MiB extent keeps the whole extent on 4 KiB pages.
  const auto before = reinterpret_cast<std::uintptr_t>(sbrk(0));
  std::array<void*, 64> probes{};
  std::size_t n = 0;
  while (n < probes.size() && reinterpret_cast<std::uintptr_t>(sbrk(0)) == before) probes[n++] = std::malloc(96u << 10);
  const auto after = reinterpret_cast<std::uintptr_t>(sbrk(0));
  const std::uintptr_t begin = (before + kHuge - 1) & ~(kHuge - 1);
  if (after > begin + kHuge) madvise(reinterpret_cast<void*>(begin), (after - begin) & ~(kHuge - 1), MADV_HUGEPAGE);
  for (std::size_t i = 0; i < n; ++i) std::free(probes[i]);
  // The probes went back to the top of the heap, which starts where probes[0] did. Below the
  // first 2 MiB boundary there can only be 4 KiB pages: fill that part with one block that is
  // never touched nor freed, so that the next allocations are on huge pages (~200 faults fewer,
  // 1-2 ms, for `kai job list`). The block's size puts the next chunk's header at `begin`.
  const auto first = reinterpret_cast<std::uintptr_t>(probes[0]);
  if (n > 0 && after > begin + kHuge && begin > first + 4096) {
    void* filler = std::malloc(begin - first + 8);
    asm volatile("" : : "g"(filler) : "memory");  // the compiler would drop an unused malloc
  }
}

}  // namespace

int main(int argc, char** argv) {
  prepare_heap();
  kai::cli::Context ctx(std::cout, std::cerr);
  return kai::cli::run(argc, argv, ctx);
}
