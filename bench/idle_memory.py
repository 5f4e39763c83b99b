#!/usr/bin/python3
"""Memory per idle HTTP/2 connection, fresh and after use: sluice beside HAProxy and nghttpx.

For each proxy (one worker/thread, pinned to cpu 0; 3 sluice-testservers and the clients on
cpu 1), on a fresh process:
  fresh idle: FRESH connections that only did the HTTP/2 handshake (bench/peers/idle_conns.py);
  used idle:  USED connections that made CALLS unary calls each, then stay open and idle
              (sluice-load --hold), after a warm-up run of the same shape (100 calls each).
Per connection = (RSS with them - RSS before) / count. A proxy that keeps per-stream state
after streams close (nghttp2's closed-stream retention, say) shows it in the used column.

Prints a Markdown table, writes bench-out/idle_memory.json and appends the table with the
command and machine to docs/benchmarks.md (DOC= to skip). Every process it starts is stopped
by PID. Knobs (env): FRESH=1000 USED=200 CALLS=1000 PROXIES="sluice haproxy nghttpx".
"""

import datetime
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.join(ROOT, "build/release/bin"))
FRESH = int(os.environ.get("FRESH", "1000"))
USED = int(os.environ.get("USED", "200"))
CALLS = int(os.environ.get("CALLS", "1000"))
PROXIES = os.environ.get("PROXIES", "sluice haproxy nghttpx").split()
OUT_DIR = os.environ.get("OUT_DIR", os.path.join(ROOT, "bench-out"))
DOC = os.environ.get("DOC", os.path.join(ROOT, "docs/benchmarks.md"))
PROXY_CPU, LOAD_CPU = "0", "1"


