// SPDX-License-Identifier: Apache-2.0
// The TLS side of one listener: loads certificate, key and CA from TlsOptions and hands
// out a TlsSession per accepted connection (StreamFilterFactory).
//
//   std::unique_ptr<TlsServerContext> tls;
//   std::string error;
//   if (!TlsServerContext::create(options, tls, error)) {
//     log("listener 8883: " + error);   // e.g. "cannot read certfile /etc/x.pem: ..."
//   }
//   std::unique_ptr<StreamFilter> filter = tls->create();   // per connection
//   ...
//   if (!tls->reload(error)) log(error);  // on SIGHUP: old material stays in use
//
// Single-threaded like the event loop that owns it: create(), reload() and the sessions'
// calls must not run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "port/stream_filter.hpp"
#include "port/tls/tls_options.hpp"
#include "port/tls/tls_session.hpp"

namespace midge::port {

namespace tls {
class TlsConfig;
class TlsRandom;
class TlsResumption;
}  // namespace tls

class TlsServerContext final : public StreamFilterFactory {
 public:
  // Validates the options and reads every file. On failure returns false, leaves `out`
  // untouched and `error` names the option, the file and mbedTLS's reason.
  static bool create(const TlsOptions& options, std::unique_ptr<TlsServerContext>& out,
                     std::string& error);
  ~TlsServerContext() override;
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // A new server session on the current certificate material.
  std::unique_ptr<StreamFilter> create() override;
  std::unique_ptr<TlsSession> createSession();

  // Re-reads certfile, keyfile, cafile and capath (e.g. after certificate renewal). On
  // success new connections use the new material and established sessions continue on
  // the old one until they end. On failure nothing changes and `error` says why.
  bool reload(std::string& error);
  // The same with changed options (a reloaded configuration file).
  bool reload(const TlsOptions& options, std::string& error);

  const TlsOptions& options() const { return options_; }
  // Deadline the port enforces between accept and handshakeDone().
  std::uint32_t handshakeTimeoutMs() const { return options_.handshakeTimeoutMs; }

 private:
  TlsServerContext(TlsOptions options, std::shared_ptr<tls::TlsRandom> random,
                   std::shared_ptr<tls::TlsResumption> resumption,
                   std::shared_ptr<const tls::TlsConfig> config);

  TlsOptions options_;
  std::shared_ptr<tls::TlsRandom> random_;
  std::shared_ptr<tls::TlsResumption> resumption_;
  std::shared_ptr<const tls::TlsConfig> config_;
};

}  // namespace midge::port
