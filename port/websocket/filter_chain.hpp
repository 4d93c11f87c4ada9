// SPDX-License-Identifier: Apache-2.0
// Two StreamFilters stacked: `outer` next to the socket, `inner` next to the engine. For
// wss the outer one is TLS and the inner one WebSockets: the HTTP upgrade and the frames
// travel inside TLS records. The engine hears of the connection once both handshakes
// are done; the client certificate identity comes from the outer filter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "port/stream_filter.hpp"

namespace midge::port {

class FilterChain final : public StreamFilter {
 public:
  FilterChain(std::unique_ptr<StreamFilter> outer, std::unique_ptr<StreamFilter> inner);

  bool onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                 std::vector<std::uint8_t>& wireOut) override;
  bool onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) override;
  bool handshakeDone() const override;
  std::string peerIdentity() const override { return outer_->peerIdentity(); }
  std::string error() const override;
  // The layer that failed, or else the one whose handshake is still running.
  const char* protocolName() const override;
  bool encrypted() const override { return outer_->encrypted() || inner_->encrypted(); }
  bool closedByPeer() const override { return failed_ != nullptr && failed_->closedByPeer(); }
  void closeGracefully(std::vector<std::uint8_t>& wireOut) override;

 private:
  bool sendInner(std::vector<std::uint8_t>& wireOut);
  void releaseLargeScratch();

  std::unique_ptr<StreamFilter> outer_;
  std::unique_ptr<StreamFilter> inner_;
  const StreamFilter* failed_ = nullptr;
  std::vector<std::uint8_t> middle_;      // outer's plaintext, the inner filter's wire
  std::vector<std::uint8_t> innerWire_;   // what the inner filter wants to send
};

class FilterChainFactory final : public StreamFilterFactory {
 public:
  // Neither is owned; both must outlive this factory.
  FilterChainFactory(StreamFilterFactory& outer, StreamFilterFactory& inner)
      : outer_(outer), inner_(inner) {}
  std::unique_ptr<StreamFilter> create() override;

 private:
  StreamFilterFactory& outer_;
  StreamFilterFactory& inner_;
};

}  // namespace midge::port
