"""Sync: the planner asks only for what is missing, the runner stores exactly the world, and a
sync killed at any page resumes to the same vault."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import math
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitvault import catalog
from fitvault._errors import ApiUnavailable, ConfigError
from fitvault._time import to_us
from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.world import World
from fitvault.sources.google_health import Window
from fitvault.sync import PIECE_DAYS, Frontier, plan_windows, shape_windows, subtract
from fitvault.vault import Vault
from tests.conftest import DST_NOW, FALL_BACK, NOW, FakeClock, sign_in, sync

spans = st.lists(
    st.tuples(st.integers(0, 1000), st.integers(1, 200)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=8,
)


@given(
    covered=spans, lo=st.integers(0, 1000), size=st.integers(1, 1000), stale=st.integers(0, 2000)
)
def test_planned_windows_are_exactly_what_is_missing(
    covered: list[tuple[int, int]], lo: int, size: int, stale: int
) -> None:
    """Windows are disjoint, newest first, inside the request, and cover every point that is
    requested and not freshly covered — and nothing else."""
    requested = (lo, lo + size)
    windows = plan_windows(requested, covered, stale_from=stale)
    assert [w.lo for w in windows] == sorted((w.lo for w in windows), reverse=True)
    wanted = {x for x in range(*requested) if not any(a <= x < min(b, stale) for a, b in covered)}
    got = [x for w in windows for x in range(w.lo, w.hi)]
    assert len(got) == len(set(got))
    assert set(got) == wanted


def test_subtract_keeps_the_uncovered_pieces() -> None:
    """A span minus coverage in the middle leaves both ends."""
    assert subtract((0, 10), [(3, 5)]) == [(0, 3), (5, 10)]


def test_frontier_replaces_down_to_each_pages_oldest_key() -> None:
    """Each page answers for [its oldest key, the previous page's oldest); the last for the rest."""
    f = Frontier(Window(0, 100), epsilon=1)
    assert f.step(70, 99, last=False) == ((70, 100), (71, 100))
    assert f.step(40, 70, last=False) == ((40, 70), (41, 100))
    assert f.step(None, None, last=False) == (None, None)  # empty page with a token
    assert f.step(10, 39, last=True) == ((0, 40), (0, 100))


def test_frontier_stops_replacing_when_pages_are_out_of_order() -> None:
    """If the server's order cannot be trusted, nothing is deleted by span until the end."""
    f = Frontier(Window(0, 100), epsilon=1)
    f.step(50, 99, last=False)
    assert f.step(40, 80, last=False) == (None, None)
    assert f.step(0, 30, last=True) == (None, (0, 100))


# Sync mechanics are tested on the four original types (fast); every type's rows are compared
# with the world in tests/test_world_types.py.
CLASSIC = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]


def watch_and_phone_steps(world: World) -> list[tuple[float, int]]:
    """(start, count) of every device's steps, as the vault keeps them (list serves all)."""
    rec = world.records("steps")
    return sorted((float(t), int(n)) for t, n in zip(rec["start_time"], rec["count"], strict=True))


def table_rows(vault: Vault) -> dict[str, list[tuple]]:
    with vault.store(read_only=True) as store:
        return {
            "heart_rate": store.con.execute(
                "SELECT epoch(time), bpm, utc_offset_s, local_date FROM heart_rate ORDER BY 1"
            ).fetchall(),
            "steps": store.con.execute(
                "SELECT epoch(start_time), count FROM steps ORDER BY 1, 2"
            ).fetchall(),
            "sleep_sessions": store.con.execute(
                "SELECT epoch(start_time), epoch(end_time), minutes_asleep FROM sleep_sessions ORDER BY 1"
            ).fetchall(),
            "sleep_stages": store.con.execute(
                "SELECT epoch(start_time), epoch(end_time), stage, utc_offset_s FROM sleep_stages "
                "ORDER BY 1"
            ).fetchall(),
            "resting_heart_rate": store.con.execute(
                "SELECT date, bpm FROM resting_heart_rate ORDER BY 1"
            ).fetchall(),
        }


