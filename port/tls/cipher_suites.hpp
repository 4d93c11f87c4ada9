// SPDX-License-Identifier: Apache-2.0
// Maps the `ciphers` option to mbedTLS cipher-suite ids. Operators arrive with OpenSSL
// names from Mosquitto configs ("ECDHE-RSA-AES128-GCM-SHA256") or IANA names from
// standards and scanners ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"); both are accepted, as
// are mbedTLS's own names ("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace midge::port::tls {

// Parses a colon-separated list (spaces and commas also separate, as in OpenSSL). On
// success `ids` holds the suites in the given order followed by the terminating 0 that
// mbedtls_ssl_conf_ciphersuites() expects. An empty list yields just {0}: the caller
// keeps mbedTLS's defaults. Unknown names, OpenSSL keywords such as "HIGH" or "!aNULL",
// and TLS 1.3 suites are errors that name the offending entry.
bool parseCipherList(std::string_view list, std::vector<int>& ids, std::string& error);

// The single-name step of parseCipherList: 0 when the name is not a TLS 1.2 suite that
// this mbedTLS build offers.
int cipherSuiteId(std::string_view name);

}  // namespace midge::port::tls
