// SPDX-License-Identifier: Apache-2.0
// /metrics in the Prometheus text exposition format (version 0.0.4). Every figure is read
// from counters the engine, the port and the decorators of instruments.hpp already keep;
// rendering walks the sessions once (held messages), so it costs one scrape, not one
// message. Names and units: docs/monitoring.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/instruments.hpp"
#include "core/engine/broker.hpp"
#include "port/http/operator_http_server.hpp"
#include "port/net/event_loop.hpp"

namespace midge::app {

struct MetricsSources {
  const Broker* broker = nullptr;
  const port::EventLoop* loop = nullptr;
  const TimedStore* store = nullptr;
  const TurnTimer* turns = nullptr;
  std::string storePath;  // the SQLite file; empty with the memory store
  std::vector<const port::OperatorHttpServer*> httpServers;
  std::string version;
};

std::string renderMetrics(const MetricsSources& sources);

}  // namespace midge::app
