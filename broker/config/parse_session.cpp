// SPDX-License-Identifier: Apache-2.0
#include "broker/config/parse_session.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "broker/config/keyword_bridge.hpp"

namespace midge::config::detail {

namespace {

// Configuration files are small; the cap only stops a mistaken path (a device, a log
// file) from being read into memory whole.
constexpr std::size_t kMaxFileBytes = 16u * 1024u * 1024u;

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  std::size_t begin = 0;
  while (begin < text.size() && isBlank(text[begin])) ++begin;
  std::size_t end = text.size();
  while (end > begin && (isBlank(text[end - 1]) || text[end - 1] == '\r')) --end;
  return text.substr(begin, end - begin);
}

// Mosquitto's include_dir order: case-insensitive first, and where two names differ
// only in case at a position, the upper-case letter first (A.conf, a.conf, B.conf).
bool includeOrder(const std::string& a, const std::string& b) {
  const std::size_t common = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < common; ++i) {
    const auto ca = static_cast<unsigned char>(a[i]);
    const auto cb = static_cast<unsigned char>(b[i]);
    const int folded = std::toupper(ca) - std::toupper(cb);
    if (folded != 0) return folded < 0;
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

std::string systemError() { return std::strerror(errno); }

bool securityIsDefault(const SecuritySettings& security) {
  const SecuritySettings pristine;
  return !security.allowAnonymousExplicit && security.passwordFile.empty() &&
         security.aclFile.empty() &&
         security.allowZeroLengthClientId == pristine.allowZeroLengthClientId &&
         security.autoIdPrefix == pristine.autoIdPrefix;
}

bool tlsIsDefault(const std::optional<TlsSettings>& tls) {
  if (!tls) return true;
  return tls->certFile.empty() && tls->keyFile.empty() && tls->caFile.empty() &&
         tls->caPath.empty() && tls->crlFile.empty() && tls->ciphers.empty() &&
         tls->minVersion == TlsVersion::Default && !tls->requireCertificate &&
         !tls->useIdentityAsUsername && !tls->useSubjectAsUsername;
}

}  // namespace

Line splitLine(std::string_view text) {
  Line line;
  std::size_t end = 0;
  while (end < text.size() && !isBlank(text[end])) ++end;
  line.keyword = text.substr(0, end);
  line.rest = trim(text.substr(end));
  std::size_t pos = 0;
  while (pos < line.rest.size()) {
    while (pos < line.rest.size() && isBlank(line.rest[pos])) ++pos;
    if (pos == line.rest.size()) break;
    std::size_t wordEnd = pos;
    while (wordEnd < line.rest.size() && !isBlank(line.rest[wordEnd])) ++wordEnd;
    const std::string_view word = line.rest.substr(pos, wordEnd - pos);
    if (word[0] == '#') break;  // trailing comment
    line.words.push_back(word);
    pos = wordEnd;
  }
  return line;
}

void ParseSession::errorAt(const std::string& file, int line, std::string message) {
  diags_.push_back(Diagnostic{file, line, std::move(message), true});
}

void ParseSession::warningAt(const std::string& file, int line, std::string message) {
  diags_.push_back(Diagnostic{file, line, std::move(message), false});
}

void ParseSession::error(std::string message) { errorAt(file_, line_, std::move(message)); }

void ParseSession::warning(std::string message) {
  warningAt(file_, line_, std::move(message));
}

bool ParseSession::failed() const {
  for (std::size_t i = firstDiagnostic_; i < diags_.size(); ++i) {
    if (diags_[i].fatal) return true;
  }
  return false;
}

Listener& ParseSession::currentListener() {
  return current_ ? config_.listeners[*current_] : defaultListener_;
}

SecuritySettings& ParseSession::currentSecurity() {
  return config_.perListenerSettings ? currentListener().security : config_.security;
}

TlsSettings& ParseSession::currentTls() {
  Listener& listener = currentListener();
  if (!listener.tls) listener.tls.emplace();
  return *listener.tls;
}

bool ParseSession::claimOnce(std::string_view keyword, bool perListener) {
  std::string key(keyword);
  if (perListener) key += current_ ? "@" + std::to_string(*current_) : "@default";
  if (!claimed_.insert(key).second) {
    error(std::string(keyword) + ": given twice for the same " +
          (perListener ? "listener" : "broker") + " (Mosquitto refuses this too)");
    return false;
  }
  return true;
}

void ParseSession::startListener(std::uint16_t port, std::string_view bindAddress) {
  Listener listener;
  listener.port = port;
  listener.bindAddress = std::string(bindAddress);
  listener.definedAt = file_ + ":" + std::to_string(line_);
  config_.listeners.push_back(std::move(listener));
  origins_.push_back(Origin{file_, line_});
  current_ = config_.listeners.size() - 1;
}

Bridge* ParseSession::currentBridge() {
  return bridge_ ? &config_.bridges[*bridge_] : nullptr;
}

void ParseSession::startBridge(std::string name) {
  Bridge bridge;
  bridge.name = std::move(name);
  bridge.definedAt = file_ + ":" + std::to_string(line_);
  config_.bridges.push_back(std::move(bridge));
  bridgeOrigins_.emplace_back(file_, line_);
  bridge_ = config_.bridges.size() - 1;
}

bool ParseSession::claimBridgeOnce(std::string_view keyword) {
  const std::string key = std::string(keyword) + "@bridge" + std::to_string(*bridge_);
  if (!claimed_.insert(key).second) {
    error(std::string(keyword) + ": given twice for bridge '" + currentBridge()->name +
          "' (Mosquitto refuses this too)");
    return false;
  }
  return true;
}

void ParseSession::parseText(std::string_view text, const std::string& fileName, int depth) {
  const std::string savedFile = file_;
  const int savedLine = line_;
  const int savedDepth = depth_;
  const std::optional<std::size_t> savedBridge = bridge_;
  file_ = fileName;
  depth_ = depth;
  bridge_.reset();
  if (depth == 0 && mainFile_.empty()) mainFile_ = fileName;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark

  line_ = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    ++line_;
    const std::string_view content = trim(text.substr(pos, newline - pos));
    pos = newline + 1;
    if (content.empty() || content[0] == '#') continue;
    applyKeyword(*this, splitLine(content));
  }

