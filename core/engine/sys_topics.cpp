// SPDX-License-Identifier: Apache-2.0
// $SYS/broker/... statistics, with Mosquitto's topic names so existing dashboards work,
// plus Midge's counters for everything refused or dropped.
#include <cstdio>

#include "core/engine/broker.hpp"

namespace midge {

void Broker::publishSys(std::string_view topic, std::string_view value) {
  // Mosquitto's rule: a figure is published when it changed since its last publication
  // (the retained copy keeps the latest for late subscribers).
  if (const MessagePtr* current = router_.retained(topic)) {
    const auto& payload = (*current)->payload;
    if (std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()) ==
        value) {
      return;
    }
  }
  // Retained so a dashboard that subscribes later sees the latest figure at once; kept in
  // memory only: they describe this process, not state to recover.
  MessagePtr message =
      makeMessage(topic, asBytes(value), {}, 0, true, 0, kNoSession);
  updateRetained(message, false);
  routeMessage(message);
}

void Broker::publishSysTopics(std::uint64_t nowMs) {
  const auto number = [](std::uint64_t value) { return std::to_string(value); };
  const std::size_t total = sessions_.size();
  publishSys("$SYS/broker/version", config_.versionString);
  publishSys("$SYS/broker/uptime", number((nowMs - startedAtMs_) / 1000) + " seconds");
  publishSys("$SYS/broker/clients/connected", number(connectedClients_));
  publishSys("$SYS/broker/clients/active", number(connectedClients_));
  publishSys("$SYS/broker/clients/total", number(total));
  publishSys("$SYS/broker/clients/disconnected", number(total - connectedClients_));
  publishSys("$SYS/broker/clients/inactive", number(total - connectedClients_));
  publishSys("$SYS/broker/clients/maximum", number(stats_.clientsMaximum));
  publishSys("$SYS/broker/messages/received", number(stats_.messagesReceived));
  publishSys("$SYS/broker/messages/sent", number(stats_.messagesSent));
  publishSys("$SYS/broker/publish/messages/received", number(stats_.messagesReceived));
  publishSys("$SYS/broker/publish/messages/sent", number(stats_.messagesSent));
  publishSys("$SYS/broker/publish/messages/dropped", number(stats_.messagesDropped));
  publishSys("$SYS/broker/bytes/received", number(stats_.bytesReceived));
  publishSys("$SYS/broker/bytes/sent", number(stats_.bytesSent));
  publishSys("$SYS/broker/subscriptions/count", number(router_.subscriptionCount()));
  publishSys("$SYS/broker/retained messages/count", number(router_.retainedCount()));
  const HeldMessages held = heldMessages();
  const std::size_t stored = router_.retainedCount() + held.inflight + held.queued;
  publishSys("$SYS/broker/store/messages/count", number(stored));
  publishSys("$SYS/broker/messages/stored", number(stored));
  publishSys("$SYS/broker/store/messages/bytes", number(router_.retainedBytes() + held.queuedBytes));
  publishSys("$SYS/broker/shared_subscriptions/count", number(held.sharedSubscriptions));
  publishSys("$SYS/broker/clients/expired", number(stats_.sessionsExpired));
  publishSys("$SYS/broker/heap/current", number(memoryUsed_));
  publishSys("$SYS/broker/heap/maximum", number(stats_.memoryMaximum));
  publishSysLoad(nowMs);
  publishSys("$SYS/broker/midge/memory/used", number(memoryUsed_));
  publishSys("$SYS/broker/midge/messages/expired", number(stats_.messagesExpired));
  publishSys("$SYS/broker/midge/clients/refused", number(stats_.connectsRefused));
  publishSys("$SYS/broker/midge/clients/protocol-errors", number(stats_.protocolViolations));
  publishSys("$SYS/broker/midge/clients/keepalive-timeouts", number(stats_.keepaliveTimeouts));
  publishSys("$SYS/broker/midge/clients/connect-timeouts", number(stats_.connectTimeouts));
  publishSys("$SYS/broker/midge/subscribe/invalid", number(stats_.subscribeInvalid));
  publishSys("$SYS/broker/midge/publish/denied", number(stats_.publishDenied));
  publishSys("$SYS/broker/midge/subscribe/denied", number(stats_.subscribeDenied));
  publishSys("$SYS/broker/midge/quota/refused", number(stats_.quotaRefusals));
  publishSys("$SYS/broker/midge/store/failures", number(stats_.storeFailures));
  publishSys("$SYS/broker/midge/wills/published", number(stats_.willsPublished));
  publishSysRefusals();
  for (const auto& counter : externalCounters_) {
    publishSys("$SYS/broker/" + counter.first, number(*counter.second));
  }
}

// $SYS/broker/midge/refusals/<reason>, e.g. .../refusals/not-authorized: a topic for each
// reason refused at least once, rather than a retained zero for every MQTT 5 code.
void Broker::publishSysRefusals() {
  forEachRefusalCounted(stats_, [&](ReasonCode reason, std::uint64_t count) {
    publishSys("$SYS/broker/midge/refusals/" + refusalSlug(reason, '-'), std::to_string(count));
  });
}

void Broker::publishSysLoad(std::uint64_t nowMs) {
  const std::uint64_t counters[SysLoad::kCount] = {
      stats_.messagesReceived, stats_.messagesSent,    stats_.messagesReceived,
      stats_.messagesSent,     stats_.messagesDropped, stats_.bytesReceived,
      stats_.bytesSent,        stats_.connectsAccepted, stats_.connectionsAccepted};
  if (!sysLoad_.sampled) {
    sysLoad_.sampled = true;
    sysLoad_.lastSampleMs = startedAtMs_;
  }
  const std::uint64_t elapsedMs = nowMs - sysLoad_.lastSampleMs;
  sysLoad_.lastSampleMs = nowMs;
  static const char* const kWindows[3] = {"/1min", "/5min", "/15min"};
  char text[32];
  for (int i = 0; i < SysLoad::kCount; ++i) {
    sysLoad_.loads[i].sample(counters[i], elapsedMs);
    for (int window = 0; window < 3; ++window) {
      std::snprintf(text, sizeof text, "%.2f", sysLoad_.loads[i].average(window));
      publishSys(std::string("$SYS/broker/load/") + SysLoad::kNames[i] + kWindows[window], text);
    }
  }
}

Broker::HeldMessages Broker::heldMessages() const {
  HeldMessages held;
  sessions_.forEach([&](const Session& session) {
    held.inflight += session.inflight.size();
    held.queued += session.queue.size();
    held.queuedBytes += session.queuedBytes;
    for (const auto& subscription : session.subscriptions) {
      if (subscription.first.rfind("$share/", 0) == 0) ++held.sharedSubscriptions;
    }
  });
  return held;
}

}  // namespace midge
