// SPDX-License-Identifier: Apache-2.0
// The server-facing half of the client: every packet a server may send, checked against
// the connection's state. Anything a server must not send ends the connection with the
// reason code the spec names; nothing here trusts a length or an identifier.
#include <algorithm>
#include <utility>

#include "core/client/client.hpp"

namespace midge::client {

using codec::PacketType;
using codec::ProtocolVersion;

void Client::onBytes(Bytes bytes, std::uint64_t nowMs) {
  nowMs_ = nowMs;
  if (state_ == ClientState::Disconnected || closeRequested_) return;
  const Status status = framer_.feed(bytes, [&](const codec::Frame& frame) {
    handleFrame(frame, nowMs);
    return state_ != ClientState::Disconnected;
  });
  if (!status) fail(status.error());
}

void Client::handleFrame(const codec::Frame& frame, std::uint64_t nowMs) {
  const PacketType type = frame.type();
  if (state_ == ClientState::Connecting && type != PacketType::Connack) {
    fail(protocolError("the server's first packet is not CONNACK"));
    return;
  }
  auto decoded = codec::decodePacket(frame, options_.version);
  if (!decoded) {
    fail(decoded.error());
    return;
  }
  codec::Packet& packet = decoded.value();
  if (auto* connack = std::get_if<codec::Connack>(&packet)) {
    if (state_ != ClientState::Connecting) {
      fail(protocolError("a second CONNACK"));
      return;
    }
    handleConnack(*connack, nowMs);
  } else if (auto* publish = std::get_if<codec::Publish>(&packet)) {
    handlePublish(*publish);
  } else if (auto* ack = std::get_if<codec::Ack>(&packet)) {
    handleAck(*ack);
  } else if (auto* suback = std::get_if<codec::Suback>(&packet)) {
    handleSuback(*suback);
  } else if (auto* unsuback = std::get_if<codec::Unsuback>(&packet)) {
    handleUnsuback(*unsuback);
  } else if (std::holds_alternative<codec::Pingresp>(packet)) {
    pingSentMs_.reset();  // an unasked PINGRESP is harmless
  } else if (auto* disconnect = std::get_if<codec::Disconnect>(&packet)) {
    handleDisconnect(*disconnect);
  } else {
    // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ flow only from client to server; this
    // client offers no enhanced authentication, so an AUTH is unasked for.
    fail(protocolError("the server sent a packet only a client may send, or an unasked AUTH"));
  }
}

void Client::handleConnack(const codec::Connack& connack, std::uint64_t nowMs) {
  if (connack.reasonCode != 0) {
    ClientEvent event;
    event.kind = ClientEventKind::ConnectRefused;
    event.code = connack.reasonCode;
    event.reason = options_.version == ProtocolVersion::V5
                       ? static_cast<ReasonCode>(connack.reasonCode)
                       : ReasonCode::UnspecifiedError;
    events_.push_back(std::move(event));
    state_ = ClientState::Disconnected;
    closeRequested_ = true;
    ClientEvent closed;
    closed.kind = ClientEventKind::Closed;
    closed.reason = event.reason;
    closed.detail = "the server refused the connection";
    events_.push_back(std::move(closed));
    return;
  }
  if (connack.sessionPresent && options_.cleanStart) {
    fail(protocolError("CONNACK with Session Present after a clean start"));
    return;
  }
  if (options_.version == ProtocolVersion::V5) {
    if (clientId_.empty() && !connack.properties.assignedClientIdentifier) {
      fail(protocolError("empty client identifier and no Assigned Client Identifier"));
      return;
    }
    applyServerProperties(connack.properties);
  }
  // MQTT 3.1 has no Session Present flag: a server keeps the session of a client that did
  // not ask for a clean one, so the client assumes it is there.
  const bool sessionPresent = connack.sessionPresent ||
                              (options_.version == ProtocolVersion::V31 && !options_.cleanStart);
  state_ = ClientState::Connected;
  lastSendMs_ = nowMs;
  ClientEvent event;
  event.kind = ClientEventKind::Connected;
  event.sessionPresent = sessionPresent;
  event.assignedClientId = clientId_;
  events_.push_back(std::move(event));
  resumeSession(sessionPresent);
}

void Client::applyServerProperties(const codec::Properties& properties) {
  if (properties.assignedClientIdentifier) {
    clientId_ = std::string(*properties.assignedClientIdentifier);
  }
  if (properties.serverKeepAlive) limits_.keepAliveSeconds = *properties.serverKeepAlive;
  if (properties.receiveMaximum) limits_.receiveMaximum = *properties.receiveMaximum;
  if (properties.maximumPacketSize) limits_.maximumPacketSize = *properties.maximumPacketSize;
  if (properties.maximumQoS) limits_.maximumQoS = *properties.maximumQoS;
  if (properties.retainAvailable) limits_.retainAvailable = *properties.retainAvailable != 0;
}

// After CONNACK: resend what is in flight. With the session gone on the server, its
// QoS 2 state went too: a PUBREL would name an unknown identifier (the message already
// reached the server, so the exchange is complete), and inbound QoS 2 ids will never see
// their PUBREL. Unacknowledged PUBLISHes are sent again either way: for a bridge, losing
// them is worse than the duplicate a lost server session may cause.
void Client::resumeSession(bool sessionPresent) {
  if (!sessionPresent) {
    std::vector<std::uint16_t> released;
    for (const auto& [id, entry] : outbound_) {
      if (entry.record.state == JournalState::ReleaseSent) released.push_back(id);
    }
    for (std::uint16_t id : released) completeOutbound(id, ReasonCode::Success);
    for (std::uint16_t id : inboundQos2_) journalErase(true, id);
    inboundQos2_.clear();
    held_.clear();  // the server forgot them: it will not resend, nor take an ack
  }
  pumpOutbound();
}

std::size_t Client::onWireCount() const noexcept {
  std::size_t count = 0;
  for (const auto& entry : outbound_) count += entry.second.onWire ? 1 : 0;
  return count;
}

// Sends held messages, oldest first, while the server's Receive Maximum allows.
void Client::pumpOutbound() {
  if (state_ != ClientState::Connected) return;
  std::size_t onWire = onWireCount();
  if (onWire == outbound_.size()) return;
  std::vector<Outbound*> held;
  for (auto& entry : outbound_) {
    if (!entry.second.onWire) held.push_back(&entry.second);
  }
  std::sort(held.begin(), held.end(), [](const Outbound* a, const Outbound* b) {
    return a->record.sequence < b->record.sequence;
  });
  for (Outbound* entry : held) {
    if (onWire >= windowSize()) break;
    entry->onWire = true;
    ++onWire;
    if (entry->record.state == JournalState::ReleaseSent) {
      sendAck(PacketType::Pubrel, entry->record.packetId, ReasonCode::Success);
    } else {
      sendPublish(entry->record, true);
    }
  }
}

void Client::handlePublish(const codec::Publish& publish) {
  if (publish.topic.find_first_of("+#") != std::string_view::npos) {
    fail(Error{ErrorKind::TopicNameInvalid, "PUBLISH topic with a wildcard"});
    return;
  }
  if (publish.properties.topicAlias) {
    // We declared Topic Alias Maximum 0: any alias is out of range.
    fail(Error{ErrorKind::ProtocolError, "PUBLISH with a Topic Alias the client never allowed"});
    return;
  }
  if (publish.topic.empty()) {
    fail(Error{ErrorKind::ProtocolError, "PUBLISH with an empty topic"});
    return;
  }
  const bool duplicateQos2 = publish.qos == 2 && inboundQos2_.count(publish.packetId) != 0;
  if (!duplicateQos2 && options_.deferAcks && publish.qos > 0) {
    holdPublish(publish);
    return;
  }
  if (publish.qos == 2 && !duplicateQos2 && inboundQos2_.size() >= options_.receiveMaximum) {
    fail(Error{ErrorKind::ProtocolError, "more QoS 2 messages in flight than Receive Maximum"});
    return;
  }
  if (!duplicateQos2) deliver(publish);
  if (publish.qos == 1) {
    sendAck(PacketType::Puback, publish.packetId, ReasonCode::Success);
  } else if (publish.qos == 2) {
    recordInboundQos2(publish.packetId);
    sendAck(PacketType::Pubrec, publish.packetId, ReasonCode::Success);
  }
}

void Client::deliver(const codec::Publish& publish) {
  ClientEvent event;
  event.kind = ClientEventKind::Message;
  event.packetId = publish.packetId;
  event.message.topic = std::string(publish.topic);
  event.message.payload.assign(publish.payload.begin(), publish.payload.end());
  event.message.qos = publish.qos;
  event.message.retain = publish.retain;
  event.message.dup = publish.dup;
  if (options_.version == ProtocolVersion::V5) {
    codec::encodePropertiesBody(publish.properties, event.message.properties);
  }
  events_.push_back(std::move(event));
}

// The id is journalled with the PUBREC that answers it: a resend is then recognised, also
// after a restart, and not delivered again.
void Client::recordInboundQos2(std::uint16_t packetId) {
  if (!inboundQos2_.insert(packetId).second) return;
  JournalRecord record;
  record.state = JournalState::InboundReceived;
  record.packetId = packetId;
  journalPut(record);
}

// deferAcks: delivers a QoS 1/2 message once per packet id and holds its acknowledgement
// for acknowledge(). A resend of a held id (the server's DUP after a reconnect) is the
// same message still on its way: neither delivered again nor acknowledged yet.
void Client::holdPublish(const codec::Publish& publish) {
  if (held_.count(publish.packetId) != 0) return;
  if (held_.size() + inboundQos2_.size() >= options_.receiveMaximum &&
      options_.version == ProtocolVersion::V5) {
    fail(Error{ErrorKind::ProtocolError, "more QoS 1/2 messages held than Receive Maximum"});
    return;
  }
  held_[publish.packetId] = publish.qos;
  deliver(publish);
}

Status Client::acknowledge(std::uint16_t packetId) {
  auto it = held_.find(packetId);
  if (it == held_.end()) {
    return Error{ErrorKind::ImplementationError, "acknowledge: no message held with that id"};
  }
  const std::uint8_t qos = it->second;
  held_.erase(it);
  const bool connected = state_ == ClientState::Connected;
  if (qos == 1) {
    if (connected) sendAck(PacketType::Puback, packetId, ReasonCode::Success);
    return Status::success();
  }
  recordInboundQos2(packetId);
  if (connected) sendAck(PacketType::Pubrec, packetId, ReasonCode::Success);
  return Status::success();
}

void Client::expectResend(std::uint16_t packetId) { recordInboundQos2(packetId); }

void Client::handleAck(const codec::Ack& ack) {
  switch (ack.type) {
    case PacketType::Puback: handlePuback(ack); break;
    case PacketType::Pubrec: handlePubrec(ack); break;
    case PacketType::Pubrel: handlePubrel(ack); break;
    default: handlePubcomp(ack); break;
  }
}

void Client::handlePuback(const codec::Ack& ack) {
  auto it = outbound_.find(ack.packetId);
  if (it == outbound_.end() || !it->second.onWire || it->second.record.message.qos != 1) {
    fail(protocolError("PUBACK for a packet identifier with no QoS 1 message in flight"));
    return;
  }
  completeOutbound(ack.packetId, ack.reason);
  pumpOutbound();
}

void Client::handlePubrec(const codec::Ack& ack) {
  auto it = outbound_.find(ack.packetId);
  if (it == outbound_.end() || !it->second.onWire || it->second.record.message.qos != 2) {
    fail(protocolError("PUBREC for a packet identifier with no QoS 2 message in flight"));
    return;
  }
  JournalRecord& record = it->second.record;
  if (record.state == JournalState::ReleaseSent) {
    sendAck(PacketType::Pubrel, ack.packetId, ReasonCode::Success);  // a resent PUBREC
    return;
  }
  if (isFailure(ack.reason)) {
    // v5: the server refused the message; the exchange ends here (spec 4.3.3).
    completeOutbound(ack.packetId, ack.reason);
    pumpOutbound();
    return;
  }
  record.state = JournalState::ReleaseSent;
  record.message.payload.clear();  // never sent again: only the PUBREL is
  record.message.payload.shrink_to_fit();
  journalPut(record);
  sendAck(PacketType::Pubrel, ack.packetId, ReasonCode::Success);
}

void Client::handlePubrel(const codec::Ack& ack) {
  // An unknown identifier is legal: our PUBCOMP was lost and the server resent PUBREL.
  const bool known = inboundQos2_.erase(ack.packetId) != 0;
  if (known) journalErase(true, ack.packetId);
  const bool v5 = options_.version == ProtocolVersion::V5;
  sendAck(PacketType::Pubcomp, ack.packetId,
          known || !v5 ? ReasonCode::Success : ReasonCode::PacketIdentifierNotFound);
}

void Client::handlePubcomp(const codec::Ack& ack) {
  auto it = outbound_.find(ack.packetId);
  if (it == outbound_.end() || !it->second.onWire ||
      it->second.record.state != JournalState::ReleaseSent) {
    fail(protocolError("PUBCOMP for a packet identifier with no PUBREL outstanding"));
    return;
  }
  completeOutbound(ack.packetId, ack.reason);
  pumpOutbound();
}

void Client::completeOutbound(std::uint16_t packetId, ReasonCode reason) {
  auto it = outbound_.find(packetId);
  ClientEvent event;
  event.kind = ClientEventKind::PublishDone;
  event.packetId = packetId;
  event.tag = it->second.record.tag;
  event.reason = reason;
  outbound_.erase(it);
  journalErase(false, packetId);
  events_.push_back(std::move(event));
}

void Client::handleSuback(const codec::Suback& suback) {
  auto it = pendingSubscribe_.find(suback.packetId);
  if (it == pendingSubscribe_.end()) {
    fail(protocolError("SUBACK for no SUBSCRIBE in progress"));
    return;
  }
  if (it->second != suback.reasonCodes.size()) {
    fail(protocolError("SUBACK with a reason code count unlike its SUBSCRIBE's"));
    return;
  }
  pendingSubscribe_.erase(it);
  ClientEvent event;
  event.kind = ClientEventKind::Subscribed;
  event.packetId = suback.packetId;
  event.codes = suback.reasonCodes;
  events_.push_back(std::move(event));
}

void Client::handleUnsuback(const codec::Unsuback& unsuback) {
  auto it = pendingUnsubscribe_.find(unsuback.packetId);
  if (it == pendingUnsubscribe_.end()) {
    fail(protocolError("UNSUBACK for no UNSUBSCRIBE in progress"));
    return;
  }
  if (options_.version == ProtocolVersion::V5 && it->second != unsuback.reasonCodes.size()) {
    fail(protocolError("UNSUBACK with a reason code count unlike its UNSUBSCRIBE's"));
    return;
  }
  pendingUnsubscribe_.erase(it);
  ClientEvent event;
  event.kind = ClientEventKind::Unsubscribed;
  event.packetId = unsuback.packetId;
  event.codes = unsuback.reasonCodes;
  events_.push_back(std::move(event));
}

void Client::handleDisconnect(const codec::Disconnect& disconnect) {
  if (options_.version != ProtocolVersion::V5) {
    fail(protocolError("DISCONNECT from a server before MQTT 5"));
    return;
  }
  state_ = ClientState::Disconnected;
  closeRequested_ = true;
  ClientEvent event;
  event.kind = ClientEventKind::Closed;
  event.reason = disconnect.reason;
  event.detail = "the server sent DISCONNECT";
  event.serverDisconnected = true;
  events_.push_back(std::move(event));
}

void Client::fail(Error error) {
  closeWith(reasonCodeFor(error.kind), error.detail, false);
}

void Client::closeWith(ReasonCode reason, const char* detail, bool serverDisconnected) {
  if (state_ == ClientState::Disconnected && closeRequested_) return;
  if (options_.version == ProtocolVersion::V5 && state_ == ClientState::Connected) {
    codec::Disconnect packet;
    packet.reason = reason;
    std::vector<std::uint8_t> bytes;
    if (codec::encodePacket(codec::Packet{packet}, options_.version, bytes)) {
      out_.insert(out_.end(), bytes.begin(), bytes.end());
    }
  }
  state_ = ClientState::Disconnected;
  closeRequested_ = true;
  ClientEvent event;
  event.kind = ClientEventKind::Closed;
  event.reason = reason;
  event.detail = detail;
  event.serverDisconnected = serverDisconnected;
  events_.push_back(std::move(event));
}

}  // namespace midge::client
