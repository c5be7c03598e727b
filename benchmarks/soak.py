"""Soak: many incremental syncs of an up-to-date vault, the simulated day advancing each time.

A vault is backfilled with ``--days`` of a seeded world (in-process simulator), then synced
``--syncs`` more times, the clock (client and server) one day later each time; the world
reaches that far, so every sync has one new day plus the recent days wearables revise. After
each sync: the vault's bytes on disk, its rows, the raw pages it keeps, and this process's
resident memory (after a garbage collection). What must hold: rows and kept raw pages grow by
about one day's worth a sync (a re-fetched day replaces its pages, it does not add to them),
the file grows in proportion to its rows, and memory has no upward slope.

Last line: ``syncs=… rows_added=… raw_pages_first=… raw_pages_last=… vault_mb_first=…
vault_mb_last=… rss_mb_first=… rss_mb_last=… rss_mb_max=… rss_slope_kb_per_sync=…
rss_late_slope_kb_per_sync=… stops=… crashes=…``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2

from faults import Browser
from fitvault._errors import FitvaultError
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.vault import Vault

START = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
SERVER = "http://simulator.localhost"
TYPES = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]


def rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def vault_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.glob("vault.duckdb*")) / 2**20


def figures(vault: Vault) -> tuple[int, int]:
    """(rows in the catalog tables, raw pages kept)."""
    from fitvault import catalog

    with vault.store(read_only=True) as store:
        rows = sum(store.count(name) for name in catalog.TABLES)
        return rows, store.count("_raw_pages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="the vault's history")
    parser.add_argument("--syncs", type=int, default=100)
    parser.add_argument("--types", default=",".join(TYPES), help="'all' for every type")
    args = parser.parse_args()
    types = None if args.types == "all" else args.types.split(",")
    world = World.default(
        days=args.days + args.syncs, seed=7, now=START + dt.timedelta(days=args.syncs)
    )
    now = [START]
    # A published app ("In production"): a Testing-mode app's refresh token would expire on the
    # 8th simulated day, as Google's do, and every sync after it would ask to sign in again.
    sim = create_app(
        world,
        clock=lambda: now[0].timestamp(),
        auto_approve=True,
        quota_per_minute=None,
        testing_mode=False,
    )
    transport = httpx2.ASGITransport(app=sim.app)

    def sync(vault: Vault) -> None:
        asyncio.run(
            vault.async_sync(
                types=types, transport=transport, per_minute=None, clock=lambda: now[0]
            )
        )

    crashes = stops = 0
    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault(Path(tmp) / "vault")
        vault.authorize(
            server=SERVER, open_url=Browser(transport), transport=transport, types=types
        )
        started = time.perf_counter()
        sync(vault)
        rows0, raw0 = figures(vault)
        print(
            f"backfill of {args.days} days ({args.types}): {rows0} rows, {raw0} raw pages, "
            f"{vault_mb(vault.directory):.1f} MB, {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        print(f"{'sync':>5}{'rows':>10}{'+rows':>8}{'raw':>7}{'vault MB':>10}{'RSS MB':>8}{'s':>6}")
        rss: list[float] = []
        size: list[float] = []
        raws: list[int] = []
        last_rows = rows0
        for i in range(1, args.syncs + 1):
            now[0] = START + dt.timedelta(days=i)
            t0 = time.perf_counter()
            try:
                sync(vault)
            except FitvaultError as exc:  # a stop a user would be told about
                stops += 1
                print(f"sync {i}: {type(exc).__name__}: {exc}", flush=True)
                continue
            except Exception as exc:  # a crash is a figure here, not the end of the soak
                crashes += 1
                print(f"sync {i}: CRASH {type(exc).__name__}: {exc}", flush=True)
                continue
            seconds = time.perf_counter() - t0
            gc.collect()
            rows, raw = figures(vault)
            rss.append(rss_mb())
            size.append(vault_mb(vault.directory))
            raws.append(raw)
            if i <= 3 or i % 10 == 0 or i == args.syncs:
                print(
                    f"{i:>5}{rows:>10}{rows - last_rows:>8}{raw:>7}{size[-1]:>10.1f}"
                    f"{rss[-1]:>8.0f}{seconds:>6.1f}",
                    flush=True,
                )
            last_rows = rows
    slope = statistics.linear_regression(range(len(rss)), rss).slope if len(rss) > 1 else 0.0
    # the first syncs settle caches; the slope over the second half is the creep, if any
    half = rss[len(rss) // 2 :]
    late = statistics.linear_regression(range(len(half)), half).slope if len(half) > 1 else 0.0
    print(
        f"syncs={args.syncs} rows_added={last_rows - rows0} raw_pages_first={raw0} "
        f"raw_pages_last={raws[-1] if raws else raw0} vault_mb_first={size[0] if size else 0:.1f} "
        f"vault_mb_last={size[-1] if size else 0:.1f} rss_mb_first={rss[0] if rss else 0:.0f} "
        f"rss_mb_last={rss[-1] if rss else 0:.0f} rss_mb_max={max(rss, default=0):.0f} "
        f"rss_slope_kb_per_sync={slope * 1024:.0f} rss_late_slope_kb_per_sync={late * 1024:.0f} "
        f"stops={stops} crashes={crashes}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
