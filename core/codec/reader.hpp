// SPDX-License-Identifier: Apache-2.0
// The single bounded cursor every decoder reads through. Each read compares the bytes it
// needs with the bytes left before touching memory, so no pointer past the frame is ever
// formed, and a short read is always a Malformed Packet (the remaining length lied).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/codec/utf8.hpp"
#include "core/codec/varint.hpp"
#include "core/util/result.hpp"
#include "core/util/span.hpp"

namespace midge::codec {

class Reader {
 public:
  explicit Reader(Bytes data) noexcept : data_(data) {}

  std::size_t remaining() const noexcept { return data_.size() - position_; }
  bool atEnd() const noexcept { return position_ == data_.size(); }

  Status u8(std::uint8_t& out, const char* truncated) noexcept {
    if (remaining() < 1) return malformed(truncated);
    out = data_[position_++];
    return Status::success();
  }

  Status u16(std::uint16_t& out, const char* truncated) noexcept {
    if (remaining() < 2) return malformed(truncated);
    out = static_cast<std::uint16_t>((data_[position_] << 8) | data_[position_ + 1]);
    position_ += 2;
    return Status::success();
  }

  Status u32(std::uint32_t& out, const char* truncated) noexcept {
    if (remaining() < 4) return malformed(truncated);
    out = (static_cast<std::uint32_t>(data_[position_]) << 24) |
          (static_cast<std::uint32_t>(data_[position_ + 1]) << 16) |
          (static_cast<std::uint32_t>(data_[position_ + 2]) << 8) |
          static_cast<std::uint32_t>(data_[position_ + 3]);
    position_ += 4;
    return Status::success();
  }

  Status varint(std::uint32_t& out, const char* truncated) noexcept {
    const VarintDecode decoded = decodeVarint(data_.data() + position_, remaining());
    switch (decoded.status) {
      case VarintStatus::Ok: break;
      case VarintStatus::NeedMore: return malformed(truncated);
      case VarintStatus::TooLong: return malformed("variable byte integer longer than 4 bytes");
      case VarintStatus::NotMinimal:
        return malformed("variable byte integer not minimally encoded");
    }
    out = decoded.value;
    position_ += decoded.length;
    return Status::success();
  }

  Status take(std::size_t count, Bytes& out, const char* truncated) noexcept {
    if (remaining() < count) return malformed(truncated);
    out = data_.subspan(position_, count);
    position_ += count;
    return Status::success();
  }

  // Binary Data: two-byte length, then that many bytes.
  Status binary(Bytes& out, const char* truncated) noexcept {
    std::uint16_t length = 0;
    MIDGE_TRY(u16(length, truncated));
    return take(length, out, truncated);
  }

  // UTF-8 Encoded String: two-byte length, then well-formed UTF-8 without U+0000.
  Status utf8(std::string_view& out, const char* truncated, const char* invalid) noexcept {
    Bytes raw;
    MIDGE_TRY(binary(raw, truncated));
    out = asStringView(raw);
    if (validateUtf8(out) != Utf8Status::Valid) return malformed(invalid);
    return Status::success();
  }

  // Consumes everything left (PUBLISH payload, reason-code lists).
  Bytes rest() noexcept {
    const Bytes out = data_.subspan(position_);
    position_ = data_.size();
    return out;
  }

  Status expectEnd(const char* trailing) const noexcept {
    return atEnd() ? Status::success() : Status(malformed(trailing));
  }

 private:
  Bytes data_;
  std::size_t position_ = 0;
};

}  // namespace midge::codec
