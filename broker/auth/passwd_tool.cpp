// SPDX-License-Identifier: Apache-2.0
// midge-passwd: manage a password file, with mosquitto_passwd's command line.
//
//   midge-passwd [-H sha512-pbkdf2] [-I iterations] [-c | -D] FILE USER
//   midge-passwd [-H sha512-pbkdf2] [-I iterations] [-c] -b FILE USER PASSWORD
//   midge-passwd [-I iterations] -U FILE
//
// Files written here load unchanged in Mosquitto 2.x and vice versa.
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "broker/auth/password_file.hpp"
#include "broker/auth/password_file_editor.hpp"
#include "broker/auth/password_hash.hpp"
#include "broker/auth/text_file.hpp"

namespace midge::auth {
namespace {

// MQTT carries the password as Binary Data with a 16-bit length (spec 3.1.3.5).
constexpr std::size_t kMaxPasswordBytes = 65535;

struct Options {
  bool batch = false;
  bool create = false;
  bool remove = false;
  bool upgrade = false;
  std::uint32_t iterations = kDefaultIterations;
  std::string file;
  std::string user;
  std::string password;
};

void printUsage(std::FILE* to) {
  std::fputs(
      "midge-passwd manages password files for the Midge MQTT broker (Mosquitto format).\n\n"
      "Usage: midge-passwd [-H sha512-pbkdf2] [-I iterations] [-c | -D] passwordfile username\n"
      "       midge-passwd [-H sha512-pbkdf2] [-I iterations] [-c] -b passwordfile username "
      "password\n"
      "       midge-passwd [-I iterations] -U passwordfile\n"
      " -b : batch mode: take the password from the command line.\n"
      " -c : create a new password file, overwriting an existing one.\n"
      " -D : delete the username rather than adding or updating its password.\n"
      " -H : hash algorithm; only sha512-pbkdf2 (the default) is written.\n"
      " -I : PBKDF2 iterations (default 101).\n"
      " -U : hash the plain-text passwords of a file; lines already hashed are kept.\n"
      "Without -b the password is asked twice on a terminal with echo off, or read as one\n"
      "line from standard input when that is not a terminal.\n",
      to);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

// Returns 0 when parsed, otherwise the exit code (after printing why).
int parseArguments(int argc, char** argv, Options& options, bool& showHelp) {
  int index = 1;
  for (; index < argc && argv[index][0] == '-' && argv[index][1] != '\0'; ++index) {
    std::string_view flag(argv[index]);
    if (flag == "-h" || flag == "--help") {
      showHelp = true;
      return 0;
    } else if (flag == "-b") {
      options.batch = true;
    } else if (flag == "-c") {
      options.create = true;
    } else if (flag == "-D") {
      options.remove = true;
    } else if (flag == "-U") {
      options.upgrade = true;
    } else if (flag == "-H") {
      if (++index == argc) return fail("-H argument given but not enough other arguments.");
      std::string_view hash(argv[index]);
      if (hash == "sha512") {
        return fail("writing sha512 ($6$) hashes is not supported: they are fast to "
                    "brute-force. Use sha512-pbkdf2.");
      }
      if (hash != "sha512-pbkdf2") return fail("Unknown hash type '" + std::string(hash) + "'");
    } else if (flag == "-I") {
      if (++index == argc) return fail("-I argument given but not enough other arguments.");
      // The broker refuses a file with more (see kMaxIterations).
      if (!auth::parseIterations(argv[index], kMaxIterations, options.iterations)) {
        return fail("Number of iterations must be a number from 1 to " +
                    std::to_string(kMaxIterations) + ".");
      }
    } else {
      printUsage(stderr);
      return fail("Unknown option '" + std::string(flag) + "'.");
    }
  }
  if (options.create && options.remove) return fail("-c and -D cannot be used together.");
  if (options.create && options.upgrade) return fail("-c and -U cannot be used together.");
  if (options.remove && options.upgrade) return fail("-D and -U cannot be used together.");
  if (options.batch && options.remove) return fail("-b and -D cannot be used together.");
  if (options.batch && options.upgrade) return fail("-b and -U cannot be used together.");

  int wanted = options.upgrade ? 1 : options.batch ? 3 : 2;
  if (argc - index != wanted) {
    printUsage(stderr);
    return fail(argc - index < wanted ? "password file, username or password missing."
                                      : "too many arguments.");
  }
  options.file = argv[index];
  if (!options.upgrade) options.user = argv[index + 1];
  if (options.batch) options.password = argv[index + 2];
  return 0;
}

bool readLine(int fd, std::string& line) {
  line.clear();
  char c = 0;
  while (true) {
    ssize_t got = ::read(fd, &c, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return !line.empty();
    if (c == '\n') break;
    if (line.size() > kMaxPasswordBytes) continue;  // keep reading to the end of the line
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool promptHidden(const char* prompt, std::string& answer) {
  std::fputs(prompt, stderr);
  std::fflush(stderr);
  termios saved{};
  bool restore = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  bool ok = readLine(STDIN_FILENO, answer);
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  std::fputs("\n", stderr);
  return ok;
}

// Returns 0 with the password in `options`, or the exit code.
int obtainPassword(Options& options) {
  if (!options.batch) {
    if (::isatty(STDIN_FILENO) != 0) {
      std::string again;
      if (!promptHidden("Password: ", options.password) ||
          !promptHidden("Reenter password: ", again)) {
        return fail("no password entered.");
      }
      if (again != options.password) return fail("Passwords do not match.");
    } else if (!readLine(STDIN_FILENO, options.password)) {
      return fail("no password on standard input.");
    }
  }
  if (options.password.empty()) return fail("Empty password.");
  if (options.password.size() > kMaxPasswordBytes) {
    return fail("Password must be less than 65536 characters long.");
  }
  return 0;
}

bool hashPassword(std::string_view password, std::uint32_t iterations, std::string& hash) {
  std::uint8_t salt[kSaltBytes];
  return randomBytes(salt, sizeof(salt)) &&
         formatPbkdf2Hash(asBytes(password), Bytes(salt, sizeof(salt)), iterations, hash);
}

bool looksHashed(std::string_view value) {
  return value.substr(0, 3) == "$6$" || value.substr(0, 3) == "$7$";
}

// -U: replaces "user:plain" lines by "user:$7$..." and keeps everything else.
int upgradePlainText(const Options& options, std::string_view text, std::string& out) {
  LineReader lines(text);
  std::string_view line;
  std::string updated(text);
  while (lines.next(line)) {
    std::string_view user = userOfLine(line);
    if (user.empty()) continue;
    std::string_view value = trimBlanks(line.substr(line.find(':') + 1));
    if (looksHashed(value)) continue;
    if (value.empty()) {
      return fail(options.file + ":" + std::to_string(lines.lineNumber()) + ": user '" +
                  std::string(user) + "' has no password.");
    }
    std::string hash;
    if (!hashPassword(value, options.iterations, hash)) return fail("Unable to hash password.");
    updated = setUserHash(updated, user, hash);
  }
  out = std::move(updated);
  return 0;
}

int run(int argc, char** argv) {
  Options options;
  bool showHelp = false;
  if (int rc = parseArguments(argc, argv, options, showHelp); rc != 0) return rc;
  if (showHelp) {
    printUsage(stdout);
    return 0;
  }
  if (!options.upgrade) {
    if (const char* problem = userNameProblem(options.user)) return fail(problem);
  }

  std::string text;
  if (!options.create) {
    std::string error;
    if (!readTextFile(options.file, text, error)) return fail(error);
    // Editing a file the broker cannot load would hide the damage; stop here instead.
    PasswordFile current;
    if (!options.upgrade && !PasswordFile::parse(text, options.file, current, error)) {
      return fail(error + " (file left unchanged)");
    }
  }

  std::string updated;
  if (options.upgrade) {
    if (int rc = upgradePlainText(options, text, updated); rc != 0) return rc;
  } else if (options.remove) {
    if (!removeUser(text, options.user, updated)) {
      return fail("User " + options.user + " not found in password file.");
    }
  } else {
    if (int rc = obtainPassword(options); rc != 0) return rc;
    std::string hash;
    if (!hashPassword(options.password, options.iterations, hash)) {
      return fail("Unable to hash password.");
    }
    updated = setUserHash(text, options.user, hash);
  }

  std::string error;
  if (!writeFileAtomically(options.file, updated, error)) return fail(error);
  return 0;
}

}  // namespace
}  // namespace midge::auth

int main(int argc, char** argv) { return midge::auth::run(argc, argv); }
