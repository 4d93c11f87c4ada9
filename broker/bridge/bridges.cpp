// SPDX-License-Identifier: Apache-2.0
#include "broker/bridge/bridges.hpp"

#include "broker/bridge/bridge_runtime.hpp"
#include "broker/bridge/uplink_tls.hpp"

namespace midge::bridge {
namespace {

// The broker's first plain MQTT listener, where the local leg connects.
const config::Listener* localListener(const config::Config& config) {
  for (const config::Listener& listener : config.listeners) {
    if (listener.protocol == config::ListenerProtocol::Mqtt && !listener.tls &&
        listener.port != 0) {
      return &listener;
    }
  }
  return nullptr;
}

std::string loopbackFor(const std::string& bindAddress) {
  if (bindAddress.empty() || bindAddress == "0.0.0.0") return "127.0.0.1";
  if (bindAddress == "::") return "::1";
  return bindAddress;
}

// What a bridge runs without, said once at start (not refused: the defaults ask for it).
void logNotices(const config::Bridge& bridge, const Bridges::Log& log) {
  if (bridge.addresses.size() > 1 && !bridge.roundRobin) {
    log("bridge " + bridge.name + ": round_robin false: the bridge fails over to the next "
        "address but does not return to the first one while the link it has works");
  }
  if (bridge.protocol == config::BridgeProtocol::V5 && bridge.maxTopicAlias != 0) {
    log("bridge " + bridge.name + ": bridge_max_topic_alias has no effect: the bridge "
        "sends every topic in full");
  }
  if (bridge.protocol == config::BridgeProtocol::V5 && !bridge.cleanSession &&
      bridge.sessionExpiryInterval == 0) {
    log("bridge " + bridge.name + ": bridge_session_expiry_interval 0: the upstream "
        "forgets the bridge's session when the link drops, and a QoS 2 message in flight "
        "then may arrive twice; set it to keep exactly once across a dropped link");
  }
}

}  // namespace

std::vector<std::string> refusalsFor(const config::Bridge& bridge, const config::Config& config) {
  std::vector<std::string> reasons;
  auto refuse = [&](const std::string& why) {
    reasons.push_back("bridge " + bridge.name + " (" + bridge.definedAt + "): " + why);
  };
  if (localListener(config) == nullptr) {
    refuse("needs a plain TCP MQTT listener for its local side; there is none");
  }
  if (bridge.addresses.empty()) refuse("no address");
  if (bridge.topics.empty()) refuse("no topic line: nothing to forward");
  if (bridge.startType != config::BridgeStartType::Automatic) {
    refuse("start_type lazy and once are not implemented; use automatic");
  }
  if (bridge.maxQueuedMessages != 0 || bridge.maxQueuedBytes != 0) {
    refuse("a queue limit per bridge is not implemented; the broker's max_queued_messages "
           "and max_queued_bytes bound the bridge's queue");
  }
  if (!bridge.bindAddress.empty()) refuse("bridge_bind_address is not implemented");
  if (bridge.queueFull == config::BridgeQueueFull::RefuseNew) {
    refuse("bridge_queue_full refuse_new is not implemented");
  }
  if (bridge.tls) {
    for (const config::BridgeAddress& address : bridge.addresses) {
      if (address.host != bridge.addresses.front().host) {
        refuse("with TLS every address must have the same host name (the one verified)");
        break;
      }
    }
  }
  return reasons;
}

Bridges::Bridges() = default;
Bridges::~Bridges() = default;

bool Bridges::start(const config::Config& config, event_base* base, Log log,
                    std::vector<std::string>& errors) {
  for (const config::Bridge& bridge : config.bridges) {
    for (const std::string& reason : refusalsFor(bridge, config)) errors.push_back(reason);
  }
  if (!errors.empty()) return false;
  for (const config::Bridge& bridge : config.bridges) {
    logNotices(bridge, log);
    const config::Listener& listener = *localListener(config);
    RuntimeOptions options;
    options.localPort = listener.port;
    options.localHost = loopbackFor(listener.bindAddress);
    options.durableLocalSession = config.persistence;
    if (config.persistence) {
      options.journalPath = config::persistenceFilePath(config) + ".bridge-" + bridge.name;
    }
    options.fullSync = config.persistenceSync == config::PersistenceSync::Full;
    options.log = log;
    if (bridge.tls) {
      std::string error;
      auto filters = makeUplinkTls(*bridge.tls, bridge.addresses.front().host, error);
      if (!filters) {
        errors.push_back("bridge " + bridge.name + ": " + error);
        return false;
      }
      options.uplinkFilters = filters.get();
      tls_.push_back(std::move(filters));
    }
    auto runtime = std::make_unique<BridgeRuntime>(base, bridge, std::move(options));
    std::string error;
    if (!runtime->start(error)) {
      errors.push_back("bridge " + bridge.name + ": " + error);
      return false;
    }
    runtimes_.push_back(std::move(runtime));
  }
  return true;
}

void Bridges::exposeStatistics(
    const std::function<void(std::string, const std::uint64_t*)>& publish) const {
  for (const auto& runtime : runtimes_) {
    const std::string base = "connection/" + runtime->name() + "/";
    const BridgeStats& stats = runtime->stats();
    publish(base + "state", &stats.state);
    publish(base + "messages/sent", &stats.messagesOut);
    publish(base + "messages/received", &stats.messagesIn);
    publish(base + "bytes/sent", &stats.bytesOut);
    publish(base + "bytes/received", &stats.bytesIn);
    publish(base + "reconnects", &stats.reconnects);
  }
}

void Bridges::stop() {
  for (auto& runtime : runtimes_) runtime->stop();
}

}  // namespace midge::bridge
