// SPDX-License-Identifier: Apache-2.0
// UNSUBACK (3.1.1 section 3.11, 5.0 section 3.11).
#pragma once

#include <cstdint>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/codec/reason_code.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Unsuback {
  std::uint16_t packetId = 0;
  Properties properties;
  std::vector<std::uint8_t> reasonCodes;  // empty for v3/v4
};

bool isValidUnsubackReason(ReasonCode reason) noexcept;

// Before v5 the remaining length must be exactly 2. v5: at least one reason code, each
// one the spec lists for UNSUBACK (else ProtocolError).
Result<Unsuback> decodeUnsuback(const Frame& frame, ProtocolVersion version);
Status encodeUnsuback(const Unsuback& unsuback, ProtocolVersion version,
                      std::vector<std::uint8_t>& out);

}  // namespace midge::codec
