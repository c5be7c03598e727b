"""Every Google Health API v4 data type, declared once.

A declaration says what a type *is* — its record kind, the fields of its payload (vault column,
DuckDB type, JSON path, unit), the filter member and axis a sync window uses, the operations the
API offers with their range limits, page caps, scope, and the table(s) and key its rows land in.
Storage, normalising, frames, exports and the simulator's rendering all read it; only irregular
shapes (sleep) carry a hand-written normaliser, registered by name in ``fitvault.normalise``.

Names follow the API's three spellings: kebab-case in URL paths (``daily-resting-heart-rate``),
snake_case in filter strings and camelCase as the JSON union key. Facts:
``shared/spec/google-health-v4.md`` §1–§3 and Appendix A.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."


class RecordKind(enum.StrEnum):
    SAMPLE = "sample"  # one instant: sampleTime{physicalTime, utcOffset}
    INTERVAL = "interval"  # interval{startTime, endTime, offsets, civil times}
    SESSION = "session"  # interval without civil times: sleep, exercise, logs, ECG, IRN
    DAILY = "daily"  # a civil date in the user's time zone


class Axis(enum.StrEnum):
    """What a sync window ranges over (and the filter literal's kind)."""

    PHYSICAL = "physical"  # UTC instants
    CIVIL = "civil"  # local wall-clock times, compared with each point's own civil time
    DATE = "date"  # civil dates


class Op(enum.StrEnum):
    LIST = "list"
    RECONCILE = "reconcile"
    GET = "get"
    ROLLUP = "rollUp"
    DAILY_ROLLUP = "dailyRollUp"


class Conv(enum.StrEnum):
    """How a wire value becomes a column value (and back, in the simulator)."""

    PLAIN = ""  # JSON number / string / bool as is
    INT64 = "int64"  # an int64: a decimal string on the wire
    TIMESTAMP = "timestamp"  # RFC 3339 → TIMESTAMPTZ
    OFFSET = "offset"  # "-14400s" → whole seconds
    DURATION = "duration"  # "1303.5s" → seconds (DOUBLE)
    DATE = "date"  # {"year","month","day"} → DATE
    JSON = "json"  # any sub-message, kept as JSON text


@dataclass(frozen=True)
class Column:
    name: str
    sql: str  # DuckDB type
    unit: str = ""
    doc: str = ""

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW[self.sql]


_ARROW: dict[str, pa.DataType] = {
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
    "INTEGER": pa.int32(),
    "SMALLINT": pa.int16(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR": pa.string(),
    "INTEGER[]": pa.list_(pa.int32()),
}


@dataclass(frozen=True)
class Field:
    """One value of a type's payload: where it is on the wire and where it goes in the vault.

    ``path`` is dotted camelCase relative to the payload (the union member, or for roll-up-only
    types the roll-up value); ``*.x`` is member ``x`` of each element of the type's exploded
    array. ``enum`` lists the values the API documents (checked against discovery in tests).
    """

    column: str
    sql: str
    path: str
    unit: str = ""
    conv: Conv = Conv.PLAIN
    enum: tuple[str, ...] = ()
    doc: str = ""
    absent_is_zero: bool = False  # a worn-but-idle interval omits its value (a true zero)

    @property
    def as_column(self) -> Column:
        return Column(self.column, self.sql, self.unit, self.doc)


@dataclass(frozen=True)
class Table:
    """A vault table: its columns, natural key, and the column a sync window ranges over."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    range_column: str
    parent: str | None = None  # child rows are replaced with their parent (stages, splits)
    parent_key: str | None = None  # the child column holding the parent's key
    fields: tuple[Field, ...] = ()  # wire paths of the columns a normaliser reads
    path: str | None = None  # for a child table: the payload array its rows come from

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.arrow) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Child:
    """A 1:N array of a session's payload stored in its own table, keyed by the session."""

    table: str
    path: str  # the array member of the payload
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # columns that tell the elements of one session apart


def cols(spec: str) -> tuple[Column, ...]:
    return tuple(Column(*item.split()) for item in spec.strip().split(","))


# Columns every stored row carries besides its time and payload fields.
SOURCE_COLUMNS = (
    Column("device", "VARCHAR", doc="the data source's device (or app) as the API names it"),
    Column("platform", "VARCHAR", doc="FITBIT, HEALTH_CONNECT, … (the data source's platform)"),
    Column("source", "VARCHAR", doc="where fitvault got the row: google-health-api, …"),
)
_TIME_COLUMNS: dict[RecordKind, tuple[Column, ...]] = {
    RecordKind.SAMPLE: cols("time TIMESTAMPTZ, utc_offset_s INTEGER, local_date DATE"),
    RecordKind.INTERVAL: cols(
        "start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, utc_offset_s INTEGER, local_date DATE"
    ),
    RecordKind.SESSION: cols(
        "start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, start_utc_offset_s INTEGER,"
        "end_utc_offset_s INTEGER, local_start_time TIMESTAMP, local_date DATE"
    ),
    RecordKind.DAILY: cols("date DATE"),
}
# Wire paths of the time columns, relative to the payload.
TIME_PATHS: dict[RecordKind, dict[str, tuple[str, Conv]]] = {
    RecordKind.SAMPLE: {
        "time": ("sampleTime.physicalTime", Conv.TIMESTAMP),
        "utc_offset_s": ("sampleTime.utcOffset", Conv.OFFSET),
    },
    RecordKind.INTERVAL: {
        "start_time": ("interval.startTime", Conv.TIMESTAMP),
        "end_time": ("interval.endTime", Conv.TIMESTAMP),
        "utc_offset_s": ("interval.startUtcOffset", Conv.OFFSET),
    },
    RecordKind.SESSION: {
        "start_time": ("interval.startTime", Conv.TIMESTAMP),
        "end_time": ("interval.endTime", Conv.TIMESTAMP),
        "start_utc_offset_s": ("interval.startUtcOffset", Conv.OFFSET),
        "end_utc_offset_s": ("interval.endUtcOffset", Conv.OFFSET),
    },
    RecordKind.DAILY: {"date": ("date", Conv.DATE)},
}
# Roll-up-only types are stored per civil day from dailyRollUp.
ROLLUP_DATE_PATH = "civilStartTime.date"


@dataclass(frozen=True, eq=False)  # one object per type: identity is equality
class DataType:
    name: str
    kind: RecordKind
    scope: str  # scope family; read scope is SCOPE_PREFIX + scope + ".readonly"
    fields: tuple[Field, ...] = ()
    ops: Mapping[Op, int | None] = field(default_factory=dict)  # operation → max range in days
    readable: bool = True  # False for the write-only types
    timeseries: bool = True  # False for reference data (the food catalog)
    identifiable: bool = False  # points carry a resource `name`
    max_page_size: int = 10_000
    server_page_cap: int | None = None  # observed cap below max_page_size
    split_days: int | None = None  # walk windows longer than this in parallel pieces
    table_name: str | None = None  # default: the snake_case name
    explode: str | None = None  # an array of the payload whose elements are the rows
    extra_key: tuple[str, ...] = ()  # key columns besides time and device
    children: tuple[Child, ...] = ()
    lower_bound_only: bool = False  # the filter accepts only `>=` (ECG)
    civil_filter: bool = False  # sessions filtered on interval.civil_start_time
    filter_override: str | None = None  # sleep: filtered on the end time
    normaliser: str | None = None  # a hand-written normaliser registered under this name
    custom_tables: tuple[Table, ...] = ()  # tables of a hand-written normaliser
    per_day: float | None = None  # typical points a day, for `sync --plan` estimates
    doc: str = ""

    # --- names ------------------------------------------------------------------------------

    @property
    def snake(self) -> str:
        return self.name.replace("-", "_")

    @property
    def camel(self) -> str:
        head, *rest = self.name.split("-")
        return head + "".join(part.capitalize() for part in rest)

    @property
    def read_scope(self) -> str:
        return f"{SCOPE_PREFIX}{self.scope}.readonly"

    # --- capabilities -----------------------------------------------------------------------

    @property
    def list(self) -> bool:
        return Op.LIST in self.ops

    @property
    def rollup(self) -> bool:
        return Op.ROLLUP in self.ops

    @property
    def daily_rollup(self) -> bool:
        return Op.DAILY_ROLLUP in self.ops

    @property
    def rollup_only(self) -> bool:
        """Served only as roll-ups (floors, total-calories, …): stored per day."""
        return self.readable and not self.list and self.daily_rollup

    @property
    def syncable(self) -> bool:
        return self.readable and self.timeseries and (self.list or self.daily_rollup)

    @property
    def page_cap(self) -> int:
        """Most points one list page can hold, as served."""
        return self.server_page_cap or self.max_page_size

    def max_range_days(self, op: Op) -> int | None:
        return self.ops.get(op)

    @property
    def typical_per_day(self) -> float:
        """Points a day a typical wearer has (an estimate for planning, never for logic)."""
        if self.per_day is not None:
            return self.per_day
        return {
            RecordKind.SAMPLE: 50.0,
            RecordKind.INTERVAL: 1000.0,
            RecordKind.SESSION: 3.0,
            RecordKind.DAILY: 1.0,
        }[self.record_kind]

    # --- time axis and filter ---------------------------------------------------------------

    @property
    def record_kind(self) -> RecordKind:
        """The kind of the stored rows (roll-up-only types are stored per day)."""
        return RecordKind.DAILY if self.rollup_only else self.kind

    @property
    def axis(self) -> Axis:
        if self.record_kind is RecordKind.DAILY:
            return Axis.DATE
        return Axis.CIVIL if self.civil_filter else Axis.PHYSICAL

    @property
    def filter_member(self) -> str:
        """The member a sync window filters on."""
        if self.filter_override:
            return self.filter_override
        if self.kind is RecordKind.SAMPLE:
            return f"{self.snake}.sample_time.physical_time"
        if self.kind is RecordKind.DAILY:
            return f"{self.snake}.date"
        if self.civil_filter:
            return f"{self.snake}.interval.civil_start_time"
        return f"{self.snake}.interval.start_time"

    @property
    def paged_by_range(self) -> bool:
        """Pages are ordered along the window's axis, so each page proves a span complete.

        Sessions may overlap and are few: their windows are replaced and covered as a whole.
        """
        return self.kind is not RecordKind.SESSION

    # --- storage ----------------------------------------------------------------------------

    @property
    def stored(self) -> bool:
        return bool(self.tables)

    @cached_property
    def tables(self) -> tuple[Table, ...]:
        if self.custom_tables:
            return self.custom_tables
        if not self.syncable:
            return ()
        return (self._main_table(), *(self._child_table(c) for c in self.children))

    def _main_table(self) -> Table:
        kind = self.record_kind
        columns = (*_TIME_COLUMNS[kind], *(f.as_column for f in self.fields), *SOURCE_COLUMNS)
        time_key = {
            RecordKind.SAMPLE: "time",
            RecordKind.INTERVAL: "start_time",
            RecordKind.SESSION: "start_time",
            RecordKind.DAILY: "date",
        }[kind]
        device = () if kind is RecordKind.DAILY else ("device",)
        range_column = {Axis.DATE: "date", Axis.CIVIL: "local_start_time"}.get(self.axis, time_key)
        return Table(
            self.table_name or self.snake,
            columns,
            key=(time_key, *device, *self.extra_key),
            range_column=range_column,
            fields=self.fields,
        )

    def _child_table(self, child: Child) -> Table:
        columns = (
            Column("session_start", "TIMESTAMPTZ", doc="start_time of the session"),
            *(f.as_column for f in child.fields),
            Column("source", "VARCHAR"),
        )
        return Table(
            child.table,
            columns,
            key=("session_start", *child.key),
            range_column="session_start",
            parent=self.table_name or self.snake,
            parent_key="session_start",
            fields=child.fields,
            path=child.path,
        )


from fitvault.catalog import fitbit_legacy as _legacy  # noqa: E402
from fitvault.catalog.v4 import TYPES  # noqa: E402  (the declarations use the classes above)

DATA_TYPES: dict[str, DataType] = {t.name: t for t in TYPES}
STORED_TYPES: tuple[DataType, ...] = tuple(t for t in TYPES if t.stored)
# Legacy-only types have tables but no v4 sync (see catalog.fitbit_legacy).
LEGACY_TYPES: tuple[DataType, ...] = _legacy.TYPES
TABLES: dict[str, Table] = {tb.name: tb for t in (*STORED_TYPES, *LEGACY_TYPES) for tb in t.tables}
PROFILE_SCOPE = SCOPE_PREFIX + "profile.readonly"
SETTINGS_SCOPE = SCOPE_PREFIX + "settings.readonly"
SLEEP_SESSIONS_TABLE = TABLES["sleep_sessions"]
SLEEP_STAGES_TABLE = TABLES["sleep_stages"]
HEART_RATE_TABLE = TABLES["heart_rate"]
STEPS_TABLE = TABLES["steps"]
RESTING_HEART_RATE_TABLE = TABLES["resting_heart_rate"]


def get(name: str) -> DataType:
    """Look a data type up by any of its spellings (kebab, snake or camel case)."""
    kebab = name.replace("_", "-")
    if kebab in DATA_TYPES:
        return DATA_TYPES[kebab]
    for candidate in (*DATA_TYPES.values(), *LEGACY_TYPES):
        if kebab == candidate.name or candidate.camel == name:
            return candidate
    known = ", ".join(t.name for t in STORED_TYPES)
    raise KeyError(f"unknown data type {name!r}; fitvault stores: {known}")


def scopes_for(types: tuple[DataType, ...] | list[DataType]) -> list[str]:
    """The read scopes a sync of these types needs, plus profile and settings."""
    wanted = {t.read_scope for t in types} | {PROFILE_SCOPE, SETTINGS_SCOPE}
    return sorted(wanted)


def table_of(dtype: DataType) -> Table:
    """The type's main table (the first one)."""
    return dtype.tables[0]
