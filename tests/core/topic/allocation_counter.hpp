// SPDX-License-Identifier: Apache-2.0
// Counts heap allocations made through operator new in this test binary, so tests can
// check that a hot path allocates nothing.
#pragma once

namespace midge::topic::testing {
long allocationCount() noexcept;
}  // namespace midge::topic::testing
