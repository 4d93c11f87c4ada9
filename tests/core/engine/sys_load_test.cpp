// SPDX-License-Identifier: Apache-2.0
// The $SYS load averages follow Mosquitto's formula: a per-minute rate over each interval,
// folded into 1, 5 and 15 minute exponentially weighted averages.
#include <gtest/gtest.h>

#include <cmath>

#include "core/engine/sys_load.hpp"

namespace midge {
namespace {

TEST(LoadAverage, StartsAtZeroAndFoldsInThePerMinuteRate) {
  LoadAverage load;
  load.sample(0, 0);  // the publication at start: no time has passed
  EXPECT_EQ(load.average(0), 0.0);
  load.sample(60, 10000);  // 60 in 10 s: 360 per minute
  const double expected1 = (1 - std::exp(-10.0 / 60.0)) * 360.0;
  EXPECT_NEAR(load.average(0), expected1, 1e-9);
  EXPECT_NEAR(load.average(1), (1 - std::exp(-10.0 / 300.0)) * 360.0, 1e-9);
  EXPECT_NEAR(load.average(2), (1 - std::exp(-10.0 / 900.0)) * 360.0, 1e-9);
  load.sample(60, 10000);  // idle: the averages decay
  EXPECT_NEAR(load.average(0), std::exp(-10.0 / 60.0) * expected1, 1e-9);
}

TEST(LoadAverage, SteadyRateConverges) {
  LoadAverage load;
  std::uint64_t counter = 0;
  for (int i = 0; i < 20000; ++i) {
    counter += 10;  // 10 per second
    load.sample(counter, 1000);
  }
  EXPECT_NEAR(load.average(0), 600.0, 1e-6);
  EXPECT_NEAR(load.average(2), 600.0, 1e-6);
}

}  // namespace
}  // namespace midge
