// SPDX-License-Identifier: Apache-2.0
#include "port/tls/cipher_suites.hpp"

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>

#include <cctype>

namespace midge::port::tls {
namespace {

struct NameMapping {
  const char* openssl;
  const char* mbedtls;
};

// OpenSSL names do not follow one rule (RSA key exchange is implicit, "CBC" is left out,
// CHACHA20 drops its SHA256), so the TLS 1.2 suites mbedTLS 2.28 implements are listed.
constexpr NameMapping kOpenSslNames[] = {
    {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"},
    {"ECDHE-RSA-AES128-GCM-SHA256", "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"},
    {"ECDHE-RSA-AES256-GCM-SHA384", "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384"},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256"},
    {"ECDHE-RSA-CHACHA20-POLY1305", "TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256"},
    {"DHE-RSA-CHACHA20-POLY1305", "TLS-DHE-RSA-WITH-CHACHA20-POLY1305-SHA256"},
    {"DHE-RSA-AES128-GCM-SHA256", "TLS-DHE-RSA-WITH-AES-128-GCM-SHA256"},
    {"DHE-RSA-AES256-GCM-SHA384", "TLS-DHE-RSA-WITH-AES-256-GCM-SHA384"},
    {"ECDHE-ECDSA-AES128-CCM", "TLS-ECDHE-ECDSA-WITH-AES-128-CCM"},
    {"ECDHE-ECDSA-AES256-CCM", "TLS-ECDHE-ECDSA-WITH-AES-256-CCM"},
    {"ECDHE-ECDSA-AES128-CCM8", "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8"},
    {"ECDHE-ECDSA-AES256-CCM8", "TLS-ECDHE-ECDSA-WITH-AES-256-CCM-8"},
    {"ECDHE-ECDSA-AES128-SHA256", "TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256"},
    {"ECDHE-ECDSA-AES256-SHA384", "TLS-ECDHE-ECDSA-WITH-AES-256-CBC-SHA384"},
    {"ECDHE-RSA-AES128-SHA256", "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA256"},
    {"ECDHE-RSA-AES256-SHA384", "TLS-ECDHE-RSA-WITH-AES-256-CBC-SHA384"},
    {"ECDHE-ECDSA-AES128-SHA", "TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA"},
    {"ECDHE-ECDSA-AES256-SHA", "TLS-ECDHE-ECDSA-WITH-AES-256-CBC-SHA"},
    {"ECDHE-RSA-AES128-SHA", "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA"},
    {"ECDHE-RSA-AES256-SHA", "TLS-ECDHE-RSA-WITH-AES-256-CBC-SHA"},
    {"DHE-RSA-AES128-CCM", "TLS-DHE-RSA-WITH-AES-128-CCM"},
    {"DHE-RSA-AES256-CCM", "TLS-DHE-RSA-WITH-AES-256-CCM"},
    {"DHE-RSA-AES128-SHA256", "TLS-DHE-RSA-WITH-AES-128-CBC-SHA256"},
    {"DHE-RSA-AES256-SHA256", "TLS-DHE-RSA-WITH-AES-256-CBC-SHA256"},
    {"DHE-RSA-AES128-SHA", "TLS-DHE-RSA-WITH-AES-128-CBC-SHA"},
    {"DHE-RSA-AES256-SHA", "TLS-DHE-RSA-WITH-AES-256-CBC-SHA"},
    {"AES128-GCM-SHA256", "TLS-RSA-WITH-AES-128-GCM-SHA256"},
    {"AES256-GCM-SHA384", "TLS-RSA-WITH-AES-256-GCM-SHA384"},
    {"AES128-CCM", "TLS-RSA-WITH-AES-128-CCM"},
    {"AES256-CCM", "TLS-RSA-WITH-AES-256-CCM"},
    {"AES128-SHA256", "TLS-RSA-WITH-AES-128-CBC-SHA256"},
    {"AES256-SHA256", "TLS-RSA-WITH-AES-256-CBC-SHA256"},
    {"AES128-SHA", "TLS-RSA-WITH-AES-128-CBC-SHA"},
    {"AES256-SHA", "TLS-RSA-WITH-AES-256-CBC-SHA"},
};

// TLS 1.3 suites get their own message: the name is right, the library is too old.
constexpr const char* kTls13Suites[] = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",   "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
};

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool isTls13Suite(std::string_view name) {
  for (const char* suite : kTls13Suites) {
    if (equalsIgnoringCase(name, suite)) return true;
  }
  return false;
}

// "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" and "tls-ecdhe-..." both become mbedTLS's
// "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256".
std::string toMbedTlsSpelling(std::string_view name) {
  std::string spelled(name);
  for (char& c : spelled) {
    c = (c == '_') ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return spelled;
}

bool isSeparator(char c) { return c == ':' || c == ',' || c == ' ' || c == '\t'; }

}  // namespace

int cipherSuiteId(std::string_view name) {
  for (const NameMapping& mapping : kOpenSslNames) {
    if (equalsIgnoringCase(name, mapping.openssl)) {
      return mbedtls_ssl_get_ciphersuite_id(mapping.mbedtls);
    }
  }
  const bool ianaOrMbedTlsName =
      name.size() > 4 && (equalsIgnoringCase(name.substr(0, 4), "TLS_") ||
                          equalsIgnoringCase(name.substr(0, 4), "TLS-"));
  if (!ianaOrMbedTlsName) return 0;
  const int id = mbedtls_ssl_get_ciphersuite_id(toMbedTlsSpelling(name).c_str());
  const mbedtls_ssl_ciphersuite_t* info = mbedtls_ssl_ciphersuite_from_id(id);
  // TLS 1.0/1.1-only suites cannot be negotiated with our TLS 1.2 minimum.
  if (info == nullptr || info->max_minor_ver < MBEDTLS_SSL_MINOR_VERSION_3) return 0;
  return id;
}

bool parseCipherList(std::string_view list, std::vector<int>& ids, std::string& error) {
  ids.clear();
  std::size_t pos = 0;
  while (pos < list.size()) {
    if (isSeparator(list[pos])) {
      ++pos;
      continue;
    }
    std::size_t end = pos;
    while (end < list.size() && !isSeparator(list[end])) ++end;
    const std::string_view name = list.substr(pos, end - pos);
    pos = end;

    if (isTls13Suite(name)) {
      error = "cipher " + std::string(name) +
              " is a TLS 1.3 suite; this build (mbedTLS 2.28) supports TLS 1.2 only";
      return false;
    }
    if (name.front() == '!' || name.front() == '-' || name.front() == '+' || name.front() == '@') {
      error = "cipher list operator " + std::string(name) +
              " is not supported: list the allowed suites by name";
      return false;
    }
    const int id = cipherSuiteId(name);
    if (id == 0) {
      error = "unknown or unsupported cipher " + std::string(name) +
              " (use OpenSSL or IANA names of TLS 1.2 suites, e.g. "
              "ECDHE-RSA-AES128-GCM-SHA256 or TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)";
      return false;
    }
    bool duplicate = false;
    for (int existing : ids) duplicate = duplicate || existing == id;
    if (!duplicate) ids.push_back(id);
  }
  ids.push_back(0);
  return true;
}

}  // namespace midge::port::tls
