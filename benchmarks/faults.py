"""Faults: full backfills through each fault class, compared with a fault-free backfill.

For every fault class of ``fitvault.simulator.faults`` (and all of them at once), a seeded
world is backfilled (every stored type) through the in-process simulator with that fault
injected, and the final vault is compared with a fault-free run's over the same world: every
catalog table, row by row, as multisets (so a duplicate and a loss are told apart). A run that
ends with a fitvault error (a refresh token refused, say) is resumed as a user would — after
signing in again when the error asks for it — up to eight times; an exception that is not
fitvault's own is a crash.

Two worlds. Each class alone runs over a ``--days`` world (the campaign: 14) at rates far above
the live API's (≈ 0.1–1 %), so a few hundred requests meet it several times. ``realistic`` —
every class at once at 1 % each (token-down 50 % of refreshes; 401s bring refreshes; the clock
ten minutes ahead) — runs over a ``--big-days`` world (default 365), so every class meets a
year of data; its notes count what each class injected. The refused refresh token is left out
of it (as from ``all``): each refusal ends a run by design, and a year makes ≈ 16 refreshes.

Time, measured on this shared 2-core machine (quota off, limiter off): a 365-day all-types
backfill is 1 655 requests and 7.96 M rows; 148 s in one process at load ≈ 2 (plus 7 s to
build the world's data, 470 MB), 196–300 s beside a second worker at load 5–11 (other
engineers' benchmarks). ``realistic`` over it: ≈ 1 905 requests, ≈ 180 retries, 227–336 s
(+10 to +28 %); each class met 11–25 times, 15 of them on roll-up POSTs. ``all`` (the
per-class rates together) over a year took 315 s and 3 216 requests: too long beside the rest
of the campaign. A 7-day run is ≈ 4.5 s alone, 7–21 s under load; most of it does not grow
with the world: the 20 classes took 100 s over 7 days, 120 s over 14 and 256 s over 21 (two
workers, load 5–8; at 21 days invalid-grant used up its resumes: since thinned out, see
``rates``). This whole script took 328–465 s with ``--days 7`` at load 5–11 and 335 s with
``--days 14`` at load ≈ 6 (the year's two runs ≈ 230–340 s of it, at once).

So the jobs run in ``--workers`` forked processes (default 2): simulator and client share one
process's GIL, so one backfill uses one core. The worlds' data is built before the fork (the
workers share it) and no job's time includes it; jobs start longest first (the big world's
clean and ``realistic`` runs at once), and each table row is printed when its run is done.
Rows are compared inside DuckDB (``EXCEPT ALL`` both ways over the two vault files): 8 M rows
made into Python tuples cost more time than a backfill and gigabytes.

The client's limiter (300 requests a sliding minute, for the live quota) would stretch a year's
1 655 requests over at least 5.5 minutes, twice the backfill's own time: the syncs pass
``per_minute=None`` (an option of ``Vault.sync``/``async_sync``), so it never waits (148 s for
1 655 requests shows it did not), and the simulator's quota is off (``quota_per_minute=None``).

Clock skew (``skew-ahead``/``skew-behind``: the server's clock ten minutes off the client's)
counts as "injected" every answer given on the skewed clock. Faults that land on the roll-up
POSTs (rollUp/dailyRollUp, which the roll-up-only types use) are counted in ``rollup``.

Retries sleep as they do for a user (stamina's backoff, and the 429's Retry-After of 1 s), so
``overhead`` is the real cost of the faults. Two things are cheaper in-process than on a
network and say so in the table: a ``timeout`` fault is raised at once (over a socket the
client first waits its 30 s read timeout), and a ``reset`` costs no reconnect. Runs share the
machine with each other and with whatever else runs, so ``overhead`` moves by ±40 % from run
to run; the figures that must not move are lost, dup and crashes.

``--quick`` (for the tests): 4- and 8-day worlds, five types (one served only as roll-ups).
Last line: ``rows_lost=… rows_duplicated=… crashes=… faults_injected=…`` (summed over the
runs), then ``days=`` and ``big_days=``: the two worlds' sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import functools
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import httpx2
import stamina

from fitvault import catalog
from fitvault._errors import AuthError, FitvaultError
from fitvault.simulator import v4_data
from fitvault.simulator.app import create_app
from fitvault.simulator.faults import API_FAULTS, PAGE_FAULTS, FaultSpec
from fitvault.simulator.world import World
from fitvault.store import VAULT_FILE
from fitvault.vault import Vault

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package
# kills.py and diskfull.py compare small vaults row by row with the tests' helper, from here
from tests.simulator.test_faults import table_rows as table_rows

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
SERVER = "http://simulator.localhost"
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
# Everything at once (less the refused refresh token, as in "all") at rates near the live API's,
# over the big world: at 1 % a year's ≈ 1 650 requests meet each class a dozen times or more.
CLASSES["realistic"] = dict.fromkeys(API_FAULTS + PAGE_FAULTS, 0.01) | {"token-down": 0.5}
SKEWED = {"all": 600.0, "realistic": 600.0} | SKEWS  # the server's clock off the client's, s
BIG = ("realistic",)  # the classes run over the big world (--big-days) instead of --days


def rates(fault: str, days: int) -> dict[str, float]:
    """The class's rates over a ``days`` world ("clean": none).

    Every refused refresh stops a run (the user signs in again and re-runs), so for
    ``invalid-grant`` the 401s that bring refreshes thin out as the world grows: a run meets
    as many refusals as over 7 days, not one per ≈ 33 requests (a 21-day world at 3 % used
    up all eight resumes and ended with rows missing).
    """
    out = dict(CLASSES.get(fault, {}))
    if fault == "invalid-grant":
        out["401"] *= min(1.0, 7 / days)
    return out


@dataclass(frozen=True)
class Job:
    """One backfill: a fault class over a world of ``days`` days, into ``directory``."""

    fault: str
    days: int
    directory: Path

    @property
    def vault(self) -> Path:
        return self.directory / f"{self.fault}-{self.days}d"


@dataclass
class Outcome:
    job: Job
    injected: int
    requests: int
    stops: int
    crashes: int
    seconds: float
    notes: str = ""
    on_rollups: int = 0  # faults rolled for roll-up POSTs
    retries: int = 0
    failed: bool = False  # the run did not finish: no vault to compare


@dataclass
class Plan:
    """What every job shares; set before the workers fork, so they inherit the built worlds."""

    types: list[str] | None
    worlds: dict[int, World] = field(default_factory=dict)


PLAN = Plan(types=None)


class Browser:
    """Consent through the simulator, then the redirect to the vault's loopback receiver."""

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self.transport = transport

    async def __call__(self, url: str) -> None:
        async with httpx2.AsyncClient(transport=self.transport) as client:
            answer = await client.get(url)
        async with httpx2.AsyncClient() as real:
            await real.get(answer.headers["location"])


