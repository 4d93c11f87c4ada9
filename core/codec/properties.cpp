// SPDX-License-Identifier: Apache-2.0
#include "core/codec/properties.hpp"

#include <array>
#include <cstddef>

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

// The wire type of a property (spec 2.2.2.2). Flag is a byte that may only be 0 or 1
// (payload format, request problem/response information, maximum QoS, "... Available").
// The two list kinds may repeat: subscription identifiers (one per matching subscription
// in a forwarded PUBLISH) and user properties.
enum class Kind : std::uint8_t { Flag, U16, U32, String, Binary, VarintList, UserPairs };

template <typename T>
using Field = T Properties::*;

// One row per MQTT 5 property: everything the decoder, the encoder and propertiesEmpty
// need. Exactly one of the field pointers is set, the one of the row's kind.
struct Spec {
  PropertyId id;
  Kind kind;
  std::uint32_t allowed;  // scopes where it may appear (spec table 2-4)
  bool zeroIsError;       // the spec rules out 0 (receive maximum, topic alias, ...)
  const char* notAllowed;
  const char* duplicate;
  const char* truncated;
  const char* invalid;
  Field<std::optional<std::uint8_t>> flag = nullptr;
  Field<std::optional<std::uint16_t>> u16 = nullptr;
  Field<std::optional<std::uint32_t>> u32 = nullptr;
  Field<std::optional<std::string_view>> string = nullptr;
  Field<std::optional<Bytes>> binary = nullptr;
  Field<std::vector<std::uint32_t>> varints = nullptr;
  Field<std::vector<UserProperty>> pairs = nullptr;
};

// The log texts are string literals so that Error::detail stays a static string.
#define MIDGE_PROPERTY(ID, KIND, MEMBER, ALLOWED, ZERO_IS_ERROR, NAME, FIELD)              \
  [] {                                                                                   \
    Spec spec{PropertyId::ID,                                                            \
              Kind::KIND,                                                                \
              ALLOWED,                                                                   \
              ZERO_IS_ERROR,                                                             \
              NAME " property not allowed in this packet",                               \
              "duplicate " NAME " property",                                             \
              NAME " property truncated",                                                \
              NAME " property has an invalid value"};                                    \
    spec.MEMBER = &Properties::FIELD;                                                    \
    return spec;                                                                         \
  }()

// In identifier order, which is also the order the encoder writes them in.
constexpr std::array kSpecs{
    MIDGE_PROPERTY(PayloadFormatIndicator, Flag, flag, kPublish | kWill, false,
                   "Payload Format Indicator", payloadFormatIndicator),
    MIDGE_PROPERTY(MessageExpiryInterval, U32, u32, kPublish | kWill, false,
                   "Message Expiry Interval", messageExpiryInterval),
    MIDGE_PROPERTY(ContentType, String, string, kPublish | kWill, false, "Content Type",
                   contentType),
    MIDGE_PROPERTY(ResponseTopic, String, string, kPublish | kWill, false, "Response Topic",
                   responseTopic),
    MIDGE_PROPERTY(CorrelationData, Binary, binary, kPublish | kWill, false,
                   "Correlation Data", correlationData),
    MIDGE_PROPERTY(SubscriptionIdentifier, VarintList, varints, kPublish | kSubscribe, true,
                   "Subscription Identifier", subscriptionIdentifiers),
    MIDGE_PROPERTY(SessionExpiryInterval, U32, u32, kConnect | kConnack | kDisconnect, false,
                   "Session Expiry Interval", sessionExpiryInterval),
    MIDGE_PROPERTY(AssignedClientIdentifier, String, string, kConnack, false,
                   "Assigned Client Identifier", assignedClientIdentifier),
    MIDGE_PROPERTY(ServerKeepAlive, U16, u16, kConnack, false, "Server Keep Alive",
                   serverKeepAlive),
    MIDGE_PROPERTY(AuthenticationMethod, String, string, kConnect | kConnack | kAuth, false,
                   "Authentication Method", authenticationMethod),
    MIDGE_PROPERTY(AuthenticationData, Binary, binary, kConnect | kConnack | kAuth, false,
                   "Authentication Data", authenticationData),
    MIDGE_PROPERTY(RequestProblemInformation, Flag, flag, kConnect, false,
                   "Request Problem Information", requestProblemInformation),
    MIDGE_PROPERTY(WillDelayInterval, U32, u32, kWill, false, "Will Delay Interval",
                   willDelayInterval),
    MIDGE_PROPERTY(RequestResponseInformation, Flag, flag, kConnect, false,
                   "Request Response Information", requestResponseInformation),
    MIDGE_PROPERTY(ResponseInformation, String, string, kConnack, false,
                   "Response Information", responseInformation),
    MIDGE_PROPERTY(ServerReference, String, string, kConnack | kDisconnect, false,
                   "Server Reference", serverReference),
    MIDGE_PROPERTY(ReasonString, String, string,
                   kConnack | kPubAcks | kSuback | kUnsuback | kDisconnect | kAuth, false,
                   "Reason String", reasonString),
    MIDGE_PROPERTY(ReceiveMaximum, U16, u16, kConnect | kConnack, true, "Receive Maximum",
                   receiveMaximum),
    MIDGE_PROPERTY(TopicAliasMaximum, U16, u16, kConnect | kConnack, false,
                   "Topic Alias Maximum", topicAliasMaximum),
    MIDGE_PROPERTY(TopicAlias, U16, u16, kPublish, true, "Topic Alias", topicAlias),
    MIDGE_PROPERTY(MaximumQoS, Flag, flag, kConnack, false, "Maximum QoS", maximumQoS),
    MIDGE_PROPERTY(RetainAvailable, Flag, flag, kConnack, false, "Retain Available",
                   retainAvailable),
    MIDGE_PROPERTY(UserProperty, UserPairs, pairs,
                   kConnect | kConnack | kPublish | kWill | kPubAcks | kSubscribe | kSuback |
                       kUnsubscribe | kUnsuback | kDisconnect | kAuth,
                   false, "User Property", userProperties),
    MIDGE_PROPERTY(MaximumPacketSize, U32, u32, kConnect | kConnack, true,
                   "Maximum Packet Size", maximumPacketSize),
    MIDGE_PROPERTY(WildcardSubscriptionAvailable, Flag, flag, kConnack, false,
                   "Wildcard Subscription Available", wildcardSubscriptionAvailable),
    MIDGE_PROPERTY(SubscriptionIdentifierAvailable, Flag, flag, kConnack, false,
                   "Subscription Identifier Available", subscriptionIdentifierAvailable),
    MIDGE_PROPERTY(SharedSubscriptionAvailable, Flag, flag, kConnack, false,
                   "Shared Subscription Available", sharedSubscriptionAvailable),
};