def test_a_sync_stores_exactly_the_world(
    vault: Vault, transport: httpx2.ASGITransport, world: World
) -> None:
    """Every reading, minute, session, stage and daily value of the world is in the vault once."""
    report = sync(vault, transport)
    rows = table_rows(vault)
    hr = world.heart_rate()
    assert [r[0] for r in rows["heart_rate"]] == hr.t.astype(float).tolist()
    assert [r[1] for r in rows["heart_rate"]] == hr.bpm.tolist()
    assert [r[2] for r in rows["heart_rate"]] == hr.offset_s.tolist()
    assert rows["steps"] == watch_and_phone_steps(world)
    assert [(s[0], s[1]) for s in rows["sleep_sessions"]] == [
        (float(s.start_s), float(s.end_s)) for s in world.sleep()
    ]
    assert [r[:3] for r in rows["sleep_stages"]] == [
        (float(st.start_s), float(st.end_s), st.stage) for s in world.sleep() for st in s.stages
    ]
    assert [(d, b) for d, b in rows["resting_heart_rate"]] == [
        (v.date, v.value) for v in world.resting_heart_rate()
    ]
    assert report.skipped == {}


@pytest.mark.parametrize("concurrency", [1, 4])
def test_first_sync_needs_about_the_lower_bound_of_requests(
    vault: Vault, transport: httpx2.ASGITransport, world: World, concurrency: int
) -> None:
    """Requests stay within a few of ⌈points ÷ page cap⌉ per type (+3 account calls); the
    extra ones are the day-long gap's empty pages and, when concurrent, one per cut."""
    types = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]
    report = sync(vault, transport, concurrency=concurrency, types=types)
    bound = (
        math.ceil(len(world.heart_rate().t) / 5000)
        + math.ceil(len(world.steps().start) / 10_000)
        + math.ceil(len(world.sleep()) / 25)
        + 1
        + 3
    )
    assert len(report.windows["heart-rate"]) == concurrency
    assert bound <= report.requests <= bound + 3 + (concurrency - 1)


