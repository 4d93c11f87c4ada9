// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the durability tests: a broker with persistence on in its own data
// directory, MQTT sessions over the raw client that report Session Present, and small file
// and SQLite utilities for checking what is on disk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/raw_client.hpp"

namespace midge::test::durability {

// Adds the persistence lines: the store is dataDir()/midge.db, `persistence_sync` as given.
void enablePersistence(BrokerProcess& broker, const std::string& sync = "full");
std::string storePath(const BrokerProcess& broker);

struct SessionSpec {
  std::string clientId;
  std::uint8_t level = 4;              // 4: MQTT 3.1.1, 5: MQTT 5.0
  bool cleanStart = false;             // durable by default: that is what these tests are about
  std::uint32_t sessionExpiry = 3600;  // v5 only
  std::uint16_t receiveMaximum = 0;    // v5 only; 0: not sent (65535)
  std::uint16_t keepAlive = 60;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<wire::Will> will;
};

struct Connected {
  std::unique_ptr<RawClient> client;
  bool sessionPresent = false;
};

// Connects and expects an accepting CONNACK; throws std::runtime_error otherwise.
Connected connectSession(std::uint16_t port, const SessionSpec& spec);

// The bytes of a PUBLISH resent by a client: same packet, DUP set (MQTT 3.1.1 3.3.1.1).
ByteVector withDup(ByteVector publish);
bool isV5(const SessionSpec& spec);

// Subscribes to one filter and waits for the SUBACK; throws if the grant is a failure.
void subscribe(RawClient& client, const SessionSpec& spec, std::uint16_t packetId,
               const std::string& filter, std::uint8_t qos);

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& bytes);

// Runs one SQL statement that returns a single integer (for example a count) on a store
// file, read-only. Throws std::runtime_error with SQLite's message on failure.
std::int64_t queryInteger(const std::string& databasePath, const std::string& sql);
// Runs SQL that changes the file (used to forge stores a broker must refuse).
void executeSql(const std::string& databasePath, const std::string& sql);

}  // namespace midge::test::durability
