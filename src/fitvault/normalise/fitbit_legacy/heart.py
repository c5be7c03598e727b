"""Heart rate: the daily time series (resting heart rate, zones) and intraday heart rate.

``datasetType: "second"`` (detail ``1sec``) lists only the seconds with a reading (typically
every 5–15 s): readings → ``heart_rate``. ``"minute"`` with ``datasetInterval`` 1 or 15 is the
mean per minute / quarter hour → ``heart_rate_average``, an interval per value (see the
package doc: resolution stays visible).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.catalog.fitbit_legacy import HEART_RATE_AVERAGE_TABLE
from fitvault.normalise.columns import table
from fitvault.normalise.fitbit_legacy import Out, Rows, has, kind
from fitvault.normalise.fitbit_legacy._common import (
    Context,
    clock_times,
    day_of,
    day_span,
    get,
    number,
    place,
    sources,
)

# Legacy zone names → the v4 zone types (spec v4 "Different model"): the legacy zones start at
# 50 % of heart-rate reserve like MODERATE; "Out of Range" is below every zone.
ZONES = {"Fat Burn": "MODERATE", "Cardio": "VIGOROUS", "Peak": "PEAK"}
_ZONE_ORDER = {"LIGHT": 0, "MODERATE": 1, "VIGOROUS": 2, "PEAK": 3}


def _days(value: dict[str, Any]) -> list[dict[str, Any]]:
    days = value.get("activities-heart") or []
    if not isinstance(days, list):
        raise DataError("activities-heart is not a list")
    return days


def daily(days: list[dict[str, Any]]) -> Rows:
    """``activities-heart`` day objects → resting heart rate and zone rows."""
    rhr: dict[str, list[Any]] = {"date": [], "bpm": []}
    zones: dict[str, list[Any]] = {"date": [], "heart_rate_zone": [], "min_bpm": [], "max_bpm": []}
    for entry in days:
        date = day_of(get(entry, "dateTime"))
        value = entry.get("value")
        # The oldest generation put the zones on the day and a string in `value` (not a
        # resting heart rate: it is never stored).
        body = value if isinstance(value, dict) else entry
        resting = number(body.get("restingHeartRate"))
        if resting:
            rhr["date"].append(date)
            rhr["bpm"].append(round(resting))
        for zone in sorted(
            (z for z in body.get("heartRateZones") or [] if z.get("name") in ZONES),
            key=lambda z: _ZONE_ORDER[ZONES[z["name"]]],
        ):
            zones["date"].append(date)
            zones["heart_rate_zone"].append(ZONES[zone["name"]])
            zones["min_bpm"].append(round(number(get(zone, "min")) or 0))
            zones["max_bpm"].append(round(number(get(zone, "max")) or 0))
    rhr_spec = catalog.RESTING_HEART_RATE_TABLE
    zones_spec = catalog.table_of(catalog.get("daily-heart-rate-zones"))
    return {
        rhr_spec.name: table(rhr_spec, {**rhr, "source": sources(len(rhr["date"]))}),
        zones_spec.name: table(zones_spec, {**zones, "source": sources(len(zones["date"]))}),
    }


# {"activities-heart": [{
#    "dateTime": "2017-08-15",
#    "value": {"customHeartRateZones": [],
#              "heartRateZones": [{"caloriesOut": 2257.6846, "max": 92, "min": 30,
#                                  "minutes": 1264, "name": "Out of Range"},
#                                 {"caloriesOut": 275.189, "max": 128, "min": 92,
#                                  "minutes": 38, "name": "Fat Burn"}, …],
#              "restingHeartRate": 51}}, …]}
@kind(
    "heart_time_series",
    lambda v: has("activities-heart")(v) and "activities-heart-intraday" not in v,
    "daily-resting-heart-rate",
    "daily-heart-rate-zones",
)
def heart_time_series(value: Any, ctx: Context) -> Out:
    return daily(_days(value)), {}


# {"activities-heart": [{"dateTime": "2017-06-29", "value": {…, "restingHeartRate": 59}}],
#  "activities-heart-intraday": {
#    "dataset": [{"time": "00:00:00", "value": 58}, {"time": "00:01:00", "value": 58}, …],
#    "datasetInterval": 1,
#    "datasetType": "minute"}}                        <- "second" for detail-level 1sec
@kind(
    "heart_intraday",
    has("activities-heart-intraday"),
    "heart-rate",
    "heart-rate-average",
    "daily-resting-heart-rate",
    "daily-heart-rate-zones",
)
def heart_intraday(value: Any, ctx: Context) -> Out:
    days = _days(value)
    out = daily(days)
    intraday = get(value, "activities-heart-intraday")
    dataset = get(intraday, "dataset") or []
    first = day_of(get(days[0], "dateTime")) if days else ctx.day
    if first is None:
        if not dataset:
            return out, {}
        raise DataError("intraday heart rate without a date (activities-heart is empty)")
    naive = clock_times(first, [get(p, "time") for p in dataset])
    bpm = [round(number(get(p, "value")) or 0) for p in dataset]
    seconds = _interval_s(intraday)
    at = place(naive, ctx)
    span = day_span(sorted({first, *(t.date() for t in naive)}), ctx)
    if seconds is None:
        spec = catalog.HEART_RATE_TABLE
        cols = {"time": at.instants, "utc_offset_s": at.offsets, "local_date": at.local_dates,
                "bpm": bpm, "source": sources(len(bpm))}  # fmt: skip
        out[spec.name] = table(spec, cols)
        return out, {"heart-rate": span}
    spec = HEART_RATE_AVERAGE_TABLE
    end = pc.add(at.instants, pa.scalar(seconds * 1_000_000, pa.duration("us")))
    cols = {"start_time": at.instants, "end_time": end, "utc_offset_s": at.offsets,
            "local_date": at.local_dates, "bpm": bpm, "source": sources(len(bpm))}  # fmt: skip
    out[spec.name] = table(spec, cols)
    return out, {"heart-rate-average": span}


def _interval_s(intraday: dict[str, Any]) -> int | None:
    """Seconds each value stands for; None for readings (detail ``1sec``)."""
    kind_ = str(intraday.get("datasetType") or "minute").lower()
    if kind_ == "second":
        return None
    try:
        n = int(intraday.get("datasetInterval") or 1)
    except (TypeError, ValueError) as exc:
        raise DataError(f"bad datasetInterval {intraday.get('datasetInterval')!r}") from exc
    return n * (3600 if kind_ == "hour" else 60)


def readings_from_clock(day: dt.date, times: list[str], bpm: list[int], ctx: Context) -> Out:
    """Second-level readings given as ``HH:MM:SS`` + bpm (a tutorial CSV) → ``heart_rate``."""
    naive = clock_times(day, times)
    at = place(naive, ctx)
    spec = catalog.HEART_RATE_TABLE
    cols = {"time": at.instants, "utc_offset_s": at.offsets, "local_date": at.local_dates,
            "bpm": bpm, "source": sources(len(bpm))}  # fmt: skip
    span = day_span(sorted({day, *(t.date() for t in naive)}), ctx)
    return {spec.name: table(spec, cols)}, {"heart-rate": span}
