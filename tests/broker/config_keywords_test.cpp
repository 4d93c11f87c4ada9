// SPDX-License-Identifier: Apache-2.0
// One row per keyword: a good value and what it must change, a bad value and the fatal
// diagnostic it must produce (file, line, keyword named in the message).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/broker/config_test_support.hpp"

namespace midge::config::test {
namespace {

// Per-listener keywords are tested on the listener defined on line 1.
const std::string kListener = "listener 1883\n";
// TLS keywords need a certificate and key on the listener (lines 1-3).
const std::string kTlsListener = "listener 8883\ncertfile /c.pem\nkeyfile /k.pem\n";

const Listener& first(const Config& c) { return c.listeners.at(0); }
const TlsSettings& tls(const Config& c) { return first(c).tls.value(); }

struct GoodRow {
  std::string name;
  std::string text;
  std::function<void(const Config&)> check;
};

std::ostream& operator<<(std::ostream& os, const GoodRow& row) { return os << row.text; }

class GoodValue : public ::testing::TestWithParam<GoodRow> {};

TEST_P(GoodValue, IsApplied) {
  const GoodRow& row = GetParam();
  const Parsed parsed = parse(row.text);
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  ASSERT_EQ(parsed.firstFatal(), nullptr);
  row.check(parsed.config);
}

const GoodRow kGoodRows[] = {
    {"listener_port_only", "listener 1884\n",
     [](const Config& c) {
       ASSERT_EQ(c.listeners.size(), 1u);
       EXPECT_EQ(first(c).port, 1884);
       EXPECT_EQ(first(c).bindAddress, "");
       EXPECT_FALSE(c.localOnly);
     }},
    {"listener_with_address", "listener 1884 10.0.0.1\n",
     [](const Config& c) { EXPECT_EQ(first(c).bindAddress, "10.0.0.1"); }},
    {"listener_trailing_comment", "listener 1884 # plain\n",
     [](const Config& c) { EXPECT_EQ(first(c).bindAddress, ""); }},
    {"port", "port 1999\n",
     [](const Config& c) {
       ASSERT_EQ(c.listeners.size(), 1u);
       EXPECT_EQ(first(c).port, 1999);
     }},
    {"bind_address", "bind_address 192.168.1.5\n",
     [](const Config& c) {
       ASSERT_EQ(c.listeners.size(), 1u);
       EXPECT_EQ(first(c).port, 1883);
       EXPECT_EQ(first(c).bindAddress, "192.168.1.5");
     }},
    {"bind_interface", kListener + "bind_interface eth0\n",
     [](const Config& c) { EXPECT_EQ(first(c).bindInterface, "eth0"); }},
    {"max_connections", kListener + "max_connections 250\n",
     [](const Config& c) { EXPECT_EQ(first(c).maxConnections, 250); }},
    {"max_connections_negative_is_unlimited", kListener + "max_connections -5\n",
     [](const Config& c) { EXPECT_EQ(first(c).maxConnections, -1); }},
    {"max_qos", kListener + "max_qos 1\n", [](const Config& c) { EXPECT_EQ(first(c).maxQos, 1); }},
    {"maximum_qos", kListener + "maximum_qos 0\n",
     [](const Config& c) { EXPECT_EQ(first(c).maxQos, 0); }},
    {"max_topic_alias", kListener + "max_topic_alias 0\n",
     [](const Config& c) { EXPECT_EQ(first(c).maxTopicAlias, 0); }},
    {"protocol_websockets", kListener + "protocol websockets\n",
     [](const Config& c) { EXPECT_EQ(first(c).protocol, ListenerProtocol::WebSockets); }},
    {"protocol_websockets_over_tls", kTlsListener + "protocol websockets\n",
     [](const Config& c) {
       EXPECT_EQ(first(c).protocol, ListenerProtocol::WebSockets);
       EXPECT_TRUE(first(c).tls.has_value());
     }},
    {"websockets_origin_repeated",
     kListener + "protocol websockets\nwebsockets_origin https://a.example\n"
                 "websockets_origin http://localhost:8080\n",
     [](const Config& c) {
       EXPECT_EQ(first(c).websocketsOrigins,
                 (std::vector<std::string>{"https://a.example", "http://localhost:8080"}));
     }},
    {"websockets_headers_size", kListener + "websockets_headers_size 8192\n",
     [](const Config& c) { EXPECT_EQ(c.websocketsHeadersSize, 8192u); }},
    {"protocol", kListener + "protocol mqtt\n",
     [](const Config& c) { EXPECT_EQ(c.listeners.size(), 1u); }},
    {"protocol_http",
     kListener + "listener 9100 127.0.0.1\nprotocol http\nhttp_bearer_token_file /etc/t\n"
                 "http_basic_auth_file /etc/u\n",
     [](const Config& c) {
       ASSERT_EQ(c.listeners.size(), 2u);
       EXPECT_EQ(c.listeners[0].protocol, ListenerProtocol::Mqtt);
       EXPECT_EQ(c.listeners[1].protocol, ListenerProtocol::Http);
       EXPECT_EQ(c.listeners[1].http.bearerTokenFile, "/etc/t");
       EXPECT_EQ(c.listeners[1].http.basicAuthFile, "/etc/u");
       EXPECT_EQ(c.listeners[1].maxConnections, kDefaultHttpMaxConnections);
     }},
    {"protocol_http_with_tls",
     kListener + "listener 9443 127.0.0.1\nprotocol http\ncertfile /c.pem\nkeyfile /k.pem\n"
                 "cafile /ca.pem\nrequire_certificate true\ntls_version tlsv1.2\n"
                 "ciphers ECDHE-ECDSA-AES128-GCM-SHA256\ncrlfile /crl.pem\n",
     [](const Config& c) {
       const Listener& https = c.listeners.at(1);
       EXPECT_EQ(https.protocol, ListenerProtocol::Http);
       ASSERT_TRUE(https.tls.has_value());
       EXPECT_EQ(https.tls->certFile, "/c.pem");
       EXPECT_EQ(https.tls->caFile, "/ca.pem");
       EXPECT_TRUE(https.tls->requireCertificate);
       EXPECT_EQ(https.tls->minVersion, TlsVersion::V1_2);
       EXPECT_EQ(https.tls->ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
       EXPECT_EQ(https.tls->crlFile, "/crl.pem");
     }},
    {"protocol_http_max_connections",
     kListener + "listener 9100\nprotocol http\nmax_connections 2\n",
     [](const Config& c) { EXPECT_EQ(c.listeners.at(1).maxConnections, 2); }},
    {"socket_domain", kListener + "socket_domain ipv6\n",
     [](const Config& c) { EXPECT_EQ(first(c).socketDomain, SocketDomain::IPv6); }},
    {"use_username_as_clientid", kListener + "use_username_as_clientid true\n",
     [](const Config& c) { EXPECT_TRUE(first(c).useUsernameAsClientId); }},
    {"certfile_keyfile", kTlsListener,
     [](const Config& c) {
       EXPECT_EQ(tls(c).certFile, "/c.pem");
       EXPECT_EQ(tls(c).keyFile, "/k.pem");
     }},
    {"cafile", kTlsListener + "cafile /etc/ssl/ca bundle.pem\n",
     [](const Config& c) { EXPECT_EQ(tls(c).caFile, "/etc/ssl/ca bundle.pem"); }},
    {"capath", kTlsListener + "capath /etc/ssl/certs\n",
     [](const Config& c) { EXPECT_EQ(tls(c).caPath, "/etc/ssl/certs"); }},
    {"crlfile", kTlsListener + "crlfile /etc/ssl/crl.pem\n",
     [](const Config& c) { EXPECT_EQ(tls(c).crlFile, "/etc/ssl/crl.pem"); }},
    {"ciphers", kTlsListener + "ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384\n",
     [](const Config& c) {
       EXPECT_EQ(tls(c).ciphers, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384");
     }},
    {"tls_version", kTlsListener + "tls_version tlsv1.2\n",
     [](const Config& c) { EXPECT_EQ(tls(c).minVersion, TlsVersion::V1_2); }},
    {"tls_session_keywords",
     kTlsListener + "tls_session_cache_size 0\ntls_session_tickets false\n"
                    "tls_session_lifetime 3600\n",
     [](const Config& c) {
       EXPECT_EQ(tls(c).sessionCacheSize, 0u);
       EXPECT_FALSE(tls(c).sessionTickets);
       EXPECT_EQ(tls(c).sessionLifetimeSeconds, 3600u);
     }},
    {"tls_session_defaults", kTlsListener,
     [](const Config& c) {
       EXPECT_EQ(tls(c).sessionCacheSize, 1000u);
       EXPECT_TRUE(tls(c).sessionTickets);
       EXPECT_EQ(tls(c).sessionLifetimeSeconds, 86400u);
     }},
    {"tls_keyform", kTlsListener + "tls_keyform pem\n",
     [](const Config& c) { EXPECT_TRUE(first(c).tls.has_value()); }},
    {"require_certificate", kTlsListener + "cafile /ca.pem\nrequire_certificate true\n",
     [](const Config& c) { EXPECT_TRUE(tls(c).requireCertificate); }},
    {"use_identity_as_username",
     kTlsListener + "cafile /ca.pem\nrequire_certificate true\nuse_identity_as_username true\n",
     [](const Config& c) { EXPECT_TRUE(tls(c).useIdentityAsUsername); }},
    {"use_subject_as_username",
     kTlsListener + "cafile /ca.pem\nrequire_certificate 1\nuse_subject_as_username true\n",
     [](const Config& c) { EXPECT_TRUE(tls(c).useSubjectAsUsername); }},
    {"per_listener_settings", "per_listener_settings true\n" + kListener,
     [](const Config& c) { EXPECT_TRUE(c.perListenerSettings); }},
    {"allow_anonymous", kListener + "allow_anonymous true\n",
     [](const Config& c) {
       EXPECT_TRUE(c.security.allowAnonymous);
       EXPECT_TRUE(c.security.allowAnonymousExplicit);
       EXPECT_TRUE(first(c).security.allowAnonymous);
     }},
    {"password_file", kListener + "password_file /etc/midge/passwd\n",
     [](const Config& c) {
       EXPECT_EQ(c.security.passwordFile, "/etc/midge/passwd");
       EXPECT_EQ(first(c).security.passwordFile, "/etc/midge/passwd");
     }},
    {"acl_file", kListener + "acl_file /etc/midge/acl\n",
     [](const Config& c) { EXPECT_EQ(c.security.aclFile, "/etc/midge/acl"); }},
    {"auto_id_prefix", kListener + "auto_id_prefix gen-\n",
     [](const Config& c) { EXPECT_EQ(c.security.autoIdPrefix, "gen-"); }},
    {"allow_zero_length_clientid", kListener + "allow_zero_length_clientid false\n",
     [](const Config& c) { EXPECT_FALSE(c.security.allowZeroLengthClientId); }},
    {"check_retain_source", kListener + "check_retain_source false\n",
     [](const Config&) {}},
    {"max_inflight_messages", "max_inflight_messages 5\n",
     [](const Config& c) { EXPECT_EQ(c.maxInflightMessages, 5); }},
    {"max_inflight_messages_65535_is_unlimited", "max_inflight_messages 65535\n",
     [](const Config& c) { EXPECT_EQ(c.maxInflightMessages, 0); }},
    {"max_inflight_bytes", "max_inflight_bytes 4096\n",
     [](const Config& c) { EXPECT_EQ(c.maxInflightBytes, 4096u); }},
    {"max_queued_messages", "max_queued_messages 50\n",
     [](const Config& c) { EXPECT_EQ(c.maxQueuedMessages, 50u); }},
    {"max_queued_messages_negative_is_unlimited", "max_queued_messages -1\n",
     [](const Config& c) { EXPECT_EQ(c.maxQueuedMessages, 0u); }},
    {"max_queued_bytes", "max_queued_bytes 1000000\n",
     [](const Config& c) { EXPECT_EQ(c.maxQueuedBytes, 1000000u); }},
    {"message_size_limit", "message_size_limit 268435455\n",
     [](const Config& c) { EXPECT_EQ(c.messageSizeLimit, 268435455u); }},
    {"max_packet_size", "max_packet_size 1024\n",
     [](const Config& c) { EXPECT_EQ(c.maxPacketSize, 1024u); }},
    {"max_unauthenticated_packet_size", "max_unauthenticated_packet_size 4096\n",
     [](const Config& c) { EXPECT_EQ(c.maxUnauthenticatedPacketSize, 4096u); }},
    {"max_keepalive", "max_keepalive 120\n",
     [](const Config& c) { EXPECT_EQ(c.maxKeepalive, 120); }},
    {"max_topic_length", "max_topic_length 256\n",
     [](const Config& c) { EXPECT_EQ(c.maxTopicLength, 256u); }},
    {"max_topic_levels", "max_topic_levels 16\n",
     [](const Config& c) { EXPECT_EQ(c.maxTopicLevels, 16u); }},
    {"global_max_connections", "global_max_connections 10000\n",
     [](const Config& c) { EXPECT_EQ(c.globalMaxConnections, 10000); }},
    {"connect_timeout", "connect_timeout 5\n",
     [](const Config& c) { EXPECT_EQ(c.connectTimeoutSeconds, 5u); }},
    {"persistence_failure_timeout", "persistence_failure_timeout 0\n",
     [](const Config& c) { EXPECT_EQ(c.persistenceFailureTimeoutSeconds, 0u); }},
    {"max_connect_rate", "max_connect_rate 200\n",
     [](const Config& c) { EXPECT_EQ(c.maxConnectRatePerSecond, 200u); }},
    {"memory_limit", "memory_limit 67108864\n",
     [](const Config& c) { EXPECT_EQ(c.memoryLimit, 67108864u); }},
    {"retain_available", "retain_available false\n",
     [](const Config& c) { EXPECT_FALSE(c.retainAvailable); }},
    {"queue_qos0_messages", "queue_qos0_messages true\n",
     [](const Config& c) { EXPECT_TRUE(c.queueQos0Messages); }},
    {"upgrade_outgoing_qos", "upgrade_outgoing_qos true\n",
     [](const Config& c) { EXPECT_TRUE(c.upgradeOutgoingQos); }},
    // Ignored without a warning: Midge always disables Nagle's algorithm.
    {"set_tcp_nodelay", "set_tcp_nodelay true\n", [](const Config&) {}},
    {"persistent_client_expiration_hours", "persistent_client_expiration 1h\n",
     [](const Config& c) { EXPECT_EQ(c.persistentClientExpirationSeconds, 3600u); }},
    {"persistent_client_expiration_days", "persistent_client_expiration 2d\n",
     [](const Config& c) { EXPECT_EQ(c.persistentClientExpirationSeconds, 2u * 86400u); }},
    {"persistent_client_expiration_weeks", "persistent_client_expiration 3w\n",
     [](const Config& c) { EXPECT_EQ(c.persistentClientExpirationSeconds, 3u * 7u * 86400u); }},
    {"persistent_client_expiration_months", "persistent_client_expiration 1m\n",
     [](const Config& c) { EXPECT_EQ(c.persistentClientExpirationSeconds, 30u * 86400u); }},
    {"persistent_client_expiration_years", "persistent_client_expiration 1y\n",
     [](const Config& c) { EXPECT_EQ(c.persistentClientExpirationSeconds, 365u * 86400u); }},
    {"persistent_client_expiration_never", "persistent_client_expiration never\n",
     [](const Config& c) { EXPECT_EQ(c.persistentClientExpirationSeconds, 0u); }},
    {"max_sessions", "max_sessions 50\n", [](const Config& c) { EXPECT_EQ(c.maxSessions, 50u); }},
    {"max_subscriptions_per_client", "max_subscriptions_per_client 7\n",
     [](const Config& c) { EXPECT_EQ(c.maxSubscriptionsPerClient, 7u); }},
    {"max_filters_per_subscribe", "max_filters_per_subscribe 0\n",
     [](const Config& c) { EXPECT_EQ(c.maxFiltersPerSubscribe, 0u); }},
    {"max_retained_burst", "max_retained_burst 20\n",
     [](const Config& c) { EXPECT_EQ(c.maxRetainedBurst, 20u); }},
    {"max_outbound_topic_aliases", "max_outbound_topic_aliases 4\n",
     [](const Config& c) { EXPECT_EQ(c.maxOutboundTopicAliases, 4u); }},
    {"check_session_owner", "check_session_owner false\n",
     [](const Config& c) { EXPECT_FALSE(c.checkSessionOwner); }},
    {"persistence", "persistence true\n", [](const Config& c) { EXPECT_TRUE(c.persistence); }},
    {"retained_persistence", "retained_persistence true\n",
     [](const Config& c) { EXPECT_TRUE(c.persistence); }},
    {"persistence_file", "persistence_file broker.sqlite\n",
     [](const Config& c) { EXPECT_EQ(c.persistenceFile, "broker.sqlite"); }},
    {"persistence_location", "persistence_location /var/lib/midge/\n",
     [](const Config& c) { EXPECT_EQ(c.persistenceLocation, "/var/lib/midge/"); }},
    {"persistence_sync", "persistence_sync normal\n",
     [](const Config& c) { EXPECT_EQ(c.persistenceSync, PersistenceSync::Normal); }},
    // Ignored without a warning: Midge commits every event-loop turn.
    {"autosave_interval", "autosave_interval 60\n", [](const Config&) {}},
    {"sys_interval", "sys_interval 0\n",
     [](const Config& c) { EXPECT_EQ(c.sysIntervalSeconds, 0u); }},
    {"connection_messages", "connection_messages false\n",
     [](const Config& c) { EXPECT_FALSE(c.connectionMessages); }},
    {"log_dest", "log_dest syslog\nlog_dest stdout\n",
     [](const Config& c) {
       EXPECT_TRUE(c.log.toSyslog);
       EXPECT_TRUE(c.log.toStdout);
       EXPECT_FALSE(c.log.toStderr);  // the first log_dest replaces the default
     }},
    {"log_dest_file", "log_dest file /var/log/midge/midge.log\n",
     [](const Config& c) { EXPECT_EQ(c.log.file, "/var/log/midge/midge.log"); }},
    {"log_type", "log_type error\nlog_type subscribe\n",
     [](const Config& c) {
       EXPECT_TRUE(c.log.types.error);
       EXPECT_TRUE(c.log.types.subscribe);
       EXPECT_FALSE(c.log.types.information);  // the first log_type replaces the default
     }},
    {"log_type_all", "log_type all\n", [](const Config& c) { EXPECT_TRUE(c.log.types.debug); }},
    {"log_facility", "log_facility 5\n",
     [](const Config& c) { EXPECT_EQ(c.log.syslogFacility, 5); }},
    {"log_timestamp", "log_timestamp false\n",
     [](const Config& c) { EXPECT_FALSE(c.log.timestamp); }},
    {"log_timestamp_format", "log_timestamp_format %Y-%m-%dT%H:%M:%S\n",
     [](const Config& c) { EXPECT_EQ(c.log.timestampFormat, "%Y-%m-%dT%H:%M:%S"); }},
    {"pid_file", "pid_file /run/midge.pid\n",
     [](const Config& c) { EXPECT_EQ(c.pidFile, "/run/midge.pid"); }},
    {"user", "user mqtt\nuser midge\n", [](const Config& c) { EXPECT_EQ(c.user, "midge"); }},
};

INSTANTIATE_TEST_SUITE_P(Keywords, GoodValue, ::testing::ValuesIn(kGoodRows),
                         [](const auto& rowInfo) { return rowInfo.param.name; });

struct BadRow {
  std::string name;
  std::string text;
  int line;                 // where the error must be reported
  std::string mustMention;  // the keyword (or value) the message must name
};

std::ostream& operator<<(std::ostream& os, const BadRow& row) { return os << row.text; }

class BadValue : public ::testing::TestWithParam<BadRow> {};

TEST_P(BadValue, IsFatalWithFileAndLine) {
  const BadRow& row = GetParam();
  Config untouched;
  untouched.sysIntervalSeconds = 4242;  // a value no parse would produce
  std::vector<Diagnostic> diags;
  const bool ok = parseText(row.text, "bad.conf", untouched, diags);
  ASSERT_FALSE(ok) << "accepted: " << row.text;
  EXPECT_EQ(untouched.sysIntervalSeconds, 4242u) << "output changed on failure";
  const Diagnostic* fatal = nullptr;
  for (const auto& d : diags) {
    if (d.fatal) {
      fatal = &d;
      break;
    }
  }
  ASSERT_NE(fatal, nullptr);
  EXPECT_EQ(fatal->file, "bad.conf");
  EXPECT_EQ(fatal->line, row.line) << fatal->message;
  EXPECT_NE(fatal->message.find(row.mustMention), std::string::npos) << fatal->message;
}

const BadRow kBadRows[] = {
    {"listener_not_a_number", "listener abc\n", 1, "listener"},
    {"listener_out_of_range", "listener 65536\n", 1, "out of range"},
    {"listener_missing_port", "listener\n", 1, "missing"},
    {"listener_extra_argument", "listener 1883 0.0.0.0 extra\n", 1, "extra"},
    {"listener_unix_socket", "listener 0 /run/midge.sock\n", 1, "Unix"},
    {"listener_duplicate", "listener 1883\nlistener 1884\nlistener 1883\n", 3, "1883"},
    {"port_not_a_number", "port 18a3\n", 1, "port"},
    {"port_zero", "port 0\n", 1, "out of range"},
    {"bind_address_missing", "bind_address\n", 1, "bind_address"},
    {"bind_interface_twice", kListener + "bind_interface eth0\nbind_interface eth1\n", 3,
     "bind_interface"},
    {"max_connections_not_a_number", kListener + "max_connections many\n", 2, "max_connections"},
    {"max_qos_out_of_range", kListener + "max_qos 3\n", 2, "max_qos"},
    {"max_qos_missing", kListener + "max_qos\n", 2, "max_qos"},
    {"max_topic_alias_out_of_range", kListener + "max_topic_alias 65536\n", 2, "max_topic_alias"},
    {"mount_point_before_listener", "mount_point a/\n", 1, "mount_point"},
    {"mount_point", kListener + "mount_point tenant/a/\n", 2, "not supported"},
    {"protocol_quic", kListener + "protocol quic\n", 2, "quic"},
    {"http_dir", kListener + "protocol websockets\nhttp_dir /var/www\n", 3, "static files"},
    {"websockets_origin_on_mqtt_listener", kListener + "websockets_origin https://a.example\n",
     1, "protocol websockets"},
    {"websockets_origin_list_on_one_line",
     kListener + "protocol websockets\nwebsockets_origin https://a,https://b\n", 3,
     "one origin"},
    {"websockets_headers_size_too_small", "websockets_headers_size 100\n", 1,
     "websockets_headers_size"},
    {"protocol_http_before_listener", "protocol http\n", 1, "must follow"},
    {"protocol_http_use_identity_as_username",
     kListener + "listener 9443\nprotocol http\ncertfile /c.pem\nkeyfile /k.pem\ncafile /ca.pem\n"
                 "require_certificate true\nuse_identity_as_username true\n",
     2, "no MQTT user"},
    {"protocol_http_use_subject_as_username",
     kListener + "listener 9443\nprotocol http\ncertfile /c.pem\nkeyfile /k.pem\ncafile /ca.pem\n"
                 "require_certificate true\nuse_subject_as_username true\n",
     2, "use_subject_as_username"},
    {"protocol_http_require_certificate_without_ca",
     kListener + "listener 9443\nprotocol http\ncertfile /c.pem\nkeyfile /k.pem\n"
                 "require_certificate true\n",
     2, "cafile"},
    {"http_keyword_on_mqtt_listener", kListener + "http_bearer_token_file /t\n", 1,
     "apply only"},
    {"http_keyword_before_listener", "http_basic_auth_file /u\nlistener 1883\n", 1,
     "http_basic_auth_file"},
    {"http_keyword_twice",
     kListener + "listener 9100\nprotocol http\nhttp_bearer_token_file /a\n"
                 "http_bearer_token_file /b\n",
     5, "http_bearer_token_file"},
    {"only_http_listeners", "listener 9100\nprotocol http\n", 0, "only http listeners"},
    {"http_listener_socket_domain", kListener + "listener 9100\nprotocol http\nsocket_domain ipv4\n",
     2, "socket_domain"},
    {"http_listener_password_file",
     "per_listener_settings true\n" + kListener + "listener 9100\nprotocol http\n"
     "password_file /p\n",
     3, "http_basic_auth_file"},
    {"protocol_unknown", kListener + "protocol smtp\n", 2, "smtp"},
    {"socket_domain_unknown", kListener + "socket_domain ipx\n", 2, "socket_domain"},
    {"use_username_as_clientid_not_bool", kListener + "use_username_as_clientid yes\n", 2,
     "use_username_as_clientid"},
    {"certfile_missing", kListener + "certfile\n", 2, "certfile"},
    {"keyfile_twice", kTlsListener + "keyfile /other.pem\n", 4, "keyfile"},
    {"certfile_without_keyfile", "listener 8883\ncertfile /c.pem\n", 1, "keyfile"},
    {"cafile_twice", kTlsListener + "cafile /a.pem\ncafile /b.pem\n", 5, "cafile"},
    {"capath_missing", kTlsListener + "capath   \n", 4, "capath"},
    {"crlfile_missing", kTlsListener + "crlfile\n", 4, "crlfile"},
    {"ciphers_twice", kTlsListener + "ciphers A\nciphers B\n", 5, "ciphers"},
    {"tls_session_lifetime_zero", kTlsListener + "tls_session_lifetime 0\n", 4,
     "tls_session_lifetime"},
    {"tls_session_cache_size_negative", kTlsListener + "tls_session_cache_size -1\n", 4,
     "tls_session_cache_size"},
    {"tls_version_unknown", kTlsListener + "tls_version sslv3\n", 4, "tls_version"},
    {"tls_keyform_engine", kTlsListener + "tls_keyform engine\n", 4, "tls_keyform"},
    {"require_certificate_not_bool", kTlsListener + "require_certificate maybe\n", 4,
     "require_certificate"},
    {"require_certificate_without_ca", kTlsListener + "require_certificate true\n", 1, "cafile"},
    {"require_certificate_without_tls", kListener + "require_certificate true\n", 1,
     "require_certificate"},
    {"use_identity_as_username_not_bool", kTlsListener + "use_identity_as_username 2\n", 4,
     "use_identity_as_username"},
    {"use_subject_as_username_missing", kTlsListener + "use_subject_as_username\n", 4,
     "use_subject_as_username"},
    {"per_listener_settings_after_security", "allow_anonymous true\nper_listener_settings true\n",
     2, "per_listener_settings"},
    {"allow_anonymous_not_bool", "allow_anonymous yes\n", 1, "allow_anonymous"},
    {"allow_anonymous_extra", "allow_anonymous true false\n", 1, "extra"},
    {"password_file_twice", "password_file /a\npassword_file /b\n", 2, "password_file"},
    {"acl_file_missing", "acl_file\n", 1, "acl_file"},
    {"acl_file_bad_utf8", "acl_file /etc/\xff\xfe\n", 1, "UTF-8"},
    {"auto_id_prefix_missing", "auto_id_prefix\n", 1, "auto_id_prefix"},
    {"allow_zero_length_clientid_not_bool", "allow_zero_length_clientid no\n", 1,
     "allow_zero_length_clientid"},
    {"check_retain_source_not_bool", "check_retain_source on\n", 1, "check_retain_source"},
    {"check_retain_source_true", "check_retain_source true\n", 1, "not supported"},
    {"max_inflight_messages_too_big", "max_inflight_messages 65536\n", 1, "max_inflight_messages"},
    {"max_inflight_bytes_not_a_number", "max_inflight_bytes 4k\n", 1, "max_inflight_bytes"},
    {"max_queued_messages_not_a_number", "max_queued_messages 1e3\n", 1, "max_queued_messages"},
    {"max_queued_bytes_missing", "max_queued_bytes\n", 1, "max_queued_bytes"},
    {"message_size_limit_too_big", "message_size_limit 268435456\n", 1, "message_size_limit"},
    {"max_packet_size_too_small", "max_packet_size 19\n", 1, "max_packet_size"},
    {"max_unauthenticated_packet_size_too_small", "max_unauthenticated_packet_size 5\n", 1,
     "max_unauthenticated_packet_size"},
    {"max_keepalive_out_of_range", "max_keepalive 65536\n", 1, "max_keepalive"},
    {"max_topic_length_zero", "max_topic_length 0\n", 1, "max_topic_length"},
    {"max_topic_levels_negative", "max_topic_levels -1\n", 1, "max_topic_levels"},
    {"global_max_connections_not_a_number", "global_max_connections lots\n", 1,
     "global_max_connections"},
    {"connect_timeout_zero", "connect_timeout 0\n", 1, "connect_timeout"},
    {"max_connect_rate_negative", "max_connect_rate -3\n", 1, "max_connect_rate"},
    {"persistence_failure_timeout_negative", "persistence_failure_timeout -1\n", 1,
     "persistence_failure_timeout"},
    {"memory_limit_negative", "memory_limit -1\n", 1, "memory_limit"},
    {"retain_available_not_bool", "retain_available TRUE\n", 1, "retain_available"},
    {"queue_qos0_messages_missing", "queue_qos0_messages\n", 1, "queue_qos0_messages"},
    {"upgrade_outgoing_qos_not_bool", "upgrade_outgoing_qos 2\n", 1, "upgrade_outgoing_qos"},
    {"set_tcp_nodelay_not_bool", "set_tcp_nodelay y\n", 1, "set_tcp_nodelay"},
    {"persistent_client_expiration_no_unit", "persistent_client_expiration 10\n", 1,
     "persistent_client_expiration"},
    {"persistent_client_expiration_unknown_unit", "persistent_client_expiration 10s\n", 1,
     "persistent_client_expiration"},
    {"persistent_client_expiration_zero", "persistent_client_expiration 0d\n", 1,
     "persistent_client_expiration"},
    {"persistent_client_expiration_overflow", "persistent_client_expiration 200y\n", 1,
     "persistent_client_expiration"},
    {"persistence_not_bool", "persistence enabled\n", 1, "persistence"},
    {"persistence_file_twice", "persistence_file a.db\npersistence_file b.db\n", 2,
     "persistence_file"},
    {"persistence_location_missing", "persistence_location\n", 1, "persistence_location"},
    {"persistence_sync_unknown", "persistence_sync off\n", 1, "persistence_sync"},
    {"autosave_interval_not_a_number", "autosave_interval soon\n", 1, "autosave_interval"},
    {"sys_interval_out_of_range", "sys_interval 65536\n", 1, "sys_interval"},
    {"connection_messages_not_bool", "connection_messages sometimes\n", 1, "connection_messages"},
    {"log_dest_unknown", "log_dest printer\n", 1, "log_dest"},
    {"log_dest_file_without_path", "log_dest file\n", 1, "log_dest"},
    {"log_dest_two_files", "log_dest file /a.log\nlog_dest file /b.log\n", 2, "log_dest"},
    {"log_dest_extra", "log_dest stdout stderr\n", 1, "log_dest"},
    {"log_type_unknown", "log_type verbose\n", 1, "log_type"},
    {"log_type_missing", "log_type\n", 1, "log_type"},
    {"log_facility_out_of_range", "log_facility 8\n", 1, "log_facility"},
    {"log_timestamp_not_bool", "log_timestamp off\n", 1, "log_timestamp"},
    {"log_timestamp_format_twice", "log_timestamp_format %s\nlog_timestamp_format %c\n", 2,
     "log_timestamp_format"},
    {"pid_file_missing", "pid_file\n", 1, "pid_file"},
    {"user_missing", "user\n", 1, "user"},
    {"include_dir_missing", "include_dir\n", 1, "include_dir"},
    {"include_dir_nonexistent", "include_dir /nonexistent/midge/conf.d\n", 1, "include_dir"},
    {"unknown_keyword", "listener 1883\n\nmax_inflight 10\n", 3, "max_inflight"},
    {"auth_plugin_rejected", "auth_plugin /usr/lib/mosquitto_dynamic_security.so\n", 1,
     "auth_plugin"},
    {"plugin_option_rejected", "plugin_opt_config_file /x.json\n", 1, "plugin_opt_config_file"},
    {"psk_hint_rejected", kListener + "psk_hint hint\n", 2, "psk_hint"},
    {"tls_engine_rejected", kListener + "tls_engine tpm\n", 2, "tls_engine"},
    {"clientid_prefixes_rejected", "clientid_prefixes secure-\n", 1, "clientid_prefixes"},
};

INSTANTIATE_TEST_SUITE_P(Keywords, BadValue, ::testing::ValuesIn(kBadRows),
                         [](const auto& rowInfo) { return rowInfo.param.name; });

}  // namespace
}  // namespace midge::config::test
