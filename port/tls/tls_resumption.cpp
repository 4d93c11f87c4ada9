// SPDX-License-Identifier: Apache-2.0
#include "port/tls/tls_resumption.hpp"

#include <mbedtls/ctr_drbg.h>

#include "port/tls/tls_config.hpp"
#include "port/tls/tls_errors.hpp"

namespace midge::port::tls {

std::unique_ptr<TlsResumption> TlsResumption::create(const TlsOptions& options,
                                                     std::shared_ptr<TlsRandom> random,
                                                     std::string& error) {
  std::unique_ptr<TlsResumption> resumption(new TlsResumption());
  resumption->random_ = std::move(random);
  mbedtls_ssl_cache_init(&resumption->cache_);
  mbedtls_ssl_ticket_init(&resumption->tickets_);
  // mbedTLS treats a maximum of 0 as "unbounded": an empty cache is simply not attached.
  if (options.sessionCacheSize > 0) {
    resumption->cacheOn_ = true;
    mbedtls_ssl_cache_set_max_entries(&resumption->cache_,
                                      static_cast<int>(options.sessionCacheSize));
    mbedtls_ssl_cache_set_timeout(&resumption->cache_,
                                  static_cast<int>(options.sessionLifetimeSeconds));
  }
  if (options.sessionTickets) {
    // mbedTLS makes a new ticket key every `lifetime` seconds and accepts the previous
    // one for another period, so a stolen key opens no ticket older than twice that; a
    // ticket itself is refused once its session is older than `lifetime`.
    const int ret = mbedtls_ssl_ticket_setup(&resumption->tickets_, mbedtls_ctr_drbg_random,
                                             resumption->random_->generator(), MBEDTLS_CIPHER_AES_256_GCM,
                                             options.sessionLifetimeSeconds);
    if (ret != 0) {
      error = "cannot set up TLS session tickets: " + mbedtlsErrorText(ret);
      return nullptr;
    }
    resumption->ticketsOn_ = true;
  }
  return resumption;
}

TlsResumption::~TlsResumption() {
  mbedtls_ssl_ticket_free(&tickets_);
  mbedtls_ssl_cache_free(&cache_);
}

void TlsResumption::attachTo(mbedtls_ssl_config& config) {
  if (cacheOn_) {
    mbedtls_ssl_conf_session_cache(&config, &cache_, mbedtls_ssl_cache_get,
                                   mbedtls_ssl_cache_set);
  }
  if (ticketsOn_) {
    mbedtls_ssl_conf_session_tickets_cb(&config, mbedtls_ssl_ticket_write,
                                        mbedtls_ssl_ticket_parse, &tickets_);
  }
}

}  // namespace midge::port::tls
