// SPDX-License-Identifier: Apache-2.0
#include "broker/bridge/bridge_runtime.hpp"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace midge::bridge {
namespace {

constexpr std::uint16_t kHeldPerLeg = 100;  // acknowledgements held at once, per leg
constexpr std::uint32_t kSessionExpiryForever = 0xFFFFFFFF;

std::vector<std::uint8_t> bytesOf(const std::string& text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

codec::ProtocolVersion versionOf(config::BridgeProtocol protocol) {
  switch (protocol) {
    case config::BridgeProtocol::V31: return codec::ProtocolVersion::V31;
    case config::BridgeProtocol::V5: return codec::ProtocolVersion::V5;
    default: return codec::ProtocolVersion::V311;
  }
}

std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "midge";
  return name;
}

}  // namespace

BridgeRuntime::BridgeRuntime(event_base* base, config::Bridge bridge, RuntimeOptions options)
    : base_(base), bridge_(std::move(bridge)), options_(std::move(options)),
      topics_(bridge_.topics) {
  if (bridge_.remoteClientId.empty()) bridge_.remoteClientId = hostName() + "." + bridge_.name;
  if (bridge_.localClientId.empty()) bridge_.localClientId = "local." + bridge_.remoteClientId;
  notificationTopic_ = bridge_.notificationTopic.empty()
                           ? "$SYS/broker/connection/" + bridge_.remoteClientId + "/state"
                           : bridge_.notificationTopic;
}

BridgeRuntime::~BridgeRuntime() = default;

client::ClientOptions BridgeRuntime::localOptions() const {
  client::ClientOptions options;
  options.version = codec::ProtocolVersion::V5;
  options.clientId = bridge_.localClientId;
  const bool durable = options_.durableLocalSession && !bridge_.localCleanSession.value_or(false);
  options.cleanStart = !durable;
  options.sessionExpirySeconds = durable ? kSessionExpiryForever : 0;
  options.keepAliveSeconds = bridge_.keepaliveSeconds;
  if (!bridge_.localUsername.empty()) options.username = bridge_.localUsername;
  if (!bridge_.localPassword.empty()) options.password = bridge_.localPassword;
  options.receiveMaximum = kHeldPerLeg;
  options.maxInflight = kHeldPerLeg;
  options.deferAcks = true;
  return options;
}

client::ClientOptions BridgeRuntime::remoteOptions() const {
  client::ClientOptions options;
  options.version = versionOf(bridge_.protocol);
  options.clientId = bridge_.remoteClientId;
  options.cleanStart = bridge_.cleanSession;
  options.sessionExpirySeconds = bridge_.cleanSession ? 0 : bridge_.sessionExpiryInterval;
  options.keepAliveSeconds = bridge_.keepaliveSeconds;
  if (!bridge_.remoteUsername.empty()) options.username = bridge_.remoteUsername;
  if (!bridge_.remotePassword.empty()) options.password = bridge_.remotePassword;
  options.receiveMaximum = std::min(bridge_.receiveMaximum, kHeldPerLeg);
  options.maximumPacketSize = bridge_.maxPacketSize;
  // Mosquitto's convention for 3.x: a Mosquitto upstream then sends the bridge's own
  // messages not back to it (the v5 legs use No Local instead).
  options.bridgeFlag = bridge_.tryPrivate && options.version != codec::ProtocolVersion::V5;
  options.deferAcks = true;
  if (bridge_.notifications && !bridge_.notificationsLocalOnly) {
    // Mosquitto's convention: the upstream says "0" for us when we vanish.
    options.will = client::WillOptions{notificationTopic_, bytesOf("0"), 1, true};
  }
  return options;
}

port::ClientDriverOptions BridgeRuntime::driverOptions(Leg leg) const {
  port::ClientDriverOptions options;
  const std::uint32_t base = options_.restartBaseMs != 0
                                 ? options_.restartBaseMs
                                 : bridge_.restartTimeoutBaseSeconds * 1000;
  const std::uint32_t cap = options_.restartCapMs != 0 ? options_.restartCapMs
                                                       : bridge_.restartTimeoutCapSeconds * 1000;
  options.restartBaseMs = base;
  options.restartCapMs = cap < base ? base : cap;
  options.tickMs = 50;
  if (leg == Leg::Local) {
    options.addresses.push_back({options_.localHost, options_.localPort});
    options.restartBaseMs = 100;  // our own listener: it is there, or coming back soon
    options.restartCapMs = 1000;
  } else {
    for (const auto& address : bridge_.addresses) {
      options.addresses.push_back({address.host, address.port});
    }
    options.filters = options_.uplinkFilters;
  }
  return options;
}

