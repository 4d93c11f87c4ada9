// SPDX-License-Identifier: Apache-2.0
#include "broker/tls_listeners.hpp"

namespace midge::app {

struct TlsListeners::Contexts {};

TlsListeners::TlsListeners() : contexts_(std::make_unique<Contexts>()) {}
TlsListeners::~TlsListeners() = default;

bool TlsListeners::create(const config::Config& config, std::string& error) {
  for (const config::Listener& listener : config.listeners) {
    if (listener.tls) {
      error = "the listener at " + listener.definedAt +
              " needs TLS, but this midge was built without TLS (MIDGE_WITH_TLS=OFF)";
      return false;
    }
  }
  return true;
}

port::StreamFilterFactory* TlsListeners::factoryFor(std::size_t) const { return nullptr; }

void TlsListeners::reload(Logger&) {}

}  // namespace midge::app
