// SPDX-License-Identifier: Apache-2.0
#include "port/tls/tls_session.hpp"

// For handshake->resume only (see continueHandshake).
#include <mbedtls/ssl_internal.h>

#include "port/tls/tls_config.hpp"
#include "port/tls/tls_errors.hpp"
#include "port/tls/x509_identity.hpp"

namespace midge::port {
namespace {

constexpr std::uint8_t kHandshakeRecordType = 22;
// Plaintext is copied out of mbedTLS in pieces of this size; a full 16 KiB record takes
// four calls, which keeps the stack small on gateway-class boards.
constexpr std::size_t kReadChunkBytes = 4096;

}  // namespace

TlsSession::TlsSession(std::shared_ptr<const tls::TlsConfig> config) : config_(std::move(config)) {
  mbedtls_ssl_init(&ssl_);
  const int ret = mbedtls_ssl_setup(&ssl_, config_->sslConfig());
  if (ret != 0) {
    fail("cannot start a TLS session: " + tls::mbedtlsErrorText(ret));
    return;
  }
  bio_.attachTo(ssl_);
}

TlsSession::~TlsSession() { mbedtls_ssl_free(&ssl_); }

bool TlsSession::onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                           std::vector<std::uint8_t>& wireOut) {
  if (failed_) return false;
  tls::WireBio::Scope scope(bio_, wireIn, wireOut);
  if (!sawFirstByte_ && !wireIn.empty()) {
    sawFirstByte_ = true;
    // Checked here because mbedTLS would only say "bad client hello message".
    if (wireIn[0] != kHandshakeRecordType) return fail(tls::describeNonTlsFirstByte(wireIn[0]));
  }
  if (!handshakeDone_) {
    if (!continueHandshake()) return false;
    if (!handshakeDone_) return true;
  }
  // Application data may arrive in the same read as the client's Finished message.
  return readApplicationData(plainOut);
}

bool TlsSession::continueHandshake() {
  const int ret = mbedtls_ssl_handshake(&ssl_);
  if (ret == 0) {
    handshakeDone_ = true;
    rememberPeerIdentity();
    return true;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
    // mbedTLS 2.28 has no accessor for this and frees the handshake state when it is
    // done; a resumed server handshake always waits for the client's Finished first.
    if (ssl_.handshake != nullptr && ssl_.handshake->resume != 0) resumed_ = true;
    return true;
  }
  return fail(tls::describeHandshakeFailure(ret, ssl_));
}

bool TlsSession::readApplicationData(std::vector<std::uint8_t>& plainOut) {
  unsigned char chunk[kReadChunkBytes];
  const std::size_t plainBefore = plainOut.size();
  for (;;) {
    const int ret = mbedtls_ssl_read(&ssl_, chunk, sizeof chunk);
    if (ret > 0) {
      plainOut.insert(plainOut.end(), chunk, chunk + ret);
      continue;
    }
    // WANT_READ: everything handed in has been consumed; mbedTLS keeps a partial record.
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return true;
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == 0) {
      peerClosed_ = ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY;
      sendCloseNotify();
      fail(peerClosed_ ? "peer closed the TLS session (close_notify)"
                       : "peer closed the TLS session");
      // A client often sends DISCONNECT and close_notify in one segment: what was
      // decrypted before the alert must still reach the engine, so this call succeeds
      // and the next one reports the close.
      return plainOut.size() > plainBefore;
    }
    return fail(tls::describeRecordFailure(ret, ssl_));
  }
}

bool TlsSession::onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) {
  if (failed_) return false;
  if (!handshakeDone_) return fail("application data sent before the TLS handshake completed");
  if (closeNotifySent_) return fail("application data sent after close_notify");
  tls::WireBio::Scope scope(bio_, Bytes(), wireOut);
  std::size_t offset = 0;
  while (offset < plainIn.size()) {
    // One call writes at most one record (16 KiB); larger messages take several.
    const int ret = mbedtls_ssl_write(&ssl_, plainIn.data() + offset, plainIn.size() - offset);
    if (ret <= 0) return fail(tls::describeRecordFailure(ret, ssl_));
    offset += static_cast<std::size_t>(ret);
  }
  return true;
}

void TlsSession::closeNotify(std::vector<std::uint8_t>& wireOut) {
  tls::WireBio::Scope scope(bio_, Bytes(), wireOut);
  sendCloseNotify();
}

void TlsSession::sendCloseNotify() {
  if (!handshakeDone_ || closeNotifySent_) return;
  closeNotifySent_ = true;
  // Best effort: the connection closes either way, so a failure here changes nothing.
  (void)mbedtls_ssl_close_notify(&ssl_);
}

std::string TlsSession::cipherSuite() const {
  const char* name = mbedtls_ssl_get_ciphersuite(&ssl_);
  return name != nullptr ? name : std::string();
}

bool TlsSession::fail(std::string reason) {
  failed_ = true;
  if (error_.empty()) error_ = std::move(reason);
  return false;
}

void TlsSession::rememberPeerIdentity() {
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&ssl_);
  if (peer == nullptr) return;
  peerIdentity_ =
      config_->useSubjectAsIdentity() ? tls::subjectRfc2253(*peer) : tls::subjectCommonName(*peer);
}

}  // namespace midge::port
