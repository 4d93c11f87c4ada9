// SPDX-License-Identifier: Apache-2.0
// midge-bench: an MQTT load generator that speaks the protocol itself (the project's
// codec over non-blocking sockets and epoll), so that it depends on no broker's client
// library and stays cheap enough not to be the bottleneck. Prints one JSON line.
#include <csignal>
#include <cstdio>
#include <string>

#include "tests/bench/bench_connections.hpp"
#include "tests/bench/bench_options.hpp"
#include "tests/bench/bench_pubsub.hpp"

int main(int argc, char** argv) {
  midge::bench::BenchOptions options;
  std::string error;
  if (!midge::bench::parseBenchOptions(argc, argv, options, error)) {
    if (error.empty()) {
      std::fputs(midge::bench::usageText(), stdout);
      return 0;
    }
    std::fprintf(stderr, "midge-bench: %s\n%s", error.c_str(), midge::bench::usageText());
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  bool ok = false;
  std::string line;
  if (options.mode == midge::bench::BenchMode::Connections) {
    midge::bench::ConnectionsBench bench(options);
    line = bench.run(ok);
  } else {
    midge::bench::PubSubBench bench(options);
    line = bench.run(ok);
  }
  std::printf("%s\n", line.c_str());
  return ok ? 0 : 1;
}
