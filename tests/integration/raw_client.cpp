// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace midge::test {

namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string describe(const RawPacket& packet) {
  std::string text = "packet type " + std::to_string(packet.type()) + " body";
  char hex[4];
  for (std::size_t i = 0; i < packet.body.size() && i < 32; ++i) {
    std::snprintf(hex, sizeof hex, " %02x", packet.body[i]);
    text += hex;
  }
  return text;
}

}  // namespace

ByteVector RawPacket::wire() const { return wire::packet(header, body); }

RawClient::RawClient(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + error);
  }
  int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

RawClient::~RawClient() { close(); }

bool RawClient::send(const ByteVector& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<RawPacket> RawClient::takeBuffered() {
  if (buffer_.size() < 2) return std::nullopt;
  std::uint32_t length = 0;
  std::size_t at = 1;
  for (int shift = 0;; shift += 7) {
    if (at >= buffer_.size()) return std::nullopt;
    if (shift > 21) throw std::runtime_error("broker sent a remaining length over 4 bytes");
    const std::uint8_t byte = buffer_[at++];
    length |= static_cast<std::uint32_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (buffer_.size() - at < length) return std::nullopt;
  RawPacket packet;
  packet.header = buffer_[0];
  packet.body.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(at),
                     buffer_.begin() + static_cast<std::ptrdiff_t>(at + length));
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(at + length));
  return packet;
}

ReadResult RawClient::read(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  ReadResult result;
  for (;;) {
    if (auto packet = takeBuffered()) {
      result.status = ReadStatus::Packet;
      result.packet = std::move(*packet);
      received_.push_back(result.packet);
      return result;
    }
    if (fd_ < 0) {
      result.status = ReadStatus::Closed;
      return result;
    }
    pollfd entry{fd_, POLLIN, 0};
    const int ready = ::poll(&entry, 1, remainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      result.status = ReadStatus::Timeout;
      return result;
    }
    std::uint8_t chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      result.status = ReadStatus::Closed;
      return result;
    }
    buffer_.insert(buffer_.end(), chunk, chunk + n);
  }
}

RawPacket RawClient::expect(std::uint8_t type, std::chrono::milliseconds timeout) {
  ReadResult result = read(timeout);
  if (result.status == ReadStatus::Closed) {
    throw std::runtime_error("connection closed while waiting for packet type " +
                             std::to_string(type));
  }
  if (result.status == ReadStatus::Timeout) {
    throw std::runtime_error("timed out waiting for packet type " + std::to_string(type));
  }
  if (result.packet.type() != type) {
    throw std::runtime_error("expected packet type " + std::to_string(type) + ", got " +
                             describe(result.packet));
  }
  return result.packet;
}

bool RawClient::waitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const ReadResult result = read(std::chrono::milliseconds(remainingMs(deadline)));
    if (result.status == ReadStatus::Closed) return true;
    if (result.status == ReadStatus::Timeout) return false;
  }
}

bool RawClient::nothingWithin(std::chrono::milliseconds quiet) {
  return read(quiet).status == ReadStatus::Timeout;
}

