"""pandas DataFrames per data type, with tz-aware timestamps; derived metrics say so.

Time arguments: a date (``datetime.date`` or ``"2026-11-01"``) selects whole local days, both
ends inclusive; a datetime (aware, or naive meaning the display zone) selects the half-open
instant range [start, end). Timestamps come back in the display zone: the person's settings
zone unless ``tz`` says otherwise. ``local_time`` is the wall clock the device showed.

Dates are dates. Every calendar-date column (``date``, ``local_date``) has the dtype
``pd.ArrowDtype(pa.date32())`` (:data:`DATE`): its values are ``datetime.date`` objects, not
midnights. A day has no time zone and no time of day, so a date must not pretend to be an
instant (a datetime64 midnight invites ``tz_localize`` and off-by-one-day mistakes). This dtype,
rather than pandas' plain ``object`` column of ``datetime.date`` (what ``Series.dt.date`` gives),
because it is typed: ``df.dtypes`` says ``date32[day][pyarrow]``; ``.dt.year``, ``.dt.month``,
``.dt.day_of_week``, ``.dt.day_name()`` and ``.dt.strftime()`` work; it compares with
``datetime.date`` (``df[df.date >= dt.date(2026, 11, 1)]``, ``.loc[date]`` and date slices on a
date index); and it converts losslessly to Arrow ``date32`` (``output="arrow"``), polars
``pl.Date`` (``output="polars"``) and Parquet. Instants (``time``, ``start``…) stay tz-aware
datetime64 and ``local_time`` naive datetime64. Resampling and time-based rolling windows need
a DatetimeIndex: ``s.set_axis(pd.to_datetime(df["date"])).resample("W").sum()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from fitvault._errors import ConfigError
from fitvault._time import parse_day
from fitvault.catalog import DataType, RecordKind, table_of
from fitvault.store import Store

TimeArg = dt.date | dt.datetime | str | pd.Timestamp | None

#: The dtype of every calendar-date column: values are ``datetime.date`` (see the module doc).
DATE = pd.ArrowDtype(pa.date32())


def _pandas_type(arrow_type: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    """DuckDB DATE (Arrow date32) stays a date; everything else converts as pandas does."""
    return DATE if arrow_type == pa.date32() else None


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas with dates as dates (:data:`DATE`); instants stay tz-aware."""
    frame: pd.DataFrame = table.to_pandas(types_mapper=_pandas_type)
    return frame


