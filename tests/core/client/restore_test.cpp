// SPDX-License-Identifier: Apache-2.0
// Crash recovery: a QoS 1 or QoS 2 exchange, up or down, is cut at every turn, in each of
// three places (before the journal commit, after the commit but before the bytes leave,
// after the bytes leave but before the answer arrives). A fresh client restored from the
// committed journal then finishes the job. Nothing the caller handed over may be lost, and
// no QoS 2 message may arrive twice, at the server or at the caller.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/core/client/client_test_util.hpp"

namespace midge::client::test {
namespace {

using codec::PacketType;
using codec::ProtocolVersion;

// A broker that keeps the client's session (cleanStart false): the server half of QoS 2
// both ways, counting what it delivers onwards and what it hands to the client.
struct ModelServer {
  explicit ModelServer(ProtocolVersion v) : version(v) {}
  ProtocolVersion version;
  std::map<std::string, int> delivered;        // payload -> times passed on
  std::set<std::uint16_t> awaitingRelease;     // inbound QoS 2 ids (PUBREC sent)
  // The server's own message for the client (down direction), and its state.
  std::optional<std::pair<std::uint8_t, std::string>> down;
  enum class DownState { Idle, Sent, Released, Done } downState = DownState::Idle;
  static constexpr std::uint16_t kDownId = 9;

  ByteVector downPublish(bool dup) const {
    return serverPublish(version, "down", down->second, down->first, kDownId, dup);
  }

  ByteVector receive(const ByteVector& bytes) {
    ByteVector reply;
    const Sent sent = parse(bytes, version);
    for (const auto& packet : sent.packets) append(reply, answer(packet));
    return reply;
  }

  static void append(ByteVector& out, const ByteVector& more) {
    out.insert(out.end(), more.begin(), more.end());
  }

  ByteVector answer(const codec::Packet& packet) {
    if (std::holds_alternative<codec::Connect>(packet)) return onConnect();
    if (const auto* publish = std::get_if<codec::Publish>(&packet)) return onPublish(*publish);
    const auto* a = std::get_if<codec::Ack>(&packet);
    if (a == nullptr) return {};
    switch (a->type) {
      case PacketType::Pubrel:
        awaitingRelease.erase(a->packetId);
        return ack(PacketType::Pubcomp, a->packetId, version);
      case PacketType::Pubrec:
        if (downState == DownState::Sent) downState = DownState::Released;
        return ack(PacketType::Pubrel, a->packetId, version);
      case PacketType::Puback:
      case PacketType::Pubcomp:
        downState = DownState::Done;
        return {};
      default: return {};
    }
  }

  ByteVector onConnect() {
    ByteVector reply = connack(version, 0, true);
    if (down && downState == DownState::Idle) {
      append(reply, downPublish(false));
      downState = DownState::Sent;
    } else if (downState == DownState::Sent) {
      append(reply, downPublish(true));
    } else if (downState == DownState::Released) {
      append(reply, ack(PacketType::Pubrel, kDownId, version));
    }
    return reply;
  }

  ByteVector onPublish(const codec::Publish& publish) {
    const std::string payload(asStringView(publish.payload));
    if (publish.qos == 2) {
      if (awaitingRelease.insert(publish.packetId).second) ++delivered[payload];
      return ack(PacketType::Pubrec, publish.packetId, version);
    }
    if (publish.qos == 1 && delivered[payload] > 0) {
      EXPECT_TRUE(publish.dup) << "a QoS 1 duplicate without DUP";
    }
    ++delivered[payload];
    return publish.qos == 1 ? ack(PacketType::Puback, publish.packetId, version) : ByteVector{};
  }
};

// The caller's state that commits together with the journal: its queue of messages to
// send up (tags) and what it received from the server.
struct CallerState {
  std::set<std::uint64_t> queue;
  std::map<std::string, int> received;
};

enum class CrashPoint { BeforeCommit, BeforeSend, BeforeAnswer };

struct Scenario {
  ProtocolVersion version;
  std::map<std::uint64_t, OutboundMessage> up;  // tag -> message
  std::optional<std::pair<std::uint8_t, std::string>> down;
};

class Gateway {
 public:
  Gateway(const Scenario& scenario, ModelServer& server)
      : scenario_(scenario), server_(server) {
    for (const auto& entry : scenario.up) committed_.queue.insert(entry.first);
  }

