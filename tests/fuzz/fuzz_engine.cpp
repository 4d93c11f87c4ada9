// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over a whole Broker engine: several connections, the clock, congestion,
// store failures and restarts over one MemoryStore, driven by the operation language of
// engine_ops.hpp. Beyond "no crash, no leak, no sanitizer report" it checks, through
// engine_model.hpp, that everything the engine sends is a valid packet for the
// connection's version that answers something the client sent, that nothing goes to a
// connection after close() or onClose, and after every turn that each request on a
// connection still open was answered and the broker's counters agree with the clients.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec/codec.hpp"
#include "core/engine/auth.hpp"
#include "core/engine/broker.hpp"
#include "persistence/memory/memory_store.hpp"
#include "tests/fuzz/engine_model.hpp"
#include "tests/fuzz/engine_ops.hpp"

namespace midge::fuzz {
namespace {

using codec::ProtocolVersion;

constexpr std::size_t kMaxOps = 4096;
constexpr std::size_t kSlots = 8;

// Reads the input front to back; past the end every read is zero.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return offset_ >= size_; }
  std::uint8_t u8() { return offset_ < size_ ? data_[offset_++] : 0; }
  Bytes take(std::size_t count) {
    const std::size_t available = size_ - (offset_ < size_ ? offset_ : size_);
    if (count > available) count = available;
    Bytes bytes(data_ + offset_, count);
    offset_ += count;
    return bytes;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
};

template <typename T, std::size_t N>
const T& pick(const T (&table)[N], unsigned index) {
  return table[index % N];
}

class FuzzClock final : public Clock {
 public:
  std::uint64_t monotonicMs() const override { return ms; }
  std::int64_t wallSeconds() const override {
    return wallBase + static_cast<std::int64_t>(ms / 1000);
  }
  void advance(std::uint64_t seconds) { ms += seconds * 1000; }
  std::uint64_t ms = 5000;
  std::int64_t wallBase = 1'700'000'000;
};

// Refuses some users, client ids, topics and filters, and runs a two-step enhanced
// authentication for method "m", so that every refusal path of the engine is reachable.
class DenySomeAuthenticator final : public Authenticator {
 public:
  AuthDecision authenticate(const AuthRequest& request) override {
    if (request.identity.username && *request.identity.username == "bad") {
      return {ReasonCode::BadUserNameOrPassword, std::nullopt, {}};
    }
    if (request.password && asStringView(*request.password) == "wrong") {
      return {ReasonCode::BadUserNameOrPassword, std::nullopt, {}};
    }
    if (request.identity.clientId.substr(0, 6) == "banned") {
      return {ReasonCode::NotAuthorized, std::nullopt, {}};
    }
    if (request.method) {
      if (*request.method != "m") return {ReasonCode::BadAuthenticationMethod, std::nullopt, {}};
      return step(request);
    }
    AuthDecision decision;
    if (request.identity.username && *request.identity.username == "admin") {
      decision.usernameOverride = "root";
    }
    return decision;
  }
  AuthDecision continueAuthentication(const AuthRequest& request) override {
    return step(request);
  }
  bool allowPublish(const ClientIdentity&, std::string_view topic) override {
    return topic.substr(0, 4) != "deny";
  }
  bool allowSubscribe(const ClientIdentity&, std::string_view filter) override {
    return filter.substr(0, 4) != "deny";
  }
  bool allowReceive(const ClientIdentity& who, std::string_view topic) override {
    return topic.substr(0, 6) != "secret" || (who.username && *who.username == "root");
  }

