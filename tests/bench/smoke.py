#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Smoke test for midge-bench against a real broker.

Starts the broker on a free loopback port with a minimal config, waits until the port
accepts connections (polling with a deadline), runs midge-bench with the arguments after
`--` plus --host/--port/--broker-pid, checks the JSON line, then stops the broker by its
PID and removes the temporary directory. It checks that messages flowed without loss or
duplicates (or that every idle connection was accepted), never a speed.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, broker, deadline_s):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if broker.poll() is not None:
            raise RuntimeError(f"broker exited early with status {broker.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)  # poll interval, bounded by the deadline above
    raise RuntimeError(f"broker did not accept connections on port {port} in {deadline_s}s")


def stop(broker):
    if broker.poll() is None:
        os.kill(broker.pid, signal.SIGTERM)
        try:
            broker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(broker.pid, signal.SIGKILL)
            broker.wait()


def check_pubsub(result):
    problems = []
    if result["received"] <= 0:
        problems.append("no message was received")
    if result["sent"] <= 0:
        problems.append("no message was sent")
    if result["lost"] != 0:
        problems.append(f"lost {result['lost']} of {result['expected']} messages")
    if result["duplicates"] != 0:
        problems.append(f"{result['duplicates']} duplicates")
    if result["received"] != result["expected"]:
        problems.append(f"received {result['received']} != expected {result['expected']}")
    if result["unexpected"] != 0:
        problems.append(f"{result['unexpected']} unexpected messages")
    if result["latency_samples"] <= 0:
        problems.append("no latency sample in the measure window")
    return problems


def check_connections(result, wanted):
    problems = []
    if result["connected"] != wanted:
        problems.append(f"connected {result['connected']} of {wanted}")
    if result["connect_errors"] != 0 or result["dropped"] != 0:
        problems.append(f"{result['connect_errors']} errors, {result['dropped']} dropped")
    if result["broker_rss_connected_kb"] is None or result["broker_rss_connected_kb"] <= 0:
        problems.append("broker memory was not sampled")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--bench", required=True)
    parser.add_argument("--expect-usage-error", action="store_true")
    parser.add_argument("--websockets", action="store_true",
                        help="the listener speaks MQTT over WebSockets (pass --transport ws)")
    parser.add_argument("bench_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    bench_args = args.bench_args[1:] if args.bench_args[:1] == ["--"] else args.bench_args

    if args.expect_usage_error:
        run = subprocess.run([args.bench, *bench_args], capture_output=True, text=True,
                             timeout=30)
        if run.returncode != 2 or "midge-bench:" not in run.stderr or run.stdout:
            print(f"expected a usage error (status 2), got {run.returncode}: {run.stderr}")
            return 1
        print(run.stderr.splitlines()[0])
        return 0

    workdir = tempfile.mkdtemp(prefix="midge-bench-smoke-")
    port = free_port()
    conf = os.path.join(workdir, "midge.conf")
    with open(conf, "w") as out:
        out.write(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        if args.websockets:
            out.write("protocol websockets\n")
    log = open(os.path.join(workdir, "broker.log"), "w")
    broker = subprocess.Popen([args.broker, "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                              cwd=workdir)
    try:
        wait_for_port(port, broker, 20)
        command = [args.bench, "--host", "127.0.0.1", "--port", str(port),
                   "--broker-pid", str(broker.pid), *bench_args]
        print(" ".join(command))
        run = subprocess.run(command, capture_output=True, text=True, timeout=50)
        sys.stderr.write(run.stderr)
        print(run.stdout.strip())
        result = json.loads(run.stdout)
        if result["mode"] == "connections":
            wanted = int(bench_args[bench_args.index("--connections") + 1])
            problems = check_connections(result, wanted)
        else:
            problems = check_pubsub(result)
        if run.returncode != 0 or not result["ok"]:
            problems.append(f"midge-bench failed (status {run.returncode}): "
                            f"{result.get('error', '')}")
        if broker.poll() is not None:
            problems.append(f"broker exited with status {broker.returncode}")
        for problem in problems:
            print("FAIL:", problem)
        return 1 if problems else 0
    finally:
        stop(broker)
        log.close()
        with open(os.path.join(workdir, "broker.log")) as text:
            tail = text.read()[-2000:]
        if tail:
            print("--- broker log (tail) ---\n" + tail)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
