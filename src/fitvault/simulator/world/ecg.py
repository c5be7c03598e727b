"""Medical features of the watch: the occasional ECG a person takes, and rare AFib alerts (IRN).

Also the types this person never produces (no glucose meter, no thermometer, no swims): their
records are empty but carry every column.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import numpy as np

from fitvault.simulator.world._base import _ONE, WATCH, Records, _source
from fitvault.simulator.world.logs import Logs

ECG_P = 0.08  # chance of an ECG reading on a given day
ECG_HZ, ECG_SECONDS, ECG_SCALE = 250, 2, 1000  # served waveform: 2 s at 250 Hz, in mV × 1000
ECG_SESSION = 30  # the recording lasts 30 s
MEDICAL = {"device_model": WATCH, "algorithm_version": "1.2.0"}


def _waveform(rng: np.random.Generator, bpm: int) -> list[int]:
    """A plausible lead-I trace: a P wave, a sharp QRS and a T wave per beat."""
    t = np.arange(ECG_HZ * ECG_SECONDS) / ECG_HZ
    period = 60.0 / bpm
    phase = (t + rng.uniform(0, period)) % period
    mv = (
        0.15 * np.exp(-(((phase - 0.10) / 0.025) ** 2))
        + 1.1 * np.exp(-(((phase - 0.20) / 0.008) ** 2))
        - 0.2 * np.exp(-(((phase - 0.22) / 0.01) ** 2))
        + 0.3 * np.exp(-(((phase - 0.42) / 0.05) ** 2))
        + rng.normal(0, 0.02, t.size)
    )
    return [int(x) for x in np.rint(mv * ECG_SCALE).tolist()]


class Medical(Logs):
    def _ecg_days(self) -> list[dt.date]:
        dates = self.civil_dates()
        sure = dates[round(0.6 * (len(dates) - 1))]
        return [d for d in dates if d == sure or self._rng(d.toordinal(), "ecg").random() < ECG_P]

    @cached_property
    def rec_electrocardiogram(self) -> Records:
        rows = []
        for d in self._ecg_days():
            rng = self._rng(d.toordinal(), "ecg-take")
            t = self._nights[d].end_s + 3600 * int(rng.integers(2, 10))
            if not (self._t_start <= t and t + ECG_SESSION < self.cutoff_s):
                continue
            if t >= self._nights[d + _ONE].start_s:
                continue
            bpm = round(self._rhr(d) + rng.uniform(8, 20))
            rows.append(
                {
                    "start_time": t,
                    "avg_bpm": bpm,
                    "classification": "INCONCLUSIVE"
                    if rng.random() < 0.1
                    else "NORMAL_SINUS_RHYTHM",
                    "lead_number": 1,
                    "sampling_hz": ECG_HZ,
                    "millivolts_scaling_factor": ECG_SCALE,
                    "waveform": _waveform(rng, bpm),
                    **MEDICAL,
                }
            )
        return self._session_rec(rows, ECG_SESSION)

    def _session_rec(self, rows: list[dict[str, Any]], length: int | None) -> Records:
        cols = list(rows[0]) if rows else ["start_time"]
        out: Records = {k: [r[k] for r in rows] for k in cols}
        start = np.array(out.pop("start_time", []), dtype=np.int64)
        end = start + length if length else np.array(out.pop("end_time", []), dtype=np.int64)
        return {
            "start_time": start,
            "end_time": end,
            "start_utc_offset_s": self.offsets_at(start).astype(np.int64),
            "end_utc_offset_s": self.offsets_at(end).astype(np.int64),
            **out,
            **_source(start.size),
        }

    @cached_property
    def _irn_windows(self) -> list[tuple[int, int, list[dict[str, Any]]]]:
        """Two 10-minute windows of irregular beats in one night of the range."""
        nights = self.main_sleeps
        if not nights:
            return []
        s = nights[round(0.75 * (len(nights) - 1))]
        rng = self._rng(s.start_s, "irn")
        out = []
        for k in range(2):
            a = s.start_s + 3600 * (1 + 2 * k) + 60 * int(rng.integers(0, 30))
            beats = []
            for j in range(5):
                t = a + 120 * j + int(rng.integers(0, 60))
                beats.append(
                    {
                        "beatsPerMinute": int(rng.integers(55, 110)),
                        "physicalTime": dt.datetime.fromtimestamp(t, dt.UTC).strftime(
                            "%Y-%m-%dT%H:%M:%SZ"
                        ),
                        "utcOffset": f"{self.offset_at(t)}s",
                    }
                )
            out.append((a, a + 600, beats))
        return [w for w in out if w[1] < self.cutoff_s]

    @cached_property
    def rec_irregular_rhythm_notification(self) -> Records:
        w = self._irn_windows
        rows = [{"start_time": w[0][0], "end_time": w[-1][1], **MEDICAL}] if w else []
        return self._session_rec(rows, None)

    @cached_property
    def child_irregular_rhythm_alert_windows(self) -> Records:
        w = self._irn_windows
        start = np.array([a for a, _, _ in w], dtype=np.int64)
        return {
            "session_start": np.full(len(w), w[0][0] if w else 0, dtype=np.int64),
            "start_time": start,
            "end_time": np.array([b for _, b, _ in w], dtype=np.int64),
            "utc_offset_s": self.offsets_at(start).astype(np.int64),
            "positive": [True] * len(w),
            "heart_beats": [beats for _, _, beats in w],
        }

    def _never(self, *columns: str) -> Records:
        """A type this person has no data for: no rows, every column."""
        return {"time": np.zeros(0, np.int64), "utc_offset_s": np.zeros(0, np.int64)} | {
            c: [] for c in (*columns, "device", "platform")
        }

    @cached_property
    def rec_blood_glucose(self) -> Records:
        return self._never(
            "mg_dl", "meal_type", "measurement_source", "measurement_timing", "specimen", "notes"
        )

    @cached_property
    def rec_core_body_temperature(self) -> Records:
        return self._never("celsius", "measurement_location", "measurement_id")

    @cached_property
    def rec_swim_lengths_data(self) -> Records:
        rec = self._never("stroke_count", "stroke_type")
        t = rec.pop("time")
        return {"start_time": t, "end_time": t, **rec}
