// SPDX-License-Identifier: Apache-2.0
// TLS listeners of the real broker, driven by Eclipse Paho MQTT C++ (linked against the
// SSL build of the Paho C library) and by mosquitto_pub/mosquitto_sub: good, wrong-CA and
// expired certificates, client certificates, certificate identities in ACL patterns,
// stalled handshakes, session resumption (openssl s_client), and certificate reloads on
// SIGHUP.
#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <csignal>
#include <iostream>
#include <memory>

#include "tests/integration/broker_process.hpp"
#include "tests/security/security_support.hpp"

namespace midge::test::security {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kNotAuthorized = 0x87;

struct ClientCertificate {
  std::string cert;
  std::string key;
};

class SecurityTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    if (*mosquittoPub() == '\0' || *mosquittoSub() == '\0') {
      GTEST_SKIP() << "mosquitto clients not installed";
    }
  }

  void TearDown() override {
    for (auto& client : clients_) {
      try {
        if (client->is_connected()) client->disconnect()->wait_for(2s);
      } catch (const mqtt::exception&) {
        // The broker closed it already.
      }
    }
    clients_.clear();
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  static std::string pki(const std::string& name) { return pki_->path(name); }

  // A TLS listener on the broker's port with the given certificate lines.
  void startTls(const std::string& cert, const std::string& key,
                const std::vector<std::string>& extra = {}) {
    broker_.setWriteListener(false);
    broker_.addConfigLine("listener {PORT} 127.0.0.1");
    broker_.addConfigLine("certfile " + cert);
    broker_.addConfigLine("keyfile " + key);
    for (const std::string& line : extra) broker_.addConfigLine(line);
    broker_.start();
  }

  std::string sslUri() const { return "ssl://127.0.0.1:" + std::to_string(broker_.port()); }

  mqtt::async_client& pahoClient(const std::string& clientId) {
    clients_.push_back(std::make_unique<mqtt::async_client>(
        sslUri(), clientId, mqtt::create_options(MQTTVERSION_5), nullptr));
    clients_.back()->start_consuming();
    return *clients_.back();
  }

  static mqtt::connect_options pahoOptions(const std::string& caFile,
                                           const ClientCertificate& identity = {},
                                           const std::string& username = "") {
    mqtt::ssl_options ssl;
    ssl.set_trust_store(caFile);
    ssl.set_enable_server_cert_auth(true);
    ssl.set_verify(true);  // host name against the certificate's subjectAltName
    if (!identity.cert.empty()) {
      ssl.set_key_store(identity.cert);
      ssl.set_private_key(identity.key);
    }
    mqtt::connect_options options;
    options.set_mqtt_version(MQTTVERSION_5);
    options.set_clean_start(true);
    options.set_ssl(ssl);
    options.set_connect_timeout(5);
    if (!username.empty()) options.set_user_name(username);
    return options;
  }

  mqtt::async_client& pahoConnected(const std::string& clientId, const std::string& caFile,
                                    const ClientCertificate& identity = {},
                                    const std::string& username = "") {
    mqtt::async_client& client = pahoClient(clientId);
    if (!client.connect(pahoOptions(caFile, identity, username))->wait_for(10s)) {
      throw std::runtime_error(clientId + ": CONNECT over TLS timed out");
    }
    return client;
  }

  // Returns the PUBACK reason code Paho reports for a QoS 1 publish: a refusal (0x80 and
  // up) is reported exactly; a success may be reported as 0 whatever the broker sent.
  static int publishReason(mqtt::async_client& client, const std::string& topic,
                           const std::string& payload, bool retain = false) {
    mqtt::delivery_token_ptr token = client.publish(mqtt::make_message(topic, payload, 1, retain));
    try {
      if (!token->wait_for(10s)) throw std::runtime_error("PUBLISH over TLS timed out");
      return token->get_reason_code();
    } catch (const mqtt::exception& error) {
      return error.get_reason_code();
    }
  }

  static void subscribe(mqtt::async_client& client, const std::string& filter) {
    if (!client.subscribe(filter, 1)->wait_for(10s)) throw std::runtime_error("SUBSCRIBE timed out");
  }

  static mqtt::const_message_ptr receive(mqtt::async_client& client,
                                         std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    mqtt::const_message_ptr message;
    while (Clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (client.try_consume_message_for(&message, left) && message) return message;
    }
    return nullptr;
  }

  // mosquitto_pub over TLS; returns its exit status and output.
  ProcessResult mosquittoPublish(const std::string& caFile, const std::string& topic,
                                 const std::string& message,
                                 const ClientCertificate& identity = {}) {
    std::vector<std::string> argv{mosquittoPub(), "-h", "127.0.0.1",
                                  "-p", std::to_string(broker_.port()),
                                  "--cafile", caFile, "-t", topic, "-m", message, "-q", "1",
                                  "-i", "mosquitto-pub-" + std::to_string(++tools_)};
    if (!identity.cert.empty()) {
      argv.insert(argv.end(), {"--cert", identity.cert, "--key", identity.key});
    }
    return run(argv);
  }

  static TestPki* pki_;
  BrokerProcess broker_;
  std::vector<std::unique_ptr<mqtt::async_client>> clients_;
  int tools_ = 0;
};

