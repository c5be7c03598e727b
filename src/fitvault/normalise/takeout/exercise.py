"""``Global Export Data/exercise-N.json``: exercise logs, 100 a file (spec B3).

``startTime`` and ``lastModified`` are ``MM/DD/YY HH:MM:SS`` in **UTC** (spec B7: checked
against ``UserExercises.exercise_start …+0000``); the end is the start plus ``duration`` (ms).
Distance and speed are in the account's unit (``distanceUnit``: ``Mile`` or ``Kilometer``),
``pace`` is seconds per that unit and ``speed`` that unit per hour. Heart-rate zone minutes
use the old names (Out of Range / Fat Burn / Cardio / Peak), which do not match the API's
light / moderate / vigorous / peak zones, so the zone-time columns stay empty.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.normalise.columns import table
from fitvault.normalise.takeout import family
from fitvault.normalise.takeout._common import (
    SOURCE,
    Context,
    field,
    json_array,
    local_dates,
    number,
    offsets_at,
    utc_mdy,
)

MM_PER_UNIT = {"mile": 1_609_344.0, "kilometer": 1_000_000.0, "km": 1_000_000.0}
TYPES = {"walk": "WALKING", "run": "RUNNING", "bike": "BIKING", "outdoor bike": "BIKING",
         "weights": "WEIGHTLIFTING", "swim": "SWIMMING_POOL", "yoga": "YOGA", "hiit": "HIIT",
         "hike": "HIKING", "treadmill": "TREADMILL", "elliptical": "ELLIPTICAL",
         "strength training": "STRENGTH_TRAINING"}  # fmt: skip


# [{
#   "logId" : 76131899133,
#   "activityName" : "Walk",
#   "averageHeartRate" : 96, "calories" : 61,
#   "distance" : 0.329802, "distanceUnit" : "Mile",
#   "duration" : 1338000, "activeDuration" : 1338000, "steps" : 879,
#   "source" : { "type" : "tracker", "name" : "Inspire 3", … },
#   "activeZoneMinutes" : { "totalMinutes" : 0, … },
#   "speed" : 0.8927004484304933, "pace" : 4032.707731164874,
#   "lastModified" : "04/06/26 14:05:09",
#   "startTime" : "04/06/26 13:42:42",          <- UTC
#   "elevationGain" : 0.0, "hasGps" : false, …
# },{
@family("exercise", r"(^|/)exercise-\d+\.json$", "exercise", "UTC")
def exercise(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    logs = [log for log in json_array(body) if isinstance(log, dict)]
    start = utc_mdy([str(field(log, "startTime")) for log in logs])
    try:
        ms = [int(field(log, "duration")) for log in logs]
    except (TypeError, ValueError) as exc:
        raise DataError(f"exercise: bad duration ({exc})") from exc
    end = pc.add(start, pa.array([m * 1000 for m in ms], pa.int64()).cast(pa.duration("us")))
    start_off, end_off = offsets_at(start, ctx.zone), offsets_at(end, ctx.zone)
    shift = pc.multiply(start_off.cast(pa.int64()), 1_000_000).cast(pa.duration("us"))
    local_start = pc.add(start, shift).cast(pa.timestamp("us"))
    cols: dict[str, Any] = {
        "start_time": start, "end_time": end, "start_utc_offset_s": start_off,
        "end_utc_offset_s": end_off, "local_start_time": local_start,
        "local_date": local_dates(start, start_off),
        "updated_at": utc_mdy([str(log.get("lastModified") or field(log, "startTime"))
                               for log in logs]),
        "source": [SOURCE] * len(logs),
    }  # fmt: skip
    rows = [_row(log) for log in logs]
    for name in rows[0] if rows else ():
        cols[name] = [r[name] for r in rows]
    spec = catalog.table_of(catalog.get("exercise"))
    return {spec.name: table(spec, cols)}


def _row(log: dict[str, Any]) -> dict[str, Any]:
    name = str(log.get("activityName") or "")
    unit = str(log.get("distanceUnit") or "").lower()
    per_unit = MM_PER_UNIT.get(unit)
    distance, speed, pace = (number(log.get(k)) for k in ("distance", "speed", "pace"))
    if per_unit is None and distance:
        raise DataError(f"exercise {log.get('logId')}: unknown distance unit {unit!r}")
    azm = log.get("activeZoneMinutes")
    source = log.get("source")
    active_ms = number(log.get("activeDuration"))
    return {
        "exercise_type": TYPES.get(name.lower(), "OTHER"),
        "display_name": name or None,
        "active_duration_s": None if active_ms is None else active_ms / 1000,
        "calories_kcal": number(log.get("calories")),
        "distance_mm": None if distance is None or per_unit is None else distance * per_unit,
        "steps": log.get("steps"),
        "avg_heart_rate_bpm": log.get("averageHeartRate"),
        "active_zone_minutes": azm.get("totalMinutes") if isinstance(azm, dict) else None,
        "avg_pace_s_per_m": None if not pace or per_unit is None else pace / (per_unit / 1000),
        "avg_speed_mm_per_s": None if speed is None or per_unit is None
        else speed * per_unit / 3600,
        "has_gps": log.get("hasGps"),
        "device": source.get("name") if isinstance(source, dict) else None,
    }  # fmt: skip
