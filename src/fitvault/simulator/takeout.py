"""Write the synthetic world as a Google Takeout / Fitbit export zip.

The files follow the real export's shapes and time conventions (spec B3, B7): Jackson-style
pretty-printed JSON; heart rate, steps and distance ``MM/DD/YY HH:MM:SS`` in UTC, one heart-rate
file per *local* day, 30-day chunks for steps, distance and sleep (sleep newest first, local
times without offset), one resting-heart-rate file with a no-data day (``date: null``), and a
``Profile.csv`` naming the person's zone. Only the wearable's data is exported (the phone's
Health Connect steps are not in a Fitbit export).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fitvault.simulator.model import SleepSession
from fitvault.simulator.world import World

# The layout names (spec B1): the mid-2026 root, the 2023–mid-2026 one, the ≤2020 one.
LAYOUTS = {
    "2026": ("Takeout/Google Health/", "Global Export Data/", "Your Profile/Profile.csv"),
    "2024": ("Takeout/Fitbit/", "Global Export Data/", "Your Profile/Profile.csv"),
    "legacy": ("MyFitbitData/{name}/", "user-site-export/", "Personal & Account/Profile.csv"),
}
ALIASES = {"google-health": "2026", "fitbit": "2024", "2020": "legacy"}  # earlier names
CHUNK_DAYS = 30
_MDY = "%m/%d/%y %H:%M:%S"
_LEVEL = {"AWAKE": "wake", "LIGHT": "light", "DEEP": "deep", "REM": "rem",
          "ASLEEP": "asleep", "RESTLESS": "restless"}  # fmt: skip


def jackson(records: Iterable[dict[str, Any]]) -> bytes:
    """The export's serialisation: ``[{\\n  "k" : v,\\n …},{…}]``, no trailing newline."""
    return ("[" + ",".join(_obj(r, 0) for r in records) + "]").encode()


def _obj(value: Any, depth: int) -> str:
    pad = "  " * (depth + 1)
    if isinstance(value, dict):
        inner = ",\n".join(f'{pad}"{k}" : {_obj(v, depth + 1)}' for k, v in value.items())
        return "{\n" + inner + "\n" + "  " * depth + "}"
    if isinstance(value, list):
        return "[" + ",".join(_obj(v, depth) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _utc(t: int) -> str:
    return dt.datetime.fromtimestamp(int(t), dt.UTC).strftime(_MDY)


def _local(t: int, offset_s: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(t) + int(offset_s), dt.UTC).replace(tzinfo=None)


def layout_names() -> list[str]:
    return [*LAYOUTS, *ALIASES]


def write_archive(world: World, out_zip: str | Path, layout: str = "2026") -> Path:
    """Write ``world`` as a Takeout zip in ``layout`` (``2026``, ``2024``, ``legacy``; the
    earlier names ``google-health``, ``fitbit``, ``2020`` too)."""
    layout = ALIASES.get(layout, layout)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; one of {', '.join(layout_names())}")
    root, data_dir, profile = LAYOUTS[layout]
    root = root.format(name=world.person.display_name.replace(" ", ""))
    out = Path(out_zip)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(root + profile, _profile(world))
        for name, body in _files(world):
            zf.writestr(root + data_dir + name, body)
    return out


def _profile(world: World) -> str:
    p = world.person
    return (
        "id,full_name,timezone,weight_unit,member_since\r\n"
        f"{p.legacy_user_id},{p.display_name},{world.home_zone},POUND,{p.membership_start}\r\n"
    )


def _files(world: World) -> Iterator[tuple[str, bytes]]:
    yield from _heart_rate(world)
    yield from _chunked(world, "steps", "count", 1)
    yield from _chunked(world, "distance", "distance_mm", 0.1)  # the export writes centimetres
    yield from _sleep(world)
    yield from _resting(world)


# One heart-rate record exactly as ``jackson`` writes it, assembled column-wise in Arrow: five
# years of 5 s readings are ~31 M records, too many to format one Python dict at a time.
_HR_HEAD = '{\n  "dateTime" : "'
_HR_MID = '",\n  "value" : {\n    "bpm" : '
_HR_TAIL = ',\n    "confidence" : 2\n  }\n}'


def heart_rate_file(t: np.ndarray, bpm: np.ndarray) -> bytes:
    """A ``heart_rate-*.json`` body for instants ``t`` (epoch s) and ``bpm``, as ``jackson``."""
    stamps = pc.strftime(pa.array(np.asarray(t, np.int64), pa.timestamp("s")), _MDY)
    values = pa.array(np.asarray(bpm, np.int64)).cast(pa.string())
    records = pc.binary_join_element_wise(_HR_HEAD, stamps, _HR_MID, values, _HR_TAIL, "")
    return ("[" + ",".join(records.to_pylist()) + "]").encode()


def _heart_rate(world: World) -> Iterator[tuple[str, bytes]]:
    hr = world.heart_rate()
    local_day = (hr.t + hr.offset_s) // 86_400
    cuts = np.flatnonzero(np.diff(local_day)) + 1  # readings are ascending, so are local days
    for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(local_day)], strict=True):
        if hi > lo:
            name = f"heart_rate-{dt.date.fromordinal(719_163 + int(local_day[lo]))}.json"
            yield name, heart_rate_file(hr.t[lo:hi], hr.bpm[lo:hi])


