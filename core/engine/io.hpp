// SPDX-License-Identifier: Apache-2.0
// The seam between the sans-IO engine and whatever drives it (port/ on libevent, a test,
// a fuzzer, firmware). The engine never blocks, never reads a clock and never touches a
// socket: the driver reports events, the engine answers through Output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/span.hpp"

namespace midge {

using ConnectionId = std::uint64_t;

struct PeerInfo {
  std::string address;       // "192.0.2.1:5000" or "[::1]:5000", for logs and rate limits
  std::uint16_t listenerPort = 0;
  int listenerIndex = 0;     // which configured listener accepted it
  bool tls = false;
  std::string certIdentity;  // client certificate CN/subject when the listener asks for it
};

// Subscribe and Unsubscribe are Mosquitto's log types of the same names: a record of every
// subscription change, off by default.
enum class LogLevel : std::uint8_t { Error, Warning, Notice, Info, Debug, Subscribe, Unsubscribe };

// Implemented by the driver. Contract:
// - send() copies the bytes before returning; the engine reuses its buffer.
// - close() flushes bytes already sent, then closes; the driver later reports onClose().
//   It must not call back into the engine from inside send() or close().
// - congested() is true while the connection's write buffer is above its high watermark;
//   the engine then keeps new deliveries in the session queue (bounded) instead.
class Output {
 public:
  virtual ~Output() = default;
  virtual void send(ConnectionId id, Bytes bytes) = 0;
  virtual void close(ConnectionId id) = 0;
  virtual bool congested(ConnectionId id) const = 0;
  virtual void log(LogLevel level, std::string_view message) = 0;
};

// Implemented by the engine, driven by the port. All calls come from one thread.
// endOfTurn() ends one event-loop turn: the store commits, then the acks of the turn
// leave (group commit: see docs/persistence.md).
class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  virtual void onOpen(ConnectionId id, const PeerInfo& peer) = 0;
  virtual void onBytes(ConnectionId id, Bytes bytes) = 0;
  virtual void onWritable(ConnectionId id) = 0;  // write buffer fell below low watermark
  virtual void onClose(ConnectionId id) = 0;     // peer closed, error, or after close()
  virtual void onTick() = 0;                     // time advanced (about every 100 ms)
  virtual void endOfTurn() = 0;
};

// Time is injected, as coreMQTT's MQTTGetCurrentTimeFunc_t.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::uint64_t monotonicMs() const = 0;  // keep-alive, delays
  virtual std::int64_t wallSeconds() const = 0;   // expiry that survives restarts
};

}  // namespace midge
