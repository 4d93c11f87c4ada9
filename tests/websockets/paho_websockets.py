#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Eclipse Paho Python (Debian's python3-paho-mqtt) against Midge with transport="websockets":
MQTT 3.1.1 and 5.0, QoS 0, 1 and 2, over ws:// or, with --ca, wss://. Prints one
"PASS name" line per case and exits 0, or "FAIL name: why" and exits 1.

    paho_websockets.py PORT [--ca CA_FILE]
"""
import ssl
import sys
import threading

import paho.mqtt.client as mqtt

TIMEOUT = 10


def make_client(client_id, version, ca):
    if version == 5:
        client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5, transport="websockets")
    else:
        client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311,
                             transport="websockets", clean_session=True)
    client.ws_set_options(path="/mqtt")
    if ca:
        client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
    return client


def connected(client, port):
    ready = threading.Event()
    client.on_connect = lambda *args: ready.set()
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    if not ready.wait(TIMEOUT):
        raise RuntimeError("no CONNACK")
    return client


def round_trip(port, version, qos, ca):
    tag = "v%d-q%d" % (version, qos)
    topic = "paho/ws/" + tag
    payload = ("paho-" + tag + "-").encode() + b"y" * 20000
    got = []
    arrived = threading.Event()
    subscribed = threading.Event()

    sub = make_client("paho-sub-" + tag, version, ca)
    sub.on_subscribe = lambda *args: subscribed.set()

    def on_message(client, userdata, message):
        got.append(message)
        arrived.set()

    sub.on_message = on_message
    connected(sub, port)
    sub.subscribe(topic, qos)
    if not subscribed.wait(TIMEOUT):
        raise RuntimeError("no SUBACK")

    pub = connected(make_client("paho-pub-" + tag, version, ca), port)
    info = pub.publish(topic, payload, qos=qos)
    info.wait_for_publish(TIMEOUT)
    if not arrived.wait(TIMEOUT):
        raise RuntimeError("message not delivered")
    message = got[0]
    if message.payload != payload or message.qos != qos:
        raise RuntimeError("delivered %d bytes at QoS %d" % (len(message.payload), message.qos))
    for client in (pub, sub):
        client.disconnect()
        client.loop_stop()


def main():
    port = int(sys.argv[1])
    ca = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--ca" else None
    for version in (4, 5):
        for qos in (0, 1, 2):
            name = "v%d-qos%d" % (version, qos)
            try:
                round_trip(port, version, qos, ca)
            except Exception as error:  # report which case failed, then stop
                print("FAIL %s: %s" % (name, error), flush=True)
                return 1
            print("PASS " + name, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
