// SPDX-License-Identifier: Apache-2.0
// The group commit on its own: what a turn queued leaves only after the store committed,
// and a failed commit withholds the output of exactly the connections it concerns.
#include "core/engine/turn_output.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "persistence/memory/memory_store.hpp"

namespace midge {
namespace {

class RecordingOutput final : public Output {
 public:
  void send(ConnectionId id, Bytes bytes) override {
    auto& into = sent[id];
    into.insert(into.end(), bytes.begin(), bytes.end());
    events.push_back("send " + std::to_string(id));
  }
  void close(ConnectionId id) override {
    closed.insert(id);
    events.push_back("close " + std::to_string(id));
  }
  bool congested(ConnectionId) const override { return false; }
  void log(LogLevel, std::string_view message) override { logs.emplace_back(message); }

  std::map<ConnectionId, std::vector<std::uint8_t>> sent;
  std::set<ConnectionId> closed;
  std::vector<std::string> events;
  std::vector<std::string> logs;
};

class Connections final : public TurnOutput::Participants {
 public:
  TurnBuffer* turnBuffer(ConnectionId id) override {
    auto it = turns.find(id);
    return it == turns.end() ? nullptr : &it->second;
  }
  bool lagsBehind(ConnectionId id) const override { return lagging.count(id) != 0; }
  void resyncStore() override { ++resyncs; }
  void withheld(ConnectionId id) override { withheldIds.insert(id); }

  std::map<ConnectionId, TurnBuffer> turns;
  std::set<ConnectionId> lagging;
  std::set<ConnectionId> withheldIds;
  int resyncs = 0;
};

class EngineTurnOutput : public ::testing::Test {
 protected:
  void queue(ConnectionId id, std::size_t bytes) {
    std::vector<std::uint8_t>& buffer = turn.buffer(id, connections.turns[id]);
    buffer.insert(buffer.end(), bytes, std::uint8_t{0x30});
  }
  // A store write made while the connection's packets are handled.
  void writeAs(ConnectionId id, const std::string& clientId) {
    turn.beginWriter(id, connections.turns[id]);
    store::SessionRecord record;
    record.clientId = clientId;
    tracking.saveSession(record);
    turn.endWriter();
  }

