// SPDX-License-Identifier: Apache-2.0
#include "examples/cortex-m/client/fixed_encoder.hpp"

#include <cstring>

#include "core/codec/types.hpp"
#include "core/codec/varint.hpp"
#include "core/codec/writer.hpp"

namespace midge::tiny {
namespace {

// The same sink interface as codec::VectorWriter, over a span that encodeInto has already
// checked is large enough: no bounds checks are repeated per byte.
class SpanWriter {
 public:
  explicit SpanWriter(MutableBytes out) noexcept : out_(out) {}

  void u8(std::uint8_t value) noexcept { out_[position_++] = value; }
  void u16(std::uint16_t value) noexcept {
    u8(static_cast<std::uint8_t>(value >> 8));
    u8(static_cast<std::uint8_t>(value));
  }
  void varint(std::uint32_t value, const char* = nullptr) noexcept {
    position_ += codec::encodeVarint(value, out_.data() + position_);
  }
  void raw(Bytes bytes) noexcept {
    if (bytes.empty()) return;  // an empty payload may come with a null pointer
    std::memcpy(out_.data() + position_, bytes.data(), bytes.size());
    position_ += bytes.size();
  }
  void binary(Bytes bytes, const char* = nullptr) noexcept {
    u16(static_cast<std::uint16_t>(bytes.size()));
    raw(bytes);
  }
  void utf8(std::string_view text, const char* = nullptr) noexcept { binary(asBytes(text)); }
  void fail(const char*) noexcept {}

 private:
  MutableBytes out_;
  std::size_t position_ = 0;
};

// Sizes and validates with the codec's SizeCounter, then writes only if the whole packet
// fits: one emit function for both passes, so the length prefix always matches.
template <typename Emit>
Result<std::size_t> encodeInto(std::uint8_t header, MutableBytes out, Emit&& emit) {
  codec::SizeCounter counter;
  emit(counter);
  if (!counter.ok()) return counter.error();
  if (counter.size() > codec::kMaxVarint) {
    return Error{ErrorKind::ImplementationError, "packet larger than 268435455 bytes"};
  }
  const auto remaining = static_cast<std::uint32_t>(counter.size());
  const std::size_t total = 1 + codec::varintSize(remaining) + counter.size();
  if (total > out.size()) return total;
  SpanWriter writer(out);
  writer.u8(header);
  writer.varint(remaining);
  emit(writer);
  return total;
}

constexpr std::uint8_t headerOf(codec::PacketType type, unsigned flags = 0) noexcept {
  return static_cast<std::uint8_t>((static_cast<unsigned>(type) << 4) | flags);
}

}  // namespace

Result<std::size_t> encodeConnect(const ConnectFields& connect, MutableBytes out) {
  if (connect.password != nullptr && connect.username == nullptr) {
    return Error{ErrorKind::ImplementationError, "MQTT 3.1.1 needs a user name with a password"};
  }
  if (connect.will != nullptr && connect.will->qos > 2) {
    return Error{ErrorKind::ImplementationError, "will QoS above 2"};
  }
  unsigned flags = connect.cleanSession ? 0x02u : 0u;
  if (connect.will != nullptr) {
    flags |= 0x04u | (static_cast<unsigned>(connect.will->qos) << 3) |
             (connect.will->retain ? 0x20u : 0u);
  }
  if (connect.username != nullptr) flags |= 0x80u;
  if (connect.password != nullptr) flags |= 0x40u;
  return encodeInto(headerOf(codec::PacketType::Connect), out, [&](auto& sink) {
    sink.utf8("MQTT", "");
    sink.u8(4);  // protocol level of 3.1.1
    sink.u8(static_cast<std::uint8_t>(flags));
    sink.u16(connect.keepAliveSeconds);
    sink.utf8(connect.clientId, "client identifier longer than 65535 bytes");
    if (connect.will != nullptr) {
      sink.utf8(connect.will->topic, "will topic longer than 65535 bytes");
      sink.binary(connect.will->payload, "will payload longer than 65535 bytes");
    }
    if (connect.username != nullptr) {
      sink.utf8(*connect.username, "user name longer than 65535 bytes");
    }
    if (connect.password != nullptr) {
      sink.binary(*connect.password, "password longer than 65535 bytes");
    }
  });
}

Result<std::size_t> encodePublish(const PublishFields& publish, MutableBytes out) {
  if (publish.qos > 2) return Error{ErrorKind::ImplementationError, "PUBLISH QoS above 2"};
  if (publish.qos > 0 && publish.packetId == 0) {
    return Error{ErrorKind::ImplementationError, "PUBLISH QoS > 0 without a packet id"};
  }
  const unsigned flags = (publish.dup ? 0x08u : 0u) |
                         (static_cast<unsigned>(publish.qos) << 1) |
                         (publish.retain ? 0x01u : 0u);
  return encodeInto(headerOf(codec::PacketType::Publish, flags), out, [&](auto& sink) {
    sink.utf8(publish.topic, "PUBLISH topic longer than 65535 bytes");
    if (publish.qos > 0) sink.u16(publish.packetId);
    sink.raw(publish.payload);
  });
}

Result<std::size_t> encodeSubscribe(std::uint16_t packetId, std::string_view filter,
                                    std::uint8_t maxQos, MutableBytes out) {
  if (maxQos > 2) return Error{ErrorKind::ImplementationError, "SUBSCRIBE QoS above 2"};
  if (packetId == 0) return Error{ErrorKind::ImplementationError, "SUBSCRIBE packet id 0"};
  // Bits 3-0 of SUBSCRIBE are fixed at 0010 by the spec.
  return encodeInto(headerOf(codec::PacketType::Subscribe, 0x02), out, [&](auto& sink) {
    sink.u16(packetId);
    sink.utf8(filter, "topic filter longer than 65535 bytes");
    sink.u8(maxQos);
  });
}

Result<std::size_t> encodePuback(std::uint16_t packetId, MutableBytes out) {
  return encodeInto(headerOf(codec::PacketType::Puback), out,
                    [&](auto& sink) { sink.u16(packetId); });
}

Result<std::size_t> encodePingreq(MutableBytes out) {
  return encodeInto(headerOf(codec::PacketType::Pingreq), out, [](auto&) {});
}

Result<std::size_t> encodeDisconnect(MutableBytes out) {
  return encodeInto(headerOf(codec::PacketType::Disconnect), out, [](auto&) {});
}

}  // namespace midge::tiny
