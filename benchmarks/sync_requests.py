"""How many requests an all-types backfill takes, against a lower bound and a per-day baseline.

Both sides sync every stored type of the same seeded world (default 1 year) from the in-process
simulator, quota off (this counts requests, not waiting), each side in its own process so each
peak RSS is its own. The named baseline is the same sync cut into one window per day, as the
legacy-API tutorials fetched intraday data.

The lower bound is computed from the world as the server renders it (its ``Collection``: the
order axis it pages along and the axis its filters compare), never from the client, per type and
per span the sync had to cover (windows fitvault cut a span into are joined again first: those
extra pages are fitvault's cost, not the bound's). It holds for *any* client of this server:

* A list request examines at most ``SCAN_LIMIT`` (S) of the type's order axis, below its upper
  filter bound or its page token, and returns the newest ≤ C points of what it examined (C the
  page cap). So what one response can prove complete is an interval [a, b) with b − a ≤ S and at
  most C points inside (a, b) — when the page is full, only down to its last point. A client
  that has every point of a span must hold responses whose proven intervals cover the span; an
  uncovered position could hide a point no response showed. These admissible intervals are closed
  under taking sub-intervals, so covering the span greedily from the top, each step as long as
  admissible (down to max(top − S, the (C+1)-th point below top)), uses the fewest (the usual
  "greedy stays ahead" argument). That greedy count is the bound where the filter axis is the
  order axis (samples and intervals filtered on their own physical time).
* Where it is not (sessions ordered by start but filtered by end or by civil time; daily types),
  the bound is max(⌈n ÷ C⌉, ⌈L ÷ S⌉): each response carries ≤ C points, and every order
  position that could hold a point of the span — a stretch at least as long as the span, L —
  must be examined, ≤ S per request.
* A daily roll-up request may range over at most the type's maximum days (M): ⌈days ÷ M⌉.
* Nothing below the type's oldest point needs examining: the server ends a walk once its scan
  passes it, so spans are clipped there first (for civil and end-filtered types this only
  shortens L, which keeps the bound a lower one).
* Plus the 3 account calls (identity, profile, settings) every sync makes.

Not counted: the server's extra empty ``{}`` page after a page that is exactly full (it does not
look ahead) — a client might dodge it with window edges, so the bound does not charge it.

Last line: ``requests_vs_lower_bound=… baseline_vs_lower_bound=… peak_rss_mb=…
baseline_peak_rss_mb=…``. Target: requests_vs_lower_bound ≤ 1.05.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import numpy as np

from fitvault import catalog
from fitvault.catalog import Axis, DataType, Op, RecordKind
from fitvault.demo import press_allow
from fitvault.simulator import v4_data
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.store import merge_spans
from fitvault.sync import SyncReport
from fitvault.vault import Vault

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
ACCOUNT_CALLS = 3
US = 1_000_000
DAY_S = 86_400
TARGET = 1.05


def greedy_cover(keys: np.ndarray, lo: int, hi: int, scan: int, cap: int) -> int:
    """Fewest intervals of length ≤ ``scan`` holding ≤ ``cap`` points each (strictly above their
    lower end) that cover [lo, hi); ``keys`` ascending."""
    n, top = 0, hi
    while top > lo:
        below = int(np.searchsorted(keys, top, side="left"))  # keys[:below] < top
        nxt = top - scan
        if below > cap:
            nxt = max(nxt, int(keys[below - cap - 1]))
        top = nxt
        n += 1
    return max(n, 1)


def span_bound(dtype: DataType, col: v4_data.Collection, lo_us: int, hi_us: int) -> int:
    """Requests any client needs for [lo, hi) of ``dtype``'s range axis (µs); see the docstring."""
    if dtype.rollup_only:
        days = (hi_us - lo_us) / (DAY_S * US)
        return math.ceil(days / (dtype.max_range_days(Op.DAILY_ROLLUP) or 90))
    cap = min(dtype.page_cap, dtype.max_page_size)
    lo, hi = lo_us // US, -(-hi_us // US)  # whole seconds, as the server compares
    if dtype.lower_bound_only:
        hi = max(hi, int(col.phys.max()) + 1 if len(col.phys) else hi)
    if not len(col.order):
        return 1  # the server ends the walk at once: nothing to page through
    daily = dtype.kind is RecordKind.DAILY
    scan = col.scan_limit * DAY_S if daily else col.scan_limit  # daily order axis counts days
    oldest = int(col.order[0]) * DAY_S if daily else int(col.order[0]) // col.ties
    lo = max(lo, oldest)  # the server ends a walk once its scan passes its oldest point
    if lo >= hi:
        return 1
    if dtype.axis is Axis.PHYSICAL and dtype.kind in (RecordKind.SAMPLE, RecordKind.INTERVAL):
        return greedy_cover(np.sort(col.phys), lo, hi, scan, cap)  # filter axis = order axis
    values = col.civil if dtype.axis is Axis.CIVIL else col.phys
    n = int(((values >= lo) & (values < hi)).sum())
    return max(1, math.ceil(n / cap), math.ceil((hi - lo) / scan))


