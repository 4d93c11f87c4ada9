// SPDX-License-Identifier: Apache-2.0
// MIDGE_WITH_HTTP=OFF: the build has no evhttp, so an http listener cannot be served.
#include "broker/operator_http.hpp"

namespace midge::app {

struct OperatorEndpoints::State {};

OperatorEndpoints::OperatorEndpoints() = default;
OperatorEndpoints::~OperatorEndpoints() = default;

bool OperatorEndpoints::open(const config::Config& config, port::EventLoop&,
                             const OperatorSources&, Logger&, std::string& error) {
  for (const config::Listener& listener : config.listeners) {
    if (listener.protocol == config::ListenerProtocol::Http) {
      error = "listener at " + listener.definedAt +
              ": this midge was built without the http listener (MIDGE_WITH_HTTP=OFF)";
      return false;
    }
  }
  return true;
}

void OperatorEndpoints::setServing(bool) {}
void OperatorEndpoints::reload(Logger&) {}

}  // namespace midge::app
