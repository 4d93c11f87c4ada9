// SPDX-License-Identifier: Apache-2.0
#include "examples/gateway-bridge/bridge.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace midge::bridge {
namespace {

// The broker side: a TCP connect that hangs (a silently dropping firewall) is abandoned
// after this long and retried with back-off.
constexpr std::uint64_t kConnectTimeoutMs = 10000;
// A serial adapter that disappeared (USB unplugged) is looked for again this often.
constexpr std::uint64_t kDeviceRetryMs = 2000;
// On SIGTERM the bridge publishes "offline" (DISCONNECT discards the will) and
// disconnects; a broker that does not answer within this time is not waited for.
constexpr std::uint64_t kStopGraceMs = 3000;
// The longest poll() sleep: the client's timers (keep-alive, retransmission) have a
// resolution of seconds, so a few wake-ups per second are enough.
constexpr int kMaxPollMs = 250;

// Commands bound for the device are short lines; the receive buffer is larger so that an
// unrelated big message on the command topic does not cost a reconnect.
constexpr std::size_t kTxBufferBytes = 8 * 1024;
constexpr std::size_t kRxBufferBytes = 64 * 1024;
constexpr std::size_t kInflightBufferBytes = 4 * 1024;

std::uint64_t monotonicMs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000u +
         static_cast<std::uint64_t>(now.tv_nsec) / 1000000u;
}


// Gateways of one fleet often boot the same image at the same time with the same PIDs;
// their client identifiers differ, so they go into the seed too.
std::uint32_t jitterSeed(const std::string& clientId) {
  std::uint32_t seed = static_cast<std::uint32_t>(::getpid()) ^
                       static_cast<std::uint32_t>(monotonicMs());
  for (const char c : clientId) seed = seed * 31u + static_cast<unsigned char>(c);
  return seed;
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 80)) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20 || byte == 0x7F ? '?' : c);
  }
  if (text.size() > 80) out += "...";
  return out;
}

}  // namespace

// The client takes plain function pointers (it also runs on bare metal); lambdas written
// in a member function may call the private handlers, and the bridge is the context.
tiny::Callbacks Bridge::makeCallbacks() {
  tiny::Callbacks callbacks;
  callbacks.context = this;
  callbacks.onConnected = [](void* self, bool) { static_cast<Bridge*>(self)->onConnected(); };
  callbacks.onDisconnected = [](void* self, tiny::DisconnectReason reason) {
    static_cast<Bridge*>(self)->onDisconnected(reason);
  };
  callbacks.onMessage = [](void* self, const tiny::IncomingMessage& message) {
    static_cast<Bridge*>(self)->onMessage(message);
  };
  callbacks.onSubscribed = [](void* self, std::uint16_t, std::uint8_t grantedQos) {
    static_cast<Bridge*>(self)->onSubscribed(grantedQos);
  };
  return callbacks;
}

Bridge::Bridge(BridgeOptions options)
    : options_(std::move(options)),
      statusTopic_(options_.topicFor("status")),
      commandTopic_(options_.topicFor("cmd")),
      droppedTopic_(options_.topicFor("bridge/dropped")),
      tx_(kTxBufferBytes),
      rx_(kRxBufferBytes),
      inflight_(kInflightBufferBytes),
      client_(tcp_.transport(), {tx_, rx_, inflight_}, makeCallbacks()),
      backoff_(options_.backoffFirstMs, options_.backoffMaxMs, jitterSeed(options_.clientId)),
      readings_(options_.bufferCapacity) {}

Bridge::~Bridge() {
  if (signalFd_ >= 0) ::close(signalFd_);
}

void Bridge::info(const std::string& message) const {
  std::fprintf(stderr, "midge-gateway-bridge: %s\n", message.c_str());
}

void Bridge::debug(const std::string& message) const {
  if (options_.verbose) info(message);
}

