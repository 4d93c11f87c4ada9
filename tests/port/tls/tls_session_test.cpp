// SPDX-License-Identifier: Apache-2.0
// TlsSession driven in memory against an mbedTLS client played by the test.
#include <gtest/gtest.h>
#include <mbedtls/x509.h>

#include <algorithm>
#include <memory>
#include <string>

#include "port/tls/tls_server_context.hpp"
#include "tests/port/tls/memory_client.hpp"
#include "tests/port/tls/test_pki.hpp"

namespace midge::port {
namespace {

using testing::asString;
using testing::feedServer;
using testing::makeServerContext;
using testing::MemoryClientOptions;
using testing::MemoryTlsClient;
using testing::runHandshake;
using testing::TestPki;

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*testing::opensslExecutable() == '\0') GTEST_SKIP() << "openssl not installed";
  }
  const TestPki& pki() const { return TestPki::instance(); }

  TlsOptions serverOptions() const {
    TlsOptions options;
    options.certFile = pki().path("server.crt");
    options.keyFile = pki().path("server.key");
    return options;
  }
  TlsOptions requireClientCertificate() const {
    TlsOptions options = serverOptions();
    options.caFile = pki().path("ca.crt");
    options.requireCertificate = true;
    return options;
  }
  MemoryClientOptions clientOptions() const {
    MemoryClientOptions options;
    options.caFile = pki().path("ca.crt");
    return options;
  }
  MemoryClientOptions clientWithCertificate(const std::string& cert, const std::string& key) const {
    MemoryClientOptions options = clientOptions();
    options.certFile = pki().path(cert);
    options.keyFile = pki().path(key);
    return options;
  }

};

std::string patternedText(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + i % 26);
  return text;
}

TEST_F(TlsSessionTest, HandshakeCompletesAndDataFlowsBothWays) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());

  EXPECT_FALSE(session->handshakeDone());
  const auto outcome = runHandshake(client, *session);
  ASSERT_EQ(outcome.clientResult, 0);
  ASSERT_TRUE(outcome.serverOk) << session->error();
  EXPECT_TRUE(session->handshakeDone());
  EXPECT_EQ(session->peerIdentity(), "");
  EXPECT_NE(session->cipherSuite(), "");
  EXPECT_EQ(session->error(), "");

  ASSERT_EQ(client.write("PINGREQ from client"), 0);
  std::vector<std::uint8_t> plain;
  ASSERT_TRUE(feedServer(*session, client, client.takeOutput(), plain));
  EXPECT_EQ(asString(plain), "PINGREQ from client");

  std::vector<std::uint8_t> wire;
  ASSERT_TRUE(session->onSend(asBytes("PINGRESP from server"), wire));
  EXPECT_EQ(std::search(wire.begin(), wire.end(), plain.begin(), plain.begin() + 7), wire.end())
      << "application data must not appear in clear on the wire";
  client.deliver(wire);
  int status = 0;
  EXPECT_EQ(client.read(status), "PINGRESP from server");
  EXPECT_EQ(status, MBEDTLS_ERR_SSL_WANT_READ);
}

TEST_F(TlsSessionTest, MessagesLargerThanOneRecordArriveWhole) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  ASSERT_EQ(runHandshake(client, *session).clientResult, 0);

  const std::string big = patternedText(100 * 1024);
  ASSERT_EQ(client.write(big), 0);
  std::vector<std::uint8_t> plain;
  ASSERT_TRUE(feedServer(*session, client, client.takeOutput(), plain, 1000));
  EXPECT_EQ(asString(plain), big);

  std::vector<std::uint8_t> wire;
  ASSERT_TRUE(session->onSend(asBytes(big), wire));
  EXPECT_GT(wire.size(), big.size()) << "records add headers and tags";
  client.deliver(wire);
  int status = 0;
  EXPECT_EQ(client.read(status), big);
}

TEST_F(TlsSessionTest, HandshakeAndDataSurviveOneByteAtATime) {
  auto context = makeServerContext(requireClientCertificate());
  auto session = context->createSession();
  MemoryTlsClient client(clientWithCertificate("client.crt", "client.key"));
  const auto outcome = runHandshake(client, *session, 1);
  ASSERT_EQ(outcome.clientResult, 0);
  ASSERT_TRUE(outcome.serverOk) << session->error();

  ASSERT_EQ(client.write("split record"), 0);
  std::vector<std::uint8_t> plain;
  ASSERT_TRUE(feedServer(*session, client, client.takeOutput(), plain, 1));
  EXPECT_EQ(asString(plain), "split record");
}

