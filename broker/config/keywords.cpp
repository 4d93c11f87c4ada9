// SPDX-License-Identifier: Apache-2.0
// The keyword table: what each mosquitto.conf keyword does in Midge. Keywords Midge
// implements have a handler here; the others are in the tables of keyword_refusals.cpp, either
// accepted (their absence cannot let in a client Mosquitto would have refused) or rejected
// (ignoring them would weaken security or silently change what the listener speaks).
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "broker/config/keyword_bridge.hpp"
#include "broker/config/keyword_refusals.hpp"
#include "broker/config/parse_session.hpp"
#include "broker/config/values.hpp"
#include "core/codec/framer.hpp"

namespace midge::config::detail {

namespace {

constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kUint32Max = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t kMaxPayload = codec::kMaxVarint;
constexpr std::int64_t kMaxPacket = codec::kMaxWirePacketSize;
// Below this not even a CONNECT with a short client id fits (Mosquitto's limit too).
constexpr std::int64_t kMinPacketLimit = 20;

std::string name(const Line& line) { return std::string(line.keyword); }

template <typename T>
void setInteger(ParseSession& s, const Line& l, T& target, std::int64_t min, std::int64_t max) {
  if (const auto value = takeInteger(s, l, min, max)) target = static_cast<T>(*value);
}

void setBool(ParseSession& s, const Line& l, bool& target) {
  if (const auto value = takeBool(s, l)) target = *value;
}

// Mosquitto clamps negative counts to 0 ("no limit") instead of refusing them.
void setCountClampingNegative(ParseSession& s, const Line& l, std::size_t& target) {
  if (const auto value = takeInteger(s, l, kInt64Min, kInt64Max)) {
    target = *value < 0 ? 0 : static_cast<std::size_t>(*value);
  }
}

// Connection limits: any negative value means unlimited (-1), as in Mosquitto.
void setConnectionLimit(ParseSession& s, const Line& l, int& target) {
  if (const auto value = takeInteger(s, l, kInt64Min, kInt32Max)) {
    target = *value < 0 ? -1 : static_cast<int>(*value);
  }
}

void setOnce(ParseSession& s, const Line& l, std::string& target, bool perListener) {
  auto value = takeString(s, l);
  if (!value || !s.claimOnce(l.keyword, perListener)) return;
  target = std::move(*value);
}

void setSecurityString(ParseSession& s, const Line& l, std::string SecuritySettings::*field) {
  s.noteSecurityKeyword();
  setOnce(s, l, s.currentSecurity().*field, s.config().perListenerSettings);
}

void setTlsString(ParseSession& s, const Line& l, std::string TlsSettings::*field) {
  auto value = takeString(s, l);
  if (!value || !s.claimOnce(l.keyword, true)) return;
  s.currentTls().*field = std::move(*value);
}

void setTlsBool(ParseSession& s, const Line& l, bool TlsSettings::*field) {
  if (const auto value = takeBool(s, l)) s.currentTls().*field = *value;
}

void unsupportedValue(ParseSession& s, const Line& l, std::string_view value,
                      std::string_view expected) {
  s.error(name(l) + ": unknown value '" + std::string(value) + "' (expected " +
          std::string(expected) + ")");
}

// --- listeners ---

void onListener(ParseSession& s, const Line& l) {
  s.leaveLocalOnly();
  if (l.words.empty()) {
    s.error("listener: missing port");
    return;
  }
  if (l.words.size() > 2) {
    s.error("listener: unexpected extra argument '" + std::string(l.words[2]) +
            "' (expected: listener PORT [ADDRESS])");
    return;
  }
  const auto port = parseInteger(l.words[0]);
  if (!port) {
    s.error("listener: port '" + std::string(l.words[0]) + "' is not a whole number");
    return;
  }
  if (*port == 0) {
    s.error("listener: port 0 (a Unix domain socket) is not supported by Midge");
    return;
  }
  if (*port < 1 || *port > 65535) {
    s.error("listener: port " + std::string(l.words[0]) + " is out of range (1..65535)");
    return;
  }
  s.startListener(static_cast<std::uint16_t>(*port),
                  l.words.size() == 2 ? l.words[1] : std::string_view());
}

void onPort(ParseSession& s, const Line& l) {
  s.leaveLocalOnly();
  const auto port = takeInteger(s, l, 1, 65535);
  if (!port) return;
  s.warning("port: deprecated; use 'listener " + std::to_string(*port) + "' instead");
  if (!s.claimOnce("port", false)) return;
  s.defaultListener().port = static_cast<std::uint16_t>(*port);
  s.noteDefaultPort();
}

void onBindAddress(ParseSession& s, const Line& l) {
  s.leaveLocalOnly();
  auto value = takeString(s, l);
  if (!value) return;
  s.warning("bind_address: deprecated; use 'listener PORT " + *value + "' instead");
  if (!s.claimOnce("bind_address", false)) return;
  s.defaultListener().bindAddress = std::move(*value);
}

void onProtocol(ParseSession& s, const Line& l) {
  const auto word = takeWord(s, l);
  if (!word) return;
  if (*word == "mqtt") {
    s.currentListener().protocol = ListenerProtocol::Mqtt;
  } else if (*word == "websockets") {
    s.currentListener().protocol = ListenerProtocol::WebSockets;
  } else if (*word == "http") {
    if (s.beforeFirstListener()) {
      s.error("protocol http: must follow a listener line (the operator endpoint needs its "
              "own port)");
      return;
    }
    s.currentListener().protocol = ListenerProtocol::Http;
  } else if (*word == "quic") {
    s.error("protocol: quic listeners are not supported by Midge (mqtt, websockets or http)");
  } else {
    unsupportedValue(s, l, *word, "mqtt, websockets or http");
  }
}

void onWebsocketsOrigin(ParseSession& s, const Line& l) {
  auto value = takeString(s, l);
  if (!value) return;
  if (value->empty() || value->find_first_of(" \t,") != std::string::npos) {
    s.error("websockets_origin: '" + *value + "' is not one origin (give one per line, "
            "e.g. https://dashboard.example.com)");
    return;
  }
  s.currentListener().websocketsOrigins.push_back(std::move(*value));
}

void setHttpString(ParseSession& s, const Line& l, std::string HttpSettings::*field) {
  if (s.beforeFirstListener()) {
    s.error(name(l) + ": must follow a 'listener' line with 'protocol http'");
    return;
  }
  auto value = takeString(s, l);
  if (!value || !s.claimOnce(l.keyword, true)) return;
  s.currentListener().http.*field = std::move(*value);
}

void onSocketDomain(ParseSession& s, const Line& l) {
  const auto word = takeWord(s, l);
  if (!word) return;
  if (*word == "ipv4") {
    s.currentListener().socketDomain = SocketDomain::IPv4;
  } else if (*word == "ipv6") {
    s.currentListener().socketDomain = SocketDomain::IPv6;
  } else {
    unsupportedValue(s, l, *word, "ipv4 or ipv6");
  }
}

void onTlsVersion(ParseSession& s, const Line& l) {
  const auto word = takeWord(s, l);
  if (!word) return;
  TlsVersion version = TlsVersion::Default;
  if (*word == "tlsv1.1") {
    version = TlsVersion::V1_1;
  } else if (*word == "tlsv1.2") {
    version = TlsVersion::V1_2;
  } else if (*word == "tlsv1.3") {
    version = TlsVersion::V1_3;
  } else {
    unsupportedValue(s, l, *word, "tlsv1.1, tlsv1.2 or tlsv1.3");
    return;
  }
  if (!s.claimOnce("tls_version", true)) return;
  s.currentTls().minVersion = version;
}

void onTlsKeyform(ParseSession& s, const Line& l) {
  const auto word = takeWord(s, l);
  if (!word) return;
  if (*word == "pem") return;
  if (*word == "engine") {
    s.error("tls_keyform: engine keys are not supported by Midge (use a PEM keyfile)");
    return;
  }
  unsupportedValue(s, l, *word, "pem");
}

// --- security ---

void onAllowAnonymous(ParseSession& s, const Line& l) {
  s.noteSecurityKeyword();
  if (const auto value = takeBool(s, l)) {
    s.currentSecurity().allowAnonymous = *value;
    s.currentSecurity().allowAnonymousExplicit = true;
  }
}

void onPerListenerSettings(ParseSession& s, const Line& l) {
  const auto value = takeBool(s, l);
  if (!value) return;
  // Mosquitto: once on, it stays on; it ideally is the first line of the file.
  if (s.config().perListenerSettings) return;
  if (*value && s.securityKeywordSeen()) {
    s.error("per_listener_settings: must come before any security setting "
            "(allow_anonymous, password_file, acl_file, ...)");
    return;
  }
  s.config().perListenerSettings = *value;
}

// --- persistence and limits ---

void onPersistenceFile(ParseSession& s, const Line& l) {
  auto value = takeString(s, l);
  if (!value || !s.claimOnce("persistence_file", false)) return;
  const std::size_t slash = value->rfind('/');
  const std::string base = slash == std::string::npos ? *value : value->substr(slash + 1);
  if (base == "mosquitto.db") {
    s.warning("persistence_file: Midge keeps sessions in an SQLite database and cannot "
              "read Mosquitto's mosquitto.db; use a new file name (default midge.db)");
  }
  s.config().persistenceFile = std::move(*value);
}

void onPersistenceSync(ParseSession& s, const Line& l) {
  const auto word = takeWord(s, l);
  if (!word) return;
  if (*word == "full") {
    s.config().persistenceSync = PersistenceSync::Full;
  } else if (*word == "normal") {
    s.config().persistenceSync = PersistenceSync::Normal;
  } else {
    unsupportedValue(s, l, *word, "full or normal");
  }
}

void onPersistentClientExpiration(ParseSession& s, const Line& l) {
  const auto word = takeWord(s, l);
  if (!word) return;
  // "never" is ours: it turns off the default expiry of 3.x sessions.
  const auto seconds = *word == "never" ? std::optional<std::uint32_t>(0) : parseDuration(*word);
  if (!seconds) {
    s.error("persistent_client_expiration: '" + std::string(*word) +
            "' is not a duration (a positive number followed by h, d, w, m or y) or never");
    return;
  }
  s.config().persistentClientExpirationSeconds = *seconds;
}

void onMaxInflightMessages(ParseSession& s, const Line& l) {
  const auto value = takeInteger(s, l, kInt64Min, 65535);
  if (!value) return;
  // Mosquitto treats negative values and 65535 alike: no limit.
  s.config().maxInflightMessages =
      (*value < 0 || *value == 65535) ? 0 : static_cast<std::uint16_t>(*value);
}

void setPacketLimit(ParseSession& s, const Line& l, std::uint32_t& target) {
  const auto value = takeInteger(s, l, 0, kUint32Max);
  if (!value) return;
  if (*value != 0 && *value < kMinPacketLimit) {
    s.error(name(l) + ": " + std::to_string(*value) + " is too small (0 for no limit, or at "
            "least " + std::to_string(kMinPacketLimit) + ")");
    return;
  }
  if (*value > kMaxPacket) {
    s.warning(name(l) + ": " + std::to_string(*value) + " exceeds the largest MQTT packet; "
              "using " + std::to_string(kMaxPacket));
    target = static_cast<std::uint32_t>(kMaxPacket);
    return;
  }
  target = static_cast<std::uint32_t>(*value);
}

void onMemoryLimit(ParseSession& s, const Line& l) {
  if (const auto value = takeInteger(s, l, 0, kInt64Max)) {
    s.config().memoryLimit = static_cast<std::size_t>(*value);
  }
}

// false is Mosquitto's default; true would deliver retained messages only while their
// publisher keeps write access, and ignoring it would send them to whoever subscribes.
void onCheckRetainSource(ParseSession& s, const Line& l) {
  s.noteSecurityKeyword();
  const auto value = takeBool(s, l);
  if (value && *value) {
    s.error("check_retain_source true: not supported by Midge (retained messages do not keep "
            "their publisher's identity)");
  }
}

// --- logging ---

void onLogDest(ParseSession& s, const Line& l) {
  if (l.words.empty()) {
    s.error("log_dest: missing value");
    return;
  }
  LogSettings& log = s.log();
  if (!s.logDestSeen) {
    // The first log_dest replaces the default (stderr); later ones add to it.
    log.toStdout = log.toStderr = log.toSyslog = false;
    log.file.clear();
    s.logDestSeen = true;
  }
  const std::string_view dest = l.words[0];
  if (dest == "file") {
    const std::string_view path = l.rest.substr(4);
    const std::size_t start = path.find_first_not_of(" \t");
    if (start == std::string_view::npos) {
      s.error("log_dest: 'file' needs a path (log_dest file /var/log/midge.log)");
      return;
    }
    if (!log.file.empty()) {
      s.error("log_dest: only one log file may be configured");
      return;
    }
    log.file = std::string(path.substr(start));
    return;
  }
  if (l.words.size() > 1) {
    s.error("log_dest: unexpected extra argument '" + std::string(l.words[1]) +
            "' (give each destination its own log_dest line)");
    return;
  }
  if (dest == "none") {
    log.toStdout = log.toStderr = log.toSyslog = false;
    log.file.clear();
  } else if (dest == "stdout") {
    log.toStdout = true;
  } else if (dest == "stderr") {
    log.toStderr = true;
  } else if (dest == "syslog") {
    log.toSyslog = true;
  } else if (dest == "topic") {
    s.warning("log_dest: topic ($SYS/broker/log/...) is not supported by Midge; ignored");
  } else if (dest == "dlt") {
    s.warning("log_dest: dlt is not supported by Midge; ignored");
  } else {
    unsupportedValue(s, l, dest, "stdout, stderr, syslog, topic, file, dlt or none");
  }
}

void onLogType(ParseSession& s, const Line& l) {
  const auto word = takeWord(s, l);
  if (!word) return;
  LogTypes& types = s.log().types;
  if (!s.logTypeSeen) {
    types = LogTypes{false, false, false, false, false, false, false};
    s.logTypeSeen = true;
  }
  if (*word == "none") {
    types = LogTypes{false, false, false, false, false, false, false};
  } else if (*word == "all") {
    types = LogTypes{true, true, true, true, true, true, true};
  } else if (*word == "error") {
    types.error = true;
  } else if (*word == "warning") {
    types.warning = true;
  } else if (*word == "notice") {
    types.notice = true;
  } else if (*word == "information") {
    types.information = true;
  } else if (*word == "debug") {
    types.debug = true;
  } else if (*word == "subscribe") {
    types.subscribe = true;
  } else if (*word == "unsubscribe") {
    types.unsubscribe = true;
  } else if (*word == "websockets" || *word == "internal") {
    // Valid in Mosquitto; Midge has nothing logged under these types.
  } else {
    unsupportedValue(s, l, *word,
                     "none, all, error, warning, notice, information, debug, subscribe "
                     "or unsubscribe");
  }
}

void onIncludeDir(ParseSession& s, const Line& l) {
  auto value = takeString(s, l);
  if (!value) return;
  if (s.depth() > 0) {
    s.warning("include_dir: only read from the main configuration file; ignored here");
    return;
  }
  s.includeDirectory(*value);
}

// --- table ---

using Handler = void (*)(ParseSession&, const Line&);
struct Keyword {
  std::string_view name;
  Handler handle;
};

// Each table entry is a captureless lambda on (ParseSession& s, const Line& l).
#define MIDGE_ON(...) [](ParseSession& s, const Line& l) { __VA_ARGS__; }
#define MIDGE_GLOBAL_BOOL(field) MIDGE_ON(setBool(s, l, s.config().field))
#define MIDGE_GLOBAL_INT(field, min, max) MIDGE_ON(setInteger(s, l, s.config().field, min, max))
#define MIDGE_TLS_STRING(field) MIDGE_ON(setTlsString(s, l, &TlsSettings::field))
#define MIDGE_TLS_BOOL(field) MIDGE_ON(setTlsBool(s, l, &TlsSettings::field))
#define MIDGE_COUNT(field) MIDGE_ON(setCountClampingNegative(s, l, s.config().field))
#define MIDGE_SECURITY_STRING(field) MIDGE_ON(setSecurityString(s, l, &SecuritySettings::field))

constexpr Keyword kKeywords[] = {
    // listeners
    {"listener", onListener},
    {"port", onPort},
    {"bind_address", onBindAddress},
    {"bind_interface",
     MIDGE_ON(setOnce(s, l, s.currentListener().bindInterface, true))},
    {"max_connections",
     MIDGE_ON(setConnectionLimit(s, l, s.currentListener().maxConnections))},
    {"max_qos", MIDGE_ON(setInteger(s, l, s.currentListener().maxQos, 0, 2))},
    {"maximum_qos", MIDGE_ON(setInteger(s, l, s.currentListener().maxQos, 0, 2))},
    {"max_topic_alias",
     MIDGE_ON(setInteger(s, l, s.currentListener().maxTopicAlias, 0, 65535))},
    {"protocol", onProtocol},
    {"http_basic_auth_file", MIDGE_ON(setHttpString(s, l, &HttpSettings::basicAuthFile))},
    {"http_bearer_token_file",
     MIDGE_ON(setHttpString(s, l, &HttpSettings::bearerTokenFile))},
    {"socket_domain", onSocketDomain},
    {"websockets_origin", onWebsocketsOrigin},
    // Below 512 not even a browser's bare upgrade request fits.
    {"websockets_headers_size",
     MIDGE_ON(setInteger(s, l, s.config().websocketsHeadersSize, 512, 1048576))},
    {"use_username_as_clientid",
     MIDGE_ON(setBool(s, l, s.currentListener().useUsernameAsClientId))},
    // TLS (per listener)
    {"certfile", MIDGE_TLS_STRING(certFile)},
    {"keyfile", MIDGE_TLS_STRING(keyFile)},
    {"cafile", MIDGE_TLS_STRING(caFile)},
    {"capath", MIDGE_TLS_STRING(caPath)},
    {"crlfile", MIDGE_TLS_STRING(crlFile)},
    {"ciphers", MIDGE_TLS_STRING(ciphers)},
    {"tls_version", onTlsVersion},
    {"tls_keyform", onTlsKeyform},
    {"require_certificate", MIDGE_TLS_BOOL(requireCertificate)},
    {"use_identity_as_username", MIDGE_TLS_BOOL(useIdentityAsUsername)},
    {"use_subject_as_username", MIDGE_TLS_BOOL(useSubjectAsUsername)},
    // TLS session resumption (Midge's own). About 200 bytes per cached session; a
    // million is already far more than one broker's connections.
    {"tls_session_cache_size",
     MIDGE_ON(setInteger(s, l, s.currentTls().sessionCacheSize, 0, 1000000))},
    {"tls_session_tickets", MIDGE_TLS_BOOL(sessionTickets)},
    // At most a week: RFC 5077 and mbedTLS advise a day; longer keeps a key longer.
    {"tls_session_lifetime",
     MIDGE_ON(setInteger(s, l, s.currentTls().sessionLifetimeSeconds, 1, 604800))},
    // security (global, or per listener with per_listener_settings)
    {"per_listener_settings", onPerListenerSettings},
    {"allow_anonymous", onAllowAnonymous},
    {"password_file", MIDGE_SECURITY_STRING(passwordFile)},
    {"acl_file", MIDGE_SECURITY_STRING(aclFile)},
    {"auto_id_prefix", MIDGE_SECURITY_STRING(autoIdPrefix)},
    {"allow_zero_length_clientid",
     [](ParseSession& s, const Line& l) {
       s.noteSecurityKeyword();
       setBool(s, l, s.currentSecurity().allowZeroLengthClientId);
     }},
    {"check_retain_source", onCheckRetainSource},
    // limits and protocol behaviour
    {"max_inflight_messages", onMaxInflightMessages},
    {"max_inflight_bytes", MIDGE_COUNT(maxInflightBytes)},
    {"max_queued_messages", MIDGE_COUNT(maxQueuedMessages)},
    {"max_queued_bytes", MIDGE_COUNT(maxQueuedBytes)},
    {"message_size_limit", MIDGE_GLOBAL_INT(messageSizeLimit, 0, kMaxPayload)},
    {"max_packet_size", MIDGE_ON(setPacketLimit(s, l, s.config().maxPacketSize))},
    {"max_unauthenticated_packet_size",
     MIDGE_ON(setPacketLimit(s, l, s.config().maxUnauthenticatedPacketSize))},
    {"max_keepalive", MIDGE_GLOBAL_INT(maxKeepalive, 0, 65535)},
    {"max_topic_length", MIDGE_GLOBAL_INT(maxTopicLength, 1, 65535)},
    {"max_topic_levels", MIDGE_GLOBAL_INT(maxTopicLevels, 0, 65535)},
    {"global_max_connections",
     MIDGE_ON(setConnectionLimit(s, l, s.config().globalMaxConnections))},
    {"connect_timeout", MIDGE_GLOBAL_INT(connectTimeoutSeconds, 1, 65535)},
    {"max_connect_rate", MIDGE_GLOBAL_INT(maxConnectRatePerSecond, 0, kUint32Max)},
    {"memory_limit", onMemoryLimit},
    {"retain_available", MIDGE_GLOBAL_BOOL(retainAvailable)},
    {"queue_qos0_messages", MIDGE_GLOBAL_BOOL(queueQos0Messages)},
    {"upgrade_outgoing_qos", MIDGE_GLOBAL_BOOL(upgradeOutgoingQos)},
    {"persistent_client_expiration", onPersistentClientExpiration},
    // Midge's own limits (docs/security.md): safe defaults for abusive clients
    {"max_outbound_topic_aliases", MIDGE_GLOBAL_INT(maxOutboundTopicAliases, 0, 65535)},
    {"max_sessions", MIDGE_COUNT(maxSessions)},
    {"max_subscriptions_per_client", MIDGE_COUNT(maxSubscriptionsPerClient)},
    {"max_filters_per_subscribe", MIDGE_COUNT(maxFiltersPerSubscribe)},
    {"max_retained_burst", MIDGE_COUNT(maxRetainedBurst)},
    {"check_session_owner", MIDGE_GLOBAL_BOOL(checkSessionOwner)},
    // persistence
    {"persistence", MIDGE_GLOBAL_BOOL(persistence)},
    {"retained_persistence", MIDGE_GLOBAL_BOOL(persistence)},
    {"persistence_file", onPersistenceFile},
    {"persistence_location",
     MIDGE_ON(setOnce(s, l, s.config().persistenceLocation, false))},
    {"persistence_sync", onPersistenceSync},
    {"persistence_failure_timeout",
     MIDGE_GLOBAL_INT(persistenceFailureTimeoutSeconds, 0, kUint32Max)},
    // process, logging, files
    {"sys_interval", MIDGE_GLOBAL_INT(sysIntervalSeconds, 0, 65535)},
    {"connection_messages", MIDGE_GLOBAL_BOOL(connectionMessages)},
    {"log_dest", onLogDest},
    {"log_type", onLogType},
    {"log_facility", MIDGE_ON(setInteger(s, l, s.log().syslogFacility, 0, 7))},
    {"log_timestamp", MIDGE_ON(setBool(s, l, s.log().timestamp))},
    {"log_timestamp_format",
     MIDGE_ON(setOnce(s, l, s.log().timestampFormat, false))},
    {"pid_file", MIDGE_ON(setOnce(s, l, s.config().pidFile, false))},
    {"user",
     [](ParseSession& s, const Line& l) {
       if (auto value = takeString(s, l)) s.config().user = std::move(*value);
     }},
    {"include_dir", onIncludeDir},
};

const Keyword* findKeyword(std::string_view keyword) {
  for (const Keyword& entry : kKeywords) {
    if (entry.name == keyword) return &entry;
  }
  return nullptr;
}

#undef MIDGE_ON
#undef MIDGE_GLOBAL_BOOL
#undef MIDGE_GLOBAL_INT
#undef MIDGE_TLS_STRING
#undef MIDGE_TLS_BOOL
#undef MIDGE_COUNT
#undef MIDGE_SECURITY_STRING

}  // namespace

void applyKeyword(ParseSession& session, const Line& line) {
  if (applyBridgeKeyword(session, line)) return;
  if (const Keyword* keyword = findKeyword(line.keyword)) {
    keyword->handle(session, line);
    return;
  }
  if (const Ignored* ignored = findIgnored(line.keyword)) {
    applyIgnored(session, line, *ignored);
    return;
  }
  if (const Refusal* rejected = findRejected(line.keyword)) {
    session.error(name(line) + ": " + std::string(rejected->reason));
    return;
  }
  session.error("unknown configuration keyword '" + name(line) + "'");
}

}  // namespace midge::config::detail