TestPki* SecurityTls::pki_ = nullptr;

TEST_F(SecurityTls, ClientsThatTrustTheCaPublishAndSubscribe) {
  startTls(pki("server.crt"), pki("server.key"));
  mqtt::async_client& paho = pahoConnected("paho-tls", pki("ca.crt"));
  subscribe(paho, "tls/from-mosquitto");

  const ProcessResult published = mosquittoPublish(pki("ca.crt"), "tls/from-mosquitto", "hello");
  ASSERT_EQ(published.status, 0) << published.output;
  mqtt::const_message_ptr message = receive(paho);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->to_string(), "hello");

  // Retained, so mosquitto_sub gets it whenever its subscription lands.
  EXPECT_LT(publishReason(paho, "tls/from-paho", "over TLS", true), 0x80);
  const ProcessResult received =
      run({mosquittoSub(), "-h", "127.0.0.1", "-p", std::to_string(broker_.port()), "--cafile",
           pki("ca.crt"), "-t", "tls/from-paho", "-q", "1", "-C", "1", "-W", "10", "-i",
           "mosquitto-sub"});
  EXPECT_EQ(received.status, 0) << received.output;
  EXPECT_EQ(received.output, "over TLS\n");
}

TEST_F(SecurityTls, ClientWithTheWrongCaRefusesTheBrokerAndTheBrokerLogsIt) {
  startTls(pki("server.crt"), pki("server.key"), {"sys_interval 1"});
  std::size_t mark = broker_.logMark();
  const ProcessResult refused = mosquittoPublish(pki("other-ca.crt"), "tls/x", "never");
  EXPECT_NE(refused.status, 0) << refused.output;
  EXPECT_TRUE(broker_.waitForLog("unknown_ca", 5s, mark));
  const std::string log = broker_.log().substr(mark);
  EXPECT_NE(log.find("from 127.0.0.1:"), std::string::npos) << log;

  mark = broker_.logMark();
  mqtt::async_client& paho = pahoClient("paho-wrong-ca");
  EXPECT_THROW(paho.connect(pahoOptions(pki("other-ca.crt")))->wait_for(10s), mqtt::exception);
  EXPECT_FALSE(paho.is_connected());
  EXPECT_TRUE(broker_.waitForLog("TLS error", 5s, mark));

  // Each failed handshake is counted in $SYS.
  mqtt::async_client& monitor = pahoConnected("monitor", pki("ca.crt"));
  subscribe(monitor, "$SYS/broker/midge/connections/tls-failures");
  mqtt::const_message_ptr count = receive(monitor);
  ASSERT_TRUE(count);
  EXPECT_NE(count->to_string(), "0");
}

