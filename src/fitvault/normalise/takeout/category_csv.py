"""Per-category CSV folders (spec B4): Heart Rate Variability, Oxygen Saturation (SpO2), Active
Zone Minutes (AZM).

Time zones (spec B7): HRV details, the daily HRV / respiratory summaries and AZM are **local**
times without a zone; Minute SpO2 is **UTC** (``…Z``); Daily SpO2's ``T00:00:00Z`` is a civil
date, and so is the daily summaries' midnight.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fitvault import catalog
from fitvault.normalise.columns import table
from fitvault.normalise.takeout import family
from fitvault.normalise.takeout._common import (
    SOURCE,
    Context,
    csv_rows,
    field,
    iso_local,
    local_dates,
    local_rows,
    number,
    offsets_at,
    utc_iso,
)

SPO2_INVALID = 50.0  # the device's floor for a reading it could not make (~15 % of rows)


def _spec(name: str) -> catalog.Table:
    return catalog.table_of(catalog.get(name))


def _numbers(rows: list[dict[str, str]], column: str) -> list[float | None]:
    return [number(field(r, column)) for r in rows]


def _dates(rows: list[dict[str, str]], column: str) -> list[Any]:
    return [iso_local(field(r, column).rstrip("Z")).date() for r in rows]


# timestamp,rmssd,nremhr,entropy
# 2026-04-09T00:00:00,28.782,68.383,2.334
# (file "… - 2026-04-(8).csv" holds the night ending 04-09; the 1st is "… - 2026-04-.csv")
@family(
    "daily_hrv",
    r"^Heart Rate Variability/Daily Heart Rate Variability Summary - [^/]*\.csv$",
    "daily-heart-rate-variability",
    "date",
)
def daily_hrv(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    rows = csv_rows(body)
    spec = _spec("daily-heart-rate-variability")
    nrem = [None if v is None else round(v) for v in _numbers(rows, "nremhr")]
    cols = {"date": _dates(rows, "timestamp"), "avg_rmssd_ms": _numbers(rows, "rmssd"),
            "non_rem_bpm": nrem, "entropy": _numbers(rows, "entropy"),
            "source": [SOURCE] * len(rows)}  # fmt: skip
    return {spec.name: table(spec, cols)}


# timestamp,rmssd,coverage,low_frequency,high_frequency
# 2026-04-08T04:35:00,21.625,0.805,203.514,67.693       <- local (08:35Z for an EDT user)
@family(
    "hrv_details",
    r"^Heart Rate Variability/Heart Rate Variability Details - [^/]*\.csv$",
    "heart-rate-variability",
    "local",
)
def hrv_details(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    rows = csv_rows(body)
    times, offs, days = local_rows(rows, "timestamp", ctx, iso_local)
    spec = _spec("heart-rate-variability")
    cols = {"time": times, "utc_offset_s": offs, "local_date": days,
            "rmssd_ms": _numbers(rows, "rmssd"), "lf_power": _numbers(rows, "low_frequency"),
            "hf_power": _numbers(rows, "high_frequency"),
            "source": [SOURCE] * len(rows)}  # fmt: skip
    return {spec.name: table(spec, cols)}


# timestamp,daily_respiratory_rate
# 2026-04-08T00:00:00,16.8
@family(
    "daily_respiratory_rate",
    r"^Heart Rate Variability/Daily Respiratory Rate Summary - [^/]*\.csv$",
    "daily-respiratory-rate",
    "date",
)
def daily_respiratory_rate(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    rows = csv_rows(body)
    spec = _spec("daily-respiratory-rate")
    cols = {"date": _dates(rows, "timestamp"),
            "breaths_per_minute": _numbers(rows, "daily_respiratory_rate"),
            "source": [SOURCE] * len(rows)}  # fmt: skip
    return {spec.name: table(spec, cols)}


# timestamp,value
# 2026-04-08T07:14:33Z,93.3                               <- UTC; 50.0 = no valid reading
@family("minute_spo2", r"^Oxygen Saturation \(SpO2\)/Minute SpO2 - [^/]*\.csv$",
        "oxygen-saturation", "UTC")  # fmt: skip
def minute_spo2(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    rows = [r for r in csv_rows(body) if number(field(r, "value")) != SPO2_INVALID]
    times = utc_iso([field(r, "timestamp") for r in rows])
    offs = offsets_at(times, ctx.zone)
    spec = _spec("oxygen-saturation")
    cols = {"time": times, "utc_offset_s": offs, "local_date": local_dates(times, offs),
            "percent": _numbers(rows, "value"), "source": [SOURCE] * len(rows)}  # fmt: skip
    return {spec.name: table(spec, cols)}


# timestamp,average_value,lower_bound,upper_bound
# 2026-04-06T00:00:00Z,90.7,87.3,93.6                     <- a civil date despite the Z
@family("daily_spo2", r"^Oxygen Saturation \(SpO2\)/Daily SpO2 - [^/]*\.csv$",
        "daily-oxygen-saturation", "date")  # fmt: skip
def daily_spo2(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    rows = csv_rows(body)
    spec = _spec("daily-oxygen-saturation")
    cols = {"date": _dates(rows, "timestamp"), "avg_percent": _numbers(rows, "average_value"),
            "lower_bound_percent": _numbers(rows, "lower_bound"),
            "upper_bound_percent": _numbers(rows, "upper_bound"),
            "source": [SOURCE] * len(rows)}  # fmt: skip
    return {spec.name: table(spec, cols)}


# date_time,heart_zone_id,total_minutes
# 2026-04-02T13:14,FAT_BURN,1                            <- local (17:14Z for an EDT user)
@family(
    "active_zone_minutes",
    r"^Active Zone Minutes \(AZM\)/Active Zone Minutes - [^/]*\.csv$",
    "active-zone-minutes",
    "local",
)
def active_zone_minutes(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    rows = csv_rows(body)
    start, offs, days = local_rows(rows, "date_time", ctx, iso_local)
    minutes = [int(field(r, "total_minutes")) for r in rows]
    spec = _spec("active-zone-minutes")
    minute = pa.scalar(60_000_000, pa.duration("us"))  # built here: a module-level one loads pandas
    cols = {"start_time": start, "end_time": pc.add(start, minute), "utc_offset_s": offs,
            "local_date": days, "minutes": minutes,
            "heart_rate_zone": [field(r, "heart_zone_id") for r in rows],
            "source": [SOURCE] * len(rows)}  # fmt: skip
    return {spec.name: table(spec, cols)}


_STAGES = ("full", "deep", "light", "rem")


# timestamp,full_sleep_breathing_rate,full_sleep_standard_deviation,full_sleep_signal_to_noise,
#   deep_sleep_…,light_sleep_…,rem_sleep_… (the same three for each stage)
# 2026-04-06T09:18:00,17.4,1.7,9.075,17.4,1.7,9.075,16.6,1.9,10.648,-1.0,0.0,1.997
#   <- local (the night's end); -1.0 = no estimate for that stage: the stage's values are null
@family(
    "respiratory_rate_summary",
    r"^Heart Rate Variability/Respiratory Rate Summary - [^/]*\.csv$",
    "respiratory-rate-sleep-summary",
    "local",
)
def respiratory_rate_summary(body: bytes, ctx: Context) -> dict[str, pa.Table]:
    rows = csv_rows(body)
    times, offs, days = local_rows(rows, "timestamp", ctx, iso_local)
    cols: dict[str, Any] = {"time": times, "utc_offset_s": offs, "local_date": days,
                            "source": [SOURCE] * len(rows)}  # fmt: skip
    for stage in _STAGES:
        rate = _numbers(rows, f"{stage}_sleep_breathing_rate")
        missing = [r is None or r < 0 for r in rate]
        for ours, theirs in (("breaths_per_minute", "breathing_rate"),
                             ("std_dev", "standard_deviation"),
                             ("signal_to_noise", "signal_to_noise")):  # fmt: skip
            values = _numbers(rows, f"{stage}_sleep_{theirs}")
            cols[f"{stage}_{ours}"] = [
                None if m else v for m, v in zip(missing, values, strict=True)
            ]
    spec = _spec("respiratory-rate-sleep-summary")
    return {spec.name: table(spec, cols)}
