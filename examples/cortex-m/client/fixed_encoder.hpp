// SPDX-License-Identifier: Apache-2.0
// MQTT 3.1.1 client packets encoded into a caller's fixed buffer, for targets without a
// heap. The project codec's encoders append to a std::vector (the broker reuses one per
// connection); a microcontroller wants a static array instead, so the few packets a client
// sends are emitted here through the codec's own SizeCounter and varint code.
//
// Contract, as snprintf: every function returns the size of the whole packet. The bytes are
// written only when that size fits in `out`; a caller that gets a size larger than its
// buffer knows both that nothing was written and how much room the packet needs. An error
// (ImplementationError) means a field cannot be represented at all, e.g. a topic longer
// than 65535 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/util/result.hpp"
#include "core/util/span.hpp"

namespace midge::tiny {

using MutableBytes = Span<std::uint8_t>;

struct WillFields {
  std::string_view topic;
  Bytes payload;
  std::uint8_t qos = 0;
  bool retain = false;
};

struct ConnectFields {
  std::string_view clientId;
  std::uint16_t keepAliveSeconds = 60;
  bool cleanSession = true;
  const WillFields* will = nullptr;
  const std::string_view* username = nullptr;
  const Bytes* password = nullptr;  // MQTT 3.1.1 allows a password only with a user name
};

struct PublishFields {
  std::string_view topic;
  Bytes payload;
  std::uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  std::uint16_t packetId = 0;  // QoS 1 and 2 only
};

Result<std::size_t> encodeConnect(const ConnectFields& connect, MutableBytes out);
Result<std::size_t> encodePublish(const PublishFields& publish, MutableBytes out);
// One filter per SUBSCRIBE: a tiny client subscribes to a handful of topics at start-up.
Result<std::size_t> encodeSubscribe(std::uint16_t packetId, std::string_view filter,
                                    std::uint8_t maxQos, MutableBytes out);
Result<std::size_t> encodePuback(std::uint16_t packetId, MutableBytes out);
Result<std::size_t> encodePingreq(MutableBytes out);
Result<std::size_t> encodeDisconnect(MutableBytes out);

// The DUP flag lives in the first byte, so a stored QoS 1 PUBLISH is marked as a
// retransmission in place instead of being encoded again.
inline void markDuplicate(MutableBytes packet) noexcept {
  if (!packet.empty()) packet[0] = static_cast<std::uint8_t>(packet[0] | 0x08u);
}

}  // namespace midge::tiny
