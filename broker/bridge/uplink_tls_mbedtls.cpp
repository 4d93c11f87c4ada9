// SPDX-License-Identifier: Apache-2.0
#include "broker/bridge/uplink_tls.hpp"

#include "port/tls/tls_client.hpp"

namespace midge::bridge {

std::unique_ptr<port::StreamFilterFactory> makeUplinkTls(const config::BridgeTls& tls,
                                                         const std::string& hostname,
                                                         std::string& error) {
  port::tls::TlsClientOptions options;
  options.caFile = tls.caFile;
  options.caPath = tls.caPath;
  options.certFile = tls.certFile;
  options.keyFile = tls.keyFile;
  options.hostname = hostname;
  options.insecure = tls.insecure;
  options.tlsVersion = tls.minVersion;
  options.alpn = tls.alpn;
  auto random = port::tls::TlsRandom::create(error);
  if (!random) return nullptr;
  auto config = port::tls::TlsClientConfig::load(options, random, error);
  if (!config) return nullptr;
  return std::make_unique<port::tls::TlsClientFactory>(config);
}

}  // namespace midge::bridge
