// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/bench_options.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "tests/bench/bench_payload.hpp"

namespace midge::bench {
namespace {

bool parseUnsigned(const char* text, unsigned long long min, unsigned long long max,
                   unsigned long long& out) {
  if (text == nullptr || *text == '\0' || *text == '-' || *text == '+') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0') return false;
  if (value < min || value > max) return false;
  out = value;
  return true;
}

bool parseSeconds(const char* text, double min, double max, double& out) {
  if (text == nullptr || *text == '\0') return false;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (errno != 0 || end == nullptr || *end != '\0' || !std::isfinite(value)) return false;
  if (value < min || value > max) return false;
  out = value;
  return true;
}

// One option with its value; keeps the parse loop a flat table of cases.
class ArgCursor {
 public:
  ArgCursor(int argc, const char* const* argv) : argc_(argc), argv_(argv) {}
  bool done() const { return index_ >= argc_; }
  const char* next() { return argv_[index_++]; }
  const char* value() { return index_ < argc_ ? argv_[index_++] : nullptr; }

 private:
  int argc_;
  const char* const* argv_;
  int index_ = 1;
};

template <typename T>
bool setUnsigned(const char* name, const char* text, unsigned long long min,
                 unsigned long long max, T& field, std::string& error) {
  unsigned long long value = 0;
  if (!parseUnsigned(text, min, max, value)) {
    error = std::string(name) + " expects an integer in " + std::to_string(min) + ".." +
            std::to_string(max) + (text != nullptr ? std::string(", got '") + text + "'"
                                                   : std::string(", got nothing"));
    return false;
  }
  field = static_cast<T>(value);
  return true;
}

bool setSeconds(const char* name, const char* text, double min, double max, double& field,
                std::string& error) {
  if (!parseSeconds(text, min, max, field)) {
    error = std::string(name) + " expects a number in " + std::to_string(min) + ".." +
            std::to_string(max) + (text != nullptr ? std::string(", got '") + text + "'"
                                                   : std::string(", got nothing"));
    return false;
  }
  return true;
}

bool setChoice(const char* name, const char* text, const char* first, const char* second,
               bool& isFirst, std::string& error) {
  if (text != nullptr && std::strcmp(text, first) == 0) {
    isFirst = true;
    return true;
  }
  if (text != nullptr && std::strcmp(text, second) == 0) {
    isFirst = false;
    return true;
  }
  error = std::string(name) + " expects " + first + " or " + second;
  return false;
}

}  // namespace

const char* usageText() noexcept {
  return "midge-bench: MQTT load generator (one JSON line on stdout)\n\n"
         "  --host H --port P          broker address (127.0.0.1:1883)\n"
         "  --subscriber-port P        subscribers connect to this port of the same host\n"
         "                             (a bridge's upstream); default: --port\n"
         "  --mode pubsub|connections  message load, or idle connections held open\n"
         "  --publishers N --subscribers M\n"
         "  --topic-mode per-publisher|shared\n"
         "  --wildcard                 subscribers use a wildcard filter\n"
         "  --qos 0|1|2 --inflight W   QoS and unacknowledged PUBLISH per publisher\n"
         "  --qos0-window N            QoS 0: at most N messages per publisher not yet\n"
         "                             received by its subscribers (0 = unbounded)\n"
         "  --payload BYTES            at least 20 (sequence, publisher, timestamp)\n"
         "  --rate MSGS_PER_S          per publisher; 0 = as fast as possible\n"
         "  --duration S --warmup S    measured time, and time before it\n"
         "  --drain S                  longest wait for late messages at the end\n"
         "  --clean | --durable        clean or persistent sessions\n"
         "  --version 4|5              MQTT 3.1.1 or 5.0\n"
         "  --transport tcp|ws|wss     MQTT over TCP, WebSockets, or WebSockets over TLS\n"
         "  --connections N            idle clients for --mode connections\n"
         "  --connect-concurrency N    handshakes in progress at once\n"
         "  --keepalive S              keep-alive sent in CONNECT (PINGREQ at half)\n"
         "  --broker-pid PID           sample broker CPU and RSS every 200 ms\n"
         "  --topic-prefix T --client-id-prefix C\n";
}

bool parseBenchOptions(int argc, const char* const* argv, BenchOptions& out,
                       std::string& error) {
  error.clear();
  ArgCursor args(argc, argv);
  while (!args.done()) {
    const std::string option = args.next();
    bool ok = true;
    if (option == "--help" || option == "-h") {
      return false;
    } else if (option == "--host") {
      const char* text = args.value();
      ok = text != nullptr && *text != '\0';
      if (ok) out.host = text;
      else error = "--host expects a name or address";
    } else if (option == "--port") {
      ok = setUnsigned("--port", args.value(), 1, 65535, out.port, error);
    } else if (option == "--subscriber-port") {
      ok = setUnsigned("--subscriber-port", args.value(), 1, 65535, out.subscriberPort, error);
    } else if (option == "--mode") {
      bool pubsub = true;
      ok = setChoice("--mode", args.value(), "pubsub", "connections", pubsub, error);
      out.mode = pubsub ? BenchMode::PubSub : BenchMode::Connections;
    } else if (option == "--publishers") {
      ok = setUnsigned("--publishers", args.value(), 0, 100000, out.publishers, error);
    } else if (option == "--subscribers") {
      ok = setUnsigned("--subscribers", args.value(), 0, 100000, out.subscribers, error);
    } else if (option == "--topic-mode") {
      bool perPublisher = true;
      ok = setChoice("--topic-mode", args.value(), "per-publisher", "shared", perPublisher,
                     error);
      out.topicMode = perPublisher ? TopicMode::PerPublisher : TopicMode::Shared;
    } else if (option == "--wildcard") {
      out.wildcard = true;
    } else if (option == "--qos") {
      ok = setUnsigned("--qos", args.value(), 0, 2, out.qos, error);
    } else if (option == "--inflight") {
      ok = setUnsigned("--inflight", args.value(), 1, 65535, out.inflight, error);
    } else if (option == "--qos0-window") {
      ok = setUnsigned("--qos0-window", args.value(), 0, 10000000, out.qos0Window, error);
    } else if (option == "--payload") {
      ok = setUnsigned("--payload", args.value(), kStampSize, 16 * 1024 * 1024, out.payload,
                       error);
    } else if (option == "--rate") {
      ok = setSeconds("--rate", args.value(), 0, 10e6, out.rate, error);
    } else if (option == "--duration") {
      ok = setSeconds("--duration", args.value(), 0.1, 86400, out.duration, error);
    } else if (option == "--warmup") {
      ok = setSeconds("--warmup", args.value(), 0, 86400, out.warmup, error);
    } else if (option == "--drain") {
      ok = setSeconds("--drain", args.value(), 0.1, 3600, out.drain, error);
    } else if (option == "--clean") {
      out.cleanSession = true;
    } else if (option == "--durable") {
      out.cleanSession = false;
    } else if (option == "--version") {
      ok = setUnsigned("--version", args.value(), 4, 5, out.version, error);
    } else if (option == "--transport") {
      const char* text = args.value();
      const std::string value = text != nullptr ? text : "";
      if (value == "tcp") {
        out.transport = Transport::Tcp;
      } else if (value == "ws") {
        out.transport = Transport::WebSocket;
      } else if (value == "wss") {
        out.transport = Transport::WebSocketTls;
      } else {
        error = "--transport expects tcp, ws or wss";
        ok = false;
      }
    } else if (option == "--connections") {
      ok = setUnsigned("--connections", args.value(), 1, 1000000, out.connections, error);
    } else if (option == "--connect-concurrency") {
      ok = setUnsigned("--connect-concurrency", args.value(), 1, 100000,
                       out.connectConcurrency, error);
    } else if (option == "--keepalive") {
      ok = setUnsigned("--keepalive", args.value(), 0, 65535, out.keepAlive, error);
    } else if (option == "--broker-pid") {
      ok = setUnsigned("--broker-pid", args.value(), 1, 0x3FFFFFFF, out.brokerPid, error);
    } else if (option == "--topic-prefix") {
      const char* text = args.value();
      ok = text != nullptr && *text != '\0' && std::strpbrk(text, "+#") == nullptr;
      if (ok) out.topicPrefix = text;
      else error = "--topic-prefix expects a topic without wildcards";
    } else if (option == "--client-id-prefix") {
      const char* text = args.value();
      ok = text != nullptr && *text != '\0';
      if (ok) out.clientIdPrefix = text;
      else error = "--client-id-prefix expects a string";
    } else {
      error = "unknown option '" + option + "'";
      ok = false;
    }
    if (!ok) return false;
  }
  if (out.mode == BenchMode::PubSub && out.publishers == 0) {
    error = "--mode pubsub needs at least one publisher";
    return false;
  }
  const std::string pid = std::to_string(static_cast<long>(getpid()));
  if (out.topicPrefix.empty()) out.topicPrefix = "midge-bench/" + pid;
  if (out.clientIdPrefix.empty()) out.clientIdPrefix = "mb" + pid + "-";
  return true;
}

}  // namespace midge::bench