 private:
  static AuthDecision step(const AuthRequest& request) {
    const std::string_view data = request.data ? asStringView(*request.data) : "";
    if (data == "ok") return {ReasonCode::Success, std::nullopt, "welcome"};
    if (data.empty() || data == "more") {
      return {ReasonCode::ContinueAuthentication, std::nullopt, "challenge"};
    }
    return {ReasonCode::NotAuthorized, std::nullopt, {}};
  }
};

EngineConfig makeConfig(std::uint8_t config0, std::uint8_t config1) {
  EngineConfig config;
  if ((config0 & kSmallLimits) != 0) {
    config.maxInflightMessages = 2;
    config.maxQueuedMessages = 3;
    config.maxQueuedBytes = 256;
    config.memoryLimit = 4096;
    config.messageSizeLimit = 300;
    config.maxPacketSize = 600;
    config.maxTopicLevels = 4;
    config.maxTopicLength = 24;
    config.maxTopicAlias = 2;
  }
  if ((config0 & kListenerLimits) != 0) {
    config.listeners = {{2, 10}, {1, 2}, {0, 0}};
  }
  config.retainAvailable = (config0 & kNoRetain) == 0;
  if ((config0 & kMaxKeepalive) != 0) config.maxKeepalive = 30;
  config.queueQos0Messages = (config0 & kQueueQos0) != 0;
  config.upgradeOutgoingQos = (config0 & kUpgradeQos) != 0;
  if ((config0 & kPersistentExpiry) != 0) config.persistentClientExpiration = 60;
  config.sysIntervalSeconds = (config1 & kSysEverySecond) != 0 ? 1 : 0;
  config.allowZeroLengthClientId = (config1 & kNoZeroLengthId) == 0;
  if ((config1 & kConnectRate) != 0) config.maxConnectRatePerSecond = 2;
  config.connectionMessages = (config1 & kQuietConnections) == 0;
  if ((config1 & kUnlimited) != 0) {
    config.maxInflightMessages = 0;
    config.maxQueuedMessages = 0;
    // The byte limit keeps memory per input bounded (a day of $SYS ticks would queue
    // hundreds of thousands of messages otherwise).
    config.maxQueuedBytes = 1 << 20;
  }
  if ((config1 & kSmallBeforeConnect) != 0) config.maxPacketSizeBeforeConnect = 64;
  config.connectTimeoutMs = 10000;
  return config;
}

// --- packet templates -------------------------------------------------------------------

const char* const kClientIds[] = {"a", "b", "c", "d", "", "banned1", "x/y", "auto-1"};
const char* const kUsernames[] = {"u", "bad", "admin", "guest"};
const char* const kTopics[] = {"a/b", "a/b/c", "a", "deny/x", "secret/x", "$SYS/x",
                               "a/+", "", "x/y/z/w/v", "b", "a/c", "$share/g/a",
                               "sport/tennis/player1/score/wimbledon", "a//b", "/", "a/b"};
const char* const kFilters[] = {"a/b", "a/+", "#", "+/b", "a/#", "$share/g/a/b",
                                "$share/g/#", "$SYS/#", "deny/#", "secret/#", "a/#/b", "",
                                "+", "$share/g", "x/y/z/w/v", "+/+/+"};
constexpr std::uint32_t kNone = 0xFFFFFFFEu;  // "property absent" in the tables below
const std::uint32_t kSessionExpiry[] = {kNone, 0, 1, 10, 60, 3600, 0xFFFFFFFFu, 5};
const std::uint16_t kKeepAlive[] = {0, 1, 10, 60};
const std::uint32_t kReceiveMaximum[] = {kNone, 1, 2, 65535};
const std::uint32_t kMaxPacketSize[] = {kNone, 24, 64, 512};
const std::uint32_t kWillDelay[] = {kNone, 0, 1, 5, 30, 120, 2, 3600};
const std::size_t kPayloadSizes[] = {0, 1, 3, 10, 40, 200, 1000, 5};
const std::uint16_t kAliases[] = {1, 2, 3, 11};
const std::uint32_t kMessageExpiry[] = {1, 2, 30, 3};
const std::uint32_t kSubscriptionIds[] = {1, 2, 3, 7, 100, 268435455, 5, 6};
const std::uint8_t kAckReasons[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x91, 0x92, 0x97};
const std::uint8_t kDisconnectReasons[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x8E, 0x93, 0x98};
const std::uint32_t kDisconnectExpiry[] = {kNone, 0, 5, 60, 0xFFFFFFFFu, kNone, 1, kNone};
const std::uint64_t kTickSeconds[] = {0, 1, 1, 2, 3, 5, 9, 10, 16, 31, 46, 61, 91, 301, 3601, 86401};
const std::uint64_t kDowntime[] = {0, 1, 5, 30, 61, 3600, 86400, 2};
const char* const kAddresses[] = {"10.0.0.1:1000", "10.0.0.1:1001", "10.0.0.2:2000", "[::1]:3000"};

const std::uint8_t kInvalidUtf8[] = {0xC3, 0x28, 0xFF, 0xFE, 0x00};

const char* opName(Op op) {
  static const char* const names[] = {"open", "close", "raw", "connect", "subscribe",
                                      "unsubscribe", "publish", "ack", "ping", "disconnect",
                                      "auth", "tick", "congestion", "fail-commit", "restart",
                                      "misc"};
  return names[static_cast<unsigned>(op) & 15u];
}

ProtocolVersion versionFrom(unsigned bits) {
  switch (bits & 3u) {
    case 0: return ProtocolVersion::V31;
    case 1: return ProtocolVersion::V311;
    default: return ProtocolVersion::V5;
  }
}

class Driver {
 public:
  Driver(const std::uint8_t* data, std::size_t size) : in_(data, size) {
    const std::uint8_t config0 = in_.u8();
    const std::uint8_t config1 = in_.u8();
    const char* strict = std::getenv("MIDGE_FUZZ_STRICT");
    output_.strict = strict != nullptr && *strict == '1';
    const char* trace = std::getenv("MIDGE_FUZZ_TRACE");
    output_.trace = trace != nullptr && *trace == '1';
    config_ = makeConfig(config0, config1);
    output_.maxInflight = config_.maxInflightMessages;
    if ((config0 & kDenySomeAuth) != 0) {
      authenticator_ = std::make_unique<DenySomeAuthenticator>();
    } else {
      authenticator_ = std::make_unique<AllowAllAuthenticator>();
    }
    payload_.resize(1000);
    for (std::size_t i = 0; i < payload_.size(); ++i) {
      payload_[i] = static_cast<std::uint8_t>('a' + i % 26);
    }
    buildBroker();
  }

