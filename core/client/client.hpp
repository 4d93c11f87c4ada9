// SPDX-License-Identifier: Apache-2.0
// A sans-IO MQTT client (3.1, 3.1.1, 5.0) for the bridge's uplink: bytes in, actions out.
// The caller owns the transport and the clock. It calls connect() when a transport is up,
// onBytes() with what the server sent, onTick() now and then, onTransportClosed() when the
// transport goes away; after each call it takes the events (takeEvents) and the bytes to
// send (takeBytes), commits the journal, then writes the bytes, and closes the transport
// when closeRequested() says so.
//
// Errors: every malformed or protocol-violating server packet ends the connection (v5: a
// DISCONNECT with the reason code first) with a Closed event naming what was wrong; the
// client never trusts a length and never aborts on server input. In-flight QoS 1/2 state
// outlives the connection and is resent on the next one.
//
// Example:
//   Client client(options, &journal);
//   client.connect(nowMs);  send(client.takeBytes());
//   client.onBytes(received, nowMs);
//   for (auto& e : client.takeEvents()) if (e.kind == ClientEventKind::Connected) ...
//   auto ticket = client.publish(message, tag, nowMs);
//   journal.commit();  send(client.takeBytes());
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/client/journal.hpp"
#include "core/codec/codec.hpp"
#include "core/util/result.hpp"

namespace midge::client {

struct WillOptions {
  std::string topic;
  std::vector<std::uint8_t> payload;
  std::uint8_t qos = 0;
  bool retain = false;
};

struct ClientOptions {
  codec::ProtocolVersion version = codec::ProtocolVersion::V311;
  std::string clientId;  // may be empty with cleanStart (v5: the server assigns one)
  bool cleanStart = true;
  // `try_private`: set 0x80 in the protocol level (3.1, 3.1.1) so that a Mosquitto server
  // treats us as a bridge and does not send our own messages back. Ignored for v5, which
  // has No Local per subscription. Servers that do not know the flag (RabbitMQ) refuse
  // the connection.
  bool bridgeFlag = false;
  std::uint16_t keepAliveSeconds = 60;  // 0 = no keep-alive
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<WillOptions> will;
  // v5 CONNECT properties. The client never accepts topic aliases (Topic Alias Maximum 0).
  std::uint32_t sessionExpirySeconds = 0;
  std::uint16_t receiveMaximum = 65535;      // inbound QoS 2 exchanges we accept at once
  std::uint32_t maximumPacketSize = 0;       // inbound limit; 0 = none declared
  // Outbound QoS 1/2 messages in flight at once; the server's Receive Maximum may lower it.
  std::uint16_t maxInflight = 20;
  // How long to wait for CONNACK, and for PINGRESP after a PINGREQ.
  std::uint32_t responseTimeoutMs = 10000;
  // Hold the acknowledgement of every inbound QoS 1/2 message until acknowledge(): a
  // bridge acknowledges only once the message is safe on its other side.
  bool deferAcks = false;
};

enum class ClientState : std::uint8_t { Disconnected, Connecting, Connected };

enum class ClientEventKind : std::uint8_t {
  Connected,       // CONNACK accepted: sessionPresent, assignedClientId
  ConnectRefused,  // CONNACK refused: reason (v5 reason, or v3 return code in `code`)
  Message,         // an inbound PUBLISH to deliver (QoS 2: once per packet id exchange);
                   // packetId names it for acknowledge() with deferAcks
  PublishDone,     // an outbound QoS 1/2 exchange ended: packetId, tag, reason
  Subscribed,      // SUBACK: packetId, codes
  Unsubscribed,    // UNSUBACK: packetId, codes (v5 only)
  Closed,          // the client ended the connection (error or DISCONNECT): reason, detail
};

struct InboundMessage {
  std::string topic;
  std::vector<std::uint8_t> payload;
  std::uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  std::vector<std::uint8_t> properties;  // v5: the encoded property body as received
};

struct ClientEvent {
  ClientEventKind kind = ClientEventKind::Closed;
  ReasonCode reason = ReasonCode::Success;
  std::uint8_t code = 0;         // ConnectRefused: the raw CONNACK code
  const char* detail = "";       // Closed: what went wrong (static string)
  bool serverDisconnected = false;  // Closed: the server sent DISCONNECT (v5)
  bool sessionPresent = false;
  std::string assignedClientId;
  std::uint16_t packetId = 0;
  std::uint64_t tag = 0;
  std::vector<std::uint8_t> codes;
  InboundMessage message;
};

struct Subscription {
  std::string filter;
  std::uint8_t qos = 0;
  bool noLocal = false;            // v5 only
  bool retainAsPublished = false;  // v5 only
  std::uint8_t retainHandling = 0; // v5 only: 0 send, 1 send if new, 2 never
};

struct PublishTicket {
  std::uint16_t packetId = 0;  // 0 for QoS 0
  std::uint8_t qos = 0;        // may be lower than asked: the server's Maximum QoS
};

// What the server granted in CONNACK (defaults when it said nothing).
struct ServerLimits {
  std::uint16_t receiveMaximum = 65535;
  std::uint32_t maximumPacketSize = 0;  // 0 = no limit
  std::uint8_t maximumQoS = 2;
  bool retainAvailable = true;
  std::uint16_t keepAliveSeconds = 0;   // the one in force
};

class Client {
 public:
  // journal may be null (no durability). It must outlive the client.
  Client(ClientOptions options, ClientJournal* journal);

