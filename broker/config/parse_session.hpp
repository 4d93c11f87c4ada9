// SPDX-License-Identifier: Apache-2.0
// Internal to broker/config: the state of one parse, shared by the line reader, the
// keyword handlers and the final checks. Not part of the public API.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/config/config.hpp"

namespace midge::config::detail {

// One configuration line split the way Mosquitto splits it: the keyword, the rest of the
// line (string values such as paths may contain spaces), and the rest as words. A word
// starting with '#' begins a trailing comment and ends `words`.
struct Line {
  std::string_view keyword;
  std::string_view rest;
  std::vector<std::string_view> words;
};

Line splitLine(std::string_view text);

class ParseSession {
 public:
  explicit ParseSession(std::vector<Diagnostic>& diags)
      : diags_(diags), firstDiagnostic_(diags.size()) {}

  // Parses one file's text; depth 0 is the main file, where include_dir is honoured.
  void parseText(std::string_view text, const std::string& fileName, int depth);
  // Reads and parses a file; an unreadable file is reported at the line being parsed
  // (the include_dir line), or at line 0 for the main file.
  void parseFile(const std::string& path, int depth);
  // Applies the rules that need the whole file (default listener, local-only mode,
  // TLS completeness) and moves the result out. False when any fatal diagnostic exists.
  bool finish(Config& out);

  // --- used by keyword handlers ---
  void error(std::string message);
  void warning(std::string message);
  void errorAt(const std::string& file, int line, std::string message);
  void warningAt(const std::string& file, int line, std::string message);

  // The listener that per-listener keywords apply to: the most recent `listener`, or
  // the default listener before any (Mosquitto's rule).
  Listener& currentListener();
  // Where `port` and `bind_address` go, wherever they appear.
  Listener& defaultListener() { return defaultListener_; }
  bool beforeFirstListener() const { return !current_.has_value(); }
  // Where security keywords go: the current listener with per_listener_settings, else
  // the global settings.
  SecuritySettings& currentSecurity();
  TlsSettings& currentTls();

  // Mosquitto rejects a second value for most string settings in the same scope rather
  // than silently keeping one; returns false (after reporting) on a repeat.
  bool claimOnce(std::string_view keyword, bool perListener);

  void startListener(std::uint16_t port, std::string_view bindAddress);
  void leaveLocalOnly() { localOnly_ = false; }
  void noteDefaultPort() { defaultPortSet_ = true; }
  void noteSecurityKeyword() { securityKeywordSeen_ = true; }
  bool securityKeywordSeen() const { return securityKeywordSeen_; }
  void includeDirectory(std::string_view directory);

  // The bridge that bridge keywords apply to: the most recent `connection` of the file
  // being read, or nullptr before the first. As in Mosquitto, a section runs to the next
  // `connection` and never into or out of an included file.
  Bridge* currentBridge();
  void startBridge(std::string name);
  // Mosquitto refuses a second value for most bridge keywords within one section.
  bool claimBridgeOnce(std::string_view keyword);
  // Where each bridge's `connection` line is, parallel to config().bridges.
  const std::vector<std::pair<std::string, int>>& bridgeOrigins() const {
    return bridgeOrigins_;
  }
  int depth() const { return depth_; }
  // "file:line" of the line being parsed.
  std::string position() const { return file_ + ":" + std::to_string(line_); }

  Config& config() { return config_; }
  LogSettings& log() { return config_.log; }
  bool logDestSeen = false;  // the first log_dest line replaces the default destination
  bool logTypeSeen = false;  // the first log_type line replaces the default types

 private:
  struct Origin {
    std::string file;
    int line = 0;
  };

  bool failed() const;
  bool defaultListenerConfigured() const;
  bool defaultListenerHasOptions() const;
  void addLoopbackListeners();
  void finishListeners();
  void finishTls(Listener& listener, const Origin& origin);
  void finishHttp(Listener& listener, const Origin& origin);
  void finishSecurity();

  std::vector<Diagnostic>& diags_;
  std::size_t firstDiagnostic_;  // diagnostics before this one belong to the caller
  Config config_;
  std::vector<Origin> origins_;  // parallel to config_.listeners
  Listener defaultListener_;
  std::optional<std::size_t> current_;  // index into config_.listeners
  bool localOnly_ = true;
  bool defaultPortSet_ = false;
  bool securityKeywordSeen_ = false;
  std::vector<std::pair<std::string, int>> bridgeOrigins_;  // file, line
  std::optional<std::size_t> bridge_;  // index into config_.bridges
  std::set<std::string> claimed_;
  std::string mainFile_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> mainFileId_;  // device, inode
  std::string file_;
  int line_ = 0;
  int depth_ = 0;
};

// Dispatches one line to its keyword handler (keywords.cpp).
void applyKeyword(ParseSession& session, const Line& line);

}  // namespace midge::config::detail
