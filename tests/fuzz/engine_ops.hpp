// SPDX-License-Identifier: Apache-2.0
// The input language of fuzz_engine, shared with engine_corpus_gen which writes seeds in it.
//
// An input is two configuration bytes followed by operations until the input ends:
//
//   config0 config1 { op [arguments] }*
//
// Each op byte is: bits 0-3 the operation (Op below), bits 4-6 a connection slot 0..7,
// bit 7 a variant flag whose meaning depends on the operation. Arguments are read from the
// bytes that follow; a truncated input reads zeros. Every byte value means something, so
// libFuzzer mutations always stay inside the language, and short templates (CONNECT,
// PUBLISH, acks with packet identifiers taken from what the broker sent) let the fuzzer
// reach sessions, QoS flows, restarts and wills without guessing whole packets.
#pragma once

#include <cstdint>

namespace midge::fuzz {

enum class Op : std::uint8_t {
  Open = 0,         // peer byte: bits 0-1 address, bits 2-3 listener, bit 4 TLS
  Close = 1,        // the peer closes (onClose)
  Raw = 2,          // length (bit 7: two bytes, big endian), then the bytes
  Connect = 3,      // see fuzz_engine.cpp buildConnect for the argument bytes
  Subscribe = 4,
  Unsubscribe = 5,
  Publish = 6,
  Ack = 7,          // PUBACK/PUBREC/PUBREL/PUBCOMP with a packet id chosen from the model
  Ping = 8,
  Disconnect = 9,
  Auth = 10,
  Tick = 11,        // seconds index; bit 7: one-second steps instead of one jump
  Congestion = 12,  // toggle congestion of the slot; bit 7: spurious onWritable only
  FailCommit = 13,  // the store's next commit fails
  Restart = 14,     // byte: bit 0 graceful shutdown first, bits 1-3 downtime index
  Misc = 15,        // byte: subop (MiscOp)
};

enum class MiscOp : std::uint8_t {
  ToggleBatch = 0,        // events run without endOfTurn until toggled back
  ToggleHold = 1,         // bytes for the slot accumulate and arrive in one onBytes
  WallForward = 2,        // wall clock jumps an hour ahead (NTP step)
  WallBack = 3,           // wall clock steps back 100 s; the monotonic clock does not
  ToggleDeferCloses = 4,  // engine-requested closes are reported later, not at once
};

// For packet operations (Connect..Auth), bit 7 of the op byte means "feed the packet in
// chunks": one more byte follows whose low 4 bits + 1 give the chunk size.
constexpr std::uint8_t kVariant = 0x80;

constexpr std::uint8_t opByte(Op op, unsigned slot = 0, bool variant = false) {
  return static_cast<std::uint8_t>(static_cast<unsigned>(op) | ((slot & 7u) << 4) |
                                   (variant ? kVariant : 0u));
}

// config0 bits
constexpr std::uint8_t kDenySomeAuth = 0x01;       // DenySomeAuthenticator, else allow all
constexpr std::uint8_t kSmallLimits = 0x02;        // tiny in-flight, queue, memory, sizes
constexpr std::uint8_t kListenerLimits = 0x04;     // listener 1: max QoS 1, listener 2: QoS 0
constexpr std::uint8_t kNoRetain = 0x08;           // retain_available false
constexpr std::uint8_t kMaxKeepalive = 0x10;       // max_keepalive 30
constexpr std::uint8_t kQueueQos0 = 0x20;
constexpr std::uint8_t kUpgradeQos = 0x40;
constexpr std::uint8_t kPersistentExpiry = 0x80;   // persistent_client_expiration 60 s
// config1 bits
constexpr std::uint8_t kSysEverySecond = 0x01;     // else $SYS off
constexpr std::uint8_t kNoZeroLengthId = 0x02;
constexpr std::uint8_t kConnectRate = 0x04;        // 2 CONNECTs per second per address
constexpr std::uint8_t kQuietConnections = 0x08;
constexpr std::uint8_t kUnlimited = 0x10;          // in-flight and queue count limits 0
constexpr std::uint8_t kSmallBeforeConnect = 0x20; // 64-byte cap before CONNECT

}  // namespace midge::fuzz