  // Rebuilds in-flight state from committed journal records, before the first connect.
  // Errors: called while connected or with records already held, or records that
  // contradict each other (ImplementationError / Malformed).
  Status restore(const std::vector<JournalRecord>& records);

  // The transport is up: sends CONNECT. Error if not Disconnected.
  Status connect(std::uint64_t nowMs);
  void onBytes(Bytes bytes, std::uint64_t nowMs);
  void onTick(std::uint64_t nowMs);
  void onTransportClosed();

  // QoS 0 needs a connection; QoS 1/2 need a connection and room in the in-flight window.
  // Errors: not connected or window full (QuotaExceeded), larger than the server's
  // Maximum Packet Size (PacketTooLarge), retain the server does not support, an invalid
  // topic (TopicNameInvalid).
  Result<PublishTicket> publish(const OutboundMessage& message, std::uint64_t tag,
                                std::uint64_t nowMs);
  Result<std::uint16_t> subscribe(const std::vector<Subscription>& subscriptions,
                                  std::uint64_t nowMs);
  Result<std::uint16_t> unsubscribe(const std::vector<std::string>& filters,
                                    std::uint64_t nowMs);
  // With deferAcks: acknowledges the inbound message packetId (PUBACK, or for QoS 2 the
  // journalled PUBREC). Without a connection the acknowledgement is kept (QoS 2) and
  // answers the server's resend. Error: no such message held.
  Status acknowledge(std::uint16_t packetId);
  // Records an inbound QoS 2 packet id as received and acknowledged (journalled), for a
  // message delivered before a restart: the server's resend is answered with PUBREC and
  // not delivered again.
  void expectResend(std::uint16_t packetId);
  std::size_t heldAcks() const noexcept { return held_.size(); }
  // Sends DISCONNECT (v5: with reason) and asks for the transport to close.
  void disconnect(ReasonCode reason = ReasonCode::Success);

  std::vector<std::uint8_t> takeBytes();
  std::vector<ClientEvent> takeEvents();
  bool closeRequested() const noexcept { return closeRequested_; }

  ClientState state() const noexcept { return state_; }
  bool canPublish() const noexcept;  // room for one more QoS 1/2 message
  std::size_t inflight() const noexcept { return outbound_.size(); }
  std::size_t inboundPending() const noexcept { return inboundQos2_.size(); }
  const ServerLimits& serverLimits() const noexcept { return limits_; }
  const std::string& clientId() const noexcept { return clientId_; }
  // The next time onTick has something to do (ping, timeout); 0 when nothing is due.
  std::uint64_t nextDeadlineMs() const noexcept;

 private:
  struct Outbound {
    JournalRecord record;
    bool onWire = false;  // sent on the current connection
  };

  void handleFrame(const codec::Frame& frame, std::uint64_t nowMs);
  void handleConnack(const codec::Connack& connack, std::uint64_t nowMs);
  void applyServerProperties(const codec::Properties& properties);
  void handlePublish(const codec::Publish& publish);
  void holdPublish(const codec::Publish& publish);
  void deliver(const codec::Publish& publish);  // the Message event
  void recordInboundQos2(std::uint16_t packetId);
  void handleAck(const codec::Ack& ack);
  void handlePuback(const codec::Ack& ack);
  void handlePubrec(const codec::Ack& ack);
  void handlePubrel(const codec::Ack& ack);
  void handlePubcomp(const codec::Ack& ack);
  void handleSuback(const codec::Suback& suback);
  void handleUnsuback(const codec::Unsuback& unsuback);
  void handleDisconnect(const codec::Disconnect& disconnect);
  void resumeSession(bool sessionPresent);
  void pumpOutbound();
  void completeOutbound(std::uint16_t packetId, ReasonCode reason);
  void fail(Error error);
  void closeWith(ReasonCode reason, const char* detail, bool serverDisconnected);
  void emit(const codec::Packet& packet);
  void sendPublish(const JournalRecord& record, bool dup);
  void sendAck(codec::PacketType type, std::uint16_t packetId, ReasonCode reason);
  std::uint16_t allocatePacketId();
  bool packetIdInUse(std::uint16_t packetId) const;
  std::uint16_t windowSize() const noexcept;
  std::size_t onWireCount() const noexcept;
  void journalPut(const JournalRecord& record);
  void journalErase(bool inbound, std::uint16_t packetId);

  ClientOptions options_;
  ClientJournal* journal_;
  ClientState state_ = ClientState::Disconnected;
  codec::Framer framer_;
  ServerLimits limits_;
  std::string clientId_;
  std::vector<std::uint8_t> out_;
  std::vector<ClientEvent> events_;
  bool closeRequested_ = false;

  std::map<std::uint16_t, Outbound> outbound_;  // QoS 1/2 exchanges not yet complete
  std::set<std::uint16_t> inboundQos2_;         // PUBREC sent, PUBREL not yet received
  std::map<std::uint16_t, std::uint8_t> held_;  // deferAcks: packet id -> QoS, not yet acked
  std::map<std::uint16_t, std::size_t> pendingSubscribe_;  // packet id -> filter count
  std::map<std::uint16_t, std::size_t> pendingUnsubscribe_;  // packet id -> filter count
  std::uint16_t nextPacketId_ = 1;
  std::uint64_t nextSequence_ = 1;

  std::uint64_t nowMs_ = 0;  // the latest time a caller passed in
  std::uint64_t connectSentMs_ = 0;
  std::uint64_t lastSendMs_ = 0;
  std::optional<std::uint64_t> pingSentMs_;
};

}  // namespace midge::client
