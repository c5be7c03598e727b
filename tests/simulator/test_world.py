"""The synthetic person: determinism, time zones, and physiology that looks like a real tracker."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from fitvault.simulator.model import SleepSession
from fitvault.simulator.world import World

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
DAY = 86_400


@pytest.fixture(scope="module")
def w90() -> World:
    return World.default(now=NOW)


@pytest.fixture(scope="module")
def w30() -> World:
    return World(7, start=dt.date(2026, 10, 23), end=NOW)


def mask(t: np.ndarray, spans: object, width: int = 1) -> np.ndarray:
    """Whether [t, t + width) overlaps any (start, end, ...) span."""
    hit = np.zeros(t.size, dtype=bool)
    for a, b, *_ in spans:  # type: ignore[attr-defined]
        hit |= (t + width > a) & (t < b)
    return hit


def main_sleeps(w: World) -> list[SleepSession]:
    return [s for s in w.sleep() if s.main_sleep]


def local_day_bounds(w: World, day: dt.date) -> tuple[int, int]:
    zone = ZoneInfo(w.home_zone)
    a = dt.datetime.combine(day, dt.time(), zone)
    return int(a.timestamp()), int((a + dt.timedelta(days=1)).timestamp())


def slice_of(t: np.ndarray, lo: int, hi: int) -> slice:
    i0, i1 = np.searchsorted(t, [lo, hi])
    return slice(int(i0), int(i1))


def test_same_seed_gives_identical_bytes_whatever_the_call_order() -> None:
    """Two worlds with the same seed and range render byte-identical data, in any call order."""
    start = dt.date(2026, 11, 2)
    a, b = World(11, start=start, end=NOW), World(11, start=start, end=NOW)
    b_sleep, b_steps, b_hr = b.sleep(), b.steps(), b.heart_rate()
    a_hr, a_steps = a.heart_rate(), a.steps()
    for x, y in [(a_hr.t, b_hr.t), (a_hr.bpm, b_hr.bpm), (a_hr.offset_s, b_hr.offset_s)]:
        assert x.tobytes() == y.tobytes()
    for x, y in [(a_steps.start, b_steps.start), (a_steps.count, b_steps.count)]:
        assert x.tobytes() == y.tobytes()
    assert a.sleep() == b_sleep
    assert a.resting_heart_rate() == b.resting_heart_rate()
    assert (a.off_wrist(), a.exercise_bouts(), a.person) == (
        b.off_wrist(),
        b.exercise_bouts(),
        b.person,
    )


def test_different_seed_gives_different_data() -> None:
    """Changing the seed changes the person, the samples and the nights."""
    start = dt.date(2026, 11, 2)
    a, b = World(1, start=start, end=NOW), World(2, start=start, end=NOW)
    assert a.person.health_user_id != b.person.health_user_id
    assert a.heart_rate().bpm.tobytes() != b.heart_rate().bpm.tobytes()
    assert [s.start_s for s in a.sleep()] != [s.start_s for s in b.sleep()]


def test_a_dates_content_does_not_depend_on_the_range() -> None:
    """The same date renders identically in worlds starting 30 and 45 days back."""
    short = World(7, start=dt.date(2026, 10, 23), end=NOW)
    long = World(7, start=dt.date(2026, 10, 8), end=NOW)
    assert short.home_zone == long.home_zone
    day = dt.date(2026, 11, 18)
    lo, hi = local_day_bounds(short, day)
    assert all(t < lo - 3 * DAY for w in (short, long) for t, *_ in w.travel())  # no jet lag left
    for w in (short, long):
        assert w.offset_at(lo) == w.offsets_at(np.array([lo]))[0]
    hs, hl = short.heart_rate(), long.heart_rate()
    ss, sl = slice_of(hs.t, lo, hi), slice_of(hl.t, lo, hi)
    assert hs.t[ss].size > 10_000
    assert hs.t[ss].tobytes() == hl.t[sl].tobytes()
    assert hs.bpm[ss].tobytes() == hl.bpm[sl].tobytes()
    cs, cl = short.steps(), long.steps()
    assert (
        cs.count[slice_of(cs.start, lo, hi)].tobytes()
        == cl.count[slice_of(cl.start, lo, hi)].tobytes()
    )
    assert [s for s in short.sleep() if lo <= s.end_s < hi] == [
        s for s in long.sleep() if lo <= s.end_s < hi
    ]
    assert [v for v in short.resting_heart_rate() if v.date == day] == [
        v for v in long.resting_heart_rate() if v.date == day
    ]


def test_default_world_has_a_dst_change_and_a_trip(w90: World) -> None:
    """90 days up to 2026-11-22: New York with its DST end, and a trip ≥ 4 h of offset away."""
    assert w90.home_zone == "America/New_York" == w90.person.home_zone
    assert w90.start == dt.date(2026, 8, 24) == w90.person.membership_start
    home_offsets = set()
    for z in w90.zones:
        if z.zone == w90.home_zone:
            home_offsets |= set(w90.offsets_at(np.arange(z.start_s, z.end_s, 3600)).tolist())
    assert home_offsets == {-4 * 3600, -5 * 3600}
    travel = w90.travel()
    assert len(travel) == 2
    assert travel[0][1] == travel[1][2] == w90.home_zone != travel[0][2]
    for t, _, _ in travel:
        assert abs(w90.offset_at(t) - w90.offset_at(t - 1)) >= 4 * 3600
    midnight, _ = local_day_bounds(w90, w90.start)
    assert w90.zones[0].start_s == midnight - DAY
    assert w90.zones[-1].end_s == w90.end_s + DAY
    assert all(a.end_s == b.start_s for a, b in zip(w90.zones, w90.zones[1:], strict=False))


def test_vectorised_offsets_match_scalar_offsets(w90: World) -> None:
    """offsets_at agrees with offset_at everywhere the zones cover, DST and travel included."""
    t = np.sort(np.random.default_rng(0).integers(w90.zones[0].start_s, w90.end_s, 2000))
    t = np.concatenate([t, [tr for tr, *_ in w90.travel()]])
    assert w90.offsets_at(t).tolist() == [w90.offset_at(int(x)) for x in t]
    assert w90.heart_rate().offset_s.dtype == np.int32


def test_heart_rate_sampling(w90: World) -> None:
    """HR is strictly increasing, ~5 s apart at rest, 1 s in workouts, absent off-wrist."""
    hr = w90.heart_rate()
    assert (hr.t.dtype, hr.bpm.dtype) == (np.int64, np.int16)
    dt_s = np.diff(hr.t)
    assert dt_s.min() >= 1
    bouts = w90.exercise_bouts()
    in_bout = mask(hr.t, bouts)
    both = in_bout[1:] & in_bout[:-1]
    assert both.sum() > 20_000
    assert set(dt_s[both].tolist()) == {1}
    rest = dt_s[~in_bout[1:] & ~in_bout[:-1] & (dt_s < 60)]
    assert 3 <= np.median(rest) <= 7
    assert np.percentile(rest, 99) <= 7
    assert not mask(hr.t, w90.off_wrist()).any()
    assert hr.bpm.min() >= 35
    assert hr.bpm.max() <= 200
    assert 14_000 < hr.t.size / 90 < 25_000


def test_sleeping_heart_rate_is_low_and_follows_stages(w30: World) -> None:
    """Each night: sleeping mean HR < the next day's awake mean, and DEEP mean < REM mean."""
    hr = w30.heart_rate()
    for s in main_sleeps(w30):
        asleep = hr.bpm[slice_of(hr.t, s.start_s, s.end_s)].astype(float)
        awake = hr.bpm[slice_of(hr.t, s.end_s + 3600, s.end_s + 12 * 3600)].astype(float)
        if awake.size:
            assert asleep.mean() < awake.mean() - 8
        by_stage = {st: [] for st in ("DEEP", "REM")}
        for st in s.stages:
            if st.stage in by_stage:
                by_stage[st.stage] += hr.bpm[slice_of(hr.t, st.start_s, st.end_s)].tolist()
        assert np.mean(by_stage["DEEP"]) < np.mean(by_stage["REM"]) - 3


