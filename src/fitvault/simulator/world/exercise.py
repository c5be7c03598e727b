"""Exercise sessions: the world's workouts with the metrics the watch reports about them.

Every number is taken from the other series over the workout's span (steps, distance, energy,
zone minutes, heart rate, climbs), so a session agrees with the per-minute types. Runs get 1-km
splits and mobility metrics; every session has a START and a STOP event.
"""

from __future__ import annotations

from functools import cached_property
from itertools import pairwise
from typing import Any

import numpy as np

from fitvault.simulator.world._base import _MIN, Records, _source
from fitvault.simulator.world.body import Body

EXERCISE_TYPE = {"running": "RUNNING", "cycling": "BIKING", "walking": "WALKING",
                 "strength": "STRENGTH_TRAINING"}  # fmt: skip
DISPLAY = {"running": "Run", "cycling": "Bike", "walking": "Walk", "strength": "Strength training"}
SPLIT_MM = 1_000_000  # runs are split every kilometre


class Exercise(Body):
    def _metrics(self, a: int, b: int, kind: str) -> dict[str, Any]:
        """MetricsSummary columns over [a, b) from the per-minute series."""
        g = self.grid
        i0, i1 = np.searchsorted(g.t, [a, b])
        hr = self.heart_rate()
        h0, h1 = np.searchsorted(hr.t, [a, b])
        steps = int(g.steps[i0:i1].sum())
        dist = float(self.grid_distance[i0:i1].sum())
        if kind == "cycling":
            dist = round((b - a) * float(self._rng(a, "ride").uniform(5500, 7500)), -2)
        zone = g.zone[i0:i1]
        azm = int(((zone == 2) * 1 + (zone >= 3) * 2).sum())
        avg_hr = round(float(hr.bpm[h0:h1].mean())) if h1 > h0 else None
        kcal = round(float((g.basal_kcal[i0:i1] + g.active_kcal[i0:i1]).sum()), 1)
        secs = b - a
        return {
            "calories_kcal": kcal,
            "distance_mm": dist or None,
            "steps": steps or None,
            "avg_heart_rate_bpm": avg_hr,
            "active_zone_minutes": azm or None,
            "avg_pace_s_per_m": round(secs / (dist / 1000), 4) if dist else None,
            "avg_speed_mm_per_s": round(dist / secs, 2) if dist else None,
        }

    @cached_property
    def _sessions(self) -> list[dict[str, Any]]:
        out = []
        g = self.grid
        climbs, floors = self._climbs
        for a, b, kind in self.exercise_bouts():
            i0, i1 = np.searchsorted(g.t, [a, b])
            zone = g.zone[i0:i1]
            running = kind == "running"
            c0, c1 = np.searchsorted(g.t[climbs], [a, b])
            gain = float(floors[c0:c1].sum() * 3000)
            cadence = float(g.steps[i0:i1].mean()) if running and i1 > i0 else None
            m = self._metrics(a, b, kind)
            out.append(
                {
                    "start_time": a,
                    "end_time": b,
                    "start_utc_offset_s": self.offset_at(a),
                    "end_utc_offset_s": self.offset_at(b),
                    "exercise_type": EXERCISE_TYPE[kind],
                    "display_name": DISPLAY[kind],
                    "active_duration_s": float(b - a),
                    **m,
                    "elevation_gain_mm": gain or None,
                    **{
                        f"{z}_zone_s": float(60 * int((zone == k).sum()))
                        for k, z in enumerate(("light", "moderate", "vigorous", "peak"), 1)
                    },
                    "avg_cadence_spm": round(cadence, 1) if cadence else None,
                    "avg_ground_contact_s": 0.25 if running else None,
                    "avg_stride_mm": round(0.65 * self.body[0]) if running else None,
                    "avg_vertical_oscillation_mm": 85 if running else None,
                    "avg_vertical_ratio": 7.8 if running else None,
                    "run_vo2_max": self._run_vo2(b) if running else None,
                    "total_swim_lengths": None,
                    "has_gps": True if kind != "strength" else None,
                    "pool_length_mm": None,
                    "notes": None,
                    "updated_at": b + 120 + int(self._rng(a, "ex-update").integers(0, 60)),
                }
            )
        return out

    @cached_property
    def rec_exercise(self) -> Records:
        rows = self._sessions
        cols = list(rows[0]) if rows else ["start_time", "end_time"]
        out: Records = {k: [r[k] for r in rows] for k in cols}
        for k in ("start_time", "end_time", "start_utc_offset_s", "end_utc_offset_s"):
            out[k] = np.array(out.get(k, []), dtype=np.int64)
        return {**out, **_source(len(rows))}

    @cached_property
    def child_exercise_events(self) -> Records:
        rows = [
            (s["start_time"], t, off, ev)
            for s in self._sessions
            for t, off, ev in (
                (s["start_time"], s["start_utc_offset_s"], "START"),
                (s["end_time"], s["end_utc_offset_s"], "STOP"),
            )
        ]
        return {
            "session_start": np.array([r[0] for r in rows], dtype=np.int64),
            "event_time": np.array([r[1] for r in rows], dtype=np.int64),
            "utc_offset_s": np.array([r[2] for r in rows], dtype=np.int64),
            "event_type": [r[3] for r in rows],
        }

    @cached_property
    def child_exercise_splits(self) -> Records:
        """1-km splits of each run, at minute resolution; the last one is what is left."""
        g = self.grid
        rows: list[dict[str, Any]] = []
        for s in self._sessions:
            if s["exercise_type"] != "RUNNING":
                continue
            a, b = s["start_time"], s["end_time"]
            i0, i1 = np.searchsorted(g.t, [a, b])
            cum = np.cumsum(self.grid_distance[i0:i1])
            ends = (np.searchsorted(cum, SPLIT_MM * np.arange(1, int(cum[-1] // SPLIT_MM) + 1))
                    if cum.size else np.zeros(0, np.int64))  # fmt: skip
            bounds = [a, *(int(g.t[i0 + k]) + _MIN for k in ends.tolist())]
            if bounds[-1] < b:
                bounds.append(b)
            for x, y in pairwise(sorted(set(bounds))):
                rows.append(
                    {
                        "session_start": a,
                        "start_time": x,
                        "end_time": y,
                        "utc_offset_s": self.offset_at(x),
                        "split_type": "DISTANCE",
                        "active_duration_s": float(y - x),
                        **self._metrics(x, y, "running"),
                        "elevation_gain_mm": None,
                    }
                )
        cols = list(rows[0]) if rows else ["session_start", "start_time", "end_time"]
        out: Records = {k: [r[k] for r in rows] for k in cols}
        for k in ("session_start", "start_time", "end_time", "utc_offset_s"):
            out[k] = np.array(out.get(k, []), dtype=np.int64)
        return out
