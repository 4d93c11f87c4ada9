// SPDX-License-Identifier: Apache-2.0
#include <vector>

#include "broker/tls_listeners.hpp"
#include "port/tls/tls_server_context.hpp"

namespace midge::app {

struct TlsListeners::Contexts {
  std::vector<std::unique_ptr<port::TlsServerContext>> byListener;
  std::vector<std::string> names;
};

TlsListeners::TlsListeners() : contexts_(std::make_unique<Contexts>()) {}
TlsListeners::~TlsListeners() = default;

namespace {

std::string versionName(config::TlsVersion version) {
  switch (version) {
    case config::TlsVersion::Default: return "";
    case config::TlsVersion::V1_1: return "tlsv1.1";
    case config::TlsVersion::V1_2: return "tlsv1.2";
    case config::TlsVersion::V1_3: return "tlsv1.3";
  }
  return "";
}

}  // namespace

bool TlsListeners::create(const config::Config& config, std::string& error) {
  for (const config::Listener& listener : config.listeners) {
    contexts_->names.push_back("listener " + std::to_string(listener.port) + " (" +
                               listener.definedAt + ")");
    if (!listener.tls) {
      contexts_->byListener.emplace_back();
      continue;
    }
    port::TlsOptions options;
    options.certFile = listener.tls->certFile;
    options.keyFile = listener.tls->keyFile;
    options.caFile = listener.tls->caFile;
    options.caPath = listener.tls->caPath;
    options.crlFile = listener.tls->crlFile;
    options.ciphers = listener.tls->ciphers;
    options.tlsVersion = versionName(listener.tls->minVersion);
    options.requireCertificate = listener.tls->requireCertificate;
    options.useIdentityAsUsername = listener.tls->useIdentityAsUsername;
    options.useSubjectAsUsername = listener.tls->useSubjectAsUsername;
    options.sessionCacheSize = listener.tls->sessionCacheSize;
    options.sessionTickets = listener.tls->sessionTickets;
    options.sessionLifetimeSeconds = listener.tls->sessionLifetimeSeconds;
    std::unique_ptr<port::TlsServerContext> context;
    std::string why;
    if (!port::TlsServerContext::create(options, context, why)) {
      error = "TLS " + contexts_->names.back() + ": " + why;
      return false;
    }
    contexts_->byListener.push_back(std::move(context));
  }
  return true;
}

port::StreamFilterFactory* TlsListeners::factoryFor(std::size_t listenerIndex) const {
  if (listenerIndex >= contexts_->byListener.size()) return nullptr;
  return contexts_->byListener[listenerIndex].get();
}

void TlsListeners::reload(Logger& logger) {
  for (std::size_t i = 0; i < contexts_->byListener.size(); ++i) {
    port::TlsServerContext* context = contexts_->byListener[i].get();
    if (context == nullptr) continue;
    std::string error;
    if (context->reload(error)) {
      logger.write(LogLevel::Notice, "TLS " + contexts_->names[i] + ": certificates reloaded");
    } else {
      logger.write(LogLevel::Error, "TLS " + contexts_->names[i] +
                                        ": reload failed, keeping the previous certificates: " + error);
    }
  }
}

}  // namespace midge::app
