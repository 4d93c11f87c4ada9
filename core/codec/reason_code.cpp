// SPDX-License-Identifier: Apache-2.0
#include "core/codec/reason_code.hpp"

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
    case ErrorKind::ImplementationError: break;
  }
  return ReasonCode::ImplementationSpecificError;
}

ConnackReturnCode legacyConnackCode(ReasonCode code) noexcept {
  switch (code) {
    case ReasonCode::Success: return ConnackReturnCode::Accepted;
    case ReasonCode::UnsupportedProtocolVersion:
      return ConnackReturnCode::UnacceptableProtocolVersion;
    case ReasonCode::ClientIdentifierNotValid: return ConnackReturnCode::IdentifierRejected;
    case ReasonCode::BadUserNameOrPassword:
    case ReasonCode::BadAuthenticationMethod: return ConnackReturnCode::BadUserNameOrPassword;
    case ReasonCode::NotAuthorized:
    case ReasonCode::Banned: return ConnackReturnCode::NotAuthorized;
    default:
      // 3.1.1 has no code for the rest (quota, busy, moved...); "server unavailable" is the
      // one that tells a client to try again later rather than to change its credentials.
      return ConnackReturnCode::ServerUnavailable;
  }
}

const char* reasonCodeName(ReasonCode code) noexcept {
  switch (code) {
    case ReasonCode::Success: return "success";
    case ReasonCode::GrantedQoS1: return "granted QoS 1";
    case ReasonCode::GrantedQoS2: return "granted QoS 2";
    case ReasonCode::DisconnectWithWill: return "disconnect with will message";
    case ReasonCode::NoMatchingSubscribers: return "no matching subscribers";
    case ReasonCode::NoSubscriptionExisted: return "no subscription existed";
    case ReasonCode::ContinueAuthentication: return "continue authentication";
    case ReasonCode::ReAuthenticate: return "re-authenticate";
    case ReasonCode::UnspecifiedError: return "unspecified error";
    case ReasonCode::MalformedPacket: return "malformed packet";
    case ReasonCode::ProtocolError: return "protocol error";
    case ReasonCode::ImplementationSpecificError: return "implementation specific error";
    case ReasonCode::UnsupportedProtocolVersion: return "unsupported protocol version";
    case ReasonCode::ClientIdentifierNotValid: return "client identifier not valid";
    case ReasonCode::BadUserNameOrPassword: return "bad user name or password";
    case ReasonCode::NotAuthorized: return "not authorized";
    case ReasonCode::ServerUnavailable: return "server unavailable";
    case ReasonCode::ServerBusy: return "server busy";
    case ReasonCode::Banned: return "banned";
    case ReasonCode::ServerShuttingDown: return "server shutting down";
    case ReasonCode::BadAuthenticationMethod: return "bad authentication method";
    case ReasonCode::KeepAliveTimeout: return "keep alive timeout";
    case ReasonCode::SessionTakenOver: return "session taken over";
    case ReasonCode::TopicFilterInvalid: return "topic filter invalid";
    case ReasonCode::TopicNameInvalid: return "topic name invalid";
    case ReasonCode::PacketIdentifierInUse: return "packet identifier in use";
    case ReasonCode::PacketIdentifierNotFound: return "packet identifier not found";
    case ReasonCode::ReceiveMaximumExceeded: return "receive maximum exceeded";
    case ReasonCode::TopicAliasInvalid: return "topic alias invalid";
    case ReasonCode::PacketTooLarge: return "packet too large";
    case ReasonCode::MessageRateTooHigh: return "message rate too high";
    case ReasonCode::QuotaExceeded: return "quota exceeded";
    case ReasonCode::AdministrativeAction: return "administrative action";
    case ReasonCode::PayloadFormatInvalid: return "payload format invalid";
    case ReasonCode::RetainNotSupported: return "retain not supported";
    case ReasonCode::QoSNotSupported: return "QoS not supported";
    case ReasonCode::UseAnotherServer: return "use another server";
    case ReasonCode::ServerMoved: return "server moved";
    case ReasonCode::SharedSubscriptionsNotSupported: return "shared subscriptions not supported";
    case ReasonCode::ConnectionRateExceeded: return "connection rate exceeded";
    case ReasonCode::MaximumConnectTime: return "maximum connect time";
    case ReasonCode::SubscriptionIdentifiersNotSupported:
      return "subscription identifiers not supported";
    case ReasonCode::WildcardSubscriptionsNotSupported:
      return "wildcard subscriptions not supported";
  }
  return "unknown reason code";
}

}  // namespace midge