  file_ = savedFile;
  line_ = savedLine;
  depth_ = savedDepth;
  bridge_ = savedBridge;
}

void ParseSession::parseFile(const std::string& path, int depth) {
  // Problems opening a file belong to the line that named it (0 for the main file).
  const std::string reportFile = depth == 0 ? path : file_;
  const int reportLine = depth == 0 ? 0 : line_;
  const std::string what = depth == 0 ? "configuration file '" : "included file '";

  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    errorAt(reportFile, reportLine, "cannot read " + what + path + "': " + systemError());
    return;
  }
  if (S_ISDIR(info.st_mode)) {
    errorAt(reportFile, reportLine, what + path + "' is a directory");
    return;
  }
  std::FILE* stream = std::fopen(path.c_str(), "rb");
  if (stream == nullptr) {
    errorAt(reportFile, reportLine, "cannot read " + what + path + "': " + systemError());
    return;
  }
  std::string text;
  char buffer[4096];
  bool tooLarge = false;
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, stream)) > 0) {
    text.append(buffer, got);
    if (text.size() > kMaxFileBytes) {
      tooLarge = true;
      break;
    }
  }
  const bool readFailed = std::ferror(stream) != 0;
  const std::string readError = readFailed ? systemError() : std::string();
  std::fclose(stream);
  if (readFailed) {
    errorAt(reportFile, reportLine, "cannot read " + what + path + "': " + readError);
    return;
  }
  if (tooLarge) {
    errorAt(reportFile, reportLine, what + path + "' is larger than 16 MiB");
    return;
  }
  if (depth == 0) {
    mainFileId_ = std::make_pair(static_cast<std::uint64_t>(info.st_dev),
                                 static_cast<std::uint64_t>(info.st_ino));
  }
  config_.filesRead.push_back(path);
  parseText(text, path, depth);
}

