#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Bridge tests against a two-node RabbitMQ cluster started by ./cluster.

  rabbit_test.py CLUSTER_DIR cluster
  rabbit_test.py CLUSTER_DIR failover GATEWAY_BIN
  rabbit_test.py CLUSTER_DIR fleet GATEWAY_BIN

GATEWAY_BIN is any broker that reads a mosquitto.conf with `connection` sections:
midge, or /usr/sbin/mosquitto to check the harness itself. Exit 77 (skip) when there is
no cluster because RabbitMQ is not installed.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import paho.mqtt.client as mqtt

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "cluster")
TIMEOUT = float(os.environ.get("RABBIT_TEST_TIMEOUT", "60"))


def fail(text):
    print("FAIL: " + text, file=sys.stderr)
    sys.exit(1)


def wait_until(predicate, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            fail("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.05)


def cluster_ports(cluster_dir):
    path = os.path.join(cluster_dir, "ports")
    if not os.path.exists(path):
        if not os.path.exists("/usr/lib/rabbitmq/bin/rabbitmq-server"):
            print("SKIP: RabbitMQ is not installed, so there is no cluster", file=sys.stderr)
            sys.exit(77)
        fail("no cluster in %s (the rabbitmq cluster fixture did not start)" % cluster_dir)
    with open(path) as f:
        return {k: int(v) for k, v in (line.strip().split("=") for line in f if "=" in line)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peer:
    """A paho v3.1.1 client that records what it receives, topic and payload."""

    def __init__(self, port, name, subscriptions=()):
        self.received = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(client_id="%s-%s" % (name, uuid.uuid4().hex[:6]),
                                  protocol=mqtt.MQTTv311, clean_session=True)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        for topic in subscriptions:
            self.subscribed.clear()
            result, _ = self.client.subscribe(topic, qos=1)
            if result != mqtt.MQTT_ERR_SUCCESS or not self.subscribed.wait(TIMEOUT):
                fail("%s could not subscribe to %s on port %d" % (name, topic, port))

    def _on_message(self, _client, _userdata, message):
        with self.lock:
            self.received.append((message.topic, message.payload.decode()))

    def payloads(self, prefix=""):
        with self.lock:
            return [p for t, p in self.received if t.startswith(prefix)]

    def publish(self, topic, payload, qos=1):
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(TIMEOUT)
        if not info.is_published():
            fail("publish of %s on %s was not acknowledged" % (payload, topic))

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


class Gateway:
    """The broker under test, bridged to the cluster with a mosquitto.conf."""

    def __init__(self, binary, workdir, name, addresses, topics):
        self.port = free_port()
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        conf = os.path.join(self.dir, "gateway.conf")
        with open(conf, "w") as f:
            f.write(gateway_conf(self.port, self.dir, name, addresses, topics))
        self.log = open(os.path.join(self.dir, "gateway.log"), "w")
        self.process = subprocess.Popen([binary, "-c", conf], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + TIMEOUT
        while not port_open(self.port):
            if self.process.poll() is not None:
                fail("gateway %s exited with %d; see %s" % (name, self.process.returncode,
                                                            self.log.name))
            if time.monotonic() > deadline:
                fail("gateway %s did not listen on %d" % (name, self.port))
            time.sleep(0.05)

    def upstream_port(self, candidates):
        """The cluster port this gateway's bridge is connected to, if any."""
        out = subprocess.run(["ss", "-Htnp", "state", "established"], capture_output=True,
                             text=True).stdout
        mine = [line for line in out.splitlines() if "pid=%d," % self.process.pid in line]
        for port in candidates:
            if any(":%d " % port in line.split(None, 3)[3] + " " for line in mine):
                return port
        return None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def gateway_conf(port, directory, name, addresses, topics):
    # Only keywords both Mosquitto and Midge take: the same file runs either broker.
    lines = [
        "user root",
        "listener %d 127.0.0.1" % port,
        "allow_anonymous true",
        "persistence true",
        "persistence_location %s/" % directory,
        "",
        "connection %s" % name,
        "addresses " + " ".join("127.0.0.1:%d" % a for a in addresses),
        # Unique per run: a persistent session left on the cluster by an earlier run (or
        # by the other gateway binary) must not hand this one old messages.
        "clientid %s-%s" % (name, uuid.uuid4().hex[:6]),
        "cleansession false",
        "try_private false",
        "bridge_protocol_version mqttv311",
        "restart_timeout 1",
    ]
    lines += ["topic " + t for t in topics]
    return "\n".join(lines) + "\n"


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def until_bridged(publisher, topic, watcher, what):
    """Probes topic until watcher sees a probe: the bridge is up in that direction."""
    deadline = time.monotonic() + TIMEOUT
    while not watcher.payloads(topic):
        if time.monotonic() > deadline:
            fail("the bridge never carried %s (%s)" % (topic, what))
        publisher.publish(topic, "probe", qos=0)
        time.sleep(0.2)


def test_cluster(ports):
    subscriber = Peer(ports["node2_mqtt"], "sub", ["sanity/#"])
    publisher = Peer(ports["node1_mqtt"], "pub")
    publisher.publish("sanity/one", "across-nodes")
    wait_until(lambda: "across-nodes" in subscriber.payloads(), "node 1 -> node 2")
    print("a QoS 1 message published on node 1 reached a subscriber on node 2")


def test_failover(cluster_dir, ports, binary, workdir):
    nodes = {1: ports["node1_mqtt"], 2: ports["node2_mqtt"]}
    watchers = {n: Peer(p, "watch%d" % n, ["edge/#"]) for n, p in nodes.items()}
    gateway = Gateway(binary, workdir, "gw-failover", [nodes[1], nodes[2]],
                      ["edge/# out 1", "cmd/# in 1"])
    killed = None
    try:
        device = Peer(gateway.port, "device", ["cmd/#"])
        until_bridged(device, "edge/probe", watchers[1], "out, before the failover")
        until_bridged(watchers[1], "cmd/probe", device, "in, before the failover")
        upstream = gateway.upstream_port(nodes.values())
        if upstream is None:
            fail("cannot tell which node the gateway is connected to")
        killed = 1 if upstream == nodes[1] else 2
        survivor = 3 - killed
        count = 60
        for i in range(count):
            if i == 10:
                subprocess.run([CLUSTER, "kill-node", cluster_dir, str(killed)], check=True)
            device.publish("edge/data/%d" % i, "m%d" % i)
        expected = {"m%d" % i for i in range(count)}
        wait_until(lambda: expected <= set(watchers[survivor].payloads("edge/data/")),
                   "all %d edge messages on node %d" % (count, survivor))
        print("all %d QoS 1 messages published during the failover reached node %d "
              "(%d deliveries, duplicates allowed)"
              % (count, survivor, len(watchers[survivor].payloads("edge/data/"))))
        watchers[survivor].publish("cmd/device/reboot", "now")
        wait_until(lambda: "now" in device.payloads("cmd/device/"), "the command at the edge")
        print("a command published on node %d reached the device at the edge" % survivor)
    finally:
        gateway.stop()
        if killed is not None:
            # Bringing a node back takes a minute or two: the failover tests run last and
            # the fixture's cleanup stops the cluster. `cluster start-node` does it by hand.
            print("node %d stays down" % killed)


# The fleet's topic map: every gateway G sends its devices' data up on fleet/G/up/#, takes
# commands for its devices from fleet/G/cmd/#, and sends commands to another gateway H on
# fleet/H/cmd/#. A gateway's `in` and `out` patterns never overlap, so nothing it receives
# from the cluster matches a pattern it sends back: no loop, even without No Local
# (RabbitMQ is 3.1.1 and refuses the bridge flag).
def fleet_topics(me, others):
    topics = ["fleet/%s/up/# out 1" % me, "fleet/%s/cmd/# in 1" % me]
    topics += ["fleet/%s/cmd/# out 1" % other for other in others]
    return topics


def test_fleet(ports, binary, workdir):
    gateways = {"A": Gateway(binary, workdir, "gwA", [ports["node1_mqtt"]], fleet_topics("A", "B")),
                "B": Gateway(binary, workdir, "gwB", [ports["node2_mqtt"]], fleet_topics("B", "A"))}
    try:
        observer = Peer(ports["node1_mqtt"], "observer", ["fleet/#"])
        devices = {g: Peer(gw.port, "dev" + g, ["fleet/#"]) for g, gw in gateways.items()}
        until_bridged(devices["A"], "fleet/B/cmd/probe", devices["B"], "A -> B")
        until_bridged(devices["B"], "fleet/A/cmd/probe", devices["A"], "B -> A")
        for i in range(5):
            devices["A"].publish("fleet/B/cmd/pump", "a2b-%d" % i)
            devices["B"].publish("fleet/A/cmd/valve", "b2a-%d" % i)
            devices["B"].publish("fleet/B/up/temp", "t-%d" % i)
        devices["A"].publish("fleet/B/cmd/pump", "a2b-end")
        devices["B"].publish("fleet/B/up/temp", "t-end")
        wait_until(lambda: "a2b-end" in devices["B"].payloads() and
                   "t-end" in observer.payloads(), "the end markers")
        # A loop would repeat what has been seen by now; give it a moment to show.
        time.sleep(1)
        check_once(devices["B"].payloads("fleet/B/cmd/"), ["a2b-%d" % i for i in range(5)],
                   "device on B, commands from A")
        check_once(devices["A"].payloads("fleet/A/cmd/"), ["b2a-%d" % i for i in range(5)],
                   "device on A, commands from B")
        check_once(devices["A"].payloads("fleet/B/cmd/"), ["a2b-%d" % i for i in range(5)],
                   "device on A, its own commands to B")
        check_once(observer.payloads("fleet/B/up/"), ["t-%d" % i for i in range(5)],
                   "cluster observer, B's data")
        if devices["A"].payloads("fleet/B/up/"):
            fail("B's data reached gateway A, which did not ask for it")
        print("commands crossed the fleet both ways, every message seen exactly once")
    finally:
        for gateway in gateways.values():
            gateway.stop()


def check_once(seen, expected, where):
    seen = [p for p in seen if p != "probe" and not p.endswith("-end")]
    if sorted(seen) != sorted(expected):
        fail("%s: expected each of %s once, saw %s" % (where, expected, seen))


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    cluster_dir, test = sys.argv[1], sys.argv[2]
    ports = cluster_ports(cluster_dir)
    if test == "cluster":
        test_cluster(ports)
        return
    binary = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("MIDGE_GATEWAY_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        fail("no gateway binary (argument or MIDGE_GATEWAY_BIN): %r" % binary)
    workdir = tempfile.mkdtemp(prefix="rabbit-%s-" % test)
    try:
        if test == "failover":
            test_failover(cluster_dir, ports, binary, workdir)
        elif test == "fleet":
            test_fleet(ports, binary, workdir)
        else:
            fail("unknown test %s" % test)
    except SystemExit:
        # The gateways' configurations and logs are what explains a failure.
        print("kept %s (gateway.conf and gateway.log per gateway)" % workdir, file=sys.stderr)
        raise
    if os.environ.get("RABBIT_TEST_KEEP") is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
