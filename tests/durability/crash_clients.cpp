// SPDX-License-Identifier: Apache-2.0
#include "tests/durability/crash_clients.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace midge::test::durability {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// While the broker is down, clients try again at this pace: fast enough to be back soon
// after a restart, slow enough to leave the two cores to the broker.
constexpr auto kReconnectPause = 10ms;
// How long a read waits before the loops look at their stop flags again.
constexpr auto kReadSlice = 50ms;
constexpr const char* kTopicPrefix = "crash/";

std::uint16_t packetIdOf(const RawPacket& packet) {
  if (packet.body.size() < 2) throw std::runtime_error("packet without a packet identifier");
  return static_cast<std::uint16_t>(packet.body[0] << 8 | packet.body[1]);
}

// A v5 ack carries a reason code after the id; absent means success.
bool failedAck(const RawPacket& packet, bool v5) {
  return v5 && packet.body.size() > 2 && packet.body[2] >= 0x80;
}

// Connects, or returns nothing while the broker is down or dies during the handshake.
bool tryConnect(std::uint16_t port, const SessionSpec& spec, Connected& out) {
  try {
    out = connectSession(port, spec);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string payloadFor(const MessageKey& key) {
  return std::to_string(key.publisher) + ":" + std::to_string(key.sequence);
}

bool parsePayload(const std::string& payload, MessageKey& key) {
  const std::size_t colon = payload.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == payload.size()) return false;
  try {
    std::size_t used = 0;
    key.publisher = std::stoi(payload.substr(0, colon), &used);
    if (used != colon) return false;
    const std::string sequence = payload.substr(colon + 1);
    key.sequence = static_cast<std::uint32_t>(std::stoul(sequence, &used));
    return used == sequence.size();
  } catch (const std::exception&) {
    return false;
  }
}

// ---- publisher ------------------------------------------------------------------------

CrashPublisher::CrashPublisher(int index, SessionSpec spec, std::uint16_t port,
                               std::uint32_t seed, std::size_t window,
                               std::chrono::microseconds interval)
    : index_(index),
      spec_(std::move(spec)),
      port_(port),
      window_(window),
      interval_(interval),
      random_(seed) {}

std::size_t CrashPublisher::inFlight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return flights_.size();
}

std::vector<AcknowledgedMessage> CrashPublisher::acknowledged() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return acknowledged_;
}

void CrashPublisher::run() {
  bool everConnected = false;
  while (running_) {
    Connected connected;
    if (!tryConnect(port_, spec_, connected)) {
      std::this_thread::sleep_for(kReconnectPause);
      continue;
    }
    ++connections_;
    if (everConnected && !connected.sessionPresent) ++sessionsLost_;
    everConnected = true;
    try {
      online(*connected.client);
    } catch (const std::exception&) {
      // The broker went away in the middle of a packet: reconnect.
    }
  }
}

ByteVector CrashPublisher::publishBytes(const Flight& flight) const {
  return wire::publish(kTopicPrefix + std::to_string(index_), payloadFor(flight.key), flight.qos,
                       flight.packetId, false, isV5(spec_));
}

void CrashPublisher::online(RawClient& client) {
  std::vector<Flight> resend;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    resend.assign(flights_.begin(), flights_.end());
  }
  for (const Flight& flight : resend) {
    const ByteVector bytes = flight.pubrecReceived ? wire::ack(kPubrel, flight.packetId)
                                                   : withDup(publishBytes(flight));
    if (!client.send(bytes)) return;
  }
  auto nextPublishAt = Clock::now();
  while (running_) {
    auto readFor = std::chrono::duration_cast<std::chrono::milliseconds>(kReadSlice);
    if (publishing_ && inFlight() < window_) {
      const auto now = Clock::now();
      if (now >= nextPublishAt) {
        if (!publishNext(client)) return;
        nextPublishAt = now + interval_;
        continue;
      }
      readFor = std::chrono::duration_cast<std::chrono::milliseconds>(nextPublishAt - now) + 1ms;
    }
    const ReadResult result = client.read(readFor);
    if (result.status == ReadStatus::Closed) return;
    if (result.status == ReadStatus::Packet) handle(client, result.packet);
  }
}

bool CrashPublisher::publishNext(RawClient& client) {
  Flight flight;
  flight.key = MessageKey{index_, nextSequence_++};
  flight.qos = static_cast<std::uint8_t>(std::uniform_int_distribution<int>(1, 2)(random_));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flight.packetId = allocatePacketId();
    // Kept before it is sent: if the connection dies during the send, it is resent later.
    flights_.push_back(flight);
  }
  return client.send(publishBytes(flight));
}

std::uint16_t CrashPublisher::allocatePacketId() {
  for (;;) {
    lastPacketId_ = static_cast<std::uint16_t>(lastPacketId_ + 1);
    if (lastPacketId_ == 0) continue;
    const std::uint16_t candidate = lastPacketId_;
    const bool inUse = std::any_of(flights_.begin(), flights_.end(),
                                   [&](const Flight& f) { return f.packetId == candidate; });
    if (!inUse) return candidate;
  }
}

