// SPDX-License-Identifier: Apache-2.0
// The bridge keyword table (docs/bridge.md, "Configuration"): Mosquitto 2's keywords with
// its defaults and value checks, Midge's queue keywords, and the keywords Midge refuses
// with their reason.
#include "broker/config/keyword_bridge.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/config/bridge_values.hpp"
#include "broker/config/values.hpp"

namespace midge::config::detail {

namespace {

constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kUint32Max = std::numeric_limits<std::uint32_t>::max();
// Mosquitto's bounds for restart_timeout.
constexpr std::int64_t kMaxRestartSeconds = 3600;

using Handler = void (*)(ParseSession& s, const Line& l, Bridge& b);

struct BridgeKeyword {
  std::string_view name;
  Handler handle;
};

std::string name(const Line& line) { return std::string(line.keyword); }

void setString(ParseSession& s, const Line& l, std::string& target, std::string_view claim) {
  auto value = takeString(s, l);
  if (!value || !s.claimBridgeOnce(claim)) return;
  target = std::move(*value);
}

// Mosquitto's deprecated spellings from before remote_ and local_ were added.
void setDeprecatedString(ParseSession& s, const Line& l, std::string& target,
                         std::string_view replacement) {
  s.warning(name(l) + ": deprecated; use " + std::string(replacement));
  setString(s, l, target, replacement);
}

void setBool(ParseSession& s, const Line& l, bool& target) {
  if (const auto value = takeBool(s, l)) target = *value;
}

template <typename T>
void setInteger(ParseSession& s, const Line& l, T& target, std::int64_t min, std::int64_t max) {
  if (const auto value = takeInteger(s, l, min, max)) target = static_cast<T>(*value);
}

// Mosquitto raises values below its minimum to the minimum with a notice; so does Midge.
template <typename T>
void setRaisedToMinimum(ParseSession& s, const Line& l, T& target, std::int64_t min,
                        std::int64_t max) {
  auto value = takeInteger(s, l, kInt64Min, max);
  if (!value) return;
  if (*value < min) {
    s.warning(name(l) + ": " + std::to_string(*value) + " is too low; using " +
              std::to_string(min) + " (as Mosquitto does)");
    value = min;
  }
  target = static_cast<T>(*value);
}

// Mosquitto clamps negative sizes to 0 ("no limit") instead of refusing them.
template <typename T>
void setSizeClampingNegative(ParseSession& s, const Line& l, T& target, std::int64_t max) {
  if (const auto value = takeInteger(s, l, kInt64Min, max)) {
    target = *value < 0 ? 0 : static_cast<T>(*value);
  }
}

BridgeTls& tlsOf(Bridge& bridge) {
  if (!bridge.tls) bridge.tls.emplace();
  return *bridge.tls;
}

void setTlsString(ParseSession& s, const Line& l, Bridge& b, std::string BridgeTls::*field) {
  setString(s, l, tlsOf(b).*field, l.keyword);
}

void onAddress(ParseSession& s, const Line& l, Bridge& b) {
  if (!s.claimBridgeOnce("address/addresses")) return;
  for (std::string_view word : l.words) {
    // Mosquitto separates addresses with spaces; a comma is accepted too.
    std::size_t start = 0;
    while (start <= word.size()) {
      std::size_t comma = word.find(',', start);
      if (comma == std::string_view::npos) comma = word.size();
      const std::string_view item = word.substr(start, comma - start);
      start = comma + 1;
      if (item.empty()) continue;
      std::string error;
      auto address = parseBridgeAddress(item, error);
      if (!address) {
        s.error(name(l) + ": " + error);
        return;
      }
      b.addresses.push_back(std::move(*address));
    }
  }
  if (b.addresses.empty()) s.error(name(l) + ": missing value (expected HOST[:PORT] ...)");
}

// The line's words, except that the first may be the pattern "#" or start with '#': the
// usual "a word starting with '#' begins a comment" applies only after the pattern.
std::vector<std::string_view> topicWords(const Line& l) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < l.rest.size()) {
    while (pos < l.rest.size() && (l.rest[pos] == ' ' || l.rest[pos] == '\t')) ++pos;
    if (pos == l.rest.size()) break;
    std::size_t end = pos;
    while (end < l.rest.size() && l.rest[end] != ' ' && l.rest[end] != '\t') ++end;
    const std::string_view word = l.rest.substr(pos, end - pos);
    if (!words.empty() && word[0] == '#') break;
    words.push_back(word);
    pos = end;
  }
  return words;
}

