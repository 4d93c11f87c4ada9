// SPDX-License-Identifier: Apache-2.0
// Command line of midge-gateway-bridge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace midge::bridge {

struct BridgeOptions {
  // The device: a serial port (or a pseudo-terminal), or stdin/stdout when empty.
  std::string serialPath;
  std::uint32_t baud = 115200;

  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  std::string prefix = "sensors";
  std::string device;
  std::string clientId;  // default: "bridge-" + device
  std::optional<std::string> username;
  std::optional<std::string> password;  // read from --password-file

  std::uint16_t keepAliveSeconds = 30;
  std::size_t bufferCapacity = 1000;
  std::uint32_t backoffFirstMs = 500;
  std::uint32_t backoffMaxMs = 30000;
  bool verbose = false;

  std::string topicFor(const std::string& leaf) const {
    return prefix.empty() ? device + "/" + leaf : prefix + "/" + device + "/" + leaf;
  }
};

enum class ParseOutcome { Run, Help, Error };

// Fills options from argv. Error: `message` says what is wrong (for stderr, exit 2).
ParseOutcome parseOptions(const std::vector<std::string>& arguments, BridgeOptions& options,
                          std::string& message);

const char* usageText();

}  // namespace midge::bridge
