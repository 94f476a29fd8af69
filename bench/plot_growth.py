#!/usr/bin/env python3
"""Search latency against corpus size, as an SVG (log-log axes).

Reads the JSON lines of `bench/store_bench` runs (one file per engine or
setting) and draws one line per file and latency field.

    plot_growth.py OUT.svg LABEL=FILE.jsonl [LABEL=FILE.jsonl ...]
                   [--fields bm25_p50_ms,bm25_p99_ms] [--title TEXT]
"""
import argparse
import json
import math

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 460, 70, 230, 40, 50


def ticks(lo, hi):
    """Powers of ten and their 2x and 5x between lo and hi."""
    out, e = [], math.floor(math.log10(lo))
    while 10 ** e <= hi * 1.0001:
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo <= v <= hi * 1.0001:
                out.append(v)
        e += 1
    return out


def label(v):
    if v >= 1e6:
        return f"{v / 1e6:.3g}M"
    if v >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:g}"


def render(series, title, x_name, y_name):
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts if y > 0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    px = lambda x: LEFT + (math.log10(x) - math.log10(x0)) / max(1e-9, math.log10(x1) - math.log10(x0)) * pw
    py = lambda y: TOP + ph - (math.log10(y) - math.log10(y0)) / (math.log10(y1) - math.log10(y0)) * ph
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{title}</text>']
    for v in ticks(y0, y1):
        s.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#ddd"/>')
        s.append(f'<text x="{LEFT - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{label(v)}</text>')
    drawn = set()
    for v in sorted(set(xs)):
        if label(v) in drawn:  # 10,000 and 10,001 chunks share a tick
            continue
        drawn.add(label(v))
        s.append(f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{TOP}" y2="{TOP + ph}" stroke="#eee"/>')
        s.append(f'<text x="{px(v):.1f}" y="{TOP + ph + 16}" text-anchor="middle">{label(v)}</text>')
    s.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    s.append(f'<text x="{LEFT + pw / 2}" y="{H - 12}" text-anchor="middle">{x_name}</text>')
    s.append(f'<text transform="translate(16 {TOP + ph / 2}) rotate(-90)" text-anchor="middle">{y_name}</text>')
    for i, (name, pts) in enumerate(series):
        c = COLOURS[i % len(COLOURS)]
        dash = ' stroke-dasharray="5 4"' if "p99" in name else ""
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts if y > 0)
        s.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"{dash}/>')
        for x, y in pts:
            if y > 0:
                s.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>')
        ly = TOP + 10 + i * 18
        s.append(f'<line x1="{LEFT + pw + 14}" x2="{LEFT + pw + 38}" y1="{ly}" y2="{ly}" stroke="{c}" '
                 f'stroke-width="2"{dash}/>')
        s.append(f'<text x="{LEFT + pw + 44}" y="{ly + 4}">{name}</text>')
    s.append("</svg>")
    return "\n".join(s) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("runs", nargs="+", help="LABEL=FILE.jsonl")
    ap.add_argument("--fields", default="bm25_p50_ms,bm25_p99_ms")
    ap.add_argument("--title", default="Search latency against corpus size")
    a = ap.parse_args()
    series = []
    for run in a.runs:
        name, path = run.split("=", 1)
        rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        for f in a.fields.split(","):
            pts = sorted((r["chunks"], r[f]) for r in rows if f in r)
            if pts:
                series.append((f"{name} {f.replace('_ms', '').replace('_', ' ')}", pts))
    if not series:
        raise SystemExit("no points to plot")
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(render(series, a.title, "chunks", "milliseconds per query (log)"))


if __name__ == "__main__":
    main()
