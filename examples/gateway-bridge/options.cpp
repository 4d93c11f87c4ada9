// SPDX-License-Identifier: Apache-2.0
#include "examples/gateway-bridge/options.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace midge::bridge {
namespace {

bool parseNumber(const std::string& text, unsigned long long low, unsigned long long high,
                 unsigned long long& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < low || value > high) return false;
  out = value;
  return true;
}

// Topic levels the bridge builds must not contain wildcards (invalid in a topic name) or
// be empty; the device name is one level, the prefix may span several.
bool validTopicPart(const std::string& part, bool allowSlash) {
  if (part.find_first_of("+#") != std::string::npos) return false;
  if (!allowSlash) return !part.empty() && part.find('/') == std::string::npos;
  return part.empty() ||
         (part.front() != '/' && part.back() != '/' && part.find("//") == std::string::npos);
}

}  // namespace

const char* usageText() {
  return "usage: midge-gateway-bridge --device NAME [--serial PATH [--baud N]]\n"
         "                            [--host HOST] [--port N] [--prefix PREFIX]\n"
         "                            [--client-id ID] [--username NAME]\n"
         "                            [--password-file FILE] [--keepalive SECONDS]\n"
         "                            [--buffer N] [--backoff-min MS] [--backoff-max MS]\n"
         "                            [--verbose]\n"
         "Reads 'KEY VALUE' or 'KEY=VALUE' lines from a serial port (stdin without\n"
         "--serial) and publishes them at QoS 1 to PREFIX/NAME/KEY; writes messages from\n"
         "PREFIX/NAME/cmd to the device, one per line. See examples/gateway-bridge/README.md.\n";
}

ParseOutcome parseOptions(const std::vector<std::string>& arguments, BridgeOptions& options,
                          std::string& message) {
  auto fail = [&](const std::string& why) {
    message = why;
    return ParseOutcome::Error;
  };
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const std::string& flag = arguments[i];
    if (flag == "--help" || flag == "-h") return ParseOutcome::Help;
    if (flag == "--verbose" || flag == "-v") {
      options.verbose = true;
      continue;
    }
    if (i + 1 >= arguments.size()) return fail(flag + " needs a value");
    const std::string& value = arguments[++i];
    unsigned long long number = 0;
    if (flag == "--serial") {
      options.serialPath = value;
    } else if (flag == "--baud") {
      if (!parseNumber(value, 50, 4000000, number)) return fail("--baud: not a baud rate: " + value);
      options.baud = static_cast<std::uint32_t>(number);
    } else if (flag == "--host") {
      if (value.empty()) return fail("--host: empty");
      options.host = value;
    } else if (flag == "--port") {
      if (!parseNumber(value, 1, 65535, number)) return fail("--port: expected 1-65535, got " + value);
      options.port = static_cast<std::uint16_t>(number);
    } else if (flag == "--prefix") {
      if (!validTopicPart(value, true)) {
        return fail("--prefix: no wildcards, no empty levels, no leading or trailing '/'");
      }
      options.prefix = value;
    } else if (flag == "--device") {
      if (!validTopicPart(value, false)) {
        return fail("--device: one non-empty topic level without '/', '+' or '#'");
      }
      options.device = value;
    } else if (flag == "--client-id") {
      if (value.empty() || value.size() > 65535) return fail("--client-id: empty or too long");
      options.clientId = value;
    } else if (flag == "--username") {
      options.username = value;
    } else if (flag == "--password-file") {
      // A password on the command line would show in ps; the first line of a file does not.
      std::ifstream file(value);
      std::string password;
      if (!file || !std::getline(file, password)) return fail("--password-file: cannot read " + value);
      options.password = password;
    } else if (flag == "--keepalive") {
      if (!parseNumber(value, 0, 65535, number)) return fail("--keepalive: expected 0-65535 seconds");
      options.keepAliveSeconds = static_cast<std::uint16_t>(number);
    } else if (flag == "--buffer") {
      if (!parseNumber(value, 0, 10000000, number)) return fail("--buffer: expected 0-10000000 readings");
      options.bufferCapacity = static_cast<std::size_t>(number);
    } else if (flag == "--backoff-min") {
      if (!parseNumber(value, 10, 3600000, number)) return fail("--backoff-min: expected 10-3600000 ms");
      options.backoffFirstMs = static_cast<std::uint32_t>(number);
    } else if (flag == "--backoff-max") {
      if (!parseNumber(value, 10, 3600000, number)) return fail("--backoff-max: expected 10-3600000 ms");
      options.backoffMaxMs = static_cast<std::uint32_t>(number);
    } else {
      return fail("unknown option " + flag);
    }
  }
  if (options.device.empty()) return fail("--device NAME is required");
  if (options.backoffMaxMs < options.backoffFirstMs) {
    return fail("--backoff-max must not be below --backoff-min");
  }
  if (options.password && !options.username) {
    return fail("--password-file needs --username (MQTT 3.1.1)");
  }
  if (options.clientId.empty()) options.clientId = "bridge-" + options.device;
  return ParseOutcome::Run;
}

}  // namespace midge::bridge
