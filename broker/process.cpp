// SPDX-License-Identifier: Apache-2.0
#include "broker/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace midge::app {
namespace {

std::string defaultRunAsUser() {
  const char* fromEnvironment = std::getenv("MIDGE_DEFAULT_USER");
  return fromEnvironment != nullptr && *fromEnvironment != '\0' ? fromEnvironment
                                                                : kDefaultRunAsUser;
}

std::optional<RunAs> lookUp(const std::string& name, int& error) {
  errno = 0;
  const passwd* entry = ::getpwnam(name.c_str());
  error = errno;
  if (entry == nullptr) return std::nullopt;
  return RunAs{entry->pw_name, entry->pw_uid, entry->pw_gid};
}

std::string directoryOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string baseName(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// lchown never follows a link, and a file with a second hard link may be someone else's
// file (/etc/shadow linked into a directory the broker's user could write): leave those.
void chownStoreFile(const std::string& path, const RunAs& runAs, Logger& logger) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) return;  // -wal/-shm exist only in WAL mode
  if (!S_ISREG(status.st_mode) || status.st_nlink != 1) {
    logger.write(LogLevel::Warning, "not handing " + path + " to user " + runAs.name +
                                        ": not a regular file with a single link");
    return;
  }
  if (status.st_uid == runAs.uid && status.st_gid == runAs.gid) return;
  if (::lchown(path.c_str(), runAs.uid, runAs.gid) != 0) {
    logger.write(LogLevel::Warning, "cannot hand " + path + " to user " + runAs.name + ": " +
                                        std::strerror(errno));
  }
}

// True when the directory holds nothing but the store `fileName` and SQLite's companions:
// then it is the store's own directory (e.g. /var/lib/midge), not a shared one such as
// /var/lib or /tmp whose owner must not change.
bool holdsOnlyTheStore(const std::string& directory, const std::string& fileName) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return false;
  bool onlyStore = true;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (name != fileName && name != fileName + "-wal" && name != fileName + "-shm" &&
        name != fileName + "-journal") {
      onlyStore = false;
      break;
    }
  }
  ::closedir(dir);
  return onlyStore;
}

}  // namespace

bool chooseRunAs(const std::string& configuredUser, std::optional<RunAs>& out, Logger& logger) {
  out.reset();
  if (::geteuid() != 0) return true;
  int error = 0;
  if (!configuredUser.empty()) {
    out = lookUp(configuredUser, error);
    if (!out) {
      logger.write(LogLevel::Error,
                   "user " + configuredUser + ": no such user" +
                       (error != 0 ? std::string(" (") + std::strerror(error) + ")" : ""));
      return false;
    }
    return true;
  }
  const std::string fallback = defaultRunAsUser();
  out = lookUp(fallback, error);
  if (!out) {
    // Refusing to start would break every installation without the user; running as root
    // unnoticed would hide that a parser bug is then a root compromise.
    logger.write(LogLevel::Warning,
                 "running as root: the configuration has no `user` and there is no system user "
                 "'" + fallback + "' to drop to. Create one (the packages do), or set `user` "
                 "to the user to run as (`user root` keeps root and silences this warning)");
  }
  return true;
}

void handOverStore(const config::Config& config, const RunAs& runAs, Logger& logger) {
  if (!config.persistence || runAs.uid == 0) return;
  const std::string path = config::persistenceFilePath(config);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    chownStoreFile(path + suffix, runAs, logger);
  }
  const std::string directory = directoryOf(path);
  struct stat status {};
  if (::lstat(directory.c_str(), &status) != 0 || !S_ISDIR(status.st_mode)) return;
  if (status.st_uid == runAs.uid) return;
  if (!holdsOnlyTheStore(directory, baseName(path))) return;  // checkStoreDirectory() warns
  if (::lchown(directory.c_str(), runAs.uid, runAs.gid) != 0) {
    logger.write(LogLevel::Warning, "cannot hand " + directory + " to user " + runAs.name +
                                        ": " + std::strerror(errno));
  }
}

bool switchTo(const RunAs& runAs, Logger& logger) {
  if (::initgroups(runAs.name.c_str(), runAs.gid) != 0 || ::setgid(runAs.gid) != 0 ||
      ::setuid(runAs.uid) != 0) {
    logger.write(LogLevel::Error,
                 "cannot switch to user " + runAs.name + ": " + std::strerror(errno));
    return false;
  }
  logger.write(LogLevel::Notice, "running as user " + runAs.name);
  return true;
}

void checkStoreDirectory(const config::Config& config, Logger& logger) {
  if (!config.persistence) return;
  const std::string directory = directoryOf(config::persistenceFilePath(config));
  if (::access(directory.c_str(), W_OK | X_OK) == 0) return;
  logger.write(LogLevel::Warning,
               "persistence_location " + directory + " is not writable by this user (" +
                   std::strerror(errno) + "): SQLite cannot create or remove its -wal and "
                   "-shm files there; give the directory to the broker's user");
}

bool PidFile::write(const std::string& path, const std::optional<RunAs>& runAs, Logger& logger) {
  if (path.empty()) return true;
  // Truncated only after the checks: a hard link to another file must stay untouched.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  struct stat status {};
  const char* problem = nullptr;
  if (fd < 0) {
    problem = errno == ELOOP ? "it is a symbolic link, which is not followed" : std::strerror(errno);
  } else if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode) || status.st_nlink != 1) {
    problem = "not a regular file with a single link";
  } else if (::ftruncate(fd, 0) != 0 ||
             (runAs && runAs->uid != 0 && ::fchown(fd, runAs->uid, runAs->gid) != 0)) {
    problem = std::strerror(errno);
  }
  std::string text = std::to_string(static_cast<long>(::getpid())) + "\n";
  if (problem == nullptr &&
      ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    problem = std::strerror(errno);
  }
  if (fd >= 0) ::close(fd);
  if (problem != nullptr) {
    logger.write(LogLevel::Error, "cannot write pid_file " + path + ": " + problem);
    return false;
  }
  path_ = path;
  return true;
}

void PidFile::remove() {
  if (path_.empty()) return;
  if (::unlink(path_.c_str()) != 0 && errno == EACCES) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
  }
  path_.clear();
}

}  // namespace midge::app
