// SPDX-License-Identifier: Apache-2.0
// Internal to broker/config: the bridge keywords of mosquitto.conf. `connection NAME` opens
// a section; the bridge keywords that follow fill that config::Bridge until the next
// `connection`. Other keywords inside a section still apply to the broker, as in Mosquitto.
#pragma once

#include "broker/config/parse_session.hpp"

namespace midge::config::detail {

// Handles `line` when its keyword is a bridge keyword (reporting a bridge keyword outside
// any section); false when it is not one.
bool applyBridgeKeyword(ParseSession& session, const Line& line);

// The checks that need a whole section (address, topics, credentials, TLS files), then the
// defaults derived from other values (client ids, notification topic).
void checkBridges(ParseSession& session);

}  // namespace midge::config::detail
