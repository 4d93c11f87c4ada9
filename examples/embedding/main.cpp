// SPDX-License-Identifier: Apache-2.0
// midge-embedded-app: an application that runs the Midge broker inside its own process
// and is itself a client of it, without a socket. It listens for MQTT clients, publishes
// its status (retained) to <prefix>/status every few seconds, and answers commands on
// <prefix>/cmd:  "status" publishes the status at once, "echo TEXT" publishes TEXT on
// <prefix>/echo. See README.md.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/auth.hpp"
#include "core/engine/broker.hpp"
#include "examples/embedding/app_host.hpp"
#include "examples/embedding/local_client.hpp"
#include "persistence/memory/memory_store.hpp"
#include "port/net/event_loop.hpp"

namespace {

// The event loop numbers its connections from 1 upwards; the top of the range is free.
constexpr midge::ConnectionId kLocalClientId = ~midge::ConnectionId{0};

struct AppOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 1883;
  std::string prefix = "app";
  std::uint32_t statusIntervalSeconds = 5;
};

const char* kUsage =
    "usage: midge-embedded-app [--bind ADDRESS] [--port N] [--prefix TOPIC]\n"
    "                          [--status-interval SECONDS]\n"
    "--port 0 lets the kernel choose; the port is printed on stdout.\n";

bool parseUnsigned(const std::string& text, unsigned long low, unsigned long high,
                   unsigned long& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      text.size() > 9) {
    return false;
  }
  out = std::strtoul(text.c_str(), nullptr, 10);
  return out >= low && out <= high;
}

// Returns false with a message for stderr.
bool parseArguments(const std::vector<std::string>& arguments, AppOptions& options,
                    std::string& error) {
  for (std::size_t i = 0; i < arguments.size(); i += 2) {
    const std::string& flag = arguments[i];
    if (i + 1 >= arguments.size()) {
      error = flag + " needs a value";
      return false;
    }
    const std::string& value = arguments[i + 1];
    unsigned long number = 0;
    if (flag == "--bind") {
      options.bind = value;
    } else if (flag == "--port" && parseUnsigned(value, 0, 65535, number)) {
      options.port = static_cast<std::uint16_t>(number);
    } else if (flag == "--prefix" && !value.empty() &&
               value.find_first_of("+#") == std::string::npos) {
      options.prefix = value;
    } else if (flag == "--status-interval" && parseUnsigned(value, 1, 86400, number)) {
      options.statusIntervalSeconds = static_cast<std::uint32_t>(number);
    } else {
      error = "bad option or value: " + flag + " " + value;
      return false;
    }
  }
  return true;
}

// What the application publishes about itself; counts network clients only.
std::string statusJson(const char* state, const midge::Broker& broker, std::uint64_t uptimeMs) {
  const std::size_t clients = broker.connectedClients();
  return std::string("{\"state\":\"") + state + "\",\"uptime_s\":" +
         std::to_string(uptimeMs / 1000) + ",\"clients\":" +
         std::to_string(clients > 0 ? clients - 1 : 0) + ",\"messages_received\":" +
         std::to_string(broker.stats().messagesReceived) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  AppOptions options;
  std::string error;
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  if (arguments.size() == 1 && (arguments[0] == "--help" || arguments[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!parseArguments(arguments, options, error)) {
    std::fprintf(stderr, "midge-embedded-app: %s\n%s", error.c_str(), kUsage);
    return 2;
  }

  std::unique_ptr<midge::port::EventLoop> loop = midge::port::EventLoop::create({}, error);
  if (!loop) {
    std::fprintf(stderr, "midge-embedded-app: %s\n", error.c_str());
    return 1;
  }

  // The engine's collaborators: the application picks each one. A MemoryStore keeps
  // sessions for the life of the process; persistence/sqlite would keep them on disk.
  midge::store::MemoryStore store;
  midge::AllowAllAuthenticator authenticator;
  midge::EngineConfig config;
  config.versionString = "midge-embedded-app 0.1.0";

  midge::embedding::AppHost host(*loop);
  midge::Broker broker(config, store, host, *loop, authenticator);
  if (!broker.restore().ok()) {
    std::fprintf(stderr, "midge-embedded-app: cannot restore: %s\n", store.lastError().c_str());
    return 1;
  }
  midge::embedding::LocalClient self(host, kLocalClientId, "embedded-app");

  const std::string statusTopic = options.prefix + "/status";
  const std::string commandTopic = options.prefix + "/cmd";
  const std::string echoTopic = options.prefix + "/echo";
  const std::uint64_t startedMs = loop->monotonicMs();
  std::uint64_t nextStatusMs = startedMs;
  midge::port::EventLoop& clock = *loop;

  auto publishStatus = [&](const char* state) {
    self.publish(statusTopic, statusJson(state, broker, clock.monotonicMs() - startedMs), 1, true);
  };
  self.subscribe(commandTopic, 1);
  self.setMessageHandler([&](std::string_view topic, std::string_view payload) {
    if (topic != commandTopic) return;
    if (payload == "status") {
      publishStatus("running");
    } else if (payload.substr(0, 5) == "echo ") {
      self.publish(echoTopic, std::string(payload.substr(5)), 1, false);
    } else {
      self.publish(echoTopic, "unknown command: " + std::string(payload), 1, false);
    }
  });
  host.attach(broker, self, [&] {
    if (!self.connected() || clock.monotonicMs() < nextStatusMs) return;
    publishStatus("running");
    nextStatusMs = clock.monotonicMs() + options.statusIntervalSeconds * 1000u;
  });
  loop->setHandler(&host);

  if (!loop->addListener({options.bind, options.port, 0}, error)) {
    std::fprintf(stderr, "midge-embedded-app: %s\n", error.c_str());
    return 1;
  }
  std::printf("midge-embedded-app: broker listening on %s port %u\n", options.bind.c_str(),
              static_cast<unsigned>(loop->boundPort(0)));
  std::fflush(stdout);

  loop->setSignalCallbacks(
      [&] {
        // The last status goes to the engine inside this turn, before every client,
        // subscribers included, is closed (shutdown() skips wills on purpose).
        publishStatus("stopped");
        host.serviceNow();
        broker.shutdown();
      },
      [] {});
  const int status = loop->run();
  std::printf("midge-embedded-app: stopped\n");
  return status;
}
