// SPDX-License-Identifier: Apache-2.0
// Everything a TLS session needs from its listener, loaded once and then immutable:
// certificate, key, CA chain, cipher list and the mbedtls_ssl_config that points at them.
// Sessions share it through shared_ptr, so reloading certificates builds a new TlsConfig
// while sessions that started on the old one keep it alive until they end.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include <memory>
#include <string>
#include <vector>

#include "port/tls/tls_options.hpp"

namespace midge::port::tls {

// One CTR-DRBG per server context, seeded from the system entropy source once; reloaded
// configurations and all their sessions draw from it.
class TlsRandom {
 public:
  static std::shared_ptr<TlsRandom> create(std::string& error);
  ~TlsRandom();
  TlsRandom(const TlsRandom&) = delete;
  TlsRandom& operator=(const TlsRandom&) = delete;

  mbedtls_ctr_drbg_context* generator() { return &drbg_; }

 private:
  TlsRandom();
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

class TlsResumption;

class TlsConfig {
 public:
  // Reads and checks every file named in `options`. On failure returns null and `error`
  // names the option, the file and the reason. With `resumption`, sessions can be resumed
  // from its cache and tickets; the config keeps it alive.
  static std::shared_ptr<const TlsConfig> load(const TlsOptions& options,
                                               std::shared_ptr<TlsRandom> random,
                                               std::string& error,
                                               std::shared_ptr<TlsResumption> resumption = {});
  ~TlsConfig();
  TlsConfig(const TlsConfig&) = delete;
  TlsConfig& operator=(const TlsConfig&) = delete;

  const mbedtls_ssl_config* sslConfig() const { return &sslConfig_; }
  bool useSubjectAsIdentity() const { return useSubjectAsIdentity_; }

 private:
  TlsConfig();
  bool loadFiles(const TlsOptions& options, std::string& error);
  bool configure(const TlsOptions& options, std::string& error);

  mbedtls_x509_crt ownCertificate_;
  mbedtls_pk_context ownKey_;
  mbedtls_x509_crt caChain_;
  bool haveCaChain_ = false;
  mbedtls_x509_crl revocations_;
  bool haveRevocations_ = false;
  int minMinorVersion_ = MBEDTLS_SSL_MINOR_VERSION_3;
  std::vector<int> cipherSuites_;  // 0-terminated; mbedTLS keeps a pointer to it
  mbedtls_ssl_config sslConfig_;
  std::shared_ptr<TlsRandom> random_;
  std::shared_ptr<TlsResumption> resumption_;
  bool useSubjectAsIdentity_ = false;
};

}  // namespace midge::port::tls
