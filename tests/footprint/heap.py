# SPDX-License-Identifier: Apache-2.0
"""Heap profile of Midge holding idle clients, for tests/footprint/measure --heap-profile.

Runs the broker under heaptrack (LD_PRELOAD, so the profiled process is midge itself,
a child of heaptrack's shell script), holds N idle clients, stops midge, and reads the
allocation sites ranked by their share of the peak heap: with N clients held, the sites
that scale with connections are on top.
"""
import os
import re
import signal
import subprocess
import time

import probe


def _child_named(parent_pid, name, timeout_s=20):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for task in os.listdir(f"/proc/{parent_pid}/task"):
            with open(f"/proc/{parent_pid}/task/{task}/children") as f:
                for pid in f.read().split():
                    try:
                        with open(f"/proc/{pid}/comm") as c:
                            if c.read().strip() == name:
                                return int(pid)
                    except FileNotFoundError:
                        continue
        time.sleep(0.05)
    raise RuntimeError(f"no {name} process under heaptrack")


def profile(binary, conf, port, clients, root, top=12):
    out_base = os.path.join(root, "heaptrack-midge")
    for stale in (out_base + ".zst", out_base + ".gz"):
        if os.path.exists(stale):
            os.remove(stale)
    wrapper = probe.Process(["heaptrack", "-o", out_base, binary, "-c", conf],
                            os.path.join(root, "heaptrack-run.log"))
    holders = probe.IdleClients(port, clients)
    try:
        midge_pid = _child_named(wrapper.pid, "midge")
        wrapper.wait_listening(port, 60)
        holders.connect(120)
        probe.settled_rss_kb(midge_pid, deadline_s=10.0)
        # Killed while it holds the clients: what is still allocated then is the held
        # state. A clean stop would not do: a shutdown arms a flush timer per connection,
        # and clients leaving first make libevent read each EOF into a fresh 4 KiB chunk,
        # and either burst would become the peak.
        os.kill(midge_pid, signal.SIGKILL)
        wrapper.proc.wait(60)
    finally:
        holders.close()
        wrapper.stop()
    data = next(p for p in (out_base + ".zst", out_base + ".gz") if os.path.exists(p))
    text = subprocess.run(["heaptrack_print", "-f", data, "-p", "1", "-a", "0", "-T", "0",
                           "-n", str(top), "-s", "3"],
                          check=True, capture_output=True, text=True).stdout
    with open(os.path.join(root, "heaptrack-midge.txt"), "w") as f:
        f.write(text)
    return {"clients": clients, "data": data, "sites": parse_peaks(text),
            "summary": [line.strip() for line in text.splitlines()
                        if line.startswith(("peak heap memory consumption",
                                            "total memory leaked", "calls to allocation"))]}


PEAK_LINE = re.compile(r"^([\d.]+)([KMG]?)B? peak memory consumed over (\d+) calls from")
UNITS = {"": 1, "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3}


def parse_peaks(text):
    """Sites of the PEAK MEMORY CONSUMERS section: bytes at peak, calls, the allocating
    function (first frame that is not an allocator) and its first callers."""
    section = text.split("PEAK MEMORY CONSUMERS", 1)[-1]
    for end in ("MOST CALLS TO ALLOCATION", "MOST TEMPORARY", "MEMORY LEAKS", "total runtime"):
        section = section.split(end, 1)[0]
    sites, current, in_callers = [], None, False
    for line in section.splitlines():
        m = PEAK_LINE.match(line)
        if m:
            current = {"bytes": round(float(m.group(1)) * UNITS[m.group(2)]),
                       "calls": int(m.group(3)), "frames": []}
            sites.append(current)
            in_callers = False
            continue
        if current is None or not line.strip():
            continue
        if CALLERS_LINE.match(line):
            if in_callers:
                current = None  # only the first (largest) call path of a merged site
            in_callers = True
            continue
        stripped = line.strip()
        if stripped.startswith(("at ", "in ")):
            continue
        if len(current["frames"]) < 3 and not stripped.startswith(LIBRARY_FRAMES):
            current["frames"].append(stripped)
    return sites


# Allocator plumbing and unnamed frames say nothing about who allocates.
LIBRARY_FRAMES = ("std::", "__gnu_cxx::", "operator new", "0x", "call_init", "_dl_")
CALLERS_LINE = re.compile(r"^\s*[\d.]+[KMG]?B? consumed over \d+ calls from:")


def markdown(result):
    lines = [f"### Heap at peak with {result['clients']:,} idle clients (heaptrack)", "",
             "| at peak | calls | per client | allocated in (innermost first) |",
             "|---:|---:|---:|---|"]
    for site in result["sites"]:
        per = site["bytes"] / result["clients"] if result["clients"] else 0
        frames = " ← ".join(f"`{f[:70]}`" for f in site["frames"][:3])
        lines.append(f"| {site['bytes'] / 1024:,.0f} KiB | {site['calls']:,} | {per:,.0f} B "
                     f"| {frames} |")
    lines += [""] + [f"- {s}" for s in result["summary"]]
    return "\n".join(lines)
