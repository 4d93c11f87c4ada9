// SPDX-License-Identifier: Apache-2.0
// Bridge sections (`connection NAME` and the keywords after it): Mosquitto's keywords,
// defaults and value checks, the section checks, and what Midge refuses with its reason.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "tests/broker/config_test_support.hpp"

namespace midge::config::test {
namespace {

const std::string kSamples = MIDGE_CONFIG_SAMPLES;
const std::string kReadableFile = kSamples + "/mosquitto2-deployment.conf";

std::string hostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// A bridge section with an address and a topic: the smallest one that loads.
std::string minimal(std::string_view name = "cloud") {
  return "connection " + std::string(name) + "\naddress upstream.example\ntopic # out\n";
}

// The parse fails, and some fatal diagnostic is at `line` of test.conf and contains `text`.
::testing::AssertionResult failsAt(std::string_view text, int line, std::string_view needle) {
  const Parsed parsed = parse(text);
  if (parsed.ok) return ::testing::AssertionFailure() << "parsed without error";
  for (const Diagnostic& d : parsed.diags) {
    if (d.fatal && d.file == "test.conf" && d.line == line &&
        d.message.find(needle) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "no error at line " << line << " containing '"
                                       << needle << "' in:\n" << parsed.allMessages();
}

TEST(BridgeSection, FullMosquittoSectionParsesIntoTheRecord) {
  const Parsed parsed = parse(
      "listener 1883\n"
      "connection cloud\n"
      "address mqtt.example.com:8883 backup.example.com\n"
      "round_robin true\n"
      "topic sensors/# out 1 \"\" site-a/\n"
      "topic cmd/+ in 2 local/ remote/\n"
      "topic \"\" both 0 here/state there/state\n"
      "bridge_protocol_version mqttv50\n"
      "cleansession true\n"
      "local_cleansession false\n"
      "local_clientid loc-1\n"
      "remote_clientid rem-1\n"
      "remote_username site-a\n"
      "remote_password s3cret\n"
      "local_username bridge\n"
      "local_password pw\n"
      "keepalive_interval 30\n"
      "restart_timeout 2 60\n"
      "start_type lazy\n"
      "idle_timeout 120\n"
      "threshold 5\n"
      "notifications false\n"
      "notification_topic status/cloud\n"
      "notifications_local_only true\n"
      "try_private false\n"
      "bridge_outgoing_retain false\n"
      "bridge_max_packet_size 65536\n"
      "bridge_attempt_unsubscribe false\n"
      "bridge_bind_address 192.0.2.1\n"
      "bridge_receive_maximum 20\n"
      "bridge_session_expiry_interval 3600\n"
      "bridge_max_topic_alias 0\n"
      "bridge_cafile " + kReadableFile + "\n"
      "bridge_capath " + kSamples + "\n"
      "bridge_certfile /etc/midge/client.crt\n"
      "bridge_keyfile /etc/midge/client.key\n"
      "bridge_insecure false\n"
      "bridge_tls_version tlsv1.2\n"
      "bridge_require_ocsp false\n"
      "bridge_alpn mqtt,x-mqtt\n"
      "bridge_max_queued_messages 5000\n"
      "bridge_max_queued_bytes 1048576\n"
      "bridge_queue_full refuse_new\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  EXPECT_EQ(parsed.warningCount(), 0) << parsed.allMessages();
  ASSERT_EQ(parsed.config.bridges.size(), 1u);
  const Bridge& b = parsed.config.bridges[0];
  EXPECT_EQ(b.name, "cloud");
  EXPECT_EQ(b.definedAt, "test.conf:2");
  ASSERT_EQ(b.addresses.size(), 2u);
  EXPECT_EQ(b.addresses[0].host, "mqtt.example.com");
  EXPECT_EQ(b.addresses[0].port, 8883);
  EXPECT_EQ(b.addresses[1].host, "backup.example.com");
  EXPECT_EQ(b.addresses[1].port, 1883);
  EXPECT_TRUE(b.roundRobin);
  ASSERT_EQ(b.topics.size(), 3u);
  EXPECT_EQ(b.topics[0].pattern, "sensors/#");
  EXPECT_EQ(b.topics[0].direction, BridgeDirection::Out);
  EXPECT_EQ(b.topics[0].qos, 1);
  EXPECT_EQ(b.topics[0].localPrefix, "");
  EXPECT_EQ(b.topics[0].remotePrefix, "site-a/");
  EXPECT_EQ(b.topics[0].definedAt, "test.conf:5");
  EXPECT_EQ(b.topics[1].direction, BridgeDirection::In);
  EXPECT_EQ(b.topics[1].qos, 2);
  EXPECT_EQ(b.topics[1].localPrefix, "local/");
  EXPECT_EQ(b.topics[1].remotePrefix, "remote/");
  EXPECT_EQ(b.topics[2].pattern, "");
  EXPECT_EQ(b.topics[2].direction, BridgeDirection::Both);
  EXPECT_EQ(b.protocol, BridgeProtocol::V5);
  EXPECT_TRUE(b.cleanSession);
  EXPECT_EQ(b.localCleanSession, false);
  EXPECT_EQ(b.localClientId, "loc-1");
  EXPECT_EQ(b.remoteClientId, "rem-1");
  EXPECT_EQ(b.remoteUsername, "site-a");
  EXPECT_EQ(b.remotePassword, "s3cret");
  EXPECT_EQ(b.localUsername, "bridge");
  EXPECT_EQ(b.localPassword, "pw");
  EXPECT_EQ(b.keepaliveSeconds, 30);
  EXPECT_EQ(b.restartTimeoutBaseSeconds, 2u);
  EXPECT_EQ(b.restartTimeoutCapSeconds, 60u);
  EXPECT_EQ(b.startType, BridgeStartType::Lazy);
  EXPECT_EQ(b.idleTimeoutSeconds, 120u);
  EXPECT_EQ(b.threshold, 5u);
  EXPECT_FALSE(b.notifications);
  EXPECT_EQ(b.notificationTopic, "status/cloud");
  EXPECT_TRUE(b.notificationsLocalOnly);
  EXPECT_FALSE(b.tryPrivate);
  EXPECT_FALSE(b.outgoingRetain);
  EXPECT_EQ(b.maxPacketSize, 65536u);
  EXPECT_FALSE(b.attemptUnsubscribe);
  EXPECT_EQ(b.bindAddress, "192.0.2.1");
  EXPECT_EQ(b.receiveMaximum, 20);
  EXPECT_EQ(b.sessionExpiryInterval, 3600u);
  EXPECT_EQ(b.maxTopicAlias, 0);
  ASSERT_TRUE(b.tls.has_value());
  EXPECT_EQ(b.tls->caFile, kReadableFile);
  EXPECT_EQ(b.tls->caPath, kSamples);
  EXPECT_EQ(b.tls->certFile, "/etc/midge/client.crt");
  EXPECT_EQ(b.tls->keyFile, "/etc/midge/client.key");
  EXPECT_FALSE(b.tls->insecure);
  EXPECT_EQ(b.tls->minVersion, "tlsv1.2");
  EXPECT_EQ(b.tls->alpn, (std::vector<std::string>{"mqtt", "x-mqtt"}));
  EXPECT_EQ(b.maxQueuedMessages, 5000u);
  EXPECT_EQ(b.maxQueuedBytes, 1048576u);
  EXPECT_EQ(b.queueFull, BridgeQueueFull::RefuseNew);
}

TEST(BridgeSection, DefaultsAreMosquittos) {
  const Parsed parsed = parse("listener 1883\n" + minimal());
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  ASSERT_EQ(parsed.config.bridges.size(), 1u);
  const Bridge& b = parsed.config.bridges[0];
  const std::string remoteId = hostName() + ".cloud";
  EXPECT_EQ(b.remoteClientId, remoteId);
  EXPECT_EQ(b.localClientId, "local." + remoteId);
  EXPECT_EQ(b.notificationTopic, "$SYS/broker/connection/" + remoteId + "/state");
  EXPECT_FALSE(b.cleanSession);
  EXPECT_EQ(b.localCleanSession, false);  // follows cleansession
  EXPECT_EQ(b.protocol, BridgeProtocol::V311);
  EXPECT_EQ(b.keepaliveSeconds, 60);
  EXPECT_EQ(b.restartTimeoutBaseSeconds, 5u);
  EXPECT_EQ(b.restartTimeoutCapSeconds, 30u);
  EXPECT_EQ(b.startType, BridgeStartType::Automatic);
  EXPECT_EQ(b.idleTimeoutSeconds, 60u);
  EXPECT_EQ(b.threshold, 10u);
  EXPECT_TRUE(b.notifications);
  EXPECT_FALSE(b.notificationsLocalOnly);
  EXPECT_TRUE(b.tryPrivate);
  EXPECT_TRUE(b.outgoingRetain);
  EXPECT_TRUE(b.attemptUnsubscribe);
  EXPECT_FALSE(b.roundRobin);
  EXPECT_EQ(b.topics.at(0).direction, BridgeDirection::Out);
  EXPECT_EQ(b.topics.at(0).qos, 0);
  EXPECT_FALSE(b.tls.has_value());
  EXPECT_EQ(b.queueFull, BridgeQueueFull::DropNew);

  const Parsed clean = parse("listener 1883\n" + minimal() + "cleansession true\n");
  ASSERT_TRUE(clean.ok) << clean.allMessages();
  EXPECT_EQ(clean.config.bridges.at(0).localCleanSession, true);
}

TEST(BridgeSection, SeveralSectionsEachTakeTheirOwnKeywords) {
  const Parsed parsed = parse("listener 1883\n" + minimal("one") + "keepalive_interval 10\n" +
                              minimal("two") + "remote_clientid two-id\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  ASSERT_EQ(parsed.config.bridges.size(), 2u);
  EXPECT_EQ(parsed.config.bridges[0].name, "one");
  EXPECT_EQ(parsed.config.bridges[0].keepaliveSeconds, 10);
  EXPECT_EQ(parsed.config.bridges[1].name, "two");
  EXPECT_EQ(parsed.config.bridges[1].keepaliveSeconds, 60);
  EXPECT_EQ(parsed.config.bridges[1].remoteClientId, "two-id");
  EXPECT_EQ(parsed.config.bridges[1].localClientId, "local.two-id");
}

// Mosquitto: a section only collects bridge keywords; the others keep their usual scope.
TEST(BridgeSection, GlobalKeywordsAfterASectionStillApplyToTheBroker) {
  const Parsed parsed = parse(minimal() + "max_queued_messages 77\nlistener 1884\n"
                              "keepalive_interval 20\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  EXPECT_EQ(parsed.config.maxQueuedMessages, 77u);
  ASSERT_EQ(parsed.config.listeners.size(), 1u);
  EXPECT_EQ(parsed.config.listeners[0].port, 1884);
  // A bridge keyword after a listener line still belongs to the open section.
  EXPECT_EQ(parsed.config.bridges.at(0).keepaliveSeconds, 20);
}

TEST(BridgeSection, BridgeKeywordOutsideASectionIsAnError) {
  EXPECT_TRUE(failsAt("listener 1883\naddress a.example\n", 2, "outside a bridge section"));
  EXPECT_TRUE(failsAt("listener 1883\nbridge_psk 00ff\n", 2, "outside a bridge section"));
}

TEST(BridgeSection, ConnectionNeedsOneName) {
  EXPECT_TRUE(failsAt("listener 1883\nconnection\n", 2, "connection: missing value"));
  EXPECT_TRUE(failsAt("listener 1883\nconnection a b\n", 2, "unexpected extra argument"));
}

TEST(BridgeAddress, FormsMosquittoAccepts) {
  const Parsed parsed = parse("listener 1883\nconnection c\n"
                              "addresses a.example:1884,b.example [::1]:1885 ::1:1886\n"
                              "topic # out\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  const auto& addresses = parsed.config.bridges.at(0).addresses;
  ASSERT_EQ(addresses.size(), 4u);
  EXPECT_EQ(addresses[0].host, "a.example");
  EXPECT_EQ(addresses[0].port, 1884);
  EXPECT_EQ(addresses[1].host, "b.example");
  EXPECT_EQ(addresses[1].port, 1883);
  EXPECT_EQ(addresses[2].host, "::1");
  EXPECT_EQ(addresses[2].port, 1885);
  EXPECT_EQ(addresses[3].host, "::1");
  EXPECT_EQ(addresses[3].port, 1886);
}

TEST(BridgeAddress, BadValuesNameTheLine) {
  const std::string head = "listener 1883\nconnection c\ntopic # out\n";
  EXPECT_TRUE(failsAt(head + "address a.example:0\n", 4, "port '0' is not a number in 1..65535"));
  EXPECT_TRUE(failsAt(head + "address a.example:x\n", 4, "port 'x'"));
  EXPECT_TRUE(failsAt(head + "address :1883\n", 4, "has no host"));
  EXPECT_TRUE(failsAt(head + "address a.example:\n", 4, "empty port"));
  EXPECT_TRUE(failsAt(head + "address [::1\n", 4, "malformed"));
  EXPECT_TRUE(failsAt(head + "address\n", 4, "address: missing value"));
  EXPECT_TRUE(failsAt(head + "address a.example\naddresses b.example\n", 5, "given twice"));
}

TEST(BridgeTopic, ValueErrorsNameTheLine) {
  const std::string head = "listener 1883\nconnection c\naddress a.example\n";
  EXPECT_TRUE(failsAt(head + "topic\n", 4, "topic: missing value"));
  EXPECT_TRUE(failsAt(head + "topic # sideways\n", 4, "direction 'sideways'"));
  EXPECT_TRUE(failsAt(head + "topic # out 3\n", 4, "QoS '3' is not 0, 1 or 2"));
  EXPECT_TRUE(failsAt(head + "topic # out x\n", 4, "QoS 'x'"));
  EXPECT_TRUE(failsAt(head + "topic a/#/b out\n", 4, "pattern 'a/#/b' is not a valid"));
  EXPECT_TRUE(failsAt(head + "topic a+ out\n", 4, "pattern 'a+'"));
  EXPECT_TRUE(failsAt(head + "topic # out 0 loc/+/ \"\"\n", 4,
                      "local prefix 'loc/+/' must not contain the wildcards"));
  EXPECT_TRUE(failsAt(head + "topic # out 0 \"\" rem/#\n", 4, "remote prefix 'rem/#'"));
  EXPECT_TRUE(failsAt(head + "topic \"\" out 0 loc/\n", 4,
                      "an empty pattern (\"\") needs both a local and a remote prefix"));
  EXPECT_TRUE(failsAt(head + "topic # out 0 a/ b/ c/\n", 4, "unexpected extra argument 'c/'"));
  EXPECT_TRUE(failsAt(head + "topic # out 0 a# b/\n", 4, "local prefix 'a#'"));
}

TEST(BridgeTopic, DirectionIsCaseInsensitiveAndCommentsEndTheLine) {
  const Parsed parsed = parse("listener 1883\nconnection c\naddress a.example\n"
                              "topic a/# BOTH 1 # a comment\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  const BridgeTopic& topic = parsed.config.bridges.at(0).topics.at(0);
  EXPECT_EQ(topic.direction, BridgeDirection::Both);
  EXPECT_EQ(topic.qos, 1);
  EXPECT_EQ(topic.localPrefix, "");
}

TEST(BridgeValues, BadValuesNameTheLine) {
  const std::string head = "listener 1883\n" + minimal();  // the section ends on line 4
  EXPECT_TRUE(failsAt(head + "bridge_protocol_version mqttv6\n", 5,
                      "expected mqttv31, mqttv311 or mqttv50"));
  EXPECT_TRUE(failsAt(head + "start_type sometimes\n", 5, "expected automatic, lazy or once"));
  EXPECT_TRUE(failsAt(head + "cleansession maybe\n", 5, "is not a boolean"));
  EXPECT_TRUE(failsAt(head + "keepalive_interval 70000\n", 5, "out of range"));
  EXPECT_TRUE(failsAt(head + "restart_timeout 10 5\n", 5, "the cap 5 is below the base 10"));
  EXPECT_TRUE(failsAt(head + "restart_timeout 1 2 3\n", 5, "too many values"));
  EXPECT_TRUE(failsAt(head + "restart_timeout soon\n", 5, "'soon' is not a whole number"));
  EXPECT_TRUE(failsAt(head + "bridge_receive_maximum 0\n", 5, "out of range"));
  EXPECT_TRUE(failsAt(head + "bridge_max_topic_alias 70000\n", 5, "out of range"));
  EXPECT_TRUE(failsAt(head + "bridge_queue_full block\n", 5, "expected drop_new or refuse_new"));
  EXPECT_TRUE(failsAt(head + "bridge_max_queued_messages -1\n", 5, "out of range"));
  EXPECT_TRUE(failsAt(head + "notification_topic a/#\n", 5, "must not contain the wildcards"));
  EXPECT_TRUE(failsAt(head + "bridge_alpn mqtt,,x\n", 5, "separated by commas"));
  EXPECT_TRUE(failsAt(head + "remote_clientid a\nremote_clientid b\n", 6, "given twice"));
  EXPECT_TRUE(failsAt(head + "remote_clientid a\nclientid b\n", 6, "given twice"));
}

TEST(BridgeValues, LowValuesAreRaisedAsMosquittoDoes) {
  const Parsed parsed = parse("listener 1883\n" + minimal() + "keepalive_interval 2\n"
                              "restart_timeout 0\nidle_timeout 0\nthreshold 0\n"
                              "bridge_max_packet_size -5\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  const Bridge& b = parsed.config.bridges.at(0);
  EXPECT_EQ(b.keepaliveSeconds, 5);
  EXPECT_EQ(b.restartTimeoutBaseSeconds, 1u);
  EXPECT_EQ(b.restartTimeoutCapSeconds, 1u);  // one value: a constant delay
  EXPECT_EQ(b.idleTimeoutSeconds, 1u);
  EXPECT_EQ(b.threshold, 1u);
  EXPECT_EQ(b.maxPacketSize, 0u);
  EXPECT_EQ(parsed.warningCount(), 4) << parsed.allMessages();
  EXPECT_TRUE(parsed.hasWarningContaining("keepalive_interval: 2 is too low; using 5"));
}

TEST(BridgeValues, DeprecatedAliasesWarnAndFillTheRemoteFields) {
  const Parsed parsed = parse("listener 1883\n" + minimal() +
                              "clientid cid\nusername user\npassword pass\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  const Bridge& b = parsed.config.bridges.at(0);
  EXPECT_EQ(b.remoteClientId, "cid");
  EXPECT_EQ(b.remoteUsername, "user");
  EXPECT_EQ(b.remotePassword, "pass");
  EXPECT_EQ(parsed.warningCount(), 3);
  EXPECT_TRUE(parsed.hasWarningContaining("clientid: deprecated; use remote_clientid"));
}

TEST(BridgeRefusals, WhatMbedTlsCannotDoIsRefusedWithTheReason) {
  const std::string head = "listener 1883\n" + minimal() + "bridge_cafile " + kReadableFile +
                           "\n";  // line 5
  EXPECT_TRUE(failsAt(head + "bridge_require_ocsp true\n", 6, "cannot check OCSP"));
  EXPECT_TRUE(failsAt(head + "bridge_tls_version tlsv1.3\n", 6, "TLS 1.2 only"));
  EXPECT_TRUE(failsAt(head + "bridge_tls_version tlsv1.1\n", 6, "below 1.2"));
  EXPECT_TRUE(failsAt(head + "bridge_tls_version tlsv1\n", 6, "below 1.2"));
  EXPECT_TRUE(failsAt(head + "bridge_tls_version sslv3\n", 6, "unknown value 'sslv3'"));
  EXPECT_TRUE(failsAt(head + "bridge_identity me\n", 6, "TLS-PSK bridges are not supported"));
  EXPECT_TRUE(failsAt(head + "bridge_psk 00ff\n", 6, "TLS-PSK bridges are not supported"));
  EXPECT_TRUE(failsAt(head + "bridge_reload_type immediate\n", 6,
                      "does not reload bridges while running"));
  EXPECT_TRUE(parse(head + "bridge_require_ocsp false\n").ok);
}

TEST(BridgeChecks, SectionLevelProblemsNameTheConnectionLine) {
  EXPECT_TRUE(failsAt("listener 1883\nconnection c\ntopic # out\n", 2,
                      "bridge 'c': no address"));
  EXPECT_TRUE(failsAt("listener 1883\nconnection c\naddress a.example\n", 2,
                      "bridge 'c': no topic line"));
  EXPECT_TRUE(failsAt("listener 1883\n" + minimal("c") + minimal("c"), 5,
                      "bridge 'c': the name is already used by the bridge at test.conf:2"));
  EXPECT_TRUE(failsAt("listener 1883\n" + minimal("a") + "local_clientid same\n" + minimal("b") +
                          "local_clientid same\n",
                      6, "bridge 'b': local_clientid 'same' is already used by the bridge at test.conf:2"));
  EXPECT_TRUE(failsAt("listener 1883\n" + minimal("a") + "remote_clientid x\n" + minimal("b") +
                          "local_clientid local.x\n",
                      6, "local_clientid 'local.x'"));
  EXPECT_TRUE(failsAt("listener 1883\n" + minimal() + "remote_password p\n", 2,
                      "remote_password needs remote_username"));
  EXPECT_TRUE(failsAt("listener 1883\n" + minimal() + "local_password p\n", 2,
                      "local_password needs local_username"));
}

TEST(BridgeChecks, TlsFilesAndCombinations) {
  const std::string head = "listener 1883\n" + minimal();
  const std::string ca = "bridge_cafile " + kReadableFile + "\n";
  EXPECT_TRUE(failsAt(head + ca + "bridge_certfile /c.crt\n", 2,
                      "bridge_certfile and bridge_keyfile must be given together"));
  EXPECT_TRUE(failsAt(head + ca + "bridge_keyfile /c.key\n", 2, "must be given together"));
  EXPECT_TRUE(failsAt(head + "bridge_cafile /nonexistent/ca.pem\n", 2,
                      "bridge_cafile '/nonexistent/ca.pem': No such file or directory"));
  EXPECT_TRUE(failsAt(head + "bridge_capath /nonexistent/certs\n", 2,
                      "bridge_capath '/nonexistent/certs': No such file or directory"));
  EXPECT_TRUE(failsAt(head + "bridge_cafile " + kSamples + "\n", 2,
                      "is a directory, not a file (use bridge_capath)"));
  EXPECT_TRUE(failsAt(head + "bridge_capath " + kReadableFile + "\n", 2, "not a directory"));
  EXPECT_TRUE(failsAt(head + "bridge_insecure true\n", 2,
                      "need bridge_cafile or bridge_capath"));
  EXPECT_TRUE(failsAt(head + ca + ca, 6, "bridge_cafile: given twice"));

  const Parsed capathOnly = parse(head + "bridge_capath " + kSamples + "\n");
  ASSERT_TRUE(capathOnly.ok) << capathOnly.allMessages();
  ASSERT_TRUE(capathOnly.config.bridges.at(0).tls.has_value());
  EXPECT_TRUE(capathOnly.config.bridges.at(0).tls->enabled());
}

}  // namespace
}  // namespace midge::config::test
