// SPDX-License-Identifier: Apache-2.0
// The broker's log: destinations and types from the config (log_dest, log_type,
// log_timestamp), in Mosquitto's line format so existing log tooling keeps working.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "broker/config/config.hpp"
#include "core/engine/io.hpp"

namespace midge::app {

// Appends `text` to `out` with every byte a terminal or log parser could act on written as
// \xNN: C0 controls (newline, carriage return, ESC, ...), DEL, the C1 controls U+0080 to
// U+009F (a single-byte CSI in some terminals) and bytes that are not valid UTF-8. Client
// ids, user names and topics come from the network; unescaped, a newline in one would
// forge a log line and an ESC would drive the terminal of whoever reads the log.
void appendEscapedForLog(std::string& out, std::string_view text);

class Logger {
 public:
  explicit Logger(const config::LogSettings& settings);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Reopens the log file (SIGHUP after logrotate moved it).
  void reopen();
  void write(LogLevel level, std::string_view message);
  bool enabled(LogLevel level) const;

 private:
  config::LogSettings settings_;
  std::FILE* file_ = nullptr;
};

}  // namespace midge::app
