// SPDX-License-Identifier: Apache-2.0
// A small MQTT 3.1.1 client for microcontrollers and small Linux gateways: CONNECT with a
// will, SUBSCRIBE, PUBLISH at QoS 0 and 1 with retransmission, keep-alive, and incoming
// PUBLISH at QoS 0 and 1. It decodes with the project codec (core/codec) and encodes into
// fixed buffers (fixed_encoder.hpp), so after construction it never allocates.
//
// The client is a state machine polled by the application; it never blocks and never
// reads a clock: every call that needs the time takes `nowMs` (any monotonic millisecond
// counter; wrap-around after 49 days is handled).
//
// @code
//   static std::uint8_t tx[512], rx[512], inflight[256];
//   midge::tiny::Client client(transport, {tx, rx, inflight}, callbacks);
//   // once the board's TCP (or TLS) connection is up:
//   midge::tiny::ConnectOptions options;
//   options.clientId = "sensor-17";
//   client.connect(options, board_millis());
//   for (;;) {
//     client.process(board_millis());  // callbacks run from here
//     if (client.state() == midge::tiny::State::Connected && !client.publishInFlight())
//       client.publish("sensors/17/t", payload, 1, false, board_millis());
//   }
// @endcode
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/codec/framer.hpp"
#include "core/util/span.hpp"
#include "examples/cortex-m/client/fixed_encoder.hpp"
#include "examples/cortex-m/client/transport.hpp"

namespace midge::tiny {

enum class ClientStatus : std::uint8_t {
  Ok,
  NotConnected,  // publish/subscribe before CONNACK or after the connection was lost
  Busy,          // the QoS 1 publish (or subscribe) slot waits for its ack: try after it
  NoSpace,       // the transmit buffer is full of unsent bytes right now: try later
  TooLarge,      // the packet can never fit the transmit (or in-flight) buffer
  BadParameter,  // QoS above 1, empty topic, wildcard in a topic name, invalid UTF-8
};

enum class State : std::uint8_t {
  Idle,             // no MQTT connection; connect() starts one
  AwaitingConnack,  // CONNECT queued or sent
  Connected,
  Disconnecting,    // DISCONNECT queued; Idle once it has been sent
};

enum class DisconnectReason : std::uint8_t {
  Requested,          // disconnect() completed
  TransportClosed,    // send or recv reported a lost connection
  ConnackTimeout,     // no CONNACK within ConnectOptions::connackTimeoutMs
  Refused,            // CONNACK with a non-zero return code: see Client::lastConnackCode()
  PingTimeout,        // no PINGRESP within ConnectOptions::pingTimeoutMs
  ProtocolViolation,  // malformed or unexpected packet from the broker
  PacketTooLarge,     // an incoming packet larger than the receive buffer
};

const char* disconnectReasonName(DisconnectReason reason) noexcept;
const char* clientStatusName(ClientStatus status) noexcept;

// Caller-owned memory; the client keeps only the spans.
// - tx: packets waiting for the transport. Must hold the largest packet sent.
// - rx: bytes from the transport until a packet is complete. Must hold the largest
//   packet the broker may send (a received command, say); larger ones close the connection.
// - inflight: a copy of the unacknowledged QoS 1 PUBLISH, resent with DUP after
//   ackTimeoutMs and after a reconnect. Bounds the largest QoS 1 publish.
struct Buffers {
  MutableBytes tx;
  MutableBytes rx;
  MutableBytes inflight;
};

struct ConnectOptions {
  std::string_view clientId;
  std::uint16_t keepAliveSeconds = 60;  // 0 disables keep-alive
  bool cleanSession = true;
  std::optional<WillFields> will;
  std::optional<std::string_view> username;
  std::optional<Bytes> password;
  std::uint32_t connackTimeoutMs = 10000;
  // A QoS 1 PUBLISH without PUBACK for this long is sent again with DUP on the same
  // connection (3.1.1 allows it; it helps brokers behind lossy NAT gateways). 0 resends
  // only after a reconnect, which the spec requires.
  std::uint32_t ackTimeoutMs = 10000;
  std::uint32_t pingTimeoutMs = 10000;
};

struct IncomingMessage {
  std::string_view topic;  // views into the receive buffer, valid during the callback
  Bytes payload;
  std::uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
};

// Function pointers with a context, so C code and C++ objects can both receive events.
// The callbacks may call publish() and subscribe(), but not connect() or process().
struct Callbacks {
  void* context = nullptr;
  void (*onConnected)(void* context, bool sessionPresent) = nullptr;
  // The board closes the transport here (or after process() returns) and decides when to
  // reconnect. An unacknowledged QoS 1 publish is kept and resent after the next CONNACK.
  void (*onDisconnected)(void* context, DisconnectReason reason) = nullptr;
  void (*onMessage)(void* context, const IncomingMessage& message) = nullptr;
  void (*onPublishAcked)(void* context, std::uint16_t packetId) = nullptr;
  // grantedQos is 0 or 1, or 0x80 when the broker refused the subscription.
  void (*onSubscribed)(void* context, std::uint16_t packetId, std::uint8_t grantedQos) = nullptr;
};

class Client {
 public:
  Client(const Transport& transport, const Buffers& buffers, const Callbacks& callbacks) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts an MQTT session over a transport that the board has just connected: queues
  // CONNECT (sent by process()). Only from Idle (NotConnected otherwise); TooLarge when
  // CONNECT does not fit tx; BadParameter for an empty-topic or QoS 3 will, or a password
  // without a user name.
  ClientStatus connect(const ConnectOptions& options, std::uint32_t nowMs);

