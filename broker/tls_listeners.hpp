// SPDX-License-Identifier: Apache-2.0
// One TLS server context per TLS listener, reloaded on SIGHUP. Built from
// tls_listeners_mbedtls.cpp or, with MIDGE_WITH_TLS=OFF, tls_listeners_off.cpp.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "broker/config/config.hpp"
#include "broker/logger.hpp"
#include "port/stream_filter.hpp"

namespace midge::app {

class TlsListeners {
 public:
  TlsListeners();
  ~TlsListeners();
  TlsListeners(const TlsListeners&) = delete;
  TlsListeners& operator=(const TlsListeners&) = delete;

  // False with `error` naming the listener, the file and the problem.
  bool create(const config::Config& config, std::string& error);
  // Null for plain listeners. Owned by this object.
  port::StreamFilterFactory* factoryFor(std::size_t listenerIndex) const;
  // Re-reads certificates and keys; a listener whose files fail keeps its old ones.
  void reload(Logger& logger);

 private:
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
};

}  // namespace midge::app