std::unique_ptr<port::ClientDriver> BridgeRuntime::makeDriver(Leg leg) {
  port::ClientDriverHooks hooks;
  hooks.onEvent = [this, leg](client::Client& client, const client::ClientEvent& event) {
    onEvent(leg, client, event);
  };
  hooks.commit = [this] { commit(); };
  const std::string side = leg == Leg::Local ? "local" : "remote";
  hooks.log = [this, side](const std::string& line) { log(side + ": " + line); };
  return std::make_unique<port::ClientDriver>(
      base_, leg == Leg::Local ? localOptions() : remoteOptions(), &journal_->leg(leg),
      driverOptions(leg), std::move(hooks));
}

bool BridgeRuntime::start(std::string& error) {
  journal_ = options_.journalPath.empty()
                 ? makeMemoryJournal()
                 : openSqliteJournal(options_.journalPath, options_.fullSync, error);
  if (!journal_) return false;
  local_ = makeDriver(Leg::Local);
  remote_ = makeDriver(Leg::Remote);
  rebuildForwarding();
  for (Leg leg : {Leg::Local, Leg::Remote}) {
    if (Status status = driver(leg).start(journal_->records(leg)); !status) {
      error = std::string("cannot restore the bridge journal: ") + status.error().detail;
      return false;
    }
  }
  return true;
}

// After a restart: what each leg still has in flight names the source message it carries,
// so that the source's resend of that message is not forwarded a second time.
void BridgeRuntime::rebuildForwarding() {
  for (Leg sink : {Leg::Local, Leg::Remote}) {
    for (const client::JournalRecord& record : journal_->records(sink)) {
      if (client::isInbound(record.state) || record.tag == 0) continue;
      const auto id = static_cast<std::uint16_t>(record.tag & 0xFFFF);
      forwarding_[index(other(sink))][id] = Forwarded{record.tag, record.message.qos, 0};
      if ((record.tag >> 16) >= nextSerial_) nextSerial_ = (record.tag >> 16) + 1;
    }
  }
}

void BridgeRuntime::stop() {
  stopping_ = true;
  if (remote_ && remote_->connected()) notifyState(false);
  if (remote_) remote_->stop();
  if (local_) local_->stop();
}

// Called by either driver between its events and its bytes. The other leg's client may
// have been called during those events (an acknowledgement, a forwarded message): its
// bytes leave only now, after the commit that holds both sides of the hand-over. Never
// commit in the middle of a leg's events: a later event's removal, already in the
// journal, would be made durable before its hand-over.
void BridgeRuntime::commit() {
  std::string error;
  if (journal_->commit(error)) {
    for (Leg leg : {Leg::Local, Leg::Remote}) {
      if (!dirty_[index(leg)]) continue;
      dirty_[index(leg)] = false;
      driver(leg).flush();
    }
    return;
  }
  // The bytes of this turn must not promise what the disk does not hold: stop both legs;
  // the sources resend everything not acknowledged when the broker starts again.
  log("cannot commit the bridge journal, stopping the bridge: " + error);
  stopping_ = true;
}

void BridgeRuntime::onEvent(Leg leg, client::Client& client, const client::ClientEvent& event) {
  switch (event.kind) {
    case client::ClientEventKind::Connected: onConnected(leg, client, event); break;
    case client::ClientEventKind::Message: onMessage(leg, event); break;
    case client::ClientEventKind::PublishDone: onPublishDone(leg, event); break;
    case client::ClientEventKind::ConnectRefused:
      log(std::string(leg == Leg::Local ? "local" : "remote") +
          ": connection refused, code " + std::to_string(event.code));
      break;
    case client::ClientEventKind::Closed:
      if (leg == Leg::Remote) stats_.state = 0;
      log(std::string(leg == Leg::Local ? "local" : "remote") + ": closed: " + event.detail);
      if (leg == Leg::Remote && bridge_.notifications && !stopping_) notifyState(false);
      break;
    default: break;
  }
}

void BridgeRuntime::count(Leg source, std::size_t bytes) {
  (source == Leg::Local ? stats_.messagesOut : stats_.messagesIn) += 1;
  (source == Leg::Local ? stats_.bytesOut : stats_.bytesIn) += bytes;
}

void BridgeRuntime::onConnected(Leg leg, client::Client& client,
                                const client::ClientEvent& event) {
  if (leg == Leg::Remote) {
    stats_.state = 1;
    stats_.reconnects = remote_->reconnects();
  }
  if (!event.sessionPresent) {
    // The source forgot its session: the packet ids we are forwarding name nothing now.
    forwarding_[index(leg)].clear();
  }
  std::vector<client::Subscription> subscriptions;
  for (const MappedFilter& filter :
       topics_.subscriptions(leg == Leg::Local ? Side::Local : Side::Remote)) {
    // No Local: what the bridge publishes on this side never comes back to it; Retain As
    // Published: the retain flag travels as the publisher set it. Both are v5 only.
    subscriptions.push_back({filter.filter, filter.qos, true, true, 0});
  }
  if (!subscriptions.empty()) {
    if (auto id = client.subscribe(subscriptions, driver(leg).nowMs()); !id) {
      log(std::string("cannot subscribe: ") + id.error().detail);
    }
  }
  if (leg == Leg::Remote && event.sessionPresent && bridge_.attemptUnsubscribe) {
    // A resumed upstream session may still hold subscriptions of out-only lines (from an
    // earlier configuration): they would bring messages nobody asked for.
    const auto stale = topics_.outOnlyRemoteFilters();
    if (!stale.empty()) (void)client.unsubscribe(stale, driver(leg).nowMs());
  }
  if (leg == Leg::Remote && bridge_.notifications) notifyState(true);
  pump(leg, client);
}

