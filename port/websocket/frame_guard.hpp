// SPDX-License-Identifier: Apache-2.0
// Checks the header of every frame a client sends before wslay sees it. wslay enforces
// RFC 6455 too, but answers every violation with the same bare close code; checking the
// header here gives each refusal its own log line and close code, and applies Midge's
// rules on top: MQTT travels in binary frames only (MQTT 5.0 section 6), and no frame
// may be longer than WebSocketOptions::maxFrameBytes. Payload bytes are skipped, not
// read: the cost is a few operations per frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/util/span.hpp"

namespace midge::port::websocket {

// RFC 6455 section 7.4.1 status codes used for refusals.
enum CloseCode : std::uint16_t {
  kCloseNormal = 1000,
  kCloseProtocolError = 1002,
  kCloseUnsupportedData = 1003,
  kCloseMessageTooBig = 1009,
};

struct FrameVerdict {
  // Bytes of the input that belong to acceptable frames (or to a header not yet
  // complete); everything from here on is refused when `refused` is set.
  std::size_t acceptedBytes = 0;
  bool refused = false;
  std::uint16_t closeCode = 0;
  std::string reason;
};

class FrameGuard {
 public:
  explicit FrameGuard(std::uint64_t maxFrameBytes) : maxFrameBytes_(maxFrameBytes) {}
  // Scans the next bytes of the client's stream. After a refusal every later call
  // refuses everything.
  FrameVerdict scan(Bytes input);

 private:
  bool judgeHeader(FrameVerdict& verdict);
  std::size_t headerLength() const;

  std::uint64_t maxFrameBytes_;
  std::uint64_t payloadLeft_ = 0;  // payload bytes of the current frame still to skip
  std::uint8_t header_[14] = {};   // the header being collected: at most 2 + 8 + 4 bytes
  std::size_t headerSize_ = 0;
  bool inFragmentedMessage_ = false;  // a data frame without FIN was seen
  bool refused_ = false;
};

}  // namespace midge::port::websocket
