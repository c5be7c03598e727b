"""One seeded synthetic person: where they are, how they sleep and move, what their heart does.

Every API face renders from a World, so all faces agree. Each local date's content comes from an
RNG keyed by (seed, date ordinal, purpose) and never from generation order, so a date looks the
same whatever range the World spans, as long as the zone timeline around it is the same.

A "unit" of date d runs from the bedtime of the night that ends on d's morning to the next
bedtime; the night, d's resting heart rate and d's waking day are rendered together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zlib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby, pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from fitvault.simulator.model import (
    I16,
    I32,
    I64,
    DailyValue,
    HeartRateSeries,
    Person,
    SleepSession,
    SleepStage,
    StepsSeries,
    ZoneSpan,
)

F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
Span = tuple[int, int]
Labelled = tuple[int, int, str]

_MIN, _HOUR, _DAY = 60, 3600, 86400
_ONE = dt.timedelta(days=1)
_HOMES = ("America/New_York", "Europe/London", "Australia/Sydney", "America/Santiago")
# 5-9 h away from home, so jet lag is real but a ~7 h daytime flight is still a plausible story.
_AWAY = ("Europe/London", "America/New_York", "Asia/Dubai", "Europe/Madrid")
_TRIP_TO = dict(zip(_HOMES, _AWAY, strict=True))
_NAMES = ("Alex Morgan", "Sam Rivera", "Jordan Lee", "Robin Novak", "Casey Ahmed", "Kim Larsen")
_EXERCISE = ("running", "cycling", "walking", "strength")
_EXERCISE_P = (0.4, 0.25, 0.15, 0.2)
# Steps per minute while doing each kind of move (lo, hi of the per-bout mean).
_CADENCE = {
    "walk": (95.0, 120.0),
    "running": (150.0, 175.0),
    "walking": (100.0, 120.0),
    "cycling": (0.0, 0.0),
    "strength": (0.0, 12.0),
    "flight": (0.0, 0.0),
}
_TARGET_HR = {
    "running": (145, 165),
    "cycling": (138, 158),
    "walking": (100, 118),
    "strength": (105, 125),
}
# (bpm relative to the sleeping baseline, noise scale) per stage.
_SLEEP_HR = {
    "DEEP": (-5.0, 0.35),
    "LIGHT": (-1.0, 0.7),
    "REM": (3.0, 1.6),
    "AWAKE": (8.0, 1.4),
    "ASLEEP": (-1.0, 0.7),
    "RESTLESS": (3.0, 1.2),
}
_DEEP_SHARE = (0.36, 0.26, 0.09)  # of cycles 1-3; later cycles have (almost) none
_TICK = 30  # stage boundaries and the HR level grid


class _Workout(NamedTuple):
    kind: str
    minutes: int
    morning: bool
    intervals: bool

    @property
    def hard(self) -> bool:
        return self.kind in ("running", "cycling") and (self.minutes >= 40 or self.intervals)


@dataclass(frozen=True)
class _Trip:
    out: dt.date
    back: dt.date
    dest: str
    east: int  # +1 if the destination is east of home, else -1
    legs: tuple[Span, Span]  # (departure, arrival) of the outbound and the return flight


@dataclass(frozen=True)
class _Day:
    moves: tuple[Labelled, ...]  # walks, workouts, flights
    off: tuple[Labelled, ...]
    nap: SleepSession | None
    burst_t: I64
    burst_n: I64


def _utc_offset(zone: str, t: int) -> int:
    off = dt.datetime.fromtimestamp(t, ZoneInfo(zone)).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def _transitions(zone: str, t0: int, t1: int) -> list[Span]:
    """(instant, new offset) for each offset change in (t0, t1]; found by scan then bisection."""
    out: list[Span] = []
    prev_t, prev = t0, _utc_offset(zone, t0)
    for t in range(t0 + 3 * _HOUR, t1 + 3 * _HOUR, 3 * _HOUR):
        t = min(t, t1)
        off = _utc_offset(zone, t)
        if off != prev:
            lo, hi = prev_t, t
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if _utc_offset(zone, mid) == prev else (lo, mid)
            out.append((hi, off))
            prev = off
        prev_t = t
    return out


def _at(day: dt.date, minute: int, zone: str) -> int:
    """UTC second of local wall-clock `minute` minutes after `day`'s midnight in `zone`."""
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    return int(naive.replace(tzinfo=ZoneInfo(zone)).timestamp())


