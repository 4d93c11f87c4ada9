// SPDX-License-Identifier: Apache-2.0
// The operator HTTP endpoint (metrics, health checks) on libevent's evhttp, on its own
// listener and the broker's event loop; never on an MQTT listener. The server knows
// nothing of MQTT: it enforces the limits below and hands each request to one handler.
// With spec.tls set it serves https: the server accepts TCP itself and runs TLS in a
// TlsRelay per connection, which hands plaintext to evhttp on an abstract AF_UNIX socket
// (tls_relay.hpp says why). Requests on that socket that do not come from one of this
// server's relays are answered 403, so a local user cannot skip TLS, client
// certificates or the connection limit through it.
//
// Limits, all with a log line when they bite:
// - at most maxConnections connections are served; the next ones up to the same number
//   again are answered 503 and closed, and beyond that the socket is not accepted at all
//   (the kernel backlog holds them) until a connection ends (noticed within 100 ms);
// - request line and headers at most maxHeaderBytes (evhttp answers 413 or 400), a
//   body at most maxBodyBytes (413): the endpoints take no input;
// - a request must arrive within timeoutSeconds of the connection or the last answer.
//
// Example:
//   port::HttpServerSpec spec;
//   spec.port = 9100;
//   auto server = port::OperatorHttpServer::create(loop.eventBase(), spec,
//       [](const port::HttpRequest& r) { return port::HttpResponse{200, "text/plain", "ok\n"}; },
//       logSink, error);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/engine/io.hpp"
#include "port/http/tls_relay.hpp"

struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct bufferevent;
struct event;
struct evconnlistener;

namespace midge::port {

struct HttpServerSpec {
  std::string bindAddress;  // "" : 0.0.0.0
  std::uint16_t port = 0;   // 0: the kernel picks one, see boundPort()
  std::size_t maxConnections = 4;
  // A request line and a few headers fit many times over; a scraper sends under 1 KiB.
  std::size_t maxHeaderBytes = 8 * 1024;
  std::size_t maxBodyBytes = 1024;  // GET and HEAD carry none
  int timeoutSeconds = 10;
  std::string name;  // "http listener 9100", for log lines
  // https when set: one filter per connection (TLS). Owned by the caller; outlives the server.
  StreamFilterFactory* tls = nullptr;
  TlsRelayLimits relayLimits;
};

struct HttpRequest {
  std::string_view method;  // "GET", "HEAD", "POST", ...
  std::string_view path;    // without the query
  std::string_view authorization;  // the Authorization header, empty if absent
  std::string_view peer;           // "address:port"
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

struct HttpCounters {
  std::uint64_t connectionsAccepted = 0;
  std::uint64_t connectionsRefused = 0;   // answered 503 for being over maxConnections
  std::uint64_t requests = 0;             // passed to the handler
  std::uint64_t requestsRejected = 0;     // answered by evhttp itself: 400, 413, 501
  std::uint64_t tlsHandshakes = 0;        // https: handshakes completed
  std::uint64_t tlsFailures = 0;          // https: failed or timed-out handshakes, plain HTTP
  std::uint64_t localRefused = 0;         // https: requests on the internal socket, not via TLS
};

class OperatorHttpServer final : private TlsRelayOwner {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  using LogSink = std::function<void(LogLevel, std::string_view)>;

  // Binds now, so a busy port fails the start. Null with error set on failure.
  static std::unique_ptr<OperatorHttpServer> create(event_base* base, const HttpServerSpec& spec,
                                                    Handler handler, LogSink log,
                                                    std::string& error);
  ~OperatorHttpServer();
  OperatorHttpServer(const OperatorHttpServer&) = delete;
  OperatorHttpServer& operator=(const OperatorHttpServer&) = delete;

  std::uint16_t boundPort() const { return boundPort_; }
  // Connections counted against maxConnections: TCP connections (relays) with https.
  std::size_t openConnections() const { return spec_.tls != nullptr ? relays_.size() : open_; }
  const HttpCounters& counters() const { return counters_; }

 private:
  struct Connection;
  struct Callbacks;
  OperatorHttpServer(event_base* base, const HttpServerSpec& spec, Handler handler, LogSink log);
  void updateAccepting();
  void releaseFreed(bool all);
  // https (operator_https.cpp): the TCP listener and evhttp's internal socket.
  bool bindHttps(std::string& error);
  void acceptTls(int fd, const sockaddr* address, int length);
  void updateAcceptingTls();
  TlsRelay* relayOf(::bufferevent* connection) const;
  void relayLog(LogLevel level, const std::string& message) override;
  void relayHandshakeDone(TlsRelay& relay) override;
  void relayHandshakeFailed(TlsRelay& relay) override;
  void relayLocalName(TlsRelay& relay, const std::string& name) override;
  void relayFinished(TlsRelay& relay) override;
  static constexpr int kSweepMicroseconds = 100 * 1000;

  event_base* base_;
  HttpServerSpec spec_;
  Handler handler_;
  LogSink log_;
  ::evhttp* http_ = nullptr;
  ::evhttp_bound_socket* bound_ = nullptr;
  std::uint16_t boundPort_ = 0;
  std::unordered_map<::bufferevent*, Connection*> connections_;  // by evhttp's bufferevent
  std::size_t open_ = 0;
  bool accepting_ = true;
  ::event* sweepTimer_ = nullptr;
  HttpCounters counters_;
  // https only.
  ::evconnlistener* tcpListener_ = nullptr;
  bool acceptingTls_ = true;
  sockaddr_un internal_{};
  socklen_t internalLength_ = 0;
  std::unordered_map<TlsRelay*, std::unique_ptr<TlsRelay>> relays_;
  std::unordered_map<std::string, TlsRelay*> relayByLocalName_;
  std::vector<std::unique_ptr<TlsRelay>> finishedRelays_;  // destroyed by reapTimer_
  ::event* reapTimer_ = nullptr;
};

}  // namespace midge::port
