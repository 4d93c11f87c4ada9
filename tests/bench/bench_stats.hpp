// SPDX-License-Identifier: Apache-2.0
// What midge-bench measures: latency distribution, per-stream sequence accounting, and
// CPU and memory of the broker process and of the generator itself.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace midge::bench {

// Log-linear histogram of microsecond values: exact below 2048 us, then 1024 buckets per
// power of two (under 0.1% error), so recording is O(1) with no allocation per value.
class LatencyHistogram {
 public:
  LatencyHistogram();
  void record(std::uint64_t micros) noexcept;
  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  // Smallest recorded value v such that at least fraction q of the values are <= v (up to
  // bucket resolution); 0 when empty. q in (0, 1].
  std::uint64_t percentile(double q) const noexcept;

 private:
  static std::size_t bucketOf(std::uint64_t micros) noexcept;
  static std::uint64_t lowestValueOf(std::size_t bucket) noexcept;

  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

// The messages of one publisher as seen by one subscriber.
class SequenceTracker {
 public:
  enum class Arrival : std::uint8_t { New, Duplicate, OutOfOrder };
  // OutOfOrder: first time seen, but a higher sequence number was seen before.
  Arrival record(std::uint64_t sequence);
  std::uint64_t unique() const noexcept { return unique_; }

 private:
  std::vector<std::uint64_t> seen_;  // bit per sequence number
  std::uint64_t highest_ = 0;
  std::uint64_t unique_ = 0;
  bool any_ = false;
};

// CPU time and resident memory of another process, from /proc/PID/stat and status.
class ProcessSampler {
 public:
  explicit ProcessSampler(pid_t pid) noexcept : pid_(pid) {}
  bool enabled() const noexcept { return pid_ > 0; }
  // Reads the current values; false when the process is gone (values keep the last read).
  bool sample();
  double cpuSeconds() const noexcept { return cpuSeconds_; }
  std::uint64_t rssKb() const noexcept { return rssKb_; }
  std::uint64_t peakRssKb() const noexcept { return peakRssKb_; }

 private:
  pid_t pid_;
  double cpuSeconds_ = 0;
  std::uint64_t rssKb_ = 0;
  std::uint64_t peakRssKb_ = 0;
};

// User + system CPU seconds consumed by this process so far.
double ownCpuSeconds() noexcept;

// CLOCK_MONOTONIC in nanoseconds: the clock of the payload stamp.
std::uint64_t monotonicNs() noexcept;

}  // namespace midge::bench
