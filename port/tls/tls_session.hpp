// SPDX-License-Identifier: Apache-2.0
// Server side of one TLS 1.2 connection as a sans-IO StreamFilter over mbedTLS: the port
// hands it socket bytes and writes out what it produces. mbedTLS reads and writes through
// in-memory callbacks, so the handshake advances inside onReceive() and nothing blocks.
//
// Memory: mbedTLS holds one input and one output record buffer (about 16.5 KiB each) per
// session. The session itself keeps no input: every onReceive() call is consumed before
// it returns, and a record larger than the TLS limit is refused by mbedTLS.
//
// Contract for the caller:
//   - Write wireOut to the socket after every call, also when the call returned false
//     (it may hold an alert that tells the client why).
//   - After false, close the connection; error() says why, for the log.
//   - onSend() before handshakeDone() is a caller error and returns false.
#pragma once

#include <mbedtls/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "port/stream_filter.hpp"
#include "port/tls/wire_bio.hpp"

namespace midge::port {

namespace tls {
class TlsConfig;
}

class TlsSession final : public StreamFilter {
 public:
  explicit TlsSession(std::shared_ptr<const tls::TlsConfig> config);
  ~TlsSession() override;
  TlsSession(const TlsSession&) = delete;  // mbedTLS holds a pointer to this object
  TlsSession& operator=(const TlsSession&) = delete;

  bool onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                 std::vector<std::uint8_t>& wireOut) override;
  bool onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) override;
  bool handshakeDone() const override { return handshakeDone_; }
  std::string peerIdentity() const override { return peerIdentity_; }
  std::string error() const override { return error_; }
  const char* protocolName() const override { return "TLS"; }
  bool encrypted() const override { return true; }

  // Appends a close_notify alert to wireOut so the client can tell an orderly shutdown
  // from a truncation attack. Call before closing the socket; later calls do nothing.
  void closeNotify(std::vector<std::uint8_t>& wireOut);
  // True when the client ended the session with close_notify. onReceive() has then
  // queued our close_notify in reply and returned false, or true if the same call also
  // decrypted application data (delivered in plainOut); the next call returns false.
  bool peerClosed() const { return peerClosed_; }
  // True when the client resumed an earlier session (ticket or session id), so the
  // handshake skipped the key exchange and the server's signature.
  bool resumed() const { return resumed_; }
  // The negotiated suite, e.g. "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256", for the log.
  std::string cipherSuite() const;

 private:
  bool continueHandshake();
  bool readApplicationData(std::vector<std::uint8_t>& plainOut);
  void sendCloseNotify();
  bool fail(std::string reason);
  void rememberPeerIdentity();

  std::shared_ptr<const tls::TlsConfig> config_;  // outlives ssl_, which points into it
  mbedtls_ssl_context ssl_;
  tls::WireBio bio_;
  bool sawFirstByte_ = false;
  bool handshakeDone_ = false;
  bool resumed_ = false;
  bool failed_ = false;
  bool peerClosed_ = false;
  bool closeNotifySent_ = false;
  std::string peerIdentity_;
  std::string error_;
};

}  // namespace midge::port
