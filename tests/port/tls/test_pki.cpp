// SPDX-License-Identifier: Apache-2.0
#include "tests/port/tls/test_pki.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace midge::port::testing {
namespace {

constexpr const char* kOpenSslConfig = R"(
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1

[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth

[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = issued
serial = serial.txt
default_md = sha256
policy = any_policy
unique_subject = no
copy_extensions = none
[any_policy]
countryName = optional
organizationName = optional
commonName = supplied
)";

std::string shellQuoted(const std::string& text) { return "'" + text + "'"; }

}  // namespace

const char* opensslExecutable() { return MIDGE_TEST_OPENSSL; }
const char* python3Executable() { return MIDGE_TEST_PYTHON3; }

std::string runCommandAnyStatus(const std::string& command, int& exitStatus) {
  std::FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string output;
  char buffer[4096];
  std::size_t count;
  while ((count = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, count);
  const int status = pclose(pipe);
  exitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

std::string runCommand(const std::string& command) {
  int status = 0;
  std::string output = runCommandAnyStatus(command, status);
  if (status != 0) {
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command + "\n" +
                             output);
  }
  return output;
}

void copyFile(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

void writeFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out) throw std::runtime_error("cannot write " + path);
}

const TestPki& TestPki::instance() {
  static TestPki pki;
  return pki;
}

TestPki::TestPki() {
  char pattern[] = "/tmp/midge-tls-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  directory_ = pattern;
  try {
    generate();
  } catch (...) {
    std::filesystem::remove_all(directory_);
    throw;
  }
}

TestPki::~TestPki() {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string TestPki::path(const std::string& name) const { return directory_ + "/" + name; }

void TestPki::generateRsaServer() const {
  // RSA key generation is the slowest step; only the test that needs the key pays for it.
  if (std::filesystem::exists(path("server-rsa.crt"))) return;
  const std::string cd = "cd " + shellQuoted(directory_) + " && ";
  const std::string openssl = shellQuoted(opensslExecutable());
  runCommand(cd + openssl +
             " req -new -config openssl.cnf -newkey rsa:2048 -nodes -keyout server-rsa.key "
             "-out server-rsa.csr -subj '/O=Midge Server RSA/CN=localhost'");
  runCommand(cd + openssl +
             " x509 -req -in server-rsa.csr -CA ca.crt -CAkey ca.key -set_serial 100 -days 30 "
             "-extfile openssl.cnf -extensions server_ext -out server-rsa.crt");
}

std::string TestPki::clientSubjectRfc2253() const {
  std::string subject =
      runCommand(std::string(opensslExecutable()) + " x509 -in " + shellQuoted(path("client.crt")) +
                 " -noout -subject -nameopt RFC2253");
  // "subject=CN=...\n"
  const std::string prefix = "subject=";
  if (subject.compare(0, prefix.size(), prefix) == 0) subject.erase(0, prefix.size());
  while (!subject.empty() && (subject.back() == '\n' || subject.back() == '\r')) subject.pop_back();
  return subject;
}

void TestPki::generate() {
  if (*opensslExecutable() == '\0') throw std::runtime_error("openssl not found at configure time");
  writeFile(path("openssl.cnf"), kOpenSslConfig);
  writeFile(path("index.txt"), "");
  writeFile(path("serial.txt"), "1000\n");
  std::filesystem::create_directory(path("issued"));

  const std::string cd = "cd " + shellQuoted(directory_) + " && ";
  const std::string openssl = shellQuoted(opensslExecutable());
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  auto makeCa = [&](const std::string& name, const std::string& subject) {
    runCommand(cd + openssl + " req -x509 -new -config openssl.cnf -extensions v3_ca" + ec +
               " -keyout " + name + ".key -out " + name + ".crt -days 30 -subj " +
               shellQuoted(subject));
  };
  auto makeRequest = [&](const std::string& name, const std::string& subject,
                         const std::string& keyOption) {
    runCommand(cd + openssl + " req -new -config openssl.cnf" + keyOption + " -keyout " + name +
               ".key -out " + name + ".csr -subj " + shellQuoted(subject));
  };
  int serial = 1;
  auto sign = [&](const std::string& csr, const std::string& out, const std::string& ca,
                  const std::string& extensions) {
    runCommand(cd + openssl + " x509 -req -in " + csr + ".csr -CA " + ca + ".crt -CAkey " + ca +
               ".key -set_serial " + std::to_string(serial++) +
               " -days 30 -extfile openssl.cnf -extensions " + extensions + " -out " + out +
               ".crt");
  };
  // OpenSSL 3.0's x509 cannot backdate; `openssl ca` takes explicit validity dates.
  auto signExpired = [&](const std::string& csr, const std::string& out,
                         const std::string& extensions) {
    runCommand(cd + openssl + " ca -batch -config openssl.cnf -cert ca.crt -keyfile ca.key -in " +
               csr + ".csr -out " + out + ".crt -startdate 20200101000000Z -enddate " +
               "20200102000000Z -extensions " + extensions + " -extfile openssl.cnf " +
               "-preserveDN -notext");
  };

  makeCa("ca", "/CN=Midge Test CA");
  makeCa("wrong-ca", "/CN=Midge Wrong CA");

  makeRequest("server", "/O=Midge Server One/CN=localhost", ec);
  sign("server", "server", "ca", "server_ext");
  signExpired("server", "expired-server", "server_ext");
  makeRequest("server2", "/O=Midge Server Two/CN=localhost", ec);
  sign("server2", "server2", "ca", "server_ext");

  makeRequest("client", clientSubjectForOpenSsl(), ec);
  sign("client", "client", "ca", "client_ext");
  signExpired("client", "expired-client", "client_ext");
  makeRequest("revoked-client", "/CN=revoked-device", ec);
  sign("revoked-client", "revoked-client", "ca", "client_ext");
  runCommand(cd + openssl +
             " ca -config openssl.cnf -cert ca.crt -keyfile ca.key -revoke revoked-client.crt");
  runCommand(
      cd + openssl +
      " ca -config openssl.cnf -cert ca.crt -keyfile ca.key -gencrl -crldays 30 -out crl.pem");
  makeRequest("wrong-ca-client", "/CN=intruder", ec);
  sign("wrong-ca-client", "wrong-ca-client", "wrong-ca", "client_ext");

  runCommand(cd + openssl + " genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 " +
             "-aes256 -pass pass:secret -out encrypted.key");
  writeFile(path("garbage.pem"),
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
            "-----END CERTIFICATE-----\n");
  std::filesystem::create_directory(path("capath"));
  copyFile(path("ca.crt"), path("capath/ca.crt"));
}

}  // namespace midge::port::testing
