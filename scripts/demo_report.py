"""The demo's numbers and pictures, from sluice-load's JSON results (see scripts/demo.py).

Fair share: with N backends each should get 1/N of the calls; a backend "has its fair share"
when it gets at least 80% of that over a 0.5 s window. Time to fair share: from the moment the
new backends joined to the start of the first such window (starting after the join) in which
every new backend had it; sluice-load's series points (100 ms) set the resolution.
"""
import html
import os

FAIR = 0.8  # of 1/N
WINDOW_S = 0.5
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#17becf"]


def shares(points):
    """Share of calls per backend over `points` (a list of series points)."""
    total = sum(p["calls"] for p in points)
    per = {}
    for p in points:
        for b, n in p["backends"].items():
            per[b] = per.get(b, 0) + n
    return {b: n / total for b, n in per.items()} if total else {}


def summarize_side(result, joined_wall, new_names, backends):
    series = result["series"]
    step = result["interval_s"]
    join = joined_wall - result["started_at"]  # seconds into this run
    before = [p for p in series if 1.0 < p["t"] <= join]
    after = [p for p in series if p["t"] - step >= join + 2.0]
    fair_share_after = None
    points = max(1, round(WINDOW_S / step))
    starts = [i for i, p in enumerate(series) if p["t"] - step >= join]
    for i in starts:
        window = series[i:i + points]
        if len(window) < points:
            break
        s = shares(window)
        if all(s.get(n, 0) >= FAIR / backends for n in new_names):
            fair_share_after = window[0]["t"] - step - join
            break
    after_shares = shares(after)
    return {
        "join_s": join,
        "before": shares(before),
        "after": after_shares,
        "new_share_after": sum(after_shares.get(n, 0) for n in new_names),
        "min_new_share_after": min((after_shares.get(n, 0) for n in new_names), default=0),
        "time_to_fair_share_s": fair_share_after,
        "calls": result["calls"],
        "errors": result["errors"],
        "unfinished": result["unfinished"],
        "p99_ms": result["latency_ms"]["p99"],
    }


def summarize(results, joined_wall, new_names, backends):
    out = {side: summarize_side(r, joined_wall, new_names, backends) for side, r in results.items()}
    out["backends"] = backends
    out["new"] = new_names
    return out


def percent(x):
    return f"{100 * x:5.1f}%"


def summary_text(summary, titles):
    names = sorted(set(summary["l4"]["after"]) | set(summary["sluice"]["after"]) |
                   set(summary["l4"]["before"]) | set(summary["sluice"]["before"]) |
                   set(summary["new"]), key=lambda n: (len(n), n))
    lines = ["", "== share of calls per backend, before and after the 5 joined"]
    lines.append(f"   {'backend':8} {'L4 before':>10} {'L4 after':>10}   {'sluice before':>14} "
                 f"{'sluice after':>13}")
    for n in names:
        l4, sl = summary["l4"], summary["sluice"]
        lines.append(f"   {n:8} {percent(l4['before'].get(n, 0)):>10} {percent(l4['after'].get(n, 0)):>10}"
                     f"   {percent(sl['before'].get(n, 0)):>14} {percent(sl['after'].get(n, 0)):>13}")
    fair = 1 / summary["backends"]
    lines.append(f"   (fair share with {summary['backends']} backends: {percent(fair).strip()}; "
                 f"'has it' = at least {percent(FAIR * fair).strip()} over 0.5 s)")
    lines.append("")
    lines.append("== time until every new backend had its fair share")
    for side in ("l4", "sluice"):
        s = summary[side]
        t = s["time_to_fair_share_s"]
        when = (f"{t:.2f} s after they joined" if t is not None else
                f"never (new backends got {percent(s['new_share_after']).strip()} of the calls)")
        lines.append(f"   {titles[side]:34} {when}")
        lines.append(f"   {'':34} {s['calls']} calls, {s['errors']} errors, "
                     f"{s['unfinished']} unfinished, p99 {s['p99_ms']:.2f} ms")
    return "\n".join(lines)


def check(summary):
    """What --check requires of the story; a list of what is wrong (empty: all good)."""
    problems = []
    l4, sl = summary["l4"], summary["sluice"]
    if l4["new_share_after"] > 0.05:
        problems.append(f"L4 side: new backends got {percent(l4['new_share_after'])} (expected ~0)")
    if sl["time_to_fair_share_s"] is None:
        problems.append("sluice side: the new backends never reached fair share")
    if sl["min_new_share_after"] < FAIR / summary["backends"]:
        problems.append(f"sluice side: a new backend got only {percent(sl['min_new_share_after'])}")
    if sl["errors"] or sl["unfinished"]:
        problems.append(f"sluice side: {sl['errors']} errors, {sl['unfinished']} unfinished calls")
    return problems