void onTopic(ParseSession& s, const Line& l, Bridge& b) {
  std::string error;
  const std::vector<std::string_view> words = topicWords(l);
  auto topic = parseBridgeTopic(words, error);
  if (!topic) {
    s.error("topic: " + error);
    return;
  }
  for (std::string_view word : words) {
    if (!isValidUtf8(word)) {
      s.error("topic: value is not valid UTF-8 text");
      return;
    }
  }
  topic->definedAt = s.position();
  b.topics.push_back(std::move(*topic));
}

// One word from a fixed list of (value, word); anything else names the list in the error.
template <typename T, std::size_t N>
void setChoice(ParseSession& s, const Line& l, const std::pair<T, std::string_view> (&choices)[N],
               T& out) {
  const auto word = takeWord(s, l);
  if (!word) return;
  std::string expected;
  for (std::size_t i = 0; i < N; ++i) {
    if (*word == choices[i].second) {
      out = choices[i].first;
      return;
    }
    expected += std::string(i == 0 ? "" : (i + 1 == N ? " or " : ", ")) +
                std::string(choices[i].second);
  }
  s.error(name(l) + ": unknown value '" + std::string(*word) + "' (expected " + expected + ")");
}

void onProtocolVersion(ParseSession& s, const Line& l, Bridge& b) {
  static const std::pair<BridgeProtocol, std::string_view> kChoices[] = {
      {BridgeProtocol::V31, "mqttv31"},
      {BridgeProtocol::V311, "mqttv311"},
      {BridgeProtocol::V5, "mqttv50"}};
  setChoice(s, l, kChoices, b.protocol);
}

void onRestartTimeout(ParseSession& s, const Line& l, Bridge& b) {
  if (l.words.empty() || l.words.size() > 2) {
    s.error(name(l) + (l.words.empty() ? ": missing value" : ": too many values") +
            " (expected restart_timeout BASE [CAP], in seconds)");
    return;
  }
  std::int64_t values[2] = {0, 0};
  for (std::size_t i = 0; i < l.words.size(); ++i) {
    const auto value = parseInteger(l.words[i]);
    if (!value) {
      s.error(name(l) + ": '" + std::string(l.words[i]) + "' is not a whole number");
      return;
    }
    values[i] = *value < 1 ? 1 : (*value > kMaxRestartSeconds ? kMaxRestartSeconds : *value);
    if (values[i] != *value) {
      s.warning(name(l) + ": " + std::to_string(*value) + " is outside 1.." +
                std::to_string(kMaxRestartSeconds) + "; using " + std::to_string(values[i]) +
                " (as Mosquitto does)");
    }
  }
  if (l.words.size() == 1) values[1] = values[0];
  if (values[1] < values[0]) {
    s.error(name(l) + ": the cap " + std::to_string(values[1]) +
            " is below the base " + std::to_string(values[0]));
    return;
  }
  b.restartTimeoutBaseSeconds = static_cast<std::uint32_t>(values[0]);
  b.restartTimeoutCapSeconds = static_cast<std::uint32_t>(values[1]);
}

void onStartType(ParseSession& s, const Line& l, Bridge& b) {
  static const std::pair<BridgeStartType, std::string_view> kChoices[] = {
      {BridgeStartType::Automatic, "automatic"},
      {BridgeStartType::Lazy, "lazy"},
      {BridgeStartType::Once, "once"}};
  setChoice(s, l, kChoices, b.startType);
}

void onNotificationTopic(ParseSession& s, const Line& l, Bridge& b) {
  auto value = takeString(s, l);
  if (!value) return;
  if (containsWildcard(*value)) {
    s.error(name(l) + ": '" + *value + "' must not contain the wildcards + or #");
    return;
  }
  if (s.claimBridgeOnce(l.keyword)) b.notificationTopic = std::move(*value);
}

