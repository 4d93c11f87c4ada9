// SPDX-License-Identifier: Apache-2.0
// The device end of the bridge: a serial port configured raw (8N1, no flow control, the
// chosen baud rate), a pseudo-terminal, or stdin/stdout. Reads never block; output to the
// device is queued and written as the descriptor accepts it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace midge::bridge {

class DeviceLink {
 public:
  // A serial device or a pty slave. Null with `error` set when it cannot be opened or
  // configured (unknown baud rate, not permitted...).
  static std::unique_ptr<DeviceLink> openSerial(const std::string& path, std::uint32_t baud,
                                                std::string& error);
  // stdin for readings, stdout for commands.
  static std::unique_ptr<DeviceLink> openStdio();

  ~DeviceLink();
  DeviceLink(const DeviceLink&) = delete;
  DeviceLink& operator=(const DeviceLink&) = delete;

  int readFd() const noexcept { return readFd_; }
  int writeFd() const noexcept { return writeFd_; }

  enum class ReadResult { Data, Nothing, Closed };
  // Reads what is available into out (replacing its contents). Closed: end of file, or an
  // error such as EIO when a USB adapter is unplugged or the pty master is closed.
  ReadResult read(std::string& out, std::string& error);

  // Queues one line (LF appended). False, and nothing queued, when the device has not
  // taken the last kMaxPendingOutput bytes: a stuck device must not grow our memory.
  bool queueLine(std::string_view line);
  bool wantsWrite() const noexcept { return !pending_.empty(); }
  // Writes what the descriptor takes now. False on a write error.
  bool flush(std::string& error);

  static constexpr std::size_t kMaxPendingOutput = 16 * 1024;

 private:
  DeviceLink(int readFd, int writeFd, bool owned);
  int readFd_;
  int writeFd_;
  bool owned_;
  std::string pending_;
};

}  // namespace midge::bridge
