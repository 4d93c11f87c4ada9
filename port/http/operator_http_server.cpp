// SPDX-License-Identifier: Apache-2.0
// evhttp (libevent 2.1) on plain socket bufferevents that this file creates (evhttp's
// bevcb) and holds one reference to. That reference is what lets it count connections:
// 2.1 has no callback for the end of a connection that never sent a request, but a
// bufferevent evhttp has freed has its callbacks cleared, and a sweep notices that. (A
// bufferevent filter would give a free callback, but in 2.1 evhttp over a filter leaves
// freed timers in the event base.) A callback on each output buffer sees the status line
// of answers evhttp writes by itself (400, 413), so that they are logged.
#include "port/http/operator_http_server.hpp"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

namespace midge::port {

struct OperatorHttpServer::Connection {
  OperatorHttpServer* server = nullptr;
  bufferevent* socket = nullptr;  // one reference is ours
  evbuffer_cb_entry* outputWatch = nullptr;
  bool excess = false;         // beyond maxConnections: every request gets 503
  std::size_t ownReplies = 0;  // replies of the handler whose status line is not yet out
};

namespace {

const char* reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : "Error";
  }
}

const char* methodName(evhttp_cmd_type command) {
  switch (command) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
  }
  return "?";
}

std::string peerOf(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return "unknown peer";
  }
  char host[INET6_ADDRSTRLEN] = "?";
  std::uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    port = ntohs(v6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

struct OperatorHttpServer::Callbacks {
  // A status line the handler did not write is evhttp refusing a request by itself.
  static void outputAdded(evbuffer* buffer, const evbuffer_cb_info* info, void* context) {
    if (info->n_added == 0 || info->orig_size != 0) return;
    auto& c = *static_cast<Connection*>(context);
    char head[64] = {};
    const ev_ssize_t copied = evbuffer_copyout(buffer, head, sizeof head - 1);
    if (copied < 12 || std::memcmp(head, "HTTP/1.", 7) != 0) return;
    if (c.ownReplies > 0) {
      --c.ownReplies;
      return;
    }
    OperatorHttpServer& server = *c.server;
    ++server.counters_.requestsRejected;
    const char* end = static_cast<const char*>(std::memchr(head, '\r', static_cast<std::size_t>(copied)));
    const std::string status(static_cast<const char*>(head + 9), end != nullptr ? end : head + 12);
    server.log_(LogLevel::Notice, server.spec_.name +
                                      ": refused a malformed, oversized or unsupported request from " +
                                      peerOf(bufferevent_getfd(c.socket)) + ": " + status);
  }

  static bufferevent* create(event_base* base, void* argument) {
    auto& server = *static_cast<OperatorHttpServer*>(argument);
    // evhttp frees a finished connection before its peer sees the end of the answer, so a
    // client that asks again at once must find its old slot free.
    server.releaseFreed(false);
    auto* c = new Connection;
    c->server = &server;
    ++server.open_;
    // With https the TCP accept counts it (operator_https.cpp); this is the relay's socket.
    if (server.spec_.tls == nullptr) ++server.counters_.connectionsAccepted;
    c->excess = server.open_ > server.spec_.maxConnections;
    c->socket = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_incref(c->socket);
    c->outputWatch = evbuffer_add_cb(bufferevent_get_output(c->socket), outputAdded, c);
    server.connections_[c->socket] = c;
    server.updateAccepting();
    if (!evtimer_pending(server.sweepTimer_, nullptr)) {
      const timeval period{0, kSweepMicroseconds};
      evtimer_add(server.sweepTimer_, &period);
    }
    return c->socket;
  }

  static void sweep(evutil_socket_t, short, void* argument) {
    auto& server = *static_cast<OperatorHttpServer*>(argument);
    server.releaseFreed(false);
    if (!server.connections_.empty()) {
      const timeval period{0, kSweepMicroseconds};
      evtimer_add(server.sweepTimer_, &period);
    }
  }

  // Decides the answer: 403 on the internal socket for anything but a relay (https),
  // 503 beyond the connection limit, else what the handler says.
  static HttpResponse route(OperatorHttpServer& server, evhttp_request* request, Connection* c) {
    evhttp_connection* connection = evhttp_request_get_connection(request);
    char* address = nullptr;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(connection, &address, &port);
    const std::string peer = std::string(address != nullptr ? address : "?") + ":" +
                             std::to_string(port);
    bufferevent* socket = evhttp_connection_get_bufferevent(connection);
    bool excess = c != nullptr && c->excess;
    const TlsRelay* relay = nullptr;
    if (server.spec_.tls != nullptr) {
      // With https the limit is counted at the TCP accept, and the peer is the relay's.
      relay = server.relayOf(socket);
      excess = relay != nullptr && relay->excess;
    }
    const std::string shownPeer = relay != nullptr ? relay->peer() : peer;

    HttpResponse response;
    if (server.spec_.tls != nullptr && relay == nullptr) {
      ++server.counters_.localRefused;
      server.log_(LogLevel::Warning,
                  server.spec_.name + ": refused a request on the internal socket that did not "
                                      "come through TLS (a local process bypassing https)");
      response.status = 403;
      response.body = "forbidden\n";
      response.headers.emplace_back("Connection", "close");
    } else if (excess) {
      ++server.counters_.connectionsRefused;
      server.log_(LogLevel::Notice,
                  server.spec_.name + ": refused " + shownPeer + ": " +
                      std::to_string(server.spec_.maxConnections) +
                      " connections already open (max_connections)");
      response.status = 503;
      response.body = "too many connections\n";
      response.headers.emplace_back("Connection", "close");
    } else {
      ++server.counters_.requests;
      const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
      const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
      const char* authorization =
          evhttp_find_header(evhttp_request_get_input_headers(request), "Authorization");
      HttpRequest incoming;
      incoming.method = methodName(evhttp_request_get_command(request));
      incoming.path = path != nullptr ? path : "";
      incoming.authorization = authorization != nullptr ? authorization : "";
      incoming.peer = shownPeer;
      response = server.handler_(incoming);
    }
    return response;
  }

  static void request(evhttp_request* request, void* argument) {
    auto& server = *static_cast<OperatorHttpServer*>(argument);
    auto found = server.connections_.find(
        evhttp_connection_get_bufferevent(evhttp_request_get_connection(request)));
    Connection* c = found == server.connections_.end() ? nullptr : found->second;
    const HttpResponse response = route(server, request, c);
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", response.contentType.c_str());
    evhttp_add_header(headers, "Cache-Control", "no-store");
    for (const auto& header : response.headers) {
      evhttp_add_header(headers, header.first.c_str(), header.second.c_str());
    }
    evbuffer* body = evbuffer_new();
    if (evhttp_request_get_command(request) == EVHTTP_REQ_HEAD) {
      // evhttp 2.1 would send the body of a HEAD answer; the length says what GET gives.
      evhttp_add_header(headers, "Content-Length", std::to_string(response.body.size()).c_str());
    } else {
      evbuffer_add(body, response.body.data(), response.body.size());
    }
    if (c != nullptr) ++c->ownReplies;
    evhttp_send_reply(request, response.status, reasonPhrase(response.status), body);
    evbuffer_free(body);
  }
};

OperatorHttpServer::OperatorHttpServer(event_base* base, const HttpServerSpec& spec,
                                       Handler handler, LogSink log)
    : base_(base), spec_(spec), handler_(std::move(handler)), log_(std::move(log)) {}

OperatorHttpServer::~OperatorHttpServer() {
  if (tcpListener_ != nullptr) evconnlistener_free(tcpListener_);
  relays_.clear();  // they only call back from the loop, never while being destroyed
  relayByLocalName_.clear();
  finishedRelays_.clear();
  if (reapTimer_ != nullptr) event_free(reapTimer_);
  if (http_ != nullptr) evhttp_free(http_);  // frees every connection evhttp holds
  releaseFreed(true);
  if (sweepTimer_ != nullptr) event_free(sweepTimer_);
}

void OperatorHttpServer::releaseFreed(bool all) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection* c = it->second;
    bufferevent_data_cb readCallback = nullptr;
    bufferevent_event_cb eventCallback = nullptr;
    bufferevent_getcb(c->socket, &readCallback, nullptr, &eventCallback, nullptr);
    if (!all && (readCallback != nullptr || eventCallback != nullptr)) {
      ++it;
      continue;
    }
    evbuffer_remove_cb_entry(bufferevent_get_output(c->socket), c->outputWatch);
    bufferevent_disable(c->socket, EV_READ | EV_WRITE);
    bufferevent_decref(c->socket);  // the last reference: closes the descriptor
    delete c;
    it = connections_.erase(it);
    --open_;
  }
  updateAccepting();
}