  void run() {
    for (std::size_t ops = 0; ops < kMaxOps && !in_.empty(); ++ops) {
      reportCloses();
      const std::uint8_t op = in_.u8();
      if (output_.trace) {
        std::fprintf(stderr, "op %s slot %u%s\n", opName(static_cast<Op>(op & 0x0F)),
                     (op >> 4) & 7u, (op & kVariant) != 0 ? " (variant)" : "");
      }
      step(op);
      checkInvariants();
    }
    broker_.reset();  // a crash at the end: destructors must free everything
  }

 private:
  struct Slot {
    bool active = false;
    ConnectionId id = 0;
    bool held = false;
    std::vector<std::uint8_t> heldBytes;
    std::uint16_t nextPacketId = 1;
    std::vector<std::uint16_t> usedIds;  // ids this client put on QoS 1/2 PUBLISH
  };

  // --- engine lifecycle -------------------------------------------------------------------

  void buildBroker() {
    output_.reset();
    for (Slot& slot : slots_) slot = Slot{};
    broker_ = std::make_unique<Broker>(config_, store_, output_, clock_, *authenticator_);
    if (!broker_->restore().ok()) {
      // Only an injected commit failure can do that; the next attempt must succeed.
      broker_ = std::make_unique<Broker>(config_, store_, output_, clock_, *authenticator_);
      if (!broker_->restore().ok()) violation("restore() failed twice over a memory store");
    }
    if (broker_->connectedClients() != 0) violation("clients connected right after restore()");
  }

  void restart(std::uint8_t arg) {
    if (batching_) {
      // MemoryStore cannot roll back a turn, so a crash lands between turns.
      batching_ = false;
      endTurn();
    }
    if ((arg & 1u) != 0) {
      broker_->shutdown();
      for (Slot& slot : slots_) {
        if (!slot.active) continue;
        ConnectionModel* model = output_.find(slot.id);
        if (model != nullptr && !model->closeRequested) {
          violation("shutdown() left a connection open", slot.id);
        }
        closeSlot(slot);
      }
    }
    broker_.reset();
    clock_.advance(pick(kDowntime, arg >> 1));
    buildBroker();
  }

