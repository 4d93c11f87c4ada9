// SPDX-License-Identifier: Apache-2.0
// Runs one BridgeRuntime in its own process, for the bridge tests until the `connection`
// section reaches the broker's configuration: a test starts it beside the real midge,
// and kills both with SIGKILL to crash "the gateway".
//
//   bridge_runner LOCAL_PORT UPSTREAM_PORT PROTOCOL(3|4|5) JOURNAL|- TOPIC_LINE...
//   TOPIC_LINE: "PATTERN DIRECTION QOS LOCAL_PREFIX REMOTE_PREFIX" ("" for empty)
#include <event2/event.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <memory>
#include <string>

#include "broker/bridge/bridge_runtime.hpp"
#include "broker/bridge/uplink_tls.hpp"

namespace {

std::string unquote(const std::string& word) { return word == "\"\"" ? "" : word; }

midge::config::BridgeTopic parseTopic(const std::string& text) {
  std::istringstream in(text);
  std::string pattern, direction, qos, localPrefix, remotePrefix;
  in >> pattern >> direction >> qos >> localPrefix >> remotePrefix;
  midge::config::BridgeTopic topic;
  topic.pattern = unquote(pattern);
  topic.direction = direction == "in"    ? midge::config::BridgeDirection::In
                    : direction == "both" ? midge::config::BridgeDirection::Both
                                          : midge::config::BridgeDirection::Out;
  topic.qos = static_cast<std::uint8_t>(std::atoi(qos.c_str()));
  topic.localPrefix = unquote(localPrefix);
  topic.remotePrefix = unquote(remotePrefix);
  return topic;
}

event_base* loopBase = nullptr;

// Leaves the loop a moment after both legs said goodbye, so the bytes get written.
void onSignal(evutil_socket_t, short, void* runtime) {
  auto* bridge = static_cast<midge::bridge::BridgeRuntime*>(runtime);
  const midge::bridge::BridgeStats& stats = bridge->stats();
  std::fprintf(stderr, "statistics: state %llu sent %llu/%llu received %llu/%llu\n",
               static_cast<unsigned long long>(stats.state),
               static_cast<unsigned long long>(stats.messagesOut),
               static_cast<unsigned long long>(stats.bytesOut),
               static_cast<unsigned long long>(stats.messagesIn),
               static_cast<unsigned long long>(stats.bytesIn));
  bridge->stop();
  std::fprintf(stderr, "bridge runner stopping\n");
  const timeval grace{0, 200000};
  event_base_loopexit(loopBase, &grace);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: bridge_runner LOCAL UPSTREAM PROTOCOL JOURNAL TOPIC...\n");
    return 2;
  }
  midge::config::Bridge bridge;
  bridge.name = "test";
  bridge.remoteClientId = "gateway.test";
  bridge.localClientId = "local.gateway.test";
  bridge.addresses.push_back({"127.0.0.1", static_cast<std::uint16_t>(std::atoi(argv[2]))});
  const int protocol = std::atoi(argv[3]);
  bridge.protocol = protocol == 5   ? midge::config::BridgeProtocol::V5
                    : protocol == 3 ? midge::config::BridgeProtocol::V31
                                    : midge::config::BridgeProtocol::V311;
  for (int i = 5; i < argc; ++i) bridge.topics.push_back(parseTopic(argv[i]));
  bridge.notificationTopic = "bridge-state/test";
  bridge.sessionExpiryInterval = 0xFFFFFFFF;  // the upstream keeps the session across drops
  const char* sys = std::getenv("BRIDGE_NOTIFICATION_TOPIC");
  if (sys != nullptr) bridge.notificationTopic = sys;

  midge::bridge::RuntimeOptions options;
  options.localPort = static_cast<std::uint16_t>(std::atoi(argv[1]));
  options.journalPath = std::string(argv[4]) == "-" ? "" : argv[4];
  options.durableLocalSession = !options.journalPath.empty();
  options.restartBaseMs = 100;
  options.restartCapMs = 400;
  options.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  // BRIDGE_CAFILE: TLS towards the upstream, verified as "localhost" (the address is a
  // numeric one; mbedTLS matches no IP SAN).
  std::unique_ptr<midge::port::StreamFilterFactory> tls;
  if (const char* caFile = std::getenv("BRIDGE_CAFILE")) {
    midge::config::BridgeTls settings;
    settings.caFile = caFile;
    std::string error;
    tls = midge::bridge::makeUplinkTls(settings, "localhost", error);
    if (!tls) {
      std::fprintf(stderr, "cannot start: %s\n", error.c_str());
      return 1;
    }
    options.uplinkFilters = tls.get();
  }
  event_base* base = event_base_new();
  loopBase = base;
  midge::bridge::BridgeRuntime runtime(base, bridge, options);
  std::string error;
  if (!runtime.start(error)) {
    std::fprintf(stderr, "cannot start: %s\n", error.c_str());
    return 1;
  }
  event* term = evsignal_new(base, SIGTERM, onSignal, &runtime);
  event_add(term, nullptr);
  std::fprintf(stderr, "bridge runner started\n");
  event_base_dispatch(base);
  return 0;
}
