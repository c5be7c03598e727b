"""Shared helpers of the world's generators: time zones, ids, RNG draws, span arithmetic."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from fitvault.simulator.model import (
    I64,
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


def _dates(a: dt.date, b: dt.date) -> list[dt.date]:
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


Records = dict[str, Any]  # column name → numpy array (numbers) or list (strings, objects, None)
EPOCH = dt.date(1970, 1, 1)
WATCH, PHONE, SCALE = "Pixel Watch 3", "Pixel 9", "Aria Air"
FITBIT, HEALTH_CONNECT = "FITBIT", "HEALTH_CONNECT"


def _epoch_day(d: dt.date) -> int:
    return (d - EPOCH).days


def _civil_day(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=days)


def constant(value: Any, n: int) -> npt.NDArray[np.object_]:
    """A read-only column of `n` equal values that costs no memory per row (a broadcast view)."""
    return np.broadcast_to(np.array(value, dtype=object), (n,))


def _source(n: int, device: str = WATCH, platform: str = FITBIT) -> Records:
    """The device/platform columns of `n` rows from one data source."""
    return {"device": constant(device, n), "platform": constant(platform, n)}


def daily_sums(day: I64, values: npt.NDArray[Any]) -> tuple[I64, F64]:
    """(distinct days ascending, sum of `values` per day): the one way every daily total is made."""
    days, inverse = np.unique(day, return_inverse=True)
    sums = np.bincount(inverse, weights=values.astype(np.float64), minlength=days.size)
    return days, np.asarray(sums, dtype=np.float64)


def take(rec: Records, idx: npt.NDArray[Any]) -> Records:
    """The rows `idx` of every column."""
    return {
        k: v[idx] if isinstance(v, np.ndarray) else [v[i] for i in idx.tolist()]
        for k, v in rec.items()
    }
