// SPDX-License-Identifier: Apache-2.0
// A real Prometheus server scrapes the endpoint (with the bearer token a deployment would
// use) and answers a query for a Midge metric over its HTTP API. Prometheus starts in about
// a second and scrapes every second here, so the test fits in a few seconds; it is skipped
// where the Debian package prometheus is not installed.
#include <fstream>

#include "tests/integration/operator_http_support.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test {
namespace {

TEST_F(OperatorHttpTest, PrometheusScrapesTheEndpoint) {
#ifdef MIDGE_TEST_PROMETHEUS
  const std::string prometheus = MIDGE_TEST_PROMETHEUS;
#else
  const std::string prometheus;
#endif
  if (prometheus.empty()) GTEST_SKIP() << "prometheus not found (Debian package prometheus)";
  const std::string tokenFile = broker_.dataDir() + "/token";
  std::ofstream(tokenFile) << "scrape-token\n";
  startBroker({"http_bearer_token_file " + tokenFile});
  for (int i = 0; i < 3; ++i) {
    RawClient client(broker_.port());
    wire::ConnectSpec spec;
    spec.clientId = "client-" + std::to_string(i);
    handshake(client, spec);
    client.send(wire::disconnect());
    client.waitClosed();
  }

  const std::string config = broker_.dataDir() + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        << "scrape_configs:\n  - job_name: midge\n"
                        << "    authorization:\n      type: Bearer\n"
                        << "      credentials_file: " << tokenFile << "\n"
                        << "    static_configs:\n      - targets: ['127.0.0.1:" << httpPort_
                        << "']\n";
  const std::uint16_t apiPort = pickFreeLoopbackPort();
  Subprocess server({prometheus, "--config.file=" + config,
                     "--storage.tsdb.path=" + broker_.dataDir() + "/tsdb",
                     "--web.listen-address=127.0.0.1:" + std::to_string(apiPort),
                     "--log.level=warn"});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::string answer;
  while (std::chrono::steady_clock::now() < deadline) {
    const HttpReply reply =
        httpGet(apiPort, "/api/v1/query?query=midge_client_connects_total%7Bjob%3D%22midge%22%7D");
    if (reply.status == 200 && reply.body.find("\"result\":[{") != std::string::npos) {
      answer = reply.body;
      break;
    }
    server.waitForOutput("\n", 200ms);  // a poll interval that also collects its log
  }
  EXPECT_NE(answer.find("\"3\"]"), std::string::npos)
      << "query answer: " << answer << "\nprometheus log:\n" << server.output();
  const HttpReply targets = httpGet(apiPort, "/api/v1/targets");
  EXPECT_NE(targets.body.find("\"health\":\"up\""), std::string::npos) << targets.body;
  server.terminate();
}

}  // namespace
}  // namespace midge::test