def query(store: Store, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """``store.df`` with dates as dates: DATE columns become :data:`DATE`, instants stay
    tz-aware (UTC) datetime64."""
    with store.session("querying"):
        table = store.con.sql(sql, params=list(params)).to_arrow_table()
    return to_pandas(table)


SLEEP_ROUNDING = (
    "minutes as the service reports them (whole minutes per stage kind); stage segments are on a "
    "30-second grid, so sleep_stages minutes may differ from these by under a minute per kind"
)
DERIVED_EFFICIENCY = (
    "100 × minutes_asleep / minutes_in_bed, computed by fitvault (the Google Health API v4 "
    "reports no sleep efficiency)"
)


def _parse(value: TimeArg, tz: str) -> dt.date | pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            day = parse_day(value)
            if day is not None:
                return day
            value = pd.Timestamp(value)
        except ValueError as exc:
            raise ConfigError(
                f"not a date or time: {value!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
            ) from exc
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            return ts
        # A wall time repeated when clocks go back means its first occurrence; one skipped when
        # they go forward means the moment clocks resumed.
        return ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return value


def _check_order(start: dt.date | pd.Timestamp | None, end: dt.date | pd.Timestamp | None) -> None:
    if start is None or end is None:
        return
    a = pd.Timestamp(start).tz_localize(None) if isinstance(start, pd.Timestamp) else start
    b = pd.Timestamp(end).tz_localize(None) if isinstance(end, pd.Timestamp) else end
    if pd.Timestamp(a) > pd.Timestamp(b):
        raise ConfigError(f"the range is reversed: start {start} is after end {end}")


def _where(
    time_col: str, date_col: str, start: TimeArg, end: TimeArg, tz: str
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    _check_order(_parse(start, tz), _parse(end, tz))
    for value, op_date, op_time in ((start, ">=", ">="), (end, "<=", "<")):
        parsed = _parse(value, tz)
        if parsed is None:
            continue
        if isinstance(parsed, pd.Timestamp):
            clauses.append(f"{time_col} {op_time} ?")
            params.append(parsed.to_pydatetime())
        else:
            clauses.append(f"{date_col} {op_date} ?")
            params.append(parsed)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _localise(df: pd.DataFrame, columns: list[str], tz: str) -> pd.DataFrame:
    for col in columns:
        df[col] = df[col].dt.tz_convert(tz)
    if "utc_offset_s" in df:  # seconds for arithmetic, "-04:00" for reading
        # A person has a handful of offsets: format each once, not once per row.
        names = {v: format_offset(v) for v in df["utc_offset_s"].dropna().unique().tolist()}
        df["utc_offset"] = df["utc_offset_s"].map(names).astype("string")
    return df


def format_offset(seconds: int) -> str:
    """``-14400`` → ``"-04:00"`` (ISO 8601, as clocks and RFC 3339 write it)."""
    sign = "-" if seconds < 0 else "+"
    h, m = divmod(abs(int(seconds)) // 60, 60)
    return f"{sign}{h:02d}:{m:02d}"


# The reconciled stream, as the app shows it: every reading of the wearable (platform FITBIT, or
# unknown for rows from before the vault kept it), plus other devices' readings where their
# interval overlaps no wearable reading. The simulator serves roll-ups by the same rule.
_WEARABLE = "(platform = 'FITBIT' OR platform IS NULL)"


def reconciled_sql(table: str, where: str) -> str:
    """Rows of an interval table in the reconciled stream (see ``_WEARABLE``).

    An ASOF join finds, for another device's reading, the wearable interval that starts last
    before it ends: the wearable's own intervals do not overlap one another, so that is the only
    one that can overlap it. (A correlated NOT EXISTS grew with the product of both devices' rows:
    11 s for a year of steps.)
    """
    return (
        f"WITH t AS (SELECT * FROM {table}{where}), "
        f"w AS (SELECT start_time AS w_start, end_time AS w_end FROM {table} WHERE {_WEARABLE}), "
        f"o AS (SELECT * FROM t WHERE NOT {_WEARABLE}) "
        f"SELECT * FROM t WHERE {_WEARABLE} UNION ALL "
        "SELECT o.* FROM o ASOF LEFT JOIN w ON o.end_time > w.w_start "
        "WHERE w.w_end IS NULL OR w.w_end <= o.start_time"
    )


_TIME = {
    RecordKind.SAMPLE: ("time", "local_date", "utc_offset_s"),
    RecordKind.INTERVAL: ("start_time", "local_date", "utc_offset_s"),
    RecordKind.SESSION: ("start_time", "local_date", "start_utc_offset_s"),
    RecordKind.DAILY: ("date", "date", None),
}


def frame(
    store: Store,
    dtype: DataType,
    start: TimeArg = None,
    end: TimeArg = None,
    *,
    tz: str,
    reconciled: bool = True,
) -> pd.DataFrame:
    """Any stored type's rows, its columns as in the vault (``docs`` in ``df.attrs``).

    Instants are converted to the display zone and a ``local_time`` column (the device's wall
    clock) is added for samples and intervals. ``reconciled`` drops readings another device
    made while the wearable was recording (interval types; see ``reconciled_sql``).
    """
    table = table_of(dtype)
    kind = dtype.record_kind
    time_col, date_col, offset_col = _TIME[kind]
    where, params = _where(time_col, date_col, start, end, tz)
    reconcile = reconciled and kind is RecordKind.INTERVAL
    body = reconciled_sql(table.name, where) if reconcile else f"SELECT * FROM {table.name}{where}"
    order = ", ".join(k for k in table.key)
    df = query(store, f"SELECT * FROM ({body}) ORDER BY {order}", params)
    instants = [c.name for c in table.columns if c.sql == "TIMESTAMPTZ" and c.name in df]
    for col in instants:
        df[col] = df[col].dt.tz_convert(tz)
    if offset_col is not None and kind is not RecordKind.SESSION:
        df.insert(
            1,
            "local_time",
            (
                df[time_col].dt.tz_convert("UTC") + pd.to_timedelta(df[offset_col], unit="s")
            ).dt.tz_localize(None),
        )
    df.attrs["units"] = {c.name: c.unit for c in table.columns if c.unit}
    df.attrs["docs"] = {c.name: c.doc for c in table.columns if c.doc}
    df.attrs["derived"] = {}
    return df


def heart_rate(
    store: Store, start: TimeArg = None, end: TimeArg = None, *, tz: str
) -> pd.DataFrame:
    """One row per reading: time, local_time, local_date, bpm, utc_offset_s (seconds),
    utc_offset ("-04:00"), device, source.

    Sorted by ``time``; ``local_time`` repeats and steps back in the hour clocks fall back.
    """
    where, params = _where("time", "local_date", start, end, tz)
    df = query(
        store,
        "SELECT time, time + to_seconds(utc_offset_s) AS local_time, local_date, bpm, "
        f"utc_offset_s, device, source FROM heart_rate{where} ORDER BY time",
        params,
    )
    df["local_time"] = df["local_time"].dt.tz_localize(None)
    return _localise(df, ["time"], tz)


def resting_heart_rate(store: Store, start: TimeArg = None, end: TimeArg = None) -> pd.DataFrame:
    """One row per local date: date, bpm, calculation_method, source."""
    where, params = _where("date", "date", start, end, "UTC")
    return query(
        store,
        "SELECT date, bpm, calculation_method, source FROM resting_heart_rate"
        f"{where} ORDER BY date",
        params,
    )


def steps(
    store: Store, freq: str = "D", start: TimeArg = None, end: TimeArg = None, *, tz: str
) -> pd.DataFrame:
    """Steps per minute (``freq="min"``), per local day (``"D"``), or resampled to any pandas
    frequency on the display zone's clock (``"h"``, ``"15min"``, ``"W"``…); ``steps`` is int64
    at every frequency. Per day, ``partial_day`` marks the day still in progress (today, in
    the display zone): its total will grow."""
    where, params = _where("start_time", "local_date", start, end, tz)
    rows = f"({reconciled_sql('steps', where)})"
    if freq.upper() in ("D", "1D", "DAY"):
        return daily_steps(store, where, params, tz)
    df = query(
        store,
        "SELECT start_time AS time, start_time + to_seconds(utc_offset_s) AS local_time, "
        f"local_date, count::BIGINT AS steps, device, source FROM {rows} ORDER BY start_time",
        params,
    )
    df["local_time"] = df["local_time"].dt.tz_localize(None)
    df = _localise(df, ["time"], tz)
    if freq in ("min", "1min", "raw"):
        return df
    try:
        out = df.set_index("time")["steps"].resample(freq).sum().astype("int64")
    except ValueError as exc:
        raise ConfigError(
            f"unknown frequency {freq!r}: use a pandas offset alias like 'h' or 'W'"
        ) from exc
    return out.rename_axis("time").reset_index()


def daily_steps(store: Store, where: str, params: list[Any], tz: str) -> pd.DataFrame:
    """Reconciled steps per local day for a ``_where`` clause; ``partial_day`` marks today."""
    df = query(
        store,
        f"SELECT local_date AS date, sum(count)::BIGINT AS steps FROM "
        f"({reconciled_sql('steps', where)}) GROUP BY local_date ORDER BY local_date",
        params,
    )
    today = pd.Timestamp.now(tz=tz).date()
    df["partial_day"] = (df["date"] >= today).to_numpy(dtype=bool)
    return df


_SESSION_SQL = """
SELECT s.local_date AS date, s.start_time AS start, s.end_time AS "end",
       coalesce(s.minutes_in_sleep_period, date_diff('minute', s.start_time, s.end_time))
           AS minutes_in_bed,
       s.minutes_asleep, coalesce(s.minutes_awake, s.minutes_wake, g.wake) AS minutes_awake,
       s.minutes_to_fall_asleep, s.minutes_after_wakeup,
       coalesce(s.minutes_deep, g.deep) AS minutes_deep,
       coalesce(s.minutes_light, g.light) AS minutes_light,
       coalesce(s.minutes_rem, g.rem) AS minutes_rem,
       s.is_main_sleep, s.is_nap, s.sleep_type, s.processed, s.source
FROM sleep_sessions s LEFT JOIN (
    SELECT session_start,
           sum(date_diff('second', start_time, end_time)) FILTER (stage = 'DEEP') // 60 AS deep,
           sum(date_diff('second', start_time, end_time)) FILTER (stage = 'LIGHT') // 60 AS light,
           sum(date_diff('second', start_time, end_time)) FILTER (stage = 'REM') // 60 AS rem,
           sum(date_diff('second', start_time, end_time)) FILTER (stage = 'AWAKE') // 60 AS wake
    FROM sleep_stages GROUP BY session_start) g ON g.session_start = s.start_time
"""


def sleep(
    store: Store, start: TimeArg = None, end: TimeArg = None, *, tz: str, naps: bool = False
) -> pd.DataFrame:
    """One row per night, dated by the local day it ends: that date's main sleep (else its
    longest non-nap session; dates with only naps have no row), or one row per session with
    ``naps=True``. ``efficiency_derived`` is computed here; see ``df.attrs["derived"]``."""
    where, params = _where("s.end_time", "s.local_date", start, end, tz)
    df = query(store, _SESSION_SQL + where + " ORDER BY s.end_time", params)
    if not naps and len(df):
        # Per night: naps never count; the main sleep wins, else the longest session (the
        # service marks the longest staged sleep of a day as main).
        df = df[~df["is_nap"].fillna(False).astype(bool)]
        df = df.sort_values(["is_main_sleep", "minutes_in_bed"], ascending=False)
        df = df.drop_duplicates("date").sort_values("date").reset_index(drop=True)
    minutes = [c for c in df.columns if c.startswith("minutes_")]
    df[minutes] = df[minutes].astype("Int32")
    df["efficiency_derived"] = (
        (100 * df["minutes_asleep"] / df["minutes_in_bed"]).astype("Float64").round(1)
    )
    df.attrs["derived"] = {"efficiency_derived": DERIVED_EFFICIENCY}
    df.attrs["notes"] = {"minutes_*": SLEEP_ROUNDING}
    return _localise(df, ["start", "end"], tz)


def sleep_stages(
    store: Store, start: TimeArg = None, end: TimeArg = None, *, tz: str
) -> pd.DataFrame:
    """One row per stage segment: date (of its night), session_start, start, end, stage, minutes."""
    where, params = _where("s.end_time", "s.local_date", start, end, tz)
    df = query(
        store,
        'SELECT s.local_date AS date, g.session_start, g.start_time AS start, g.end_time AS "end", '
        "g.stage, date_diff('second', g.start_time, g.end_time) / 60.0 AS minutes, "
        "g.utc_offset_s, g.source "
        "FROM sleep_stages g JOIN sleep_sessions s ON s.start_time = g.session_start"
        + where
        + " ORDER BY g.start_time",
        params,
    )
    return _localise(df, ["session_start", "start", "end"], tz)


def convert(df: pd.DataFrame, output: str) -> Any:
    """A frame as pandas (as is), a pyarrow Table, or a polars DataFrame."""
    if output == "pandas":
        return df
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    if output == "arrow":
        return table
    if output == "polars":
        try:
            import polars as pl  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise ConfigError("output='polars' needs polars: pip install polars") from exc
        return pl.from_arrow(table)
    raise ConfigError(f"unknown output {output!r}: use 'pandas', 'arrow' or 'polars'")
