// SPDX-License-Identifier: Apache-2.0
// A byte-stream transformation between the socket and the engine, used for TLS and
// WebSockets (and the two stacked, for wss). It is
// sans-IO like the engine: the port hands it what the socket read and writes out what it
// produces, so the same adapter works with any event loop (libevent 2.1 has no mbedTLS
// bufferevent; see docs/security.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/util/span.hpp"

namespace midge::port {

class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  // Bytes read from the socket. Decrypted application bytes are appended to plainOut;
  // bytes that must go to the socket (handshake records, alerts) to wireOut.
  // Returns false when the stream must be closed; error() then says why.
  virtual bool onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                         std::vector<std::uint8_t>& wireOut) = 0;
  // Application bytes from the engine; the records to write are appended to wireOut.
  virtual bool onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) = 0;
  virtual bool handshakeDone() const = 0;
  // Client certificate identity (CN, or the full subject when asked), empty if none.
  virtual std::string peerIdentity() const = 0;
  virtual std::string error() const = 0;
  // For log lines ("TLS error: ...", "WebSocket error: ...").
  virtual const char* protocolName() const = 0;
  // Whether the stream is encrypted (PeerInfo::tls).
  virtual bool encrypted() const = 0;
  // After a false return: the peer ended the stream in the filter's own protocol (a
  // WebSocket Close frame), an ordinary end rather than a failure.
  virtual bool closedByPeer() const { return false; }
  // The engine closes an open connection: bytes that tell the peer so in the filter's own
  // protocol (a WebSocket Close frame) are appended to wireOut. Most filters have none.
  virtual void closeGracefully(std::vector<std::uint8_t>& wireOut) { (void)wireOut; }
};

class StreamFilterFactory {
 public:
  virtual ~StreamFilterFactory() = default;
  virtual std::unique_ptr<StreamFilter> create() = 0;
};

}  // namespace midge::port
