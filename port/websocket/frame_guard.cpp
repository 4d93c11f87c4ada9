// SPDX-License-Identifier: Apache-2.0
#include "port/websocket/frame_guard.hpp"

namespace midge::port::websocket {
namespace {

constexpr std::uint8_t kFin = 0x80;
constexpr std::uint8_t kReservedBits = 0x70;
constexpr std::uint8_t kOpcodeMask = 0x0F;
constexpr std::uint8_t kMaskBit = 0x80;
constexpr std::uint8_t kLength7Mask = 0x7F;

enum Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

std::string hexByte(std::uint8_t value) {
  static const char kDigits[] = "0123456789ABCDEF";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 0x0F];
}

}  // namespace

// Header length once the first two bytes are in: 2, plus 2 or 8 length bytes, plus the
// 4-byte masking key when the mask bit is set.
std::size_t FrameGuard::headerLength() const {
  const std::uint8_t length7 = header_[1] & kLength7Mask;
  std::size_t size = 2;
  if (length7 == 126) size += 2;
  if (length7 == 127) size += 8;
  if ((header_[1] & kMaskBit) != 0) size += 4;
  return size;
}

FrameVerdict FrameGuard::scan(Bytes input) {
  FrameVerdict verdict;
  if (refused_) {
    verdict.refused = true;
    verdict.closeCode = kCloseProtocolError;
    verdict.reason = "data after a refused frame";
    return verdict;
  }
  std::size_t offset = 0;
  while (offset < input.size()) {
    if (payloadLeft_ > 0) {
      const std::size_t left = input.size() - offset;
      const std::size_t skip = payloadLeft_ < left ? static_cast<std::size_t>(payloadLeft_) : left;
      offset += skip;
      payloadLeft_ -= skip;
      continue;
    }
    // Where the header began in this input; 0 when it began in an earlier one.
    const std::size_t headerStart = offset >= headerSize_ ? offset - headerSize_ : 0;
    header_[headerSize_++] = input[offset++];
    if (headerSize_ < 2 || headerSize_ < headerLength()) continue;
    verdict.acceptedBytes = headerStart;
    if (!judgeHeader(verdict)) {
      // A header split over two reads was partly handed on already; the rest is refused.
      refused_ = true;
      verdict.refused = true;
      return verdict;
    }
    headerSize_ = 0;
  }
  verdict.acceptedBytes = input.size();
  return verdict;
}

bool FrameGuard::judgeHeader(FrameVerdict& verdict) {
  const std::uint8_t opcode = header_[0] & kOpcodeMask;
  const bool fin = (header_[0] & kFin) != 0;
  const bool control = (opcode & 0x08) != 0;
  std::uint64_t length = header_[1] & kLength7Mask;
  if (length == 126) {
    length = (std::uint64_t{header_[2]} << 8) | header_[3];
  } else if (length == 127) {
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | header_[i];
  }
  auto refuse = [&verdict](std::uint16_t code, std::string reason) {
    verdict.closeCode = code;
    verdict.reason = std::move(reason);
    return false;
  };
  if ((header_[0] & kReservedBits) != 0) {
    return refuse(kCloseProtocolError, "frame with reserved bits set (no extension was agreed)");
  }
  if (opcode != kContinuation && opcode != kText && opcode != kBinary && opcode != kClose &&
      opcode != kPing && opcode != kPong) {
    return refuse(kCloseProtocolError, "frame with unknown opcode " + hexByte(opcode));
  }
  if ((header_[1] & kMaskBit) == 0) {
    return refuse(kCloseProtocolError, "unmasked frame from the client (RFC 6455 5.1)");
  }
  if (control && (!fin || length > 125)) {
    return refuse(kCloseProtocolError, "control frame fragmented or longer than 125 bytes");
  }
  if (length > maxFrameBytes_) {
    return refuse(kCloseMessageTooBig, "frame of " + std::to_string(length) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(maxFrameBytes_));
  }
  if (opcode == kText) {
    return refuse(kCloseUnsupportedData, "text frame (MQTT travels in binary frames only)");
  }
  if (opcode == kContinuation && !inFragmentedMessage_) {
    return refuse(kCloseProtocolError, "continuation frame without a message to continue");
  }
  if (opcode == kBinary && inFragmentedMessage_) {
    return refuse(kCloseProtocolError, "new message before the fragmented one was finished");
  }
  if (!control) inFragmentedMessage_ = !fin;
  payloadLeft_ = length;
  return true;
}

}  // namespace midge::port::websocket