#undef MIDGE_PROPERTY

// Every identifier MQTT 5 defines fits in one byte below 0x80.
constexpr std::size_t kIdLimit = 0x80;
constexpr std::uint8_t kNoSpec = 0xFF;

constexpr std::array<std::uint8_t, kIdLimit> buildIndex() {
  std::array<std::uint8_t, kIdLimit> index{};
  for (auto& slot : index) slot = kNoSpec;
  for (std::size_t row = 0; row < kSpecs.size(); ++row) {
    index[static_cast<std::uint8_t>(kSpecs[row].id)] = static_cast<std::uint8_t>(row);
  }
  return index;
}
constexpr std::array<std::uint8_t, kIdLimit> kIndex = buildIndex();

constexpr bool inIdentifierOrder() {
  for (std::size_t row = 1; row < kSpecs.size(); ++row) {
    if (kSpecs[row - 1].id >= kSpecs[row].id) return false;
  }
  return true;
}
static_assert(inIdentifierOrder(), "the encoder writes properties in identifier order");

const Spec* specFor(std::uint32_t id) noexcept {
  if (id >= kIdLimit || kIndex[id] == kNoSpec) return nullptr;
  return &kSpecs[kIndex[id]];
}

template <typename T, typename ReadFn>
Status readSingle(const Spec& spec, std::optional<T>& field, ReadFn read) {
  if (field) return protocolError(spec.duplicate);
  T value{};
  MIDGE_TRY(read(value));
  field = value;
  return Status::success();
}

Status readUserPair(Reader& reader, const Spec& spec, Properties& out) {
  UserProperty pair;
  MIDGE_TRY(reader.utf8(pair.first, spec.truncated, "User Property name is not valid UTF-8"));
  MIDGE_TRY(reader.utf8(pair.second, spec.truncated, "User Property value is not valid UTF-8"));
  (out.*spec.pairs).push_back(pair);
  return Status::success();
}

Status readVarintItem(Reader& reader, const Spec& spec, PropertyScope scope,
                      Properties& out) {
  std::vector<std::uint32_t>& list = out.*spec.varints;
  // A PUBLISH forwarded to a subscriber carries one per matching subscription; a
  // SUBSCRIBE names at most one.
  if (scope != PropertyScope::Publish && !list.empty()) return protocolError(spec.duplicate);
  std::uint32_t value = 0;
  MIDGE_TRY(reader.varint(value, spec.truncated));
  if (spec.zeroIsError && value == 0) return protocolError(spec.invalid);
  list.push_back(value);
  return Status::success();
}