void RawClient::abort() {
  if (fd_ < 0) return;
  linger option{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(fd_);
  fd_ = -1;
}

void RawClient::close() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

RawPacket handshake(RawClient& client, const wire::ConnectSpec& spec) {
  if (!client.send(wire::connect(spec))) throw std::runtime_error("CONNECT not sent");
  const RawPacket connack = client.expect(kConnack);
  if (wire::reasonOf(connack) != 0) {
    throw std::runtime_error("CONNACK refused: " + std::to_string(wire::reasonOf(connack)));
  }
  client.clearReceived();
  return connack;
}

namespace wire {

void putU16(ByteVector& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

void putU32(ByteVector& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>((value >> shift) & 0xFF));
  }
}

void putVarint(ByteVector& out, std::uint32_t value) {
  do {
    auto byte = static_cast<std::uint8_t>(value & 0x7F);
    value >>= 7;
    if (value != 0) byte = static_cast<std::uint8_t>(byte | 0x80);
    out.push_back(byte);
  } while (value != 0);
}

void putString(ByteVector& out, const std::string& text) {
  putU16(out, static_cast<std::uint16_t>(text.size()));
  out.insert(out.end(), text.begin(), text.end());
}

ByteVector packet(std::uint8_t header, const ByteVector& body) {
  ByteVector out{header};
  putVarint(out, static_cast<std::uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

namespace {

void putProperties(ByteVector& out, const ByteVector& properties) {
  putVarint(out, static_cast<std::uint32_t>(properties.size()));
  out.insert(out.end(), properties.begin(), properties.end());
}

}  // namespace

ByteVector connect(const ConnectSpec& spec) {
  ByteVector body;
  putString(body, spec.protocolName.value_or(spec.level == 3 ? "MQIsdp" : "MQTT"));
  body.push_back(spec.level);
  std::uint8_t flags = spec.extraFlags;
  if (spec.cleanStart) flags |= 0x02;
  if (spec.will) {
    flags = static_cast<std::uint8_t>(flags | 0x04 | (spec.will->qos << 3) |
                                      (spec.will->retain ? 0x20 : 0));
  }
  if (spec.password) flags |= 0x40;
  if (spec.username) flags |= 0x80;
  body.push_back(flags);
  putU16(body, spec.keepAlive);
  if (spec.level == 5) putProperties(body, spec.properties);
  putString(body, spec.clientId);
  if (spec.will) {
    if (spec.level == 5) putProperties(body, spec.will->properties);
    putString(body, spec.will->topic);
    putString(body, spec.will->payload);
  }
  if (spec.username) putString(body, *spec.username);
  if (spec.password) putString(body, *spec.password);
  return packet(0x10, body);
}

ByteVector publish(const std::string& topic, const std::string& payload, std::uint8_t qos,
                   std::uint16_t packetId, bool retain, bool v5, const ByteVector& properties) {
  ByteVector body;
  putString(body, topic);
  if (qos > 0) putU16(body, packetId);
  if (v5) putProperties(body, properties);
  body.insert(body.end(), payload.begin(), payload.end());
  const auto header = static_cast<std::uint8_t>(0x30 | (qos << 1) | (retain ? 1 : 0));
  return packet(header, body);
}

ByteVector subscribe(std::uint16_t packetId, const std::string& filter, std::uint8_t options,
                     bool v5, const ByteVector& properties) {
  ByteVector body;
  putU16(body, packetId);
  if (v5) putProperties(body, properties);
  putString(body, filter);
  body.push_back(options);
  return packet(0x82, body);
}

ByteVector unsubscribe(std::uint16_t packetId, const std::string& filter, bool v5) {
  ByteVector body;
  putU16(body, packetId);
  if (v5) putProperties(body, {});
  putString(body, filter);
  return packet(0xA2, body);
}

ByteVector ack(std::uint8_t type, std::uint16_t packetId) {
  ByteVector body;
  putU16(body, packetId);
  // PUBREL's fixed header flags are 0010 (MQTT 3.1.1 section 3.6.1).
  const auto header = static_cast<std::uint8_t>((type << 4) | (type == kPubrel ? 0x02 : 0));
  return packet(header, body);
}

ByteVector pingreq() { return {0xC0, 0x00}; }

ByteVector disconnect(bool v5, std::uint8_t reason) {
  if (!v5 || reason == 0) return {0xE0, 0x00};
  return {0xE0, 0x01, reason};
}

PublishView parsePublish(const RawPacket& packet, bool v5) {
  if (packet.type() != kPublish) throw std::runtime_error("not a PUBLISH: " + describe(packet));
  PublishView view;
  view.qos = static_cast<std::uint8_t>((packet.header >> 1) & 0x03);
  view.retain = (packet.header & 0x01) != 0;
  view.dup = (packet.header & 0x08) != 0;
  const ByteVector& body = packet.body;
  std::size_t at = 0;
  auto need = [&](std::size_t n) {
    if (body.size() - at < n) throw std::runtime_error("short PUBLISH: " + describe(packet));
  };
  need(2);
  const std::size_t topicLength = static_cast<std::size_t>(body[at] << 8 | body[at + 1]);
  at += 2;
  need(topicLength);
  view.topic.assign(body.begin() + static_cast<std::ptrdiff_t>(at),
                    body.begin() + static_cast<std::ptrdiff_t>(at + topicLength));
  at += topicLength;
  if (view.qos > 0) {
    need(2);
    view.packetId = static_cast<std::uint16_t>(body[at] << 8 | body[at + 1]);
    at += 2;
  }
  if (v5) {
    std::uint32_t length = 0;
    for (int shift = 0;; shift += 7) {
      need(1);
      const std::uint8_t byte = body[at++];
      length |= static_cast<std::uint32_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) break;
    }
    need(length);
    view.properties.assign(body.begin() + static_cast<std::ptrdiff_t>(at),
                           body.begin() + static_cast<std::ptrdiff_t>(at + length));
    at += length;
  }
  view.payload.assign(body.begin() + static_cast<std::ptrdiff_t>(at), body.end());
  return view;
}

std::uint8_t reasonOf(const RawPacket& packet) {
  if (packet.type() == kConnack) return packet.body.size() >= 2 ? packet.body[1] : 0xFF;
  return packet.body.empty() ? 0 : packet.body[0];
}

}  // namespace wire

}  // namespace midge::test