def _chunk_start(world: World, day: dt.date) -> dt.date:
    return world.start + dt.timedelta(days=(day - world.start).days // CHUNK_DAYS * CHUNK_DAYS)


def _chunked(
    world: World, type_name: str, column: str, scale: float
) -> Iterator[tuple[str, bytes]]:
    rec = world.records(type_name)
    chunks: dict[dt.date, list[dict[str, Any]]] = {}
    for i, device in enumerate(rec["device"]):
        if device != world.person.device:
            continue
        t, off = int(rec["start_time"][i]), int(rec["utc_offset_s"][i])
        value = float(rec[column][i]) * scale
        text = str(int(value)) if value == int(value) else f"{value:g}"
        chunk = _chunk_start(world, _local(t, off).date())
        chunks.setdefault(chunk, []).append({"dateTime": _utc(t), "value": text})
    for start, records in sorted(chunks.items()):
        yield f"{type_name}-{start}.json", jackson(records)


def _sleep(world: World) -> Iterator[tuple[str, bytes]]:
    chunks: dict[dt.date, list[dict[str, Any]]] = {}
    for s in world.sleep():
        chunk = _chunk_start(world, _local(s.end_s, s.end_offset_s).date())
        chunks.setdefault(chunk, []).append(_sleep_log(world, s))
    for start, logs in sorted(chunks.items()):
        yield f"sleep-{start}.json", jackson(reversed(logs))  # newest first, as exported


def _iso_local(t: int, offset_s: int) -> str:
    return _local(t, offset_s).strftime("%Y-%m-%dT%H:%M:%S.000")


def _sleep_log(world: World, s: SleepSession) -> dict[str, Any]:
    by_stage = s.minutes_by_stage
    asleep = sum(m for st, m in by_stage.items() if st not in ("AWAKE",))
    stages = s.sleep_type == "STAGES"
    data = [
        {"dateTime": _iso_local(st.start_s, world.offset_at(st.start_s)),
         "level": _LEVEL[st.stage] if stages or st.stage != "AWAKE" else "awake",
         "seconds": st.end_s - st.start_s}
        for st in s.stages
    ]  # fmt: skip
    summary = {
        _LEVEL[st]: {"count": sum(1 for x in s.stages if x.stage == st), "minutes": m}
        for st, m in by_stage.items()
    }
    end_local = _local(s.end_s, s.end_offset_s)
    return {
        "logId": s.id % 10**11,
        "dateOfSleep": end_local.date().isoformat(),
        "startTime": _iso_local(s.start_s, s.start_offset_s),
        "endTime": end_local.strftime("%Y-%m-%dT%H:%M:%S.000"),
        "duration": (s.end_s - s.start_s) * 1000,
        "minutesToFallAsleep": 0,
        "minutesAsleep": asleep,
        "minutesAwake": by_stage.get("AWAKE", 0),
        "minutesAfterWakeup": 0,
        "timeInBed": (s.end_s - s.start_s) // 60,
        "efficiency": 90,
        "type": "stages" if stages else "classic",
        "infoCode": 0,
        "logType": "auto_detected",
        "levels": {"summary": summary, "data": data, "shortData": []},
        "mainSleep": s.main_sleep,
    }


def _resting(world: World) -> Iterator[tuple[str, bytes]]:
    rec = world.records("daily-resting-heart-rate")
    days = {d: int(b) for d, b in zip(rec["date"], rec["bpm"], strict=True)}
    first, last = world.start, world.last
    records = []
    for n in range((last - first).days + 1):
        d = first + dt.timedelta(days=n)
        stamp = f"{d:%m/%d/%y} 00:00:00"
        if d in days:
            value = {"date": f"{d:%m/%d/%y}", "value": days[d] + 0.0, "error": 6.5}
        else:  # a day without a resting heart rate, as the export writes it
            value = {"date": None, "value": 0.0, "error": 0.0}
        records.append({"dateTime": stamp, "value": value})
    yield f"resting_heart_rate-{first}.json", jackson(records)
