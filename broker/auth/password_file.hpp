// SPDX-License-Identifier: Apache-2.0
// The password file, in Mosquitto's format, so that an existing `password_file` works
// unchanged:
//
//   # comment
//   alice:$7$101$<base64 salt>$<base64 PBKDF2-HMAC-SHA512 hash>
//   bob:$6$<base64 salt>$<base64 SHA512(password || salt)>
//
// Reload (SIGHUP): load into a fresh object and swap it in only when load() succeeds, so a
// broken file never locks everyone out; load() leaves `out` untouched on failure.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "broker/auth/password_hash.hpp"
#include "core/util/span.hpp"

namespace midge::auth {

class PasswordFile {
 public:
  PasswordFile() { chooseStandIn(); }

  // Reads and validates the whole file. On failure returns false, leaves `out` as it was and
  // sets `error` to "PATH:LINE: what is wrong" (or "PATH: cannot open: ..."). Blank lines and
  // lines starting with '#' are skipped; every other line must be USER:HASH.
  static bool load(const std::string& path, PasswordFile& out, std::string& error);

  // As load(), from text already in memory; `sourceName` is used in error messages.
  static bool parse(std::string_view text, std::string_view sourceName, PasswordFile& out,
                    std::string& error);

  // True only if `user` is listed and `password` hashes to the stored value. The cost of a
  // check does not depend on whether the user exists, so timing does not reveal user names.
  bool check(std::string_view user, Bytes password) const;
  bool hasUser(std::string_view user) const;
  std::size_t size() const { return users_.size(); }

  // What an unknown user's password is checked against: the hash type and iteration count
  // most users of the file have, so that the check costs what a known user's costs.
  const PasswordHash& unknownUserStandIn() const { return standIn_; }

 private:
  void chooseStandIn();

  std::map<std::string, PasswordHash, std::less<>> users_;
  PasswordHash standIn_;
};

}  // namespace midge::auth
