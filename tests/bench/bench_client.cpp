// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/bench_client.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <variant>

#include "tests/bench/bench_stats.hpp"

namespace midge::bench {
namespace {

// Reads per readiness event before yielding to the other connections, so that one busy
// subscriber cannot starve the publishers of the same loop.
constexpr int kReadsPerEvent = 4;

}  // namespace

Client::Client(ClientEvents& events, std::uint32_t index, std::string clientId,
               const ClientSettings& settings)
    : events_(events), index_(index), clientId_(std::move(clientId)), settings_(settings) {}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

bool Client::start(const sockaddr_storage& address, socklen_t length, int epollFd) {
  epollFd_ = epollFd;
  fd_ = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    close(std::strerror(errno));
    return false;
  }
  const int one = 1;
  // Latency is part of what we measure: never let Nagle hold back a small packet.
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), length);
  if (rc != 0 && errno != EINPROGRESS) {
    close(std::strerror(errno));
    return false;
  }
  state_ = State::TcpConnecting;
  epoll_event event{};
  event.events = EPOLLOUT;
  event.data.u64 = index_;
  if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd_, &event) != 0) {
    close(std::strerror(errno));
    return false;
  }
  registered_ = event.events;
  return true;
}

void Client::finishConnect() {
  int error = 0;
  socklen_t size = sizeof error;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
  if (error != 0) {
    close(std::strerror(error));
    return;
  }
  if (settings_.transport != Transport::Tcp) {
    transport_ = WireTransport::create(settings_.transport);
    std::string why;
    if (!transport_->start(wire_, why)) {
      close("transport handshake failed");
      return;
    }
    state_ = State::Handshaking;
    flush();
    return;
  }
  sendConnect();
}

void Client::sendConnect() {
  // Built in place: moving a Connect (with its optional Will) into the variant trips
  // GCC's -Wmaybe-uninitialized under the sanitizer flags.
  codec::Packet packet(std::in_place_type<codec::Connect>);
  codec::Connect& connect = std::get<codec::Connect>(packet);
  connect.version = settings_.version;
  connect.cleanStart = settings_.cleanSession;
  connect.keepAlive = settings_.keepAlive;
  connect.clientId = clientId_;
  if (settings_.version == codec::ProtocolVersion::V5 && !settings_.cleanSession) {
    connect.properties.sessionExpiryInterval = settings_.sessionExpiry;
  }
  if (!codec::encodePacket(packet, settings_.version, out_).ok()) {
    close("cannot encode CONNECT");
    return;
  }
  state_ = State::AwaitConnack;
  flush();
}

void Client::handleEvents(std::uint32_t events, std::vector<std::uint8_t>& readBuffer) {
  if (state_ == State::Closed) return;
  if (state_ == State::TcpConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) finishConnect();
    return;
  }
  if ((events & EPOLLIN) != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
    readAvailable(readBuffer);
  }
  if (state_ != State::Closed && (events & EPOLLOUT) != 0) flush();
}

void Client::readAvailable(std::vector<std::uint8_t>& readBuffer) {
  for (int attempt = 0; attempt < kReadsPerEvent && state_ != State::Closed; ++attempt) {
    const ssize_t got = ::recv(fd_, readBuffer.data(), readBuffer.size(), 0);
    if (got == 0) {
      close("broker closed the connection");
      return;
    }
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      close(std::strerror(errno));
      return;
    }
    const Bytes chunk(readBuffer.data(), static_cast<std::size_t>(got));
    if (transport_ != nullptr) {
      if (!receiveWire(chunk)) return;
    } else {
      const Status fed =
          framer_.feed(chunk, [this](const codec::Frame& frame) { return onFrame(frame); });
      if (!fed.ok()) {
        close(fed.error().detail);
        return;
      }
    }
    if (static_cast<std::size_t>(got) < readBuffer.size()) break;
  }
  // Acks produced while reading leave in one write.
  if (state_ != State::Closed && pendingBytes() > 0) flush();
}

