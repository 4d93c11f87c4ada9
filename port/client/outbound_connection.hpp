// SPDX-License-Identifier: Apache-2.0
// One outbound TCP connection on a libevent loop, optionally through a StreamFilter (TLS
// in client mode). Non-blocking connect; the owner hears about it through callbacks that
// run on the loop thread. Not reusable: a new attempt is a new object.
//
// Name resolution: a numeric address (IPv4 or IPv6) is used directly. A host name goes
// through getaddrinfo(), which BLOCKS the loop while the resolver works; bridges that
// must never stall the broker should name their upstream by address (or keep a local
// resolver cache). libevent's evdns would avoid it; not used yet.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/util/span.hpp"
#include "port/stream_filter.hpp"

struct event_base;
struct bufferevent;

namespace midge::port {

struct OutboundCallbacks {
  std::function<void()> onConnected;             // TCP up and, with a filter, handshake done
  std::function<void(Bytes)> onBytes;            // application bytes from the peer
  std::function<void(const std::string&)> onClosed;  // once; the reason, for the log
};

class OutboundConnection {
 public:
  // filter may be null (plain TCP). It is driven from the first byte of the connection.
  OutboundConnection(event_base* base, std::unique_ptr<StreamFilter> filter,
                     OutboundCallbacks callbacks);
  ~OutboundConnection();
  OutboundConnection(const OutboundConnection&) = delete;
  OutboundConnection& operator=(const OutboundConnection&) = delete;

  // Starts connecting; false (with error) when the address cannot be resolved or the
  // socket not created. Otherwise the outcome arrives through the callbacks.
  bool start(const std::string& host, std::uint16_t port, std::string& error);
  // Application bytes; ignored before onConnected or after a close.
  void send(Bytes bytes);
  // Writes what is buffered, then closes; onClosed follows.
  void close();
  bool connected() const noexcept { return ready_; }

 private:
  static void readCallback(bufferevent* bev, void* self);
  static void writeCallback(bufferevent* bev, void* self);
  static void eventCallback(bufferevent* bev, short events, void* self);
  void onSocketConnected();
  void onSocketBytes();
  void writeWire(const std::vector<std::uint8_t>& wire);
  void finish(const std::string& reason);

  event_base* base_;
  std::unique_ptr<StreamFilter> filter_;
  OutboundCallbacks callbacks_;
  bufferevent* bev_ = nullptr;
  bool ready_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

}  // namespace midge::port
