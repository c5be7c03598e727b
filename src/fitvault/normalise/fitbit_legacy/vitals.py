"""HRV, SpO2, breathing rate, temperature, cardio fitness, weight and body-fat logs, and the
profile (spec A10–A12). Daily summaries describe the main sleep that ended on the date; the
intraday minutes are local times."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.normalise.columns import table
from fitvault.normalise.fitbit_legacy import SKIPPED, Out, Rows, has, kind
from fitvault.normalise.fitbit_legacy._common import (
    Context,
    day_of,
    decode,
    get,
    local_time,
    number,
    place,
    sources,
)


def _spec(data_type: str) -> catalog.Table:
    return catalog.table_of(catalog.get(data_type))


def _list(value: Any, key: str) -> list[dict[str, Any]]:
    items = value.get(key) if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DataError(f"{key} is not a list of objects")
    return items


def _daily(data_type: str, days: list[Any], columns: dict[str, list[Any]]) -> Rows:
    spec = _spec(data_type)
    return {spec.name: table(spec, {"date": days, **columns, "source": sources(len(days))})}


def _samples(data_type: str, naive: list[dt.datetime], ctx: Context, **columns: Any) -> Rows:
    spec = _spec(data_type)
    at = place(naive, ctx)
    cols = {"time": at.instants, "utc_offset_s": at.offsets, "local_date": at.local_dates,
            **columns, "source": sources(len(naive))}  # fmt: skip
    return {spec.name: table(spec, cols)}


def _entries_with(key: str, member: str) -> Any:
    """A test: ``{key: [{…, member: …}, …]}``."""
    return lambda v: (
        has(key)(v) and isinstance(v[key], list) and all(
            isinstance(i, dict) and member in i for i in v[key])
    )  # fmt: skip


# {"hrv": [{"value": {"dailyRmssd": 34.938, "deepRmssd": 31.567}, "dateTime": "2021-10-25"}]}
@kind("hrv_summary", _entries_with("hrv", "value"), "daily-heart-rate-variability")
def hrv_summary(value: Any, ctx: Context) -> Out:
    items = _list(value, "hrv")
    return _daily(
        "daily-heart-rate-variability",
        [day_of(get(i, "dateTime")) for i in items],
        {"avg_rmssd_ms": [number(get(i, "value").get("dailyRmssd")) for i in items],
         "deep_sleep_rmssd_ms": [number(get(i, "value").get("deepRmssd")) for i in items]},
    ), {}  # fmt: skip


# {"hrv": [{"minutes": [{"minute": "2021-10-25T09:10:00.000",
#                        "value": {"rmssd": 26.617, "coverage": 0.935, "hf": 126.514,
#                                  "lf": 471.897}}, …],
#           "dateTime": "2021-10-25"}]}                  <- 5-minute windows, local times
@kind("hrv_intraday", _entries_with("hrv", "minutes"), "heart-rate-variability")
def hrv_intraday(value: Any, ctx: Context) -> Out:
    minutes = [m for day in _list(value, "hrv") for m in _list(day, "minutes")]
    values = [get(m, "value") for m in minutes]
    return _samples(
        "heart-rate-variability",
        [local_time(get(m, "minute")) for m in minutes],
        ctx,
        rmssd_ms=[number(v.get("rmssd")) for v in values],
        hf_power=[number(v.get("hf")) for v in values],
        lf_power=[number(v.get("lf")) for v in values],
    ), {}


def _spo2_days(value: Any, member: str) -> list[dict[str, Any]] | None:
    """SpO2 bodies are one day object (by date) or a bare array of them (by interval)."""
    items = value if isinstance(value, list) else [value]
    ok = bool(items) and all(
        isinstance(i, dict) and "dateTime" in i and member in i and len(i) <= 3 for i in items
    )
    return items if ok else None


def _is_spo2_summary(value: Any) -> bool:
    items = _spo2_days(value, "value")
    return items is not None and all(
        isinstance(i["value"], dict) and "avg" in i["value"] for i in items
    )


# {"dateTime": "2021-10-04", "value": {"avg": 97.5, "min": 94.0, "max": 100.0}}
# (by interval: a bare array of these)
@kind("spo2_summary", _is_spo2_summary, "daily-oxygen-saturation")
def spo2_summary(value: Any, ctx: Context) -> Out:
    items = _spo2_days(value, "value") or []
    values = [i["value"] for i in items]
    return _daily(
        "daily-oxygen-saturation",
        [day_of(i["dateTime"]) for i in items],
        {"avg_percent": [number(v.get("avg")) for v in values],
         "lower_bound_percent": [number(v.get("min")) for v in values],
         "upper_bound_percent": [number(v.get("max")) for v in values]},
    ), {}  # fmt: skip


# {"dateTime": "2021-10-04",
#  "minutes": [{"value": 95.7, "minute": "2021-10-04T04:02:17"}, …]}   <- local times
# (by interval: a bare array of these)
@kind("spo2_intraday", lambda v: _spo2_days(v, "minutes") is not None, "oxygen-saturation")
def spo2_intraday(value: Any, ctx: Context) -> Out:
    minutes = [m for day in _spo2_days(value, "minutes") or [] for m in _list(day, "minutes")]
    return _samples(
        "oxygen-saturation",
        [local_time(get(m, "minute")) for m in minutes],
        ctx,
        percent=[number(get(m, "value")) for m in minutes],
    ), {}


def _rate(summary: Any) -> float | None:
    """A breathing rate; ``-1`` means not available."""
    rate = number((summary or {}).get("breathingRate"))
    return None if rate is None or rate < 0 else rate


# {"br": [{"value": {"breathingRate": 17.8}, "dateTime": "2021-10-25"}]}
# intraday: {"br": [{"value": {"deepSleepSummary": {"breathingRate": 16.8},
#                              "remSleepSummary": {"breathingRate": -1},
#                              "fullSleepSummary": {"breathingRate": 17.8}, …},
#                    "dateTime": "2021-10-25"}]}
@kind("breathing_rate", _entries_with("br", "value"), "daily-respiratory-rate")
def breathing_rate(value: Any, ctx: Context) -> Out:
    """The per-stage rates of the intraday form carry no time of day, which v4's
    ``respiratory_rate_sleep_summary`` needs; its full-sleep rate is the daily one."""
    items = _list(value, "br")
    rates = []
    for i in items:
        v = get(i, "value")
        rates.append(_rate(v) if "breathingRate" in v else _rate(v.get("fullSleepSummary")))
    return _daily(
        "daily-respiratory-rate",
        [day_of(get(i, "dateTime")) for i in items],
        {"breaths_per_minute": rates},
    ), {}


_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")


# {"cardioScore": [{"dateTime": "2023-10-15", "value": {"vo2Max": "42-46"}}]}
@kind("cardio_score", _entries_with("cardioScore", "value"), "daily-vo2-max")
def cardio_score(value: Any, ctx: Context) -> Out:
    """A range (``"42-46"``, no GPS runs to measure it) is stored as its middle with
    ``estimated`` true; a single number (measured on GPS runs) with ``estimated`` false."""
    items = _list(value, "cardioScore")
    vo2: list[float | None] = []
    estimated: list[bool] = []
    for i in items:
        raw = get(i, "value").get("vo2Max")
        m = _RANGE.match(str(raw)) if isinstance(raw, str) else None
        if m:
            vo2.append((float(m[1]) + float(m[2])) / 2)
            estimated.append(True)
        else:
            vo2.append(number(raw))
            estimated.append(False)
    return _daily(
        "daily-vo2-max",
        [day_of(get(i, "dateTime")) for i in items],
        {"vo2_max": vo2, "estimated": estimated},
    ), {}


def _logged_at(items: list[dict[str, Any]]) -> list[dt.datetime]:
    """``date`` + ``time`` of a body log (no time: the API's default, the day's last second)."""
    return [local_time(f"{get(i, 'date')}T{i.get('time') or '23:59:59'}") for i in items]


# {"weight": [{"bmi": 23.57, "date": "2012-03-05", "logId": 1330991999000,
#              "source": "API", "time": "23:59:59", "weight": 73}, …]}   <- kg (metric)
@kind("weight", _entries_with("weight", "weight"), "weight")
def weight(value: Any, ctx: Context) -> Out:
    items = _list(value, "weight")
    factor = ctx.grams_per_weight_unit
    grams = [None if (w := number(get(i, "weight"))) is None else round(w * factor, 1)
             for i in items]  # fmt: skip
    return _samples(
        "weight", _logged_at(items), ctx, grams=grams, device=[i.get("source") for i in items]
    ), {}


# {"fat": [{"date": "2012-03-05", "fat": 14, "logId": 1330991999000, "source": "API",
#           "time": "23:59:59"}, …]}
@kind("body_fat", _entries_with("fat", "fat"), "body-fat")
def body_fat(value: Any, ctx: Context) -> Out:
    items = _list(value, "fat")
    return _samples(
        "body-fat",
        _logged_at(items),
        ctx,
        percent=[number(get(i, "fat")) for i in items],
        device=[i.get("source") for i in items],
    ), {}


def _is_profile(value: Any) -> bool:
    return has("user")(value) and isinstance(value["user"], dict) and "timezone" in value["user"]


# { "user": { "displayName": "Adam", "locale": "en_GB", "memberSince": "2014-01-06",
#             "offsetFromUTCMillis": -25200000, "timezone": "Europe/London", … } }
def profile_zone(body: bytes | str | Any) -> str | None:
    """The IANA zone of a ``profile.json`` body (``{"user": {"timezone": …}}``), else None."""
    try:
        value = decode(body)
    except DataError:
        return None
    if not _is_profile(value):
        return None
    return str(value["user"]["timezone"]) or None


SKIPPED.extend(
    [
        (_is_profile, "profile: read for the time zone"),
        (has("errors"), "an API error response, not data"),
        (
            lambda v: isinstance(v, list) and bool(v) and all(
                isinstance(i, dict) and "deviceVersion" in i for i in v),
            "device list: no table",
        ),
        (has("tempSkin"), "skin temperature relative to a baseline the API does not give: "
                          "no column holds it"),
        (has("activities-active-zone-minutes"),
         "active zone minutes per day: the table holds them per minute"),
        (has("summary", "goals"), "daily activity summary: its totals come from the time series"),
    ]
)  # fmt: skip