void BridgeRuntime::notifyState(bool up) {
  client::OutboundMessage message{notificationTopic_, bytesOf(up ? "1" : "0"), 1, true, {}};
  if (!bridge_.notificationsLocalOnly && remote_->connected()) {
    if (auto ticket = remote_->client().publish(message, 0, remote_->nowMs()); !ticket) {
      log(std::string("cannot publish the notification upstream: ") + ticket.error().detail);
    }
  }
  if (local_->connected()) {
    (void)local_->client().publish(message, 0, local_->nowMs());
    dirty_[index(Leg::Local)] = true;
  }
}

void BridgeRuntime::onMessage(Leg source, const client::ClientEvent& event) {
  const Leg sink = other(source);
  const auto topic = topics_.translate(source == Leg::Local ? Side::Local : Side::Remote,
                                       event.message.topic);
  if (!topic) {
    // A subscription overlap brought something no line carries this way: let it go.
    if (event.message.qos > 0) (void)driver(source).client().acknowledge(event.packetId);
    dirty_[index(source)] = true;
    return;
  }
  client::OutboundMessage message{*topic, event.message.payload, event.message.qos,
                                  event.message.retain, {}};
  if (sink == Leg::Remote && !bridge_.outgoingRetain) message.retain = false;
  if (versionOf(bridge_.protocol) == codec::ProtocolVersion::V5 || sink == Leg::Local) {
    message.properties = event.message.properties;
  }
  if (message.qos == 0) {
    if (driver(sink).connected()) {
      (void)driver(sink).client().publish(message, 0, driver(sink).nowMs());
      dirty_[index(sink)] = true;
      count(source, message.payload.size());
    }
    return;
  }
  auto& forwarding = forwarding_[index(source)];
  if (forwarding.count(event.packetId) != 0) return;  // a resend of one on its way
  const std::uint64_t tag = (nextSerial_++ << 16) | event.packetId;
  forwarding[event.packetId] = Forwarded{tag, message.qos, message.payload.size()};
  pending_[index(sink)].push_back({tag, std::move(message)});
  pump(sink, driver(sink).client());
}

// Publishes what waits for the sink while its window has room. Called on the sink's own
// events (its driver flushes afterwards) or through the driver when a source delivered.
void BridgeRuntime::pump(Leg sink, client::Client& client) {
  auto& queue = pending_[index(sink)];
  bool published = false;
  while (!queue.empty() && client.state() == client::ClientState::Connected &&
         client.canPublish()) {
    Pending& next = queue.front();
    auto ticket = client.publish(next.message, next.tag, driver(sink).nowMs());
    if (!ticket && ticket.error().kind == ErrorKind::QuotaExceeded) break;
    if (!ticket) {
      // Refused for good (too large for the other side, a topic it cannot take): the
      // source hears it was handled, or it would be held, and resent, forever.
      log("dropped a message for " + next.message.topic + ": " +
          std::string(ticket.error().detail));
      release(other(sink), next.tag);
    }
    queue.pop_front();
    published = true;
  }
  if (published) dirty_[index(sink)] = true;
}

void BridgeRuntime::onPublishDone(Leg sink, const client::ClientEvent& event) {
  if (event.tag == 0) return;  // a notification
  const auto& forwarding = forwarding_[index(other(sink))];
  const auto found = forwarding.find(static_cast<std::uint16_t>(event.tag & 0xFFFF));
  if (found != forwarding.end() && found->second.tag == event.tag) {
    count(other(sink), found->second.payloadBytes);
  }
  release(other(sink), event.tag);
  pump(sink, driver(sink).client());
}

// The message `tag` from `source` is done with on the other side: acknowledge it.
void BridgeRuntime::release(Leg source, std::uint64_t tag) {
  const auto id = static_cast<std::uint16_t>(tag & 0xFFFF);
  auto& forwarding = forwarding_[index(source)];
  auto found = forwarding.find(id);
  if (found != forwarding.end() && found->second.tag == tag) {
    const std::uint8_t qos = found->second.qos;
    forwarding.erase(found);
    // Same commit as this removal: the source's acknowledgement (for QoS 2 its journalled
    // packet id, which also answers a resend arriving after a restart).
    client::Client& sourceClient = driver(source).client();
    if (!sourceClient.acknowledge(id) && qos == 2) sourceClient.expectResend(id);
    dirty_[index(source)] = true;
  }
}


void BridgeRuntime::log(const std::string& line) const {
  if (options_.log) options_.log("bridge " + bridge_.name + ": " + line);
}

}  // namespace midge::bridge

