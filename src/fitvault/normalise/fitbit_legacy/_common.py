"""Shared pieces of the legacy-API normalisers: a tolerant decoder for bodies as people saved
them, the person's zone for the API's local ("floating") times, unit systems, and builders
for the time columns. Pure; every failure is a ``DataError``."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from fitvault._errors import DataError
from fitvault.normalise.columns import TS

SOURCE = "fitbit-legacy"
BOM = b"\xef\xbb\xbf"
_US_PER_MIN = 60_000_000
# A `//` comment outside strings (the API's documentation examples carry them).
_COMMENT = re.compile(r'("(?:\\.|[^"\\\n])*")|//[^\n]*')
_JSON_START = re.compile(r"^[ \t]*[\[{]", re.MULTILINE)

# Grams per unit of the body weight a unit system reports (Accept-Language): en_US pounds,
# en_GB stone, anything else (and no header) kilograms.
_WEIGHT_G = {"en_US": 453.59237, "en_GB": 6350.29318}
# Millimetres per unit of distance (km or miles) and of elevation (m or ft).
_DISTANCE_MM = {"en_US": 1_609_344.0}
_ELEVATION_MM = {"en_US": 304.8}


@dataclass(frozen=True)
class Context:
    """What a normaliser needs besides the body.

    ``zone``: the person's IANA zone (the profile's ``timezone``); legacy times are local.
    ``units``: the ``Accept-Language`` the responses were fetched with (``en_US``, ``en_GB``
    or anything else for metric, the API's default). ``day``: the date of a body that does not
    carry one (a tutorial CSV named ``…_2024-01-05_intradata.csv``). ``utc``: the intraday
    times are UTC (requested with ``timezone=UTC``); the zone then gives offsets and dates.
    """

    zone: str = "UTC"
    units: str = "METRIC"
    day: dt.date | None = None
    utc: bool = False  # the body was fetched with ?timezone=UTC: its clock times are UTC

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise DataError(f"unknown time zone {self.zone!r}") from exc

    @property
    def grams_per_weight_unit(self) -> float:
        return _WEIGHT_G.get(self.units, 1000.0)

    @property
    def mm_per_distance_unit(self) -> float:
        return _DISTANCE_MM.get(self.units, 1_000_000.0)

    @property
    def mm_per_elevation_unit(self) -> float:
        return _ELEVATION_MM.get(self.units, 1000.0)


def decode(body: bytes | str | Any) -> Any:
    """A response body as the API sent it or as a script saved it → parsed JSON.

    Already-parsed values pass through. Text may start with a UTF-8 BOM and with log lines
    (``fetched 2024-01-05 …``) before the JSON, carry ``//`` comments, and be followed by
    more log lines; the first JSON object or array in it is the body.
    """
    if not isinstance(body, bytes | bytearray | str):
        return body
    raw = bytes(body) if not isinstance(body, str) else body.encode()
    raw = raw.removeprefix(BOM)
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        pass
    except RecursionError:  # the lenient reader below would recurse as deep
        raise DataError("not valid JSON: nested deeper than any response") from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})") from exc
    return _lenient(text)


def _lenient(text: str) -> Any:
    # A BOM can sit after the log lines too (a body appended to a log file).
    cleaned = _COMMENT.sub(lambda m: m.group(1) or "", text.replace("\ufeff", ""))
    decoder = json.JSONDecoder()
    error = "no JSON object or array in it"
    starts = [m.end() - 1 for m in _JSON_START.finditer(cleaned)]
    inline = min((i for i in (cleaned.find("{"), cleaned.find("[")) if i >= 0), default=-1)
    for start in [*starts, *([inline] if inline >= 0 and inline not in starts else [])]:
        try:
            value, _ = decoder.raw_decode(cleaned, start)
        except RecursionError:
            raise DataError("not valid JSON: nested deeper than any response") from None
        except json.JSONDecodeError as exc:
            error = f"not valid JSON: {exc}"
            line_end = cleaned.find("\n", start)
            if 0 <= line_end < exc.pos:  # the body itself is damaged, not a "[INFO] …" line
                break
            continue
        if isinstance(value, dict | list):
            return value
    raise DataError(error)


def get(obj: Any, key: str) -> Any:
    try:
        return obj[key]
    except (KeyError, TypeError, IndexError) as exc:
        raise DataError(f"record without {key!r}: {str(obj)[:80]}") from exc


def number(value: Any) -> float | None:
    """A JSON number or numeric string; blanks are null."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"not a number: {value!r}") from exc


def day_of(value: Any) -> dt.date:
    """``2017-08-15`` (a ``dateTime`` of a time series) → a date."""
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise DataError(f"bad date {value!r}") from exc


def local_time(value: Any) -> dt.datetime:
    """``2021-10-25T09:10:00.000`` / ``2021-10-04T04:02:17`` → a naive local datetime."""
    try:
        out = dt.datetime.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise DataError(f"bad local time {value!r}") from exc
    return out.replace(tzinfo=None)


def resolve(naive: dt.datetime, tz: dt.tzinfo) -> tuple[dt.datetime, int]:
    """A local wall-clock time → (UTC instant, offset s), as the Takeout importer reads them:
    a repeated (fall-back) time at its first occurrence, a skipped (spring-forward) time with
    the offset in force before the gap."""
    aware = naive.replace(tzinfo=tz, fold=0)
    offset = aware.utcoffset() or dt.timedelta(0)
    return (naive - offset).replace(tzinfo=dt.UTC), int(offset.total_seconds())


def resolve_many(naive: Iterable[dt.datetime], tz: dt.tzinfo) -> tuple[pa.Array, pa.Array]:
    """Many local times → (instants, offsets); the zone is asked once per distinct minute
    (a day of 1-second heart rate has ~10 000 readings but at most 1 440 minutes)."""
    local = pa.array(list(naive), pa.timestamp("us"))
    if len(local) == 0:
        return pa.array([], TS), pa.array([], pa.int32())
    minutes = pc.divide(local.cast(pa.int64()), _US_PER_MIN)  # floor for times after 1970
    encoded = minutes.dictionary_encode()
    offs = []
    for m in encoded.dictionary.to_pylist():
        at = dt.datetime(1970, 1, 1) + dt.timedelta(minutes=m)
        offs.append(resolve(at, tz)[1])
    offsets = pc.take(pa.array(offs, pa.int32()), encoded.indices)
    shift = pc.multiply(offsets.cast(pa.int64()), 1_000_000)
    instants = pc.subtract(local.cast(pa.int64()), shift).cast(TS)
    return instants, offsets


@dataclass(frozen=True)
class Placed:
    """Clock times of a body placed on the time line."""

    instants: pa.Array  # timestamp[us, UTC]
    offsets: pa.Array  # int32 seconds east of UTC, the person's at each instant
    local_dates: pa.Array  # date32 on the person's clock


def place(naive: Sequence[dt.datetime], ctx: Context) -> Placed:
    """Clock times → instants: local times resolved in the zone, or (``ctx.utc``) UTC times
    given the zone's offsets."""
    if ctx.utc:
        instants = pa.array(list(naive), pa.timestamp("us")).cast(TS)
        offsets = offsets_at(instants, ctx.zone)
    else:
        instants, offsets = resolve_many(naive, ctx.tz)
    shift = pc.multiply(offsets.cast(pa.int64()), 1_000_000).cast(pa.duration("us"))
    dates = pc.add(instants, shift).cast(pa.timestamp("us")).cast(pa.date32())
    return Placed(instants, offsets, dates)


def offsets_at(times: pa.Array, zone: str) -> pa.Array:
    """The zone's UTC offset (s) at each instant."""
    if len(times) == 0:
        return pa.array([], pa.int32())
    try:
        local = pc.local_timestamp(times.cast(pa.timestamp("us", tz=zone)))
    except pa.ArrowInvalid as exc:
        raise DataError(f"unknown time zone {zone!r}") from exc
    diff = pc.subtract(local.cast(pa.int64()), times.cast(pa.int64()))
    return pc.divide(diff, 1_000_000).cast(pa.int32())


def day_span(days: Sequence[dt.date], ctx: Context) -> tuple[int, int]:
    """[first midnight, midnight after the last day) in µs — the person's midnights, or UTC's
    for a ``ctx.utc`` body: what a per-day body answers for (a day without readings too)."""
    tz: dt.tzinfo = dt.UTC if ctx.utc else ctx.tz
    lo, _ = resolve(dt.datetime.combine(min(days), dt.time()), tz)
    hi, _ = resolve(dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time()), tz)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (lo - epoch) // dt.timedelta(microseconds=1), (hi - epoch) // dt.timedelta(
        microseconds=1
    )


def clock_times(day: dt.date, times: Sequence[Any]) -> list[dt.datetime]:
    """``HH:MM:SS`` times of an intraday dataset starting on ``day`` → naive datetimes; a time
    earlier than the one before it is on the next day (a range or a night across midnight)."""
    out = []
    current = day
    previous: dt.time | None = None
    for value in times:
        try:
            t = dt.time.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise DataError(f"bad time of day {value!r}") from exc
        if previous is not None and t < previous:
            current += dt.timedelta(days=1)
        previous = t
        out.append(dt.datetime.combine(current, t))
    return out


def sources(n: int) -> list[str]:
    return [SOURCE] * n