void CrashPublisher::handle(RawClient& client, const RawPacket& packet) {
  const bool v5 = isV5(spec_);
  const std::uint8_t type = packet.type();
  if (type == kDisconnect) {
    client.close();  // v5 "server shutting down"; the next read reports the close
    return;
  }
  if (type != kPuback && type != kPubrec && type != kPubcomp) {
    ++strayAcks_;
    return;
  }
  const std::uint16_t id = packetIdOf(packet);
  std::lock_guard<std::mutex> lock(mutex_);
  auto flight = std::find_if(flights_.begin(), flights_.end(),
                             [&](const Flight& f) { return f.packetId == id; });
  const bool expected =
      flight != flights_.end() &&
      ((type == kPuback && flight->qos == 1) || (type == kPubrec && flight->qos == 2) ||
       (type == kPubcomp && flight->qos == 2 && flight->pubrecReceived));
  if (!expected) {
    ++strayAcks_;
    return;
  }
  if (type != kPubcomp && failedAck(packet, v5)) {
    ++refusals_;  // the flow ends here without a promise
    flights_.erase(flight);
    return;
  }
  if (type == kPuback) {
    acknowledged_.push_back({flight->key, 1});
    flights_.erase(flight);
  } else if (type == kPubrec) {
    if (!flight->pubrecReceived) {
      flight->pubrecReceived = true;
      acknowledged_.push_back({flight->key, 2});
    }
    client.send(wire::ack(kPubrel, id));
  } else {
    flights_.erase(flight);
  }
}

// ---- subscriber -----------------------------------------------------------------------

CrashSubscriber::CrashSubscriber(SessionSpec spec, std::uint16_t port, std::uint32_t seed,
                                 std::string filter)
    : spec_(std::move(spec)), port_(port), filter_(std::move(filter)), random_(seed) {}

std::map<MessageKey, ReceivedMessage> CrashSubscriber::received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

void CrashSubscriber::run() {
  bool everConnected = false;
  while (running_) {
    Connected connected;
    if (!tryConnect(port_, spec_, connected)) {
      std::this_thread::sleep_for(kReconnectPause);
      continue;
    }
    ++connections_;
    if (!connected.sessionPresent) {
      if (everConnected) ++sessionsLost_;
      // A new session: the client discards its old session state (MQTT 5 section 4.1).
      awaitingPubrel_.clear();
      subscribed_ = false;
    }
    everConnected = true;
    try {
      online(*connected.client);
    } catch (const std::exception&) {
      // The broker went away in the middle of a packet: reconnect.
    }
  }
}

void CrashSubscriber::online(RawClient& client) {
  // Subscribing until a SUBACK is seen: a SUBSCRIBE cut off by a crash may or may not
  // have been committed, and SUBSCRIBE is idempotent.
  if (!subscribed_ && !client.send(wire::subscribe(1, filter_, 2, isV5(spec_)))) return;
  const auto onlineFor =
      std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1500)(random_));
  const auto leaveAt = Clock::now() + onlineFor;
  while (running_) {
    const ReadResult result = client.read(kReadSlice);
    if (result.status == ReadStatus::Closed) return;
    if (result.status == ReadStatus::Packet) handle(client, result.packet);
    if (!stayOnline_ && subscribed_ && Clock::now() >= leaveAt) {
      // Devices leave both politely and by losing the link.
      if (std::uniform_int_distribution<int>(0, 1)(random_) == 0) {
        client.send(wire::disconnect(isV5(spec_)));
        client.close();
      } else {
        client.abort();
      }
      const auto offlineFor =
          std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 600)(random_));
      const auto back = Clock::now() + offlineFor;
      while (running_ && !stayOnline_ && Clock::now() < back) {
        std::this_thread::sleep_for(kReconnectPause);
      }
      return;
    }
  }
}

void CrashSubscriber::handle(RawClient& client, const RawPacket& packet) {
  switch (packet.type()) {
    case kSuback:
      if (packet.body.size() >= 3 && packet.body.back() < 0x80) subscribed_ = true;
      return;
    case kPubrel: {
      const std::uint16_t id = packetIdOf(packet);
      awaitingPubrel_.erase(id);
      client.send(wire::ack(kPubcomp, id));
      return;
    }
    case kPublish: {
      const wire::PublishView view = wire::parsePublish(packet, isV5(spec_));
      if (view.qos == 2) {
        if (awaitingPubrel_.count(view.packetId) != 0) {
          // Our PUBREC may not have reached the broker: acknowledge again, deliver nothing.
          if (!view.dup) ++reusedIds_;
        } else {
          awaitingPubrel_.insert(view.packetId);
          deliver(view.payload, 2);
        }
        client.send(wire::ack(kPubrec, view.packetId));
        return;
      }
      deliver(view.payload, view.qos);
      if (view.qos == 1) client.send(wire::ack(kPuback, view.packetId));
      return;
    }
    case kDisconnect:
      client.close();
      return;
    default:
      ++strangePackets_;
      return;
  }
}

void CrashSubscriber::deliver(const std::string& payload, std::uint8_t qos) {
  MessageKey key;
  if (!parsePayload(payload, key)) {
    ++strangePackets_;
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ReceivedMessage& entry = received_[key];
  entry.qos = qos;
  if (++entry.deliveries > 1) ++(qos == 2 ? qos2Duplicates_ : qos1Duplicates_);
}

}  // namespace midge::test::durability
