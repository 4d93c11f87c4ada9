// SPDX-License-Identifier: Apache-2.0
#include "port/websocket/http_upgrade.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace midge::port::websocket {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::string_view kCrLf = "\r\n";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 7230 token characters: what a header name may consist of.
bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Whether a comma-separated header value lists `token` (case-insensitive, as Upgrade and
// Connection tokens are).
bool listsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (equalsIgnoringCase(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

const char* statusText(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

// The body repeats the reason so that a developer looking at the browser's network tab
// sees why the broker said no; it names only what the client itself sent.
UpgradeAnswer refuse(int status, std::string reason, std::string_view extraHeaders = {}) {
  UpgradeAnswer answer;
  answer.status = status;
  const std::string body = reason + "\n";
  answer.response = "HTTP/1.1 " + std::to_string(status) + " " + statusText(status) +
                    "\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n" + std::string(extraHeaders) + "\r\n" +
                    body;
  answer.reason = std::move(reason);
  return answer;
}

struct RequestHeaders {
  std::optional<std::string_view> upgrade;
  std::string connection;  // repeated headers are joined with commas (RFC 7230 3.2.2)
  std::optional<std::string_view> key;
  std::optional<std::string_view> version;
  std::string protocols;
  std::optional<std::string_view> origin;
  bool host = false;
  bool duplicateKey = false;
};

void appendListValue(std::string& list, std::string_view value) {
  if (!list.empty()) list += ',';
  list.append(value.data(), value.size());
}

// Returns an error message, or "" when every header line was well formed.
std::string readHeaders(std::string_view block, RequestHeaders& out) {
  while (!block.empty()) {
    const std::size_t end = block.find(kCrLf);
    const std::string_view line = block.substr(0, end);
    block.remove_prefix(end == std::string_view::npos ? block.size() : end + kCrLf.size());
    if (line.empty()) break;  // the blank line that ends the headers
    if (line.front() == ' ' || line.front() == '\t') {
      return "folded header line (obsolete line folding is not accepted)";
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return "header line without a name";
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!isTokenChar(c)) return "invalid character in a header name";
    }
    const std::string_view value = trim(line.substr(colon + 1));
    for (char c : value) {
      if (c == '\0' || c == '\r' || c == '\n') return "control character in a header value";
    }
    if (equalsIgnoringCase(name, "Upgrade")) {
      out.upgrade = value;
    } else if (equalsIgnoringCase(name, "Connection")) {
      appendListValue(out.connection, value);
    } else if (equalsIgnoringCase(name, "Sec-WebSocket-Key")) {
      if (out.key) out.duplicateKey = true;
      out.key = value;
    } else if (equalsIgnoringCase(name, "Sec-WebSocket-Version")) {
      out.version = value;
    } else if (equalsIgnoringCase(name, "Sec-WebSocket-Protocol")) {
      appendListValue(out.protocols, value);
    } else if (equalsIgnoringCase(name, "Origin")) {
      out.origin = value;
    } else if (equalsIgnoringCase(name, "Host")) {
      out.host = true;
    }
  }
  return {};
}

bool keyIsSixteenBytes(std::string_view key) {
  unsigned char decoded[32];
  std::size_t length = 0;
  if (key.size() != 24) return false;
  const int ret = mbedtls_base64_decode(decoded, sizeof decoded, &length,
                                        reinterpret_cast<const unsigned char*>(key.data()),
                                        key.size());
  return ret == 0 && length == 16;
}

// MQTT 5.0 section 6: the client offers "mqtt"; MQTT 3.1 clients offer "mqttv3.1".
std::optional<std::string> chooseSubprotocol(std::string_view offered) {
  while (!offered.empty()) {
    const std::size_t comma = offered.find(',');
    const std::string_view name = trim(offered.substr(0, comma));
    if (name == "mqtt" || name == "mqttv3.1") return std::string(name);
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

bool originAllowed(std::string_view origin, const std::vector<std::string>& allowed) {
  for (const std::string& entry : allowed) {
    // Scheme and host are case-insensitive; browsers send them in lower case anyway.
    if (equalsIgnoringCase(origin, entry)) return true;
  }
  return false;
}

}  // namespace

std::string acceptKeyFor(std::string_view clientKey) {
  std::string input(clientKey);
  input += kGuid;
  unsigned char digest[20];
  mbedtls_sha1_ret(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[32];
  std::size_t length = 0;
  mbedtls_base64_encode(encoded, sizeof encoded, &length, digest, sizeof digest);
  return std::string(reinterpret_cast<const char*>(encoded), length);
}

UpgradeAnswer headerTooLarge(const WebSocketOptions& options) {
  return refuse(431, "HTTP request headers exceed " + std::to_string(options.maxHeaderBytes) +
                         " bytes (websockets_headers_size)");
}

UpgradeAnswer notHttp() {
  return refuse(400, "not an HTTP request (an MQTT client on a WebSockets listener?)");
}

namespace {

constexpr std::string_view kMalformedRequestLine =
    "malformed HTTP request line (not an HTTP client?)";

// A refusal unless the line is "GET <target> HTTP/1.1".
std::optional<UpgradeAnswer> refuseRequestLine(std::string_view requestLine) {
  const std::size_t firstSpace = requestLine.find(' ');
  const std::size_t lastSpace = requestLine.rfind(' ');
  if (firstSpace == std::string_view::npos || firstSpace == lastSpace || firstSpace == 0) {
    return refuse(400, std::string(kMalformedRequestLine));
  }
  const std::string_view method = requestLine.substr(0, firstSpace);
  const std::string_view target = requestLine.substr(firstSpace + 1, lastSpace - firstSpace - 1);
  const std::string_view version = requestLine.substr(lastSpace + 1);
  if (target.empty() || target.find(' ') != std::string_view::npos) {
    return refuse(400, std::string(kMalformedRequestLine));
  }
  if (version.substr(0, 5) != "HTTP/") return refuse(400, std::string(kMalformedRequestLine));
  if (version != "HTTP/1.1") {
    return refuse(505, "WebSockets need HTTP/1.1; the request used " + std::string(version));
  }
  if (method != "GET") {
    return refuse(405, "WebSocket upgrades use GET; the request used " + std::string(method),
                  "Allow: GET\r\n");
  }
  return std::nullopt;
}

// A refusal unless the headers ask for a version 13 WebSocket with a valid key, from an
// allowed origin.
std::optional<UpgradeAnswer> refuseUpgradeHeaders(const RequestHeaders& headers,
                                                  const WebSocketOptions& options) {
  constexpr std::string_view kUpgradeHeaders = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
  if (!headers.upgrade || !listsToken(*headers.upgrade, "websocket")) {
    return refuse(426, "no 'Upgrade: websocket' header: this port speaks MQTT over WebSockets only",
                  kUpgradeHeaders);
  }
  if (!listsToken(headers.connection, "upgrade")) {
    return refuse(400, "the Connection header does not list 'Upgrade'");
  }
  if (!headers.version || *headers.version != "13") {
    return refuse(426, "unsupported Sec-WebSocket-Version '" +
                           std::string(headers.version.value_or("(none)")) + "' (only 13)",
                  kUpgradeHeaders);
  }
  if (!headers.key) return refuse(400, "missing Sec-WebSocket-Key header");
  if (headers.duplicateKey || !keyIsSixteenBytes(*headers.key)) {
    return refuse(400, "Sec-WebSocket-Key is not a base64-encoded 16-byte value");
  }
  if (!headers.host) return refuse(400, "missing Host header (required by HTTP/1.1)");
  if (!options.allowedOrigins.empty() &&
      (!headers.origin || !originAllowed(*headers.origin, options.allowedOrigins))) {
    return refuse(403, headers.origin ? "origin '" + std::string(*headers.origin) +
                                            "' is not in websockets_origin"
                                      : std::string("no Origin header, and websockets_origin "
                                                    "allows listed origins only"));
  }
  return std::nullopt;
}

UpgradeAnswer switchingProtocols(std::string_view key,
                                 const std::optional<std::string>& subprotocol) {
  UpgradeAnswer answer;
  answer.accepted = true;
  answer.status = 101;
  answer.subprotocol = subprotocol.value_or("");
  answer.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                    acceptKeyFor(key) + "\r\n";
  if (subprotocol) answer.response += "Sec-WebSocket-Protocol: " + *subprotocol + "\r\n";
  answer.response += "\r\n";
  return answer;
}

}  // namespace

UpgradeAnswer answerUpgrade(std::string_view request, const WebSocketOptions& options) {
  const std::size_t lineEnd = request.find(kCrLf);
  if (lineEnd == std::string_view::npos) return refuse(400, std::string(kMalformedRequestLine));
  if (auto refusal = refuseRequestLine(request.substr(0, lineEnd))) return std::move(*refusal);
  RequestHeaders headers;
  const std::string malformed = readHeaders(request.substr(lineEnd + kCrLf.size()), headers);
  if (!malformed.empty()) return refuse(400, "malformed HTTP request: " + malformed);
  if (auto refusal = refuseUpgradeHeaders(headers, options)) return std::move(*refusal);
  std::optional<std::string> subprotocol;
  if (!headers.protocols.empty()) {
    subprotocol = chooseSubprotocol(headers.protocols);
    if (!subprotocol) {
      return refuse(400, "the client offers no MQTT subprotocol (Sec-WebSocket-Protocol: " +
                             headers.protocols + "; expected mqtt)");
    }
  }
  return switchingProtocols(*headers.key, subprotocol);
}

}  // namespace midge::port::websocket
