// SPDX-License-Identifier: Apache-2.0
// CONNACK (3.1.1 section 3.2, 5.0 section 3.2).
#pragma once

#include <cstdint>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/codec/reason_code.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Connack {
  bool sessionPresent = false;  // always false in 3.1, where the byte is unused
  std::uint8_t reasonCode = 0;  // v3/v4 return code (ConnackReturnCode) or v5 reason
  Properties properties;
};

bool isValidConnackReason(ReasonCode reason) noexcept;

// Errors: flags other than session present, a return code above 5 (before v5) or a v5
// reason the spec does not list for CONNACK, session present with a refusal, trailing
// bytes.
Result<Connack> decodeConnack(const Frame& frame, ProtocolVersion version);
Status encodeConnack(const Connack& connack, ProtocolVersion version,
                     std::vector<std::uint8_t>& out);

}  // namespace midge::codec