TEST_F(TlsSessionTest, ClientCertificateCommonNameIsThePeerIdentity) {
  auto context = makeServerContext(requireClientCertificate());
  auto session = context->createSession();
  MemoryTlsClient client(clientWithCertificate("client.crt", "client.key"));
  const auto outcome = runHandshake(client, *session);
  ASSERT_EQ(outcome.clientResult, 0);
  ASSERT_TRUE(outcome.serverOk) << session->error();
  EXPECT_EQ(session->peerIdentity(), TestPki::clientCommonName());
}

TEST_F(TlsSessionTest, SubjectAsUsernameMatchesOpenSslRfc2253Text) {
  TlsOptions options = requireClientCertificate();
  options.useSubjectAsUsername = true;
  auto context = makeServerContext(options);
  auto session = context->createSession();
  MemoryTlsClient client(clientWithCertificate("client.crt", "client.key"));
  ASSERT_TRUE(runHandshake(client, *session).serverOk) << session->error();
  const std::string expected = pki().clientSubjectRfc2253();
  ASSERT_NE(expected.find("\\,"), std::string::npos) << "the subject should exercise escaping";
  EXPECT_EQ(session->peerIdentity(), expected);
}

TEST_F(TlsSessionTest, CaPathVerifiesClientCertificates) {
  TlsOptions options = serverOptions();
  options.caPath = pki().path("capath");
  options.requireCertificate = true;
  auto context = makeServerContext(options);
  auto session = context->createSession();
  MemoryTlsClient client(clientWithCertificate("client.crt", "client.key"));
  ASSERT_TRUE(runHandshake(client, *session).serverOk) << session->error();
  EXPECT_EQ(session->peerIdentity(), TestPki::clientCommonName());
}

TEST_F(TlsSessionTest, MissingClientCertificateIsRefusedWhenRequired) {
  auto context = makeServerContext(requireClientCertificate());
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  const auto outcome = runHandshake(client, *session);
  EXPECT_FALSE(outcome.serverOk);
  EXPECT_FALSE(session->handshakeDone());
  EXPECT_NE(session->error().find("peer did not return a certificate"), std::string::npos)
      << session->error();
  EXPECT_EQ(session->peerIdentity(), "");
}

TEST_F(TlsSessionTest, ClientCertificateFromUnknownCaIsRefused) {
  auto context = makeServerContext(requireClientCertificate());
  auto session = context->createSession();
  MemoryTlsClient client(clientWithCertificate("wrong-ca-client.crt", "wrong-ca-client.key"));
  const auto outcome = runHandshake(client, *session);
  EXPECT_FALSE(outcome.serverOk);
  EXPECT_NE(session->error().find("certificate verify failed: unknown CA"), std::string::npos)
      << session->error();
  // The client is told why with an alert.
  EXPECT_NE(outcome.clientResult, 0);
}

TEST_F(TlsSessionTest, ExpiredClientCertificateIsRefused) {
  auto context = makeServerContext(requireClientCertificate());
  auto session = context->createSession();
  MemoryTlsClient client(clientWithCertificate("expired-client.crt", "client.key"));
  const auto outcome = runHandshake(client, *session);
  EXPECT_FALSE(outcome.serverOk);
  EXPECT_NE(session->error().find("certificate verify failed: expired"), std::string::npos)
      << session->error();
}

TEST_F(TlsSessionTest, RevokedClientCertificateIsRefused) {
  TlsOptions options = requireClientCertificate();
  options.crlFile = pki().path("crl.pem");
  auto context = makeServerContext(options);
  auto revoked = context->createSession();
  MemoryTlsClient revokedClient(clientWithCertificate("revoked-client.crt", "revoked-client.key"));
  EXPECT_FALSE(runHandshake(revokedClient, *revoked).serverOk);
  EXPECT_NE(revoked->error().find("certificate verify failed: revoked"), std::string::npos)
      << revoked->error();

  auto good = context->createSession();
  MemoryTlsClient goodClient(clientWithCertificate("client.crt", "client.key"));
  EXPECT_TRUE(runHandshake(goodClient, *good).serverOk) << good->error();
}

