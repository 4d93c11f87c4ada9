// SPDX-License-Identifier: Apache-2.0
// Midge's configuration: the mosquitto.conf format, so that an operator's existing file
// works unchanged for every feature Midge has. The full keyword reference, with defaults,
// is docs/configuration.md; this header is what the broker wiring reads.
//
// Error contract: parsing never stops at the first problem. Every problem found is
// appended to `diags` with file and line; the parse succeeded when no diagnostic is
// fatal. Warnings (keywords Midge accepts but ignores, deprecated forms, the local-only
// note) never make a parse fail. On failure `out` is left untouched.
//
// @code
//   midge::config::Config config;
//   std::vector<midge::config::Diagnostic> diags;
//   bool ok = midge::config::parseFile("/etc/midge/midge.conf", config, diags);
//   for (const auto& d : diags) log(midge::config::toString(d));
//   if (!ok) return 1;
// @endcode
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/bridge.hpp"
#include "core/engine/config.hpp"

namespace midge::config {

// Defaults the broker shares with the engine come from EngineConfig, so that the two cannot
// drift apart; only where the executable deliberately differs is a number written here.
inline const EngineConfig& engineDefaults() {
  static const EngineConfig defaults;
  return defaults;
}

// Restricts a listener to one address family; Any opens IPv4 and IPv6 where available.
enum class SocketDomain : std::uint8_t { Any, IPv4, IPv6 };

// Minimum TLS version a listener accepts (Mosquitto's tls_version is a minimum since 2.0).
enum class TlsVersion : std::uint8_t { Default, V1_1, V1_2, V1_3 };

// SQLite `PRAGMA synchronous` for the session store: Full survives power loss, Normal
// survives a crash of the process only (WAL mode), at a lower fsync cost.
enum class PersistenceSync : std::uint8_t { Full, Normal };

struct TlsSettings {
  std::string certFile;  // PEM server certificate (chain)
  std::string keyFile;   // PEM private key
  std::string caFile;    // PEM CA bundle trusted for client certificates
  std::string caPath;    // directory of PEM CA certificates
  std::string crlFile;   // PEM revocation list checked against client certificates
  std::string ciphers;   // OpenSSL-style colon list for TLS <= 1.2; empty: library default
  TlsVersion minVersion = TlsVersion::Default;
  bool requireCertificate = false;
  bool useIdentityAsUsername = false;  // client certificate CN becomes the username
  bool useSubjectAsUsername = false;   // full subject DN becomes the username
  // Session resumption (docs/security.md): sessions kept for clients without tickets,
  // whether tickets are issued, and how long either may be resumed.
  std::uint32_t sessionCacheSize = 1000;
  bool sessionTickets = true;
  std::uint32_t sessionLifetimeSeconds = 86400;
};

// Who may connect and what they may do. With per_listener_settings false every listener
// carries a copy of Config::security; with true each listener has its own.
struct SecuritySettings {
  bool allowAnonymous = false;          // Mosquitto 2 default
  bool allowAnonymousExplicit = false;  // set by the file, not by a default
  std::string passwordFile;
  std::string aclFile;
  bool allowZeroLengthClientId = engineDefaults().allowZeroLengthClientId;
  // prefix of client ids the broker assigns
  std::string autoIdPrefix = engineDefaults().assignedIdPrefix;
};

// What a listener speaks: MQTT straight over TCP (or TLS); MQTT inside WebSocket frames
// after an HTTP upgrade (ws, or wss with certfile/keyfile); or Http, the operator endpoint
// (metrics, health checks; see docs/monitoring.md), never MQTT.
enum class ListenerProtocol : std::uint8_t { Mqtt, WebSockets, Http };

// Midge keywords of a `protocol http` listener (Mosquitto has no such listener). Either
// credential admits a request; with neither, the endpoint is open to whoever reaches it.
struct HttpSettings {
  std::string basicAuthFile;    // user:hash lines in password_file format (midge-passwd)
  std::string bearerTokenFile;  // the token on the first line
};

// An http listener without max_connections: a scraper and a probe or two need no more, and
// each slot is a socket an anonymous peer could hold open.
constexpr int kDefaultHttpMaxConnections = 4;

struct Listener {
  std::uint16_t port = 1883;
  ListenerProtocol protocol = ListenerProtocol::Mqtt;
  HttpSettings http;
  std::string bindAddress;    // empty: all addresses of the domain(s); else IP or host name
  std::string bindInterface;  // SO_BINDTODEVICE interface name; empty: any
  SocketDomain socketDomain = SocketDomain::Any;
  std::optional<TlsSettings> tls;  // present exactly when certfile and keyfile were given
  // websockets_origin: Origin header values a browser page may connect from; empty: any.
  std::vector<std::string> websocketsOrigins;
  int maxConnections = -1;         // -1: unlimited
  std::uint8_t maxQos = engineDefaults().maxQos;
  // topic aliases a v5 client may create; 0: none
  std::uint16_t maxTopicAlias = engineDefaults().maxTopicAlias;
  bool useUsernameAsClientId = false;
  SecuritySettings security;  // effective settings (see SecuritySettings)
  // Created by Midge because the file defines no listener (Mosquitto 2 local-only mode):
  // one per loopback address. Failing to bind one of them (a host without IPv6) is a
  // warning as long as another listener is up.
  bool implicitLoopback = false;
  std::string definedAt;  // "file:line" of the listener line, for log messages
};

struct LogTypes {
  bool error = true;
  bool warning = true;
  bool notice = true;
  bool information = true;
  bool debug = false;
  bool subscribe = false;
  bool unsubscribe = false;
};

struct LogSettings {
  bool toStdout = false;
  bool toStderr = true;
  bool toSyslog = false;
  std::string file;      // log_dest file PATH; empty: no file
  LogTypes types;
  bool timestamp = true;
  std::string timestampFormat;  // strftime format; empty: seconds since the epoch
  int syslogFacility = -1;      // -1: LOG_DAEMON; 0..7: LOG_LOCAL0..7
};

struct Config {
  std::vector<Listener> listeners;
  // No listener, port or bind_address in the file: Midge listens on loopback only and
  // allows anonymous clients unless allow_anonymous is given (Mosquitto 2 behaviour).
  bool localOnly = false;
  bool perListenerSettings = false;
  SecuritySettings security;  // the global settings (per_listener_settings false)