std::unique_ptr<OperatorHttpServer> OperatorHttpServer::create(event_base* base,
                                                               const HttpServerSpec& spec,
                                                               Handler handler, LogSink log,
                                                               std::string& error) {
  std::unique_ptr<OperatorHttpServer> server(
      new OperatorHttpServer(base, spec, std::move(handler), std::move(log)));
  if (server->spec_.maxConnections == 0) server->spec_.maxConnections = 1;
  server->sweepTimer_ = evtimer_new(base, Callbacks::sweep, server.get());
  server->http_ = evhttp_new(base);
  if (server->http_ == nullptr || server->sweepTimer_ == nullptr) {
    error = server->spec_.name + ": cannot create the HTTP server";
    return nullptr;
  }
  evhttp* http = server->http_;
  evhttp_set_max_headers_size(http, static_cast<ev_ssize_t>(spec.maxHeaderBytes));
  evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(spec.maxBodyBytes));
  evhttp_set_timeout(http, spec.timeoutSeconds);
  // Every method reaches the handler, which answers 405 with a log line; evhttp would
  // answer 501 for a method outside this mask without telling anyone.
  evhttp_set_allowed_methods(
      http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
  evhttp_set_bevcb(http, Callbacks::create, server.get());
  evhttp_set_gencb(http, Callbacks::request, server.get());
  if (spec.tls != nullptr) {
    if (!server->bindHttps(error)) return nullptr;
    return server;
  }
  const std::string address = spec.bindAddress.empty() ? "0.0.0.0" : spec.bindAddress;
  server->bound_ = evhttp_bind_socket_with_handle(http, address.c_str(), spec.port);
  if (server->bound_ == nullptr) {
    error = "cannot bind " + server->spec_.name + " on " + address + ":" +
            std::to_string(spec.port) + ": " +
            evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
    return nullptr;
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(evhttp_bound_socket_get_fd(server->bound_), reinterpret_cast<sockaddr*>(&bound),
                    &length) == 0) {
    server->boundPort_ =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  return server;
}

void OperatorHttpServer::updateAccepting() {
  if (bound_ == nullptr || http_ == nullptr) return;
  // Up to maxConnections more sockets are accepted only to be told 503; past that the
  // kernel's backlog holds them, so a flood costs no memory here.
  const bool accept = open_ < 2 * spec_.maxConnections;
  if (accept == accepting_) return;
  accepting_ = accept;
  evconnlistener* listener = evhttp_bound_socket_get_listener(bound_);
  if (accept) {
    evconnlistener_enable(listener);
  } else {
    evconnlistener_disable(listener);
    log_(LogLevel::Warning, spec_.name + ": " + std::to_string(open_) +
                                " connections open, not accepting more until one ends");
  }
}

}  // namespace midge::port
