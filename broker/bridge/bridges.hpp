// SPDX-License-Identifier: Apache-2.0
// The broker's bridges: what the runtime refuses to run, and one BridgeRuntime per
// `connection` section, started after the listeners and stopped before the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "port/stream_filter.hpp"

struct event_base;

namespace midge::bridge {

class BridgeRuntime;

// Every reason this build cannot run `bridge` as configured ("bridge NAME: ..."); empty
// when it can. The broker refuses to start rather than run a bridge differently.
std::vector<std::string> refusalsFor(const config::Bridge& bridge, const config::Config& config);

class Bridges {
 public:
  using Log = std::function<void(const std::string&)>;
  Bridges();
  ~Bridges();
  // Checks every bridge, then starts them; `log` hears what they do while running. False,
  // with every reason in `errors`, when one is refused or cannot start.
  bool start(const config::Config& config, event_base* base, Log log,
             std::vector<std::string>& errors);
  void stop();
  // Hands every bridge's statistics to `publish` as (suffix under $SYS/broker/, value):
  // connection/NAME/state as Mosquitto names it, and connection/NAME/messages/sent ...
  // The values live as long as this object.
  void exposeStatistics(
      const std::function<void(std::string, const std::uint64_t*)>& publish) const;

 private:
  std::vector<std::unique_ptr<port::StreamFilterFactory>> tls_;  // outlive the runtimes
  std::vector<std::unique_ptr<BridgeRuntime>> runtimes_;
};

}  // namespace midge::bridge
