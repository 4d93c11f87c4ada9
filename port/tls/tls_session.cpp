// SPDX-License-Identifier: Apache-2.0
#include "port/tls/tls_session.hpp"

#include <climits>
#include <cstring>

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

// The BIO pointers are only valid while a public call runs; clearing them on every exit
// path keeps a stray mbedTLS callback from touching a caller's vector later.
class TlsSessionCallScope {
 public:
  TlsSessionCallScope(Bytes& input, std::vector<std::uint8_t>*& sink, Bytes newInput,
                      std::vector<std::uint8_t>& newSink)
      : input_(input), sink_(sink) {
    input_ = newInput;
    sink_ = &newSink;
  }
  ~TlsSessionCallScope() {
    input_ = Bytes();
    sink_ = nullptr;
  }
  TlsSessionCallScope(const TlsSessionCallScope&) = delete;
  TlsSessionCallScope& operator=(const TlsSessionCallScope&) = delete;

 private:
  Bytes& input_;
  std::vector<std::uint8_t>*& sink_;
};

TlsSession::TlsSession(std::shared_ptr<const tls::TlsConfig> config) : config_(std::move(config)) {
  mbedtls_ssl_init(&ssl_);
  const int ret = mbedtls_ssl_setup(&ssl_, config_->sslConfig());
  if (ret != 0) {
    fail("cannot start a TLS session: " + tls::mbedtlsErrorText(ret));
    return;
  }
  mbedtls_ssl_set_bio(&ssl_, this, &TlsSession::sendToWire, &TlsSession::receiveFromWire, nullptr);
}

TlsSession::~TlsSession() { mbedtls_ssl_free(&ssl_); }

int TlsSession::sendToWire(void* self, const unsigned char* data, std::size_t length) {
  auto* session = static_cast<TlsSession*>(self);
  if (session->wireSink_ == nullptr) return MBEDTLS_ERR_SSL_WANT_WRITE;
  // mbedTLS never asks for more than one record; the clamp only keeps the cast honest.
  const std::size_t accepted = length > INT_MAX ? static_cast<std::size_t>(INT_MAX) : length;
  session->wireSink_->insert(session->wireSink_->end(), data, data + accepted);
  return static_cast<int>(accepted);
}

int TlsSession::receiveFromWire(void* self, unsigned char* data, std::size_t length) {
  auto* session = static_cast<TlsSession*>(self);
  Bytes& input = session->pendingInput_;
  if (input.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
  std::size_t count = length < input.size() ? length : input.size();
  if (count > INT_MAX) count = INT_MAX;
  std::memcpy(data, input.data(), count);
  input = input.subspan(count);
  return static_cast<int>(count);
}

bool TlsSession::onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                           std::vector<std::uint8_t>& wireOut) {
  if (failed_) return false;
  TlsSessionCallScope scope(pendingInput_, wireSink_, wireIn, wireOut);
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
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return true;
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
  TlsSessionCallScope scope(pendingInput_, wireSink_, Bytes(), wireOut);
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
  TlsSessionCallScope scope(pendingInput_, wireSink_, Bytes(), wireOut);
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
