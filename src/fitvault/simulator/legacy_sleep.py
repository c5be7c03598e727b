"""Sleep logs of the legacy API, v1.2 (stages / classic) and the deprecated v1 (``minuteData``).

A log is the World's sleep session, so the same night has the same stages as on the v4 face:
``levels.data`` holds the stages with every wake of at most 3 minutes between two sleep stages
folded into the stage before it, and ``levels.shortData`` lists those short wakes, which overlay
``data`` (spec A9). Laying ``shortData`` over ``data`` gives back the session's stages exactly.
Naps are ``classic`` (asleep / restless / awake, no ``shortData``), as the world marks them.
``dateOfSleep`` is the local date the sleep ended; times are local without an offset; ``logId``
is the one the Takeout face writes. Facts: spec A9; samples ``GetSleep*.json``.
"""

from __future__ import annotations

import bisect
import datetime as dt
from functools import cached_property
from typing import Any

from fitvault.simulator.legacy_wire import iso_local, local
from fitvault.simulator.model import SleepSession
from fitvault.simulator.world import World

SHORT_WAKE_S = 180
STAGE_LEVEL = {"AWAKE": "wake", "LIGHT": "light", "DEEP": "deep", "REM": "rem"}
CLASSIC_LEVEL = {"AWAKE": "awake", "RESTLESS": "restless", "ASLEEP": "asleep"}
V1_VALUE = {"ASLEEP": "1", "LIGHT": "1", "DEEP": "1", "REM": "1", "RESTLESS": "2", "AWAKE": "3"}


def log_id(s: SleepSession) -> int:
    """Fitbit's 11-digit log id; the Takeout face derives the same one."""
    return s.id % 10**11


def end_date(s: SleepSession) -> dt.date:
    return local(s.end_s, s.end_offset_s).date()