  // Limits; 0 means "no limit" unless stated otherwise.
  std::uint16_t maxInflightMessages = engineDefaults().maxInflightMessages;
  std::size_t maxInflightBytes = engineDefaults().maxInflightBytes;
  std::size_t maxQueuedMessages = engineDefaults().maxQueuedMessages;
  std::size_t maxQueuedBytes = engineDefaults().maxQueuedBytes;
  std::uint32_t messageSizeLimit = engineDefaults().messageSizeLimit;  // payload bytes
  // Whole packet bytes; a safe default rather than Mosquitto's "unlimited" (see
  // EngineConfig::maxPacketSize). 0: the protocol maximum.
  std::uint32_t maxPacketSize = engineDefaults().maxPacketSize;
  // Cap on CONNECT/AUTH before a client is authenticated, so an anonymous peer cannot
  // make the broker buffer a large packet (EngineConfig::maxPacketSizeBeforeConnect).
  std::uint32_t maxUnauthenticatedPacketSize = engineDefaults().maxPacketSizeBeforeConnect;
  // websockets_headers_size: the HTTP upgrade request of a WebSockets client is held in
  // memory until complete, before the client is authenticated; this bounds it.
  std::size_t websocketsHeadersSize = 4096;
  std::uint16_t maxKeepalive = engineDefaults().maxKeepalive;
  std::uint32_t maxTopicLength = static_cast<std::uint32_t>(engineDefaults().maxTopicLength);
  std::uint32_t maxTopicLevels = static_cast<std::uint32_t>(engineDefaults().maxTopicLevels);
  std::uint16_t maxOutboundTopicAliases = engineDefaults().maxOutboundTopicAliases;
  std::size_t maxSessions = engineDefaults().maxSessions;
  std::size_t maxSubscriptionsPerClient = engineDefaults().maxSubscriptionsPerClient;
  std::size_t maxFiltersPerSubscribe = engineDefaults().maxFiltersPerSubscribe;
  std::size_t maxRetainedBurst = engineDefaults().retainedBurstPerSubscribe;
  // Sessions may be resumed only by their owner when a listener authenticates clients.
  bool checkSessionOwner = true;
  int globalMaxConnections = -1;  // all listeners together; -1: unlimited
  // from accept to CONNECT
  std::uint32_t connectTimeoutSeconds = engineDefaults().connectTimeoutMs / 1000;
  std::uint32_t maxConnectRatePerSecond = engineDefaults().maxConnectRatePerSecond;
  // budget for queued, in-flight and retained messages
  std::size_t memoryLimit = engineDefaults().memoryLimit;

