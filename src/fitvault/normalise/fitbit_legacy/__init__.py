"""Legacy Fitbit Web API response bodies → rows of the vault's tables (``source="fitbit-legacy"``).

One public entry point, used by the live legacy sync and by ``fitvault import`` of saved
responses alike::

    parsed = parse(body, zone="Europe/London")          # bytes, str, or the parsed JSON
    parsed.tables            # {"heart_rate": pa.Table, "resting_heart_rate": …}
    parsed.batches()         # [(DataType, tables, span)] ready for Store.commit
    normalise(body, zone)    # just the tables

Files the tutorials' scripts saved (bodies, and their CSV / XLSX tables) are read by
``saved.read``; ``fitvault.legacy_import`` commits them and replays kept raw pages of this
source for ``fitvault rebuild`` (from the page's request: ``zone``, and ``units``, ``utc``,
``path`` or ``day`` where they apply).

Each kind of body is recognised by its **shape**, never by a file name or URL: a registry of
small parsers (``KINDS``), each with a trimmed real sample above it. Times in this API are the
person's local wall-clock times without an offset (spec A5); they are resolved with ``zone``
(the profile's ``timezone``): a repeated fall-back time at its first occurrence, a skipped
spring-forward time with the offset before the gap, as the Takeout importer does. Units are
converted to the v4 tables' (mm, g, kcal, bpm, %) from the unit system the responses were
fetched in (``units``: the ``Accept-Language``; metric when none was sent).

Decisions (the reasons are in each parser's doc):

* **Resolution stays visible.** ``1sec`` intraday heart rate (``datasetType: "second"``) is
  readings → ``heart_rate``. ``1min`` / ``15min`` heart rate is a per-minute *mean* →
  its own table ``heart_rate_average`` (data type ``heart-rate-average``, intervals whose
  ``end_time - start_time`` is the resolution), so it never interleaves with another
  source's second-level readings in ``heart_rate``.
* Daily activity totals (``activities-steps`` … without ``-intraday``) of types the v4 tables
  keep as intervals become one interval per local day; a body that also has the intraday
  dataset yields only the intraday intervals (the total is their sum). Totals the v4 tables
  keep per day (calories → ``total_calories``, floors → ``floors``) stay per day. The
  importer (``fitvault.legacy_import.drop_covered_days``, for the live sync too) drops a day's
  total where the vault already holds finer rows of that day from any source.
* Legacy heart-rate zones (Out of Range / Fat Burn / Cardio / Peak) → ``daily_heart_rate_zones``
  as MODERATE / VIGOROUS / PEAK; "Out of Range" is below every zone and not stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from fitvault import catalog
from fitvault._errors import DataError
from fitvault._time import US_PER_DAY
from fitvault.catalog import DataType
from fitvault.normalise.columns import key_span
from fitvault.normalise.fitbit_legacy._common import SOURCE, Context, decode

Span = tuple[int, int]
Rows = dict[str, pa.Table]
# A parser may say which span a data type's rows answer for (a whole local day for intraday
# bodies; None: replace nothing); by default it is the span of the rows' range column.
Out = tuple[Rows, dict[str, Span | None]]
Parse = Callable[[Any, Context], Out]


@dataclass(frozen=True)
class Kind:
    name: str
    test: Callable[[Any], bool]
    fn: Parse
    data_types: tuple[str, ...]


KINDS: list[Kind] = []
# Shapes recognised but not stored, and why (checked before the kinds).
SKIPPED: list[tuple[Callable[[Any], bool], str]] = []


def kind(name: str, test: Callable[[Any], bool], *data_types: str) -> Callable[[Parse], Parse]:
    """Register a parser for bodies that ``test`` accepts."""

    def register(fn: Parse) -> Parse:
        for name_ in data_types:
            catalog.get(name_)  # a typo fails at import time
        KINDS.append(Kind(name, test, fn, data_types))
        return fn

    return register


def has(*keys: str) -> Callable[[Any], bool]:
    """A test: the body is an object with all these keys."""
    return lambda v: isinstance(v, dict) and all(k in v for k in keys)


@dataclass(frozen=True)
class Parsed:
    """One body's rows, and per data type the span (µs, [lo, hi)) it answers for."""

    kind: str
    tables: Rows
    spans: dict[str, Span | None] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(int(t.num_rows) for name, t in self.tables.items() if _is_main(name))

    def batches(self) -> list[tuple[DataType, Rows, Span | None]]:
        """Per data type: its tables and the span its rows replace (for ``Store.commit``)."""
        out = []
        for name, span in self.spans.items():
            dtype = catalog.get(name)
            tables = {t.name: self.tables[t.name] for t in dtype.tables if t.name in self.tables}
            out.append((dtype, tables, span))
        return out