def test_sleep_sessions_are_well_formed(w90: World) -> None:
    """Stages are contiguous, 30-s aligned, cover each session; ids, offsets and flags are sane."""
    sessions = w90.sleep()
    assert [s.start_s for s in sessions] == sorted(s.start_s for s in sessions)
    assert len({s.id for s in sessions}) == len(sessions)
    for s in sessions:
        assert len(str(s.id)) == 19
        assert s.stages[0].start_s == s.start_s
        assert s.stages[-1].end_s == s.end_s
        assert all(a.end_s == b.start_s for a, b in zip(s.stages, s.stages[1:], strict=False))
        assert all(st.start_s % 30 == 0 and st.end_s > st.start_s for st in s.stages)
        assert s.end_s + 300 <= s.created_s <= s.end_s + 1260
        assert s.created_s < s.updated_s
        assert (s.start_offset_s, s.end_offset_s) == (
            w90.offset_at(s.start_s),
            w90.offset_at(s.end_s),
        )
        allowed = (
            {"AWAKE", "LIGHT", "DEEP", "REM"} if s.main_sleep else {"AWAKE", "ASLEEP", "RESTLESS"}
        )
        assert {st.stage for st in s.stages} <= allowed
        assert s.sleep_type == ("STAGES" if s.main_sleep else "CLASSIC")
        assert s.nap != s.main_sleep
    naps = [s for s in sessions if s.nap]
    assert naps
    assert all(20 * 60 <= s.end_s - s.start_s <= 70 * 60 for s in naps)
    main_ends = Counter(
        dt.datetime.fromtimestamp(s.end_s, ZoneInfo(w90.home_zone)).date()
        for s in sessions
        if s.main_sleep
    )
    assert max(main_ends.values()) == 1


