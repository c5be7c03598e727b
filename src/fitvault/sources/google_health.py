"""Fetch from the Google Health API v4: walk ``dataPoints`` pages and read the account resources.

I/O only: pages are yielded as received; parsing happens in ``fitvault.normalise``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from fitvault._errors import DataError
from fitvault._time import from_us, rfc3339, us_to_date
from fitvault.catalog import Axis, DataType, Op
from fitvault.http import ApiClient
from fitvault.normalise.google_health import SOURCE, page_token
from fitvault.store import RawPage


@dataclass(frozen=True)
class Window:
    """A half-open span [lo, hi) of a type's range axis, in µs (midnights for daily types)."""

    lo: int
    hi: int

    def __post_init__(self) -> None:
        if self.lo >= self.hi:
            raise ValueError(f"empty window {self}")


def _literal(axis: Axis, value_us: int) -> str:
    if axis is Axis.DATE:
        return us_to_date(value_us).isoformat()
    if axis is Axis.CIVIL:  # a wall-clock time, compared with each point's own civil time
        return from_us(value_us).strftime("%Y-%m-%dT%H:%M:%S")
    return rfc3339(from_us(value_us))


def window_filter(dtype: DataType, window: Window) -> str:
    """The ``filter`` expression selecting exactly the window (spec §1.7).

    ECG accepts only a lower bound: its windows always reach the present.
    """
    member, axis = dtype.filter_member, dtype.axis
    lower = f'{member} >= "{_literal(axis, window.lo)}"'
    if dtype.lower_bound_only:
        return lower
    return f'{lower} AND {member} < "{_literal(axis, window.hi)}"'


@dataclass
class PageWalk:
    """Paging state: only an absent or empty ``nextPageToken`` ends the walk."""

    token: str | None = None
    done: bool = False

    def advance(self, body: bytes, describe: str) -> None:
        """Take the next token from a page; a token repeated would loop forever."""
        try:
            token = page_token(body)
            if token is not None and token == self.token:
                raise DataError("the server sent the same page token again; stopping the walk")
        except DataError as exc:
            raise DataError(f"{describe}: {exc}") from exc
        self.token = token
        self.done = not token

    def with_token(self, request: dict[str, Any]) -> dict[str, Any]:
        return request | ({"pageToken": self.token} if self.token else {})


@dataclass(frozen=True)
class Page:
    raw: RawPage
    last: bool


async def iter_pages(
    client: ApiClient, dtype: DataType, window: Window, *, user: str = "me"
) -> AsyncIterator[Page]:
    """Every page of ``dtype`` in ``window``, newest first, as received."""
    path = f"/v4/users/{user}/dataTypes/{dtype.name}/dataPoints"
    params = {"filter": window_filter(dtype, window), "pageSize": str(dtype.max_page_size)}
    walk = PageWalk()
    while not walk.done:
        query = walk.with_token(params)
        resp = await client.get(path, query)
        walk.advance(resp.content, f"GET {path} [filter: {params['filter']}]")
        request = {"method": "GET", "path": path, "params": query}
        raw = RawPage(dtype.name, SOURCE, request, resp.content, dt.datetime.now(dt.UTC))
        yield Page(raw, walk.done)


def _civil_date(value_us: int) -> dict[str, Any]:
    d = us_to_date(value_us)
    return {"date": {"year": d.year, "month": d.month, "day": d.day}}


async def iter_daily_rollup_pages(
    client: ApiClient, dtype: DataType, window: Window, *, user: str = "me"
) -> AsyncIterator[Page]:
    """One civil day per bucket over ``window`` (dates), in chunks the API's range limit allows."""
    path = f"/v4/users/{user}/dataTypes/{dtype.name}/dataPoints:dailyRollUp"
    body: dict[str, Any] = {
        "range": {"start": _civil_date(window.lo), "end": _civil_date(window.hi)},
        "windowSizeDays": 1,
    }
    limit = dtype.max_range_days(Op.DAILY_ROLLUP)
    if limit is not None and us_to_date(window.hi) - us_to_date(window.lo) > dt.timedelta(limit):
        raise ValueError(f"{window} is longer than {dtype.name}'s {limit}-day roll-up limit")
    walk = PageWalk()
    while not walk.done:
        request = walk.with_token(body)
        resp = await client.post(path, request)
        walk.advance(resp.content, f"POST {path}")
        raw = RawPage(
            dtype.name,
            SOURCE,
            {"method": "POST", "path": path, "body": request},
            resp.content,
            dt.datetime.now(dt.UTC),
        )
        yield Page(raw, walk.done)


def walker(dtype: DataType) -> Callable[[ApiClient, DataType, Window], AsyncIterator[Page]]:
    """How a type's windows are fetched: a list walk, or a daily roll-up walk."""
    return iter_daily_rollup_pages if dtype.rollup_only else iter_pages


@dataclass(frozen=True)
class AccountInfo:
    """What the API says about the person: ids, profile and settings (time zone)."""

    identity: dict[str, Any]
    profile: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def time_zone(self) -> str | None:
        zone = self.settings.get("timeZone")
        return str(zone) if zone else None

    @property
    def membership_start(self) -> dt.date | None:
        d = self.profile.get("membershipStartDate")
        if not d:
            return None
        return dt.date(int(d["year"]), int(d["month"]), int(d["day"]))


async def fetch_account(client: ApiClient, scopes: set[str]) -> AccountInfo:
    """Identity always; profile and settings when their scopes were granted."""
    identity = await _json(client, "/v4/users/me/identity")
    profile = settings = {}
    if any(s.endswith("googlehealth.profile.readonly") for s in scopes):
        profile = await _json(client, "/v4/users/me/profile")
    if any(s.endswith("googlehealth.settings.readonly") for s in scopes):
        settings = await _json(client, "/v4/users/me/settings")
    return AccountInfo(identity, profile, settings)


async def _json(client: ApiClient, path: str) -> dict[str, Any]:
    resp = await client.get(path)
    try:
        data = msgspec.json.decode(resp.content)
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise DataError(f"GET {path}: response is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DataError(f"GET {path}: expected a JSON object")
    return data
