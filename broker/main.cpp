// SPDX-License-Identifier: Apache-2.0
// midge: command line, configuration, and the wiring of engine, port and store.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/bridge/bridges.hpp"
#include "broker/config/config.hpp"
#include "broker/generated/version.hpp"
#include "broker/instruments.hpp"
#include "broker/logger.hpp"
#include "broker/operator_http.hpp"
#include "broker/process.hpp"
#include "broker/security.hpp"
#include "broker/store_factory.hpp"
#include "broker/store_watch.hpp"
#include "broker/tls_listeners.hpp"
#include "broker/websocket_listeners.hpp"
#include "core/engine/broker.hpp"
#include "port/net/event_loop.hpp"

namespace {

using midge::app::kVersion;

void printUsage() {
  std::printf(
      "midge %s - a small MQTT 3.1/3.1.1/5.0 broker\n\n"
      "Usage: midge [-c config_file] [-p port] [-v]\n"
      "       midge -h | --version\n\n"
      " -c : read the configuration from a file (mosquitto.conf format).\n"
      "      Without it, midge listens on the loopback interface, port 1883.\n"
      " -p : listen on this port instead of 1883 (local-only mode; repeatable).\n"
      " -v : verbose: log every message type.\n"
      " -h : this help.\n"
      " --version : print the version and exit.\n\n"
      "See midge(8) and midge.conf(5) for every option and configuration keyword.\n",
      kVersion);
}

struct CommandLine {
  std::string configFile;
  midge::config::CommandLineOverrides overrides;
  bool help = false;
  bool version = false;
};

bool parseCommandLine(int argc, char** argv, CommandLine& out) {
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    const bool hasValue = i + 1 < argc;
    if ((argument == "-c" || argument == "--config-file") && hasValue) {
      out.configFile = argv[++i];
    } else if ((argument == "-p" || argument == "--port") && hasValue) {
      char* end = nullptr;
      const long port = std::strtol(argv[++i], &end, 10);
      if (end == nullptr || *end != '\0' || port < 1 || port > 65535) {
        std::fprintf(stderr, "midge: invalid port '%s' (expected 1..65535)\n", argv[i]);
        return false;
      }
      out.overrides.ports.push_back(static_cast<std::uint16_t>(port));
    } else if (argument == "-v" || argument == "--verbose") {
      out.overrides.verbose = true;
    } else if (argument == "-h" || argument == "--help") {
      out.help = true;
    } else if (argument == "--version") {
      out.version = true;
    } else {
      std::fprintf(stderr, "midge: unknown or incomplete option '%s'; see midge -h\n",
                   argument.c_str());
      return false;
    }
  }
  return true;
}

midge::EngineConfig engineConfigFrom(const midge::config::Config& config) {
  midge::EngineConfig engine;
  engine.maxInflightMessages = config.maxInflightMessages;
  engine.maxInflightBytes = config.maxInflightBytes;
  engine.maxQueuedMessages = config.maxQueuedMessages;
  engine.maxQueuedBytes = config.maxQueuedBytes;
  engine.maxPacketSize = config.maxPacketSize;
  engine.maxPacketSizeBeforeConnect = config.maxUnauthenticatedPacketSize;
  engine.messageSizeLimit = config.messageSizeLimit;
  engine.maxKeepalive = config.maxKeepalive;
  engine.retainAvailable = config.retainAvailable;
  engine.queueQos0Messages = config.queueQos0Messages;
  engine.upgradeOutgoingQos = config.upgradeOutgoingQos;
  engine.persistentClientExpiration = config.persistentClientExpirationSeconds;
  engine.memoryLimit = config.memoryLimit;
  engine.maxTopicLength = config.maxTopicLength;
  engine.maxTopicLevels = config.maxTopicLevels;
  engine.connectTimeoutMs = config.connectTimeoutSeconds * 1000;
  engine.sysIntervalSeconds = config.sysIntervalSeconds;
  engine.connectionMessages = config.connectionMessages;
  engine.versionString = std::string("midge version ") + kVersion;
  engine.assignedIdPrefix = config.security.autoIdPrefix;
  engine.allowZeroLengthClientId = config.security.allowZeroLengthClientId;
  engine.maxConnectRatePerSecond = config.maxConnectRatePerSecond;
  engine.maxOutboundTopicAliases = config.maxOutboundTopicAliases;
  engine.maxSessions = config.maxSessions;
  engine.maxSubscriptionsPerClient = config.maxSubscriptionsPerClient;
  engine.maxFiltersPerSubscribe = config.maxFiltersPerSubscribe;
  engine.retainedBurstPerSubscribe = config.maxRetainedBurst;
  bool authenticates = false;
  for (const midge::config::Listener& listener : config.listeners) {
    engine.listeners.push_back(
        {listener.maxQos, listener.maxTopicAlias, listener.useUsernameAsClientId});
    // A user name proves nothing without a password file or a certificate behind it, so
    // only then is a session bound to its owner.
    authenticates = authenticates || !listener.security.passwordFile.empty() ||
                    (listener.tls && listener.tls->requireCertificate);
  }
  engine.checkSessionOwner = config.checkSessionOwner && authenticates;
  return engine;
}

