// SPDX-License-Identifier: Apache-2.0
// SUBSCRIBE and UNSUBSCRIBE: validation, authorization, options, shared subscriptions and
// retained messages sent per retain handling.
#include <algorithm>
#include <limits>

#include "core/engine/broker.hpp"

namespace midge {

namespace {

constexpr std::uint8_t kV311Failure = 0x80;
// No Local (0x04) and Retain As Published (0x08): what Mosquitto gives a bridge's subscriptions.
constexpr std::uint8_t kBridgeSubscriptionOptions = 0x0C;

}  // namespace

Refused Broker::handleSubscribe(Connection& connection, const codec::Subscribe& subscribe) {
  Session& session = *connection.session;
  const std::uint32_t identifier = subscribe.properties.subscriptionIdentifiers.empty()
                                       ? 0
                                       : subscribe.properties.subscriptionIdentifiers.front();
  const std::size_t maxFilters = config_.maxFiltersPerSubscribe;
  if (maxFilters != 0 && subscribe.entries.size() > maxFilters &&
      connection.version != codec::ProtocolVersion::V5) {
    // 3.x has no code that says "too many": its SUBACK would have to grant or fail each
    // filter, and failing valid ones would mislead the client.
    return Refusal::connection(ReasonCode::QuotaExceeded,
                               "SUBSCRIBE with " + std::to_string(subscribe.entries.size()) +
                                   " topic filters, above max_filters_per_subscribe");
  }
  codec::Suback suback;
  suback.packetId = subscribe.packetId;
  suback.reasonCodes.reserve(subscribe.entries.size());
  std::vector<RetainedRequest> retainedRequests;
  for (const codec::SubscribeEntry& request : subscribe.entries) {
    if (maxFilters != 0 && suback.reasonCodes.size() >= maxFilters) {
      ++stats_.quotaRefusals;
      suback.reasonCodes.push_back(static_cast<std::uint8_t>(ReasonCode::QuotaExceeded));
      continue;
    }
    FilterVerdict verdict = checkFilter(connection, request, suback);
    if (verdict.refused) return verdict.refused;
    if (verdict.admitted) {
      addSubscription(session, connection, request, identifier, suback, retainedRequests);
    }
  }
  queuePacket(connection, suback);
  // Each filter resends its retained messages [MQTT-3.8.4-5], so one small packet could
  // ask for a great many: past the burst they go through the session queue, whose limits
  // bound what is held, and leave as the client reads.
  std::size_t budget = config_.retainedBurstPerSubscribe != 0
                           ? config_.retainedBurstPerSubscribe
                           : std::numeric_limits<std::size_t>::max();
  for (const RetainedRequest& request : retainedRequests) {
    deliverRetained(session, request.filter, request.entry, budget);
  }
  return std::nullopt;
}

// Refused filters get their failure code in suback, as far as the version can say it.
Broker::FilterVerdict Broker::checkFilter(Connection& connection,
                                          const codec::SubscribeEntry& request,
                                          codec::Suback& suback) {
  const bool v5 = connection.version == codec::ProtocolVersion::V5;
  const bool mqtt31 = connection.version == codec::ProtocolVersion::V31;
  Status valid = topic::validateTopicFilter(request.filter, topicLimits());
  if (!valid.ok()) {
    ++stats_.subscribeInvalid;
    log(LogLevel::Notice, describe(connection) + ": invalid topic filter: " +
                              valid.error().detail);
    if (mqtt31) {
      // 3.1's SUBACK can only grant: a SUBSCRIBE it cannot honour is a protocol violation.
      return FilterVerdict::refuse(Refusal::connection(valid.error()));
    }
    suback.reasonCodes.push_back(
        v5 ? static_cast<std::uint8_t>(ReasonCode::TopicFilterInvalid) : kV311Failure);
    return FilterVerdict::denied();
  }
  if (topic::parseShared(request.filter).has_value() &&
      codec::subscriptionNoLocal(request.options)) {
    return FilterVerdict::refuse(
        Refusal::connection(ReasonCode::ProtocolError, "No Local set on a shared subscription"));
  }
  return checkFilterAllowed(connection, request, suback);
}

// The ACL and max_subscriptions_per_client.
Broker::FilterVerdict Broker::checkFilterAllowed(Connection& connection,
                                                 const codec::SubscribeEntry& request,
                                                 codec::Suback& suback) {
  Session& session = *connection.session;
  const bool v5 = connection.version == codec::ProtocolVersion::V5;
  const bool mqtt31 = connection.version == codec::ProtocolVersion::V31;
  ClientIdentity identity{session.clientId, session.username, session.listenerIndex};
  if (!authenticator_.allowSubscribe(identity, request.filter)) {
    ++stats_.subscribeDenied;
    log(LogLevel::Notice, describe(connection) + ": not authorized to subscribe to " +
                              std::string(request.filter));
    // 3.1 has no failure code: like a refused 3.1.1 PUBLISH, the refusal is acknowledged
    // positively (QoS 0 granted) and nothing is subscribed.
    suback.reasonCodes.push_back(v5 ? static_cast<std::uint8_t>(ReasonCode::NotAuthorized)
                                    : (mqtt31 ? 0x00 : kV311Failure));
    return FilterVerdict::denied();
  }
  if (config_.maxSubscriptionsPerClient != 0 &&
      session.subscriptions.size() >= config_.maxSubscriptionsPerClient &&
      session.subscriptions.find(request.filter) == session.subscriptions.end()) {
    ++stats_.quotaRefusals;
    log(LogLevel::Notice, describe(connection) + ": max_subscriptions_per_client (" +
                              std::to_string(config_.maxSubscriptionsPerClient) +
                              ") reached, not subscribed to " + std::string(request.filter));
    if (mqtt31) {
      return FilterVerdict::refuse(Refusal::connection(
          ReasonCode::QuotaExceeded,
          "max_subscriptions_per_client reached (MQTT 3.1 cannot refuse a filter)"));
    }
    suback.reasonCodes.push_back(
        v5 ? static_cast<std::uint8_t>(ReasonCode::QuotaExceeded) : kV311Failure);
    return FilterVerdict::denied();
  }
  return FilterVerdict::admit();
}

// Into the router, the session and (durable) the store; the granted QoS into suback; the
// retained messages it should receive per its retain handling into retainedRequests.
void Broker::addSubscription(Session& session, const Connection& connection,
                             const codec::SubscribeEntry& request, std::uint32_t identifier,
                             codec::Suback& suback,
                             std::vector<RetainedRequest>& retainedRequests) {
  const bool v5 = connection.version == codec::ProtocolVersion::V5;
  const auto qos = static_cast<std::uint8_t>(
      std::min<int>(codec::subscriptionQos(request.options), connection.maxQos));
  std::uint8_t options = v5 ? codec::withSubscriptionQos(request.options, qos) : qos;
  if (connection.bridge) options |= kBridgeSubscriptionOptions;
  const bool existed = router_.subscribe(request.filter, session.index, options, identifier);
  SubscriptionEntry entry{options, identifier};
  session.subscriptions[std::string(request.filter)] = entry;
  if (session.durable()) {
    store_.saveSubscription({session.clientId, std::string(request.filter), options, identifier});
  }
  suback.reasonCodes.push_back(qos);
  log(LogLevel::Subscribe, session.clientId + " " + std::to_string(qos) + " " +
                               std::string(request.filter));
  const bool shared = topic::parseShared(request.filter).has_value();
  const int retainHandling = codec::subscriptionRetainHandling(options);
  if (!shared && (retainHandling == 0 || (retainHandling == 1 && !existed))) {
    retainedRequests.push_back({request.filter, entry});
  }
}

void Broker::deliverRetained(Session& session, std::string_view filter,
                          const SubscriptionEntry& entry, std::size_t& budget) {
  std::vector<MessagePtr> toSend;
  std::vector<std::string> expired;
  memoryUsed_ -= router_.retainedFor(filter, clock_.wallSeconds(), toSend, expired);
  for (const std::string& topicName : expired) {
    store_.deleteRetained(topicName);
    ++stats_.messagesExpired;
  }
  ClientIdentity identity{session.clientId, session.username, session.listenerIndex};
  const std::uint8_t grantedQos = codec::subscriptionQos(entry.options);
  for (const MessagePtr& message : toSend) {
    if (!authenticator_.allowReceive(identity, message->topic)) continue;
    std::vector<std::uint32_t> identifiers;
    if (entry.identifier != 0) identifiers.push_back(entry.identifier);
    // Retained messages sent because of a subscription always carry RETAIN=1.
    const Pacing pacing = budget == 0 ? Pacing::Queued : Pacing::SendNowIfPossible;
    if (budget != 0) --budget;
    deliver(session, message, std::min(message->qos, grantedQos), true, std::move(identifiers),
            pacing);
  }
}

void Broker::handleUnsubscribe(Connection& connection, const codec::Unsubscribe& unsubscribe) {
  Session& session = *connection.session;
  const bool v5 = connection.version == codec::ProtocolVersion::V5;
  codec::Unsuback unsuback;
  unsuback.packetId = unsubscribe.packetId;
  for (std::string_view filter : unsubscribe.filters) {
    ReasonCode reason = ReasonCode::Success;
    if (!topic::validateTopicFilter(filter).ok()) {
      reason = ReasonCode::TopicFilterInvalid;
    } else if (router_.unsubscribe(filter, session.index)) {
      log(LogLevel::Unsubscribe, session.clientId + " " + std::string(filter));
      auto it = session.subscriptions.find(filter);
      if (it != session.subscriptions.end()) session.subscriptions.erase(it);
      if (session.durable()) store_.deleteSubscription(session.clientId, filter);
    } else {
      reason = ReasonCode::NoSubscriptionExisted;
    }
    if (v5) unsuback.reasonCodes.push_back(static_cast<std::uint8_t>(reason));
  }
  queuePacket(connection, unsuback);
}

void Broker::removeAllSubscriptions(Session& session) {
  for (const auto& subscription : session.subscriptions) {
    router_.unsubscribe(subscription.first, session.index);
  }
  session.subscriptions.clear();
}

}  // namespace midge
