// SPDX-License-Identifier: Apache-2.0
#include "examples/cortex-m/client/tiny_client.hpp"

#include <cstring>

#include "core/codec/ack.hpp"
#include "core/codec/connack.hpp"
#include "core/codec/ping.hpp"
#include "core/codec/publish.hpp"
#include "core/codec/reader.hpp"
#include "core/codec/utf8.hpp"

namespace midge::tiny {
namespace {

constexpr codec::ProtocolVersion kVersion = codec::ProtocolVersion::V311;

// Differences of wrapping millisecond counters stay correct across the wrap.
constexpr bool elapsed(std::uint32_t nowMs, std::uint32_t sinceMs, std::uint32_t periodMs) {
  return static_cast<std::uint32_t>(nowMs - sinceMs) >= periodMs;
}

bool validTopicName(std::string_view topic) noexcept {
  if (topic.empty() || !codec::isValidMqttUtf8(topic)) return false;
  return topic.find_first_of("+#") == std::string_view::npos;
}

bool validTopicFilter(std::string_view filter) noexcept {
  return !filter.empty() && codec::isValidMqttUtf8(filter);
}

}  // namespace

const char* disconnectReasonName(DisconnectReason reason) noexcept {
  switch (reason) {
    case DisconnectReason::Requested: return "disconnect requested";
    case DisconnectReason::TransportClosed: return "connection lost";
    case DisconnectReason::ConnackTimeout: return "no CONNACK in time";
    case DisconnectReason::Refused: return "connection refused by the broker";
    case DisconnectReason::PingTimeout: return "no PINGRESP in time";
    case DisconnectReason::ProtocolViolation: return "protocol violation by the broker";
    case DisconnectReason::PacketTooLarge: return "packet larger than the receive buffer";
  }
  return "unknown";
}

const char* clientStatusName(ClientStatus status) noexcept {
  switch (status) {
    case ClientStatus::Ok: return "ok";
    case ClientStatus::NotConnected: return "not connected";
    case ClientStatus::Busy: return "busy";
    case ClientStatus::NoSpace: return "transmit buffer full";
    case ClientStatus::TooLarge: return "too large for the buffers";
    case ClientStatus::BadParameter: return "bad parameter";
  }
  return "unknown";
}

Client::Client(const Transport& transport, const Buffers& buffers,
               const Callbacks& callbacks) noexcept
    : transport_(transport), buffers_(buffers), callbacks_(callbacks) {}

// Encodes straight into the free tail of tx (moving unsent bytes to the front first), so
// nothing is copied twice and a packet that does not fit leaves tx untouched.
template <typename Encode>
ClientStatus Client::queue(Encode&& encode, std::size_t* offset) {
  if (txStart_ == txEnd_) {
    txStart_ = txEnd_ = 0;
  } else if (txStart_ > 0) {
    std::memmove(buffers_.tx.data(), buffers_.tx.data() + txStart_, txEnd_ - txStart_);
    txEnd_ -= txStart_;
    txStart_ = 0;
  }
  const Result<std::size_t> size = encode(buffers_.tx.subspan(txEnd_));
  if (!size.ok()) return ClientStatus::BadParameter;
  if (*size > buffers_.tx.size()) return ClientStatus::TooLarge;
  if (*size > buffers_.tx.size() - txEnd_) return ClientStatus::NoSpace;
  if (offset != nullptr) *offset = txEnd_;
  txEnd_ += *size;
  return ClientStatus::Ok;
}

ClientStatus Client::connect(const ConnectOptions& options, std::uint32_t nowMs) {
  if (state_ != State::Idle) return ClientStatus::NotConnected;
  if (options.will && (!validTopicName(options.will->topic) || options.will->qos > 2)) {
    return ClientStatus::BadParameter;
  }
  if (options.password && !options.username) return ClientStatus::BadParameter;

  ConnectFields fields;
  fields.clientId = options.clientId;
  fields.keepAliveSeconds = options.keepAliveSeconds;
  fields.cleanSession = options.cleanSession;
  fields.will = options.will ? &*options.will : nullptr;
  fields.username = options.username ? &*options.username : nullptr;
  fields.password = options.password ? &*options.password : nullptr;

  txStart_ = txEnd_ = 0;
  rxSize_ = 0;
  const ClientStatus status = queue([&](MutableBytes out) { return encodeConnect(fields, out); });
  if (status != ClientStatus::Ok) return status;

  keepAliveSeconds_ = options.keepAliveSeconds;
  connackTimeoutMs_ = options.connackTimeoutMs;
  ackTimeoutMs_ = options.ackTimeoutMs;
  pingTimeoutMs_ = options.pingTimeoutMs;
  connectStartedMs_ = nowMs;
  lastSendMs_ = nowMs;
  pingOutstanding_ = false;
  pendingSubscribeId_ = 0;
  inflightResendDue_ = false;
  lastConnackCode_ = 0;
  state_ = State::AwaitingConnack;
  return ClientStatus::Ok;
}

ClientStatus Client::publish(std::string_view topic, Bytes payload, std::uint8_t qos,
                             bool retain, std::uint32_t nowMs, std::uint16_t* packetId) {
  if (state_ != State::Connected) return ClientStatus::NotConnected;
  if (qos > 1 || !validTopicName(topic)) return ClientStatus::BadParameter;
  if (qos == 1 && publishInFlight()) return ClientStatus::Busy;

  PublishFields fields;
  fields.topic = topic;
  fields.payload = payload;
  fields.qos = qos;
  fields.retain = retain;
  // Drawn before queueing but committed only on success, so a refused publish does not
  // burn an id.
  const std::uint16_t candidateId = qos == 1 ? nextPacketId() : 0;
  fields.packetId = candidateId;

  std::size_t start = 0;
  const ClientStatus status =
      queue([&](MutableBytes out) { return encodePublish(fields, out); }, &start);
  if (status != ClientStatus::Ok) {
    if (qos == 1) --lastPacketId_;
    return status;
  }
  if (qos == 1) {
    const std::size_t size = txEnd_ - start;
    if (size > buffers_.inflight.size()) {
      txEnd_ = start;  // never sent: withdraw it
      --lastPacketId_;
      return ClientStatus::TooLarge;
    }
    std::memcpy(buffers_.inflight.data(), buffers_.tx.data() + start, size);
    inflightSize_ = size;
    inflightId_ = candidateId;
    inflightSentMs_ = nowMs;
    inflightResendDue_ = false;
    if (packetId != nullptr) *packetId = candidateId;
  }
  return ClientStatus::Ok;
}

ClientStatus Client::subscribe(std::string_view filter, std::uint8_t maxQos,
                               std::uint16_t* packetId) {
  if (state_ != State::Connected) return ClientStatus::NotConnected;
  // QoS 2 deliveries would need PUBREC/PUBREL state this client does not keep.
  if (maxQos > 1 || !validTopicFilter(filter)) return ClientStatus::BadParameter;
  if (subscribeInFlight()) return ClientStatus::Busy;
  const std::uint16_t id = nextPacketId();
  const ClientStatus status = queue(
      [&](MutableBytes out) { return encodeSubscribe(id, filter, maxQos, out); });
  if (status != ClientStatus::Ok) {
    --lastPacketId_;
    return status;
  }
  pendingSubscribeId_ = id;
  if (packetId != nullptr) *packetId = id;
  return ClientStatus::Ok;
}

ClientStatus Client::disconnect() {
  if (state_ != State::Connected) return ClientStatus::NotConnected;
  const ClientStatus status = queue([](MutableBytes out) { return encodeDisconnect(out); });
  if (status == ClientStatus::Ok) state_ = State::Disconnecting;
  return status;
}

void Client::reset() noexcept {
  state_ = State::Idle;
  txStart_ = txEnd_ = 0;
  rxSize_ = 0;
  pingOutstanding_ = false;
  pendingSubscribeId_ = 0;
}

void Client::lose(DisconnectReason reason) {
  reset();
  if (callbacks_.onDisconnected != nullptr) callbacks_.onDisconnected(callbacks_.context, reason);
}

std::uint16_t Client::nextPacketId() noexcept {
  // Id 0 is forbidden; the in-flight id must not be reused while it waits for its ack.
  do {
    ++lastPacketId_;
  } while (lastPacketId_ == 0 || (publishInFlight() && lastPacketId_ == inflightId_));
  return lastPacketId_;
}

void Client::process(std::uint32_t nowMs) {
  if (state_ == State::Idle) return;
  flush(nowMs);
  if (state_ == State::Idle) return;

  bool transportClosed = false;
  receive(transportClosed);
  // Packets that arrived before the close are handled first: a broker refusing a CONNECT
  // sends CONNACK and closes at once, and the refusal is what the board should learn.
  handleFrames(nowMs);
  if (state_ == State::Idle) return;
  if (transportClosed) {
    lose(DisconnectReason::TransportClosed);
    return;
  }

  runTimers(nowMs);
  if (state_ == State::Idle) return;
  flush(nowMs);
  if (state_ == State::Disconnecting && txStart_ == txEnd_) lose(DisconnectReason::Requested);
}

void Client::flush(std::uint32_t nowMs) {
  while (txStart_ < txEnd_) {
    const std::int32_t sent =
        transport_.send(transport_.context, buffers_.tx.data() + txStart_, txEnd_ - txStart_);
    if (sent < 0) {
      lose(DisconnectReason::TransportClosed);
      return;
    }
    if (sent == 0) return;
    // A transport reporting more than it was given is broken; never run past the buffer.
    const auto count = static_cast<std::size_t>(sent);
    txStart_ += count < txEnd_ - txStart_ ? count : txEnd_ - txStart_;
    lastSendMs_ = nowMs;
  }
}

void Client::receive(bool& transportClosed) {
  while (rxSize_ < buffers_.rx.size()) {
    const std::int32_t got = transport_.recv(transport_.context, buffers_.rx.data() + rxSize_,
                                             buffers_.rx.size() - rxSize_);
    if (got < 0) {
      transportClosed = true;
      return;
    }
    if (got == 0) return;
    const auto count = static_cast<std::size_t>(got);
    rxSize_ += count < buffers_.rx.size() - rxSize_ ? count : buffers_.rx.size() - rxSize_;
  }
}

void Client::handleFrames(std::uint32_t nowMs) {
  std::size_t consumed = 0;
  while (state_ != State::Idle) {
    const std::uint8_t* data = buffers_.rx.data() + consumed;
    const std::size_t available = rxSize_ - consumed;
    const codec::FixedHeader header = codec::parseFixedHeader(data, available);
    if (header.state == codec::FixedHeader::State::NeedMore) break;
    if (header.state == codec::FixedHeader::State::Malformed) {
      lose(DisconnectReason::ProtocolViolation);
      return;
    }
    const std::size_t wireSize = header.headerSize + header.remainingLength;
    if (wireSize > buffers_.rx.size()) {
      lose(DisconnectReason::PacketTooLarge);
      return;
    }
    if (wireSize > available) break;

    codec::Frame frame;
    frame.header = data[0];
    frame.body = Bytes(data + header.headerSize, header.remainingLength);
    frame.wireSize = wireSize;
    const Handled handled = handleFrame(frame, nowMs);
    if (handled == Handled::Fatal) {
      lose(DisconnectReason::ProtocolViolation);
      return;
    }
    if (handled == Handled::RetryLater) break;  // no room for the answer yet: keep it
    consumed += wireSize;
  }
  if (state_ == State::Idle) return;  // a callback ended the connection; rx was cleared
  if (consumed > 0) {
    std::memmove(buffers_.rx.data(), buffers_.rx.data() + consumed, rxSize_ - consumed);
    rxSize_ -= consumed;
  }
}

Client::Handled Client::handleFrame(const codec::Frame& frame, std::uint32_t nowMs) {
  if (state_ == State::AwaitingConnack) {
    // The broker must answer CONNECT with CONNACK before anything else.
    if (frame.type() != codec::PacketType::Connack) return Handled::Fatal;
    return handleConnack(frame, nowMs);
  }
  switch (frame.type()) {
    case codec::PacketType::Publish: return handlePublish(frame);
    case codec::PacketType::Puback: return handlePuback(frame);
    case codec::PacketType::Suback: return handleSuback(frame);
    case codec::PacketType::Pingresp:
      if (!codec::decodePingresp(frame, kVersion).ok()) return Handled::Fatal;
      pingOutstanding_ = false;
      return Handled::Done;
    default:
      // CONNACK twice, QoS 2 flow packets (never requested), UNSUBACK (never
      // unsubscribed), or a packet only a client may send.
      return Handled::Fatal;
  }
}

Client::Handled Client::handleConnack(const codec::Frame& frame, std::uint32_t nowMs) {
  const Result<codec::Connack> connack = codec::decodeConnack(frame, kVersion);
  if (!connack.ok()) return Handled::Fatal;
  lastConnackCode_ = connack->reasonCode;
  if (connack->reasonCode != 0) {
    lose(DisconnectReason::Refused);
    return Handled::Done;
  }
  state_ = State::Connected;
  // 3.1.1 section 4.4: an unacknowledged PUBLISH is sent again, with DUP, on reconnect.
  if (publishInFlight()) {
    inflightResendDue_ = true;
    resendInFlight(nowMs);
  }
  if (callbacks_.onConnected != nullptr) {
    callbacks_.onConnected(callbacks_.context, connack->sessionPresent);
  }
  return Handled::Done;
}

Client::Handled Client::handlePublish(const codec::Frame& frame) {
  codec::Publish publish;
  if (!codec::decodePublish(frame, kVersion, publish).ok()) return Handled::Fatal;
  // Subscriptions are limited to QoS 1, so a QoS 2 delivery is the broker's error.
  if (publish.qos > 1) return Handled::Fatal;
  if (publish.qos == 1) {
    // Check for room for the PUBACK before the application sees the message, so a retry
    // never shows it twice.
    std::uint8_t puback[4];
    const Result<std::size_t> size = encodePuback(publish.packetId, MutableBytes(puback));
    if (!size.ok() || buffers_.tx.size() - (txEnd_ - txStart_) < *size) {
      return Handled::RetryLater;
    }
  }
  if (callbacks_.onMessage != nullptr) {
    IncomingMessage message;
    message.topic = publish.topic;
    message.payload = publish.payload;
    message.qos = publish.qos;
    message.retain = publish.retain;
    message.dup = publish.dup;
    callbacks_.onMessage(callbacks_.context, message);
  }
  if (publish.qos == 1 && state_ != State::Idle) {
    const std::uint16_t id = publish.packetId;
    // Room was checked above; a callback may have queued its own packets since, in which
    // case the broker resends the PUBLISH after a reconnect and the message repeats once.
    (void)queue([id](MutableBytes out) { return encodePuback(id, out); });
  }
  return Handled::Done;
}

Client::Handled Client::handlePuback(const codec::Frame& frame) {
  const Result<codec::Ack> ack = codec::decodeAck(frame, kVersion);
  if (!ack.ok()) return Handled::Fatal;
  // An ack for an id not in flight is a late answer to a duplicate: ignored.
  if (publishInFlight() && ack->packetId == inflightId_) {
    inflightSize_ = 0;
    inflightResendDue_ = false;
    if (callbacks_.onPublishAcked != nullptr) {
      callbacks_.onPublishAcked(callbacks_.context, ack->packetId);
    }
  }
  return Handled::Done;
}

Client::Handled Client::handleSuback(const codec::Frame& frame) {
  // Read through the codec's bounded Reader rather than decodeSuback, which collects the
  // return codes in a std::vector: one SUBSCRIBE carries one filter, so one code follows.
  if (frame.flags() != 0) return Handled::Fatal;
  codec::Reader reader(frame.body);
  std::uint16_t packetId = 0;
  std::uint8_t code = 0;
  if (!reader.u16(packetId, "SUBACK truncated").ok() || !reader.u8(code, "SUBACK truncated").ok() ||
      !reader.atEnd() || packetId == 0) {
    return Handled::Fatal;
  }
  if (code > 2 && code != 0x80) return Handled::Fatal;
  if (packetId != pendingSubscribeId_) return Handled::Fatal;
  pendingSubscribeId_ = 0;
  if (callbacks_.onSubscribed != nullptr) callbacks_.onSubscribed(callbacks_.context, packetId, code);
  return Handled::Done;
}

bool Client::resendInFlight(std::uint32_t nowMs) {
  const std::size_t size = inflightSize_;
  const ClientStatus status = queue([&](MutableBytes out) -> Result<std::size_t> {
    if (size <= out.size()) {
      std::memcpy(out.data(), buffers_.inflight.data(), size);
      markDuplicate(out.first(size));
    }
    return size;
  });
  if (status != ClientStatus::Ok) return false;  // tx full: the next process() retries
  inflightResendDue_ = false;
  inflightSentMs_ = nowMs;
  return true;
}

void Client::runTimers(std::uint32_t nowMs) {
  if (state_ == State::AwaitingConnack) {
    if (elapsed(nowMs, connectStartedMs_, connackTimeoutMs_)) lose(DisconnectReason::ConnackTimeout);
    return;
  }
  if (state_ != State::Connected) return;

  if (pingOutstanding_ && elapsed(nowMs, pingSentMs_, pingTimeoutMs_)) {
    lose(DisconnectReason::PingTimeout);
    return;
  }
  if (publishInFlight()) {
    if (ackTimeoutMs_ != 0 && elapsed(nowMs, inflightSentMs_, ackTimeoutMs_)) {
      inflightResendDue_ = true;
    }
    if (inflightResendDue_) resendInFlight(nowMs);
  }
  // The keep-alive counts from the last bytes handed to the transport (3.1.1 section
  // 3.1.2.10): any packet resets it, so a busy publisher never pings.
  if (keepAliveSeconds_ != 0 && !pingOutstanding_ &&
      elapsed(nowMs, lastSendMs_, static_cast<std::uint32_t>(keepAliveSeconds_) * 1000u)) {
    if (queue([](MutableBytes out) { return encodePingreq(out); }) == ClientStatus::Ok) {
      pingOutstanding_ = true;
      pingSentMs_ = nowMs;
    }
  }
}

}  // namespace midge::tiny
