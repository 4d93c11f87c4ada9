// SPDX-License-Identifier: Apache-2.0
// Encoders run twice over the same emit function: once with SizeCounter to learn the
// remaining length (and whether every field is representable), once with VectorWriter to
// append. One code path for both means the length prefix can never disagree with the
// bytes written, and nothing is appended when a field does not fit.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/codec/varint.hpp"
#include "core/util/result.hpp"
#include "core/util/span.hpp"

namespace midge::codec {

class SizeCounter {
 public:
  void u8(std::uint8_t) noexcept { size_ += 1; }
  void u16(std::uint16_t) noexcept { size_ += 2; }
  void u32(std::uint32_t) noexcept { size_ += 4; }
  void varint(std::uint32_t value, const char* tooLarge) noexcept {
    if (value > kMaxVarint) fail(tooLarge);
    size_ += varintSize(value);
  }
  void raw(Bytes bytes) noexcept { size_ += bytes.size(); }
  void binary(Bytes bytes, const char* tooLong) noexcept {
    if (bytes.size() > 0xFFFF) fail(tooLong);
    size_ += 2 + bytes.size();
  }
  void utf8(std::string_view text, const char* tooLong) noexcept {
    binary(asBytes(text), tooLong);
  }
  void fail(const char* detail) noexcept {
    if (error_ == nullptr) error_ = detail;
  }

  std::size_t size() const noexcept { return size_; }
  bool ok() const noexcept { return error_ == nullptr; }
  Error error() const noexcept { return {ErrorKind::ImplementationError, error_}; }

 private:
  std::size_t size_ = 0;
  const char* error_ = nullptr;
};

// Appends; the caller has already validated every field with SizeCounter.
class VectorWriter {
 public:
  explicit VectorWriter(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

  void u8(std::uint8_t value) { out_.push_back(value); }
  void u16(std::uint16_t value) {
    const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(value >> 8),
                                   static_cast<std::uint8_t>(value)};
    out_.insert(out_.end(), bytes, bytes + 2);
  }
  void u32(std::uint32_t value) {
    const std::uint8_t bytes[4] = {
        static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
        static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
    out_.insert(out_.end(), bytes, bytes + 4);
  }
  void varint(std::uint32_t value, const char* = nullptr) {
    std::uint8_t bytes[kMaxVarintLength];
    const std::size_t length = encodeVarint(value, bytes);
    out_.insert(out_.end(), bytes, bytes + length);
  }
  void raw(Bytes bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
  void binary(Bytes bytes, const char* = nullptr) {
    u16(static_cast<std::uint16_t>(bytes.size()));
    raw(bytes);
  }
  void utf8(std::string_view text, const char* = nullptr) { binary(asBytes(text)); }
  void fail(const char*) noexcept {}

 private:
  std::vector<std::uint8_t>& out_;
};

// Runs emit(sink) once to size and validate, then appends the fixed header and the body.
template <typename Emit>
Status encodeFrame(std::uint8_t header, std::vector<std::uint8_t>& out, Emit&& emit) {
  SizeCounter counter;
  emit(counter);
  if (!counter.ok()) return counter.error();
  if (counter.size() > kMaxVarint) {
    return Error{ErrorKind::ImplementationError, "packet larger than 268435455 bytes"};
  }
  // Reserving exactly what this packet needs would copy a buffer that collects a burst of
  // packets (a turn's output for one connection) once per packet: quadratic. Doubling keeps
  // appends amortised constant.
  const std::size_t needed = out.size() + 1 + kMaxVarintLength + counter.size();
  if (needed > out.capacity()) out.reserve(std::max(needed, 2 * out.capacity()));
  VectorWriter writer(out);
  writer.u8(header);
  writer.varint(static_cast<std::uint32_t>(counter.size()));
  emit(writer);
  return Status::success();
}

}  // namespace midge::codec