def binned_rates(result, names, seconds_per_bin):
    """(bin end time, {backend: calls/s}) per bin of the series."""
    series = result["series"]
    step = result["interval_s"]
    per_bin = max(1, round(seconds_per_bin / step))
    out = []
    for i in range(0, len(series) - per_bin + 1, per_bin):
        chunk = series[i:i + per_bin]
        seconds = step * len(chunk)
        out.append((chunk[-1]["t"], {n: sum(p["backends"].get(n, 0) for p in chunk) / seconds
                                     for n in names}))
    return out


def nice_ceiling(value):
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above value."""
    magnitude = 10 ** max(0, len(str(int(value))) - 1)
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= value:
            return m * magnitude
    return 10 * magnitude


def panel_svg(x0, result, joined_wall, names, title, width, height, y_max):
    """One side's calls/s per backend over time, stacked (each band one backend), as SVG."""
    left, top, plot_w, plot_h = x0 + 55, 40, width - 75, height - 95
    bins = binned_rates(result, names, 0.2)
    duration = max((t for t, _ in bins), default=1)
    join = joined_wall - result["started_at"]

    def x(t):
        return left + plot_w * t / duration

    def y(v):
        return top + plot_h * (1 - v / y_max)

    parts = [f'<text x="{x0 + width / 2}" y="22" text-anchor="middle" font-size="15" '
             f'font-weight="bold">{html.escape(title)}</text>']
    for i in range(5):
        v = y_max * i / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="#eee"/><text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{v:g}</text>')
    lower = [0.0] * len(bins)
    for color, name in zip(COLORS, names):
        upper = [lo + rates[name] for lo, (_, rates) in zip(lower, bins)]
        top_edge = [f"{x(t):.1f},{y(u):.1f}" for (t, _), u in zip(bins, upper)]
        bottom_edge = [f"{x(t):.1f},{y(lo):.1f}" for (t, _), lo in zip(bins, lower)]
        parts.append(f'<polygon fill="{color}" fill-opacity="0.85" stroke="white" '
                     f'stroke-width="0.5" points="{" ".join(top_edge + bottom_edge[::-1])}"/>')
        lower = upper
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
                 f'stroke="#999"/>')
    for t in range(0, int(duration) + 1, max(1, int(duration) // 6)):
        parts.append(f'<text x="{x(t):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                     f'font-size="11">{t}s</text>')
    parts.append(f'<text x="{left - 42}" y="{top + plot_h / 2}" font-size="11" '
                 f'transform="rotate(-90 {left - 42} {top + plot_h / 2})" text-anchor="middle">'
                 f'calls/s, stacked by backend</text>')
    parts.append(f'<line x1="{x(join):.1f}" x2="{x(join):.1f}" y1="{top}" y2="{top + plot_h}" '
                 f'stroke="black" stroke-width="1.5" stroke-dasharray="5,4"/>')
    parts.append(f'<text x="{x(join) + 4:.1f}" y="{top + 14}" font-size="12">'
                 f'5 backends join</text>')
    for k, (color, name) in enumerate(zip(COLORS, names)):
        lx = left + k * (plot_w / max(len(names), 1))
        ly = top + plot_h + 40
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{lx + 14:.1f}" y="{ly}" font-size="11">{name}</text>')
    return parts


def write_chart(out_dir, results, joined_wall, names, summary, titles):
    width, height = 560, 400
    peak = max((sum(rates.values()) for r in results.values()
                for _, rates in binned_rates(r, names, 0.2)), default=1)
    y_max = nice_ceiling(max(1.0, peak * 1.1))
    parts = []
    for k, side in enumerate(("l4", "sluice")):
        parts += panel_svg(k * width, results[side], joined_wall, names, titles[side], width,
                           height, y_max)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height}" '
           f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
           + "".join(parts) + "</svg>\n")
    with open(os.path.join(out_dir, "chart.svg"), "w") as f:
        f.write(svg)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>sluice demo: adding 5 backends</title></head>
<body style="font-family: sans-serif; max-width: 1150px">
<h1>Adding 5 backends under load: L4 versus per-call balancing</h1>
<p>One client connection on each side, the same steady load. At the dashed line 5 more backends
join. The L4 balancer pinned the connection to one backend and keeps it there; sluice picks a
backend for every call and spreads the load over all 8 at once.</p>
<img src="chart.svg" alt="calls per second per backend, L4 and sluice side by side">
<pre>{html.escape(summary_text(summary, titles))}</pre>
</body></html>
"""
    with open(os.path.join(out_dir, "index.html"), "w") as f:
        f.write(page)
