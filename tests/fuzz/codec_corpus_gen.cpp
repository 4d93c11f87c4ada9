// SPDX-License-Identifier: Apache-2.0
// Writes the fuzz_codec seed corpus: valid packets of every type for every version, in
// the fuzzer's input layout (version selector, chunk size, stream). Usage:
//   codec_corpus_gen <output directory>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/codec/codec.hpp"

namespace {

using namespace midge::codec;
using midge::Bytes;
using midge::ReasonCode;

const std::uint8_t kBlob[] = {0x00, 0x01, 0x7f, 0xff};

std::vector<Packet> samples(ProtocolVersion version) {
  const bool v5 = version == ProtocolVersion::V5;
  std::vector<Packet> out;

  Connect connect;
  connect.version = version;
  connect.keepAlive = 60;
  connect.clientId = "seed";
  connect.username = "u";
  connect.password = Bytes(kBlob);
  Will will;
  will.topic = "w";
  will.payload = Bytes(kBlob);
  will.qos = 1;
  if (v5) {
    will.properties.willDelayInterval = 5;
    will.properties.contentType = "text/plain";
    will.properties.correlationData = Bytes(kBlob);
    connect.properties.sessionExpiryInterval = 60;
    connect.properties.receiveMaximum = 20;
    connect.properties.maximumPacketSize = 4096;
    connect.properties.topicAliasMaximum = 4;
    connect.properties.requestProblemInformation = 1;
    connect.properties.authenticationMethod = "m";
    connect.properties.authenticationData = Bytes(kBlob);
    connect.properties.userProperties = {{"k", "v"}};
  }
  connect.will = will;
  out.push_back(connect);

  Connack connack;
  connack.sessionPresent = version != ProtocolVersion::V31;
  if (v5) {
    connack.properties.assignedClientIdentifier = "a";
    connack.properties.serverKeepAlive = 30;
    connack.properties.maximumQoS = 1;
    connack.properties.retainAvailable = 1;
    connack.properties.wildcardSubscriptionAvailable = 1;
    connack.properties.subscriptionIdentifierAvailable = 1;
    connack.properties.sharedSubscriptionAvailable = 1;
    connack.properties.responseInformation = "r";
    connack.properties.serverReference = "s";
    connack.properties.reasonString = "ok";
  }
  out.push_back(connack);

  for (std::uint8_t qos = 0; qos <= 2; ++qos) {
    Publish publish;
    publish.qos = qos;
    publish.retain = qos == 0;
    publish.topic = "a/b";
    publish.packetId = qos == 0 ? 0 : 10;
    publish.payload = Bytes(kBlob);
    if (v5) {
      publish.properties.payloadFormatIndicator = 0;
      publish.properties.messageExpiryInterval = 10;
      publish.properties.responseTopic = "reply";
      publish.properties.subscriptionIdentifiers = {1, 128};
      publish.properties.topicAlias = 1;
      publish.properties.userProperties = {{"a", "b"}};
    }
    out.push_back(publish);
  }

  for (const PacketType type :
       {PacketType::Puback, PacketType::Pubrec, PacketType::Pubrel, PacketType::Pubcomp}) {
    Ack ack;
    ack.type = type;
    ack.packetId = 10;
    if (v5) {
      ack.reason = (type == PacketType::Pubrel || type == PacketType::Pubcomp)
                       ? ReasonCode::PacketIdentifierNotFound
                       : ReasonCode::NoMatchingSubscribers;
      ack.properties.reasonString = "r";
    }
    out.push_back(ack);
  }

  Subscribe subscribe;
  subscribe.packetId = 11;
  subscribe.entries = {{"a/+", 1}, {"#", v5 ? std::uint8_t{0x2E} : std::uint8_t{2}}};
  if (v5) subscribe.properties.subscriptionIdentifiers = {7};
  out.push_back(subscribe);

  Suback suback;
  suback.packetId = 11;
  suback.reasonCodes = {1, 2};
  if (v5) suback.reasonCodes.push_back(0x97);
  out.push_back(suback);

  Unsubscribe unsubscribe;
  unsubscribe.packetId = 12;
  unsubscribe.filters = {"a/+", "#"};
  out.push_back(unsubscribe);

  Unsuback unsuback;
  unsuback.packetId = 12;
  if (v5) unsuback.reasonCodes = {0x00, 0x11};
  out.push_back(unsuback);

  out.push_back(Pingreq{});
  out.push_back(Pingresp{});
  Disconnect disconnect;
  if (v5) {
    disconnect.reason = ReasonCode::DisconnectWithWill;
    disconnect.properties.sessionExpiryInterval = 0;
  }
  out.push_back(disconnect);
  if (v5) {
    Auth auth;
    auth.reason = ReasonCode::ContinueAuthentication;
    auth.properties.authenticationMethod = "m";
    auth.properties.authenticationData = Bytes(kBlob);
    out.push_back(auth);
  }
  return out;
}

bool writeFile(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const ProtocolVersion versions[] = {ProtocolVersion::V31, ProtocolVersion::V311,
                                      ProtocolVersion::V5};
  int written = 0;
  for (std::uint8_t selector = 0; selector < 3; ++selector) {
    const ProtocolVersion version = versions[selector];
    std::vector<std::uint8_t> stream = {selector, 3};  // the whole session in 3-byte chunks
    const std::vector<Packet> packets = samples(version);
    for (std::size_t i = 0; i < packets.size(); ++i) {
      std::vector<std::uint8_t> one = {selector, 0};
      if (!encodePacket(packets[i], version, one).ok() ||
          !encodePacket(packets[i], version, stream).ok()) {
        std::fprintf(stderr, "encoding seed %zu for version %d failed\n", i, selector);
        return 1;
      }
      const std::string name = dir + "/v" + std::to_string(static_cast<int>(version)) + "-" +
                               packetTypeName(packetTypeOf(packets[i])) + "-" +
                               std::to_string(i);
      if (!writeFile(name, one)) return 1;
      ++written;
    }
    if (!writeFile(dir + "/v" + std::to_string(static_cast<int>(version)) + "-stream", stream)) {
      return 1;
    }
    ++written;
  }
  std::printf("%d seeds written to %s\n", written, dir.c_str());
  return 0;
}
