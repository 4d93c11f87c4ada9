// SPDX-License-Identifier: Apache-2.0
#include "broker/operator_http.hpp"

#include <mbedtls/base64.h>

#include <fstream>
#include <optional>
#include <vector>

#include "broker/auth/password_file.hpp"
#include "broker/instruments.hpp"
#include "broker/metrics.hpp"
#include "broker/tls_listeners.hpp"
#include "port/http/operator_http_server.hpp"
#include "port/net/event_loop.hpp"

namespace midge::app {

namespace {

// A token longer than this is a mistake (a wrong file), not a secret.
constexpr std::size_t kMaxTokenBytes = 4096;

bool readToken(const std::string& path, std::string& token, std::string& error) {
  std::ifstream file(path);
  if (!file) {
    error = "http_bearer_token_file " + path + ": cannot open";
    return false;
  }
  std::string line;
  std::getline(file, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  if (line.empty() || line.size() > kMaxTokenBytes) {
    error = "http_bearer_token_file " + path + ": the first line must hold the token (1.." +
            std::to_string(kMaxTokenBytes) + " bytes)";
    return false;
  }
  token = std::move(line);
  return true;
}

// Compares without an early exit, so the time taken does not reveal a matching prefix.
// The length is not secret: a token file's size is no help to a guesser.
bool sameSecret(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size() || expected.empty()) return false;
  unsigned difference = 0;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned>(static_cast<unsigned char>(given[i]) ^
                                        static_cast<unsigned char>(expected[i]));
  }
  return difference == 0;
}

bool startsWithWord(std::string_view header, std::string_view scheme, std::string_view& rest) {
  if (header.size() <= scheme.size() || header.compare(0, scheme.size(), scheme) != 0 ||
      header[scheme.size()] != ' ') {
    return false;
  }
  rest = header.substr(scheme.size() + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return true;
}

}  // namespace

struct HttpListenerAuth {
  std::string basicPath;
  std::string tokenPath;
  std::optional<auth::PasswordFile> users;
  std::string token;

  bool required() const { return !basicPath.empty() || !tokenPath.empty(); }

  bool load(std::string& error) {
    if (!basicPath.empty()) {
      auth::PasswordFile file;
      if (!auth::PasswordFile::load(basicPath, file, error)) {
        error = "http_basic_auth_file: " + error;
        return false;
      }
      users = std::move(file);
    }
    if (!tokenPath.empty()) {
      std::string fresh;
      if (!readToken(tokenPath, fresh, error)) return false;
      token = std::move(fresh);
    }
    return true;
  }

  bool admits(std::string_view authorization) const {
    std::string_view credentials;
    if (!token.empty() && startsWithWord(authorization, "Bearer", credentials)) {
      return sameSecret(credentials, token);
    }
    if (users && startsWithWord(authorization, "Basic", credentials)) {
      // user:password is at most a few hundred bytes; a longer header is refused unread.
      if (credentials.size() > 1024) return false;
      unsigned char decoded[800];
      std::size_t length = 0;
      if (mbedtls_base64_decode(decoded, sizeof decoded, &length,
                                reinterpret_cast<const unsigned char*>(credentials.data()),
                                credentials.size()) != 0) {
        return false;
      }
      const std::string_view pair(reinterpret_cast<const char*>(decoded), length);
      const std::size_t colon = pair.find(':');
      if (colon == std::string_view::npos) return false;
      const std::string_view password = pair.substr(colon + 1);
      return users->check(pair.substr(0, colon),
                          Bytes(reinterpret_cast<const std::uint8_t*>(password.data()),
                                password.size()));
    }
    return false;
  }
};

struct OperatorEndpoints::State {
  MetricsSources metrics;
  bool serving = false;
  Logger* logger = nullptr;
  std::vector<std::unique_ptr<HttpListenerAuth>> auths;
  std::vector<std::unique_ptr<port::OperatorHttpServer>> servers;

