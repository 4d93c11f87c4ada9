// SPDX-License-Identifier: Apache-2.0
#include "port/tls/tls_config.hpp"

#include <mbedtls/ssl_ciphersuites.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "port/tls/cipher_suites.hpp"
#include "port/tls/tls_errors.hpp"
#include "port/tls/tls_resumption.hpp"

namespace midge::port::tls {
namespace {

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool parseVersion(const std::string& tlsVersion, int& minMinorVersion, std::string& error) {
  const std::string version = lowercase(tlsVersion);
  if (version.empty() || version == "tlsv1.2") {
    minMinorVersion = MBEDTLS_SSL_MINOR_VERSION_3;
    return true;
  }
  if (version == "tlsv1.1") {
    minMinorVersion = MBEDTLS_SSL_MINOR_VERSION_2;
    return true;
  }
  if (version == "tlsv1.3") {
    error =
        "tls_version tlsv1.3 is not available: this build uses mbedTLS 2.28, which "
        "supports TLS 1.2 only";
  } else if (version == "tlsv1" || version == "tlsv1.0") {
    error = "tls_version " + tlsVersion + " is refused: TLS 1.0 is insecure, use tlsv1.2";
  } else {
    error = "unknown tls_version " + tlsVersion + " (expected tlsv1.2 or tlsv1.1)";
  }
  return false;
}

bool checkOptions(const TlsOptions& options, std::string& error) {
  if (options.certFile.empty()) {
    error = "certfile is required for a TLS listener";
    return false;
  }
  if (options.keyFile.empty()) {
    error = "keyfile is required for a TLS listener";
    return false;
  }
  if (options.requireCertificate && options.caFile.empty() && options.caPath.empty()) {
    error = "require_certificate needs cafile or capath to verify client certificates";
    return false;
  }
  if (!options.crlFile.empty() && options.caFile.empty() && options.caPath.empty()) {
    error = "crlfile needs cafile or capath: revocation applies to verified client certificates";
    return false;
  }
  if (options.useIdentityAsUsername && options.useSubjectAsUsername) {
    error = "use_identity_as_username and use_subject_as_username cannot both be set";
    return false;
  }
  if ((options.useIdentityAsUsername || options.useSubjectAsUsername) &&
      !options.requireCertificate) {
    // Without a required certificate there is no identity and every client would be
    // refused at CONNECT; say so at startup instead.
    error = std::string(options.useIdentityAsUsername ? "use_identity_as_username"
                                                      : "use_subject_as_username") +
            " needs require_certificate true";
    return false;
  }
  return true;
}

// mbedTLS reports a missing file as "X509 - Read/write of file failed"; the OS reason
// ("No such file or directory", "Permission denied") is what the operator needs.
bool checkReadable(const char* option, const std::string& path, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int reason = errno;
    error = std::string("cannot read ") + option + " " + path + ": " + std::strerror(reason);
    return false;
  }
  std::fclose(file);
  return true;
}

bool checkDirectory(const std::string& path, std::string& error) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    const int reason = errno;
    error = "cannot read capath " + path + ": " + std::strerror(reason);
    return false;
  }
  if (!S_ISDIR(info.st_mode)) {
    error = "capath " + path + " is not a directory (use cafile for a single file)";
    return false;
  }
  return true;
}

bool chainHasCertificate(const mbedtls_x509_crt& chain) { return chain.raw.p != nullptr; }