def backfill(job: Job) -> Outcome:
    """One backfill with the job's fault rates (none for "clean"), resumed after a clean stop.

    ``per_minute=None``: the client's own limiter (300 requests a sliding minute, for the live
    quota) would hold a year's ≈ 1 650 requests back ≈ 5 minutes; the simulator's quota is off.
    """
    world, types = PLAN.worlds[job.days], PLAN.types
    # "clean": no rates, requests counted
    spec = FaultSpec(rates(job.fault, job.days), seed=SEED, skew=SKEWED.get(job.fault, 0.0))
    sim = create_app(
        world, clock=lambda: NOW.timestamp(), auto_approve=True, quota_per_minute=None, faults=spec
    )
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(job.vault)
    retried = RETRIES.n
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
    if job.fault in BIG:  # proof that every class met the big world (and how often)
        notes.insert(0, " ".join(f"{k}:{n}" for k, n in sorted(dice.injected.items())))
    # data and account calls, all runs
    requests = dice.requests["api"] + dice.requests["paged"] + dice.requests["rollup"]
    on_rollups = sum(n for k, n in dice.rolled.items() if k.startswith("rollup:"))
    return Outcome(
        job,
        dice.total,
        requests,
        stops,
        crashes,
        seconds,
        "; ".join(notes),
        on_rollups,
        RETRIES.n - retried,
    )


