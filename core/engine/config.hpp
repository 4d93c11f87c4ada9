// SPDX-License-Identifier: Apache-2.0
// Engine settings. The broker/ maps mosquitto.conf keywords onto these; defaults follow
// Mosquitto 2.x so an operator's expectations carry over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace midge {

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
  // Whole-packet limit for packets from clients (0: the protocol maximum). Checked from the
  // fixed header before the body is buffered.
  std::uint32_t maxPacketSize = 0;
  // Before CONNECT is accepted nobody is authenticated: cap what an anonymous socket can
  // make us buffer (FlashMQ uses 1 MB, mosquitto 100000 bytes).
  std::uint32_t maxPacketSizeBeforeConnect = 256 * 1024;
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
  // Budget for queued payloads plus retained messages together; 0: no budget.
  std::size_t memoryLimit = 0;
  std::size_t maxTopicLength = 65535;
  std::size_t maxTopicLevels = 0;
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

  // Settings Mosquitto makes per listener, indexed by PeerInfo::listenerIndex; a listener
  // without an entry uses maxQos and maxTopicAlias above.
  struct ListenerLimits {
    std::uint8_t maxQos = 2;
    std::uint16_t maxTopicAlias = 10;
  };
  std::vector<ListenerLimits> listeners;
};

}  // namespace midge
