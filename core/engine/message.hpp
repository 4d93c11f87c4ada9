// SPDX-License-Identifier: Apache-2.0
// A message as the engine keeps it: immutable once routed and shared by every session it is
// queued for, so a payload fanned out to many subscribers is held (and stored) once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace midge {

using SessionIndex = std::uint32_t;
constexpr SessionIndex kNoSession = 0xFFFFFFFFu;

struct Message {
  std::uint64_t id = 0;
  std::string topic;
  std::vector<std::uint8_t> payload;
  // MQTT 5 properties passed through unchanged (payload format, content type, response
  // topic, correlation data, user properties), encoded once. The expiry, topic alias and
  // subscription identifiers differ per delivery and are added when sending.
  std::vector<std::uint8_t> properties;
  std::uint8_t qos = 0;
  bool retain = false;
  std::int64_t expiresAt = 0;  // wall seconds, 0: never
  SessionIndex publisher = kNoSession;  // for No Local
  // Set once the message row is in the store (only durable deliveries and retained
  // messages put it there).
  mutable bool persisted = false;

  std::size_t footprint() const {
    return sizeof(Message) + topic.size() + payload.size() + properties.size();
  }
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace midge