def compare_files(
    want: Path, got: Path, tables: dict[str, list[str]] | None = None
) -> tuple[int, int]:
    """(rows lost, rows duplicated or spurious) over every table of two vault files.

    Multiset differences (EXCEPT ALL) inside DuckDB: a year's ≈ 8 M rows as Python tuples took
    longer than the backfill and gigabytes. DuckDB holds NaN equal to NaN, so a NaN kept is
    not a loss.
    """
    tables = tables or {name: t.column_names for name, t in catalog.TABLES.items()}
    lost = extra = 0
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{want}' AS want (READ_ONLY)")
        con.execute(f"ATTACH '{got}' AS got (READ_ONLY)")
        for name, columns in tables.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            for a, b in (("want", "got"), ("got", "want")):
                diff = f"SELECT {cols} FROM {a}.{name} EXCEPT ALL SELECT {cols} FROM {b}.{name}"
                row = con.execute(f"SELECT count(*) FROM ({diff})").fetchone()
                n = row[0] if row else 0
                if a == "want":
                    lost += n
                else:
                    extra += n
    return lost, extra


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


RETRIES = RetryCount()  # one per process: each worker counts its own jobs' retries


def count_retries() -> None:
    stamina.instrumentation.set_on_retry_hooks([RETRIES])


def warm(world: World, types: list[str] | None) -> World:
    """Build the world's data now, before the workers fork (they share it copy-on-write), so
    no job's time includes it: each synced type's collection, and the roll-up streams."""
    for dtype in catalog.STORED_TYPES:
        if types is not None and dtype.name not in types:
            continue
        if dtype.rollup_only:
            world.rollup_source(dtype.name)
        else:
            v4_data.collection(world, dtype)
    return world


def jobs(chosen: list[str], days: int, big_days: int, directory: Path) -> list[Job]:
    """Longest first (the big world's), each world's clean run before its faulted ones."""
    big = [Job(f, big_days, directory) for f in chosen if f in BIG and big_days]
    small = [Job(f, days, directory) for f in chosen if f not in BIG]
    return [
        *([Job("clean", big_days, directory)] if big else []),
        *big,
        *([Job("clean", days, directory)] if small else []),
        *small,
    ]


def run_all(todo: list[Job], workers: int) -> Iterator[Outcome]:
    """The jobs in ``workers`` forked processes (each in-process backfill is bound to one core:
    simulator and client share its GIL), or here when ``workers`` is 1. A job that raised (or
    whose worker died) comes back as a crash."""
    if workers <= 1:
        count_retries()
        for job in todo:
            yield _guarded(job, functools.partial(backfill, job))
        return
    # fork: the workers inherit PLAN's built worlds instead of building their own
    with ProcessPoolExecutor(workers, get_context("fork"), initializer=count_retries) as pool:
        pending = [(job, pool.submit(backfill, job)) for job in todo]  # started in this order
        for job, future in pending:
            yield _guarded(job, future.result)  # in order: each clean run before its faults


def _guarded(job: Job, outcome: Callable[[], Outcome]) -> Outcome:
    try:
        return outcome()
    except Exception as exc:  # not the sync's (backfill catches those): the benchmark's own
        return Outcome(job, 0, 0, 0, 1, 0.0, f"CRASH {type(exc).__name__}: {exc}", failed=True)


