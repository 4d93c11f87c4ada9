// SPDX-License-Identifier: Apache-2.0
#include "examples/gateway-bridge/serial_port.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace midge::bridge {
namespace {

bool speedFor(std::uint32_t baud, speed_t& speed) {
  switch (baud) {
    case 1200: speed = B1200; return true;
    case 2400: speed = B2400; return true;
    case 4800: speed = B4800; return true;
    case 9600: speed = B9600; return true;
    case 19200: speed = B19200; return true;
    case 38400: speed = B38400; return true;
    case 57600: speed = B57600; return true;
    case 115200: speed = B115200; return true;
    case 230400: speed = B230400; return true;
    case 460800: speed = B460800; return true;
    case 921600: speed = B921600; return true;
    default: return false;
  }
}

std::string describeErrno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

DeviceLink::DeviceLink(int readFd, int writeFd, bool owned)
    : readFd_(readFd), writeFd_(writeFd), owned_(owned) {}

DeviceLink::~DeviceLink() {
  if (owned_) ::close(readFd_);
}

std::unique_ptr<DeviceLink> DeviceLink::openSerial(const std::string& path, std::uint32_t baud,
                                                   std::string& error) {
  speed_t speed = B0;
  if (!speedFor(baud, speed)) {
    error = "unsupported baud rate " + std::to_string(baud);
    return nullptr;
  }
  // O_NOCTTY: a serial port must never become the bridge's controlling terminal, or a
  // hang-up on it would send SIGHUP.
  const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = describeErrno("cannot open " + path);
    return nullptr;
  }
  // A FIFO or a plain file (handy for replaying a capture) has no line settings.
  if (::isatty(fd) == 1) {
    termios settings{};
    if (::tcgetattr(fd, &settings) != 0) {
      error = describeErrno("cannot read the line settings of " + path);
      ::close(fd);
      return nullptr;
    }
    // Raw: no echo, no line editing, no CR/LF translation, 8 data bits, no parity, one
    // stop bit, no flow control; reads return whatever has arrived.
    ::cfmakeraw(&settings);
    settings.c_cflag |= CLOCAL | CREAD;
    settings.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | CRTSCTS);
    settings.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
    settings.c_cc[VMIN] = 0;
    settings.c_cc[VTIME] = 0;
    if (::cfsetispeed(&settings, speed) != 0 || ::cfsetospeed(&settings, speed) != 0 ||
        ::tcsetattr(fd, TCSANOW, &settings) != 0) {
      error = describeErrno("cannot configure " + path);
      ::close(fd);
      return nullptr;
    }
  }
  return std::unique_ptr<DeviceLink>(new DeviceLink(fd, fd, true));
}

std::unique_ptr<DeviceLink> DeviceLink::openStdio() {
  return std::unique_ptr<DeviceLink>(new DeviceLink(STDIN_FILENO, STDOUT_FILENO, false));
}

DeviceLink::ReadResult DeviceLink::read(std::string& out, std::string& error) {
  char buffer[4096];
  const ssize_t got = ::read(readFd_, buffer, sizeof buffer);
  if (got > 0) {
    out.assign(buffer, static_cast<std::size_t>(got));
    return ReadResult::Data;
  }
  out.clear();
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return ReadResult::Nothing;
  }
  error = got == 0 ? std::string("end of input") : describeErrno("read");
  return ReadResult::Closed;
}

bool DeviceLink::queueLine(std::string_view line) {
  if (pending_.size() + line.size() + 1 > kMaxPendingOutput) return false;
  pending_.append(line);
  pending_.push_back('\n');
  return true;
}

bool DeviceLink::flush(std::string& error) {
  while (!pending_.empty()) {
    const ssize_t written = ::write(writeFd_, pending_.data(), pending_.size());
    if (written < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      error = describeErrno("write");
      return false;
    }
    pending_.erase(0, static_cast<std::size_t>(written));
  }
  return true;
}

}  // namespace midge::bridge