  store::MemoryStore store;
  TrackingStore tracking{store};
  RecordingOutput output;
  Stats stats;
  Connections connections;
  TurnOutput turn{output, tracking, stats, connections};
};

TEST_F(EngineTurnOutput, QueuedBytesLeaveOnlyAtTheEndOfTheTurn) {
  queue(1, 10);
  queue(1, 5);
  EXPECT_TRUE(output.sent.empty());
  EXPECT_TRUE(turn.hasDirty());
  turn.commitAndFlush();
  EXPECT_EQ(output.sent[1].size(), 15u);
  EXPECT_EQ(output.events, std::vector<std::string>{"send 1"}) << "one send per connection";
  EXPECT_EQ(stats.bytesSent, 15u);
  EXPECT_FALSE(turn.hasDirty());
}

TEST_F(EngineTurnOutput, AWriterIsMarkedWhereTheWriteHappens) {
  queue(2, 4);
  writeAs(1, "writer");
  tracking.saveSession(store::SessionRecord{});  // outside any writer: nobody's
  EXPECT_TRUE(connections.turns[1].wroteToStore);
  EXPECT_TRUE(connections.turns[1].dirty) << "a writer joins the turn even with nothing queued";
  EXPECT_FALSE(connections.turns[2].wroteToStore);
  turn.commitAndFlush();
  EXPECT_FALSE(tracking.hasPendingWrites());
  EXPECT_FALSE(connections.turns[1].wroteToStore);
  EXPECT_EQ(output.sent[2].size(), 4u);
}

TEST_F(EngineTurnOutput, AFailedCommitWithholdsTheWritersOutputOnly) {
  queue(1, 4);  // the writer's ack
  writeAs(1, "writer");
  queue(2, 6);  // a bystander that wrote nothing
  store.failNextCommit();
  turn.commitAndFlush();
  EXPECT_EQ(output.sent.count(1), 0u) << "an ack left for an uncommitted write";
  EXPECT_EQ(connections.withheldIds, std::set<ConnectionId>{1});
  EXPECT_EQ(output.closed, std::set<ConnectionId>{1});
  EXPECT_EQ(output.sent[2].size(), 6u);
  EXPECT_EQ(stats.storeFailures, 1u);
  ASSERT_EQ(output.logs.size(), 1u);
  EXPECT_NE(output.logs[0].find("store commit failed"), std::string::npos);
  EXPECT_TRUE(turn.storeLagsBehind());
}

TEST_F(EngineTurnOutput, AfterAFailedCommitASessionMissingRecordsIsWithheldToo) {
  writeAs(1, "writer");
  store.failNextCommit();
  turn.commitAndFlush();
  // Next turn: the disk is still full, and connection 3 answers a session whose records
  // the failed commit rolled back.
  connections.lagging.insert(3);
  queue(3, 2);
  writeAs(4, "other");
  store.failNextCommit();
  turn.commitAndFlush();
  EXPECT_EQ(connections.resyncs, 1) << "the store catches up before a turn that writes";
  EXPECT_EQ(connections.withheldIds, (std::set<ConnectionId>{1, 3, 4}));
  EXPECT_EQ(output.sent.count(3), 0u);
}

TEST_F(EngineTurnOutput, ATurnWithoutWritesOwesTheStoreNothing) {
  writeAs(1, "writer");
  store.failNextCommit();
  turn.commitAndFlush();
  queue(2, 3);  // its session's records are intact
  turn.commitAndFlush();
  EXPECT_EQ(connections.resyncs, 0);
  EXPECT_EQ(output.sent[2].size(), 3u);
  EXPECT_TRUE(turn.storeLagsBehind());
}

TEST_F(EngineTurnOutput, ASuccessfulCommitCatchesUp) {
  writeAs(1, "writer");
  store.failNextCommit();
  turn.commitAndFlush();
  writeAs(2, "next");
  turn.commitAndFlush();
  EXPECT_EQ(connections.resyncs, 1);
  EXPECT_FALSE(turn.storeLagsBehind());
  EXPECT_EQ(connections.withheldIds, std::set<ConnectionId>{1});
}

TEST_F(EngineTurnOutput, ALargeBufferLeavesEarlyWhenNothingWaitsForACommit) {
  queue(1, 70 * 1024);
  turn.flushEarlyIfLarge(1, connections.turns[1]);
  EXPECT_EQ(output.sent[1].size(), 70u * 1024);
  queue(1, 10);
  turn.commitAndFlush();
  EXPECT_EQ(output.sent[1].size(), 70u * 1024 + 10);
  EXPECT_EQ(stats.bytesSent, 70u * 1024 + 10);
}

TEST_F(EngineTurnOutput, ALargeBufferWaitsWhenTheTurnHasWritten) {
  queue(1, 70 * 1024);
  writeAs(2, "writer");
  turn.flushEarlyIfLarge(1, connections.turns[1]);
  EXPECT_TRUE(output.sent.empty());
  queue(2, 1);
  turn.flushEarlyIfLarge(1, connections.turns[1]);  // small: stays regardless
  EXPECT_TRUE(output.sent.empty());
}

TEST_F(EngineTurnOutput, ACloseFollowsTheBytesOfItsTurn) {
  queue(1, 3);
  turn.closeAfterFlush(1, connections.turns[1]);
  EXPECT_TRUE(output.closed.empty());
  turn.commitAndFlush();
  EXPECT_EQ(output.events, (std::vector<std::string>{"send 1", "close 1"}));
}

TEST_F(EngineTurnOutput, AConnectionGoneBeforeTheEndOfTheTurnIsSkipped) {
  queue(1, 3);
  connections.turns.erase(1);
  turn.commitAndFlush();
  EXPECT_TRUE(output.events.empty());
  EXPECT_FALSE(turn.hasDirty());
}

TEST_F(EngineTurnOutput, ABurstDoesNotKeepItsBufferAfterTheFlush) {
  queue(1, 40 * 1024);
  turn.commitAndFlush();
  EXPECT_EQ(connections.turns[1].bytes.capacity(), 0u) << "idle connections stay small";
}

}  // namespace
}  // namespace midge
