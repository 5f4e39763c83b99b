#!/usr/bin/python3
"""Turns the raw output of bench/run_peers.sh into JSON and a Markdown table.

Usage: summarize.py WORK_DIR OUT_JSON OUT_MARKDOWN

WORK_DIR holds meta.env and rows/NAME.env (key=value lines written by the
script) which point at h2load's outputs and per-request log files, at
sluice-load's --json results and at the load generators' CPU times
(cpu_time.py). Standard library only.
"""

import json
import math
import os
import re
import statistics
import sys

PEERS = ("nghttpx", "haproxy", "nginx")
# An open-loop run whose calls/s completed in the measured window are further than this
# from its rate is marked: short, it fell behind; over, it was catching up on a backlog.
RATE_TOLERANCE = 0.03


def read_env(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                values[key] = value
    return values


def parse_h2load(path):
    """The summary lines of one h2load run; {} if it did not run."""
    if not path or not os.path.exists(path):
        return {}
    text = open(path, encoding="utf-8", errors="replace").read()
    out = {}
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", text)
    if m:
        seconds = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
        out["seconds"] = seconds
        out["req_per_s"] = float(m.group(3))
    m = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
        r"(\d+) failed, (\d+) errored, (\d+) timeout",
        text,
    )
    if m:
        keys = ("total", "started", "done", "succeeded", "failed", "errored", "timeout")
        out.update(zip(keys, map(int, m.groups())))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        out["status_2xx"], out["status_3xx"], out["status_4xx"], out["status_5xx"] = map(
            int, m.groups()
        )
    if not out:
        out["raw_tail"] = text.strip().splitlines()[-5:]
    return out


def percentile(sorted_values, q):
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_us(log_path):
    """p50/p90/p99/p99.9/max in microseconds over completed requests."""
    if not log_path or not os.path.exists(log_path):
        return {}
    durations = []
    failed = 0
    with open(log_path, encoding="utf-8") as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) < 3:
                continue
            if cols[1] == "-1":
                failed += 1
                continue
            durations.append(int(cols[2]))
    durations.sort()
    out = {"logged": len(durations), "logged_failed": failed}
    for q in (50, 90, 99, 99.9):
        out[f"p{q:g}"] = percentile(durations, q)
    out["max"] = durations[-1] if durations else None
    return out


def read_json(path):
    """The JSON object in PATH; {} if missing or unreadable."""
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def process_cpu(path, calls):
    """A load generator's own CPU (cpu_time.py output) per call and busy share."""
    usage = read_json(path)
    if "user_s" not in usage:
        return {}
    cpu_s = usage["user_s"] + usage["sys_s"]
    out = {"cpu_s": cpu_s, "wall_s": usage["wall_s"], "exit": usage.get("exit")}
    if calls:
        out["cpu_us_per_call"] = cpu_s * 1e6 / calls
    if usage["wall_s"]:
        out["busy_pct"] = cpu_s / usage["wall_s"] * 100
    return out


SLUICE_LOAD_KEYS = (
    "calls", "calls_per_second", "seconds", "ok", "errors", "unfinished", "status",
    "latency_ms", "backends", "cpu_seconds", "cpu_us_per_call", "rate", "concurrency",
    "connections",
)


def completed_in_window(series, warmup_s, duration_s):
    """Calls/s that completed between the warm-up and the end of sending.

    sluice-load's own calls_per_second also counts calls that complete while
    it drains a backlog after the run, so a run that fell behind can show more
    than its rate; the per-interval series shows what it kept up with."""
    if not series or not duration_s:
        return None
    end = warmup_s + duration_s + 1e-6
    calls = sum(p.get("calls", 0) for p in series if warmup_s + 1e-6 < p.get("t", 0) <= end)
    return calls / duration_s


