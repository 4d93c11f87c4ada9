// SPDX-License-Identifier: Apache-2.0
#include "port/websocket/websocket_session.hpp"

#include <wslay/wslay.h>

#include <cstring>
#include <string_view>

#include "port/websocket/http_upgrade.hpp"

namespace midge::port {
namespace {

constexpr std::string_view kEndOfHeaders = "\r\n\r\n";

// Keeps the sinks valid for exactly one public call, as TlsSessionCallScope does, so a
// stray wslay callback can never write into a caller's vector later.
class CallScope {
 public:
  CallScope(Bytes& input, std::vector<std::uint8_t>*& wire, std::vector<std::uint8_t>*& plain,
            Bytes newInput, std::vector<std::uint8_t>* newWire,
            std::vector<std::uint8_t>* newPlain)
      : input_(input), wire_(wire), plain_(plain) {
    input_ = newInput;
    wire_ = newWire;
    plain_ = newPlain;
  }
  ~CallScope() {
    input_ = Bytes();
    wire_ = nullptr;
    plain_ = nullptr;
  }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  Bytes& input_;
  std::vector<std::uint8_t>*& wire_;
  std::vector<std::uint8_t>*& plain_;
};

std::string describeClose(std::uint16_t code) {
  switch (code) {
    case 1000: return "1000, normal closure";
    case 1001: return "1001, going away";
    case WSLAY_CODE_NO_STATUS_RCVD: return "no status code";
    default: return std::to_string(code);
  }
}

}  // namespace

struct WebSocketSession::Callbacks {
  static ssize_t receive(wslay_event_context_ptr ctx, std::uint8_t* buffer, std::size_t length,
                         int, void* self) {
    Bytes& input = static_cast<WebSocketSession*>(self)->pendingInput_;
    if (input.empty()) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    const std::size_t count = length < input.size() ? length : input.size();
    std::memcpy(buffer, input.data(), count);
    input = input.subspan(count);
    return static_cast<ssize_t>(count);
  }

  static ssize_t send(wslay_event_context_ptr ctx, const std::uint8_t* data, std::size_t length,
                      int, void* self) {
    std::vector<std::uint8_t>* sink = static_cast<WebSocketSession*>(self)->wireSink_;
    if (sink == nullptr) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    sink->insert(sink->end(), data, data + length);
    return static_cast<ssize_t>(length);
  }

  static void frameStart(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* arg,
                         void* self) {
    static_cast<WebSocketSession*>(self)->frameOpcode_ = arg->opcode;
  }

  // Continuation frames only ever continue a binary message: the guard refuses text.
  static void frameChunk(wslay_event_context_ptr, const wslay_event_on_frame_recv_chunk_arg* arg,
                         void* self) {
    auto* session = static_cast<WebSocketSession*>(self);
    if (session->plainSink_ == nullptr) return;
    if (session->frameOpcode_ != WSLAY_BINARY_FRAME &&
        session->frameOpcode_ != WSLAY_CONTINUATION_FRAME) {
      return;
    }
    session->plainSink_->insert(session->plainSink_->end(), arg->data,
                                arg->data + arg->data_length);
  }
};

WebSocketSession::WebSocketSession(std::shared_ptr<const WebSocketOptions> options)
    : options_(std::move(options)), guard_(options_->maxFrameBytes) {}

WebSocketSession::~WebSocketSession() {
  if (wslay_ != nullptr) wslay_event_context_free(wslay_);
}

bool WebSocketSession::startWslay() {
  static const wslay_event_callbacks kCallbacks = {
      &Callbacks::receive, &Callbacks::send,       nullptr, &Callbacks::frameStart,
      &Callbacks::frameChunk, nullptr, nullptr,
  };
  if (wslay_event_context_server_init(&wslay_, &kCallbacks, this) != 0) {
    wslay_ = nullptr;
    return fail("cannot start a WebSocket session: out of memory");
  }
  // Data frames stream through; only control frames (at most 125 bytes) are buffered.
  wslay_event_config_set_no_buffering(wslay_, 1);
  wslay_event_config_set_max_recv_msg_length(wslay_, options_->maxFrameBytes);
  return true;
}

bool WebSocketSession::onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                                 std::vector<std::uint8_t>& wireOut) {
  if (failed_) return false;
  if (!upgraded_) {
    if (!readUpgradeRequest(wireIn, wireOut)) return false;
    if (!upgraded_ || wireIn.empty()) return true;
  }
  return readFrames(wireIn, plainOut, wireOut);
}

