// SPDX-License-Identifier: Apache-2.0
// Helpers for the client tests: the server side of the wire, written with the codec, so
// that tests read as "the server sends X, the client answers Y".
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/client/client.hpp"
#include "core/codec/codec.hpp"

namespace midge::client::test {

using ByteVector = std::vector<std::uint8_t>;

// Packets decoded from bytes the client sent; they view into `bytes`, kept alive here.
struct Sent {
  std::shared_ptr<ByteVector> bytes;
  std::vector<codec::Packet> packets;
  bool framingOk = true;
  std::size_t size() const { return packets.size(); }
  template <typename T>
  const T& at(std::size_t i) const { return std::get<T>(packets.at(i)); }
  template <typename T>
  bool is(std::size_t i) const { return i < packets.size() && std::holds_alternative<T>(packets[i]); }
};

Sent parse(ByteVector bytes, codec::ProtocolVersion version);
ByteVector encode(const codec::Packet& packet, codec::ProtocolVersion version);
ByteVector connack(codec::ProtocolVersion version, std::uint8_t code = 0,
                   bool sessionPresent = false,
                   const codec::Properties& properties = codec::Properties{});
ByteVector ack(codec::PacketType type, std::uint16_t packetId, codec::ProtocolVersion version,
               ReasonCode reason = ReasonCode::Success);
ByteVector serverPublish(codec::ProtocolVersion version, std::string_view topic,
                         std::string_view payload, std::uint8_t qos, std::uint16_t packetId,
                         bool dup = false);
Bytes view(const ByteVector& bytes);

OutboundMessage message(std::string topic, std::string payload, std::uint8_t qos,
                        bool retain = false);

// Events of one kind from a batch.
std::vector<ClientEvent> eventsOf(const std::vector<ClientEvent>& events, ClientEventKind kind);

// A client with CONNECT sent and CONNACK (accepted) processed, bytes and events drained.
struct Connected {
  explicit Connected(ClientOptions options, ClientJournal* journal = nullptr,
                     const codec::Properties& connackProperties = codec::Properties{});
  Client client;
  codec::ProtocolVersion version;
};

ClientOptions optionsFor(codec::ProtocolVersion version);

// Parameters for suites that run each case with MQTT 3.1, 3.1.1 and 5.0, named v3, v4, v5.
inline auto allVersions() {
  return ::testing::Values(codec::ProtocolVersion::V31, codec::ProtocolVersion::V311,
                           codec::ProtocolVersion::V5);
}
inline std::string versionName(const ::testing::TestParamInfo<codec::ProtocolVersion>& info) {
  return "v" + std::to_string(static_cast<int>(info.param));
}

}  // namespace midge::client::test