def _is_main(table_name: str) -> bool:
    spec = catalog.TABLES.get(table_name)
    return spec is not None and spec.parent is None


def identify(value: Any) -> Kind | str | None:
    """The kind that reads an already-decoded body, the reason none does, or None (unknown)."""
    for test, reason in SKIPPED:
        if _passes(test, value):
            return reason
    for k in KINDS:
        if _passes(k.test, value):
            return k
    return None


def _passes(test: Callable[[Any], bool], value: Any) -> bool:
    """A shape test that trips over a value of another type means "not this shape" (found by
    fuzzing: ``{"sleep": [1]}``); the body is then reported as unknown, never a crash."""
    try:
        return bool(test(value))
    except (TypeError, AttributeError, KeyError, IndexError, ValueError):
        return False


def describe(value: Any) -> str:
    """A short description of an unknown shape for messages (its top-level keys)."""
    if isinstance(value, dict):
        keys = ", ".join(sorted(str(k) for k in value)[:6])
        return f"a JSON object with keys {keys or '(none)'}"
    if isinstance(value, list):
        return f"a JSON array of {len(value)} items"
    return f"a JSON {type(value).__name__}"


def parse(
    body: bytes | str | Any,
    zone: str = "UTC",
    *,
    units: str = "METRIC",
    day: dt.date | None = None,
    utc: bool = False,
) -> Parsed:
    """A legacy API response body (bytes, text or parsed JSON) → ``Parsed``.

    ``zone``: the person's IANA zone; ``units``: the ``Accept-Language`` the body was fetched
    with; ``day``: the date of a body that carries none; ``utc``: the body was fetched with
    ``timezone=UTC`` (intraday times are UTC, not local). ``DataError`` when the body is not
    JSON or not a shape fitvault knows (the message says which).
    """
    value = decode(body)
    found = identify(value)
    if found is None:
        raise DataError(f"not a legacy Fitbit API response fitvault knows: {describe(value)}")
    if isinstance(found, str):
        return Parsed(found, {}, {})
    ctx = Context(zone, units, day, utc)
    try:
        tables, hints = found.fn(value, ctx)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise DataError(f"{found.name}: unexpected content ({exc})") from exc
    spans = {name: hints[name] if name in hints else _row_span(name, tables)
             for name in found.data_types if _produced(name, tables)}  # fmt: skip
    return Parsed(found.name, tables, spans)


def normalise(
    body: bytes | str | Any,
    zone: str = "UTC",
    *,
    units: str = "METRIC",
    day: dt.date | None = None,
    utc: bool = False,
) -> Rows:
    """A legacy API response body → {table name: Arrow table in the catalog's schema}."""
    return parse(body, zone, units=units, day=day, utc=utc).tables


def _produced(data_type: str, tables: Rows) -> bool:
    return catalog.table_of(catalog.get(data_type)).name in tables


def _row_span(data_type: str, tables: Rows) -> Span | None:
    main = catalog.table_of(catalog.get(data_type))
    lo, hi = key_span(tables[main.name].column(main.range_column).combine_chunks())
    if lo is None or hi is None:
        return None
    step = US_PER_DAY if main.column(main.range_column).sql == "DATE" else 1
    return lo, hi + step


from fitvault.normalise.fitbit_legacy import activity, heart, sleep, vitals  # noqa: E402, F401
from fitvault.normalise.fitbit_legacy.vitals import profile_zone  # noqa: E402

__all__ = [
    "KINDS",
    "SOURCE",
    "Context",
    "Kind",
    "Parsed",
    "describe",
    "identify",
    "normalise",
    "parse",
    "profile_zone",
]
