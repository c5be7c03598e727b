"""Sync from the legacy Fitbit Web API: plan the requests a span needs, spend the hourly budget
on the most valuable days first, and save each answer before asking the next.

Order: the range endpoints first (one request answers up to a year of resting heart rate or
three years of daily steps), then sleep (100 days a request), the 30-day summaries (HRV, SpO2,
breathing rate, skin temperature, cardio fitness) and body logs, and last the intraday series,
which cost one request per day each; within a series the newest days go first. A two-year
backfill is ~1 650 requests, about eleven hours at 150 an hour; the client sleeps through each
reset by itself, so it needs no restarts.

Resumable at any point: each answer's rows and raw body commit through ``Store.commit`` (source
``fitbit-legacy``), and only then are its days marked covered (``_meta`` key
``fitbit_legacy_coverage``), so a kill loses at most the request in flight; a re-run asks only
for uncovered days, plus the last ``lag`` days, which the API still revises.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pyarrow as pa

from fitvault import catalog, legacy_auth
from fitvault._errors import ConfigError, DataError, PermissionDenied
from fitvault._time import to_us
from fitvault.catalog import Axis, DataType
from fitvault.legacy_auth import legacy_error
from fitvault.sources import fitbit_legacy as api
from fitvault.sources.fitbit_legacy import SERIES, Chunk, LegacyClient, Series
from fitvault.store import RawPage, Store
from fitvault.sync import SyncProgress, SyncReport

log = logging.getLogger(__name__)

SOURCE = api.SOURCE
COVERAGE_KEY = "fitbit_legacy_coverage"
DEFAULT_LAG = dt.timedelta(days=3)
DEFAULT_HISTORY = dt.timedelta(days=365)
TICK_S = 5.0  # the countdown shown while waiting for the hourly reset moves this often

Batches = list[tuple[DataType, dict[str, pa.Table], tuple[int, int] | None]]
Normaliser = Callable[[bytes, str, dt.date | None], Batches]
Days = list[tuple[dt.date, dt.date]]  # inclusive day ranges


def default_normaliser(body: bytes, zone: str, day: dt.date | None) -> Batches:
    """The legacy normalisers: per data type its tables and the span they answer for."""
    from fitvault.normalise.fitbit_legacy import parse

    return parse(body, zone, day=day).batches()


# --- coverage (pure) --------------------------------------------------------------------------


def missing_days(first: dt.date, last: dt.date, covered: Days, stale_from: dt.date) -> Days:
    """Day ranges in [first, last] not covered; days at or after ``stale_from`` count as missing."""
    out: Days = []
    lo = first
    for a, b in sorted(covered):
        b = min(b, stale_from - dt.timedelta(days=1))
        if b < lo or a > last or b < a:
            continue
        if a > lo:
            out.append((lo, a - dt.timedelta(days=1)))
        lo = max(lo, b + dt.timedelta(days=1))
    if lo <= last:
        out.append((lo, last))
    return out


def add_days(covered: Days, first: dt.date, last: dt.date) -> Days:
    """``covered`` with [first, last] added, adjacent ranges merged."""
    out: Days = []
    for a, b in sorted([*covered, (first, last)]):
        if out and a <= out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass(frozen=True)
class LegacySpan:
    first: dt.date
    last: dt.date
    today: dt.date
    zone: str


def plan(
    span: LegacySpan, coverage: dict[str, Days], wanted: Sequence[Series], lag: dt.timedelta
) -> list[Chunk]:
    """Every request the span needs, in the order they are worth sending."""
    stale_from = span.today - dt.timedelta(days=lag.days)
    out: list[Chunk] = []
    for s in sorted(wanted, key=lambda s: s.rank):
        gaps = missing_days(span.first, span.last, coverage.get(s.name, []), stale_from)
        out.extend(api.chunks(s, gaps))
    return out


# --- running ----------------------------------------------------------------------------------


@dataclass
class LegacyReport(SyncReport):
    notes: list[str] = field(default_factory=list)  # e.g. why heart rate fell back to 1 min
    waited_s: float = 0.0  # time spent waiting for the hourly budget


class LegacySyncer:
    def __init__(
        self,
        store: Store,
        client: LegacyClient,
        *,
        progress: Callable[[SyncProgress], None] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        lag: dt.timedelta = DEFAULT_LAG,
        normaliser: Normaliser = default_normaliser,
    ) -> None:
        self.store = store
        self.client = client
        self.progress = progress or (lambda p: None)
        self.clock = clock
        self.lag = lag
        self.normalise = normaliser
        self._last = SyncProgress("profile", 0.0, 0, 0, 0)
        self._heart_1min = False
        client.on_wait = self._waiting
        self._sleep, client.sleep = client.sleep, self._countdown

    def _waiting(self, seconds: float, why: str) -> None:
        self.progress(_replace(self._last, waiting_s=seconds))

    async def _countdown(self, seconds: float) -> None:
        """The client's sleep, in ticks so the progress display counts down."""
        left = seconds
        while left > 0:
            self.progress(_replace(self._last, waiting_s=left))
            step = min(TICK_S, left)
            await self._sleep(step)
            left -= step

    async def account(
        self, since: dt.date | None = None, until: dt.date | None = None
    ) -> LegacySpan:
        """Profile (the zone every local time is read in) and devices, then the span."""
        profile = await self._json(api.PROFILE)
        user = profile.get("user") if isinstance(profile, dict) else None
        if not isinstance(user, dict):
            raise DataError(f"GET {api.PROFILE}: no `user` object in the answer")
        devices = await self._json(api.DEVICES)
        zone = str(user.get("timezone") or "UTC")
        try:
            tz: dt.tzinfo = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            log.warning("unknown time zone %r in the profile; using UTC", zone)
            zone, tz = "UTC", dt.UTC
        with self.store.session("saving account details"):
            self.store.set_meta("legacy_profile", user)
            self.store.set_meta("legacy_devices", devices)
            settings = self.store.get_meta("settings") or {}
            if not settings.get("timeZone"):  # the vault's zone, until Google Health says
                self.store.set_meta("settings", {**settings, "timeZone": zone})
        today = self.clock().astimezone(tz).date()
        if since and since > today:
            raise ConfigError(f"--since {since} is in the future (today is {today} in {zone})")
        if since and until and since > until:
            raise ConfigError(f"--since {since} is after --until {until}")
        joined = _date_or_none(user.get("memberSince"))
        first = since or joined or today - DEFAULT_HISTORY
        if joined and first < joined:
            first = joined
        last = min(until or today, today)
        return LegacySpan(first, max(first, last), today, zone)

    async def _json(self, path: str) -> Any:
        resp = await self.client.get(path)
        try:
            return json.loads(resp.content)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            raise DataError(f"GET {path}: the answer is not JSON ({exc})") from None

    def coverage(self) -> dict[str, Days]:
        with self.store.session("reading sync state"):
            raw = self.store.get_meta(COVERAGE_KEY) or {}
        return {
            k: [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in v]
            for k, v in raw.items()
        }

    async def plan(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        names: Sequence[str] | None = None,
    ) -> list[Chunk]:
        span = await self.account(since, until)
        return plan(span, self.coverage(), wanted_series(names), self.lag)

    async def run(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        names: Sequence[str] | None = None,
    ) -> LegacyReport:
        started = self.client.clock()
        report = LegacyReport()
        span = await self.account(since, until)
        coverage = self.coverage()
        wanted = wanted_series(names)
        chunks = plan(span, coverage, wanted, self.lag)
        before = self._counts()
        totals = {s.name: sum(c.days for c in chunks if c.series is s) for s in wanted}
        done: dict[str, int] = {}
        for chunk in chunks:
            name = chunk.series.name
            if name in report.skipped:
                continue
            self._last = SyncProgress(
                name,
                done.get(name, 0) / max(totals[name], 1),
                report.points.get(name, 0),
                report.pages.get(name, 0),
                self.client.requests,
            )
            self.progress(self._last)
            try:
                points = await self._fetch(chunk, span.zone, report)
            except (PermissionDenied, DataError) as exc:  # this series only; the others go on
                why = str(exc)
                if isinstance(exc, PermissionDenied):
                    why += f" ({name} needs the `{chunk.series.scope}` permission)"
                report.skipped[name] = report.refused[name] = why
                continue
            coverage[name] = add_days(coverage.get(name, []), chunk.first, chunk.last)
            self._save_coverage(coverage)
            done[name] = done.get(name, 0) + chunk.days
            report.points[name] = report.points.get(name, 0) + points
            report.pages[name] = report.pages.get(name, 0) + 1
        for s in wanted:
            self.progress(
                SyncProgress(s.name, 1.0, report.points.get(s.name, 0), 0, 0, finished=True)
            )
        report.requests = self.client.requests
        report.waited_s = self.client.waited_s
        report.seconds = self.client.clock() - started
        after = self._counts()
        report.rows = after
        report.added = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t)}
        return report

    def _counts(self) -> dict[str, int]:
        with self.store.session("counting rows"):
            return self.store.counts(list(catalog.TABLES))

    def _save_coverage(self, coverage: dict[str, Days]) -> None:
        value = {k: [[a.isoformat(), b.isoformat()] for a, b in v] for k, v in coverage.items()}
        with self.store.session("saving sync state"):
            self.store.set_meta(COVERAGE_KEY, value)

    async def _fetch(self, chunk: Chunk, zone: str, report: LegacyReport) -> int:
        """Send one chunk's request, save what it answered; the number of rows."""
        if chunk.series.name == "heart-rate-intraday":
            path, body = await self._heart(chunk, report)
        else:
            path, body = chunk.path, (await self.client.get(chunk.path)).content
        batches = self._batches(body, zone, path, chunk)
        request = {"method": "GET", "path": path, "zone": zone, "series": chunk.series.name}
        if chunk.series.per_day:
            request["day"] = chunk.first.isoformat()
        raw = RawPage(
            batches[0][0].name if batches else chunk.series.name,
            SOURCE,
            request,
            body,
            self.clock(),
        )
        return self._commit(batches, raw, chunk, zone)

    async def _heart(self, chunk: Chunk, report: LegacyReport) -> tuple[str, bytes]:
        """``1sec`` unless the app has no intraday access; then ``1min`` from there on."""
        one_min = api.HEART_1MIN.format(date=chunk.first.isoformat())
        if self._heart_1min:
            return one_min, (await self.client.get(one_min)).content
        resp = await self.client.get(chunk.path, optional_403=True)
        if resp.status_code == 200 and b"activities-heart-intraday" in resp.content:
            return chunk.path, resp.content
        kind, message = legacy_error(resp.content)
        if kind == "insufficient_scope":
            raise api.translate(403, kind, message, chunk.path, self.client.base_url)
        why = (
            f"HTTP 403 {kind}: {message}".strip()
            if resp.status_code == 403
            else "the 1-second answer carried no intraday data"
        )
        self._fall_back(report, why)
        return one_min, (await self.client.get(one_min)).content

    def _fall_back(self, report: LegacyReport, why: str) -> None:
        self._heart_1min = True
        report.notes.append(
            f"heart rate falls back to 1-minute detail ({why}): this app has no access to "
            "intraday 1-second data, which Fitbit grants to 'Personal' apps (dev.fitbit.com → "
            "your app → OAuth 2.0 Application Type: Personal). 1-minute readings are kept with "
            "their resolution."
        )

    def _batches(self, body: bytes, zone: str, path: str, chunk: Chunk) -> Batches:
        day = chunk.first if chunk.series.per_day else None
        if body.strip() in (b"{}", b"[]"):  # e.g. SpO2 by date on a night without a reading
            return []
        try:
            return self.normalise(body, zone, day)
        except DataError as exc:
            raise DataError(f"GET {path}: {exc}") from exc

    def _commit(self, batches: Batches, raw: RawPage, chunk: Chunk, zone: str) -> int:
        """One commit per data type the answer fills; the raw body goes with the first (a
        rebuild replays it into every type)."""
        points = 0
        keep: RawPage | None = raw
        for dtype, tables, hint in batches:
            span = replace_span(chunk, dtype, hint, zone)
            self.store.commit(
                dtype,
                tables,
                source=SOURCE,
                replaces=[span] if span else [],
                covered=None,
                raws=[(keep, span)] if keep else [],
            )
            keep = None
            main = dtype.tables[0].name
            points += tables[main].num_rows if main in tables else 0
        return points