// What mbedtls_x509_crt_parse_path does, but walked here: Debian's 32-bit libmbedx509 is
// built without large-file support, so its readdir() fails with EOVERFLOW wherever the file
// system hands out 64-bit directory offsets (ext4 seen by a 32-bit program under qemu-user)
// and it then reports an empty directory. Midge is built with _FILE_OFFSET_BITS=64
// (MidgeFlags.cmake), and a directory it cannot list is an error, not an empty one. As in
// mbedTLS, every regular file is tried and one that does not parse (a README, a CRL) is
// skipped.
bool parseCaDirectory(mbedtls_x509_crt& chain, const std::string& path, std::string& error) {
  DIR* directory = opendir(path.c_str());
  if (directory == nullptr) {
    const int reason = errno;
    error = "cannot read capath " + path + ": " + std::strerror(reason);
    return false;
  }
  for (;;) {
    errno = 0;
    const dirent* entry = readdir(directory);
    if (entry == nullptr) break;
    const std::string file = path + "/" + entry->d_name;
    struct stat info {};
    if (stat(file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    static_cast<void>(mbedtls_x509_crt_parse_file(&chain, file.c_str()));
  }
  const int reason = errno;
  closedir(directory);
  if (reason != 0) {
    error = "cannot read capath " + path + ": " + std::strerror(reason);
    return false;
  }
  return true;
}

// A cipher list that cannot sign with the configured key would fail every handshake
// with "no shared cipher"; catch it when the listener is configured.
bool cipherFitsKey(const std::vector<int>& suites, const mbedtls_pk_context& key) {
  const int* ids = suites.size() > 1 ? suites.data() : mbedtls_ssl_list_ciphersuites();
  for (; *ids != 0; ++ids) {
    const mbedtls_ssl_ciphersuite_t* info = mbedtls_ssl_ciphersuite_from_id(*ids);
    if (info == nullptr) continue;
    const mbedtls_pk_type_t algorithm = mbedtls_ssl_get_ciphersuite_sig_pk_alg(info);
    if (algorithm != MBEDTLS_PK_NONE && mbedtls_pk_can_do(&key, algorithm) != 0) return true;
  }
  return false;
}

// mbedTLS picks the ECDHE curve by the server's order, and its default order puts the
// largest curves first: a client offering P-521 (OpenSSL does) paid for a P-521 exchange.
// P-256 first: its key generation uses mbedTLS's precomputed fixed-point table and its
// NIST reduction, where X25519 runs a full Montgomery ladder on generic bignums (see
// docs/benchmarks.md for what each costs). Every curve of the default list stays, for clients that ask
// and for client certificates, which mbedTLS checks against the same list.
constexpr mbedtls_ecp_group_id kCurvePreference[] = {
    MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_BP256R1,    MBEDTLS_ECP_DP_BP384R1,
    MBEDTLS_ECP_DP_BP512R1,   MBEDTLS_ECP_DP_SECP256K1, MBEDTLS_ECP_DP_SECP224R1,
    MBEDTLS_ECP_DP_SECP224K1, MBEDTLS_ECP_DP_SECP192R1, MBEDTLS_ECP_DP_SECP192K1,
    MBEDTLS_ECP_DP_CURVE448,  MBEDTLS_ECP_DP_NONE};

}  // namespace

TlsRandom::TlsRandom() {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
}

TlsRandom::~TlsRandom() {
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

std::shared_ptr<TlsRandom> TlsRandom::create(std::string& error) {
  std::shared_ptr<TlsRandom> random(new TlsRandom());
  // Personalisation keeps this generator's stream distinct from other users of the same
  // entropy source (NIST SP 800-90A).
  static constexpr char kPersonalisation[] = "midge tls server";
  const int ret = mbedtls_ctr_drbg_seed(&random->drbg_, mbedtls_entropy_func, &random->entropy_,
                                        reinterpret_cast<const unsigned char*>(kPersonalisation),
                                        sizeof kPersonalisation - 1);
  if (ret != 0) {
    error = "cannot seed the TLS random generator: " + mbedtlsErrorText(ret);
    return nullptr;
  }
  return random;
}

TlsConfig::TlsConfig() {
  mbedtls_x509_crt_init(&ownCertificate_);
  mbedtls_pk_init(&ownKey_);
  mbedtls_x509_crt_init(&caChain_);
  mbedtls_x509_crl_init(&revocations_);
  mbedtls_ssl_config_init(&sslConfig_);
}

TlsConfig::~TlsConfig() {
  mbedtls_ssl_config_free(&sslConfig_);
  mbedtls_x509_crl_free(&revocations_);
  mbedtls_x509_crt_free(&caChain_);
  mbedtls_pk_free(&ownKey_);
  mbedtls_x509_crt_free(&ownCertificate_);
}

std::shared_ptr<const TlsConfig> TlsConfig::load(const TlsOptions& options,
                                                 std::shared_ptr<TlsRandom> random,
                                                 std::string& error,
                                                 std::shared_ptr<TlsResumption> resumption) {
  if (!checkOptions(options, error)) return nullptr;
  std::shared_ptr<TlsConfig> config(new TlsConfig());
  if (!parseVersion(options.tlsVersion, config->minMinorVersion_, error)) return nullptr;
  config->random_ = std::move(random);
  config->resumption_ = std::move(resumption);
  config->useSubjectAsIdentity_ = options.useSubjectAsUsername;
  if (!parseCipherList(options.ciphers, config->cipherSuites_, error)) return nullptr;
  if (!config->loadFiles(options, error)) return nullptr;
  if (!config->configure(options, error)) return nullptr;
  return config;
}

bool TlsConfig::loadFiles(const TlsOptions& options, std::string& error) {
  if (!checkReadable("certfile", options.certFile, error)) return false;
  int ret = mbedtls_x509_crt_parse_file(&ownCertificate_, options.certFile.c_str());
  if (ret < 0) {
    error = "cannot read certfile " + options.certFile + ": " + mbedtlsErrorText(ret);
    return false;
  }
  if (ret > 0) {
    error = "certfile " + options.certFile + ": " + std::to_string(ret) +
            " certificate(s) could not be parsed";
    return false;
  }

  if (!checkReadable("keyfile", options.keyFile, error)) return false;
  ret = mbedtls_pk_parse_keyfile(&ownKey_, options.keyFile.c_str(), nullptr);
  if (ret != 0) {
    error = "cannot read keyfile " + options.keyFile + ": " + mbedtlsErrorText(ret);
    if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) error += " (encrypted keys are not supported)";
    return false;
  }
  ret = mbedtls_pk_check_pair(&ownCertificate_.pk, &ownKey_);
  if (ret != 0) {
    // mbedTLS's text for this ("ECP - Bad input parameters") would only mislead.
    error = "keyfile " + options.keyFile + " does not match certfile " + options.certFile +
            " (the key belongs to another certificate)";
    return false;
  }

  if (!options.caFile.empty()) {
    if (!checkReadable("cafile", options.caFile, error)) return false;
    ret = mbedtls_x509_crt_parse_file(&caChain_, options.caFile.c_str());
    // A bundle may hold a few certificates mbedTLS cannot parse (ret > 0); the rest work.
    if (ret < 0 || !chainHasCertificate(caChain_)) {
      error = "cannot read cafile " + options.caFile + ": " +
              (ret < 0 ? mbedtlsErrorText(ret) : std::string("no certificate in it"));
      return false;
    }
  }
  if (!options.caPath.empty()) {
    if (!checkDirectory(options.caPath, error)) return false;
    if (!parseCaDirectory(caChain_, options.caPath, error)) return false;
    if (!chainHasCertificate(caChain_)) {
      error = "capath " + options.caPath + " holds no readable CA certificate";
      return false;
    }
  }
  haveCaChain_ = chainHasCertificate(caChain_);

  if (!options.crlFile.empty()) {
    if (!checkReadable("crlfile", options.crlFile, error)) return false;
    ret = mbedtls_x509_crl_parse_file(&revocations_, options.crlFile.c_str());
    if (ret != 0) {
      error = "cannot read crlfile " + options.crlFile + ": " + mbedtlsErrorText(ret);
      return false;
    }
    haveRevocations_ = true;
  }
  return true;
}

bool TlsConfig::configure(const TlsOptions& options, std::string& error) {
  int ret = mbedtls_ssl_config_defaults(&sslConfig_, MBEDTLS_SSL_IS_SERVER,
                                        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) {
    error = "cannot set up TLS defaults: " + mbedtlsErrorText(ret);
    return false;
  }
  mbedtls_ssl_conf_min_version(&sslConfig_, MBEDTLS_SSL_MAJOR_VERSION_3, minMinorVersion_);
  mbedtls_ssl_conf_rng(&sslConfig_, mbedtls_ctr_drbg_random, random_->generator());
  // Like Mosquitto: without require_certificate no client certificate is asked for, so
  // an identity is only ever taken from a certificate that was verified.
  mbedtls_ssl_conf_authmode(&sslConfig_, options.requireCertificate ? MBEDTLS_SSL_VERIFY_REQUIRED
                                                                    : MBEDTLS_SSL_VERIFY_NONE);
  if (haveCaChain_) {
    mbedtls_ssl_conf_ca_chain(&sslConfig_, &caChain_, haveRevocations_ ? &revocations_ : nullptr);
  }
  ret = mbedtls_ssl_conf_own_cert(&sslConfig_, &ownCertificate_, &ownKey_);
  if (ret != 0) {
    error = "cannot use certfile " + options.certFile + ": " + mbedtlsErrorText(ret);
    return false;
  }
  mbedtls_ssl_conf_curves(&sslConfig_, kCurvePreference);
  if (resumption_) resumption_->attachTo(sslConfig_);
  if (cipherSuites_.size() > 1) mbedtls_ssl_conf_ciphersuites(&sslConfig_, cipherSuites_.data());
  if (!cipherFitsKey(cipherSuites_, ownKey_)) {
    error = std::string("none of the configured ciphers can be used with the ") +
            mbedtls_pk_get_name(&ownKey_) + " key in keyfile " + options.keyFile;
    return false;
  }
  return true;
}

}  // namespace midge::port::tls
