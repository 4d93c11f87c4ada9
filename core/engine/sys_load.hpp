// SPDX-License-Identifier: Apache-2.0
// Mosquitto's $SYS/broker/load/... figures: for each counter, the rate per minute over the
// last sys_interval, smoothed into 1, 5 and 15 minute exponentially weighted averages the
// way Unix load averages are (and with the same formula as Mosquitto's sys_tree.c), so a
// dashboard built for Mosquitto reads the same numbers from Midge.
#pragma once

#include <cmath>
#include <cstdint>

namespace midge {

class LoadAverage {
 public:
  // Folds in the counter's value `elapsedMs` after the previous sample (the first one:
  // after the start, when every counter was 0).
  void sample(std::uint64_t counter, std::uint64_t elapsedMs) {
    if (elapsedMs == 0) return;
    const double seconds = static_cast<double>(elapsedMs) / 1000.0;
    const double perMinute = static_cast<double>(counter - last_) * 60.0 / seconds;
    last_ = counter;
    for (int i = 0; i < 3; ++i) {
      const double weight = std::exp(-seconds / kWindowSeconds[i]);
      averages_[i] = weight * averages_[i] + (1.0 - weight) * perMinute;
    }
  }
  // 0: 1 min, 1: 5 min, 2: 15 min.
  double average(int window) const { return averages_[window]; }

 private:
  static constexpr double kWindowSeconds[3] = {60.0, 300.0, 900.0};
  std::uint64_t last_ = 0;
  double averages_[3] = {0.0, 0.0, 0.0};
};

// The counters Mosquitto averages, under its topic names ($SYS/broker/load/NAME/1min).
struct SysLoad {
  static constexpr int kCount = 9;
  static constexpr const char* kNames[kCount] = {
      "messages/received", "messages/sent",  "publish/received",
      "publish/sent",      "publish/dropped", "bytes/received",
      "bytes/sent",        "connections",     "sockets"};
  LoadAverage loads[kCount];
  std::uint64_t lastSampleMs = 0;
  bool sampled = false;
};

}  // namespace midge
