// SPDX-License-Identifier: Apache-2.0
#include "port/tls/tls_server_context.hpp"

#include <utility>

#include "port/tls/tls_config.hpp"
#include "port/tls/tls_resumption.hpp"

namespace midge::port {
namespace {

bool sameResumption(const TlsOptions& a, const TlsOptions& b) {
  return a.sessionCacheSize == b.sessionCacheSize && a.sessionTickets == b.sessionTickets &&
         a.sessionLifetimeSeconds == b.sessionLifetimeSeconds;
}

}  // namespace

TlsServerContext::TlsServerContext(TlsOptions options, std::shared_ptr<tls::TlsRandom> random,
                                   std::shared_ptr<tls::TlsResumption> resumption,
                                   std::shared_ptr<const tls::TlsConfig> config)
    : options_(std::move(options)),
      random_(std::move(random)),
      resumption_(std::move(resumption)),
      config_(std::move(config)) {}

TlsServerContext::~TlsServerContext() = default;

bool TlsServerContext::create(const TlsOptions& options, std::unique_ptr<TlsServerContext>& out,
                              std::string& error) {
  std::shared_ptr<tls::TlsRandom> random = tls::TlsRandom::create(error);
  if (!random) return false;
  std::shared_ptr<tls::TlsResumption> resumption =
      tls::TlsResumption::create(options, random, error);
  if (!resumption) return false;
  std::shared_ptr<const tls::TlsConfig> config =
      tls::TlsConfig::load(options, random, error, resumption);
  if (!config) return false;
  out.reset(new TlsServerContext(options, std::move(random), std::move(resumption),
                                 std::move(config)));
  return true;
}

std::unique_ptr<StreamFilter> TlsServerContext::create() { return createSession(); }

std::unique_ptr<TlsSession> TlsServerContext::createSession() {
  return std::make_unique<TlsSession>(config_);
}

bool TlsServerContext::reload(std::string& error) { return reload(options_, error); }

bool TlsServerContext::reload(const TlsOptions& options, std::string& error) {
  // Cached sessions and ticket keys survive a certificate reload; only changed resumption
  // settings start them afresh.
  std::shared_ptr<tls::TlsResumption> resumption = resumption_;
  if (!sameResumption(options, options_)) {
    resumption = tls::TlsResumption::create(options, random_, error);
    if (!resumption) return false;
  }
  std::shared_ptr<const tls::TlsConfig> config =
      tls::TlsConfig::load(options, random_, error, resumption);
  if (!config) return false;
  // Sessions already running hold their own reference to the previous config.
  config_ = std::move(config);
  resumption_ = std::move(resumption);
  options_ = options;
  return true;
}

}  // namespace midge::port
