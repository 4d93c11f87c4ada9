// SPDX-License-Identifier: Apache-2.0
// The broker as a process started by root: which user it gives root up for (Mosquitto's
// `user`, with a `midge` default as Mosquitto has `mosquitto`), the files that user must
// still be able to use afterwards (the store, the pid file), and the switch itself.
//
// Order in main(): chooseRunAs() before any listener opens, so that a wrong name fails the
// start before a client could connect; then, once the listeners are open (ports below 1024
// need root), PidFile::write(), handOverStore(), switchTo() and checkStoreDirectory().
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "broker/config/config.hpp"
#include "broker/logger.hpp"

namespace midge::app {

// The system user a broker started as root drops to when the configuration has no `user`
// line. The packages create it. The environment variable of the same purpose,
// MIDGE_DEFAULT_USER, names another one (for builds whose packages call it differently).
inline constexpr const char* kDefaultRunAsUser = "midge";

struct RunAs {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Empty `out` means: stay as we are (not root; or root with neither `user` nor a default
// user, which is logged as a warning; `user root` keeps root without one). False, with
// the reason logged, when `configuredUser` names no user.
bool chooseRunAs(const std::string& configuredUser, std::optional<RunAs>& out, Logger& logger);

// Gives `runAs` the store's files (database, -wal, -shm) and, when it holds nothing else,
// its directory, so that SQLite can still write, checkpoint and clean up after the switch,
// and a later start under that user (systemd User=) can open them. Call while still root.
void handOverStore(const config::Config& config, const RunAs& runAs, Logger& logger);

// Group first: once the user id is gone, the group can no longer be changed.
bool switchTo(const RunAs& runAs, Logger& logger);

// After switchTo(): warns when the store's directory is not writable for the new user
// (SQLite creates its -wal and -shm files there on the next start).
void checkStoreDirectory(const config::Config& config, Logger& logger);

// pid_file: created with O_NOFOLLOW (a link planted in a directory the broker's user can
// write must not make root truncate another file), owned by the user the broker drops to.
class PidFile {
 public:
  // Nothing to do for an empty path. False with the reason logged.
  bool write(const std::string& path, const std::optional<RunAs>& runAs, Logger& logger);
  // Removes it; when the directory does not let the dropped user do that, empties it so
  // that no stale pid is left behind.
  void remove();

 private:
  std::string path_;
};

}  // namespace midge::app
