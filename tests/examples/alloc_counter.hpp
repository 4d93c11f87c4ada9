// SPDX-License-Identifier: Apache-2.0
// Counts heap allocations made by code under test. alloc_counter.cpp replaces the global
// operator new of the test executable that links it; only calls made inside measure() are
// attributed, so the test's own containers do not count.
#pragma once

#include <cstddef>
#include <utility>

namespace midge::test {

// Allocations by operator new in this process so far.
std::size_t allocationsSoFar() noexcept;

class AllocationCounter {
 public:
  template <typename Fn>
  void measure(Fn&& fn) {
    const std::size_t before = allocationsSoFar();
    std::forward<Fn>(fn)();
    counted_ += allocationsSoFar() - before;
  }
  std::size_t allocations() const noexcept { return counted_; }

 private:
  std::size_t counted_ = 0;
};

}  // namespace midge::test
