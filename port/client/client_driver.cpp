// SPDX-License-Identifier: Apache-2.0
#include "port/client/client_driver.hpp"

#include <event2/event.h>

#include <algorithm>
#include <ctime>
#include <utility>

namespace midge::port {

ClientDriver::ClientDriver(event_base* base, client::ClientOptions clientOptions,
                           client::ClientJournal* journal, ClientDriverOptions options,
                           ClientDriverHooks hooks)
    : base_(base),
      client_(std::move(clientOptions), journal),
      options_(std::move(options)),
      hooks_(std::move(hooks)) {}

ClientDriver::~ClientDriver() {
  if (timer_ != nullptr) event_free(timer_);
}

std::uint64_t ClientDriver::nowMs() const {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000 +
         static_cast<std::uint64_t>(now.tv_nsec / 1000000);
}

Status ClientDriver::start(const std::vector<client::JournalRecord>& records) {
  if (options_.addresses.empty()) {
    return Error{ErrorKind::ImplementationError, "an uplink needs at least one address"};
  }
  if (!records.empty()) MIDGE_TRY(client_.restore(records));
  timer_ = event_new(base_, -1, EV_PERSIST, &ClientDriver::onTimer, this);
  const timeval interval{0, static_cast<suseconds_t>(options_.tickMs) * 1000};
  event_add(timer_, &interval);
  stopped_ = false;
  attempt();
  return Status::success();
}

void ClientDriver::stop() {
  stopped_ = true;
  client_.disconnect();
  flush();
}

void ClientDriver::onTimer(int, short, void* self) { static_cast<ClientDriver*>(self)->tick(); }

void ClientDriver::tick() {
  retired_.clear();
  if (connection_) {
    client_.onTick(nowMs());
    flush();
  } else if (!stopped_ && nowMs() >= retryAtMs_) {
    attempt();
  }
}

void ClientDriver::attempt() {
  const UplinkAddress& address = options_.addresses[addressIndex_];
  std::unique_ptr<StreamFilter> filter = options_.filters ? options_.filters->create() : nullptr;
  OutboundCallbacks callbacks;
  callbacks.onConnected = [this] {
    if (!client_.connect(nowMs())) return;
    flush();
  };
  callbacks.onBytes = [this](Bytes bytes) {
    client_.onBytes(bytes, nowMs());
    flush();
  };
  callbacks.onClosed = [this](const std::string& reason) { onConnectionClosed(reason); };
  connection_ = std::make_unique<OutboundConnection>(base_, std::move(filter), std::move(callbacks));
  log("connecting to " + address.host + ":" + std::to_string(address.port));
  std::string error;
  if (!connection_->start(address.host, address.port, error)) {
    retired_.push_back(std::move(connection_));
    log(error);
    scheduleRetry();
  }
}

void ClientDriver::flush() {
  for (const client::ClientEvent& event : client_.takeEvents()) {
    if (event.kind == client::ClientEventKind::Connected) {
      if (everConnected_) ++reconnects_;
      everConnected_ = true;
      failures_ = 0;
    }
    if (hooks_.onEvent) hooks_.onEvent(client_, event);
  }
  // Events may have produced more events (an owner publishing on Connected): drain them.
  std::vector<client::ClientEvent> more = client_.takeEvents();
  while (!more.empty()) {
    for (const auto& event : more) {
      if (hooks_.onEvent) hooks_.onEvent(client_, event);
    }
    more = client_.takeEvents();
  }
  if (hooks_.commit) hooks_.commit();
  const std::vector<std::uint8_t> bytes = client_.takeBytes();
  if (connection_) {
    connection_->send(Bytes(bytes));
    if (client_.closeRequested()) connection_->close();
  }
}

void ClientDriver::onConnectionClosed(const std::string& reason) {
  log("uplink closed: " + reason);
  client_.onTransportClosed();
  if (connection_) retired_.push_back(std::move(connection_));
  flush();
  if (!stopped_) scheduleRetry();
}

void ClientDriver::scheduleRetry() {
  if (!connected() && failures_ > 0 && options_.addresses.size() > 1) {
    addressIndex_ = (addressIndex_ + 1) % options_.addresses.size();
  }
  const std::uint32_t shift = std::min<std::uint32_t>(failures_, 16);
  const std::uint64_t delay =
      std::min<std::uint64_t>(std::uint64_t{options_.restartBaseMs} << shift, options_.restartCapMs);
  ++failures_;
  retryAtMs_ = nowMs() + delay;
}

Result<client::PublishTicket> ClientDriver::publish(const client::OutboundMessage& message,
                                                    std::uint64_t tag) {
  auto ticket = client_.publish(message, tag, nowMs());
  flush();
  return ticket;
}

Result<std::uint16_t> ClientDriver::subscribe(
    const std::vector<client::Subscription>& subscriptions) {
  auto id = client_.subscribe(subscriptions, nowMs());
  flush();
  return id;
}

Status ClientDriver::acknowledge(std::uint16_t packetId) {
  const Status status = client_.acknowledge(packetId);
  flush();
  return status;
}

void ClientDriver::expectResend(std::uint16_t packetId) {
  client_.expectResend(packetId);
  flush();
}

void ClientDriver::log(const std::string& message) {
  if (hooks_.log) hooks_.log(message);
}

}  // namespace midge::port