TEST_F(SecurityTls, ExpiredServerCertificateIsRefusedByClients) {
  startTls(pki("expired-server.crt"), pki("server.key"));
  const std::size_t mark = broker_.logMark();
  const ProcessResult refused = mosquittoPublish(pki("ca.crt"), "tls/x", "never");
  EXPECT_NE(refused.status, 0) << refused.output;
  EXPECT_TRUE(broker_.waitForLog("certificate_expired", 5s, mark));

  mqtt::async_client& paho = pahoClient("paho-expired");
  EXPECT_THROW(paho.connect(pahoOptions(pki("ca.crt")))->wait_for(10s), mqtt::exception);
  EXPECT_FALSE(paho.is_connected());
}

TEST_F(SecurityTls, RequiredClientCertificateMissingIsRefusedPresentIsAdmitted) {
  startTls(pki("server.crt"), pki("server.key"),
           {"cafile " + pki("ca.crt"), "require_certificate true"});
  const std::size_t mark = broker_.logMark();
  const ProcessResult missing = mosquittoPublish(pki("ca.crt"), "tls/x", "no certificate");
  EXPECT_NE(missing.status, 0) << missing.output;
  EXPECT_TRUE(broker_.waitForLog("peer did not return a certificate", 5s, mark));
  mqtt::async_client& withoutCertificate = pahoClient("paho-no-cert");
  EXPECT_THROW(withoutCertificate.connect(pahoOptions(pki("ca.crt")))->wait_for(10s),
               mqtt::exception);
  EXPECT_FALSE(withoutCertificate.is_connected());

  const ClientCertificate device{pki("device-42.crt"), pki("device-42.key")};
  mqtt::async_client& paho = pahoConnected("paho-device", pki("ca.crt"), device);
  subscribe(paho, "tls/with-cert");
  const ProcessResult present =
      mosquittoPublish(pki("ca.crt"), "tls/with-cert", "certified", device);
  ASSERT_EQ(present.status, 0) << present.output;
  mqtt::const_message_ptr message = receive(paho);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->to_string(), "certified");

  // A certificate from another CA is refused like a missing one.
  const ProcessResult foreign = mosquittoPublish(
      pki("ca.crt"), "tls/x", "foreign", {pki("other-server.crt"), pki("other-server.key")});
  EXPECT_NE(foreign.status, 0) << foreign.output;
  EXPECT_TRUE(broker_.waitForLog("certificate verify failed", 5s, mark));
}

TEST_F(SecurityTls, CertificateCommonNameIsTheUserNameInAclPatterns) {
  writeFile(broker_.dataDir() + "/acl",
            "pattern readwrite devices/%u/#\n"
            "user device-7\n"
            "topic read devices/#\n");
  startTls(pki("server.crt"), pki("server.key"),
           {"cafile " + pki("ca.crt"), "require_certificate true", "use_identity_as_username true",
            "acl_file {DIR}/acl"});
  mqtt::async_client& watcher =
      pahoConnected("watcher", pki("ca.crt"), {pki("device-7.crt"), pki("device-7.key")});
  subscribe(watcher, "devices/#");
  // The user name in CONNECT is ignored: the certificate says who the client is.
  mqtt::async_client& device = pahoConnected(
      "device", pki("ca.crt"), {pki("device-42.crt"), pki("device-42.key")}, "device-7");

  EXPECT_EQ(publishReason(device, "devices/device-7/cmd", "spoofed"), kNotAuthorized);
  EXPECT_LT(publishReason(device, "devices/device-42/state", "ok"), 0x80);
  mqtt::const_message_ptr message = receive(watcher);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->get_topic(), "devices/device-42/state");
  EXPECT_TRUE(broker_.waitForLog("not authorized to publish to devices/device-7/cmd", 3s));
}

