// SPDX-License-Identifier: Apache-2.0
// midge: command line, configuration, and the wiring of engine, port and store.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
    return 1;
  }

  midge::app::Logger logger(config.log);
  std::string error;
  midge::port::LoopOptions loopOptions;
  if (config.globalMaxConnections > 0) {
    loopOptions.maxConnectionsGlobal = static_cast<std::size_t>(config.globalMaxConnections);
  }
  loopOptions.maxTlsHandshakesPerSecond = config.maxConnectRatePerSecond;
  auto loop = midge::port::EventLoop::create(loopOptions, error);
  if (!loop) {
    logger.write(midge::LogLevel::Error, "cannot create the event loop: " + error);
    return 1;
  }
  loop->setLogSink([&logger](midge::LogLevel level, std::string_view message) {
    logger.write(level, message);
  });
  logger.write(midge::LogLevel::Notice, std::string("midge version ") + kVersion + " starting");
  if (!commandLine.configFile.empty()) {
    logger.write(midge::LogLevel::Notice, "config loaded from " + commandLine.configFile);
  }

  std::optional<midge::app::RunAs> runAs;
  if (!midge::app::chooseRunAs(config.user, runAs, logger)) return 1;
  midge::app::FileAuthenticator authenticator;
  if (!authenticator.load(config, error)) {
    logger.write(midge::LogLevel::Error, "cannot load security files: " + error);
    return 1;
  }
  for (const std::string& warning : authenticator.warnings()) {
    logger.write(midge::LogLevel::Warning, warning);
  }
  std::unique_ptr<midge::store::Store> store = midge::app::openStore(config, logger, error);
  if (!store) {
    logger.write(midge::LogLevel::Error, error);
    return 1;
  }
  midge::app::StoreFailureWatch* storeWatch = nullptr;
  if (config.persistence && config.persistenceFailureTimeoutSeconds != 0) {
    auto watch = std::make_unique<midge::app::StoreFailureWatch>(
        std::move(store), *loop, config.persistenceFailureTimeoutSeconds,
        [&logger, &loop](const std::string& why) {
          logger.write(midge::LogLevel::Error, why);
          loop->shutdownSoon("persistence_failure_timeout");
        });
    storeWatch = watch.get();
    store = std::move(watch);
  }

  midge::app::TimedStore timedStore(*store);
  midge::Broker broker(engineConfigFrom(config), timedStore, *loop, *loop, authenticator);
  if (!broker.restore().ok()) {
    logger.write(midge::LogLevel::Error, "cannot load the persistence file: " + store->lastError());
    return 1;
  }
  midge::app::TurnTimer turnTimer(broker);
  loop->setHandler(&turnTimer);
  const midge::port::NetCounters& net = loop->counters();
  broker.addSysCounter("midge/connections/refused", &net.connectionsRefused);
  broker.addSysCounter("midge/connections/accept-errors", &net.acceptErrors);
  broker.addSysCounter("midge/connections/tls-failures", &net.tlsFailures);

  midge::app::TlsListeners tls;
  if (!tls.create(config, error)) {
    logger.write(midge::LogLevel::Error, error);
    return 1;
  }
  midge::app::WebSocketListeners websockets;
  if (!websockets.create(config, tls, error)) {
    logger.write(midge::LogLevel::Error, error);
    return 1;
  }
  int opened = 0;
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const midge::config::Listener& listener = config.listeners[i];
    if (listener.protocol == midge::config::ListenerProtocol::Http) continue;
    midge::port::ListenerSpec spec;
    spec.bindAddress = listener.bindAddress;
    spec.port = listener.port;
    spec.index = static_cast<int>(i);
    spec.maxConnections = listener.maxConnections < 0 ? 0 : static_cast<std::size_t>(listener.maxConnections);
    spec.tls = websockets.factoryFor(i);
    if (listener.protocol == midge::config::ListenerProtocol::WebSockets) {
      spec.filterName = listener.tls ? "WebSockets over TLS" : "WebSockets";
    }
    spec.restrictions.interfaceName = listener.bindInterface;
    if (listener.socketDomain == midge::config::SocketDomain::IPv4) {
      spec.restrictions.family = midge::port::AddressFamily::IPv4;
    } else if (listener.socketDomain == midge::config::SocketDomain::IPv6) {
      spec.restrictions.family = midge::port::AddressFamily::IPv6;
    }
    if (!loop->addListener(spec, error)) {
      if (listener.implicitLoopback) {
        logger.write(midge::LogLevel::Warning, error);
        continue;
      }
      logger.write(midge::LogLevel::Error, error);
      return 1;
    }
    ++opened;
  }
  if (opened == 0) {
    logger.write(midge::LogLevel::Error, "no listener could be opened");
    return 1;
  }
  midge::app::OperatorEndpoints operatorEndpoints;
  midge::app::OperatorSources operatorSources;
  operatorSources.broker = &broker;
  operatorSources.loop = loop.get();
  operatorSources.store = &timedStore;
  operatorSources.turns = &turnTimer;
  operatorSources.storePath = config.persistence ? midge::config::persistenceFilePath(config) : "";
  operatorSources.version = kVersion;
  if (!operatorEndpoints.open(config, *loop, operatorSources, logger, error)) {
    logger.write(midge::LogLevel::Error, error);
    return 1;
  }
  midge::app::PidFile pidFile;
  if (!pidFile.write(config.pidFile, runAs, logger)) return 1;
  if (runAs) {
    midge::app::handOverStore(config, *runAs, logger);
    if (!midge::app::switchTo(*runAs, logger)) return 1;
    midge::app::checkStoreDirectory(config, logger);
  }
  operatorEndpoints.setServing(true);

  const std::string configFile = commandLine.configFile;
  loop->setSignalCallbacks(
      [&broker, &logger, &operatorEndpoints] {
        logger.write(midge::LogLevel::Notice, "shutting down");
        operatorEndpoints.setServing(false);
        broker.shutdown();
      },
      [&] {
        logger.reopen();
        std::string reloadError;
        if (!authenticator.reload(reloadError)) {
          logger.write(midge::LogLevel::Error, "reload failed, keeping the previous files: " + reloadError);
        } else {
          logger.write(midge::LogLevel::Notice, "reloaded password and ACL files");
          for (const std::string& warning : authenticator.warnings()) {
            logger.write(midge::LogLevel::Warning, warning);
          }
        }
        tls.reload(logger);
        operatorEndpoints.reload(logger);
      });
  int status = loop->run();
  pidFile.remove();
  if (storeWatch != nullptr && storeWatch->expired()) {
    // Non-zero, so that systemd's Restart=on-failure (and procd's respawn) start it again.
    logger.write(midge::LogLevel::Error, "midge stopped: the store kept failing");
    return 1;
  }
  logger.write(midge::LogLevel::Notice, "midge stopped");
  return status;
}
