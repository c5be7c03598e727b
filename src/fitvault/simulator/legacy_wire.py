"""Wire conventions of the legacy Fitbit Web API: ``errors[]`` bodies, the hourly rate limit and
its headers, local ("floating") times, date paths and range limits.

Facts: ``shared/spec/fitbit-legacy-and-takeout.md`` part A (A3 rate limits, A4 error shape, A5
time conventions). The real bodies this follows are in ``shared/samples/aarondcoleman__Fitbit.NET``.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from fitvault.simulator.responses import json_response

RATE_LIMIT = 150  # requests per user (per app) per clock hour
# What a 429 says in Retry-After. Deliberately unrelated to the real reset: since February 2025
# the header "does not reflect reset time accurately" (spec A3), so a client must read
# Fitbit-Rate-Limit-Reset instead, and a client that trusts this gets another 429.
UNTRUSTWORTHY_RETRY_AFTER = 60
GONE_MESSAGE = (
    "The Fitbit Web API was turned off on 2026-11-02. Use the Google Health API "
    "(https://developers.google.com/health) for new data, or your Google Takeout archive."
)
# Longest range (in days, both ends included) each range endpoint answers; spec A6-A11.
MAX_RANGE_DAYS = {
    "heart": 366,
    "activities": 1095,
    "activityCalories": 30,
    "sleep": 100,
    "hrv": 30,
    "spo2": 30,
    "br": 30,
    "temp": 30,
    "cardioscore": 30,
    "body-log": 31,
}
MAX_INTRADAY_S = 86_400  # an intraday request covers 24 hours at most
PERIOD_DAYS = {"1d": 1, "7d": 7, "30d": 30, "1w": 7, "1m": 30, "3m": 91, "6m": 182, "1y": 365}


@dataclass
class Switches:
    """Knobs a test (or ``fitvault simulate``) flips on a running legacy face."""

    gone: bool = False  # every legacy endpoint answers 410, as the real host since 2026-11-02
    # Client ids whose app lacks intraday access at 1-second resolution ("*" = every client):
    # ``1sec`` answers 403 and ``1min`` still works, so a client can test its fall-back.
    no_1sec: set[str] = field(default_factory=set)

    def denies_1sec(self, client_id: str) -> bool:
        return "*" in self.no_1sec or client_id in self.no_1sec


class LegacyFailure(Exception):
    """Raised inside a handler; the face answers with ``response``."""

    def __init__(self, response: Response) -> None:
        self.response = response


def errors_body(error_type: str, message: str, field_name: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"errorType": error_type}
    if field_name is not None:
        item["fieldName"] = field_name
    item["message"] = message
    return {"errors": [item], "success": False}


def error(
    status: int,
    error_type: str,
    message: str,
    field_name: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A ``{"errors":[{errorType, fieldName?, message}],"success":false}`` response."""
    return json_response(errors_body(error_type, message, field_name), status, headers)


def fail(
    status: int, error_type: str, message: str, field_name: str | None = None
) -> LegacyFailure:
    return LegacyFailure(error(status, error_type, message, field_name))


def not_found() -> LegacyFailure:
    return fail(404, "not_found", "The API you are requesting could not be found.", "n/a")


def gone() -> Response:
    return error(410, "gone", GONE_MESSAGE)


@dataclass
class HourlyQuota:
    """150 requests per (client, user) per clock hour; the counter resets at the top of the hour.

    The clock is the simulator's (injectable), so a backfill can run for simulated days without
    sleeping: a test advances the clock past the reset instead of waiting.
    """

    limit: int | None = RATE_LIMIT
    clock: Callable[[], float] = time.time
    used: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # → (hour, count)

    def take(self, client: str, user: str) -> tuple[bool, dict[str, str]]:
        """Count one request; (allowed?, the Fitbit-Rate-Limit-* headers to send)."""
        now = self.clock()
        hour = int(now // 3600)
        reset = max(1, math.ceil((hour + 1) * 3600 - now))
        if self.limit is None:
            return True, {}
        seen_hour, count = self.used.get((client, user), (hour, 0))
        if seen_hour != hour:
            count = 0
        allowed = count < self.limit
        if allowed:
            count += 1  # a refused request does not count against the budget
        self.used[(client, user)] = (hour, count)
        headers = {
            "Fitbit-Rate-Limit-Limit": str(self.limit),
            "Fitbit-Rate-Limit-Remaining": str(self.limit - count),
            "Fitbit-Rate-Limit-Reset": str(reset),
        }
        return allowed, headers


def too_many_requests(headers: dict[str, str]) -> Response:
    """The 429 as observed on the live API (spec A3): ``system`` / ``Too Many Requests``."""
    return error(
        429,
        "system",
        "Too Many Requests",
        "n/a",
        headers={**headers, "Retry-After": str(UNTRUSTWORTHY_RETRY_AFTER)},
    )


# --- dates and local times ------------------------------------------------------------------


def parse_date(text: str, today: dt.date, field_name: str = "date") -> dt.date:
    """A path date: ``yyyy-MM-dd`` or ``today`` (in the user's zone)."""
    if text == "today":
        return today
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else _bad_date(text, field_name)
    except ValueError:
        return _bad_date(text, field_name)


def _bad_date(text: str, field_name: str) -> dt.date:
    raise fail(
        400,
        "validation",
        f"Invalid date:{text}. Date format should be yyyy-MM-dd or today.",
        field_name,
    )


def date_range(
    start: dt.date, end: dt.date, limit_key: str, field_name: str = "endDate"
) -> list[dt.date]:
    """Every date from start to end (both included), or 400 when reversed or over the limit."""
    if end < start:
        raise fail(400, "validation", "Start date should be before end date.", field_name)
    limit = MAX_RANGE_DAYS[limit_key]
    if (end - start).days + 1 > limit:
        raise fail(
            400,
            "validation",
            f"The time range between startDate and endDate must not exceed {limit} days.",
            field_name,
        )
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def period_range(
    base: dt.date, period: str, allowed: tuple[str, ...], earliest: dt.date
) -> list[dt.date]:
    """The dates of ``period`` ending on ``base`` (``max``: since the member joined)."""
    if period not in allowed:
        raise fail(
            400,
            "validation",
            f"Invalid period: {period}. Supported periods: {', '.join(allowed)}.",
            "period",
        )
    days = (base - earliest).days + 1 if period == "max" else PERIOD_DAYS[period]
    days = max(1, min(days, MAX_RANGE_DAYS["activities"]))
    return [base - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]


def local(t: int, offset_s: int) -> dt.datetime:
    """The naive wall-clock time of instant t in the given offset (Fitbit's floating time)."""
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(t) + int(offset_s))


def iso_local(t: int, offset_s: int) -> str:
    """``yyyy-MM-ddTHH:mm:ss.SSS`` with no offset, as sleep logs and lastSyncTime carry."""
    return local(t, offset_s).strftime("%Y-%m-%dT%H:%M:%S.000")


def day_start(d: dt.date) -> int:
    """Seconds since the epoch of d's midnight on the local (offset-shifted) axis."""
    return (d - dt.date(1970, 1, 1)).days * 86_400
