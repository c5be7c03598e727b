"""The per-minute grid every activity type derives from: worn minutes, steps, HR, zones, energy.

A minute is on the grid when the watch was worn for all of it (not off-wrist, before the last
sync). Heart-rate zones come from the day's resting HR by Karvonen's formula (percentages of the
heart-rate reserve above resting), the bounds `daily-heart-rate-zones` reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np

from fitvault.simulator.model import I64
from fitvault.simulator.world._base import (
    _MIN,
    F64,
    _civil_day,
    _dates,
    _epoch_day,
    _overlaps,
)
from fitvault.simulator.world.heart import Heart

ZONES = ("LIGHT", "MODERATE", "VIGOROUS", "PEAK")  # grid zone index 1..4; 0 = below LIGHT
_KARVONEN = (0.40, 0.60, 0.70, 0.85)  # lower bound of each zone, as a share of the HR reserve
LEVELS = ("SEDENTARY", "LIGHTLY_ACTIVE", "MODERATELY_ACTIVE", "VERY_ACTIVE")
RUN_CADENCE = 140  # steps per minute above which a minute counts as running (longer stride)


@dataclass(frozen=True)
class Grid:
    """Parallel arrays, one element per worn minute [t, t + 60), ascending."""

    t: I64
    offset: I64
    day: I64  # local civil date as days since 1970-01-01
    steps: I64  # the watch's count (0 when it counted none)
    hr: I64  # mean bpm of the minute's samples, rounded
    asleep: np.ndarray  # bool: inside a main sleep or a nap
    zone: I64  # 0..4: below LIGHT, LIGHT, MODERATE, VIGOROUS, PEAK
    level: I64  # 0..3: index into LEVELS
    active_kcal: F64
    basal_kcal: F64


class Minutes(Heart):
    @cached_property
    def body(self) -> tuple[int, float]:
        """(height in mm, weight in grams at the start of the range) of the person."""
        rng = self._rng(0, "body")
        return int(rng.integers(1600, 1900)), float(rng.uniform(58_000, 92_000))

    @property
    def max_hr(self) -> int:
        return 220 - self.person.age

    def zone_bounds(self, d: dt.date) -> list[tuple[int, int]]:
        """(min, max) bpm of LIGHT, MODERATE, VIGOROUS, PEAK on date d (Karvonen)."""
        rhr = round(self._rhr(d))
        reserve = self.max_hr - rhr
        lows = [int(np.ceil(rhr + share * reserve)) for share in _KARVONEN]
        return [(lo, hi - 1) for lo, hi in pairwise(lows)] + [(lows[-1], self.max_hr)]

    def bmr_kcal_per_day(self) -> float:
        """Mifflin-St Jeor (the + 5 of the male form) at the range's starting weight."""
        height, grams = self.body
        return 10 * grams / 1000 + 6.25 * height / 10 - 5 * self.person.age + 5

    @cached_property
    def _asleep_spans(self) -> list[tuple[int, int]]:
        spans = [(n.start_s, n.end_s) for n in self._nights.values()]
        spans += [(x.nap.start_s, x.nap.end_s) for x in self._days.values() if x.nap]
        return sorted(spans)

    @cached_property
    def grid(self) -> Grid:
        first = -(-self._t_start // _MIN) * _MIN
        t = np.arange(first, self.cutoff_s - _MIN + 1, _MIN, dtype=np.int64)
        t = t[~_overlaps(t, self._off_spans(), width=_MIN)]
        offset = self.offsets_at(t).astype(np.int64)
        day = (t + offset) // 86_400
        st = self.steps()
        steps = np.zeros(t.size, dtype=np.int64)
        at = np.searchsorted(t, st.start)
        ok = (at < t.size) & (t[np.minimum(at, t.size - 1)] == st.start)
        steps[at[ok]] = st.count[ok]
        hr = self._minute_hr(t)
        asleep = _overlaps(t, self._asleep_spans, width=1)
        zone = self._zones_of(day, hr)
        level = np.where(
            (steps >= 130) | (zone >= 3),
            3,
            np.where((steps >= 100) | (zone == 2), 2, np.where((steps >= 15) | (zone == 1), 1, 0)),
        )
        level[asleep] = 0
        return Grid(
            t, offset, day, steps, hr, asleep, zone, level, *self._energy(t, hr, steps, day, asleep)
        )

    def _minute_hr(self, t: I64) -> I64:
        """Mean of each minute's samples; a minute without samples takes its neighbours' level."""
        hr = self.heart_rate()
        k = np.searchsorted(t, hr.t, side="right") - 1
        inside = (k >= 0) & (hr.t < t[np.maximum(k, 0)] + _MIN)
        total = np.bincount(k[inside], weights=hr.bpm[inside], minlength=t.size)
        count = np.bincount(k[inside], minlength=t.size)
        have = count > 0
        mean = np.zeros(t.size)
        mean[have] = total[have] / count[have]
        if have.any() and not have.all():
            mean[~have] = np.interp(t[~have], t[have], mean[have])
        return np.rint(mean).astype(np.int64)

    def _zones_of(self, day: I64, hr: I64) -> I64:
        days = np.unique(day)
        lows = np.array([[lo for lo, _ in self.zone_bounds(_civil_day(int(x)))] for x in days])
        per = lows[np.searchsorted(days, day)]
        out: I64 = (hr[:, None] >= per).sum(axis=1).astype(np.int64)
        return out

    def _energy(self, t: I64, hr: I64, steps: I64, day: I64, asleep: np.ndarray) -> tuple[F64, F64]:
        """(active, basal) kcal per minute: HR-reserve effort plus steps, above the BMR."""
        days = np.unique(day)
        rhr = np.array([self._rhr(_civil_day(int(x))) for x in days])[np.searchsorted(days, day)]
        effort = (hr - rhr) / (self.max_hr - rhr)
        scale = self.body[1] / 70_000
        active = (np.maximum(effort - 0.2, 0) * 14 + steps * 0.03) * scale
        active[asleep] = 0.0
        basal = np.full(t.size, round(self.bmr_kcal_per_day() / 1440, 4))
        return np.round(active, 4), basal

    def civil_dates(self) -> list[dt.date]:
        """Every local date of the range, first to last."""
        return _dates(self.start, self.last)

    @staticmethod
    def epoch_day(d: dt.date) -> int:
        return _epoch_day(d)
