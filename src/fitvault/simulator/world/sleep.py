"""Main sleeps: bedtime, jet lag, ~90-minute cycles of staged sleep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cached_property
from itertools import groupby

import numpy as np

from fitvault.simulator.model import (
    SleepSession,
    SleepStage,
)
from fitvault.simulator.world._base import (
    _MIN,
    _ONE,
    _at,
    _dates,
    _stable_int,
    _u,
)
from fitvault.simulator.world.timeline import Timeline

_DEEP_SHARE = (0.36, 0.26, 0.09)  # of cycles 1-3; later cycles have (almost) none
_TICK = 30  # stage boundaries and the HR level grid


def _merge(runs: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Drop empty runs and join neighbouring runs of the same stage."""
    kept = [(stage, n) for stage, n in runs if n > 0]
    return [(st, sum(n for _, n in group)) for st, group in groupby(kept, key=lambda r: r[0])]


def _broken(rng: np.random.Generator, n: int, stage: str, brk: str) -> list[tuple[str, int]]:
    """`n` ticks of `stage` with up to two 1-3 min interruptions of `brk` at random places."""
    k = int(rng.integers(0, 3))
    cuts_w = rng.integers(2, 9, k)
    rest = n - int(cuts_w.sum())
    if k == 0 or rest < 20:
        return [(stage, n)]
    cuts = np.sort(rng.integers(0, rest + 1, k))
    pieces = np.diff(np.concatenate([[0], cuts, [rest]])).tolist()
    out: list[tuple[str, int]] = []
    for piece, w in zip(pieces[:-1], cuts_w.tolist(), strict=True):
        out += [(stage, piece), (brk, w)]
    return [*out, (stage, pieces[-1])]


def _staged_runs(rng: np.random.Generator, ticks: int) -> list[tuple[str, int]]:
    """A night as (stage, ticks) runs: fall asleep, ~90-min cycles, wake up."""
    lat, fin = int(rng.integers(10, 41)), int(rng.integers(0, 21))
    body = ticks - lat - fin
    n = max(2, round(body / 190))
    weights = rng.uniform(160, 220, n)
    cycles = (weights * body / weights.sum()).astype(np.int64)
    cycles[-1] += body - int(cycles.sum())
    runs = [("AWAKE", lat)]
    for i, c in enumerate(cycles.tolist()):
        share = _DEEP_SHARE[i] if i < len(_DEEP_SHARE) else 0.0
        deep = int(c * share * _u(rng, 0.8, 1.2)) + int(rng.integers(0, 5)) * (i >= 3)
        # REM starts short and grows through the night, as real hypnograms show.
        rem = int(_u(rng, 14, 22) + i / (n - 1) * _u(rng, 46, 68))
        rem = max(0, min(rem, c - deep - 30))
        light = c - deep - rem
        l1 = int(light * _u(rng, 0.35, 0.6))
        runs += [*_broken(rng, l1, "LIGHT", "AWAKE"), ("DEEP", deep)]
        runs += [*_broken(rng, light - l1, "LIGHT", "AWAKE"), ("REM", rem)]
        if i < n - 1 and rng.random() < 0.75:
            gap = min(int(rng.integers(2, 11)), rem)
            runs[-1] = ("REM", rem - gap)
            runs.append(("AWAKE", gap))
    runs.append(("AWAKE", fin))
    return _merge(runs)


class Nights(Timeline):
    def _session(
        self, rng: np.random.Generator, start: int, runs: list[tuple[str, int]], main: bool
    ) -> SleepSession:
        """Lay (stage, ticks) runs end to end from `start`; the service stores it minutes later."""
        stages, t = [], start
        for stage, n in runs:
            stages.append(SleepStage(t, t + _TICK * n, stage))
            t += _TICK * n
        created = t + 60 * int(rng.integers(5, 20)) + int(rng.integers(0, 60))
        return SleepSession(
            id=_stable_int(self.seed, "sleep", start),
            start_s=start,
            end_s=t,
            start_offset_s=self.offset_at(start),
            end_offset_s=self.offset_at(t),
            sleep_type="STAGES" if main else "CLASSIC",
            stages=tuple(stages),
            main_sleep=main,
            nap=not main,
            created_s=created,
            updated_s=created + int(rng.integers(1, 10)),
        )

    def _night(self, d: dt.date) -> SleepSession:
        """The main sleep that ends on d's morning."""
        rng = self._rng(d.toordinal(), "night")
        eve = d - _ONE
        bed_min = 1365 + _u(rng, 0, 60) + _u(rng, 30, 60) * (eve.weekday() in (4, 5))
        hours, alarm, jl = _u(rng, 6.3, 8.5), 400 + int(rng.integers(0, 31)), rng.random(2)
        k, direction = self._jetlag(d)
        if k:  # east: can't sleep until late; west: sleepy early and up before dawn
            bed_min += direction * (60 + 60 * jl[0] if k == 1 else 30 + 30 * jl[0])
            hours *= 0.78 + 0.1 * jl[1] if k == 1 else 0.88 + 0.07 * jl[1]
        bed = _at(eve, round(bed_min), self._zone_evening(eve))
        wake = bed + 60 * round(hours * 60)
        if d.weekday() < 5 and not self._in_trip(d):
            wake = min(wake, _at(d, alarm, self.home_zone))
        if leg := self._leg_on(d):
            wake = min(wake, leg[0] - 60 * int(rng.integers(140, 171)))
            bed = min(bed, wake - 378 * _MIN)
        if leg := self._leg_on(eve):
            bed = max(bed, leg[1] + 75 * _MIN)
        runs = _staged_runs(rng, (wake - bed) // _TICK)
        return self._session(rng, bed, runs, main=True)

    @cached_property
    def _nights(self) -> dict[dt.date, SleepSession]:
        return {d: self._night(d) for d in _dates(self.start, self.last + 2 * _ONE)}