def _choose_home(start: dt.date, end_s: int) -> str:
    for zone in _HOMES:
        if _transitions(zone, _at(start, 0, zone), end_s):
            return zone
    return _HOMES[0]


def _stable_int(*parts: object) -> int:
    """A 19-digit id that is the same in every process (unlike hash())."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return 10**18 + int.from_bytes(digest, "big") % (8 * 10**18)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _fit(busy: list[Span], lo: int, hi: int, dur: int, want: int) -> int | None:
    """Earliest start >= want keeping [s, s + dur) in [lo, hi] and 5 min clear of busy spans."""
    s = max(lo, want)
    for a, b in sorted(busy):
        if a >= s + dur + 300:
            break
        if b + 300 > s:
            s = b + 300
    return s if s + dur <= hi else None


def _overlaps(t: I64, spans: Iterable[Span], width: int = 1) -> Bool:
    """True where [t, t + width) meets one of the spans; `t` must be ascending."""
    hit = np.zeros(t.size, dtype=np.bool_)
    for a, b in spans:
        i0, i1 = np.searchsorted(t, [a - width + 1, b])
        hit[i0:i1] = True
    return hit


def _smooth(x: F64, tau: float) -> F64:
    """Causal exponential smoothing: HR lags what the body does by about `tau` samples."""
    k = np.exp(-np.arange(int(6 * tau) + 1) / tau)
    padded = np.concatenate([np.full(k.size - 1, x[0]), x])
    return np.convolve(padded, k / k.sum(), mode="valid")


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


def _dates(a: dt.date, b: dt.date) -> list[dt.date]:
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


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


class World:
    """A seeded person from local date `start` up to the aware instant `end` ("now")."""

    def __init__(self, seed: int = 7, *, start: dt.date, end: dt.datetime) -> None:
        if end.tzinfo is None:
            raise ValueError("end must be an aware datetime")
        self.seed = seed
        self.start = start
        self.end_s = int(end.timestamp())
        # The tracker last synced a few minutes ago: nothing newer than this is visible.
        self.sync_lag_s = int(self._rng(0, "sync").integers(120, 721))
        self.cutoff_s = self.end_s - self.sync_lag_s
        self.home_zone = _choose_home(start, self.end_s)
        self.last = dt.datetime.fromtimestamp(self.end_s, ZoneInfo(self.home_zone)).date()
        if self.last < start:
            raise ValueError("end is before start")
        self._t_start = _at(start, 0, self.home_zone)
        self._trip = self._plan_trip()
        self.zones = self._zone_spans()
        tr = [(z.start_s, _utc_offset(z.zone, z.start_s)) for z in self.zones]
        for z in self.zones:
            tr += _transitions(z.zone, z.start_s, z.end_s)
        tr.sort()
        self._tr_t = np.array([t for t, _ in tr], dtype=np.int64)
        self._tr_off = np.array([o for _, o in tr], dtype=np.int32)
        self._weeks: dict[dt.date, dict[int, _Workout]] = {}
        self.person = self._make_person()

    @classmethod
    def default(cls, *, days: int = 90, seed: int = 7, now: dt.datetime | None = None) -> World:
        """`days` of history up to `now`; start is counted in the home zone it leads to."""
        now = now or dt.datetime.now(dt.UTC)
        for zone in _HOMES:
            start = now.astimezone(ZoneInfo(zone)).date() - dt.timedelta(days=days)
            if _choose_home(start, int(now.timestamp())) == zone:
                return cls(seed, start=start, end=now)
        start = now.astimezone(ZoneInfo(_HOMES[0])).date() - dt.timedelta(days=days)
        return cls(seed, start=start, end=now)

    def _rng(self, key: int, tag: str) -> np.random.Generator:
        return np.random.default_rng([self.seed % 2**63, key, zlib.crc32(tag.encode())])

    def _plan_trip(self) -> _Trip | None:
        rng = self._rng(0, "trip")
        stay, jitter = int(rng.integers(4, 7)), rng.integers(-30, 31, 2).tolist()
        flight = rng.integers(400, 441, 2).tolist()
        home, dest = self.home_zone, _TRIP_TO[self.home_zone]
        base = self.start + dt.timedelta(days=round(0.4 * (self.last - self.start).days))

        def quiet(day: dt.date) -> bool:  # no DST change that day or 2 days around, either zone
            return all(
                _utc_offset(z, _at(day - 3 * _ONE, 720, z))
                == _utc_offset(z, _at(day + 3 * _ONE, 0, z))
                for z in (home, dest)
            )

        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7):
            out = base + dt.timedelta(days=k)
            back = out + dt.timedelta(days=stay)
            if (
                out > self.start + _ONE
                and back + 2 * _ONE <= self.last
                and quiet(out)
                and quiet(back)
            ):
                dep1 = _at(out, 540 + jitter[0], home)
                dep2 = _at(back, 540 + jitter[1], dest)
                legs = ((dep1, dep1 + 60 * flight[0]), (dep2, dep2 + 60 * flight[1]))
                east = 1 if _utc_offset(dest, dep1) > _utc_offset(home, dep1) else -1
                return _Trip(out, back, dest, east, legs)
        return None

    def _zone_spans(self) -> tuple[ZoneSpan, ...]:
        lo, hi = _at(self.start - _ONE, 0, self.home_zone), self.end_s + _DAY
        trip = self._trip
        if trip is None:
            return (ZoneSpan(lo, hi, self.home_zone),)
        (a1, a2), home = (trip.legs[0][1], trip.legs[1][1]), self.home_zone
        return (ZoneSpan(lo, a1, home), ZoneSpan(a1, a2, trip.dest), ZoneSpan(a2, hi, home))

    def offset_at(self, t_s: int) -> int:
        """Seconds east of UTC at instant `t_s`, in the zone the person is in then."""
        i = bisect_right([z.start_s for z in self.zones], t_s) - 1
        return _utc_offset(self.zones[min(max(i, 0), len(self.zones) - 1)].zone, t_s)

    def offsets_at(self, t: I64) -> I32:
        """Vectorised offset_at, from a precomputed table of every offset change."""
        i = np.searchsorted(self._tr_t, t, side="right")
        return self._tr_off[np.maximum(i - 1, 0, out=i)]

    def travel(self) -> tuple[tuple[int, str, str], ...]:
        """(arrival instant, from zone, to zone) for each flight; the zone switches on landing."""
        z = self.zones
        return tuple((b.start_s, a.zone, b.zone) for a, b in pairwise(z))

    def _in_trip(self, d: dt.date) -> bool:
        """Whether d's morning is spent away from home."""
        return self._trip is not None and self._trip.out < d <= self._trip.back

    def _zone_evening(self, d: dt.date) -> str:
        trip = self._trip
        return trip.dest if trip is not None and trip.out <= d < trip.back else self.home_zone

    def _leg_on(self, d: dt.date) -> Span | None:
        trip = self._trip
        if trip is None or d not in (trip.out, trip.back):
            return None
        return trip.legs[0] if d == trip.out else trip.legs[1]

    def _jetlag(self, d: dt.date) -> tuple[int, int]:
        """(nights since arrival: 1 or 2, +1 east / -1 west) for the night ending on d."""
        trip = self._trip
        if trip is not None:
            for arrived, direction in ((trip.out, trip.east), (trip.back, -trip.east)):
                if (k := (d - arrived).days) in (1, 2):
                    return k, direction
        return 0, 0

    def _make_person(self) -> Person:
        rng = self._rng(0, "person")
        alphabet = list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
        return Person(
            health_user_id=str(_stable_int(self.seed, "user")),
            legacy_user_id="".join(rng.choice(alphabet, 6).tolist()),
            display_name=_NAMES[int(rng.integers(len(_NAMES)))],
            age=int(rng.integers(27, 53)),
            membership_start=self.start,
            home_zone=self.home_zone,
            device="Pixel Watch 3",
        )

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

    def _off_spans(self) -> list[Span]:
        return [(a, b) for a, b, _ in self._all_off]

    @cached_property
    def _all_off(self) -> list[Labelled]:
        return sorted(o for day in self._days.values() for o in day.off)

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

    def heart_rate(self) -> HeartRateSeries:
        """Every sample while worn, ascending; 1 s apart in workouts, 3-7 s otherwise."""
        return self._hr

    def steps(self) -> StepsSeries:
        """Whole-UTC-minute intervals with a positive count, none asleep or off-wrist."""
        return self._steps

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

    def resting_heart_rate(self) -> tuple[DailyValue, ...]:
        """One value per local date whose main sleep has ended (the app shows it each morning)."""
        return tuple(
            DailyValue(d, round(self._rhr(d)))
            for d in _dates(self.start, self.last)
            if self._nights[d].end_s < self.cutoff_s
        )

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
