// SPDX-License-Identifier: Apache-2.0
// PINGREQ and PINGRESP (3.1.1 sections 3.12-3.13, 5.0 sections 3.12-3.13): a fixed
// header and nothing else.
#pragma once

#include <vector>

#include "core/codec/framer.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Pingreq {};
struct Pingresp {};

// Errors: flags not 0 or a non-zero remaining length (Malformed).
Result<Pingreq> decodePingreq(const Frame& frame, ProtocolVersion version);
Result<Pingresp> decodePingresp(const Frame& frame, ProtocolVersion version);
Status encodePingreq(const Pingreq& pingreq, ProtocolVersion version,
                     std::vector<std::uint8_t>& out);
Status encodePingresp(const Pingresp& pingresp, ProtocolVersion version,
                      std::vector<std::uint8_t>& out);

}  // namespace midge::codec
