// SPDX-License-Identifier: Apache-2.0
// Reading small configuration files (password and ACL files) and walking their lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace midge::auth {

// Both files are meant to be read in one go on start and on SIGHUP; a limit keeps a wrong
// path (a device, a log file) from exhausting memory.
inline constexpr std::size_t kMaxAuthFileBytes = 16u * 1024u * 1024u;

// Reads the whole file. On failure `error` says why, naming the path.
bool readTextFile(const std::string& path, std::string& out, std::string& error);

// Empty, or a warning for the log when the file at `path` is readable by every user of the
// machine (mode & 004), in the words Mosquitto 2.0 uses. `keyword` says which file it is.
std::string worldReadableWarning(const std::string& path, std::string_view keyword);

// Yields the lines of `text` without their "\n" or "\r\n" ending; the last line may lack one.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : rest_(text) {}
  bool next(std::string_view& line);
  std::size_t lineNumber() const { return lineNumber_; }

 private:
  std::string_view rest_;
  std::size_t lineNumber_ = 0;
  bool done_ = false;
};

bool isBlank(char c);
std::string_view trimBlanks(std::string_view text);

}  // namespace midge::auth
