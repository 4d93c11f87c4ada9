// SPDX-License-Identifier: Apache-2.0
// The MQTT 5 properties a broker forwards unchanged from a PUBLISH (or a will) to every
// subscriber (spec 3.3.2.3): payload format, content type, response topic, correlation
// data and user properties, in their original order for user properties.
#pragma once

#include <cstdint>
#include <vector>

#include "core/codec/codec.hpp"

namespace midge {

void encodePassThroughProperties(const codec::Properties& properties,
                                 std::vector<std::uint8_t>& out);

}  // namespace midge