def lower_bound(world: World, report: SyncReport) -> dict[str, int]:
    """Per type, over the merged spans the sync had to cover."""
    out = {}
    for name, windows in report.windows.items():
        if not windows:
            out[name] = 0
            continue
        dtype = catalog.get(name)
        col = v4_data.collection(world, dtype)
        spans = merge_spans([(w.lo, w.hi) for w in windows])
        out[name] = sum(span_bound(dtype, col, lo, hi) for lo, hi in spans)
    return out


def run_sync(world: World, directory: Path, max_window: dt.timedelta | None) -> SyncReport:
    sim = create_app(world, quota_per_minute=None, auto_approve=False)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory)

    async def opener(url: str) -> None:
        await press_allow(url, transport=transport)

    vault.authorize(server="http://simulator.localhost", open_url=opener, transport=transport)

    async def go() -> SyncReport:
        return await vault.async_sync(
            transport=transport, per_minute=None, clock=lambda: NOW, max_window=max_window
        )

    return asyncio.run(go())


def side(days: int, per_day: bool) -> dict[str, object]:
    """One side's sync, its per-type table and the bound over its spans (in this process)."""
    world = World.default(days=days, seed=7, now=NOW)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        report = run_sync(world, Path(tmp), dt.timedelta(days=1) if per_day else None)
        seconds = time.perf_counter() - t
    bound = lower_bound(world, report)
    return {
        "requests": report.requests,
        "seconds": seconds,
        "types": {
            name: {
                "points": report.points.get(name, 0),
                "windows": len(report.windows[name]),
                "requests": report.pages.get(name, 0),
                "bound": bound[name],
            }
            for name in report.windows
        },
        "skipped": report.skipped,
    }


def run_side(days: int, per_day: bool) -> tuple[dict[str, object], float]:
    """``side`` in a child process: its result and that process's peak RSS (MB)."""
    cmd = [sys.executable, __file__, "--days", str(days), "--side"]
    cmd.append("per-day" if per_day else "planned")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{cmd} failed:\n{out}")
    return json.loads(out.splitlines()[-1]), usage.ru_maxrss / 1024


def show(label: str, result: dict[str, object], rss: float) -> tuple[int, int]:
    types = result["types"]
    assert isinstance(types, dict)
    made = int(str(result["requests"]))
    bound = sum(t["bound"] for t in types.values()) + ACCOUNT_CALLS
    print(f"\n{label}: {made:,} requests in {result['seconds']:.1f} s, peak RSS {rss:.0f} MB")
    print(f"  {'type':<36}{'points':>11}{'windows':>9}{'requests':>10}{'bound':>8}{'ratio':>8}")
    for name, t in sorted(types.items(), key=lambda kv: -kv[1]["requests"] + kv[1]["bound"]):
        ratio = t["requests"] / t["bound"] if t["bound"] else float("nan")
        flag = "  <-- over" if t["requests"] > TARGET * t["bound"] else ""
        print(
            f"  {name:<36}{t['points']:>11,}{t['windows']:>9}{t['requests']:>10}"
            f"{t['bound']:>8}{ratio:>8.2f}{flag}"
        )
    print(f"  {'account calls':<36}{'':>11}{'':>9}{ACCOUNT_CALLS:>10}{ACCOUNT_CALLS:>8}")
    if result["skipped"]:
        print(f"  skipped: {result['skipped']}")
    return made, bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--side", choices=["planned", "per-day"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.days, args.side == "per-day")))
        return
    print(f"world: {args.days} days, every stored type ({len(catalog.STORED_TYPES)})", flush=True)
    result, rss = run_side(args.days, per_day=False)
    made, bound = show("fitvault (planned windows)", result, rss)
    line = f"requests_vs_lower_bound={made / bound:.3f} requests={made} lower_bound={bound}"
    line += f" peak_rss_mb={rss:.0f}"
    if not args.skip_baseline:
        base, base_rss = run_side(args.days, per_day=True)
        base_made, _ = show("baseline (one window per day)", base, base_rss)
        line += f" baseline_vs_lower_bound={base_made / bound:.3f}"
        line += f" baseline_peak_rss_mb={base_rss:.0f}"
    print(line)


if __name__ == "__main__":
    main()
