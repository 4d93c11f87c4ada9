// SPDX-License-Identifier: Apache-2.0
#include "core/util/result.hpp"

namespace midge {

ReasonCode reasonCodeFor(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Malformed: return ReasonCode::MalformedPacket;
    case ErrorKind::ProtocolError: return ReasonCode::ProtocolError;
    case ErrorKind::PacketTooLarge: return ReasonCode::PacketTooLarge;
    case ErrorKind::UnsupportedVersion: return ReasonCode::UnsupportedProtocolVersion;
    case ErrorKind::TopicNameInvalid: return ReasonCode::TopicNameInvalid;
    case ErrorKind::TopicFilterInvalid: return ReasonCode::TopicFilterInvalid;
    case ErrorKind::PayloadFormatInvalid: return ReasonCode::PayloadFormatInvalid;
    case ErrorKind::QuotaExceeded: return ReasonCode::QuotaExceeded;
    case ErrorKind::StorageFailure: return ReasonCode::UnspecifiedError;
    case ErrorKind::NeedMoreBytes:
    case ErrorKind::ImplementationError: break;
  }
  return ReasonCode::ImplementationSpecificError;
}

const char* errorKindName(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::NeedMoreBytes: return "need more bytes";
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
