#!/usr/bin/python3
"""CPU and memory of active health checks against 1000 endpoints: sluice beside HAProxy.

1000 endpoints = sluice-testservers on cpu 1, each listening on many loopback ports
(--ports). Each row starts a fresh proxy (one worker, pinned to cpu 0) with one cluster of all
of them, waits until every endpoint is healthy (sluice: sluice_endpoint_healthy; haproxy: its
stats socket says UP), then measures the proxy's CPU time (user + sys) over SECONDS and its RSS:
  sluice off:    no health_check (the idle baseline);
  sluice watch:  health_check {interval: INTERVAL, no_traffic_interval: INTERVAL} (no calls
                 flow, so the no-traffic interval would apply), Watch (one stream each);
  sluice check:  the same against --health check-only backends (a Check per endpoint per interval);
  haproxy tcp:   `check inter INTERVAL` (a TCP connect per endpoint per interval: HAProxy has no
                 gRPC health check; it is the cheapest active check a peer does).
Prints a Markdown table, writes bench-out/health_checks.json and appends the table with the
command and machine to docs/benchmarks.md (DOC= to skip). Knobs (env): ENDPOINTS=1000
SERVERS=4 SECONDS=20 INTERVAL_MS=1000 ROWS="off watch check haproxy". Every process it starts
is stopped by PID.
"""

import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.join(ROOT, "build/release/bin"))
ENDPOINTS = int(os.environ.get("ENDPOINTS", "1000"))
SERVERS = int(os.environ.get("SERVERS", "4"))
SECONDS = float(os.environ.get("SECONDS", "20"))
INTERVAL_MS = int(os.environ.get("INTERVAL_MS", "1000"))
ROWS = os.environ.get("ROWS", "off watch check haproxy").split()
OUT_DIR = os.environ.get("OUT_DIR", os.path.join(ROOT, "bench-out"))
DOC = os.environ.get("DOC", os.path.join(ROOT, "docs/benchmarks.md"))
PROXY_CPU, BACKEND_CPU = "0", "1"
TICKS = os.sysconf("SC_CLK_TCK")


def start(work, name, args, cpu):
    out = open(os.path.join(work, name + ".out"), "w")
    err = open(os.path.join(work, name + ".err"), "w")
    return subprocess.Popen(["taskset", "-c", cpu] + args, stdout=out, stderr=err,
                            stdin=subprocess.DEVNULL)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(what, condition, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"health_checks: process exited while waiting for {what}")
        if condition():
            return
        time.sleep(0.1)
    raise SystemExit(f"health_checks: timed out waiting for {what}")


def lines(path, prefix):
    with open(path) as f:
        return [l[len(prefix):].strip() for l in f if l.startswith(prefix)]


