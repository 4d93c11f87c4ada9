// SPDX-License-Identifier: Apache-2.0
#include "tests/port/tls/memory_client.hpp"

#include <mbedtls/error.h>
#include <mbedtls/oid.h>

#include <cstring>
#include <stdexcept>

namespace midge::port::testing {
namespace {

void check(int ret, const std::string& what) {
  if (ret == 0) return;
  char text[160];
  mbedtls_strerror(ret, text, sizeof text);
  throw std::runtime_error(what + ": " + text);
}

}  // namespace

MemoryTlsClient::MemoryTlsClient(const MemoryClientOptions& options) {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_x509_crt_init(&ca_);
  mbedtls_x509_crt_init(&cert_);
  mbedtls_pk_init(&key_);
  mbedtls_ssl_config_init(&config_);
  mbedtls_ssl_init(&ssl_);

  check(mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, nullptr, 0), "seed");
  check(mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT),
        "client defaults");
  mbedtls_ssl_conf_rng(&config_, mbedtls_ctr_drbg_random, &drbg_);
  mbedtls_ssl_conf_max_version(&config_, MBEDTLS_SSL_MAJOR_VERSION_3, options.maxMinorVersion);
  if (options.maxMinorVersion < MBEDTLS_SSL_MINOR_VERSION_3) {
    mbedtls_ssl_conf_min_version(&config_, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_1);
  }
  check(mbedtls_x509_crt_parse_file(&ca_, options.caFile.c_str()), "client CA " + options.caFile);
  mbedtls_ssl_conf_ca_chain(&config_, &ca_, nullptr);
  mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_REQUIRED);
  if (!options.certFile.empty()) {
    check(mbedtls_x509_crt_parse_file(&cert_, options.certFile.c_str()), "client cert");
    check(mbedtls_pk_parse_keyfile(&key_, options.keyFile.c_str(), nullptr), "client key");
    check(mbedtls_ssl_conf_own_cert(&config_, &cert_, &key_), "client own cert");
  }
  if (!options.cipherSuites.empty()) {
    cipherSuites_ = options.cipherSuites;
    cipherSuites_.push_back(0);
    mbedtls_ssl_conf_ciphersuites(&config_, cipherSuites_.data());
  }
  mbedtls_ssl_conf_session_tickets(&config_, options.sessionTickets
                                                 ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                 : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
  check(mbedtls_ssl_setup(&ssl_, &config_), "client setup");
  check(mbedtls_ssl_set_hostname(&ssl_, "localhost"), "client hostname");
  if (options.resume != nullptr) check(mbedtls_ssl_set_session(&ssl_, options.resume), "resume");
  mbedtls_ssl_set_bio(&ssl_, this, &MemoryTlsClient::sendCallback,
                      &MemoryTlsClient::receiveCallback, nullptr);
}

