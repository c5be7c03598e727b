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
    (re.compile(r"(^|/)calories-[\d-]+\.json$"),
     "per-minute total energy (basal + active together): the catalog has no per-minute total "
     "table, and a daily sum from ~30-day chunks would cut days at chunk edges"),
    (re.compile(r"(^|/)altitude-[\d-]+\.json$"),
     "per-minute elevation gain in an unverified unit (no real sample): not imported"),
    (re.compile(r"(^|/)(lightly|moderately|very)_active_minutes-[\d-]+\.json$"),
     "daily totals per level; the active-minutes table holds the API's intervals, and a day "
     "total beside them would count the same minutes twice"),
    (re.compile(r"(^|/)sedentary_minutes-[\d-]+\.json$"),
     "daily sedentary total: no table (sedentary-period holds periods, not totals)"),
    (re.compile(r"(^|/)time_in_heart_rate_zones-[\d-]+\.json$"),
     "daily minutes per zone: the time-in-heart-rate-zone table holds intervals, not totals"),
    (re.compile(r"(^|/)run_vo2_max-[\d-]+\.json$"),
     "no real sample to check its time convention: not imported"),
    (re.compile(r"(^|/)swim_lengths_data-[\d-]+\.json$"),
     "per-length records whose times' zone is unverified (no paired UTC file): not imported"),
    (re.compile(r"(^|/)(badge|food_logs)[-\d]*\.json$"),
     "badges and food logs: not health measurements fitvault keeps"),
    (re.compile(r"(^|/)[A-Za-z]+_merged\.csv$"),
     "Fitabase / Kaggle research CSV (spec B10), not a Fitbit export file: not imported"),
    (re.compile(r"(^|/)estimated_oxygen_variation-[\d-]+\.csv$"),
     "infrared/red ratio, not SpO2 %: no table"),
    (re.compile(r"^(Your Profile|Personal & Account)/Profile\.csv$"),
     "profile: read for the time zone"),
    (re.compile(r"^Heart Rate Variability/Heart Rate Variability Histogram"),
     "RR-interval histogram: no table"),
    (re.compile(r"^Temperature/Computed Temperature"),
     "nightly temperature relative to a personal baseline whose absolute value the file does "
     "not give: no table it maps onto exactly"),
    (re.compile(r"^Temperature/(Device|Wrist) Temperature"),
     "per-minute sensor / wrist readings: no table (skin temperature is a nightly derivation)"),
    (re.compile(r"^Sleep Score/|(^|/)sleep_score\.csv$"), "sleep score: no table"),
    (re.compile(r"^Stress Score/"), "stress score: no table"),
    (re.compile(r"^Daily Readiness/"), "daily readiness score: no table"),
    (re.compile(r"^Snore and Noise Detect/"), "snore and noise: no table"),
    (re.compile(r"^Sleep/[^/]*\.csv$"), "sleep profile (monthly Premium summary): no table"),
    (re.compile(r"^Biometrics/"),
     "glucose: only empty placeholders seen (no sample of a filled file), not imported"),
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


from fitvault.normalise.takeout import category_csv, exercise, global_export  # noqa: E402, F401

__all__ = ["FAMILIES", "SOURCE", "Context", "Family", "Parsed", "classify", "parse"]
