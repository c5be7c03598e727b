"""Any type's records as v4 DataPoint JSON, driven by the catalog's field paths and conv.

A record (one row of ``World.records``) becomes the payload under the type's union key: the
time container of its record kind, every field at its dotted path with the wire encoding its
``conv`` names, explode arrays rebuilt from consecutive rows of one point, child arrays from
``World.child_records``. Absent values (None) are omitted, as proto3 JSON omits unset fields;
a NaN double is the string ``"NaN"``. Interval types carry civil start/end times and samples a
civil time; sessions carry none (as live exercise and sleep show).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from fitvault._time import format_duration
from fitvault.catalog import Child, Conv, DataType, Field, RecordKind
from fitvault.simulator.world._base import PHONE, SCALE, WATCH, Records, _stable_int

DAY = 86_400
FORM_FACTOR = {WATCH: "WATCH", PHONE: "PHONE", SCALE: "SCALE"}
# How each type's points were recorded (the rest: PASSIVELY_MEASURED).
METHOD = {
    "exercise": "ACTIVELY_MEASURED",
    "electrocardiogram": "ACTIVELY_MEASURED",
    "weight": "ACTIVELY_MEASURED",
    "body-fat": "ACTIVELY_MEASURED",
    "height": "MANUAL",
    "hydration-log": "MANUAL",
    "nutrition-log": "MANUAL",
}
DERIVED_KINDS = (RecordKind.DAILY,)
DERIVED_TYPES = ("active-minutes", "active-zone-minutes", "activity-level", "sedentary-period",
                 "time-in-heart-rate-zone", "respiratory-rate-sleep-summary", "run-vo2-max",
                 "vo2-max", "irregular-rhythm-notification")  # fmt: skip


def civil(t: int, offset: int) -> dict[str, Any]:
    """CivilDateTime of instant t in the offset; zero TimeOfDay fields omitted."""
    local = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=t + offset)
    tod = {k: v for k, v in (("hours", local.hour), ("minutes", local.minute),
                             ("seconds", local.second)) if v}  # fmt: skip
    return {"date": {"year": local.year, "month": local.month, "day": local.day}, "time": tod}


def iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode(value: Any, conv: Conv) -> Any:
    """A column value as the wire shows it (None stays None: omitted)."""
    if value is None:
        return None
    if conv is Conv.INT64:
        return str(int(value))
    if conv is Conv.TIMESTAMP:
        return iso(int(value))
    if conv in (Conv.OFFSET, Conv.DURATION):
        return format_duration(float(value)) if conv is Conv.DURATION else f"{int(value)}s"
    if conv is Conv.DATE:
        return {"year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def put(target: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, creating the messages on the way; None is not set."""
    if value is None:
        return
    *heads, last = path.split(".")
    for head in heads:
        target = target.setdefault(head, {})
    target[last] = value