MemoryTlsClient::~MemoryTlsClient() {
  mbedtls_ssl_free(&ssl_);
  mbedtls_ssl_config_free(&config_);
  mbedtls_pk_free(&key_);
  mbedtls_x509_crt_free(&cert_);
  mbedtls_x509_crt_free(&ca_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

int MemoryTlsClient::sendCallback(void* self, const unsigned char* data, std::size_t length) {
  auto* client = static_cast<MemoryTlsClient*>(self);
  client->outgoing_.insert(client->outgoing_.end(), data, data + length);
  return static_cast<int>(length);
}

int MemoryTlsClient::receiveCallback(void* self, unsigned char* data, std::size_t length) {
  auto* client = static_cast<MemoryTlsClient*>(self);
  const std::size_t available = client->incoming_.size() - client->incomingOffset_;
  if (available == 0) return MBEDTLS_ERR_SSL_WANT_READ;
  const std::size_t count = length < available ? length : available;
  std::memcpy(data, client->incoming_.data() + client->incomingOffset_, count);
  client->incomingOffset_ += count;
  if (client->incomingOffset_ == client->incoming_.size()) {
    client->incoming_.clear();
    client->incomingOffset_ = 0;
  }
  return static_cast<int>(count);
}

int MemoryTlsClient::handshake() {
  const int ret = mbedtls_ssl_handshake(&ssl_);
  done_ = ret == 0;
  return ret;
}

int MemoryTlsClient::write(const std::string& text) {
  std::size_t offset = 0;
  while (offset < text.size()) {
    const int ret = mbedtls_ssl_write(
        &ssl_, reinterpret_cast<const unsigned char*>(text.data()) + offset, text.size() - offset);
    if (ret <= 0) return ret;
    offset += static_cast<std::size_t>(ret);
  }
  return 0;
}

std::string MemoryTlsClient::read(int& status) {
  std::string plain;
  unsigned char buffer[4096];
  for (;;) {
    status = mbedtls_ssl_read(&ssl_, buffer, sizeof buffer);
    if (status <= 0) break;
    plain.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(status));
  }
  return plain;
}

int MemoryTlsClient::closeNotify() { return mbedtls_ssl_close_notify(&ssl_); }

std::vector<std::uint8_t> MemoryTlsClient::takeOutput() {
  std::vector<std::uint8_t> output;
  output.swap(outgoing_);
  return output;
}

void MemoryTlsClient::deliver(const std::vector<std::uint8_t>& bytes) {
  incoming_.insert(incoming_.end(), bytes.begin(), bytes.end());
}

std::string MemoryTlsClient::serverOrganisation() const {
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&ssl_);
  if (peer == nullptr) return std::string();
  for (const mbedtls_x509_name* name = &peer->subject; name != nullptr; name = name->next) {
    if (name->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_ORGANIZATION, &name->oid) == 0) {
      return std::string(reinterpret_cast<const char*>(name->val.p), name->val.len);
    }
  }
  return std::string();
}

bool feedServer(TlsSession& server, MemoryTlsClient& client, const std::vector<std::uint8_t>& bytes,
                std::vector<std::uint8_t>& plainOut, std::size_t chunkSize) {
  const std::size_t step = chunkSize == 0 ? (bytes.empty() ? 1 : bytes.size()) : chunkSize;
  std::size_t offset = 0;
  do {
    const std::size_t count = std::min(step, bytes.size() - offset);
    std::vector<std::uint8_t> wireOut;
    const bool ok = server.onReceive(Bytes(bytes.data() + offset, count), plainOut, wireOut);
    client.deliver(wireOut);
    if (!ok) return false;
    offset += count;
  } while (offset < bytes.size());
  return true;
}

HandshakeOutcome runHandshake(MemoryTlsClient& client, TlsSession& server, std::size_t chunkSize) {
  HandshakeOutcome outcome;
  // A TLS 1.2 handshake takes two round trips; the bound only stops a broken test.
  for (int round = 0; round < 20; ++round) {
    outcome.clientResult = client.handshake();
    const std::vector<std::uint8_t> toServer = client.takeOutput();
    if (!toServer.empty() && outcome.serverOk) {
      outcome.serverOk = feedServer(server, client, toServer, outcome.serverPlain, chunkSize);
    }
    const bool clientFailed = outcome.clientResult != 0 &&
                              outcome.clientResult != MBEDTLS_ERR_SSL_WANT_READ &&
                              outcome.clientResult != MBEDTLS_ERR_SSL_WANT_WRITE;
    if (clientFailed || !outcome.serverOk) break;
    if (outcome.clientResult == 0 && server.handshakeDone()) break;
    if (toServer.empty() && outcome.clientResult != 0) break;  // nothing moves any more
  }
  return outcome;
}

std::string asString(const std::vector<std::uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

void MemoryTlsClient::saveSession(mbedtls_ssl_session& out) const {
  check(mbedtls_ssl_get_session(&ssl_, &out), "save session");
}

}  // namespace midge::port::testing
