"""Fetch from the legacy Fitbit Web API (``/1/user/-/…``, ``/1.2/user/-/sleep/…``): which requests
cover a span of days, and one client that sends them within the 150-per-hour budget.

I/O only: bodies are returned as received; parsing happens in ``fitvault.normalise.fitbit_legacy``.

The budget (spec A3): every response carries ``Fitbit-Rate-Limit-Limit/Remaining/Reset``
(Reset in seconds). The client keeps the latest reading; when nothing remains it sleeps until
the reset before sending, and a 429 also waits until the reset that came with it — never
``Retry-After``, which this API sets wrongly — else until the top of the hour. The clock and the
sleep are injected so tests and the benchmark run a two-year backfill in simulated time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx2

from fitvault._errors import (
    ApiError,
    ApiGone,
    ApiUnavailable,
    AuthError,
    PermissionDenied,
    QuotaExhausted,
)
from fitvault.http import USER_AGENT, TokenSource
from fitvault.legacy_auth import REAUTH, legacy_error

log = logging.getLogger(__name__)

SOURCE = "fitbit-legacy"
HOURLY_LIMIT = 150
RESET_MARGIN_S = 5.0  # the counter resets "approximately" at the top of the hour
MAX_429 = 4  # 429s in a row, each after waiting for a reset, before giving up
ATTEMPTS = 5  # for 5xx and connection failures

GONE_HELP = (
    "The legacy Fitbit Web API was switched off on 2026-11-02 and now answers 410 Gone to every "
    "request; no data can be fetched from it any more. Your data lives on in Google Health: "
    "sign in with `fitvault auth` and run `fitvault sync`, or download a Google Takeout archive "
    "and load it with `fitvault import PATH`. Saved responses of the old API import too."
)
Sleep = Callable[[float], Awaitable[None]]
WaitFn = Callable[[float, str], None]


@dataclass
class Budget:
    """The latest rate-limit reading: requests left and when the window resets (clock time)."""

    limit: int = HOURLY_LIMIT
    remaining: int | None = None
    resets_at: float | None = None

    def read(self, headers: httpx2.Headers, now: float) -> None:
        limit = _number(headers.get("fitbit-rate-limit-limit"))
        remaining = _number(headers.get("fitbit-rate-limit-remaining"))
        reset = _number(headers.get("fitbit-rate-limit-reset"))
        if limit is not None:
            self.limit = int(limit)
        if remaining is not None:
            self.remaining = int(remaining)
        if reset is not None:
            self.resets_at = now + reset

    def wait_for_reset(self, now: float) -> float:
        """Seconds until the window resets (plus a margin); the top of the hour if unknown."""
        if self.resets_at is not None and self.resets_at > now:
            return self.resets_at - now + RESET_MARGIN_S
        return 3600 - now % 3600 + RESET_MARGIN_S


def _number(text: str | None) -> float | None:
    """Header values may be integers or decimals (both are seen); anything else is ignored."""
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return max(value, 0.0)


class LegacyClient:
    """Talks to one legacy API server for one user: bearer auth, budget, errors[] mapping."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        on_wait: WaitFn | None = None,
        timeout: float = 60.0,
    ) -> None:
        self._http = httpx2.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)),
            # No Accept-Language: the API then answers in metric units, which the normalisers
            # expect (en_US would be miles and pounds, en_GB stone).
            headers={"User-Agent": USER_AGENT},
        )
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self.clock = clock
        self.sleep = sleep
        self.on_wait = on_wait
        self.budget = Budget()
        self.requests = 0
        self.waited_s = 0.0

    async def __aenter__(self) -> LegacyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def _pause(self, seconds: float, why: str) -> None:
        """Sleep, telling ``on_wait`` first (the progress display counts down from it)."""
        if self.on_wait:
            self.on_wait(seconds, why)
        self.waited_s += seconds
        await self.sleep(seconds)

    async def get(self, path: str, *, optional_403: bool = False) -> httpx2.Response:
        """One GET; the 200 response, or a FitvaultError. ``optional_403`` returns a 403
        instead of raising it (the caller has a fall-back, as for intraday 1 s heart rate)."""
        refreshed, throttled, failures = False, 0, 0
        while True:
            if self.budget.remaining == 0:
                await self._pause(self.budget.wait_for_reset(self.clock()), "hourly budget spent")
                self.budget.remaining = None
            token = await self._tokens.access_token()
            self.requests += 1
            try:
                resp = await self._http.get(path, headers={"Authorization": f"Bearer {token}"})
            except (httpx2.TimeoutException, httpx2.TransportError) as exc:
                failures += 1
                if failures >= ATTEMPTS:
                    raise ApiUnavailable(
                        f"GET {path} on {self.base_url}: {type(exc).__name__} ({failures} "
                        "attempts); check your connection and run the command again "
                        "(progress is kept)."
                    ) from None
                await self._pause(min(2.0**failures, 60.0), f"retrying GET {path}")
                continue
            self.budget.read(resp.headers, self.clock())
            status = resp.status_code
            if status == 200:
                return resp
            kind, message = legacy_error(resp.content)
            if status == 401 and kind == "expired_token" and not refreshed:
                refreshed = True
                await self._tokens.refresh()
                continue
            if status == 429:
                throttled += 1
                if throttled > MAX_429:
                    raise QuotaExhausted(
                        f"GET {path}: still rate limited after {MAX_429} waits for the hourly "
                        "reset; run the command again later (progress is kept).",
                        status=429,
                        request=f"GET {path}",
                    )
                self.budget.remaining = None
                await self._pause(self.budget.wait_for_reset(self.clock()), "rate limited (429)")
                continue
            if status >= 500:
                failures += 1
                if failures < ATTEMPTS:
                    await self._pause(min(2.0**failures, 60.0), f"retrying GET {path}")
                    continue
            if status == 403 and optional_403:
                return resp
            raise translate(status, kind, message, path, self.base_url)


