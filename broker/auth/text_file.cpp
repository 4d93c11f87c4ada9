// SPDX-License-Identifier: Apache-2.0
#include "broker/auth/text_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace midge::auth {

bool readTextFile(const std::string& path, std::string& out, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::string text;
  char buffer[4096];
  bool ok = true;
  while (true) {
    std::size_t got = std::fread(buffer, 1, sizeof(buffer), file);
    text.append(buffer, got);
    if (text.size() > kMaxAuthFileBytes) {
      error = path + ": larger than " + std::to_string(kMaxAuthFileBytes) + " bytes";
      ok = false;
      break;
    }
    if (got < sizeof(buffer)) {
      if (std::ferror(file) != 0) {
        error = path + ": read error: " + std::strerror(errno);
        ok = false;
      }
      break;
    }
  }
  std::fclose(file);
  if (ok) out = std::move(text);
  return ok;
}

std::string worldReadableWarning(const std::string& path, std::string_view keyword) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || (status.st_mode & S_IROTH) == 0) return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
  return std::string(keyword) + " " + path + " has world readable permissions (mode " + mode +
         "): every user of this machine can read it. To fix this, use `chmod o-rwx " + path +
         "`.";
}

bool LineReader::next(std::string_view& line) {
  if (done_ || rest_.empty()) return false;
  ++lineNumber_;
  std::size_t end = rest_.find('\n');
  if (end == std::string_view::npos) {
    line = rest_;
    done_ = true;
  } else {
    line = rest_.substr(0, end);
    rest_.remove_prefix(end + 1);
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trimBlanks(std::string_view text) {
  while (!text.empty() && isBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && isBlank(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace midge::auth