def test_sync_twice_is_sync_once_and_rereads_only_the_lag(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """A second sync leaves the same rows and only re-reads the last few days."""
    sync(vault, transport, types=CLASSIC)
    first = table_rows(vault)
    again = sync(vault, transport, types=CLASSIC)
    assert table_rows(vault) == first
    lag_start = to_us(NOW - dt.timedelta(days=3))
    for name in ("heart-rate", "steps", "sleep"):
        assert [w.lo for w in again.windows[name]] == [lag_start]
    assert again.pages["heart-rate"] < 15


class Killed(Exception):
    """Stands in for the process dying mid-sync."""


class DyingTransport(httpx2.AsyncBaseTransport):
    """Forwards to the simulator, then dies on the n-th dataPoints request."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, die_at: int) -> None:
        self.inner, self.die_at, self.seen = inner, die_at, 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if "/dataPoints" in request.url.path:
            self.seen += 1
            if self.seen == self.die_at:
                raise Killed
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("die_at", [2, 5, 9, 40])
def test_a_killed_sync_resumes_to_the_same_vault(
    tmp_path: Path, transport: httpx2.ASGITransport, die_at: int
) -> None:
    """Dying at any request and re-running gives the rows of an uninterrupted sync."""
    clean = Vault(tmp_path / "clean")
    sign_in(clean, transport)
    sync(clean, transport, types=CLASSIC)

    broken = Vault(tmp_path / "broken")
    sign_in(broken, transport)
    with pytest.raises(Killed):
        sync(broken, DyingTransport(transport, die_at), types=CLASSIC)
    resumed = sync(broken, transport, types=CLASSIC)
    assert table_rows(broken) == table_rows(clean)
    assert resumed.requests < 200


def test_rebuild_from_raw_pages_gives_the_same_tables(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """Dropping every row and replaying the kept pages restores the tables exactly."""
    sync(vault, transport, types=CLASSIC)
    sync(vault, transport, types=CLASSIC)  # lag re-reads add overlapping pages to replay
    before = table_rows(vault)
    with vault.store() as store:  # damage the tables, so a rebuild that does nothing fails
        store.con.execute("DELETE FROM heart_rate WHERE bpm > 70")
        store.con.execute("UPDATE steps SET count = count + 1")
        store.con.execute("DELETE FROM sleep_stages")
    assert table_rows(vault) != before
    vault.rebuild()
    assert table_rows(vault) == before


def test_types_without_a_granted_scope_are_skipped_with_a_reason(
    tmp_path: Path, transport: httpx2.ASGITransport
) -> None:
    """Signing in for heart rate only syncs heart rate and says why the rest was skipped."""
    v = Vault(tmp_path / "v")
    sign_in(v, transport, types=["heart-rate"])
    report = sync(v, transport)
    assert report.rows["heart_rate"] > 0
    assert report.rows["sleep_sessions"] == 0
    assert "sleep" in report.skipped
    assert "fitvault auth" in report.skipped["sleep"]


def test_an_expired_access_token_is_refreshed_once(
    vault: Vault, sim: Simulator, transport: httpx2.ASGITransport, clock
) -> None:  # type: ignore[no-untyped-def]
    """When the API says 401 the client refreshes, saves the new token and carries on."""
    token_file = vault.directory / "token.json"
    before = token_file.read_text()
    clock.advance(2 * 3600)  # the simulator now considers the access token expired
    report = sync(vault, transport, types=["daily-resting-heart-rate"])
    assert report.rows["resting_heart_rate"] > 0
    assert token_file.read_text() != before


def test_429_waits_as_long_as_retry_after_says(tmp_path: Path, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    """Rate limited mid-sync, the client waits Retry-After seconds and finishes the job."""
    import stamina.instrumentation as si

    from fitvault.simulator.app import create_app

    sim = create_app(world, clock=clock, auto_approve=True, quota_per_minute=2)
    transport = httpx2.ASGITransport(app=sim.app)
    v = Vault(tmp_path / "v")
    sign_in(v, transport)
    waits: list[float] = []

    def advance(details: si.RetryDetails) -> None:
        wait = getattr(details.caused_by, "retry_after", None)
        if wait:
            waits.append(wait)
            clock.advance(wait)

    si.set_on_retry_hooks([advance])
    try:
        report = sync(v, transport, types=["sleep", "daily-resting-heart-rate"])
    finally:
        si.set_on_retry_hooks(None)
    assert report.rows["sleep_sessions"] == len(world.sleep())
    assert waits
    assert all(1 <= w <= 60 for w in waits)


def test_server_errors_are_retried_then_reported(
    tmp_path: Path, transport: httpx2.ASGITransport
) -> None:
    """A server that keeps failing is retried a few times, then named in a clear error."""
    v = Vault(tmp_path / "v")
    sign_in(v, transport)

    class Failing(httpx2.AsyncBaseTransport):
        calls = 0

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            if "/dataPoints" in request.url.path:
                Failing.calls += 1
                return httpx2.Response(
                    503, json={"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}
                )
            return await transport.handle_async_request(request)

    with pytest.raises(ApiUnavailable, match=r"dataPoints.*run the command again"):
        sync(v, Failing(), types=["sleep"])
    assert Failing.calls == 4  # stamina attempts in test mode


def test_progress_reaches_one_for_every_type(vault: Vault, transport: httpx2.ASGITransport) -> None:
    """The progress callback ends at 100 % per type with the points received."""
    seen: dict[str, float] = {}
    sync(vault, transport, progress=lambda p: seen.__setitem__(p.data_type, p.done))
    assert seen == {t.name: 1.0 for t in catalog.STORED_TYPES}


def test_counts_match_when_asyncio_loop_already_runs(
    vault: Vault, transport: httpx2.ASGITransport, world: World
) -> None:
    """vault.sync works from inside a running event loop (as in Jupyter): the report's count
    and the stored values are the world's."""

    async def inside() -> int:
        report = vault.sync(
            transport=transport, per_minute=None, types=["daily-resting-heart-rate"]
        )
        return report.rows["resting_heart_rate"]

    assert asyncio.run(inside()) == len(world.resting_heart_rate())
    assert table_rows(vault)["resting_heart_rate"] == [
        (v.date, v.value) for v in world.resting_heart_rate()
    ]


class SeenAt(World):
    """The same world as the server showed it at ``seen``: later uploads not there yet."""

    def __init__(self, base: World, seen: int) -> None:
        self.__dict__.update(base.__dict__)
        self._base, self._seen = base, seen

    def heart_rate(self):  # type: ignore[no-untyped-def]
        hr = self._base.heart_rate()
        keep = hr.t < self._seen
        return type(hr)(hr.t[keep], hr.bpm[keep], hr.offset_s[keep])

    def steps(self):  # type: ignore[no-untyped-def]
        st = self._base.steps()
        keep = st.start + 60 <= self._seen
        return type(st)(st.start[keep], st.count[keep], st.offset_s[keep])

    def sleep(self):  # type: ignore[no-untyped-def]
        return tuple(s for s in self._base.sleep() if s.created_s <= self._seen)

    def resting_heart_rate(self):  # type: ignore[no-untyped-def]
        day = dt.datetime.fromtimestamp(self._seen, dt.UTC).date()
        return tuple(v for v in self._base.resting_heart_rate() if v.date < day)

    def records(self, type_name):  # type: ignore[no-untyped-def]
        rec = self._base.records(type_name)
        if "start_time" not in rec:
            return rec
        keep = np.flatnonzero(np.asarray(rec["end_time"]) <= self._seen)
        return {k: np.asarray(v, dtype=object)[keep] for k, v in rec.items()}


def test_late_uploads_are_fetched_even_when_syncs_are_a_week_apart(
    tmp_path: Path, world: World
) -> None:
    """Data the server only had after a sync is picked up by a sync a week later: the recent
    stretch before each sync is never marked as covered."""
    from fitvault.simulator.app import create_app

    earlier = NOW - dt.timedelta(days=7)
    before = create_app(SeenAt(world, int(earlier.timestamp()) - 300), auto_approve=True)
    early_transport = httpx2.ASGITransport(app=before.app)
    later = httpx2.ASGITransport(app=create_app(world, auto_approve=True).app)
    v = Vault(tmp_path / "v")
    sign_in(v, early_transport)
    sync(v, early_transport, clock=lambda: earlier, types=CLASSIC)
    sync(v, later, types=CLASSIC)
    clean = Vault(tmp_path / "clean")
    sign_in(clean, later)
    sync(clean, later, types=CLASSIC)
    assert table_rows(v) == table_rows(clean)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [("2026-12-01", None, "in the future"), ("2026-11-20", "2026-11-18", "after --until")],
)
def test_impossible_date_ranges_are_refused(
    vault: Vault, transport: httpx2.ASGITransport, since: str, until: str | None, message: str
) -> None:
    """A --since in the future or after --until is a ConfigError, and nothing is marked covered."""
    with pytest.raises(ConfigError, match=message):
        sync(vault, transport, since=since, until=until)
    with vault.store(read_only=True) as store:
        assert store.coverage("daily-resting-heart-rate", "google-health-api") == []


