"""What the watch measures while the person sleeps: SpO2, HRV, breathing, skin temperature.

All of it exists only inside main sleeps the service has processed; each night's daily summary
is dated by the local date the sleep ends on, like sleep itself.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np

from fitvault.simulator.model import SleepSession
from fitvault.simulator.world._base import Records, _civil_day, _source, constant
from fitvault.simulator.world.phone import Phone

HRV_EVERY = 300  # seconds between HRV samples
_STAGE_HRV = {"DEEP": 1.25, "LIGHT": 1.0, "REM": 0.85, "AWAKE": 0.8}
BASELINE_NIGHTS = 3  # nights before a skin-temperature baseline exists ("NaN" until then)


def _stage_at(s: SleepSession, t: np.ndarray) -> list[str]:
    ends = np.array([st.end_s for st in s.stages])
    i = np.minimum(np.searchsorted(ends, t, side="right"), len(s.stages) - 1)
    return [s.stages[k].stage for k in i.tolist()]


class Vitals(Phone):
    @cached_property
    def main_sleeps(self) -> tuple[SleepSession, ...]:
        return tuple(s for s in self.sleep() if s.main_sleep)

    def _end_date(self, s: SleepSession) -> Any:
        return _civil_day((s.end_s + s.end_offset_s) // 86_400)

    def _samples(self, every: int) -> list[tuple[SleepSession, np.ndarray]]:
        out = []
        for s in self.main_sleeps:
            t = np.arange(s.start_s, s.end_s, every, dtype=np.int64)
            out.append((s, t[t >= self._t_start]))
        return out

    def _sample_rec(self, t: list[np.ndarray], **fields: Any) -> Records:
        time = np.concatenate(t) if t else np.zeros(0, np.int64)
        return {
            "time": time,
            "utc_offset_s": self.offsets_at(time).astype(np.int64),
            **fields,
            **_source(time.size),
        }

    @cached_property
    def rec_heart_rate(self) -> Records:
        """Every heart-rate sample (the simulator renders them from heart_rate() directly)."""
        hr = self.heart_rate()
        n = hr.t.size
        return {
            "time": hr.t,
            "utc_offset_s": hr.offset_s.astype(np.int64),
            "bpm": hr.bpm.astype(np.int64),
            "motion_context": constant(None, n),
            "sensor_location": constant(None, n),
            **_source(n),
        }

    @cached_property
    def rec_oxygen_saturation(self) -> Records:
        ts, vals = [], []
        for s, t in self._samples(60):
            rng = self._rng(s.start_s, "spo2")
            level = rng.uniform(95.5, 97.5)
            ts.append(t)
            vals.append(np.round(np.minimum(level + rng.normal(0, 0.6, t.size), 100.0), 1))
        return self._sample_rec(ts, percent=np.concatenate(vals) if vals else np.zeros(0))

    @cached_property
    def rec_heart_rate_variability(self) -> Records:
        ts: list[np.ndarray] = []
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("rmssd", "sdnn", "hf", "lf")}
        base = 48 - 0.5 * (self.person.age - 27)
        for s, t in self._samples(HRV_EVERY):
            rng = self._rng(s.start_s, "hrv")
            factor = np.array([_STAGE_HRV.get(x, 1.0) for x in _stage_at(s, t)])
            rmssd = np.round(np.maximum(base * factor + rng.normal(0, 4, t.size), 5), 1)
            ts.append(t)
            cols["rmssd"].append(rmssd)
            cols["sdnn"].append(np.round(rmssd * rng.uniform(1.15, 1.45, t.size), 1))
            cols["hf"].append(np.round(rmssd**2 * rng.uniform(0.8, 1.2, t.size), 1))
            cols["lf"].append(np.round(rmssd**2 * rng.uniform(1.0, 1.8, t.size), 1))
        joined = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
        return self._sample_rec(
            ts,
            rmssd_ms=joined["rmssd"],
            sdnn_ms=joined["sdnn"],
            hf_power=joined["hf"],
            lf_power=joined["lf"],
        )

    @cached_property
    def rec_respiratory_rate_sleep_summary(self) -> Records:
        cols: dict[str, list[float]] = {}
        times = []
        for s in self.main_sleeps:
            rng = self._rng(s.start_s, "breathing")
            full = rng.uniform(13.0, 16.0)
            times.append(s.end_s)
            for stage, delta in (("full", 0.0), ("deep", -0.8), ("light", -0.2), ("rem", 0.7)):
                cols.setdefault(f"{stage}_breaths_per_minute", []).append(
                    round(full + delta + rng.normal(0, 0.2), 1)
                )
                cols.setdefault(f"{stage}_signal_to_noise", []).append(
                    round(rng.uniform(12, 30), 2)
                )
                cols.setdefault(f"{stage}_std_dev", []).append(round(rng.uniform(0.5, 1.5), 2))
        rec = self._sample_rec([np.array(times, dtype=np.int64)])
        names = [f"{s}_{k}" for s in ("full", "deep", "light", "rem")
                 for k in ("breaths_per_minute", "signal_to_noise", "std_dev")]  # fmt: skip
        return {**rec, **{k: np.array(cols.get(k, []), dtype=np.float64) for k in names}}

    def _nightly(self, rec: Records, column: str) -> dict[Any, np.ndarray]:
        """A sample type's values grouped by the main sleep they belong to (keyed by end date)."""
        t = rec["time"]
        out = {}
        for s in self.main_sleeps:
            a, b = np.searchsorted(t, [s.start_s, s.end_s + 1])
            out[self._end_date(s)] = np.asarray(rec[column][a:b])
        return out

    def _daily(self, rows: list[dict[str, Any]]) -> Records:
        keys = rows[0].keys() if rows else ()
        out: Records = {k: [r[k] for r in rows] for k in keys}
        for k in keys:
            if k != "date":
                out[k] = np.array(out[k], dtype=np.float64)
        return {**out, **_source(len(rows))} if rows else {"date": [], **_source(0)}

    @cached_property
    def rec_daily_heart_rate_variability(self) -> Records:
        hrv = self.rec_heart_rate_variability
        rmssd = self._nightly(hrv, "rmssd_ms")
        rows: list[dict[str, Any]] = []
        for s in self.main_sleeps:
            d, v = self._end_date(s), rmssd[self._end_date(s)]
            if not v.size:
                continue
            deep = np.array(
                [
                    x
                    for x, st in zip(
                        v, _stage_at(s, np.arange(s.start_s, s.end_s, HRV_EVERY)), strict=False
                    )
                    if st == "DEEP"
                ]
            )
            rng = self._rng(s.start_s, "daily-hrv")
            rows.append(
                {
                    "date": d,
                    "avg_rmssd_ms": round(float(v.mean()), 2),
                    "non_rem_bpm": round(self._rhr(d)) + 1,
                    "entropy": round(float(rng.uniform(2.2, 3.0)), 3),
                    "deep_sleep_rmssd_ms": round(float(deep.mean()), 2) if deep.size else math.nan,
                }
            )
        out = self._daily(rows)
        if rows:
            out["non_rem_bpm"] = out["non_rem_bpm"].astype(np.int64)
        return out

    @cached_property
    def rec_daily_oxygen_saturation(self) -> Records:
        spo2 = self._nightly(self.rec_oxygen_saturation, "percent")
        rows: list[dict[str, Any]] = []
        means: list[float] = []
        for d, v in spo2.items():
            if not v.size:
                continue
            avg = round(float(v.mean()), 1)
            prior = means[-30:]
            rows.append(
                {
                    "date": d,
                    "avg_percent": avg,
                    "lower_bound_percent": float(v.min()),
                    "upper_bound_percent": float(v.max()),
                    "std_dev_percent": round(float(np.std(prior)), 2)
                    if len(prior) >= 7
                    else math.nan,
                }
            )
            means.append(avg)
        return self._daily(rows)

    @cached_property
    def rec_daily_respiratory_rate(self) -> Records:
        rr = self.rec_respiratory_rate_sleep_summary
        rows = [
            {"date": self._end_date(s), "breaths_per_minute": float(v)}
            for s, v in zip(self.main_sleeps, rr["full_breaths_per_minute"], strict=True)
        ]
        return self._daily(rows)

    @cached_property
    def rec_daily_sleep_temperature_derivations(self) -> Records:
        rows: list[dict[str, Any]] = []
        nightly: list[float] = []
        trip = self._trip
        for s in self.main_sleeps:
            d = self._end_date(s)
            rng = self._rng(s.start_s, "skin-temp")
            away = trip is not None and trip.out < d <= trip.back + (d - d)
            t = round(33.6 + rng.normal(0, 0.15) + 0.35 * away, 2)
            prior = nightly[-30:]
            base = float(np.median(prior)) if len(prior) >= BASELINE_NIGHTS else math.nan
            rel = (
                float(np.std(np.array(prior) - base)) if len(prior) >= BASELINE_NIGHTS else math.nan
            )
            rows.append(
                {
                    "date": d,
                    "nightly_celsius": t,
                    "baseline_celsius": round(base, 2) if not math.isnan(base) else base,
                    "relative_nightly_stddev_30d_celsius": round(rel, 3)
                    if not math.isnan(rel)
                    else rel,
                }
            )
            nightly.append(t)
        return self._daily(rows)
