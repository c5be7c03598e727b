"""Column builders shared by the normalisers: wire strings → typed Arrow arrays, in C++ where
the values repeat or are many. Pure; every failure is a ``DataError``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fitvault._errors import DataError
from fitvault._time import US_PER_DAY, parse_duration_s
from fitvault.catalog import Table

TS = pa.timestamp("us", tz="UTC")
_EPOCH_DATE = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Batch:
    """Rows from one page, and the span of the type's range key they cover (µs, inclusive)."""

    tables: dict[str, pa.Table]
    key_min: int | None
    key_max: int | None

    @property
    def points(self) -> int:
        first = next(iter(self.tables.values()), None)
        return 0 if first is None else int(first.num_rows)


def timestamps(values: Sequence[str | None] | pa.Array) -> pa.Array:
    """RFC 3339 strings → timestamp[us, UTC], parsed in Arrow's C++ code.

    ProtoJSON allows nanoseconds; those are truncated to microseconds.
    """
    strings = pa.array(values, pa.string())
    try:
        return pc.cast(strings, TS)
    except pa.ArrowInvalid:
        pass
    try:
        nanos = pc.cast(strings, pa.timestamp("ns", tz="UTC"))
        return pc.cast(nanos, TS, safe=False)
    except pa.ArrowInvalid as exc:
        raise DataError(f"bad timestamp: {exc}") from exc


MAX_OFFSET_S = 86_400  # no zone is a day off UTC (real ones: −12 h … +14 h)


def offset_s(text: object) -> int:
    """One ``"-14400s"`` UTC offset → seconds, or a ``DataError`` for anything else."""
    try:
        seconds = parse_duration_s(text)
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise DataError(f"bad UTC offset: {text!r}") from exc
    if abs(seconds) > MAX_OFFSET_S:
        raise DataError(f"UTC offset out of range: {text!r}")
    return seconds


def offsets(values: Sequence[str | None] | pa.Array) -> pa.Array:
    """``"-14400s"`` durations → int32 seconds; parsed once per distinct value (a handful)."""
    encoded = pa.array(values, pa.string()).dictionary_encode()
    seconds = [None if v is None else offset_s(v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(seconds, pa.int32()), encoded.indices)


def durations(values: Sequence[str | None]) -> pa.Array:
    """``"1303.5s"`` → float seconds; absent stays null."""
    out: list[float | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        if not isinstance(v, str) or not v.endswith("s"):
            raise DataError(f"bad duration: {v!r}")
        try:
            out.append(float(v[:-1]))
        except ValueError as exc:
            raise DataError(f"bad duration: {v!r}") from exc
    return pa.array(out, pa.float64())


def local(times: pa.Array, offset_s: pa.Array) -> pa.Array:
    """Instants shifted by their UTC offsets → naive wall-clock timestamps."""
    shifted = pc.add(
        times, pc.multiply(offset_s.cast(pa.int64()), 1_000_000).cast(pa.duration("us"))
    )
    return shifted.cast(pa.timestamp("us"))


def local_dates(times: pa.Array, offset_s: pa.Array) -> pa.Array:
    return pc.cast(local(times, offset_s), pa.date32())


def key_span(values: pa.Array) -> tuple[int | None, int | None]:
    """(min, max) of a range column in µs (dates: the µs of their UTC midnight)."""
    if len(values) == 0 or values.null_count == len(values):
        return None, None
    if pa.types.is_date32(values.type):
        mm = pc.min_max(values.cast(pa.int32()))
        return int(mm["min"].as_py()) * US_PER_DAY, int(mm["max"].as_py()) * US_PER_DAY
    mm = pc.min_max(values.cast(pa.int64()))
    return int(mm["min"].as_py()), int(mm["max"].as_py())


def date_of(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: a year of 2**31
        raise DataError(f"impossible date {year}-{month}-{day}: {exc}") from exc


def table(spec: Table, columns: dict[str, Any]) -> pa.Table:
    """Columns (arrays or lists) → a table with exactly the spec's schema."""
    n = next((len(v) for v in columns.values()), 0)
    data = {}
    for col in spec.columns:
        value = columns.get(col.name)
        if value is None:
            data[col.name] = pa.nulls(n, col.arrow)
            continue
        try:
            data[col.name] = value if isinstance(value, pa.Array) else pa.array(value, col.arrow)
            if data[col.name].type != col.arrow:
                data[col.name] = data[col.name].cast(col.arrow)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise DataError(f"column {col.name}: {exc}") from exc
    return pa.table(data, schema=spec.schema)
