// SPDX-License-Identifier: Apache-2.0
// Settings of one TLS listener, named after the Mosquitto keywords they come from
// (certfile, keyfile, cafile, capath, crlfile, ciphers, tls_version, require_certificate,
// use_identity_as_username, use_subject_as_username). See docs/security.md.
#pragma once

#include <cstdint>
#include <string>

namespace midge::port {

struct TlsOptions {
  std::string certFile;  // PEM or DER; may hold the chain after the server certificate
  std::string keyFile;   // unencrypted PEM or DER private key matching certFile
  std::string caFile;    // CAs that sign client certificates
  std::string caPath;    // directory of CA certificates (every file is read)
  std::string crlFile;   // revoked client certificates (PEM or DER CRLs); needs a CA
  // Colon-separated OpenSSL or IANA TLS 1.2 suite names in preference order; empty keeps
  // mbedTLS's defaults.
  std::string ciphers;
  // Minimum protocol version: "tlsv1.2" (the default, also for "") or "tlsv1.1", which a
  // Mosquitto configuration may carry to admit legacy clients. "tlsv1.3" is an error:
  // mbedTLS 2.28 has no TLS 1.3. TLS 1.0 is refused as insecure.
  std::string tlsVersion;
  bool requireCertificate = false;     // clients must present a certificate signed by a CA
  bool useIdentityAsUsername = false;  // needs requireCertificate
  bool useSubjectAsUsername = false;   // needs requireCertificate
  // The TLS layer is sans-IO and reads no clock: the port closes connections whose
  // handshake is not done after this long (TlsServerContext::handshakeTimeoutMs()).
  std::uint32_t handshakeTimeoutMs = 10000;
  // Session resumption (see docs/security.md): a reconnecting client that offers a ticket
  // or a cached session id skips the public-key work of a full handshake. The cache holds
  // at most this many sessions (0: no cache); tickets need no server memory.
  std::uint32_t sessionCacheSize = 1000;
  bool sessionTickets = true;
  // How long a session may be resumed; also the ticket key rotation period.
  std::uint32_t sessionLifetimeSeconds = 86400;
};

}  // namespace midge::port
