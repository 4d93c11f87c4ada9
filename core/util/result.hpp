// SPDX-License-Identifier: Apache-2.0
// Error values for the whole core. No exceptions are used (-fno-exceptions), so every
// fallible operation returns Result<T> or Status.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <utility>

namespace midge {

// Kept deliberately small: what went wrong decides how the connection is answered, the
// detail string only goes to the log. Mapping to the wire happens in one place
// (reasonCodeFor in core/codec/reason_code.hpp, since util sits below the codec), as in
// mosquitto's handle__packet tail. An incomplete frame is not an error: the framer says so
// in its own return value.
enum class ErrorKind : std::uint8_t {
  Malformed,            // violates the data representation rules -> 0x81
  ProtocolError,        // well-formed but not allowed here -> 0x82
  PacketTooLarge,       // exceeds the negotiated maximum packet size -> 0x95
  UnsupportedVersion,   // CONNECT with an unknown protocol level -> 0x84
  TopicNameInvalid,     // -> 0x90
  TopicFilterInvalid,   // -> 0x8F
  PayloadFormatInvalid, // -> 0x99
  QuotaExceeded,        // a configured resource limit -> 0x97
  StorageFailure,       // the store could not commit: nothing may be acknowledged -> 0x80
  ImplementationError,  // caller bug: e.g. encoding a field that does not fit
};

struct Error {
  ErrorKind kind;
  const char* detail;  // static string, for the log
};

const char* errorKindName(ErrorKind kind) noexcept;

// The value is held in an optional so that T needs neither a default constructor nor a
// placeholder value on the error path.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : error_(error) {}         // NOLINT
  Result(const Result&) = default;
  Result(Result&&) noexcept = default;
  Result& operator=(const Result&) = default;
  Result& operator=(Result&&) noexcept = default;

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T& value() & {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  Error error() const noexcept {
    assert(!ok());
    return error_;
  }

 private:
  std::optional<T> value_;
  Error error_{ErrorKind::ImplementationError, ""};
};

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(Error error) noexcept : ok_(false), error_(error) {}  // NOLINT
  static Status success() noexcept { return Status(); }
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  Error error() const noexcept {
    assert(!ok_);
    return error_;
  }

 private:
  bool ok_ = true;
  Error error_{ErrorKind::ImplementationError, ""};
};

inline Error malformed(const char* detail) noexcept { return {ErrorKind::Malformed, detail}; }
inline Error protocolError(const char* detail) noexcept {
  return {ErrorKind::ProtocolError, detail};
}

}  // namespace midge

// Early return on failure; keeps decoders flat. Used only inside core/.
#define MIDGE_TRY(expr)                       \
  do {                                        \
    auto midge_try_status_ = (expr);          \
    if (!midge_try_status_.ok()) return midge_try_status_.error(); \
  } while (0)