  // --- driving connections ------------------------------------------------------------------

  void endTurn() {
    if (batching_) return;
    broker_->endOfTurn();
    output_.turnEnded();
    checkTurnInvariants();
  }

  void openSlot(Slot& slot, std::uint8_t peerByte) {
    if (slot.active) closeSlot(slot);
    slot = Slot{};
    slot.active = true;
    slot.id = nextConnectionId_++;
    PeerInfo peer;
    peer.address = pick(kAddresses, peerByte);
    peer.listenerIndex = (peerByte >> 2) & 3;
    peer.listenerPort = static_cast<std::uint16_t>(1883 + peer.listenerIndex);
    peer.tls = (peerByte & 0x10) != 0;
    if ((peerByte & 0x20) != 0) peer.certIdentity = "device-7";
    output_.opened(slot.id);
    broker_->onOpen(slot.id, peer);
    endTurn();
  }

  void closeSlot(Slot& slot) {
    if (!slot.active) return;
    slot.active = false;
    if (ConnectionModel* model = output_.find(slot.id)) model->open = false;
    output_.congestedIds.erase(slot.id);
    broker_->onClose(slot.id);
    endTurn();
  }

  // The port reports closes the engine asked for (it stops reading at close()).
  void reportCloses() {
    if (deferCloses_) return;
    for (Slot& slot : slots_) {
      ConnectionModel* model = slot.active ? output_.find(slot.id) : nullptr;
      if (model != nullptr && model->closeRequested) closeSlot(slot);
    }
  }

  Slot& activeSlot(unsigned index) {
    Slot& slot = slots_[index % kSlots];
    if (!slot.active) openSlot(slot, 0);
    return slot;
  }

  ProtocolVersion versionOf(const Slot& slot) {
    const ConnectionModel* model = output_.find(slot.id);
    return model != nullptr ? model->version : ProtocolVersion::V311;
  }

  void deliver(Slot& slot, Bytes bytes) {
    if (!slot.active || bytes.empty()) return;
    ConnectionModel* model = output_.find(slot.id);
    if (model == nullptr || model->closeRequested) return;
    output_.clientSends(*model, bytes);
    broker_->onBytes(slot.id, bytes);
    endTurn();
  }

  void feed(Slot& slot, Bytes bytes, std::size_t chunk) {
    if (slot.held) {
      slot.heldBytes.insert(slot.heldBytes.end(), bytes.begin(), bytes.end());
      return;
    }
    if (chunk == 0) chunk = bytes.size();
    for (std::size_t offset = 0; offset < bytes.size(); offset += chunk) {
      const std::size_t n = bytes.size() - offset < chunk ? bytes.size() - offset : chunk;
      deliver(slot, bytes.subspan(offset, n));
    }
  }

  void sendPacket(Slot& slot, const codec::Packet& packet, ProtocolVersion version,
                  std::size_t chunk) {
    std::vector<std::uint8_t> bytes;
    if (!codec::encodePacket(packet, version, bytes).ok()) return;
    feed(slot, Bytes(bytes.data(), bytes.size()), chunk);
  }

  Bytes payloadFor(std::uint8_t bits) const {
    if ((bits & 0x08) != 0) return Bytes(kInvalidUtf8);
    return Bytes(payload_.data(), pick(kPayloadSizes, bits & 7u));
  }

  // Payloads of 5 bytes or more carry a marker that tells messages apart (engine_model.hpp
  // checkExactlyOnce); a QoS 2 resend with DUP repeats the marker of the message it resends.
  void markPayload(Slot& slot, codec::Publish& publish) {
    if (publish.payload.size() < CheckingOutput::kMarkerSize ||
        publish.payload.data() != payload_.data()) {
      return;
    }
    const ConnectionModel* model = output_.find(slot.id);
    const std::string clientId = model != nullptr ? model->clientId : std::string();
    std::uint32_t marker = nextMarker_++ & 0xFFFFu;
    if (publish.qos == 2 && !clientId.empty()) {
      const auto key = std::make_pair(clientId, publish.packetId);
      auto open = output_.openQos2.find(key);
      if (publish.dup && open != output_.openQos2.end()) {
        marker = open->second;
      } else {
        output_.openQos2[key] = marker;
      }
    }
    markedPayload_.assign(publish.payload.begin(), publish.payload.end());
    CheckingOutput::writeMarker(marker, markedPayload_.data());
    publish.payload = Bytes(markedPayload_.data(), markedPayload_.size());
  }

