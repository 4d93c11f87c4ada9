// SPDX-License-Identifier: Apache-2.0
// Password hashing in Mosquitto's password-file formats, on mbedTLS.
//
//   $7$<iterations>$<base64 salt>$<base64 hash>   PBKDF2-HMAC-SHA512 (Mosquitto 2.x)
//   $6$<base64 salt>$<base64 hash>                SHA512(password || salt) (Mosquitto 1.x)
//
// Both produce a 64-byte hash. Midge writes only $7$; $6$ is read so that old files keep
// working after a move from Mosquitto 1.x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/span.hpp"

namespace midge::auth {

inline constexpr std::size_t kHashBytes = 64;  // SHA-512 output
// Mosquitto's defaults; a different salt length or iteration count is still read back.
inline constexpr std::size_t kSaltBytes = 12;
inline constexpr std::uint32_t kDefaultIterations = 101;
// Every check of a password runs the full count on the event loop, so a file with a huge
// count (2^31 is accepted by mosquitto_passwd) would stall every client for minutes per
// CONNECT. The cap leaves room for any count chosen on purpose: Mosquitto 2.0 writes 101,
// 2.1 writes 1,000, OWASP suggests 210,000 for PBKDF2-HMAC-SHA512.
inline constexpr std::uint32_t kMaxIterations = 1000000;

enum class HashKind : std::uint8_t {
  Sha512,        // $6$
  Sha512Pbkdf2,  // $7$
};

struct PasswordHash {
  HashKind kind = HashKind::Sha512Pbkdf2;
  std::uint32_t iterations = 0;  // PBKDF2 only
  std::vector<std::uint8_t> salt;
  std::vector<std::uint8_t> hash;  // kHashBytes long
};

// A decimal iteration count from 1 to `max`, digits only (no sign, no spaces), as found in
// a $7$ hash and in midge-passwd's -I option.
bool parseIterations(std::string_view text, std::uint32_t max, std::uint32_t& out);

// Parses the part after "user:". On failure returns false and sets `error` to a short
// reason ("unknown hash type '$5$'", "salt is not valid base64", ...).
bool parsePasswordHash(std::string_view text, PasswordHash& out, std::string& error);

// "$7$101$<salt>$<hash>" for `password`; false only if mbedTLS fails.
bool formatPbkdf2Hash(Bytes password, Bytes salt, std::uint32_t iterations, std::string& out);

// Hashes `password` the way `stored` was hashed and compares in constant time.
bool verifyPassword(const PasswordHash& stored, Bytes password);

// Cryptographically strong random bytes (mbedTLS CTR-DRBG seeded from the OS entropy).
bool randomBytes(std::uint8_t* out, std::size_t length);

std::string base64Encode(Bytes data);
// Strict: standard alphabet, '=' padding only at the end, no whitespace, non-empty.
bool base64Decode(std::string_view text, std::vector<std::uint8_t>& out);

// Compares without an early exit, so the time taken does not reveal where they differ.
bool constantTimeEqual(Bytes a, Bytes b);

}  // namespace midge::auth
