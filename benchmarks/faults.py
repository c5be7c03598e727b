"""Faults: a full backfill through each fault class, compared with a fault-free backfill.

For every fault class of ``fitvault.simulator.faults`` (and all of them at once), the same
seeded world is backfilled (every stored type) through the in-process simulator with that
fault injected, and the final vault is compared with a fault-free run's: every catalog table,
row by row, as multisets (so a duplicate and a loss are told apart). A run that ends with a
fitvault error (a refresh token refused, say) is resumed as a user would — after signing in
again when the error asks for it — up to eight times; an exception that is not fitvault's
own is a crash.

Why not a year: one all-types backfill of a 365-day world takes ≈ 300 s in-process on this
2-core machine (quota off), so 19 of them cannot fit in 15 minutes. The default 30-day world
(≈ 25 s a run on an idle machine) nearly does; ``benchmarks/campaign.py`` runs a 7-day world so
that kills, the soak and the fuzzers fit beside it; ``--days`` picks another size.

Clock skew (``skew-ahead``/``skew-behind``: the server's clock ten minutes off the client's)
counts as "injected" every answer given on the skewed clock. Faults that land on the roll-up
POSTs (rollUp/dailyRollUp, which the roll-up-only types use) are counted in ``rollup``.

Rates are higher than the live API's (≈ 0.1–1 %) so that a backfill of a few hundred requests
meets each fault several times.

Retries sleep as they do for a user (stamina's backoff, and the 429's Retry-After of 1 s), so
``overhead`` is the real cost of the faults. Two things are cheaper in-process than on a
network and say so in the table: a ``timeout`` fault is raised at once (over a socket the
client first waits its 30 s read timeout), and a ``reset`` costs no reconnect.

The world's data is built on first use, so a first clean run warms it up and a second one is
the baseline; the machine is shared, so ``overhead`` moves by ±20 % from run to run with load.

``--quick`` (for the tests): a 4-day world, five types (one served only as roll-ups). Last line:
``rows_lost=… rows_duplicated=… crashes=… faults_injected=…`` (summed over the classes).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import stamina

from fitvault import catalog
from fitvault._errors import AuthError, FitvaultError
from fitvault.simulator.app import create_app
from fitvault.simulator.faults import FaultSpec
from fitvault.simulator.world import World
from fitvault.vault import Vault

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
SERVER = "http://simulator.test"
SEED = 7
QUICK_TYPES = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate", "floors"]
RESUMES = 8  # each resume fetches only what is missing (and the recent days)
# fault class → the rates that make it happen (a refresh only follows a 401, so the token
# endpoint's faults come with some expiring access tokens)
CLASSES: dict[str, dict[str, float]] = {
    "429": {"429": 0.05},
    "429-bare": {"429-bare": 0.05},
    "500": {"500": 0.03},
    "502": {"502": 0.03},
    "503": {"503": 0.03},
    "504": {"504": 0.03},
    "reset": {"reset": 0.03},
    "timeout": {"timeout": 0.03},
    "truncate": {"truncate": 0.03},
    "malformed": {"malformed": 0.03},
    "401": {"401": 0.03},
    "empty-page": {"empty-page": 0.1},
    "short-page": {"short-page": 0.1},
    # every refresh refused: a 7-day backfill makes only two or three refreshes
    "invalid-grant": {"401": 0.03, "invalid-grant": 1.0},
    "token-down": {"401": 0.03, "token-down": 0.5},
}
# The server's clock this many seconds off the client's (no rates: the answers are right).
SKEWS = {"skew-ahead": 600.0, "skew-behind": -600.0}
CLASSES.update({name: {} for name in SKEWS})
# Everything at once, less the refused refresh token: it ends a run by design (sign in again),
# and with ~10 refreshes a run at these rates no run would get far enough to finish.
CLASSES["all"] = {
    k: v for name, rates in CLASSES.items() if name != "invalid-grant" for k, v in rates.items()
}
# Every page cut short or empty (twice, then whole): a small world makes few roll-up POSTs, and
# this is the class sure to reach them.
CLASSES["every-page"] = {"empty-page": 0.5, "short-page": 0.5}


@dataclass
class Outcome:
    fault: str
    injected: int
    requests: int
    stops: int
    crashes: int
    seconds: float
    rows: dict[str, collections.Counter[tuple[Any, ...]]]
    notes: str = ""
    on_rollups: int = 0  # faults rolled for roll-up POSTs


class Browser:
    """Consent through the simulator, then the redirect to the vault's loopback receiver."""

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self.transport = transport

    async def __call__(self, url: str) -> None:
        async with httpx2.AsyncClient(transport=self.transport) as client:
            answer = await client.get(url)
        async with httpx2.AsyncClient() as real:
            await real.get(answer.headers["location"])


def table_rows(vault: Vault) -> dict[str, collections.Counter[tuple[Any, ...]]]:
    """Every catalog table as a multiset of rows (NaN made comparable)."""
    out = {}
    with vault.store(read_only=True) as store:
        for name, table in catalog.TABLES.items():
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            rows = store.con.execute(f"SELECT {cols} FROM {name}").fetchall()
            out[name] = collections.Counter(tuple(_comparable(v) for v in row) for row in rows)
    return out