  bool retainAvailable = engineDefaults().retainAvailable;
  bool queueQos0Messages = engineDefaults().queueQos0Messages;
  bool upgradeOutgoingQos = engineDefaults().upgradeOutgoingQos;
  // Empty: 3.x sessions expire after EngineConfig::defaultV3SessionExpiry; 0 ("never"):
  // no session expires by this rule.
  std::optional<std::uint32_t> persistentClientExpirationSeconds;

  bool persistence = false;
  std::string persistenceLocation;           // directory; empty: working directory
  std::string persistenceFile = "midge.db";  // SQLite database file name
  PersistenceSync persistenceSync = PersistenceSync::Full;
  // A store whose commits keep failing this long stops the broker (non-zero exit) so that
  // the service manager restarts it; 0: never (see broker/store_watch.hpp).
  std::uint32_t persistenceFailureTimeoutSeconds = 60;

  std::uint32_t sysIntervalSeconds = engineDefaults().sysIntervalSeconds;  // 0: no $SYS
  LogSettings log;
  bool connectionMessages = engineDefaults().connectionMessages;
  std::string pidFile;
  std::string user;  // drop privileges to this user when started as root; empty: unset

  std::vector<Bridge> bridges;  // `connection` sections, in file order

  std::vector<std::string> filesRead;  // main file then include_dir files, in load order
};

struct Diagnostic {
  std::string file;  // as given (main file) or as found in include_dir
  int line = 0;      // 1-based; 0 when the problem concerns the file as a whole
  std::string message;
  bool fatal = false;
};

// "file:line: error: message" (or "warning"); ":line" is left out when line is 0.
std::string toString(const Diagnostic& diagnostic);
bool hasFatal(const std::vector<Diagnostic>& diags);

// Reads `path` and the include_dir directories it names. Returns true when no fatal
// diagnostic was added.
bool parseFile(const std::string& path, Config& out, std::vector<Diagnostic>& diags);

// Same rules for text already in memory; `nameForErrors` stands for the file name in
// diagnostics. include_dir is honoured (relative to the working directory, as in
// Mosquitto). An empty text yields the built-in defaults (local-only mode).
bool parseText(std::string_view text, std::string_view nameForErrors, Config& out,
               std::vector<Diagnostic>& diags);

// Command line options that change a parsed configuration, as Mosquitto's do:
// -p PORT (repeatable) moves the local-only loopback listeners to these ports; when the
// file defines listeners Mosquitto ignores -p, and so does Midge (with a warning).
// -v turns on every log type.
struct CommandLineOverrides {
  std::vector<std::uint16_t> ports;
  bool verbose = false;
};
bool applyCommandLineOverrides(Config& config, const CommandLineOverrides& overrides,
                               std::vector<Diagnostic>& diags);

// persistence_location joined with persistence_file.
std::string persistenceFilePath(const Config& config);

}  // namespace midge::config
