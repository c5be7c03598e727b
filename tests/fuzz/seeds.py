"""Small well-formed inputs of every parser, the starting points the fuzzer mutates.

Takeout members and legacy bodies are written here in the real files' shapes (the trimmed
samples above each parser); v4 pages are rendered by the simulator from a small world, so a
new data type in the catalog is fuzzed without an edit here.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from typing import Any

import numpy as np

from fitvault import catalog
from fitvault.catalog import Conv, DataType
from fitvault.simulator import render, v4_data
from fitvault.simulator.world import World

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
GED = "Global Export Data/"


def _jackson(records: list[dict[str, Any]]) -> bytes:
    """The export's pretty-printing (``"k" : v``), which the heart-rate fast path scans."""
    from fitvault.simulator.takeout import jackson

    return jackson(records)


_HR = [{"dateTime": "04/08/26 04:00:01", "value": {"bpm": 61, "confidence": 2}},
       {"dateTime": "04/08/26 04:00:06", "value": {"bpm": 63, "confidence": 3}}]  # fmt: skip
_MINUTES = [{"dateTime": "03/19/26 18:40:00", "value": "12"},
            {"dateTime": "03/19/26 18:41:00", "value": "0"}]  # fmt: skip
_SLEEP = [{
    "logId": 52257076264, "dateOfSleep": "2026-04-14", "startTime": "2026-04-14T04:26:30.000",
    "endTime": "2026-04-14T04:46:30.000", "duration": 1200000, "minutesAsleep": 15,
    "minutesAwake": 5, "timeInBed": 20, "type": "stages", "mainSleep": True,
    "levels": {"summary": {"deep": {"count": 1, "minutes": 15}},
               "data": [{"dateTime": "2026-04-14T04:26:30.000", "level": "wake", "seconds": 300},
                        {"dateTime": "2026-04-14T04:31:30.000", "level": "deep", "seconds": 900}]},
}]  # fmt: skip
_EXERCISE = [{
    "logId": 76131899133, "activityName": "Walk", "averageHeartRate": 96, "calories": 61,
    "distance": 0.329802, "distanceUnit": "Mile", "duration": 1338000, "activeDuration": 1338000,
    "steps": 879, "source": {"type": "tracker", "name": "Inspire 3"},
    "activeZoneMinutes": {"totalMinutes": 0}, "speed": 0.89, "pace": 4032.7,
    "lastModified": "04/06/26 14:05:09", "startTime": "04/06/26 13:42:42", "hasGps": False,
}]  # fmt: skip

# family name → (member path below the root, body)
TAKEOUT: dict[str, tuple[str, bytes]] = {
    "heart_rate": (GED + "heart_rate-2026-04-08.json", _jackson(_HR)),
    "steps": (GED + "steps-2026-03-19.json", _jackson(_MINUTES)),
    "distance": (GED + "distance-2026-03-19.json", _jackson(_MINUTES)),
    "resting_heart_rate": (GED + "resting_heart_rate-2026-03-18.json", _jackson([
        {"dateTime": "03/18/26 00:00:00", "value": {"date": None, "value": 0.0, "error": 0.0}},
        {"dateTime": "03/19/26 00:00:00",
         "value": {"date": "03/19/26", "value": 54.01, "error": 6.78}}])),
    "weight": (GED + "weight-2026-03-18.json", _jackson([
        {"logId": 1773964799000, "weight": 104.9, "bmi": 20.51, "date": "03/19/26",
         "time": "23:59:59", "source": "API"}])),
    "sleep": (GED + "sleep-2026-04-14.json", _jackson(_SLEEP)),
    "height": (GED + "height-2026-03-18.json", _jackson(
        [{"dateTime": "03/19/26 00:00:00", "value": "1524"}])),
    "demographic_vo2_max": (GED + "demographic_vo2_max-2026-04-06.json", _jackson([
        {"dateTime": "04/06/26 00:00:00",
         "value": {"demographicVO2Max": 39.7, "demographicVO2MaxError": 3.0,
                   "filteredDemographicVO2Max": 39.7, "filteredDemographicVO2MaxError": 3.0}}])),
    "exercise": (GED + "exercise-0.json", _jackson(_EXERCISE)),
    "daily_hrv": ("Heart Rate Variability/Daily Heart Rate Variability Summary - 2026-04-(8).csv",
                  b"timestamp,rmssd,nremhr,entropy\n2026-04-09T00:00:00,28.782,68.383,2.334\n"),
    "hrv_details": ("Heart Rate Variability/Heart Rate Variability Details - 2026-04-08.csv",
                    b"timestamp,rmssd,coverage,low_frequency,high_frequency\n"
                    b"2026-04-08T04:35:00,21.625,0.805,203.514,67.693\n"
                    b"2026-04-08T04:40:00,22.1,0.9,200.0,60.5\n"),
    "daily_respiratory_rate": (
        "Heart Rate Variability/Daily Respiratory Rate Summary - 2026-04-08.csv",
        b"timestamp,daily_respiratory_rate\n2026-04-08T00:00:00,16.8\n"),
    "minute_spo2": ("Oxygen Saturation (SpO2)/Minute SpO2 - 2026-04-08.csv",
                    b"timestamp,value\n2026-04-08T07:14:33Z,93.3\n2026-04-08T07:15:33Z,50.0\n"),
    "daily_spo2": ("Oxygen Saturation (SpO2)/Daily SpO2 - 2026-03-19-2026-04-14.csv",
                   b"timestamp,average_value,lower_bound,upper_bound\n"
                   b"2026-04-06T00:00:00Z,90.7,87.3,93.6\n"),
    "active_zone_minutes": ("Active Zone Minutes (AZM)/Active Zone Minutes - 2026-04-01.csv",
                            b"date_time,heart_zone_id,total_minutes\n2026-04-02T13:14,FAT_BURN,1\n"),
    "respiratory_rate_summary": (
        "Heart Rate Variability/Respiratory Rate Summary - 2026-04-01.csv",
        b"timestamp,full_sleep_breathing_rate,full_sleep_standard_deviation,"
        b"full_sleep_signal_to_noise,deep_sleep_breathing_rate,deep_sleep_standard_deviation,"
        b"deep_sleep_signal_to_noise,light_sleep_breathing_rate,light_sleep_standard_deviation,"
        b"light_sleep_signal_to_noise,rem_sleep_breathing_rate,rem_sleep_standard_deviation,"
        b"rem_sleep_signal_to_noise\r\n"
        b"2026-04-06T09:18:00,17.4,1.7,9.075,17.4,1.7,9.075,16.6,1.9,10.648,-1.0,0.0,1.997\r\n"),
}  # fmt: skip


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


