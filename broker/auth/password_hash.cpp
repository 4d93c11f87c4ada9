// SPDX-License-Identifier: Apache-2.0
#include "broker/auth/password_hash.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha512.h>

#include <array>
#include <limits>

namespace midge::auth {
namespace {

// mbedTLS copies from the password pointer even for length 0; never hand it nullptr.
const unsigned char* nonNull(Bytes bytes) {
  static constexpr unsigned char kEmpty[1] = {0};
  return bytes.data() != nullptr ? bytes.data() : kEmpty;
}

bool isBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

// Splits "a$b$c" into at most `max` parts; returns the number found (max+1 if more).
std::size_t splitDollar(std::string_view text, std::string_view* parts, std::size_t max) {
  std::size_t count = 0;
  while (true) {
    std::size_t end = text.find('$');
    if (count == max) return max + 1;
    parts[count++] = text.substr(0, end);
    if (end == std::string_view::npos) return count;
    text.remove_prefix(end + 1);
  }
}

bool computeHash(HashKind kind, Bytes password, Bytes salt, std::uint32_t iterations,
                 std::array<std::uint8_t, kHashBytes>& out) {
  if (kind == HashKind::Sha512) {
    mbedtls_sha512_context sha;
    mbedtls_sha512_init(&sha);
    bool ok = mbedtls_sha512_starts_ret(&sha, 0) == 0 &&
              mbedtls_sha512_update_ret(&sha, nonNull(password), password.size()) == 0 &&
              mbedtls_sha512_update_ret(&sha, nonNull(salt), salt.size()) == 0 &&
              mbedtls_sha512_finish_ret(&sha, out.data()) == 0;
    mbedtls_sha512_free(&sha);
    return ok;
  }
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
  if (info == nullptr) return false;
  mbedtls_md_context_t md;
  mbedtls_md_init(&md);
  bool ok = mbedtls_md_setup(&md, info, 1) == 0 &&
            mbedtls_pkcs5_pbkdf2_hmac(&md, nonNull(password), password.size(), nonNull(salt),
                                      salt.size(), iterations,
                                      static_cast<std::uint32_t>(kHashBytes),
                                      out.data()) == 0;
  mbedtls_md_free(&md);
  return ok;
}

}  // namespace

bool parseIterations(std::string_view text, std::uint32_t max, std::uint32_t& out) {
  if (text.empty() || text.size() > 10) return false;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value < 1 || value > max) return false;
  out = static_cast<std::uint32_t>(value);
  return true;
}

namespace {

// The text fields of a hash after its type: still base64, decoded once the type is known.
struct EncodedHash {
  std::string_view salt;
  std::string_view hash;
};

// $7$ITERATIONS$SALT$HASH, parts[0] being "7".
bool parsePbkdf2Fields(const std::string_view* parts, std::size_t count, PasswordHash& parsed,
                       EncodedHash& encoded, std::string& error) {
  if (count != 4) {
    error = "a $7$ hash has the form $7$ITERATIONS$SALT$HASH";
    return false;
  }
  parsed.kind = HashKind::Sha512Pbkdf2;
  // Mosquitto stores the count as a C int; anything larger would not load there.
  if (!parseIterations(parts[1], static_cast<std::uint32_t>(std::numeric_limits<int>::max()),
                       parsed.iterations)) {
    error = "iteration count '" + std::string(parts[1]) + "' is not a number from 1 to " +
            std::to_string(std::numeric_limits<int>::max());
    return false;
  }
  if (parsed.iterations > kMaxIterations) {
    error = "iteration count " + std::to_string(parsed.iterations) + " is above the limit of " +
            std::to_string(kMaxIterations) +
            " (each login would stall the broker; rehash with fewer, e.g. midge-passwd -I " +
            std::to_string(kDefaultIterations) + ")";
    return false;
  }
  encoded = {parts[2], parts[3]};
  return true;
}

// $6$SALT$HASH, parts[0] being "6".
bool parseSha512Fields(const std::string_view* parts, std::size_t count, PasswordHash& parsed,
                       EncodedHash& encoded, std::string& error) {
  if (count != 3) {
    error = "a $6$ hash has the form $6$SALT$HASH";
    return false;
  }
  parsed.kind = HashKind::Sha512;
  encoded = {parts[1], parts[2]};
  return true;
}

bool decodeSaltAndHash(const EncodedHash& encoded, PasswordHash& parsed, std::string& error) {
  if (!base64Decode(encoded.salt, parsed.salt)) {
    error = "salt is not valid base64";
    return false;
  }
  if (!base64Decode(encoded.hash, parsed.hash)) {
    error = "hash is not valid base64";
    return false;
  }
  if (parsed.hash.size() != kHashBytes) {
    error = "hash is " + std::to_string(parsed.hash.size()) + " bytes, expected " +
            std::to_string(kHashBytes);
    return false;
  }
  return true;
}

}  // namespace

