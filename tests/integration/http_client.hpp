// SPDX-License-Identifier: Apache-2.0
// A minimal HTTP/1.1 client for the operator endpoint's tests: sends bytes exactly as given
// (so a test can send malformed requests), reads until the server closes or the deadline,
// and parses the status line. Plus a parser for the Prometheus text format's samples.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace midge::test {

struct HttpReply {
  int status = 0;  // 0: no status line arrived (refused, closed or timed out)
  std::string head;  // status line and headers
  std::string body;
};

// Opens a connection to 127.0.0.1:port, sends `request` verbatim and reads the answer.
HttpReply httpExchange(std::uint16_t port, const std::string& request,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
// GET with "Connection: close"; `headers` are extra lines, each ending in "\r\n".
HttpReply httpGet(std::uint16_t port, const std::string& path, const std::string& headers = "");

// "name{labels}" -> value for every sample line; comments are skipped.
std::map<std::string, double> parseSamples(const std::string& exposition);

}  // namespace midge::test
