// SPDX-License-Identifier: Apache-2.0
// The operator endpoint over https, as curl sees it: /metrics and health checks, bearer
// authentication, a client with the wrong CA, required client certificates, plain HTTP
// sent to the https port, a client that never starts its handshake, the connection limit,
// a local process that talks to the internal socket directly, and scrapes while MQTT
// traffic flows. Certificates come from the security tests' TestPki (openssl).
#include <algorithm>
#include <csignal>
#include <cstddef>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <dirent.h>

#include "tests/integration/operator_http_support.hpp"
#include "tests/integration/subprocess.hpp"
#include "tests/security/security_support.hpp"

namespace midge::test {
namespace {

struct CurlResult {
  int exitStatus = -1;
  int httpStatus = 0;  // 0: no answer (TLS refused, connection closed)
  std::string output;  // body, then curl's own messages
};

class OperatorHttpsTest : public OperatorHttpTest {
 protected:
  static void SetUpTestSuite() { pki_ = new security::TestPki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override {
    if (*MIDGE_TEST_CURL == '\0') GTEST_SKIP() << "curl not installed";
  }
  static std::string pki(const std::string& name) { return pki_->path(name); }

  void startHttps(const std::vector<std::string>& extra = {},
                  const std::vector<std::string>& brokerLines = {}) {
    std::vector<std::string> lines{"certfile " + pki("server.crt"), "keyfile " + pki("server.key")};
    lines.insert(lines.end(), extra.begin(), extra.end());
    startBroker(lines, brokerLines);
  }

  CurlResult curl(const std::string& path, const std::vector<std::string>& options = {},
                  const std::string& ca = "ca.crt") {
    std::vector<std::string> argv{MIDGE_TEST_CURL, "-sS", "--max-time", "10", "--cacert", pki(ca),
                                  "-w", "\nHTTP_STATUS=%{http_code}\n"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("https://127.0.0.1:" + std::to_string(httpPort_) + path);
    CurlResult result;
    result.exitStatus = runToCompletion(argv, std::chrono::seconds(15), &result.output);
    std::smatch match;
    if (std::regex_search(result.output, match, std::regex("HTTP_STATUS=(\\d+)"))) {
      result.httpStatus = std::stoi(match[1]);
    }
    return result;
  }

  double sample(const std::string& name) {
    const CurlResult result = curl("/metrics");
    EXPECT_EQ(result.httpStatus, 200) << result.output;
    const auto samples = parseSamples(result.output);
    const auto found = samples.find(name);
    return found == samples.end() ? -1 : found->second;
  }

  static security::TestPki* pki_;
};

security::TestPki* OperatorHttpsTest::pki_ = nullptr;

TEST_F(OperatorHttpsTest, CurlGetsMetricsAndHealthOverTls) {
  startHttps();
  const CurlResult health = curl("/healthz");
  EXPECT_EQ(health.exitStatus, 0) << health.output;
  EXPECT_EQ(health.httpStatus, 200);
  EXPECT_EQ(health.output.rfind("ok\n", 0), 0u) << health.output;
  const CurlResult ready = curl("/readyz");
  EXPECT_EQ(ready.httpStatus, 200) << ready.output;
  const CurlResult metrics = curl("/metrics");
  ASSERT_EQ(metrics.httpStatus, 200) << metrics.output;
  EXPECT_NE(metrics.output.find("midge_tls_handshakes_total"), std::string::npos);
  // Keep-alive: two requests on one TLS connection both answer.
  const CurlResult twice = curl("/healthz", {"https://127.0.0.1:" + std::to_string(httpPort_) + "/readyz"});
  EXPECT_EQ(twice.exitStatus, 0) << twice.output;
  EXPECT_NE(twice.output.find("ready\n"), std::string::npos) << twice.output;
  EXPECT_GE(sample("midge_tls_handshakes_total"), 4.0);
  const CurlResult missing = curl("/nothing");
  EXPECT_EQ(missing.httpStatus, 404) << missing.output;
}

TEST_F(OperatorHttpsTest, BearerTokenGuardsMetricsAsOnPlainHttp) {
  security::writeFile(broker_.dataDir() + "/token", "s3cret-token\n");
  startHttps({"http_bearer_token_file " + broker_.dataDir() + "/token"});
  const CurlResult anonymous = curl("/metrics");
  EXPECT_EQ(anonymous.httpStatus, 401) << anonymous.output;
  const CurlResult wrong = curl("/metrics", {"-H", "Authorization: Bearer nope"});
  EXPECT_EQ(wrong.httpStatus, 401) << wrong.output;
  const CurlResult right = curl("/metrics", {"-H", "Authorization: Bearer s3cret-token"});
  EXPECT_EQ(right.httpStatus, 200) << right.output;
  EXPECT_EQ(curl("/healthz").httpStatus, 200);
}

TEST_F(OperatorHttpsTest, ClientWithTheWrongCaIsRefusedAndCounted) {
  startHttps();
  const double before = sample("midge_tls_failures_total");
  const std::size_t mark = broker_.logMark();
  const CurlResult refused = curl("/healthz", {}, "other-ca.crt");
  EXPECT_NE(refused.exitStatus, 0) << refused.output;
  EXPECT_EQ(refused.httpStatus, 0);
  EXPECT_TRUE(broker_.waitForLog("unknown_ca", 5s, mark));
  EXPECT_EQ(sample("midge_tls_failures_total"), before + 1);
}

TEST_F(OperatorHttpsTest, RequiredClientCertificateMissingIsRefusedPresentIsAdmitted) {
  startHttps({"cafile " + pki("ca.crt"), "require_certificate true"});
  std::size_t mark = broker_.logMark();
  const CurlResult missing = curl("/healthz");
  EXPECT_EQ(missing.httpStatus, 0) << missing.output;
  EXPECT_TRUE(broker_.waitForLog("peer did not return a certificate", 5s, mark));
  const CurlResult present =
      curl("/healthz", {"--cert", pki("device-42.crt"), "--key", pki("device-42.key")});
  EXPECT_EQ(present.httpStatus, 200) << present.output;
  // A certificate from another CA is refused like a missing one.
  mark = broker_.logMark();
  const CurlResult foreign =
      curl("/healthz", {"--cert", pki("other-server.crt"), "--key", pki("other-server.key")});
  EXPECT_EQ(foreign.httpStatus, 0) << foreign.output;
  EXPECT_TRUE(broker_.waitForLog("certificate verify failed", 5s, mark));
}

TEST_F(OperatorHttpsTest, PlainHttpToTheHttpsPortIsAnswered400) {
  startHttps();
  const std::size_t mark = broker_.logMark();
  const HttpReply reply = httpGet(httpPort_, "/metrics");
  EXPECT_EQ(reply.status, 400) << reply.head;
  EXPECT_NE(reply.body.find("https://"), std::string::npos) << reply.body;
  EXPECT_TRUE(broker_.waitForLog("plain HTTP sent to the https listener", 5s, mark));
  EXPECT_EQ(sample("midge_tls_failures_total"), 1.0);
}

TEST_F(OperatorHttpsTest, SighupServesTheRenewedCertificate) {
  const std::string cert = broker_.dataDir() + "/server.crt";
  const std::string key = broker_.dataDir() + "/server.key";
  security::copyFile(pki("server.crt"), cert);
  security::copyFile(pki("server.key"), key);
  startBroker({"certfile " + cert, "keyfile " + key});
  ASSERT_EQ(curl("/healthz").httpStatus, 200);
  // Key first, then certificate; the reload only comes with the signal.
  security::copyFile(pki("other-server.key"), key);
  security::copyFile(pki("other-server.crt"), cert);
  const std::size_t mark = broker_.logMark();
  broker_.signal(SIGHUP);
  ASSERT_TRUE(broker_.waitForLog("certificates reloaded", 5s, mark));
  EXPECT_EQ(curl("/healthz", {}, "other-ca.crt").httpStatus, 200);
  EXPECT_EQ(curl("/healthz").httpStatus, 0) << "the old CA no longer matches";
}

TEST_F(OperatorHttpsTest, ClientThatNeverStartsItsHandshakeIsCutAtTheTimeout) {
  startHttps();
  const std::size_t mark = broker_.logMark();
  RawClient silent(httpPort_);
  // The handshake deadline is 10 s; the close must come after it, and not much later.
  EXPECT_TRUE(silent.waitClosed(20s));
  EXPECT_TRUE(broker_.waitForLog("TLS handshake not done within 10000 ms", 5s, mark));
  EXPECT_EQ(curl("/healthz").httpStatus, 200);
}

TEST_F(OperatorHttpsTest, ConnectionsBeyondTheLimitAreRefused) {
  startHttps({"max_connections 2"});
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 2; ++i) idle.push_back(std::make_unique<RawClient>(httpPort_));
  // Both idle sockets are accepted before the third: they hold the two slots.
  const std::size_t mark = broker_.logMark();
  const CurlResult third = curl("/healthz");
  EXPECT_EQ(third.httpStatus, 503) << third.output;
  EXPECT_TRUE(broker_.waitForLog("2 connections already open (max_connections)", 2s, mark));
  idle.front()->close();
  idle.erase(idle.begin());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    status = curl("/healthz").httpStatus;
  }
  EXPECT_EQ(status, 200) << "a freed slot must be usable again";
}

// The abstract socket evhttp listens on, found through the broker's descriptors.
std::string internalSocketName(pid_t pid) {
  std::vector<std::string> inodes;
  const std::string fdDir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* dir = ::opendir(fdDir.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      char target[128] = {};
      const std::string link = fdDir + "/" + entry->d_name;
      if (::readlink(link.c_str(), target, sizeof target - 1) > 0) {
        const std::string text(target);
        if (text.rfind("socket:[", 0) == 0) inodes.push_back(text.substr(8, text.size() - 9));
      }
    }
    ::closedir(dir);
  }
  std::ifstream table("/proc/net/unix");
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, refs, protocol, flags, type, state, inode, path;
    fields >> slot >> refs >> protocol >> flags >> type >> state >> inode >> path;
    const bool listening = flags == "00010000";
    if (listening && !path.empty() && path[0] == '@' &&
        std::find(inodes.begin(), inodes.end(), inode) != inodes.end()) {
      return path.substr(1);
    }
  }
  return std::string();
}

