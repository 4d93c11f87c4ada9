// SPDX-License-Identifier: Apache-2.0
// Certificate reload: new connections get the new material, running sessions keep theirs.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "port/tls/tls_server_context.hpp"
#include "tests/port/tls/memory_client.hpp"
#include "tests/port/tls/test_pki.hpp"

namespace midge::port {
namespace {

using testing::asString;
using testing::copyFile;
using testing::feedServer;
using testing::MemoryClientOptions;
using testing::MemoryTlsClient;
using testing::runHandshake;
using testing::TestPki;
using testing::writeFile;

class TlsReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*testing::opensslExecutable() == '\0') GTEST_SKIP() << "openssl not installed";
    // Each test edits its own copies of the files the listener names.
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    certFile_ = pki().path("reload-" + name + ".crt");
    keyFile_ = pki().path("reload-" + name + ".key");
    copyFile(pki().path("server.crt"), certFile_);
    copyFile(pki().path("server.key"), keyFile_);
    TlsOptions options;
    options.certFile = certFile_;
    options.keyFile = keyFile_;
    std::string error;
    ASSERT_TRUE(TlsServerContext::create(options, context_, error)) << error;
  }

  const TestPki& pki() const { return TestPki::instance(); }
  MemoryClientOptions clientOptions() const {
    MemoryClientOptions options;
    options.caFile = pki().path("ca.crt");
    return options;
  }
  void installServer2() {
    copyFile(pki().path("server2.crt"), certFile_);
    copyFile(pki().path("server2.key"), keyFile_);
  }
  // Handshakes a fresh session and returns the organisation of the certificate served.
  std::string organisationServedToNewClient() {
    auto session = context_->createSession();
    MemoryTlsClient client(clientOptions());
    const auto outcome = runHandshake(client, *session);
    if (outcome.clientResult != 0 || !outcome.serverOk)
      return "handshake failed: " + session->error();
    return client.serverOrganisation();
  }
  static void expectEcho(TlsSession& session, MemoryTlsClient& client, const std::string& text) {
    ASSERT_EQ(client.write(text), 0);
    std::vector<std::uint8_t> plain;
    ASSERT_TRUE(feedServer(session, client, client.takeOutput(), plain)) << session.error();
    EXPECT_EQ(asString(plain), text);
    std::vector<std::uint8_t> wire;
    ASSERT_TRUE(session.onSend(Bytes(plain), wire)) << session.error();
    client.deliver(wire);
    int status = 0;
    EXPECT_EQ(client.read(status), text);
  }

  std::string certFile_;
  std::string keyFile_;
  std::unique_ptr<TlsServerContext> context_;
};

TEST_F(TlsReloadTest, NewConnectionsGetTheNewCertificate) {
  EXPECT_EQ(organisationServedToNewClient(), "Midge Server One");
  installServer2();
  std::string error;
  ASSERT_TRUE(context_->reload(error)) << error;
  EXPECT_EQ(organisationServedToNewClient(), "Midge Server Two");
}

TEST_F(TlsReloadTest, EstablishedSessionsContinueAcrossReload) {
  auto established = context_->createSession();
  MemoryTlsClient establishedClient(clientOptions());
  ASSERT_EQ(runHandshake(establishedClient, *established).clientResult, 0);

  // A second session is half-way through its handshake when the reload happens.
  auto midway = context_->createSession();
  MemoryTlsClient midwayClient(clientOptions());
  ASSERT_EQ(midwayClient.handshake(), MBEDTLS_ERR_SSL_WANT_READ);
  std::vector<std::uint8_t> plain;
  ASSERT_TRUE(feedServer(*midway, midwayClient, midwayClient.takeOutput(), plain));

  installServer2();
  std::string error;
  ASSERT_TRUE(context_->reload(error)) << error;

  expectEcho(*established, establishedClient, "still here after reload");
  const auto outcome = runHandshake(midwayClient, *midway);
  ASSERT_EQ(outcome.clientResult, 0);
  EXPECT_EQ(midwayClient.serverOrganisation(), "Midge Server One");
  expectEcho(*midway, midwayClient, "finished on the old certificate");
}

TEST_F(TlsReloadTest, SessionsOutliveTheirContext) {
  auto session = context_->createSession();
  MemoryTlsClient client(clientOptions());
  ASSERT_EQ(runHandshake(client, *session).clientResult, 0);
  context_.reset();
  expectEcho(*session, client, "listener closed, connection lives on");
}

TEST_F(TlsReloadTest, BadKeyFileKeepsTheOldMaterial) {
  writeFile(keyFile_, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  std::string error;
  EXPECT_FALSE(context_->reload(error));
  EXPECT_NE(error.find("cannot read keyfile " + keyFile_), std::string::npos) << error;
  EXPECT_EQ(organisationServedToNewClient(), "Midge Server One");
}

TEST_F(TlsReloadTest, KeyNotMatchingTheNewCertificateKeepsTheOldMaterial) {
  copyFile(pki().path("server2.crt"), certFile_);  // the key still belongs to server.crt
  std::string error;
  EXPECT_FALSE(context_->reload(error));
  EXPECT_NE(error.find("does not match certfile"), std::string::npos) << error;
  EXPECT_EQ(organisationServedToNewClient(), "Midge Server One");
}

TEST_F(TlsReloadTest, ReloadWithChangedOptionsAppliesThem) {
  TlsOptions options = context_->options();
  options.caFile = pki().path("ca.crt");
  options.requireCertificate = true;
  std::string error;
  ASSERT_TRUE(context_->reload(options, error)) << error;
  EXPECT_TRUE(context_->options().requireCertificate);
  auto session = context_->createSession();
  MemoryTlsClient client(clientOptions());  // no client certificate
  EXPECT_FALSE(runHandshake(client, *session).serverOk);
  EXPECT_NE(session->error().find("peer did not return a certificate"), std::string::npos);

  options.tlsVersion = "tlsv1.3";
  EXPECT_FALSE(context_->reload(options, error));
  EXPECT_TRUE(context_->options().tlsVersion.empty()) << "a failed reload changes nothing";
}

}  // namespace
}  // namespace midge::port
