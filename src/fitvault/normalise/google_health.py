"""Google Health API v4 pages → typed Arrow rows: the dispatcher, and the two hand-written
normalisers (heart rate's Arrow fast path, sleep's summary + stages); every other type is
normalised from its declaration (``fitvault.normalise.declared``).

Pure: bytes in, Arrow tables out; no I/O, no clock. int64 fields arrive as JSON strings
(``"beatsPerMinute": "49"``) but bare numbers are accepted too (spec §3).
"""

from __future__ import annotations

import io
import re
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from fitvault._errors import DataError
from fitvault.catalog import (
    HEART_RATE_TABLE,
    SLEEP_SESSIONS_TABLE,
    SLEEP_STAGES_TABLE,
    DataType,
)
from fitvault.normalise import declared
from fitvault.normalise.columns import (
    Batch,
    key_span,
    local_dates,
    offset_s,
    offsets,
    table,
    timestamps,
)

SOURCE = "google-health-api"
_TOKEN_TAIL = re.compile(rb'"nextPageToken"\s*:\s*"([^"\\]*)"\s*}\s*$')
_TOKEN_HEAD = re.compile(rb'^\s*{\s*"nextPageToken"\s*:\s*"([^"\\]*)"')


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
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise DataError(f"unreadable page: {exc}") from exc


# --- wire structs (only the members we keep) ------------------------------------------------


class _Interval(msgspec.Struct):
    startTime: str
    endTime: str
    startUtcOffset: str = "0s"
    endUtcOffset: str = "0s"


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


def _decode(decoder: msgspec.json.Decoder[Any], body: bytes, what: str) -> list[Any]:
    try:
        return list(decoder.decode(body).dataPoints)
    except msgspec.ValidationError as exc:
        raise DataError(f"{what} page does not have the expected shape: {exc}") from exc
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise DataError(f"{what} page is not valid JSON: {exc}") from exc


def _page_decoder(point: type) -> msgspec.json.Decoder[Any]:
    page = msgspec.defstruct(
        f"{point.__name__}Page",
        [("dataPoints", list[point], [])],  # type: ignore[valid-type]
    )
    return msgspec.json.Decoder(page, strict=False)


# --- per type ---------------------------------------------------------------------------------


def _struct(*fields: tuple[str, pa.DataType]) -> pa.DataType:
    return pa.struct([pa.field(name, typ) for name, typ in fields])


_HR_ARROW = pa.schema(
    [
        pa.field(
            "dataPoints",
            pa.list_(
                _struct(
                    (
                        "dataSource",
                        _struct(
                            ("device", _struct(("displayName", pa.string()))),
                            ("application", _struct(("packageName", pa.string()))),
                            ("platform", pa.string()),
                        ),
                    ),
                    (
                        "heartRate",
                        _struct(
                            (
                                "sampleTime",
                                _struct(("physicalTime", pa.string()), ("utcOffset", pa.string())),
                            ),
                            ("beatsPerMinute", pa.string()),
                            (
                                "metadata",
                                _struct(
                                    ("motionContext", pa.string()),
                                    ("sensorLocation", pa.string()),
                                ),
                            ),
                        ),
                    ),
                )
            ),
        )
    ]
)