def count_rows(vault: Path) -> int:
    with duckdb.connect(str(vault / VAULT_FILE), read_only=True) as con:
        counts = (con.execute(f"SELECT count(*) FROM {name}").fetchone() for name in catalog.TABLES)
        return sum(c[0] for c in counts if c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4- and 8-day worlds, five types")
    parser.add_argument("--days", type=int, help="world of each class (default 30; 4 --quick)")
    parser.add_argument(
        "--big-days",
        type=int,
        help=f"world of {', '.join(BIG)} (default 365; 8 --quick; 0 leaves it out)",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--only", help="comma-separated fault classes (default: all of them)")
    args = parser.parse_args()
    days = args.days or (4 if args.quick else 30)
    big_days = args.big_days if args.big_days is not None else (8 if args.quick else 365)
    chosen = args.only.split(",") if args.only else list(CLASSES)
    unknown = [c for c in chosen if c not in CLASSES]
    if unknown:
        parser.error(f"unknown fault class {', '.join(unknown)}; known: {', '.join(CLASSES)}")
    if days < 1 or big_days < 0 or args.workers < 1:
        parser.error("--days and --workers must be at least 1, --big-days at least 0")
    PLAN.types = QUICK_TYPES if args.quick else None
    with tempfile.TemporaryDirectory() as tmp:
        todo = jobs(chosen, days, big_days, Path(tmp))
        started = time.perf_counter()
        for size in sorted({j.days for j in todo}):
            PLAN.worlds[size] = warm(World.default(days=size, seed=SEED, now=NOW), PLAN.types)
        print(
            f"{'five' if PLAN.types else 'all stored'} types, seed {SEED}, {args.workers} "
            f"workers; worlds of {', '.join(f'{d}' for d in sorted(PLAN.worlds))} days built in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        totals = report(run_all(todo, args.workers))
        print(f"all jobs: {time.perf_counter() - started:.0f} s", flush=True)
    print(
        f"rows_lost={totals['lost']} rows_duplicated={totals['dup']} crashes={totals['crashes']} "
        f"faults_injected={totals['injected']} stops={totals['stops']} days={days} "
        f"big_days={big_days if any(j.fault in BIG for j in todo) else 0} "
        f"classes={len(chosen)}"
    )
    sys.stdout.flush()


def report(outcomes: Iterator[Outcome]) -> collections.Counter[str]:
    """Print each run's row as it comes (a clean run's as a line of its own); the sums."""
    header = (
        f"{'fault':<14}{'days':>5}{'injected':>9}{'rollup':>7}{'retries':>8}{'requests':>9}"
        f"{'stops':>6}{'lost':>9}{'dup':>9}{'time s':>8}{'overhead':>9}  notes"
    )
    clean: dict[int, Outcome] = {}
    totals = collections.Counter[str]()
    for run in outcomes:
        days = run.job.days
        if run.job.fault == "clean":
            clean[days] = run
            rows = "no" if run.failed else count_rows(run.job.vault)
            print(
                f"clean, {days}-day world: {run.requests} requests, {rows} rows, "
                f"{run.seconds:.1f} s {run.notes}",
                flush=True,
            )
            totals.update(crashes=run.crashes)
            if len(clean) == 1:
                print(header, flush=True)
            continue
        base = clean[days]
        lost = dup = 0
        if not (run.failed or base.failed):
            lost, dup = compare_files(base.job.vault / VAULT_FILE, run.job.vault / VAULT_FILE)
        overhead = run.seconds / base.seconds - 1 if base.seconds else 0.0
        print(
            f"{run.job.fault:<14}{days:>5}{run.injected:>9}{run.on_rollups:>7}{run.retries:>8}"
            f"{run.requests:>9}{run.stops:>6}{lost:>9}{dup:>9}{run.seconds:>8.1f}"
            f"{overhead:>+9.0%}  {run.notes}",
            flush=True,
        )
        totals.update(
            lost=lost, dup=dup, crashes=run.crashes, injected=run.injected, stops=run.stops
        )
    return totals


if __name__ == "__main__":
    main()
