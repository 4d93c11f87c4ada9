// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/bench_loop.hpp"

#include <netdb.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace midge::bench {
namespace {

constexpr std::uint64_t kTimerTag = ~std::uint64_t{0};
constexpr std::uint64_t kSampleIntervalNs = 200'000'000;
constexpr std::uint64_t kKeepAliveCheckNs = 1'000'000'000;
constexpr int kEventsPerWait = 512;
constexpr std::size_t kReadBufferSize = 256 * 1024;

std::string escapeJson(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

BenchLoop::BenchLoop(const BenchOptions& options)
    : options_(options), readBuffer_(kReadBufferSize), broker_(options.brokerPid) {
  settings_.version =
      options.version == 5 ? codec::ProtocolVersion::V5 : codec::ProtocolVersion::V311;
  settings_.cleanSession = options.cleanSession;
  settings_.keepAlive = options.keepAlive;
  settings_.transport = options.transport;
  // A durable session must outlive the run's own disconnect for the broker to keep it.
  settings_.sessionExpiry = options.cleanSession ? 0 : 3600;
}

BenchLoop::~BenchLoop() {
  clients_.clear();
  if (timerFd_ >= 0) close(timerFd_);
  if (epollFd_ >= 0) close(epollFd_);
}

bool BenchLoop::resolve(std::uint16_t port, sockaddr_storage& address, socklen_t& length,
                        std::string& error) const {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(options_.host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = "cannot resolve " + options_.host + ": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  length = found->ai_addrlen;
  freeaddrinfo(found);
  return true;
}

bool BenchLoop::open(std::string& error) {
  // Thousands of idle connections need as many descriptors: take the whole hard limit.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  const std::uint64_t needed = std::uint64_t{options_.publishers} + options_.subscribers +
                               (options_.mode == BenchMode::Connections ? options_.connections : 0);
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      needed + 16 > limit.rlim_cur) {
    error = "open-file limit " + std::to_string(limit.rlim_cur) + " is too low for " +
            std::to_string(needed) + " connections (raise ulimit -n)";
    return false;
  }

  if (!resolve(options_.port, address_, addressLength_, error)) return false;
  const std::uint16_t subscriberPort =
      options_.subscriberPort != 0 ? options_.subscriberPort : options_.port;
  if (!resolve(subscriberPort, subscriberAddress_, subscriberAddressLength_, error)) return false;

  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  timerFd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epollFd_ < 0 || timerFd_ < 0) {
    error = std::string("epoll/timerfd: ") + std::strerror(errno);
    return false;
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kTimerTag;
  if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, timerFd_, &event) != 0) {
    error = std::string("epoll_ctl: ") + std::strerror(errno);
    return false;
  }
  return true;
}

Client& BenchLoop::addClient(ClientEvents& events, std::string clientId,
                             bool atSubscriberPort) {
  const auto index = static_cast<std::uint32_t>(clients_.size());
  atSubscriberPort_.push_back(atSubscriberPort);
  clients_.push_back(std::make_unique<Client>(events, index, std::move(clientId), settings_));
  return *clients_.back();
}

void BenchLoop::startClients() {
  while (handshaking_ < options_.connectConcurrency && nextToStart_ < clients_.size()) {
    const bool atSubscriberPort = atSubscriberPort_[nextToStart_];
    Client& client = *clients_[nextToStart_++];
    ++handshaking_;
    // A failed start reports through onClosed, whose owner calls handshakeFinished.
    if (atSubscriberPort) {
      client.start(subscriberAddress_, subscriberAddressLength_, epollFd_);
    } else {
      client.start(address_, addressLength_, epollFd_);
    }
  }
}

void BenchLoop::handshakeFinished() {
  if (handshaking_ > 0) --handshaking_;
  startClients();
}

void BenchLoop::armTimer(std::uint64_t deadlineNs) {
  if (deadlineNs == armedDeadline_) return;
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(deadlineNs / 1000000000ull);
  spec.it_value.tv_nsec = static_cast<long>(deadlineNs % 1000000000ull);
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  timerfd_settime(timerFd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armedDeadline_ = deadlineNs;
}

void BenchLoop::poll(std::uint64_t deadlineNs, bool busy) {
  std::uint64_t now = monotonicNs();
  if (nextSampleNs_ == 0) {
    nextSampleNs_ = now;
    nextKeepAliveNs_ = now + kKeepAliveCheckNs;
  }
  std::uint64_t wake = deadlineNs;
  if (broker_.enabled() && nextSampleNs_ < wake) wake = nextSampleNs_;
  if (nextKeepAliveNs_ < wake) wake = nextKeepAliveNs_;
  int timeout = 0;
  if (!busy && wake > now) {
    armTimer(wake);
    timeout = -1;
  }
  epoll_event events[kEventsPerWait];
  const int ready = epoll_wait(epollFd_, events, kEventsPerWait, timeout);
  for (int i = 0; i < ready; ++i) {
    if (events[i].data.u64 == kTimerTag) {
      std::uint64_t expirations = 0;
      const ssize_t ignored = read(timerFd_, &expirations, sizeof expirations);
      static_cast<void>(ignored);
      armedDeadline_ = 0;
      continue;
    }
    // The tag is 64 bits wide; size_t may be 32 (armhf), so compare before narrowing.
    const std::uint64_t tag = events[i].data.u64;
    if (tag < clients_.size()) {
      clients_[static_cast<std::size_t>(tag)]->handleEvents(events[i].events, readBuffer_);
    }
  }
  now = monotonicNs();
  housekeeping(now);
}

void BenchLoop::housekeeping(std::uint64_t now) {
  if (broker_.enabled() && now >= nextSampleNs_) {
    broker_.sample();
    nextSampleNs_ = now + kSampleIntervalNs;
  }
  if (now >= nextKeepAliveNs_) {
    nextKeepAliveNs_ = now + kKeepAliveCheckNs;
    if (options_.keepAlive > 0) {
      const std::uint64_t quiet = std::uint64_t{options_.keepAlive} * 500'000'000ull;
      for (auto& client : clients_) {
        if (client->state() == Client::State::Connected && now - client->lastSendNs() > quiet) {
          client->sendPing();
        }
      }
    }
  }
}

void JsonLine::key(const char* name) {
  if (!body_.empty()) body_ += ',';
  body_ += '"';
  body_ += name;
  body_ += "\":";
}

void JsonLine::add(const char* name, std::uint64_t value) {
  key(name);
  body_ += std::to_string(value);
}

void JsonLine::add(const char* name, double value) {
  key(name);
  if (!std::isfinite(value)) {
    body_ += "null";
    return;
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.3f", value);
  body_ += text;
}

void JsonLine::addNull(const char* name) {
  key(name);
  body_ += "null";
}

void JsonLine::add(const char* name, bool value) {
  key(name);
  body_ += value ? "true" : "false";
}

void JsonLine::add(const char* name, const std::string& value) {
  key(name);
  body_ += '"' + escapeJson(value) + '"';
}

}  // namespace midge::bench
