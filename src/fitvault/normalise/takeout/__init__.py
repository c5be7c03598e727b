"""Parsers for the files of a Google Takeout / Fitbit export, one per file family.

A family is a decorated function in ``global_export`` (the JSON files) or ``category_csv``
(the per-category CSV folders), matched by a pattern on the member's path below the export
root, and landing in one catalog data type's tables with ``source="takeout"``. ``classify``
tells the importer, for any member, which family reads it — or why none does (a README, a
tree that duplicates one we read, a known family without a table yet), or that the file is
unknown. Each family's time-zone rule is spec B7's, checked on real files; ``FAMILIES`` lists
them with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from fitvault import catalog
from fitvault._errors import DataError
from fitvault._time import US_PER_DAY
from fitvault.catalog import DataType
from fitvault.normalise.columns import key_span
from fitvault.normalise.takeout._common import SOURCE, Context

Parse = Callable[[bytes, Context], dict[str, pa.Table]]


@dataclass(frozen=True)
class Family:
    name: str
    pattern: re.Pattern[str]
    data_type: str
    tz: str  # "UTC" | "local" | "date": how its times are read (spec B7)
    fn: Parse

    @property
    def dtype(self) -> DataType:
        return catalog.get(self.data_type)


@dataclass(frozen=True)
class Parsed:
    """A member's rows and the span of the type's range column they answer for ([lo, hi) µs)."""

    tables: dict[str, pa.Table]
    span: tuple[int, int] | None

    @property
    def rows(self) -> int:
        return int(next(iter(self.tables.values())).num_rows) if self.tables else 0


FAMILIES: list[Family] = []

# Members read by no family, and why (checked in order, before the families).
SKIPPED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)(^|/)[^/]*readme[^/]*\.txt$"), "README (column descriptions)"),
    (
        re.compile(r"^[^/]*_GoogleData/"),
        "Google's CSV re-export of the same data; fitvault reads Global Export Data and the "
        "category folders instead (spec B8: ingest one tree)",
    ),
    (
        re.compile(r"(^|/)(calories|altitude|lightly_active_minutes|moderately_active_minutes|"
                   r"very_active_minutes|sedentary_minutes|time_in_heart_rate_zones|height|"
                   r"demographic_vo2_max|run_vo2_max|exercise|swim_lengths_data|badge|"
                   r"food_logs)-[\d-]+\.json$"),
        "known Global Export Data family, not imported yet",
    ),
    (re.compile(r"(^|/)[A-Za-z]+_merged\.csv$"),
     "Fitabase / Kaggle research CSV (spec B10), not a Fitbit export file: not imported yet"),
    (re.compile(r"(^|/)estimated_oxygen_variation-[\d-]+\.csv$"),
     "infrared/red ratio, not SpO2 %: no table"),
    (re.compile(r"^(Your Profile|Personal & Account)/Profile\.csv$"),
     "profile: read for the time zone"),
    (
        re.compile(r"^(Heart Rate Variability/(Heart Rate Variability Histogram|Respiratory "
                   r"Rate Summary)|Temperature/|Sleep Score/|Stress Score/|Biometrics/|"
                   r"Sleep/[^/]*\.csv$|Daily Readiness/|Snore and Noise Detect/)"),
        "known category file, not imported yet",
    ),
]  # fmt: skip


def family(name: str, pattern: str, data_type: str, tz: str) -> Callable[[Parse], Parse]:
    """Register a parser for members whose path (below the root) matches ``pattern``."""

    def register(fn: Parse) -> Parse:
        catalog.get(data_type)  # a typo fails at import time
        FAMILIES.append(Family(name, re.compile(pattern), data_type, tz, fn))
        return fn

    return register


def classify(path: str) -> Family | str | None:
    """The family that reads ``path``, or the reason none does, or None if it is unknown."""
    for pattern, reason in SKIPPED:
        if pattern.search(path):
            return reason
    for fam in FAMILIES:
        if fam.pattern.search(path):
            return fam
    return None


def by_name(name: str) -> Family:
    for fam in FAMILIES:
        if fam.name == name:
            return fam
    raise DataError(f"no Takeout parser named {name!r}")


def parse(fam: Family, body: bytes, ctx: Context) -> Parsed:
    """Run a family's parser; the span covers its rows' range column, ends included."""
    try:
        tables = fam.fn(body, ctx)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise DataError(f"{fam.name}: unexpected content ({exc})") from exc
    main = catalog.table_of(fam.dtype)
    lo, hi = key_span(tables[main.name].column(main.range_column).combine_chunks())
    if lo is None or hi is None:
        return Parsed(tables, None)
    step = US_PER_DAY if main.column(main.range_column).sql == "DATE" else 1
    return Parsed(tables, (lo, hi + step))


from fitvault.normalise.takeout import category_csv, global_export  # noqa: E402, F401

__all__ = ["FAMILIES", "SOURCE", "Context", "Family", "Parsed", "classify", "parse"]
