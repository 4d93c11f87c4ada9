// SPDX-License-Identifier: Apache-2.0
// Engine settings. The broker/ maps mosquitto.conf keywords onto these; defaults follow
// Mosquitto 2.x so an operator's expectations carry over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/codec/framer.hpp"

namespace midge {

// The framer limit for a configured max_packet_size (0: the protocol maximum). The engine
// and the WebSockets framing of the port layer both size their buffers with it.
constexpr std::size_t inboundPacketLimit(std::uint32_t maxPacketSize) noexcept {
  return maxPacketSize != 0 ? maxPacketSize : codec::kMaxWirePacketSize;
}

struct EngineConfig {
  // Outgoing window per client (min with the client's Receive Maximum), and the Receive
  // Maximum we announce for QoS 1/2 PUBLISH from clients. Mosquitto: max_inflight_messages.
  std::uint16_t maxInflightMessages = 20;
  // Payload bytes in flight per client beyond which new QoS 1/2 messages wait in the queue;
  // 0: no limit. Mosquitto's max_inflight_bytes.
  std::size_t maxInflightBytes = 0;
  // Per-session queue of messages not yet in flight; 0 means unlimited (not advised).
  std::size_t maxQueuedMessages = 1000;
  std::size_t maxQueuedBytes = 0;
  // Whole-packet limit for packets from clients (0: the protocol maximum, 256 MiB). Checked
  // from the fixed header before the body is buffered, so it bounds what one connection
  // can make us hold. 0 would let each connection pin 256 MiB on a 64 MiB router; 1 MiB
  // is EMQX's default and fits firmware-sized payloads.
  std::uint32_t maxPacketSize = 1024 * 1024;
  // Before CONNECT is accepted nobody is authenticated: cap what an anonymous socket can
  // make us buffer. Mosquitto's 100000 bytes (FlashMQ uses 1 MB), also the default of the
  // broker's max_unauthenticated_packet_size. 0: only maxPacketSize applies.
  std::uint32_t maxPacketSizeBeforeConnect = 100000;
  // PUBLISH payloads larger than this are refused (0: no limit). Mosquitto's
  // message_size_limit.
  std::uint32_t messageSizeLimit = 0;
  std::uint16_t maxKeepalive = 65535;
  bool retainAvailable = true;
  std::uint8_t maxQos = 2;
  std::uint16_t maxTopicAlias = 10;
  bool queueQos0Messages = false;
  bool upgradeOutgoingQos = false;
  // Upper bound on the session expiry of MQTT 3.x persistent sessions (which never expire
  // by the protocol) and of v5 sessions. Empty: no bound.
  std::optional<std::uint32_t> persistentClientExpiration;
  // Without persistentClientExpiration, the expiry of MQTT 3.x sessions with clean session
  // 0: a device that never comes back must not keep its queue forever. 0: never expire.
  std::uint32_t defaultV3SessionExpiry = 30 * 24 * 3600;
  // Budget for queued payloads plus retained messages together; 0: no budget.
  std::size_t memoryLimit = 0;
  std::size_t maxTopicLength = 65535;
  // Mosquitto hard-codes 200; matching is recursive over levels, so the bound keeps a hostile
  // filter from costing unbounded stack and time. 0: no limit.
  std::size_t maxTopicLevels = 200;
  // Topic aliases we assign toward one client, whatever its Topic Alias Maximum: each one
  // keeps a topic string for the life of the connection.
  std::uint16_t maxOutboundTopicAliases = 32;
  // Sessions in all, online and offline; a new client id beyond it is refused with 0x97
  // (v5) or "server unavailable" (3.x). 0: no limit.
  std::size_t maxSessions = 100000;
  // Subscriptions one session may hold; beyond it SUBACK says 0x97 (v5) or 0x80 (3.1.1).
  // 0: no limit.
  std::size_t maxSubscriptionsPerClient = 1000;
  // Topic filters one SUBSCRIBE may carry; those beyond it get 0x97 (v5), and a 3.x client
  // is disconnected. Each filter resends every matching retained message, so a packet of a
  // few KB could otherwise make us send megabytes. 0: no limit.
  std::size_t maxFiltersPerSubscribe = 100;
  // Retained messages sent at once for one connection's SUBSCRIBE; the rest go through the
  // session queue (max_queued_messages) and leave as the client reads. 0: no limit.
  std::size_t retainedBurstPerSubscribe = 1000;
  std::uint32_t connectTimeoutMs = 10000;
  std::uint32_t sysIntervalSeconds = 10;  // 0 disables $SYS
  bool connectionMessages = true;          // log connects and disconnects
  // $SYS/broker/version. The midge executable sets it from the project version; an
  // embedding program names itself.
  std::string versionString = "midge";
  std::string assignedIdPrefix = "auto-";  // Mosquitto's auto_id_prefix
  bool allowZeroLengthClientId = true;
  // CONNECTs accepted per second from one source address; 0: no limit. Beyond it the
  // client gets 0x9F (v5) or "server unavailable" (3.x).
  std::uint32_t maxConnectRatePerSecond = 0;
  // A session may be resumed or taken over only by a client with the same user name and
  // certificate identity. The broker turns it on when a listener authenticates clients.
  bool checkSessionOwner = false;

  // Settings Mosquitto makes per listener, indexed by PeerInfo::listenerIndex; a listener
  // without an entry uses maxQos and maxTopicAlias above.
  struct ListenerLimits {
    std::uint8_t maxQos = 2;
    std::uint16_t maxTopicAlias = 10;
    bool useUsernameAsClientId = false;  // Mosquitto's use_username_as_clientid
  };
  std::vector<ListenerLimits> listeners;

  std::size_t inboundPacketLimit() const noexcept {
    return midge::inboundPacketLimit(maxPacketSize);
  }
  // The framer limit until CONNECT is accepted.
  std::size_t preConnectPacketLimit() const noexcept {
    const std::size_t limit = inboundPacketLimit();
    if (maxPacketSizeBeforeConnect == 0 || maxPacketSizeBeforeConnect >= limit) return limit;
    return maxPacketSizeBeforeConnect;
  }
};

}  // namespace midge
