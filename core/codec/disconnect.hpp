// SPDX-License-Identifier: Apache-2.0
// DISCONNECT (3.1.1 section 3.14, 5.0 section 3.14).
#pragma once

#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/codec/reason_code.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Disconnect {
  ReasonCode reason = ReasonCode::Success;  // v5 only
  Properties properties;                    // v5 only
};

bool isValidDisconnectReason(ReasonCode reason) noexcept;

// Before v5 the remaining length must be 0. v5: length 0 means Normal Disconnection, 1
// means no properties; a reason the spec does not list is a ProtocolError.
Result<Disconnect> decodeDisconnect(const Frame& frame, ProtocolVersion version);
// v5 uses the shortest form: nothing for Normal Disconnection without properties.
Status encodeDisconnect(const Disconnect& disconnect, ProtocolVersion version,
                        std::vector<std::uint8_t>& out);

}  // namespace midge::codec
