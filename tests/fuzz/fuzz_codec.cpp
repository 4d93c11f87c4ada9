// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over the framer and every packet decoder, for all protocol versions.
//
// Input layout: byte 0 picks the version(s) (bits 0-1: 3.1, 3.1.1, 5.0, or all three);
// byte 1 is the chunk size the stream is fed in (0 = all at once); the rest is the byte
// stream a client would send.
//
// Properties checked, beyond "no crash, no sanitizer report":
//  - the framer yields the same frames whatever the chunking;
//  - whatever decodes re-encodes without error, the encoding decodes again, and encoding
//    that gives the same bytes (the encoder's output is a fixed point).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/codec/codec.hpp"

namespace {

using midge::Bytes;
using namespace midge::codec;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_codec: %s\n", what);
  std::abort();
}

struct RecordedFrame {
  std::uint8_t header;
  std::vector<std::uint8_t> body;
};

std::vector<RecordedFrame> frameAll(Bytes stream, std::size_t chunk, bool& failed) {
  Framer framer(1 << 20);
  std::vector<RecordedFrame> frames;
  auto collect = [&](const Frame& frame) {
    const auto bodySize = static_cast<std::uint32_t>(frame.body.size());
    if (frame.wireSize != 1 + varintSize(bodySize) + frame.body.size()) {
      fail("frame wire size does not match its body");
    }
    frames.push_back(
        {frame.header, std::vector<std::uint8_t>(frame.body.begin(), frame.body.end())});
    return true;
  };
  failed = false;
  if (chunk == 0) chunk = stream.size() == 0 ? 1 : stream.size();
  for (std::size_t offset = 0; offset < stream.size() && !failed; offset += chunk) {
    const std::size_t n = stream.size() - offset < chunk ? stream.size() - offset : chunk;
    if (!framer.feed(stream.subspan(offset, n), collect).ok()) failed = true;
  }
  return frames;
}

Frame frameOver(const std::vector<std::uint8_t>& wire) {
  const FixedHeader header = parseFixedHeader(wire.data(), wire.size());
  if (header.state != FixedHeader::State::Complete ||
      header.headerSize + header.remainingLength != wire.size()) {
    fail("encoder produced something that is not exactly one frame");
  }
  Frame frame;
  frame.header = wire[0];
  frame.body = Bytes(wire.data() + header.headerSize, header.remainingLength);
  frame.wireSize = wire.size();
  return frame;
}

void checkRoundTrip(const Frame& frame, ProtocolVersion version) {
  const midge::Result<Packet> decoded = decodePacket(frame, version);
  // Lower-level entry points see the same bytes too.
  midge::codec::Properties properties;
  (void)decodePropertiesBody(frame.body, frame.type(), properties);
  (void)decodeWillPropertiesBody(frame.body, properties);
  if (!decoded.ok()) {
    if (decoded.error().detail == nullptr) fail("error without detail");
    return;
  }
  std::vector<std::uint8_t> first;
  if (!encodePacket(*decoded, version, first).ok()) fail("decoded packet does not re-encode");
  const Frame again = frameOver(first);
  if (again.type() != frame.type()) fail("packet type changed in the round trip");
  const midge::Result<Packet> redecoded = decodePacket(again, version);
  if (!redecoded.ok()) fail("re-encoded packet does not decode");
  std::vector<std::uint8_t> second;
  if (!encodePacket(*redecoded, version, second).ok()) fail("second encoding failed");
  if (first != second) fail("encoding is not a fixed point");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t selector = data[0] & 0x03;
  const std::size_t chunk = data[1];
  const Bytes stream(data + 2, size - 2);

  bool wholeFailed = false;
  bool chunkedFailed = false;
  const std::vector<RecordedFrame> whole = frameAll(stream, 0, wholeFailed);
  const std::vector<RecordedFrame> chunked = frameAll(stream, chunk, chunkedFailed);
  // A stream that fails stops where the bad header is, and an incomplete tail yields
  // nothing in either mode, so both must agree on every frame they produced.
  if (wholeFailed != chunkedFailed || whole.size() != chunked.size()) {
    fail("framing depends on chunking");
  }
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (whole[i].header != chunked[i].header || whole[i].body != chunked[i].body) {
      fail("frame content depends on chunking");
    }
  }

  const ProtocolVersion versions[] = {ProtocolVersion::V31, ProtocolVersion::V311,
                                      ProtocolVersion::V5};
  for (const RecordedFrame& recorded : whole) {
    Frame frame;
    frame.header = recorded.header;
    frame.body = Bytes(recorded.body);
    frame.wireSize =
        1 + varintSize(static_cast<std::uint32_t>(recorded.body.size())) + recorded.body.size();
    if (selector == 3) {
      for (const ProtocolVersion version : versions) checkRoundTrip(frame, version);
    } else {
      checkRoundTrip(frame, versions[selector]);
    }
  }
  return 0;
}
