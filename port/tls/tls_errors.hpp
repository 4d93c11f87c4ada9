// SPDX-License-Identifier: Apache-2.0
// Turns mbedTLS return codes, verification flags and TLS alerts into sentences an operator
// can act on. mbedTLS's own texts ("X509 - Certificate verification failed, e.g. CRL, CA or
// signature check failed") say what failed inside the library, not what the peer did.
#pragma once

#include <mbedtls/ssl.h>

#include <cstdint>
#include <string>

namespace midge::port::tls {

// mbedtls_strerror() as a string, e.g. "X509 - Read/write of file failed".
std::string mbedtlsErrorText(int code);

// Short words for X.509 verification flags ("expired", "unknown CA", ...), followed by
// mbedTLS's description in parentheses.
std::string describeVerifyFlags(std::uint32_t flags);

// RFC 5246 / 8446 alert name, e.g. 48 -> "unknown_ca"; "alert 200" when unknown.
std::string alertName(std::uint8_t description);

// Why a server-side handshake ended with `code`, using the session's verification result
// and the alert the peer sent where that explains more than the code does.
std::string describeHandshakeFailure(int code, const mbedtls_ssl_context& ssl);

// Why an established session failed with `code` while reading or writing records.
std::string describeRecordFailure(int code, const mbedtls_ssl_context& ssl);

// The first byte of a TLS connection is a handshake record (22). Anything else is a
// client speaking something other than TLS; name the likely culprit.
std::string describeNonTlsFirstByte(std::uint8_t firstByte);

}  // namespace midge::port::tls