def sluice_load_result(env, tag, clk_tck):
    """One sluice-load run: its summary (without the series) plus, over the
    whole run including warm-up and drain, the OK calls, the proxy's CPU per OK
    call and sluice-load's own CPU per OK call as cpu_time.py measured it."""
    result = read_json(env.get(f"sl_{tag}_json"))
    if not result:
        return {"error": " ".join(tail(env.get(f"sl_{tag}_out"), 2)) or "no result"}
    run = {k: result[k] for k in SLUICE_LOAD_KEYS if k in result}
    series = result.get("series", [])
    run["series_calls"] = [p.get("calls", 0) for p in series]
    all_ok = sum(p.get("calls", 0) - p.get("errors", 0) for p in series)
    run["ok_whole_run"] = all_ok
    ticks = env.get(f"sl_{tag}_proxy_ticks")
    if ticks not in (None, "") and all_ok:
        run["proxy_cpu_us_per_call"] = int(ticks) / clk_tck * 1e6 / all_ok
    run["process_cpu"] = process_cpu(env.get(f"sl_{tag}_cpu"), all_ok)
    # Who ran out of CPU: the proxy (cpu 0) or the backends plus sluice-load (cpu 1).
    wall = run["process_cpu"].get("wall_s")
    backend_ticks = env.get(f"sl_{tag}_backend_ticks")
    if wall and backend_ticks not in (None, ""):
        backend_s = int(backend_ticks) / clk_tck
        if all_ok:
            run["backend_cpu_us_per_call"] = backend_s * 1e6 / all_ok
        run["cpu1_busy_pct"] = (backend_s + run["process_cpu"]["cpu_s"]) / wall * 100
    if wall and ticks not in (None, ""):
        run["proxy_busy_pct"] = int(ticks) / clk_tck / wall * 100
    return run


def sluice_load_runs(env, clk_tck, warmup_s, duration_s):
    tags = env.get("sl_runs", "").split()
    if not tags:
        return None
    runs = {"closed": None, "open": {}}
    for tag in tags:
        run = sluice_load_result(env, tag, clk_tck)
        if tag == "closed":
            runs["closed"] = run
            continue
        rate = int(float(tag.removeprefix("open-")))
        run["target_rate"] = rate
        achieved = completed_in_window(
            read_json(env.get(f"sl_{tag}_json")).get("series"), warmup_s, duration_s
        )
        run["completed_per_second_in_window"] = achieved
        run["off_rate"] = achieved is None or abs(achieved - rate) > RATE_TOLERANCE * rate
        runs["open"][str(rate)] = run
    return runs


def sluice_calls_by_status(path):
    """Sums sluice_calls_total from an admin /metrics scrape by grpc_status."""
    if not path or not os.path.exists(path):
        return {}
    totals = {}
    pattern = re.compile(r'^sluice_calls_total\{.*grpc_status="([^"]*)".*\} (\d+)')
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pattern.match(line)
            if m:
                totals[m.group(1)] = totals.get(m.group(1), 0) + int(m.group(2))
    return totals


def tail(path, lines=15):
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().strip().splitlines()[-lines:]


