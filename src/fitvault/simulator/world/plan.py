"""Each day's plan between two sleeps: walks, workouts, naps, off-wrist time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from fitvault.simulator.model import (
    I64,
    SleepSession,
)
from fitvault.simulator.world._base import (
    _HOUR,
    _ONE,
    Labelled,
    Span,
    _at,
    _dates,
    _fit,
    _overlaps,
)
from fitvault.simulator.world.sleep import Nights, _broken, _merge

_EXERCISE = ("running", "cycling", "walking", "strength")
_EXERCISE_P = (0.4, 0.25, 0.15, 0.2)
_TARGET_HR = {
    "running": (145, 165),
    "cycling": (138, 158),
    "walking": (100, 118),
    "strength": (105, 125),
}


class _Workout(NamedTuple):
    kind: str
    minutes: int
    morning: bool
    intervals: bool

    @property
    def hard(self) -> bool:
        return self.kind in ("running", "cycling") and (self.minutes >= 40 or self.intervals)


@dataclass(frozen=True)
class _Day:
    moves: tuple[Labelled, ...]  # walks, workouts, flights
    off: tuple[Labelled, ...]
    nap: SleepSession | None
    burst_t: I64
    burst_n: I64


class _Planner:
    """Places one day's events in the free time between waking up and going to bed."""

    def __init__(
        self, rng: np.random.Generator, day: dt.date, zone: str, wake: int, bed: int
    ) -> None:
        self.rng, self.day, self.zone, self.wake, self.bed = rng, day, zone, wake, bed
        self.busy: list[Span] = []
        self.moves: list[Labelled] = []
        self.off: list[Labelled] = []

    def m(self, a: int, b: int) -> int:
        return int(self.rng.integers(a, b + 1))

    def at(self, minute: int) -> int:
        return _at(self.day, minute, self.zone)

    def put(
        self, kind: str, want: int, mins: int, into: list[Labelled] | None = None, lo: int = 0
    ) -> int:
        """Schedule at or after `want` if it fits; the end instant, or 0 if it didn't fit."""
        s = _fit(self.busy, max(lo, self.wake + 300), self.bed - 600, 60 * mins, want)
        if s is None:
            return 0
        self.busy.append((s, s + 60 * mins))
        (self.moves if into is None else into).append((s, s + 60 * mins, kind))
        return s + 60 * mins

    def workday(self, ex: _Workout | None) -> None:
        """Commute walks, maybe a lunch walk, a workout before or after work."""
        t = self.wake
        if ex and ex.morning:
            t = self.put(ex.kind, self.wake + 60 * self.m(10, 20), ex.minutes) or t
        if ex or self.rng.random() < 0.9:
            self.put("shower", t + 60 * self.m(5, 25), self.m(10, 20), self.off)
        self.put("walk", self.at(self.m(480, 520)), self.m(15, 25))
        if self.rng.random() < (0.3 if ex and ex.kind == "running" else 0.7):
            self.put("walk", self.at(self.m(725, 765)), self.m(10, 25))
        self.put("walk", self.at(self.m(1020, 1080)), self.m(15, 25))
        if ex and not ex.morning:
            self.put(ex.kind, self.at(self.m(1095, 1155)), ex.minutes)
        if self.rng.random() < 0.3:
            self.put("walk", self.at(self.m(1170, 1230)), self.m(10, 20))

    def bursts(self, leg: Span | None, nap: SleepSession | None) -> tuple[I64, I64]:
        """A few steps here and there through waking hours, but not mid-workout or asleep."""
        quiet = [(a, b) for a, b, k in self.moves if k != "walk"]
        quiet += [(nap.start_s, nap.end_s)] if nap else []
        t = np.sort(self.rng.integers(self.wake, self.bed, self.m(60, 110)))
        n = np.minimum(3 + self.rng.exponential(16, t.size), 60).astype(np.int64)
        keep = ~_overlaps(t, quiet)
        t, n = t[keep], n[keep]
        if leg:  # a couple of trips down the aisle
            t = np.concatenate([t, self.rng.integers(leg[0] + 1800, leg[1] - 1800, 3)])
            n = np.concatenate([n, self.rng.integers(15, 41, 3)])
        return t, n


