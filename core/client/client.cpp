// SPDX-License-Identifier: Apache-2.0
// The caller-facing half of the client: connecting, publishing, subscribing, timers and
// the journal. What the server sends is handled in inbound.cpp.
#include "core/client/client.hpp"

#include <algorithm>
#include <utility>

namespace midge::client {

using codec::PacketType;
using codec::ProtocolVersion;

namespace {

bool validTopicName(std::string_view topic) {
  if (topic.empty() || topic.size() > 0xFFFF) return false;
  if (topic.find_first_of("+#") != std::string_view::npos) return false;
  return codec::isValidMqttUtf8(topic);
}

bool validFilter(std::string_view filter) {
  return !filter.empty() && filter.size() <= 0xFFFF && codec::isValidMqttUtf8(filter);
}

}  // namespace

Client::Client(ClientOptions options, ClientJournal* journal)
    : options_(std::move(options)), journal_(journal), clientId_(options_.clientId) {
  if (options_.maximumPacketSize != 0) framer_.setMaxPacketSize(options_.maximumPacketSize);
  if (options_.maxInflight == 0) options_.maxInflight = 1;
  if (options_.receiveMaximum == 0) options_.receiveMaximum = 1;
}

Status Client::restore(const std::vector<JournalRecord>& records) {
  if (state_ != ClientState::Disconnected || !outbound_.empty() || !inboundQos2_.empty()) {
    return Error{ErrorKind::ImplementationError, "restore needs a fresh, disconnected client"};
  }
  for (const JournalRecord& record : records) {
    if (record.packetId == 0) return malformed("journal record with packet identifier 0");
    if (isInbound(record.state)) {
      inboundQos2_.insert(record.packetId);
      continue;
    }
    const bool qosFits = record.state == JournalState::ReleaseSent
                             ? record.message.qos == 2
                             : (record.message.qos == 1 || record.message.qos == 2);
    if (!qosFits) return malformed("journal record with a QoS that does not fit its state");
    if (!outbound_.emplace(record.packetId, Outbound{record, false}).second) {
      return malformed("two outbound journal records with one packet identifier");
    }
    nextSequence_ = std::max(nextSequence_, record.sequence + 1);
  }
  return Status::success();
}

Status Client::connect(std::uint64_t nowMs) {
  if (state_ != ClientState::Disconnected) {
    return Error{ErrorKind::ImplementationError, "connect while a connection is active"};
  }
  nowMs_ = nowMs;
  framer_.reset();
  closeRequested_ = false;
  pingSentMs_.reset();
  limits_ = ServerLimits{};
  limits_.keepAliveSeconds = options_.keepAliveSeconds;
  for (auto& entry : outbound_) entry.second.onWire = false;

  codec::Connect packet;
  packet.version = options_.version;
  packet.cleanStart = options_.cleanStart;
  packet.bridge = options_.bridgeFlag && options_.version != codec::ProtocolVersion::V5;
  packet.keepAlive = options_.keepAliveSeconds;
  packet.clientId = clientId_;
  if (options_.will) {
    codec::Will will;
    will.topic = options_.will->topic;
    will.payload = Bytes(options_.will->payload);
    will.qos = options_.will->qos;
    will.retain = options_.will->retain;
    packet.will = will;
  }
  if (options_.username) packet.username = std::string_view(*options_.username);
  if (options_.password) packet.password = asBytes(*options_.password);
  if (options_.version == ProtocolVersion::V5) {
    if (options_.sessionExpirySeconds != 0) {
      packet.properties.sessionExpiryInterval = options_.sessionExpirySeconds;
    }
    if (options_.receiveMaximum != 65535) {
      packet.properties.receiveMaximum = options_.receiveMaximum;
    }
    if (options_.maximumPacketSize != 0) {
      packet.properties.maximumPacketSize = options_.maximumPacketSize;
    }
  }
  std::vector<std::uint8_t> bytes;
  MIDGE_TRY(codec::encodePacket(codec::Packet{packet}, options_.version, bytes));
  out_.insert(out_.end(), bytes.begin(), bytes.end());
  state_ = ClientState::Connecting;
  connectSentMs_ = nowMs;
  lastSendMs_ = nowMs;
  return Status::success();
}

void Client::onTick(std::uint64_t nowMs) {
  nowMs_ = nowMs;
  if (state_ == ClientState::Connecting) {
    if (nowMs >= connectSentMs_ + options_.responseTimeoutMs) {
      closeWith(ReasonCode::UnspecifiedError, "no CONNACK within the response timeout", false);
    }
    return;
  }
  if (state_ != ClientState::Connected || limits_.keepAliveSeconds == 0) return;
  const std::uint64_t keepAliveMs = std::uint64_t{limits_.keepAliveSeconds} * 1000;
  if (pingSentMs_) {
    const std::uint64_t waitMs = std::max<std::uint64_t>(keepAliveMs, options_.responseTimeoutMs);
    if (nowMs >= *pingSentMs_ + waitMs) {
      closeWith(ReasonCode::KeepAliveTimeout, "no PINGRESP from the server in time", false);
    }
    return;
  }
  // Compared by addition: a caller's clock that steps back must not look like a timeout.
  if (nowMs >= lastSendMs_ + keepAliveMs) {
    emit(codec::Packet{codec::Pingreq{}});
    pingSentMs_ = nowMs;
  }
}

std::uint64_t Client::nextDeadlineMs() const noexcept {
  if (state_ == ClientState::Connecting) return connectSentMs_ + options_.responseTimeoutMs;
  if (state_ != ClientState::Connected || limits_.keepAliveSeconds == 0) return 0;
  const std::uint64_t keepAliveMs = std::uint64_t{limits_.keepAliveSeconds} * 1000;
  if (pingSentMs_) return *pingSentMs_ + std::max<std::uint64_t>(keepAliveMs, options_.responseTimeoutMs);
  return lastSendMs_ + keepAliveMs;
}

void Client::onTransportClosed() {
  if (state_ != ClientState::Disconnected) {
    state_ = ClientState::Disconnected;
    ClientEvent event;
    event.kind = ClientEventKind::Closed;
    event.reason = ReasonCode::UnspecifiedError;
    event.detail = "the transport closed";
    events_.push_back(std::move(event));
  }
  // Subscriptions in progress are lost with the connection; the caller asks again.
  pendingSubscribe_.clear();
  pendingUnsubscribe_.clear();
  pingSentMs_.reset();
  framer_.reset();
  closeRequested_ = false;
}

bool Client::canPublish() const noexcept {
  return state_ == ClientState::Connected && outbound_.size() < windowSize() &&
         outbound_.size() < 65535 - pendingSubscribe_.size() - pendingUnsubscribe_.size();
}

std::uint16_t Client::windowSize() const noexcept {
  return std::min(options_.maxInflight, limits_.receiveMaximum);
}

Result<PublishTicket> Client::publish(const OutboundMessage& message, std::uint64_t tag,
                                      std::uint64_t nowMs) {
  nowMs_ = nowMs;
  if (state_ != ClientState::Connected) return Error{ErrorKind::QuotaExceeded, "not connected"};
  if (message.qos > 2) return Error{ErrorKind::ImplementationError, "QoS above 2"};
  if (!validTopicName(message.topic)) {
    return Error{ErrorKind::TopicNameInvalid, "publish topic empty, too long, not UTF-8 or with wildcards"};
  }
  if (message.retain && !limits_.retainAvailable) {
    return Error{ErrorKind::ProtocolError, "the server does not support retained messages"};
  }
  if (!message.properties.empty() && options_.version != ProtocolVersion::V5) {
    return Error{ErrorKind::ImplementationError, "properties need MQTT 5"};
  }
  PublishTicket ticket;
  ticket.qos = std::min(message.qos, limits_.maximumQoS);
  if (ticket.qos > 0 && !canPublish()) {
    return Error{ErrorKind::QuotaExceeded, "the in-flight window is full"};
  }
  JournalRecord record;
  record.message = message;
  record.message.qos = ticket.qos;
  record.tag = tag;
  // Check the size before anything is journaled: a refused message leaves no trace.
  std::vector<std::uint8_t> probe;
  record.packetId = ticket.qos > 0 ? 1 : 0;
  {
    codec::Publish packet;
    packet.qos = ticket.qos;
    packet.topic = record.message.topic;
    packet.packetId = record.packetId;
    packet.payload = Bytes(record.message.payload);
    packet.properties.preEncoded = Bytes(record.message.properties);
    MIDGE_TRY(codec::encodePacket(codec::Packet{packet}, options_.version, probe));
  }
  if (limits_.maximumPacketSize != 0 && probe.size() > limits_.maximumPacketSize) {
    return Error{ErrorKind::PacketTooLarge, "larger than the server's Maximum Packet Size"};
  }
  if (ticket.qos == 0) {
    sendPublish(record, false);
    return ticket;
  }
  record.packetId = allocatePacketId();
  record.sequence = nextSequence_++;
  record.state = JournalState::PublishSent;
  ticket.packetId = record.packetId;
  journalPut(record);
  auto& entry = outbound_[record.packetId];
  entry.record = std::move(record);
  entry.onWire = true;
  sendPublish(entry.record, false);
  return ticket;
}

Result<std::uint16_t> Client::subscribe(const std::vector<Subscription>& subscriptions,
                                        std::uint64_t nowMs) {
  nowMs_ = nowMs;
  if (state_ != ClientState::Connected) return Error{ErrorKind::QuotaExceeded, "not connected"};
  if (subscriptions.empty()) return Error{ErrorKind::ImplementationError, "nothing to subscribe"};
  codec::Subscribe packet;
  for (const Subscription& s : subscriptions) {
    if (!validFilter(s.filter) || s.qos > 2 || s.retainHandling > 2) {
      return Error{ErrorKind::TopicFilterInvalid, "invalid subscription filter or options"};
    }
    std::uint8_t options = s.qos;
    if (options_.version == ProtocolVersion::V5) {
      options = static_cast<std::uint8_t>(options | (s.noLocal ? 0x04 : 0) |
                                          (s.retainAsPublished ? 0x08 : 0) |
                                          (s.retainHandling << 4));
    }
    packet.entries.push_back(codec::SubscribeEntry{s.filter, options});
  }
  if (outbound_.size() + pendingSubscribe_.size() + pendingUnsubscribe_.size() >= 65535) {
    return Error{ErrorKind::QuotaExceeded, "no packet identifier free"};
  }
  packet.packetId = allocatePacketId();
  const std::uint16_t id = packet.packetId;
  pendingSubscribe_[id] = subscriptions.size();
  emit(codec::Packet{std::move(packet)});
  return id;
}

Result<std::uint16_t> Client::unsubscribe(const std::vector<std::string>& filters,
                                          std::uint64_t nowMs) {
  nowMs_ = nowMs;
  if (state_ != ClientState::Connected) return Error{ErrorKind::QuotaExceeded, "not connected"};
  if (filters.empty()) return Error{ErrorKind::ImplementationError, "nothing to unsubscribe"};
  codec::Unsubscribe packet;
  for (const std::string& filter : filters) {
    if (!validFilter(filter)) return Error{ErrorKind::TopicFilterInvalid, "invalid filter"};
    packet.filters.push_back(filter);
  }
  if (outbound_.size() + pendingSubscribe_.size() + pendingUnsubscribe_.size() >= 65535) {
    return Error{ErrorKind::QuotaExceeded, "no packet identifier free"};
  }
  packet.packetId = allocatePacketId();
  const std::uint16_t id = packet.packetId;
  pendingUnsubscribe_[id] = filters.size();
  emit(codec::Packet{std::move(packet)});
  return id;
}

void Client::disconnect(ReasonCode reason) {
  if (state_ == ClientState::Disconnected) return;
  codec::Disconnect packet;
  packet.reason = reason;
  emit(codec::Packet{packet});
  state_ = ClientState::Disconnected;
  closeRequested_ = true;
  ClientEvent event;
  event.kind = ClientEventKind::Closed;
  event.reason = reason;
  event.detail = "the client disconnected";
  events_.push_back(std::move(event));
}

std::vector<std::uint8_t> Client::takeBytes() {
  std::vector<std::uint8_t> bytes;
  bytes.swap(out_);
  return bytes;
}

std::vector<ClientEvent> Client::takeEvents() {
  std::vector<ClientEvent> events;
  events.swap(events_);
  return events;
}

// --- helpers shared with inbound.cpp ---

void Client::emit(const codec::Packet& packet) {
  // Every packet the client builds is valid by construction (checked fields); a failure
  // here would be a bug, and the connection cannot go on without the packet.
  const Status status = codec::encodePacket(packet, options_.version, out_);
  if (!status) {
    fail(status.error());
    return;
  }
  lastSendMs_ = nowMs_;
}

void Client::sendPublish(const JournalRecord& record, bool dup) {
  codec::Publish packet;
  packet.dup = dup && record.message.qos > 0;
  packet.qos = record.message.qos;
  packet.retain = record.message.retain;
  packet.topic = record.message.topic;
  packet.packetId = record.packetId;
  packet.payload = Bytes(record.message.payload);
  if (options_.version == ProtocolVersion::V5) {
    packet.properties.preEncoded = Bytes(record.message.properties);
  }
  emit(codec::Packet{std::move(packet)});
}

void Client::sendAck(PacketType type, std::uint16_t packetId, ReasonCode reason) {
  codec::Ack ack;
  ack.type = type;
  ack.packetId = packetId;
  ack.reason = reason;
  emit(codec::Packet{ack});
}

bool Client::packetIdInUse(std::uint16_t packetId) const {
  return packetId == 0 || outbound_.count(packetId) != 0 ||
         pendingSubscribe_.count(packetId) != 0 || pendingUnsubscribe_.count(packetId) != 0;
}

std::uint16_t Client::allocatePacketId() {
  // Callers check that an identifier is free first, so this loop ends.
  while (packetIdInUse(nextPacketId_)) {
    nextPacketId_ = static_cast<std::uint16_t>(nextPacketId_ == 65535 ? 1 : nextPacketId_ + 1);
  }
  const std::uint16_t id = nextPacketId_;
  nextPacketId_ = static_cast<std::uint16_t>(id == 65535 ? 1 : id + 1);
  return id;
}

void Client::journalPut(const JournalRecord& record) {
  if (journal_ != nullptr) journal_->put(record);
}

void Client::journalErase(bool inbound, std::uint16_t packetId) {
  if (journal_ != nullptr) journal_->erase(inbound, packetId);
}

}  // namespace midge::client
