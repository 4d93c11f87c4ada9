// SPDX-License-Identifier: Apache-2.0
#include "broker/metrics.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "core/engine/refusal.hpp"

namespace midge::app {

namespace {

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const std::string& name, const std::string& labels, std::uint64_t value) {
    line(name, labels, std::to_string(value));
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    char text[40];
    std::snprintf(text, sizeof text, "%.9g", value);
    line(name, labels, text);
  }
  // One family with one unlabelled sample.
  void single(const char* name, const char* type, const char* help, std::uint64_t value) {
    family(name, type, help);
    sample(name, "", value);
  }
  void single(const char* name, const char* type, const char* help, double value) {
    family(name, type, help);
    sample(name, "", value);
  }
  void histogram(const char* name, const char* help, const Histogram& histogram) {
    family(name, "histogram", help);
    std::uint64_t cumulative = 0;
    char bound[40];
    for (std::size_t i = 0; i < histogram.bounds().size(); ++i) {
      cumulative += histogram.counts()[i];
      std::snprintf(bound, sizeof bound, "%g", histogram.bounds()[i]);
      sample(std::string(name) + "_bucket", std::string("le=\"") + bound + "\"", cumulative);
    }
    sample(std::string(name) + "_bucket", "le=\"+Inf\"", histogram.count());
    sample(std::string(name) + "_sum", "", histogram.sum());
    sample(std::string(name) + "_count", "", histogram.count());
  }
  std::string take() { return std::move(out_); }

 private:
  void line(const std::string& name, const std::string& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  std::string out_;
};

std::uint64_t fileSize(const std::string& path) {
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) return 0;
  return static_cast<std::uint64_t>(info.st_size);
}

void processMetrics(Exposition& e) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  e.single("process_cpu_seconds_total", "counter", "User and system CPU time spent.", cpu);
  // statm: size and resident, in pages.
  std::ifstream statm("/proc/self/statm");
  std::uint64_t sizePages = 0;
  std::uint64_t residentPages = 0;
  if (statm >> sizePages >> residentPages) {
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    e.single("process_resident_memory_bytes", "gauge", "Resident set size.",
             residentPages * page);
    e.single("process_virtual_memory_bytes", "gauge", "Virtual memory size.", sizePages * page);
  }
  // Field 22 of /proc/self/stat is the start time in clock ticks after boot.
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t afterName = text.rfind(')');
  std::ifstream uptimeFile("/proc/uptime");
  double uptime = 0;
  if (afterName != std::string::npos && (uptimeFile >> uptime)) {
    std::size_t position = afterName + 2;
    for (int field = 3; field < 22 && position != std::string::npos; ++field) {
      position = text.find(' ', position);
      if (position != std::string::npos) ++position;
    }
    if (position != std::string::npos) {
      const double ticks = std::strtod(text.c_str() + position, nullptr);
      const double sinceBoot = ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
      const double now = static_cast<double>(::time(nullptr));
      e.single("process_start_time_seconds", "gauge",
               "Start time of the process since the Unix epoch.", now - uptime + sinceBoot);
    }
  }
}

void buildInfo(Exposition& e, const std::string& version) {
  e.family("midge_build_info", "gauge", "Always 1; the version is a label.");
  e.sample("midge_build_info", "version=\"" + version + "\"", std::uint64_t{1});
}

void socketMetrics(Exposition& e, const MetricsSources& s) {
  const Stats& stats = s.broker->stats();
  const port::NetCounters& net = s.loop->counters();
  e.single("midge_connections", "gauge", "MQTT connections open (sockets, before CONNECT too).",
           std::uint64_t{s.loop->connectionCount()});
  e.single("midge_connections_accepted_total", "counter", "MQTT sockets accepted.",
           net.connectionsAccepted);
  e.family("midge_connections_refused_total", "counter",
           "MQTT connections refused, by reason: connection limits at accept, CONNACK "
           "failures after CONNECT.");
  const std::uint64_t knownRefusals =
      stats.connectsRefusedBadCredentials + stats.connectsRefusedNotAuthorized;
  e.sample("midge_connections_refused_total", "reason=\"connection_limit\"",
           net.connectionsRefused);
  e.sample("midge_connections_refused_total", "reason=\"bad_credentials\"",
           stats.connectsRefusedBadCredentials);
  e.sample("midge_connections_refused_total", "reason=\"not_authorized\"",
           stats.connectsRefusedNotAuthorized);
  e.sample("midge_connections_refused_total", "reason=\"other\"",
           stats.connectsRefused - knownRefusals);
  e.single("midge_accept_errors_total", "counter", "accept() failures (e.g. out of descriptors).",
           net.acceptErrors);
}