def translate(status: int, kind: str, message: str, path: str, base: str) -> Exception:
    """The FitvaultError for a legacy API error answer (spec A4)."""
    where = f"GET {path}"
    said = f"HTTP {status} {kind}: {message}".strip().rstrip(":")
    if status == 410:
        return ApiGone(f"{base} answered 410 Gone. {GONE_HELP}", status=410, request=where)
    if status == 401:  # its message may quote the token ("Access token expired: …"): left out
        return AuthError(f"{where}: HTTP 401 {kind}. The API refused the credentials; {REAUTH}.")
    if status == 403 and kind == "insufficient_scope":
        return PermissionDenied(
            f"{where}: {said}. The sign-in did not grant the permission this needs; "
            f"{REAUTH} and leave every permission ticked.",
            status=status,
            reason=kind,
            request=where,
        )
    if status == 403:
        return PermissionDenied(f"{where}: {said}", status=status, reason=kind, request=where)
    if status >= 500:
        return ApiUnavailable(
            f"{where} on {base}: {said} ({ATTEMPTS} attempts); run the command again later "
            "(progress is kept).",
            status=status,
            request=where,
        )
    return ApiError(f"{where}: {said}", status=status, reason=kind or None, request=where)


# --- which requests cover a span ------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One endpoint family: its URL for a date range, the most days one request may cover,
    and its place in the order (cheap, many-days-per-request series first)."""

    name: str
    template: str  # with {start} and {end}, or {date} for one-day endpoints
    max_days: int
    scope: str
    rank: int

    @property
    def per_day(self) -> bool:
        return "{date}" in self.template

    def path(self, start: dt.date, end: dt.date) -> str:
        if self.per_day:
            return self.template.format(date=start.isoformat())
        return self.template.format(start=start.isoformat(), end=end.isoformat())


_ACTIVITY = (
    "steps",
    "distance",
    "calories",
    "floors",
    "elevation",
    "minutesSedentary",
    "minutesLightlyActive",
    "minutesFairlyActive",
    "minutesVeryActive",
)
U = "/1/user/-"
# Maximum ranges: spec A6, A8 (1095 days for activity), A9 (100), A10 (30), A11 (31).
SERIES: tuple[Series, ...] = (
    Series(
        "heart-rate-daily", U + "/activities/heart/date/{start}/{end}.json", 365, "heartrate", 0
    ),
    *(
        Series(
            f"activity-{r}", U + f"/activities/{r}/date/{{start}}/{{end}}.json", 1095, "activity", 0
        )
        for r in _ACTIVITY
    ),
    Series("sleep", "/1.2/user/-/sleep/date/{start}/{end}.json", 100, "sleep", 1),
    Series("hrv", U + "/hrv/date/{start}/{end}.json", 30, "heartrate", 2),
    Series("spo2", U + "/spo2/date/{start}/{end}.json", 30, "oxygen_saturation", 2),
    Series("breathing-rate", U + "/br/date/{start}/{end}.json", 30, "respiratory_rate", 2),
    Series("skin-temperature", U + "/temp/skin/date/{start}/{end}.json", 30, "temperature", 2),
    Series("cardio-fitness", U + "/cardioscore/date/{start}/{end}.json", 30, "cardio_fitness", 2),
    Series("weight", U + "/body/log/weight/date/{start}/{end}.json", 31, "weight", 2),
    Series("body-fat", U + "/body/log/fat/date/{start}/{end}.json", 31, "weight", 2),
    Series(
        "heart-rate-intraday", U + "/activities/heart/date/{date}/1d/1sec.json", 1, "heartrate", 3
    ),
    Series("steps-intraday", U + "/activities/steps/date/{date}/1d/1min.json", 1, "activity", 3),
)
HEART_1MIN = U + "/activities/heart/date/{date}/1d/1min.json"
PROFILE = U + "/profile.json"
DEVICES = U + "/devices.json"


def series(name: str) -> Series:
    for s in SERIES:
        if s.name == name:
            return s
    raise KeyError(name)


@dataclass(frozen=True)
class Chunk:
    """One request: a series over the local days [first, last] (inclusive)."""

    series: Series
    first: dt.date
    last: dt.date

    @property
    def path(self) -> str:
        return self.series.path(self.first, self.last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def chunks(s: Series, missing: list[tuple[dt.date, dt.date]]) -> list[Chunk]:
    """Requests covering the missing day ranges (inclusive), newest first, each at most
    ``s.max_days`` long."""
    out = []
    for first, last in sorted(missing, reverse=True):
        hi = last
        while hi >= first:
            lo = max(first, hi - dt.timedelta(days=s.max_days - 1))
            out.append(Chunk(s, lo, hi))
            hi = lo - dt.timedelta(days=1)
    return out
