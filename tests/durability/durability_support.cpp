// SPDX-License-Identifier: Apache-2.0
#include "tests/durability/durability_support.hpp"

#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace midge::test::durability {

void enablePersistence(BrokerProcess& broker, const std::string& sync) {
  broker.addConfigLine("persistence true");
  broker.addConfigLine("persistence_location {DIR}");
  broker.addConfigLine("persistence_file midge.db");
  broker.addConfigLine("persistence_sync " + sync);
}

std::string storePath(const BrokerProcess& broker) { return broker.dataDir() + "/midge.db"; }

bool isV5(const SessionSpec& spec) { return spec.level == 5; }

Connected connectSession(std::uint16_t port, const SessionSpec& spec) {
  Connected result;
  result.client = std::make_unique<RawClient>(port);
  wire::ConnectSpec connect;
  connect.level = spec.level;
  connect.clientId = spec.clientId;
  connect.cleanStart = spec.cleanStart;
  connect.keepAlive = spec.keepAlive;
  connect.username = spec.username;
  connect.password = spec.password;
  connect.will = spec.will;
  if (isV5(spec)) {
    connect.properties.push_back(0x11);  // Session Expiry Interval
    wire::putU32(connect.properties, spec.sessionExpiry);
    if (spec.receiveMaximum != 0) {
      connect.properties.push_back(0x21);  // Receive Maximum
      wire::putU16(connect.properties, spec.receiveMaximum);
    }
  }
  if (!result.client->send(wire::connect(connect))) {
    throw std::runtime_error("CONNECT of " + spec.clientId + " not sent");
  }
  const RawPacket connack = result.client->expect(kConnack);
  if (connack.body.size() < 2 || connack.body[1] != 0) {
    throw std::runtime_error("CONNACK refused " + spec.clientId + ": code " +
                             std::to_string(wire::reasonOf(connack)));
  }
  result.sessionPresent = (connack.body[0] & 0x01) != 0;
  result.client->clearReceived();
  return result;
}

ByteVector withDup(ByteVector publish) {
  publish.at(0) = static_cast<std::uint8_t>(publish[0] | 0x08);
  return publish;
}

void subscribe(RawClient& client, const SessionSpec& spec, std::uint16_t packetId,
               const std::string& filter, std::uint8_t qos) {
  if (!client.send(wire::subscribe(packetId, filter, qos, isV5(spec)))) {
    throw std::runtime_error("SUBSCRIBE not sent");
  }
  const RawPacket suback = client.expect(kSuback);
  // The grant is the last byte: after the packet id (and, in v5, an empty property block).
  if (suback.body.size() < 3 || suback.body.back() >= 0x80) {
    throw std::runtime_error("SUBSCRIBE to " + filter + " refused");
  }
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path);
}

namespace {

struct Database {
  sqlite3* handle = nullptr;
  Database(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &handle, flags, nullptr) != SQLITE_OK) {
      const std::string message = handle != nullptr ? sqlite3_errmsg(handle) : "out of memory";
      sqlite3_close(handle);
      throw std::runtime_error("cannot open " + path + ": " + message);
    }
  }
  ~Database() { sqlite3_close(handle); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
};

}  // namespace

std::int64_t queryInteger(const std::string& databasePath, const std::string& sql) {
  Database database(databasePath, SQLITE_OPEN_READONLY);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(database.handle, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sql + ": " + sqlite3_errmsg(database.handle));
  }
  const int step = sqlite3_step(statement);
  if (step != SQLITE_ROW) {
    const std::string message = sqlite3_errmsg(database.handle);
    sqlite3_finalize(statement);
    throw std::runtime_error(sql + ": no row (" + message + ")");
  }
  const std::int64_t value = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  return value;
}

void executeSql(const std::string& databasePath, const std::string& sql) {
  Database database(databasePath, SQLITE_OPEN_READWRITE);
  char* error = nullptr;
  if (sqlite3_exec(database.handle, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error(sql + ": " + message);
  }
}

}  // namespace midge::test::durability
