// SPDX-License-Identifier: Apache-2.0
// AUTH (5.0 section 3.15); the packet type is reserved before MQTT 5.
#pragma once

#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/codec/reason_code.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Auth {
  ReasonCode reason = ReasonCode::Success;
  Properties properties;
};

// Success, Continue Authentication and Re-authenticate.
bool isValidAuthReason(ReasonCode reason) noexcept;

// Before v5 any AUTH is Malformed (reserved packet type). Length 0 means Success, 1
// means no properties; another reason code is a ProtocolError.
Result<Auth> decodeAuth(const Frame& frame, ProtocolVersion version);
// Fails with ImplementationError before v5.
Status encodeAuth(const Auth& auth, ProtocolVersion version, std::vector<std::uint8_t>& out);

}  // namespace midge::codec