def test_sleep_architecture_is_plausible(w90: World) -> None:
    """Deep sleep front-loaded, REM back-loaded; nightly totals in range for ≥ 90% of nights."""
    nights = main_sleeps(w90)
    ok, early_deep, late_rem = [], 0, 0
    for s in nights:
        third = (s.end_s - s.start_s) / 3
        thirds: dict[tuple[str, int], float] = Counter()
        for st in s.stages:
            for i in range(3):
                lo, hi = s.start_s + i * third, s.start_s + (i + 1) * third
                thirds[st.stage, i] += max(0.0, min(hi, st.end_s) - max(lo, st.start_s))
        early_deep += thirds["DEEP", 0] > thirds["DEEP", 2]
        late_rem += thirds["REM", 2] > thirds["REM", 0]
        m = s.minutes_by_stage
        hours = (s.end_s - s.start_s) / 3600
        ok.append(
            45 <= m["DEEP"] <= 100
            and 70 <= m["REM"] <= 120
            and 30 <= m["AWAKE"] <= 70
            and 5.5 <= hours <= 8.6
        )
    assert early_deep == late_rem == len(nights) >= 85
    assert np.mean(ok) >= 0.9


def full_days(w: World) -> list[dt.date]:
    """Local dates fully inside the data and untouched by the long battery gap."""
    gap = [(a, b) for a, b, why in w.off_wrist() if why == "battery-dead"]
    days = []
    for i in range(1, (w.last - w.start).days):
        d = w.start + dt.timedelta(days=i)
        lo, hi = local_day_bounds(w, d)
        if not any(a < hi and lo < b for a, b in gap):
            days.append(d)
    return days


def test_steps(w90: World) -> None:
    """Daily totals 4k-16k on ≥ 90% of full days; none asleep or off-wrist; whole minutes."""
    steps = w90.steps()
    assert (steps.count > 0).all()
    assert (steps.start % 60 == 0).all()
    assert (np.diff(steps.start) >= 60).all()
    assert not mask(steps.start, w90.off_wrist(), width=60).any()
    assert not mask(steps.start, [(s.start_s, s.end_s) for s in w90.sleep()], width=60).any()
    totals = {}
    for d in full_days(w90):
        lo, hi = local_day_bounds(w90, d)
        totals[d] = int(steps.count[slice_of(steps.start, lo, hi)].sum())
    values = np.array(list(totals.values()))
    assert len(values) > 80
    assert np.mean((values >= 4000) & (values <= 16000)) >= 0.9


