"""Sync: plan the fewest requests that cover what is missing, then fetch, normalise and store
them page by page so the work can be killed at any moment and resumed.

Planning is pure (coverage + requested span + clock → windows). Each window is one paged
``list`` walk at the largest page size, filtered to exactly the span; what is already stored is
never asked for again, except the last ``lag`` of time that wearables still revise. While one
page is being normalised and saved (in a worker thread), the next is already being fetched.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import dataclasses
import datetime as dt
import importlib.abc
import itertools
import logging
import math
import sys
import threading
import time
import zoneinfo
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import pyarrow as pa

from fitvault import catalog
from fitvault._errors import ApiError, ApiUnavailable, ConfigError, DataError, QuotaExhausted
from fitvault._time import US_PER_DAY, date_to_us, to_us
from fitvault.catalog import Axis, DataType, Op, RecordKind
from fitvault.http import ApiClient
from fitvault.normalise.columns import Batch
from fitvault.normalise.google_health import SOURCE, normalise
from fitvault.sources.google_health import AccountInfo, Page, Window, fetch_account, walker
from fitvault.store import RawPage, Store, merge_spans

log = logging.getLogger(__name__)

DEFAULT_LAG = dt.timedelta(days=3)
DEFAULT_HISTORY = dt.timedelta(days=365)
MAX_OFFSET = dt.timedelta(hours=14)  # the largest UTC offset a device can report
PIECE_DAYS = 14  # the longest piece of a window walked beside others (see spread)


def sync_order(dtype: DataType) -> tuple[int, str]:
    """Small, quick types first so a long heart-rate backfill does not hold the rest back."""
    rank = {RecordKind.DAILY: 0, RecordKind.SESSION: 1, RecordKind.SAMPLE: 2}
    heavy = dtype.split_days is not None
    return (3 if heavy else rank.get(dtype.record_kind, 2), dtype.name)


T = TypeVar("T")


# --- process memory ---------------------------------------------------------------------------

_M_ARENA_MAX = -8  # glibc's mallopt parameter numbers
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed (see lean_memory)
_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL | None:
    """glibc, or None elsewhere (musl, macOS): the knobs below are glibc's."""
    global _LIBC
    if _LIBC is None:
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim"):
                _LIBC = libc
    return _LIBC


def lean_memory() -> None:
    """Process-wide allocator settings for a long sync (the CLI applies them; a library user
    may, before the sync starts its threads).

    Measured on a 60-day all-types sync (benchmarks/sync_memory.py): Arrow's default pool
    (mimalloc) keeps what the parse threads freed, the system allocator does not; and glibc
    gives each of the sync's threads its own 64 MB arena, whose free space no other thread can
    reuse — two arenas hold the same work in less memory. And glibc raises its mmap threshold
    each time a large block is freed (up to 32 MB), so response bodies and Arrow buffers of a
    few MB end up inside the arenas, whose freed middle it cannot hand back: fixed at 128 KiB,
    they are mapped and unmapped on their own (120-day sync: memory malloc held free at the
    peak 75 → 34 MB, peak RSS 285 → 275 MB).
    """
    pa.set_memory_pool(pa.system_memory_pool())
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, 2)
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


class _RefusePandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"{name} is kept out of a sync", name=name)