using midge::LogLevel;
using midge::app::Logger;

// Parses the file (or the built-in defaults) and applies -p/-v; prints every diagnostic.
bool loadConfiguration(const CommandLine& commandLine, midge::config::Config& config) {
  std::vector<midge::config::Diagnostic> diagnostics;
  const bool parsed = commandLine.configFile.empty()
                          ? midge::config::parseText("", "<defaults>", config, diagnostics)
                          : midge::config::parseFile(commandLine.configFile, config, diagnostics);
  const bool overridden = parsed && midge::config::applyCommandLineOverrides(
                                        config, commandLine.overrides, diagnostics);
  for (const auto& diagnostic : diagnostics) {
    std::fprintf(stderr, "%s\n", midge::config::toString(diagnostic).c_str());
  }
  if (!parsed || !overridden) {
    std::fprintf(stderr, "midge: configuration errors, not starting\n");
    return false;
  }
  return true;
}

std::unique_ptr<midge::port::EventLoop> createLoop(const midge::config::Config& config,
                                                   Logger& logger) {
  midge::port::LoopOptions loopOptions;
  if (config.globalMaxConnections > 0) {
    loopOptions.maxConnectionsGlobal = static_cast<std::size_t>(config.globalMaxConnections);
  }
  loopOptions.maxTlsHandshakesPerSecond = config.maxConnectRatePerSecond;
  std::string error;
  auto loop = midge::port::EventLoop::create(loopOptions, error);
  if (!loop) {
    logger.write(LogLevel::Error, "cannot create the event loop: " + error);
    return nullptr;
  }
  loop->setLogSink(
      [&logger](LogLevel level, std::string_view message) { logger.write(level, message); });
  return loop;
}

bool loadSecurityFiles(const midge::config::Config& config,
                       midge::app::FileAuthenticator& authenticator, Logger& logger) {
  std::string error;
  if (!authenticator.load(config, error)) {
    logger.write(LogLevel::Error, "cannot load security files: " + error);
    return false;
  }
  for (const std::string& warning : authenticator.warnings()) {
    logger.write(LogLevel::Warning, warning);
  }
  return true;
}

// The store, wrapped in a watch that stops the broker when commits keep failing (so that
// the service manager restarts it); `watch` points into the result when there is one.
std::unique_ptr<midge::store::Store> openWatchedStore(const midge::config::Config& config,
                                                      midge::port::EventLoop& loop,
                                                      Logger& logger,
                                                      midge::app::StoreFailureWatch*& watch) {
  std::string error;
  std::unique_ptr<midge::store::Store> store = midge::app::openStore(config, logger, error);
  if (!store) {
    logger.write(LogLevel::Error, error);
    return nullptr;
  }
  watch = nullptr;
  if (!config.persistence || config.persistenceFailureTimeoutSeconds == 0) return store;
  auto watched = std::make_unique<midge::app::StoreFailureWatch>(
      std::move(store), loop, config.persistenceFailureTimeoutSeconds,
      [&logger, &loop](const std::string& why) {
        logger.write(LogLevel::Error, why);
        loop.shutdownSoon("persistence_failure_timeout");
      });
  watch = watched.get();
  return watched;
}

