"""Every Google Health API v4 data type once: its names, record kind, scope and capabilities,
and for the types fitvault stores, the vault table(s) they land in.

Names follow the API's three spellings: kebab-case in URL paths (``daily-resting-heart-rate``),
snake_case in filter strings (``daily_resting_heart_rate``) and camelCase as the JSON union key
(``dailyRestingHeartRate``). Facts: ``shared/spec/google-health-v4.md`` §2.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import pyarrow as pa

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."


class RecordKind(enum.StrEnum):
    SAMPLE = "sample"  # one instant: sampleTime{physicalTime, utcOffset}
    INTERVAL = "interval"  # interval{startTime, endTime, offsets, civil times}
    SESSION = "session"  # interval without civil times; sleep and exercise
    DAILY = "daily"  # a civil date in the user's time zone


@dataclass(frozen=True)
class Column:
    name: str
    sql: str  # DuckDB type

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW[self.sql]


_ARROW: dict[str, pa.DataType] = {
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DATE": pa.date32(),
    "INTEGER": pa.int32(),
    "SMALLINT": pa.int16(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR": pa.string(),
}


@dataclass(frozen=True)
class Table:
    """A vault table: its columns, natural key, and the column a sync window ranges over."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    range_column: str
    parent: str | None = None  # child rows are replaced with their parent (sleep stages)
    parent_key: str | None = None  # the child column holding the parent's key

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.arrow) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _cols(spec: str) -> tuple[Column, ...]:
    return tuple(Column(*item.split()) for item in spec.strip().split(","))


@dataclass(frozen=True)
class DataType:
    name: str
    kind: RecordKind
    scope: str  # scope family; read scope is SCOPE_PREFIX + scope + ".readonly"
    list: bool = True
    rollup: bool = False
    daily_rollup: bool = False
    identifiable: bool = False  # points carry a resource `name`
    max_page_size: int = 10_000
    server_page_cap: int | None = None  # observed cap below max_page_size
    split_days: int | None = None  # walk windows longer than this in parallel pieces
    paged_by_range: bool = True  # list pages are ordered along the filter's axis
    tables: tuple[Table, ...] = field(default=())

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

    @property
    def page_cap(self) -> int:
        """Most points one list page can hold, as served."""
        return self.server_page_cap or self.max_page_size

    @property
    def filter_member(self) -> str:
        """The physical-time (or date) member a sync window filters on."""
        if self.kind is RecordKind.SAMPLE:
            return f"{self.snake}.sample_time.physical_time"
        if self.kind is RecordKind.DAILY:
            return f"{self.snake}.date"
        if self.name == "sleep":
            return "sleep.interval.end_time"
        if self.kind is RecordKind.SESSION:
            return f"{self.snake}.interval.civil_start_time"
        return f"{self.snake}.interval.start_time"

    @property
    def stored(self) -> bool:
        return bool(self.tables)


ACT = "activity_and_fitness"
HEALTH = "health_metrics_and_measurements"
S, IV, SE, D = RecordKind.SAMPLE, RecordKind.INTERVAL, RecordKind.SESSION, RecordKind.DAILY

HEART_RATE_TABLE = Table(
    "heart_rate",
    _cols("time TIMESTAMPTZ, utc_offset_s INTEGER, local_date DATE, bpm SMALLINT, source VARCHAR"),
    key=("time",),
    range_column="time",
)
STEPS_TABLE = Table(
    "steps",
    _cols(
        "start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, utc_offset_s INTEGER, local_date DATE,"
        "count INTEGER, source VARCHAR"
    ),
    key=("start_time",),
    range_column="start_time",
)
SLEEP_SESSIONS_TABLE = Table(
    "sleep_sessions",
    _cols(
        "start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, start_utc_offset_s INTEGER,"
        "end_utc_offset_s INTEGER, local_date DATE, sleep_type VARCHAR, is_main_sleep BOOLEAN,"
        "is_nap BOOLEAN, processed BOOLEAN, stages_status VARCHAR,"
        "minutes_in_sleep_period INTEGER, minutes_asleep INTEGER, minutes_awake INTEGER,"
        "minutes_to_fall_asleep INTEGER, minutes_after_wakeup INTEGER, minutes_deep INTEGER,"
        "minutes_light INTEGER, minutes_rem INTEGER, minutes_wake INTEGER, device VARCHAR,"
        "source_id VARCHAR, updated_at TIMESTAMPTZ, source VARCHAR"
    ),
    key=("start_time",),
    range_column="end_time",
)
SLEEP_STAGES_TABLE = Table(
    "sleep_stages",
    _cols(
        "session_start TIMESTAMPTZ, start_time TIMESTAMPTZ, end_time TIMESTAMPTZ,"
        "utc_offset_s INTEGER, stage VARCHAR, source VARCHAR"
    ),
    key=("session_start", "start_time"),
    range_column="start_time",
    parent="sleep_sessions",
    parent_key="session_start",
)
RESTING_HEART_RATE_TABLE = Table(
    "resting_heart_rate",
    _cols("date DATE, bpm SMALLINT, calculation_method VARCHAR, source VARCHAR"),
    key=("date",),
    range_column="date",
)

