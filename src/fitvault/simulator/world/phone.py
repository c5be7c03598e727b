"""A second step counter: the person's phone, on the trip and on a few random days.

The phone counts the same walking a little differently (it is in a pocket, or left on a desk) and
also while the watch is charging or dead. `list` serves both devices' points; `reconcile` and the
roll-ups serve the reconciled stream of `reconciled`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from fitvault.simulator.world._base import (
    _MIN,
    HEALTH_CONNECT,
    PHONE,
    Records,
    _overlaps,
    _source,
    take,
)
from fitvault.simulator.world.moves import Moves

PHONE_DAY_P = 0.2  # share of ordinary days the phone also counts steps


def reconciled(rec: Records, wearable: str = "FITBIT") -> Records:
    """The reconciled stream: the project's documented rule for merging data sources.

    Every point of the wearable (platform ``FITBIT``) is kept; a point of any other device is
    kept only if its interval [start_time, end_time) overlaps no wearable interval. Samples
    (one instant, ``time``) are treated as zero-length intervals [time, time]. Rows keep their
    order (ascending time). The client implements the same rule, so a vault's reconciled daily
    totals equal the simulator's ``dailyRollUp``.
    """
    own = np.array([p == wearable for p in rec["platform"]], dtype=np.bool_)
    if own.all():
        return rec
    start = np.asarray(rec["start_time"] if "start_time" in rec else rec["time"])
    end = np.asarray(rec["end_time"]) if "end_time" in rec else start
    ws, we = start[own], end[own]  # wearable intervals, ascending by start
    order = np.argsort(ws, kind="stable")
    ws, we = ws[order], np.maximum.accumulate(we[order]) if we.size else we
    keep = own.copy()
    for i in np.flatnonzero(~own).tolist():
        # the last wearable interval starting before this one ends; overlap if it ends after
        # this one starts (ends are running maxima, so one lookup suffices)
        j = int(np.searchsorted(ws, end[i] if end[i] > start[i] else start[i] + 1)) - 1
        keep[i] = j < 0 or we[j] <= start[i]
    return take(rec, np.flatnonzero(keep))


class Phone(Moves):
    def _phone_day(self, unit_date: Any) -> bool:
        trip = self._trip
        if trip is not None and trip.out <= unit_date <= trip.back:
            return True
        return bool(self._rng(unit_date.toordinal(), "phone").random() < PHONE_DAY_P)

    @cached_property
    def _phone_steps(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(minute start, count) the phone recorded, ascending."""
        starts, counts = [], []
        for d, cad in self._unit_steps.items():
            if not self._phone_day(d):
                continue
            rng = self._rng(d.toordinal(), "phone-steps")
            carried = rng.random(cad.size) < 0.8
            factor = rng.uniform(0.85, 1.1, cad.size)
            n = np.rint(cad * factor) * carried
            nz = np.flatnonzero(n > 0)
            starts.append(self._span(d)[0] + _MIN * nz.astype(np.int64))
            counts.append(n[nz].astype(np.int64))
        if not starts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        s, c = np.concatenate(starts), np.concatenate(counts)
        keep = (s >= self._t_start) & (s + _MIN <= self.cutoff_s)
        keep &= ~_overlaps(s, self._asleep_spans, width=_MIN)
        return s[keep], c[keep]

    @cached_property
    def rec_steps(self) -> Records:
        """Both devices' one-minute step counts, by start time (the watch first on a tie)."""
        st = self.steps()
        ps, pc = self._phone_steps
        start = np.concatenate([st.start, ps])
        order = np.argsort(start, kind="stable")
        n_watch = st.start.size
        device = np.array([0] * n_watch + [1] * ps.size)[order]
        out: Records = {
            "start_time": start[order],
            "end_time": start[order] + _MIN,
            "utc_offset_s": np.concatenate([st.offset_s.astype(np.int64), self.offsets_at(ps)])[
                order
            ].astype(np.int64),
            "count": np.concatenate([st.count.astype(np.int64), pc])[order],
        }
        watch, phone = _source(1), _source(1, PHONE, HEALTH_CONNECT)
        out["device"] = [(watch, phone)[k]["device"][0] for k in device.tolist()]
        out["platform"] = [(watch, phone)[k]["platform"][0] for k in device.tolist()]
        return out