void ParseSession::includeDirectory(std::string_view directory) {
  const std::string dir(directory);
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) {
    error("include_dir: cannot open directory '" + dir + "': " + systemError());
    return;
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(handle)) {
    const std::string entryName = entry->d_name;
    if (endsWith(entryName, ".conf")) names.push_back(entryName);
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end(), includeOrder);

  const std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  for (const std::string& entryName : names) {
    const std::string path = prefix + entryName;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    if (mainFileId_ && mainFileId_->first == static_cast<std::uint64_t>(info.st_dev) &&
        mainFileId_->second == static_cast<std::uint64_t>(info.st_ino)) {
      error("include_dir: '" + dir + "' contains the main configuration file (" + path +
            "); it would be read twice");
      continue;
    }
    parseFile(path, depth_ + 1);
  }
}

bool ParseSession::defaultListenerHasOptions() const {
  const Listener pristine;
  const Listener& d = defaultListener_;
  return !d.bindInterface.empty() || d.socketDomain != pristine.socketDomain ||
         !tlsIsDefault(d.tls) || d.maxConnections != pristine.maxConnections ||
         d.maxQos != pristine.maxQos || d.maxTopicAlias != pristine.maxTopicAlias ||
         d.useUsernameAsClientId != pristine.useUsernameAsClientId ||
         d.protocol != pristine.protocol || !d.websocketsOrigins.empty() ||
         (config_.perListenerSettings && !securityIsDefault(d.security));
}

// Mosquitto opens its default listener (port 1883 or `port`, all addresses or
// `bind_address`) whenever anything configures it, even beside explicit listeners.
bool ParseSession::defaultListenerConfigured() const {
  return defaultPortSet_ || !defaultListener_.bindAddress.empty() || defaultListenerHasOptions();
}

void ParseSession::addLoopbackListeners() {
  const Origin origin{mainFile_, 0};
  for (const char* address : {"127.0.0.1", "::1"}) {
    const bool v6 = address[0] == ':';
    if (defaultListener_.socketDomain == (v6 ? SocketDomain::IPv4 : SocketDomain::IPv6)) {
      continue;
    }
    Listener listener = defaultListener_;
    listener.bindAddress = address;
    listener.implicitLoopback = true;
    listener.definedAt = "local-only default";
    config_.listeners.push_back(std::move(listener));
    origins_.push_back(origin);
  }
}

void ParseSession::finishListeners() {
  if (localOnly_) {
    config_.localOnly = true;
    addLoopbackListeners();
    // After a fatal error the note would only distract from it.
    if (!failed()) {
      warningAt(mainFile_, 0,
                "no listener configured: listening on the loopback addresses only "
                "(127.0.0.1 and ::1; port 1883 unless -p says otherwise), as Mosquitto 2 "
                "does; add a 'listener' line for remote clients");
    }
  } else if (defaultListenerConfigured()) {
    if (!config_.listeners.empty() && defaultListenerHasOptions() && !defaultPortSet_ &&
        defaultListener_.bindAddress.empty()) {
      warningAt(mainFile_, 0,
                "listener settings given before the first 'listener' line configure "
                "Mosquitto's default listener: Midge also opens port 1883 on all addresses; "
                "move them below a listener line to apply them there");
    }
    Listener listener = defaultListener_;
    listener.definedAt = "default listener";
    config_.listeners.push_back(std::move(listener));
    origins_.push_back(Origin{mainFile_, 0});
  }
  if (config_.listeners.empty() && !failed()) {
    errorAt(mainFile_, 0, "no usable listener is configured");
  }

  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const Listener& a = config_.listeners[j];
      const Listener& b = config_.listeners[i];
      if (a.port == b.port && a.bindAddress == b.bindAddress) {
        errorAt(origins_[i].file, origins_[i].line,
                "listener: port " + std::to_string(b.port) +
                    (b.bindAddress.empty() ? std::string() : " on " + b.bindAddress) +
                    " is already used by the listener at " + a.definedAt);
      }
    }
    finishTls(config_.listeners[i], origins_[i]);
    finishHttp(config_.listeners[i], origins_[i]);
    const Listener& listener = config_.listeners[i];
    if (listener.protocol != ListenerProtocol::WebSockets && !listener.websocketsOrigins.empty()) {
      errorAt(origins_[i].file, origins_[i].line,
              "listener " + std::to_string(listener.port) +
                  ": websockets_origin needs 'protocol websockets' on this listener");
    }
  }
  const bool anyMqtt = std::any_of(config_.listeners.begin(), config_.listeners.end(),
                                   [](const Listener& listener) {
                                     return listener.protocol != ListenerProtocol::Http;
                                   });
  if (!config_.listeners.empty() && !anyMqtt && !failed()) {
    errorAt(mainFile_, 0,
            "only http listeners are configured: add a 'listener' line for MQTT clients");
  }
}