TEST_F(OperatorHttpsTest, LocalProcessThatSkipsTlsIsRefused) {
  startHttps();
  const std::string name = internalSocketName(broker_.pid());
  ASSERT_FALSE(name.empty()) << "no internal socket found";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  address.sun_path[0] = '\0';
  name.copy(address.sun_path + 1, sizeof address.sun_path - 2);
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string answer;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 403", 0), 0u) << answer;
  EXPECT_EQ(answer.find("midge_"), std::string::npos) << answer;
  EXPECT_TRUE(broker_.waitForLog("did not come through TLS", 5s));
}

// A TLS client that asks for /metrics many times over on one connection and never reads
// an answer; its receive buffer is small, so the answers back up into the broker.
constexpr const char* kNonReadingClient = R"(
import socket, ssl, sys, time
port, cafile = sys.argv[1:3]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.load_verify_locations(cafile)
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.connect(("127.0.0.1", int(port)))
tls = context.wrap_socket(raw, server_hostname="localhost")
tls.settimeout(5)
try:
    tls.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 2000)
except OSError:
    pass
print("sent", flush=True)
time.sleep(60)
)";

TEST_F(OperatorHttpsTest, ClientThatStopsReadingIsCutAtTheWriteStallTimeout) {
  if (*SYSTEM_PYTHON3 == '\0') GTEST_SKIP() << "python3 not installed";
  startHttps();
  const std::size_t mark = broker_.logMark();
  Subprocess client({SYSTEM_PYTHON3, "-c", kNonReadingClient, std::to_string(httpPort_), pki("ca.crt")});
  ASSERT_TRUE(client.waitForOutput("sent", 20s)) << client.output();
  // Backpressure holds the answers at 64 KiB in the broker; after 10 s without progress
  // (the write stall timeout, or evhttp's own 10 s timeout first) the connection ends.
  EXPECT_TRUE(broker_.waitForLog("write stall timeout", 30s, mark));
  client.terminate();
  EXPECT_EQ(curl("/healthz").httpStatus, 200);
}

TEST_F(OperatorHttpsTest, AnswersWhileMqttTrafficFlows) {
  startHttps();
  PublishFlood flood(broker_.port());
  ASSERT_TRUE(flood.waitForPublished(1000, 10s)) << "the flood did not start";
  const bool moved = counterMovesAcrossScrapes(
      [&] { return sample("midge_messages_received_total{qos=\"0\"}"); }, 10s);
  flood.stop();
  EXPECT_TRUE(moved) << "messages kept flowing between the scrapes";
}

}  // namespace
}  // namespace midge::test
