// SPDX-License-Identifier: Apache-2.0
// TLS 1.2 in client mode for the bridge's uplink: a sans-IO StreamFilter over mbedTLS,
// driven by port/client's OutboundConnection (an empty onReceive() starts the handshake).
//
// Verification is on by default: the server's chain must lead to the CA file or CA path,
// and its certificate must name `hostname`. `insecure` (Mosquitto's bridge_insecure)
// drops the host name check only; the chain is still verified.
//
// Known limit: mbedTLS 2.28 matches the host name against DNS names and the CN only, not
// against IP address SANs. An upstream reached by IP address needs its DNS name in
// `hostname` (the name sent in SNI and checked), or `insecure`.
#pragma once

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <memory>
#include <string>
#include <vector>

#include "port/stream_filter.hpp"
#include "port/tls/tls_config.hpp"
#include "port/tls/wire_bio.hpp"

namespace midge::port::tls {

struct TlsClientOptions {
  std::string caFile;     // bridge_cafile
  std::string caPath;     // bridge_capath
  std::string certFile;   // bridge_certfile: our certificate, when the server asks for one
  std::string keyFile;    // bridge_keyfile
  std::string hostname;   // checked against the server certificate and sent as SNI
  bool insecure = false;  // bridge_insecure: skip the host name check
  std::string tlsVersion; // bridge_tls_version: "" or tlsv1.2
  std::vector<std::string> alpn;  // bridge_alpn
};

class TlsClientConfig {
 public:
  // Errors name the option and file: a missing CA, a key that does not fit, no host name
  // with verification on, a TLS version mbedTLS 2.28 cannot speak.
  static std::shared_ptr<const TlsClientConfig> load(const TlsClientOptions& options,
                                                     std::shared_ptr<TlsRandom> random,
                                                     std::string& error);
  ~TlsClientConfig();
  TlsClientConfig(const TlsClientConfig&) = delete;
  TlsClientConfig& operator=(const TlsClientConfig&) = delete;

  const mbedtls_ssl_config* sslConfig() const { return &sslConfig_; }
  const std::string& hostname() const { return hostname_; }
  bool insecure() const { return insecure_; }

 private:
  TlsClientConfig();
  bool loadFiles(const TlsClientOptions& options, std::string& error);

  mbedtls_x509_crt caChain_;
  mbedtls_x509_crt ownCertificate_;
  mbedtls_pk_context ownKey_;
  mbedtls_ssl_config sslConfig_;
  std::vector<std::string> alpn_;
  std::vector<const char*> alpnList_;  // null-terminated; mbedTLS keeps the pointer
  std::shared_ptr<TlsRandom> random_;
  std::string hostname_;
  bool insecure_ = false;
};

class TlsClientSession final : public StreamFilter {
 public:
  explicit TlsClientSession(std::shared_ptr<const TlsClientConfig> config);
  ~TlsClientSession() override;
  TlsClientSession(const TlsClientSession&) = delete;
  TlsClientSession& operator=(const TlsClientSession&) = delete;

  bool onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                 std::vector<std::uint8_t>& wireOut) override;
  bool onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) override;
  bool handshakeDone() const override { return handshakeDone_; }
  std::string peerIdentity() const override { return {}; }
  std::string error() const override { return error_; }
  const char* protocolName() const override { return "TLS"; }
  bool encrypted() const override { return true; }
  void closeGracefully(std::vector<std::uint8_t>& wireOut) override;

 private:
  bool continueHandshake();
  bool checkPeer();
  bool readApplicationData(std::vector<std::uint8_t>& plainOut);
  bool fail(std::string reason);

  std::shared_ptr<const TlsClientConfig> config_;
  mbedtls_ssl_context ssl_;
  WireBio bio_;
  bool handshakeDone_ = false;
  bool failed_ = false;
  std::string error_;
};

class TlsClientFactory final : public StreamFilterFactory {
 public:
  explicit TlsClientFactory(std::shared_ptr<const TlsClientConfig> config)
      : config_(std::move(config)) {}
  std::unique_ptr<StreamFilter> create() override {
    return std::make_unique<TlsClientSession>(config_);
  }

 private:
  std::shared_ptr<const TlsClientConfig> config_;
};

}  // namespace midge::port::tls