class Processes:
    def __init__(self, work):
        self.work, self.procs = work, []

    def start(self, name, args, cpu):
        out = open(os.path.join(self.work, name + ".out"), "w")
        err = open(os.path.join(self.work, name + ".err"), "w")
        proc = subprocess.Popen(["taskset", "-c", cpu] + args, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for proc in reversed(self.procs):
            self.stop(proc)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
    raise SystemExit(f"idle_memory: nothing accepts on port {port}")


def wait_line(path, prefix, proc, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit(f"idle_memory: no '{prefix}' line in {path}")


def rss_kib(pid):
    """RSS of a process and its children (nghttpx forks a worker)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            pass
    return total


def start_proxy(procs, work, name, backends):
    port = free_port()
    if name == "sluice":
        args = [os.path.join(BIN, "sluice"), "--listen", f"127.0.0.1:{port}", "--workers", "1",
                "--admin", "127.0.0.1:0", "--log-level", "warn"]
        for b in backends:
            args += ["--upstream", b]
    elif name == "haproxy":
        with open(os.path.join(ROOT, "bench/peers/haproxy.cfg.in")) as f:
            config = f.read()
        config = config.replace("@LISTEN_PORT@", str(port))
        config = config.replace("@HAPROXY_MAXCONN@", str(FRESH + USED + 1000))
        for i, b in enumerate(backends, 1):
            config = config.replace(f"@BACKEND_PORT_{i}@", b.rsplit(":", 1)[1])
        path = os.path.join(work, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(config)
        args = ["haproxy", "-db", "-f", path]
    elif name == "nghttpx":
        args = ["nghttpx", "--conf=/dev/null", f"--frontend=127.0.0.1,{port};no-tls", "-n1",
                "--log-level=WARN"]
        args += [f"--backend=127.0.0.1,{b.rsplit(':', 1)[1]};;proto=h2" for b in backends]
    else:
        raise SystemExit(f"idle_memory: unknown proxy {name}")
    proc = procs.start(name, args, PROXY_CPU)
    wait_port(port, proc)
    return proc, port


def measure(name, work):
    procs = Processes(work)
    try:
        backends = []
        for i in range(1, 4):
            b = procs.start(f"{name}-b{i}", [os.path.join(BIN, "sluice-testserver"), "--listen",
                                             "127.0.0.1:0", "--id", f"b{i}"], LOAD_CPU)
            backends.append(wait_line(os.path.join(work, f"{name}-b{i}.out"), "listening on ", b))
        # Each column on a process of its own: memory a proxy frees late (after the fresh
        # connections closed, say) must not land in the other column.
        proxy, port = start_proxy(procs, work, name, backends)
        time.sleep(0.5)
        before = rss_kib(proxy.pid)
        idle = procs.start(f"{name}-idle", [sys.executable, os.path.join(ROOT, "bench/peers/idle_conns.py"),
                                            "127.0.0.1", str(port), str(FRESH), "3"], LOAD_CPU)
        ready = wait_line(os.path.join(work, f"{name}-idle.out"), "ready ", idle).split()
        time.sleep(1)
        with_fresh = rss_kib(proxy.pid)
        idle.wait(60)
        procs.stop(proxy)

        proxy, port = start_proxy(procs, work, name, backends)
        load = [os.path.join(BIN, "sluice-load"), f"127.0.0.1:{port}", "--quiet", "--duration",
                "300s"]
        # Warm-up of the same shape (the proxy's heap reaches its working size), so what
        # the measured run adds is what its idle connections keep.
        used = ["--connections", str(USED), "--concurrency", str(USED)]
        subprocess.run(["taskset", "-c", LOAD_CPU] + load + used + ["--calls", str(USED * 100)],
                       check=True, stdout=subprocess.DEVNULL)
        time.sleep(1)
        before_used = rss_kib(proxy.pid)
        held = procs.start(f"{name}-used", load + used + ["--calls", str(USED * CALLS),
                                                          "--hold", "60s"], LOAD_CPU)
        wait_line(os.path.join(work, f"{name}-used.out"), "holding ", held)
        time.sleep(1)
        with_used = rss_kib(proxy.pid)
        procs.stop(held)
        opened = int(ready[0])
        return {
            "proxy": name,
            "fresh_connections": opened,
            "fresh_kib_per_connection": round((with_fresh - before) / max(1, opened), 2),
            "used_connections": USED,
            "calls_per_used_connection": CALLS,
            "used_kib_per_connection": round((with_used - before_used) / USED, 2),
            "rss_fresh_process_kib": before,
        }
    finally:
        procs.stop_all()


def main():
    for tool in ("sluice", "sluice-testserver", "sluice-load"):
        if not os.access(os.path.join(BIN, tool), os.X_OK):
            raise SystemExit(f"idle_memory: {BIN}/{tool} is missing (make build)")
    rows, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="sluice-idle-") as work:
        for name in PROXIES:
            if name != "sluice" and shutil.which(name) is None:
                skipped.append(f"{name}: not installed")
                continue
            print(f"[idle_memory] {name}", file=sys.stderr, flush=True)
            rows.append(measure(name, work))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = [f"| proxy | fresh idle, KiB/conn ({FRESH} conns) | used idle, KiB/conn "
             f"({USED} conns x {CALLS} calls) |", "|---|---|---|"]
    for r in rows:
        table.append(f"| {r['proxy']} | {r['fresh_kib_per_connection']} | "
                     f"{r['used_kib_per_connection']} |")
    text = "\n".join(table)
    print(text)
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "idle_memory.json"), "w") as f:
        json.dump({"at": stamp, "machine": platform.platform(), "cpus": os.cpu_count(),
                   "rows": rows, "skipped": skipped}, f, indent=2)
    if DOC:
        with open(DOC, "a") as f:
            f.write(f"\n### Idle connection memory, {stamp}\n\n`bench/idle_memory.py` "
                    f"(FRESH={FRESH} USED={USED} CALLS={CALLS}) on {platform.node()}, "
                    f"{os.cpu_count()} CPUs; proxy on cpu 0, clients and backends on cpu 1.\n\n"
                    f"{text}\n")
            if skipped:
                f.write("\nSkipped: " + "; ".join(skipped) + "\n")


if __name__ == "__main__":
    main()