// ws and wss: the transport turns socket bytes into MQTT bytes (and may answer its own
// handshake); once the upgrade is accepted, CONNECT goes out.
bool Client::receiveWire(Bytes wire) {
  mqttIn_.clear();
  std::string why;
  if (!transport_->receive(wire, mqttIn_, wire_, why)) {
    close("transport failed");
    return false;
  }
  if (state_ == State::Handshaking && transport_->ready()) sendConnect();
  if (state_ == State::Closed || mqttIn_.empty()) return state_ != State::Closed;
  const Status fed =
      framer_.feed(Bytes(mqttIn_), [this](const codec::Frame& frame) { return onFrame(frame); });
  if (!fed.ok()) {
    close(fed.error().detail);
    return false;
  }
  return true;
}

bool Client::onFrame(const codec::Frame& frame) {
  if (state_ == State::Closed) return false;
  switch (frame.type()) {
    case codec::PacketType::Connack: return onConnackFrame(frame);
    case codec::PacketType::Publish: return onPublishFrame(frame);
    case codec::PacketType::Puback:
    case codec::PacketType::Pubrec:
    case codec::PacketType::Pubrel:
    case codec::PacketType::Pubcomp: return onAckFrame(frame);
    case codec::PacketType::Suback: {
      const Result<codec::Suback> suback = codec::decodeSuback(frame, settings_.version);
      if (!suback.ok()) {
        close(suback.error().detail);
        return false;
      }
      bool granted = !suback->reasonCodes.empty();
      for (const std::uint8_t code : suback->reasonCodes) granted = granted && code < 0x80;
      events_.onSuback(*this, granted);
      return state_ != State::Closed;
    }
    case codec::PacketType::Pingresp: return true;
    case codec::PacketType::Disconnect: close("broker sent DISCONNECT"); return false;
    default: close("unexpected packet from the broker"); return false;
  }
}

bool Client::onConnackFrame(const codec::Frame& frame) {
  const Result<codec::Connack> connack = codec::decodeConnack(frame, settings_.version);
  if (!connack.ok()) {
    close(connack.error().detail);
    return false;
  }
  if (connack->reasonCode != 0) {
    events_.onConnack(*this, false);
    close("CONNACK refused the connection");
    return false;
  }
  if (connack->properties.receiveMaximum) {
    brokerReceiveMaximum_ = *connack->properties.receiveMaximum;
  }
  state_ = State::Connected;
  events_.onConnack(*this, true);
  return state_ != State::Closed;
}

bool Client::onPublishFrame(const codec::Frame& frame) {
  const Status decoded = codec::decodePublish(frame, settings_.version, decoded_);
  if (!decoded.ok()) {
    close(decoded.error().detail);
    return false;
  }
  if (decoded_.qos == 1) sendAck(codec::PacketType::Puback, decoded_.packetId);
  if (decoded_.qos == 2) sendAck(codec::PacketType::Pubrec, decoded_.packetId);
  events_.onMessage(*this, decoded_);
  return state_ != State::Closed;
}

bool Client::onAckFrame(const codec::Frame& frame) {
  const Result<codec::Ack> ack = codec::decodeAck(frame, settings_.version);
  if (!ack.ok()) {
    close(ack.error().detail);
    return false;
  }
  const std::uint16_t id = ack->packetId;
  if (ack->type == codec::PacketType::Pubrel) {  // our side as a QoS 2 receiver
    sendAck(codec::PacketType::Pubcomp, id);
    return true;
  }
  const bool rejected = static_cast<std::uint8_t>(ack->reason) >= 0x80;
  const Slot expected =
      ack->type == codec::PacketType::Pubcomp ? Slot::AwaitComp : Slot::AwaitAck;
  if (outbound_.empty() || outbound_[id] != expected) {
    close("acknowledgement for a packet identifier not in flight");
    return false;
  }
  if (ack->type == codec::PacketType::Pubrec && !rejected) {
    outbound_[id] = Slot::AwaitComp;
    sendAck(codec::PacketType::Pubrel, id);
    return true;
  }
  outbound_[id] = Slot::Free;
  --inflight_;
  events_.onPublishDone(*this, rejected);
  return state_ != State::Closed;
}

void Client::sendAck(codec::PacketType type, std::uint16_t packetId) {
  codec::Ack ack;
  ack.type = type;
  ack.packetId = packetId;
  if (!codec::encodeAck(ack, settings_.version, out_).ok()) close("cannot encode an ack");
}

