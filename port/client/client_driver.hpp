// SPDX-License-Identifier: Apache-2.0
// Runs a core/client Client over OutboundConnections on a libevent loop: connects, feeds
// bytes and ticks, reconnects with back-off, and fails over between several addresses.
//
// Turn discipline (commit-before-send): after every call into the Client the driver hands
// the client's events to the owner (onEvent), then calls commit() (the owner commits its
// ClientJournal and whatever the events changed), and only then writes the bytes the
// client produced. An owner whose commit fails must stop() the driver.
//
// Reconnects: after a failed attempt or a lost connection the next attempt waits
// base, 2*base, 4*base ... up to cap (Mosquitto's restart_timeout with back-off); an
// accepted CONNACK resets it. Each failed attempt moves to the next address; a working
// connection stays where it is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/client/client.hpp"
#include "port/client/outbound_connection.hpp"

struct event;

namespace midge::port {

struct UplinkAddress {
  std::string host;
  std::uint16_t port = 1883;
};

struct ClientDriverOptions {
  std::vector<UplinkAddress> addresses;  // at least one
  std::uint32_t restartBaseMs = 1000;
  std::uint32_t restartCapMs = 30000;
  std::uint32_t tickMs = 100;
  // Makes a StreamFilter (TLS in client mode) per attempt; null: plain TCP. Not owned.
  StreamFilterFactory* filters = nullptr;
};

struct ClientDriverHooks {
  std::function<void(client::Client&, const client::ClientEvent&)> onEvent;
  std::function<void()> commit;                       // before bytes leave
  std::function<void(const std::string&)> log;        // connection attempts and failures
};

class ClientDriver {
 public:
  ClientDriver(event_base* base, client::ClientOptions clientOptions,
               client::ClientJournal* journal, ClientDriverOptions options,
               ClientDriverHooks hooks);
  ~ClientDriver();
  ClientDriver(const ClientDriver&) = delete;
  ClientDriver& operator=(const ClientDriver&) = delete;

  // Restores the journal's records (optional), then starts the first attempt.
  Status start(const std::vector<client::JournalRecord>& records = {});
  // Disconnects cleanly and stops reconnecting.
  void stop();

  // Calls into the client with the driver's turn discipline around them.
  Result<client::PublishTicket> publish(const client::OutboundMessage& message,
                                        std::uint64_t tag);
  Result<std::uint16_t> subscribe(const std::vector<client::Subscription>& subscriptions);
  // client::Client::acknowledge (deferAcks) with the turn discipline around it.
  Status acknowledge(std::uint16_t packetId);
  // Records an inbound QoS 2 id as received without a held message, then commits.
  void expectResend(std::uint16_t packetId);
  // Hands over events, commits, then writes the bytes: after calling the client directly.
  void flush();

  client::Client& client() { return client_; }
  bool connected() const { return client_.state() == client::ClientState::Connected; }
  std::size_t addressIndex() const { return addressIndex_; }
  std::uint64_t reconnects() const { return reconnects_; }
  std::uint64_t nowMs() const;

 private:
  static void onTimer(int, short, void* self);
  void tick();
  void attempt();
  void onConnectionClosed(const std::string& reason);
  void scheduleRetry();
  void log(const std::string& message);

  event_base* base_;
  client::Client client_;
  ClientDriverOptions options_;
  ClientDriverHooks hooks_;
  event* timer_ = nullptr;
  std::unique_ptr<OutboundConnection> connection_;
  std::vector<std::unique_ptr<OutboundConnection>> retired_;  // freed on the next tick
  std::size_t addressIndex_ = 0;
  std::uint32_t failures_ = 0;
  std::uint64_t retryAtMs_ = 0;
  std::uint64_t reconnects_ = 0;
  bool everConnected_ = false;
  bool stopped_ = true;
};

}  // namespace midge::port
