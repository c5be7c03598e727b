"""Report speed and size: ``vault.report()`` over 1 and 5 years of a synthetic person.

The vaults are synced once from the in-process simulator (quota off, only the types the report
reads) and kept in ``--cache`` (default: a directory under the system temp dir), because five
years of 5-second heart rate is ~30 million rows and takes a while to sync; later runs reuse
them. Each report is then rendered in its own child process, so each side's peak RSS is its
own: the child prints its render time, file size and high-water mark.

Targets (issue #10): at most 5 s and 15 MB for five years. Wall time depends on what else the
machine runs; CPU time (all of the process's threads, DuckDB's included) is printed beside it.

Then the five-year page is opened in headless Chromium (Debian's ``chromium``, driven over the
DevTools protocol by ``tests/chromium.py``; needs the test extras' ``websockets``), in its own
process, at 1280 × 900: ``interactive_5y_s`` is the time from navigation to the load event
(the page's own PerformanceNavigationTiming) plus the wall time of the first interaction as a
user makes it — real mouse events dragging across the resting-heart-rate chart until its x
range has changed, then a hover until the tooltip shows — measured around the DevTools calls,
so it includes their round trips. Target: at most 2 s.

Last line: ``report_1y_s=… report_5y_s=… report_5y_cpu_s=… report_5y_mb=… peak_rss_mb=…
interactive_5y_s=…`` (``report_5y_cpu_s``: the honest figure on a shared, loaded machine).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

from fitvault import report

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
TYPES = list(report.TYPES)
TARGET_S, TARGET_MB, TARGET_INTERACTIVE_S = 5.0, 15.0, 2.0
ROOT = Path(__file__).resolve().parents[1]


def build(directory: Path, years: int) -> None:
    """Sign in to a simulator of ``years`` years and sync the report's types (once)."""
    from fitvault.simulator.app import create_app
    from fitvault.simulator.world import World
    from fitvault.vault import Vault

    done = directory / ".complete"
    if done.exists():
        return
    t = time.perf_counter()
    world = World.default(days=365 * years, seed=7, now=NOW)
    sim = create_app(world, clock=lambda: NOW.timestamp(), auto_approve=True, quota_per_minute=None)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory)

    async def open_url(url: str) -> None:
        async with httpx2.AsyncClient(transport=transport) as client:
            answer = await client.get(url)
        async with httpx2.AsyncClient() as real:
            await real.get(answer.headers["location"])

    vault.authorize(
        server="http://sim.localhost", open_url=open_url, transport=transport, types=TYPES
    )
    coro = vault.async_sync(types=TYPES, transport=transport, per_minute=None, clock=lambda: NOW)
    synced = asyncio.run(coro)
    done.write_text(json.dumps(synced.rows))
    size = (directory / "vault.duckdb").stat().st_size / 1e6
    rows = synced.rows.get("heart_rate", 0)
    print(
        f"built the {years}-year vault in {time.perf_counter() - t:.0f} s "
        f"({size:.0f} MB, {rows:,} heart-rate rows)",
        flush=True,
    )


def replicate(one_year: Path, directory: Path, years: int) -> None:
    """A stand-in for a synced multi-year vault when there is no time to sync one: the 1-year
    vault with its heart rate (the one big table) repeated ``years - 1`` times, each copy 367
    days earlier. The other types keep one year, so the page is somewhat smaller than a real
    five-year report; the time, dominated by heart rate, is comparable."""
    import shutil

    import duckdb

    if (directory / ".complete").exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("vault.duckdb", "account.json", "token.json"):
        shutil.copy(one_year / name, directory / name)
    con = duckdb.connect(str(directory / "vault.duckdb"))
    for k in range(1, years):
        con.execute(
            "INSERT INTO heart_rate SELECT * REPLACE (time - INTERVAL (?) DAY AS time, "
            "local_date - INTERVAL (?) DAY AS local_date) FROM heart_rate "
            "WHERE time > (SELECT max(time) FROM heart_rate) - INTERVAL 367 DAY",
            [367 * k, 367 * k],
        )
    con.execute("CHECKPOINT")
    con.close()
    (directory / ".complete").write_text("replicated")


def child(directory: Path, out: Path) -> None:
    """Render one report; print seconds, megabytes and peak RSS as JSON."""
    from fitvault.vault import Vault

    t, cpu = time.perf_counter(), time.process_time()
    path = Vault(directory).report(out)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"s": seconds, "cpu": cpu, "mb": path.stat().st_size / 1e6, "rss": peak}))


