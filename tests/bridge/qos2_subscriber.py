#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A device that subscribes at QoS 2 with a persistent session and reconnects by itself;
prints "topic payload" per message received, flushed at once.

  qos2_subscriber.py HOST PORT FILTER CLIENT_ID

The kill -9 tests use it instead of mosquitto_sub for QoS 2: libmosquitto (2.0) drops a
QoS 2 message it holds awaiting PUBREL when the PUBCOMP it answers with cannot be sent
(the broker has just died), and then answers the broker's resent PUBREL without
delivering it. paho-mqtt delivers the message before it sends PUBCOMP.
"""
import sys

import paho.mqtt.client as mqtt


def main():
    host, port, topic_filter, client_id = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    client = mqtt.Client(client_id=client_id, clean_session=False)
    client.reconnect_delay_set(min_delay=1, max_delay=2)

    def on_connect(client, userdata, flags, rc):
        if rc == 0:
            client.subscribe(topic_filter, qos=2)

    def on_message(client, userdata, message):
        sys.stdout.write(f"{message.topic} {message.payload.decode(errors='replace')}\n")
        sys.stdout.flush()

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, port, keepalive=30)
    client.loop_forever(retry_first_connection=True)


if __name__ == "__main__":
    main()
