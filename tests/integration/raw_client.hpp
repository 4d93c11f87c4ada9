// SPDX-License-Identifier: Apache-2.0
// A tiny blocking MQTT-over-TCP client for byte-exact tests: it sends whatever bytes a test
// builds (well-formed or not) and reads packets back with timeouts. Packet builders encode
// independently of the project's codec, so a codec bug cannot hide itself in both sides.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace midge::test {

using ByteVector = std::vector<std::uint8_t>;

struct RawPacket {
  std::uint8_t header = 0;
  ByteVector body;
  std::uint8_t type() const { return static_cast<std::uint8_t>(header >> 4); }
  std::uint8_t flags() const { return static_cast<std::uint8_t>(header & 0x0F); }
  ByteVector wire() const;  // header, remaining length and body as on the wire
};

// Packet type numbers (MQTT 5 section 2.1.2).
enum PacketTypeNumber : std::uint8_t {
  kConnect = 1, kConnack, kPublish, kPuback, kPubrec, kPubrel, kPubcomp, kSubscribe,
  kSuback, kUnsubscribe, kUnsuback, kPingreq, kPingresp, kDisconnect, kAuth
};

enum class ReadStatus { Packet, Closed, Timeout };

struct ReadResult {
  ReadStatus status = ReadStatus::Timeout;
  RawPacket packet;
};

class RawClient {
 public:
  // Connects to 127.0.0.1:port; throws std::runtime_error if that fails.
  explicit RawClient(std::uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // false once the peer has closed (EPIPE/ECONNRESET): a test may expect that.
  bool send(const ByteVector& bytes);
  ReadResult read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads one packet; throws std::runtime_error naming what came instead.
  RawPacket expect(std::uint8_t type, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads (and keeps in received()) packets until the peer closes. false on timeout.
  bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  const std::vector<RawPacket>& received() const { return received_; }
  void clearReceived() { received_.clear(); }
  // Nothing arrives within `quiet` (the connection may not have closed either).
  bool nothingWithin(std::chrono::milliseconds quiet);

  // Abnormal end: RST instead of FIN (SO_LINGER 0), like a crashed device.
  void abort();
  void close();

 private:
  std::optional<RawPacket> takeBuffered();
  int fd_ = -1;
  ByteVector buffer_;
  std::vector<RawPacket> received_;
};

// ---- builders -------------------------------------------------------------------------
namespace wire {

void putU16(ByteVector& out, std::uint16_t value);
void putU32(ByteVector& out, std::uint32_t value);
void putVarint(ByteVector& out, std::uint32_t value);
void putString(ByteVector& out, const std::string& text);  // 2-byte length + bytes
ByteVector packet(std::uint8_t header, const ByteVector& body);

struct Will {
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool retain = false;
  ByteVector properties;  // v5 only: raw property bytes, without the length
};

struct ConnectSpec {
  std::uint8_t level = 4;  // 3: MQTT 3.1 ("MQIsdp"), 4: 3.1.1, 5: 5.0
  std::string clientId = "raw";
  bool cleanStart = true;
  std::uint16_t keepAlive = 60;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> protocolName;  // default from level
  ByteVector properties;                    // v5 only: raw property bytes
  std::uint8_t extraFlags = 0;              // OR-ed into the connect flags (reserved bit)
};

ByteVector connect(const ConnectSpec& spec);
ByteVector publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 0,
                   std::uint16_t packetId = 0, bool retain = false, bool v5 = false,
                   const ByteVector& properties = {});
// One filter; options are the v5 subscription options byte (QoS in the low bits).
ByteVector subscribe(std::uint16_t packetId, const std::string& filter, std::uint8_t options,
                     bool v5 = false, const ByteVector& properties = {});
ByteVector unsubscribe(std::uint16_t packetId, const std::string& filter, bool v5 = false);
ByteVector ack(std::uint8_t type, std::uint16_t packetId);  // PUBACK/PUBREC/PUBREL/PUBCOMP
ByteVector pingreq();
ByteVector disconnect(bool v5 = false, std::uint8_t reason = 0);

// Decoded fields a test asserts on.
struct PublishView {
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  std::uint16_t packetId = 0;
  ByteVector properties;  // v5
};
PublishView parsePublish(const RawPacket& packet, bool v5 = false);
// Reason code of a v5 DISCONNECT (0 when the body is empty) or a CONNACK's return code.
std::uint8_t reasonOf(const RawPacket& packet);

}  // namespace wire

// Connects with spec and expects CONNACK with return code 0 (throws otherwise); returns the
// CONNACK and clears received(), so later checks see only what followed the handshake.
RawPacket handshake(RawClient& client, const wire::ConnectSpec& spec);

}  // namespace midge::test