  std::uint16_t freshId(Slot& slot) {
    if (slot.nextPacketId == 0) slot.nextPacketId = 1;
    return slot.nextPacketId++;
  }

  // bit 7: one of the candidates (what the model says is plausible); else a literal id,
  // 0 meaning a fresh one.
  std::uint16_t packetId(Slot& slot, std::uint8_t selector,
                         const std::vector<std::uint16_t>& candidates) {
    if ((selector & 0x80) != 0 && !candidates.empty()) {
      return candidates[(selector & 0x7Fu) % candidates.size()];
    }
    const auto literal = static_cast<std::uint16_t>(selector & 0x7F);
    return literal == 0 ? freshId(slot) : literal;
  }

  // --- the operations ----------------------------------------------------------------------

  void step(std::uint8_t opByte) {
    const auto op = static_cast<Op>(opByte & 0x0F);
    const unsigned slotIndex = (opByte >> 4) & 7u;
    const bool variant = (opByte & kVariant) != 0;
    switch (op) {
      case Op::Open: openSlot(slots_[slotIndex], in_.u8()); return;
      case Op::Close: closeSlot(slots_[slotIndex]); return;
      case Op::Raw: {
        std::size_t length = in_.u8();
        if (variant) length = (length << 8 | in_.u8()) & 0x0FFF;
        Slot& slot = activeSlot(slotIndex);
        feed(slot, in_.take(length), 0);
        return;
      }
      case Op::Tick: tick(in_.u8(), variant); return;
      case Op::Congestion: congestion(slots_[slotIndex], variant); return;
      case Op::FailCommit: store_.failNextCommit(); return;
      case Op::Restart: restart(in_.u8()); return;
      case Op::Misc: misc(slots_[slotIndex], in_.u8()); return;
      default: break;
    }
    // Packet templates: arguments first, then the optional chunk size.
    Slot& slot = activeSlot(slotIndex);
    std::optional<codec::Packet> packet;
    ProtocolVersion version = versionOf(slot);
    switch (op) {
      case Op::Connect: packet = buildConnect(version); break;
      case Op::Subscribe: packet = buildSubscribe(slot); break;
      case Op::Unsubscribe: packet = buildUnsubscribe(slot); break;
      case Op::Publish: packet = buildPublish(slot, version); break;
      case Op::Ack: packet = buildAck(slot); break;
      case Op::Ping: packet = codec::Pingreq{}; break;
      case Op::Disconnect: packet = buildDisconnect(); break;
      default: packet = buildAuth(); break;
    }
    const std::size_t chunk = variant ? (in_.u8() & 0x0Fu) + 1 : 0;
    if (op == Op::Auth && version != ProtocolVersion::V5) {
      // The reserved packet type before v5: the engine must close, not decode it.
      const std::uint8_t reserved[] = {0xF0, 0x00};
      feed(slot, Bytes(reserved), chunk);
      return;
    }
    sendPacket(slot, *packet, version, chunk);
  }

