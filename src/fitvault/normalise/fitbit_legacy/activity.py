"""Activity time series (``activities-<resource>``: one value per day, as strings) and their
intraday forms (``activities-<resource>-intraday``: one value per minute or quarter hour).

Where each resource lands, in the v4 tables' units (spec A8; distance in km or miles and
elevation in m or ft by the unit system):

=====================  ==========================  ==========================================
resource               per day                     intraday
=====================  ==========================  ==========================================
steps                  ``steps`` (a day interval)  ``steps`` (intervals)
distance               ``distance`` (day, mm)      ``distance`` (intervals, mm)
elevation              ``altitude`` (day, mm)      ``altitude`` (intervals, mm)
floors                 ``floors`` (per date)       the day's total → ``floors``
calories               ``total_calories`` (date)   the day's total → ``total_calories``
caloriesBMR            ``basal_energy_burned``     –
activityCalories       ``active_energy_burned``    –
minutesLightlyActive   ``active_minutes`` LIGHT    –
minutesFairlyActive    ``active_minutes`` MODERATE –
minutesVeryActive      ``active_minutes`` VIGOROUS –
=====================  ==========================  ==========================================

Calories and floors are per day because that is how the v4 tables keep them (roll-up only);
their per-minute detail has no table. ``tracker/<resource>`` bodies
(``activities-tracker-steps``) are read the same way. ``minutesSedentary`` has no table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.normalise.columns import table
from fitvault.normalise.fitbit_legacy import SKIPPED, Out, Rows, kind
from fitvault.normalise.fitbit_legacy._common import (
    Context,
    clock_times,
    day_of,
    day_span,
    get,
    number,
    place,
    resolve,
    sources,
)


@dataclass(frozen=True)
class Resource:
    data_type: str
    column: str
    scale: Callable[[Context], float]  # wire unit → the table's unit
    integer: bool
    extra: dict[str, str]  # constant columns (active_minutes' activity_level)
    intraday: bool  # the intraday form has a table of its own (not only the day's total)


def _one(ctx: Context) -> float:
    return 1.0


def _distance(ctx: Context) -> float:
    return ctx.mm_per_distance_unit


def _elevation(ctx: Context) -> float:
    return ctx.mm_per_elevation_unit


RESOURCES: dict[str, Resource] = {
    "steps": Resource("steps", "count", _one, True, {}, True),
    "distance": Resource("distance", "distance_mm", _distance, True, {}, True),
    "elevation": Resource("altitude", "gain_mm", _elevation, True, {}, True),
    "floors": Resource("floors", "floors", _one, True, {}, False),
    "calories": Resource("total-calories", "kcal", _one, False, {}, False),
    "caloriesBMR": Resource("basal-energy-burned", "kcal", _one, False, {}, False),
    "activityCalories": Resource("active-energy-burned", "kcal", _one, False, {}, False),
    "minutesLightlyActive": Resource(
        "active-minutes", "minutes", _one, True, {"activity_level": "LIGHT"}, False
    ),
    "minutesFairlyActive": Resource(
        "active-minutes", "minutes", _one, True, {"activity_level": "MODERATE"}, False
    ),
    "minutesVeryActive": Resource(
        "active-minutes", "minutes", _one, True, {"activity_level": "VIGOROUS"}, False
    ),
}


def _resource(value: Any) -> tuple[str, str] | None:
    """(resource, body key) of an ``activities-<resource>`` body with one series."""
    if not isinstance(value, dict):
        return None
    keys = [k for k in value if isinstance(k, str) and k.startswith("activities-")]
    series = [k for k in keys if not k.endswith("-intraday")]
    if len(series) != 1:
        return None
    name = series[0].removeprefix("activities-").removeprefix("tracker-")
    return (name, series[0]) if name in RESOURCES else None


def _is_series(value: Any) -> bool:
    found = _resource(value)
    return found is not None and f"{found[1]}-intraday" not in value


def _is_intraday(value: Any) -> bool:
    found = _resource(value)
    return found is not None and f"{found[1]}-intraday" in value


SKIPPED.append(
    (
        lambda v: (
            isinstance(v, dict)
            and any(str(k).startswith("activities-") and "minutesSedentary" in str(k) for k in v)
        ),
        "sedentary minutes: the vault has no table for them (sedentary-period holds intervals)",
    )
)


def _value(raw: Any, res: Resource, ctx: Context) -> float | int | None:
    x = number(raw)
    if x is None:
        return None
    scaled = x * res.scale(ctx)
    return round(scaled) if res.integer else scaled


def _per_day(entries: list[Any], res: Resource, ctx: Context) -> Rows:
    """One row per ``{dateTime, value}``: per date for a daily table, else a local day."""
    dtype = catalog.get(res.data_type)
    spec = catalog.table_of(dtype)
    days = [day_of(get(e, "dateTime")) for e in entries]
    values = [_value(get(e, "value"), res, ctx) for e in entries]
    cols: dict[str, Any] = {res.column: values, "source": sources(len(days))}
    cols |= {k: [v] * len(days) for k, v in res.extra.items()}
    if dtype.record_kind is catalog.RecordKind.DAILY:
        return {spec.name: table(spec, {**cols, "date": days})}
    tz = ctx.tz
    starts = [resolve(dt.datetime.combine(d, dt.time()), tz) for d in days]
    ends = [resolve(dt.datetime.combine(d + dt.timedelta(days=1), dt.time()), tz)[0] for d in days]
    cols |= {"start_time": [s for s, _ in starts], "end_time": ends,
             "utc_offset_s": [o for _, o in starts], "local_date": days}  # fmt: skip
    return {spec.name: table(spec, cols)}


def _entries(value: Any, key: str) -> list[Any]:
    entries = value.get(key) or []
    if not isinstance(entries, list):
        raise DataError(f"{key} is not a list")
    return entries


# {"activities-steps": [{"dateTime": "2014-09-04", "value": "7428"},
#                       {"dateTime": "2014-09-05", "value": "9846"}, …]}
# {"activities-distance": [{"dateTime": "2014-08-12", "value": "1.0"}, …]}   <- km (metric)
@kind(
    "activity_time_series",
    _is_series,
    *dict.fromkeys(r.data_type for r in RESOURCES.values()),
)
def activity_time_series(value: Any, ctx: Context) -> Out:
    found = _resource(value)
    assert found is not None  # the kind's test
    res = RESOURCES[found[0]]
    rows = _per_day(_entries(value, found[1]), res, ctx)
    # A day's total replaces nothing: where the day's intraday rows exist they are the truth.
    daily = catalog.get(res.data_type).record_kind is catalog.RecordKind.DAILY
    return rows, ({} if daily else {res.data_type: None})


# {"activities-steps": [{"dateTime": "2016-03-08", "value": "7390"}],
#  "activities-steps-intraday": {
#    "dataset": [{"time": "00:00:00", "value": 1}, {"time": "00:01:00", "value": 2}, …],
#    "datasetInterval": 1, "datasetType": "minute"}}
# {"activities-calories-intraday": {"dataset": [{"level": 0, "mets": 10, "time": "00:00:00",
#                                                "value": 1.1857000589370728}, …], …}}
@kind(
    "activity_intraday",
    _is_intraday,
    *dict.fromkeys(r.data_type for r in RESOURCES.values()),
)
def activity_intraday(value: Any, ctx: Context) -> Out:
    found = _resource(value)
    assert found is not None
    name, key = found
    res = RESOURCES[name]
    entries = _entries(value, key)
    if not res.intraday:
        return _per_day(entries, res, ctx), {}
    intraday = get(value, f"{key}-intraday")
    dataset = get(intraday, "dataset") or []
    first = day_of(get(entries[0], "dateTime")) if entries else ctx.day
    if first is None:
        if not dataset:
            return {}, {}
        raise DataError(f"intraday {name} without a date ({key} is empty)")
    naive = clock_times(first, [get(p, "time") for p in dataset])
    minutes = int(intraday.get("datasetInterval") or 1)
    if str(intraday.get("datasetType") or "minute").lower() == "hour":
        minutes *= 60
    at = place(naive, ctx)
    spec = catalog.table_of(catalog.get(res.data_type))
    cols = {"start_time": at.instants,
            "end_time": pc.add(at.instants, pa.scalar(minutes * 60_000_000, pa.duration("us"))),
            "utc_offset_s": at.offsets, "local_date": at.local_dates,
            res.column: [_value(get(p, "value"), res, ctx) for p in dataset],
            "source": sources(len(naive))}  # fmt: skip
    span = day_span(sorted({first, *(t.date() for t in naive)}), ctx)
    return {spec.name: table(spec, cols)}, {res.data_type: span}
