// SPDX-License-Identifier: Apache-2.0
// The clients of the crash test. Each runs on its own thread against a broker that is
// killed and restarted under it, reconnects with a durable session (clean start 0) and
// follows the MQTT rules a correct client must follow for the broker's guarantees to hold:
//
// - A publisher keeps every message until its flow ends and, on reconnect, resends an
//   unacknowledged PUBLISH with DUP and the same packet id, or PUBREL for a QoS 2 message
//   whose PUBREC arrived (MQTT 3.1.1 section 4.4, MQTT 5 section 4.4).
// - A subscriber acknowledges QoS 1 with PUBACK and QoS 2 with PUBREC, then PUBCOMP on
//   PUBREL. It delivers a QoS 2 message when its PUBLISH first arrives and remembers the
//   packet id until PUBREL, so a resent PUBLISH with that id in between is not delivered
//   again (MQTT 3.1.1 section 4.3.3, "Method B" receivers); that memory survives its own
//   reconnects, as a real client's session state does.
//
// Payloads are "<publisher>:<sequence>", so the test can match what was acknowledged to the
// publisher against what each subscriber received.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/durability/durability_support.hpp"

namespace midge::test::durability {

struct MessageKey {
  int publisher = 0;
  std::uint32_t sequence = 0;
  bool operator<(const MessageKey& other) const {
    return publisher != other.publisher ? publisher < other.publisher
                                        : sequence < other.sequence;
  }
};

std::string payloadFor(const MessageKey& key);
// false when the payload is not one of ours.
bool parsePayload(const std::string& payload, MessageKey& key);

struct AcknowledgedMessage {
  MessageKey key;
  std::uint8_t qos = 0;
};

class CrashPublisher {
 public:
  // At most `window` messages in flight, a new one at most every `interval`.
  CrashPublisher(int index, SessionSpec spec, std::uint16_t port, std::uint32_t seed,
                 std::size_t window, std::chrono::microseconds interval);
  CrashPublisher(const CrashPublisher&) = delete;
  CrashPublisher& operator=(const CrashPublisher&) = delete;

  void run();  // thread body: until stop()
  void stopPublishing() { publishing_ = false; }  // finish the flows in progress only
  void stop() { running_ = false; }

  std::size_t inFlight() const;
  // Messages the broker promised: PUBACK for QoS 1, PUBREC for QoS 2.
  std::vector<AcknowledgedMessage> acknowledged() const;
  std::uint32_t published() const { return nextSequence_; }
  int connections() const { return connections_; }
  int sessionsLost() const { return sessionsLost_; }  // Session Present 0 after the first CONNACK
  int refusals() const { return refusals_; }          // v5 acks with a failure reason code
  int strayAcks() const { return strayAcks_; }        // acks for an id not in flight

 private:
  struct Flight {
    MessageKey key;
    std::uint8_t qos = 0;
    std::uint16_t packetId = 0;
    bool pubrecReceived = false;
  };
  void online(RawClient& client);
  bool publishNext(RawClient& client);
  void handle(RawClient& client, const RawPacket& packet);
  std::uint16_t allocatePacketId();
  ByteVector publishBytes(const Flight& flight) const;

  const int index_;
  const SessionSpec spec_;
  const std::uint16_t port_;
  const std::size_t window_;
  const std::chrono::microseconds interval_;
  std::mt19937 random_;
  std::atomic<bool> running_{true};
  std::atomic<bool> publishing_{true};
  std::atomic<std::uint32_t> nextSequence_{0};
  std::uint16_t lastPacketId_ = 0;
  mutable std::mutex mutex_;  // guards flights_ and acknowledged_
  std::deque<Flight> flights_;
  std::vector<AcknowledgedMessage> acknowledged_;
  std::atomic<int> connections_{0};
  std::atomic<int> sessionsLost_{0};
  std::atomic<int> refusals_{0};
  std::atomic<int> strayAcks_{0};
};

struct ReceivedMessage {
  std::uint8_t qos = 0;
  int deliveries = 0;  // how often it was handed to the application
};

class CrashSubscriber {
 public:
  CrashSubscriber(SessionSpec spec, std::uint16_t port, std::uint32_t seed,
                  std::string filter);
  CrashSubscriber(const CrashSubscriber&) = delete;
  CrashSubscriber& operator=(const CrashSubscriber&) = delete;

  void run();  // thread body: until stop()
  void stayOnline() { stayOnline_ = true; }  // stop going offline on purpose (drain phase)
  void stop() { running_ = false; }

  bool subscribed() const { return subscribed_; }
  std::map<MessageKey, ReceivedMessage> received() const;
  const std::string& clientId() const { return spec_.clientId; }
  int connections() const { return connections_; }
  int sessionsLost() const { return sessionsLost_; }
  int qos1Duplicates() const { return qos1Duplicates_; }
  int qos2Duplicates() const { return qos2Duplicates_; }
  // A QoS 2 PUBLISH without DUP for an id still awaiting PUBREL: the broker reused an id.
  int reusedIds() const { return reusedIds_; }
  int strangePackets() const { return strangePackets_; }

 private:
  void online(RawClient& client);
  void handle(RawClient& client, const RawPacket& packet);
  void deliver(const std::string& payload, std::uint8_t qos);

  const SessionSpec spec_;
  const std::uint16_t port_;
  const std::string filter_;
  std::mt19937 random_;
  std::atomic<bool> running_{true};
  std::atomic<bool> stayOnline_{false};
  std::atomic<bool> subscribed_{false};
  std::set<std::uint16_t> awaitingPubrel_;  // the receiver's QoS 2 session state
  mutable std::mutex mutex_;                // guards received_
  std::map<MessageKey, ReceivedMessage> received_;
  std::atomic<int> connections_{0};
  std::atomic<int> sessionsLost_{0};
  std::atomic<int> qos1Duplicates_{0};
  std::atomic<int> qos2Duplicates_{0};
  std::atomic<int> reusedIds_{0};
  std::atomic<int> strangePackets_{0};
};

}  // namespace midge::test::durability