def test_a_window_not_paged_along_its_axis_is_answered_for_as_a_whole() -> None:
    """Sleep (filtered by end, ordered by start): replaced with the first page, covered only by
    the last, never flushed early — so a kill cannot leave coverage ahead of the rows."""
    f = Frontier(Window(0, 100), epsilon=1, fresh_until=90, by_page=False)
    assert f.step(70, 99, last=False) == ((0, 100), None)
    assert f.step(10, 60, last=False) == (None, None)
    assert f.step(0, 9, last=True) == (None, (0, 90))


@pytest.mark.parametrize(("days", "pieces"), [(1, 1), (5, 2), (20, 4), (56, 4), (365, 27)])
def test_a_long_backfill_is_walked_in_neighbouring_pieces(days: int, pieces: int) -> None:
    """Heart rate (walked in up to four pieces at once) is cut into pieces of at most two
    weeks, newest first, that tile the window: the walks running at once are neighbours, so
    the rows they append together span weeks — not months of a year's history each."""
    day = 86_400_000_000
    window = Window(10 * day, (10 + days) * day)
    got = shape_windows(catalog.get("heart-rate"), [window], concurrency=4)
    assert len(got) == pieces
    assert got[0].hi == window.hi
    assert got[-1].lo == window.lo
    assert all(a.lo == b.hi for a, b in itertools.pairwise(got))  # adjacent, newest first
    assert all(w.hi - w.lo <= PIECE_DAYS * day for w in got)
    # Walked one at a time, nothing is cut.
    assert shape_windows(catalog.get("heart-rate"), [window], concurrency=1) == [window]


def test_coverage_stops_short_of_the_stretch_the_server_may_still_fill() -> None:
    """Pages newer than fresh_until are saved but not recorded as covered."""
    f = Frontier(Window(0, 100), epsilon=1, fresh_until=50)
    assert f.step(70, 99, last=False) == ((70, 100), None)
    assert f.step(40, 69, last=False) == ((40, 70), (41, 50))
    assert f.step(0, 39, last=True) == ((0, 40), (0, 50))


def local_date(t: int, offset_s: int) -> dt.date:
    return dt.datetime.fromtimestamp(t + offset_s, dt.UTC).date()


