"""Sleep logs: API v1.2 (``levels`` with ``data`` and ``shortData``) and the older v1
(``minuteData``, values 1/2/3 = asleep/restless/awake) → ``sleep_sessions`` + ``sleep_stages``
shaped like v4's.

v4's stages are non-overlapping and contiguous (spec v4 §Sleep), while v1.2 lays short wakes
(``shortData``, ≤ 3 min) over the 30-second-resolution ``data``: the short wakes are cut into
the segments they overlay, as the Fitbit app draws the night, and equal neighbours are merged.
Stage instants follow from the resolved start plus elapsed seconds, so a night across a clock
change keeps its true length. The session's ``local_date`` is ``dateOfSleep`` (the day the
sleep ended).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.normalise.columns import table
from fitvault.normalise.fitbit_legacy import Out, has, kind
from fitvault.normalise.fitbit_legacy._common import (
    SOURCE,
    Context,
    day_of,
    get,
    local_time,
    resolve,
)

STAGE = {"wake": "AWAKE", "light": "LIGHT", "deep": "DEEP", "rem": "REM",
         "awake": "AWAKE", "asleep": "ASLEEP", "restless": "RESTLESS"}  # fmt: skip
MINUTE_VALUE = {"1": "ASLEEP", "2": "RESTLESS", "3": "AWAKE"}
Segment = tuple[dt.datetime, dt.datetime, str]  # UTC start, end, v4 stage


def _is_sleep(value: Any) -> bool:
    return has("sleep")(value) and isinstance(value["sleep"], list)


def _logs(value: Any) -> list[dict[str, Any]]:
    logs = [log for log in value["sleep"] if isinstance(log, dict)]
    if len(logs) != len(value["sleep"]):
        raise DataError("a sleep log is not an object")
    return logs


def _is_v1(value: Any) -> bool:
    logs = value["sleep"] if _is_sleep(value) else []
    return any(isinstance(log, dict) and "minuteData" in log for log in logs)


# {"sleep": [{
#    "dateOfSleep": "2017-04-02", "duration": 28800000, "efficiency": 85, "isMainSleep": true,
#    "levels": {
#      "summary": {"deep": {"count": 5, "minutes": 99, "thirtyDayAvgMinutes": 70}, …},
#      "data": [{"datetime": "2017-04-01T00:00:00.000", "level": "wake", "seconds": 360}, …],
#      "shortData": [{"datetime": "2017-04-02T00:00:00.000", "level": "wake", "seconds": 560}]},
#    "logId": 15040942043, "minutesAfterWakeup": 0, "minutesAsleep": 500, "minutesAwake": 86,
#    "minutesToFallAsleep": 0, "startTime": "2017-04-01T00:00:00.000",
#    "endTime": "2017-04-01T08:00:00.000", "timeInBed": 586, "type": "stages", "infoCode": 0}],
#  "summary": {"totalMinutesAsleep": 500, "totalSleepRecords": 1, "totalTimeInBed": 586}}
# (by date range: no top-level "summary"; list.json: a "pagination" object besides)
@kind("sleep", lambda v: _is_sleep(v) and not _is_v1(v), "sleep")
def sleep_v12(value: Any, ctx: Context) -> Out:
    sessions: dict[str, list[Any]] = {c: [] for c in catalog.SLEEP_SESSIONS_TABLE.column_names}
    stages: dict[str, list[Any]] = {c: [] for c in catalog.SLEEP_STAGES_TABLE.column_names}
    tz = ctx.tz
    for log in _logs(value):
        start, _ = _session(log, tz, sessions)
        levels = log.get("levels") or {}
        long = _timeline(levels.get("data") or [], start, tz)
        short = _timeline(levels.get("shortData") or [], start, tz)
        _stage_rows(start, _merge(_overlay(long, short)), tz, stages)
    return _tables(sessions, stages), {}


# {"sleep": [{
#    "isMainSleep": true, "logId": 29744, "efficiency": 98,
#    "startTime": "2011-06-16T00:00:00.000", "duration": 28800000,
#    "minutesToFallAsleep": 0, "minutesAsleep": 480, "minutesAwake": 0, "timeInBed": 480,
#    "awakeningsCount": 0, // deprecated
#    "minuteData": [{"dateTime": "00:00:00", "value": "3"}, {"dateTime": "00:01:00",
#                    "value": "2"}, {"dateTime": "00:02:00", "value": "1"}]}, …],
#  "summary": {"totalMinutesAsleep": 518, "totalSleepRecords": 2, "totalTimeInBed": 540}}
@kind("sleep_v1", _is_v1, "sleep")
def sleep_v1(value: Any, ctx: Context) -> Out:
    sessions: dict[str, list[Any]] = {c: [] for c in catalog.SLEEP_SESSIONS_TABLE.column_names}
    stages: dict[str, list[Any]] = {c: [] for c in catalog.SLEEP_STAGES_TABLE.column_names}
    tz = ctx.tz
    for log in _logs(value):
        start, _ = _session(log, tz, sessions, sleep_type="CLASSIC")
        _stage_rows(start, _merge(_minutes(log, start, tz)), tz, stages)
    return _tables(sessions, stages), {}


def _tables(sessions: dict[str, list[Any]], stages: dict[str, list[Any]]) -> dict[str, Any]:
    s_spec, st_spec = catalog.SLEEP_SESSIONS_TABLE, catalog.SLEEP_STAGES_TABLE
    return {s_spec.name: table(s_spec, sessions), st_spec.name: table(st_spec, stages)}


def _offset_at(instant: dt.datetime, tz: dt.tzinfo) -> int:
    return int((instant.astimezone(tz).utcoffset() or dt.timedelta(0)).total_seconds())


def _session(
    log: dict[str, Any], tz: dt.tzinfo, sessions: dict[str, list[Any]], sleep_type: str = ""
) -> tuple[dt.datetime, dt.datetime]:
    """Append the log's session row; return its (start, end) instants."""
    start, start_off = resolve(local_time(get(log, "startTime")), tz)
    try:
        duration = dt.timedelta(milliseconds=int(log.get("duration") or 0))
    except (TypeError, ValueError) as exc:
        raise DataError(f"sleep {log.get('logId')}: bad duration") from exc
    end = start + duration
    if log.get("endTime") and not duration:
        end, _ = resolve(local_time(log["endTime"]), tz)
    end_off = _offset_at(end, tz)
    summary = (log.get("levels") or {}).get("summary") or {}

    def minutes(*stages: str) -> Any:
        return next((summary[s].get("minutes") for s in stages if s in summary), None)

    local_date = day_of(log["dateOfSleep"]) if log.get("dateOfSleep") else (
        end + dt.timedelta(seconds=end_off)).date()  # fmt: skip
    row = {
        "start_time": start, "end_time": end, "start_utc_offset_s": start_off,
        "end_utc_offset_s": end_off, "local_date": local_date,
        "sleep_type": sleep_type or str(log.get("type") or "").upper() or None,
        "is_main_sleep": log.get("isMainSleep", log.get("mainSleep")),
        "is_nap": None, "processed": None, "stages_status": None,
        "minutes_in_sleep_period": log.get("timeInBed"),
        "minutes_asleep": log.get("minutesAsleep"), "minutes_awake": log.get("minutesAwake"),
        "minutes_to_fall_asleep": log.get("minutesToFallAsleep"),
        "minutes_after_wakeup": log.get("minutesAfterWakeup"),
        "minutes_deep": minutes("deep"), "minutes_light": minutes("light"),
        "minutes_rem": minutes("rem"), "minutes_wake": minutes("wake", "awake"),
        "device": None, "source_id": str(log["logId"]) if log.get("logId") else None,
        "updated_at": None, "source": SOURCE,
    }  # fmt: skip
    for col, value in row.items():
        sessions[col].append(value)
    return start, end


