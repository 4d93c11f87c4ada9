// SPDX-License-Identifier: Apache-2.0
// An MQTT client inside the process that hosts the broker. The application talks MQTT to
// its own engine over a connection id that no socket uses, so it is subject to exactly
// what network clients are (retained messages, QoS, the authenticator) without a loopback
// socket, a second thread or a client library.
//
// The engine contract (core/engine/io.hpp) shapes the API: the engine must not be called
// back from inside Output::send/close, so bytes from the engine are only buffered by
// deliver() and handled by service(), which the host calls inside a loop turn.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/packet.hpp"
#include "core/engine/io.hpp"

namespace midge::embedding {

class LocalClient {
 public:
  using MessageHandler = std::function<void(std::string_view topic, std::string_view payload)>;

  // `id` must be one the event loop never hands out (it counts up from 1).
  LocalClient(ConnectionEvents& engine, ConnectionId id, std::string clientId);

  // Queued until the next service(); kept across reconnects. Publishes made while the
  // connection is down wait, bounded by kMaxQueued (the oldest is dropped first).
  void publish(std::string topic, std::string payload, std::uint8_t qos, bool retain);
  void subscribe(std::string filter, std::uint8_t qos);
  void setMessageHandler(MessageHandler handler) { onMessage_ = std::move(handler); }

  // --- for the host that routes the engine's Output ---
  void deliver(Bytes bytes) { inbound_.insert(inbound_.end(), bytes.begin(), bytes.end()); }
  void closedByEngine() { closePending_ = true; }
  // Inside a loop turn: reports a close, (re)opens the connection with CONNECT, handles
  // what the engine sent, and hands queued packets to the engine.
  void service();

  ConnectionId id() const noexcept { return id_; }
  bool connected() const noexcept { return connected_; }
  std::uint64_t droppedPublishes() const noexcept { return dropped_; }

  static constexpr std::size_t kMaxQueued = 1000;

 private:
  struct Subscription {
    std::string filter;
    std::uint8_t qos;
  };
  struct PendingPublish {
    std::string topic;
    std::string payload;
    std::uint8_t qos;
    bool retain;
  };

  void open();
  void handle(const codec::Packet& packet);
  void send(const codec::Connect& connect);
  void send(const codec::Subscribe& subscribe);
  void send(const codec::Publish& publish);
  void send(const codec::Ack& ack);
  void sendSubscriptions();
  std::uint16_t nextPacketId();

  ConnectionEvents& engine_;
  ConnectionId id_;
  std::string clientId_;
  codec::Framer framer_;
  std::vector<std::uint8_t> inbound_;
  std::vector<std::uint8_t> outbound_;
  std::vector<Subscription> subscriptions_;
  std::deque<PendingPublish> pending_;
  MessageHandler onMessage_;
  bool open_ = false;
  bool connected_ = false;
  bool closePending_ = false;
  std::uint16_t lastPacketId_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace midge::embedding