class Days(Nights):
    @cached_property
    def _weeks(self) -> dict[dt.date, dict[int, _Workout]]:
        return {}

    def _exercise(self, d: dt.date) -> _Workout | None:
        """This date's workout; 3-5 a week, chosen per ISO week so ranges don't matter."""
        if self._leg_on(d):
            return None
        monday = d - dt.timedelta(days=d.weekday())
        if monday not in self._weeks:
            rng = self._rng(monday.toordinal(), "week")
            days = rng.choice(7, int(rng.integers(3, 6)), replace=False).tolist()
            kinds = rng.choice(len(_EXERCISE), 7, p=_EXERCISE_P).tolist()
            mins = np.where(np.arange(7) >= 5, rng.integers(40, 71, 7), rng.integers(25, 46, 7))
            morning, intervals = (rng.random(7) < 0.4).tolist(), (rng.random(7) < 0.35).tolist()
            self._weeks[monday] = {
                i: _Workout(
                    _EXERCISE[kinds[i]], int(mins[i]), morning[i], intervals[i] and kinds[i] < 2
                )
                for i in days
            }
        return self._weeks[monday].get(d.weekday())

    def _charge_day(self, d: dt.date) -> bool:
        """One charge per 4-day block at block offset 0 or 1, hence every 3-5 days."""
        k = d.toordinal() + int(self._rng(0, "charge-phase").integers(4))
        return k % 4 == int(self._rng(k // 4, "charge").integers(0, 2))

    @cached_property
    def _days(self) -> dict[dt.date, _Day]:
        return {d: self._plan_day(d) for d in _dates(self.start, self.last + _ONE)}

    def _plan_day(self, d: dt.date) -> _Day:
        """Walks, workouts, showers, charging, naps and step bursts between two sleeps."""
        wake, bed = self._nights[d].end_s, self._nights[d + _ONE].start_s
        p = _Planner(self._rng(d.toordinal(), "day"), d, self._zone_evening(d - _ONE), wake, bed)
        leg, ex, nap = self._leg_on(d), self._exercise(d), None
        if leg:
            p.busy.append(leg)
            p.moves.append((*leg, "flight"))
            p.put("shower", wake + 60 * p.m(15, 30), p.m(10, 15), p.off)
            p.put("walk", leg[0] - 60 * p.m(45, 55), p.m(15, 20))
            p.put("walk", leg[1] + 60 * p.m(10, 20), p.m(20, 30), lo=leg[1])
        elif d.weekday() < 5 and not self._in_trip(d):
            p.workday(ex)
        else:
            nap = self._free_day(p, ex)
        evening = p.at(p.m(1170, 1260))
        if not leg and self._charge_day(d) and not p.put("charging", evening, p.m(60, 100), p.off):
            p.put("charging", wake, p.m(60, 100), p.off)  # no room in the evening: charge earlier
        trip = self._trip
        if trip is not None and d == trip.out + _ONE:  # the watch's battery died on the trip
            gap = wake + 60 * p.m(120, 240)
            gap_end = min(
                gap + 60 * p.m(26 * 60, 34 * 60), self._nights[d + 2 * _ONE].start_s - 2700
            )
            p.off.append((gap, gap_end, "battery-dead"))
        burst_t, burst_n = p.bursts(leg, nap)
        return _Day(tuple(p.moves), tuple(p.off), nap, burst_t, burst_n)

    def _free_day(self, p: _Planner, ex: _Workout | None) -> SleepSession | None:
        """A weekend or holiday: later shower, a longer workout, leisure walks, maybe a nap."""
        away, nap = self._in_trip(p.day), None
        if p.rng.random() < 0.9:
            p.put("shower", p.wake + 60 * p.m(20, 60), p.m(10, 20), p.off)
        if ex:
            p.put(ex.kind, p.at(p.m(510, 660)), ex.minutes)
        if p.day.weekday() >= 5 and not away and p.rng.random() < 0.25:
            want, mins = p.at(p.m(810, 930)), p.m(20, 70)
            if (s := _fit(p.busy, want - 3600, p.bed - 3 * _HOUR, 60 * mins, want)) is not None:
                p.busy.append((s, s + 60 * mins))
                lead, tail = int(p.rng.integers(4, 13)), int(p.rng.integers(0, 7))
                body = _broken(p.rng, 2 * mins - lead - tail, "ASLEEP", "RESTLESS")
                runs = _merge([("AWAKE", lead), *body, ("AWAKE", tail)])
                nap = self._session(p.rng, s, runs, main=False)
        # Fewer extra walks on workout days keeps daily totals in a believable band.
        n = p.m(2, 3) if not ex else p.m(1, 2) if ex.kind in ("cycling", "strength") else p.m(0, 1)
        for want in (p.at(p.m(660, 780)), p.at(p.m(960, 1080)), p.at(p.m(1140, 1200)))[:n]:
            p.put("walk", want, p.m(25, 45) if away else p.m(15, 40))
        return nap

    def _off_spans(self) -> list[Span]:
        return [(a, b) for a, b, _ in self._all_off]

    @cached_property
    def _all_off(self) -> list[Labelled]:
        return sorted(o for day in self._days.values() for o in day.off)

    @cached_property
    def _sleep(self) -> tuple[SleepSession, ...]:
        dead = [(a, b) for a, b, why in self._all_off if why == "battery-dead"]

        def seen(s: SleepSession) -> bool:  # processed by now, and the watch was there to see it
            lost = any(a < s.end_s and s.start_s < b for a, b in dead)
            return s.end_s < self.cutoff_s and s.created_s <= self.end_s and not lost

        found = list(self._nights.values())
        found += [x.nap for x in self._days.values() if x.nap]
        return tuple(sorted(filter(seen, found), key=lambda s: s.start_s))

    def sleep(self) -> tuple[SleepSession, ...]:
        """Main sleeps and naps the service has processed by `end`, ascending by start."""
        return self._sleep

    def exercise_bouts(self) -> tuple[Labelled, ...]:
        """(start_s, end_s, kind) of recorded workouts: running, cycling, walking, strength."""
        off = self._off_spans()
        return tuple(
            (a, b, k)
            for day in self._days.values()
            for a, b, k in day.moves
            if k in _TARGET_HR
            and a >= self._t_start
            and b <= self.cutoff_s
            and not any(x < b and a < y for x, y in off)
        )

    def off_wrist(self) -> tuple[Labelled, ...]:
        """(start_s, end_s, reason) with reason "shower", "charging" or "battery-dead"."""
        return tuple(o for o in self._all_off if self._t_start < o[1] and o[0] < self.cutoff_s)
