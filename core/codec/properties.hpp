// SPDX-License-Identifier: Apache-2.0
// MQTT 5 properties (spec 2.2.2). Decoded values are views into the frame.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/codec/reader.hpp"
#include "core/codec/types.hpp"
#include "core/codec/writer.hpp"
#include "core/util/result.hpp"
#include "core/util/span.hpp"

namespace midge::codec {

// Property identifiers (spec table 2-4).
enum class PropertyId : std::uint8_t {
  PayloadFormatIndicator = 0x01,
  MessageExpiryInterval = 0x02,
  ContentType = 0x03,
  ResponseTopic = 0x08,
  CorrelationData = 0x09,
  SubscriptionIdentifier = 0x0B,
  SessionExpiryInterval = 0x11,
  AssignedClientIdentifier = 0x12,
  ServerKeepAlive = 0x13,
  AuthenticationMethod = 0x15,
  AuthenticationData = 0x16,
  RequestProblemInformation = 0x17,
  WillDelayInterval = 0x18,
  RequestResponseInformation = 0x19,
  ResponseInformation = 0x1A,
  ServerReference = 0x1C,
  ReasonString = 0x1F,
  ReceiveMaximum = 0x21,
  TopicAliasMaximum = 0x22,
  TopicAlias = 0x23,
  MaximumQoS = 0x24,
  RetainAvailable = 0x25,
  UserProperty = 0x26,
  MaximumPacketSize = 0x27,
  WildcardSubscriptionAvailable = 0x28,
  SubscriptionIdentifierAvailable = 0x29,
  SharedSubscriptionAvailable = 0x2A,
};

using UserProperty = std::pair<std::string_view, std::string_view>;

// Every MQTT 5 property; views into the frame. Absent == nullopt / empty.
struct Properties {
  std::optional<std::uint8_t> payloadFormatIndicator;
  std::optional<std::uint32_t> messageExpiryInterval;
  std::optional<std::string_view> contentType;
  std::optional<std::string_view> responseTopic;
  std::optional<Bytes> correlationData;
  std::vector<std::uint32_t> subscriptionIdentifiers;  // PUBLISH may carry several
  std::optional<std::uint32_t> sessionExpiryInterval;
  std::optional<std::string_view> assignedClientIdentifier;
  std::optional<std::uint16_t> serverKeepAlive;
  std::optional<std::string_view> authenticationMethod;
  std::optional<Bytes> authenticationData;
  std::optional<std::uint8_t> requestProblemInformation;
  std::optional<std::uint32_t> willDelayInterval;
  std::optional<std::uint8_t> requestResponseInformation;
  std::optional<std::string_view> responseInformation;
  std::optional<std::string_view> serverReference;
  std::optional<std::string_view> reasonString;
  std::optional<std::uint16_t> receiveMaximum;
  std::optional<std::uint16_t> topicAliasMaximum;
  std::optional<std::uint16_t> topicAlias;
  std::optional<std::uint8_t> maximumQoS;
  std::optional<std::uint8_t> retainAvailable;
  std::vector<UserProperty> userProperties;  // in wire order
  std::optional<std::uint32_t> maximumPacketSize;
  std::optional<std::uint8_t> wildcardSubscriptionAvailable;
  std::optional<std::uint8_t> subscriptionIdentifierAvailable;
  std::optional<std::uint8_t> sharedSubscriptionAvailable;
  // Already-encoded properties appended verbatim after the fields above when encoding
  // (lets the engine store a message's pass-through properties once, encoded). Never set
  // by the decoder.
  Bytes preEncoded;
};

// Appends the encoded properties (WITHOUT the length prefix) to out. Fields are written in
// identifier order, user properties in their vector order, then preEncoded.
void encodePropertiesBody(const Properties& properties, std::vector<std::uint8_t>& out);

// Decodes a properties body (no length prefix) as found in a message stored by the engine,
// checking them against the packet type's allowed set. Clears out first.
Status decodePropertiesBody(Bytes body, PacketType type, Properties& out);
// The same for a CONNECT's Will Properties, which have their own allowed set.
Status decodeWillPropertiesBody(Bytes body, Properties& out);

// Where a property list sits: a packet type, or the Will Properties of a CONNECT.
enum class PropertyScope : std::uint8_t {
  Connect = 1,
  Connack,
  Publish,
  Puback,
  Pubrec,
  Pubrel,
  Pubcomp,
  Subscribe,
  Suback,
  Unsubscribe,
  Unsuback,
  Pingreq,
  Pingresp,
  Disconnect,
  Auth,
  Will,
};

constexpr PropertyScope scopeOf(PacketType type) noexcept {
  return static_cast<PropertyScope>(type);
}

// --- building blocks for the packet decoders and encoders ---

// Reads the Property Length and the properties that follow, into out (which must be
// empty). Errors: Malformed for truncation, an unknown identifier, or an identifier not
// allowed in this scope; ProtocolError for a forbidden duplicate or a value the spec rules
// out (receive maximum 0, topic alias 0, subscription identifier 0, flags other than 0/1...).
Status readProperties(Reader& reader, PropertyScope scope, Properties& out);

// Emits the Property Length and the properties.
void emitProperties(const Properties& properties, SizeCounter& sink);
void emitProperties(const Properties& properties, VectorWriter& sink);

// True when nothing would be encoded (lets v5 acks use their short forms).
bool propertiesEmpty(const Properties& properties) noexcept;

}  // namespace midge::codec
