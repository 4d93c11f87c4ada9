// SPDX-License-Identifier: Apache-2.0
// The SQLite bridge journal: both legs in one file, what was committed comes back after a
// reopen, what was not is gone, and a file that is no journal is refused with its name.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>

#include "broker/bridge/bridge_journal.hpp"

namespace midge::bridge {
namespace {

client::JournalRecord outbound(std::uint16_t id, std::uint64_t tag, const std::string& topic) {
  client::JournalRecord record;
  record.state = client::JournalState::PublishSent;
  record.packetId = id;
  record.tag = tag;
  record.sequence = id;
  record.message.topic = topic;
  record.message.payload = {'x', 0, 'y'};
  record.message.qos = 2;
  record.message.retain = true;
  return record;
}

class BridgeJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/midge-bridge-journal-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/store.db.bridge-up";
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
    rmdir(dir_.c_str());
  }
  std::unique_ptr<BridgeJournal> open() {
    std::string error;
    auto journal = openSqliteJournal(path_, true, error);
    EXPECT_TRUE(journal) << error;
    return journal;
  }
  std::string dir_, path_;
};

TEST_F(BridgeJournalTest, CommittedRecordsOfBothLegsSurviveAReopen) {
  {
    auto journal = open();
    journal->leg(Leg::Remote).put(outbound(7, (3u << 16) | 42, "up/t"));
    client::JournalRecord inbound;
    inbound.state = client::JournalState::InboundReceived;
    inbound.packetId = 9;
    journal->leg(Leg::Local).put(inbound);
    std::string error;
    ASSERT_TRUE(journal->commit(error)) << error;
  }
  auto journal = open();
  const auto remote = journal->records(Leg::Remote);
  ASSERT_EQ(remote.size(), 1u);
  EXPECT_EQ(remote[0].packetId, 7);
  EXPECT_EQ(remote[0].tag, (3u << 16) | 42);
  EXPECT_EQ(remote[0].message.topic, "up/t");
  EXPECT_EQ(remote[0].message.payload, (std::vector<std::uint8_t>{'x', 0, 'y'}));
  EXPECT_EQ(remote[0].message.qos, 2);
  EXPECT_TRUE(remote[0].message.retain);
  const auto local = journal->records(Leg::Local);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].state, client::JournalState::InboundReceived);
  EXPECT_EQ(local[0].packetId, 9);
}

TEST_F(BridgeJournalTest, UncommittedChangesAreLostInACrash) {
  {
    auto journal = open();
    journal->leg(Leg::Remote).put(outbound(1, 1, "a"));
    std::string error;
    ASSERT_TRUE(journal->commit(error));
    journal->leg(Leg::Remote).erase(false, 1);
    journal->leg(Leg::Remote).put(outbound(2, 2, "b"));
    // no commit: the process dies here
  }
  auto journal = open();
  const auto remote = journal->records(Leg::Remote);
  ASSERT_EQ(remote.size(), 1u);
  EXPECT_EQ(remote[0].packetId, 1);
}

TEST_F(BridgeJournalTest, EraseRemovesOnlyThatLegsRecord) {
  auto journal = open();
  journal->leg(Leg::Remote).put(outbound(5, 1, "a"));
  journal->leg(Leg::Local).put(outbound(5, 2, "b"));
  std::string error;
  ASSERT_TRUE(journal->commit(error));
  journal->leg(Leg::Remote).erase(false, 5);
  ASSERT_TRUE(journal->commit(error));
  EXPECT_TRUE(journal->records(Leg::Remote).empty());
  EXPECT_EQ(open()->records(Leg::Local).size(), 1u);
}

TEST_F(BridgeJournalTest, AFileThatIsNoJournalIsRefusedByName) {
  std::ofstream(path_) << "this is not an SQLite database, just text written over it\n";
  std::string error;
  EXPECT_FALSE(openSqliteJournal(path_, true, error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
}

TEST(BridgeMemoryJournal, CommitsLikeTheFileOne) {
  auto journal = makeMemoryJournal();
  journal->leg(Leg::Remote).put(outbound(3, 1, "a"));
  EXPECT_TRUE(journal->records(Leg::Remote).empty()) << "nothing before the commit";
  std::string error;
  ASSERT_TRUE(journal->commit(error));
  EXPECT_EQ(journal->records(Leg::Remote).size(), 1u);
}

}  // namespace
}  // namespace midge::bridge
