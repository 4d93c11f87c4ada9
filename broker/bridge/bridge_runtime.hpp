// SPDX-License-Identifier: Apache-2.0
// One bridge at run time: a local leg (an MQTT v5 client of this broker's own plain TCP
// listener, whose durable session is the queue towards the upstream) and a remote leg
// (the uplink), both on the broker's libevent loop.
//
// Chained acknowledgements: a QoS 1/2 message one leg receives is acknowledged to its
// sender only when the other leg's receiver acknowledged it (PUBACK, or PUBCOMP for
// QoS 2). The hand-over (the sink's record removed, the source's QoS 2 packet id recorded
// as acknowledged) is one commit of the bridge journal, so after a kill -9 at any point a
// resend from the source is either still on its way upstream (same packet id, from the
// journal) or known as done: a QoS 2 message is never forwarded twice.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/bridge/bridge_journal.hpp"
#include "broker/bridge/topic_map.hpp"
#include "broker/config/bridge.hpp"
#include "port/client/client_driver.hpp"

struct event_base;

namespace midge::bridge {

struct RuntimeOptions {
  std::uint16_t localPort = 0;       // the broker's plain TCP listener
  std::string localHost = "127.0.0.1";
  std::string journalPath;           // empty: in memory (persistence off)
  bool fullSync = true;
  bool durableLocalSession = true;   // persistence on: clean start false, expiry max
  std::uint32_t restartBaseMs = 0;   // 0: the bridge's restart_timeout
  std::uint32_t restartCapMs = 0;
  port::StreamFilterFactory* uplinkFilters = nullptr;  // TLS in client mode; null: TCP
  std::function<void(const std::string&)> log;
};

// Kept up to date as the bridge runs; $SYS reads the fields by address.
struct BridgeStats {
  std::uint64_t state = 0;         // 1 while the uplink is connected (Mosquitto's state)
  std::uint64_t messagesOut = 0;   // forwarded upstream and acknowledged (QoS 0: sent)
  std::uint64_t messagesIn = 0;    // forwarded here and acknowledged (QoS 0: sent)
  std::uint64_t bytesOut = 0;      // payload bytes of messagesOut
  std::uint64_t bytesIn = 0;       // payload bytes of messagesIn
  std::uint64_t reconnects = 0;    // uplink connections after the first
};

class BridgeRuntime {
 public:
  BridgeRuntime(event_base* base, config::Bridge bridge, RuntimeOptions options);
  ~BridgeRuntime();
  BridgeRuntime(const BridgeRuntime&) = delete;
  BridgeRuntime& operator=(const BridgeRuntime&) = delete;

  // Opens the journal, restores both legs and starts connecting. False with a reason.
  bool start(std::string& error);
  // Disconnects both legs (the remote one publishes "0" first when notifications are on).
  void stop();
  const BridgeStats& stats() const { return stats_; }
  const std::string& name() const { return bridge_.name; }

 private:
  struct Pending {
    std::uint64_t tag;  // the source's packet id in the low 16 bits, a serial above
    client::OutboundMessage message;
  };

  client::ClientOptions localOptions() const;
  client::ClientOptions remoteOptions() const;
  port::ClientDriverOptions driverOptions(Leg leg) const;
  std::unique_ptr<port::ClientDriver> makeDriver(Leg leg);
  void rebuildForwarding();
  void onEvent(Leg leg, client::Client& client, const client::ClientEvent& event);
  void onConnected(Leg leg, client::Client& client, const client::ClientEvent& event);
  void onMessage(Leg source, const client::ClientEvent& event);
  void onPublishDone(Leg sink, const client::ClientEvent& event);
  void release(Leg source, std::uint64_t tag);
  void pump(Leg sink, client::Client& client);
  void notifyState(bool up);
  void count(Leg source, std::size_t bytes);
  void commit();
  port::ClientDriver& driver(Leg leg) { return leg == Leg::Local ? *local_ : *remote_; }
  static Leg other(Leg leg) { return leg == Leg::Local ? Leg::Remote : Leg::Local; }
  static int index(Leg leg) { return static_cast<int>(leg); }
  void log(const std::string& line) const;

  event_base* base_;
  config::Bridge bridge_;
  RuntimeOptions options_;
  TopicMap topics_;
  std::string notificationTopic_;
  std::unique_ptr<BridgeJournal> journal_;
  std::unique_ptr<port::ClientDriver> local_;
  std::unique_ptr<port::ClientDriver> remote_;
  // A source's message the other leg is forwarding.
  struct Forwarded {
    std::uint64_t tag = 0;
    std::uint8_t qos = 0;
    std::size_t payloadBytes = 0;  // for the statistics; 0 for one restored from the journal
  };
  // Per source leg: packet id -> the message the other leg is forwarding.
  std::map<std::uint16_t, Forwarded> forwarding_[2];
  // Per sink leg: messages waiting for a connection or room in the in-flight window.
  std::deque<Pending> pending_[2];
  bool dirty_[2] = {false, false};  // the leg's client was called outside its own flush
  std::uint64_t nextSerial_ = 1;
  BridgeStats stats_;
  bool stopping_ = false;
};

}  // namespace midge::bridge
