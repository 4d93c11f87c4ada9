// SPDX-License-Identifier: Apache-2.0
#include "core/codec/properties.hpp"

namespace midge::codec {

namespace {

constexpr std::uint32_t bit(PropertyScope scope) noexcept {
  return 1u << static_cast<unsigned>(scope);
}

constexpr std::uint32_t kWill = bit(PropertyScope::Will);
constexpr std::uint32_t kConnect = bit(PropertyScope::Connect);
constexpr std::uint32_t kConnack = bit(PropertyScope::Connack);
constexpr std::uint32_t kPublish = bit(PropertyScope::Publish);
constexpr std::uint32_t kPubAcks = bit(PropertyScope::Puback) | bit(PropertyScope::Pubrec) |
                                   bit(PropertyScope::Pubrel) | bit(PropertyScope::Pubcomp);
constexpr std::uint32_t kSubscribe = bit(PropertyScope::Subscribe);
constexpr std::uint32_t kSuback = bit(PropertyScope::Suback);
constexpr std::uint32_t kUnsubscribe = bit(PropertyScope::Unsubscribe);
constexpr std::uint32_t kUnsuback = bit(PropertyScope::Unsuback);
constexpr std::uint32_t kDisconnect = bit(PropertyScope::Disconnect);
constexpr std::uint32_t kAuth = bit(PropertyScope::Auth);

// Where each property may appear (spec table 2-4) and what to log when it is misused.
struct Rule {
  std::uint32_t allowed;
  const char* notAllowed;
  const char* duplicate;
  const char* truncated;
  const char* invalid;
};

#define MIDGE_PROPERTY_RULE(mask, name)                                        \
  Rule {                                                                       \
    mask, name " property not allowed in this packet", "duplicate " name " property", \
        name " property truncated", name " property has an invalid value"      \
  }

const Rule* ruleFor(std::uint32_t id) noexcept {
  static constexpr Rule kPayloadFormat =
      MIDGE_PROPERTY_RULE(kPublish | kWill, "Payload Format Indicator");
  static constexpr Rule kMessageExpiry =
      MIDGE_PROPERTY_RULE(kPublish | kWill, "Message Expiry Interval");
  static constexpr Rule kContentType = MIDGE_PROPERTY_RULE(kPublish | kWill, "Content Type");
  static constexpr Rule kResponseTopic =
      MIDGE_PROPERTY_RULE(kPublish | kWill, "Response Topic");
  static constexpr Rule kCorrelationData =
      MIDGE_PROPERTY_RULE(kPublish | kWill, "Correlation Data");
  static constexpr Rule kSubscriptionId =
      MIDGE_PROPERTY_RULE(kPublish | kSubscribe, "Subscription Identifier");
  static constexpr Rule kSessionExpiry =
      MIDGE_PROPERTY_RULE(kConnect | kConnack | kDisconnect, "Session Expiry Interval");
  static constexpr Rule kAssignedClientId =
      MIDGE_PROPERTY_RULE(kConnack, "Assigned Client Identifier");
  static constexpr Rule kServerKeepAlive = MIDGE_PROPERTY_RULE(kConnack, "Server Keep Alive");
  static constexpr Rule kAuthMethod =
      MIDGE_PROPERTY_RULE(kConnect | kConnack | kAuth, "Authentication Method");
  static constexpr Rule kAuthData =
      MIDGE_PROPERTY_RULE(kConnect | kConnack | kAuth, "Authentication Data");
  static constexpr Rule kRequestProblem =
      MIDGE_PROPERTY_RULE(kConnect, "Request Problem Information");
  static constexpr Rule kWillDelay = MIDGE_PROPERTY_RULE(kWill, "Will Delay Interval");
  static constexpr Rule kRequestResponse =
      MIDGE_PROPERTY_RULE(kConnect, "Request Response Information");
  static constexpr Rule kResponseInfo = MIDGE_PROPERTY_RULE(kConnack, "Response Information");
  static constexpr Rule kServerReference =
      MIDGE_PROPERTY_RULE(kConnack | kDisconnect, "Server Reference");
  static constexpr Rule kReasonString = MIDGE_PROPERTY_RULE(
      kConnack | kPubAcks | kSuback | kUnsuback | kDisconnect | kAuth, "Reason String");
  static constexpr Rule kReceiveMaximum =
      MIDGE_PROPERTY_RULE(kConnect | kConnack, "Receive Maximum");
  static constexpr Rule kTopicAliasMaximum =
      MIDGE_PROPERTY_RULE(kConnect | kConnack, "Topic Alias Maximum");
  static constexpr Rule kTopicAlias = MIDGE_PROPERTY_RULE(kPublish, "Topic Alias");
  static constexpr Rule kMaximumQoS = MIDGE_PROPERTY_RULE(kConnack, "Maximum QoS");
  static constexpr Rule kRetainAvailable = MIDGE_PROPERTY_RULE(kConnack, "Retain Available");
  static constexpr Rule kUserProperty = MIDGE_PROPERTY_RULE(
      kConnect | kConnack | kPublish | kWill | kPubAcks | kSubscribe | kSuback | kUnsubscribe |
          kUnsuback | kDisconnect | kAuth,
      "User Property");
  static constexpr Rule kMaximumPacketSize =
      MIDGE_PROPERTY_RULE(kConnect | kConnack, "Maximum Packet Size");
  static constexpr Rule kWildcardAvailable =
      MIDGE_PROPERTY_RULE(kConnack, "Wildcard Subscription Available");
  static constexpr Rule kSubscriptionIdAvailable =
      MIDGE_PROPERTY_RULE(kConnack, "Subscription Identifier Available");
  static constexpr Rule kSharedAvailable =
      MIDGE_PROPERTY_RULE(kConnack, "Shared Subscription Available");

  switch (static_cast<PropertyId>(id)) {
    case PropertyId::PayloadFormatIndicator: return &kPayloadFormat;
    case PropertyId::MessageExpiryInterval: return &kMessageExpiry;
    case PropertyId::ContentType: return &kContentType;
    case PropertyId::ResponseTopic: return &kResponseTopic;
    case PropertyId::CorrelationData: return &kCorrelationData;
    case PropertyId::SubscriptionIdentifier: return &kSubscriptionId;
    case PropertyId::SessionExpiryInterval: return &kSessionExpiry;
    case PropertyId::AssignedClientIdentifier: return &kAssignedClientId;
    case PropertyId::ServerKeepAlive: return &kServerKeepAlive;
    case PropertyId::AuthenticationMethod: return &kAuthMethod;
    case PropertyId::AuthenticationData: return &kAuthData;
    case PropertyId::RequestProblemInformation: return &kRequestProblem;
    case PropertyId::WillDelayInterval: return &kWillDelay;
    case PropertyId::RequestResponseInformation: return &kRequestResponse;
    case PropertyId::ResponseInformation: return &kResponseInfo;
    case PropertyId::ServerReference: return &kServerReference;
    case PropertyId::ReasonString: return &kReasonString;
    case PropertyId::ReceiveMaximum: return &kReceiveMaximum;
    case PropertyId::TopicAliasMaximum: return &kTopicAliasMaximum;
    case PropertyId::TopicAlias: return &kTopicAlias;
    case PropertyId::MaximumQoS: return &kMaximumQoS;
    case PropertyId::RetainAvailable: return &kRetainAvailable;
    case PropertyId::UserProperty: return &kUserProperty;
    case PropertyId::MaximumPacketSize: return &kMaximumPacketSize;
    case PropertyId::WildcardSubscriptionAvailable: return &kWildcardAvailable;
    case PropertyId::SubscriptionIdentifierAvailable: return &kSubscriptionIdAvailable;
    case PropertyId::SharedSubscriptionAvailable: return &kSharedAvailable;
  }
  return nullptr;
}

#undef MIDGE_PROPERTY_RULE

// Flag-like bytes (payload format, request problem/response information, the
// "... Available" flags, maximum QoS) may only be 0 or 1.
Status readFlag(Reader& reader, const Rule& rule, std::optional<std::uint8_t>& field) {
  if (field) return protocolError(rule.duplicate);
  std::uint8_t value = 0;
  MIDGE_TRY(reader.u8(value, rule.truncated));
  if (value > 1) return protocolError(rule.invalid);
  field = value;
  return Status::success();
}

Status readU16(Reader& reader, const Rule& rule, std::optional<std::uint16_t>& field,
               bool zeroIsError) {
  if (field) return protocolError(rule.duplicate);
  std::uint16_t value = 0;
  MIDGE_TRY(reader.u16(value, rule.truncated));
  if (zeroIsError && value == 0) return protocolError(rule.invalid);
  field = value;
  return Status::success();
}

Status readU32(Reader& reader, const Rule& rule, std::optional<std::uint32_t>& field,
               bool zeroIsError) {
  if (field) return protocolError(rule.duplicate);
  std::uint32_t value = 0;
  MIDGE_TRY(reader.u32(value, rule.truncated));
  if (zeroIsError && value == 0) return protocolError(rule.invalid);
  field = value;
  return Status::success();
}

Status readString(Reader& reader, const Rule& rule, std::optional<std::string_view>& field) {
  if (field) return protocolError(rule.duplicate);
  std::string_view value;
  MIDGE_TRY(reader.utf8(value, rule.truncated, rule.invalid));
  field = value;
  return Status::success();
}

Status readBinary(Reader& reader, const Rule& rule, std::optional<Bytes>& field) {
  if (field) return protocolError(rule.duplicate);
  Bytes value;
  MIDGE_TRY(reader.binary(value, rule.truncated));
  field = value;
  return Status::success();
}

Status readOne(Reader& reader, std::uint32_t id, const Rule& rule, PropertyScope scope,
               Properties& out) {
  switch (static_cast<PropertyId>(id)) {
    case PropertyId::PayloadFormatIndicator:
      return readFlag(reader, rule, out.payloadFormatIndicator);
    case PropertyId::MessageExpiryInterval:
      return readU32(reader, rule, out.messageExpiryInterval, false);
    case PropertyId::ContentType: return readString(reader, rule, out.contentType);
    case PropertyId::ResponseTopic: return readString(reader, rule, out.responseTopic);
    case PropertyId::CorrelationData: return readBinary(reader, rule, out.correlationData);
    case PropertyId::SubscriptionIdentifier: {
      // A PUBLISH forwarded to a subscriber carries one per matching subscription; a
      // SUBSCRIBE names at most one.
      if (scope != PropertyScope::Publish && !out.subscriptionIdentifiers.empty()) {
        return protocolError(rule.duplicate);
      }
      std::uint32_t value = 0;
      MIDGE_TRY(reader.varint(value, rule.truncated));
      if (value == 0) return protocolError(rule.invalid);
      out.subscriptionIdentifiers.push_back(value);
      return Status::success();
    }
    case PropertyId::SessionExpiryInterval:
      return readU32(reader, rule, out.sessionExpiryInterval, false);
    case PropertyId::AssignedClientIdentifier:
      return readString(reader, rule, out.assignedClientIdentifier);
    case PropertyId::ServerKeepAlive: return readU16(reader, rule, out.serverKeepAlive, false);
    case PropertyId::AuthenticationMethod:
      return readString(reader, rule, out.authenticationMethod);
    case PropertyId::AuthenticationData:
      return readBinary(reader, rule, out.authenticationData);
    case PropertyId::RequestProblemInformation:
      return readFlag(reader, rule, out.requestProblemInformation);
    case PropertyId::WillDelayInterval:
      return readU32(reader, rule, out.willDelayInterval, false);
    case PropertyId::RequestResponseInformation:
      return readFlag(reader, rule, out.requestResponseInformation);
    case PropertyId::ResponseInformation:
      return readString(reader, rule, out.responseInformation);
    case PropertyId::ServerReference: return readString(reader, rule, out.serverReference);
    case PropertyId::ReasonString: return readString(reader, rule, out.reasonString);
    case PropertyId::ReceiveMaximum: return readU16(reader, rule, out.receiveMaximum, true);
    case PropertyId::TopicAliasMaximum:
      return readU16(reader, rule, out.topicAliasMaximum, false);
    case PropertyId::TopicAlias: return readU16(reader, rule, out.topicAlias, true);
    case PropertyId::MaximumQoS: return readFlag(reader, rule, out.maximumQoS);
    case PropertyId::RetainAvailable: return readFlag(reader, rule, out.retainAvailable);
    case PropertyId::UserProperty: {
      UserProperty pair;
      MIDGE_TRY(reader.utf8(pair.first, rule.truncated, "User Property name is not valid UTF-8"));
      MIDGE_TRY(
          reader.utf8(pair.second, rule.truncated, "User Property value is not valid UTF-8"));
      out.userProperties.push_back(pair);
      return Status::success();
    }
    case PropertyId::MaximumPacketSize:
      return readU32(reader, rule, out.maximumPacketSize, true);
    case PropertyId::WildcardSubscriptionAvailable:
      return readFlag(reader, rule, out.wildcardSubscriptionAvailable);
    case PropertyId::SubscriptionIdentifierAvailable:
      return readFlag(reader, rule, out.subscriptionIdentifierAvailable);
    case PropertyId::SharedSubscriptionAvailable:
      return readFlag(reader, rule, out.sharedSubscriptionAvailable);
  }
  return malformed("unknown property identifier");
}

Status readBody(Reader& reader, PropertyScope scope, Properties& out) {
  const std::uint32_t scopeBit = bit(scope);
  while (!reader.atEnd()) {
    std::uint32_t id = 0;
    MIDGE_TRY(reader.varint(id, "property identifier truncated"));
    // Every identifier MQTT 5 defines fits in one byte; a longer one must not be narrowed
    // to PropertyId, where 257 would alias Payload Format Indicator.
    if (id > 0x7F) return malformed("unknown property identifier");
    const Rule* rule = ruleFor(id);
    if (rule == nullptr) return malformed("unknown property identifier");
    if ((rule->allowed & scopeBit) == 0) return malformed(rule->notAllowed);
    MIDGE_TRY(readOne(reader, id, *rule, scope, out));
  }
  return Status::success();
}

template <typename Sink>
void emitOptional(Sink& sink, PropertyId id, const std::optional<std::uint8_t>& value) {
  if (!value) return;
  sink.u8(static_cast<std::uint8_t>(id));
  sink.u8(*value);
}
template <typename Sink>
void emitOptional(Sink& sink, PropertyId id, const std::optional<std::uint16_t>& value) {
  if (!value) return;
  sink.u8(static_cast<std::uint8_t>(id));
  sink.u16(*value);
}
template <typename Sink>
void emitOptional(Sink& sink, PropertyId id, const std::optional<std::uint32_t>& value) {
  if (!value) return;
  sink.u8(static_cast<std::uint8_t>(id));
  sink.u32(*value);
}
template <typename Sink>
void emitOptional(Sink& sink, PropertyId id, const std::optional<std::string_view>& value) {
  if (!value) return;
  sink.u8(static_cast<std::uint8_t>(id));
  sink.utf8(*value, "string property longer than 65535 bytes");
}
template <typename Sink>
void emitOptional(Sink& sink, PropertyId id, const std::optional<Bytes>& value) {
  if (!value) return;
  sink.u8(static_cast<std::uint8_t>(id));
  sink.binary(*value, "binary property longer than 65535 bytes");
}

template <typename Sink>
void emitBody(const Properties& p, Sink& sink) {
  emitOptional(sink, PropertyId::PayloadFormatIndicator, p.payloadFormatIndicator);
  emitOptional(sink, PropertyId::MessageExpiryInterval, p.messageExpiryInterval);
  emitOptional(sink, PropertyId::ContentType, p.contentType);
  emitOptional(sink, PropertyId::ResponseTopic, p.responseTopic);
  emitOptional(sink, PropertyId::CorrelationData, p.correlationData);
  for (const std::uint32_t id : p.subscriptionIdentifiers) {
    sink.u8(static_cast<std::uint8_t>(PropertyId::SubscriptionIdentifier));
    sink.varint(id, "subscription identifier larger than 268435455");
  }
  emitOptional(sink, PropertyId::SessionExpiryInterval, p.sessionExpiryInterval);
  emitOptional(sink, PropertyId::AssignedClientIdentifier, p.assignedClientIdentifier);
  emitOptional(sink, PropertyId::ServerKeepAlive, p.serverKeepAlive);
  emitOptional(sink, PropertyId::AuthenticationMethod, p.authenticationMethod);
  emitOptional(sink, PropertyId::AuthenticationData, p.authenticationData);
  emitOptional(sink, PropertyId::RequestProblemInformation, p.requestProblemInformation);
  emitOptional(sink, PropertyId::WillDelayInterval, p.willDelayInterval);
  emitOptional(sink, PropertyId::RequestResponseInformation, p.requestResponseInformation);
  emitOptional(sink, PropertyId::ResponseInformation, p.responseInformation);
  emitOptional(sink, PropertyId::ServerReference, p.serverReference);
  emitOptional(sink, PropertyId::ReasonString, p.reasonString);
  emitOptional(sink, PropertyId::ReceiveMaximum, p.receiveMaximum);
  emitOptional(sink, PropertyId::TopicAliasMaximum, p.topicAliasMaximum);
  emitOptional(sink, PropertyId::TopicAlias, p.topicAlias);
  emitOptional(sink, PropertyId::MaximumQoS, p.maximumQoS);
  emitOptional(sink, PropertyId::RetainAvailable, p.retainAvailable);
  for (const UserProperty& pair : p.userProperties) {
    sink.u8(static_cast<std::uint8_t>(PropertyId::UserProperty));
    sink.utf8(pair.first, "User Property name longer than 65535 bytes");
    sink.utf8(pair.second, "User Property value longer than 65535 bytes");
  }
  emitOptional(sink, PropertyId::MaximumPacketSize, p.maximumPacketSize);
  emitOptional(sink, PropertyId::WildcardSubscriptionAvailable,
               p.wildcardSubscriptionAvailable);
  emitOptional(sink, PropertyId::SubscriptionIdentifierAvailable,
               p.subscriptionIdentifierAvailable);
  emitOptional(sink, PropertyId::SharedSubscriptionAvailable, p.sharedSubscriptionAvailable);
  sink.raw(p.preEncoded);
}

template <typename Sink>
void emitWithLength(const Properties& properties, Sink& sink) {
  SizeCounter counter;
  emitBody(properties, counter);
  if (!counter.ok()) sink.fail(counter.error().detail);
  if (counter.size() > kMaxVarint) sink.fail("properties longer than 268435455 bytes");
  sink.varint(static_cast<std::uint32_t>(counter.size()), "properties too long");
  emitBody(properties, sink);
}

}  // namespace

Status readProperties(Reader& reader, PropertyScope scope, Properties& out) {
  std::uint32_t length = 0;
  MIDGE_TRY(reader.varint(length, "property length truncated"));
  Bytes body;
  MIDGE_TRY(reader.take(length, body, "properties extend past the end of the packet"));
  Reader bodyReader(body);
  return readBody(bodyReader, scope, out);
}

void emitProperties(const Properties& properties, SizeCounter& sink) {
  emitWithLength(properties, sink);
}
void emitProperties(const Properties& properties, VectorWriter& sink) {
  emitWithLength(properties, sink);
}

bool propertiesEmpty(const Properties& p) noexcept {
  return !p.payloadFormatIndicator && !p.messageExpiryInterval && !p.contentType &&
         !p.responseTopic && !p.correlationData && p.subscriptionIdentifiers.empty() &&
         !p.sessionExpiryInterval && !p.assignedClientIdentifier && !p.serverKeepAlive &&
         !p.authenticationMethod && !p.authenticationData && !p.requestProblemInformation &&
         !p.willDelayInterval && !p.requestResponseInformation && !p.responseInformation &&
         !p.serverReference && !p.reasonString && !p.receiveMaximum &&
         !p.topicAliasMaximum && !p.topicAlias && !p.maximumQoS && !p.retainAvailable &&
         p.userProperties.empty() && !p.maximumPacketSize &&
         !p.wildcardSubscriptionAvailable && !p.subscriptionIdentifierAvailable &&
         !p.sharedSubscriptionAvailable && p.preEncoded.empty();
}

void encodePropertiesBody(const Properties& properties, std::vector<std::uint8_t>& out) {
  VectorWriter writer(out);
  emitBody(properties, writer);
}

Status decodePropertiesBody(Bytes body, PacketType type, Properties& out) {
  out = Properties{};
  Reader reader(body);
  return readBody(reader, scopeOf(type), out);
}

Status decodeWillPropertiesBody(Bytes body, Properties& out) {
  out = Properties{};
  Reader reader(body);
  return readBody(reader, PropertyScope::Will, out);
}

}  // namespace midge::codec