  codec::Packet buildConnect(ProtocolVersion& version) {
    const std::uint8_t p0 = in_.u8();
    const std::uint8_t p1 = in_.u8();
    codec::Connect connect;
    connect.version = versionFrom(p0);
    version = connect.version;
    const bool v5 = version == ProtocolVersion::V5;
    connect.cleanStart = (p0 & 0x04) != 0;
    connect.clientId = pick(kClientIds, p1);
    connect.keepAlive = pick(kKeepAlive, p1 >> 3);
    const unsigned user = p1 >> 6;
    if ((p0 & 0x80) != 0) connect.username = kUsernames[user];
    if ((p1 & 0x20) != 0) connect.password = asBytes(user == 3 ? "wrong" : "pw");
    std::uint8_t p3 = 0;
    if (v5) {
      const std::uint8_t p2 = in_.u8();
      p3 = in_.u8();
      codec::Properties& properties = connect.properties;
      if (pick(kSessionExpiry, p2) != kNone) properties.sessionExpiryInterval = pick(kSessionExpiry, p2);
      if (pick(kReceiveMaximum, p2 >> 3) != kNone) {
        properties.receiveMaximum = static_cast<std::uint16_t>(pick(kReceiveMaximum, p2 >> 3));
      }
      if (pick(kMaxPacketSize, p2 >> 5) != kNone) properties.maximumPacketSize = pick(kMaxPacketSize, p2 >> 5);
      if ((p2 & 0x80) != 0) properties.topicAliasMaximum = 2;
      switch (p3 & 3u) {
        case 1: properties.authenticationMethod = "m"; break;
        case 2:
          properties.authenticationMethod = "m";
          properties.authenticationData = asBytes("ok");
          break;
        case 3: properties.authenticationMethod = "x"; break;
        default: break;
      }
      if ((p3 & 0x40) != 0) properties.requestProblemInformation = 0;
      if ((p3 & 0x80) != 0) properties.userProperties.emplace_back("k", "v");
    }
    if ((p0 & 0x08) != 0) {
      const std::uint8_t p4 = in_.u8();
      codec::Will will;
      will.topic = pick(kTopics, p4);
      will.payload = payloadFor(static_cast<std::uint8_t>(p4 >> 4));
      will.qos = static_cast<std::uint8_t>((p0 >> 4) & 3u);
      will.retain = (p0 & 0x40) != 0;
      if (v5) {
        const std::uint32_t delay = pick(kWillDelay, p3 >> 2);
        if (delay != kNone) will.properties.willDelayInterval = delay;
        if ((p3 & 0x20) != 0) will.properties.messageExpiryInterval = 2;
        if ((p3 & 0x80) != 0) will.properties.contentType = "text/plain";
      }
      connect.will = will;
    }
    return connect;
  }

  codec::Packet buildSubscribe(Slot& slot) {
    const std::uint8_t p0 = in_.u8();
    const std::uint8_t p1 = in_.u8();
    codec::Subscribe subscribe;
    subscribe.packetId = packetId(slot, p1, {});
    if ((p0 & 0x10) != 0) {
      subscribe.properties.subscriptionIdentifiers.push_back(pick(kSubscriptionIds, p0 >> 5));
    }
    const unsigned count = (p0 & 3u) + 1;
    const auto retainHandling = static_cast<std::uint8_t>(((p0 >> 2) & 3u) << 4);
    for (unsigned i = 0; i < count; ++i) {
      const std::uint8_t entry = in_.u8();
      const auto options = static_cast<std::uint8_t>(((entry >> 4) & 0x03) |
                                                     ((entry & 0x40) != 0 ? 0x04 : 0) |
                                                     ((entry & 0x80) != 0 ? 0x08 : 0) |
                                                     retainHandling);
      subscribe.entries.push_back({pick(kFilters, entry), options});
    }
    return subscribe;
  }

  codec::Packet buildUnsubscribe(Slot& slot) {
    const std::uint8_t p0 = in_.u8();
    const std::uint8_t p1 = in_.u8();
    codec::Unsubscribe unsubscribe;
    unsubscribe.packetId = packetId(slot, p1, {});
    const unsigned count = (p0 & 3u) + 1;
    for (unsigned i = 0; i < count; ++i) unsubscribe.filters.push_back(pick(kFilters, in_.u8()));
    return unsubscribe;
  }