@contextlib.contextmanager
def without_pandas() -> Iterator[None]:
    """Keep pandas out of the process while a sync runs (the CLI's ``fitvault sync``).

    A sync needs none of pandas, but Arrow imports it (≈ 45 MB, a sixth of the sync's peak
    RSS) the first time a Python list becomes an array, only to learn pandas' missing-value
    markers; refused, Arrow does without them (it asks again later, at the cost of one refused
    lookup). pyarrow's own pandas support (``to_pandas``) still imports it when called. No
    effect when pandas is already loaded.
    """
    if "pandas" in sys.modules:
        yield
        return
    finder = _RefusePandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def release_freed_memory() -> None:
    """Hand the pages malloc holds free back to the system (glibc keeps them otherwise: a
    closed DuckDB connection's buffers would stay in the sync's RSS until reused)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


# --- planning (pure) --------------------------------------------------------------------------


def subtract(span: tuple[int, int], covered: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Parts of the half-open ``span`` not inside any covered span."""
    lo, hi = span
    out = []
    for a, b in merge_spans(covered):
        if b <= lo or a >= hi:
            continue
        if a > lo:
            out.append((lo, a))
        lo = max(lo, b)
    if lo < hi:
        out.append((lo, hi))
    return out


def plan_windows(
    requested: tuple[int, int], covered: Sequence[tuple[int, int]], *, stale_from: int
) -> list[Window]:
    """Missing windows, newest first; coverage at or after ``stale_from`` counts as missing."""
    fresh = [(a, min(b, stale_from)) for a, b in covered if min(b, stale_from) > a]
    return [Window(a, b) for a, b in reversed(subtract(requested, fresh))]


@dataclass(frozen=True)
class Span:
    """What the user asked for, resolved against the person's time zone."""

    first_day: dt.date
    last_day: dt.date  # inclusive
    now: dt.datetime
    zone: dt.tzinfo

    @property
    def local_now(self) -> int:
        """Now on the civil axis: the wall clock in the person's zone, as µs."""
        return to_us(self.now.astimezone(self.zone).replace(tzinfo=dt.UTC))

    def axis(self, dtype: DataType) -> tuple[int, int]:
        """[from, to) on the type's range axis (µs).

        Instants are widened by the largest UTC offset on both sides: a reading's local day
        follows the offset of the device at that moment (travel), not the current zone.
        """
        first, end = date_to_us(self.first_day), date_to_us(self.last_day + dt.timedelta(days=1))
        if dtype.axis is Axis.DATE:
            return first, end
        if dtype.axis is Axis.CIVIL:
            return first, min(end, self.local_now)
        start = dt.datetime.combine(self.first_day, dt.time(), self.zone) - MAX_OFFSET
        stop = dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(), self.zone)
        return to_us(start), to_us(min(stop + MAX_OFFSET, self.now))

    def stale_from(self, dtype: DataType, lag: dt.timedelta) -> int:
        if dtype.axis is Axis.DATE:
            today = self.now.astimezone(self.zone).date()
            return date_to_us(today - dt.timedelta(days=lag.days))
        if dtype.axis is Axis.CIVIL:
            return self.local_now - int(lag.total_seconds() * 1_000_000)
        return to_us(self.now - lag)


def resolve_span(
    account: AccountInfo, since: dt.date | None, until: dt.date | None, now: dt.datetime
) -> Span:
    """Default to everything since the person joined; never before that, never past now."""
    zone: dt.tzinfo = dt.UTC
    if account.time_zone:
        try:
            zone = zoneinfo.ZoneInfo(account.time_zone)
        except zoneinfo.ZoneInfoNotFoundError:
            log.warning("unknown time zone %r in settings; using UTC", account.time_zone)
    today = now.astimezone(zone).date()
    if since and since > today:
        raise ConfigError(f"--since {since} is in the future (today is {today} in {zone})")
    if since and until and since > until:
        raise ConfigError(f"--since {since} is after --until {until}")
    joined = account.membership_start
    first = since or joined or today - DEFAULT_HISTORY
    if joined and first < joined:
        log.info("starting at %s, the account's membership start, not %s", joined, first)
        first = joined
    last = min(until or today, today)
    return Span(first, max(last, first), now, zone)


# --- running ----------------------------------------------------------------------------------


