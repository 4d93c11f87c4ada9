#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""TLS reconnect storm against one broker: N clients connect over TLS, send an MQTT 3.1.1
CONNECT, wait for CONNACK, send DISCONNECT and wait for the broker to close. First every
client makes a new (full) handshake; then every client reconnects offering the session it
got the first time (a TLS 1.2 session ticket or session id, whichever the broker issued).

Prints one JSON object: seconds and handshakes per second per phase, the share of phase 2
handshakes the broker resumed, and the broker's CPU use (from /proc, with --broker-pid).

  tests/bench/tls_storm.py --port 8883 [--clients 2000] [--processes 4] [--threads 8]

Several processes with several threads each keep enough handshakes in flight that the
broker, not the generator, is the limit: OpenSSL releases the GIL while it computes, and
the client side of an ECDHE-ECDSA handshake costs far less than the server side. Both
phases use TLS 1.2 so that the brokers do the same work (Midge's mbedTLS 2.28 has no 1.3,
and a TLS 1.3 resumption still does an ECDHE exchange).
"""
import argparse
import json
import multiprocessing
import os
import socket
import ssl
import struct
import sys
import threading
import time

CONNACK_ACCEPTED = b"\x20\x02\x00\x00"
DISCONNECT = b"\xe0\x00"


def connect_packet(client_id):
    name = client_id.encode()
    variable = b"\x00\x04MQTT\x04\x02" + struct.pack("!H", 60)
    payload = struct.pack("!H", len(name)) + name
    remaining = len(variable) + len(payload)
    return bytes([0x10, remaining]) + variable + payload  # remaining < 128 here


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("broker closed before CONNACK")
        data += chunk
    return data


def one_client(context, host, port, client_id, session, timeout):
    """One storm client; returns (session, resumed)."""
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with context.wrap_socket(raw, server_hostname=host, session=session) as tls:
            tls.sendall(connect_packet(client_id))
            if read_exactly(tls, 4) != CONNACK_ACCEPTED:
                raise ConnectionError("CONNACK did not accept the connection")
            resumed, got = tls.session_reused, tls.session
            tls.sendall(DISCONNECT)
            # The broker closes after DISCONNECT: waiting for that keeps TIME_WAIT on the
            # broker's side, so repeated storms do not run out of ephemeral ports.
            try:
                while tls.recv(64):
                    pass
            except (ssl.SSLError, OSError):
                pass
            return got, resumed
    finally:
        raw.close()


def worker(args, index, clients, phase_queue, result_queue):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the throwaway certificate is self-signed
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    sessions = {}
    for phase in ("new", "resumed"):
        phase_queue.get()  # wait for the go of this phase
        lock = threading.Lock()
        pending = list(clients)
        counts = {"resumed": 0, "failed": 0, "error": None}

        def run():
            while True:
                with lock:
                    if not pending:
                        return
                    number = pending.pop()
                try:
                    session, resumed = one_client(context, args.host, args.port,
                                                  f"storm-{number}", sessions.get(number)
                                                  if phase == "resumed" else None, args.timeout)
                    with lock:
                        sessions[number] = session
                        counts["resumed"] += int(resumed)
                except (OSError, ssl.SSLError, ConnectionError) as error:
                    with lock:
                        counts["failed"] += 1
                        counts["error"] = counts["error"] or f"{type(error).__name__}: {error}"

        threads = [threading.Thread(target=run) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result_queue.put((index, phase, counts))


def cpu_seconds(pid):
    if not pid:
        return None
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--broker-pid", type=int)
    args = parser.parse_args()

    go = [multiprocessing.Queue() for _ in range(args.processes)]
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(
        target=worker, args=(args, i, range(i, args.clients, args.processes), go[i], results))
        for i in range(args.processes)]
    for process in workers:
        process.start()
    report = {"ok": True, "clients": args.clients,
              "concurrency": args.processes * args.threads}
    for phase in ("new", "resumed"):
        cpu_before, start = cpu_seconds(args.broker_pid), time.monotonic()
        for queue in go:
            queue.put(phase)
        resumed = failed = 0
        for _ in workers:
            _, _, counts = results.get(timeout=args.timeout * args.clients)
            resumed += counts["resumed"]
            failed += counts["failed"]
            if counts["error"] and "error" not in report:
                report["error"] = f"{phase}: {counts['error']}"
        elapsed = time.monotonic() - start
        report[f"{phase}_s"] = elapsed
        report[f"{phase}_per_s"] = (args.clients - failed) / elapsed
        report[f"{phase}_resumed_pct"] = 100.0 * resumed / args.clients
        report[f"{phase}_failed"] = failed
        if cpu_before is not None:
            used = cpu_seconds(args.broker_pid) - cpu_before
            report[f"{phase}_broker_cpu_pct"] = 100.0 * used / elapsed
            # Broker CPU per handshake: unlike the rates, it holds when other processes
            # share the broker's core.
            report[f"{phase}_broker_cpu_ms"] = 1000.0 * used / max(1, args.clients - failed)
        report["ok"] = report["ok"] and failed == 0
    for process in workers:
        process.join()
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
