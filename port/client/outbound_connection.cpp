// SPDX-License-Identifier: Apache-2.0
#include "port/client/outbound_connection.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

namespace midge::port {

OutboundConnection::OutboundConnection(event_base* base, std::unique_ptr<StreamFilter> filter,
                                       OutboundCallbacks callbacks)
    : base_(base), filter_(std::move(filter)), callbacks_(std::move(callbacks)) {}

OutboundConnection::~OutboundConnection() {
  if (bev_ != nullptr) bufferevent_free(bev_);
}

bool OutboundConnection::start(const std::string& host, std::uint16_t port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
  if (rc == EAI_NONAME) {
    // Not a numeric address: this lookup blocks the loop (see the header).
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
  }
  if (rc != 0 || result == nullptr) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  bev_ = bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE);
  if (bev_ == nullptr) {
    freeaddrinfo(result);
    error = "cannot create a socket";
    return false;
  }
  bufferevent_setcb(bev_, &OutboundConnection::readCallback, &OutboundConnection::writeCallback,
                    &OutboundConnection::eventCallback, this);
  const int connectRc = bufferevent_socket_connect(bev_, result->ai_addr,
                                                   static_cast<int>(result->ai_addrlen));
  freeaddrinfo(result);
  if (connectRc != 0) {
    error = "connect to " + host + ":" + service + " failed: " + std::strerror(errno);
    return false;
  }
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  return true;
}

void OutboundConnection::readCallback(bufferevent*, void* self) {
  static_cast<OutboundConnection*>(self)->onSocketBytes();
}

void OutboundConnection::writeCallback(bufferevent*, void* self) {
  auto* connection = static_cast<OutboundConnection*>(self);
  if (connection->closing_) connection->finish("closed by the client");
}

void OutboundConnection::eventCallback(bufferevent*, short events, void* self) {
  auto* connection = static_cast<OutboundConnection*>(self);
  if ((events & BEV_EVENT_CONNECTED) != 0) {
    connection->onSocketConnected();
    return;
  }
  if ((events & BEV_EVENT_EOF) != 0) {
    connection->finish("the server closed the connection");
  } else if ((events & BEV_EVENT_ERROR) != 0) {
    const int error = EVUTIL_SOCKET_ERROR();
    connection->finish(std::string("socket error: ") + evutil_socket_error_to_string(error));
  }
}

void OutboundConnection::onSocketConnected() {
  if (!filter_) {
    ready_ = true;
    if (callbacks_.onConnected) callbacks_.onConnected();
    return;
  }
  // An empty read starts the handshake: a client filter writes its ClientHello.
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> wire;
  const bool ok = filter_->onReceive(Bytes(), plain, wire);
  writeWire(wire);
  if (!ok) finish(std::string(filter_->protocolName()) + " error: " + filter_->error());
}

void OutboundConnection::onSocketBytes() {
  evbuffer* input = bufferevent_get_input(bev_);
  const std::size_t length = evbuffer_get_length(input);
  if (length == 0 || finished_) return;
  const std::uint8_t* data = evbuffer_pullup(input, static_cast<ev_ssize_t>(length));
  std::vector<std::uint8_t> received(data, data + length);
  evbuffer_drain(input, length);
  if (!filter_) {
    if (callbacks_.onBytes) callbacks_.onBytes(Bytes(received));
    return;
  }
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> wire;
  const bool wasReady = filter_->handshakeDone();
  const bool ok = filter_->onReceive(Bytes(received), plain, wire);
  writeWire(wire);
  if (!wasReady && filter_->handshakeDone() && ok) {
    ready_ = true;
    if (callbacks_.onConnected) callbacks_.onConnected();
  }
  if (!plain.empty() && callbacks_.onBytes && !finished_) callbacks_.onBytes(Bytes(plain));
  if (!ok && !finished_) {
    finish(std::string(filter_->protocolName()) + " error: " + filter_->error());
  }
}

void OutboundConnection::send(Bytes bytes) {
  if (!ready_ || closing_ || finished_ || bytes.empty()) return;
  if (!filter_) {
    bufferevent_write(bev_, bytes.data(), bytes.size());
    return;
  }
  std::vector<std::uint8_t> wire;
  const bool ok = filter_->onSend(bytes, wire);
  writeWire(wire);
  if (!ok) finish(std::string(filter_->protocolName()) + " error: " + filter_->error());
}

void OutboundConnection::writeWire(const std::vector<std::uint8_t>& wire) {
  if (!wire.empty() && bev_ != nullptr) bufferevent_write(bev_, wire.data(), wire.size());
}

void OutboundConnection::close() {
  if (finished_ || closing_) return;
  closing_ = true;
  if (filter_ && ready_) {
    std::vector<std::uint8_t> wire;
    filter_->closeGracefully(wire);
    writeWire(wire);
  }
  if (bev_ == nullptr || evbuffer_get_length(bufferevent_get_output(bev_)) == 0) {
    finish("closed by the client");
  }
  // Otherwise writeCallback finishes once the output has drained.
}

void OutboundConnection::finish(const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  ready_ = false;
  if (bev_ != nullptr) bufferevent_disable(bev_, EV_READ | EV_WRITE);
  // The owner usually destroys this object from onClosed: nothing may touch it afterwards.
  auto onClosed = callbacks_.onClosed;
  if (onClosed) onClosed(reason);
}

}  // namespace midge::port
