// SPDX-License-Identifier: Apache-2.0
// The uplink over TLS (port/tls client mode) against Mosquitto with a test CA made by
// openssl at run time: verification passes, a wrong host name and a wrong CA are refused,
// insecure waives the host name only, and a client certificate satisfies
// require_certificate.
#include <cstdio>

#include "port/tls/tls_client.hpp"
#include "tests/port/client/uplink_support.hpp"

namespace midge::test {
namespace {

using codec::ProtocolVersion;
using namespace std::chrono_literals;

std::string pkiDir;

bool openssl(std::vector<std::string> args) {
  args.insert(args.begin(), MIDGE_TEST_OPENSSL);
  std::string out;
  const int status = runToCompletion(args, 30s, &out);
  if (status != 0) ADD_FAILURE() << "openssl failed: " << out;
  return status == 0;
}

// A CA, and a leaf for `name` signed by it with a DNS SAN (mbedTLS matches no IP SAN).
void makeCa(const std::string& ca) {
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", pkiDir + "/" + ca + ".key", "-out", pkiDir + "/" + ca + ".crt", "-days", "2",
           "-subj", "/CN=Midge test " + ca});
}

void makeLeaf(const std::string& leaf, const std::string& ca, const std::string& name) {
  const std::string base = pkiDir + "/" + leaf;
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
           base + ".key", "-out", base + ".csr", "-subj", "/CN=" + name});
  {
    std::ofstream ext(base + ".ext");
    ext << "subjectAltName=DNS:" << name << "\n";
  }
  openssl({"x509", "-req", "-in", base + ".csr", "-CA", pkiDir + "/" + ca + ".crt", "-CAkey",
           pkiDir + "/" + ca + ".key", "-CAcreateserial", "-out", base + ".crt", "-days", "2",
           "-extfile", base + ".ext"});
}

class UplinkTls : public UplinkTest {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/midge-uplink-pki-XXXXXX";
    pkiDir = mkdtemp(pattern);
    makeCa("ca");
    makeCa("other-ca");
    makeLeaf("server", "ca", "localhost");
    makeLeaf("client", "ca", "edge-gateway");
    // Mosquitto started as root drops to its own user before it reads the key files.
    std::string out;
    runToCompletion({"/bin/chmod", "-R", "a+rX", pkiDir}, 5s, &out);
  }
  static void TearDownTestSuite() {
    std::string out;
    runToCompletion({"/bin/rm", "-rf", pkiDir}, 5s, &out);
  }

  void startUpstream(bool requireCertificate) {
    UpstreamTls tls{pkiDir + "/ca.crt", pkiDir + "/server.crt", pkiDir + "/server.key",
                    requireCertificate};
    upstream_ = std::make_unique<Upstream>(dir_, tls);
    ASSERT_TRUE(upstream_->start());
  }

  // Connects through TLS with these options; true when CONNACK arrives.
  bool connectWith(port::tls::TlsClientOptions options) {
    std::string error;
    auto random = port::tls::TlsRandom::create(error);
    auto config = port::tls::TlsClientConfig::load(options, random, error);
    if (!config) {
      log_ += "config: " + error + "\n";
      return false;
    }
    factory_ = std::make_unique<port::tls::TlsClientFactory>(config);
    auto driverOpts = driverOptions({upstream_->port()});
    driverOpts.filters = factory_.get();
    startDriver(clientOptions(ProtocolVersion::V311, "uplink-tls"), std::move(driverOpts));
    runUntil([&] { return driver_->connected() || log_.find("uplink closed") != std::string::npos; },
             3s);
    return driver_->connected();
  }

  // A refused attempt shows in the log as a closed uplink with the reason.
  bool refusedWith(const std::string& reason) {
    return runUntil([&] { return log_.find(reason) != std::string::npos; }, 3s) &&
           !driver_->connected() && connects_ == 0;
  }

  port::tls::TlsClientOptions baseOptions() {
    port::tls::TlsClientOptions options;
    options.caFile = pkiDir + "/ca.crt";
    options.hostname = "localhost";
    return options;
  }

  std::unique_ptr<port::tls::TlsClientFactory> factory_;
};

TEST_F(UplinkTls, VerifiedServerConnectsAndCarriesMessages) {
  startUpstream(false);
  ASSERT_TRUE(connectWith(baseOptions())) << log_;
  client::OutboundMessage message;
  message.topic = "tls/up";
  message.payload = {'o', 'k'};
  message.qos = 1;
  ASSERT_TRUE(driver_->publish(message, 1));
  EXPECT_TRUE(runUntil([&] { return done_.count(1) != 0; }, 3s));
}

TEST_F(UplinkTls, WrongHostNameIsRefused) {
  startUpstream(false);
  auto options = baseOptions();
  options.hostname = "broker.example.net";
  EXPECT_FALSE(connectWith(options));
  EXPECT_TRUE(refusedWith("not trusted")) << log_;
}

TEST_F(UplinkTls, InsecureWaivesTheHostNameOnly) {
  startUpstream(false);
  auto options = baseOptions();
  options.hostname = "broker.example.net";
  options.insecure = true;
  EXPECT_TRUE(connectWith(options)) << log_;
}

TEST_F(UplinkTls, InsecureStillRefusesAWrongCa) {
  startUpstream(false);
  auto options = baseOptions();
  options.caFile = pkiDir + "/other-ca.crt";
  options.insecure = true;
  EXPECT_FALSE(connectWith(options));
  EXPECT_TRUE(refusedWith("not trusted")) << log_;
}

TEST_F(UplinkTls, WrongCaIsRefused) {
  startUpstream(false);
  auto options = baseOptions();
  options.caFile = pkiDir + "/other-ca.crt";
  EXPECT_FALSE(connectWith(options));
  EXPECT_TRUE(refusedWith("not trusted")) << log_;
}

TEST_F(UplinkTls, ClientCertificateSatisfiesRequireCertificate) {
  startUpstream(true);
  auto options = baseOptions();
  options.certFile = pkiDir + "/client.crt";
  options.keyFile = pkiDir + "/client.key";
  EXPECT_TRUE(connectWith(options)) << log_;
}

TEST_F(UplinkTls, NoClientCertificateIsRefusedByTheUpstream) {
  startUpstream(true);
  EXPECT_FALSE(connectWith(baseOptions()));
  EXPECT_TRUE(refusedWith("uplink closed")) << log_;
}

TEST(UplinkTlsConfig, RefusesWhatItCannotVerifyOrSpeak) {
  std::string error;
  auto random = port::tls::TlsRandom::create(error);
  port::tls::TlsClientOptions noCa;
  noCa.hostname = "localhost";
  EXPECT_FALSE(port::tls::TlsClientConfig::load(noCa, random, error));
  EXPECT_NE(error.find("bridge_cafile"), std::string::npos) << error;
  port::tls::TlsClientOptions tls13;
  tls13.caFile = "/nonexistent";
  tls13.hostname = "localhost";
  tls13.tlsVersion = "tlsv1.3";
  EXPECT_FALSE(port::tls::TlsClientConfig::load(tls13, random, error));
  EXPECT_NE(error.find("tlsv1.2 only"), std::string::npos) << error;
  port::tls::TlsClientOptions missing;
  missing.caFile = "/nonexistent/ca.crt";
  missing.hostname = "localhost";
  EXPECT_FALSE(port::tls::TlsClientConfig::load(missing, random, error));
  EXPECT_NE(error.find("/nonexistent/ca.crt"), std::string::npos) << error;
}

}  // namespace
}  // namespace midge::test