void onTlsVersion(ParseSession& s, const Line& l, Bridge& b) {
  const auto word = takeWord(s, l);
  if (!word) return;
  if (*word == "tlsv1.2") {
    tlsOf(b).minVersion = "tlsv1.2";
  } else if (*word == "tlsv1.3") {
    s.error(name(l) + ": tlsv1.3 is not supported: Midge's TLS library (mbedTLS 2.28) "
                      "speaks TLS 1.2 only; use tlsv1.2");
  } else if (*word == "tlsv1.1" || *word == "tlsv1") {
    s.error(name(l) + ": " + std::string(*word) +
            " is refused: Midge never uses TLS versions below 1.2; use tlsv1.2");
  } else {
    s.error(name(l) + ": unknown value '" + std::string(*word) + "' (expected tlsv1.2)");
  }
}

void onRequireOcsp(ParseSession& s, const Line& l, Bridge&) {
  const auto value = takeBool(s, l);
  if (value && *value) {
    s.error(name(l) + ": true is not supported: Midge's TLS library (mbedTLS 2.28) cannot "
                      "check OCSP staples");
  }
}

void onAlpn(ParseSession& s, const Line& l, Bridge& b) {
  const auto word = takeWord(s, l);
  if (!word || !s.claimBridgeOnce(l.keyword)) return;
  std::size_t start = 0;
  while (start <= word->size()) {
    std::size_t comma = word->find(',', start);
    if (comma == std::string_view::npos) comma = word->size();
    const std::string_view protocol = word->substr(start, comma - start);
    if (protocol.empty() || protocol.size() > 255) {
      s.error(name(l) + ": '" + std::string(*word) +
              "' must be protocol names of 1..255 bytes separated by commas");
      return;
    }
    tlsOf(b).alpn.emplace_back(protocol);
    start = comma + 1;
  }
}

void onQueueFull(ParseSession& s, const Line& l, Bridge& b) {
  static const std::pair<BridgeQueueFull, std::string_view> kChoices[] = {
      {BridgeQueueFull::DropNew, "drop_new"}, {BridgeQueueFull::RefuseNew, "refuse_new"}};
  setChoice(s, l, kChoices, b.queueFull);
}

#define MIDGE_B(body) [](ParseSession& s, const Line& l, Bridge& b) { body; }
#define MIDGE_B_STRING(field) MIDGE_B(setString(s, l, b.field, l.keyword))
#define MIDGE_B_BOOL(field) MIDGE_B(setBool(s, l, b.field))