void clientMetrics(Exposition& e, const MetricsSources& s) {
  const Stats& stats = s.broker->stats();
  e.single("midge_client_connects_total", "counter", "CONNECTs answered with success.",
           stats.connectsAccepted);
  e.single("midge_clients_connected", "gauge", "Clients connected (CONNECT accepted).",
           std::uint64_t{s.broker->connectedClients()});
  e.single("midge_clients_maximum", "gauge", "Most clients connected at once since start.",
           stats.clientsMaximum);
  e.family("midge_sessions", "gauge", "Sessions held, by state.");
  const std::uint64_t active = s.broker->connectedClients();
  e.sample("midge_sessions", "state=\"active\"", active);
  e.sample("midge_sessions", "state=\"offline\"",
           std::uint64_t{s.broker->sessionCount()} - active);
  e.single("midge_sessions_expired_total", "counter", "Offline sessions removed at expiry.",
           stats.sessionsExpired);
  e.single("midge_protocol_errors_total", "counter",
           "Connections closed for malformed or forbidden packets.", stats.protocolViolations);
  e.single("midge_keepalive_timeouts_total", "counter", "Connections closed for keep-alive.",
           stats.keepaliveTimeouts);
  e.single("midge_connect_timeouts_total", "counter",
           "Connections closed without a CONNECT in connect_timeout.", stats.connectTimeouts);
}

// One sample per reason refused at least once: a scrape does not carry a zero series for
// every reason code MQTT 5 defines.
void refusalMetrics(Exposition& e, const Stats& stats) {
  e.family("midge_refusals_total", "counter",
           "Refusals by MQTT 5 reason code (3.x clients counted by the same reason): CONNACK "
           "failures, connections ended by the broker, PUBLISH refused in its ack.");
  forEachRefusalCounted(stats, [&](ReasonCode reason, std::uint64_t count) {
    e.sample("midge_refusals_total", "reason=\"" + refusalSlug(reason, '_') + "\"", count);
  });
}

void byQos(Exposition& e, const char* name, const char* help,
           const std::uint64_t (&values)[3]) {
  static const char* const kQos[3] = {"qos=\"0\"", "qos=\"1\"", "qos=\"2\""};
  e.family(name, "counter", help);
  for (int q = 0; q < 3; ++q) e.sample(name, kQos[q], values[q]);
}

void trafficMetrics(Exposition& e, const MetricsSources& s) {
  const Stats& stats = s.broker->stats();
  const port::NetCounters& net = s.loop->counters();
  byQos(e, "midge_messages_received_total", "PUBLISH packets received, by QoS.",
        stats.messagesReceivedByQos);
  byQos(e, "midge_messages_sent_total", "PUBLISH packets sent, by QoS (resends too).",
        stats.messagesSentByQos);
  byQos(e, "midge_payload_received_bytes_total",
        "Payload bytes of PUBLISH packets received, by QoS.", stats.payloadBytesReceivedByQos);
  byQos(e, "midge_payload_sent_bytes_total", "Payload bytes of PUBLISH packets sent, by QoS.",
        stats.payloadBytesSentByQos);
  e.single("midge_received_bytes_total", "counter", "MQTT bytes received (before TLS).",
           stats.bytesReceived);
  e.single("midge_sent_bytes_total", "counter", "MQTT bytes sent (before TLS).",
           stats.bytesSent);
  e.single("midge_network_received_bytes_total", "counter",
           "Bytes read from MQTT sockets (TLS records included).", net.bytesReceived);
  e.single("midge_network_sent_bytes_total", "counter",
           "Bytes written to MQTT sockets (TLS records included).", net.bytesSent);
}

void deliveryOutcomeMetrics(Exposition& e, const Stats& stats) {
  e.family("midge_messages_dropped_total", "counter", "Messages not delivered, by reason.");
  e.sample("midge_messages_dropped_total", "reason=\"queue_full\"", stats.droppedQueueFull);
  e.sample("midge_messages_dropped_total", "reason=\"memory_limit\"", stats.droppedMemoryLimit);
  e.sample("midge_messages_dropped_total", "reason=\"too_large\"", stats.droppedTooLarge);
  e.sample("midge_messages_dropped_total", "reason=\"expired\"", stats.messagesExpired);
  e.sample("midge_messages_dropped_total", "reason=\"no_subscribers\"",
           stats.droppedNoSubscribers);
  e.sample("midge_messages_dropped_total", "reason=\"acl\"", stats.publishDenied);
  e.single("midge_quota_refusals_total", "counter",
           "PUBLISH refused with 0x97 because memory_limit was reached.", stats.quotaRefusals);
  e.single("midge_subscribe_denied_total", "counter", "SUBSCRIBE entries refused by the ACL.",
           stats.subscribeDenied);
  e.single("midge_wills_published_total", "counter", "Will messages published.",
           stats.willsPublished);
}