bool parsePasswordHash(std::string_view text, PasswordHash& out, std::string& error) {
  if (text.empty()) {
    error = "empty password hash";
    return false;
  }
  if (text.front() != '$') {
    error = "unknown hash type (a plain-text password? convert it with midge-passwd -U)";
    return false;
  }
  std::string_view parts[4];
  const std::size_t count = splitDollar(text.substr(1), parts, 4);
  PasswordHash parsed;
  EncodedHash encoded;
  bool fieldsOk = false;
  if (parts[0] == "7") {
    fieldsOk = parsePbkdf2Fields(parts, count, parsed, encoded, error);
  } else if (parts[0] == "6") {
    fieldsOk = parseSha512Fields(parts, count, parsed, encoded, error);
  } else {
    error = "unknown hash type '$" + std::string(parts[0]) + "$' (expected $6$ or $7$)";
  }
  if (!fieldsOk || !decodeSaltAndHash(encoded, parsed, error)) return false;
  out = std::move(parsed);
  return true;
}

bool formatPbkdf2Hash(Bytes password, Bytes salt, std::uint32_t iterations, std::string& out) {
  std::array<std::uint8_t, kHashBytes> hash{};
  if (iterations == 0 ||
      !computeHash(HashKind::Sha512Pbkdf2, password, salt, iterations, hash)) {
    return false;
  }
  out = "$7$" + std::to_string(iterations) + "$" + base64Encode(salt) + "$" +
        base64Encode(Bytes(hash.data(), hash.size()));
  mbedtls_platform_zeroize(hash.data(), hash.size());
  return true;
}

bool verifyPassword(const PasswordHash& stored, Bytes password) {
  std::array<std::uint8_t, kHashBytes> computed{};
  bool hashed = computeHash(stored.kind, password, Bytes(stored.salt.data(), stored.salt.size()),
                            stored.iterations, computed);
  bool equal = constantTimeEqual(Bytes(computed.data(), computed.size()),
                                 Bytes(stored.hash.data(), stored.hash.size()));
  mbedtls_platform_zeroize(computed.data(), computed.size());
  return hashed && equal;
}

bool randomBytes(std::uint8_t* out, std::size_t length) {
  static constexpr char kPersonalization[] = "midge password salt";
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  bool ok = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                  reinterpret_cast<const unsigned char*>(kPersonalization),
                                  sizeof(kPersonalization) - 1) == 0 &&
            mbedtls_ctr_drbg_random(&drbg, out, length) == 0;
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  return ok;
}

std::string base64Encode(Bytes data) {
  std::string out((data.size() + 2) / 3 * 4 + 1, '\0');
  std::size_t written = 0;
  if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(&out[0]), out.size(), &written,
                            nonNull(data), data.size()) != 0) {
    return std::string();
  }
  out.resize(written);
  return out;
}

bool base64Decode(std::string_view text, std::vector<std::uint8_t>& out) {
  if (text.empty() || text.size() % 4 != 0) return false;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return false;
      ++padding;
    } else if (padding != 0 || !isBase64Char(c)) {
      return false;
    }
  }
  std::vector<std::uint8_t> decoded(text.size() / 4 * 3);
  std::size_t written = 0;
  if (mbedtls_base64_decode(decoded.data(), decoded.size(), &written,
                            reinterpret_cast<const unsigned char*>(text.data()),
                            text.size()) != 0) {
    return false;
  }
  decoded.resize(written);
  out = std::move(decoded);
  return true;
}

bool constantTimeEqual(Bytes a, Bytes b) {
  if (a.size() != b.size()) return false;
  unsigned difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned>(a[i] ^ b[i]);
  }
  // Read through a volatile so the compiler cannot turn the loop into an early-exit memcmp.
  volatile unsigned result = difference;
  return result == 0;
}

}  // namespace midge::auth
