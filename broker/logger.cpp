// SPDX-License-Identifier: Apache-2.0
#include "broker/logger.hpp"

#include <syslog.h>

#include <ctime>
#include <string>

namespace midge::app {

namespace {

int syslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return LOG_ERR;
    case LogLevel::Warning: return LOG_WARNING;
    case LogLevel::Notice: return LOG_NOTICE;
    case LogLevel::Info: return LOG_INFO;
    case LogLevel::Debug:
    case LogLevel::Subscribe:
    case LogLevel::Unsubscribe: return LOG_DEBUG;
  }
  return LOG_INFO;
}

void appendHexEscape(std::string& out, unsigned char byte) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += "\\x";
  out += kDigits[byte >> 4];
  out += kDigits[byte & 0x0f];
}

// Length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8SequenceLength(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return length;
}

}  // namespace

void appendEscapedForLog(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size());
  while (!text.empty()) {
    const auto lead = static_cast<unsigned char>(text.front());
    if (lead >= 0x20 && lead < 0x7f) {
      out += text.front();
      text.remove_prefix(1);
      continue;
    }
    const std::size_t length = lead >= 0x80 ? utf8SequenceLength(text) : 0;
    // U+0080..U+009F are encoded as C2 80..C2 9F.
    const bool c1Control =
        length == 2 && lead == 0xc2 && static_cast<unsigned char>(text[1]) <= 0x9f;
    if (length == 0 || c1Control) {
      const std::size_t escaped = c1Control ? 2 : 1;
      for (std::size_t i = 0; i < escaped; ++i) {
        appendHexEscape(out, static_cast<unsigned char>(text[i]));
      }
      text.remove_prefix(escaped);
      continue;
    }
    out.append(text.data(), length);
    text.remove_prefix(length);
  }
}

Logger::Logger(const config::LogSettings& settings) : settings_(settings) {
  reopen();
  if (settings_.toSyslog) {
    const int facility = settings_.syslogFacility < 0 ? LOG_DAEMON
                                                      : (LOG_LOCAL0 + (settings_.syslogFacility << 3));
    openlog("midge", LOG_PID, facility);
  }
}

Logger::~Logger() {
  if (file_ != nullptr) std::fclose(file_);
  if (settings_.toSyslog) closelog();
}

void Logger::reopen() {
  if (settings_.file.empty()) return;
  if (file_ != nullptr) std::fclose(file_);
  file_ = std::fopen(settings_.file.c_str(), "a");
  if (file_ == nullptr) {
    std::fprintf(stderr, "midge: cannot open log file %s; logging to stderr instead\n",
                 settings_.file.c_str());
  }
}

bool Logger::enabled(LogLevel level) const {
  const config::LogTypes& types = settings_.types;
  switch (level) {
    case LogLevel::Error: return types.error;
    case LogLevel::Warning: return types.warning;
    case LogLevel::Notice: return types.notice;
    case LogLevel::Info: return types.information;
    case LogLevel::Debug: return types.debug;
    case LogLevel::Subscribe: return types.subscribe;
    case LogLevel::Unsubscribe: return types.unsubscribe;
  }
  return true;
}

void Logger::write(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  std::string line;
  if (settings_.timestamp) {
    const std::time_t now = std::time(nullptr);
    if (settings_.timestampFormat.empty()) {
      line = std::to_string(static_cast<long long>(now)) + ": ";
    } else {
      char buffer[128];
      std::tm local{};
      localtime_r(&now, &local);
      const std::size_t length =
          std::strftime(buffer, sizeof buffer, settings_.timestampFormat.c_str(), &local);
      line.assign(buffer, length);
      line += ": ";
    }
  }
  const std::size_t messageStart = line.size();
  appendEscapedForLog(line, message);
  const std::size_t messageLength = line.size() - messageStart;
  line += '\n';
  if (settings_.toStderr || (file_ == nullptr && !settings_.file.empty())) {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  if (settings_.toStdout) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  if (file_ != nullptr) {
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }
  if (settings_.toSyslog) {
    syslog(syslogPriority(level), "%.*s", static_cast<int>(messageLength),
           line.data() + messageStart);
  }
}

}  // namespace midge::app
