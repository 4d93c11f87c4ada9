// SPDX-License-Identifier: Apache-2.0
// TlsSession behind a real loopback socket, with python's ssl module (OpenSSL) as client.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "port/tls/tls_server_context.hpp"
#include "tests/port/tls/loopback_server.hpp"
#include "tests/port/tls/test_pki.hpp"

namespace midge::port {
namespace {

using testing::ConnectionReport;
using testing::LoopbackTlsServer;
using testing::runPythonClient;
using testing::TestPki;

constexpr std::chrono::seconds kWait{30};

class TlsSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*testing::opensslExecutable() == '\0') GTEST_SKIP() << "openssl not installed";
    if (*testing::python3Executable() == '\0') GTEST_SKIP() << "python3 not installed";
  }
  const TestPki& pki() const { return TestPki::instance(); }

  void start(const TlsOptions& options) {
    std::string error;
    ASSERT_TRUE(TlsServerContext::create(options, context_, error)) << error;
    server_ = std::make_unique<LoopbackTlsServer>(*context_);
  }
  TlsOptions serverOptions() const {
    TlsOptions options;
    options.certFile = pki().path("server.crt");
    options.keyFile = pki().path("server.key");
    return options;
  }
  std::map<std::string, std::string> connect(const std::string& caFile = "ca.crt",
                                             const std::string& certFile = "",
                                             const std::string& keyFile = "",
                                             std::size_t payloadBytes = 1000) {
    return runPythonClient(server_->port(), pki().path(caFile),
                           certFile.empty() ? "" : pki().path(certFile),
                           keyFile.empty() ? "" : pki().path(keyFile), payloadBytes);
  }
  ConnectionReport report(std::size_t index) {
    EXPECT_TRUE(server_->waitForConnections(index + 1, kWait));
    const auto reports = server_->reports();
    return index < reports.size() ? reports[index] : ConnectionReport{};
  }

  std::unique_ptr<TlsServerContext> context_;
  std::unique_ptr<LoopbackTlsServer> server_;
};

TEST_F(TlsSocketTest, GoodCertificateHandshakeAndEcho) {
  start(serverOptions());
  auto client = connect("ca.crt", "", "", 70000);  // several records each way
  EXPECT_EQ(client["result"], "ok");
  EXPECT_EQ(client["echo"], "ok");
  EXPECT_EQ(client["version"], "TLSv1.2");
  EXPECT_EQ(client["organisation"], "Midge Server One");
  const ConnectionReport server = report(0);
  EXPECT_TRUE(server.handshakeDone);
  EXPECT_EQ(server.echoedBytes, 70000u);
  EXPECT_EQ(server.peerIdentity, "");
  EXPECT_TRUE(server.peerClosed) << server.error;
}

TEST_F(TlsSocketTest, ClientTrustingAnotherCaFailsAndServerSaysWhy) {
  start(serverOptions());
  auto client = connect("wrong-ca.crt");
  EXPECT_NE(client["result"].find("CERTIFICATE_VERIFY_FAILED"), std::string::npos)
      << client["result"];
  const ConnectionReport server = report(0);
  EXPECT_FALSE(server.handshakeDone);
  EXPECT_NE(server.error.find("unknown_ca"), std::string::npos) << server.error;
}

TEST_F(TlsSocketTest, MissingClientCertificateFailsWhenRequired) {
  TlsOptions options = serverOptions();
  options.caFile = pki().path("ca.crt");
  options.requireCertificate = true;
  start(options);
  auto client = connect();
  EXPECT_NE(client["result"].find("error"), std::string::npos) << client["result"];
  const ConnectionReport server = report(0);
  EXPECT_FALSE(server.handshakeDone);
  EXPECT_NE(server.error.find("peer did not return a certificate"), std::string::npos)
      << server.error;
}

TEST_F(TlsSocketTest, ClientCertificateCommonNameIsTheIdentity) {
  TlsOptions options = serverOptions();
  options.caFile = pki().path("ca.crt");
  options.requireCertificate = true;
  options.useIdentityAsUsername = true;
  start(options);
  auto client = connect("ca.crt", "client.crt", "client.key");
  EXPECT_EQ(client["result"], "ok");
  EXPECT_EQ(client["echo"], "ok");
  const ConnectionReport server = report(0);
  EXPECT_TRUE(server.handshakeDone);
  EXPECT_EQ(server.peerIdentity, TestPki::clientCommonName());
}

TEST_F(TlsSocketTest, ExpiredServerCertificateIsRejectedByTheClient) {
  TlsOptions options = serverOptions();
  options.certFile = pki().path("expired-server.crt");
  start(options);
  auto client = connect();
  EXPECT_NE(client["result"].find("certificate has expired"), std::string::npos)
      << client["result"];
  const ConnectionReport server = report(0);
  EXPECT_FALSE(server.handshakeDone);
  EXPECT_NE(server.error.find("certificate_expired"), std::string::npos) << server.error;
}

class TlsSocketReloadTest : public TlsSocketTest {
 protected:
  void SetUp() override {
    TlsSocketTest::SetUp();
    if (IsSkipped()) return;
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    options_ = serverOptions();
    options_.certFile = pki().path("socket-" + name + ".crt");
    options_.keyFile = pki().path("socket-" + name + ".key");
    testing::copyFile(pki().path("server.crt"), options_.certFile);
    testing::copyFile(pki().path("server.key"), options_.keyFile);
    start(options_);
  }
  TlsOptions options_;
};

TEST_F(TlsSocketReloadTest, BadKeyKeepsTheOldContextWorking) {
  EXPECT_EQ(connect()["organisation"], "Midge Server One");
  testing::writeFile(options_.keyFile, "not a key\n");
  std::string error;
  EXPECT_FALSE(server_->reload(error));
  EXPECT_NE(error.find("cannot read keyfile " + options_.keyFile), std::string::npos) << error;
  auto client = connect();
  EXPECT_EQ(client["result"], "ok");
  EXPECT_EQ(client["echo"], "ok");
  EXPECT_EQ(client["organisation"], "Midge Server One");
  EXPECT_TRUE(report(1).handshakeDone);
}

TEST_F(TlsSocketReloadTest, NewCertificateIsServedToNewConnections) {
  EXPECT_EQ(connect()["organisation"], "Midge Server One");
  ASSERT_TRUE(report(0).handshakeDone);
  testing::copyFile(pki().path("server2.crt"), options_.certFile);
  testing::copyFile(pki().path("server2.key"), options_.keyFile);
  std::string error;
  ASSERT_TRUE(server_->reload(error)) << error;
  auto client = connect();
  EXPECT_EQ(client["result"], "ok");
  EXPECT_EQ(client["organisation"], "Midge Server Two");
}

}  // namespace
}  // namespace midge::port
