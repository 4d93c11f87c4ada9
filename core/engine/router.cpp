// SPDX-License-Identifier: Apache-2.0
#include "core/engine/router.hpp"

#include <algorithm>

#include "core/codec/codec.hpp"

namespace midge {

bool Router::subscribe(std::string_view filter, SessionIndex session, std::uint8_t options,
                       std::uint32_t identifier) {
  topic::Subscription subscription;
  subscription.subscriber = session;
  subscription.options = options;
  subscription.shared = topic::parseShared(filter).has_value();
  subscription.identifier = identifier;
  return tree_.subscribe(filter, subscription);
}

bool Router::unsubscribe(std::string_view filter, SessionIndex session) {
  return tree_.unsubscribe(filter, session);
}

std::size_t Router::route(const MessagePtr& message) {
  matches_.clear();
  tree_.match(
      message->topic, [&](const topic::Subscription& match) { matches_.push_back(match); },
      [&](topic::SubscriberId candidate) { return recipients_.canTakeNow(candidate); });
  if (matches_.empty()) return 0;
  if (matches_.size() > 1) {
    // Grouped by client for the merge; stable, so identifiers keep the tree's order.
    std::stable_sort(matches_.begin(), matches_.end(),
                     [](const topic::Subscription& a, const topic::Subscription& b) {
                       return a.subscriber < b.subscriber;
                     });
  }
  std::size_t deliveries = 0;
  for (std::size_t begin = 0; begin < matches_.size();) {
    const topic::SubscriberId subscriber = matches_[begin].subscriber;
    std::size_t end = begin;
    while (end < matches_.size() && matches_[end].subscriber == subscriber) ++end;
    if (recipients_.mayReceive(subscriber, *message)) {
      mergeAndDeliver(message, begin, end, deliveries);
    }
    begin = end;
  }
  return deliveries;
}

// One client's matches, matches_[begin, end): one copy for its ordinary subscriptions,
// with the highest QoS and every subscription identifier (MQTT 5 3.3.4); each shared
// match is its own delivery.
void Router::mergeAndDeliver(const MessagePtr& message, std::size_t begin, std::size_t end,
                             std::size_t& deliveries) {
  const SessionIndex session = matches_[begin].subscriber;
  int mergedQos = -1;
  bool retainAsPublished = false;
  std::vector<std::uint32_t> identifiers;
  for (std::size_t k = begin; k < end; ++k) {
    const topic::Subscription& match = matches_[k];
    const std::uint8_t grantedQos = codec::subscriptionQos(match.options);
    if (match.shared) {
      std::vector<std::uint32_t> sharedIds;
      if (match.identifier != 0) sharedIds.push_back(match.identifier);
      recipients_.deliverTo(session, message, std::min(message->qos, grantedQos),
                            codec::subscriptionRetainAsPublished(match.options) && message->retain,
                            std::move(sharedIds));
      ++deliveries;
      continue;
    }
    if (codec::subscriptionNoLocal(match.options) && session == message->publisher) continue;
    mergedQos = std::max<int>(mergedQos, grantedQos);
    retainAsPublished = retainAsPublished || codec::subscriptionRetainAsPublished(match.options);
    if (match.identifier != 0) identifiers.push_back(match.identifier);
  }
  if (mergedQos < 0) return;
  const auto granted = static_cast<std::uint8_t>(mergedQos);
  const std::uint8_t qos = upgradeOutgoingQos_ ? granted : std::min(message->qos, granted);
  recipients_.deliverTo(session, message, qos, retainAsPublished && message->retain,
                        std::move(identifiers));
  ++deliveries;
}

Router::RetainChange Router::retain(const MessagePtr& message) {
  RetainChange change;
  if (message->payload.empty()) {
    change.releasedBytes = release(message->topic);
    change.cleared = change.releasedBytes != 0;
    return change;
  }
  change.releasedBytes = replace(message->topic, message);
  change.addedBytes = message->footprint();
  change.stored = true;
  return change;
}

void Router::restoreRetained(std::string_view topicName, const MessagePtr& message) {
  replace(topicName, message);
}

// Makes message the topic's retained message; returns the footprint of the one it
// replaced, 0 if there was none.
std::size_t Router::replace(std::string_view topicName, const MessagePtr& message) {
  std::size_t replaced = 0;
  if (const MessagePtr* existing = retained_.find(topicName)) replaced = (*existing)->footprint();
  retained_.insertOrAssign(topicName, message);
  retainedBytes_ = retainedBytes_ - replaced + message->footprint();
  return replaced;
}

std::size_t Router::retainedFor(std::string_view filter, std::int64_t nowWallSeconds,
                                std::vector<MessagePtr>& live,
                                std::vector<std::string>& expired) {
  const std::size_t firstExpired = expired.size();
  retained_.forEachMatching(filter, [&](std::string_view topicName, MessagePtr& message) {
    if (message->expiresAt != 0 && nowWallSeconds >= message->expiresAt) {
      expired.emplace_back(topicName);
    } else {
      live.push_back(message);
    }
  });
  std::size_t released = 0;
  for (std::size_t i = firstExpired; i < expired.size(); ++i) released += release(expired[i]);
  return released;
}

// Removes the topic's retained message; returns its footprint, 0 if there was none.
std::size_t Router::release(std::string_view topicName) {
  const MessagePtr* existing = retained_.find(topicName);
  if (existing == nullptr) return 0;
  const std::size_t bytes = (*existing)->footprint();
  retainedBytes_ -= bytes;
  retained_.erase(topicName);
  return bytes;
}

}  // namespace midge
