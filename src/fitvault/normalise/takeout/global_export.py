"""``Global Export Data/`` JSON families (also ``user-site-export/`` and the 2021–23
``Physical Activity/``, ``Sleep/`` folders, which hold the same files; spec B1, B3).

Time zones (spec B7, checked on real files): ``dateTime`` ``MM/DD/YY HH:MM:SS`` of heart rate,
steps and distance is **UTC**; sleep ``startTime`` / ``levels.data[].dateTime`` and weight
``date`` + ``time`` are **local** wall-clock times, resolved with the person's zone; resting
heart rate is a civil date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.normalise.columns import TS, table
from fitvault.normalise.takeout import family, fast_hr
from fitvault.normalise.takeout._common import (
    BOM,
    SOURCE,
    Context,
    field,
    iso_local,
    json_array,
    local_dates,
    number,
    offsets_at,
    parse_local,
    resolve,
    utc_mdy,
)

LB_TO_G = 453.59237


class _Bpm(msgspec.Struct):
    bpm: int


class _HeartRate(msgspec.Struct):
    dateTime: str
    value: _Bpm


class _Minute(msgspec.Struct):
    dateTime: str
    value: str


# Typed decoders: ~3× faster than dicts on the biggest files, and they validate the shape.
_HR_DECODER = msgspec.json.Decoder(list[_HeartRate])
_MINUTE_DECODER = msgspec.json.Decoder(list[_Minute])


def _typed(decoder: msgspec.json.Decoder[Any], body: bytes, what: str) -> list[Any]:
    try:
        out: list[Any] = decoder.decode(body.removeprefix(BOM))
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise DataError(f"not valid JSON ({what}): {exc}") from exc
    return out


def _sample_times(records: list[Any], ctx: Context) -> dict[str, pa.Array]:
    times = utc_mdy([r.dateTime for r in records])
    offs = offsets_at(times, ctx.zone)
    return {"time": times, "utc_offset_s": offs, "local_date": local_dates(times, offs)}


def _minute_intervals(records: list[Any], ctx: Context) -> dict[str, pa.Array]:
    start = utc_mdy([r.dateTime for r in records])
    offs = offsets_at(start, ctx.zone)
    end = pc.add(start, pa.scalar(60_000_000, pa.duration("us")))
    return {"start_time": start, "end_time": end, "utc_offset_s": offs,
            "local_date": local_dates(start, offs)}  # fmt: skip


def _ints(records: list[Any], what: str) -> list[int]:
    try:
        return [int(float(r.value)) for r in records]
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: value is not a number: {exc}") from exc


def _source_column(n: int) -> dict[str, pa.Array]:
    return {"source": pa.repeat(pa.scalar(SOURCE), n)}


# [{
#   "dateTime" : "03/26/26 17:50:52",
#   "value" : {
#     "bpm" : 70,
#     "confidence" : 0
#   }
# },{
@family("heart_rate", r"(^|/)heart_rate-\d{4}-\d{2}-\d{2}\.json$", "heart-rate", "UTC")
def heart_rate(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    fast = fast_hr.heart_rate(body)
    if fast is None:
        return heart_rate_general(body, ctx)
    seconds, bpm = fast
    cols = {**fast_hr.columns(seconds, ctx.tz), "bpm": pa.array(bpm.astype("int16")),
            **_source_column(len(bpm))}  # fmt: skip
    spec = catalog.HEART_RATE_TABLE
    return {spec.name: table(spec, cols)}


def heart_rate_general(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    """Any JSON spelling of the heart-rate records (compact, other key order, PMData's)."""
    records = _typed(_HR_DECODER, body, "heart rate")
    bpm = [r.value.bpm for r in records]
    spec = catalog.HEART_RATE_TABLE
    cols = {**_sample_times(records, ctx), "bpm": bpm, **_source_column(len(bpm))}
    return {spec.name: table(spec, cols)}


# [{
#   "dateTime" : "03/19/26 18:40:00",
#   "value" : "0"
# },{
@family("steps", r"(^|/)steps-\d{4}-\d{2}-\d{2}\.json$", "steps", "UTC")
def steps(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    records = _typed(_MINUTE_DECODER, body, "steps")
    spec = catalog.STEPS_TABLE
    count = _ints(records, "steps")
    cols = {**_minute_intervals(records, ctx), "count": count, **_source_column(len(count))}
    return {spec.name: table(spec, cols)}


# [{
#   "dateTime" : "03/19/26 18:48:00",
#   "value" : "440"          <- centimetres (4.40 m in distance_*.csv)
# },{
@family("distance", r"(^|/)distance-\d{4}-\d{2}-\d{2}\.json$", "distance", "UTC")
def distance(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    records = _typed(_MINUTE_DECODER, body, "distance")
    spec = catalog.table_of(catalog.get("distance"))
    mm = [round(float(r.value) * 10) for r in records]
    cols = {**_minute_intervals(records, ctx), "distance_mm": mm, **_source_column(len(mm))}
    return {spec.name: table(spec, cols)}


# [{
#   "dateTime" : "03/18/26 00:00:00",
#   "value" : {
#     "date" : null,          <- no resting HR that day (value 0.0): no row
#     "value" : 0.0,
#     "error" : 0.0
#   }
# },{
#   "dateTime" : "03/01/24 00:00:00",
#   "value" : { "date" : "03/01/24", "value" : 54.01231098175049, "error" : 6.787087440490723 }
# }]
@family(
    "resting_heart_rate",
    r"(^|/)resting_heart_rate-\d{4}-\d{2}-\d{2}\.json$",
    "daily-resting-heart-rate",
    "date",
)
def resting_heart_rate(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    dates, bpm = [], []
    for r in json_array(body):
        value = field(r, "value")
        if not isinstance(value, dict) or not value.get("date") or not number(value.get("value")):
            continue
        dates.append(parse_local(value["date"], ("%m/%d/%y", "%Y-%m-%d")).date())
        bpm.append(round(float(value["value"])))
    spec = catalog.RESTING_HEART_RATE_TABLE
    cols: dict[str, Any] = {"date": dates, "bpm": bpm, **_source_column(len(dates))}
    return {spec.name: table(spec, cols)}


# [{
#   "logId" : 1773964799000,
#   "weight" : 104.9,          <- the account's display unit (lb for en_US): 47627 g
#   "bmi" : 20.51,
#   "date" : "03/19/26",       <- local
#   "time" : "23:59:59",
#   "source" : "API"
# }]
@family("weight", r"(^|/)weight-\d{4}-\d{2}-\d{2}\.json$", "weight", "local")
def weight(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    factor = LB_TO_G if ctx.weight_unit == "lb" else 1000.0
    tz = ctx.tz
    cols: dict[str, list[Any]] = {k: [] for k in ("time", "utc_offset_s", "local_date", "grams",
                                                  "device", "source")}  # fmt: skip
    for r in json_array(body):
        naive = parse_local(f"{field(r, 'date')} {r.get('time') or '00:00:00'}",
                            ("%m/%d/%y %H:%M:%S", "%Y-%m-%d %H:%M:%S"))  # fmt: skip
        instant, off = resolve(naive, tz)
        kg_or_lb = number(field(r, "weight"))
        cols["time"].append(instant)
        cols["utc_offset_s"].append(off)
        cols["local_date"].append(naive.date())
        cols["grams"].append(None if kg_or_lb is None else round(kg_or_lb * factor, 1))
        cols["device"].append(r.get("source"))
        cols["source"].append(SOURCE)
    spec = catalog.table_of(catalog.get("weight"))
    return {spec.name: table(spec, {**cols, "time": pa.array(cols["time"], TS)})}


_STAGE = {"wake": "AWAKE", "light": "LIGHT", "deep": "DEEP", "rem": "REM",
          "awake": "AWAKE", "asleep": "ASLEEP", "restless": "RESTLESS"}  # fmt: skip


# [{                                     <- newest first; bare array; key mainSleep
#   "logId" : 52257076264,
#   "dateOfSleep" : "2026-04-14",
#   "startTime" : "2026-04-14T04:26:30.000",   <- local, no offset
#   "endTime" : "2026-04-14T09:30:00.000",
#   "duration" : 18180000,
#   "minutesToFallAsleep" : 0, "minutesAsleep" : 268, "minutesAwake" : 35,
#   "minutesAfterWakeup" : 0, "timeInBed" : 303, "efficiency" : 97,
#   "type" : "stages", "infoCode" : 0, "logType" : "auto_detected",
#   "levels" : {
#     "summary" : { "deep" : { "count" : 2, "minutes" : 77, "thirtyDayAvgMinutes" : 66 }, … },
#     "data" : [{ "dateTime" : "2026-04-14T04:26:30.000", "level" : "wake", "seconds" : 990 }, …],
#     "shortData" : [ … ]
#   },
#   "mainSleep" : true
# },{
@family("sleep", r"(^|/)sleep-\d{4}-\d{2}-\d{2}\.json$", "sleep", "local")
def sleep(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    """Stage instants follow from the resolved start plus each stage's elapsed ``seconds``,
    and the end is the reading of ``endTime`` nearest start + ``duration``, so a night across
    a clock change keeps its true length."""
    sessions_spec, stages_spec = catalog.SLEEP_SESSIONS_TABLE, catalog.SLEEP_STAGES_TABLE
    sessions: dict[str, list[Any]] = {c: [] for c in sessions_spec.column_names}
    stages: dict[str, list[Any]] = {c: [] for c in stages_spec.column_names}
    tz = ctx.tz
    for log in json_array(body):
        _sleep_rows(log, tz, sessions, stages)
    return {
        sessions_spec.name: table(sessions_spec, sessions),
        stages_spec.name: table(stages_spec, stages),
    }


def _nearest(naive: dt.datetime, tz: dt.tzinfo, near: dt.datetime) -> tuple[dt.datetime, int]:
    """The reading of a local time closest to ``near``: ``endTime`` is exact but may fall in a
    repeated hour; ``duration`` is whole minutes (a 04:26:30 → 09:30:00 night says 303 min)."""
    options = []
    for fold in (0, 1):
        offset = naive.replace(tzinfo=tz, fold=fold).utcoffset() or dt.timedelta(0)
        options.append(((naive - offset).replace(tzinfo=dt.UTC), int(offset.total_seconds())))
    return min(options, key=lambda o: abs((o[0] - near).total_seconds()))


def _sleep_rows(
    log: Any, tz: dt.tzinfo, sessions: dict[str, list[Any]], stages: dict[str, list[Any]]
) -> None:
    if not isinstance(log, dict):
        raise DataError("sleep record is not an object")
    start, start_off = resolve(iso_local(field(log, "startTime")), tz)
    try:
        approx = start + dt.timedelta(milliseconds=int(field(log, "duration")))
    except (TypeError, ValueError) as exc:
        raise DataError(f"sleep {log.get('logId')}: bad duration") from exc
    end, end_off = _nearest(iso_local(field(log, "endTime")), tz, approx)
    levels = log.get("levels") or {}
    summary = levels.get("summary") or {}

    def minutes(stage: str) -> Any:
        return (summary.get(stage) or {}).get("minutes")

    row = {
        "start_time": start, "end_time": end, "start_utc_offset_s": start_off,
        "end_utc_offset_s": end_off,
        "local_date": (end + dt.timedelta(seconds=end_off)).date(),
        "sleep_type": str(log.get("type") or "").upper() or None,
        "is_main_sleep": log.get("mainSleep", log.get("isMainSleep")),
        "is_nap": None, "processed": None, "stages_status": None,
        "minutes_in_sleep_period": log.get("timeInBed"),
        "minutes_asleep": log.get("minutesAsleep"), "minutes_awake": log.get("minutesAwake"),
        "minutes_to_fall_asleep": log.get("minutesToFallAsleep"),
        "minutes_after_wakeup": log.get("minutesAfterWakeup"),
        "minutes_deep": minutes("deep"), "minutes_light": minutes("light"),
        "minutes_rem": minutes("rem"), "minutes_wake": minutes("wake"),
        "device": None, "source_id": str(log["logId"]) if log.get("logId") else None,
        "updated_at": None, "source": SOURCE,
    }  # fmt: skip
    for col, value in row.items():
        sessions[col].append(value)
    at = start
    for point in levels.get("data") or []:
        naive = iso_local(field(point, "dateTime"))
        if at.astimezone(tz).replace(tzinfo=None) != naive:  # a gap between stages
            at, _ = resolve(naive, tz)
        seconds = int(field(point, "seconds"))
        off = int((at.astimezone(tz).utcoffset() or dt.timedelta(0)).total_seconds())
        level = str(field(point, "level"))
        stages["session_start"].append(start)
        stages["start_time"].append(at)
        stages["end_time"].append(at + dt.timedelta(seconds=seconds))
        stages["utc_offset_s"].append(off)
        stages["stage"].append(_STAGE.get(level, level.upper()))
        stages["source"].append(SOURCE)
        at += dt.timedelta(seconds=seconds)


def _local_midnights(days: list[dt.date], ctx: Context) -> dict[str, Any]:
    """A civil date's start in the person's zone: instants, offsets and the dates."""
    tz = ctx.tz
    resolved = [resolve(dt.datetime.combine(d, dt.time()), tz) for d in days]
    return {"time": pa.array([r[0] for r in resolved], TS),
            "utc_offset_s": [r[1] for r in resolved], "local_date": days}  # fmt: skip


def _mdy_date(value: Any) -> dt.date:
    return parse_local(str(value), ("%m/%d/%y %H:%M:%S", "%m/%d/%y")).date()


# [{
#   "dateTime" : "03/19/26 00:00:00",      <- the day it was set (local): its local midnight
#   "value" : "1524"                       <- millimetres
# }]
@family("height", r"(^|/)height-\d{4}-\d{2}-\d{2}\.json$", "height", "date")
def height(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    records = _typed(_MINUTE_DECODER, body, "height")
    days = [_mdy_date(r.dateTime) for r in records]
    spec = catalog.table_of(catalog.get("height"))
    cols = {**_local_midnights(days, ctx), "height_mm": _ints(records, "height"),
            **_source_column(len(days))}  # fmt: skip
    return {spec.name: table(spec, cols)}


# [{
#   "dateTime" : "04/06/26 00:00:00",
#   "value" : {
#     "demographicVO2Max" : 39.746460000000006,
#     "demographicVO2MaxError" : 3.0000000000000004,
#     "filteredDemographicVO2Max" : 39.746460000000006,   <- the smoothed value the app shows
#     "filteredDemographicVO2MaxError" : 3.0000000000000004
#   }
# },{
@family(
    "demographic_vo2_max",
    r"(^|/)demographic_vo2_max-\d{4}-\d{2}-\d{2}\.json$",
    "daily-vo2-max",
    "date",
)
def demographic_vo2_max(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    """An estimate from resting heart rate and the profile (``estimated``), one per day."""
    days, vo2 = [], []
    for r in json_array(body):
        value = field(r, "value")
        if not isinstance(value, dict):
            raise DataError(f"VO2 max record without an object value: {str(r)[:80]}")
        days.append(_mdy_date(field(r, "dateTime")))
        vo2.append(number(value.get("filteredDemographicVO2Max", value.get("demographicVO2Max"))))
    spec = catalog.table_of(catalog.get("daily-vo2-max"))
    cols = {"date": days, "vo2_max": vo2, "estimated": [True] * len(days),
            **_source_column(len(days))}  # fmt: skip
    return {spec.name: table(spec, cols)}
