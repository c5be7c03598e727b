"""Shared pieces of the Takeout parsers: decoding (BOM, UTF-8, JSON, CSV) and the two time
conventions of the export (spec B7): ``MM/DD/YY HH:MM:SS`` instants in UTC, and naive local
wall-clock times resolved with the person's zone. Pure; every failure is a ``DataError``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from fitvault._errors import DataError
from fitvault.normalise.columns import TS

SOURCE = "takeout"
BOM = b"\xef\xbb\xbf"
_MDY = "%m/%d/%y %H:%M:%S"


@dataclass(frozen=True)
class Context:
    """What a parser needs besides the file: the person's zone (from ``Profile.csv``) for the
    local-time families, and the display unit ``weight-*.json`` is written in."""

    zone: str = "UTC"
    weight_unit: str = "lb"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise DataError(f"unknown time zone {self.zone!r}") from exc


def text(body: bytes) -> str:
    """UTF-8 text without a leading BOM (exports and copies of them carry one)."""
    try:
        return body.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})") from exc


def json_array(body: bytes) -> list[Any]:
    """A JSON array of records (the ``Global Export Data`` files)."""
    try:
        value = msgspec.json.decode(body.removeprefix(BOM))
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise DataError(f"not valid JSON: {exc}") from exc
    if not isinstance(value, list):
        raise DataError(f"expected a JSON array, got {type(value).__name__}")
    return value


def csv_rows(body: bytes) -> list[dict[str, str]]:
    """CSV rows by header (CRLF or LF); the literal ``no data`` placeholder is no rows."""
    content = text(body)
    if content.strip() in ("", "no data"):
        return []
    try:
        return list(csv.DictReader(io.StringIO(content, newline="")))
    except csv.Error as exc:
        raise DataError(f"bad CSV: {exc}") from exc


def field(row: dict[str, Any], key: str) -> Any:
    try:
        return row[key]
    except (KeyError, TypeError) as exc:
        raise DataError(f"record without {key!r}: {str(row)[:80]}") from exc


def number(value: Any) -> float | None:
    """A JSON number or numeric string; ``NaN`` (baseline columns) and blanks are null."""
    if value is None or value == "":
        return None
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"not a number: {value!r}") from exc
    return None if math.isnan(out) else out


def utc_mdy(values: list[str]) -> pa.Array:
    """``04/08/26 04:00:01`` strings, which are UTC in the export → instants (C++ parse)."""
    try:
        naive = pc.strptime(pa.array(values, pa.string()), format=_MDY, unit="us")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(f"bad MM/DD/YY time: {exc}") from exc
    return naive.cast(TS)


def offsets_at(times: pa.Array, zone: str) -> pa.Array:
    """The zone's UTC offset (s) at each instant."""
    if len(times) == 0:
        return pa.array([], pa.int32())
    local = pc.local_timestamp(times.cast(pa.timestamp("us", tz=zone)))
    diff = pc.subtract(local.cast(pa.int64()), times.cast(pa.int64()))
    return pc.divide(diff, 1_000_000).cast(pa.int32())


def local_dates(times: pa.Array, offsets: pa.Array) -> pa.Array:
    shift = pc.multiply(offsets.cast(pa.int64()), 1_000_000).cast(pa.duration("us"))
    return pc.add(times, shift).cast(pa.timestamp("us")).cast(pa.date32())


def resolve(naive: dt.datetime, tz: dt.tzinfo) -> tuple[dt.datetime, int]:
    """A local wall-clock time → (UTC instant, offset s). A time repeated by a fall-back is
    taken at its first occurrence; one skipped by a spring-forward is read with the offset in
    force before the gap (02:30 on a US spring-forward day = 07:30 UTC), as Python's fold=0."""
    aware = naive.replace(tzinfo=tz, fold=0)
    offset = aware.utcoffset() or dt.timedelta(0)
    return (naive - offset).replace(tzinfo=dt.UTC), int(offset.total_seconds())


def parse_local(value: str, formats: tuple[str, ...]) -> dt.datetime:
    for fmt in formats:
        try:
            return dt.datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    raise DataError(f"bad local time {value!r}")


def iso_local(value: str) -> dt.datetime:
    """``2026-04-08T04:35:00``, ``…T13:14``, ``…T04:26:30.000`` → naive datetime."""
    try:
        out = dt.datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError) as exc:
        raise DataError(f"bad local time {value!r}") from exc
    return out.replace(tzinfo=None) if out.tzinfo is None else out


def utc_iso(values: list[str]) -> pa.Array:
    """``2026-04-08T07:14:33Z`` → instants."""
    try:
        return pa.array(values, pa.string()).cast(TS)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(f"bad UTC timestamp: {exc}") from exc


def local_rows(
    rows: list[dict[str, str]], column: str, ctx: Context, parse: Callable[[str], dt.datetime]
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Instants, offsets and local dates of a column of naive local times."""
    tz = ctx.tz
    times, offs, days = [], [], []
    for row in rows:
        naive = parse(field(row, column))
        instant, off = resolve(naive, tz)
        times.append(instant)
        offs.append(off)
        days.append(naive.date())
    return pa.array(times, TS), pa.array(offs, pa.int32()), pa.array(days, pa.date32())