// Collects the request up to the blank line; on success wireIn is left holding the bytes
// that followed it (a client may send its first frame without waiting for the 101).
bool WebSocketSession::readUpgradeRequest(Bytes& wireIn, std::vector<std::uint8_t>& wireOut) {
  const std::size_t before = request_.size();
  const std::size_t room = options_->maxHeaderBytes > before ? options_->maxHeaderBytes - before : 0;
  const std::size_t take = wireIn.size() < room ? wireIn.size() : room;
  request_.append(reinterpret_cast<const char*>(wireIn.data()), take);
  // The blank line may straddle two reads: search from just before the new bytes.
  const std::size_t from = before >= kEndOfHeaders.size() ? before - (kEndOfHeaders.size() - 1) : 0;
  const std::size_t end = request_.find(kEndOfHeaders, from);
  websocket::UpgradeAnswer answer;
  if (!request_.empty() && (request_[0] < 'A' || request_[0] > 'Z')) {
    // Every HTTP method starts with a capital letter; an MQTT client that was pointed at
    // this port starts with 0x10 and would otherwise wait for the handshake timeout.
    answer = websocket::notHttp();
    wireIn = Bytes();
  } else if (end == std::string::npos) {
    if (request_.size() < options_->maxHeaderBytes) return true;
    answer = websocket::headerTooLarge(*options_);
  } else {
    const std::size_t requestSize = end + kEndOfHeaders.size();
    answer = websocket::answerUpgrade(std::string_view(request_).substr(0, requestSize), *options_);
    wireIn = wireIn.subspan(requestSize - before);
  }
  wireOut.insert(wireOut.end(), answer.response.begin(), answer.response.end());
  std::string().swap(request_);  // an open connection keeps no request bytes
  if (!answer.accepted) {
    return fail("refused the HTTP upgrade with " + std::to_string(answer.status) + ": " +
                answer.reason);
  }
  subprotocol_ = answer.subprotocol;
  upgraded_ = true;
  return startWslay();
}

bool WebSocketSession::readFrames(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                                  std::vector<std::uint8_t>& wireOut) {
  const websocket::FrameVerdict verdict = guard_.scan(wireIn);
  CallScope scope(pendingInput_, wireSink_, plainSink_, wireIn.first(verdict.acceptedBytes),
                  &wireOut, &plainOut);
  const std::size_t plainBefore = plainOut.size();
  if (wslay_event_recv(wslay_) != 0) {
    flushWslay();
    return fail("cannot read WebSocket frames: out of memory");
  }
  if (wslay_event_get_close_received(wslay_) != 0) {
    // wslay has queued the echo of the client's Close frame; bytes that came before it
    // (a DISCONNECT, say) still reach the engine in this call, as TlsSession does.
    flushWslay();
    closedByPeer_ = true;
    fail("client closed the WebSocket (" +
         describeClose(wslay_event_get_status_code_received(wslay_)) + ")");
    return plainOut.size() > plainBefore;
  }
  if (verdict.refused) {
    const std::string& reason = verdict.reason;
    // The reason in the Close frame is limited to 123 bytes (a control frame's 125 less
    // the code); ours are shorter, and it is optional anyway.
    const std::size_t reasonLength = reason.size() <= 123 ? reason.size() : 0;
    wslay_event_queue_close(wslay_, verdict.closeCode,
                            reinterpret_cast<const std::uint8_t*>(reason.data()), reasonLength);
    flushWslay();
    return fail(reason + " (closed with " + std::to_string(verdict.closeCode) + ")");
  }
  if (wslay_event_get_close_sent(wslay_) != 0 || wslay_event_get_read_enabled(wslay_) == 0) {
    flushWslay();
    return fail("WebSocket protocol error (closed with " +
                std::to_string(wslay_event_get_status_code_sent(wslay_)) + ")");
  }
  flushWslay();  // pongs
  return true;
}

bool WebSocketSession::onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) {
  if (failed_) return false;
  if (!upgraded_ || wslay_ == nullptr) return fail("MQTT data sent before the WebSocket handshake");
  CallScope scope(pendingInput_, wireSink_, plainSink_, Bytes(), &wireOut, nullptr);
  wslay_event_msg message{WSLAY_BINARY_FRAME, plainIn.data(), plainIn.size()};
  if (wslay_event_queue_msg(wslay_, &message) != 0) {
    return fail("cannot queue a WebSocket frame (the connection is closing)");
  }
  if (wslay_event_send(wslay_) != 0) return fail("cannot write a WebSocket frame");
  return true;
}

void WebSocketSession::closeGracefully(std::vector<std::uint8_t>& wireOut) {
  if (failed_ || wslay_ == nullptr || wslay_event_get_close_sent(wslay_) != 0) return;
  CallScope scope(pendingInput_, wireSink_, plainSink_, Bytes(), &wireOut, nullptr);
  wslay_event_queue_close(wslay_, websocket::kCloseNormal, nullptr, 0);
  wslay_event_send(wslay_);
}

// Everything wslay queued goes to the wire sink now; the sink never refuses, so a
// failure here can only be a Close already sent, after which nothing more may go out.
void WebSocketSession::flushWslay() { (void)wslay_event_send(wslay_); }

bool WebSocketSession::fail(std::string reason) {
  failed_ = true;
  if (error_.empty()) error_ = std::move(reason);
  return false;
}

WebSocketServerContext::WebSocketServerContext(WebSocketOptions options)
    : options_(std::make_shared<const WebSocketOptions>(std::move(options))) {}

std::unique_ptr<StreamFilter> WebSocketServerContext::create() {
  return std::make_unique<WebSocketSession>(options_);
}

}  // namespace midge::port
