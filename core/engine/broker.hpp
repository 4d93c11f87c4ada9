// SPDX-License-Identifier: Apache-2.0
// The MQTT broker engine: sans-IO. Driven through ConnectionEvents by the port (or a test,
// a fuzzer, an embedding application); answers through Output; persists through Store;
// reads time from Clock. Owns all broker state: no globals, so tests build one directly.
//
// Typical use (see examples/embedding):
// @code
//   midge::Broker broker(config, store, output, clock, authenticator);
//   if (!broker.restore().ok()) { /* store.lastError() names the file and problem */ }
//   loop.setHandler(&broker);
// @endcode
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/codec/codec.hpp"
#include "core/engine/auth.hpp"
#include "core/engine/config.hpp"
#include "core/engine/connection.hpp"
#include "core/engine/io.hpp"
#include "core/engine/refusal.hpp"
#include "core/engine/router.hpp"
#include "core/engine/session.hpp"
#include "core/engine/session_registry.hpp"
#include "core/engine/stats.hpp"
#include "core/engine/sys_load.hpp"
#include "core/engine/tracking_store.hpp"
#include "core/engine/turn_output.hpp"
#include "core/store/store.hpp"
#include "core/topic/topic.hpp"

namespace midge {

class Broker final : public ConnectionEvents,
                     private TurnOutput::Participants,
                     private Router::Recipients {
 public:
  Broker(const EngineConfig& config, store::Store& store, Output& output, const Clock& clock,
         Authenticator& authenticator);
  ~Broker() override;
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Rebuilds sessions, subscriptions, queued and in-flight messages and retained messages
  // from the store. Call once, before the first event. On failure nothing is changed and
  // the store's lastError() says why.
  Status restore();

  void onOpen(ConnectionId id, const PeerInfo& peer) override;
  void onBytes(ConnectionId id, Bytes bytes) override;
  void onWritable(ConnectionId id) override;
  void onClose(ConnectionId id) override;
  void onTick() override;
  void endOfTurn() override;

  // Graceful stop: v5 clients get DISCONNECT 0x8B (server shutting down), all are closed.
  // Wills are not published: the clients did nothing wrong.
  void shutdown();

  // Counters kept outside the engine (the port's refused connections, TLS failures) that
  // $SYS should publish too: topic suffix under $SYS/broker/ and a value that outlives
  // the broker.
  void addSysCounter(std::string topicSuffix, const std::uint64_t* value) {
    externalCounters_.emplace_back(std::move(topicSuffix), value);
  }

  const Stats& stats() const { return stats_; }
  std::size_t connectedClients() const { return connectedClients_; }
  std::size_t sessionCount() const { return sessions_.size(); }
  std::size_t retainedCount() const { return router_.retainedCount(); }
  std::size_t subscriptionCount() const { return router_.subscriptionCount(); }
  std::size_t memoryUsed() const { return memoryUsed_; }
  std::size_t retainedBytes() const { return router_.retainedBytes(); }
  // Read by the metrics endpoint and $SYS; walks every session, so callers sample it
  // (once per scrape or sys_interval), never per message.
  struct HeldMessages {
    std::size_t inflight = 0;  // sent, awaiting the client's acknowledgement
    std::size_t queued = 0;    // waiting for the window, the socket or a reconnect
    std::size_t queuedBytes = 0;
    std::size_t sharedSubscriptions = 0;  // $share/... entries
  };
  HeldMessages heldMessages() const;

 private:
  // broker.cpp: connection events, framing, dispatch, closing; TurnOutput::Participants.
  Connection* findConnection(ConnectionId id);
  bool handleFrame(Connection& connection, const codec::Frame& frame);
  // Hands the packet to its handler and applies the refusal it returns.
  void dispatch(Connection& connection, codec::Packet& packet);
  Refused handlePacket(Connection& connection, codec::Packet& packet);
  Refused handleDisconnect(Connection& connection, const codec::Disconnect& disconnect);
  void closeConnection(Connection& connection);

  // refusal.cpp: the one place a refusal becomes the answer on the wire (answerFor), the
  // counters (countRefusal, in $SYS and /metrics) and a log line naming the client.
  void refuse(Connection& connection, const Refusal& refusal);
  std::string refusalLogLine(const Connection& connection, const Refusal& refusal) const;
  void connectionLost(Connection& connection);
  // The turn: queue* appends to the connection's turn buffer (turn_.buffer); only the
  // commit at endOfTurn and an explicit turn_.flushEarlyIfLarge hand bytes to Output.
  void queuePacket(Connection& connection, const codec::Packet& packet) {
    queuePacketAs(connection, packet, connection.version);
  }
  void queuePacketAs(Connection& connection, const codec::Packet& packet,
                     codec::ProtocolVersion version);
  void flushEarlyIfLarge(Connection& connection) {
    if (connection.state == ConnectionState::Connected) {
      turn_.flushEarlyIfLarge(connection.id, connection.turn);
    }
  }
  // TurnOutput::Participants
  TurnBuffer* turnBuffer(ConnectionId id) override;
  bool lagsBehind(ConnectionId id) const override;
  void withheld(ConnectionId id) override;
  void log(LogLevel level, const std::string& message);
  std::string describe(const Connection& connection) const;
  EngineConfig::ListenerLimits listenerLimits(int listenerIndex) const;
  topic::Limits topicLimits() const {
    topic::Limits limits;
    limits.maxLength = config_.maxTopicLength;
    limits.maxLevels = config_.maxTopicLevels;
    return limits;
  }

  // connect.cpp: each step returns the refusal that ends the CONNECT, if any.
  Refused handleConnect(Connection& connection, const codec::Connect& connect);
  Refused handleAuth(Connection& connection, const codec::Auth& auth);
  Refused checkConnect(Connection& connection, const codec::Connect& connect);
  Refused negotiateKeepAlive(Connection& connection, const codec::Connect& connect) const;
  Refused checkClientId(const codec::Connect& connect) const;
  Refused checkWill(const Connection& connection, const codec::Connect& connect) const;
  static void adoptClientLimits(Connection& connection, const codec::Properties& properties);
  static AuthRequest authRequest(const Connection& connection, const codec::Connect& connect);
  Refused authenticateConnect(Connection& connection, const codec::Connect& connect);
  Refused continueAuthentication(Connection& connection, const codec::Connect& connect,
                                 const codec::Auth& auth);
  void queueAuthContinue(Connection& connection, const AuthDecision& decision);
  Refused finishConnect(Connection& connection, const codec::Connect& connect,
                        const AuthDecision& decision);
  Refused chooseClientId(const Connection& connection, const std::optional<std::string>& username,
                         std::string& clientId, bool& assigned);
  codec::Properties connackProperties(const Connection& connection, const codec::Connect& connect,
                                      const AuthDecision& decision, const std::string& clientId,
                                      bool assigned) const;
  bool fitsClientMaximum(Connection& connection, codec::Connack& connack);
  Refused admitSession(const Connection& connection, const std::string& clientId,
                       const std::optional<std::string>& username) const;
  Session& bindSession(Connection& connection, const codec::Connect& connect,
                       const std::string& clientId, std::optional<std::string> username,
                       bool& sessionPresent);
  Session& attachSession(Connection& connection, const codec::Connect& connect,
                         std::string_view clientId, bool& sessionPresent);
  static void adoptWill(Session& session, const codec::Will& connectWill);
  void acceptConnect(Connection& connection, const codec::Connect& connect,
                     codec::Connack& connack);
  void takeOver(Session& session);
  void resumeSession(Session& session, Connection& connection);
  std::string assignClientId();
  bool admitConnectRate(const Connection& connection);

  // publish.cpp
  Refused handlePublish(Connection& connection, codec::Publish& publish);
  Refused checkPublishProtocol(Connection& connection, codec::Publish& publish);
  bool acknowledgeResentQos2(Connection& connection, const codec::Publish& publish);
  Refused admitQos2(const Connection& connection) const;
  Refused admitPublishPolicy(Connection& connection, const codec::Publish& publish);
  void takePublish(Connection& connection, const codec::Publish& publish);
  void handlePuback(Connection& connection, const codec::Ack& ack);
  void handlePubrec(Connection& connection, const codec::Ack& ack);
  void handlePubrel(Connection& connection, const codec::Ack& ack);
  void handlePubcomp(Connection& connection, const codec::Ack& ack);
  Refused resolveTopicAlias(Connection& connection, codec::Publish& publish);
  MessagePtr makeMessage(std::string_view topic, Bytes payload,
                         std::vector<std::uint8_t> properties, std::uint8_t qos, bool retain,
                         std::int64_t expiresAt, SessionIndex publisher);
  std::size_t routeMessage(const MessagePtr& message) { return router_.route(message); }
  void updateRetained(const MessagePtr& message, bool persist);
  // Router::Recipients
  bool canTakeNow(SessionIndex index) override;
  bool mayReceive(SessionIndex index, const Message& message) override;
  void deliverTo(SessionIndex index, const MessagePtr& message, std::uint8_t qos, bool retain,
                 std::vector<std::uint32_t> subscriptionIds) override;
  void queueAck(Connection& connection, codec::PacketType type, std::uint16_t packetId,
               ReasonCode reason);

  // delivery.cpp
  // Queued: through the session queue even when the client could take it now, so that a
  // burst (retained messages on SUBSCRIBE) is bounded by the queue limits.
  enum class Pacing : std::uint8_t { SendNowIfPossible, Queued };
  void deliver(Session& session, const MessagePtr& message, std::uint8_t qos, bool retain,
               std::vector<std::uint32_t> subscriptionIds,
               Pacing pacing = Pacing::SendNowIfPossible);
  // What a delivery counts against memory_limit while queued or in flight.
  static std::size_t deliveryBytes(const Message& message);
  void addInflight(Session& session, Delivery&& delivery);
  std::vector<Delivery>::iterator eraseInflight(Session& session,
                                                std::vector<Delivery>::iterator it);
  void wantsPump(Connection& connection);
  void pumpAfterFlush();
  void pumpQueue(Session& session);
  bool sendDeferredResends(Session& session, Connection& connection);
  bool queuePublish(Connection& connection, Delivery& delivery, bool dup);
  std::string_view useTopicAlias(Connection& connection, codec::Publish& publish);
  void queuePubrel(Connection& connection, std::uint16_t packetId);
  Connection* onlineConnection(const Session& session);
  std::uint16_t allocatePacketId(Session& session);
  std::size_t windowFor(const Connection& connection) const;
  bool windowFull(const Session& session, const Connection& connection) const;
  bool messageExpired(const Message& message) const;
  void persistMessage(const MessagePtr& message);
  void persistDelivery(const Session& session, const Delivery& delivery);
  void forgetDelivery(Session& session, const Delivery& delivery);
  void dropQueued(Session& session);
  bool overMemoryBudget(std::size_t extra) const;

  // subscribe.cpp
  Refused handleSubscribe(Connection& connection, const codec::Subscribe& subscribe);
  // A filter is admitted, denied with its code in the SUBACK, or ends the connection.
  struct FilterVerdict {
    bool admitted = false;
    Refused refused;
    static FilterVerdict admit() { return {true, std::nullopt}; }
    static FilterVerdict denied() { return {}; }
    static FilterVerdict refuse(Refusal refusal) { return {false, std::move(refusal)}; }
  };
  FilterVerdict checkFilter(Connection& connection, const codec::SubscribeEntry& request,
                            codec::Suback& suback);
  FilterVerdict checkFilterAllowed(Connection& connection, const codec::SubscribeEntry& request,
                                   codec::Suback& suback);
  struct RetainedRequest {
    std::string_view filter;
    SubscriptionEntry entry;
  };
  void addSubscription(Session& session, const Connection& connection,
                       const codec::SubscribeEntry& request, std::uint32_t identifier,
                       codec::Suback& suback, std::vector<RetainedRequest>& retainedRequests);
  void handleUnsubscribe(Connection& connection, const codec::Unsubscribe& unsubscribe);
  // budget: retained messages this SUBSCRIBE may still send at once; the rest are queued.
  void deliverRetained(Session& session, std::string_view filter, const SubscriptionEntry& entry,
                    std::size_t& budget);
  void removeAllSubscriptions(Session& session);

  // lifecycle.cpp: sessions, wills, time.
  // Ends a session for good: its pending will, subscriptions and queue, then its record.
  void destroySession(Session& session);
  void scheduleWill(Session& session);
  void publishWill(Session& session);
  void checkKeepAlive(std::uint64_t nowMs);
  void expireSessions(std::uint64_t nowMs);
  void fireDueWills(std::uint64_t nowMs);

  // sys_topics.cpp
  void publishSysTopics(std::uint64_t nowMs);
  void publishSys(std::string_view topic, std::string_view value);
  void publishSysLoad(std::uint64_t nowMs);
  void publishSysRefusals();
  void addMemory(std::size_t bytes) {
    memoryUsed_ += bytes;
    if (memoryUsed_ > stats_.memoryMaximum) stats_.memoryMaximum = memoryUsed_;
  }

  // restore.cpp
  using RestoredMessages = std::unordered_map<std::uint64_t, MessagePtr>;
  RestoredMessages restoreMessages(std::vector<store::MessageRecord>& records);
  void restoreSession(const store::SessionRecord& record);
  void restoreSubscription(const store::SubscriptionRecord& record);
  void restoreDelivery(store::DeliveryRecord& record, const RestoredMessages& messages);
  void restoreRetained(const store::RetainedRecord& record, const RestoredMessages& messages);
  void resyncStore() override;
  // The session's records were touched by a turn whose commit failed, and not yet rewritten.
  bool storeLagsBehind(const Connection& connection) const;

  EngineConfig config_;
  TrackingStore store_;
  Output& output_;
  const Clock& clock_;
  Authenticator& authenticator_;

  std::unordered_map<ConnectionId, std::unique_ptr<Connection>> connections_;
  SessionRegistry sessions_;
  Router router_{*this, config_.upgradeOutgoingQos};

  std::vector<ConnectionId> pumpAfterFlush_;
  std::vector<ConnectionId> pendingCloses_;
  std::vector<std::uint8_t> scratch_;

  struct ConnectRate {
    std::uint64_t second = 0;
    std::uint32_t count = 0;
  };
  std::map<std::string, ConnectRate, std::less<>> connectRates_;

  std::uint64_t nextMessageId_ = 1;
  std::uint64_t assignedIdCounter_ = 0;
  std::uint64_t startedAtMs_ = 0;
  std::uint64_t nextHousekeepingMs_ = 0;
  std::uint64_t nextSysMs_ = 0;
  std::vector<std::pair<std::string, const std::uint64_t*>> externalCounters_;
  SysLoad sysLoad_;
  std::size_t connectedClients_ = 0;
  std::size_t memoryUsed_ = 0;
  Stats stats_;
  TurnOutput turn_;  // after the store, output and stats it refers to
};

}  // namespace midge
