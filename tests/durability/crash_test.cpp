// SPDX-License-Identifier: Apache-2.0
// The crash test: QoS 1 and QoS 2 publishers and durable subscribers that come and go run
// against a broker that is killed with SIGKILL at random moments and restarted on the same
// store, many times. At the end every message the broker acknowledged (PUBACK for QoS 1,
// PUBREC for QoS 2) must have reached every subscriber, and no QoS 2 message may have
// been delivered twice.
//
// Environment:
//   MIDGE_CRASH_SEED   seed of the kill schedule and the clients' choices (printed; default:
//                      from the clock). Thread timing still varies from run to run.
//   MIDGE_CRASH_KILLS  number of SIGKILLs (default 20, about 25 s; each adds about 1 s).
//   MIDGE_CRASH_SYNC   persistence_sync of the broker: full (default) or normal; both must
//                      survive a crash of the process.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/durability/crash_clients.hpp"

namespace midge::test::durability {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::uint32_t envNumber(const char* name, std::uint32_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return static_cast<std::uint32_t>(std::stoul(text));
}

bool pollUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

// Joins every client thread on the way out, also when an assertion or the broker's start
// throws in the middle: a joinable std::thread would otherwise terminate the test binary.
class ClientThreads {
 public:
  ~ClientThreads() { stopAll(); }
  void add(std::function<void()> body, std::function<void()> stop) {
    stops_.push_back(std::move(stop));
    threads_.emplace_back(std::move(body));
  }
  void stopAll() {
    for (auto& stop : stops_) stop();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  std::vector<std::function<void()>> stops_;
  std::vector<std::thread> threads_;
};

struct Totals {
  std::size_t acknowledged = 0;
  std::size_t expectedDeliveries = 0;  // acknowledged x subscribers
  std::size_t received = 0;            // distinct messages, over all subscribers
  std::size_t lost = 0;
  int qos1Duplicates = 0;
  int qos2Duplicates = 0;
  int reusedIds = 0;
  int sessionsLost = 0;
  int strange = 0;
  int refusals = 0;
};

Totals count(const std::vector<std::unique_ptr<CrashPublisher>>& publishers,
             const std::vector<std::unique_ptr<CrashSubscriber>>& subscribers,
             std::vector<std::string>* lostExamples = nullptr) {
  Totals totals;
  std::vector<AcknowledgedMessage> acknowledged;
  for (const auto& publisher : publishers) {
    const std::vector<AcknowledgedMessage> part = publisher->acknowledged();
    acknowledged.insert(acknowledged.end(), part.begin(), part.end());
    totals.sessionsLost += publisher->sessionsLost();
    totals.refusals += publisher->refusals();
  }
  totals.acknowledged = acknowledged.size();
  for (const auto& subscriber : subscribers) {
    const std::map<MessageKey, ReceivedMessage> received = subscriber->received();
    totals.received += received.size();
    for (const AcknowledgedMessage& message : acknowledged) {
      ++totals.expectedDeliveries;
      if (received.count(message.key) != 0) continue;
      ++totals.lost;
      if (lostExamples != nullptr && lostExamples->size() < 20) {
        lostExamples->push_back(subscriber->clientId() + " lacks " + payloadFor(message.key) +
                                " (QoS " + std::to_string(message.qos) + ")");
      }
    }
    totals.qos1Duplicates += subscriber->qos1Duplicates();
    totals.qos2Duplicates += subscriber->qos2Duplicates();
    totals.reusedIds += subscriber->reusedIds();
    totals.sessionsLost += subscriber->sessionsLost();
    totals.strange += subscriber->strangePackets();
  }
  return totals;
}

TEST(DurabilityCrash, SigkillLosesNoAcknowledgedMessageAndDuplicatesNoQos2) {
  const std::uint32_t seed = envNumber(
      "MIDGE_CRASH_SEED",
      static_cast<std::uint32_t>(Clock::now().time_since_epoch().count() & 0x7FFFFFFF));
  const std::uint32_t kills = envNumber("MIDGE_CRASH_KILLS", 20);
  const char* syncSetting = std::getenv("MIDGE_CRASH_SYNC");
  const std::string sync = syncSetting != nullptr && *syncSetting != '\0' ? syncSetting : "full";
  std::cout << "crash test: MIDGE_CRASH_SEED=" << seed << " MIDGE_CRASH_KILLS=" << kills
            << " MIDGE_CRASH_SYNC=" << sync << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937 schedule(seed);

  BrokerProcess broker;
  enablePersistence(broker, sync);
  // No queue limit: a subscriber that is offline for a while must not lose messages to a
  // full queue, which would look like a durability failure.
  broker.addConfigLine("max_queued_messages 0");
  broker.start();

  std::vector<std::unique_ptr<CrashSubscriber>> subscribers;
  std::vector<std::unique_ptr<CrashPublisher>> publishers;
  const std::uint8_t levels[] = {4, 5, 4};
  for (int i = 0; i < 3; ++i) {
    SessionSpec spec;
    spec.clientId = "crash-sub-" + std::to_string(i);
    spec.level = levels[i];
    // A small window makes the broker queue behind the in-flight messages, so kills also
    // hit messages on their way from the queue into flight.
    if (spec.level == 5) spec.receiveMaximum = 10;
    subscribers.push_back(std::make_unique<CrashSubscriber>(
        spec, broker.port(), seed + 100 + static_cast<std::uint32_t>(i), "crash/#"));
  }
  for (int i = 0; i < 3; ++i) {
    SessionSpec spec;
    spec.clientId = "crash-pub-" + std::to_string(i);
    spec.level = levels[i];
    publishers.push_back(std::make_unique<CrashPublisher>(
        i, spec, broker.port(), seed + 200 + static_cast<std::uint32_t>(i), 8, 2ms));
  }

  ClientThreads threads;
  for (auto& subscriber : subscribers) {
    CrashSubscriber* s = subscriber.get();
    threads.add([s] { s->run(); }, [s] { s->stop(); });
  }
  ASSERT_TRUE(pollUntil(
      [&] {
        for (auto& s : subscribers) {
          if (!s->subscribed()) return false;
        }
        return true;
      },
      10s))
      << "subscribers did not subscribe";
  for (auto& publisher : publishers) {
    CrashPublisher* p = publisher.get();
    threads.add([p] { p->run(); }, [p] { p->stop(); });
  }

  // The broker runs for a random time, then dies. A quarter of the kills come soon after
  // a start, while sessions are being resumed and in-flight messages resent.
  int restarts = 0;
  std::uniform_int_distribution<int> shortRun(10, 150);
  std::uniform_int_distribution<int> longRun(200, 2000);
  std::uniform_int_distribution<int> quarter(0, 3);
  std::uniform_int_distribution<int> downtime(0, 300);
  for (std::uint32_t kill = 0; kill < kills; ++kill) {
    const int runMs = quarter(schedule) == 0 ? shortRun(schedule) : longRun(schedule);
    std::this_thread::sleep_for(std::chrono::milliseconds(runMs));
    ASSERT_EQ(broker.kill(), 128 + SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(downtime(schedule)));
    try {
      broker.start();
    } catch (const std::exception& error) {
      FAIL() << "restart " << restarts + 1 << " after a SIGKILL failed (seed " << seed
             << "): " << error.what();
    }
    ++restarts;
  }

  const auto drainStarted = Clock::now();
  // Drain: no new messages, everyone stays connected, every flow completes.
  for (auto& p : publishers) p->stopPublishing();
  for (auto& s : subscribers) s->stayOnline();
  const bool flowsDone = pollUntil(
      [&] {
        for (auto& p : publishers) {
          if (p->inFlight() != 0) return false;
        }
        return true;
      },
      30s);
  const bool drained = pollUntil([&] { return count(publishers, subscribers).lost == 0; }, 30s);
  threads.stopAll();
  const auto drainMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - drainStarted).count();