class LegacySleep:
    def __init__(self, world: World) -> None:
        self.world = world

    @cached_property
    def by_date(self) -> dict[dt.date, list[SleepSession]]:
        out: dict[dt.date, list[SleepSession]] = {}
        for s in self.world.sleep():
            out.setdefault(end_date(s), []).append(s)
        return out

    def logs(self, dates: list[dt.date]) -> list[dict[str, Any]]:
        """Every log ending on one of ``dates``, in start order."""
        return [self.log(s) for d in dates for s in self.by_date.get(d, [])]

    def listed(self, bound: dt.date, before: bool) -> list[dict[str, Any]]:
        """Logs ending before ``bound`` (newest first) or after it (oldest first)."""
        sessions = [
            s
            for d, day in sorted(self.by_date.items())
            for s in day
            if (d < bound if before else d > bound)
        ]
        return [self.log(s) for s in (sessions[::-1] if before else sessions)]

    def day(self, d: dt.date) -> dict[str, Any]:
        """``sleep/date/{date}.json``: the date's logs and the top-level summary."""
        sessions = self.by_date.get(d, [])
        logs = [self.log(s) for s in sessions]
        summary: dict[str, Any] = {}
        staged = [lg for lg in logs if lg["type"] == "stages"]
        if staged:
            summary["stages"] = {
                k: sum(lg["levels"]["summary"][k]["minutes"] for lg in staged)
                for k in ("deep", "light", "rem", "wake")
            }
        summary["totalMinutesAsleep"] = sum(lg["minutesAsleep"] for lg in logs)
        summary["totalSleepRecords"] = len(logs)
        summary["totalTimeInBed"] = sum(lg["timeInBed"] for lg in logs)
        return {"sleep": logs, "summary": summary}

    @cached_property
    def _thirty_day_avg(self) -> dict[int, dict[str, int]]:
        """Per main sleep: each stage's mean minutes over the main sleeps of the 30 days before."""
        mains = [s for s in self.world.sleep() if s.main_sleep and s.sleep_type == "STAGES"]
        ends = [end_date(s).toordinal() for s in mains]  # ascending, as sessions are
        totals = {k: [0] for k in STAGE_LEVEL}  # running sums, so each window costs O(1)
        for s in mains:
            for k, run in totals.items():
                run.append(run[-1] + s.minutes_by_stage.get(k, 0))
        out: dict[int, dict[str, int]] = {}
        for i, s in enumerate(mains):
            lo = bisect.bisect_left(ends, ends[i] - 30)
            hi = bisect.bisect_left(ends, ends[i])
            n = hi - lo
            out[s.id] = {
                STAGE_LEVEL[k]: round((run[hi] - run[lo]) / n) if n else 0
                for k, run in totals.items()
            }
        return out

    def log(self, s: SleepSession) -> dict[str, Any]:
        stages = s.sleep_type == "STAGES"
        by_stage = s.minutes_by_stage
        awake = by_stage.get("AWAKE", 0)
        asleep = sum(m for k, m in by_stage.items() if k not in ("AWAKE", "RESTLESS"))
        in_bed = (s.end_s - s.start_s) // 60
        out: dict[str, Any] = {
            "dateOfSleep": end_date(s).isoformat(),
            "duration": (s.end_s - s.start_s) * 1000,
            "efficiency": round(100 * asleep / in_bed) if in_bed else 0,
            "endTime": iso_local(s.end_s, s.end_offset_s),
            "infoCode": 0 if stages else 2,  # 2: too short for stages (naps)
            "isMainSleep": s.main_sleep,
            "levels": self._stages_levels(s) if stages else self._classic_levels(s),
            "logId": log_id(s),
            "logType": "auto_detected",
            # Auto-detected stage logs carry 0 here; the wake at both ends is in minutesAwake.
            "minutesAfterWakeup": 0,
            "minutesAsleep": asleep if stages else by_stage.get("ASLEEP", 0),
            "minutesAwake": awake if stages else awake + by_stage.get("RESTLESS", 0),
            "minutesToFallAsleep": 0,
            "startTime": iso_local(s.start_s, s.start_offset_s),
            "timeInBed": in_bed,
            "type": "stages" if stages else "classic",
        }
        return out

    def _entry(self, start: int, seconds: int, level: str) -> dict[str, Any]:
        return {
            "dateTime": iso_local(start, self.world.offset_at(start)),
            "level": level,
            "seconds": seconds,
        }

    def _stages_levels(self, s: SleepSession) -> dict[str, Any]:
        data: list[dict[str, Any]] = []
        short: list[dict[str, Any]] = []
        last = len(s.stages) - 1
        for i, st in enumerate(s.stages):
            seconds, level = st.end_s - st.start_s, STAGE_LEVEL[st.stage]
            if st.stage == "AWAKE" and seconds <= SHORT_WAKE_S and 0 < i < last and data:
                short.append(self._entry(st.start_s, seconds, "wake"))
                data[-1]["seconds"] += seconds  # the stage before runs on under the short wake
            elif data and data[-1]["level"] == level:
                data[-1]["seconds"] += seconds  # the same stage resumes after a short wake
            else:
                data.append(self._entry(st.start_s, seconds, level))
        avg = self._thirty_day_avg.get(s.id, {})
        summary = {
            level: {
                "count": sum(1 for st in s.stages if st.stage == stage),
                "minutes": s.minutes_by_stage.get(stage, 0),
                "thirtyDayAvgMinutes": avg.get(level, 0),
            }
            for stage, level in STAGE_LEVEL.items()
        }
        return {"data": data, "shortData": short, "summary": summary}

    def _classic_levels(self, s: SleepSession) -> dict[str, Any]:
        data = [
            self._entry(st.start_s, st.end_s - st.start_s, CLASSIC_LEVEL[st.stage])
            for st in s.stages
        ]
        summary = {
            level: {
                "count": sum(1 for st in s.stages if st.stage == stage),
                "minutes": s.minutes_by_stage.get(stage, 0),
            }
            for stage, level in (("ASLEEP", "asleep"), ("AWAKE", "awake"), ("RESTLESS", "restless"))
        }
        return {"data": data, "summary": summary}

    # --- v1 (deprecated; what python-fitbit's default API_VERSION = 1 asks for) --------------

    def day_v1(self, d: dt.date) -> dict[str, Any]:
        logs = [self._log_v1(s) for s in self.by_date.get(d, [])]
        return {
            "sleep": logs,
            "summary": {
                "totalMinutesAsleep": sum(lg["minutesAsleep"] for lg in logs),
                "totalSleepRecords": len(logs),
                "totalTimeInBed": sum(lg["timeInBed"] for lg in logs),
            },
        }

    def _log_v1(self, s: SleepSession) -> dict[str, Any]:
        """One log with ``minuteData`` (1 asleep, 2 restless, 3 awake), one item per minute."""
        minutes = []
        for t in range(s.start_s, s.end_s, 60):
            st = next(x for x in s.stages if x.start_s <= t < x.end_s)
            minutes.append(
                {"dateTime": local(t, self.world.offset_at(t)).strftime("%H:%M:%S"),
                 "value": V1_VALUE[st.stage]}
            )  # fmt: skip
        awake = [m for m in minutes if m["value"] == "3"]
        restless = [m for m in minutes if m["value"] == "2"]
        asleep = len(minutes) - len(awake) - len(restless)
        return {
            "awakeCount": _runs(minutes, "3"),
            "awakeDuration": len(awake),
            "awakeningsCount": _runs(minutes, "3"),
            "dateOfSleep": end_date(s).isoformat(),
            "duration": (s.end_s - s.start_s) * 1000,
            "efficiency": round(100 * asleep / len(minutes)) if minutes else 0,
            "isMainSleep": s.main_sleep,
            "logId": log_id(s),
            "minuteData": minutes,
            "minutesAfterWakeup": 0,
            "minutesAsleep": asleep,
            "minutesAwake": len(awake) + len(restless),
            "minutesToFallAsleep": 0,
            "restlessCount": _runs(minutes, "2"),
            "restlessDuration": len(restless),
            "startTime": iso_local(s.start_s, s.start_offset_s),
            "timeInBed": len(minutes),
        }


def _runs(minutes: list[dict[str, Any]], value: str) -> int:
    return sum(
        1
        for i, m in enumerate(minutes)
        if m["value"] == value and (i == 0 or minutes[i - 1]["value"] != value)
    )
