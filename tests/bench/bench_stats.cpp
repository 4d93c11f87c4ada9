// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/bench_stats.hpp"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace midge::bench {
namespace {

constexpr std::uint64_t kExactLimit = 2048;     // values below are their own bucket
constexpr unsigned kExactBits = 11;             // log2(kExactLimit)
constexpr unsigned kSubBucketBits = 10;         // buckets per power of two above it
constexpr std::size_t kBucketCount = kExactLimit + (64 - kExactBits) * (1u << kSubBucketBits);

unsigned highestBit(std::uint64_t value) noexcept {
  return 63u - static_cast<unsigned>(__builtin_clzll(value));
}

// Reads a whole small /proc file; false when it cannot be opened (process gone).
bool readSmallFile(const std::string& path, std::string& out) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return false;
  char buffer[4096];
  out.clear();
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) out.append(buffer, got);
  std::fclose(file);
  return true;
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

std::size_t LatencyHistogram::bucketOf(std::uint64_t micros) noexcept {
  if (micros < kExactLimit) return static_cast<std::size_t>(micros);
  const unsigned exponent = highestBit(micros);
  const std::uint64_t sub = (micros >> (exponent - kSubBucketBits)) & ((1u << kSubBucketBits) - 1);
  return static_cast<std::size_t>(kExactLimit + (exponent - kExactBits) * (1u << kSubBucketBits) +
                                  sub);
}

std::uint64_t LatencyHistogram::lowestValueOf(std::size_t bucket) noexcept {
  if (bucket < kExactLimit) return bucket;
  const std::size_t above = bucket - kExactLimit;
  const unsigned exponent = static_cast<unsigned>(above >> kSubBucketBits) + kExactBits;
  const std::uint64_t sub = above & ((1u << kSubBucketBits) - 1);
  return (std::uint64_t{1} << exponent) | (sub << (exponent - kSubBucketBits));
}

void LatencyHistogram::record(std::uint64_t micros) noexcept {
  ++buckets_[bucketOf(micros)];
  ++count_;
  if (micros > max_) max_ = micros;
}

std::uint64_t LatencyHistogram::percentile(double q) const noexcept {
  if (count_ == 0) return 0;
  double wanted = q * static_cast<double>(count_);
  std::uint64_t rank = static_cast<std::uint64_t>(wanted);
  if (static_cast<double>(rank) < wanted) ++rank;
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t bucket = 0; bucket < buckets_.size(); ++bucket) {
    seen += buckets_[bucket];
    if (seen >= rank) {
      const std::uint64_t value = lowestValueOf(bucket);
      return value < max_ ? value : max_;
    }
  }
  return max_;
}

SequenceTracker::Arrival SequenceTracker::record(std::uint64_t sequence) {
  const std::size_t word = static_cast<std::size_t>(sequence >> 6);
  const std::uint64_t bit = std::uint64_t{1} << (sequence & 63);
  if (word >= seen_.size()) seen_.resize(word + 1 + seen_.size() / 2, 0);
  if ((seen_[word] & bit) != 0) return Arrival::Duplicate;
  seen_[word] |= bit;
  ++unique_;
  const bool late = any_ && sequence < highest_;
  if (!any_ || sequence > highest_) highest_ = sequence;
  any_ = true;
  return late ? Arrival::OutOfOrder : Arrival::New;
}

bool ProcessSampler::sample() {
  if (pid_ <= 0) return false;
  const std::string base = "/proc/" + std::to_string(static_cast<long>(pid_));
  std::string text;
  if (!readSmallFile(base + "/stat", text)) return false;
  // The command name may contain spaces and parentheses: fields restart after the last ')'.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  const char* cursor = text.c_str() + close + 1;
  // Fields after the name start at 3 (state); utime and stime are fields 14 and 15.
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int field = 3; field <= 15; ++field) {
    while (*cursor == ' ') ++cursor;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(cursor, &end, 10);
    if (field == 14) utime = value;
    if (field == 15) stime = value;
    while (*cursor != ' ' && *cursor != '\0') ++cursor;
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  cpuSeconds_ = static_cast<double>(utime + stime) / static_cast<double>(ticks > 0 ? ticks : 100);

  if (!readSmallFile(base + "/status", text)) return false;
  const std::size_t at = text.find("VmRSS:");
  if (at != std::string::npos) {
    rssKb_ = std::strtoull(text.c_str() + at + 6, nullptr, 10);
    if (rssKb_ > peakRssKb_) peakRssKb_ = rssKb_;
  }
  return true;
}

double ownCpuSeconds() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::uint64_t monotonicNs() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(now.tv_nsec);
}

}  // namespace midge::bench
