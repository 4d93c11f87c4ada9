// SPDX-License-Identifier: Apache-2.0
// The gateway bridge: device lines in, MQTT out, and commands back to the device.
//
// One thread and one poll() loop over the device, the broker socket and a signalfd. The
// MQTT session is the tiny client of examples/cortex-m (the project codec, fixed buffers)
// over a non-blocking TCP socket. Readings always pass through a bounded queue, so the
// same path serves a live connection and the flush after an outage.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "examples/cortex-m/client/tiny_client.hpp"
#include "examples/gateway-bridge/backoff.hpp"
#include "examples/gateway-bridge/bounded_queue.hpp"
#include "examples/gateway-bridge/line_protocol.hpp"
#include "examples/gateway-bridge/options.hpp"
#include "examples/gateway-bridge/serial_port.hpp"
#include "examples/gateway-bridge/tcp_transport.hpp"

namespace midge::bridge {

class Bridge {
 public:
  explicit Bridge(BridgeOptions options);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Runs until SIGINT, SIGTERM or SIGHUP (or the end of stdin in stdio mode). Returns 0
  // after a clean stop, 1 when it cannot start (the device cannot be opened, ...).
  int run();

 private:
  struct Outgoing {
    std::string topic;
    std::string payload;
    bool retain = false;
  };
  enum class Link { Down, Connecting, Mqtt };

  bool setUp();
  void advance(std::uint64_t nowMs);
  void pollOnce(std::uint64_t nowMs);
  int pollTimeoutMs(std::uint64_t nowMs) const;

  void startConnecting(std::uint64_t nowMs);
  void connectFailed(const std::string& why, std::uint64_t nowMs);
  void startMqtt(std::uint64_t nowMs);
  void pump(std::uint64_t nowMs);

  void readDevice(std::uint64_t nowMs);
  void handleLine(std::string_view line);
  void reopenDevice(std::uint64_t nowMs);
  void deviceLost(const std::string& why, std::uint64_t nowMs);

  void beginStop(std::uint64_t nowMs);
  void continueStop(std::uint64_t nowMs);
  void readSignal(std::uint64_t nowMs);

  // tiny::Client callbacks.
  tiny::Callbacks makeCallbacks();
  void onConnected();
  void onDisconnected(tiny::DisconnectReason reason);
  void onMessage(const tiny::IncomingMessage& message);
  void onSubscribed(std::uint8_t grantedQos);

  void info(const std::string& message) const;
  void debug(const std::string& message) const;

  BridgeOptions options_;
  std::string statusTopic_;
  std::string commandTopic_;
  std::string droppedTopic_;

  std::unique_ptr<DeviceLink> device_;
  std::uint64_t deviceRetryAtMs_ = 0;
  LineSplitter splitter_;
  std::size_t overlongReported_ = 0;
  std::string readBuffer_;

  std::vector<std::uint8_t> tx_;
  std::vector<std::uint8_t> rx_;
  std::vector<std::uint8_t> inflight_;
  TcpConnection tcp_;
  tiny::Client client_;
  Link link_ = Link::Down;
  bool ready_ = false;  // subscribed to the command topic and announced online
  std::uint64_t retryAtMs_ = 0;
  std::uint64_t connectStartedMs_ = 0;
  std::uint64_t nowMs_ = 0;  // of the current loop step, for the callbacks
  Backoff backoff_;

  BoundedQueue<Outgoing> readings_;
  std::deque<Outgoing> control_;  // status and drop reports: small, sent first
  std::uint64_t droppedReported_ = 0;
  std::uint64_t published_ = 0;

  int signalFd_ = -1;
  bool stopping_ = false;
  bool finished_ = false;
  int exitStatus_ = 0;
  std::uint64_t stopDeadlineMs_ = 0;
};

}  // namespace midge::bridge
