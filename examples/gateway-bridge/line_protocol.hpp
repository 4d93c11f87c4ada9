// SPDX-License-Identifier: Apache-2.0
// The device's side of the gateway bridge: a line protocol simple enough for any
// microcontroller's printf, and the checks that keep it from reaching MQTT malformed.
//
// Device -> bridge, one reading per line (LF, or CR LF):
//   T 21.5            KEY, blanks, VALUE
//   humidity=40       KEY=VALUE (blanks around the '=' are allowed)
//   # boot v1.2       a comment: logged, not published
// KEY is 1-32 characters of [A-Za-z0-9_-] and becomes the last topic level
// (<prefix>/<device>/<KEY>). VALUE is the rest of the line without surrounding blanks,
// 1-200 bytes without control characters. The keys "status", "cmd" and "bridge" name the
// bridge's own topics and are refused. Lines longer than 256 bytes are dropped whole.
//
// Bridge -> device: the payload of every message on <prefix>/<device>/cmd, followed by LF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace midge::bridge {

constexpr std::size_t kMaxLineLength = 256;
constexpr std::size_t kMaxKeyLength = 32;
constexpr std::size_t kMaxValueLength = 200;
constexpr std::size_t kMaxCommandLength = 200;

enum class LineKind { Reading, Comment, Blank, Invalid };

struct ParsedLine {
  LineKind kind = LineKind::Blank;
  std::string_view key;    // Reading only; views into the line
  std::string_view value;
  const char* error = nullptr;  // Invalid only: why, for the log
};

ParsedLine parseLine(std::string_view line);

// A command payload the device can receive as one line: 1-200 bytes, no CR, LF or NUL.
bool isValidCommand(std::string_view payload, const char** error);

// Cuts a byte stream into lines of at most maxLength bytes (terminator excluded; a CR
// before the LF is removed). A longer line is dropped whole, up to its LF, and counted.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t maxLength = kMaxLineLength) : maxLength_(maxLength) {}

  template <typename OnLine>
  void feed(std::string_view bytes, OnLine&& onLine) {
    for (const char c : bytes) {
      if (c == '\n') {
        if (!discarding_) {
          if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
          if (partial_.size() > maxLength_) {
            ++overlong_;
          } else {
            onLine(std::string_view(partial_));
          }
        }
        discarding_ = false;
        partial_.clear();
        continue;
      }
      if (discarding_) continue;
      // One byte of slack holds the CR of a CR LF pair; beyond that the line is lost.
      if (partial_.size() > maxLength_) {
        discarding_ = true;
        partial_.clear();
        ++overlong_;
        continue;
      }
      partial_.push_back(c);
    }
  }

  std::size_t overlongLines() const noexcept { return overlong_; }

 private:
  std::size_t maxLength_;
  std::string partial_;
  bool discarding_ = false;
  std::size_t overlong_ = 0;
};

}  // namespace midge::bridge
