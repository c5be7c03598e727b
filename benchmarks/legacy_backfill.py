"""A two-year backfill from the legacy Fitbit Web API: fitvault's planner vs the tutorials' loop.

Both sides fetch the same seeded world from the in-process simulator's legacy face, with its
real 150-requests-per-hour limit, in **simulated time** (the simulator's clock and each side's
sleep are one fake clock, so an eleven-hour backfill takes minutes). Each side runs in its own
process so each peak RSS is its own, and each ends with a vault; the two vaults must hold the
same rows per table (checked, source columns aside).

* fitvault: ``Vault.async_legacy_sync`` — range endpoints at their maximum range, intraday heart
  rate and steps one day per request, the budget read from ``Fitbit-Rate-Limit-*`` and each
  reset slept through.
* tutorial: what the python-fitbit tutorials do — for every day, one request per series
  (``intraday_time_series`` for heart rate at 1sec and steps at 1min, ``time_series(…,
  period='1d')`` for the other activity series, sleep, HRV, SpO2, breathing rate, skin
  temperature, cardio score, weight and fat by date), and on a 429
  ``time.sleep(e.retry_after_secs)`` — the Retry-After header, which this API sets wrongly
  (the simulator, like the real host, says 60 s), so the loop keeps knocking until the hour
  turns. The answers are stored through the same normalisers.

Last line: ``requests=… tutorial_requests=… hours=… tutorial_hours=…`` (+ peak RSS, rows).
Run: ``python benchmarks/legacy_backfill.py`` (``--days 60`` for a quick look).
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
import zoneinfo
from pathlib import Path
from typing import Any

import httpx2

from fitvault import catalog
from fitvault.legacy_auth import LegacyAccount, LegacyTokens, LegacyTokenStore
from fitvault.legacy_sync import SOURCE
from fitvault.normalise.fitbit_legacy import parse
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.store import Store
from fitvault.vault import Vault

NOW = dt.datetime(2026, 10, 20, 15, 0, tzinfo=dt.UTC)  # before the shutdown: the face serves
SERVER = "http://simulator.localhost"
U = "/1/user/-"
TUTORIAL_DAILY = (
    U + "/activities/heart/date/{d}/1d/1sec.json",
    U + "/activities/steps/date/{d}/1d/1min.json",
    *(
        U + f"/activities/{r}/date/{{d}}/1d.json"
        for r in (
            "distance",
            "calories",
            "floors",
            "elevation",
            "minutesSedentary",
            "minutesLightlyActive",
            "minutesFairlyActive",
            "minutesVeryActive",
        )
    ),
    "/1.2/user/-/sleep/date/{d}.json",
    U + "/hrv/date/{d}.json",
    U + "/spo2/date/{d}.json",
    U + "/br/date/{d}.json",
    U + "/temp/skin/date/{d}.json",
    U + "/cardioscore/date/{d}.json",
    U + "/body/log/weight/date/{d}.json",
    U + "/body/log/fat/date/{d}.json",
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def setup(days: int, directory: Path) -> tuple[Any, Clock, httpx2.ASGITransport]:
    world = World.default(days=days, seed=7, now=NOW)
    clock = Clock(NOW.timestamp())
    sim = create_app(world, clock=clock, auto_approve=True, quota_per_minute=None)
    transport = httpx2.ASGITransport(app=sim.app)

    async def press_allow(url: str) -> None:  # the simulator approves; follow its redirect
        async with httpx2.AsyncClient(transport=transport) as client:
            answer = await client.get(url)
        async with httpx2.AsyncClient() as real:
            await real.get(answer.headers["location"])

    Vault(directory).authorize(
        source="fitbit-legacy", server=SERVER, open_url=press_allow, transport=transport
    )
    return world, clock, transport


def ours(days: int, directory: Path) -> dict[str, Any]:
    _, clock, transport = setup(days, directory)
    vault = Vault(directory)
    start = clock.now
    report = asyncio.run(
        vault.async_legacy_sync(transport=transport, clock=clock, sleep=clock.sleep)
    )
    return {"requests": report.requests, "hours": (clock.now - start) / 3600}


async def tutorial_loop(
    directory: Path,
    clock: Clock,
    transport: httpx2.ASGITransport,
    span: tuple[dt.date, dt.date],
    zone: str,
) -> int:
    first, last = span
    tokens = LegacyTokens(
        LegacyAccount.load(directory), LegacyTokenStore(directory), transport=transport, clock=clock
    )
    sent = 0
    with Store(directory) as store:
        async with httpx2.AsyncClient(transport=transport, base_url=SERVER) as client:
            day = last
            while day >= first:
                for template in TUTORIAL_DAILY:
                    path = template.format(d=day.isoformat())
                    while True:
                        token = await tokens.access_token()
                        sent += 1
                        resp = await client.get(path, headers={"Authorization": f"Bearer {token}"})
                        if resp.status_code == 429:  # python-fitbit: HTTPTooManyRequests
                            await clock.sleep(int(resp.headers["Retry-After"]))
                            continue
                        if resp.status_code == 401:  # expired_token: python-fitbit refreshes
                            await tokens.refresh()
                            continue
                        resp.raise_for_status()
                        break
                    if resp.content.strip() in (b"{}", b"[]"):  # SpO2 by date on a day without
                        continue
                    for dtype, tables, _ in parse(resp.content, zone, day=day).batches():
                        store.commit(dtype, tables, source=SOURCE, replaces=[], covered=None)
                day -= dt.timedelta(days=1)
    return sent


def tutorial(days: int, directory: Path) -> dict[str, Any]:
    world, clock, transport = setup(days, directory)
    zone = world.home_zone
    with Store(directory) as store:
        store.set_meta("settings", {"timeZone": zone})
    last = NOW.astimezone(zoneinfo.ZoneInfo(zone)).date()
    span = (world.person.membership_start, last)
    start = clock.now
    sent = asyncio.run(tutorial_loop(directory, clock, transport, span, zone))
    return {"requests": sent, "hours": (clock.now - start) / 3600}


def counts(directory: Path) -> dict[str, int]:
    with Store(directory, read_only=True) as store:
        return {t: n for t, n in store.counts(list(catalog.TABLES)).items() if n}


def child(side: str, days: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix=f"legacy-{side}-"))
    started = time.process_time()
    result = (ours if side == "ours" else tutorial)(days, directory)
    result["cpu_s"] = time.process_time() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["rows"] = counts(directory)
    print(json.dumps(result))


def run_side(side: str, days: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--side", side, "--days", str(days)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--side", choices=("ours", "tutorial"))
    args = parser.parse_args()
    if args.side:
        child(args.side, args.days)
        return
    a, b = run_side("ours", args.days), run_side("tutorial", args.days)
    print(f"{'':12}{'requests':>10}{'sim hours':>11}{'cpu s':>8}{'peak MB':>9}")
    for name, r in (("fitvault", a), ("tutorial", b)):
        print(
            f"{name:12}{r['requests']:>10}{r['hours']:>11.1f}{r['cpu_s']:>8.0f}"
            f"{r['peak_rss_mb']:>9.0f}"
        )
    tables = sorted(set(a["rows"]) | set(b["rows"]))
    differ = {t: (a["rows"].get(t, 0), b["rows"].get(t, 0)) for t in tables}
    differ = {t: v for t, v in differ.items() if v[0] != v[1]}
    print("rows per table (fitvault, tutorial):", json.dumps(a["rows"]))
    print("tables that differ:", json.dumps(differ) if differ else "none")
    print(
        f"requests={a['requests']} tutorial_requests={b['requests']} hours={a['hours']:.1f} "
        f"tutorial_hours={b['hours']:.1f} peak_rss_mb={a['peak_rss_mb']:.0f} "
        f"tutorial_peak_rss_mb={b['peak_rss_mb']:.0f} same_rows={not differ}"
    )


if __name__ == "__main__":
    main()
