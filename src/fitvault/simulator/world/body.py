"""Body measurements and fitness: scale weigh-ins, height, and the VO2 max estimates.

The scale (a Wi-Fi scale, "Aria Air") weighs and measures body fat a few mornings a month;
height was entered once in the app. VO2 max: a daily estimate from resting HR (Uth et al.:
15.3 × max HR / resting HR), a run estimate after each run, and a sample on some run days.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import numpy as np

from fitvault.simulator.world._base import PHONE, SCALE, Records, _source
from fitvault.simulator.world.vitals import Vitals

WEIGH_P = 0.2  # chance of a weigh-in on a given morning (a few a month)
_FITNESS = ((0, "POOR"), (35, "FAIR"), (40, "AVERAGE"), (45, "GOOD"), (50, "VERY_GOOD"),
            (55, "EXCELLENT"))  # fmt: skip


def fitness_level(vo2: float) -> str:
    return [name for lo, name in _FITNESS if vo2 >= lo][-1]


class Body(Vitals):
    @cached_property
    def _weigh_ins(self) -> list[tuple[int, float, float]]:
        """(instant, grams, body-fat %) of each weigh-in: a slow drift plus daily noise."""
        out = []
        grams = self.body[1]
        for d in self.civil_dates():
            rng = self._rng(d.toordinal(), "weigh")
            if rng.random() >= WEIGH_P:
                continue
            t = self._nights[d].end_s + 60 * int(rng.integers(5, 40))
            if not self._t_start <= t < self.cutoff_s:
                continue
            drift = 400 * np.sin(d.toordinal() / 45.0)
            w = round(grams + drift + rng.normal(0, 350), -1)
            fat = round(18 + (w - 60_000) / 2500 + rng.normal(0, 0.4), 1)
            out.append((t, float(w), float(fat)))
        return out

    def _scale_rec(self, **fields: Any) -> Records:
        t = np.array([x[0] for x in self._weigh_ins], dtype=np.int64)
        return {
            "time": t,
            "utc_offset_s": self.offsets_at(t).astype(np.int64),
            **fields,
            **_source(t.size, SCALE),
        }

    @cached_property
    def rec_weight(self) -> Records:
        w = self._weigh_ins
        notes = ["morning" if i % 5 == 0 else None for i in range(len(w))]
        return self._scale_rec(grams=np.array([x[1] for x in w]), notes=notes)

    @cached_property
    def rec_body_fat(self) -> Records:
        return self._scale_rec(percent=np.array([x[2] for x in self._weigh_ins]))

    @cached_property
    def rec_height(self) -> Records:
        """Entered once in the app, the first morning."""
        t = np.array([self._nights[self.start].end_s + 1800], dtype=np.int64)
        t = t[(t >= self._t_start) & (t < self.cutoff_s)]
        return {
            "time": t,
            "utc_offset_s": self.offsets_at(t).astype(np.int64),
            "height_mm": np.full(t.size, self.body[0], dtype=np.int64),
            **_source(t.size, PHONE),
        }

    def vo2_on(self, d: dt.date) -> float:
        return round(15.3 * self.max_hr / self._rhr(d), 1)

    @cached_property
    def rec_daily_vo2_max(self) -> Records:
        days = [v.date for v in self.resting_heart_rate()]
        vo2 = [self.vo2_on(d) for d in days]
        return {
            "date": days,
            "vo2_max": np.array(vo2),
            "cardio_fitness_level": [fitness_level(v) for v in vo2],
            "estimated": [True] * len(days),
            "vo2_max_covariance": np.array(
                [
                    round(float(self._rng(d.toordinal(), "vo2-cov").uniform(0.5, 2.5)), 3)
                    for d in days
                ]
            ),
            **_source(len(days)),
        }

    def _runs(self) -> list[tuple[int, int, str]]:
        return [b for b in self.exercise_bouts() if b[2] == "running"]

    def _run_vo2(self, end: int) -> float:
        d = dt.datetime.fromtimestamp(end + self.offset_at(end), dt.UTC).date()
        return round(self.vo2_on(d) + float(self._rng(end, "run-vo2").normal(0, 0.8)), 1)

    @cached_property
    def rec_run_vo2_max(self) -> Records:
        t = np.array([b + 60 for _, b, _ in self._runs()], dtype=np.int64)
        t = t[t < self.cutoff_s]
        return {
            "time": t,
            "utc_offset_s": self.offsets_at(t).astype(np.int64),
            "run_vo2_max": np.array([self._run_vo2(int(x) - 60) for x in t.tolist()]),
            **_source(t.size),
        }

    @cached_property
    def rec_vo2_max(self) -> Records:
        """A measured VO2 max after every other run."""
        runs = self.rec_run_vo2_max
        idx = np.arange(0, runs["time"].size, 2)
        return {
            "time": runs["time"][idx] + 1,
            "utc_offset_s": runs["utc_offset_s"][idx],
            "vo2_max": runs["run_vo2_max"][idx],
            "measurement_method": ["FITBIT_RUN"] * idx.size,
            **_source(idx.size),
        }