def replace_span(
    chunk: Chunk, dtype: DataType, hint: tuple[int, int] | None, zone: str
) -> tuple[int, int] | None:
    """What an answer's rows replace of this source's earlier rows.

    Intraday heart rate replaces nothing (rows merge by time): its times are floating local
    times, and on a travel day a day's readings, read in the profile's zone, reach into the
    next day's — a day-wide replace would delete that day's readings. Intraday steps replace
    exactly their local day, which removes that day's total from the daily series (fetched
    first so daily steps exist early) instead of counting it twice. Others: the normaliser's
    span (that of the rows' own range).
    """
    if chunk.series.name == "heart-rate-intraday":
        return None
    if chunk.series.name == "steps-intraday" and dtype.axis is Axis.PHYSICAL:
        tz = zoneinfo.ZoneInfo(zone)
        lo = dt.datetime.combine(chunk.first, dt.time(), tz)
        hi = dt.datetime.combine(chunk.first + dt.timedelta(days=1), dt.time(), tz)
        return to_us(lo), to_us(hi)
    return hint


async def sync_vault(
    directory: Path,
    store: Store,
    since: dt.date | None,
    until: dt.date | None,
    series: Sequence[str] | None,
    *,
    progress: Callable[[SyncProgress], None] | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
    lag: dt.timedelta | None = None,
    clock: Callable[[], float] | None = None,
    sleep: api.Sleep | None = None,
    server: str | None = None,
) -> LegacyReport:
    """``Vault.sync(source="fitbit-legacy")``: the vault's legacy sign-in, client and syncer."""
    account = legacy_auth.LegacyAccount.load(directory)
    if server:  # a mirror of the API; its token endpoint refreshes what it issued
        account = legacy_auth.LegacyAccount.for_server(
            server, account.client_id, account.client_secret
        )
    now = clock or time.time
    tokens = legacy_auth.LegacyTokens(
        account, legacy_auth.LegacyTokenStore(directory), transport=transport, clock=now
    )
    client_kw: dict[str, Any] = {"transport": transport, "clock": now}
    if sleep is not None:
        client_kw["sleep"] = sleep
    async with LegacyClient(account.api_base, tokens, **client_kw) as client:
        syncer = LegacySyncer(
            store,
            client,
            progress=progress,
            clock=lambda: dt.datetime.fromtimestamp(now(), dt.UTC),
            lag=DEFAULT_LAG if lag is None else lag,
        )
        return await syncer.run(since, until, series)


def wanted_series(names: Sequence[str] | None) -> list[Series]:
    if not names:
        return list(SERIES)
    known = {s.name: s for s in SERIES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown legacy series {', '.join(unknown)}; choose from {', '.join(known)}"
        )
    return [known[n] for n in names]


def _date_or_none(text: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _replace(p: SyncProgress, **kw: Any) -> SyncProgress:
    import dataclasses

    return dataclasses.replace(p, **kw)