  // Runs until quiet; crashes at turn `crashTurn` (if >= 0). Returns turns taken.
  int run(int crashTurn, CrashPoint point) {
    working_ = committed_;
    Client client(optionsFor(scenario_.version), &journal_);
    inflightTags_.clear();
    const auto records = journal_.records();
    EXPECT_TRUE(client.restore(records));
    for (const auto& record : records) {
      if (!isInbound(record.state)) inflightTags_.insert(record.tag);
    }
    EXPECT_TRUE(client.connect(0));
    int turn = 0;
    ByteVector reply;
    for (;; ++turn) {
      if (turn > 0) client.onBytes(view(reply), 0);
      handleEvents(client);
      ByteVector bytes = client.takeBytes();
      if (turn == crashTurn) {
        crash(point, bytes);
        return turn;
      }
      journal_.commit();
      committed_ = working_;
      if (bytes.empty()) return turn;
      reply = server_.receive(bytes);
      if (reply.empty()) return turn;
    }
  }

  const CallerState& committed() const { return committed_; }
  MemoryJournal& journal() { return journal_; }

 private:
  void crash(CrashPoint point, const ByteVector& bytes) {
    if (point == CrashPoint::BeforeCommit) {
      journal_.discardUncommitted();
      return;
    }
    journal_.commit();
    committed_ = working_;
    if (point == CrashPoint::BeforeAnswer) server_.receive(bytes);  // the answer is lost
  }

  void handleEvents(Client& client) {
    for (const ClientEvent& event : client.takeEvents()) {
      if (event.kind == ClientEventKind::Connected) publishQueued(client);
      if (event.kind == ClientEventKind::PublishDone) {
        working_.queue.erase(event.tag);
        inflightTags_.erase(event.tag);
      }
      if (event.kind == ClientEventKind::Message) {
        ++working_.received[std::string(event.message.payload.begin(), event.message.payload.end())];
      }
    }
  }

  void publishQueued(Client& client) {
    for (std::uint64_t tag : working_.queue) {
      if (inflightTags_.count(tag) != 0) continue;
      ASSERT_TRUE(client.publish(scenario_.up.at(tag), tag, 0));
      inflightTags_.insert(tag);
    }
  }

