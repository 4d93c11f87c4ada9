// SPDX-License-Identifier: Apache-2.0
#include "broker/config/keyword_refusals.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include "broker/config/values.hpp"

namespace midge::config::detail {

// Known Mosquitto keywords whose absence changes nothing a client could exploit.
const Ignored* findIgnored(std::string_view keyword) {
  static const Ignored kIgnored[] = {
      {"allow_duplicate_messages",
       "deprecated in Mosquitto; overlapping subscriptions follow the MQTT rules"},
      {"autosave_on_changes", "Midge commits to the store every event-loop turn"},
      {"autosave_interval",
       "Midge commits to the store every event-loop turn, before that turn's acknowledgements",
       IgnoredValue::Integer, true},
      {"set_tcp_nodelay",
       "Midge always disables Nagle's algorithm: MQTT packets are small and latency matters "
       "more than segment count",
       IgnoredValue::Bool, true},
      {"ciphers_tls1.3", "the TLS library Midge uses offers no TLS 1.3 cipher choice"},
      {"dhparamfile", "Midge's TLS uses ECDHE for forward secrecy"},
      {"websockets_log_level", "WebSocket events are logged under Midge's own log_type"},
      {"retry_interval", "removed in Mosquitto 2; resends follow the MQTT rules"},
      {"global_max_clients", "not implemented; use global_max_connections"},
      {"enable_control_api", "Midge has no $CONTROL API"},
  };
  for (const Ignored& entry : kIgnored) {
    if (entry.name == keyword) return &entry;
  }
  return nullptr;
}

// Known Mosquitto keywords Midge cannot honour without changing who may connect or
// what a listener speaks: loading the file would be unsafe, so it fails.
const Refusal* findRejected(std::string_view keyword) {
  static const Refusal kRejected[] = {
      {"auth_plugin", "authentication plugins are not supported by Midge"},
      {"plugin", "plugins are not supported by Midge"},
      {"global_plugin", "plugins are not supported by Midge"},
      {"auth_plugin_deny_special_chars", "plugins are not supported by Midge"},
      {"psk_hint", "TLS-PSK listeners are not supported by Midge"},
      {"psk_file", "TLS-PSK is not supported by Midge"},
      {"tls_engine", "TLS engines are not supported by Midge; use a PEM keyfile"},
      {"tls_engine_kpass_sha1", "TLS engines are not supported by Midge; use a PEM keyfile"},
      // A listener that serves files would be a web server the operator did not get.
      {"http_dir",
       "serving static files is not supported by Midge; serve the web application from a "
       "web server and let it connect to the websockets listener"},
      {"clientid_prefixes",
       "not supported by Midge; restrict clients with password_file and acl_file"},
      // Ignoring it would let the listener's clients share the unprefixed topic tree.
      {"mount_point",
       "not supported by Midge (listeners share one topic tree); use a broker per tenant or "
       "ACL patterns with %u"},
  };
  for (const Refusal& entry : kRejected) {
    if (entry.name == keyword) return &entry;
  }
  if (keyword.substr(0, 9) == "auth_opt_" || keyword.substr(0, 11) == "plugin_opt_") {
    static const Refusal kPluginOption{"plugin_opt_*", "plugins are not supported by Midge"};
    return &kPluginOption;
  }
  return nullptr;
}

void applyIgnored(ParseSession& session, const Line& line, const Ignored& entry) {
  constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kUint32Max = std::numeric_limits<std::uint32_t>::max();
  if (entry.value == IgnoredValue::Bool && !takeBool(session, line)) return;
  if (entry.value == IgnoredValue::Integer && !takeInteger(session, line, kInt64Min, kUint32Max)) {
    return;
  }
  if (entry.quiet) return;
  session.warning(std::string(line.keyword) + ": accepted but ignored (" + std::string(entry.reason) + ")");
}

}  // namespace midge::config::detail