// openssl s_client saves its session with -sess_out and offers it again with -sess_in;
// it prints "Reused" when the broker resumed the session and "New" after a full handshake.
std::string sessionLine(const std::string& output) {
  const std::size_t at = output.find(", TLSv1.2");
  if (at == std::string::npos) return "no TLS 1.2 session line in:\n" + output;
  const std::size_t start = output.rfind('\n', at);
  return output.substr(start == std::string::npos ? 0 : start + 1,
                       at - (start == std::string::npos ? 0 : start + 1));
}

ProcessResult openSslClient(int port, const std::string& arguments) {
  return run({"/bin/sh", "-c",
              "'" + std::string(opensslTool()) + "' s_client -connect 127.0.0.1:" +
                  std::to_string(port) + " -tls1_2 " + arguments + " < /dev/null"});
}

TEST_F(SecurityTls, ReconnectingClientResumesWithATicketOrASessionId) {
  startTls(pki("server.crt"), pki("server.key"));
  TempDir dir;
  const std::string ticket = dir.file("ticket.pem"), id = dir.file("id.pem");
  EXPECT_EQ(sessionLine(openSslClient(broker_.port(), "-sess_out " + ticket).output), "New");
  EXPECT_EQ(sessionLine(openSslClient(broker_.port(), "-sess_in " + ticket).output), "Reused");
  EXPECT_EQ(sessionLine(openSslClient(broker_.port(), "-no_ticket -sess_out " + id).output),
            "New");
  EXPECT_EQ(sessionLine(openSslClient(broker_.port(), "-no_ticket -sess_in " + id).output),
            "Reused");
}

TEST_F(SecurityTls, NoSessionIsResumedWithTicketsAndCacheOff) {
  startTls(pki("server.crt"), pki("server.key"),
           {"tls_session_tickets false", "tls_session_cache_size 0"});
  TempDir dir;
  const std::string session = dir.file("session.pem");
  EXPECT_EQ(sessionLine(openSslClient(broker_.port(), "-sess_out " + session).output), "New");
  EXPECT_EQ(sessionLine(openSslClient(broker_.port(), "-sess_in " + session).output), "New");
}

TEST_F(SecurityTls, HandshakeThatStallsIsDroppedAfterTheTimeout) {
  startTls(pki("server.crt"), pki("server.key"));
  mqtt::async_client& paho = pahoConnected("paho-during-stall", pki("ca.crt"));
  RawClient stalled(broker_.port());  // TCP only: never sends a ClientHello
  const auto opened = Clock::now();
  EXPECT_TRUE(stalled.waitClosed(20s));
  EXPECT_GE(Clock::now() - opened, 5s);  // the handshake timeout, not an error
  EXPECT_TRUE(broker_.waitForLog("TLS handshake not done within", 3s));
  EXPECT_LT(publishReason(paho, "tls/after-stall", "fine"), 0x80);  // still served
}

