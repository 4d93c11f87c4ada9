// SPDX-License-Identifier: Apache-2.0
// TlsServerContext::create(): every bad option is refused with a message naming it.
#include <gtest/gtest.h>
#include <mbedtls/ssl.h>

#include <filesystem>
#include <memory>
#include <string>

#include "port/tls/cipher_suites.hpp"
#include "port/tls/tls_server_context.hpp"
#include "tests/port/tls/test_pki.hpp"

namespace midge::port {
namespace {

using testing::TestPki;

class TlsOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*testing::opensslExecutable() == '\0') GTEST_SKIP() << "openssl not installed";
  }
  const TestPki& pki() const { return TestPki::instance(); }
  TlsOptions validOptions() const {
    TlsOptions options;
    options.certFile = pki().path("server.crt");
    options.keyFile = pki().path("server.key");
    return options;
  }
  // Returns create()'s error, or "" when it succeeded.
  static std::string createError(const TlsOptions& options) {
    std::unique_ptr<TlsServerContext> context;
    std::string error;
    const bool ok = TlsServerContext::create(options, context, error);
    EXPECT_EQ(ok, context != nullptr);
    return ok ? std::string() : error;
  }
};

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

TEST_F(TlsOptionsTest, ValidOptionsCreateAContext) {
  TlsOptions options = validOptions();
  options.handshakeTimeoutMs = 2500;
  std::unique_ptr<TlsServerContext> context;
  std::string error;
  ASSERT_TRUE(TlsServerContext::create(options, context, error)) << error;
  EXPECT_EQ(context->handshakeTimeoutMs(), 2500u);
  EXPECT_NE(context->create(), nullptr);
}

TEST_F(TlsOptionsTest, MissingCertFileNamesTheFileAndTheReason) {
  TlsOptions options = validOptions();
  options.certFile = pki().path("no-such.pem");
  EXPECT_TRUE(contains(createError(options),
                       "cannot read certfile " + options.certFile + ": No such file or directory"));
}

TEST_F(TlsOptionsTest, UnparsableCertFileGivesMbedTlsReason) {
  TlsOptions options = validOptions();
  options.certFile = pki().path("garbage.pem");
  const std::string error = createError(options);
  EXPECT_TRUE(contains(error, "cannot read certfile " + options.certFile + ": "));
  EXPECT_TRUE(contains(error, "X509"));  // mbedtls_strerror's module prefix
}

TEST_F(TlsOptionsTest, KeyFileProblemsAreNamed) {
  TlsOptions options = validOptions();
  options.keyFile = pki().path("missing.key");
  EXPECT_TRUE(contains(createError(options), "cannot read keyfile " + options.keyFile));
  options.keyFile = pki().path("garbage.pem");
  EXPECT_TRUE(contains(createError(options), "cannot read keyfile " + options.keyFile));
  options.keyFile = pki().path("encrypted.key");
  EXPECT_TRUE(contains(createError(options), "encrypted keys are not supported"));
}

TEST_F(TlsOptionsTest, KeyThatDoesNotMatchTheCertificateIsRefused) {
  TlsOptions options = validOptions();
  options.keyFile = pki().path("client.key");
  EXPECT_TRUE(contains(createError(options), "keyfile " + options.keyFile +
                                                 " does not match certfile " + options.certFile));
}

TEST_F(TlsOptionsTest, RequiredFilesMustBeNamed) {
  TlsOptions options = validOptions();
  options.certFile.clear();
  EXPECT_TRUE(contains(createError(options), "certfile is required"));
  options = validOptions();
  options.keyFile.clear();
  EXPECT_TRUE(contains(createError(options), "keyfile is required"));
}

TEST_F(TlsOptionsTest, CaProblemsAreNamed) {
  TlsOptions options = validOptions();
  options.caFile = pki().path("missing-ca.crt");
  EXPECT_TRUE(contains(createError(options), "cannot read cafile " + options.caFile));
  options.caFile = pki().path("garbage.pem");
  EXPECT_TRUE(contains(createError(options), "cannot read cafile " + options.caFile));

  options = validOptions();
  options.caPath = pki().path("no-such-dir");
  EXPECT_TRUE(contains(createError(options), "cannot read capath " + options.caPath));
  options.caPath = pki().path("ca.crt");
  EXPECT_TRUE(contains(createError(options), "is not a directory"));
  options.caPath = pki().path("empty-capath");
  std::filesystem::create_directories(options.caPath);
  EXPECT_TRUE(contains(createError(options), "holds no readable CA certificate"));
  options.caPath = pki().path("capath");
  EXPECT_EQ(createError(options), "");
}

TEST_F(TlsOptionsTest, CrlProblemsAreNamed) {
  TlsOptions options = validOptions();
  options.crlFile = pki().path("crl.pem");
  EXPECT_TRUE(contains(createError(options), "crlfile needs cafile or capath"));
  options.caFile = pki().path("ca.crt");
  EXPECT_EQ(createError(options), "");
  options.crlFile = pki().path("missing-crl.pem");
  EXPECT_TRUE(contains(createError(options),
                       "cannot read crlfile " + options.crlFile + ": No such file or directory"));
  options.crlFile = pki().path("garbage.pem");
  EXPECT_TRUE(contains(createError(options), "cannot read crlfile " + options.crlFile + ": "));
}