  const Scenario& scenario_;
  ModelServer& server_;
  MemoryJournal journal_;
  CallerState committed_;
  CallerState working_;
  std::set<std::uint64_t> inflightTags_;
};

Scenario upScenario(ProtocolVersion version, std::uint8_t qos) {
  Scenario scenario;
  scenario.version = version;
  scenario.up[1] = message("up", "first", qos);
  scenario.up[2] = message("up", "second", qos);
  return scenario;
}

Scenario downScenario(ProtocolVersion version, std::uint8_t qos) {
  Scenario scenario;
  scenario.version = version;
  scenario.down = std::make_pair(qos, std::string("command"));
  return scenario;
}

// Runs the scenario with one crash at each turn and point; checks after the recovery.
template <typename Check>
void crashEverywhere(const Scenario& scenario, Check check) {
  ModelServer clean(scenario.version);
  clean.down = scenario.down;
  const int turns = Gateway(scenario, clean).run(-1, CrashPoint::BeforeCommit);
  ASSERT_GE(turns, 1);
  for (int crashTurn = 0; crashTurn <= turns; ++crashTurn) {
    for (CrashPoint point : {CrashPoint::BeforeCommit, CrashPoint::BeforeSend,
                             CrashPoint::BeforeAnswer}) {
      SCOPED_TRACE("crash at turn " + std::to_string(crashTurn) + ", point " +
                   std::to_string(static_cast<int>(point)));
      ModelServer server(scenario.version);
      server.down = scenario.down;
      Gateway gateway(scenario, server);
      gateway.run(crashTurn, point);
      gateway.run(-1, CrashPoint::BeforeCommit);  // the restart, left to finish
      check(server, gateway);
      EXPECT_EQ(gateway.journal().size(), 0u) << "state left in the journal";
    }
  }
}

class ClientRestore : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(ClientRestore, Qos1UpIsNeverLost) {
  crashEverywhere(upScenario(GetParam(), 1), [](const ModelServer& server, const Gateway& g) {
    EXPECT_GE(server.delivered.count("first") ? server.delivered.at("first") : 0, 1);
    EXPECT_GE(server.delivered.count("second") ? server.delivered.at("second") : 0, 1);
    EXPECT_TRUE(g.committed().queue.empty());
  });
}

TEST_P(ClientRestore, Qos2UpArrivesExactlyOnce) {
  crashEverywhere(upScenario(GetParam(), 2), [](const ModelServer& server, const Gateway& g) {
    EXPECT_EQ(server.delivered, (std::map<std::string, int>{{"first", 1}, {"second", 1}}));
    EXPECT_TRUE(g.committed().queue.empty());
    EXPECT_TRUE(server.awaitingRelease.empty());
  });
}

TEST_P(ClientRestore, Qos1DownIsNeverLost) {
  crashEverywhere(downScenario(GetParam(), 1), [](const ModelServer& server, const Gateway& g) {
    EXPECT_GE(g.committed().received.count("command") ? g.committed().received.at("command") : 0, 1);
    EXPECT_EQ(server.downState, ModelServer::DownState::Done);
  });
}

TEST_P(ClientRestore, Qos2DownArrivesExactlyOnce) {
  crashEverywhere(downScenario(GetParam(), 2), [](const ModelServer& server, const Gateway& g) {
    EXPECT_EQ(g.committed().received, (std::map<std::string, int>{{"command", 1}}));
    EXPECT_EQ(server.downState, ModelServer::DownState::Done);
  });
}

TEST(ClientRestoreRecords, ContradictoryRecordsAreRefused) {
  Client client(optionsFor(ProtocolVersion::V311), nullptr);
  JournalRecord zero;
  zero.packetId = 0;
  zero.message = message("t", "x", 1);
  EXPECT_FALSE(client.restore({zero}));
  JournalRecord qos0;
  qos0.packetId = 1;
  qos0.message = message("t", "x", 0);
  EXPECT_FALSE(client.restore({qos0}));
  JournalRecord releasedQos1;
  releasedQos1.packetId = 1;
  releasedQos1.state = JournalState::ReleaseSent;
  releasedQos1.message = message("t", "x", 1);
  EXPECT_FALSE(client.restore({releasedQos1}));
}

TEST(ClientRestoreRecords, RestoreAfterConnectIsRefused) {
  Client client(optionsFor(ProtocolVersion::V311), nullptr);
  ASSERT_TRUE(client.connect(0));
  EXPECT_FALSE(client.restore({}));
}

TEST(ClientRestoreRecords, NewIdentifiersAvoidRestoredOnes) {
  JournalRecord record;
  record.packetId = 1;
  record.sequence = 4;
  record.message = message("t", "old", 1);
  Client client(optionsFor(ProtocolVersion::V311), nullptr);
  ASSERT_TRUE(client.restore({record}));
  ASSERT_TRUE(client.connect(0));
  client.onBytes(view(connack(ProtocolVersion::V311, 0, true)), 0);
  const Sent resent = parse(client.takeBytes(), ProtocolVersion::V311);
  ASSERT_TRUE(resent.is<codec::Publish>(1));
  EXPECT_TRUE(resent.at<codec::Publish>(1).dup);
  const auto ticket = client.publish(message("t", "new", 1), 0, 0);
  ASSERT_TRUE(ticket);
  EXPECT_NE(ticket->packetId, 1);
}

INSTANTIATE_TEST_SUITE_P(Versions, ClientRestore, allVersions(), versionName);

}  // namespace
}  // namespace midge::client::test
