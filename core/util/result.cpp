// SPDX-License-Identifier: Apache-2.0
#include "core/util/result.hpp"

namespace midge {

const char* errorKindName(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Malformed: return "malformed packet";
    case ErrorKind::ProtocolError: return "protocol error";
    case ErrorKind::PacketTooLarge: return "packet too large";
    case ErrorKind::UnsupportedVersion: return "unsupported protocol version";
    case ErrorKind::TopicNameInvalid: return "topic name invalid";
    case ErrorKind::TopicFilterInvalid: return "topic filter invalid";
    case ErrorKind::PayloadFormatInvalid: return "payload format invalid";
    case ErrorKind::QuotaExceeded: return "quota exceeded";
    case ErrorKind::StorageFailure: return "storage failure";
    case ErrorKind::ImplementationError: return "implementation error";
  }
  return "unknown error";
}

}  // namespace midge
