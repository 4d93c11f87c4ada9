// SPDX-License-Identifier: Apache-2.0
#include "persistence/sqlite/sqlite_rows.hpp"

#include <limits>
#include <string>
#include <utility>

namespace midge::store::sqlite_detail {
namespace {

std::string textColumn(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  int size = sqlite3_column_bytes(statement, column);
  if (text == nullptr || size <= 0) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> blobColumn(sqlite3_stmt* statement, int column) {
  const void* data = sqlite3_column_blob(statement, column);
  int size = sqlite3_column_bytes(statement, column);
  if (data == nullptr || size <= 0) return {};
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  return std::vector<std::uint8_t>(bytes, bytes + size);
}

// A column that must be an integer within [low, high]; anything else is a row no Midge
// wrote, and loading it would hand the engine nonsense.
template <typename T>
bool integerColumn(sqlite3_stmt* statement, int column, std::int64_t low, std::int64_t high,
                   T& out) {
  if (sqlite3_column_type(statement, column) != SQLITE_INTEGER) return false;
  std::int64_t value = sqlite3_column_int64(statement, column);
  if (value < low || value > high) return false;
  out = static_cast<T>(value);
  return true;
}

bool idColumn(sqlite3_stmt* statement, int column, std::uint64_t& out) {
  if (sqlite3_column_type(statement, column) != SQLITE_INTEGER) return false;
  out = static_cast<std::uint64_t>(sqlite3_column_int64(statement, column));
  return true;
}

constexpr std::int64_t kUint16Max = 0xFFFF;
constexpr std::int64_t kUint32Max = 0xFFFFFFFF;
constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

bool decodeSubscriptionIds(const std::vector<std::uint8_t>& bytes,
                           std::vector<std::uint32_t>& out) {
  if (bytes.size() % 4 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    out.push_back(static_cast<std::uint32_t>(bytes[i]) |
                  static_cast<std::uint32_t>(bytes[i + 1]) << 8 |
                  static_cast<std::uint32_t>(bytes[i + 2]) << 16 |
                  static_cast<std::uint32_t>(bytes[i + 3]) << 24);
  }
  return true;
}

}  // namespace

void encodeSubscriptionIds(const std::vector<std::uint32_t>& ids,
                           std::vector<std::uint8_t>& out) {
  out.clear();
  for (std::uint32_t id : ids) {
    for (int shift = 0; shift < 32; shift += 8) {
      out.push_back(static_cast<std::uint8_t>(id >> shift));
    }
  }
}

bool readSession(sqlite3_stmt* row, Snapshot& out) {
  SessionRecord session;
  session.clientId = textColumn(row, 0);
  if (!integerColumn(row, 1, 3, 5, session.protocolVersion) ||
      !integerColumn(row, 2, 0, kUint32Max, session.expirySeconds) ||
      !integerColumn(row, 3, kInt64Min, kInt64Max, session.disconnectedAt)) {
    return false;
  }
  if (sqlite3_column_type(row, 4) != SQLITE_NULL) {
    WillRecord will;
    will.topic = textColumn(row, 4);
    will.payload = blobColumn(row, 5);
    will.properties = blobColumn(row, 6);
    if (!integerColumn(row, 7, 0, 2, will.qos) || !integerColumn(row, 8, 0, 1, will.retain) ||
        !integerColumn(row, 9, 0, kUint32Max, will.delaySeconds)) {
      return false;
    }
    session.will = std::move(will);
  }
  if (!integerColumn(row, 10, 0, 1, session.identityKnown) ||
      !integerColumn(row, 13, 0, kInt32Max, session.listenerIndex)) {
    return false;
  }
  if (sqlite3_column_type(row, 11) != SQLITE_NULL) session.username = textColumn(row, 11);
  session.certIdentity = textColumn(row, 12);
  out.sessions.push_back(std::move(session));
  return true;
}

bool readSubscription(sqlite3_stmt* row, Snapshot& out) {
  SubscriptionRecord subscription;
  subscription.clientId = textColumn(row, 0);
  subscription.filter = textColumn(row, 1);
  if (!integerColumn(row, 2, 0, 0xFF, subscription.options) ||
      !integerColumn(row, 3, 0, kUint32Max, subscription.identifier)) {
    return false;
  }
  out.subscriptions.push_back(std::move(subscription));
  return true;
}

bool readMessage(sqlite3_stmt* row, Snapshot& out) {
  MessageRecord message;
  message.topic = textColumn(row, 1);
  message.payload = blobColumn(row, 2);
  message.properties = blobColumn(row, 3);
  if (!idColumn(row, 0, message.id) || !integerColumn(row, 4, 0, 2, message.qos) ||
      !integerColumn(row, 5, 0, 1, message.retain) ||
      !integerColumn(row, 6, kInt64Min, kInt64Max, message.expiresAt)) {
    return false;
  }
  out.messages.push_back(std::move(message));
  return true;
}

bool readDelivery(sqlite3_stmt* row, Snapshot& out) {
  DeliveryRecord delivery;
  delivery.clientId = textColumn(row, 0);
  std::uint8_t state = 0;
  if (!idColumn(row, 1, delivery.sequence) || !idColumn(row, 2, delivery.messageId) ||
      !integerColumn(row, 3, 0, kUint16Max, delivery.packetId) ||
      !integerColumn(row, 4, 0, 2, delivery.qos) ||
      !integerColumn(row, 5, 0, 1, delivery.retain) ||
      !integerColumn(row, 6, 0, static_cast<std::int64_t>(DeliveryState::PubrelSent), state) ||
      !decodeSubscriptionIds(blobColumn(row, 7), delivery.subscriptionIds)) {
    return false;
  }
  delivery.state = static_cast<DeliveryState>(state);
  out.deliveries.push_back(std::move(delivery));
  return true;
}

bool readInboundQos2(sqlite3_stmt* row, Snapshot& out) {
  InboundQos2Record record;
  record.clientId = textColumn(row, 0);
  if (!integerColumn(row, 1, 1, kUint16Max, record.packetId)) return false;
  out.inboundQos2.push_back(std::move(record));
  return true;
}

bool readRetained(sqlite3_stmt* row, Snapshot& out) {
  RetainedRecord retained;
  retained.topic = textColumn(row, 0);
  if (!idColumn(row, 1, retained.messageId)) return false;
  out.retained.push_back(std::move(retained));
  return true;
}

}  // namespace midge::store::sqlite_detail