  port::HttpResponse handle(const HttpListenerAuth& auth, const std::string& name,
                            const port::HttpRequest& request) {
    port::HttpResponse response;
    const auto refuse = [&](int status, std::string body, std::string why) {
      logger->write(LogLevel::Notice, name + ": " + std::string(request.method) + " " +
                                          std::string(request.path) + " from " +
                                          std::string(request.peer) + ": " + why);
      response.status = status;
      response.body = std::move(body);
      return response;
    };
    const bool known = request.path == "/metrics" || request.path == "/healthz" ||
                       request.path == "/readyz";
    if (!known) return refuse(404, "not found; try /metrics, /healthz or /readyz\n", "not found (404)");
    if (request.method != "GET" && request.method != "HEAD") {
      response.headers.emplace_back("Allow", "GET, HEAD");
      return refuse(405, "only GET and HEAD\n", "method not allowed (405)");
    }
    if (request.path == "/healthz") {
      response.body = "ok\n";
      return response;
    }
    if (request.path == "/readyz") {
      std::string reasons;
      if (!serving) reasons += "listeners not serving\n";
      if (!metrics.store->lastCommitOk()) reasons += "store not writable (last commit failed)\n";
      if (reasons.empty()) {
        response.body = "ready\n";
      } else {
        response.status = 503;
        response.body = reasons;
      }
      return response;
    }
    if (auth.required() && !auth.admits(request.authorization)) {
      response.headers.emplace_back("WWW-Authenticate",
                                    auth.users ? "Basic realm=\"midge\"" : "Bearer");
      return refuse(401, "unauthorized\n",
                    request.authorization.empty() ? "no credentials (401)"
                                                  : "wrong credentials (401)");
    }
    response.contentType = "text/plain; version=0.0.4; charset=utf-8";
    response.body = renderMetrics(metrics);
    return response;
  }
};

OperatorEndpoints::OperatorEndpoints() : state_(std::make_unique<State>()) {}
OperatorEndpoints::~OperatorEndpoints() = default;

bool OperatorEndpoints::open(const config::Config& config, port::EventLoop& loop,
                             const OperatorSources& sources,
                             Logger& logger, std::string& error) {
  State& state = *state_;
  state.logger = &logger;
  state.metrics.broker = sources.broker;
  state.metrics.loop = sources.loop;
  state.metrics.store = sources.store;
  state.metrics.turns = sources.turns;
  state.metrics.storePath = sources.storePath;
  state.metrics.version = sources.version;
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const config::Listener& listener = config.listeners[i];
    if (listener.protocol != config::ListenerProtocol::Http) continue;
    auto auth = std::make_unique<HttpListenerAuth>();
    auth->basicPath = listener.http.basicAuthFile;
    auth->tokenPath = listener.http.bearerTokenFile;
    if (!auth->load(error)) {
      error = "listener at " + listener.definedAt + ": " + error;
      return false;
    }
    port::HttpServerSpec spec;
    spec.bindAddress = listener.bindAddress;
    spec.port = listener.port;
    spec.maxConnections = static_cast<std::size_t>(
        listener.maxConnections > 0 ? listener.maxConnections : config::kDefaultHttpMaxConnections);
    spec.name = std::string(listener.tls ? "https" : "http") + " listener " +
                std::to_string(listener.port);
    if (listener.tls) {
      spec.tls = sources.tls != nullptr ? sources.tls->factoryFor(i) : nullptr;
      if (spec.tls == nullptr) {
        error = "listener at " + listener.definedAt + ": its TLS context is missing";
        return false;
      }
    }
    const HttpListenerAuth* authFor = auth.get();
    const std::string name = spec.name;
    auto server = port::OperatorHttpServer::create(
        loop.eventBase(), spec,
        [&state, authFor, name](const port::HttpRequest& request) {
          return state.handle(*authFor, name, request);
        },
        [&logger](LogLevel level, std::string_view message) { logger.write(level, message); },
        error);
    if (!server) return false;
    logger.write(LogLevel::Notice,
                 "operator endpoint on " + (listener.bindAddress.empty() ? std::string("0.0.0.0")
                                                                         : listener.bindAddress) +
                     ":" + std::to_string(server->boundPort()) + " (" + spec.name + ", " +
                     (auth->required() ? "authentication required for /metrics" : "no authentication") +
                     ")");
    state.metrics.httpServers.push_back(server.get());
    state.servers.push_back(std::move(server));
    state.auths.push_back(std::move(auth));
  }
  return true;
}

void OperatorEndpoints::setServing(bool serving) { state_->serving = serving; }

void OperatorEndpoints::reload(Logger& logger) {
  for (auto& auth : state_->auths) {
    if (!auth->required()) continue;
    HttpListenerAuth fresh;
    fresh.basicPath = auth->basicPath;
    fresh.tokenPath = auth->tokenPath;
    std::string error;
    if (!fresh.load(error)) {
      logger.write(LogLevel::Error, "reload of http credentials failed, keeping the previous: " + error);
      continue;
    }
    auth->users = std::move(fresh.users);
    auth->token = std::move(fresh.token);
  }
}

}  // namespace midge::app
