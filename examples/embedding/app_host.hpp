// SPDX-License-Identifier: Apache-2.0
// Sits between the event loop and the engine when an application hosts the broker:
// forwards every network event to the Broker, gives the application a hook inside each
// loop turn, and routes the engine's output for the in-process client's connection id to
// that client instead of to a socket.
//
//   EventLoop --events--> AppHost --events--> Broker
//   EventLoop <--output-- AppHost <--output-- Broker
//                            \--> LocalClient (its connection id only)
#pragma once

#include <functional>

#include "core/engine/broker.hpp"
#include "examples/embedding/local_client.hpp"
#include "port/net/event_loop.hpp"

namespace midge::embedding {

class AppHost final : public ConnectionEvents, public Output {
 public:
  explicit AppHost(port::EventLoop& loop) : loop_(loop) {}

  // The broker is built with this object as its Output, so it is attached afterwards.
  // onTurn runs in every tick turn, after the local client was serviced.
  void attach(Broker& broker, LocalClient& client, std::function<void()> onTurn) {
    broker_ = &broker;
    client_ = &client;
    onTurn_ = std::move(onTurn);
  }

  // The application's own work inside a turn outside the tick (e.g. from a signal
  // callback): the local client's queued packets reach the engine at once.
  void serviceNow() { client_->service(); }

  // ConnectionEvents, from the loop.
  void onOpen(ConnectionId id, const PeerInfo& peer) override { broker_->onOpen(id, peer); }
  void onBytes(ConnectionId id, Bytes bytes) override { broker_->onBytes(id, bytes); }
  void onWritable(ConnectionId id) override { broker_->onWritable(id); }
  void onClose(ConnectionId id) override { broker_->onClose(id); }
  void onTick() override {
    broker_->onTick();
    client_->service();
    if (onTurn_) onTurn_();
    client_->service();  // what onTurn published goes to the engine in this same turn
  }
  void endOfTurn() override { broker_->endOfTurn(); }

  // Output, from the engine.
  void send(ConnectionId id, Bytes bytes) override {
    if (id == client_->id()) {
      client_->deliver(bytes);
    } else {
      loop_.send(id, bytes);
    }
  }
  void close(ConnectionId id) override {
    if (id == client_->id()) {
      client_->closedByEngine();
    } else {
      loop_.close(id);
    }
  }
  bool congested(ConnectionId id) const override {
    return id != client_->id() && loop_.congested(id);
  }
  void log(LogLevel level, std::string_view message) override { loop_.log(level, message); }

 private:
  port::EventLoop& loop_;
  Broker* broker_ = nullptr;
  LocalClient* client_ = nullptr;
  std::function<void()> onTurn_;
};

}  // namespace midge::embedding
