// SPDX-License-Identifier: Apache-2.0
#include "port/tls/tls_client.hpp"

#include "port/tls/tls_errors.hpp"

namespace midge::port::tls {
namespace {

constexpr std::size_t kReadChunkBytes = 4096;

bool parseFile(int ret, const char* option, const std::string& file, std::string& error) {
  if (ret == 0) return true;
  error = std::string(option) + " " + file + ": " + mbedtlsErrorText(ret);
  return false;
}

}  // namespace

TlsClientConfig::TlsClientConfig() {
  mbedtls_x509_crt_init(&caChain_);
  mbedtls_x509_crt_init(&ownCertificate_);
  mbedtls_pk_init(&ownKey_);
  mbedtls_ssl_config_init(&sslConfig_);
}

TlsClientConfig::~TlsClientConfig() {
  mbedtls_ssl_config_free(&sslConfig_);
  mbedtls_pk_free(&ownKey_);
  mbedtls_x509_crt_free(&ownCertificate_);
  mbedtls_x509_crt_free(&caChain_);
}

bool TlsClientConfig::loadFiles(const TlsClientOptions& options, std::string& error) {
  if (options.caFile.empty() && options.caPath.empty()) {
    error = "bridge_cafile or bridge_capath is required: the upstream's certificate is verified";
    return false;
  }
  if (!options.caFile.empty() &&
      !parseFile(mbedtls_x509_crt_parse_file(&caChain_, options.caFile.c_str()), "bridge_cafile",
                 options.caFile, error)) {
    return false;
  }
  if (!options.caPath.empty() && mbedtls_x509_crt_parse_path(&caChain_, options.caPath.c_str()) < 0) {
    error = "bridge_capath " + options.caPath + ": no readable certificate";
    return false;
  }
  if (options.certFile.empty() != options.keyFile.empty()) {
    error = "bridge_certfile and bridge_keyfile go together";
    return false;
  }
  if (options.certFile.empty()) return true;
  if (!parseFile(mbedtls_x509_crt_parse_file(&ownCertificate_, options.certFile.c_str()),
                 "bridge_certfile", options.certFile, error) ||
      !parseFile(mbedtls_pk_parse_keyfile(&ownKey_, options.keyFile.c_str(), nullptr),
                 "bridge_keyfile", options.keyFile, error)) {
    return false;
  }
  return parseFile(mbedtls_ssl_conf_own_cert(&sslConfig_, &ownCertificate_, &ownKey_),
                   "bridge_keyfile", options.keyFile, error);
}

std::shared_ptr<const TlsClientConfig> TlsClientConfig::load(const TlsClientOptions& options,
                                                             std::shared_ptr<TlsRandom> random,
                                                             std::string& error) {
  if (!options.tlsVersion.empty() && options.tlsVersion != "tlsv1.2") {
    error = "bridge_tls_version " + options.tlsVersion +
            " is not available: this build uses mbedTLS 2.28 and speaks tlsv1.2 only";
    return nullptr;
  }
  if (options.hostname.empty() && !options.insecure) {
    error = "the upstream's host name is needed to verify its certificate (or bridge_insecure)";
    return nullptr;
  }
  std::shared_ptr<TlsClientConfig> config(new TlsClientConfig());
  config->random_ = std::move(random);
  config->hostname_ = options.hostname;
  config->insecure_ = options.insecure;
  mbedtls_ssl_config* conf = &config->sslConfig_;
  int ret = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) {
    error = "cannot set up TLS: " + mbedtlsErrorText(ret);
    return nullptr;
  }
  if (!config->loadFiles(options, error)) return nullptr;
  // OPTIONAL, then checked in checkPeer(): lets `insecure` waive the host name alone.
  mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
  mbedtls_ssl_conf_ca_chain(conf, &config->caChain_, nullptr);
  mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, config->random_->generator());
  mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  if (!options.alpn.empty()) {
    config->alpn_ = options.alpn;
    for (const auto& protocol : config->alpn_) config->alpnList_.push_back(protocol.c_str());
    config->alpnList_.push_back(nullptr);
    ret = mbedtls_ssl_conf_alpn_protocols(conf, config->alpnList_.data());
    if (ret != 0) {
      error = "bridge_alpn: " + mbedtlsErrorText(ret);
      return nullptr;
    }
  }
  return config;
}

TlsClientSession::TlsClientSession(std::shared_ptr<const TlsClientConfig> config)
    : config_(std::move(config)) {
  mbedtls_ssl_init(&ssl_);
  int ret = mbedtls_ssl_setup(&ssl_, config_->sslConfig());
  if (ret == 0 && !config_->hostname().empty()) {
    ret = mbedtls_ssl_set_hostname(&ssl_, config_->hostname().c_str());
  }
  if (ret != 0) {
    fail("cannot start a TLS session: " + mbedtlsErrorText(ret));
    return;
  }
  bio_.attachTo(ssl_);
}

TlsClientSession::~TlsClientSession() { mbedtls_ssl_free(&ssl_); }

bool TlsClientSession::onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                                 std::vector<std::uint8_t>& wireOut) {
  if (failed_) return false;
  WireBio::Scope scope(bio_, wireIn, wireOut);
  bool ok = true;
  if (!handshakeDone_) ok = continueHandshake();
  if (ok && handshakeDone_) ok = readApplicationData(plainOut);
  return ok;
}

bool TlsClientSession::continueHandshake() {
  const int ret = mbedtls_ssl_handshake(&ssl_);
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return true;
  if (ret != 0) return fail(describeHandshakeFailure(ret, ssl_));
  if (!checkPeer()) return false;
  handshakeDone_ = true;
  return true;
}

bool TlsClientSession::checkPeer() {
  std::uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
  if (config_->insecure()) flags &= ~static_cast<std::uint32_t>(MBEDTLS_X509_BADCERT_CN_MISMATCH);
  if (flags == 0) return true;
  (void)mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                       MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
  return fail("the upstream's certificate is not trusted: " + describeVerifyFlags(flags));
}

bool TlsClientSession::readApplicationData(std::vector<std::uint8_t>& plainOut) {
  unsigned char chunk[kReadChunkBytes];
  for (;;) {
    const int ret = mbedtls_ssl_read(&ssl_, chunk, sizeof chunk);
    if (ret > 0) {
      plainOut.insert(plainOut.end(), chunk, chunk + ret);
      continue;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return true;
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == 0) {
      fail("the upstream closed the TLS session");
      return !plainOut.empty();
    }
    return fail(describeRecordFailure(ret, ssl_));
  }
}

bool TlsClientSession::onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) {
  if (failed_) return false;
  if (!handshakeDone_) return fail("application data sent before the TLS handshake completed");
  WireBio::Scope scope(bio_, Bytes(), wireOut);
  std::size_t offset = 0;
  while (offset < plainIn.size()) {
    const int ret = mbedtls_ssl_write(&ssl_, plainIn.data() + offset, plainIn.size() - offset);
    if (ret <= 0) return fail(describeRecordFailure(ret, ssl_));
    offset += static_cast<std::size_t>(ret);
  }
  return true;
}

void TlsClientSession::closeGracefully(std::vector<std::uint8_t>& wireOut) {
  if (!handshakeDone_ || failed_) return;
  WireBio::Scope scope(bio_, Bytes(), wireOut);
  (void)mbedtls_ssl_close_notify(&ssl_);
}

bool TlsClientSession::fail(std::string reason) {
  failed_ = true;
  if (error_.empty()) error_ = std::move(reason);
  return false;
}

}  // namespace midge::port::tls