_TYPES = (
    DataType("active-energy-burned", IV, ACT, rollup=True, daily_rollup=True),
    DataType("active-minutes", IV, ACT, rollup=True, daily_rollup=True),
    DataType("active-zone-minutes", IV, ACT, rollup=True, daily_rollup=True),
    DataType("activity-level", IV, ACT),
    DataType("altitude", IV, ACT, rollup=True, daily_rollup=True),
    DataType("basal-energy-burned", IV, ACT),
    DataType("calories-in-heart-rate-zone", IV, ACT, list=False, rollup=True, daily_rollup=True),
    DataType("daily-vo2-max", D, ACT),
    DataType("distance", IV, ACT, rollup=True, daily_rollup=True),
    DataType("exercise", SE, ACT, identifiable=True, max_page_size=25),
    DataType("floors", IV, ACT, list=False, rollup=True, daily_rollup=True),
    DataType("run-vo2-max", S, ACT, rollup=True, daily_rollup=True),
    DataType("sedentary-period", IV, ACT, rollup=True, daily_rollup=True),
    DataType("steps", IV, ACT, rollup=True, daily_rollup=True, tables=(STEPS_TABLE,)),
    DataType("swim-lengths-data", IV, ACT, rollup=True, daily_rollup=True),
    DataType("time-in-heart-rate-zone", IV, ACT, rollup=True, daily_rollup=True),
    DataType("total-calories", IV, ACT, list=False, rollup=True, daily_rollup=True),
    DataType("vo2-max", S, ACT),
    DataType("blood-glucose", S, HEALTH, identifiable=True, rollup=True, daily_rollup=True),
    DataType("body-fat", S, HEALTH, identifiable=True, rollup=True, daily_rollup=True),
    DataType("core-body-temperature", S, HEALTH, identifiable=True, rollup=True, daily_rollup=True),
    DataType("daily-heart-rate-variability", D, HEALTH),
    DataType("daily-heart-rate-zones", D, HEALTH),
    DataType("daily-oxygen-saturation", D, HEALTH),
    DataType("daily-respiratory-rate", D, HEALTH),
    DataType("daily-resting-heart-rate", D, HEALTH, tables=(RESTING_HEART_RATE_TABLE,)),
    DataType("daily-sleep-temperature-derivations", D, HEALTH),
    DataType(
        "heart-rate",
        S,
        HEALTH,
        rollup=True,
        daily_rollup=True,
        server_page_cap=5_000,
        split_days=2,
        tables=(HEART_RATE_TABLE,),
    ),
    DataType("heart-rate-variability", S, HEALTH),
    DataType("height", S, HEALTH, identifiable=True),
    DataType("oxygen-saturation", S, HEALTH),
    DataType("respiratory-rate-sleep-summary", S, HEALTH),
    DataType("weight", S, HEALTH, identifiable=True, rollup=True, daily_rollup=True),
    DataType(
        "sleep",
        SE,
        "sleep",
        identifiable=True,
        max_page_size=25,
        paged_by_range=False,  # filtered by end time, ordered by start time
        tables=(SLEEP_SESSIONS_TABLE, SLEEP_STAGES_TABLE),
    ),
    DataType("hydration-log", SE, "nutrition", identifiable=True, rollup=True, daily_rollup=True),
    DataType("nutrition-log", SE, "nutrition", identifiable=True, rollup=True, daily_rollup=True),
    DataType("electrocardiogram", SE, "ecg"),
    DataType("irregular-rhythm-notification", SE, "irn"),
)

DATA_TYPES: dict[str, DataType] = {t.name: t for t in _TYPES}
STORED_TYPES: tuple[DataType, ...] = tuple(t for t in _TYPES if t.stored)
TABLES: dict[str, Table] = {tb.name: tb for t in STORED_TYPES for tb in t.tables}
PROFILE_SCOPE = SCOPE_PREFIX + "profile.readonly"
SETTINGS_SCOPE = SCOPE_PREFIX + "settings.readonly"


def get(name: str) -> DataType:
    """Look a data type up by any of its spellings."""
    kebab = name.replace("_", "-")
    if kebab not in DATA_TYPES:
        for candidate in DATA_TYPES.values():
            if candidate.camel == name:
                return candidate
        known = ", ".join(t.name for t in STORED_TYPES)
        raise KeyError(f"unknown data type {name!r}; fitvault stores: {known}")
    return DATA_TYPES[kebab]


def scopes_for(types: tuple[DataType, ...] | list[DataType]) -> list[str]:
    """The read scopes a sync of these types needs, plus profile and settings."""
    wanted = {t.read_scope for t in types} | {PROFILE_SCOPE, SETTINGS_SCOPE}
    return sorted(wanted)
