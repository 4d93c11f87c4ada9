// SPDX-License-Identifier: Apache-2.0
// The bridge over TLS to a real Mosquitto with a test CA made by openssl at run time: a
// verified upstream carries messages out; an upstream whose certificate another CA signed
// is never reached.
#include <fstream>

#include "tests/bridge/bridge_support.hpp"

namespace midge::test {
namespace {

std::string pkiDir;

bool openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  std::string out;
  const int status = runToCompletion(args, 30s, &out);
  if (status != 0) ADD_FAILURE() << "openssl failed: " << out;
  return status == 0;
}

void makeCa(const std::string& ca) {
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", pkiDir + "/" + ca + ".key", "-out", pkiDir + "/" + ca + ".crt", "-days", "2",
           "-subj", "/CN=Midge bridge test " + ca});
}

// A server certificate for localhost with a DNS SAN (mbedTLS matches no IP SAN).
void makeServer(const std::string& ca) {
  const std::string base = pkiDir + "/server";
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
           base + ".key", "-out", base + ".csr", "-subj", "/CN=localhost"});
  std::ofstream(base + ".ext") << "subjectAltName=DNS:localhost\n";
  openssl({"x509", "-req", "-in", base + ".csr", "-CA", pkiDir + "/" + ca + ".crt", "-CAkey",
           pkiDir + "/" + ca + ".key", "-CAcreateserial", "-out", base + ".crt", "-days", "2",
           "-extfile", base + ".ext"});
}

class BridgeTls : public BridgeTest {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/midge-bridge-pki-XXXXXX";
    pkiDir = mkdtemp(pattern);
    makeCa("ca");
    makeCa("other-ca");
    makeServer("ca");
    std::string out;
    runToCompletion({"/bin/chmod", "-R", "a+rX", pkiDir}, 5s, &out);
  }
  static void TearDownTestSuite() {
    std::string out;
    runToCompletion({"/bin/rm", "-rf", pkiDir}, 5s, &out);
  }
  UpstreamTls upstreamTls() override {
    return {pkiDir + "/ca.crt", pkiDir + "/server.crt", pkiDir + "/server.key", false};
  }
  // mosquitto_sub over TLS on the upstream: the chain verified against the test CA, the
  // host name not (it connects by address).
  std::unique_ptr<Subprocess> tlsSubscriber(const std::string& filter) {
    auto sub = std::make_unique<Subprocess>(std::vector<std::string>{
        MIDGE_TEST_MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", std::to_string(upstream_->port()),
        "--cafile", pkiDir + "/ca.crt", "--insecure", "-t", filter, "-q", "1", "-v"});
    return sub;
  }
};

TEST_F(BridgeTls, VerifiedUpstreamCarriesMessagesOut) {
  startGateway(false);
  runnerCaFile_ = pkiDir + "/ca.crt";
  startRunner(4, {"sensors/# out 1 \"\" \"\""});
  auto up = tlsSubscriber("sensors/#");
  // Until the subscriber and the bridge are both in place.
  ASSERT_TRUE(waitForPath(gateway_.port(), "sensors/t", *up, "sensors/t")) << runnerLog();
  publish(gateway_.port(), "sensors/t", "over-tls", 1);
  EXPECT_TRUE(waitSeen(*up, "sensors/t over-tls", 10s)) << up->output() << runnerLog();
}

TEST_F(BridgeTls, UpstreamSignedByAnotherCaIsNeverReached) {
  startGateway(false);
  runnerCaFile_ = pkiDir + "/other-ca.crt";
  startRunner(4, {"sensors/# out 1 \"\" \"\""});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (runnerLog().find("uplink closed") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    runner_->waitForOutput("uplink closed", 100ms);
  }
  EXPECT_NE(runnerLog().find("uplink closed"), std::string::npos) << runnerLog();
  EXPECT_EQ(upstream_->output().find("New client connected"), std::string::npos)
      << upstream_->output();
}

}  // namespace
}  // namespace midge::test
