// SPDX-License-Identifier: Apache-2.0
// SUBACK (3.1.1 section 3.9, 5.0 section 3.9).
#pragma once

#include <cstdint>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Suback {
  std::uint16_t packetId = 0;
  Properties properties;
  std::vector<std::uint8_t> reasonCodes;  // one per filter, in SUBSCRIBE order
};

// 3.1: granted QoS 0-2; 3.1.1 adds 0x80 (failure); v5 uses the reason codes of table 3-8.
bool isValidSubackReason(ProtocolVersion version, std::uint8_t code) noexcept;

// Errors: flags not 0, packet identifier 0, no reason code, a code not allowed for the
// version (ProtocolError).
Result<Suback> decodeSuback(const Frame& frame, ProtocolVersion version);
Status encodeSuback(const Suback& suback, ProtocolVersion version,
                    std::vector<std::uint8_t>& out);

}  // namespace midge::codec
