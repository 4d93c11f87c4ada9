// SPDX-License-Identifier: Apache-2.0
// Record builders, comparisons and a temporary directory for the store tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/store/store.hpp"

namespace midge::store {

inline bool operator==(const WillRecord& a, const WillRecord& b) {
  return a.topic == b.topic && a.payload == b.payload && a.properties == b.properties &&
         a.qos == b.qos && a.retain == b.retain && a.delaySeconds == b.delaySeconds;
}
inline bool operator==(const SessionRecord& a, const SessionRecord& b) {
  return a.clientId == b.clientId && a.protocolVersion == b.protocolVersion &&
         a.expirySeconds == b.expirySeconds && a.disconnectedAt == b.disconnectedAt &&
         a.will == b.will && a.identityKnown == b.identityKnown && a.username == b.username &&
         a.certIdentity == b.certIdentity && a.listenerIndex == b.listenerIndex;
}
inline bool operator==(const SubscriptionRecord& a, const SubscriptionRecord& b) {
  return a.clientId == b.clientId && a.filter == b.filter && a.options == b.options &&
         a.identifier == b.identifier;
}
inline bool operator==(const MessageRecord& a, const MessageRecord& b) {
  return a.id == b.id && a.topic == b.topic && a.payload == b.payload &&
         a.properties == b.properties && a.qos == b.qos && a.retain == b.retain &&
         a.expiresAt == b.expiresAt;
}
inline bool operator==(const DeliveryRecord& a, const DeliveryRecord& b) {
  return a.clientId == b.clientId && a.sequence == b.sequence && a.messageId == b.messageId &&
         a.packetId == b.packetId && a.qos == b.qos && a.retain == b.retain &&
         a.state == b.state && a.subscriptionIds == b.subscriptionIds;
}
inline bool operator==(const InboundQos2Record& a, const InboundQos2Record& b) {
  return a.clientId == b.clientId && a.packetId == b.packetId;
}
inline bool operator==(const RetainedRecord& a, const RetainedRecord& b) {
  return a.topic == b.topic && a.messageId == b.messageId;
}

inline void PrintTo(const SessionRecord& s, std::ostream* os) {
  *os << "session{" << s.clientId << ", v" << static_cast<int>(s.protocolVersion)
      << ", expiry " << s.expirySeconds << ", at " << s.disconnectedAt
      << (s.identityKnown ? ", user " + s.username.value_or("<none>") : ", identity unknown")
      << ", cert '" << s.certIdentity << "', listener " << s.listenerIndex
      << (s.will ? ", will}" : "}");
}
inline void PrintTo(const SubscriptionRecord& s, std::ostream* os) {
  *os << "subscription{" << s.clientId << ", " << s.filter << ", opts "
      << static_cast<int>(s.options) << ", id " << s.identifier << "}";
}
inline void PrintTo(const MessageRecord& m, std::ostream* os) {
  *os << "message{" << m.id << ", " << m.topic << ", " << m.payload.size() << " bytes, qos "
      << static_cast<int>(m.qos) << "}";
}
inline void PrintTo(const DeliveryRecord& d, std::ostream* os) {
  *os << "delivery{" << d.clientId << "#" << d.sequence << " -> " << d.messageId << ", pid "
      << d.packetId << ", state " << static_cast<int>(d.state) << "}";
}
inline void PrintTo(const InboundQos2Record& r, std::ostream* os) {
  *os << "inbound{" << r.clientId << ", " << r.packetId << "}";
}
inline void PrintTo(const RetainedRecord& r, std::ostream* os) {
  *os << "retained{" << r.topic << " -> " << r.messageId << "}";
}

}  // namespace midge::store

namespace midge::store::testing {

inline std::vector<std::uint8_t> bytes(std::initializer_list<int> values) {
  std::vector<std::uint8_t> out;
  for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

inline SessionRecord session(const std::string& clientId) {
  SessionRecord record;
  record.clientId = clientId;
  record.protocolVersion = 5;
  record.expirySeconds = 3600;
  record.disconnectedAt = 1700000000;
  return record;
}

inline SubscriptionRecord subscription(const std::string& clientId, const std::string& filter,
                                       std::uint8_t options = 1) {
  return SubscriptionRecord{clientId, filter, options, 0};
}

inline MessageRecord message(std::uint64_t id, const std::string& topic = "sensors/t") {
  MessageRecord record;
  record.id = id;
  record.topic = topic;
  record.payload = bytes({'2', '1', '.', '5'});
  record.qos = 1;
  return record;
}

inline DeliveryRecord delivery(const std::string& clientId, std::uint64_t sequence,
                               std::uint64_t messageId) {
  DeliveryRecord record;
  record.clientId = clientId;
  record.sequence = sequence;
  record.messageId = messageId;
  record.qos = 1;
  return record;
}

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "midge-store-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = buffer.data();
  }
  ~TempDir() {
    std::error_code ignored;
    // Undo any chmod a test did, or removal would fail for a non-root user.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    for (const auto& entry : std::filesystem::directory_iterator(path_, ignored)) {
      std::filesystem::permissions(entry.path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ignored);
    }
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<char> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void writeFile(const std::string& path, const std::vector<char>& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

}  // namespace midge::store::testing
