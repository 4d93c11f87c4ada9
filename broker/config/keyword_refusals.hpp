// SPDX-License-Identifier: Apache-2.0
// Mosquitto keywords Midge does not implement, each with its reason: ignored (with a
// warning unless Midge already does what any value asks for), rejected (ignoring them would
// weaken security or change what a listener speaks). Private to broker/config.
#pragma once

#include <cstdint>
#include <string_view>

#include "broker/config/parse_session.hpp"

namespace midge::config::detail {

struct Refusal {
  std::string_view name;
  std::string_view reason;
};

// What an ignored keyword's value must look like: it is still checked, so that a file
// Mosquitto would refuse is refused here too.
enum class IgnoredValue : std::uint8_t { Any, Bool, Integer };

struct Ignored {
  std::string_view name;
  std::string_view reason;
  IgnoredValue value = IgnoredValue::Any;
  // Midge already does what any value asks for (or better): a warning would only be noise
  // in every Mosquitto file that sets it.
  bool quiet = false;
};

// Known Mosquitto keywords whose absence changes nothing a client could exploit.
const Ignored* findIgnored(std::string_view keyword);
// Checks the value of an ignored keyword and warns unless it is quiet.
void applyIgnored(ParseSession& session, const Line& line, const Ignored& entry);
// Known Mosquitto keywords Midge cannot honour without changing who may connect or what a
// listener speaks: loading the file would be unsafe, so it fails.
const Refusal* findRejected(std::string_view keyword);

}  // namespace midge::config::detail
