// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/bench_pubsub.hpp"

#include <cmath>

#include "tests/bench/bench_payload.hpp"

namespace midge::bench {
namespace {

constexpr std::uint64_t kSecondNs = 1'000'000'000;
// Messages one unthrottled publisher may queue per loop turn before the others (and the
// subscribers' reads) get their turn.
constexpr int kBurstPerTurn = 64;
// The end of a run waits for late messages, but not for ones that will never come.
constexpr std::uint64_t kQuietEndNs = 2 * kSecondNs;
// A QoS 0 message the broker dropped never arrives: after this long without a delivery,
// a publisher blocked on --qos0-window writes its outstanding messages off (they show
// as lost) and carries on.
constexpr std::uint64_t kQos0StallNs = kSecondNs;

std::uint64_t secondsToNs(double seconds) {
  return static_cast<std::uint64_t>(std::llround(seconds * 1e9));
}

}  // namespace

PubSubBench::PubSubBench(const BenchOptions& options) : options_(options), loop_(options) {}

bool PubSubBench::isPublisher(const Client& client) const noexcept {
  return client.index() >= subscribers_.size();
}

bool PubSubBench::subscriberMatches(std::uint32_t subscriber,
                                    std::uint32_t publisher) const noexcept {
  if (options_.wildcard || options_.topicMode == TopicMode::Shared) return true;
  return publisher == subscriber % options_.publishers;
}

std::uint64_t PubSubBench::expectedMessages() const noexcept {
  std::uint64_t expected = 0;
  for (std::uint32_t s = 0; s < subscribers_.size(); ++s) {
    for (std::uint32_t p = 0; p < publishers_.size(); ++p) {
      if (subscriberMatches(s, p)) expected += publishers_[p].sent;
    }
  }
  return expected;
}

bool PubSubBench::qos0WindowOpen(const Publisher& publisher) const noexcept {
  if (options_.qos > 0 || options_.qos0Window == 0 || publisher.matching == 0) return true;
  const std::uint64_t owed = publisher.sent * publisher.matching;
  const std::uint64_t outstanding = owed - publisher.delivered - publisher.writtenOff;
  return outstanding < std::uint64_t{options_.qos0Window} * publisher.matching;
}

bool PubSubBench::everythingDelivered() const noexcept {
  for (const Publisher& publisher : publishers_) {
    if (publisher.client->inflight() > 0 || publisher.client->pendingBytes() > 0) return false;
  }
  return received_ >= expectedMessages();
}

void PubSubBench::fail(const std::string& why) {
  if (failure_.empty()) failure_ = why;
}

void PubSubBench::onConnack(Client& client, bool accepted) {
  if (!accepted) return;  // onClosed follows and reports it
  if (!isPublisher(client)) {
    client.subscribe(subscribers_[client.index()].filter, options_.qos);
    return;
  }
  std::uint32_t window = options_.inflight;
  if (client.brokerReceiveMaximum() < window) window = client.brokerReceiveMaximum();
  client.setWindow(window);
  ++ready_;
  loop_.handshakeFinished();
}

void PubSubBench::onSuback(Client&, bool granted) {
  if (!granted) {
    fail("the broker refused a subscription");
    return;
  }
  ++ready_;
  loop_.handshakeFinished();
}

void PubSubBench::onMessage(Client& client, const codec::Publish& publish) {
  Stamp stamp;
  if (isPublisher(client) || !readStamp(publish.payload.data(), publish.payload.size(), stamp) ||
      stamp.publisher >= publishers_.size() ||
      !subscriberMatches(client.index(), stamp.publisher)) {
    ++unexpected_;
    return;
  }
  const std::uint64_t now = monotonicNs();
  lastProgressNs_ = now;
  Subscriber& subscriber = subscribers_[client.index()];
  switch (subscriber.streams[stamp.publisher].record(stamp.sequence)) {
    case SequenceTracker::Arrival::Duplicate: ++duplicates_; return;
    case SequenceTracker::Arrival::OutOfOrder: ++outOfOrder_; break;
    case SequenceTracker::Arrival::New: break;
  }
  ++received_;
  Publisher& publisher = publishers_[stamp.publisher];
  ++publisher.delivered;
  publisher.lastProgressNs = now;
  if (inWindow_) {
    ++windowReceived_;
    latency_.record(now > stamp.sentNs ? (now - stamp.sentNs) / 1000 : 0);
  }
}

void PubSubBench::onPublishDone(Client&, bool rejected) {
  if (rejected) ++rejected_;
  lastProgressNs_ = monotonicNs();
}

void PubSubBench::onClosed(Client& client, const char* why) {
  if (phase_ == Phase::TearDown) return;
  fail(std::string(isPublisher(client) ? "publisher" : "subscriber") + " " +
       std::to_string(client.index()) + ": " + why);
  if (phase_ == Phase::Setup) loop_.handshakeFinished();
}

bool PubSubBench::setUp(std::string& error) {
  if (!loop_.open(error)) return false;
  const std::string& prefix = options_.topicPrefix;
  const bool shared = options_.topicMode == TopicMode::Shared;
  subscribers_.resize(options_.subscribers);
  publishers_.resize(options_.publishers);
  for (std::uint32_t s = 0; s < options_.subscribers; ++s) {
    Subscriber& subscriber = subscribers_[s];
    subscriber.client =
        &loop_.addClient(*this, options_.clientIdPrefix + "s" + std::to_string(s), true);
    if (shared) {
      subscriber.filter = prefix + (options_.wildcard ? "/#" : "/shared");
    } else {
      subscriber.filter =
          prefix + (options_.wildcard ? "/+" : "/" + std::to_string(s % options_.publishers));
    }
    subscriber.streams.resize(options_.publishers);
  }
  for (std::uint32_t s = 0; s < options_.subscribers; ++s) {
    for (std::uint32_t p = 0; p < options_.publishers; ++p) {
      if (subscriberMatches(s, p)) ++publishers_[p].matching;
    }
  }
  for (std::uint32_t p = 0; p < options_.publishers; ++p) {
    Publisher& publisher = publishers_[p];
    publisher.client = &loop_.addClient(*this, options_.clientIdPrefix + "p" + std::to_string(p));
    publisher.topic = prefix + (shared ? std::string("/shared") : "/" + std::to_string(p));
    publisher.payload.assign(options_.payload, static_cast<std::uint8_t>('x'));
  }
  if (loop_.broker().sample()) brokerRssStartKb_ = loop_.broker().rssKb();

  // Subscribers come first (lower indexes), so every subscription exists before the
  // first message: each subscriber expects every message of the publishers it matches.
  const std::uint32_t total = options_.subscribers + options_.publishers;
  const std::uint64_t deadline = monotonicNs() + 30 * kSecondNs + total * 10'000'000ull;
  loop_.startClients();
  while (ready_ < total && failure_.empty() && monotonicNs() < deadline) {
    loop_.poll(deadline, false);
  }
  if (!failure_.empty()) {
    error = "setup failed: " + failure_;
    return false;
  }
  if (ready_ < total) {
    error = "setup timed out: " + std::to_string(ready_) + " of " + std::to_string(total) +
            " clients ready";
    return false;
  }
  return true;
}

void PubSubBench::publishOne(Publisher& publisher, std::uint64_t now) {
  Stamp stamp;
  stamp.sequence = publisher.sent;
  stamp.publisher = static_cast<std::uint32_t>(&publisher - publishers_.data());
  stamp.sentNs = now;
  writeStamp(stamp, publisher.payload.data());
  publisher.client->publish(publisher.topic, options_.qos,
                            Bytes(publisher.payload.data(), publisher.payload.size()));
  ++publisher.sent;
  publisher.lastProgressNs = now;
  if (inWindow_) ++windowSent_;
}

bool PubSubBench::publishTick(std::uint64_t now, std::uint64_t& nextDueNs) {
  bool hungry = false;
  const bool unthrottled = options_.rate <= 0;
  const std::uint64_t interval =
      unthrottled ? 0 : static_cast<std::uint64_t>(1e9 / options_.rate);
  for (Publisher& publisher : publishers_) {
    Client& client = *publisher.client;
    if (unthrottled) {
      for (int i = 0; i < kBurstPerTurn && client.canPublish() && qos0WindowOpen(publisher);
           ++i) {
        publishOne(publisher, monotonicNs());
      }
    } else {
      while (publisher.nextDueNs <= now && client.canPublish() && qos0WindowOpen(publisher)) {
        publishOne(publisher, monotonicNs());
        publisher.nextDueNs += interval;
      }
    }
    client.flush();
    if (!client.canPublish()) continue;  // woken by an ack or by the socket draining
    if (!qos0WindowOpen(publisher)) {    // woken by a delivery, or written off
      const std::uint64_t stallAt = publisher.lastProgressNs + kQos0StallNs;
      if (now < stallAt) {
        if (stallAt < nextDueNs) nextDueNs = stallAt;
        continue;
      }
      publisher.writtenOff = publisher.sent * publisher.matching - publisher.delivered;
      publisher.lastProgressNs = now;
      ++stalls_;
      hungry = true;
      continue;
    }
    if (unthrottled) {
      hungry = true;
    } else if (publisher.nextDueNs < nextDueNs) {
      nextDueNs = publisher.nextDueNs;
    }
  }
  return hungry;
}

void PubSubBench::measure() {
  const std::uint64_t start = monotonicNs();
  const std::uint64_t warmupEnd = start + secondsToNs(options_.warmup);
  const std::uint64_t measureEnd = warmupEnd + secondsToNs(options_.duration);
  if (options_.rate > 0) {
    // Spread the publishers over one interval rather than firing them together.
    const double interval = 1e9 / options_.rate;
    for (std::size_t p = 0; p < publishers_.size(); ++p) {
      publishers_[p].nextDueNs =
          start + static_cast<std::uint64_t>(interval * static_cast<double>(p) /
                                             static_cast<double>(publishers_.size()));
    }
  }
  phase_ = Phase::Running;
  std::uint64_t now = start;
  while (now < measureEnd && failure_.empty()) {
    if (!inWindow_ && now >= warmupEnd) {
      loop_.broker().sample();
      brokerCpuAtStart_ = loop_.broker().cpuSeconds();
      ownCpuAtStart_ = ownCpuSeconds();
      windowStartNs_ = monotonicNs();
      inWindow_ = true;
    }
    std::uint64_t deadline = inWindow_ ? measureEnd : warmupEnd;
    const bool hungry = publishTick(now, deadline);
    loop_.poll(deadline, hungry);
    now = monotonicNs();
  }
  if (!inWindow_) {  // failed before the window opened
    windowStartNs_ = now;
    brokerCpuAtStart_ = loop_.broker().cpuSeconds();
    ownCpuAtStart_ = ownCpuSeconds();
  }
  inWindow_ = false;
  loop_.broker().sample();
  brokerCpuAtEnd_ = loop_.broker().cpuSeconds();
  ownCpuAtEnd_ = ownCpuSeconds();
  windowEndNs_ = monotonicNs();
}

void PubSubBench::drain() {
  phase_ = Phase::Draining;
  const std::uint64_t hardEnd = monotonicNs() + secondsToNs(options_.drain);
  lastProgressNs_ = monotonicNs();
  while (failure_.empty() && !everythingDelivered()) {
    const std::uint64_t now = monotonicNs();
    if (now >= hardEnd || now - lastProgressNs_ >= kQuietEndNs) break;
    for (Publisher& publisher : publishers_) publisher.client->flush();
    const std::uint64_t quietEnd = lastProgressNs_ + kQuietEndNs;
    loop_.poll(quietEnd < hardEnd ? quietEnd : hardEnd, false);
  }
  if (loop_.broker().sample()) brokerRssEndKb_ = loop_.broker().rssKb();
}

std::string PubSubBench::run(bool& ok) {
  std::string error;
  ok = setUp(error);
  if (ok) {
    measure();
    drain();
    ok = failure_.empty();
    if (!ok) error = failure_;
  }
  phase_ = Phase::TearDown;
  for (auto& client : loop_.clients()) client->disconnect();
  return report(error);
}

std::string PubSubBench::report(const std::string& error) const {
  const double window = static_cast<double>(windowEndNs_ - windowStartNs_) / 1e9;
  const double ownCpu = window > 0 ? 100.0 * (ownCpuAtEnd_ - ownCpuAtStart_) / window : 0;
  const bool sampled = loop_.broker().enabled();
  std::uint64_t sent = 0;
  for (const Publisher& publisher : publishers_) sent += publisher.sent;
  const std::uint64_t expected = expectedMessages();

  JsonLine json;
  json.add("mode", "pubsub");
  json.add("ok", error.empty());
  if (!error.empty()) json.add("error", error);
  json.add("version", std::uint64_t{options_.version});
  json.add("qos", std::uint64_t{options_.qos});
  json.add("publishers", std::uint64_t{options_.publishers});
  json.add("subscribers", std::uint64_t{options_.subscribers});
  json.add("topic_mode", options_.topicMode == TopicMode::Shared ? "shared" : "per-publisher");
  json.add("wildcard", options_.wildcard);
  json.add("clean", options_.cleanSession);
  json.add("payload", std::uint64_t{options_.payload});
  json.add("rate", options_.rate);
  json.add("inflight", std::uint64_t{options_.inflight});
  json.add("window_s", window);
  json.add("sent", sent);
  json.add("received", received_);
  json.add("expected", expected);
  json.add("lost", expected > received_ ? expected - received_ : std::uint64_t{0});
  json.add("duplicates", duplicates_);
  json.add("out_of_order", outOfOrder_);
  json.add("unexpected", unexpected_);
  json.add("rejected", rejected_);
  json.add("qos0_window", std::uint64_t{options_.qos0Window});
  json.add("stalls", stalls_);
  json.add("msgs_per_s", window > 0 ? static_cast<double>(windowReceived_) / window : 0.0);
  json.add("published_per_s", window > 0 ? static_cast<double>(windowSent_) / window : 0.0);
  json.add("latency_samples", latency_.count());
  json.add("latency_p50_us", latency_.percentile(0.50));
  json.add("latency_p99_us", latency_.percentile(0.99));
  json.add("latency_p999_us", latency_.percentile(0.999));
  json.add("latency_max_us", latency_.max());
  if (sampled) {
    json.add("broker_cpu_pct",
             window > 0 ? 100.0 * (brokerCpuAtEnd_ - brokerCpuAtStart_) / window : 0.0);
    json.add("broker_rss_start_kb", brokerRssStartKb_);
    json.add("broker_rss_peak_kb", loop_.broker().peakRssKb());
    json.add("broker_rss_end_kb", brokerRssEndKb_);
  } else {
    for (const char* key : {"broker_cpu_pct", "broker_rss_start_kb", "broker_rss_peak_kb",
                            "broker_rss_end_kb"}) {
      json.addNull(key);
    }
  }
  json.add("generator_cpu_pct", ownCpu);
  json.add("generator_bound", ownCpu >= 90.0);
  return json.finish();
}

}  // namespace midge::bench