midge::port::ListenerSpec listenerSpecFor(const midge::config::Listener& listener,
                                          std::size_t index,
                                          midge::app::WebSocketListeners& websockets) {
  midge::port::ListenerSpec spec;
  spec.bindAddress = listener.bindAddress;
  spec.port = listener.port;
  spec.index = static_cast<int>(index);
  spec.maxConnections =
      listener.maxConnections < 0 ? 0 : static_cast<std::size_t>(listener.maxConnections);
  spec.tls = websockets.factoryFor(index);
  if (listener.protocol == midge::config::ListenerProtocol::WebSockets) {
    spec.filterName = listener.tls ? "WebSockets over TLS" : "WebSockets";
  }
  spec.restrictions.interfaceName = listener.bindInterface;
  if (listener.socketDomain == midge::config::SocketDomain::IPv4) {
    spec.restrictions.family = midge::port::AddressFamily::IPv4;
  } else if (listener.socketDomain == midge::config::SocketDomain::IPv6) {
    spec.restrictions.family = midge::port::AddressFamily::IPv6;
  }
  return spec;
}

// Opens the MQTT listeners (plain, TLS, WebSockets); the operator HTTP listeners are
// opened by OperatorEndpoints. A loopback listener Midge made up itself may fail (a host
// without IPv6) as long as another one opens.
bool openMqttListeners(const midge::config::Config& config, midge::port::EventLoop& loop,
                       midge::app::TlsListeners& tls,
                       midge::app::WebSocketListeners& websockets, Logger& logger) {
  std::string error;
  if (!tls.create(config, error) || !websockets.create(config, tls, error)) {
    logger.write(LogLevel::Error, error);
    return false;
  }
  int opened = 0;
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const midge::config::Listener& listener = config.listeners[i];
    if (listener.protocol == midge::config::ListenerProtocol::Http) continue;
    if (loop.addListener(listenerSpecFor(listener, i, websockets), error)) {
      ++opened;
      continue;
    }
    logger.write(listener.implicitLoopback ? LogLevel::Warning : LogLevel::Error, error);
    if (!listener.implicitLoopback) return false;
  }
  if (opened == 0) {
    logger.write(LogLevel::Error, "no listener could be opened");
    return false;
  }
  return true;
}

bool openOperatorEndpoints(const midge::config::Config& config, midge::port::EventLoop& loop,
                           midge::app::OperatorSources& sources,
                           midge::app::OperatorEndpoints& endpoints, Logger& logger) {
  sources.storePath = config.persistence ? midge::config::persistenceFilePath(config) : "";
  sources.version = kVersion;
  std::string error;
  if (!endpoints.open(config, loop, sources, logger, error)) {
    logger.write(LogLevel::Error, error);
    return false;
  }
  return true;
}

// Privileges are dropped only after every listener and file is open (they may need root).
bool dropPrivileges(const midge::config::Config& config,
                    const std::optional<midge::app::RunAs>& runAs, Logger& logger) {
  if (!runAs) return true;
  midge::app::handOverStore(config, *runAs, logger);
  if (!midge::app::switchTo(*runAs, logger)) return false;
  midge::app::checkStoreDirectory(config, logger);
  return true;
}

void reloadFiles(midge::app::FileAuthenticator& authenticator, midge::app::TlsListeners& tls,
                 midge::app::OperatorEndpoints& operatorEndpoints, Logger& logger) {
  logger.reopen();
  std::string reloadError;
  if (!authenticator.reload(reloadError)) {
    logger.write(LogLevel::Error, "reload failed, keeping the previous files: " + reloadError);
  } else {
    logger.write(LogLevel::Notice, "reloaded password and ACL files");
    for (const std::string& warning : authenticator.warnings()) {
      logger.write(LogLevel::Warning, warning);
    }
  }
  tls.reload(logger);
  operatorEndpoints.reload(logger);
}

void addPortCounters(midge::Broker& broker, const midge::port::NetCounters& net) {
  broker.addSysCounter("midge/connections/refused", &net.connectionsRefused);
  broker.addSysCounter("midge/connections/accept-errors", &net.acceptErrors);
  broker.addSysCounter("midge/connections/tls-failures", &net.tlsFailures);
}

