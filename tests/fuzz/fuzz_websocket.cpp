// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over the WebSocket filter: the HTTP upgrade request and the frames
// that follow it, as a client would send them.
//
// Input layout: byte 0 holds options (bit 0: prepend a valid upgrade request so that the
// fuzzer spends its time on frames; bit 1: listener has an Origin allow-list; bit 2: the
// engine sends a packet after each read); byte 1 is the chunk size the rest is fed in
// (0 = all at once); the rest is the byte stream.
//
// Properties checked, beyond "no crash, no sanitizer report":
//  - the MQTT bytes delivered are the same whatever the chunking;
//  - once a call has failed, every later call fails and delivers nothing;
//  - nothing reaches the engine before the handshake is done;
//  - a send that fails says why.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "port/websocket/websocket_session.hpp"

namespace {

using midge::Bytes;
using midge::port::WebSocketOptions;
using midge::port::WebSocketSession;

constexpr char kUpgrade[] =
    "GET /mqtt HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Origin: https://ok.example\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_websocket: %s\n", what);
  std::abort();
}

struct Run {
  std::vector<std::uint8_t> plain;
  bool failed = false;
  bool upgraded = false;
};

Run feed(const std::vector<std::uint8_t>& stream, std::size_t chunk, std::uint8_t flags) {
  auto options = std::make_shared<WebSocketOptions>();
  options->maxHeaderBytes = 512;
  options->maxFrameBytes = 4096;
  if ((flags & 2) != 0) options->allowedOrigins = {"https://ok.example"};
  WebSocketSession session(options);
  Run run;
  std::vector<std::uint8_t> wire;
  const std::size_t step = chunk == 0 ? (stream.empty() ? 1 : stream.size()) : chunk;
  for (std::size_t offset = 0; offset < stream.size(); offset += step) {
    const std::size_t n = stream.size() - offset < step ? stream.size() - offset : step;
    const std::size_t before = run.plain.size();
    const bool ok = session.onReceive(Bytes(stream.data() + offset, n), run.plain, wire);
    if (run.failed && (ok || run.plain.size() != before)) fail("a failed session went on");
    if (!session.handshakeDone() && run.plain.size() != before) fail("data before the handshake");
    if (!ok) run.failed = true;
    if (ok && session.handshakeDone() && (flags & 4) != 0) {
      const std::uint8_t pingresp[2] = {0xD0, 0x00};
      // A call that delivered bytes before the client's Close returns true; the session is
      // closing then, and a send may fail, but only with a reason for the log.
      if (!session.onSend(Bytes(pingresp, 2), wire) && session.error().empty()) {
        fail("send failed without a reason");
      }
    }
    wire.clear();
  }
  std::vector<std::uint8_t> closing;
  session.closeGracefully(closing);
  run.upgraded = session.handshakeDone();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const std::size_t chunk = data[1];
  std::vector<std::uint8_t> stream;
  if ((flags & 1) != 0) stream.assign(kUpgrade, kUpgrade + sizeof kUpgrade - 1);
  stream.insert(stream.end(), data + 2, data + size);

  const Run whole = feed(stream, 0, flags);
  const Run chunked = feed(stream, chunk, flags);
  // A refusal may come at a different point of a split stream only in what it let
  // through before the bad byte; what both delivered must agree.
  const std::size_t common =
      whole.plain.size() < chunked.plain.size() ? whole.plain.size() : chunked.plain.size();
  for (std::size_t i = 0; i < common; ++i) {
    if (whole.plain[i] != chunked.plain[i]) fail("chunking changed the delivered bytes");
  }
  if (!whole.failed && !chunked.failed && whole.plain.size() != chunked.plain.size()) {
    fail("chunking changed how many bytes were delivered");
  }
  return 0;
}