_DAY = "2024-03-09"
# legacy kind name → a body of that shape (metric units)
LEGACY: dict[str, bytes] = {
    "activity_time_series": _dumps({"activities-steps": [
        {"dateTime": "2024-03-09", "value": "7428"}, {"dateTime": "2024-03-10", "value": "9846"}]}),
    "activity_intraday": _dumps({
        "activities-steps": [{"dateTime": _DAY, "value": "3"}],
        "activities-steps-intraday": {"dataset": [{"time": "00:00:00", "value": 1},
                                                  {"time": "00:01:00", "value": 2}],
                                      "datasetInterval": 1, "datasetType": "minute"}}),
    "heart_time_series": _dumps({"activities-heart": [{"dateTime": _DAY, "value": {
        "customHeartRateZones": [],
        "heartRateZones": [{"caloriesOut": 2257.6, "max": 92, "min": 30, "minutes": 1264,
                            "name": "Out of Range"},
                           {"caloriesOut": 275.1, "max": 128, "min": 92, "minutes": 38,
                            "name": "Fat Burn"}],
        "restingHeartRate": 51}}]}),
    "heart_intraday": _dumps({
        "activities-heart": [{"dateTime": _DAY, "value": {"restingHeartRate": 59}}],
        "activities-heart-intraday": {"dataset": [{"time": "00:00:00", "value": 58},
                                                  {"time": "00:00:05", "value": 59}],
                                      "datasetInterval": 1, "datasetType": "second"}}),
    "sleep": _dumps({"sleep": [{
        "dateOfSleep": _DAY, "duration": 1200000, "efficiency": 85, "isMainSleep": True,
        "levels": {"summary": {"deep": {"count": 1, "minutes": 15}},
                   "data": [{"dateTime": "2024-03-09T00:00:00.000", "level": "wake",
                             "seconds": 300},
                            {"dateTime": "2024-03-09T00:05:00.000", "level": "deep",
                             "seconds": 900}]},
        "logId": 15040942043, "minutesAfterWakeup": 0, "minutesAsleep": 15, "minutesAwake": 5,
        "minutesToFallAsleep": 0, "startTime": "2024-03-09T00:00:00.000",
        "endTime": "2024-03-09T00:20:00.000", "timeInBed": 20, "type": "stages"}],
        "summary": {"totalMinutesAsleep": 15, "totalSleepRecords": 1, "totalTimeInBed": 20}}),
    "sleep_v1": _dumps({"sleep": [{
        "isMainSleep": True, "logId": 29744, "efficiency": 98,
        "startTime": "2011-06-16T00:00:00.000", "duration": 180000, "minutesToFallAsleep": 0,
        "minutesAsleep": 3, "minutesAwake": 0, "timeInBed": 3,
        "minuteData": [{"dateTime": "00:00:00", "value": "3"},
                       {"dateTime": "00:01:00", "value": "2"},
                       {"dateTime": "00:02:00", "value": "1"}]}],
        "summary": {"totalMinutesAsleep": 3, "totalSleepRecords": 1, "totalTimeInBed": 3}}),
    "hrv_summary": _dumps({"hrv": [{"value": {"dailyRmssd": 34.938, "deepRmssd": 31.567},
                                    "dateTime": _DAY}]}),
    "hrv_intraday": _dumps({"hrv": [{"minutes": [
        {"minute": "2024-03-09T09:10:00.000",
         "value": {"rmssd": 26.617, "coverage": 0.935, "hf": 126.514, "lf": 471.897}}],
        "dateTime": _DAY}]}),
    "spo2_summary": _dumps({"dateTime": _DAY, "value": {"avg": 97.5, "min": 94.0, "max": 100.0}}),
    "spo2_intraday": _dumps({"dateTime": _DAY, "minutes": [
        {"value": 95.7, "minute": "2024-03-09T04:02:17"},
        {"value": 96.1, "minute": "2024-03-09T04:03:17"}]}),
    "breathing_rate": _dumps({"br": [{"value": {"breathingRate": 17.8}, "dateTime": _DAY}]}),
    "cardio_score": _dumps({"cardioScore": [{"dateTime": _DAY, "value": {"vo2Max": "42-46"}}]}),
    "weight": _dumps({"weight": [{"bmi": 23.57, "date": _DAY, "logId": 1330991999000,
                                  "source": "API", "time": "23:59:59", "weight": 73}]}),
    "body_fat": _dumps({"fat": [{"date": _DAY, "fat": 14, "logId": 1330991999000,
                                 "source": "API", "time": "23:59:59"}]}),
}  # fmt: skip

