// SPDX-License-Identifier: Apache-2.0
// The operator endpoint as a user sees it: /metrics moves by exactly what clients did and
// passes promtool, health checks answer, credentials are enforced, bad requests get 4xx
// with a log line, the connection limit holds and the endpoint answers under load.
#include <atomic>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/operator_http_support.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test {
namespace {

double delta(const std::map<std::string, double>& before,
             const std::map<std::string, double>& after, const std::string& name) {
  const auto a = after.find(name);
  if (a == after.end()) {
    ADD_FAILURE() << "no sample " << name;
    return -1;
  }
  const auto b = before.find(name);
  return a->second - (b == before.end() ? 0.0 : b->second);
}

// Receives one PUBLISH on `client` and completes its QoS flow; returns its payload.
std::string receiveOne(RawClient& client) {
  const RawPacket packet = client.expect(kPublish);
  const wire::PublishView view = wire::parsePublish(packet);
  if (view.qos == 1) client.send(wire::ack(kPuback, view.packetId));
  if (view.qos == 2) {
    client.send(wire::ack(kPubrec, view.packetId));
    client.expect(kPubrel);
    client.send(wire::ack(kPubcomp, view.packetId));
  }
  return view.payload;
}

TEST_F(OperatorHttpTest, CountersMoveByExactlyWhatTheClientsDid) {
  startBroker();
  const auto before = scrape();

  RawClient subscriber(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "subscriber";
  handshake(subscriber, spec);
  subscriber.send(wire::subscribe(1, "t/#", 2));
  subscriber.expect(kSuback);
  RawClient publisher(broker_.port());
  spec.clientId = "publisher";
  handshake(publisher, spec);
  for (int i = 0; i < 3; ++i) publisher.send(wire::publish("t/a", "zero", 0));
  for (std::uint16_t id = 1; id <= 2; ++id) {
    publisher.send(wire::publish("t/b", "one!!", 1, id));
    publisher.expect(kPuback);
  }
  publisher.send(wire::publish("t/c", "two", 2, 3));
  publisher.expect(kPubrec);
  publisher.send(wire::ack(kPubrel, 3));
  publisher.expect(kPubcomp);
  publisher.send(wire::publish("nobody/listens", "x", 1, 4));
  publisher.expect(kPuback);
  for (int i = 0; i < 6; ++i) receiveOne(subscriber);
  // 3.1.1 refuses an empty client id without clean session: a refusal of reason "other".
  RawClient refused(broker_.port());
  wire::ConnectSpec bad;
  bad.clientId = "";
  bad.cleanStart = false;
  refused.send(wire::connect(bad));
  EXPECT_EQ(wire::reasonOf(refused.expect(kConnack)), 2);
  EXPECT_TRUE(refused.waitClosed());

  const auto after = scrape();
  EXPECT_EQ(delta(before, after, "midge_messages_received_total{qos=\"0\"}"), 3);
  EXPECT_EQ(delta(before, after, "midge_messages_received_total{qos=\"1\"}"), 3);
  EXPECT_EQ(delta(before, after, "midge_messages_received_total{qos=\"2\"}"), 1);
  EXPECT_EQ(delta(before, after, "midge_payload_received_bytes_total{qos=\"0\"}"), 12);
  EXPECT_EQ(delta(before, after, "midge_payload_received_bytes_total{qos=\"1\"}"), 11);
  EXPECT_EQ(delta(before, after, "midge_payload_received_bytes_total{qos=\"2\"}"), 3);
  EXPECT_EQ(delta(before, after, "midge_messages_sent_total{qos=\"0\"}"), 3);
  EXPECT_EQ(delta(before, after, "midge_messages_sent_total{qos=\"1\"}"), 2);
  EXPECT_EQ(delta(before, after, "midge_messages_sent_total{qos=\"2\"}"), 1);
  EXPECT_EQ(delta(before, after, "midge_payload_sent_bytes_total{qos=\"0\"}"), 12);
  EXPECT_EQ(delta(before, after, "midge_payload_sent_bytes_total{qos=\"1\"}"), 10);
  EXPECT_EQ(delta(before, after, "midge_payload_sent_bytes_total{qos=\"2\"}"), 3);
  EXPECT_EQ(delta(before, after, "midge_messages_dropped_total{reason=\"no_subscribers\"}"), 1);
  EXPECT_EQ(delta(before, after, "midge_messages_dropped_total{reason=\"queue_full\"}"), 0);
  EXPECT_EQ(delta(before, after, "midge_client_connects_total"), 2);
  EXPECT_EQ(delta(before, after, "midge_connections_accepted_total"), 3);
  EXPECT_EQ(delta(before, after, "midge_connections_refused_total{reason=\"other\"}"), 1);
  EXPECT_EQ(delta(before, after, "midge_connections_refused_total{reason=\"bad_credentials\"}"), 0);
  EXPECT_EQ(after.at("midge_clients_connected"), 2);
  EXPECT_EQ(after.at("midge_sessions{state=\"active\"}"), 2);
  EXPECT_EQ(after.at("midge_subscriptions"), 1);
  EXPECT_EQ(after.at("midge_messages_inflight"), 0);
  EXPECT_EQ(after.at("midge_messages_queued"), 0);
  EXPECT_GT(after.at("process_resident_memory_bytes"), 0);
  EXPECT_GT(after.at("midge_event_loop_turn_duration_seconds_count"),
            before.at("midge_event_loop_turn_duration_seconds_count"));
}

TEST_F(OperatorHttpTest, OutputPassesPromtool) {
#ifdef MIDGE_TEST_PROMTOOL
  const std::string promtool = MIDGE_TEST_PROMTOOL;
#else
  const std::string promtool;
#endif
  if (promtool.empty()) GTEST_SKIP() << "promtool not found (Debian package prometheus)";
  startBroker({}, {"persistence true", "persistence_location {DIR}/store"});
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "durable";
  spec.cleanStart = false;
  handshake(client, spec);
  client.send(wire::subscribe(1, "q/#", 1));
  client.expect(kSuback);
  client.send(wire::publish("r/1", "payload", 1, 7, true));
  client.expect(kPuback);
  const HttpReply reply = httpGet(httpPort_, "/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_NE(reply.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  const auto samples = parseSamples(reply.body);
  EXPECT_GT(samples.at("midge_store_commit_duration_seconds_count"), 0);
  EXPECT_GT(samples.at("midge_store_size_bytes"), 0);
  const std::string path = broker_.dataDir() + "/metrics.txt";
  std::ofstream(path) << reply.body;
  std::string output;
  const int status = runToCompletion({"/bin/sh", "-c", promtool + " check metrics < " + path},
                                     std::chrono::seconds(30), &output);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output.find("problem"), std::string::npos) << output;
}

TEST_F(OperatorHttpTest, HealthAndReadinessAnswerWithoutCredentials) {
  const std::string tokenFile = broker_.dataDir() + "/token";
  std::ofstream(tokenFile) << "s3cret-token\n";
  startBroker({"http_bearer_token_file " + tokenFile});
  const HttpReply health = httpGet(httpPort_, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  const HttpReply ready = httpGet(httpPort_, "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  const HttpReply head = httpExchange(httpPort_, "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
}

TEST_F(OperatorHttpTest, BearerTokenGuardsMetrics) {
  const std::string tokenFile = broker_.dataDir() + "/token";
  std::ofstream(tokenFile) << "s3cret-token\n";
  startBroker({"http_bearer_token_file " + tokenFile});
  const std::size_t mark = broker_.logMark();
  const HttpReply none = httpGet(httpPort_, "/metrics");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.head.find("WWW-Authenticate: Bearer"), std::string::npos);
  EXPECT_EQ(httpGet(httpPort_, "/metrics", "Authorization: Bearer s3cret-tokem\r\n").status, 401);
  EXPECT_EQ(httpGet(httpPort_, "/metrics", "Authorization: Bearer s3cret\r\n").status, 401);
  EXPECT_EQ(httpGet(httpPort_, "/metrics", "Authorization: Bearer s3cret-token\r\n").status, 200);
  EXPECT_TRUE(broker_.waitForLog("no credentials (401)", 2s, mark));
  EXPECT_EQ(broker_.countInLog("wrong credentials (401)", mark), 2u);
}

TEST_F(OperatorHttpTest, BasicAuthenticationUsesAPasswordFile) {
#ifdef MIDGE_TEST_MIDGE_PASSWD
  const std::string tool = MIDGE_TEST_MIDGE_PASSWD;
#else
  const std::string tool;
#endif
  if (tool.empty()) GTEST_SKIP() << "midge-passwd not built";
  const std::string passwords = broker_.dataDir() + "/http-users";
  std::vector<std::string> command{tool, "-c", "-b", passwords, "scraper", "pa55word"};
  // A cross build cannot exec the target's tool directly: its launcher (qemu-user) does.
  const std::string launcher = MIDGE_TARGET_LAUNCHER;
  if (!launcher.empty()) command.insert(command.begin(), launcher);
  ASSERT_EQ(runToCompletion(command, 30s), 0);
  startBroker({"http_basic_auth_file " + passwords});
  // "scraper:pa55word" and "scraper:wrong" in base64.
  EXPECT_EQ(httpGet(httpPort_, "/metrics", "Authorization: Basic c2NyYXBlcjpwYTU1d29yZA==\r\n")
                .status,
            200);
  EXPECT_EQ(httpGet(httpPort_, "/metrics", "Authorization: Basic c2NyYXBlcjp3cm9uZw==\r\n")
                .status,
            401);
  EXPECT_EQ(httpGet(httpPort_, "/metrics", "Authorization: Basic !!!\r\n").status, 401);
  const HttpReply none = httpGet(httpPort_, "/metrics");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.head.find("WWW-Authenticate: Basic realm=\"midge\""), std::string::npos);
}

struct BadRequest {
  const char* name;
  std::string request;
  int status;
  const char* logged;
};

TEST_F(OperatorHttpTest, HostileRequestsGetAClearStatusAndALogLine) {
  startBroker();
  const std::string longHeader = "X-Filler: " + std::string(9000, 'a') + "\r\n";
  const BadRequest cases[] = {
      {"garbage request line", "GARBAGE\r\n\r\n", 400, "refused a malformed"},
      {"headers beyond 8 KiB", "GET /metrics HTTP/1.1\r\n" + longHeader + "\r\n", 400,
       "refused a malformed"},
      {"path beyond 8 KiB", "GET /" + std::string(9000, 'p') + " HTTP/1.1\r\n\r\n", 400,
       "refused a malformed"},
      {"body beyond 1 KiB",
       "POST /metrics HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b'), 413,
       "refused a malformed"},
      {"header line without a colon", "GET /metrics HTTP/1.1\r\nNoColonHere\r\n\r\n", 400,
       "refused a malformed"},
      // RFC 9110 15.6.2: an unrecognised method is 501, which evhttp answers itself.
      {"unknown method", "BREW /metrics HTTP/1.1\r\n\r\n", 501, "refused a malformed"},
      {"method not allowed", "DELETE /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", 405,
       "method not allowed (405)"},
      {"unknown path", "GET /../../etc/passwd HTTP/1.1\r\nConnection: close\r\n\r\n", 404,
       "not found (404)"},
  };
  RawClient bystander(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "bystander";
  handshake(bystander, spec);
  for (const BadRequest& bad : cases) {
    SCOPED_TRACE(bad.name);
    const std::size_t mark = broker_.logMark();
    const HttpReply reply = httpExchange(httpPort_, bad.request);
    EXPECT_EQ(reply.status, bad.status) << reply.head;
    EXPECT_TRUE(broker_.waitForLog(bad.logged, 2s, mark));
  }
  EXPECT_EQ(httpGet(httpPort_, "/healthz").status, 200);
  const auto samples = scrape();
  EXPECT_EQ(samples.at("midge_http_requests_rejected_total"), 6);
  // The MQTT side did not notice.
  bystander.send(wire::pingreq());
  bystander.expect(kPingresp);
}

TEST_F(OperatorHttpTest, ConnectionsBeyondTheLimitAreRefused) {
  startBroker({"max_connections 2"});
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 2; ++i) idle.push_back(std::make_unique<RawClient>(httpPort_));
  // The two idle sockets are accepted (and counted) before the next one: wait until the
  // third is answered 503 rather than assume the order of accepts.
  const std::size_t mark = broker_.logMark();
  HttpReply third = httpGet(httpPort_, "/healthz");
  EXPECT_EQ(third.status, 503);
  EXPECT_TRUE(broker_.waitForLog("2 connections already open (max_connections)", 2s, mark));
  idle.front()->close();
  idle.erase(idle.begin());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    status = httpGet(httpPort_, "/healthz").status;
  }
  EXPECT_EQ(status, 200) << "a freed slot must be usable again";
}

TEST_F(OperatorHttpTest, AnswersWhileTheBrokerIsUnderLoad) {
  startBroker();
  RawClient subscriber(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "sink";
  handshake(subscriber, spec);
  subscriber.send(wire::subscribe(1, "load/#", 0));
  subscriber.expect(kSuback);
  std::atomic<bool> stop{false};
  PublishFlood flood(broker_.port());
  std::thread drain([&] {
    while (!stop.load()) {
      subscriber.read(100ms);
      subscriber.clearReceived();
    }
  });
  // EXPECT, not ASSERT: returning early would leave the drain thread joinable.
  EXPECT_TRUE(flood.waitForPublished(1000, 10s)) << "the flood did not start";
  const bool moved = counterMovesAcrossScrapes(
      [&] {
        const auto samples = scrape();
        const auto found = samples.find("midge_messages_received_total{qos=\"0\"}");
        return found != samples.end() ? found->second : -1.0;
      },
      10s);
  flood.stop();
  stop = true;
  drain.join();
  EXPECT_TRUE(moved) << "messages kept flowing between the scrapes";
}

TEST_F(OperatorHttpTest, DashboardUsesOnlyExportedMetrics) {
  startBroker();
  const auto samples = scrape();
  std::ifstream file(MIDGE_TEST_DASHBOARD);
  ASSERT_TRUE(file) << MIDGE_TEST_DASHBOARD;
  std::stringstream text;
  text << file.rdbuf();
  const std::string dashboard = text.str();
  const std::regex metricName("\\b(midge|process)_[a-z_]+");
  std::set<std::string> used;
  for (auto it = std::sregex_iterator(dashboard.begin(), dashboard.end(), metricName);
       it != std::sregex_iterator(); ++it) {
    used.insert(it->str());
  }
  EXPECT_GT(used.size(), 10u);
  for (const std::string& name : used) {
    bool exported = false;
    for (const auto& sample : samples) {
      const std::string& series = sample.first;
      if (series.compare(0, name.size(), name) == 0 &&
          (series.size() == name.size() || series[name.size()] == '{')) {
        exported = true;
        break;
      }
    }
    EXPECT_TRUE(exported) << name << " is used by the dashboard but not exported";
  }
}

}  // namespace
}  // namespace midge::test