def start_backends(work, health):
    per = -(-ENDPOINTS // SERVERS)
    procs, addresses = [], []
    for i in range(SERVERS):
        n = min(per, ENDPOINTS - len(addresses))
        name = f"backend-{health}-{i}"
        p = start(work, name, [os.path.join(BIN, "sluice-testserver"), "--ports", str(n),
                               "--health", health], BACKEND_CPU)
        out = os.path.join(work, name + ".out")
        wait_for("backend ports", lambda: len(lines(out, "listening on ")) >= n, p)
        procs.append(p)
        addresses += lines(out, "listening on ")[:n]
    return procs, addresses


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        kib = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return kib / 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sluice_row(work, row, addresses):
    health = "" if row == "off" else (
        f"    health_check: {{interval: {INTERVAL_MS}ms, initial_jitter: {INTERVAL_MS}ms, "
        f"no_traffic_interval: {INTERVAL_MS}ms}}\n")
    path = os.path.join(work, f"sluice-{row}.yaml")
    with open(path, "w") as f:
        f.write("workers: 1\nadmin: {address: 127.0.0.1:0}\nlisteners:\n"
                "  - {name: main, address: 127.0.0.1:0}\nclusters:\n  - name: backends\n"
                + health + "    endpoints:\n" + "".join(f"      - {a}\n" for a in addresses))
    proc = start(work, f"sluice-{row}", [os.path.join(BIN, "sluice"), "--config", path,
                                         "--log-level", "warn"], PROXY_CPU)
    out = os.path.join(work, f"sluice-{row}.out")
    wait_for("the admin line", lambda: lines(out, "admin listening on "), proc)
    admin = lines(out, "admin listening on ")[0]

    def healthy():
        page = urllib.request.urlopen(f"http://{admin}/metrics", timeout=5).read().decode()
        return len(re.findall(r'^sluice_endpoint_healthy\{[^}]*\} 1$', page, re.M))

    if row != "off":
        wait_for("every endpoint healthy", lambda: healthy() == len(addresses), proc, 120)
    return proc, (healthy() if row != "off" else None)


def haproxy_row(work, addresses):
    path = os.path.join(work, "haproxy.cfg")
    stats = os.path.join(work, "haproxy.sock")
    with open(path, "w") as f:
        f.write(f"global\n  maxconn 4096\n  stats socket {stats} level admin\n"
                "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 30s\n"
                f"  timeout server 30s\n  timeout check 1s\nlisten grpc\n"
                f"  bind 127.0.0.1:{free_port()}\n  balance roundrobin\n"
                + "".join(f"  server s{i} {a} check inter {INTERVAL_MS}ms\n"
                          for i, a in enumerate(addresses)))
    proc = start(work, "haproxy", ["haproxy", "-db", "-f", path], PROXY_CPU)

    def up():
        if not os.path.exists(stats):
            return 0
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(stats)
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        text = data.decode(errors="replace")
        return sum(1 for l in text.splitlines() if l.startswith("grpc,s") and ",UP" in l)

    wait_for("every server UP", lambda: up() == len(addresses), proc, 120)
    return proc, up()


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sluice-health-bench-")
    results = []
    backends = {}
    try:
        for row in ROWS:
            health = "check-only" if row == "check" else "watch"
            if health not in backends:
                backends[health] = start_backends(work, health)
            addresses = backends[health][1]
            if row == "haproxy":
                if not shutil.which("haproxy"):
                    print("health_checks: haproxy missing; row skipped")
                    continue
                proc, healthy = haproxy_row(work, addresses)
                label = f"haproxy tcp check, inter {INTERVAL_MS} ms"
            else:
                proc, healthy = sluice_row(work, row, addresses)
                label = {"off": "sluice, no health checks",
                         "watch": f"sluice grpc.health.v1 Watch, interval {INTERVAL_MS} ms",
                         "check": f"sluice grpc.health.v1 Check, interval {INTERVAL_MS} ms"}[row]
            try:
                before, t0 = cpu_seconds(proc.pid), time.monotonic()
                time.sleep(SECONDS)  # the measurement window itself
                used, took = cpu_seconds(proc.pid) - before, time.monotonic() - t0
                results.append({"row": row, "label": label, "endpoints": len(addresses),
                                "healthy": healthy, "cpu_percent": 100 * used / took,
                                "rss_mib": rss_mib(proc.pid)})
            finally:
                stop(proc)
    finally:
        for procs, _ in backends.values():
            for p in procs:
                stop(p)
    table = ["| Setup | endpoints | CPU of one core | RSS |", "|---|---|---|---|"]
    for r in results:
        table.append(f"| {r['label']} | {r['endpoints']} | {r['cpu_percent']:.1f}% | "
                     f"{r['rss_mib']:.1f} MiB |")
    print("\n".join(table))
    with open(os.path.join(OUT_DIR, "health_checks.json"), "w") as f:
        json.dump({"seconds": SECONDS, "interval_ms": INTERVAL_MS, "results": results}, f, indent=2)
    if DOC:
        with open(DOC, "a") as f:
            f.write(f"\n### Health checks against {ENDPOINTS} endpoints "
                    f"({datetime.date.today()}, {platform.node()}, {os.cpu_count()} cores)\n\n"
                    f"`bench/health_checks.py` (SECONDS={SECONDS:g}, INTERVAL_MS={INTERVAL_MS})"
                    ": the proxy's CPU over the window, all endpoints healthy.\n\n"
                    + "\n".join(table) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
