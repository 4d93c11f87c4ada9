// SPDX-License-Identifier: Apache-2.0
// The bridge's TLS towards the upstream (mbedTLS in client mode, port/tls): the chain is
// verified against bridge_cafile/bridge_capath and the certificate must name `hostname`
// unless bridge_insecure.
#pragma once

#include <memory>
#include <string>

#include "broker/config/bridge.hpp"
#include "port/stream_filter.hpp"

namespace midge::bridge {

// nullptr, with a reason naming the option or file, when the files do not load, the TLS
// version is one mbedTLS 2.28 cannot speak, or this build has no TLS.
std::unique_ptr<port::StreamFilterFactory> makeUplinkTls(const config::BridgeTls& tls,
                                                         const std::string& hostname,
                                                         std::string& error);

}  // namespace midge::bridge