bool Bridge::setUp() {
  // A closed stdout pipe or pty must surface as EPIPE from write(), not end the process.
  struct sigaction ignore{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, nullptr);

  // Stop signals arrive through a descriptor in the poll set: no handler, no global flag.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &stopSignals, nullptr) != 0 ||
      (signalFd_ = ::signalfd(-1, &stopSignals, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
    info(std::string("cannot set up signal handling: ") + std::strerror(errno));
    return false;
  }

  if (options_.serialPath.empty()) {
    device_ = DeviceLink::openStdio();
    info("reading the device from stdin");
  } else {
    std::string error;
    device_ = DeviceLink::openSerial(options_.serialPath, options_.baud, error);
    if (!device_) {
      info(error);
      return false;
    }
    info("reading the device from " + options_.serialPath + " at " +
         std::to_string(options_.baud) + " baud");
  }
  return true;
}

int Bridge::run() {
  if (!setUp()) return 1;
  while (!finished_) {
    nowMs_ = monotonicMs();
    advance(nowMs_);
    if (finished_) break;
    pollOnce(nowMs_);
  }
  const std::size_t undelivered = readings_.size() + (client_.publishInFlight() ? 1 : 0);
  info("stopped: " + std::to_string(published_) + " messages published, " +
       std::to_string(readings_.dropped()) + " readings dropped, " +
       std::to_string(undelivered) + " not delivered");
  return exitStatus_;
}

void Bridge::advance(std::uint64_t nowMs) {
  if (!device_ && !options_.serialPath.empty() && nowMs >= deviceRetryAtMs_) reopenDevice(nowMs);

  switch (link_) {
    case Link::Down:
      if (!stopping_ && nowMs >= retryAtMs_) startConnecting(nowMs);
      break;
    case Link::Connecting:
      if (nowMs - connectStartedMs_ >= kConnectTimeoutMs) connectFailed("connect timed out", nowMs);
      break;
    case Link::Mqtt:
      client_.process(static_cast<std::uint32_t>(nowMs));
      if (link_ == Link::Mqtt) pump(nowMs);
      if (link_ == Link::Mqtt) client_.process(static_cast<std::uint32_t>(nowMs));
      break;
  }
  if (stopping_) continueStop(nowMs);
}

int Bridge::pollTimeoutMs(std::uint64_t nowMs) const {
  std::uint64_t wait = kMaxPollMs;
  if (stopping_) wait = 50;
  if (link_ == Link::Down && !stopping_) wait = retryAtMs_ > nowMs ? retryAtMs_ - nowMs : 0;
  if (!device_ && !options_.serialPath.empty()) {
    const std::uint64_t deviceWait = deviceRetryAtMs_ > nowMs ? deviceRetryAtMs_ - nowMs : 0;
    if (deviceWait < wait) wait = deviceWait;
  }
  return static_cast<int>(wait < static_cast<std::uint64_t>(kMaxPollMs) ? wait : kMaxPollMs);
}

void Bridge::pollOnce(std::uint64_t nowMs) {
  pollfd fds[4];
  nfds_t count = 0;
  fds[count++] = {signalFd_, POLLIN, 0};
  int deviceRead = -1;
  int deviceWrite = -1;
  if (device_) {
    deviceRead = static_cast<int>(count);
    fds[count++] = {device_->readFd(), POLLIN, 0};
    if (device_->wantsWrite()) {
      if (device_->writeFd() == device_->readFd()) {
        fds[deviceRead].events = static_cast<short>(fds[deviceRead].events | POLLOUT);
        deviceWrite = deviceRead;
      } else {
        deviceWrite = static_cast<int>(count);
        fds[count++] = {device_->writeFd(), POLLOUT, 0};
      }
    }
  }
  int socket = -1;
  if (link_ == Link::Connecting) {
    socket = static_cast<int>(count);
    fds[count++] = {tcp_.fd(), POLLOUT, 0};
  } else if (link_ == Link::Mqtt) {
    socket = static_cast<int>(count);
    const short events = client_.unsentBytes() > 0 ? POLLIN | POLLOUT : POLLIN;
    fds[count++] = {tcp_.fd(), events, 0};
  }

  const int ready = ::poll(fds, count, pollTimeoutMs(nowMs));
  if (ready < 0) {
    if (errno != EINTR) info(std::string("poll: ") + std::strerror(errno));
    return;
  }
  nowMs_ = monotonicMs();
  if (fds[0].revents != 0) readSignal(nowMs_);
  if (deviceRead >= 0 && (fds[deviceRead].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    readDevice(nowMs_);
  }
  if (device_ && deviceWrite >= 0 && (fds[deviceWrite].revents & POLLOUT) != 0) {
    std::string error;
    if (!device_->flush(error)) deviceLost(error, nowMs_);
  }
  if (socket >= 0 && link_ == Link::Connecting && fds[socket].revents != 0) {
    std::string error;
    switch (tcp_.finish(error)) {
      case TcpConnection::Progress::Connected: startMqtt(nowMs_); break;
      case TcpConnection::Progress::Pending: break;
      case TcpConnection::Progress::Failed: connectFailed(error, nowMs_); break;
    }
  }
  // Socket readiness in the Mqtt state needs no handling here: advance() runs the client,
  // which reads and writes what the socket allows.
}

void Bridge::startConnecting(std::uint64_t nowMs) {
  std::string error;
  if (!tcp_.start(options_.host, options_.port, error)) {
    connectFailed(error, nowMs);
    return;
  }
  link_ = Link::Connecting;
  connectStartedMs_ = nowMs;
  if (tcp_.connected()) startMqtt(nowMs);
}

void Bridge::connectFailed(const std::string& why, std::uint64_t nowMs) {
  tcp_.close();
  link_ = Link::Down;
  const std::uint32_t delay = backoff_.next();
  retryAtMs_ = nowMs + delay;
  info("broker " + options_.host + ":" + std::to_string(options_.port) + " unreachable (" + why +
       "); retrying in " + std::to_string(delay) + " ms, " + std::to_string(readings_.size()) +
       " readings buffered");
}

void Bridge::startMqtt(std::uint64_t nowMs) {
  tiny::ConnectOptions connect;
  connect.clientId = options_.clientId;
  connect.keepAliveSeconds = options_.keepAliveSeconds;
  // A clean session: commands sent while the bridge was away are stale by the time it
  // returns, and readings never depend on broker-side state.
  connect.cleanSession = true;
  connect.will = tiny::WillFields{statusTopic_, asBytes("offline"), 1, true};
  if (options_.username) connect.username = std::string_view(*options_.username);
  if (options_.password) connect.password = asBytes(*options_.password);
  const tiny::ClientStatus status = client_.connect(connect, static_cast<std::uint32_t>(nowMs));
  if (status != tiny::ClientStatus::Ok) {
    info(std::string("cannot build CONNECT: ") + tiny::clientStatusName(status));
    exitStatus_ = 1;
    finished_ = true;
    return;
  }
  link_ = Link::Mqtt;
  ready_ = false;
}

void Bridge::onConnected() {
  info("connected to " + options_.host + ":" + std::to_string(options_.port) + " as " +
       options_.clientId);
  backoff_.reset();
  const tiny::ClientStatus status = client_.subscribe(commandTopic_, 1);
  if (status != tiny::ClientStatus::Ok) {
    info(std::string("cannot subscribe to ") + commandTopic_ + ": " + tiny::clientStatusName(status));
    onSubscribed(0x80);
  }
}

void Bridge::onSubscribed(std::uint8_t grantedQos) {
  if (grantedQos == 0x80) {
    info("the broker refused the subscription to " + commandTopic_ + ": commands will not reach the device");
  }
  ready_ = true;
  control_.push_front({statusTopic_, "online", true});
  info("online: " + std::to_string(readings_.size()) + " buffered readings to send, commands on " +
       commandTopic_);
}

void Bridge::onDisconnected(tiny::DisconnectReason reason) {
  tcp_.close();
  link_ = Link::Down;
  ready_ = false;
  if (stopping_) {
    finished_ = true;
    return;
  }
  std::string why = tiny::disconnectReasonName(reason);
  if (reason == tiny::DisconnectReason::Refused) {
    why += " (CONNACK return code " + std::to_string(client_.lastConnackCode()) + ")";
  }
  const std::uint32_t delay = backoff_.next();
  retryAtMs_ = nowMs_ + delay;
  info("connection lost: " + why + "; reconnecting in " + std::to_string(delay) + " ms");
}

void Bridge::onMessage(const tiny::IncomingMessage& message) {
  if (message.topic != commandTopic_) return;
  const std::string_view command = asStringView(message.payload);
  const char* error = nullptr;
  if (!isValidCommand(command, &error)) {
    info(std::string("command not forwarded: ") + error);
    return;
  }
  if (!device_ || !device_->queueLine(command)) {
    info("command not forwarded: the device is not connected or not reading");
    return;
  }
  debug("command to the device: " + printable(command));
}

void Bridge::pump(std::uint64_t nowMs) {
  if (!ready_ || client_.state() != tiny::State::Connected) return;
  if (!stopping_ && readings_.dropped() != droppedReported_) {
    droppedReported_ = readings_.dropped();
    control_.push_back({droppedTopic_, std::to_string(droppedReported_), false});
  }
  // One QoS 1 message in flight at a time keeps the readings in order across reconnects:
  // the broker never holds a later reading while an earlier one is resent.
  while (!client_.publishInFlight()) {
    const bool fromControl = !control_.empty();
    if (!fromControl && (stopping_ || readings_.empty())) return;
    const Outgoing& next = fromControl ? control_.front() : readings_.front();
    const tiny::ClientStatus status = client_.publish(
        next.topic, asBytes(next.payload), 1, next.retain, static_cast<std::uint32_t>(nowMs));
    if (status == tiny::ClientStatus::NoSpace || status == tiny::ClientStatus::NotConnected) return;
    if (status == tiny::ClientStatus::Ok) {
      ++published_;
      debug("published " + next.topic + " " + printable(next.payload));
    } else {
      info("message to " + next.topic + " dropped: " + tiny::clientStatusName(status));
    }
    if (fromControl) {
      control_.pop_front();
    } else {
      readings_.pop();
    }
  }
}

void Bridge::readDevice(std::uint64_t nowMs) {
  std::string error;
  switch (device_->read(readBuffer_, error)) {
    case DeviceLink::ReadResult::Nothing: return;
    case DeviceLink::ReadResult::Closed: deviceLost(error, nowMs); return;
    case DeviceLink::ReadResult::Data: break;
  }
  splitter_.feed(readBuffer_, [this](std::string_view line) { handleLine(line); });
  if (splitter_.overlongLines() != overlongReported_) {
    overlongReported_ = splitter_.overlongLines();
    info("ignored a line longer than " + std::to_string(kMaxLineLength) + " bytes (" +
         std::to_string(overlongReported_) + " so far)");
  }
}

void Bridge::handleLine(std::string_view line) {
  const ParsedLine parsed = parseLine(line);
  switch (parsed.kind) {
    case LineKind::Blank: return;
    case LineKind::Comment: debug("device says: " + printable(line)); return;
    case LineKind::Invalid:
      info(std::string("ignored line (") + parsed.error + "): " + printable(line));
      return;
    case LineKind::Reading: break;
  }
  const std::string key(parsed.key);
  if (readings_.push({options_.topicFor(key), std::string(parsed.value), false})) {
    info("buffer full (" + std::to_string(readings_.capacity()) +
         " readings): dropped the oldest, " + std::to_string(readings_.dropped()) + " so far");
  }
  debug("reading " + key + "=" + printable(parsed.value) + " queued, " +
        std::to_string(readings_.size()) + " waiting");
}

void Bridge::reopenDevice(std::uint64_t nowMs) {
  std::string error;
  device_ = DeviceLink::openSerial(options_.serialPath, options_.baud, error);
  if (!device_) {
    deviceRetryAtMs_ = nowMs + kDeviceRetryMs;
    debug(error);
    return;
  }
  info("device " + options_.serialPath + " is back");
}

void Bridge::deviceLost(const std::string& why, std::uint64_t nowMs) {
  device_.reset();
  if (options_.serialPath.empty()) {
    info("stdin: " + why + "; stopping");
    beginStop(nowMs);
    return;
  }
  info("device " + options_.serialPath + ": " + why + "; looking for it again every " +
       std::to_string(kDeviceRetryMs) + " ms");
  deviceRetryAtMs_ = nowMs + kDeviceRetryMs;
}

void Bridge::readSignal(std::uint64_t nowMs) {
  signalfd_siginfo signal{};
  while (::read(signalFd_, &signal, sizeof signal) == static_cast<ssize_t>(sizeof signal)) {
    if (stopping_) {
      info("second stop signal: stopping now");
      finished_ = true;
      return;
    }
    info(std::string("received ") + ::strsignal(static_cast<int>(signal.ssi_signo)) + ": stopping");
    beginStop(nowMs);
  }
}

void Bridge::beginStop(std::uint64_t nowMs) {
  if (stopping_) return;
  stopping_ = true;
  stopDeadlineMs_ = nowMs + kStopGraceMs;
  if (link_ != Link::Mqtt || client_.state() != tiny::State::Connected || !ready_) {
    finished_ = true;
    return;
  }
  // Goes out right after the message in flight; DISCONNECT follows once it is acknowledged.
  control_.clear();
  control_.push_back({statusTopic_, "offline", true});
}

void Bridge::continueStop(std::uint64_t nowMs) {
  if (finished_) return;
  if (nowMs >= stopDeadlineMs_) {
    info("the broker did not confirm in time; stopping without it");
    finished_ = true;
    return;
  }
  if (link_ != Link::Mqtt) {
    finished_ = true;
    return;
  }
  if (client_.state() == tiny::State::Connected && control_.empty() && !client_.publishInFlight()) {
    if (client_.disconnect() != tiny::ClientStatus::Ok) finished_ = true;
  }
}

}  // namespace midge::bridge
