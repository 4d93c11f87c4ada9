// SPDX-License-Identifier: Apache-2.0
#include "tests/websockets/ws_raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace midge::test::websocket {
namespace {

using Clock = std::chrono::steady_clock;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string text) {
  for (char& c : text) c = lower(c);
  return text;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const std::string wanted = "\r\n" + lowered(name) + ":";
  const std::string low = lowered(head);
  const std::size_t at = low.find(wanted);
  if (at == std::string::npos) return {};
  std::size_t start = at + wanted.size();
  while (start < head.size() && head[start] == ' ') ++start;
  const std::size_t end = head.find("\r\n", start);
  return head.substr(start, end - start);
}

std::uint16_t Frame::closeCode() const {
  if (payload.size() < 2) return 1005;
  return static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);
}

std::string upgradeRequest(const std::string& extraHeaders, const std::vector<std::string>& drop) {
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"Host", "127.0.0.1"},
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},  // RFC 6455 section 1.3's example
      {"Sec-WebSocket-Version", "13"},
      {"Sec-WebSocket-Protocol", "mqtt"},
  };
  std::string request = "GET /mqtt HTTP/1.1\r\n";
  for (const auto& [name, value] : defaults) {
    bool dropped = false;
    for (const std::string& d : drop) dropped = dropped || d == name;
    if (!dropped) request += name + ": " + value + "\r\n";
  }
  return request + extraHeaders + "\r\n";
}

ByteVector frameHeader(std::uint8_t opcode, std::uint64_t length, bool fin, bool masked) {
  ByteVector out;
  out.push_back(static_cast<std::uint8_t>((fin ? 0x80 : 0) | opcode));
  const std::uint8_t maskBit = masked ? 0x80 : 0;
  if (length < 126) {
    out.push_back(static_cast<std::uint8_t>(maskBit | length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<std::uint8_t>(maskBit | 126));
    out.push_back(static_cast<std::uint8_t>(length >> 8));
    out.push_back(static_cast<std::uint8_t>(length));
  } else {
    out.push_back(static_cast<std::uint8_t>(maskBit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<std::uint8_t>(length >> shift));
    }
  }
  if (masked) {
    for (int b : {0x11, 0x22, 0x33, 0x44}) out.push_back(static_cast<std::uint8_t>(b));
  }
  return out;
}

ByteVector frame(std::uint8_t opcode, const ByteVector& payload, bool fin, bool masked,
                 std::uint8_t rsv) {
  ByteVector out = frameHeader(opcode, payload.size(), fin, masked);
  out[0] = static_cast<std::uint8_t>(out[0] | ((rsv & 0x7) << 4));
  const std::uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(masked ? static_cast<std::uint8_t>(payload[i] ^ key[i % 4]) : payload[i]);
  }
  return out;
}

ByteVector closeFrame(std::uint16_t code) {
  return frame(kClose, {static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)});
}

WsRawClient::WsRawClient(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + error);
  }
}

WsRawClient::~WsRawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool WsRawClient::send(const ByteVector& bytes) {
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + offset, bytes.size() - offset, MSG_NOSIGNAL);
    if (n <= 0) return false;
    offset += static_cast<std::size_t>(n);
  }
  return true;
}

bool WsRawClient::send(const std::string& text) { return send(ByteVector(text.begin(), text.end())); }

// Reads until buffer_ holds `wanted` bytes; false on close or at the deadline.
bool WsRawClient::fill(std::size_t wanted, Clock::time_point deadline) {
  while (buffer_.size() < wanted) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    std::uint8_t chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.insert(buffer_.end(), chunk, chunk + n);
  }
  return true;
}

HttpResponse WsRawClient::readResponse(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  HttpResponse response;
  for (;;) {
    const std::string text(buffer_.begin(), buffer_.end());
    const std::size_t end = text.find("\r\n\r\n");
    if (end != std::string::npos) {
      response.head = text.substr(0, end + 2);
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(end + 4));
      if (response.head.compare(0, 9, "HTTP/1.1 ") == 0) {
        response.status = std::stoi(response.head.substr(9, 3));
      }
      return response;
    }
    if (!fill(buffer_.size() + 1, deadline)) return response;
  }
}

void WsRawClient::upgrade() {
  send(upgradeRequest());
  const HttpResponse response = readResponse();
  if (response.status != 101) {
    throw std::runtime_error("upgrade refused: " + response.head);
  }
}

std::optional<Frame> WsRawClient::readFrame(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (!fill(2, deadline)) return std::nullopt;
  Frame f;
  f.fin = (buffer_[0] & 0x80) != 0;
  f.opcode = buffer_[0] & 0x0F;
  if ((buffer_[1] & 0x80) != 0) throw std::runtime_error("the server masked a frame");
  std::uint64_t length = buffer_[1] & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    if (!fill(4, deadline)) return std::nullopt;
    length = (std::uint64_t{buffer_[2]} << 8) | buffer_[3];
    header = 4;
  } else if (length == 127) {
    if (!fill(10, deadline)) return std::nullopt;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | buffer_[i];
    header = 10;
  }
  if (!fill(header + length, deadline)) return std::nullopt;
  f.payload.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(header),
                   buffer_.begin() + static_cast<std::ptrdiff_t>(header + length));
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(header + length));
  return f;
}

std::optional<std::uint16_t> WsRawClient::readCloseCode(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    std::optional<Frame> f = readFrame(left);
    if (!f) return std::nullopt;
    if (f->opcode == kClose) return f->closeCode();
  }
  return std::nullopt;
}

bool WsRawClient::waitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  buffer_.clear();
  while (Clock::now() < deadline) {
    if (!fill(1, deadline)) return Clock::now() < deadline;
    buffer_.clear();
  }
  return false;
}

std::optional<ByteVector> WsRawClient::readMqttPacket(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    // A whole packet in hand? Fixed header, then a remaining length of up to 4 bytes.
    if (mqttBytes_.size() >= 2) {
      std::size_t length = 0;
      std::size_t i = 1;
      int shift = 0;
      bool complete = false;
      while (i < mqttBytes_.size() && i <= 4) {
        length |= static_cast<std::size_t>(mqttBytes_[i] & 0x7F) << shift;
        shift += 7;
        if ((mqttBytes_[i++] & 0x80) == 0) {
          complete = true;
          break;
        }
      }
      if (complete && mqttBytes_.size() >= i + length) {
        ByteVector packet(mqttBytes_.begin(), mqttBytes_.begin() + static_cast<std::ptrdiff_t>(i + length));
        mqttBytes_.erase(mqttBytes_.begin(), mqttBytes_.begin() + static_cast<std::ptrdiff_t>(i + length));
        return packet;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::optional<Frame> f = readFrame(left);
    if (!f) return std::nullopt;
    if (f->opcode == kBinary || f->opcode == kContinuation) {
      mqttBytes_.insert(mqttBytes_.end(), f->payload.begin(), f->payload.end());
    } else if (f->opcode == kClose) {
      return std::nullopt;
    }
  }
}

}  // namespace midge::test::websocket
