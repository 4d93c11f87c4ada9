// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/bench_connections.hpp"

#include <cmath>

namespace midge::bench {
namespace {

constexpr std::uint64_t kSecondNs = 1'000'000'000;

}  // namespace

ConnectionsBench::ConnectionsBench(const BenchOptions& options)
    : options_(options), loop_(options) {}

void ConnectionsBench::onConnack(Client& client, bool accepted) {
  if (!accepted) return;  // onClosed follows and counts it
  handshakeDone_[client.index()] = true;
  ++finished_;
  ++connected_;
  lastConnackNs_ = monotonicNs();
  loop_.handshakeFinished();
}

void ConnectionsBench::onClosed(Client& client, const char* why) {
  if (tearingDown_) return;
  if (firstError_.empty()) firstError_ = "client " + std::to_string(client.index()) + ": " + why;
  if (handshakeDone_[client.index()]) {
    ++dropped_;
    return;
  }
  handshakeDone_[client.index()] = true;
  ++finished_;
  ++errors_;
  loop_.handshakeFinished();
}

std::string ConnectionsBench::run(bool& ok) {
  std::string error;
  ok = loop_.open(error);
  const std::uint32_t total = options_.connections;
  std::uint64_t rssBefore = 0;
  std::uint64_t rssHeld = 0;
  double brokerCpuStart = 0;
  double connectSeconds = 0;
  double holdSeconds = 0;
  const double ownCpuStart = ownCpuSeconds();
  const std::uint64_t start = monotonicNs();
  if (ok) {
    handshakeDone_.assign(total, false);
    for (std::uint32_t i = 0; i < total; ++i) {
      loop_.addClient(*this, options_.clientIdPrefix + "c" + std::to_string(i));
    }
    if (loop_.broker().sample()) rssBefore = loop_.broker().rssKb();
    brokerCpuStart = loop_.broker().cpuSeconds();
    lastConnackNs_ = monotonicNs();
    const std::uint64_t connectStart = lastConnackNs_;
    // Generous: a broker that accepts slowly is measured, not cut off.
    const std::uint64_t deadline = connectStart + 60 * kSecondNs + total * 5'000'000ull;
    loop_.startClients();
    while (finished_ < total && monotonicNs() < deadline) loop_.poll(deadline, false);
    connectSeconds = static_cast<double>(lastConnackNs_ - connectStart) / 1e9;
    if (finished_ < total) {
      error = "timed out with " + std::to_string(total - finished_) + " handshakes pending";
    }

    const std::uint64_t holdStart = monotonicNs();
    const std::uint64_t holdEnd =
        holdStart + static_cast<std::uint64_t>(std::llround(options_.duration * 1e9));
    while (monotonicNs() < holdEnd) loop_.poll(holdEnd, false);
    holdSeconds = static_cast<double>(monotonicNs() - holdStart) / 1e9;
    if (loop_.broker().sample()) rssHeld = loop_.broker().rssKb();
    if (error.empty() && (errors_ > 0 || dropped_ > 0)) error = firstError_;
    ok = error.empty();
  }
  const double elapsed = static_cast<double>(monotonicNs() - start) / 1e9;
  const double ownCpu = elapsed > 0 ? 100.0 * (ownCpuSeconds() - ownCpuStart) / elapsed : 0;

  tearingDown_ = true;
  for (auto& client : loop_.clients()) client->disconnect();

  JsonLine json;
  json.add("mode", "connections");
  json.add("ok", ok);
  if (!error.empty()) json.add("error", error);
  json.add("version", std::uint64_t{options_.version});
  json.add("connections", std::uint64_t{total});
  json.add("connected", std::uint64_t{connected_});
  json.add("connect_errors", std::uint64_t{errors_});
  json.add("dropped", std::uint64_t{dropped_});
  json.add("connect_s", connectSeconds);
  json.add("connects_per_s",
           connectSeconds > 0 ? static_cast<double>(connected_) / connectSeconds : 0.0);
  json.add("hold_s", holdSeconds);
  if (loop_.broker().enabled()) {
    json.add("broker_cpu_pct",
             elapsed > 0 ? 100.0 * (loop_.broker().cpuSeconds() - brokerCpuStart) / elapsed : 0.0);
    json.add("broker_rss_before_kb", rssBefore);
    json.add("broker_rss_connected_kb", rssHeld);
    json.add("broker_rss_peak_kb", loop_.broker().peakRssKb());
    const std::uint64_t grown = rssHeld > rssBefore ? rssHeld - rssBefore : 0;
    json.add("rss_per_connection_bytes",
             connected_ > 0 ? static_cast<double>(grown) * 1024.0 / connected_ : 0.0);
  } else {
    for (const char* key : {"broker_cpu_pct", "broker_rss_before_kb", "broker_rss_connected_kb",
                            "broker_rss_peak_kb", "rss_per_connection_bytes"}) {
      json.addNull(key);
    }
  }
  json.add("generator_cpu_pct", ownCpu);
  json.add("generator_bound", ownCpu >= 90.0);
  return json.finish();
}

}  // namespace midge::bench