# The tutorials' tables (``fitvault import`` of saved files): name → body.
SAVED: dict[str, tuple[str, bytes]] = {
    "heart_csv": ("heart20240309.csv", b"Time,Heart Rate\n00:00:00,58\n00:00:05,59\n"),
    "sleep_csv": ("sleep20240309.csv",
                  b"Time,State,Interpreted\n23:00:00,2,RESTLESS\n23:01:00,1,ASLEEP\n"),
}  # fmt: skip


@cache
def v4() -> dict[str, bytes]:
    """One small page (up to three points) of every stored v4 type, as the simulator serves it."""
    world = World.default(days=60, seed=7, now=NOW)
    out = {}
    for dtype in catalog.STORED_TYPES:
        if dtype.rollup_only:
            first = (NOW - dt.timedelta(days=3)).date()
            points = v4_data.daily_rollup(world, dtype, first, NOW.date(), 1, False)
            out[dtype.name] = _dumps({"rollupDataPoints": points[:3]})
            continue
        col = v4_data.collection(world, dtype)
        idx = np.arange(len(col.order))[::-1][: 1 if dtype.name == "sleep" else 3]
        rendered = col.render(idx, False) if len(idx) else [_dumps(declared_point(dtype)).decode()]
        out[dtype.name] = ('{"dataPoints":[' + ",".join(rendered) + "]}").encode()
    return out


_SAMPLE = {"DOUBLE": 1.5, "BOOLEAN": True, "VARCHAR": "X", "INTEGER[]": [1, 2]}


def declared_point(dtype: DataType) -> dict[str, Any]:
    """A point built from the declaration alone, for the types the simulated person never
    produces (no glucose meter, thermometer or swims)."""
    t, off = int(NOW.timestamp()) - 3600, -18000
    rec: dict[str, Any] = {"time": [t], "utc_offset_s": [off], "start_time": [t],
                           "end_time": [t + 60], "start_utc_offset_s": [off],
                           "end_utc_offset_s": [off], "date": [NOW.date()]}  # fmt: skip
    payload: dict[str, Any] = render.time_json(dtype.kind, rec, 0)
    element: dict[str, Any] = {}
    for f in dtype.fields:
        value: Any = _SAMPLE.get(f.sql, 1)
        if f.conv is Conv.TIMESTAMP:
            value = t
        elif f.conv is Conv.DATE:
            value = NOW.date()
        elif f.conv is Conv.JSON:
            value = {"x": 1}
        wire = render.encode(value, f.conv)
        if f.path.startswith("*."):
            render.put(element, f.path[2:], wire)
        else:
            render.put(payload, f.path, wire)
    if dtype.explode:
        payload[dtype.explode] = [element]
    return {dtype.camel: payload, "dataSource": {"device": {"displayName": "Pixel Watch 3"}}}