// Each handshake costs the broker a private-key operation before any CONNECT is read, so
// max_connect_rate counts handshakes per address too: over the rate, the socket is closed
// at accept instead of waiting for a ClientHello.
TEST_F(SecurityTls, HandshakesOverMaxConnectRateAreClosedAtAccept) {
  startTls(pki("server.crt"), pki("server.key"), {"max_connect_rate 2"});
  std::vector<std::unique_ptr<RawClient>> sockets;  // TCP only: never send a ClientHello
  for (int i = 0; i < 10; ++i) sockets.push_back(std::make_unique<RawClient>(broker_.port()));
  // Ten connections span at most two one-second windows, so at least six are over the
  // rate. Those within it wait for their handshake (10 s), far beyond this deadline.
  std::vector<bool> closed(sockets.size(), false);
  int closedCount = 0;
  const auto deadline = Clock::now() + 5s;
  while (closedCount < 6 && Clock::now() < deadline) {
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      if (!closed[i] && sockets[i]->waitClosed(20ms)) {
        closed[i] = true;
        ++closedCount;
      }
    }
  }
  EXPECT_GE(closedCount, 6);
  EXPECT_TRUE(broker_.waitForLog("too many TLS handshakes from this address (max_connect_rate)", 3s));
  sockets.clear();

  // The limit is per second: a real client gets through once the window has moved on.
  bool served = false;
  const auto retryUntil = Clock::now() + 10s;
  for (int attempt = 0; !served && Clock::now() < retryUntil; ++attempt) {
    try {
      mqtt::async_client& paho = pahoConnected("paho-after-flood-" + std::to_string(attempt), pki("ca.crt"));
      served = publishReason(paho, "tls/after-flood", "fine") < 0x80;
    } catch (const std::exception&) {
      // Refused within the same second; the next attempt lands in a later one.
    }
  }
  EXPECT_TRUE(served);
}

TEST_F(SecurityTls, ReloadServesTheNewCertificateAndKeepsConnectedClients) {
  const std::string cert = broker_.dataDir() + "/server.crt";
  const std::string key = broker_.dataDir() + "/server.key";
  copyFile(pki("server.crt"), cert);
  copyFile(pki("server.key"), key);
  startTls(cert, key);
  mqtt::async_client& before = pahoConnected("before-reload", pki("ca.crt"));
  subscribe(before, "reload/#");

  // Key first, then certificate, as the docs ask; the reload only comes with the signal.
  copyFile(pki("other-server.key"), key);
  copyFile(pki("other-server.crt"), cert);
  const std::size_t mark = broker_.logMark();
  broker_.signal(SIGHUP);
  ASSERT_TRUE(broker_.waitForLog("certificates reloaded", 5s, mark));

  const ProcessResult oldCa = mosquittoPublish(pki("ca.crt"), "reload/old", "refused");
  EXPECT_NE(oldCa.status, 0) << oldCa.output;
  const ProcessResult newCa = mosquittoPublish(pki("other-ca.crt"), "reload/new", "served");
  EXPECT_EQ(newCa.status, 0) << newCa.output;

  // The client connected before the reload stayed connected and gets the new message.
  mqtt::const_message_ptr message = receive(before);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->get_topic(), "reload/new");
  EXPECT_TRUE(before.is_connected());
}

TEST_F(SecurityTls, ReloadWithABrokenKeyKeepsThePreviousCertificate) {
  const std::string cert = broker_.dataDir() + "/server.crt";
  const std::string key = broker_.dataDir() + "/server.key";
  copyFile(pki("server.crt"), cert);
  copyFile(pki("server.key"), key);
  startTls(cert, key);

  copyFile(pki("broken.key"), key);
  std::size_t mark = broker_.logMark();
  broker_.signal(SIGHUP);
  ASSERT_TRUE(broker_.waitForLog("reload failed, keeping the previous certificates", 5s, mark));
  EXPECT_NE(broker_.log().find("keyfile " + key, mark), std::string::npos);
  ProcessResult stillServed = mosquittoPublish(pki("ca.crt"), "reload/x", "old certificate");
  EXPECT_EQ(stillServed.status, 0) << stillServed.output;

  // A key that parses but belongs to another certificate is refused the same way.
  copyFile(pki("device-42.key"), key);
  mark = broker_.logMark();
  broker_.signal(SIGHUP);
  ASSERT_TRUE(broker_.waitForLog("reload failed, keeping the previous certificates", 5s, mark));
  EXPECT_TRUE(broker_.waitForLog("does not match", 1s, mark));
  stillServed = mosquittoPublish(pki("ca.crt"), "reload/x", "old certificate");
  EXPECT_EQ(stillServed.status, 0) << stillServed.output;
  EXPECT_TRUE(broker_.running());
}

}  // namespace
}  // namespace midge::test::security