std::uint16_t Client::takePacketId() {
  if (outbound_.empty()) outbound_.assign(65536, Slot::Free);
  // The window is far below 65535, so a free identifier is always near.
  while (outbound_[nextPacketId_] != Slot::Free) {
    nextPacketId_ = static_cast<std::uint16_t>(nextPacketId_ == 65535 ? 1 : nextPacketId_ + 1);
  }
  const std::uint16_t id = nextPacketId_;
  nextPacketId_ = static_cast<std::uint16_t>(nextPacketId_ == 65535 ? 1 : nextPacketId_ + 1);
  return id;
}

bool Client::canPublish() const noexcept {
  return state_ == State::Connected && inflight_ < window_ && pendingBytes() < kOutputHighWater;
}

void Client::publish(std::string_view topic, std::uint8_t qos, Bytes payload) {
  codec::Publish message;
  message.qos = qos;
  message.topic = topic;
  message.payload = payload;
  if (qos > 0) {
    message.packetId = takePacketId();
    outbound_[message.packetId] = Slot::AwaitAck;
    ++inflight_;
  }
  if (!codec::encodePublish(message, settings_.version, out_).ok()) close("cannot encode PUBLISH");
}

void Client::subscribe(std::string_view filter, std::uint8_t qos) {
  codec::Packet packet(std::in_place_type<codec::Subscribe>);
  codec::Subscribe& subscribe = std::get<codec::Subscribe>(packet);
  subscribe.packetId = nextSubscribeId_++;
  subscribe.entries.push_back(codec::SubscribeEntry{filter, qos});
  if (!codec::encodePacket(packet, settings_.version, out_).ok()) {
    close("cannot encode SUBSCRIBE");
    return;
  }
  flush();
}

void Client::sendPing() {
  if (state_ != State::Connected) return;
  if (!codec::encodePingreq(codec::Pingreq{}, settings_.version, out_).ok()) {
    close("cannot encode PINGREQ");
    return;
  }
  flush();
}

void Client::disconnect() {
  if (state_ == State::Connected) {
    if (codec::encodeDisconnect(codec::Disconnect{}, settings_.version, out_).ok()) flush();
  }
  close("disconnected");
}

void Client::close(const char* why) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  if (fd_ >= 0) {
    ::close(fd_);  // also leaves the epoll set
    fd_ = -1;
  }
  out_.clear();
  outOffset_ = 0;
  wire_.clear();
  wireOffset_ = 0;
  events_.onClosed(*this, why);
}

bool Client::flush() {
  if (state_ == State::Closed || state_ == State::TcpConnecting) return state_ != State::Closed;
  if (transport_ != nullptr) {
    if (transport_->ready() && outOffset_ < out_.size()) {
      // Everything queued since the last flush travels in one frame.
      std::string why;
      if (!transport_->send(Bytes(out_.data() + outOffset_, out_.size() - outOffset_), wire_,
                            why)) {
        close("transport send failed");
        return false;
      }
      out_.clear();
      outOffset_ = 0;
    }
    if (!writeOut(wire_, wireOffset_)) return false;
  } else if (!writeOut(out_, outOffset_)) {
    return false;
  }
  updateInterest();
  return true;
}

bool Client::writeOut(std::vector<std::uint8_t>& buffer, std::size_t& offset) {
  while (offset < buffer.size()) {
    const ssize_t sent = ::send(fd_, buffer.data() + offset, buffer.size() - offset, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close(std::strerror(errno));
      return false;
    }
    offset += static_cast<std::size_t>(sent);
    lastSendNs_ = monotonicNs();
  }
  if (offset == buffer.size()) {
    buffer.clear();
    offset = 0;
  } else if (offset > kOutputHighWater) {
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(offset));
    offset = 0;
  }
  return true;
}

void Client::updateInterest() {
  const std::uint32_t wanted = EPOLLIN | (pendingBytes() > 0 ? EPOLLOUT : 0u);
  if (wanted == registered_) return;
  epoll_event event{};
  event.events = wanted;
  event.data.u64 = index_;
  if (epoll_ctl(epollFd_, EPOLL_CTL_MOD, fd_, &event) != 0) {
    close(std::strerror(errno));
    return;
  }
  registered_ = wanted;
}

}  // namespace midge::bench