void heldStateMetrics(Exposition& e, const Broker& broker) {
  const Broker::HeldMessages held = broker.heldMessages();
  e.single("midge_retained_messages", "gauge", "Retained messages held.",
           std::uint64_t{broker.retainedCount()});
  e.single("midge_retained_bytes", "gauge", "Memory held by retained messages.",
           std::uint64_t{broker.retainedBytes()});
  e.single("midge_subscriptions", "gauge", "Subscriptions held, shared ones included.",
           std::uint64_t{broker.subscriptionCount()});
  e.single("midge_shared_subscriptions", "gauge", "$share/ subscriptions held.",
           std::uint64_t{held.sharedSubscriptions});
  e.single("midge_messages_inflight", "gauge",
           "Outgoing QoS 1/2 messages awaiting the client's acknowledgement.",
           std::uint64_t{held.inflight});
  e.single("midge_messages_queued", "gauge", "Messages queued for clients.",
           std::uint64_t{held.queued});
  e.single("midge_queued_bytes", "gauge", "Bytes of messages queued for clients.",
           std::uint64_t{held.queuedBytes});
  e.single("midge_memory_used_bytes", "gauge",
           "Memory counted against memory_limit (queued and retained messages).",
           std::uint64_t{broker.memoryUsed()});
  e.single("midge_memory_maximum_bytes", "gauge", "Highest midge_memory_used_bytes since start.",
           broker.stats().memoryMaximum);
}

void storeMetrics(Exposition& e, const TimedStore& store, const std::string& storePath) {
  e.histogram("midge_store_commit_duration_seconds",
              "Duration of the per-turn group commit (the fsync with persistence on).",
              store.commitSeconds());
  e.single("midge_store_commit_failures_total", "counter", "Store commits that failed.",
           store.commitFailures());
  e.single("midge_store_size_bytes", "gauge",
           "Size of the persistence file and its write-ahead log (0 without persistence).",
           fileSize(storePath) + (storePath.empty() ? 0 : fileSize(storePath + "-wal")));
}

// https listeners count their handshakes here too.
void tlsMetrics(Exposition& e, const MetricsSources& s) {
  const port::NetCounters& net = s.loop->counters();
  std::uint64_t httpsHandshakes = 0;
  std::uint64_t httpsFailures = 0;
  for (const port::OperatorHttpServer* server : s.httpServers) {
    httpsHandshakes += server->counters().tlsHandshakes;
    httpsFailures += server->counters().tlsFailures;
  }
  e.single("midge_tls_handshakes_total", "counter",
           "TLS handshakes completed on MQTT and https listeners.",
           net.tlsHandshakes + httpsHandshakes);
  e.single("midge_tls_failures_total", "counter",
           "TLS handshakes that failed or timed out, and TLS errors on open connections.",
           net.tlsFailures + httpsFailures);
}

void turnMetrics(Exposition& e, const TurnTimer& turns) {
  e.histogram("midge_event_loop_turn_duration_seconds",
              "Time the engine spends in one event-loop turn, commit included.",
              turns.turnSeconds());
}

// The operator listener itself.
void operatorHttpMetrics(Exposition& e,
                         const std::vector<const port::OperatorHttpServer*>& servers) {
  port::HttpCounters http;
  for (const port::OperatorHttpServer* server : servers) {
    const port::HttpCounters& c = server->counters();
    http.requests += c.requests;
    http.requestsRejected += c.requestsRejected;
    http.connectionsRefused += c.connectionsRefused;
  }
  e.single("midge_http_requests_total", "counter", "Requests answered by the operator endpoint.",
           http.requests);
  e.single("midge_http_requests_rejected_total", "counter",
           "Malformed, oversized or unsupported requests evhttp refused before routing (400, 413, 501).",
           http.requestsRejected);
  e.single("midge_http_connections_refused_total", "counter",
           "Operator connections answered 503 for exceeding max_connections.",
           http.connectionsRefused);
}

}  // namespace

std::string renderMetrics(const MetricsSources& s) {
  Exposition e;
  buildInfo(e, s.version);
  socketMetrics(e, s);
  clientMetrics(e, s);
  refusalMetrics(e, s.broker->stats());
  trafficMetrics(e, s);
  deliveryOutcomeMetrics(e, s.broker->stats());
  heldStateMetrics(e, *s.broker);
  storeMetrics(e, *s.store, s.storePath);
  tlsMetrics(e, s);
  turnMetrics(e, *s.turns);
  operatorHttpMetrics(e, s.httpServers);
  processMetrics(e);
  return e.take();
}

}  // namespace midge::app
