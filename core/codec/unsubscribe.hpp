// SPDX-License-Identifier: Apache-2.0
// UNSUBSCRIBE (3.1.1 section 3.10, 5.0 section 3.10).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Unsubscribe {
  std::uint16_t packetId = 0;
  Properties properties;
  std::vector<std::string_view> filters;
};

// Errors: flags not 0010 (Malformed), packet identifier 0 or no filter (ProtocolError).
Result<Unsubscribe> decodeUnsubscribe(const Frame& frame, ProtocolVersion version);
Status encodeUnsubscribe(const Unsubscribe& unsubscribe, ProtocolVersion version,
                         std::vector<std::uint8_t>& out);

}  // namespace midge::codec