TEST_F(TlsSessionTest, ClientThatDoesNotTrustOurCaIsReportedFromItsAlert) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  MemoryClientOptions options = clientOptions();
  options.caFile = pki().path("wrong-ca.crt");
  MemoryTlsClient client(options);
  const auto outcome = runHandshake(client, *session);
  EXPECT_EQ(outcome.clientResult, MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
  EXPECT_TRUE(client.verifyResult() & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
  EXPECT_FALSE(outcome.serverOk);
  EXPECT_NE(session->error().find("unknown_ca"), std::string::npos) << session->error();
}

TEST_F(TlsSessionTest, ExpiredServerCertificateIsRejectedByTheClient) {
  TlsOptions options = serverOptions();
  options.certFile = pki().path("expired-server.crt");
  auto context = makeServerContext(options);  // loading an expired certificate is allowed
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  const auto outcome = runHandshake(client, *session);
  EXPECT_EQ(outcome.clientResult, MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
  EXPECT_TRUE(client.verifyResult() & MBEDTLS_X509_BADCERT_EXPIRED);
  EXPECT_NE(session->error().find("certificate_expired"), std::string::npos) << session->error();
}

TEST_F(TlsSessionTest, PlainMqttOnTheTlsPortIsNamed) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  const std::uint8_t connect[] = {0x10, 0x0c, 0x00, 0x04, 'M',  'Q',
                                  'T',  'T',  0x04, 0x02, 0x00, 0x3c};
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> wire;
  EXPECT_FALSE(session->onReceive(Bytes(connect), plain, wire));
  EXPECT_NE(session->error().find("plain MQTT client"), std::string::npos) << session->error();
  EXPECT_TRUE(plain.empty());
  // A failed session stays failed and keeps its first reason.
  const std::string firstError = session->error();
  EXPECT_FALSE(session->onReceive(Bytes(connect), plain, wire));
  EXPECT_EQ(session->error(), firstError);
}

TEST_F(TlsSessionTest, OversizedRecordIsRefusedWithoutBuffering) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  // A handshake record header announcing 65535 bytes, larger than any TLS record may be.
  std::vector<std::uint8_t> hostile = {0x16, 0x03, 0x03, 0xff, 0xff};
  hostile.resize(hostile.size() + 20000, 0x41);
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> wire;
  EXPECT_FALSE(session->onReceive(Bytes(hostile), plain, wire));
  EXPECT_NE(session->error().find("handshake failed"), std::string::npos) << session->error();
}

TEST_F(TlsSessionTest, GarbageHandshakeIsAnError) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  const std::vector<std::uint8_t> garbage = {0x16, 0x03, 0x01, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef};
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> wire;
  EXPECT_FALSE(session->onReceive(Bytes(garbage), plain, wire));
  EXPECT_NE(session->error().find("handshake failed"), std::string::npos) << session->error();
}

TEST_F(TlsSessionTest, TamperedRecordIsRefused) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  ASSERT_EQ(runHandshake(client, *session).clientResult, 0);
  ASSERT_EQ(client.write("PUBLISH payload"), 0);
  std::vector<std::uint8_t> record = client.takeOutput();
  record.back() ^= 0x01;  // flips a bit of the authentication tag
  std::vector<std::uint8_t> plain;
  EXPECT_FALSE(feedServer(*session, client, record, plain));
  EXPECT_TRUE(plain.empty());
  EXPECT_NE(session->error().find("TLS record error"), std::string::npos) << session->error();
}

TEST_F(TlsSessionTest, ClientCloseNotifyIsAnsweredInKind) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  ASSERT_EQ(runHandshake(client, *session).clientResult, 0);
  ASSERT_EQ(client.closeNotify(), 0);
  std::vector<std::uint8_t> plain;
  EXPECT_FALSE(feedServer(*session, client, client.takeOutput(), plain));
  EXPECT_TRUE(session->peerClosed());
  EXPECT_NE(session->error().find("close_notify"), std::string::npos);
  int status = 0;
  client.read(status);
  EXPECT_EQ(status, MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
}

TEST_F(TlsSessionTest, DataBeforeCloseNotifyInTheSameReadIsDelivered) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  ASSERT_EQ(runHandshake(client, *session).clientResult, 0);
  const std::uint8_t disconnect[] = {0xe0, 0x00};
  ASSERT_EQ(client.write(std::string(disconnect, disconnect + 2)), 0);
  ASSERT_EQ(client.closeNotify(), 0);
  const std::vector<std::uint8_t> segment = client.takeOutput();

  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> wire;
  EXPECT_TRUE(session->onReceive(Bytes(segment), plain, wire));
  EXPECT_EQ(plain, std::vector<std::uint8_t>(disconnect, disconnect + 2));
  EXPECT_TRUE(session->peerClosed());
  EXPECT_FALSE(wire.empty()) << "our close_notify answers the client's";

  std::vector<std::uint8_t> more;
  EXPECT_FALSE(session->onReceive(Bytes(), plain, more));
  EXPECT_NE(session->error().find("close_notify"), std::string::npos);
}