def _timeline(points: list[Any], start: dt.datetime, tz: dt.tzinfo) -> list[Segment]:
    """``levels.data`` / ``shortData`` → segments. Each point's instant is the previous one's
    end while their wall clocks agree (across a clock change too), else its own reading."""
    out: list[Segment] = []
    at = start
    for point in points:
        # The API spells it dateTime; the documentation's examples (and copies) datetime.
        naive = local_time(point.get("dateTime", point.get("datetime")))
        if at.astimezone(tz).replace(tzinfo=None) != naive:
            at, _ = resolve(naive, tz)
        seconds = int(get(point, "seconds"))
        level = str(get(point, "level"))
        out.append((at, at + dt.timedelta(seconds=seconds), STAGE.get(level, level.upper())))
        at += dt.timedelta(seconds=seconds)
    return out


def _overlay(long: list[Segment], short: list[Segment]) -> list[Segment]:
    """Cut each short wake into the segments it overlays."""
    segments = sorted(long)
    for s_start, s_end, stage in sorted(short):
        if s_end <= s_start:
            continue
        cut: list[Segment] = []
        for start, end, level in segments:
            if end <= s_start or start >= s_end:
                cut.append((start, end, level))
                continue
            if start < s_start:
                cut.append((start, s_start, level))
            if end > s_end:
                cut.append((s_end, end, level))
        cut.append((s_start, s_end, stage))
        segments = sorted(cut)
    return segments


def _merge(segments: list[Segment]) -> list[Segment]:
    """Adjacent segments of one stage → one."""
    out: list[Segment] = []
    for start, end, stage in segments:
        if out and out[-1][2] == stage and out[-1][1] == start:
            out[-1] = (out[-1][0], end, stage)
        else:
            out.append((start, end, stage))
    return out


def _minutes(log: dict[str, Any], start: dt.datetime, tz: dt.tzinfo) -> list[Segment]:
    """v1 ``minuteData`` (one ``HH:MM:SS`` a minute from the start) → one-minute segments."""
    out: list[Segment] = []
    wall = start.astimezone(tz).replace(tzinfo=None)
    at = start
    for point in log.get("minuteData") or []:
        try:
            clock = dt.time.fromisoformat(str(get(point, "dateTime")))
        except ValueError as exc:
            raise DataError(f"bad minuteData time {point.get('dateTime')!r}") from exc
        naive = dt.datetime.combine(wall.date(), clock)
        if naive < wall - dt.timedelta(hours=12):  # past midnight
            naive += dt.timedelta(days=1)
        if naive != wall:
            at, _ = resolve(naive, tz)
        stage = MINUTE_VALUE.get(str(get(point, "value")))
        if stage is None:
            raise DataError(f"minuteData value {point.get('value')!r} is not 1, 2 or 3")
        out.append((at, at + dt.timedelta(minutes=1), stage))
        at += dt.timedelta(minutes=1)
        wall = naive + dt.timedelta(minutes=1)
    return out


def _stage_rows(
    session_start: dt.datetime, segments: list[Segment], tz: dt.tzinfo, stages: dict[str, list[Any]]
) -> None:
    for start, end, stage in segments:
        stages["session_start"].append(session_start)
        stages["start_time"].append(start)
        stages["end_time"].append(end)
        stages["utc_offset_s"].append(_offset_at(start, tz))
        stages["stage"].append(stage)
        stages["source"].append(SOURCE)
