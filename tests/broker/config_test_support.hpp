// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the configuration tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config.hpp"

namespace midge::config::test {

struct Parsed {
  bool ok = false;
  Config config;
  std::vector<Diagnostic> diags;

  const Diagnostic* firstFatal() const {
    for (const auto& d : diags) {
      if (d.fatal) return &d;
    }
    return nullptr;
  }
  int warningCount() const {
    int count = 0;
    for (const auto& d : diags) count += d.fatal ? 0 : 1;
    return count;
  }
  bool hasWarningContaining(std::string_view text) const {
    for (const auto& d : diags) {
      if (!d.fatal && d.message.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string allMessages() const {
    std::string text;
    for (const auto& d : diags) text += toString(d) + "\n";
    return text;
  }
};

inline Parsed parse(std::string_view text, std::string_view name = "test.conf") {
  Parsed parsed;
  parsed.ok = parseText(text, name, parsed.config, parsed.diags);
  return parsed;
}

}  // namespace midge::config::test
