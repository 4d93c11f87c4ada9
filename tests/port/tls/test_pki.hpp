// SPDX-License-Identifier: Apache-2.0
// Certificates made with the openssl command line when the tests start, in a temporary
// directory that is removed at exit: no key is ever committed, and the expiry tests do
// not depend on when they run.
#pragma once

#include <string>

namespace midge::port::testing {

class TestPki {
 public:
  // Generated on first use, shared by all tests of the process. Throws when openssl fails.
  static const TestPki& instance();

  // Absolute path of a generated file:
  //   ca.crt/.key              "Midge Test CA", signs everything below except wrong-*
  //   wrong-ca.crt/.key        an unrelated CA
  //   server.crt/.key          CN=localhost, O=Midge Server One, SAN localhost/127.0.0.1 (EC)
  //   server2.crt/.key         the same name, O=Midge Server Two (for reload)
  //   server-rsa.crt/.key      CN=localhost with an RSA key, after generateRsaServer()
  //   expired-server.crt       server.key's subject, valid only on 2020-01-01
  //   client.crt/.key          clientDistinguishedName(), CN=clientCommonName()
  //   expired-client.crt       client.key's subject, valid only on 2020-01-01
  //   wrong-ca-client.crt/.key a client certificate signed by wrong-ca
  //   revoked-client.crt/.key  signed by ca, listed as revoked in crl.pem
  //   crl.pem                  ca's revocation list
  //   encrypted.key            a key protected by a pass phrase
  //   garbage.pem              not a certificate or key
  //   capath/                  directory holding a copy of ca.crt
  std::string path(const std::string& name) const;
  const std::string& directory() const { return directory_; }
  void generateRsaServer() const;

  static const char* clientCommonName() { return "device-42"; }
  // Contains characters RFC 2253 must escape (',' and '+').
  static const char* clientSubjectForOpenSsl() { return "/C=DE/O=Midge, Test\\+Lab/CN=device-42"; }
  // The subject of client.crt as OpenSSL prints it with -nameopt RFC2253.
  std::string clientSubjectRfc2253() const;

  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;
  ~TestPki();

 private:
  TestPki();
  void generate();
  std::string directory_;
};

// Runs a shell command, returns its stdout and stderr; throws with the output on a
// non-zero exit status.
std::string runCommand(const std::string& command);
// Like runCommand but returns the output whatever the exit status.
std::string runCommandAnyStatus(const std::string& command, int& exitStatus);

// Path of the openssl / python3 executables found at configure time, empty if none.
const char* opensslExecutable();
const char* python3Executable();

// Copies `from` over `to` (used to swap certificates before a reload).
void copyFile(const std::string& from, const std::string& to);
void writeFile(const std::string& path, const std::string& contents);

}  // namespace midge::port::testing