def _comparable(value: Any) -> Any:
    """Hashable and equal to itself: NaN as None, lists and structs as tuples."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, list):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _comparable(v)) for k, v in value.items()))
    return value


def backfill(world: World, fault: str, directory: Path, types: list[str] | None) -> Outcome:
    """One backfill with ``fault``'s rates (none for "clean"), resumed after a clean stop."""
    skew = SKEWS.get(fault, 600.0 if fault == "all" else 0.0)
    # "clean": no rates, requests counted
    spec = FaultSpec(CLASSES.get(fault, {}), seed=SEED, skew=skew)
    sim = create_app(
        world, clock=lambda: NOW.timestamp(), auto_approve=True, quota_per_minute=None, faults=spec
    )
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory / fault)
    vault.authorize(server=SERVER, open_url=Browser(transport), transport=transport, types=types)
    stops = crashes = 0
    notes: list[str] = []
    started = time.perf_counter()
    for _ in range(1 + RESUMES):
        try:
            report = asyncio.run(
                vault.async_sync(
                    types=types, transport=transport, per_minute=None, clock=lambda: NOW
                )
            )
        except FitvaultError as exc:
            stops += 1
            notes.append(type(exc).__name__)
            if isinstance(exc, AuthError):  # the message says: run `fitvault auth` again
                vault.authorize(
                    server=SERVER, open_url=Browser(transport), transport=transport, types=types
                )
            continue
        except Exception as exc:  # a traceback a user would see
            crashes += 1
            notes.append(f"CRASH {type(exc).__name__}: {exc}")
            continue
        if report.refused:
            notes.append(f"refused: {', '.join(report.refused)}")
        break
    seconds = time.perf_counter() - started
    assert sim.faults is not None
    dice = sim.faults
    # data and account calls, all runs
    requests = dice.requests["api"] + dice.requests["paged"] + dice.requests["rollup"]
    on_rollups = sum(n for k, n in dice.rolled.items() if k.startswith("rollup:"))
    return Outcome(
        fault,
        dice.total,
        requests,
        stops,
        crashes,
        seconds,
        table_rows(vault),
        "; ".join(notes),
        on_rollups,
    )


def compare(
    want: dict[str, collections.Counter[tuple[Any, ...]]],
    got: dict[str, collections.Counter[tuple[Any, ...]]],
) -> tuple[int, int]:
    """(rows lost, rows duplicated or spurious) over every table."""
    lost = sum(sum((want[t] - got[t]).values()) for t in want)
    extra = sum(sum((got[t] - want[t]).values()) for t in want)
    return lost, extra


class RetryCount:
    """A stamina hook counting the client's retries (and keeping their log lines quiet)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, details: object) -> None:
        self.n += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 4-day world, five types")
    parser.add_argument("--days", type=int, help="world size (default 30, or 4 with --quick)")
    parser.add_argument("--only", help="comma-separated fault classes (default: all of them)")
    args = parser.parse_args()
    days = args.days or (4 if args.quick else 30)
    types = QUICK_TYPES if args.quick else None
    chosen = args.only.split(",") if args.only else list(CLASSES)
    unknown = [c for c in chosen if c not in CLASSES]
    if unknown:
        parser.error(f"unknown fault class {', '.join(unknown)}; known: {', '.join(CLASSES)}")
    retries = RetryCount()
    stamina.instrumentation.set_on_retry_hooks([retries])
    world = World.default(days=days, seed=SEED, now=NOW)
    print(f"{days}-day world, {'five' if types else 'all stored'} types, seed {SEED}", flush=True)
    header = (
        f"{'fault':<14}{'injected':>9}{'rollup':>7}{'retries':>8}{'requests':>9}{'stops':>6}"
        f"{'lost':>9}{'dup':>9}{'time s':>8}{'overhead':>9}  notes"
    )
    totals = collections.Counter[str]()
    with tempfile.TemporaryDirectory() as tmp:
        first = backfill(world, "clean", Path(tmp) / "warm-up", types)  # builds the world's data
        clean = backfill(world, "clean", Path(tmp), types)
        rows = sum(sum(c.values()) for c in clean.rows.values())
        print(
            f"clean: {clean.requests} requests, {rows} rows, {clean.seconds:.1f} s "
            f"(the first run, building the world's data: {first.seconds:.1f} s)",
            flush=True,
        )
        print(header, flush=True)
        for fault in chosen:
            before = retries.n
            run = backfill(world, fault, Path(tmp), types)
            lost, dup = compare(clean.rows, run.rows)
            overhead = run.seconds / clean.seconds - 1
            print(
                f"{fault:<14}{run.injected:>9}{run.on_rollups:>7}{retries.n - before:>8}"
                f"{run.requests:>9}"
                f"{run.stops:>6}{lost:>9}{dup:>9}{run.seconds:>8.1f}{overhead:>+9.0%}  {run.notes}",
                flush=True,
            )
            totals.update(
                lost=lost, dup=dup, crashes=run.crashes, injected=run.injected, stops=run.stops
            )
    print(
        f"rows_lost={totals['lost']} rows_duplicated={totals['dup']} crashes={totals['crashes']} "
        f"faults_injected={totals['injected']} stops={totals['stops']} days={days} "
        f"classes={len(chosen)}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
