"""Heart rate: resting level, circadian swing, sleep stages, workouts, recovery."""

from __future__ import annotations

import datetime as dt
import math
from functools import cached_property

import numpy as np

from fitvault.simulator.model import (
    I16,
    I64,
    DailyValue,
    HeartRateSeries,
)
from fitvault.simulator.world._base import (
    _DAY,
    _HOUR,
    _ONE,
    F64,
    _dates,
    _overlaps,
    _smooth,
    _u,
)
from fitvault.simulator.world.activity import Activity
from fitvault.simulator.world.plan import _TARGET_HR
from fitvault.simulator.world.sleep import _TICK

_SLEEP_HR = {
    "DEEP": (-5.0, 0.35),
    "LIGHT": (-1.0, 0.7),
    "REM": (3.0, 1.6),
    "AWAKE": (8.0, 1.4),
    "ASLEEP": (-1.0, 0.7),
    "RESTLESS": (3.0, 1.2),
}


def _bout_profile(rng: np.random.Generator, n: int, kind: str, intervals: bool, rhr: float) -> F64:
    """Target HR per tick of a workout: warm-up, sustained (maybe intervals/sets), cool-down."""
    lo, hi = _TARGET_HR[kind]
    x = np.full(n, _u(rng, lo, hi)) + np.linspace(0.0, _u(rng, 2, 6), n)  # cardiac drift
    idx = np.arange(n)
    if intervals:
        x += np.where((idx // int(rng.integers(4, 9))) % 2 == 0, 9.0, -7.0)
    if kind == "strength":
        x += np.where(idx % 5 < 2, 12.0, -10.0)
    warm = max(2, min(int(rng.integers(10, 17)), n // 4))
    cool = max(2, min(10, n // 5))
    x[:warm] = np.linspace(rhr + 30, x[warm], warm)
    x[-cool:] = np.linspace(x[-cool - 1], rhr + 55, cool)
    return np.minimum(x, 188.0)


class Heart(Activity):
    def heart_rate(self) -> HeartRateSeries:
        """Every sample while worn, ascending; 1 s apart in workouts, 3-7 s otherwise."""
        return self._hr

    def _rhr(self, d: dt.date) -> float:
        """Resting HR: slow seeded wave + daily noise + a bump after hard/short/travel days."""
        base, amp, period, phase = self._rng(0, "rhr-wave").uniform(
            (56, 2, 42, 0), (59, 3, 70, 6.3)
        )
        rng = self._rng(d.toordinal(), "rhr")
        noise, bump = _u(rng, -1, 1), _u(rng, 2, 4)
        wave = amp * math.sin(2 * math.pi * d.toordinal() / period + phase)
        prev, night, trip = self._exercise(d - _ONE), self._nights[d], self._trip
        hard = prev is not None and prev.hard
        poor = night.end_s - night.start_s < 6.5 * _HOUR
        away = trip is not None and trip.out <= d <= trip.back + _ONE
        return float(base + wave + noise + bump * (hard or poor or away))

    def _unit_hr(self, d: dt.date, cad: F64) -> tuple[I64, I16]:
        u0, u1 = self._span(d)
        day, rng, rhr = self._days[d], self._rng(d.toordinal(), "hr"), self._rhr(d)
        tick = u0 + _TICK // 2 + _TICK * np.arange((u1 - u0) // _TICK, dtype=np.int64)
        hours = ((tick + self.offsets_at(tick)) % _DAY) / 3600.0
        circ = -np.cos(2 * np.pi * (hours - 4.0) / 24.0)  # lowest ~04:00, highest ~16:00
        level = rhr + 17 + 5 * circ + _u(rng, 0.2, 0.3) * _smooth(np.repeat(cad, 2), 4.0)
        scale = np.ones(tick.size)
        sessions = [self._nights[d]] + ([day.nap] if day.nap else [])
        for st in (st for s in sessions for st in s.stages):
            i0, i1 = (st.start_s - u0) // _TICK, (st.end_s - u0) // _TICK
            delta, noise_scale = _SLEEP_HR[st.stage]
            scale[i0:i1] = noise_scale
            level[i0:i1] = rhr + 1 + 2.5 * circ[i0:i1] + delta
        bouts = [(a, b, k) for a, b, k in day.moves if k in _TARGET_HR]
        workout = self._exercise(d)
        for a, b, kind in bouts:
            i0, i1 = (a - u0) // _TICK, (b - u0) // _TICK
            intervals = workout is not None and workout.intervals
            level[i0:i1] = _bout_profile(rng, i1 - i0, kind, intervals, rhr)
            scale[i0:i1] = 1.3
            # Recovery: a fast drop in the first minutes, then elevated for half an hour or so.
            tail = level[i1 : i1 + 180]  # a view, so this edits `level`
            k = np.arange(tail.size)
            if tail.size:
                tail += (level[i1 - 1] - tail[0]) * (0.65 * np.exp(-k / 6) + 0.35 * np.exp(-k / 50))
        level = _smooth(level, 1.5)
        t = u0 + np.cumsum(rng.integers(3, 8, (u1 - u0) // 3 + 1))
        t = t[t < u1]
        if bouts:  # the watch samples every second while it knows you are working out
            dense = [np.arange(a, b, dtype=np.int64) for a, b, _ in bouts]
            t = np.sort(np.concatenate([t[~_overlaps(t, [(a, b) for a, b, _ in bouts])], *dense]))
        grid = u0 + 5 * np.arange((u1 - u0) // 5 + 2)
        ar = np.convolve(rng.normal(0, 0.8, grid.size), 0.92 ** np.arange(48))[: grid.size]
        knots = u0 + 600 * np.arange((u1 - u0) // 600 + 2)
        noise = np.interp(t, grid, ar) + np.interp(t, knots, rng.normal(0, 1.5, knots.size))
        bpm = np.interp(t, tick, level) + noise * np.interp(t, tick, scale)
        bpm += rng.normal(0, 0.6, t.size)
        return t, np.clip(np.rint(bpm), 35, 200).astype(np.int16)

    @cached_property
    def _hr(self) -> HeartRateSeries:
        t_parts, bpm_parts = [], []
        for d, cad in self._unit_steps.items():
            t, bpm = self._unit_hr(d, cad)
            keep = (t >= self._t_start) & (t < self.cutoff_s)
            t_parts.append(t[keep])
            bpm_parts.append(bpm[keep])
        t, bpm = np.concatenate(t_parts), np.concatenate(bpm_parts)
        del t_parts, bpm_parts  # a year is ~6.5 M samples: keep the peak near the result size
        keep = ~_overlaps(t, self._off_spans())
        t, bpm = t[keep], bpm[keep]
        return HeartRateSeries(t=t, bpm=bpm, offset_s=self.offsets_at(t))

    def resting_heart_rate(self) -> tuple[DailyValue, ...]:
        """One value per local date whose main sleep has ended (the app shows it each morning)."""
        return tuple(
            DailyValue(d, round(self._rhr(d)))
            for d in _dates(self.start, self.last)
            if self._nights[d].end_s < self.cutoff_s
        )
