"""Small, pure time helpers shared by the client, the store and the simulator.

Instants are timezone-aware UTC ``datetime`` objects or integer microseconds since the epoch;
offsets are integer seconds east of UTC, as the API's ``utcOffset`` durations are.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S


@lru_cache(maxsize=256)
def parse_duration_s(text: str) -> int:
    """``"32400s"`` / ``"-14400s"`` / ``"3.5s"`` → whole seconds (offsets are whole seconds)."""
    if not text.endswith("s"):
        raise ValueError(f"not a protobuf Duration: {text!r}")
    return round(float(text[:-1]))


def format_duration(seconds: float) -> str:
    """Seconds → protobuf JSON Duration (``"3600s"``, ``"2.5s"``)."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.9f}".rstrip("0") + "s"


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC; naive datetimes are rejected rather than guessed."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


def rfc3339(value: dt.datetime) -> str:
    """UTC RFC 3339 with ``Z`` and microseconds only when needed."""
    value = to_utc(value)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> dt.datetime:
    """RFC 3339 with ``Z`` or an offset → aware UTC datetime."""
    return to_utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))


def to_us(value: dt.datetime) -> int:
    """Aware datetime → integer microseconds since the epoch."""
    delta = to_utc(value) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def from_us(value: int) -> dt.datetime:
    """Integer microseconds since the epoch → aware UTC datetime."""
    return EPOCH + dt.timedelta(microseconds=value)


def date_to_us(value: dt.date) -> int:
    """A civil date as the microsecond of its UTC midnight (used to key daily coverage)."""
    return (value - EPOCH.date()).days * US_PER_DAY


def us_to_date(value: int) -> dt.date:
    return EPOCH.date() + dt.timedelta(days=value // US_PER_DAY)


def parse_day(text: str) -> dt.date | None:
    """``"2026-11-01"`` (or ``"2026-11-1"``) → a date; None if the text is not a day at all.

    The CLI and the Python API read days with this one function, so a string means the same
    thing everywhere. Raises ValueError for a day-shaped string that is no real date.
    """
    m = _DAY.match(text)
    if not m:
        return None
    return dt.date(int(m[1]), int(m[2]), int(m[3]))
