// SPDX-License-Identifier: Apache-2.0
// The identity a client certificate gives a connection, for use_identity_as_username
// (the subject's CN) and use_subject_as_username (the whole subject). The subject is
// written as RFC 2253 text exactly like OpenSSL's XN_FLAG_RFC2253 output, which is what
// Mosquitto matches ACLs against, so ACL files carry over unchanged.
#pragma once

#include <mbedtls/x509_crt.h>

#include <string>

namespace midge::port::tls {

// Value of the first commonName attribute of the subject, empty when there is none.
std::string subjectCommonName(const mbedtls_x509_crt& certificate);

// e.g. "CN=device-42,O=Acme\, Inc.,C=DE": most specific attribute first, special
// characters escaped with a backslash, bytes outside printable ASCII as \XX.
std::string subjectRfc2253(const mbedtls_x509_crt& certificate);

}  // namespace midge::port::tls