def _heart_rate_arrow(body: bytes, source: str) -> pa.Table | None:
    """Heart-rate rows parsed by Arrow's C++ JSON reader, or None to take the general path.

    The fast path covers pages as Google and the simulator send them (int64 as strings, every
    required field present); anything else — bare numbers, missing fields, broken JSON —
    returns None and the declared normaliser (msgspec) handles it.
    """
    try:
        # One JSON object and nothing after it: Arrow's reader also takes several objects in a
        # row (NDJSON) and crashes the process on a bare `null` (found by tests/normalise/
        # test_garbage.py). msgspec checks the whole page in ~1.5 ms per 5 000 readings.
        _token_decoder.decode(body)
    except (msgspec.DecodeError, RecursionError):  # the general path says what is wrong
        return None
    try:
        parsed = pajson.read_json(
            io.BytesIO(body),
            read_options=pajson.ReadOptions(block_size=len(body) + 1, use_threads=False),
            parse_options=pajson.ParseOptions(
                explicit_schema=_HR_ARROW,
                unexpected_field_behavior="ignore",
                newlines_in_values=True,
            ),
        )
        points = parsed.column("dataPoints").combine_chunks().flatten()
        hr = points.field("heartRate")
        sample = hr.field("sampleTime")
        required = (sample.field("physicalTime"), sample.field("utcOffset"))
        bpm = hr.field("beatsPerMinute")
        if any(c.null_count for c in (hr, sample, bpm, *required)):
            return None
        times, offs = timestamps(required[0]), offsets(required[1])
        data_source = points.field("dataSource")
        device = pc.coalesce(
            data_source.field("device").field("displayName"),
            data_source.field("application").field("packageName"),
        )
        meta = hr.field("metadata")
        return table(
            HEART_RATE_TABLE,
            {
                "time": times,
                "utc_offset_s": offs,
                "local_date": local_dates(times, offs),
                "bpm": pc.cast(bpm, pa.int16()),
                "motion_context": meta.field("motionContext"),
                "sensor_location": meta.field("sensorLocation"),
                "device": device,
                "platform": data_source.field("platform"),
                "source": pa.repeat(source, len(times)),
            },
        )
    except (pa.ArrowInvalid, KeyError, DataError):
        return None


def heart_rate(dtype: DataType, body: bytes, source: str = SOURCE) -> Batch:
    rows = _heart_rate_arrow(body, source)
    if rows is None:
        return declared.normalise(dtype, body, source)
    return Batch({HEART_RATE_TABLE.name: rows}, *key_span(rows.column("time").combine_chunks()))


_sleep_decoder = _page_decoder(_SleepPoint)
_STAGE_COLUMNS = {
    "DEEP": "minutes_deep",
    "LIGHT": "minutes_light",
    "REM": "minutes_rem",
    "AWAKE": "minutes_wake",
}


def sleep(dtype: DataType, body: bytes, source: str = SOURCE) -> Batch:
    points = _decode(_sleep_decoder, body, "sleep")
    sessions: dict[str, list[Any]] = {c: [] for c in SLEEP_SESSIONS_TABLE.column_names}
    stages: dict[str, list[Any]] = {c: [] for c in SLEEP_STAGES_TABLE.column_names}
    for point in points:
        _sleep_rows(point, source, sessions, stages)
    for col in ("start_time", "end_time", "updated_at"):
        sessions[col] = timestamps(sessions[col])
    for col in ("session_start", "start_time", "end_time"):
        stages[col] = timestamps(stages[col])
    start_offsets = pa.array(sessions["start_utc_offset_s"], pa.int32())
    end_offsets = pa.array(sessions["end_utc_offset_s"], pa.int32())
    sessions["local_date"] = local_dates(sessions["end_time"], end_offsets)
    sessions["start_utc_offset_s"], sessions["end_utc_offset_s"] = start_offsets, end_offsets
    tables = {
        SLEEP_SESSIONS_TABLE.name: table(SLEEP_SESSIONS_TABLE, sessions),
        SLEEP_STAGES_TABLE.name: table(SLEEP_STAGES_TABLE, stages),
    }
    return Batch(tables, *key_span(sessions["end_time"]))


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
        "start_utc_offset_s": offset_s(s.interval.startUtcOffset),
        "end_utc_offset_s": offset_s(s.interval.endUtcOffset),
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
        stages["utc_offset_s"].append(offset_s(st.startUtcOffset))
        stages["stage"].append(st.type)
        stages["source"].append(source)


# Hand-written normalisers, by the name a declaration gives (``DataType.normaliser``) or by
# type where a faster path exists; every other type goes through ``declared.normalise``.
NORMALISERS: dict[str, declared.Normaliser] = {"heart-rate": heart_rate, "sleep": sleep}


def normalise(dtype: DataType, body: bytes, source: str = SOURCE) -> Batch:
    """Any stored type's page → rows."""
    fn = NORMALISERS.get(dtype.normaliser or dtype.name, declared.normalise)
    return fn(dtype, body, source)