const BridgeKeyword kBridgeKeywords[] = {
    {"address", onAddress},
    {"addresses", onAddress},
    {"round_robin", MIDGE_B_BOOL(roundRobin)},
    {"topic", onTopic},
    {"bridge_protocol_version", onProtocolVersion},
    {"cleansession", MIDGE_B_BOOL(cleanSession)},
    {"local_cleansession",
     MIDGE_B(if (const auto v = takeBool(s, l)) b.localCleanSession = *v)},
    {"local_clientid", MIDGE_B_STRING(localClientId)},
    {"remote_clientid", MIDGE_B_STRING(remoteClientId)},
    {"clientid", MIDGE_B(setDeprecatedString(s, l, b.remoteClientId, "remote_clientid"))},
    {"remote_username", MIDGE_B_STRING(remoteUsername)},
    {"username", MIDGE_B(setDeprecatedString(s, l, b.remoteUsername, "remote_username"))},
    {"remote_password", MIDGE_B_STRING(remotePassword)},
    {"password", MIDGE_B(setDeprecatedString(s, l, b.remotePassword, "remote_password"))},
    {"local_username", MIDGE_B_STRING(localUsername)},
    {"local_password", MIDGE_B_STRING(localPassword)},
    {"keepalive_interval", MIDGE_B(setRaisedToMinimum(s, l, b.keepaliveSeconds, 5, 65535))},
    {"restart_timeout", onRestartTimeout},
    {"start_type", onStartType},
    {"idle_timeout", MIDGE_B(setRaisedToMinimum(s, l, b.idleTimeoutSeconds, 1, kUint32Max))},
    {"threshold", MIDGE_B(setRaisedToMinimum(s, l, b.threshold, 1, kUint32Max))},
    {"notifications", MIDGE_B_BOOL(notifications)},
    {"notification_topic", onNotificationTopic},
    {"notifications_local_only", MIDGE_B_BOOL(notificationsLocalOnly)},
    {"try_private", MIDGE_B_BOOL(tryPrivate)},
    {"bridge_outgoing_retain", MIDGE_B_BOOL(outgoingRetain)},
    {"bridge_attempt_unsubscribe", MIDGE_B_BOOL(attemptUnsubscribe)},
    {"bridge_bind_address", MIDGE_B_STRING(bindAddress)},
    {"bridge_max_packet_size",
     MIDGE_B(setSizeClampingNegative(s, l, b.maxPacketSize, kUint32Max))},
    {"bridge_receive_maximum", MIDGE_B(setInteger(s, l, b.receiveMaximum, 1, 65535))},
    {"bridge_session_expiry_interval",
     MIDGE_B(setInteger(s, l, b.sessionExpiryInterval, 0, kUint32Max))},
    {"bridge_max_topic_alias", MIDGE_B(setInteger(s, l, b.maxTopicAlias, 0, 65535))},
    {"bridge_cafile", MIDGE_B(setTlsString(s, l, b, &BridgeTls::caFile))},
    {"bridge_capath", MIDGE_B(setTlsString(s, l, b, &BridgeTls::caPath))},
    {"bridge_certfile", MIDGE_B(setTlsString(s, l, b, &BridgeTls::certFile))},
    {"bridge_keyfile", MIDGE_B(setTlsString(s, l, b, &BridgeTls::keyFile))},
    {"bridge_insecure", MIDGE_B(setBool(s, l, tlsOf(b).insecure))},
    {"bridge_tls_version", onTlsVersion},
    {"bridge_require_ocsp", onRequireOcsp},
    {"bridge_alpn", onAlpn},
    // Midge's keywords: the disk queue towards the upstream.
    {"bridge_max_queued_messages",
     MIDGE_B(setInteger(s, l, b.maxQueuedMessages, 0, kInt64Max))},
    {"bridge_max_queued_bytes", MIDGE_B(setInteger(s, l, b.maxQueuedBytes, 0, kInt64Max))},
    {"bridge_queue_full", onQueueFull},
};

#undef MIDGE_B_BOOL
#undef MIDGE_B_STRING
#undef MIDGE_B

// Bridge keywords Midge cannot honour; a file that sets them does not load.
struct Refused {
  std::string_view name;
  std::string_view reason;
};

const Refused kRefused[] = {
    {"bridge_identity",
     "TLS-PSK bridges are not supported: Midge's TLS authenticates the upstream with "
     "certificates only (use bridge_cafile)"},
    {"bridge_psk",
     "TLS-PSK bridges are not supported: Midge's TLS authenticates the upstream with "
     "certificates only (use bridge_cafile)"},
    {"bridge_reload_type",
     "Midge does not reload bridges while running; a changed bridge section takes effect "
     "when Midge restarts"},
};

const BridgeKeyword* findBridgeKeyword(std::string_view keyword) {
  for (const BridgeKeyword& entry : kBridgeKeywords) {
    if (entry.name == keyword) return &entry;
  }
  return nullptr;
}

const Refused* findRefused(std::string_view keyword) {
  for (const Refused& entry : kRefused) {
    if (entry.name == keyword) return &entry;
  }
  return nullptr;
}

void onConnection(ParseSession& s, const Line& l) {
  const auto word = takeWord(s, l);
  if (!word) return;
  if (!isValidUtf8(*word)) {
    s.error("connection: the name is not valid UTF-8 text");
    return;
  }
  s.startBridge(std::string(*word));
}

// Reports at the bridge's `connection` line: the problem concerns the section.
struct SectionReporter {
  ParseSession& session;
  const std::pair<std::string, int>& origin;
  const Bridge& bridge;
  void error(const std::string& message) const {
    session.errorAt(origin.first, origin.second, "bridge '" + bridge.name + "': " + message);
  }
};

std::string unreadableReason(const std::string& path, bool directory) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode) != directory) {
    return directory ? "not a directory" : "is a directory, not a file (use bridge_capath)";
  }
  errno = 0;
  if (directory) {
    if (DIR* handle = ::opendir(path.c_str())) {
      ::closedir(handle);
      return {};
    }
  } else if (std::FILE* stream = std::fopen(path.c_str(), "rb")) {
    std::fclose(stream);
    return {};
  }
  return errno != 0 ? std::strerror(errno) : "cannot be opened";
}

