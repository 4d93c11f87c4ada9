// SPDX-License-Identifier: Apache-2.0
// The test plays the client: an mbedTLS client context whose records go to and come from
// byte vectors, so a TlsSession can be driven without sockets.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "port/tls/tls_server_context.hpp"
#include "port/tls/tls_session.hpp"

namespace midge::port::testing {

struct MemoryClientOptions {
  std::string caFile;    // CA the client trusts for the server certificate
  std::string certFile;  // optional client certificate
  std::string keyFile;
  std::vector<int> cipherSuites;  // empty: mbedTLS defaults
  int maxMinorVersion = MBEDTLS_SSL_MINOR_VERSION_3;
  bool sessionTickets = true;  // false: only a session id can resume
  // A session saved from an earlier connection (saveSession) to offer for resumption.
  const mbedtls_ssl_session* resume = nullptr;
};

class MemoryTlsClient {
 public:
  explicit MemoryTlsClient(const MemoryClientOptions& options);  // throws on setup failure
  ~MemoryTlsClient();
  MemoryTlsClient(const MemoryTlsClient&) = delete;
  MemoryTlsClient& operator=(const MemoryTlsClient&) = delete;

  // mbedtls_ssl_handshake(): 0 when done, WANT_READ while waiting, else the failure.
  int handshake();
  bool handshakeDone() const { return done_; }
  // Encrypts application data into the outgoing buffer; returns mbedTLS's result.
  int write(const std::string& text);
  // Decrypts whatever the incoming buffer holds; `status` gets the last mbedTLS result.
  std::string read(int& status);
  int closeNotify();
  // Copies the negotiated session (with its ticket, if the server sent one) into `out`,
  // which the caller has initialised with mbedtls_ssl_session_init.
  void saveSession(mbedtls_ssl_session& out) const;

  // Records the client produced since the last call.
  std::vector<std::uint8_t> takeOutput();
  // Records from the server.
  void deliver(const std::vector<std::uint8_t>& bytes);

  std::uint32_t verifyResult() const { return mbedtls_ssl_get_verify_result(&ssl_); }
  // Organisation of the certificate the server presented, empty if none.
  std::string serverOrganisation() const;

 private:
  static int sendCallback(void* self, const unsigned char* data, std::size_t length);
  static int receiveCallback(void* self, unsigned char* data, std::size_t length);

  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_x509_crt ca_;
  mbedtls_x509_crt cert_;
  mbedtls_pk_context key_;
  mbedtls_ssl_config config_;
  mbedtls_ssl_context ssl_;
  std::vector<int> cipherSuites_;
  std::vector<std::uint8_t> incoming_;
  std::size_t incomingOffset_ = 0;
  std::vector<std::uint8_t> outgoing_;
  bool done_ = false;
};

// Result of running a handshake between a client and a server session in memory.
struct HandshakeOutcome {
  int clientResult = 0;                   // 0 on success, else the client's mbedTLS error
  bool serverOk = true;                   // false once the server's onReceive() returned false
  std::vector<std::uint8_t> serverPlain;  // application bytes the server decrypted
};

// Shuttles records between the two until both finish, one fails or nothing moves.
// `chunkSize` > 0 hands the server its input in pieces of that size.
HandshakeOutcome runHandshake(MemoryTlsClient& client, TlsSession& server,
                              std::size_t chunkSize = 0);

// Hands `bytes` to the server in pieces of `chunkSize` (0: all at once); returns false as
// soon as the server does. Server output goes to the client.
bool feedServer(TlsSession& server, MemoryTlsClient& client, const std::vector<std::uint8_t>& bytes,
                std::vector<std::uint8_t>& plainOut, std::size_t chunkSize = 0);

std::string asString(const std::vector<std::uint8_t>& bytes);

// The server side the memory client talks to; a test failure (not a crash) when the
// options are refused.
inline std::unique_ptr<TlsServerContext> makeServerContext(const TlsOptions& options) {
  std::unique_ptr<TlsServerContext> context;
  std::string error;
  EXPECT_TRUE(TlsServerContext::create(options, context, error)) << error;
  return context;
}

}  // namespace midge::port::testing
