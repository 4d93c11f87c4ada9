# SPDX-License-Identifier: Apache-2.0
"""Process and connection probes for tests/footprint/measure.

Starts a broker (natively or under qemu-user), waits for its listening socket without
touching it, reads its resident memory, and holds N idle MQTT clients on it.
"""
import os
import selectors
import signal
import socket
import subprocess
import time

# One loopback connection attempt per client; a broker with a short listen backlog would
# otherwise make the kernel retry SYNs for a second or more.
CONNECT_BATCH = 50


def rss_kb(pid):
    """VmRSS of a live process in KiB, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def settled_rss_kb(pid, deadline_s=5.0, interval_s=0.1, steady_samples=5):
    """RSS once it has stopped moving: the same value steady_samples times in a row.

    Freed pages and lazily touched ones make RSS drift for a moment after a burst of
    work; a single sample right after the last CONNACK would catch that drift.
    Returns the last sample if it never settles before the deadline.
    """
    end = time.monotonic() + deadline_s
    last, same = None, 0
    while True:
        value = rss_kb(pid)
        if value is None:
            raise RuntimeError(f"process {pid} exited while its memory was measured")
        same = same + 1 if value == last else 1
        last = value
        if same >= steady_samples or time.monotonic() >= end:
            return last
        time.sleep(interval_s)


def listening(port):
    """True when some socket listens on 127.0.0.1:port (read from /proc, so the broker
    sees no probe connection that could itself allocate memory)."""
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] == "0A":
                        return True
        except FileNotFoundError:
            continue
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A broker (or the qemu baseline) started in its own process group."""

    def __init__(self, argv, log_path, env=None, cwd=None):
        self.argv = argv
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def wait_listening(self, port, timeout_s):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited with {self.proc.returncode} "
                                   f"before listening (log: {self.log.name})")
            if listening(port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.argv[0]} did not listen on port {port} within "
                           f"{timeout_s} s (log: {self.log.name})")

    def wait_started(self, timeout_s):
        """For a program with no socket: it runs once /proc shows a settled RSS."""
        end = time.monotonic() + timeout_s
        while rss_kb(self.pid) is None and time.monotonic() < end:
            time.sleep(0.05)

    def stop(self, timeout_s=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def connect_packet(client_id, keepalive_s):
    """MQTT 3.1.1 CONNECT with a clean session and no credentials."""
    ident = client_id.encode()
    variable = b"\x00\x04MQTT\x04\x02" + keepalive_s.to_bytes(2, "big")
    payload = len(ident).to_bytes(2, "big") + ident
    body = variable + payload
    assert len(body) < 128  # one-byte remaining length
    return bytes([0x10, len(body)]) + body


class IdleClients:
    """N MQTT clients that connect, get their CONNACK, and then stay silent.

    The keep-alive is long enough that no PINGREQ is needed while the memory is read.
    """

    def __init__(self, port, count, keepalive_s=900, prefix="footprint-"):
        self.port = port
        self.count = count
        self.keepalive_s = keepalive_s
        self.prefix = prefix
        self.sockets = []

    def connect(self, timeout_s):
        end = time.monotonic() + timeout_s
        for start in range(0, self.count, CONNECT_BATCH):
            batch = []
            for i in range(start, min(start + CONNECT_BATCH, self.count)):
                s = socket.create_connection(("127.0.0.1", self.port),
                                             timeout=max(1.0, end - time.monotonic()))
                s.sendall(connect_packet(f"{self.prefix}{i:06d}", self.keepalive_s))
                s.setblocking(False)
                batch.append(s)
                self.sockets.append(s)
            self._await_connacks(batch, end)

    def _await_connacks(self, batch, end):
        pending = {s: b"" for s in batch}
        with selectors.DefaultSelector() as sel:
            for s in batch:
                sel.register(s, selectors.EVENT_READ)
            while pending:
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{len(pending)} clients got no CONNACK in time")
                for key, _ in sel.select(left):
                    s = key.fileobj
                    data = s.recv(16)
                    if not data:
                        raise RuntimeError("the broker closed a client before its CONNACK")
                    got = pending[s] + data
                    if len(got) >= 4:
                        if got[0] != 0x20 or got[3] != 0:
                            raise RuntimeError(f"CONNACK refused: {got[:4].hex()}")
                        del pending[s]
                        sel.unregister(s)
                    else:
                        pending[s] = got

    def all_open(self):
        """True when the broker has closed none of the clients (a read sees no EOF)."""
        for s in self.sockets:
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    return False
            except BlockingIOError:
                continue
        return True

    def close(self):
        for s in self.sockets:
            s.close()
        self.sockets = []


def measure_broker(argv, port, clients, log_path, env=None, start_timeout_s=30,
                   connect_timeout_s=120):
    """Idle RSS, RSS with `clients` idle MQTT clients, of the process argv starts."""
    broker = Process(argv, log_path, env=env)
    holders = IdleClients(port, clients)
    try:
        broker.wait_listening(port, start_timeout_s)
        idle = settled_rss_kb(broker.pid)
        holders.connect(connect_timeout_s)
        loaded = settled_rss_kb(broker.pid, deadline_s=10.0)
        if not holders.all_open():
            raise RuntimeError("the broker dropped idle clients while they were held")
    finally:
        holders.close()
        broker.stop()
    return {"idle_kb": idle, "loaded_kb": loaded, "clients": clients,
            "per_connection_bytes": round((loaded - idle) * 1024 / clients) if clients else None}


def measure_idle(argv, log_path, env=None):
    """RSS of a program that just waits (the qemu baseline)."""
    proc = Process(argv, log_path, env=env)
    try:
        proc.wait_started(10)
        return settled_rss_kb(proc.pid)
    finally:
        proc.stop()
