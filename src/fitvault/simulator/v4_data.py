"""The world's data as Google Health API v4 JSON: point rendering, paging and roll-ups.

Pure functions of the world: no HTTP here. Each stored type becomes a ``Collection`` whose
points are ordered by a key (newest first on the wire) and filtered on physical or civil time.
Heart-rate pages are rendered from arrays straight to JSON text because they are most of the
bytes the API serves.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
import numpy as np

from fitvault._time import format_duration
from fitvault.catalog import DataType, RecordKind
from fitvault.simulator import render, rollups
from fitvault.simulator.filters import Filter, bounds
from fitvault.simulator.model import I64, SleepSession
from fitvault.simulator.world import World
from fitvault.simulator.world import reconciled as reconciled_stream
from fitvault.simulator.world._base import WATCH, take

DAY = 86_400
MAX_OFFSET = 14 * 3600  # civil bounds may sit this far from physical ones
FAR = 1 << 62


@cache
def _date_json(days: int) -> str:
    d = dt.date(1970, 1, 1) + dt.timedelta(days=days)
    return f'{{"year":{d.year},"month":{d.month},"day":{d.day}}}'


@cache
def _time_json(sod: int) -> str:
    """TimeOfDay with zero fields omitted (midnight renders as ``{}``)."""
    h, rem = divmod(sod, 3600)
    m, s = divmod(rem, 60)
    parts = [f'"{k}":{v}' for k, v in (("hours", h), ("minutes", m), ("seconds", s)) if v]
    return "{" + ",".join(parts) + "}"


def civil_json(t: int, offset: int) -> str:
    local = t + offset
    return f'{{"date":{_date_json(local // DAY)},"time":{_time_json(local % DAY)}}}'


def date_dict(d: dt.date) -> dict[str, int]:
    return {"year": d.year, "month": d.month, "day": d.day}


def iso(t: np.ndarray) -> list[str]:
    return [s + "Z" for s in np.datetime_as_string(t.astype("datetime64[s]"), unit="s").tolist()]


def iso1(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Collection:
    """One data type's points as served: ``order`` ascending and unique (the cursor axis)."""

    dtype: DataType
    order: I64  # seconds (days for daily types)
    phys: I64  # compared with physical filter literals (seconds)
    civil: I64  # compared with civil literals (local seconds; days*86400 for daily)
    render: Callable[[np.ndarray, bool], list[str]]  # indices (newest first), reconciled?
    scan_limit: int  # how much of the order axis one request examines
    lower_slack: int = 0  # order may precede phys by up to this much (sessions)
    ties: int = 1  # order = axis value × ties + rank among points at the same instant
    ids: dict[str, int] | None = None  # point id → index, for identifiable types


def _source_json(device: str, method: str) -> str:
    return (
        f'"dataSource":{{"recordingMethod":"{method}","device":{{"displayName":"{device}"}},'
        '"platform":"FITBIT"}'
    )