@dataclass
class Frontier:
    """Where a newest-first walk of one window has got to, and what each page answers for.

    ``top`` is the smallest key seen so far: every key above it in the window has arrived, and
    more rows *at* it may still follow on the next page. Coverage never reaches past
    ``fresh_until`` (the recent stretch the server may still fill in), so it is re-read.

    When the server orders pages along another axis than the window's (sleep: filtered by end,
    ordered by start, and sessions may overlap), no page proves a span complete; the window is
    then answered for as a whole: replaced with its first page, covered by its last, and saved
    in one transaction.
    """

    window: Window
    epsilon: int  # one step of the key axis (1 µs, or a day for daily types)
    fresh_until: int | None = None
    by_page: bool = True
    top: int = 0
    ordered: bool = True
    started: bool = False

    def __post_init__(self) -> None:
        self.top = self.window.hi

    def step(
        self, key_min: int | None, key_max: int | None, last: bool
    ) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """(span to replace, span now covered) for the page just received."""
        if not self.by_page:
            first, self.started = not self.started, True
            replace = (self.window.lo, self.window.hi) if first else None
            return replace, self._cover(self.window.lo) if last else None
        if key_max is not None and key_max > self.top and self.ordered:
            log.warning("pages of %s arrived out of order; merging by key only", self.window)
            self.ordered = False
        if last:
            ok = self.ordered and self.top > self.window.lo
            return ((self.window.lo, self.top) if ok else None), self._cover(self.window.lo)
        if key_min is None or not self.ordered:
            return None, None
        replace = (key_min, self.top) if key_min < self.top else None
        self.top = min(self.top, key_min)
        return replace, self._cover(self.top + self.epsilon)

    def _cover(self, lo: int) -> tuple[int, int] | None:
        hi = self.window.hi if self.fresh_until is None else min(self.window.hi, self.fresh_until)
        return (lo, hi) if lo < hi else None


@dataclass(frozen=True)
class SyncProgress:
    data_type: str
    done: float  # 0..1 of the type's planned span
    points: int
    pages: int
    requests: int
    finished: bool = False
    waiting_s: float = 0.0  # pausing to stay within the API's per-minute quota


@dataclass
class SyncReport:
    requests: int = 0
    pages: dict[str, int] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    windows: dict[str, list[Window]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # type → why (refused or not granted)
    refused: dict[str, str] = field(default_factory=dict)  # the API said no: a partial sync
    added: dict[str, int] = field(default_factory=dict)  # net new rows in the type's table
    seconds: float = 0.0

    @property
    def partial(self) -> bool:
        return bool(self.refused)


ProgressFn = Callable[[SyncProgress], None]
QUOTA_PER_MINUTE = 300


@dataclass(frozen=True)
class TypePlan:
    """One type's part of a sync plan: the operation, its windows, and what they cost."""

    data_type: str
    operation: str
    windows: list[Window]
    requests: int  # an estimate for list walks (from typical density), exact for roll-ups
    granted: bool

    @classmethod
    def of(cls, dtype: DataType, windows: list[Window], granted: bool) -> TypePlan:
        op = "dailyRollUp" if dtype.rollup_only else "list"
        if dtype.rollup_only:
            requests = len(windows)
        else:
            requests = sum(
                max(
                    1,
                    math.ceil((w.hi - w.lo) / US_PER_DAY * dtype.typical_per_day / dtype.page_cap),
                )
                for w in windows
            )
        return cls(dtype.name, op, windows, requests, granted)

    @property
    def days(self) -> float:
        return sum(w.hi - w.lo for w in self.windows) / US_PER_DAY


def quota_seconds(requests: int, per_minute: int = QUOTA_PER_MINUTE) -> float:
    """The least time ``requests`` take under a sliding per-minute quota: request i and
    request i + ``per_minute`` are a minute apart, so bursts at 0, 1, 2 … minutes are best."""
    return (requests - 1) // per_minute * 60.0 if requests > 0 else 0.0


async def _prefetch(source: AsyncIterator[T]) -> AsyncIterator[T]:
    """Yield items while the next one is already being fetched."""
    pending = asyncio.ensure_future(anext(source))
    try:
        while True:
            try:
                item = await pending
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(source))
            yield item
    finally:
        if not pending.done():
            pending.cancel()
        # Also when it already finished: an outcome never retrieved (the walk's end, or the
        # error that stopped the type) is logged by asyncio with a traceback.
        await asyncio.gather(pending, return_exceptions=True)


