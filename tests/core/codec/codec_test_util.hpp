// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the codec tests: hex byte vectors, frames over them, and a textual
// dump of a decoded packet so that round trips compare every field with readable diffs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec/codec.hpp"

namespace midge::codec::test {

using ByteVector = std::vector<std::uint8_t>;

// "30 05 00 03 61 2f 62" -> bytes; whitespace ignored. Throws on bad input.
ByteVector hex(std::string_view text);
std::string toHex(Bytes bytes);

// Prefixes a body with a fixed header (type/flags byte and remaining length).
ByteVector packet(std::uint8_t header, const ByteVector& body);
ByteVector packet(std::uint8_t header, std::string_view bodyHex);
ByteVector concat(std::initializer_list<ByteVector> parts);
// Length-prefixed v5 property block from the properties' hex.
ByteVector props(std::string_view bodyHex);

// The wire bytes must be exactly one frame; the Frame views into `wire`.
Frame frameOf(const ByteVector& wire);

std::string describe(const Properties& properties);
std::string describe(const Packet& packet);

// Decodes the single frame in wire.
Result<Packet> decodeWire(const ByteVector& wire, ProtocolVersion version);

}  // namespace midge::codec::test