  codec::Packet buildPublish(Slot& slot, ProtocolVersion version) {
    const std::uint8_t p0 = in_.u8();
    const std::uint8_t p1 = in_.u8();
    const std::uint8_t p2 = in_.u8();
    codec::Publish publish;
    publish.topic = pick(kTopics, p0);
    publish.qos = static_cast<std::uint8_t>(((p0 >> 4) & 3u) % 3);
    publish.retain = (p0 & 0x40) != 0;
    publish.dup = (p0 & 0x80) != 0 && publish.qos > 0;
    if (publish.qos > 0) {
      publish.packetId = packetId(slot, p1, slot.usedIds);
      slot.usedIds.push_back(publish.packetId);
      if (slot.usedIds.size() > 16) slot.usedIds.erase(slot.usedIds.begin());
    }
    publish.payload = payloadFor(p2);
    markPayload(slot, publish);
    if (version == ProtocolVersion::V5 && (p2 & 0xF0) != 0) {
      codec::Properties& properties = publish.properties;
      const std::uint8_t p3 = (p2 & 0xE0) != 0 ? in_.u8() : 0;
      if ((p2 & 0x10) != 0) properties.payloadFormatIndicator = 1;
      if ((p2 & 0x20) != 0) properties.messageExpiryInterval = pick(kMessageExpiry, p3 >> 2);
      if ((p2 & 0x40) != 0) properties.topicAlias = pick(kAliases, p3);
      if ((p2 & 0x80) != 0) {
        if ((p3 & 0x10) != 0) properties.subscriptionIdentifiers.push_back(1);
        if ((p3 & 0x20) != 0) {
          properties.responseTopic = "reply/a";
          properties.correlationData = asBytes("42");
        }
        if ((p3 & 0x40) != 0) properties.userProperties.emplace_back("k", "v");
        if ((p3 & 0x80) != 0) properties.contentType = "text/plain";
      }
    }
    return publish;
  }

  codec::Packet buildAck(Slot& slot) {
    using Stage = ConnectionModel::Stage;
    const std::uint8_t p0 = in_.u8();
    const std::uint8_t p1 = in_.u8();
    codec::Ack ack;
    std::vector<std::uint16_t> candidates;
    const ConnectionModel* model = output_.find(slot.id);
    switch (p0 & 3u) {
      case 0:
        ack.type = codec::PacketType::Puback;
        if (model != nullptr) candidates = model->outboundIn(Stage::AwaitPuback);
        break;
      case 1:
        ack.type = codec::PacketType::Pubrec;
        if (model != nullptr) candidates = model->outboundIn(Stage::AwaitPubrec);
        break;
      case 2:
        ack.type = codec::PacketType::Pubrel;
        if (model != nullptr) {
          candidates.assign(model->pubrecReceived.begin(), model->pubrecReceived.end());
        }
        break;
      default:
        ack.type = codec::PacketType::Pubcomp;
        if (model != nullptr) candidates = model->outboundIn(Stage::AwaitPubcomp);
        break;
    }
    ack.packetId = packetId(slot, p1, candidates);
    ack.reason = static_cast<ReasonCode>(pick(kAckReasons, p0 >> 2));
    if ((p0 & 0x20) != 0) ack.properties.reasonString = "why";
    if ((p0 & 0x40) != 0) ack.properties.userProperties.emplace_back("k", "v");
    return ack;
  }

  codec::Packet buildDisconnect() {
    const std::uint8_t p0 = in_.u8();
    codec::Disconnect disconnect;
    disconnect.reason = static_cast<ReasonCode>(pick(kDisconnectReasons, p0));
    const std::uint32_t expiry = pick(kDisconnectExpiry, p0 >> 3);
    if (expiry != kNone) disconnect.properties.sessionExpiryInterval = expiry;
    if ((p0 & 0x40) != 0) disconnect.properties.reasonString = "bye";
    return disconnect;
  }

  codec::Packet buildAuth() {
    const std::uint8_t p0 = in_.u8();
    codec::Auth auth;
    const ReasonCode reasons[] = {ReasonCode::ContinueAuthentication, ReasonCode::Success,
                                  ReasonCode::ReAuthenticate, ReasonCode::ContinueAuthentication};
    auth.reason = pick(reasons, p0);
    const char* const methods[] = {"m", "x", nullptr, "m"};
    if (const char* method = pick(methods, p0 >> 2)) auth.properties.authenticationMethod = method;
    const char* const data[] = {"ok", "more", "bad", nullptr};
    if (const char* value = pick(data, p0 >> 4)) auth.properties.authenticationData = asBytes(value);
    return auth;
  }

