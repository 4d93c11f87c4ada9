#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Eclipse Paho Python (paho-mqtt 1.x) against a running midge broker.

Usage: paho_interop.py --port PORT [--host 127.0.0.1] --version 311|5

Exits 0 when every check passes, 1 with a message naming the first failed check.
Run by integration_interop_tests (InteropPython), which starts the broker.
"""
import argparse
import queue
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

TIMEOUT = 5.0


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


class Client:
    """A paho client whose messages land in a queue, with blocking helpers."""

    def __init__(self, args, client_id, clean=True, will=None, session_expiry=None):
        self.v5 = args.version == "5"
        protocol = mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311
        if self.v5:
            self.client = mqtt.Client(client_id=client_id, protocol=protocol)
        else:
            self.client = mqtt.Client(client_id=client_id, clean_session=clean,
                                      protocol=protocol)
        self.messages = queue.Queue()
        self.acks = queue.Queue()
        self.connack = queue.Queue()
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.on_subscribe = lambda c, u, mid, *rest: self.acks.put(("sub", mid))
        self.client.on_unsubscribe = lambda c, u, mid, *rest: self.acks.put(("unsub", mid))
        self.client.on_connect = self._on_connect
        if will:
            self.client.will_set(*will)
        properties = None
        if self.v5:
            properties = Properties(PacketTypes.CONNECT)
            if session_expiry is not None:
                properties.SessionExpiryInterval = session_expiry
            self.client.connect(args.host, args.port, keepalive=30, clean_start=clean,
                                properties=properties)
        else:
            self.client.connect(args.host, args.port, keepalive=30)
        self.client.loop_start()
        flags, rc = self.connack.get(timeout=TIMEOUT)
        check(rc == 0, f"{client_id}: CONNACK {rc}")
        self.session_present = bool(flags.get("session present"))

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack.put((flags, int(rc.value) if hasattr(rc, "value") else rc))

    def subscribe(self, topic, qos, **options):
        if self.v5:
            sub_options = mqtt.SubscribeOptions(qos=qos, noLocal=options.get("no_local", False))
            properties = None
            if "subscription_id" in options:
                properties = Properties(PacketTypes.SUBSCRIBE)
                properties.SubscriptionIdentifier = options["subscription_id"]
            result, mid = self.client.subscribe(topic, options=sub_options, properties=properties)
        else:
            result, mid = self.client.subscribe(topic, qos)
        check(result == mqtt.MQTT_ERR_SUCCESS, f"subscribe {topic}")
        check(self.acks.get(timeout=TIMEOUT) == ("sub", mid), f"SUBACK for {topic}")

    def unsubscribe(self, topic):
        result, mid = self.client.unsubscribe(topic)
        check(result == mqtt.MQTT_ERR_SUCCESS, f"unsubscribe {topic}")
        check(self.acks.get(timeout=TIMEOUT) == ("unsub", mid), f"UNSUBACK for {topic}")

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        info.wait_for_publish(TIMEOUT)
        check(info.is_published(), f"publish to {topic} not acknowledged")

    def receive(self, what):
        try:
            return self.messages.get(timeout=TIMEOUT)
        except queue.Empty:
            raise Failure(f"no message: {what}") from None

    def until_marker(self, publisher, topic):
        """Payloads received up to a marker: shows nothing else was pending."""
        publisher.publish(topic, b"marker", qos=1)
        payloads = []
        while True:
            payloads.append(self.receive(f"marker on {topic}").payload)
            if payloads[-1] == b"marker":
                return payloads

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()


def qos_round_trip(args):
    sub = Client(args, "py-sub")
    pub = Client(args, "py-pub")
    sub.subscribe("py/qos/#", 2)
    for qos in (0, 1, 2):
        pub.publish(f"py/qos/{qos}", f"q{qos}".encode(), qos=qos)
        message = sub.receive(f"QoS {qos} message")
        check(message.payload == f"q{qos}".encode(), f"QoS {qos} payload")
        check(message.qos == qos, f"QoS {qos} delivered at {message.qos}")
        check(not message.retain, "live message flagged retained")
    sub.unsubscribe("py/qos/#")
    sub.subscribe("py/other", 0)
    pub.publish("py/qos/1", b"after unsubscribe", qos=1)
    check(sub.until_marker(pub, "py/other") == [b"marker"], "message after UNSUBSCRIBE")
    sub.stop()
    pub.stop()


def retained(args):
    pub = Client(args, "py-retainer")
    pub.publish("py/retained", b"kept", qos=1, retain=True)
    late = Client(args, "py-late")
    late.subscribe("py/retained", 1)
    message = late.receive("retained message")
    check(message.retain and message.payload == b"kept", "retained message on subscribe")
    pub.publish("py/retained", b"", qos=1, retain=True)
    later = Client(args, "py-later")
    later.subscribe("py/retained", 1)
    check(later.until_marker(pub, "py/retained") == [b"marker"], "retained message deleted")
    for client in (pub, late, later):
        client.stop()


def will_on_dropped_socket(args):
    watcher = Client(args, "py-watcher")
    watcher.subscribe("py/will", 1)
    doomed = Client(args, "py-doomed", will=("py/will", b"py-doomed lost", 1, False))
    doomed.client.loop_stop()
    doomed.client.socket().close()  # no DISCONNECT: the broker must publish the will
    message = watcher.receive("will message")
    check(message.payload == b"py-doomed lost", "will payload")
    watcher.stop()


def durable_session(args):
    kwargs = {"clean": False, "session_expiry": 60} if args.version == "5" else {"clean": False}
    first = Client(args, "py-durable", **kwargs)
    first.subscribe("py/durable", 1)
    first.stop()
    pub = Client(args, "py-durable-pub")
    pub.publish("py/durable", b"queued", qos=1)
    again = Client(args, "py-durable", **kwargs)
    check(again.session_present, "session present on resume")
    check(again.receive("queued message").payload == b"queued", "queued message payload")
    again.stop()
    pub.stop()


def v5_properties(args):
    responder = Client(args, "py-responder")
    requester = Client(args, "py-requester")
    responder.subscribe("py/service", 1, subscription_id=11)
    requester.subscribe("py/reply", 1)
    request = Properties(PacketTypes.PUBLISH)
    request.ResponseTopic = "py/reply"
    request.CorrelationData = b"\x00corr"
    request.ContentType = "text/plain"
    request.UserProperty = [("k", "v1"), ("k", "v2")]
    request.MessageExpiryInterval = 120
    requester.publish("py/service", b"ping", qos=1, properties=request)
    message = responder.receive("request")
    got = message.properties
    check(got.ResponseTopic == "py/reply", "response topic")
    check(got.CorrelationData == b"\x00corr", "correlation data")
    check(got.ContentType == "text/plain", "content type")
    check(got.UserProperty == [("k", "v1"), ("k", "v2")], f"user properties {got.UserProperty}")
    check(got.SubscriptionIdentifier == [11], f"subscription id {got.SubscriptionIdentifier}")
    check(0 < got.MessageExpiryInterval <= 120, "message expiry counts down")
    reply = Properties(PacketTypes.PUBLISH)
    reply.CorrelationData = got.CorrelationData
    responder.publish(got.ResponseTopic, b"pong", qos=1, properties=reply)
    answer = requester.receive("reply")
    check(answer.payload == b"pong", "reply payload")
    check(answer.properties.CorrelationData == b"\x00corr", "reply correlation data")

    # No Local: the responder does not hear its own message on a no-local subscription.
    responder.subscribe("py/chat", 1, no_local=True)
    responder.publish("py/chat", b"own", qos=1)
    requester.publish("py/chat", b"other", qos=1)
    check(responder.receive("no-local").payload == b"other", "no-local delivered own message")
    responder.stop()
    requester.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--version", choices=("311", "5"), required=True)
    args = parser.parse_args()
    checks = [qos_round_trip, retained, will_on_dropped_socket, durable_session]
    if args.version == "5":
        checks.append(v5_properties)
    for step in checks:
        started = time.monotonic()
        try:
            step(args)
        except (Failure, queue.Empty, OSError) as error:
            print(f"FAIL {step.__name__} (MQTT {args.version}): {error!r}")
            return 1
        print(f"ok   {step.__name__} ({time.monotonic() - started:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