class Syncer:
    def __init__(
        self,
        store: Store,
        client: ApiClient,
        *,
        scopes: set[str],
        progress: ProgressFn | None = None,
        lag: dt.timedelta = DEFAULT_LAG,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        max_window: dt.timedelta | None = None,
        concurrency: int = 4,
    ) -> None:
        self.store = store
        self.client = client
        self.scopes = scopes
        self.progress = self._remember(progress or (lambda p: None))
        self._last: SyncProgress | None = None
        client.limiter.on_wait = self._waiting
        self.lag = lag
        self.clock = clock
        self.max_window = int(max_window.total_seconds() * 1_000_000) if max_window else None
        self.concurrency = max(1, concurrency)
        self._worker = concurrent.futures.ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="fitvault-parse"
        )
        self._writer = Writer()
        # One heavy step at a time: parsing a page, saving a batch, closing the file (DuckDB
        # checkpoints there). Their working memory added up when they met, and the sync's peak
        # was where they met most (2-year backfill, benchmarks/sync_wall.py: 278 and 306 MB in
        # two runs; 279 MB taking turns). A backfill waits on the quota, not the CPU (99 s of
        # 317 s for a year), so turns cost no wall time.
        self._quiet = threading.RLock()
        store.quiet = self._quiet

    def _remember(self, progress: ProgressFn) -> ProgressFn:
        def report(p: SyncProgress) -> None:
            self._last = p
            progress(p)

        return report

    def _waiting(self, seconds: float) -> None:
        if self._last is not None:
            self.progress(dataclasses.replace(self._last, waiting_s=seconds))

    async def _span(self, since: dt.date | None, until: dt.date | None) -> Span:
        """Read the account (identity, profile, settings: no data requests) and resolve."""
        account = await fetch_account(self.client, self.scopes)
        with self.store.session("saving account details"):
            for key, value in (
                ("identity", account.identity),
                ("profile", account.profile),
                ("settings", account.settings),
            ):
                if value:
                    self.store.set_meta(key, value)
        return resolve_span(account, since, until, self.clock())

    async def plan(
        self,
        types: Sequence[DataType] | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[TypePlan]:
        """What a sync would ask for, per type, without sending a data request."""
        span = await self._span(since, until)
        out = []
        for dtype in sorted(types or catalog.STORED_TYPES, key=sync_order):
            granted = dtype.read_scope in self.scopes
            windows = self.windows(dtype, span) if granted else []
            out.append(TypePlan.of(dtype, windows, granted))
        self._worker.shutdown(wait=True)
        self._writer.close()
        return out

    async def run(
        self,
        types: Sequence[DataType] | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport()
        span = await self._span(since, until)
        wanted = list(types or catalog.STORED_TYPES)
        mains = [t.tables[0].name for t in wanted]
        with self.store.session("reading sync state"):  # one open for every type's coverage
            for dtype in wanted:
                self.store.coverage(dtype.name, SOURCE)
            before = self.store.counts(mains)
        # Types are walked side by side (in sync order, up to ``concurrency`` windows at once):
        # one type's last page and save no longer hold the next type's first request back,
        # and the first minute's quota is spent quickly — every later minute follows its pace.
        limit = asyncio.Semaphore(self.concurrency)
        try:
            async with asyncio.TaskGroup() as group:
                for dtype in sorted(wanted, key=sync_order):
                    if dtype.read_scope not in self.scopes:
                        report.skipped[dtype.name] = (
                            f"the {dtype.read_scope.rsplit('.', 2)[-2]} permission was not "
                            "granted; run `fitvault auth` and leave it ticked"
                        )
                        continue
                    group.create_task(self._sync_type(dtype, span, report, limit))
        except BaseExceptionGroup as failed:  # the server or the quota: the others were stopped
            raise failed.exceptions[0] from None
        finally:
            self._worker.shutdown(wait=True)
            self._writer.close()
        with self.store.session("saving the sync's outcome"):
            report.rows = self.store.counts(list(catalog.TABLES))
            report.added = {
                t.name: report.rows[m] - before[m] for t, m in zip(wanted, mains, strict=True)
            }
            outcomes = {
                t.name: (
                    {"outcome": "skipped", "reason": report.skipped[t.name]}
                    if t.name in report.skipped
                    else {"outcome": "complete", "rows_added": report.added[t.name]}
                )
                for t in wanted
            }
            self.store.set_meta(
                "last_sync",
                {
                    "at": self.clock().isoformat(),
                    "requests": self.client.requests,
                    "types": outcomes,
                },
            )
        report.requests = self.client.requests
        report.seconds = time.perf_counter() - started
        return report

    def windows(self, dtype: DataType, span: Span) -> list[Window]:
        """The type's missing windows, shaped for its operation (pure given the store)."""
        covered = self.store.coverage(dtype.name, SOURCE)
        return shape_windows(
            dtype,
            plan_windows(span.axis(dtype), covered, stale_from=span.stale_from(dtype, self.lag)),
            concurrency=self.concurrency,
            max_window=self.max_window,
        )

    async def _sync_type(
        self, dtype: DataType, span: Span, report: SyncReport, limit: asyncio.Semaphore
    ) -> None:
        try:
            await self._walk_type(dtype, span, report, limit)
        except (ApiUnavailable, QuotaExhausted):
            raise  # the server or the quota, not this type: the others would fail too
        except (ApiError, DataError) as exc:
            # Per-type isolation: what was saved stays; the other types go on.
            report.skipped[dtype.name] = report.refused[dtype.name] = str(exc)
            self.progress(SyncProgress(dtype.name, 1.0, 0, 0, 0, finished=True))

    async def _walk_type(
        self, dtype: DataType, span: Span, report: SyncReport, limit: asyncio.Semaphore
    ) -> None:
        windows = self.windows(dtype, span)
        report.windows[dtype.name] = windows
        walk = TypeWalk(dtype, windows, span.stale_from(dtype, self.lag))

        async def one(window: Window) -> None:
            async with limit:
                await self._walk_window(walk, window)

        try:
            async with asyncio.TaskGroup() as group:
                for window in windows:
                    group.create_task(one(window))
        except BaseExceptionGroup as failed:  # the siblings were cancelled; report the cause
            raise failed.exceptions[0] from None
        report.points[dtype.name] = walk.points
        report.pages[dtype.name] = walk.pages
        self.progress(walk.progress(finished=True))

    async def _walk_window(self, walk: TypeWalk, window: Window) -> None:
        """One window's pages, newest first; the next page is fetched while this one is saved."""
        loop = asyncio.get_running_loop()
        dtype = walk.dtype
        epsilon = US_PER_DAY if dtype.axis is Axis.DATE else 1
        by_page = dtype.paged_by_range and not dtype.rollup_only
        frontier = Frontier(window, epsilon, walk.fresh_until, by_page)
        buffer = PageBuffer(dtype, frontier)
        walk.frontiers[window] = buffer.frontier
        async for page in _prefetch(walker(dtype)(self.client, dtype, window)):
            n = await loop.run_in_executor(self._worker, self._accept, buffer, page)
            if page.last:  # the window is done once its last save is
                await loop.run_in_executor(self._worker, buffer.settle)
            walk.points, walk.pages = walk.points + n, walk.pages + 1
            self.progress(walk.progress())

    def _accept(self, buffer: PageBuffer, page: Page) -> int:
        """Normalise a page into the buffer; save the buffer when it is due (worker thread)."""
        try:
            with self._quiet:
                batch = normalise(buffer.dtype, page.raw.body, SOURCE)
        except DataError as exc:
            raise DataError(f"{describe(page.raw.request)}: {exc}") from exc
        buffer.add(batch, page)
        if page.last or buffer.due():
            buffer.flush(self.store, self._writer, self._quiet)
        return batch.points


@dataclass
class TypeWalk:
    """Progress of one type's windows, walked concurrently."""

    dtype: DataType
    windows: list[Window]
    fresh_until: int
    points: int = 0
    pages: int = 0
    frontiers: dict[Window, Frontier] = field(default_factory=dict)

    def progress(self, finished: bool = False) -> SyncProgress:
        total = sum(w.hi - w.lo for w in self.windows) or 1
        done = sum(w.hi - max(self.frontiers[w].top, w.lo) for w in self.frontiers)
        fraction = 1.0 if finished else done / total
        # Every page is one answered request (other types' requests run beside these).
        return SyncProgress(
            self.dtype.name, fraction, self.points, self.pages, self.pages, finished
        )


def describe(request: dict[str, object]) -> str:
    """A kept request as a user can recognise it."""
    params = request.get("params")
    flt = params.get("filter") if isinstance(params, dict) else None
    return f"{request['method']} {request['path']}" + (f" [filter: {flt}]" if flt else "")


def shape_windows(
    dtype: DataType,
    windows: list[Window],
    *,
    concurrency: int = 1,
    max_window: int | None = None,
) -> list[Window]:
    """Missing windows → the windows to walk, by the type's operation.

    A roll-up walk is cut to the operation's range limit; a lower-bound-only filter (ECG) walks
    one window from the oldest gap to the present; a long list walk may be spread over
    ``concurrency`` pieces.
    """
    if not windows:
        return []
    if dtype.lower_bound_only:
        return [Window(min(w.lo for w in windows), max(w.hi for w in windows))]
    if dtype.rollup_only:
        days = dtype.max_range_days(Op.DAILY_ROLLUP) or 90
        return [piece for w in windows for piece in split(w, days * US_PER_DAY)]
    if max_window:
        return [piece for w in windows for piece in split(w, max_window)]
    if dtype.split_days and concurrency > 1:
        return spread(windows, concurrency, dtype.split_days * US_PER_DAY, PIECE_DAYS * US_PER_DAY)
    return windows


def spread(windows: list[Window], parts: int, min_size: int, max_size: int) -> list[Window]:
    """Cut long windows so up to ``parts`` walks can run at once (each walk is sequential:
    a page token only comes with the previous page). Each cut costs at most one short page.

    Pieces are at most ``max_size`` and walked newest first, so the walks running at once
    are neighbours: the rows they append together span weeks. Cut into ``parts`` long
    pieces, a year's backfill wrote row groups (DuckDB's unit of skipping, 122 880 rows ≈ a
    week of heart rate) that each spanned months, so every commit's range delete read most
    of the table — a cost that grew with the history (benchmarks/sync_memory.py: DuckDB's
    memory at the sync's peak 53 MB for one year and 78 MB for two; now 25 and 23 MB)."""
    out = []
    for w in windows:
        pieces = max(1, min(parts, (w.hi - w.lo) // min_size), -(-(w.hi - w.lo) // max_size))
        out.extend(split(w, -(-(w.hi - w.lo) // pieces)))
    return out


def split(window: Window, size: int) -> list[Window]:
    """``window`` cut into pieces of at most ``size``, newest first."""
    edges = [*range(window.hi, window.lo, -size), window.lo]
    return [Window(lo, hi) for hi, lo in itertools.pairwise(edges)]


@dataclass
class PageBuffer:
    """Pages of one window waiting to be saved together.

    Saving several pages per transaction (up to ``max_rows`` rows or ``max_seconds`` of work)
    amortises DuckDB's per-statement and per-commit costs; a kill loses at most that much.
    Each buffer holds its pages' raw bodies until they are saved, and up to ``concurrency``
    windows buffer at once: 20 000 rows rather than 60 000 cut a 180-day sync's peak RSS from
    425 to 376 MB (benchmarks/sync_memory.py), but commits that close come faster than the
    transient store lets go of the file (HOLD_S), and a notebook reading beside the sync waited
    for its end (tests/test_kill.py): kept at 60 000 until readers get a fair turn.
    """

    dtype: DataType
    frontier: Frontier
    max_rows: int = 60_000
    max_seconds: float = 2.0
    batches: list[dict[str, pa.Table]] = field(default_factory=list)
    raws: list[tuple[RawPage, tuple[int, int] | None]] = field(default_factory=list)
    covered: tuple[int, int] | None = None
    rows: int = 0
    since: float = 0.0
    saving: concurrent.futures.Future[None] | None = None

    def add(self, batch: Batch, page: Page) -> None:
        replace, covered = self.frontier.step(batch.key_min, batch.key_max, page.last)
        if not self.raws:
            self.since = time.monotonic()
        self.batches.append(batch.tables)
        self.raws.append((page.raw.packed(), replace))
        self.covered = covered or self.covered
        self.rows += batch.points

    def due(self) -> bool:
        if not self.frontier.by_page:
            return False  # only the whole window is proof of completeness
        return self.rows >= self.max_rows or time.monotonic() - self.since >= self.max_seconds

    def flush(
        self,
        store: Store,
        writer: Writer | None = None,
        quiet: contextlib.AbstractContextManager[object] | None = None,
    ) -> None:
        """Save the buffered pages in one transaction (on ``writer``'s thread if given, holding
        ``quiet``)."""
        if not self.raws:
            return
        self.settle()
        batches, raws, covered = self.batches, self.raws, self.covered
        self.batches, self.raws, self.covered, self.rows = [], [], None, 0

        def save() -> None:
            with quiet or contextlib.nullcontext():
                # What the last transaction and the connection's close freed goes back to the
                # system before this one allocates (60-day sync: 430 → 412 MB peak).
                release_freed_memory()
                tables = {
                    t.name: pa.concat_tables([b[t.name] for b in batches if t.name in b])
                    for t in self.dtype.tables
                    if any(t.name in b for b in batches)
                }
                replaces = [span for _, span in raws if span is not None]
                store.commit(
                    self.dtype,
                    tables,
                    source=SOURCE,
                    replaces=replaces,
                    covered=covered,
                    raws=raws,
                )

        if writer is None:
            save()
        else:
            self.saving = writer.submit(save)

    def settle(self) -> None:
        """Wait for this buffer's save in flight; raise its error here."""
        saving, self.saving = self.saving, None
        if saving is not None:
            saving.result()


class Writer:
    """Saves on its own thread, in order, at most one transaction in flight.

    DuckDB and Arrow release the GIL while they work, so saving one batch overlaps with
    parsing the next; waiting before each submit bounds memory. Each save's outcome goes back
    to the buffer that submitted it (types are walked side by side: one type's failed save
    must not be reported as another's).
    """

    def __init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="fitvault-save")
        self._pending: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()  # parse threads of concurrent windows submit here

    def submit(self, fn: Callable[[], None]) -> concurrent.futures.Future[None]:
        with self._lock:
            if self._pending is not None:
                concurrent.futures.wait([self._pending])
            self._pending = self._pool.submit(fn)
            return self._pending

    def close(self) -> None:
        """Let the save in flight finish (its error, if any, went to its own buffer)."""
        with self._lock:
            if self._pending is not None:
                concurrent.futures.wait([self._pending])
        self._pool.shutdown(wait=True)
