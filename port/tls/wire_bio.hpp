// SPDX-License-Identifier: Apache-2.0
// The BIO between an mbedTLS context and the StreamFilter call that drives it, shared by
// the server and client sessions. mbedTLS reads the wire bytes of the current call and
// appends what it writes to the call's output vector; both pointers are valid only while
// a Scope lives, so a stray callback after the call cannot touch a caller's vector.
#pragma once

#include <mbedtls/ssl.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <vector>

#include "port/stream_filter.hpp"

namespace midge::port::tls {

class WireBio {
 public:
  class Scope {
   public:
    Scope(WireBio& bio, Bytes input, std::vector<std::uint8_t>& sink) : bio_(bio) {
      bio_.input_ = input;
      bio_.sink_ = &sink;
    }
    ~Scope() {
      bio_.input_ = Bytes();
      bio_.sink_ = nullptr;
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    WireBio& bio_;
  };

  // The BIO keeps `this`: a WireBio lives as long as the context and does not move.
  void attachTo(mbedtls_ssl_context& ssl) {
    mbedtls_ssl_set_bio(&ssl, this, &WireBio::send, &WireBio::receive, nullptr);
  }

 private:
  static int send(void* self, const unsigned char* data, std::size_t length) {
    auto* bio = static_cast<WireBio*>(self);
    if (bio->sink_ == nullptr) return MBEDTLS_ERR_SSL_WANT_WRITE;
    // mbedTLS never asks for more than one record; the clamp only keeps the cast honest.
    const std::size_t accepted = length > INT_MAX ? static_cast<std::size_t>(INT_MAX) : length;
    bio->sink_->insert(bio->sink_->end(), data, data + accepted);
    return static_cast<int>(accepted);
  }

  static int receive(void* self, unsigned char* data, std::size_t length) {
    auto* bio = static_cast<WireBio*>(self);
    if (bio->input_.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
    std::size_t count = length < bio->input_.size() ? length : bio->input_.size();
    if (count > INT_MAX) count = INT_MAX;
    std::memcpy(data, bio->input_.data(), count);
    bio->input_ = bio->input_.subspan(count);
    return static_cast<int>(count);
  }

  Bytes input_;
  std::vector<std::uint8_t>* sink_ = nullptr;
};

}  // namespace midge::port::tls
