// SPDX-License-Identifier: Apache-2.0
// Writes the fuzz_engine seed corpus: short scripts in the language of engine_ops.hpp, one
// per feature area (QoS flows, restarts, enhanced authentication, wills, store failures,
// shared subscriptions, topic aliases, congestion, retained messages, takeover, $SYS...),
// so the fuzzer starts from deep states instead of having to discover a CONNECT. Usage:
//   engine_corpus_gen <output directory>
// Argument bytes follow the templates in fuzz_engine.cpp; the table indexes used below are
// named after the entries they select there.
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include "tests/fuzz/engine_ops.hpp"

namespace {

using namespace midge::fuzz;

// Table indexes in fuzz_engine.cpp.
enum Version : std::uint8_t { V31 = 0, V311 = 1, V5 = 2 };
enum ClientId : std::uint8_t { IdA = 0, IdB = 1, IdC = 2, IdD = 3, IdEmpty = 4, IdBanned = 5 };
enum Topic : std::uint8_t { TopicAB = 0, TopicABC = 1, TopicA = 2, TopicDeny = 3, TopicSecret = 4,
                            TopicSys = 5, TopicEmpty = 7 };
enum Filter : std::uint8_t { FilterAB = 0, FilterAPlus = 1, FilterHash = 2, FilterAHash = 4,
                             FilterShared = 5, FilterSharedHash = 6, FilterSys = 7,
                             FilterDeny = 8, FilterSecret = 9, FilterBad = 10 };
enum Expiry : std::uint8_t { ExpiryNone = 0, Expiry0 = 1, Expiry10 = 3, Expiry60 = 4,
                             ExpiryNever = 6 };
enum Keep : std::uint8_t { Keep0 = 0, Keep1 = 1, Keep60 = 3 };
enum TickIndex : std::uint8_t { Tick1s = 1, Tick2s = 3, Tick5s = 5, Tick10s = 7, Tick31s = 9,
                                Tick61s = 11, Tick3601s = 14 };
enum AckType : std::uint8_t { Puback = 0, Pubrec = 1, Pubrel = 2, Pubcomp = 3 };
constexpr std::uint8_t kCandidate = 0x80;  // packet id selector: the first plausible id
constexpr std::uint8_t kFresh = 0;         // packet id selector: a fresh id

struct ConnectSpec {
  std::uint8_t version = V5;
  bool clean = true;
  std::uint8_t clientId = IdA;
  std::uint8_t keepAlive = Keep60;
  bool will = false;
  std::uint8_t willQos = 0;
  bool willRetain = false;
  std::uint8_t willTopic = TopicAB;
  std::uint8_t willPayload = 2;
  bool username = false;
  std::uint8_t user = 0;  // u, bad, admin, guest
  bool password = false;
  // v5
  std::uint8_t expiry = ExpiryNone;
  std::uint8_t receiveMaximum = 0;  // none, 1, 2, 65535
  std::uint8_t maxPacketSize = 0;   // none, 24, 64, 512
  bool topicAliases = false;
  std::uint8_t auth = 0;            // none, "m", "m"+"ok", "x"
  std::uint8_t willDelay = 0;       // none, 0, 1, 5, 30, 120, 2, 3600
};

class Script {
 public:
  Script(std::uint8_t config0, std::uint8_t config1) : bytes_{config0, config1} {}