def _fields_json(
    fields: tuple[Field, ...], rec: Records, i: int, prefix: str = ""
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.path.startswith("*.") != bool(prefix):
            continue
        column = rec.get(f.column)
        if column is None:
            continue
        put(out, f.path.removeprefix(prefix), encode(column[i], f.conv))
    return out


def time_json(kind: RecordKind, rec: Records, i: int) -> dict[str, Any]:
    if kind is RecordKind.DAILY:
        return {"date": encode(rec["date"][i], Conv.DATE)}
    if kind is RecordKind.SAMPLE:
        t, off = int(rec["time"][i]), int(rec["utc_offset_s"][i])
        return {"sampleTime": {"physicalTime": iso(t), "utcOffset": f"{off}s",
                               "civilTime": civil(t, off)}}  # fmt: skip
    a, b = int(rec["start_time"][i]), int(rec["end_time"][i])
    if kind is RecordKind.INTERVAL:
        off = int(rec["utc_offset_s"][i])
        return {"interval": {"startTime": iso(a), "startUtcOffset": f"{off}s", "endTime": iso(b),
                             "endUtcOffset": f"{off}s", "civilStartTime": civil(a, off),
                             "civilEndTime": civil(b, off)}}  # fmt: skip
    so, eo = int(rec["start_utc_offset_s"][i]), int(rec["end_utc_offset_s"][i])
    return {"interval": {"startTime": iso(a), "startUtcOffset": f"{so}s", "endTime": iso(b),
                         "endUtcOffset": f"{eo}s"}}  # fmt: skip


def child_json(child: Child, rec: Records, i: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in child.fields:
        column = rec.get(f.column)
        if column is not None:
            put(out, f.path, encode(column[i], f.conv))
    return out


def source_json(dtype: DataType, device: str | None, platform: str | None) -> dict[str, Any]:
    method = METHOD.get(dtype.name) or (
        "DERIVED"
        if dtype.kind in DERIVED_KINDS or dtype.name in DERIVED_TYPES
        else "PASSIVELY_MEASURED"
    )
    out: dict[str, Any] = {"recordingMethod": method}
    if device:
        out["device"] = {"displayName": device}
        if dtype.kind is RecordKind.SESSION and device in FORM_FACTOR:
            out["device"]["formFactor"] = FORM_FACTOR[device]
    if platform:
        out["platform"] = platform
    return out


def time_key(kind: RecordKind, rec: Records) -> np.ndarray:
    """The point's key on the ordering axis: epoch seconds, or days for daily types."""
    if kind is RecordKind.DAILY:
        return np.array([(d - dt.date(1970, 1, 1)).days for d in rec["date"]], dtype=np.int64)
    return np.asarray(rec["time" if kind is RecordKind.SAMPLE else "start_time"], dtype=np.int64)


def point_id(seed: int, dtype: DataType, key: int, device: str | None) -> int:
    return _stable_int(seed, dtype.name, key, device)


class PointRenderer:
    """Renders the points of one type's records; a point is a run of rows (explode) or a row."""

    def __init__(
        self,
        dtype: DataType,
        rec: Records,
        children: dict[str, Records],
        name_of: Callable[[int], str] | None,
    ) -> None:
        self.dtype, self.rec, self.name_of = dtype, rec, name_of
        key = time_key(dtype.kind, rec)
        devices = rec.get("device")
        devices = [None] * key.size if devices is None else devices
        if dtype.explode and key.size:
            change = np.ones(key.size, dtype=bool)
            change[1:] = (key[1:] != key[:-1]) | np.array(
                [a != b for a, b in zip(devices[1:], devices[:-1], strict=True)], dtype=bool
            )
            self.first = np.flatnonzero(change)
        else:
            self.first = np.arange(key.size)
        self.stop = np.append(self.first[1:], key.size).astype(np.int64)
        self.key = key[self.first]
        self.devices = [devices[i] for i in self.first.tolist()]
        self.children = {
            c.path: (c, children[c.table], np.asarray(children[c.table]["session_start"]))
            for c in dtype.children
        }

    def __len__(self) -> int:
        return int(self.first.size)

    def payload(self, p: int) -> dict[str, Any]:
        dtype, rec, i = self.dtype, self.rec, int(self.first[p])
        out = time_json(dtype.kind, rec, i)
        out |= _fields_json(dtype.fields, rec, i)
        if dtype.explode:
            items = [_fields_json(dtype.fields, rec, j, "*.") for j in range(i, int(self.stop[p]))]
            out[dtype.explode] = items
        start = int(self.key[p])
        for path, (child, crec, starts) in self.children.items():
            a, b = np.searchsorted(starts, [start, start + 1])
            items = [child_json(child, crec, j) for j in range(int(a), int(b))]
            if items:
                out[path] = items
        return out

    def point(self, p: int, reconciled: bool) -> dict[str, Any]:
        dtype, i = self.dtype, int(self.first[p])
        out: dict[str, Any] = {}
        if self.name_of is not None:
            out["dataPointName" if reconciled else "name"] = self.name_of(p)
        if not reconciled:
            platform = self.rec.get("platform")
            out["dataSource"] = source_json(
                dtype, self.devices[p], platform[i] if platform is not None else None
            )
        out[dtype.camel] = self.payload(p)
        return out
