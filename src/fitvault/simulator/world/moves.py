"""Types derived minute by minute from the grid: distance, energy, zones, levels, stairs.

Each is a list of the watch's one-minute intervals (or a run of them) and so agrees with steps
and heart rate by construction: distance is steps × stride (a runner's stride is longer),
calories are the BMR per minute plus the effort above it, zone minutes follow the minute's HR.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from fitvault.simulator.world._base import (
    _MIN,
    Records,
    _civil_day,
    _source,
    daily_sums,
)
from fitvault.simulator.world.minutes import LEVELS, RUN_CADENCE, ZONES, Minutes

_AZM = {2: ("FAT_BURN", 1), 3: ("CARDIO", 2), 4: ("PEAK", 2)}  # zone index → AZM zone, weight
_ACTIVE_LEVEL = {1: "LIGHT", 2: "MODERATE", 3: "VIGOROUS"}
SEDENTARY_MIN_MINUTES = 20  # a sedentary period is at least this many still, awake minutes


class Moves(Minutes):
    def _minutes(self, idx: npt.NDArray[Any], **fields: Any) -> Records:
        """One-minute interval records of grid minutes `idx`, from the watch."""
        g = self.grid
        return {
            "start_time": g.t[idx],
            "end_time": g.t[idx] + _MIN,
            "utc_offset_s": g.offset[idx],
            **fields,
            **_source(len(idx)),
        }

    @cached_property
    def grid_distance(self) -> npt.NDArray[np.int64]:
        """Millimetres per grid minute: steps × stride, a running stride being longer."""
        g = self.grid
        height = self.body[0]
        stride = np.where(g.steps >= RUN_CADENCE, 0.65 * height, 0.415 * height)
        return np.rint(g.steps * stride).astype(np.int64)

    @cached_property
    def rec_distance(self) -> Records:
        idx = np.flatnonzero(self.grid.steps > 0)
        return self._minutes(idx, distance_mm=self.grid_distance[idx])

    @cached_property
    def rec_active_energy_burned(self) -> Records:
        g = self.grid
        idx = np.flatnonzero(g.active_kcal > 0)
        return self._minutes(idx, kcal=g.active_kcal[idx])

    @cached_property
    def rec_basal_energy_burned(self) -> Records:
        g = self.grid
        return self._minutes(np.arange(g.t.size), kcal=g.basal_kcal)

    @cached_property
    def src_total_calories(self) -> Records:
        """Per worn minute: BMR + active energy (total-calories is served only as roll-ups)."""
        g = self.grid
        return self._minutes(np.arange(g.t.size), kcal=np.round(g.basal_kcal + g.active_kcal, 4))

    @cached_property
    def src_calories_in_heart_rate_zone(self) -> Records:
        """Per worn minute in a zone: (zone, total kcal of the minute)."""
        g = self.grid
        idx = np.flatnonzero(g.zone > 0)
        kcal = self.src_total_calories["kcal"][idx]
        zone = [ZONES[z - 1] for z in g.zone[idx].tolist()]
        return self._minutes(idx, heart_rate_zone=zone, kcal=kcal)

    @cached_property
    def rec_active_zone_minutes(self) -> Records:
        g = self.grid
        idx = np.flatnonzero(g.zone >= 2)
        zones = g.zone[idx].tolist()
        return self._minutes(
            idx,
            minutes=np.array([_AZM[z][1] for z in zones], dtype=np.int64),
            heart_rate_zone=[_AZM[z][0] for z in zones],
        )

    @cached_property
    def rec_time_in_heart_rate_zone(self) -> Records:
        g = self.grid
        idx = np.flatnonzero(g.zone > 0)
        return self._minutes(idx, heart_rate_zone=[ZONES[z - 1] for z in g.zone[idx].tolist()])

    @cached_property
    def rec_active_minutes(self) -> Records:
        """One record (one array element) per minute of light or harder activity."""
        g = self.grid
        idx = np.flatnonzero(g.level > 0)
        levels = [_ACTIVE_LEVEL[v] for v in g.level[idx].tolist()]
        return self._minutes(idx, activity_level=levels, minutes=np.ones(idx.size, np.int64))

    @cached_property
    def rec_activity_level(self) -> Records:
        g = self.grid
        idx = np.flatnonzero(~g.asleep)
        return self._minutes(idx, level=[LEVELS[v] for v in g.level[idx].tolist()])

    @cached_property
    def rec_sedentary_period(self) -> Records:
        """Runs of consecutive awake sedentary minutes, at least SEDENTARY_MIN_MINUTES long."""
        g = self.grid
        still = (g.level == 0) & ~g.asleep
        nxt = np.concatenate([g.t[1:] != g.t[:-1] + _MIN, [True]])  # a gap ends a run
        starts, ends = [], []
        run = -1
        for i in range(g.t.size):
            if still[i] and run < 0:
                run = i
            if run >= 0 and (not still[i] or nxt[i]):
                last = i if still[i] else i - 1
                if last - run + 1 >= SEDENTARY_MIN_MINUTES:
                    starts.append(run)
                    ends.append(last)
                run = -1
        a, b = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
        rec = self._minutes(a)
        rec["end_time"] = g.t[b] + _MIN
        return rec

    @cached_property
    def _climbs(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(grid index, floors) of each stair climb: 1-5 a day during walks."""
        g = self.grid
        walking = np.flatnonzero((g.steps >= 90) & (g.steps < RUN_CADENCE))
        idx, floors = [], []
        for d in np.unique(g.day[walking]).tolist():
            cand = walking[g.day[walking] == d]
            rng = self._rng(int(d), "stairs")
            k = min(int(rng.integers(1, 6)), cand.size)
            idx += sorted(rng.choice(cand, k, replace=False).tolist())
            floors += rng.integers(1, 4, k).tolist()
        return np.array(idx, dtype=np.int64), np.array(floors, dtype=np.int64)

    @cached_property
    def rec_altitude(self) -> Records:
        idx, floors = self._climbs
        gain = floors * 3000 + self._rng(0, "altitude").integers(0, 400, idx.size)
        return self._minutes(idx, gain_mm=gain.astype(np.int64))

    @cached_property
    def src_floors(self) -> Records:
        idx, floors = self._climbs
        return self._minutes(idx, floors=floors)

    @cached_property
    def rec_daily_heart_rate_zones(self) -> Records:
        dates, zone, lo, hi = [], [], [], []
        for d in self.civil_dates():
            for name, (a, b) in zip(ZONES, self.zone_bounds(d), strict=True):
                dates.append(d)
                zone.append(name)
                lo.append(a)
                hi.append(b)
        return {
            "date": dates,
            "heart_rate_zone": zone,
            "min_bpm": np.array(lo, dtype=np.int64),
            "max_bpm": np.array(hi, dtype=np.int64),
            **_source(len(dates), platform="FITBIT"),
        }

    @cached_property
    def rec_daily_resting_heart_rate(self) -> Records:
        values = self.resting_heart_rate()
        return {
            "date": [v.date for v in values],
            "bpm": np.array([v.value for v in values], dtype=np.int64),
            "calculation_method": ["WITH_SLEEP"] * len(values),
            **_source(len(values)),
        }


def per_day(rec: Records, column: str) -> tuple[list[Any], npt.NDArray[np.float64]]:
    """Sum of `column` per local date of each interval's start: dailyRollUp's buckets."""
    day = (rec["start_time"] + rec["utc_offset_s"]) // 86_400
    days, sums = daily_sums(day, np.asarray(rec[column]))
    return [_civil_day(int(x)) for x in days.tolist()], sums