def test_weekday_steps_show_a_commute(w90: World) -> None:
    """Weekdays have a morning commute peak (07:45-09:00 local) that weekends lack."""
    steps = w90.steps()
    minute = (steps.start + steps.offset_s) % DAY // 60
    weekday = ((steps.start + steps.offset_s) // DAY + 3) % 7 < 5  # 1970-01-01 was a Thursday
    rush = (minute >= 465) & (minute < 540)
    share = [steps.count[rush & sel].sum() / steps.count[sel].sum() for sel in (weekday, ~weekday)]
    assert share[0] > 0.12
    assert share[0] > 2 * share[1]


def test_resting_heart_rate(w90: World) -> None:
    """One RHR per date, 50-68 bpm, tracking the low end of that night's sleeping HR."""
    rhr = w90.resting_heart_rate()
    assert [v.date for v in rhr] == [w90.start + dt.timedelta(days=i) for i in range(len(rhr))]
    assert all(50 <= v.value <= 68 for v in rhr)
    hr, by_date = w90.heart_rate(), {v.date: v.value for v in rhr}
    pairs = []
    for s in main_sleeps(w90):
        d = dt.datetime.fromtimestamp(s.end_s, ZoneInfo(w90.home_zone)).date()
        bpm = hr.bpm[slice_of(hr.t, s.start_s, s.end_s)]
        if d in by_date and bpm.size > 1000:
            pairs.append((by_date[d], np.percentile(bpm, 5), np.median(bpm)))
    arr = np.array(pairs)
    assert np.corrcoef(arr[:, 0], arr[:, 1])[0, 1] > 0.5
    assert np.all(arr[:, 2] <= arr[:, 0] + 4)  # sleeping HR sits near or below RHR


def test_long_gap_and_sync_lag(w90: World) -> None:
    """One >24 h battery gap with no sleep in it; nothing at or after end - sync_lag."""
    hr = w90.heart_rate()
    assert 120 <= w90.sync_lag_s <= 720
    assert w90.cutoff_s == w90.end_s - w90.sync_lag_s
    assert np.diff(hr.t).max() > 24 * 3600
    gaps = [(a, b) for a, b, why in w90.off_wrist() if why == "battery-dead"]
    assert len(gaps) == 1
    assert 26 * 3600 <= gaps[0][1] - gaps[0][0] <= 34 * 3600
    (ga, gb), (out, _, _), (back, _, _) = gaps[0], *w90.travel()
    assert out < ga < gb < back
    assert not any(s.start_s < gb and ga < s.end_s for s in w90.sleep())
    assert w90.cutoff_s - 60 < hr.t[-1] < w90.cutoff_s
    steps = w90.steps()
    assert steps.start[-1] + 60 <= w90.cutoff_s
    assert all(s.end_s < w90.cutoff_s for s in w90.sleep())
    assert all(b <= w90.cutoff_s for _, b, _ in w90.exercise_bouts())


def test_rhr_appears_only_after_the_morning_wake() -> None:
    """Before today's main sleep ends there is no RHR for today; after it, there is."""
    early = World(7, start=dt.date(2026, 11, 2), end=dt.datetime(2026, 11, 22, 8, tzinfo=dt.UTC))
    later = World(7, start=dt.date(2026, 11, 2), end=NOW)
    today = dt.date(2026, 11, 22)
    assert early.resting_heart_rate()[-1].date == today - dt.timedelta(days=1)
    assert later.resting_heart_rate()[-1].date == today
    assert len(later.sleep()) > len(early.sleep())


def test_exercise_bouts(w90: World) -> None:
    """3-5 workouts a week of 25-70 min, with running/walking steps and no cycling steps."""
    bouts, steps = w90.exercise_bouts(), w90.steps()
    assert {k for *_, k in bouts} == {"running", "cycling", "walking", "strength"}
    assert all(25 * 60 <= b - a <= 70 * 60 for a, b, _ in bouts)
    assert 3 <= len(bouts) / 90 * 7 <= 5
    weeks = Counter(dt.datetime.fromtimestamp(a, dt.UTC).isocalendar()[:2] for a, _, _ in bouts)
    assert max(weeks.values()) <= 5
    for a, b, kind in bouts:
        cadence = steps.count[slice_of(steps.start, a + 600, b - 600)]
        if kind == "running":
            assert 140 <= np.median(cadence) <= 185
        if kind == "cycling":
            assert cadence.sum() < 100
    hr = w90.heart_rate()
    runs = [hr.bpm[slice_of(hr.t, a + 900, b - 300)].mean() for a, b, k in bouts if k == "running"]
    assert 135 <= np.mean(runs) <= 170


def test_person_is_stable_and_plausible(w90: World) -> None:
    """The person's ids derive from the seed; they wear a Pixel Watch 3."""
    p = w90.person
    assert p.device == "Pixel Watch 3"
    assert re.fullmatch(r"[1-9]\d{18}", p.health_user_id)
    assert re.fullmatch(r"[0-9A-Z]{6}", p.legacy_user_id)
    assert World.default(days=20, now=NOW).person.health_user_id == p.health_user_id
    assert 18 <= p.age <= 80
