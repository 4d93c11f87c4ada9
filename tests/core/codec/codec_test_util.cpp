// SPDX-License-Identifier: Apache-2.0
#include "tests/core/codec/codec_test_util.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace midge::codec::test {

ByteVector hex(std::string_view text) {
  ByteVector out;
  int pending = -1;
  for (const char c : text) {
    int value;
    if (c >= '0' && c <= '9') value = c - '0';
    else if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
    else if (c == ' ' || c == '\n') continue;
    else throw std::invalid_argument("bad hex digit");
    if (pending < 0) {
      pending = value;
    } else {
      out.push_back(static_cast<std::uint8_t>(pending * 16 + value));
      pending = -1;
    }
  }
  if (pending >= 0) throw std::invalid_argument("odd number of hex digits");
  return out;
}

std::string toHex(Bytes bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

ByteVector packet(std::uint8_t header, const ByteVector& body) {
  std::uint8_t length[4];
  const std::size_t n = encodeVarint(static_cast<std::uint32_t>(body.size()), length);
  ByteVector out(1 + n + body.size());
  out[0] = header;
  std::copy(length, length + n, out.begin() + 1);
  std::copy(body.begin(), body.end(), out.begin() + 1 + static_cast<std::ptrdiff_t>(n));
  return out;
}

ByteVector packet(std::uint8_t header, std::string_view bodyHex) {
  return packet(header, hex(bodyHex));
}

ByteVector concat(std::initializer_list<ByteVector> parts) {
  ByteVector out;
  for (const ByteVector& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

ByteVector props(std::string_view bodyHex) {
  const ByteVector body = hex(bodyHex);
  std::uint8_t length[4];
  const std::size_t n = encodeVarint(static_cast<std::uint32_t>(body.size()), length);
  ByteVector out(length, length + n);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Frame frameOf(const ByteVector& wire) {
  const FixedHeader header = parseFixedHeader(wire.data(), wire.size());
  if (header.state != FixedHeader::State::Complete ||
      header.headerSize + header.remainingLength != wire.size()) {
    throw std::invalid_argument("test bytes are not exactly one frame");
  }
  Frame frame;
  frame.header = wire[0];
  frame.body = Bytes(wire.data() + header.headerSize, header.remainingLength);
  frame.wireSize = wire.size();
  return frame;
}

Result<Packet> decodeWire(const ByteVector& wire, ProtocolVersion version) {
  return decodePacket(frameOf(wire), version);
}

namespace {

template <typename T>
void field(std::ostringstream& out, const char* name, const std::optional<T>& value) {
  if (value) out << name << '=' << +*value << ' ';
}
void field(std::ostringstream& out, const char* name,
           const std::optional<std::string_view>& value) {
  if (value) out << name << "=\"" << *value << "\" ";
}
void field(std::ostringstream& out, const char* name, const std::optional<Bytes>& value) {
  if (value) out << name << "=[" << toHex(*value) << "] ";
}

struct Describe {
  std::ostringstream& out;
  void operator()(const Connect& p) const {
    out << "CONNECT v" << +static_cast<int>(p.version) << " clean=" << p.cleanStart
        << " keepAlive=" << p.keepAlive << " clientId=\"" << p.clientId << "\" ";
    if (p.bridge) out << "bridge=1 ";
    if (p.will) {
      out << "will{topic=\"" << p.will->topic << "\" payload=[" << toHex(p.will->payload)
          << "] qos=" << +p.will->qos << " retain=" << p.will->retain << " props{"
          << describe(p.will->properties) << "}} ";
    }
    if (p.username) out << "username=\"" << *p.username << "\" ";
    if (p.password) out << "password=[" << toHex(*p.password) << "] ";
    out << "props{" << describe(p.properties) << "}";
  }
  void operator()(const Connack& p) const {
    out << "CONNACK sp=" << p.sessionPresent << " rc=" << +p.reasonCode << " props{"
        << describe(p.properties) << "}";
  }
  void operator()(const Publish& p) const {
    out << "PUBLISH dup=" << p.dup << " qos=" << +p.qos << " retain=" << p.retain
        << " topic=\"" << p.topic << "\" id=" << p.packetId << " props{"
        << describe(p.properties) << "} payload=[" << toHex(p.payload) << "]";
  }
  void operator()(const Ack& p) const {
    out << packetTypeName(p.type) << " id=" << p.packetId
        << " reason=" << +static_cast<int>(p.reason) << " props{" << describe(p.properties)
        << "}";
  }
  void operator()(const Subscribe& p) const {
    out << "SUBSCRIBE id=" << p.packetId << " props{" << describe(p.properties) << "}";
    for (const auto& e : p.entries) out << " \"" << e.filter << "\"/" << +e.options;
  }
  void operator()(const Suback& p) const {
    out << "SUBACK id=" << p.packetId << " props{" << describe(p.properties) << "} codes=["
        << toHex(Bytes(p.reasonCodes.data(), p.reasonCodes.size())) << "]";
  }
  void operator()(const Unsubscribe& p) const {
    out << "UNSUBSCRIBE id=" << p.packetId << " props{" << describe(p.properties) << "}";
    for (const auto& f : p.filters) out << " \"" << f << "\"";
  }
  void operator()(const Unsuback& p) const {
    out << "UNSUBACK id=" << p.packetId << " props{" << describe(p.properties) << "} codes=["
        << toHex(Bytes(p.reasonCodes.data(), p.reasonCodes.size())) << "]";
  }
  void operator()(const Pingreq&) const { out << "PINGREQ"; }
  void operator()(const Pingresp&) const { out << "PINGRESP"; }
  void operator()(const Disconnect& p) const {
    out << "DISCONNECT reason=" << +static_cast<int>(p.reason) << " props{"
        << describe(p.properties) << "}";
  }
  void operator()(const Auth& p) const {
    out << "AUTH reason=" << +static_cast<int>(p.reason) << " props{"
        << describe(p.properties) << "}";
  }
};

}  // namespace

std::string describe(const Properties& p) {
  std::ostringstream out;
  field(out, "payloadFormat", p.payloadFormatIndicator);
  field(out, "messageExpiry", p.messageExpiryInterval);
  field(out, "contentType", p.contentType);
  field(out, "responseTopic", p.responseTopic);
  field(out, "correlationData", p.correlationData);
  for (const auto id : p.subscriptionIdentifiers) out << "subId=" << id << ' ';
  field(out, "sessionExpiry", p.sessionExpiryInterval);
  field(out, "assignedClientId", p.assignedClientIdentifier);
  field(out, "serverKeepAlive", p.serverKeepAlive);
  field(out, "authMethod", p.authenticationMethod);
  field(out, "authData", p.authenticationData);
  field(out, "requestProblem", p.requestProblemInformation);
  field(out, "willDelay", p.willDelayInterval);
  field(out, "requestResponse", p.requestResponseInformation);
  field(out, "responseInfo", p.responseInformation);
  field(out, "serverReference", p.serverReference);
  field(out, "reasonString", p.reasonString);
  field(out, "receiveMaximum", p.receiveMaximum);
  field(out, "topicAliasMaximum", p.topicAliasMaximum);
  field(out, "topicAlias", p.topicAlias);
  field(out, "maximumQoS", p.maximumQoS);
  field(out, "retainAvailable", p.retainAvailable);
  for (const auto& up : p.userProperties) out << "user(" << up.first << '=' << up.second << ") ";
  field(out, "maximumPacketSize", p.maximumPacketSize);
  field(out, "wildcardAvailable", p.wildcardSubscriptionAvailable);
  field(out, "subIdAvailable", p.subscriptionIdentifierAvailable);
  field(out, "sharedAvailable", p.sharedSubscriptionAvailable);
  if (!p.preEncoded.empty()) out << "preEncoded=[" << toHex(p.preEncoded) << "] ";
  return out.str();
}

std::string describe(const Packet& packet) {
  std::ostringstream out;
  std::visit(Describe{out}, packet);
  return out.str();
}

}  // namespace midge::codec::test
