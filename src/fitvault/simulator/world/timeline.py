"""Where the person is: home zone, the trip, UTC offsets; the world's constructor."""

from __future__ import annotations

import datetime as dt
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from itertools import pairwise
from typing import Self
from zoneinfo import ZoneInfo

import numpy as np

from fitvault.simulator.model import (
    I32,
    I64,
    Person,
    ZoneSpan,
)
from fitvault.simulator.world._base import (
    _DAY,
    _HOMES,
    _NAMES,
    _ONE,
    _TRIP_TO,
    Span,
    _at,
    _choose_home,
    _stable_int,
    _transitions,
    _utc_offset,
)


@dataclass(frozen=True)
class _Trip:
    out: dt.date
    back: dt.date
    dest: str
    east: int  # +1 if the destination is east of home, else -1
    legs: tuple[Span, Span]  # (departure, arrival) of the outbound and the return flight


class Timeline:
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
        self.person = self._make_person()

    @classmethod
    def default(cls, *, days: int = 90, seed: int = 7, now: dt.datetime | None = None) -> Self:
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