  // Sends what the transport takes, reads what it has, handles every complete packet
  // (callbacks run here) and runs the timers. Call it whenever the transport is ready or
  // at least a few times per second.
  void process(std::uint32_t nowMs);

  // QoS 0 goes out as soon as the transport takes it. QoS 1 additionally occupies the
  // single in-flight slot until PUBACK (Busy meanwhile); *packetId receives its id.
  ClientStatus publish(std::string_view topic, Bytes payload, std::uint8_t qos, bool retain,
                       std::uint32_t nowMs, std::uint16_t* packetId = nullptr);
  // One filter per call, maximum QoS 0 or 1; Busy while an earlier SUBACK is awaited.
  ClientStatus subscribe(std::string_view filter, std::uint8_t maxQos,
                         std::uint16_t* packetId = nullptr);
  // Queues DISCONNECT (the broker then discards the will); Idle once it is sent.
  ClientStatus disconnect();
  // Forgets the connection at once without sending anything (the board saw its link go
  // down). No callback; the in-flight publish is kept for the next session.
  void reset() noexcept;
  // Drops the unacknowledged QoS 1 publish, e.g. when the application gives up on it.
  void abandonInFlight() noexcept { inflightSize_ = 0; }

  State state() const noexcept { return state_; }
  bool publishInFlight() const noexcept { return inflightSize_ != 0; }
  bool subscribeInFlight() const noexcept { return pendingSubscribeId_ != 0; }
  std::size_t unsentBytes() const noexcept { return txEnd_ - txStart_; }
  std::uint8_t lastConnackCode() const noexcept { return lastConnackCode_; }

 private:
  enum class Handled : std::uint8_t { Done, RetryLater, Fatal };

  // Encodes at the end of tx; *offset receives where the packet starts.
  template <typename Encode>
  ClientStatus queue(Encode&& encode, std::size_t* offset = nullptr);
  void flush(std::uint32_t nowMs);
  void receive(bool& transportClosed);
  void handleFrames(std::uint32_t nowMs);
  Handled handleFrame(const codec::Frame& frame, std::uint32_t nowMs);
  Handled handleConnack(const codec::Frame& frame, std::uint32_t nowMs);
  Handled handlePublish(const codec::Frame& frame);
  Handled handlePuback(const codec::Frame& frame);
  Handled handleSuback(const codec::Frame& frame);
  void runTimers(std::uint32_t nowMs);
  bool resendInFlight(std::uint32_t nowMs);
  void lose(DisconnectReason reason);
  std::uint16_t nextPacketId() noexcept;

  Transport transport_;
  Buffers buffers_;
  Callbacks callbacks_;

  State state_ = State::Idle;
  std::size_t txStart_ = 0;
  std::size_t txEnd_ = 0;
  std::size_t rxSize_ = 0;

  std::size_t inflightSize_ = 0;  // 0: no QoS 1 publish awaiting PUBACK
  std::uint16_t inflightId_ = 0;
  std::uint32_t inflightSentMs_ = 0;
  bool inflightResendDue_ = false;  // after CONNACK, or when tx had no room at the timeout

  std::uint16_t pendingSubscribeId_ = 0;
  std::uint16_t lastPacketId_ = 0;

  std::uint16_t keepAliveSeconds_ = 0;
  std::uint32_t connackTimeoutMs_ = 0;
  std::uint32_t ackTimeoutMs_ = 0;
  std::uint32_t pingTimeoutMs_ = 0;
  std::uint32_t connectStartedMs_ = 0;
  std::uint32_t lastSendMs_ = 0;
  std::uint32_t pingSentMs_ = 0;
  bool pingOutstanding_ = false;
  std::uint8_t lastConnackCode_ = 0;
};

}  // namespace midge::tiny