def test_a_sync_across_a_clock_change_keeps_each_instants_offset(
    tmp_path: Path, dst_world: World
) -> None:
    """Across New York's fall-back, readings, their UTC offsets on both sides, steps per local
    day (the 25-hour day included) and the night spanning the change are stored as the world
    has them."""
    world, edt, est = dst_world, -4 * 3600, -5 * 3600
    assert world.home_zone == "America/New_York"
    home = [z for z in world.zones if z.start_s <= FALL_BACK < z.end_s]
    assert [z.zone for z in home] == [world.home_zone]  # at home, not on a trip, at the change
    assert (world.offset_at(FALL_BACK - 1), world.offset_at(FALL_BACK)) == (edt, est)

    sim = create_app(world, clock=FakeClock(DST_NOW.timestamp()), auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "vault")
    sign_in(vault, transport)
    report = sync(vault, transport, clock=lambda: DST_NOW, types=CLASSIC)
    assert report.skipped == {}
    rows = table_rows(vault)

    hr = world.heart_rate()
    times = [int(r[0]) for r in rows["heart_rate"]]
    assert times == hr.t.tolist()
    assert [r[1] for r in rows["heart_rate"]] == hr.bpm.tolist()
    offsets = [world.offset_at(t) for t in times]
    assert [r[2] for r in rows["heart_rate"]] == offsets
    assert {edt, est} <= set(offsets)
    assert [r[3] for r in rows["heart_rate"]] == list(map(local_date, times, offsets))

    want: dict[dt.date, int] = {}
    for t, n in watch_and_phone_steps(world):
        day = local_date(int(t), world.offset_at(int(t)))
        want[day] = want.get(day, 0) + n
    assert dt.date(2026, 11, 1) in want
    with vault.store(read_only=True) as store:
        got = store.con.execute(
            "SELECT local_date, sum(count)::BIGINT FROM steps GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert dict(got) == want

    (night,) = [s for s in world.sleep() if s.start_s < FALL_BACK < s.end_s]
    stored = [r for r in rows["sleep_stages"] if night.start_s <= r[0] < night.end_s]
    assert stored == [
        (float(st.start_s), float(st.end_s), st.stage, world.offset_at(st.start_s))
        for st in night.stages
    ]
    assert {r[3] for r in stored} == {edt, est}
    assert (night.start_offset_s, night.end_offset_s) == (edt, est)
    with vault.store(read_only=True) as store:
        session = store.con.execute(
            "SELECT epoch(end_time), start_utc_offset_s, end_utc_offset_s, local_date "
            "FROM sleep_sessions WHERE epoch(start_time) = ?",
            [night.start_s],
        ).fetchall()
    assert session == [(float(night.end_s), edt, est, dt.date(2026, 11, 1))]


def test_a_failed_save_is_raised_on_the_buffer_that_made_it() -> None:
    """Types are walked side by side through one writer: a save's error surfaces where that
    save's buffer settles, and another buffer's save after it still runs and settles cleanly."""
    from fitvault.sync import PageBuffer, Writer

    writer, saved = Writer(), []

    def fail() -> None:
        raise ValueError("disk full")

    hr = next(t for t in catalog.STORED_TYPES if t.name == "heart-rate")
    window = Window(0, 10)
    first, second = (PageBuffer(hr, Frontier(window, 1)) for _ in range(2))
    first.saving = writer.submit(fail)
    second.saving = writer.submit(lambda: saved.append("second"))
    second.settle()
    with pytest.raises(ValueError, match="disk full"):
        first.settle()
    writer.close()
    assert saved == ["second"]


def test_parsing_saving_and_checkpoints_take_turns(
    vault: Vault, transport: httpx2.ASGITransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync's heavy steps — parsing a page, saving a batch, closing the file (DuckDB
    checkpoints there) — run one at a time, however many windows are walked at once: their
    memory would otherwise add up at the sync's peak. Each step's start and end is recorded
    from inside it; no two may overlap."""
    from fitvault import store as store_mod
    from fitvault import sync as sync_mod

    steps: list[tuple[float, float, str, int]] = []
    guard = threading.Lock()

    def timed(kind: str, fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with guard:
                    steps.append((start, time.perf_counter(), kind, threading.get_ident()))

        return run

    monkeypatch.setattr(sync_mod, "normalise", timed("parse", sync_mod.normalise))
    monkeypatch.setattr(store_mod.Store, "commit", timed("save", store_mod.Store.commit))
    monkeypatch.setattr(store_mod.Store, "_shut", timed("close", store_mod.Store._shut))
    report = sync(vault, transport, concurrency=4, types=["heart-rate", "steps", "sleep"])
    assert len(report.windows["heart-rate"]) == 4
    assert {"parse", "save", "close"} <= {kind for _, _, kind, _ in steps}
    threads = {thread for *_, thread in steps}
    assert len(threads) > 2  # parse threads and the writer did the work
    # A save closes the file itself when it is due (nested, on its own thread).
    for (s1, e1, k1, t1), (s2, e2, k2, t2) in itertools.combinations(steps, 2):
        assert t1 == t2 or e1 <= s2 or e2 <= s1, f"a {k1} and a {k2} ran at once"


def test_lean_memory_switches_arrow_to_the_system_allocator() -> None:
    """The CLI's sync allocates Arrow buffers with the system allocator (mimalloc keeps what the
    parse threads freed)."""
    import pyarrow as pa

    from fitvault.sync import lean_memory

    before = pa.default_memory_pool()
    try:
        lean_memory()
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(before)
