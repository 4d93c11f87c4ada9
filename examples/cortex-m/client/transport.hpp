// SPDX-License-Identifier: Apache-2.0
// The network seam between the tiny MQTT client and a board: two function pointers and a
// context, in the shape of coreMQTT's TransportInterface_t, so an lwIP socket, a cellular
// modem's AT socket or a TLS session can sit behind it without the client knowing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace midge::tiny {

// Contract for both functions:
// - Never block for long: the client is polled from a super-loop or a single RTOS task and
//   must keep running its timers (keep-alive, retransmission) while the link is slow.
// - Return the number of bytes transferred, which may be fewer than `size`; the client
//   keeps the rest and retries on its next process() call.
// - Return 0 when nothing can be transferred right now (send buffer full, no data yet).
//   Zero MUST NOT be returned once the connection is gone: report that with a negative
//   value, or the client would wait forever for a peer that no longer exists.
// - Return a negative value when the connection is lost or closed by the peer. The client
//   then stops using the transport; the board closes it and may open a new one later.
struct Transport {
  void* context = nullptr;
  std::int32_t (*send)(void* context, const std::uint8_t* data, std::size_t size) = nullptr;
  std::int32_t (*recv)(void* context, std::uint8_t* buffer, std::size_t size) = nullptr;
};

}  // namespace midge::tiny
