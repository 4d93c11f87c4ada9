// SPDX-License-Identifier: Apache-2.0
#include "port/tls/tls_errors.hpp"

#include <mbedtls/error.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include <cstdio>

namespace midge::port::tls {
namespace {

struct FlagWord {
  std::uint32_t flag;
  const char* words;
};

// The words an operator searches for in a log; mbedTLS's sentence follows in parentheses.
constexpr FlagWord kVerifyFlagWords[] = {
    {MBEDTLS_X509_BADCERT_EXPIRED, "expired"},
    {MBEDTLS_X509_BADCERT_FUTURE, "not yet valid"},
    {MBEDTLS_X509_BADCERT_NOT_TRUSTED, "unknown CA"},
    {MBEDTLS_X509_BADCERT_REVOKED, "revoked"},
    {MBEDTLS_X509_BADCERT_MISSING, "no certificate"},
    {MBEDTLS_X509_BADCERT_CN_MISMATCH, "name mismatch"},
    {MBEDTLS_X509_BADCERT_KEY_USAGE, "key usage does not allow this use"},
    {MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "extended key usage does not allow TLS client auth"},
    {MBEDTLS_X509_BADCERT_NS_CERT_TYPE, "certificate type does not allow this use"},
    {MBEDTLS_X509_BADCERT_BAD_MD, "signature hash not acceptable"},
    {MBEDTLS_X509_BADCERT_BAD_PK, "signature algorithm not acceptable"},
    {MBEDTLS_X509_BADCERT_BAD_KEY, "key too weak or curve not acceptable"},
};

struct AlertInfo {
  std::uint8_t code;
  const char* name;
};

constexpr AlertInfo kAlerts[] = {
    {MBEDTLS_SSL_ALERT_MSG_CLOSE_NOTIFY, "close_notify"},
    {MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE, "unexpected_message"},
    {MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC, "bad_record_mac"},
    {MBEDTLS_SSL_ALERT_MSG_DECRYPTION_FAILED, "decryption_failed"},
    {MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW, "record_overflow"},
    {MBEDTLS_SSL_ALERT_MSG_DECOMPRESSION_FAILURE, "decompression_failure"},
    {MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE, "handshake_failure"},
    {MBEDTLS_SSL_ALERT_MSG_NO_CERT, "no_certificate"},
    {MBEDTLS_SSL_ALERT_MSG_BAD_CERT, "bad_certificate"},
    {MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT, "unsupported_certificate"},
    {MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED, "certificate_revoked"},
    {MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED, "certificate_expired"},
    {MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN, "certificate_unknown"},
    {MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER, "illegal_parameter"},
    {MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA, "unknown_ca"},
    {MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED, "access_denied"},
    {MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR, "decode_error"},
    {MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR, "decrypt_error"},
    {MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION, "protocol_version"},
    {MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY, "insufficient_security"},
    {MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR, "internal_error"},
    {MBEDTLS_SSL_ALERT_MSG_INAPROPRIATE_FALLBACK, "inappropriate_fallback"},
    {MBEDTLS_SSL_ALERT_MSG_USER_CANCELED, "user_canceled"},
    {MBEDTLS_SSL_ALERT_MSG_NO_RENEGOTIATION, "no_renegotiation"},
    {109, "missing_extension"},
    {MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_EXT, "unsupported_extension"},
    {MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME, "unrecognized_name"},
    {MBEDTLS_SSL_ALERT_MSG_UNKNOWN_PSK_IDENTITY, "unknown_psk_identity"},
    {116, "certificate_required"},
    {MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL, "no_application_protocol"},
};

bool peerRejectedOurCertificate(std::uint8_t alert) {
  return alert == MBEDTLS_SSL_ALERT_MSG_BAD_CERT ||
         alert == MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT ||
         alert == MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED ||
         alert == MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED ||
         alert == MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN || alert == MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA;
}

// After MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, mbedTLS leaves the alert record in in_msg:
// byte 0 is the level, byte 1 the description.
std::string describePeerAlert(const mbedtls_ssl_context& ssl) {
  if (ssl.in_msg == nullptr || ssl.in_msglen < 2) return "peer sent a fatal alert";
  const std::uint8_t alert = ssl.in_msg[1];
  std::string text = "peer sent fatal alert " + alertName(alert);
  if (peerRejectedOurCertificate(alert)) {
    text +=
        " (the client rejected the server certificate: check its CA file, the "
        "certificate's validity dates and host name)";
  }
  return text;
}

}  // namespace

std::string mbedtlsErrorText(int code) {
  char buffer[160];
  mbedtls_strerror(code, buffer, sizeof buffer);
  return buffer;
}

std::string describeVerifyFlags(std::uint32_t flags) {
  std::string words;
  for (const FlagWord& entry : kVerifyFlagWords) {
    if ((flags & entry.flag) == 0) continue;
    if (!words.empty()) words += ", ";
    words += entry.words;
  }
  if (words.empty()) words = "rejected";

  char info[512];
  const int length = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
  std::string detail;
  if (length > 0) {
    // verify_info writes one line per flag; join them into one log line.
    for (const char* p = info; *p != '\0'; ++p) {
      if (*p == '\n') {
        if (p[1] != '\0') detail += "; ";
      } else {
        detail += *p;
      }
    }
  }
  return detail.empty() ? words : words + " (" + detail + ")";
}

std::string alertName(std::uint8_t description) {
  for (const AlertInfo& alert : kAlerts) {
    if (alert.code == description) return alert.name;
  }
  return "alert " + std::to_string(description);
}

std::string describeHandshakeFailure(int code, const mbedtls_ssl_context& ssl) {
  switch (code) {
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
      return "handshake failed: peer did not return a certificate (require_certificate is "
             "on)";
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
      return "certificate verify failed: " +
             describeVerifyFlags(mbedtls_ssl_get_verify_result(&ssl));
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
      return "handshake failed: " + describePeerAlert(ssl);
    case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
      return "handshake failed: no cipher suite in common with the client (see ciphers)";
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
      return "handshake failed: the client offers no TLS version at or above tls_version "
             "(default tlsv1.2)";
    case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO:
      return "handshake failed: malformed or oversized ClientHello";
    case MBEDTLS_ERR_SSL_CONN_EOF:
      return "handshake failed: connection closed by the peer";
    default:
      return "handshake failed: " + mbedtlsErrorText(code);
  }
}

std::string describeRecordFailure(int code, const mbedtls_ssl_context& ssl) {
  if (code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) return describePeerAlert(ssl);
  return "TLS record error: " + mbedtlsErrorText(code);
}

std::string describeNonTlsFirstByte(std::uint8_t firstByte) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", firstByte);
  std::string text = std::string("not a TLS connection: first byte ") + hex;
  if (firstByte == 0x10) {
    text += " is an MQTT CONNECT (a plain MQTT client is talking to the TLS port)";
  } else if (firstByte == 'G') {
    text += " looks like an HTTP request";
  } else {
    text += ", a TLS ClientHello starts with 0x16";
  }
  return text;
}

}  // namespace midge::port::tls
