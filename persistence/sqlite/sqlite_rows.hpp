// SPDX-License-Identifier: Apache-2.0
// Binding records to statements and reading them back from rows. Internal to
// persistence/sqlite.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/store/store.hpp"

namespace midge::store::sqlite_detail {

// Binds parameters left to right and remembers the first failure, so a write reads as one
// chain and is checked once.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* statement) : statement_(statement) {}

  // SQLITE_STATIC is safe: every write binds, steps and resets within one call, while the
  // caller's record is alive.
  Binder& text(std::string_view value) {
    // An empty view may carry a null pointer, which SQLite would store as NULL.
    const char* data = value.data() != nullptr ? value.data() : "";
    return check(sqlite3_bind_text64(statement_, next(), data, value.size(), SQLITE_STATIC,
                                     SQLITE_UTF8));
  }
  Binder& blob(const std::vector<std::uint8_t>& value) {
    if (value.empty()) return check(sqlite3_bind_zeroblob(statement_, next(), 0));
    return check(
        sqlite3_bind_blob64(statement_, next(), value.data(), value.size(), SQLITE_STATIC));
  }
  Binder& integer(std::int64_t value) {
    return check(sqlite3_bind_int64(statement_, next(), value));
  }
  Binder& id(std::uint64_t value) { return integer(static_cast<std::int64_t>(value)); }
  Binder& null() { return check(sqlite3_bind_null(statement_, next())); }
  int status() const noexcept { return status_; }

 private:
  int next() noexcept { return ++index_; }
  Binder& check(int rc) {
    if (status_ == SQLITE_OK) status_ = rc;
    return *this;
  }

  sqlite3_stmt* statement_;
  int index_ = 0;
  int status_ = SQLITE_OK;
};

// uint32 little-endian, 4 bytes each: the subscription_ids column.
void encodeSubscriptionIds(const std::vector<std::uint32_t>& ids,
                           std::vector<std::uint8_t>& out);

// Each appends one record from the current row of the matching load statement, or returns
// false when a value is out of range for its field (a row no Midge writes).
bool readSession(sqlite3_stmt* row, Snapshot& out);
bool readSubscription(sqlite3_stmt* row, Snapshot& out);
bool readMessage(sqlite3_stmt* row, Snapshot& out);
bool readDelivery(sqlite3_stmt* row, Snapshot& out);
bool readInboundQos2(sqlite3_stmt* row, Snapshot& out);
bool readRetained(sqlite3_stmt* row, Snapshot& out);

}  // namespace midge::store::sqlite_detail
