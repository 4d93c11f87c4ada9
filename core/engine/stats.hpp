// SPDX-License-Identifier: Apache-2.0
// Counters published under $SYS/broker/... and read by tests and the benchmark.
#pragma once

#include <cstdint>

namespace midge {

struct Stats {
  std::uint64_t messagesReceived = 0;   // PUBLISH packets from clients
  std::uint64_t messagesSent = 0;       // PUBLISH packets to clients
  std::uint64_t publishReceived = 0;
  std::uint64_t bytesReceived = 0;
  std::uint64_t bytesSent = 0;
  std::uint64_t connectionsAccepted = 0;
  std::uint64_t connectsRefused = 0;      // CONNACK with a failure
  std::uint64_t protocolViolations = 0;   // closed for malformed or forbidden packets
  std::uint64_t connectTimeouts = 0;      // closed without a CONNECT in connect_timeout
  std::uint64_t subscribeInvalid = 0;     // SUBSCRIBE entries refused as invalid filters
  std::uint64_t keepaliveTimeouts = 0;
  std::uint64_t messagesDropped = 0;      // queue full, memory budget, too large for client
  std::uint64_t messagesExpired = 0;
  std::uint64_t publishDenied = 0;        // ACL refused a PUBLISH
  std::uint64_t subscribeDenied = 0;      // ACL refused a SUBSCRIBE
  std::uint64_t quotaRefusals = 0;        // 0x97 answers
  std::uint64_t storeFailures = 0;        // commits that failed
  std::uint64_t willsPublished = 0;
  std::uint64_t clientsMaximum = 0;       // most clients connected at once

  // Breakdowns for the operator metrics endpoint (docs/monitoring.md). The totals above
  // stay what $SYS has always published; these only split them.
  std::uint64_t messagesReceivedByQos[3] = {};
  std::uint64_t messagesSentByQos[3] = {};
  std::uint64_t payloadBytesReceivedByQos[3] = {};
  std::uint64_t payloadBytesSentByQos[3] = {};
  std::uint64_t droppedQueueFull = 0;      // per-session queue limits (part of messagesDropped)
  std::uint64_t droppedMemoryLimit = 0;    // memory_limit (part of messagesDropped)
  std::uint64_t droppedTooLarge = 0;       // message_size_limit or the client's maximum
  std::uint64_t droppedNoSubscribers = 0;  // accepted PUBLISH nobody matched (not in the total)
  std::uint64_t connectsAccepted = 0;      // CONNACK with success
  std::uint64_t connectsRefusedBadCredentials = 0;  // part of connectsRefused
  std::uint64_t connectsRefusedNotAuthorized = 0;   // part of connectsRefused
  std::uint64_t sessionsExpired = 0;
  std::uint64_t memoryMaximum = 0;         // highest memoryUsed() seen

  // Every refusal (Broker::refuse) by its v5 reason code, 3.x clients included: index
  // code - kFirstRefusalCode. Read through refusalCount (core/engine/refusal.hpp).
  static constexpr std::uint8_t kFirstRefusalCode = 0x80;
  std::uint64_t refusals[0x100 - kFirstRefusalCode] = {};
};

}  // namespace midge
