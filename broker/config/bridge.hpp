// SPDX-License-Identifier: Apache-2.0
// A `connection` section of the configuration: one bridge from this broker to an upstream
// broker, in Mosquitto's keywords (docs/bridge.md). The parser fills it; the bridge runtime
// (broker/bridge/) reads it and never sees the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace midge::config {

enum class BridgeDirection : std::uint8_t { In, Out, Both };

// `topic PATTERN [in|out|both] [QOS] [LOCAL_PREFIX] [REMOTE_PREFIX]`. A message on
// LOCAL_PREFIX+PATTERN here is published on REMOTE_PREFIX+PATTERN upstream (out) and the
// reverse (in). Mosquitto's "" placeholder for an empty pattern or prefix is kept as an
// empty string here.
struct BridgeTopic {
  std::string pattern;
  BridgeDirection direction = BridgeDirection::Out;
  std::uint8_t qos = 0;
  std::string localPrefix;
  std::string remotePrefix;
  std::string definedAt;  // "file:line", for log messages
};

struct BridgeAddress {
  std::string host;
  std::uint16_t port = 1883;
};

enum class BridgeProtocol : std::uint8_t { V31, V311, V5 };
enum class BridgeStartType : std::uint8_t { Automatic, Lazy, Once };

// What happens when the queue towards the upstream is full (Midge keyword
// bridge_queue_full): drop the new message (Mosquitto's behaviour for a full session
// queue) or refuse it to the publisher where the protocol can say so.
enum class BridgeQueueFull : std::uint8_t { DropNew, RefuseNew };

struct BridgeTls {
  std::string caFile;
  std::string caPath;
  std::string certFile;
  std::string keyFile;
  bool insecure = false;              // skip the host name check only
  std::string minVersion;             // "tlsv1.2" or empty (library default, TLS 1.2)
  std::vector<std::string> alpn;      // bridge_alpn, comma separated in the file
  bool enabled() const { return !caFile.empty() || !caPath.empty(); }
};

struct Bridge {
  std::string name;        // the word after `connection`
  std::string definedAt;   // "file:line" of the connection line
  std::vector<BridgeAddress> addresses;
  bool roundRobin = false;  // false: fail over, and return to the first address later
  std::vector<BridgeTopic> topics;
  BridgeProtocol protocol = BridgeProtocol::V311;
  bool cleanSession = false;   // towards the upstream
  // Towards the local broker; Mosquitto's default follows cleansession. A clean local
  // session has no disk queue: messages are not kept across a restart of Midge.
  std::optional<bool> localCleanSession;
  std::string localClientId;   // default: "local." + remoteClientId
  std::string remoteClientId;  // default: hostname + "." + name
  std::string remoteUsername;
  std::string remotePassword;
  std::string localUsername;   // the identity the local side uses for ACL checks
  std::string localPassword;
  std::uint16_t keepaliveSeconds = 60;
  // restart_timeout BASE [CAP]: back off from BASE up to CAP. One value (Mosquitto's
  // constant mode) sets both to it.
  std::uint32_t restartTimeoutBaseSeconds = 5;
  std::uint32_t restartTimeoutCapSeconds = 30;
  BridgeStartType startType = BridgeStartType::Automatic;
  std::uint32_t idleTimeoutSeconds = 60;          // lazy: disconnect when idle this long
  std::uint32_t threshold = 10;                   // lazy: connect at this many queued
  bool notifications = true;
  std::string notificationTopic;  // default: $SYS/broker/connection/REMOTE_CLIENTID/state
  bool notificationsLocalOnly = false;
  bool tryPrivate = true;
  bool outgoingRetain = true;                     // bridge_outgoing_retain
  std::uint32_t maxPacketSize = 0;                // bridge_max_packet_size; 0: no limit
  // Added for Mosquitto keywords the record lacked (same defaults as Mosquitto):
  bool attemptUnsubscribe = true;                 // bridge_attempt_unsubscribe
  std::string bindAddress;                        // bridge_bind_address; empty: any
  std::uint16_t receiveMaximum = 65535;           // bridge_receive_maximum (MQTT 5)
  std::uint32_t sessionExpiryInterval = 0;        // bridge_session_expiry_interval (MQTT 5)
  std::uint16_t maxTopicAlias = 10;               // bridge_max_topic_alias (MQTT 5); 0: none
  // Midge keywords: the disk queue towards the upstream.
  std::size_t maxQueuedMessages = 0;              // 0: the broker's max_queued_messages
  std::size_t maxQueuedBytes = 0;                 // 0: the broker's max_queued_bytes
  BridgeQueueFull queueFull = BridgeQueueFull::DropNew;
  std::optional<BridgeTls> tls;  // present when bridge_cafile or bridge_capath is given
};

}  // namespace midge::config
