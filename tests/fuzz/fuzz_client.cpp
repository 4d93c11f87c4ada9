// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: server bytes into a connected MQTT client (core/client).
//
// Input layout: byte 0 picks the version (bits 0-1: 3.1, 3.1.1, 5.0, 5.0) and, in bit 2,
// whether the CONNACK comes from the input too; byte 1 is the chunk size (0 = all at
// once); the rest is what the server sends. Before the bytes, the client has three
// messages in flight (QoS 1, 2, 2 with packet identifiers 1, 2, 3) and one SUBSCRIBE
// (identifier 4), so acknowledgements in the input reach the flows.
//
// Properties checked, beyond "no crash, no sanitizer report": the client never holds more
// in flight than its window; after a close it asks for the transport to go; the committed
// journal always matches the client's own in-flight state; a client restored from that
// journal accepts it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/client/client.hpp"

namespace {

using midge::Bytes;
using namespace midge::client;
using midge::codec::ProtocolVersion;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_client: %s\n", what);
  std::abort();
}

void connackFor(Client& client, ProtocolVersion version) {
  std::vector<std::uint8_t> connack = {0x20, 0x02, 0x00, 0x00};
  if (version == ProtocolVersion::V5) connack = {0x20, 0x03, 0x00, 0x00, 0x00};
  client.onBytes(Bytes(connack), 1);
}

void prime(Client& client) {
  std::uint64_t tag = 1;
  for (std::uint8_t qos : {1, 2, 2}) {
    OutboundMessage message;
    message.topic = "up/t";
    message.payload = {1, 2, 3};
    message.qos = qos;
    (void)client.publish(message, tag++, 1);
  }
  (void)client.subscribe({Subscription{"down/#", 2, true, true, 0}}, 1);
}

void checkJournal(const Client& client, const MemoryJournal& journal) {
  if (journal.size() != client.inflight() + client.inboundPending()) {
    fail("committed journal disagrees with the client's in-flight state");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static constexpr ProtocolVersion kVersions[] = {ProtocolVersion::V31, ProtocolVersion::V311,
                                                  ProtocolVersion::V5, ProtocolVersion::V5};
  const ProtocolVersion version = kVersions[data[0] & 0x03];
  const bool connackFromInput = (data[0] & 0x04) != 0;
  const std::size_t chunk = data[1] == 0 ? size : data[1];
  ClientOptions options;
  options.version = version;
  options.clientId = "fuzz";
  options.cleanStart = false;
  options.maxInflight = 3;
  options.receiveMaximum = 4;
  options.maximumPacketSize = 4096;
  MemoryJournal journal;
  Client client(options, &journal);
  if (!client.connect(0)) fail("connect refused on a fresh client");
  if (!connackFromInput) {
    connackFor(client, version);
    prime(client);
  }
  std::uint64_t now = 1;
  for (std::size_t offset = 2; offset < size; offset += chunk) {
    const std::size_t n = size - offset < chunk ? size - offset : chunk;
    client.onBytes(Bytes(data + offset, n), now);
    client.onTick(now += 997);
    (void)client.takeEvents();
    (void)client.takeBytes();
    journal.commit();
    checkJournal(client, journal);
    if (client.inflight() > options.maxInflight) fail("more in flight than the window");
    if (client.state() == ClientState::Disconnected) {
      if (!client.closeRequested()) fail("closed without asking for the transport to close");
      break;
    }
  }
  Client restored(options, nullptr);
  if (!restored.restore(journal.records())) fail("the committed journal does not restore");
  return 0;
}
