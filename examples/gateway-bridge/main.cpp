// SPDX-License-Identifier: Apache-2.0
// midge-gateway-bridge: a device's serial line protocol to MQTT and back. See README.md.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "examples/gateway-bridge/bridge.hpp"
#include "examples/gateway-bridge/options.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  midge::bridge::BridgeOptions options;
  std::string message;
  switch (midge::bridge::parseOptions(arguments, options, message)) {
    case midge::bridge::ParseOutcome::Help:
      std::fputs(midge::bridge::usageText(), stdout);
      return 0;
    case midge::bridge::ParseOutcome::Error:
      std::fprintf(stderr, "midge-gateway-bridge: %s\n%s", message.c_str(),
                   midge::bridge::usageText());
      return 2;
    case midge::bridge::ParseOutcome::Run: break;
  }
  midge::bridge::Bridge bridge(std::move(options));
  return bridge.run();
}
