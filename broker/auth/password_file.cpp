// SPDX-License-Identifier: Apache-2.0
#include "broker/auth/password_file.hpp"

#include "broker/auth/text_file.hpp"

namespace midge::auth {
namespace {

std::string located(std::string_view source, std::size_t line, const std::string& what) {
  return std::string(source) + ":" + std::to_string(line) + ": " + what;
}

// Checked against when the user is unknown, so that an unknown name costs as much as a
// wrong password (PBKDF2 with Mosquitto's default parameters).
PasswordHash unknownUserStandIn() {
  PasswordHash hash;
  hash.kind = HashKind::Sha512Pbkdf2;
  hash.iterations = kDefaultIterations;
  hash.salt.assign(kSaltBytes, 0x5a);
  hash.hash.assign(kHashBytes, 0);
  return hash;
}

}  // namespace

bool PasswordFile::load(const std::string& path, PasswordFile& out, std::string& error) {
  std::string text;
  if (!readTextFile(path, text, error)) return false;
  return parse(text, path, out, error);
}

bool PasswordFile::parse(std::string_view text, std::string_view sourceName, PasswordFile& out,
                         std::string& error) {
  PasswordFile parsed;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view content = trimBlanks(line);
    if (content.empty() || content.front() == '#') continue;
    std::size_t colon = content.find(':');
    if (colon == std::string_view::npos) {
      error = located(sourceName, lines.lineNumber(), "expected USER:HASH, found no ':'");
      return false;
    }
    // Mosquitto trims blanks around both fields, so "alice : $7$..." means user "alice".
    std::string_view user = trimBlanks(content.substr(0, colon));
    std::string_view hashText = trimBlanks(content.substr(colon + 1));
    if (user.empty()) {
      error = located(sourceName, lines.lineNumber(), "empty user name");
      return false;
    }
    PasswordHash hash;
    std::string reason;
    if (!parsePasswordHash(hashText, hash, reason)) {
      error = located(sourceName, lines.lineNumber(),
                      "user '" + std::string(user) + "': " + reason);
      return false;
    }
    // A second entry would make it unclear which password is valid.
    if (!parsed.users_.emplace(std::string(user), std::move(hash)).second) {
      error = located(sourceName, lines.lineNumber(),
                      "user '" + std::string(user) + "' is listed twice");
      return false;
    }
  }
  out = std::move(parsed);
  return true;
}

bool PasswordFile::check(std::string_view user, Bytes password) const {
  auto it = users_.find(user);
  if (it == users_.end()) {
    (void)verifyPassword(unknownUserStandIn(), password);
    return false;
  }
  return verifyPassword(it->second, password);
}

bool PasswordFile::hasUser(std::string_view user) const {
  return users_.find(user) != users_.end();
}

}  // namespace midge::auth