Status readOne(Reader& reader, const Spec& spec, PropertyScope scope, Properties& out) {
  const auto nonZero = [&spec](auto value) -> Status {
    if (spec.zeroIsError && value == 0) return protocolError(spec.invalid);
    return Status::success();
  };
  switch (spec.kind) {
    case Kind::Flag:
      return readSingle(spec, out.*spec.flag, [&](std::uint8_t& value) -> Status {
        MIDGE_TRY(reader.u8(value, spec.truncated));
        return value > 1 ? Status(protocolError(spec.invalid)) : Status::success();
      });
    case Kind::U16:
      return readSingle(spec, out.*spec.u16, [&](std::uint16_t& value) -> Status {
        MIDGE_TRY(reader.u16(value, spec.truncated));
        return nonZero(value);
      });
    case Kind::U32:
      return readSingle(spec, out.*spec.u32, [&](std::uint32_t& value) -> Status {
        MIDGE_TRY(reader.u32(value, spec.truncated));
        return nonZero(value);
      });
    case Kind::String:
      return readSingle(spec, out.*spec.string, [&](std::string_view& value) {
        return reader.utf8(value, spec.truncated, spec.invalid);
      });
    case Kind::Binary:
      return readSingle(spec, out.*spec.binary,
                        [&](Bytes& value) { return reader.binary(value, spec.truncated); });
    case Kind::VarintList: return readVarintItem(reader, spec, scope, out);
    case Kind::UserPairs: return readUserPair(reader, spec, out);
  }
  return malformed("unknown property identifier");
}

Status readBody(Reader& reader, PropertyScope scope, Properties& out) {
  const std::uint32_t scopeBit = bit(scope);
  while (!reader.atEnd()) {
    std::uint32_t id = 0;
    MIDGE_TRY(reader.varint(id, "property identifier truncated"));
    const Spec* spec = specFor(id);
    if (spec == nullptr) return malformed("unknown property identifier");
    if ((spec->allowed & scopeBit) == 0) return malformed(spec->notAllowed);
    MIDGE_TRY(readOne(reader, *spec, scope, out));
  }
  return Status::success();
}

bool present(const Spec& spec, const Properties& p) noexcept {
  switch (spec.kind) {
    case Kind::Flag: return (p.*spec.flag).has_value();
    case Kind::U16: return (p.*spec.u16).has_value();
    case Kind::U32: return (p.*spec.u32).has_value();
    case Kind::String: return (p.*spec.string).has_value();
    case Kind::Binary: return (p.*spec.binary).has_value();
    case Kind::VarintList: return !(p.*spec.varints).empty();
    case Kind::UserPairs: return !(p.*spec.pairs).empty();
  }
  return false;
}

template <typename Sink>
void emitOne(const Spec& spec, const Properties& p, Sink& sink) {
  const auto id = static_cast<std::uint8_t>(spec.id);
  switch (spec.kind) {
    case Kind::Flag:
      sink.u8(id);
      sink.u8(*(p.*spec.flag));
      return;
    case Kind::U16:
      sink.u8(id);
      sink.u16(*(p.*spec.u16));
      return;
    case Kind::U32:
      sink.u8(id);
      sink.u32(*(p.*spec.u32));
      return;
    case Kind::String:
      sink.u8(id);
      sink.utf8(*(p.*spec.string), "string property longer than 65535 bytes");
      return;
    case Kind::Binary:
      sink.u8(id);
      sink.binary(*(p.*spec.binary), "binary property longer than 65535 bytes");
      return;
    case Kind::VarintList:
      for (const std::uint32_t value : p.*spec.varints) {
        sink.u8(id);
        sink.varint(value, "subscription identifier larger than 268435455");
      }
      return;
    case Kind::UserPairs:
      for (const UserProperty& pair : p.*spec.pairs) {
        sink.u8(id);
        sink.utf8(pair.first, "User Property name longer than 65535 bytes");
        sink.utf8(pair.second, "User Property value longer than 65535 bytes");
      }
      return;
  }
}

template <typename Sink>
void emitBody(const Properties& p, Sink& sink) {
  for (const Spec& spec : kSpecs) {
    if (present(spec, p)) emitOne(spec, p, sink);
  }
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
  if (!p.preEncoded.empty()) return false;
  for (const Spec& spec : kSpecs) {
    if (present(spec, p)) return false;
  }
  return true;
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
