// SPDX-License-Identifier: Apache-2.0
#include "port/websocket/filter_chain.hpp"

namespace midge::port {
namespace {

// Scratch buffers keep their capacity between calls so a steady stream allocates nothing;
// one burst of large messages must not pin that much memory to an idle connection.
constexpr std::size_t kKeptScratchBytes = 16 * 1024;

}  // namespace

FilterChain::FilterChain(std::unique_ptr<StreamFilter> outer, std::unique_ptr<StreamFilter> inner)
    : outer_(std::move(outer)), inner_(std::move(inner)) {}

bool FilterChain::onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                            std::vector<std::uint8_t>& wireOut) {
  if (failed_ != nullptr) return false;
  middle_.clear();
  const bool outerOk = outer_->onReceive(wireIn, middle_, wireOut);
  bool innerOk = true;
  if (!middle_.empty()) {
    innerWire_.clear();
    innerOk = inner_->onReceive(Bytes(middle_), plainOut, innerWire_);
    // The inner filter's answer (101, an HTTP error, a pong, a Close) goes out even when
    // it failed: it tells the client why.
    if (!sendInner(wireOut)) return false;
  }
  releaseLargeScratch();
  if (!innerOk) {
    failed_ = inner_.get();
    return false;
  }
  if (!outerOk) {
    failed_ = outer_.get();
    return false;
  }
  return true;
}

bool FilterChain::sendInner(std::vector<std::uint8_t>& wireOut) {
  if (innerWire_.empty()) return true;
  if (!outer_->onSend(Bytes(innerWire_), wireOut)) {
    failed_ = outer_.get();
    return false;
  }
  return true;
}

bool FilterChain::onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) {
  if (failed_ != nullptr) return false;
  innerWire_.clear();
  if (!inner_->onSend(plainIn, innerWire_)) {
    failed_ = inner_.get();
    return false;
  }
  const bool ok = sendInner(wireOut);
  releaseLargeScratch();
  return ok;
}

void FilterChain::closeGracefully(std::vector<std::uint8_t>& wireOut) {
  if (failed_ != nullptr) return;
  innerWire_.clear();
  inner_->closeGracefully(innerWire_);
  (void)sendInner(wireOut);
  outer_->closeGracefully(wireOut);
}

bool FilterChain::handshakeDone() const {
  return outer_->handshakeDone() && inner_->handshakeDone();
}

std::string FilterChain::error() const {
  return failed_ != nullptr ? failed_->error() : std::string();
}

const char* FilterChain::protocolName() const {
  if (failed_ != nullptr) return failed_->protocolName();
  return outer_->handshakeDone() ? inner_->protocolName() : outer_->protocolName();
}

void FilterChain::releaseLargeScratch() {
  if (middle_.capacity() > kKeptScratchBytes) std::vector<std::uint8_t>().swap(middle_);
  if (innerWire_.capacity() > kKeptScratchBytes) std::vector<std::uint8_t>().swap(innerWire_);
}

std::unique_ptr<StreamFilter> FilterChainFactory::create() {
  std::unique_ptr<StreamFilter> outer = outer_.create();
  std::unique_ptr<StreamFilter> inner = inner_.create();
  if (outer == nullptr || inner == nullptr) return nullptr;
  return std::make_unique<FilterChain>(std::move(outer), std::move(inner));
}

}  // namespace midge::port
