"""Google Health API v4 ``dataPoints`` pages → typed Arrow rows, one function per data type.

Pure: bytes in, Arrow tables out; no I/O, no clock. Decoding uses msgspec structs that name only
the fields we keep, so the rest of each point (``dataSource``, civil times) is skipped at C
speed. int64 fields arrive as JSON strings (``"beatsPerMinute": "49"``) but bare numbers are
accepted too (``strict=False``); a true-zero interval arrives without its value and reads as 0
(spec §3, §3.5).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from fitvault._errors import DataError
from fitvault._time import US_PER_DAY, parse_duration_s
from fitvault.catalog import (
    HEART_RATE_TABLE,
    RESTING_HEART_RATE_TABLE,
    SLEEP_SESSIONS_TABLE,
    SLEEP_STAGES_TABLE,
    STEPS_TABLE,
    Table,
)

SOURCE = "google-health-api"
_TS = pa.timestamp("us", tz="UTC")
_TOKEN_TAIL = re.compile(rb'"nextPageToken"\s*:\s*"([^"\\]*)"\s*}\s*$')
_TOKEN_HEAD = re.compile(rb'^\s*{\s*"nextPageToken"\s*:\s*"([^"\\]*)"')


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


class _TokenOnly(msgspec.Struct):
    nextPageToken: str = ""


_token_decoder = msgspec.json.Decoder(_TokenOnly)


def page_token(body: bytes) -> str | None:
    """The page's ``nextPageToken`` (None when absent or empty) without decoding the points.

    The token is the last (or first) member of the top-level object, so an anchored match is
    unambiguous; anything else falls back to a full decode.
    """
    m = _TOKEN_TAIL.search(body, max(0, len(body) - 4096)) or _TOKEN_HEAD.match(body)
    if m:
        return m.group(1).decode() or None
    if b'"nextPageToken"' not in body:
        return None
    try:
        return _token_decoder.decode(body).nextPageToken or None
    except msgspec.DecodeError as exc:
        raise DataError(f"unreadable page: {exc}") from exc


# --- wire structs (only the members we keep) ------------------------------------------------


class _SampleTime(msgspec.Struct):
    physicalTime: str
    utcOffset: str = "0s"


class _HeartRate(msgspec.Struct):
    sampleTime: _SampleTime
    beatsPerMinute: int


class _HeartRatePoint(msgspec.Struct):
    heartRate: _HeartRate


class _Interval(msgspec.Struct):
    startTime: str
    endTime: str
    startUtcOffset: str = "0s"
    endUtcOffset: str = "0s"


class _Steps(msgspec.Struct):
    interval: _Interval
    count: int = 0  # omitted for a worn-but-idle minute (a true zero)


class _StepsPoint(msgspec.Struct):
    steps: _Steps


class _Date(msgspec.Struct):
    year: int
    month: int
    day: int


class _RhrMetadata(msgspec.Struct):
    calculationMethod: str | None = None


class _Rhr(msgspec.Struct):
    date: _Date
    beatsPerMinute: int
    dailyRestingHeartRateMetadata: _RhrMetadata | None = None


class _RhrPoint(msgspec.Struct):
    dailyRestingHeartRate: _Rhr


class _Stage(msgspec.Struct):
    startTime: str
    endTime: str
    type: str
    startUtcOffset: str = "0s"


class _StageSummary(msgspec.Struct):
    type: str
    minutes: int = 0


class _SleepSummary(msgspec.Struct):
    minutesInSleepPeriod: int | None = None
    minutesAsleep: int | None = None
    minutesAwake: int | None = None
    minutesToFallAsleep: int | None = None
    minutesAfterWakeUp: int | None = None
    stagesSummary: list[_StageSummary] = []


class _SleepMetadata(msgspec.Struct):
    processed: bool = False
    mainSleep: bool = False
    nap: bool = False
    stagesStatus: str | None = None


class _Sleep(msgspec.Struct):
    interval: _Interval
    type: str | None = None
    stages: list[_Stage] = []
    summary: _SleepSummary | None = None
    metadata: _SleepMetadata | None = None
    updateTime: str | None = None


class _Device(msgspec.Struct):
    displayName: str | None = None


class _DataSource(msgspec.Struct):
    device: _Device | None = None


class _SleepPoint(msgspec.Struct):
    sleep: _Sleep
    name: str | None = None
    dataPointName: str | None = None
    dataSource: _DataSource | None = None


def _page_decoder(point: type) -> msgspec.json.Decoder[Any]:
    page = msgspec.defstruct(
        f"{point.__name__}Page",
        [("dataPoints", list[point], [])],  # type: ignore[valid-type]
    )
    return msgspec.json.Decoder(page, strict=False)


# --- column helpers ---------------------------------------------------------------------------


def _timestamps(values: Sequence[str | None] | pa.Array) -> pa.Array:
    """RFC 3339 strings → timestamp[us, UTC], parsed in Arrow's C++ code.

    ProtoJSON allows nanoseconds; those are truncated to microseconds.
    """
    strings = pa.array(values, pa.string())
    try:
        return pc.cast(strings, _TS)
    except pa.ArrowInvalid:
        pass
    try:
        nanos = pc.cast(strings, pa.timestamp("ns", tz="UTC"))
        return pc.cast(nanos, _TS, safe=False)
    except pa.ArrowInvalid as exc:
        raise DataError(f"bad timestamp: {exc}") from exc


def _offsets(values: Sequence[str] | pa.Array) -> pa.Array:
    """``"-14400s"`` durations → int32 seconds; parsed once per distinct value (a handful)."""
    encoded = pa.array(values, pa.string()).dictionary_encode()
    try:
        seconds = [parse_duration_s(v) for v in encoded.dictionary.to_pylist()]
    except (TypeError, ValueError) as exc:
        raise DataError(f"bad UTC offset: {exc}") from exc
    return pc.take(pa.array(seconds, pa.int32()), encoded.indices)


def _local_dates(times: pa.Array, offsets: pa.Array) -> pa.Array:
    shifted = pc.add(
        times, pc.multiply(offsets.cast(pa.int64()), 1_000_000).cast(pa.duration("us"))
    )
    return pc.cast(shifted.cast(pa.timestamp("us")), pa.date32())


def _key_span(values: pa.Array) -> tuple[int | None, int | None]:
    if len(values) == 0:
        return None, None
    mm = pc.min_max(values.cast(pa.int64()))
    return int(mm["min"].as_py()), int(mm["max"].as_py())


def _table(table: Table, columns: dict[str, Any]) -> pa.Table:
    return pa.table(columns, schema=table.schema)


def _decode(decoder: msgspec.json.Decoder[Any], body: bytes, what: str) -> list[Any]:
    try:
        return list(decoder.decode(body).dataPoints)
    except msgspec.ValidationError as exc:
        raise DataError(f"{what} page does not have the expected shape: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise DataError(f"{what} page is not valid JSON: {exc}") from exc


# --- per type ---------------------------------------------------------------------------------

_hr_decoder = _page_decoder(_HeartRatePoint)
_HR_ARROW = pa.schema(
    [
        pa.field(
            "dataPoints",
            pa.list_(
                pa.struct(
                    [
                        pa.field(
                            "heartRate",
                            pa.struct(
                                [
                                    pa.field(
                                        "sampleTime",
                                        pa.struct(
                                            [
                                                ("physicalTime", pa.string()),
                                                ("utcOffset", pa.string()),
                                            ]
                                        ),
                                    ),
                                    pa.field("beatsPerMinute", pa.string()),
                                ]
                            ),
                        )
                    ]
                )
            ),
        )
    ]
)


def _heart_rate_arrow(body: bytes) -> tuple[pa.Array, pa.Array, pa.Array] | None:
    """Heart-rate columns parsed by Arrow's C++ JSON reader, or None to take the general path.

    The fast path covers pages as Google and the simulator send them (int64 as strings, every
    field present); anything else — bare numbers, missing fields, broken JSON — returns None.
    """
    try:
        table = pajson.read_json(
            io.BytesIO(body),
            read_options=pajson.ReadOptions(block_size=len(body) + 1, use_threads=False),
            parse_options=pajson.ParseOptions(
                explicit_schema=_HR_ARROW,
                unexpected_field_behavior="ignore",
                newlines_in_values=True,
            ),
        )
        points = table.column("dataPoints").combine_chunks().flatten()
        hr = points.field("heartRate")
        sample = hr.field("sampleTime")
        columns = (
            sample.field("physicalTime"),
            sample.field("utcOffset"),
            hr.field("beatsPerMinute"),
        )
        if any(c.null_count for c in (hr, sample, *columns)):
            return None
        return _timestamps(columns[0]), _offsets(columns[1]), pc.cast(columns[2], pa.int16())
    except (pa.ArrowInvalid, KeyError, DataError):
        return None


def heart_rate(body: bytes, source: str = SOURCE) -> Batch:
    fast = _heart_rate_arrow(body)
    if fast is not None:
        times, offsets, bpm = fast
    else:
        hrs = [p.heartRate for p in _decode(_hr_decoder, body, "heart-rate")]
        times = _timestamps([h.sampleTime.physicalTime for h in hrs])
        offsets = _offsets([h.sampleTime.utcOffset for h in hrs])
        bpm = pa.array([h.beatsPerMinute for h in hrs], pa.int16())
    rows = _table(
        HEART_RATE_TABLE,
        {
            "time": times,
            "utc_offset_s": offsets,
            "local_date": _local_dates(times, offsets),
            "bpm": bpm,
            "source": pa.repeat(source, len(times)),
        },
    )
    return Batch({HEART_RATE_TABLE.name: rows}, *_key_span(times))


_steps_decoder = _page_decoder(_StepsPoint)


def steps(body: bytes, source: str = SOURCE) -> Batch:
    pts = [p.steps for p in _decode(_steps_decoder, body, "steps")]
    starts = _timestamps([p.interval.startTime for p in pts])
    offsets = _offsets([p.interval.startUtcOffset for p in pts])
    rows = _table(
        STEPS_TABLE,
        {
            "start_time": starts,
            "end_time": _timestamps([p.interval.endTime for p in pts]),
            "utc_offset_s": offsets,
            "local_date": _local_dates(starts, offsets),
            "count": pa.array([p.count for p in pts], pa.int32()),
            "source": pa.array([source] * len(pts), pa.string()),
        },
    )
    return Batch({STEPS_TABLE.name: rows}, *_key_span(starts))


_rhr_decoder = _page_decoder(_RhrPoint)


def resting_heart_rate(body: bytes, source: str = SOURCE) -> Batch:
    pts = [p.dailyRestingHeartRate for p in _decode(_rhr_decoder, body, "daily-resting-heart-rate")]
    try:
        dates = [dt.date(p.date.year, p.date.month, p.date.day) for p in pts]
    except ValueError as exc:
        raise DataError(f"daily-resting-heart-rate page has an impossible date: {exc}") from exc
    rows = _table(
        RESTING_HEART_RATE_TABLE,
        {
            "date": pa.array(dates, pa.date32()),
            "bpm": pa.array([p.beatsPerMinute for p in pts], pa.int16()),
            "calculation_method": [
                (
                    p.dailyRestingHeartRateMetadata.calculationMethod
                    if p.dailyRestingHeartRateMetadata
                    else None
                )
                for p in pts
            ],
            "source": [source] * len(pts),
        },
    )
    keys = [(d - dt.date(1970, 1, 1)).days * US_PER_DAY for d in dates]
    return Batch(
        {RESTING_HEART_RATE_TABLE.name: rows}, min(keys, default=None), max(keys, default=None)
    )


_sleep_decoder = _page_decoder(_SleepPoint)
_STAGE_COLUMNS = {
    "DEEP": "minutes_deep",
    "LIGHT": "minutes_light",
    "REM": "minutes_rem",
    "AWAKE": "minutes_wake",
}


def sleep(body: bytes, source: str = SOURCE) -> Batch:
    points = _decode(_sleep_decoder, body, "sleep")
    sessions: dict[str, list[Any]] = {c: [] for c in SLEEP_SESSIONS_TABLE.column_names}
    stages: dict[str, list[Any]] = {c: [] for c in SLEEP_STAGES_TABLE.column_names}
    for point in points:
        _sleep_rows(point, source, sessions, stages)
    for col in ("start_time", "end_time", "updated_at"):
        sessions[col] = _timestamps(sessions[col])
    for col in ("session_start", "start_time", "end_time"):
        stages[col] = _timestamps(stages[col])
    start_offsets = pa.array(sessions["start_utc_offset_s"], pa.int32())
    end_offsets = pa.array(sessions["end_utc_offset_s"], pa.int32())
    sessions["local_date"] = _local_dates(sessions["end_time"], end_offsets)
    sessions["start_utc_offset_s"], sessions["end_utc_offset_s"] = start_offsets, end_offsets
    tables = {
        SLEEP_SESSIONS_TABLE.name: _table(SLEEP_SESSIONS_TABLE, sessions),
        SLEEP_STAGES_TABLE.name: _table(SLEEP_STAGES_TABLE, stages),
    }
    return Batch(tables, *_key_span(sessions["end_time"]))


def _sleep_rows(
    point: _SleepPoint, source: str, sessions: dict[str, list[Any]], stages: dict[str, list[Any]]
) -> None:
    s = point.sleep
    summary = s.summary or _SleepSummary()
    meta = s.metadata or _SleepMetadata()
    by_stage = {st.type: st.minutes for st in summary.stagesSummary}
    device = (
        point.dataSource.device.displayName
        if point.dataSource and point.dataSource.device
        else None
    )
    row = {
        "start_time": s.interval.startTime,
        "end_time": s.interval.endTime,
        "start_utc_offset_s": parse_duration_s(s.interval.startUtcOffset),
        "end_utc_offset_s": parse_duration_s(s.interval.endUtcOffset),
        "local_date": None,
        "sleep_type": s.type,
        "is_main_sleep": meta.mainSleep,
        "is_nap": meta.nap,
        "processed": meta.processed,
        "stages_status": meta.stagesStatus,
        "minutes_in_sleep_period": summary.minutesInSleepPeriod,
        "minutes_asleep": summary.minutesAsleep,
        "minutes_awake": summary.minutesAwake,
        "minutes_to_fall_asleep": summary.minutesToFallAsleep,
        "minutes_after_wakeup": summary.minutesAfterWakeUp,
        **{col: by_stage.get(stage) for stage, col in _STAGE_COLUMNS.items()},
        "device": device,
        "source_id": (point.name or point.dataPointName or "").rpartition("/")[2] or None,
        "updated_at": s.updateTime,
        "source": source,
    }
    for col, value in row.items():
        sessions[col].append(value)
    for st in s.stages:
        stages["session_start"].append(s.interval.startTime)
        stages["start_time"].append(st.startTime)
        stages["end_time"].append(st.endTime)
        stages["utc_offset_s"].append(parse_duration_s(st.startUtcOffset))
        stages["stage"].append(st.type)
        stages["source"].append(source)


NORMALISERS: dict[str, Callable[[bytes, str], Batch]] = {
    "heart-rate": heart_rate,
    "steps": steps,
    "sleep": sleep,
    "daily-resting-heart-rate": resting_heart_rate,
}
