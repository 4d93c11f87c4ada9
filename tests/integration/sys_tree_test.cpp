// SPDX-License-Identifier: Apache-2.0
// Mosquitto's $SYS topics as a subscriber sees them, with values checked against what the
// test did: load averages, heap, stored messages, expired clients, the client maximum and
// shared subscriptions.
#include <cstdlib>
#include <functional>

#include "tests/integration/operator_http_support.hpp"

namespace midge::test {
namespace {

// Collects $SYS publications into topic -> latest value.
class SysWatcher {
 public:
  explicit SysWatcher(std::uint16_t port) : client_(port) {
    wire::ConnectSpec spec;
    spec.clientId = "sys-watcher";
    handshake(client_, spec);
    client_.send(wire::subscribe(1, "$SYS/broker/#", 0));
    client_.expect(kSuback);
  }

  // Reads until `ready(values)` holds or the deadline passes.
  bool waitFor(const std::function<bool(const std::map<std::string, std::string>&)>& ready,
               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready(values_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      const ReadResult result = client_.read(left);
      if (result.status != ReadStatus::Packet) continue;
      if (result.packet.type() != kPublish) continue;
      const wire::PublishView view = wire::parsePublish(result.packet);
      values_[view.topic] = view.payload;
      client_.clearReceived();
    }
    return true;
  }
  bool waitForValue(const std::string& topic, const std::string& value,
                    std::chrono::milliseconds timeout = 5s) {
    return waitFor(
        [&](const auto& values) {
          const auto it = values.find(topic);
          return it != values.end() && it->second == value;
        },
        timeout);
  }
  double number(const std::string& topic) const {
    const auto it = values_.find(topic);
    return it == values_.end() ? -1 : std::strtod(it->second.c_str(), nullptr);
  }
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  RawClient client_;
  std::map<std::string, std::string> values_;
};

TEST_F(OperatorHttpTest, SysTreeReportsWhatClientsDid) {
  startBroker({}, {"sys_interval 1"});
  SysWatcher sys(broker_.port());

  // A shared subscriber stays; a v5 client with a 1 s session expiry leaves and expires.
  RawClient worker(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "worker";
  handshake(worker, spec);
  worker.send(wire::subscribe(1, "$share/group/work/#", 0));
  worker.expect(kSuback);
  {
    RawClient leaving(broker_.port());
    wire::ConnectSpec v5;
    v5.level = 5;
    v5.clientId = "leaving";
    v5.properties = {0x11, 0x00, 0x00, 0x00, 0x01};  // Session Expiry Interval 1 s
    handshake(leaving, v5);
    leaving.send(wire::disconnect(true));
    leaving.waitClosed();
  }
  RawClient publisher(broker_.port());
  spec.clientId = "publisher";
  handshake(publisher, spec);
  for (int i = 0; i < 5; ++i) publisher.send(wire::publish("work/item", "job", 0));
  for (int i = 0; i < 5; ++i) worker.expect(kPublish);

  EXPECT_TRUE(sys.waitForValue("$SYS/broker/shared_subscriptions/count", "1"));
  EXPECT_TRUE(sys.waitForValue("$SYS/broker/clients/expired", "1"));
  EXPECT_TRUE(sys.waitForValue("$SYS/broker/messages/received", "5"));
  EXPECT_TRUE(sys.waitForValue("$SYS/broker/publish/messages/received", "5"));
  // Watcher, worker and the leaving client (then the publisher) were connected at once.
  EXPECT_TRUE(sys.waitForValue("$SYS/broker/clients/maximum", "3"));
  EXPECT_TRUE(sys.waitFor(
      [](const auto& values) {
        const auto it = values.find("$SYS/broker/load/publish/received/1min");
        return it != values.end() && std::strtod(it->second.c_str(), nullptr) > 0;
      },
      5s))
      << "the 1 minute load of received publishes rises after 5 messages";
  // Five messages in about a second are 300 per minute; one interval moves the 1 minute
  // average by 1 - e^(-1/60) of that at most: a few per minute, never more than 300.
  EXPECT_LE(sys.number("$SYS/broker/load/publish/received/1min"), 300);
  EXPECT_GE(sys.number("$SYS/broker/load/publish/received/1min"),
            sys.number("$SYS/broker/load/publish/received/15min"));
  for (const char* window : {"1min", "5min", "15min"}) {
    for (const char* name : {"messages/received", "messages/sent", "publish/sent",
                             "publish/dropped", "bytes/received", "bytes/sent", "connections",
                             "sockets"}) {
      const std::string topic = std::string("$SYS/broker/load/") + name + "/" + window;
      EXPECT_EQ(sys.values().count(topic), 1u) << topic;
    }
  }
  EXPECT_GT(sys.number("$SYS/broker/load/connections/1min"), 0);
  EXPECT_GT(sys.number("$SYS/broker/load/sockets/1min"), 0);
  // Heap: our own accounting of queued and retained messages (the $SYS values themselves
  // are retained, so it is never zero once they are published).
  EXPECT_GT(sys.number("$SYS/broker/heap/current"), 0);
  EXPECT_GE(sys.number("$SYS/broker/heap/maximum"), sys.number("$SYS/broker/heap/current"));
  EXPECT_GE(sys.number("$SYS/broker/store/messages/count"),
            sys.number("$SYS/broker/retained messages/count"));
  EXPECT_EQ(sys.values().at("$SYS/broker/store/messages/count"),
            sys.values().at("$SYS/broker/messages/stored"));
  EXPECT_GT(sys.number("$SYS/broker/store/messages/bytes"), 0);
}

TEST_F(OperatorHttpTest, SysValuesArePublishedOnlyWhenTheyChange) {
  startBroker({}, {"sys_interval 1"});
  SysWatcher sys(broker_.port());
  ASSERT_TRUE(sys.waitForValue("$SYS/broker/clients/expired", "0"));
  // Subscribing again delivers the retained copies; afterwards, across two more intervals
  // (two uptime updates), the unchanged figure is not sent again.
  RawClient second(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "second";
  handshake(second, spec);
  second.send(wire::subscribe(1, "$SYS/broker/#", 0));
  second.expect(kSuback);
  int uptimes = 0;
  int expired = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (uptimes < 3 && std::chrono::steady_clock::now() < deadline) {
    const ReadResult result = second.read(1s);
    if (result.status != ReadStatus::Packet || result.packet.type() != kPublish) continue;
    const wire::PublishView view = wire::parsePublish(result.packet);
    if (view.topic == "$SYS/broker/uptime") ++uptimes;
    if (view.topic == "$SYS/broker/clients/expired") ++expired;
    second.clearReceived();
  }
  EXPECT_EQ(uptimes, 3);
  EXPECT_EQ(expired, 1) << "only the retained copy at subscription";
}

}  // namespace
}  // namespace midge::test