TEST_F(TlsSessionTest, ServerCloseNotifyIsSentOnce) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  ASSERT_EQ(runHandshake(client, *session).clientResult, 0);
  std::vector<std::uint8_t> wire;
  session->closeNotify(wire);
  EXPECT_FALSE(wire.empty());
  client.deliver(wire);
  int status = 0;
  client.read(status);
  EXPECT_EQ(status, MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);

  std::vector<std::uint8_t> again;
  session->closeNotify(again);
  EXPECT_TRUE(again.empty());
  EXPECT_FALSE(session->onSend(asBytes("late"), again));
  EXPECT_NE(session->error().find("after close_notify"), std::string::npos);
}

TEST_F(TlsSessionTest, SendingBeforeTheHandshakeIsACallerError) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  std::vector<std::uint8_t> wire;
  EXPECT_FALSE(session->onSend(asBytes("CONNACK"), wire));
  EXPECT_TRUE(wire.empty());
  EXPECT_NE(session->error().find("before the TLS handshake"), std::string::npos);
}

TEST_F(TlsSessionTest, ConfiguredCipherIsTheOneNegotiated) {
  TlsOptions options = serverOptions();
  options.ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305";
  auto context = makeServerContext(options);
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  ASSERT_EQ(runHandshake(client, *session).clientResult, 0);
  EXPECT_EQ(session->cipherSuite(), "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256");
}

TEST_F(TlsSessionTest, RsaCertificateWorksWithRsaSuites) {
  pki().generateRsaServer();
  TlsOptions options = serverOptions();
  options.certFile = pki().path("server-rsa.crt");
  options.keyFile = pki().path("server-rsa.key");
  options.ciphers = "ECDHE-RSA-AES256-GCM-SHA384:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
  auto context = makeServerContext(options);
  auto session = context->createSession();
  MemoryTlsClient client(clientOptions());
  ASSERT_EQ(runHandshake(client, *session).clientResult, 0);
  EXPECT_EQ(session->cipherSuite(), "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384");
}

TEST_F(TlsSessionTest, NoCommonCipherIsNamed) {
  TlsOptions options = serverOptions();
  options.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  auto context = makeServerContext(options);
  auto session = context->createSession();
  MemoryClientOptions clientSide = clientOptions();
  clientSide.cipherSuites = {
      mbedtls_ssl_get_ciphersuite_id("TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384")};
  MemoryTlsClient client(clientSide);
  const auto outcome = runHandshake(client, *session);
  EXPECT_FALSE(outcome.serverOk);
  EXPECT_NE(session->error().find("no cipher suite in common"), std::string::npos)
      << session->error();
}

TEST_F(TlsSessionTest, ClientLimitedToTls11IsRefusedByDefault) {
  auto context = makeServerContext(serverOptions());
  auto session = context->createSession();
  MemoryClientOptions clientSide = clientOptions();
  clientSide.maxMinorVersion = MBEDTLS_SSL_MINOR_VERSION_2;
  MemoryTlsClient client(clientSide);
  const auto outcome = runHandshake(client, *session);
  EXPECT_FALSE(outcome.serverOk);
  EXPECT_NE(session->error().find("no TLS version at or above tls_version"), std::string::npos)
      << session->error();
}

TEST_F(TlsSessionTest, Tls11ClientIsAdmittedWhenTlsVersionAllowsIt) {
  TlsOptions options = serverOptions();
  options.tlsVersion = "tlsv1.1";
  auto context = makeServerContext(options);
  auto session = context->createSession();
  MemoryClientOptions clientSide = clientOptions();
  clientSide.maxMinorVersion = MBEDTLS_SSL_MINOR_VERSION_2;
  MemoryTlsClient client(clientSide);
  const auto outcome = runHandshake(client, *session);
  EXPECT_EQ(outcome.clientResult, 0);
  EXPECT_TRUE(outcome.serverOk) << session->error();
}

}  // namespace
}  // namespace midge::port
