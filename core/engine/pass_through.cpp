// SPDX-License-Identifier: Apache-2.0
#include "core/engine/pass_through.hpp"

namespace midge {

void encodePassThroughProperties(const codec::Properties& properties,
                                 std::vector<std::uint8_t>& out) {
  codec::Properties forwarded;
  forwarded.payloadFormatIndicator = properties.payloadFormatIndicator;
  forwarded.contentType = properties.contentType;
  forwarded.responseTopic = properties.responseTopic;
  forwarded.correlationData = properties.correlationData;
  forwarded.userProperties = properties.userProperties;
  codec::encodePropertiesBody(forwarded, out);
}

}  // namespace midge
