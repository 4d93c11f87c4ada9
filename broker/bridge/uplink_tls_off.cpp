// SPDX-License-Identifier: Apache-2.0
// A build without TLS: a bridge with bridge_cafile or bridge_capath is refused at start.
#include "broker/bridge/uplink_tls.hpp"

namespace midge::bridge {

std::unique_ptr<port::StreamFilterFactory> makeUplinkTls(const config::BridgeTls&,
                                                         const std::string&, std::string& error) {
  error = "TLS towards the upstream needs a build with TLS (MIDGE_WITH_TLS)";
  return nullptr;
}

}  // namespace midge::bridge
