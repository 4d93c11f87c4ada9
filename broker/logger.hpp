// SPDX-License-Identifier: Apache-2.0
// The broker's log: destinations and types from the config (log_dest, log_type,
// log_timestamp), in Mosquitto's line format so existing log tooling keeps working.
#pragma once

#include <cstdio>
#include <string_view>

#include "broker/config/config.hpp"
#include "core/engine/io.hpp"

namespace midge::app {

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
