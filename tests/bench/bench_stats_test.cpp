// SPDX-License-Identifier: Apache-2.0
// The measurements midge-bench reports: percentiles, loss/duplicate/order accounting,
// the payload stamp, process sampling and the JSON line.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "tests/bench/bench_loop.hpp"
#include "tests/bench/bench_payload.hpp"
#include "tests/bench/bench_stats.hpp"

namespace midge::bench {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.percentile(0.5), 0u);
  EXPECT_EQ(histogram.max(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (std::uint64_t v = 1; v <= 1000; ++v) histogram.record(v);
  EXPECT_EQ(histogram.count(), 1000u);
  EXPECT_EQ(histogram.percentile(0.5), 500u);
  EXPECT_EQ(histogram.percentile(0.99), 990u);
  EXPECT_EQ(histogram.percentile(0.999), 999u);
  EXPECT_EQ(histogram.percentile(1.0), 1000u);
  EXPECT_EQ(histogram.max(), 1000u);
}

TEST(LatencyHistogram, LargeValuesWithinATenthOfAPercent) {
  LatencyHistogram histogram;
  const std::vector<std::uint64_t> values = {3'000, 47'123, 999'999, 123'456'789};
  for (const std::uint64_t v : values) {
    LatencyHistogram single;
    single.record(v);
    const std::uint64_t reported = single.percentile(0.5);
    EXPECT_LE(reported, v);
    EXPECT_GE(static_cast<double>(reported), static_cast<double>(v) * 0.999) << v;
    EXPECT_EQ(single.max(), v);
  }
}

TEST(LatencyHistogram, TailIsSeparatedFromTheBody) {
  LatencyHistogram histogram;
  for (int i = 0; i < 990; ++i) histogram.record(100);
  for (int i = 0; i < 10; ++i) histogram.record(50'000);
  EXPECT_EQ(histogram.percentile(0.5), 100u);
  EXPECT_EQ(histogram.percentile(0.99), 100u);
  EXPECT_GE(histogram.percentile(0.999), 49'950u);
  EXPECT_EQ(histogram.max(), 50'000u);
}

TEST(SequenceTracker, CountsDuplicatesAndLateArrivals) {
  SequenceTracker tracker;
  EXPECT_EQ(tracker.record(0), SequenceTracker::Arrival::New);
  EXPECT_EQ(tracker.record(1), SequenceTracker::Arrival::New);
  EXPECT_EQ(tracker.record(1), SequenceTracker::Arrival::Duplicate);
  EXPECT_EQ(tracker.record(5), SequenceTracker::Arrival::New);
  EXPECT_EQ(tracker.record(3), SequenceTracker::Arrival::OutOfOrder);
  EXPECT_EQ(tracker.record(3), SequenceTracker::Arrival::Duplicate);
  EXPECT_EQ(tracker.unique(), 4u);
}

TEST(SequenceTracker, HandlesLongRunsAndSparseNumbers) {
  SequenceTracker tracker;
  for (std::uint64_t s = 0; s < 200'000; ++s) ASSERT_EQ(tracker.record(s), SequenceTracker::Arrival::New);
  EXPECT_EQ(tracker.record(5'000'000), SequenceTracker::Arrival::New);
  EXPECT_EQ(tracker.record(199'999), SequenceTracker::Arrival::Duplicate);
  EXPECT_EQ(tracker.unique(), 200'001u);
}

TEST(Stamp, RoundTripsAndRejectsShortPayloads) {
  std::vector<std::uint8_t> payload(64, 0xAA);
  const Stamp written{0x0102030405060708ull, 77, 0xFFEEDDCCBBAA9988ull};
  writeStamp(written, payload.data());
  Stamp read;
  ASSERT_TRUE(readStamp(payload.data(), payload.size(), read));
  EXPECT_EQ(read.sequence, written.sequence);
  EXPECT_EQ(read.publisher, written.publisher);
  EXPECT_EQ(read.sentNs, written.sentNs);
  EXPECT_EQ(payload[kStampSize], 0xAA);  // filler untouched
  EXPECT_FALSE(readStamp(payload.data(), kStampSize - 1, read));
}

TEST(ProcessSampler, ReadsALiveProcessAndNoticesAGoneOne) {
  ProcessSampler self(getpid());
  ASSERT_TRUE(self.sample());
  EXPECT_GT(self.rssKb(), 0u);
  EXPECT_GE(self.peakRssKb(), self.rssKb());
  EXPECT_GE(self.cpuSeconds(), 0.0);

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ProcessSampler gone(child);
  EXPECT_FALSE(gone.sample());
  EXPECT_FALSE(ProcessSampler(0).enabled());
}

TEST(JsonLine, WritesOneObjectWithEscapedStrings) {
  JsonLine json;
  json.add("count", std::uint64_t{42});
  json.add("ratio", 1.5);
  json.add("flag", true);
  json.add("error", std::string("bad \"quote\"\n"));
  json.addNull("missing");
  EXPECT_EQ(json.finish(),
            "{\"count\":42,\"ratio\":1.500,\"flag\":true,"
            "\"error\":\"bad \\\"quote\\\"\\u000a\",\"missing\":null}");
}

}  // namespace
}  // namespace midge::bench
