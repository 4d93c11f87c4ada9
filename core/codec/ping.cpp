// SPDX-License-Identifier: Apache-2.0
#include "core/codec/ping.hpp"

namespace midge::codec {

Result<Pingreq> decodePingreq(const Frame& frame, ProtocolVersion) {
  if (frame.flags() != 0) return malformed("PINGREQ fixed header flags not 0");
  if (!frame.body.empty()) return malformed("PINGREQ with a non-zero remaining length");
  return Pingreq{};
}

Result<Pingresp> decodePingresp(const Frame& frame, ProtocolVersion) {
  if (frame.flags() != 0) return malformed("PINGRESP fixed header flags not 0");
  if (!frame.body.empty()) return malformed("PINGRESP with a non-zero remaining length");
  return Pingresp{};
}

Status encodePingreq(const Pingreq&, ProtocolVersion, std::vector<std::uint8_t>& out) {
  out.push_back(static_cast<std::uint8_t>(static_cast<unsigned>(PacketType::Pingreq) << 4));
  out.push_back(0);
  return Status::success();
}

Status encodePingresp(const Pingresp&, ProtocolVersion, std::vector<std::uint8_t>& out) {
  out.push_back(static_cast<std::uint8_t>(static_cast<unsigned>(PacketType::Pingresp) << 4));
  out.push_back(0);
  return Status::success();
}

}  // namespace midge::codec