TEST_F(TlsOptionsTest, ClientCertificateOptionsMustBeConsistent) {
  TlsOptions options = validOptions();
  options.requireCertificate = true;
  EXPECT_TRUE(contains(createError(options), "require_certificate needs cafile or capath"));

  options = validOptions();
  options.useIdentityAsUsername = true;
  EXPECT_TRUE(contains(createError(options), "use_identity_as_username needs require_certificate"));
  options.useIdentityAsUsername = false;
  options.useSubjectAsUsername = true;
  EXPECT_TRUE(contains(createError(options), "use_subject_as_username needs require_certificate"));

  options.caFile = pki().path("ca.crt");
  options.requireCertificate = true;
  options.useIdentityAsUsername = true;
  EXPECT_TRUE(contains(createError(options), "cannot both be set"));
}

TEST_F(TlsOptionsTest, TlsVersionAcceptsTls12AndTls11Only) {
  TlsOptions options = validOptions();
  for (const char* accepted : {"", "tlsv1.2", "TLSv1.2", "tlsv1.1"}) {
    options.tlsVersion = accepted;
    EXPECT_EQ(createError(options), "") << accepted;
  }
  options.tlsVersion = "tlsv1.3";
  EXPECT_TRUE(contains(createError(options), "mbedTLS 2.28"));
  options.tlsVersion = "tlsv1";
  EXPECT_TRUE(contains(createError(options), "insecure"));
  options.tlsVersion = "sslv3";
  EXPECT_TRUE(contains(createError(options), "unknown tls_version sslv3"));
}

TEST_F(TlsOptionsTest, CipherListErrorsNameTheEntry) {
  TlsOptions options = validOptions();
  options.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:NOT-A-CIPHER";
  EXPECT_TRUE(contains(createError(options), "unknown or unsupported cipher NOT-A-CIPHER"));
  options.ciphers = "HIGH";
  EXPECT_TRUE(contains(createError(options), "cipher HIGH"));
  options.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL";
  EXPECT_TRUE(contains(createError(options), "operator !aNULL"));
  options.ciphers = "TLS_AES_128_GCM_SHA256";
  EXPECT_TRUE(contains(createError(options), "TLS 1.3 suite"));
}

TEST_F(TlsOptionsTest, CiphersThatCannotUseTheKeyAreRefused) {
  TlsOptions options = validOptions();  // an EC key
  options.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384";
  EXPECT_TRUE(contains(createError(options), "can be used with the EC key"));
  options.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256";
  EXPECT_EQ(createError(options), "");
}

TEST(CipherNamesTest, OpenSslIanaAndMbedTlsSpellingsAgree) {
  const int expected = mbedtls_ssl_get_ciphersuite_id("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256");
  ASSERT_NE(expected, 0);
  EXPECT_EQ(tls::cipherSuiteId("ECDHE-RSA-AES128-GCM-SHA256"), expected);
  EXPECT_EQ(tls::cipherSuiteId("ecdhe-rsa-aes128-gcm-sha256"), expected);
  EXPECT_EQ(tls::cipherSuiteId("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), expected);
  EXPECT_EQ(tls::cipherSuiteId("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"), expected);
  EXPECT_EQ(tls::cipherSuiteId("RC4-MD5"), 0);
  EXPECT_EQ(tls::cipherSuiteId("TLS_"), 0);
  EXPECT_EQ(tls::cipherSuiteId(""), 0);
}

TEST(CipherNamesTest, EveryListedOpenSslNameResolves) {
  // The whole table, as an operator might paste it from a Mosquitto config.
  const char* names[] = {"ECDHE-ECDSA-AES128-GCM-SHA256",
                         "ECDHE-ECDSA-AES256-GCM-SHA384",
                         "ECDHE-RSA-AES128-GCM-SHA256",
                         "ECDHE-RSA-AES256-GCM-SHA384",
                         "ECDHE-ECDSA-CHACHA20-POLY1305",
                         "ECDHE-RSA-CHACHA20-POLY1305",
                         "DHE-RSA-AES128-GCM-SHA256",
                         "DHE-RSA-AES256-GCM-SHA384",
                         "ECDHE-ECDSA-AES128-SHA256",
                         "ECDHE-RSA-AES256-SHA384",
                         "ECDHE-RSA-AES128-SHA",
                         "AES128-GCM-SHA256",
                         "AES256-SHA256",
                         "AES128-SHA"};
  for (const char* name : names) EXPECT_NE(tls::cipherSuiteId(name), 0) << name;
}

TEST(CipherNamesTest, ListKeepsOrderDropsDuplicatesAndTerminates) {
  std::vector<int> ids;
  std::string error;
  ASSERT_TRUE(tls::parseCipherList(
      "ECDHE-RSA-AES256-GCM-SHA384 : ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES256-GCM-SHA384", ids,
      error))
      << error;
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], tls::cipherSuiteId("ECDHE-RSA-AES256-GCM-SHA384"));
  EXPECT_EQ(ids[1], tls::cipherSuiteId("ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_EQ(ids[2], 0);

  ASSERT_TRUE(tls::parseCipherList("", ids, error));
  EXPECT_EQ(ids, std::vector<int>{0});
}

}  // namespace
}  // namespace midge::port
