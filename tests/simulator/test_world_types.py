"""The new series agree with each other: one person, not forty independent random streams."""

from __future__ import annotations

import numpy as np
import pytest

from fitvault.simulator.world import World
from fitvault.simulator.world.minutes import RUN_CADENCE


@pytest.fixture(scope="module")
def w(world: World) -> World:
    return world


def _sleep_spans(w: World, main_only: bool = True) -> list[tuple[int, int]]:
    return [(s.start_s, s.end_s) for s in w.sleep() if s.main_sleep or not main_only]


def _inside(t: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    hit = np.zeros(t.size, dtype=bool)
    for a, b in spans:
        hit |= (t >= a) & (t < b)
    return hit


def test_distance_is_steps_times_stride(w: World) -> None:
    """Each distance minute is a watch step minute × stride; running minutes stride longer."""
    dist, steps = w.records("distance"), w.records("steps")
    watch = np.array([p == "FITBIT" for p in steps["platform"]])
    assert np.array_equal(dist["start_time"], steps["start_time"][watch])
    stride = dist["distance_mm"] / steps["count"][watch]
    run = steps["count"][watch] >= RUN_CADENCE
    assert run.any()
    assert stride[run].min() > stride[~run].max()


def test_zone_minutes_follow_heart_rate_and_daily_zones(w: World) -> None:
    """A minute's zone is where its mean HR falls in that day's daily-heart-rate-zones bounds."""
    tz = w.records("time-in-heart-rate-zone")
    hr = w.heart_rate()
    zones = w.records("daily-heart-rate-zones")
    bounds = {
        (d, z): (lo, hi)
        for d, z, lo, hi in zip(
            zones["date"], zones["heart_rate_zone"], zones["min_bpm"], zones["max_bpm"], strict=True
        )
    }
    checked = 0
    for i in range(0, tz["start_time"].size, 7):
        a = int(tz["start_time"][i])
        sel = (hr.t >= a) & (hr.t < a + 60)
        mean = round(float(hr.bpm[sel].mean()))
        day = np.datetime64((a + int(tz["utc_offset_s"][i])) // 86_400, "D").item()
        lo, hi = bounds[(day, tz["heart_rate_zone"][i])]
        assert lo <= mean
        assert mean <= hi or tz["heart_rate_zone"][i] == "PEAK"  # HR can top 220 - age
        checked += 1
    assert checked > 10
    azm = w.records("active-zone-minutes")
    assert set(azm["start_time"].tolist()) <= set(tz["start_time"].tolist())
    assert set(azm["minutes"].tolist()) <= {1, 2}


def test_spo2_and_hrv_only_during_main_sleep(w: World) -> None:
    """Every SpO2 and HRV sample lies inside a main sleep; daily values exist per such night."""
    spans = _sleep_spans(w)
    for name in ("oxygen-saturation", "heart-rate-variability"):
        t = w.records(name)["time"]
        assert t.size
        assert _inside(t, spans).all()
    assert len(w.records("daily-oxygen-saturation")["date"]) == len(spans)
    assert len(w.records("respiratory-rate-sleep-summary")["time"]) == len(spans)


def test_total_calories_are_basal_plus_active(w: World) -> None:
    """Per day, total-calories = basal-energy-burned + active-energy-burned (within rounding)."""
    total = dict(
        zip(w.records("total-calories")["date"], w.records("total-calories")["kcal"], strict=True)
    )
    for name in ("basal-energy-burned", "active-energy-burned"):
        rec = w.records(name)
        days = (rec["start_time"] + rec["utc_offset_s"]) // 86_400
        for d in np.unique(days).tolist():
            total_d = total[np.datetime64(d, "D").item()]
            assert rec["kcal"][days == d].sum() <= total_d + 1e-6


def test_exercise_sessions_are_the_worlds_workouts(w: World) -> None:
    """exercise = exercise_bouts; runs have 1-km splits summing to the session's distance."""
    ex = w.records("exercise")
    bouts = w.exercise_bouts()
    assert ex["start_time"].tolist() == [a for a, _, _ in bouts]
    splits = w.child_records("exercise", "exercise_splits")
    for i, kind in enumerate(ex["exercise_type"]):
        if kind == "RUNNING":
            mine = splits["session_start"] == ex["start_time"][i]
            got = sum(d or 0 for d, m in zip(splits["distance_mm"], mine, strict=True) if m)
            assert got == ex["distance_mm"][i]
    events = w.child_records("exercise", "exercise_events")
    assert events["event_type"].count("START") == len(bouts)


def test_phone_counts_steps_on_some_days_only(w: World) -> None:
    """The phone (HEALTH_CONNECT) counts steps on the trip and a few other days, not every day."""
    rec = w.records("steps")
    phone = np.array([p == "HEALTH_CONNECT" for p in rec["platform"]])
    days = set(((rec["start_time"] + rec["utc_offset_s"]) // 86_400)[phone].tolist())
    all_days = set(((rec["start_time"] + rec["utc_offset_s"]) // 86_400).tolist())
    assert 0 < len(days) < len(all_days)