// After the listeners: the local leg of each bridge connects to one of them.
bool startBridges(const midge::config::Config& config, midge::port::EventLoop& loop,
                  midge::Broker& broker, midge::bridge::Bridges& bridges, Logger& logger) {
  std::vector<std::string> errors;
  const bool started = bridges.start(
      config, loop.eventBase(),
      [&logger](const std::string& line) { logger.write(LogLevel::Notice, line); }, errors);
  for (const std::string& error : errors) logger.write(LogLevel::Error, error);
  bridges.exposeStatistics([&broker](std::string suffix, const std::uint64_t* value) {
    broker.addSysCounter(std::move(suffix), value);
  });
  return started;
}

// Everything from a loaded configuration to the loop's end; the exit status.
int serve(const midge::config::Config& config, const std::string& configFile) {
  Logger logger(config.log);
  auto loop = createLoop(config, logger);
  if (!loop) return 1;
  logger.write(LogLevel::Notice, std::string("midge version ") + kVersion + " starting");
  if (!configFile.empty()) logger.write(LogLevel::Notice, "config loaded from " + configFile);

  std::optional<midge::app::RunAs> runAs;
  if (!midge::app::chooseRunAs(config.user, runAs, logger)) return 1;
  midge::app::FileAuthenticator authenticator;
  if (!loadSecurityFiles(config, authenticator, logger)) return 1;
  midge::app::StoreFailureWatch* storeWatch = nullptr;
  std::unique_ptr<midge::store::Store> store = openWatchedStore(config, *loop, logger, storeWatch);
  if (!store) return 1;

  midge::bridge::Bridges bridges;  // its statistics outlive the broker that publishes them
  midge::app::TimedStore timedStore(*store);
  midge::Broker broker(engineConfigFrom(config), timedStore, *loop, *loop, authenticator);
  if (!broker.restore().ok()) {
    logger.write(LogLevel::Error, "cannot load the persistence file: " + store->lastError());
    return 1;
  }
  midge::app::TurnTimer turnTimer(broker);
  loop->setHandler(&turnTimer);
  addPortCounters(broker, loop->counters());

  midge::app::TlsListeners tls;
  midge::app::WebSocketListeners websockets;
  if (!openMqttListeners(config, *loop, tls, websockets, logger)) return 1;
  midge::app::OperatorSources operatorSources;
  operatorSources.broker = &broker;
  operatorSources.loop = loop.get();
  operatorSources.store = &timedStore;
  operatorSources.turns = &turnTimer;
  operatorSources.tls = &tls;
  midge::app::OperatorEndpoints operatorEndpoints;
  if (!openOperatorEndpoints(config, *loop, operatorSources, operatorEndpoints, logger)) return 1;
  if (!startBridges(config, *loop, broker, bridges, logger)) return 1;
  midge::app::PidFile pidFile;
  if (!pidFile.write(config.pidFile, runAs, logger)) return 1;
  if (!dropPrivileges(config, runAs, logger)) return 1;
  operatorEndpoints.setServing(true);

  loop->setSignalCallbacks(
      [&broker, &logger, &operatorEndpoints, &bridges] {
        logger.write(LogLevel::Notice, "shutting down");
        operatorEndpoints.setServing(false);
        bridges.stop();  // both legs leave while the engine still answers the local one
        broker.shutdown();
      },
      [&] { reloadFiles(authenticator, tls, operatorEndpoints, logger); });
  const int status = loop->run();
  pidFile.remove();
  if (storeWatch != nullptr && storeWatch->expired()) {
    // Non-zero, so that systemd's Restart=on-failure (and procd's respawn) start it again.
    logger.write(LogLevel::Error, "midge stopped: the store kept failing");
    return 1;
  }
  logger.write(LogLevel::Notice, "midge stopped");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine commandLine;
  if (!parseCommandLine(argc, argv, commandLine)) return 1;
  if (commandLine.help) {
    printUsage();
    return 0;
  }
  if (commandLine.version) {
    std::printf("midge version %s\n", kVersion);
    return 0;
  }
  midge::config::Config config;
  if (!loadConfiguration(commandLine, config)) return 1;
  return serve(config, commandLine.configFile);
}
