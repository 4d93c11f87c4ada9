// SPDX-License-Identifier: Apache-2.0
// Session resumption for one TLS listener: a bounded session cache (session ids) and
// session tickets, so that a device reconnecting after an outage skips the public-key
// work of a full handshake (ECDHE and the server's signature) and costs the broker a
// few symmetric operations instead.
//
// Lives as long as its TlsServerContext, across certificate reloads: a client that
// resumes after a reload keeps the session it negotiated on the previous certificate,
// as with OpenSSL's session cache. Not thread-safe beyond what mbedTLS's cache mutex
// gives; used from the listener's event loop only.
#pragma once

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "port/tls/tls_options.hpp"

namespace midge::port::tls {

class TlsRandom;

class TlsResumption {
 public:
  // Sets up the cache and the ticket keys as `options` asks; null with `error` set when
  // mbedTLS refuses (e.g. no random data for the first ticket key).
  static std::unique_ptr<TlsResumption> create(const TlsOptions& options,
                                               std::shared_ptr<TlsRandom> random,
                                               std::string& error);
  ~TlsResumption();
  TlsResumption(const TlsResumption&) = delete;
  TlsResumption& operator=(const TlsResumption&) = delete;

  // Points `config` at the cache and the ticket keys; both must outlive it.
  void attachTo(mbedtls_ssl_config& config);

 private:
  TlsResumption() = default;
  std::shared_ptr<TlsRandom> random_;  // the ticket keys are drawn from it
  bool cacheOn_ = false;
  bool ticketsOn_ = false;
  mbedtls_ssl_cache_context cache_{};
  mbedtls_ssl_ticket_context tickets_{};
};

}  // namespace midge::port::tls