def browse(page: Path) -> None:
    """Open ``page`` in headless Chromium; print load and first-interaction seconds as JSON."""
    sys.path.insert(0, str(ROOT))  # tests/chromium.py: the same client the browser tests use
    from tests.chromium import drag, launch, open_page, plot_xy

    find = (
        "(() => { const f = [...document.querySelectorAll('figure')].find(f => "
        "f.querySelector('figcaption').textContent.startsWith('Resting heart rate')); "
        "const s = f.querySelector('svg.zoom'); s.id = 'bench'; "
        "s.scrollIntoView({block: 'center'}); return s.dataset.x; })()"
    )
    with launch() as browser:
        t = time.perf_counter()
        load = open_page(browser, page, 1280, 900)
        wall_load = time.perf_counter() - t
        ready = browser.js("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
        full = browser.js(find)
        # Where to press, release and hover, found before the clock starts: a person's
        # pointer is simply there.
        points = [plot_xy(browser, "#bench", f) for f in (0.6, 0.9, 0.5)]
        t = time.perf_counter()
        drag(browser, points[0], points[1])
        browser.mouse("mouseMoved", *points[2])
        zoomed, tip = browser.js(
            "[document.querySelector('#bench').dataset.view, (() => { const t = "
            "document.querySelector('.tip'); return t && !t.hidden ? t.textContent : null; })()]"
        )
        interaction = time.perf_counter() - t
        errors = browser.errors()
    if not zoomed or zoomed == full or not tip or errors:
        raise SystemExit(
            f"the page did not respond: view {zoomed} of {full}, tip {tip!r}, {errors}"
        )
    print(
        json.dumps(
            {
                "dom_ready_s": ready / 1000,
                "load_s": load,
                "wall_load_s": wall_load,
                "interaction_s": interaction,
                "tip": tip,
            }
        )
    )


def measure(directory: Path, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(directory), "--out", str(out)]
    answer = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(answer.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "fitvault-bench-report"
    )
    parser.add_argument(
        "--replicate",
        action="store_true",
        help="make the 5-year vault from the 1-year one (heart rate repeated) instead of syncing",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--browse", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out)
        return
    if args.browse:
        browse(args.browse)
        return
    results = {}
    for years in (1, 5):
        directory = args.cache / f"{years}y"
        if years > 1 and args.replicate:
            directory = args.cache / f"{years}y-replicated"
            replicate(args.cache / "1y", directory, years)
        build(directory, years)
        results[years] = measure(directory, args.cache / f"report-{years}y.html")
        r = results[years]
        print(
            f"{years} year(s): {r['s']:.2f} s ({r['cpu']:.2f} s CPU, all threads), "
            f"{r['mb']:.2f} MB, peak RSS {r['rss']:.0f} MB"
        )
    one, five = results[1], results[5]
    print(
        f"5 years vs 1 year: {five['s'] / one['s']:.2f}× the time, {five['mb'] / one['mb']:.2f}× "
        f"the size; 5 years vs target: {five['s'] / TARGET_S:.2f} of {TARGET_S:.0f} s, "
        f"{five['mb'] / TARGET_MB:.2f} of {TARGET_MB:.0f} MB"
    )
    cmd = [sys.executable, __file__, "--browse", str(args.cache / "report-5y.html")]
    answer = subprocess.run(cmd, check=True, capture_output=True, text=True)
    page = json.loads(answer.stdout.strip().splitlines()[-1])
    interactive = page["load_s"] + page["interaction_s"]
    print(
        f"5 years in Chromium: DOMContentLoaded {page['dom_ready_s']:.2f} s, load "
        f"{page['load_s']:.2f} s (navigate to load event seen by the client "
        f"{page['wall_load_s']:.2f} s), first drag-zoom + hover {page['interaction_s']:.2f} s "
        f"(tooltip {page['tip']!r}); interactive {interactive:.2f} s vs target "
        f"{TARGET_INTERACTIVE_S:.0f} s"
    )
    peak = max(one["rss"], five["rss"])
    print(
        f"report_1y_s={one['s']:.2f} report_5y_s={five['s']:.2f} "
        f"report_5y_cpu_s={five['cpu']:.2f} report_5y_mb={five['mb']:.2f} peak_rss_mb={peak:.0f} "
        f"interactive_5y_s={interactive:.2f}"
    )


if __name__ == "__main__":
    main()
