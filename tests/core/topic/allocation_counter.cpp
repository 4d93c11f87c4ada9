// SPDX-License-Identifier: Apache-2.0
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

// Every form is replaced: a form left to the runtime (AddressSanitizer's, say) would pair
// its own new with our delete, and the standard library uses the nothrow and array forms
// too (std::stable_sort's temporary buffer, for one).
namespace {
void* countedAllocation(std::size_t size) noexcept {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = countedAllocation(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = countedAllocation(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return countedAllocation(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return countedAllocation(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
