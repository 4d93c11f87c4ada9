// SPDX-License-Identifier: Apache-2.0
// Splits a byte stream into MQTT frames (fixed header + body) without knowing the
// protocol version: the fixed header is the same in 3.1, 3.1.1 and 5.0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/codec/types.hpp"
#include "core/codec/varint.hpp"
#include "core/util/result.hpp"
#include "core/util/span.hpp"

namespace midge::codec {

struct Frame {
  std::uint8_t header = 0;  // first byte: type << 4 | flags
  Bytes body;               // the remaining-length bytes after the fixed header
  PacketType type() const noexcept { return static_cast<PacketType>(header >> 4); }
  std::uint8_t flags() const noexcept { return static_cast<std::uint8_t>(header & 0x0F); }
  std::size_t wireSize = 0;  // fixed header + body
};

// The largest packet MQTT can express: 1 type byte, 4 length bytes, 268435455 body bytes.
constexpr std::size_t kMaxWirePacketSize = 1 + kMaxVarintLength + kMaxVarint;

struct FixedHeader {
  enum class State : std::uint8_t { Complete, NeedMore, Malformed } state = State::NeedMore;
  const char* error = nullptr;   // set when Malformed
  std::size_t headerSize = 0;    // type byte + length bytes
  std::uint32_t remainingLength = 0;
};

// Parses the fixed header at the start of data (which may be shorter than a header).
inline FixedHeader parseFixedHeader(const std::uint8_t* data, std::size_t size) noexcept {
  FixedHeader result;
  if (size < 2) return result;
  const VarintDecode length = decodeVarint(data + 1, size - 1);
  switch (length.status) {
    case VarintStatus::Ok:
      result.state = FixedHeader::State::Complete;
      result.headerSize = 1 + static_cast<std::size_t>(length.length);
      result.remainingLength = length.value;
      break;
    case VarintStatus::NeedMore: break;
    case VarintStatus::TooLong:
      result.state = FixedHeader::State::Malformed;
      result.error = "remaining length longer than 4 bytes";
      break;
    case VarintStatus::NotMinimal:
      result.state = FixedHeader::State::Malformed;
      result.error = "remaining length not minimally encoded";
      break;
  }
  return result;
}

// Incremental framing over any split of the byte stream (one byte at a time included).
// After feed returns an error the stream is unusable (the connection must be closed);
// reset() makes the framer reusable for a new connection.
class Framer {
 public:
  explicit Framer(std::size_t maxPacketSize = kMaxWirePacketSize) noexcept
      : maxPacketSize_(maxPacketSize) {}

  // Whole packet including the fixed header. Applies from the next frame header parsed.
  void setMaxPacketSize(std::size_t maxPacketSize) noexcept { maxPacketSize_ = maxPacketSize; }
  std::size_t maxPacketSize() const noexcept { return maxPacketSize_; }

  // Calls onFrame(const Frame&) for each complete frame, in order; the frame's bytes are
  // valid only during the call. Zero-copy for frames wholly inside `input`; only a partial
  // tail is buffered. Stops and returns Malformed on a bad remaining length (more than 4
  // bytes or not minimally encoded) and PacketTooLarge on a packet larger than the maximum,
  // detected from the fixed header before any of the body is buffered. If onFrame returns
  // false, feeding stops (the connection is being closed) and feed returns success.
  template <typename OnFrame>
  Status feed(Bytes input, OnFrame&& onFrame);

  // Bytes of an incomplete frame held between calls to feed.
  std::size_t bufferedBytes() const noexcept { return buffer_.size(); }

  void reset() noexcept {
    releaseBuffer();
    pendingSize_ = 0;
  }

 private:
  // A buffer grown for one large packet is returned to the allocator afterwards, so that
  // an idle connection does not keep it; small ones are kept to avoid reallocating.
  static constexpr std::size_t kRetainedBufferCapacity = 64 * 1024;

  Status checkHeader(const FixedHeader& header) const noexcept {
    if (header.state == FixedHeader::State::Malformed) return malformed(header.error);
    if (header.headerSize + header.remainingLength > maxPacketSize_) {
      return Error{ErrorKind::PacketTooLarge, "packet larger than the maximum packet size"};
    }
    return Status::success();
  }

  static Frame makeFrame(const std::uint8_t* data, const FixedHeader& header) noexcept {
    Frame frame;
    frame.header = data[0];
    frame.body = Bytes(data + header.headerSize, header.remainingLength);
    frame.wireSize = header.headerSize + header.remainingLength;
    return frame;
  }

  void releaseBuffer() noexcept {
    if (buffer_.capacity() > kRetainedBufferCapacity) {
      std::vector<std::uint8_t>().swap(buffer_);
    } else {
      buffer_.clear();
    }
  }

  template <typename OnFrame>
  Status completeBuffered(Bytes& input, bool& keepGoing, OnFrame& onFrame);

  std::vector<std::uint8_t> buffer_;  // the incomplete frame, header first
  std::size_t pendingSize_ = 0;       // its whole wire size once the header is known, else 0
  std::size_t maxPacketSize_;
};

template <typename OnFrame>
Status Framer::completeBuffered(Bytes& input, bool& keepGoing, OnFrame& onFrame) {
  // The header may itself be split: take one byte at a time until it parses (at most 5).
  while (pendingSize_ == 0) {
    if (input.empty()) return Status::success();
    buffer_.push_back(input[0]);
    input = input.subspan(1);
    const FixedHeader header = parseFixedHeader(buffer_.data(), buffer_.size());
    if (header.state == FixedHeader::State::NeedMore) continue;
    MIDGE_TRY(checkHeader(header));
    pendingSize_ = header.headerSize + header.remainingLength;
  }
  const std::size_t missing = pendingSize_ - buffer_.size();
  const std::size_t take = missing < input.size() ? missing : input.size();
  buffer_.insert(buffer_.end(), input.begin(), input.begin() + take);
  input = input.subspan(take);
  if (buffer_.size() < pendingSize_) return Status::success();

  const FixedHeader header = parseFixedHeader(buffer_.data(), buffer_.size());
  keepGoing = onFrame(makeFrame(buffer_.data(), header));
  pendingSize_ = 0;
  releaseBuffer();
  return Status::success();
}

template <typename OnFrame>
Status Framer::feed(Bytes input, OnFrame&& onFrame) {
  if (!buffer_.empty()) {
    bool keepGoing = true;
    MIDGE_TRY(completeBuffered(input, keepGoing, onFrame));
    if (!keepGoing) return Status::success();
    if (!buffer_.empty()) return Status::success();  // input used up, frame still partial
  }
  while (!input.empty()) {
    const FixedHeader header = parseFixedHeader(input.data(), input.size());
    if (header.state == FixedHeader::State::NeedMore) {
      buffer_.assign(input.begin(), input.end());
      return Status::success();
    }
    MIDGE_TRY(checkHeader(header));
    const std::size_t wireSize = header.headerSize + header.remainingLength;
    if (input.size() < wireSize) {
      pendingSize_ = wireSize;
      buffer_.assign(input.begin(), input.end());
      return Status::success();
    }
    if (!onFrame(makeFrame(input.data(), header))) return Status::success();
    input = input.subspan(wireSize);
  }
  return Status::success();
}

}  // namespace midge::codec
