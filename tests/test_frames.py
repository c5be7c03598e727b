"""DataFrames from a synced vault agree with the synthetic world, in the person's time zone."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fitvault import catalog
from fitvault._errors import ConfigError
from fitvault.normalise.google_health import normalise
from fitvault.simulator.world import World, reconciled
from fitvault.store import Store
from fitvault.vault import Vault
from tests.conftest import DST_NOW, NOW, synced_vault


@pytest.fixture(scope="module")
def synced(world: World, tmp_path_factory: pytest.TempPathFactory) -> Vault:
    """One vault synced from the world, shared by this module's read-only tests."""
    types = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]
    return synced_vault(world, NOW, tmp_path_factory.mktemp("frames") / "vault", types)


def local_days(t: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return (t + offsets) // 86_400


def test_heart_rate_for_a_local_day_is_that_days_readings(synced: Vault, world: World) -> None:
    """A date selects the readings whose device-local date it is, tz-aware in the home zone."""
    day = dt.date(2026, 11, 15)
    df = synced.heart_rate(day, day)
    hr = world.heart_rate()
    mask = local_days(hr.t, hr.offset_s.astype(np.int64)) == (day - dt.date(1970, 1, 1)).days
    assert mask.any(), "the day must lie inside the world"
    assert len(df) == int(mask.sum())
    assert df["bpm"].tolist() == hr.bpm[mask].tolist()
    assert str(df["time"].dt.tz) == world.person.home_zone
    assert (
        df["local_time"]
        == df["time"].dt.tz_convert("UTC").dt.tz_localize(None)
        + pd.to_timedelta(df["utc_offset_s"], unit="s")
    ).all()
    assert (df["local_time"].dt.date == day).all()


def test_datetime_bounds_are_half_open(synced: Vault, world: World) -> None:
    """Datetimes select [start, end): a reading exactly at `end` is left out."""
    t = world.heart_rate().t
    start = pd.Timestamp(int(t[1000]), unit="s", tz="UTC")
    end = pd.Timestamp(int(t[1010]), unit="s", tz="UTC")
    df = synced.heart_rate(start, end)
    assert len(df) == 10
    assert df["time"].iloc[0] == start


def reconciled_steps(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, count, offset) of the steps the app counts: the watch's, plus the phone's
    where the watch recorded nothing (the simulator's own rule, applied to its records)."""
    rec = reconciled(world.records("steps"))
    return (
        np.asarray(rec["start_time"], dtype=np.int64),
        np.asarray(rec["count"], dtype=np.int64),
        np.asarray(rec["utc_offset_s"], dtype=np.int64),
    )


def test_steps_per_local_day_match_the_world(synced: Vault, world: World) -> None:
    """Daily steps are summed by the local date of each minute of the reconciled stream."""
    start, count, offset = reconciled_steps(world)
    days = local_days(start, offset)
    want = {
        dt.date(1970, 1, 1) + dt.timedelta(days=int(d)): int(count[days == d].sum())
        for d in np.unique(days)
    }
    df = synced.steps()
    got = {d: int(s) for d, s in zip(df["date"], df["steps"], strict=True)}
    assert got == want


def test_hourly_steps_resample_in_the_home_zone(synced: Vault, world: World) -> None:
    """Sub-daily frequencies resample on the display zone's clock and keep the total."""
    hourly = synced.steps("h")
    assert str(hourly["time"].dt.tz) == world.person.home_zone
    assert int(hourly["steps"].sum()) == int(reconciled_steps(world)[1].sum())


def test_sleep_has_one_row_per_night_with_derived_efficiency(synced: Vault, world: World) -> None:
    """Main sleeps only, dated by the local day they end; efficiency is labelled derived."""
    mains = [s for s in world.sleep() if s.main_sleep]
    df = synced.sleep()
    assert len(df) == len(mains) == df["date"].nunique()
    zone = zoneinfo.ZoneInfo(world.person.home_zone)
    assert df["date"].tolist() == [
        (dt.datetime.fromtimestamp(s.end_s, dt.UTC) + dt.timedelta(seconds=s.end_offset_s)).date()
        for s in mains
    ]
    for night, (_, row) in zip(mains, df.iterrows(), strict=True):
        minutes = night.minutes_by_stage
        assert (row["minutes_deep"], row["minutes_rem"]) == (minutes["DEEP"], minutes["REM"])
        in_bed_s = night.end_s - night.start_s
        asleep_s = sum(st.end_s - st.start_s for st in night.stages if st.stage != "AWAKE")
        assert row["minutes_in_bed"] == in_bed_s // 60
        # The API reports whole minutes per stage kind (LIGHT, DEEP, REM): under 3 min asleep
        # and under 1 min in bed can be lost to rounding down; efficiency is rounded to 0.1.
        assert asleep_s / 60 - 3 < row["minutes_asleep"] <= asleep_s / 60
        low = 100 * (asleep_s - 180) / in_bed_s - 0.05
        high = 100 * asleep_s / (in_bed_s - 60) + 0.05
        assert low <= row["efficiency_derived"] <= high
    assert "efficiency_derived" in df.attrs["derived"]
    assert str(df["start"].dt.tz) == str(zone)


def test_naps_appear_only_when_asked(tmp_path: Path) -> None:
    """naps=True gives one row per session, naps included; without it naps are left out."""
    world = World.default(days=12, seed=11, now=NOW)  # the session world has no nap
    naps = [s.start_s for s in world.sleep() if s.nap]
    assert naps, "this world must have naps for the test to mean anything"
    vault = synced_vault(world, NOW, tmp_path / "vault", types=["sleep"])
    every = vault.sleep(naps=True)
    assert [int(t.timestamp()) for t in every["start"]] == [s.start_s for s in world.sleep()]
    assert [int(t.timestamp()) for t in every.loc[every["is_nap"], "start"]] == naps
    assert not vault.sleep()["is_nap"].any()


def test_sleep_stages_cover_each_session(synced: Vault, world: World) -> None:
    """Stage segments add up to each session's time in bed."""
    stages = synced.sleep_stages()
    per_session = stages.groupby("session_start")["minutes"].sum()
    want = sorted((s.end_s - s.start_s) / 60 for s in world.sleep())
    assert sorted(per_session.round(6).tolist()) == pytest.approx(want)


def test_resting_heart_rate_matches_the_world(synced: Vault, world: World) -> None:
    """One value per local date, as the API served it."""
    df = synced.resting_heart_rate()
    assert [(d, int(b)) for d, b in zip(df["date"], df["bpm"], strict=True)] == [
        (v.date, v.value) for v in world.resting_heart_rate()
    ]


def test_a_bad_date_is_a_config_error(synced: Vault) -> None:
    """Unparseable dates are refused with a hint, not a traceback from pandas."""
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        synced.heart_rate("next tuesday")


@pytest.mark.parametrize(
    ("now", "start", "end", "utc_start", "utc_end"),
    [
        # 01:30 happens twice on New York's fall-back: the first (EDT) one is meant.
        (DST_NOW, "2026-11-01 01:30", "2026-11-01 03:00", "2026-11-01 05:30", "2026-11-01 08:00"),
        # 02:30 never happens on the spring-forward: it means 03:00 EDT, when clocks resumed.
        (
            dt.datetime(2026, 3, 12, 15, tzinfo=dt.UTC),
            "2026-03-08 02:30",
            "2026-03-08 03:30",
            "2026-03-08 07:00",
            "2026-03-08 07:30",
        ),
    ],
    ids=["fall-back-overlap", "spring-forward-gap"],
)
def test_naive_times_in_a_dst_gap_or_overlap_select_the_right_instants(
    tmp_path: Path, now: dt.datetime, start: str, end: str, utc_start: str, utc_end: str
) -> None:
    """Wall times that occur twice or never (clock changes) resolve to one instant each, and
    the rows are the world's readings between those instants."""
    world = World.default(days=10, seed=7, now=now)
    assert world.home_zone == "America/New_York"
    assert world.start < dt.date.fromisoformat(start[:10]) < world.last
    vault = synced_vault(world, now, tmp_path / "vault", types=["heart-rate"])
    df = vault.heart_rate(start, end)
    lo, hi = (int(pd.Timestamp(t, tz="UTC").timestamp()) for t in (utc_start, utc_end))
    hr = world.heart_rate()
    mask = (hr.t >= lo) & (hr.t < hi)
    assert mask.sum() > 100
    assert [int(t.timestamp()) for t in df["time"]] == hr.t[mask].tolist()
    assert df["bpm"].tolist() == hr.bpm[mask].tolist()


def test_a_night_with_only_a_nap_has_no_row_whatever_the_range(tmp_path: Path) -> None:
    """Per-night rows do not depend on the dates asked for: nap-only dates never appear, and
    the longest main sleep stands for a date."""

    def session(start: str, end: str, main: bool, asleep: int) -> dict[str, object]:
        interval = {
            "startTime": start,
            "endTime": end,
            "startUtcOffset": "0s",
            "endUtcOffset": "0s",
        }
        meta = {"mainSleep": main, "nap": not main, "processed": True}
        return {
            "sleep": {
                "interval": interval,
                "type": "STAGES",
                "metadata": meta,
                "summary": {"minutesAsleep": str(asleep)},
            }
        }

    points = [
        session("2026-11-01T23:00:00Z", "2026-11-02T07:00:00Z", True, 420),
        session("2026-11-03T13:00:00Z", "2026-11-03T14:00:00Z", False, 55),
        session("2026-11-03T23:00:00Z", "2026-11-04T02:00:00Z", True, 170),
        session("2026-11-04T03:00:00Z", "2026-11-04T07:30:00Z", True, 250),
    ]
    with Store(tmp_path) as store:
        batch = normalise(catalog.get("sleep"), json.dumps({"dataPoints": points}).encode())
        store.commit_page(
            catalog.get("sleep"),
            batch.tables,
            source="google-health-api",
            replace=None,
            covered=None,
            raw=None,
        )
    vault = Vault(tmp_path)
    everything = vault.sleep(tz="UTC")
    assert everything["date"].tolist() == [dt.date(2026, 11, 2), dt.date(2026, 11, 4)]
    assert everything["minutes_asleep"].tolist() == [420, 250]
    assert vault.sleep("2026-11-03", "2026-11-03", tz="UTC").empty
