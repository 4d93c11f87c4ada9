// SPDX-License-Identifier: Apache-2.0
#include "broker/auth/password_file.hpp"

#include "broker/auth/text_file.hpp"

namespace midge::auth {
namespace {

std::string located(std::string_view source, std::size_t line, const std::string& what) {
  return std::string(source) + ":" + std::to_string(line) + ": " + what;
}

PasswordHash standInHash(HashKind kind, std::uint32_t iterations) {
  PasswordHash hash;
  hash.kind = kind;
  hash.iterations = iterations;
  hash.salt.assign(kSaltBytes, 0x5a);
  hash.hash.assign(kHashBytes, 0);
  return hash;
}

}  // namespace

void PasswordFile::chooseStandIn() {
  // A fixed count would give unknown names away as soon as the file's users have another
  // one (a check at 210,000 iterations against a stand-in at 101). The most common cost
  // matches every user in the usual file, where all hashes come from the same tool; ties
  // go to the dearer one, so that no known user is much slower than an unknown one.
  std::map<std::pair<HashKind, std::uint32_t>, std::size_t> costs;
  for (const auto& entry : users_) {
    const PasswordHash& hash = entry.second;
    ++costs[{hash.kind, hash.kind == HashKind::Sha512Pbkdf2 ? hash.iterations : 0}];
  }
  std::pair<HashKind, std::uint32_t> chosen{HashKind::Sha512Pbkdf2, kDefaultIterations};
  std::size_t best = 0;
  for (const auto& [cost, users] : costs) {
    if (users >= best) {
      best = users;
      chosen = cost;
    }
  }
  standIn_ = standInHash(chosen.first, chosen.second);
}

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
  parsed.chooseStandIn();
  out = std::move(parsed);
  return true;
}

bool PasswordFile::check(std::string_view user, Bytes password) const {
  auto it = users_.find(user);
  if (it == users_.end()) {
    (void)verifyPassword(standIn_, password);
    return false;
  }
  return verifyPassword(it->second, password);
}

bool PasswordFile::hasUser(std::string_view user) const {
  return users_.find(user) != users_.end();
}

}  // namespace midge::auth
