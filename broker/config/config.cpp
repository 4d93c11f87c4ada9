// SPDX-License-Identifier: Apache-2.0
#include "broker/config/config.hpp"

#include "broker/config/parse_session.hpp"

namespace midge::config {

std::string toString(const Diagnostic& diagnostic) {
  std::string text = diagnostic.file;
  if (diagnostic.line > 0) text += ":" + std::to_string(diagnostic.line);
  text += diagnostic.fatal ? ": error: " : ": warning: ";
  text += diagnostic.message;
  return text;
}

bool hasFatal(const std::vector<Diagnostic>& diags) {
  for (const Diagnostic& diagnostic : diags) {
    if (diagnostic.fatal) return true;
  }
  return false;
}

bool parseFile(const std::string& path, Config& out, std::vector<Diagnostic>& diags) {
  detail::ParseSession session(diags);
  session.parseFile(path, 0);
  return session.finish(out);
}

bool parseText(std::string_view text, std::string_view nameForErrors, Config& out,
               std::vector<Diagnostic>& diags) {
  detail::ParseSession session(diags);
  session.parseText(text, std::string(nameForErrors), 0);
  return session.finish(out);
}

bool applyCommandLineOverrides(Config& config, const CommandLineOverrides& overrides,
                               std::vector<Diagnostic>& diags) {
  if (overrides.verbose) config.log.types = LogTypes{true, true, true, true, true, true, true};
  if (overrides.ports.empty()) return true;
  for (std::uint16_t port : overrides.ports) {
    if (port == 0) {
      diags.push_back(Diagnostic{"command line", 0, "-p: port 0 is not valid", true});
      return false;
    }
  }
  if (!config.localOnly) {
    diags.push_back(Diagnostic{"command line", 0,
                               "-p ignored: the configuration file defines listeners "
                               "(Mosquitto ignores -p in this case too)",
                               false});
    return true;
  }
  // Local-only mode: the loopback listeners move to the given ports, one pair each.
  std::vector<Listener> loopback;
  for (const Listener& listener : config.listeners) {
    if (listener.implicitLoopback) loopback.push_back(listener);
  }
  std::vector<Listener> moved;
  for (std::uint16_t port : overrides.ports) {
    for (Listener listener : loopback) {
      listener.port = port;
      listener.definedAt = "command line -p";
      moved.push_back(std::move(listener));
    }
  }
  config.listeners = std::move(moved);
  return true;
}

std::string persistenceFilePath(const Config& config) {
  if (config.persistenceLocation.empty()) return config.persistenceFile;
  if (config.persistenceLocation.back() == '/') {
    return config.persistenceLocation + config.persistenceFile;
  }
  return config.persistenceLocation + "/" + config.persistenceFile;
}

}  // namespace midge::config