void ParseSession::finishHttp(Listener& listener, const Origin& origin) {
  const std::string where = "listener " + std::to_string(listener.port) + ": ";
  if (listener.protocol != ListenerProtocol::Http) {
    if (!listener.http.basicAuthFile.empty() || !listener.http.bearerTokenFile.empty()) {
      errorAt(origin.file, origin.line,
              where + "http_basic_auth_file / http_bearer_token_file apply only to a "
                      "'protocol http' listener");
    }
    return;
  }
  if (listener.tls && (listener.tls->useIdentityAsUsername || listener.tls->useSubjectAsUsername)) {
    // certfile/keyfile make it https; a certificate identity has no MQTT user to become.
    errorAt(origin.file, origin.line,
            where + "use_identity_as_username / use_subject_as_username do not apply to an "
                    "http listener (there is no MQTT user); require_certificate alone "
                    "admits only clients with a certificate from cafile/capath");
  }
  if (listener.useUsernameAsClientId) {
    errorAt(origin.file, origin.line,
            where + "use_username_as_clientid does not apply to an http listener");
  }
  if (!listener.bindInterface.empty() || listener.socketDomain != SocketDomain::Any) {
    errorAt(origin.file, origin.line,
            where + "bind_interface and socket_domain are not supported on an http listener "
                    "(give the address on the listener line)");
  }
  if (config_.perListenerSettings &&
      (!listener.security.passwordFile.empty() || !listener.security.aclFile.empty())) {
    errorAt(origin.file, origin.line,
            where + "password_file and acl_file do not apply to an http listener (use "
                    "http_basic_auth_file or http_bearer_token_file)");
  }
  if (listener.maxConnections < 0) listener.maxConnections = kDefaultHttpMaxConnections;
}

void ParseSession::finishTls(Listener& listener, const Origin& origin) {
  if (!listener.tls) return;
  const TlsSettings& tls = *listener.tls;
  const std::string where = "listener " + std::to_string(listener.port) + ": ";
  const bool hasCert = !tls.certFile.empty();
  const bool hasKey = !tls.keyFile.empty();
  if (hasCert != hasKey) {
    errorAt(origin.file, origin.line,
            where + "certfile and keyfile must be given together to enable TLS");
    return;
  }
  if (!hasCert) {
    if (tls.requireCertificate || tls.useIdentityAsUsername || tls.useSubjectAsUsername) {
      errorAt(origin.file, origin.line,
              where + "require_certificate / use_*_as_username need certfile and keyfile");
    } else if (!tlsIsDefault(listener.tls)) {
      warningAt(origin.file, origin.line,
                where + "TLS options without certfile and keyfile are ignored; this is a "
                        "plain MQTT listener");
    }
    listener.tls.reset();
    return;
  }
  if (tls.requireCertificate && tls.caFile.empty() && tls.caPath.empty()) {
    errorAt(origin.file, origin.line,
            where + "require_certificate needs cafile or capath to verify client certificates");
  }
  if ((tls.useIdentityAsUsername || tls.useSubjectAsUsername) && !tls.requireCertificate) {
    warningAt(origin.file, origin.line,
              where + "use_*_as_username without require_certificate: clients without a "
                      "certificate have no username");
  }
}

void ParseSession::finishSecurity() {
  // Local-only mode lets anonymous clients in (Mosquitto 2) unless the file says
  // otherwise; Midge keeps an explicit "allow_anonymous false" where Mosquitto drops it.
  if (config_.localOnly) {
    if (!config_.security.allowAnonymousExplicit) config_.security.allowAnonymous = true;
    for (Listener& listener : config_.listeners) {
      if (!listener.security.allowAnonymousExplicit) listener.security.allowAnonymous = true;
    }
  }
  if (!config_.perListenerSettings) {
    for (Listener& listener : config_.listeners) listener.security = config_.security;
  }
}

bool ParseSession::finish(Config& out) {
  finishListeners();
  checkBridges(*this);
  finishSecurity();
  if (failed()) return false;
  out = std::move(config_);
  return true;
}

}  // namespace midge::config::detail