  void tick(std::uint8_t arg, bool oneSecondSteps) {
    const std::uint64_t seconds = pick(kTickSeconds, arg);
    if (!oneSecondSteps) {
      clock_.advance(seconds);
      broker_->onTick();
      endTurn();
      return;
    }
    const std::uint64_t steps = seconds < 120 ? seconds : 120;
    for (std::uint64_t i = 0; i < steps; ++i) {
      clock_.advance(1);
      broker_->onTick();
      endTurn();
      reportCloses();
    }
  }

  void congestion(Slot& slot, bool spuriousWritable) {
    if (!slot.active) return;
    if (!spuriousWritable && output_.congestedIds.insert(slot.id).second) return;
    output_.congestedIds.erase(slot.id);
    broker_->onWritable(slot.id);
    endTurn();
  }

  void misc(Slot& slot, std::uint8_t arg) {
    switch (static_cast<MiscOp>(arg % 5)) {
      case MiscOp::ToggleBatch:
        batching_ = !batching_;
        endTurn();
        return;
      case MiscOp::ToggleHold: {
        if (!slot.active) return;
        slot.held = !slot.held;
        if (slot.held) return;
        std::vector<std::uint8_t> bytes = std::move(slot.heldBytes);
        slot.heldBytes.clear();
        deliver(slot, Bytes(bytes.data(), bytes.size()));
        return;
      }
      case MiscOp::WallForward: clock_.wallBase += 3600; return;
      case MiscOp::WallBack: clock_.wallBase -= 100; return;
      case MiscOp::ToggleDeferCloses: deferCloses_ = !deferCloses_; return;
    }
  }

  // --- invariants ---------------------------------------------------------------------------

  void checkInvariants() {
    const Broker& broker = *broker_;
    std::size_t open = 0;
    for (const auto& entry : output_.connections) {
      if (entry.second.open) ++open;
    }
    if (broker.connectedClients() > open) {
      violation("connectedClients() exceeds the open connections", 0,
                std::to_string(broker.connectedClients()) + " > " + std::to_string(open));
    }
    if (broker.connectedClients() > broker.sessionCount()) {
      violation("more connected clients than sessions");
    }
    // Accounting that went below zero shows up as a huge unsigned value.
    if (broker.memoryUsed() > (std::size_t{1} << 40)) {
      violation("memoryUsed() underflowed", 0, std::to_string(broker.memoryUsed()));
    }
    if (broker.sessionCount() == 0 && broker.retainedCount() == 0 && broker.memoryUsed() != 0) {
      violation("memoryUsed() is not 0 with no session and no retained message", 0,
                std::to_string(broker.memoryUsed()));
    }
    if (broker.stats().bytesSent != output_.bytesSent) {
      violation("stats().bytesSent differs from the bytes the clients received");
    }
  }

  void checkTurnInvariants() {
    std::size_t live = 0;
    for (const auto& entry : output_.connections) {
      const ConnectionModel& model = entry.second;
      if (!model.open || model.closeRequested) continue;
      if (model.hasUnansweredRequest()) {
        violation("a request is unanswered at the end of the turn on an open connection",
                  model.id);
      }
      if (model.accepted) ++live;
    }
    if (broker_->connectedClients() < live) {
      violation("connectedClients() is below the accepted connections still open", 0,
                std::to_string(broker_->connectedClients()) + " < " + std::to_string(live));
    }
  }

  Input in_;
  EngineConfig config_;
  FuzzClock clock_;
  CheckingOutput output_;
  store::MemoryStore store_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<Broker> broker_;
  Slot slots_[kSlots];
  ConnectionId nextConnectionId_ = 1;
  std::vector<std::uint8_t> payload_;
  std::vector<std::uint8_t> markedPayload_;
  std::uint32_t nextMarker_ = 1;
  bool batching_ = false;
  bool deferCloses_ = false;
};

}  // namespace
}  // namespace midge::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  midge::fuzz::Driver driver(data, size);
  driver.run();
  return 0;
}
