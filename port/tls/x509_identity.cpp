// SPDX-License-Identifier: Apache-2.0
#include "port/tls/x509_identity.hpp"

#include <mbedtls/oid.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace midge::port::tls {
namespace {

std::string attributeType(const mbedtls_asn1_buf& oid) {
  const char* shortName = nullptr;
  if (mbedtls_oid_get_attr_short_name(&oid, &shortName) == 0 && shortName != nullptr) {
    return shortName;
  }
  char dotted[64];
  if (mbedtls_oid_get_numeric_string(dotted, sizeof dotted, &oid) > 0) return dotted;
  return "UNKNOWN";
}

void appendEscapedValue(const mbedtls_asn1_buf& value, std::string& out) {
  for (std::size_t i = 0; i < value.len; ++i) {
    const unsigned char c = value.p[i];
    const bool first = i == 0;
    const bool last = i + 1 == value.len;
    if (c < 0x20 || c >= 0x7f) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "\\%02X", c);
      out += hex;
      continue;
    }
    const bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                         c == ';' || (first && (c == '#' || c == ' ')) || (last && c == ' ');
    if (special) out += '\\';
    out += static_cast<char>(c);
  }
}

}  // namespace

std::string subjectCommonName(const mbedtls_x509_crt& certificate) {
  for (const mbedtls_x509_name* name = &certificate.subject; name != nullptr; name = name->next) {
    if (name->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0) {
      return std::string(reinterpret_cast<const char*>(name->val.p), name->val.len);
    }
  }
  return std::string();
}

std::string subjectRfc2253(const mbedtls_x509_crt& certificate) {
  // mbedTLS keeps the attributes in certificate order (least specific first, C before
  // CN); RFC 2253 prints the relative distinguished names in reverse.
  std::vector<std::string> rdns;
  std::string current;
  for (const mbedtls_x509_name* name = &certificate.subject; name != nullptr; name = name->next) {
    if (name->oid.p == nullptr) continue;
    if (!current.empty()) current += '+';
    current += attributeType(name->oid);
    current += '=';
    appendEscapedValue(name->val, current);
    // next_merged marks a multi-valued RDN ("CN=a+UID=b"): keep collecting.
    if (name->next_merged == 0) {
      rdns.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) rdns.push_back(std::move(current));

  std::string subject;
  for (auto it = rdns.rbegin(); it != rdns.rend(); ++it) {
    if (!subject.empty()) subject += ',';
    subject += *it;
  }
  return subject;
}

}  // namespace midge::port::tls
