"""How many requests a 1-year backfill takes, against the lower bound and a per-day baseline.

Lower bound, per type and planned window: ⌈points in the window ÷ the server's page cap⌉
(heart-rate 5 000, steps 10 000, sleep 25, daily types 10 000), counted from the simulator's
world, not from the client; plus the 3 account calls every sync makes. The named baseline is
the same sync cut into one window per day, as the legacy-API tutorials fetched intraday data.
Both run in this process against the same in-process simulator (quota off: this measures
requests, not waiting).

Last line: ``requests_vs_lower_bound=… baseline_vs_lower_bound=… peak_rss_mb=…``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import resource
import tempfile
import time
from pathlib import Path

import httpx2
import numpy as np

from fitvault import catalog
from fitvault._time import to_us
from fitvault.demo import press_allow
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.store import merge_spans
from fitvault.sync import SyncReport
from fitvault.vault import Vault

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
ACCOUNT_CALLS = 3


def keys_us(world: World, name: str) -> np.ndarray:
    """Each point's position on its type's range axis (µs), as the sync windows measure it."""
    if name == "heart-rate":
        return world.heart_rate().t * 1_000_000
    if name == "steps":
        return world.steps().start * 1_000_000
    if name == "sleep":
        return np.array([s.end_s for s in world.sleep()], dtype=np.int64) * 1_000_000
    rhr = world.resting_heart_rate()
    return np.array([to_us(dt.datetime.combine(v.date, dt.time(), dt.UTC)) for v in rhr])


def lower_bound(world: World, report: SyncReport) -> dict[str, int]:
    """Per type, over the spans the sync had to cover (pieces fitvault cut them into for
    concurrent walks are joined again: those extra pages are fitvault's cost, not the bound's)."""
    out = {}
    for name, windows in report.windows.items():
        keys = keys_us(world, name)
        cap = catalog.get(name).page_cap
        spans = merge_spans([(w.lo, w.hi) for w in windows])
        out[name] = sum(
            max(1, math.ceil(int(((keys >= lo) & (keys < hi)).sum()) / cap)) for lo, hi in spans
        )
    return out


def run_sync(world: World, directory: Path, max_window: dt.timedelta | None) -> SyncReport:
    sim = create_app(world, quota_per_minute=None, auto_approve=False)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory)

    async def opener(url: str) -> None:
        await press_allow(url, transport=transport)

    vault.authorize(server="http://simulator.local", open_url=opener, transport=transport)

    async def go() -> SyncReport:
        return await vault.async_sync(
            transport=transport, per_minute=None, clock=lambda: NOW, max_window=max_window
        )

    return asyncio.run(go())


def show(label: str, world: World, report: SyncReport, seconds: float) -> tuple[int, int]:
    bound = lower_bound(world, report)
    print(f"\n{label}: {report.requests} requests in {seconds:.1f} s")
    print(f"  {'type':<26}{'points':>11}{'windows':>9}{'requests':>10}{'bound*':>13}")
    for name, pages in report.pages.items():
        print(
            f"  {name:<26}{report.points[name]:>11,}{len(report.windows[name]):>9}"
            f"{pages:>10}{bound[name]:>13}"
        )
    print(f"  {'account calls':<26}{'':>11}{'':>9}{ACCOUNT_CALLS:>10}{ACCOUNT_CALLS:>13}")
    print("  * lower bound over the spans these windows cover")
    return report.requests, sum(bound.values()) + ACCOUNT_CALLS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    world = World.default(days=args.days, seed=7, now=NOW)
    print(f"world: {args.days} days, {len(world.heart_rate().t):,} heart-rate samples")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        report = run_sync(world, Path(tmp) / "planned", None)
        made, bound = show("fitvault (planned windows)", world, report, time.perf_counter() - t)
        ratio_line = (
            f"requests_vs_lower_bound={made / bound:.3f} requests={made} lower_bound={bound}"
        )
        if not args.skip_baseline:
            t = time.perf_counter()
            base = run_sync(world, Path(tmp) / "per-day", dt.timedelta(days=1))
            elapsed = time.perf_counter() - t
            base_made, _ = show("baseline (one window per day)", world, base, elapsed)
            ratio_line += f" baseline_vs_lower_bound={base_made / bound:.3f}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{ratio_line} peak_rss_mb={peak:.0f}")


if __name__ == "__main__":
    main()
