// SPDX-License-Identifier: Apache-2.0
// The `protocol http` listeners: /metrics, /healthz, /readyz with optional basic or bearer
// authentication (docs/monitoring.md). Built from operator_http.cpp or, with
// MIDGE_WITH_HTTP=OFF, operator_http_off.cpp, which refuses such listeners.
#pragma once

#include <memory>
#include <string>

#include "broker/config/config.hpp"
#include "broker/logger.hpp"

namespace midge {
class Broker;
namespace port {
class EventLoop;
}  // namespace port
}  // namespace midge

namespace midge::app {

class TimedStore;
class TlsListeners;
class TurnTimer;

struct OperatorSources {
  const Broker* broker = nullptr;
  const port::EventLoop* loop = nullptr;
  const TimedStore* store = nullptr;
  const TurnTimer* turns = nullptr;
  std::string storePath;
  std::string version;
  // The TLS of listeners with certfile/keyfile (https); null serves none of them.
  const TlsListeners* tls = nullptr;
};

class OperatorEndpoints {
 public:
  OperatorEndpoints();
  ~OperatorEndpoints();
  OperatorEndpoints(const OperatorEndpoints&) = delete;
  OperatorEndpoints& operator=(const OperatorEndpoints&) = delete;

  // Reads the credential files and binds every http listener of `config`. False with
  // `error` naming the listener and the problem.
  bool open(const config::Config& config, port::EventLoop& loop,
            const OperatorSources& sources, Logger& logger, std::string& error);
  // /readyz: the MQTT listeners are open and the broker is not stopping.
  void setServing(bool serving);
  // Re-reads the credential files (SIGHUP); a file that fails keeps the previous one.
  void reload(Logger& logger);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace midge::app