  std::vector<std::string> lostExamples;
  const Totals totals = count(publishers, subscribers, &lostExamples);
  std::uint32_t published = 0;
  for (auto& p : publishers) published += p->published();
  std::cout << "crash test (seed " << seed << "): kills " << kills << ", restarts " << restarts
            << ", published " << published << ", acknowledged " << totals.acknowledged
            << ", expected deliveries " << totals.expectedDeliveries << ", received "
            << totals.received << ", lost " << totals.lost << ", QoS 2 duplicates "
            << totals.qos2Duplicates << ", QoS 1 duplicates " << totals.qos1Duplicates
            << ", reused ids " << totals.reusedIds << ", sessions lost " << totals.sessionsLost
            << ", refusals " << totals.refusals << ", drain " << drainMs << " ms" << std::endl;
  for (const std::string& example : lostExamples) std::cout << "  lost: " << example << "\n";

  EXPECT_TRUE(flowsDone) << "publishers still had messages in flight after the drain";
  EXPECT_TRUE(drained) << "subscribers did not receive every acknowledged message in time";
  EXPECT_EQ(totals.lost, 0u) << "seed " << seed;
  EXPECT_EQ(totals.qos2Duplicates, 0) << "seed " << seed;
  EXPECT_EQ(totals.reusedIds, 0) << "seed " << seed;
  EXPECT_EQ(totals.sessionsLost, 0) << "a durable session came back with Session Present 0";
  EXPECT_EQ(totals.strange, 0);
  EXPECT_EQ(totals.refusals, 0);
  // The run proves something only if traffic flowed across the kills.
  EXPECT_GT(totals.acknowledged, static_cast<std::size_t>(kills) * 10);
  for (auto& p : publishers) EXPECT_GT(p->connections(), 1);
  if (HasFailure()) {
    const std::string log = broker.log();
    std::cout << "---- broker log (last 8 KiB) ----\n"
              << log.substr(log.size() > 8192 ? log.size() - 8192 : 0) << "----\n";
  }
}

}  // namespace
}  // namespace midge::test::durability