def summarize_row(env, meta):
    clk_tck = int(meta.get("clk_tck") or 100)
    connections, streams = int(meta["connections"]), int(meta["streams"])
    row = {"name": env["name"]}
    if env.get("skipped"):
        row["skipped"] = env["skipped"]
        return row
    row["warmup"] = parse_h2load(env.get("warmup_out"))
    row["max"] = parse_h2load(env.get("max_out"))
    row["max"]["latency_us"] = latency_us(env.get("max_log"))
    row["rate"] = parse_h2load(env.get("rate_out"))
    row["rate"]["latency_us"] = latency_us(env.get("rate_log"))
    row["rate"]["rps_per_connection"] = int(env.get("rps_per_conn") or 0)

    for phase, key in (("max", "cpu_ticks_max"), ("rate", "cpu_ticks_rate")):
        ticks = env.get(key)
        calls = row[phase].get("succeeded")
        if ticks not in (None, "") and calls:
            cpu_s = int(ticks) / clk_tck
            row[phase]["proxy_cpu_s"] = cpu_s
            row[phase]["cpu_us_per_call"] = cpu_s * 1e6 / calls
            if row[phase].get("seconds"):
                row[phase]["proxy_cpu_busy_pct"] = cpu_s / row[phase]["seconds"] * 100

    row["max"]["h2load_cpu"] = process_cpu(env.get("max_cpu"), row["max"].get("succeeded"))
    sl = sluice_load_runs(
        env, clk_tck, float(meta.get("sl_warmup_s") or 0), float(meta.get("sl_duration_s") or 0)
    )
    if sl is not None:
        row["sluice_load"] = sl

    backend_ticks = env.get("backend_cpu_ticks_max")
    if backend_ticks and row["max"].get("succeeded"):
        row["max"]["backend_cpu_us_per_call"] = (
            int(backend_ticks) / clk_tck * 1e6 / row["max"]["succeeded"]
        )

    samples = [int(s) for s in env.get("upstream_conn_samples", "").split()]
    if samples:
        row["upstream_conns"] = {
            "samples": samples,
            "median": statistics.median(samples),
            "max": max(samples),
        }

    counts = [int(c) for c in env.get("backend_calls", "").split() if c]
    h2load_ok = sum(row[p].get("status_2xx", 0) for p in ("warmup", "max", "rate"))
    sl_runs = [r for r in sl_list(row) if "error" not in r]
    sl_ok = sum(r["ok_whole_run"] for r in sl_runs)
    row["backends"] = {
        "calls": counts,
        "h2load_2xx_all_runs": h2load_ok,
        "sluice_load_ok_all_runs": sl_ok,
    }
    # h2load -D stops with calls in flight: the backends served them, h2load
    # did not count them. At most connections x streams per run (3 runs).
    # sluice-load lets them finish, except those it reports unfinished.
    row["backends"]["in_flight_allowance"] = 3 * connections * streams + sum(
        r.get("unfinished", 0) for r in sl_runs
    )
    if counts and sum(counts):
        mean = sum(counts) / len(counts)
        row["backends"]["max_dev_from_mean_pct"] = max(abs(c - mean) for c in counts) / mean * 100

    errors = 0
    for phase in ("warmup", "max", "rate"):
        r = row[phase]
        errors += r.get("failed", 0) + r.get("errored", 0) + r.get("timeout", 0)
        errors += r.get("status_3xx", 0) + r.get("status_4xx", 0) + r.get("status_5xx", 0)
    row["h2load_errors_all_runs"] = errors

    if env.get("rss_before_kb"):
        mem = {
            "rss_before_kb": int(env["rss_before_kb"]),
            "rss_with_idle_kb": int(env["rss_with_idle_kb"]) if env.get("rss_with_idle_kb") else None,
            "rss_after_idle_kb": int(env["rss_after_idle_kb"]) if env.get("rss_after_idle_kb") else None,
        }
        try:
            mem["idle"] = json.loads(env.get("idle_result") or "{}")
        except json.JSONDecodeError:
            mem["idle"] = {}
        opened = mem["idle"].get("opened") or 0
        if mem["rss_with_idle_kb"] is not None and opened:
            mem["kb_per_idle_conn"] = (mem["rss_with_idle_kb"] - mem["rss_before_kb"]) / opened
        row["memory"] = mem

    row["proxy_alive_at_end"] = env.get("proxy_alive_at_end") == "1"
    metrics = sluice_calls_by_status(env.get("metrics_file"))
    if metrics:
        row["sluice_calls_by_grpc_status"] = metrics
    stderr = tail(env.get("stderr_file"))
    if stderr:
        row["stderr_tail"] = stderr
    return row


def sl_list(row):
    """The row's sluice-load runs, closed loop first."""
    sl = row.get("sluice_load") or {}
    runs = [sl["closed"]] if sl.get("closed") else []
    return runs + list(sl.get("open", {}).values())


def add_ratios(rows):
    """CPU us/call divided by the best (lowest) peer's, per phase."""
    for phase in ("max", "rate"):
        peer_costs = [
            r[phase]["cpu_us_per_call"]
            for r in rows
            if r["name"] in PEERS and "cpu_us_per_call" in r.get(phase, {})
        ]
        if not peer_costs:
            continue
        best = min(peer_costs)
        for r in rows:
            cost = r.get(phase, {}).get("cpu_us_per_call")
            if cost is not None:
                r[phase]["cpu_vs_best_peer"] = cost / best


def fmt(value, spec="{:.0f}", missing="–"):
    return missing if value is None else spec.format(value)


def ms(us):
    return fmt(None if us is None else us / 1000, "{:.2f}")


def table_row(*cells):
    return "| " + " | ".join(cells) + " |"


