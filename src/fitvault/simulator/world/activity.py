"""Steps per minute from the day's moves and bursts."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np

from fitvault.simulator.model import (
    StepsSeries,
)
from fitvault.simulator.world._base import (
    _MIN,
    _ONE,
    F64,
    Span,
    _overlaps,
    _u,
)
from fitvault.simulator.world.plan import Days

# Steps per minute while doing each kind of move (lo, hi of the per-bout mean).
_CADENCE = {
    "walk": (95.0, 120.0),
    "running": (150.0, 175.0),
    "walking": (100.0, 120.0),
    "cycling": (0.0, 0.0),
    "strength": (0.0, 12.0),
    "flight": (0.0, 0.0),
}


class Activity(Days):
    def _span(self, d: dt.date) -> Span:
        return self._nights[d].start_s, self._nights[d + _ONE].start_s

    @cached_property
    def _unit_steps(self) -> dict[dt.date, F64]:
        """Steps per whole minute of each unit, before off-wrist/sleep/range trimming."""
        out: dict[dt.date, F64] = {}
        for d, day in self._days.items():
            u0, u1 = self._span(d)
            if u0 >= self.cutoff_s:
                break
            rng = self._rng(d.toordinal(), "steps")
            cad = np.zeros((u1 - u0) // _MIN)
            for a, b, kind in day.moves:
                lo, hi = _CADENCE[kind]
                i0, i1 = (a - u0) // _MIN, (b - u0) // _MIN
                cad[i0:i1] += _u(rng, lo, hi) + rng.normal(0, min(4.0, hi / 3), i1 - i0)
            np.add.at(cad, (day.burst_t - u0) // _MIN, day.burst_n)
            out[d] = np.maximum(np.rint(cad), 0.0)
        return out

    @cached_property
    def _steps(self) -> StepsSeries:
        starts, counts = [], []
        for d, cad in self._unit_steps.items():
            nz = np.flatnonzero(cad)
            starts.append(self._span(d)[0] + _MIN * nz.astype(np.int64))
            counts.append(cad[nz])
        s, c = np.concatenate(starts), np.concatenate(counts).astype(np.int32)
        asleep = [(n.start_s, n.end_s) for n in self._nights.values()]
        asleep += [(x.nap.start_s, x.nap.end_s) for x in self._days.values() if x.nap]
        keep = (s >= self._t_start) & (s + _MIN <= self.cutoff_s)
        keep &= ~_overlaps(s, sorted(asleep) + self._off_spans(), width=_MIN)
        return StepsSeries(start=s[keep], count=c[keep], offset_s=self.offsets_at(s[keep]))

    def steps(self) -> StepsSeries:
        """Whole-UTC-minute intervals with a positive count, none asleep or off-wrist."""
        return self._steps