void checkTls(const SectionReporter& report, Bridge& bridge) {
  if (!bridge.tls) return;
  const BridgeTls& tls = *bridge.tls;
  if (!tls.enabled()) {
    report.error("bridge_certfile, bridge_keyfile, bridge_insecure, bridge_tls_version and "
                 "bridge_alpn need bridge_cafile or bridge_capath, which turn on TLS towards "
                 "the upstream");
    bridge.tls.reset();
    return;
  }
  if (tls.certFile.empty() != tls.keyFile.empty()) {
    report.error("bridge_certfile and bridge_keyfile must be given together");
  }
  if (!tls.caFile.empty()) {
    const std::string reason = unreadableReason(tls.caFile, false);
    if (!reason.empty()) report.error("bridge_cafile '" + tls.caFile + "': " + reason);
  }
  if (!tls.caPath.empty()) {
    const std::string reason = unreadableReason(tls.caPath, true);
    if (!reason.empty()) report.error("bridge_capath '" + tls.caPath + "': " + reason);
  }
}

void checkSection(const SectionReporter& report, Bridge& bridge) {
  if (bridge.addresses.empty()) report.error("no address (add 'address HOST[:PORT]')");
  if (bridge.topics.empty()) {
    report.error("no topic line: a bridge without topics carries no messages (add e.g. "
                 "'topic # out 0')");
  }
  if (!bridge.remotePassword.empty() && bridge.remoteUsername.empty()) {
    report.error("remote_password needs remote_username");
  }
  if (!bridge.localPassword.empty() && bridge.localUsername.empty()) {
    report.error("local_password needs local_username");
  }
  checkTls(report, bridge);
}

// Mosquitto's defaults that depend on other values of the section.
void deriveDefaults(Bridge& bridge, const std::string& hostName) {
  if (bridge.remoteClientId.empty()) bridge.remoteClientId = hostName + "." + bridge.name;
  if (bridge.localClientId.empty()) bridge.localClientId = "local." + bridge.remoteClientId;
  if (bridge.notificationTopic.empty()) {
    bridge.notificationTopic = "$SYS/broker/connection/" + bridge.remoteClientId + "/state";
  }
  if (!bridge.localCleanSession) bridge.localCleanSession = bridge.cleanSession;
}

}  // namespace

void checkBridges(ParseSession& session) {
  std::vector<Bridge>& bridges = session.config().bridges;
  if (bridges.empty()) return;
  const std::string hostName = localHostName();
  for (std::size_t i = 0; i < bridges.size(); ++i) {
    const SectionReporter report{session, session.bridgeOrigins()[i], bridges[i]};
    for (std::size_t j = 0; j < i; ++j) {
      if (bridges[j].name == bridges[i].name) {
        report.error("the name is already used by the bridge at " + bridges[j].definedAt);
      }
    }
    checkSection(report, bridges[i]);
    deriveDefaults(bridges[i], hostName);
  }
  // Mosquitto's check: two bridges with one local client id would take over each
  // other's local session.
  for (std::size_t i = 0; i < bridges.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (bridges[j].name != bridges[i].name &&
          bridges[j].localClientId == bridges[i].localClientId) {
        SectionReporter{session, session.bridgeOrigins()[i], bridges[i]}.error(
            "local_clientid '" + bridges[i].localClientId + "' is already used by the bridge at " +
            bridges[j].definedAt + "; set a different local_clientid");
      }
    }
  }
}

bool applyBridgeKeyword(ParseSession& session, const Line& line) {
  if (line.keyword == "connection") {
    onConnection(session, line);
    return true;
  }
  const BridgeKeyword* keyword = findBridgeKeyword(line.keyword);
  const Refused* refused = keyword == nullptr ? findRefused(line.keyword) : nullptr;
  if (keyword == nullptr && refused == nullptr) return false;
  Bridge* bridge = session.currentBridge();
  if (bridge == nullptr) {
    session.error(name(line) + ": a bridge keyword outside a bridge section; put it after a "
                               "'connection NAME' line");
    return true;
  }
  if (refused != nullptr) {
    session.error(name(line) + ": " + std::string(refused->reason));
    return true;
  }
  keyword->handle(session, line, *bridge);
  return true;
}

}  // namespace midge::config::detail