def row_problems(r, meta):
    """Short notes on anything that went wrong in a row."""
    problems = []
    if r["h2load_errors_all_runs"]:
        problems.append(f"{r['h2load_errors_all_runs']} h2load failures/non-2xx")
    for run in sl_list(r):
        if "error" in run:
            problems.append(f"sluice-load: {run['error']}")
    counts = r["backends"]["calls"]
    got = r["backends"]["h2load_2xx_all_runs"] + r["backends"]["sluice_load_ok_all_runs"]
    missing = got - sum(counts)
    if counts and (missing > 0 or -missing > r["backends"]["in_flight_allowance"]):
        problems.append(
            f"backends served {sum(counts)}, the load generators got {got} OK "
            f"(h2load {r['backends']['h2load_2xx_all_runs']} 2xx)"
        )
    if r["name"] != "direct" and not r["proxy_alive_at_end"]:
        problems.append("proxy died")
    idle = r.get("memory", {}).get("idle", {})
    if idle and idle.get("opened") != idle.get("requested"):
        note = f"idle: {idle.get('opened')}/{idle.get('requested')} opened"
        if r["name"] in ("haproxy", "l4"):
            note += f" (maxconn {meta.get('haproxy_maxconn')}, capped by fd limit {meta.get('fd_limit')})"
        problems.append(note)
    if idle and idle.get("alive_after_hold") != idle.get("opened"):
        problems.append(f"idle: only {idle.get('alive_after_hold')} still open after the hold")
    return problems


def sluice_load_sentence(meta):
    if meta.get("sluice_load_skipped"):
        return ""
    conns = int(meta["connections"])
    in_flight = conns * int(meta["streams"])
    return (
        f"Then sluice-load, one thread: closed loop, {conns} connections, {in_flight} calls in "
        f"flight, {meta['duration_s']} s; open loop at "
        f"{', '.join(meta.get('sl_rates', '').split())} calls/s, {conns} connections, "
        f"{meta.get('sl_warmup_s', 1)} s warm-up + {meta.get('sl_duration_s')} s each. "
    )


def latency_triple(latency):
    return "/".join(fmt(latency.get(q), "{:.2f}") for q in ("p50", "p99", "p99.9"))


def open_loop_table(meta, rows):
    """One row per proxy, for each rate: p50/p99/p99.9 and proxy CPU per call."""
    rates = meta.get("sl_rates", "").split()
    head = "| proxy | " + " | ".join(
        f"{rate}/s p50/p99/p99.9 ms | {rate}/s CPU µs/call" for rate in rates
    ) + " |"
    table = [
        "",
        f"sluice-load, open loop ({meta['connections']} connections, "
        f"{meta.get('sl_duration_s')} s measured per rate):",
        "",
        head,
        "|---|" + "---:|---:|" * len(rates),
    ]
    notes = []
    for r in rows:
        if r.get("skipped"):
            table.append(f"| {r['name']} | skipped |" + " |" * (2 * len(rates) - 1))
            continue
        cells = [r["name"]]
        runs = (r.get("sluice_load") or {}).get("open", {})
        for rate in rates:
            run = runs.get(str(int(float(rate))), {})
            if not run or "error" in run:
                cells += ["–", "–"]
                notes.append(f"† {r['name']} at {rate}/s: {run.get('error', 'no run')}.")
                continue
            latency = latency_triple(run.get("latency_ms", {}))
            failed = run.get("errors", 0) + run.get("unfinished", 0)
            if run["off_rate"] or failed:
                latency += " †"
                notes.append(
                    f"† {r['name']} at {rate}/s: "
                    f"{fmt(run.get('completed_per_second_in_window'))} calls/s completed in "
                    f"the window, {run.get('errors', 0)} errors, {run.get('unfinished', 0)} "
                    f"unfinished; proxy busy {fmt(run.get('proxy_busy_pct'))}%, cpu 1 "
                    f"(backends + sluice-load) busy {fmt(run.get('cpu1_busy_pct'))}%."
                )
            cells += [latency, fmt(run.get("proxy_cpu_us_per_call"), "{:.1f}")]
        table.append(table_row(*cells))
    if notes:
        table += [""] + [f"- {note}" for note in notes]
    return table