  Script& op(Op op, unsigned slot, std::initializer_list<std::uint8_t> args = {},
             bool variant = false) {
    bytes_.push_back(opByte(op, slot, variant));
    bytes_.insert(bytes_.end(), args);
    return *this;
  }
  Script& open(unsigned slot, std::uint8_t peer = 0) { return op(Op::Open, slot, {peer}); }
  Script& connect(unsigned slot, const ConnectSpec& c) {
    bytes_.push_back(opByte(Op::Connect, slot));
    bytes_.push_back(static_cast<std::uint8_t>(c.version | (c.clean ? 0x04 : 0) |
                                               (c.will ? 0x08 : 0) | (c.willQos << 4) |
                                               (c.willRetain ? 0x40 : 0) |
                                               (c.username ? 0x80 : 0)));
    bytes_.push_back(static_cast<std::uint8_t>(c.clientId | (c.keepAlive << 3) |
                                               (c.password ? 0x20 : 0) | (c.user << 6)));
    if (c.version == V5) {
      bytes_.push_back(static_cast<std::uint8_t>(c.expiry | (c.receiveMaximum << 3) |
                                                 (c.maxPacketSize << 5) |
                                                 (c.topicAliases ? 0x80 : 0)));
      bytes_.push_back(static_cast<std::uint8_t>(c.auth | (c.willDelay << 2)));
    }
    if (c.will) bytes_.push_back(static_cast<std::uint8_t>(c.willTopic | (c.willPayload << 4)));
    return *this;
  }
  Script& subscribe(unsigned slot, std::uint8_t filter, std::uint8_t qos,
                    std::uint8_t retainHandling = 0, std::uint8_t identifierIndex = 0xFF) {
    std::uint8_t p0 = static_cast<std::uint8_t>(retainHandling << 2);
    if (identifierIndex != 0xFF) p0 = static_cast<std::uint8_t>(p0 | 0x10 | (identifierIndex << 5));
    return op(Op::Subscribe, slot,
              {p0, kFresh, static_cast<std::uint8_t>(filter | (qos << 4))});
  }
  Script& unsubscribe(unsigned slot, std::uint8_t filter) {
    return op(Op::Unsubscribe, slot, {0, kFresh, filter});
  }
  // p2: payload size index (0..7) plus property bits; v5 with property bits 5-7 needs p3.
  Script& publish(unsigned slot, std::uint8_t topic, std::uint8_t qos, bool retain = false,
                  std::uint8_t p2 = 2, int p3 = -1, std::uint8_t idSelector = kFresh) {
    bytes_.push_back(opByte(Op::Publish, slot));
    bytes_.push_back(static_cast<std::uint8_t>(topic | (qos << 4) | (retain ? 0x40 : 0)));
    bytes_.push_back(idSelector);
    bytes_.push_back(p2);
    if (p3 >= 0) bytes_.push_back(static_cast<std::uint8_t>(p3));
    return *this;
  }
  Script& ack(unsigned slot, std::uint8_t type, std::uint8_t reasonIndex = 0) {
    return op(Op::Ack, slot, {static_cast<std::uint8_t>(type | (reasonIndex << 2)), kCandidate});
  }
  Script& ping(unsigned slot) { return op(Op::Ping, slot); }
  Script& disconnect(unsigned slot, std::uint8_t arg = 0) { return op(Op::Disconnect, slot, {arg}); }
  Script& close(unsigned slot) { return op(Op::Close, slot); }
  Script& tick(std::uint8_t index, bool steps = false) {
    return op(Op::Tick, 0, {index}, steps);
  }
  Script& restart(bool graceful = false, std::uint8_t downtime = 0) {
    return op(Op::Restart, 0, {static_cast<std::uint8_t>((graceful ? 1 : 0) | (downtime << 1))});
  }
  Script& misc(unsigned slot, MiscOp what) {
    return op(Op::Misc, slot, {static_cast<std::uint8_t>(what)});
  }
  Script& raw(unsigned slot, std::initializer_list<std::uint8_t> bytes) {
    bytes_.push_back(opByte(Op::Raw, slot));
    bytes_.push_back(static_cast<std::uint8_t>(bytes.size()));
    bytes_.insert(bytes_.end(), bytes);
    return *this;
  }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

ConnectSpec durable(std::uint8_t version, std::uint8_t clientId) {
  ConnectSpec c;
  c.version = version;
  c.clientId = clientId;
  c.clean = false;
  c.expiry = Expiry60;
  return c;
}

ConnectSpec plain(std::uint8_t version, std::uint8_t clientId) {
  ConnectSpec c;
  c.version = version;
  c.clientId = clientId;
  return c;
}

std::vector<std::pair<std::string, Script>> seeds() {
  std::vector<std::pair<std::string, Script>> out;

  for (std::uint8_t version : {V31, V311, V5}) {
    const std::string v = version == V31 ? "v31" : version == V311 ? "v311" : "v5";
    Script s(0, 0);
    s.open(0).connect(0, durable(version, IdA)).subscribe(0, FilterAHash, 2)
        .open(1).connect(1, plain(version, IdB))
        .publish(1, TopicAB, 1).publish(1, TopicAB, 2).ack(1, Pubrel)
        .ack(0, Puback).ack(0, Pubrec).ack(0, Pubcomp).ping(0).ping(1)
        .unsubscribe(0, FilterAHash).disconnect(1).disconnect(0);
    out.emplace_back(v + "-qos-flows", s);

    Script r(0, 0);
    r.connect(0, durable(version, IdA)).subscribe(0, FilterAB, 2).disconnect(0)
        .connect(1, plain(version, IdB)).publish(1, TopicAB, 1).publish(1, TopicAB, 2)
        .ack(1, Pubrel).restart(false, 2)
        .connect(0, durable(version, IdA)).ack(0, Pubrec).restart(false, 0)
        .connect(0, durable(version, IdA)).ack(0, Puback).ack(0, Pubcomp).tick(Tick61s);
    out.emplace_back(v + "-restart-inflight", r);

    Script t(0, 0);
    t.connect(0, durable(version, IdA)).connect(1, durable(version, IdA))
        .publish(1, TopicAB, 1).connect(0, plain(version, IdA)).tick(Tick1s);
    out.emplace_back(v + "-takeover", t);
  }

  {
    Script s(kDenySomeAuth, 0);
    ConnectSpec c = plain(V5, IdA);
    c.auth = 1;
    s.connect(0, c).op(Op::Auth, 0, {0x10}).op(Op::Auth, 0, {0x00})
        .subscribe(0, FilterSecret, 1).subscribe(0, FilterDeny, 1);
    ConnectSpec bad = plain(V5, IdB);
    bad.username = true;
    bad.user = 1;
    s.connect(1, bad);
    ConnectSpec admin = plain(V311, IdC);
    admin.username = true;
    admin.user = 2;
    admin.password = true;
    s.connect(2, admin).subscribe(2, FilterSecret, 1).connect(3, plain(V5, IdBanned))
        .connect(4, plain(V5, IdD)).publish(4, TopicSecret, 1).publish(4, TopicDeny, 1);
    ConnectSpec wrong = plain(V5, IdEmpty);
    wrong.auth = 3;
    s.connect(5, wrong);
    out.emplace_back("auth-enhanced-and-refusals", s);
  }
  {
    Script s(0, 0);
    ConnectSpec c = durable(V5, IdA);
    c.keepAlive = Keep1;
    c.will = true;
    c.willQos = 1;
    c.willRetain = true;
    c.willDelay = 3;  // 5 s
    s.connect(1, plain(V5, IdB)).subscribe(1, FilterAHash, 1).connect(0, c)
        .tick(Tick10s, true).ack(1, Puback).subscribe(1, FilterAB, 0, 0)
        .connect(0, durable(V5, IdA)).close(0).tick(Tick10s, true);
    out.emplace_back("will-delay-keepalive", s);
  }
  {
    Script s(0, 0);
    s.connect(0, durable(V5, IdA)).subscribe(0, FilterAB, 1).connect(1, durable(V311, IdB))
        .op(Op::FailCommit, 0).publish(1, TopicAB, 1).publish(1, TopicAB, 2)
        .connect(1, durable(V311, IdB)).publish(1, TopicAB, 2).op(Op::FailCommit, 0)
        .ack(1, Pubrel).restart(false, 1).connect(0, durable(V5, IdA)).ack(0, Puback);
    out.emplace_back("store-failure", s);
  }
  {
    Script s(0, 0);
    ConnectSpec aliasing = plain(V5, IdA);
    aliasing.topicAliases = true;
    s.connect(0, aliasing).subscribe(0, FilterShared, 1).connect(1, plain(V5, IdB))
        .subscribe(1, FilterShared, 2).subscribe(1, FilterAB, 0, 0, 2)
        .connect(2, plain(V5, IdC))
        .publish(2, TopicAB, 1, false, 0x42, 0x00)   // alias 1 set
        .publish(2, TopicEmpty, 1, false, 0x42, 0x00)  // alias 1 used
        .publish(2, TopicAB, 0, false, 0x22, 0x04)   // message expiry 2 s
        .ack(0, Puback).ack(1, Pubrec).ack(1, Pubcomp).tick(Tick5s);
    out.emplace_back("shared-aliases-expiry", s);
  }
  {
    Script s(kSmallLimits, 0);
    s.connect(0, durable(V5, IdA)).subscribe(0, FilterHash, 1)
        .op(Op::Congestion, 0).connect(1, plain(V5, IdB));
    for (int i = 0; i < 6; ++i) s.publish(1, TopicAB, 1, false, 4);
    s.op(Op::Congestion, 0).ack(0, Puback).ack(0, Puback)
        .publish(1, TopicAB, 1, false, 6).op(Op::Congestion, 0, {}, true);
    out.emplace_back("small-limits-congestion", s);
  }
  {
    Script s(0, 0);
    s.connect(0, plain(V5, IdA)).publish(0, TopicAB, 1, true).publish(0, TopicABC, 2, true)
        .ack(0, Pubrel).connect(1, plain(V5, IdB)).subscribe(1, FilterAHash, 2, 0)
        .subscribe(1, FilterAHash, 1, 1).subscribe(1, FilterAB, 1, 2)
        .publish(0, TopicAB, 0, true, 0).subscribe(1, FilterAHash, 1, 0)
        .connect(2, plain(V311, IdC)).subscribe(2, FilterHash, 1);
    out.emplace_back("retained", s);
  }
  {
    Script s(0, kSysEverySecond);
    s.connect(0, plain(V311, IdA)).subscribe(0, FilterSys, 0).subscribe(0, FilterHash, 0)
        .tick(Tick2s, true).tick(Tick61s);
    out.emplace_back("sys-topics", s);
  }
  {
    Script s(0, 0);
    ConnectSpec c = plain(V5, IdA);
    c.expiry = Expiry10;
    s.connect(0, c).subscribe(0, FilterAB, 1).disconnect(0, 0x08 | 0x02)  // expiry 0, 0x81
        .connect(0, c).disconnect(0, 0x18).connect(1, plain(V5, IdB))
        .publish(1, TopicAB, 1).tick(Tick31s).connect(0, durable(V5, IdA)).tick(Tick61s)
        .tick(Tick3601s);
    out.emplace_back("session-expiry", s);
  }
  {
    Script s(0, 0);
    s.connect(0, durable(V5, IdA)).subscribe(0, FilterAB, 2).connect(1, plain(V311, IdB))
        .misc(0, MiscOp::ToggleBatch).publish(1, TopicAB, 2).publish(1, TopicAB, 1)
        .ack(1, Pubrel).misc(0, MiscOp::ToggleBatch).misc(1, MiscOp::ToggleHold)
        .publish(1, TopicAB, 1).ping(1).disconnect(1).misc(1, MiscOp::ToggleHold)
        .misc(0, MiscOp::ToggleDeferCloses).restart(true, 3).connect(0, durable(V5, IdA))
        .misc(0, MiscOp::WallForward).tick(Tick1s);
    out.emplace_back("batch-hold-shutdown", s);
  }
  {
    Script s(0, kSmallBeforeConnect);
    s.raw(0, {0x10, 0x0C, 0, 4, 'M', 'Q', 'T', 'T', 7, 0x02, 0, 60, 0, 0})  // level 7
        .raw(1, {0x30, 0x00}).raw(2, {0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F})
        .raw(3, {0x10, 0x0D, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0x02, 0, 60, 0, 0})
        .raw(4, {0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 1, 'z',
                 0xC0, 0x00, 0xE0, 0x00})
        .tick(Tick31s);
    out.emplace_back("raw-bad-input", s);
  }
  {
    Script s(0, 0);
    ConnectSpec tiny = plain(V5, IdA);
    tiny.maxPacketSize = 2;  // 64 bytes
    tiny.receiveMaximum = 1;
    s.connect(0, tiny).subscribe(0, FilterHash, 1).connect(1, plain(V5, IdB))
        .publish(1, TopicAB, 1, false, 5).publish(1, TopicAB, 1, false, 2)
        .publish(1, TopicAB, 1, false, 2).ack(0, Puback);
    out.emplace_back("client-limits", s);
  }
  {
    Script s(kListenerLimits | kNoRetain | kMaxKeepalive, kConnectRate | kNoZeroLengthId);
    s.open(0, 0x04).connect(0, plain(V5, IdA)).publish(0, TopicAB, 2)
        .open(1, 0x08).connect(1, plain(V311, IdB)).subscribe(1, FilterAB, 2)
        .connect(2, plain(V5, IdEmpty)).connect(3, plain(V5, IdC))
        .publish(3, TopicAB, 0, true);
    out.emplace_back("listener-limits", s);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output directory>\n", argv[0]);
    return 2;
  }
  for (const auto& seed : seeds()) {
    const std::string path = std::string(argv[1]) + "/" + seed.first;
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) {
      std::perror(path.c_str());
      return 1;
    }
    const std::vector<std::uint8_t>& bytes = seed.second.bytes();
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
    if (std::fclose(file) != 0 || !ok) {
      std::perror(path.c_str());
      return 1;
    }
  }
  return 0;
}