def heart_rate_collection(world: World, dtype: DataType) -> Collection:
    hr = world.heart_rate()
    t, bpm, off = hr.t, hr.bpm, hr.offset_s
    source = _source_json(world.person.device, "PASSIVELY_MEASURED")

    def render(idx: np.ndarray, reconciled: bool) -> list[str]:
        head = "{" if reconciled else "{" + source + ","
        ts, bs, os_ = t[idx], bpm[idx].tolist(), off[idx].tolist()
        out = []
        for pt, t_i, b, o in zip(iso(ts), ts.tolist(), bs, os_, strict=True):
            out.append(
                f'{head}"heartRate":{{"sampleTime":{{"physicalTime":"{pt}","utcOffset":"{o}s",'
                f'"civilTime":{civil_json(t_i, o)}}},"beatsPerMinute":"{b}"}}}}'
            )
        return out

    local = t + off
    return Collection(dtype, t, t, local, render, scan_limit=DAY // 2)


def _stage_json(start: int, end: int, off: int, stage: str, stamp: str | None) -> dict[str, Any]:
    out = {
        "startTime": iso1(start),
        "startUtcOffset": format_duration(off),
        "endTime": iso1(end),
        "endUtcOffset": format_duration(off),
        "type": stage,
    }
    if stamp:
        out["createTime"] = out["updateTime"] = stamp
    return out


def sleep_json(world: World, s: SleepSession) -> dict[str, Any]:
    """One sleep session as a ``Sleep`` message (summary computed like the service does)."""
    created = iso1(s.created_s)
    minutes = s.minutes_by_stage
    stages = [
        _stage_json(st.start_s, st.end_s, world.offset_at(st.start_s), st.stage, created)
        for st in s.stages
    ]
    asleep_stages = ("LIGHT", "DEEP", "REM") if s.sleep_type == "STAGES" else ("ASLEEP",)
    first_asleep = next((st.start_s for st in s.stages if st.stage in asleep_stages), s.end_s)
    last_asleep = max((st.end_s for st in s.stages if st.stage in asleep_stages), default=s.end_s)
    counts: dict[str, int] = {}
    for st in s.stages:
        counts[st.stage] = counts.get(st.stage, 0) + 1
    order = (
        ("AWAKE", "LIGHT", "DEEP", "REM")
        if s.sleep_type == "STAGES"
        else ("AWAKE", "RESTLESS", "ASLEEP")
    )
    summary = {
        "minutesInSleepPeriod": str((s.end_s - s.start_s) // 60),
        "minutesAfterWakeUp": str((s.end_s - last_asleep) // 60),
        "minutesToFallAsleep": str((first_asleep - s.start_s) // 60),
        "minutesAsleep": str(sum(minutes.get(k, 0) for k in asleep_stages)),
        "minutesAwake": str(minutes.get("AWAKE", 0)),
        "stagesSummary": [
            {"type": k, "minutes": str(minutes.get(k, 0)), "count": str(counts.get(k, 0))}
            for k in order
            if k in counts
        ],
    }
    metadata: dict[str, Any] = {
        "stagesStatus": "SUCCEEDED" if s.sleep_type == "STAGES" else "REJECTED_NAP",
        "processed": True,
    }
    if s.main_sleep:
        metadata["mainSleep"] = True
    if s.nap:
        metadata["nap"] = True
    return {
        "interval": {
            "startTime": iso1(s.start_s),
            "startUtcOffset": format_duration(s.start_offset_s),
            "endTime": iso1(s.end_s),
            "endUtcOffset": format_duration(s.end_offset_s),
        },
        "type": s.sleep_type,
        "stages": stages,
        "metadata": metadata,
        "summary": summary,
        "createTime": created,
        "updateTime": iso1(s.updated_s),
    }


def point_name(world: World, dtype: DataType, point_id: int) -> str:
    return f"users/{world.person.health_user_id}/dataTypes/{dtype.name}/dataPoints/{point_id}"


def sleep_collection(world: World, dtype: DataType) -> Collection:
    sessions = world.sleep()
    start = np.array([s.start_s for s in sessions], dtype=np.int64)
    end = np.array([s.end_s for s in sessions], dtype=np.int64)
    end_off = np.array([s.end_offset_s for s in sessions], dtype=np.int64)
    source = msgspec.json.decode(
        ("{" + _source_json(world.person.device, "DERIVED") + "}").encode()
    )["dataSource"]

    def render(idx: np.ndarray, reconciled: bool) -> list[str]:
        out = []
        for i in idx.tolist():
            s = sessions[i]
            name = point_name(world, dtype, s.id)
            point: dict[str, Any] = (
                {"dataPointName": name} if reconciled else {"name": name, "dataSource": source}
            )
            point["sleep"] = sleep_json(world, s)
            out.append(msgspec.json.encode(point).decode())
        return out

    return Collection(
        dtype, start, end, end + end_off, render, scan_limit=400 * DAY, lower_slack=2 * DAY
    )


BUILDERS: dict[str, Callable[[World, DataType], Collection]] = {
    "heart-rate": heart_rate_collection,
    "sleep": sleep_collection,
}
# How much of the order axis (seconds; days for daily types) one list request examines: about
# what a page can hold, so a dense type gives full pages and a sparse stretch an empty page
# that still carries a token, as the live API does.
SCAN_LIMIT: dict[str, int] = {
    "heart-rate": DAY // 2,  # ~6-17 k samples
    "steps": 31 * DAY,
    "distance": 31 * DAY,
    "active-energy-burned": 14 * DAY,
    "basal-energy-burned": 7 * DAY,  # every worn minute: ~1 300 a day
    "activity-level": 7 * DAY,
    "active-minutes": 31 * DAY,
    "active-zone-minutes": 31 * DAY,
    "time-in-heart-rate-zone": 31 * DAY,
    "sedentary-period": 62 * DAY,
    "oxygen-saturation": 14 * DAY,  # ~480 a night
    "heart-rate-variability": 62 * DAY,
}
DEFAULT_SCAN = 400 * DAY  # sparse samples and sessions; daily types: 10 000 days
DAILY_SCAN = 10_000


def _empty(dtype: DataType) -> Collection:
    nothing = np.zeros(0, dtype=np.int64)
    return Collection(dtype, nothing, nothing, nothing, lambda idx, rec: [], scan_limit=FAR)


def collection(
    world: World, dtype: DataType, reconciled: bool = False, wearables: bool = False
) -> Collection:
    """The world's points of a type: the reconciled stream for ``reconciled``, only the watch's
    points for ``wearables`` (family google-wearables: no phone, scale or manual entries)."""
    build = BUILDERS.get(dtype.name)
    if build:
        return build(world, dtype)  # heart rate and sleep come from the watch alone
    if not dtype.stored or dtype.rollup_only:
        return _empty(dtype)
    return generic_collection(world, dtype, reconciled, wearables)


def watch_only(rec: Any) -> Any:
    """The rows the watch recorded (the google-wearables data source family)."""
    device = rec.get("device")
    if device is None or not len(device):
        return rec
    keep = np.flatnonzero(np.array([d == WATCH for d in device], dtype=bool))
    return rec if keep.size == len(device) else take(rec, keep)


def _ranks(key: np.ndarray) -> np.ndarray:
    """0, 1, … among equal consecutive keys (keys ascending)."""
    if not key.size:
        return key
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    run = np.repeat(starts, np.diff(np.append(starts, key.size)))
    out: np.ndarray = np.arange(key.size) - run
    return out


def generic_collection(
    world: World, dtype: DataType, reconciled: bool, wearables: bool = False
) -> Collection:
    """Any type's records rendered by walking the catalog (see ``render``)."""
    rec = world.records(dtype.name)
    if reconciled:
        rec = reconcile_records(rec)
    if wearables:
        rec = watch_only(rec)
    children = {c.table: world.child_records(dtype.name, c.table) for c in dtype.children}
    ids: dict[str, int] = {}

    def name_of(p: int) -> str:
        return point_name(world, dtype, int(pid[p]))

    pr = render.PointRenderer(dtype, rec, children, name_of if dtype.identifiable else None)
    pid = np.array(
        [
            render.point_id(world.seed, dtype, int(k), d)
            for k, d in zip(pr.key, pr.devices, strict=True)
        ]
        if dtype.identifiable
        else [],
        dtype=np.int64,
    )
    ids = {str(x): i for i, x in enumerate(pid.tolist())}
    ties = 4
    ranks = _ranks(pr.key)
    assert not ranks.size or ranks.max() < ties, f"{dtype.name}: too many points at one instant"
    order = pr.key * ties + ranks
    daily = dtype.kind is RecordKind.DAILY
    if daily:
        phys = civil_axis = pr.key * DAY
    else:
        off_col = "start_utc_offset_s" if dtype.kind is RecordKind.SESSION else "utc_offset_s"
        phys = pr.key
        civil_axis = pr.key + np.asarray(rec[off_col], dtype=np.int64)[pr.first]

    def render_json(idx: np.ndarray, recon: bool) -> list[str]:
        return [msgspec.json.encode(pr.point(int(i), recon)).decode() for i in idx.tolist()]

    scan = DAILY_SCAN if daily else SCAN_LIMIT.get(dtype.name, DEFAULT_SCAN)
    return Collection(
        dtype, order, phys, civil_axis, render_json, scan_limit=scan, ties=ties, ids=ids
    )


def reconcile_records(rec: Any) -> Any:
    return reconciled_stream(rec)


# --- paging -------------------------------------------------------------------------------


def _to_axis(value: object, civil: bool, daily: bool) -> int:
    """A filter literal on the whole-seconds axis the collection compares with.

    Rounding up keeps both comparisons exact for whole-second data: t >= x ⇔ t >= ⌈x⌉ and
    t < x ⇔ t < ⌈x⌉.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return math.ceil(value.timestamp())
    assert isinstance(value, dt.date)
    return (value - dt.date(1970, 1, 1)).days * DAY


def select(
    col: Collection, flt: Filter | None, page_size: int, cursor: int | None
) -> tuple[np.ndarray, int | None]:
    """Indices of one page, newest first, and the next cursor (None = done).

    The server examines at most ``scan_limit`` of the order axis per request, so sparse
    stretches give short or empty pages that still carry a token; a full page always carries
    a token (no look-ahead), so the last page of an exact multiple is ``{}``.
    """
    daily = col.dtype.kind is RecordKind.DAILY
    groups = flt.groups if flt else ((),)
    civil = bool(flt and flt.civil)
    lo_axis, hi_axis = FAR, -FAR
    for group in groups:
        lo, hi = bounds(group)
        lo_s = _to_axis(lo, civil, daily) if lo is not None else -FAR
        hi_s = _to_axis(hi, civil, daily) if hi is not None else FAR
        slack = MAX_OFFSET if civil else 0
        lo_axis = min(lo_axis, lo_s - slack - col.lower_slack)
        hi_axis = max(hi_axis, hi_s + slack)
    scale = DAY if daily else 1
    lo_order = max(lo_axis // scale, -FAR) * col.ties if lo_axis > -FAR else -FAR
    hi_order = -(-hi_axis // scale) * col.ties if hi_axis < FAR else FAR
    upper = min(cursor if cursor is not None else FAR, hi_order)
    if upper >= FAR:
        upper = int(col.order[-1]) + 1 if len(col.order) else 0
    scan_lo = max(upper - col.scan_limit * col.ties, lo_order)
    a, b = np.searchsorted(col.order, [scan_lo, upper], side="left")
    idx = np.arange(b - 1, a - 1, -1)
    if flt is not None and len(idx):
        values = col.civil[idx] if civil else col.phys[idx]
        mask = np.zeros(len(idx), dtype=bool)
        for group in groups:
            lo, hi = bounds(group)
            m = np.ones(len(idx), dtype=bool)
            if lo is not None:
                m &= values >= _to_axis(lo, civil, daily)
            if hi is not None:
                m &= values < _to_axis(hi, civil, daily)
            mask |= m
        idx = idx[mask]
    if len(idx) >= page_size:
        idx = idx[:page_size]
        return idx, int(col.order[idx[-1]])
    if scan_lo > lo_order and scan_lo > (int(col.order[0]) if len(col.order) else FAR):
        return idx, scan_lo
    return idx, None


def page_body(fragments: Sequence[str], token: str | None, key: str = "dataPoints") -> bytes:
    """Assemble a page; proto3 JSON omits an empty list and an empty token (``{}``)."""
    parts = []
    if fragments:
        parts.append(f'"{key}":[' + ",".join(fragments) + "]")
    if token:
        parts.append(f'"nextPageToken":"{token}"')
    return ("{" + ",".join(parts) + "}").encode()


def make_token(cursor: int, binding: str) -> str:
    raw = msgspec.json.encode({"c": cursor, "b": binding})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token: str, binding: str) -> int:
    """The cursor in a page token; ValueError if malformed or minted for other parameters."""
    try:
        data = msgspec.json.decode(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, msgspec.DecodeError) as exc:
        raise ValueError("malformed page token") from exc
    if not isinstance(data, dict) or data.get("b") != binding or not isinstance(data.get("c"), int):
        raise ValueError("page token does not match the request parameters")
    return int(data["c"])


def binding(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


# --- roll-ups ------------------------------------------------------------------------------


def rollup(
    world: World, dtype: DataType, start: int, end: int, window: float, wearables: bool = False
) -> list[dict[str, Any]]:
    """Physical-time buckets from ``start``; the last one truncated; empty buckets omitted."""
    rec = world.rollup_source(dtype.name)
    rec = watch_only(rec) if wearables else rec
    t, _ = rollups.source_times(rec)
    a, b = np.searchsorted(t, [start, end])
    rows = np.arange(a, b)
    bucket = ((t[a:b] - start) // window).astype(np.int64)
    value = rollups.VALUES[dtype.name]
    out = []
    for k in np.unique(bucket)[::-1].tolist():
        lo = start + k * window
        hi = min(lo + window, end)
        out.append(
            {
                "startTime": iso1(int(lo)),
                "endTime": iso1(int(hi)),
                dtype.camel: value(rec, rows[bucket == k]),
            }
        )
    return out


def daily_rollup(
    world: World,
    dtype: DataType,
    first: dt.date,
    end: dt.date,
    window_days: int,
    wearables: bool = False,
) -> list[dict[str, Any]]:
    """Civil-day buckets in each point's own offset, [first, end), newest first."""
    rec = world.rollup_source(dtype.name)
    rec = watch_only(rec) if wearables else rec
    t, off = rollups.source_times(rec)
    local_day = (t + off) // DAY
    d0 = (first - dt.date(1970, 1, 1)).days
    d1 = (end - dt.date(1970, 1, 1)).days
    rows = np.flatnonzero((local_day >= d0) & (local_day < d1))
    bucket = (local_day[rows] - d0) // window_days
    value = rollups.VALUES[dtype.name]
    out = []
    for k in np.unique(bucket)[::-1].tolist():
        lo = first + dt.timedelta(days=k * window_days)
        hi = min(lo + dt.timedelta(days=window_days), end)
        out.append(
            {
                "civilStartTime": {"date": date_dict(lo), "time": {}},
                "civilEndTime": {"date": date_dict(hi), "time": {}},
                dtype.camel: value(rec, rows[bucket == k]),
            }
        )
    return out
