// Replacing the global operator new/delete is the one process-wide hook the language
// offers for counting allocations; it lives in its own file so that no call site is
// inlined against it.
#include "tests/core/topic/allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> gAllocations{0};
}  // namespace

namespace midge::topic::testing {
long allocationCount() noexcept { return gAllocations.load(std::memory_order_relaxed); }
}  // namespace midge::topic::testing

void* operator new(std::size_t size) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
