// SPDX-License-Identifier: Apache-2.0
// Line-preserving edits of a password file for midge-passwd: only the edited user's line
// changes; comments, blank lines, other users and their order stay byte for byte.
#pragma once

#include <string>
#include <string_view>

namespace midge::auth {

// The user a line belongs to, as the loader reads it ("" for blank and comment lines).
std::string_view userOfLine(std::string_view line);

// Replaces the user's first line with "user:hash" (dropping any further lines for the same
// user) or appends it. Returns the new file text.
std::string setUserHash(std::string_view text, std::string_view user, std::string_view hash);

// Drops every line of `user`. Returns false (and leaves `out` alone) if there was none.
bool removeUser(std::string_view text, std::string_view user, std::string& out);

// Why `user` cannot be stored in a password file, or nullptr if it can.
const char* userNameProblem(std::string_view user);

// Replaces `path` with `contents` so that readers see the old file or the new one, never a
// half-written one: write a temporary file beside it, fsync, rename. A new file gets mode
// 0600; an existing one keeps its mode and, where permitted, its owner. A symbolic link is
// followed and its target replaced.
bool writeFileAtomically(const std::string& path, std::string_view contents, std::string& error);

}  // namespace midge::auth
