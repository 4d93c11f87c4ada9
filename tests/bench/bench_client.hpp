// SPDX-License-Identifier: Apache-2.0
// One MQTT client connection of midge-bench: a non-blocking socket registered with the
// runner's epoll, framed and decoded with the project's codec. It completes the QoS 1
// and QoS 2 flows on both sides by itself and reports what the benchmark counts through
// ClientEvents.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/codec/codec.hpp"
#include "tests/bench/bench_transport.hpp"

namespace midge::bench {

class Client;

class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  // CONNACK arrived; accepted == false when the broker refused the connection.
  virtual void onConnack(Client& client, bool accepted) = 0;
  // SUBACK arrived; granted == false when the broker refused the filter.
  virtual void onSuback(Client& client, bool granted) = 0;
  virtual void onMessage(Client& client, const codec::Publish& publish) = 0;
  // A PUBACK or PUBCOMP freed a window slot; rejected when it carried a v5 error reason.
  virtual void onPublishDone(Client& client, bool rejected) = 0;
  // The connection is gone (error, peer close, or our own close()).
  virtual void onClosed(Client& client, const char* why) = 0;
};

struct ClientSettings {
  codec::ProtocolVersion version = codec::ProtocolVersion::V311;
  bool cleanSession = true;
  std::uint16_t keepAlive = 60;
  std::uint32_t sessionExpiry = 0;  // v5, when not clean
  Transport transport = Transport::Tcp;
};

class Client {
 public:
  // Handshaking: TLS and the WebSocket upgrade, for --transport ws and wss.
  enum class State : std::uint8_t {
    Idle, TcpConnecting, Handshaking, AwaitConnack, Connected, Closed
  };

  Client(ClientEvents& events, std::uint32_t index, std::string clientId,
         const ClientSettings& settings);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Opens a non-blocking socket, starts connecting and registers with epoll using
  // `index` as the event tag. False (and Closed, with onClosed) on immediate failure.
  bool start(const sockaddr_storage& address, socklen_t length, int epollFd);
  // Dispatches an epoll event for this client.
  void handleEvents(std::uint32_t events, std::vector<std::uint8_t>& readBuffer);

  void subscribe(std::string_view filter, std::uint8_t qos);
  // Appends one PUBLISH; QoS > 0 takes a packet identifier from the window. The caller
  // checks canPublish() first.
  void publish(std::string_view topic, std::uint8_t qos, Bytes payload);
  bool canPublish() const noexcept;
  void sendPing();
  // Sends DISCONNECT (best effort) and closes.
  void disconnect();
  void close(const char* why);
  // Writes what is queued; false when the connection failed.
  bool flush();

  void setWindow(std::uint32_t window) noexcept { window_ = window; }
  std::uint32_t window() const noexcept { return window_; }
  std::uint32_t inflight() const noexcept { return inflight_; }
  std::size_t pendingBytes() const noexcept {
    return out_.size() - outOffset_ + wire_.size() - wireOffset_;
  }
  std::uint32_t index() const noexcept { return index_; }
  State state() const noexcept { return state_; }
  std::uint64_t lastSendNs() const noexcept { return lastSendNs_; }
  // v5 CONNACK Receive Maximum (65535 when absent or before v5).
  std::uint16_t brokerReceiveMaximum() const noexcept { return brokerReceiveMaximum_; }

  // A publisher stops producing above this much unsent data, so that time spent queued
  // in our own buffer stays small next to the broker's latency.
  static constexpr std::size_t kOutputHighWater = 64 * 1024;

 private:
  // Per packet identifier: where its flow stands.
  enum class Slot : std::uint8_t { Free, AwaitAck, AwaitComp };

  bool onFrame(const codec::Frame& frame);
  bool onConnackFrame(const codec::Frame& frame);
  bool onPublishFrame(const codec::Frame& frame);
  bool onAckFrame(const codec::Frame& frame);
  void sendAck(codec::PacketType type, std::uint16_t packetId);
  std::uint16_t takePacketId();
  void finishConnect();
  void sendConnect();
  bool writeOut(std::vector<std::uint8_t>& buffer, std::size_t& offset);
  bool receiveWire(Bytes wire);
  void updateInterest();
  void readAvailable(std::vector<std::uint8_t>& readBuffer);

  ClientEvents& events_;
  std::uint32_t index_;
  std::string clientId_;
  ClientSettings settings_;
  State state_ = State::Idle;
  int fd_ = -1;
  int epollFd_ = -1;
  std::uint32_t registered_ = 0;  // epoll events currently asked for

  codec::Framer framer_;
  codec::Publish decoded_;  // reused: decoding a PUBLISH allocates nothing
  std::vector<std::uint8_t> out_;
  std::size_t outOffset_ = 0;
  std::uint64_t lastSendNs_ = 0;
  // ws and wss only: out_ holds MQTT bytes, which flush() frames into wire_.
  std::unique_ptr<WireTransport> transport_;
  std::vector<std::uint8_t> wire_;
  std::size_t wireOffset_ = 0;
  std::vector<std::uint8_t> mqttIn_;

  std::vector<Slot> outbound_;  // by packet identifier; allocated by the first publish
  std::uint16_t nextPacketId_ = 1;
  std::uint32_t inflight_ = 0;
  std::uint32_t window_ = 1;
  std::uint16_t brokerReceiveMaximum_ = 65535;
  std::uint16_t nextSubscribeId_ = 1;
};

}  // namespace midge::bench