def load_generator_table(meta, rows):
    """h2load and sluice-load, same closed loop: their own cost per call."""
    conns = int(meta["connections"])
    table = [
        "",
        f"Load generators, closed loop ({conns} connections, {conns * int(meta['streams'])} "
        f"calls in flight, {meta['duration_s']} s each):",
        "",
        "| proxy | h2load calls/s | h2load CPU µs/call | h2load CPU % | sluice-load calls/s "
        "| p50 ms | p99 ms | proxy CPU µs/call | sluice-load CPU µs/call | sluice-load CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.get("skipped"):
            table.append(f"| {r['name']} | skipped |" + " |" * 8)
            continue
        h2 = r["max"].get("h2load_cpu", {})
        sl = (r.get("sluice_load") or {}).get("closed") or {}
        sl_cpu = sl.get("process_cpu", {})
        latency = sl.get("latency_ms", {})
        table.append(
            table_row(
                r["name"],
                fmt(r["max"].get("req_per_s")),
                fmt(h2.get("cpu_us_per_call"), "{:.1f}"),
                fmt(h2.get("busy_pct")),
                fmt(sl.get("calls_per_second")),
                fmt(latency.get("p50"), "{:.2f}"),
                fmt(latency.get("p99"), "{:.2f}"),
                fmt(sl.get("proxy_cpu_us_per_call"), "{:.1f}"),
                fmt(sl_cpu.get("cpu_us_per_call"), "{:.1f}"),
                fmt(sl_cpu.get("busy_pct")),
            )
        )
    return table


def markdown(meta, rows):
    out = [f"### Peer run, {meta['date']}", ""]
    out.append(
        f"Machine: {meta['nproc']} CPUs, {meta['cpu_model']}, {meta['kernel']}. "
        f"Proxy pinned to cpu 0 with one worker; the load generator (h2load or sluice-load) "
        f"and 3 sluice-testservers on cpu 1."
    )
    out.append(
        "Versions: "
        + "; ".join(
            meta[k]
            for k in ("sluice_version", "nghttpx_version", "haproxy_version", "nginx_version",
                      "h2load_version")
            if meta.get(k)
        )
        + "."
    )
    if meta.get("sluice_build"):
        out.append(f"Sluice binary: {meta['sluice_build']}.")
    if meta.get("sluice_load_build") and not meta.get("sluice_load_skipped"):
        out.append(f"sluice-load binary: {meta['sluice_load_build']}.")
    out.append(
        f"Load: gRPC unary, empty CallRequest, h2load -c {meta['connections']} "
        f"-m {meta['streams']}, {meta['warmup_s']} s warm-up then {meta['duration_s']} s "
        f"closed loop; then {meta['duration_s']} s at {meta['rate']} calls/s (--rps per "
        f"connection); then {meta['idle_conns']} idle h2 connections. "
        + sluice_load_sentence(meta)
        + f"Command: `{meta['command']}`."
    )
    load_table = [
        "",
        f"Closed loop ({meta['duration_s']} s, as fast as it goes):",
        "",
        "| proxy | calls/s | p50 ms | p99 ms | CPU µs/call | × best peer | proxy CPU % "
        "| backend CPU µs/call | upstream conns | backend split | problems |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    rate_table = [
        "",
        f"Fixed rate ({meta['rate']} calls/s) and memory ({meta['idle_conns']} idle h2 "
        "connections):",
        "",
        "| proxy | calls/s | p50 ms | p99 ms | CPU µs/call | × best peer | RSS fresh MB "
        "| RSS with idle MB | KB/idle conn | idle conns opened/still open |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r.get("skipped"):
            load_table.append(f"| {r['name']} | skipped: {r['skipped']} |" + " |" * 9)
            rate_table.append(f"| {r['name']} | skipped |" + " |" * 8)
            continue
        mx, rt = r["max"], r["rate"]
        mem = r.get("memory", {})
        idle = mem.get("idle", {})
        up = r.get("upstream_conns", {})
        counts = r["backends"]["calls"]
        split = "/".join(str(c) for c in counts) if counts else "–"
        if r["name"] == "l4" and counts:
            split += " (per conn)"
        problems = row_problems(r, meta)
        r["has_problems"] = bool(problems)
        if r["name"] == "direct":
            upstream = "–"
        else:
            upstream = f"{up.get('median', 0):g} (max {up.get('max', 0)})" if up else "–"
        load_table.append(
            table_row(
                r["name"],
                fmt(mx.get("req_per_s")),
                ms(mx.get("latency_us", {}).get("p50")),
                ms(mx.get("latency_us", {}).get("p99")),
                fmt(mx.get("cpu_us_per_call"), "{:.1f}"),
                fmt(mx.get("cpu_vs_best_peer"), "{:.2f}"),
                fmt(mx.get("proxy_cpu_busy_pct")),
                fmt(mx.get("backend_cpu_us_per_call"), "{:.1f}"),
                upstream,
                split,
                "; ".join(problems) or "none",
            )
        )
        with_kb = mem.get("rss_with_idle_kb")
        idle_counts = (
            f"{idle.get('opened')}/{idle.get('alive_after_hold')}" if idle else "–"
        )
        rate_table.append(
            table_row(
                r["name"],
                fmt(rt.get("req_per_s")),
                ms(rt.get("latency_us", {}).get("p50")),
                ms(rt.get("latency_us", {}).get("p99")),
                fmt(rt.get("cpu_us_per_call"), "{:.1f}"),
                fmt(rt.get("cpu_vs_best_peer"), "{:.2f}"),
                fmt(mem.get("rss_before_kb") and mem["rss_before_kb"] / 1024, "{:.1f}"),
                fmt(with_kb and with_kb / 1024, "{:.1f}"),
                fmt(mem.get("kb_per_idle_conn"), "{:.1f}"),
                idle_counts,
            )
        )
    out += load_table + rate_table
    if meta.get("sluice_load_skipped"):
        out += ["", f"sluice-load runs skipped: {meta['sluice_load_skipped']}."]
    else:
        out += open_loop_table(meta, rows) + load_generator_table(meta, rows)
    out += [
        "",
        "CPU µs/call = proxy utime+stime (all its processes) over the run / calls that got HTTP "
        "200; × best peer divides by the lowest of nghttpx, HAProxy and nginx in this run; "
        "proxy CPU % = its CPU time / wall time (100 = cpu 0 saturated); backend CPU µs/call = "
        "the 3 testservers' CPU time over the same run / calls (they share cpu 1 with h2load). "
        "Latency percentiles come from h2load's per-request log. Upstream conns: established "
        "proxy→backend connections sampled each second of the closed-loop run (median, max). "
        "Backend split: calls each testserver served over all runs of the row (direct uses one). "
        "RSS: sum of VmRSS over the proxy's processes, freshly started, then with the idle "
        "connections open (KB/conn = difference / connections opened). l4 is HAProxy in mode "
        "tcp: it pins each client connection to one backend (roundrobin per connection), so "
        "its backend split follows the connections, not the calls.",
        "",
    ]
    if not meta.get("sluice_load_skipped"):
        out += [
            "sluice-load, open loop: call i is due at start + i/rate and its latency counts from "
            "then, so stalls show up as latency (no coordinated omission); the first "
            f"{meta.get('sl_warmup_s', 1)} s of each run is warm-up and not counted. p50/p99/p99.9 "
            "ms over the calls that finished after the warm-up; proxy CPU µs/call = proxy "
            "utime+stime over the whole run / OK calls in it (warm-up and drain included). "
            "† = the calls/s completed between the warm-up and the end of sending were more "
            f"than {RATE_TOLERANCE:.0%} off the rate (short: the target fell behind; over: it "
            "was still catching up on a backlog from the warm-up; sluice-load's own calls/s "
            "also counts the backlog it drains after the run), or errors or unfinished "
            "calls (details under the table, with how busy each cpu was over the run). "
            "Load generators: the same closed loop (same connections and calls in flight) "
            "once with h2load, once with sluice-load, both on "
            "cpu 1; CPU µs/call = the generator's own utime+stime (getrusage of the process, "
            "by bench/peers/cpu_time.py) over its whole run / OK calls; CPU % = that CPU time / "
            "wall time (100 = cpu 1 to itself, which it shares with the backends); proxy CPU "
            "µs/call is the proxy's over the sluice-load run, to set beside the h2load figure "
            "in the closed-loop table.",
            "",
        ]
    for r in rows:
        if r.get("sluice_calls_by_grpc_status"):
            by_status = ", ".join(
                f"{k} {v}" for k, v in sorted(r["sluice_calls_by_grpc_status"].items())
            )
            out += [f"Sluice's own count (admin /metrics, sluice_calls_total): {by_status}.", ""]
    for r in rows:
        if r.get("stderr_tail") and (r["name"] == "sluice" or r.get("has_problems")):
            out.append(f"{r['name']} stderr (last lines):")
            out.append("```")
            out += r["stderr_tail"]
            out.append("```")
            out.append("")
    return "\n".join(out)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    work, out_json, out_md = sys.argv[1:]
    meta = read_env(os.path.join(work, "meta.env"))
    rows = []
    for name in meta["rows"].split():
        path = os.path.join(work, "rows", f"{name}.env")
        if os.path.exists(path):
            rows.append(summarize_row(read_env(path), meta))
    add_ratios(rows)
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=2)
        f.write("\n")
    with open(out_md, "w", encoding="utf-8") as f:
        f.write(markdown(meta, rows))


if __name__ == "__main__":
    main()
