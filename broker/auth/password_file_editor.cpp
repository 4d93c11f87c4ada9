// SPDX-License-Identifier: Apache-2.0
#include "broker/auth/password_file_editor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "broker/auth/text_file.hpp"

namespace midge::auth {
namespace {

// Calls `visit(lineWithEnding, lineWithoutEnding)` for each line.
template <typename Visit>
void forEachLine(std::string_view text, Visit visit) {
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::size_t take = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view whole = text.substr(0, take);
    std::string_view bare = whole;
    if (!bare.empty() && bare.back() == '\n') bare.remove_suffix(1);
    if (!bare.empty() && bare.back() == '\r') bare.remove_suffix(1);
    visit(whole, bare);
    text.remove_prefix(take);
  }
}

void appendLine(std::string& out, std::string_view line) {
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  out.append(line.data(), line.size());
  out.push_back('\n');
}

std::string errnoText() { return std::strerror(errno); }

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

std::string directoryOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::string_view userOfLine(std::string_view line) {
  std::string_view content = trimBlanks(line);
  if (content.empty() || content.front() == '#') return {};
  std::size_t colon = content.find(':');
  if (colon == std::string_view::npos) return {};
  return trimBlanks(content.substr(0, colon));
}

std::string setUserHash(std::string_view text, std::string_view user, std::string_view hash) {
  std::string entry = std::string(user) + ":" + std::string(hash);
  std::string out;
  bool replaced = false;
  forEachLine(text, [&](std::string_view whole, std::string_view bare) {
    if (userOfLine(bare) != user) {
      out.append(whole.data(), whole.size());
    } else if (!replaced) {
      appendLine(out, entry);
      replaced = true;
    }
  });
  if (!replaced) appendLine(out, entry);
  return out;
}

bool removeUser(std::string_view text, std::string_view user, std::string& out) {
  std::string kept;
  bool found = false;
  forEachLine(text, [&](std::string_view whole, std::string_view bare) {
    if (userOfLine(bare) == user) {
      found = true;
    } else {
      kept.append(whole.data(), whole.size());
    }
  });
  if (found) out = std::move(kept);
  return found;
}

const char* userNameProblem(std::string_view user) {
  if (user.empty()) return "Username must not be empty.";
  if (user.size() > 65535) return "Username must be less than 65536 characters long.";
  if (user.find(':') != std::string_view::npos) {
    return "Username must not contain the ':' character.";
  }
  for (char c : user) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "Username must not contain control characters.";
    }
  }
  // The loader trims blanks and skips '#' lines, so such a name could never log in.
  if (isBlank(user.front()) || isBlank(user.back())) {
    return "Username must not start or end with a blank.";
  }
  if (user.front() == '#') return "Username must not start with '#'.";
  return nullptr;
}

bool writeFileAtomically(const std::string& path, std::string_view contents, std::string& error) {
  std::string target = path;
  mode_t mode = S_IRUSR | S_IWUSR;
  struct stat existing {};
  bool exists = ::stat(path.c_str(), &existing) == 0;
  if (exists) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) {
      error = "Unable to resolve " + path + ": " + errnoText() + ".";
      return false;
    }
    target = resolved;
    mode = existing.st_mode & 07777;
  }
  std::string temporary = target + ".tmpXXXXXX";
  int fd = ::mkstemp(&temporary[0]);
  if (fd < 0) {
    error = "Unable to open temporary file " + temporary + ": " + errnoText() + ".";
    return false;
  }
  bool ok = ::fchmod(fd, mode) == 0;
  if (ok && exists && ::fchown(fd, existing.st_uid, existing.st_gid) != 0) {
    // Best effort: only root may give the file back to another owner.
  }
  ok = ok && writeAll(fd, contents) && ::fsync(fd) == 0;
  std::string failure = ok ? std::string() : errnoText();
  if (::close(fd) != 0 && ok) {
    ok = false;
    failure = errnoText();
  }
  if (ok && ::rename(temporary.c_str(), target.c_str()) != 0) {
    ok = false;
    failure = errnoText();
  }
  if (!ok) {
    ::unlink(temporary.c_str());
    error = "Unable to write " + target + ": " + failure + ".";
    return false;
  }
  // Make the rename itself durable; a failure here leaves a correct file, so ignore it.
  int directory = ::open(directoryOf(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory >= 0) {
    (void)::fsync(directory);
    ::close(directory);
  }
  return true;
}

}  // namespace midge::auth
