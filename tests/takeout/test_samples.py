"""Real export files (shared/samples, never copied into the repository): values written by
hand from the files, and each family's time-zone rule checked against Google's UTC re-export
of the same readings. Skipped when the samples are absent."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from fitvault.importer import ImportSummary
from fitvault.vault import Vault
from tests.takeout.conftest import SAMPLES

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples is absent")
EXPORT = SAMPLES / "Arohasina__patina-engraver"
# The export holds no profile; its owner was on New York time (spec B7: HRV 04:35 ↔ 08:35Z).
PROFILE = "id,full_name,timezone,weight_unit\r\nX,Sample Person,America/New_York,POUND\r\n"


def _member(path: Path) -> str:
    """Sample file name → its path in a Takeout zip (``owner__repo/a__b__c`` → ``a/b/c``)."""
    if path.parent.name == "Arohasina__patina-engraver":
        return "Takeout/" + path.name.replace("__", "/")
    if path.parent.name == "kev-m__FitOut":  # Global Export Data test fixtures
        return "Takeout/Fitbit/Global Export Data/" + path.name.rpartition("__")[2]
    return f"Takeout/Fitbit/{path.parent.name}/{path.name.rpartition('__')[2]}"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Vault, ImportSummary]:
    tmp = tmp_path_factory.mktemp("samples")
    archive = tmp / "takeout-20260415T000000Z-001.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(SAMPLES.glob("*/*")):
            zf.write(path, _member(path))
        zf.writestr("Takeout/Fitbit/Your Profile/Profile.csv", PROFILE)
    vault = Vault(tmp / "vault")
    return vault, vault.import_archive([archive])


def _df(vault: Vault, sql: str) -> pd.DataFrame:
    with vault.store(read_only=True) as store:
        return store.df(sql)


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_every_sample_is_imported_or_reported(imported: tuple[Vault, ImportSummary]) -> None:
    """No sample fails; each lands, or is skipped with a reason, or is listed as unknown (the
    Fitbit.NET OAuth token response: the legacy API responses beside it import as such)."""
    _, summary = imported
    assert summary.zone == "America/New_York"
    assert summary.zone_from == "profile"
    assert summary.errors == []
    seen = [m for m, *_ in summary.imported] + [m for m, _ in summary.skipped] + summary.unknown
    assert len(seen) == len(set(seen)) == len(list(SAMPLES.glob("*/*"))) + 1
    assert all("Fitbit.NET" in m for m in summary.unknown)
    assert all(why for _, why in summary.skipped)
    assert summary.rows["heart-rate"] == 2061


def test_heart_rate_is_utc(imported: tuple[Vault, ImportSummary]) -> None:
    """``03/26/26 17:50:52`` bpm 70 is ``2026-03-26T17:50:52Z,70.0`` in heart_rate_*.csv."""
    vault, _ = imported
    df = _df(vault, "SELECT * FROM heart_rate WHERE time < '2026-03-27' ORDER BY time")
    assert len(df) == 75
    first, last = df.iloc[0], df.iloc[-1]
    assert (first.time, first.bpm, first.utc_offset_s) == (_utc("2026-03-26T17:50:52"), 70, -14400)
    assert (last.time, last.bpm) == (_utc("2026-03-26T18:51:01"), 64)
    assert first.local_date == pd.Timestamp("2026-03-26")


def test_steps_and_distance_are_utc_and_distance_is_centimetres(
    imported: tuple[Vault, ImportSummary],
) -> None:
    """``04/02/26 17:17:00 "7"`` ↔ ``2026-04-02T17:17:00Z,7``; distance ``"440"`` cm = 4.40 m."""
    vault, _ = imported
    at = "start_time = '2026-04-02 17:17:00+00'"
    steps = _df(vault, f"SELECT * FROM steps WHERE {at}").iloc[0]
    assert (steps["count"], steps.end_time) == (7, _utc("2026-04-02T17:18:00"))
    assert _df(vault, f"SELECT distance_mm FROM distance WHERE {at}").distance_mm.tolist() == [4400]


def test_resting_heart_rate_skips_no_data_days(imported: tuple[Vault, ImportSummary]) -> None:
    """``date: null, value: 0.0`` days are absent; 72.98… bpm rounds to 73."""
    vault, _ = imported
    df = _df(vault, "SELECT date, bpm FROM resting_heart_rate ORDER BY date")
    rows = {d.date(): b for d, b in zip(df.date, df.bpm, strict=True)}
    assert rows[dt.date(2026, 4, 6)] == 73
    assert rows[dt.date(2026, 4, 7)] == 72
    assert rows[dt.date(2024, 3, 1)] == 54  # kev-m/FitOut fixtures
    assert rows[dt.date(2024, 2, 28)] == 52  # in the file named …-2023-03-02.json
    assert min(rows.values()) > 0


def test_weight_pounds_to_grams_at_local_time(imported: tuple[Vault, ImportSummary]) -> None:
    """104.9 lb logged ``03/19/26 23:59:59`` local (EDT) → 47581.8 g at 03:59:59Z."""
    vault, _ = imported
    row = _df(vault, "SELECT * FROM weight").iloc[0]
    assert row.time == _utc("2026-03-20T03:59:59")
    assert row.grams == pytest.approx(47581.8)
    assert row.local_date == pd.Timestamp("2026-03-19")


def test_sleep_is_local_and_newest_first_does_not_matter(
    imported: tuple[Vault, ImportSummary],
) -> None:
    """``2026-04-12T01:45:30`` local = UserSleeps ``05:45:30+0000``; the end is ``endTime``
    (09:30:00), not start + whole-minute ``duration``; stages tile the night."""
    vault, _ = imported
    s = _df(vault, "SELECT * FROM sleep_sessions WHERE source = 'takeout' ORDER BY start_time")
    assert len(s) == 13
    night = s[s.source_id == "52257076264"].iloc[0]
    assert (night.start_time, night.end_time) == (
        _utc("2026-04-14T08:26:30"), _utc("2026-04-14T13:30:00"))  # fmt: skip
    assert (night.minutes_deep, night.minutes_rem, night.is_main_sleep) == (77, 88, True)
    assert night.local_date == pd.Timestamp("2026-04-14")
    assert _utc("2026-04-12T05:45:30") in set(s.start_time)
    stages = _df(vault, "SELECT * FROM sleep_stages WHERE session_start = "
                 "'2026-04-14 08:26:30+00' ORDER BY start_time")  # fmt: skip
    assert (stages.iloc[0].stage, stages.iloc[0].end_time) == ("AWAKE", _utc("2026-04-14T08:43:00"))


def test_hrv_details_and_azm_are_local(imported: tuple[Vault, ImportSummary]) -> None:
    """HRV ``2026-04-08T04:35:00`` ↔ ``08:35:00Z`` and AZM ``2026-04-02T13:14`` ↔ ``17:14:00Z``
    in Google's UTC re-export."""
    vault, _ = imported
    hrv = _df(
        vault, "SELECT * FROM heart_rate_variability WHERE source = 'takeout' ORDER BY time"
    ).iloc[0]
    assert (hrv.time, hrv.rmssd_ms, hrv.lf_power, hrv.hf_power) == (
        _utc("2026-04-08T08:35:00"), 21.625, 203.514, 67.693)  # fmt: skip
    azm = _df(vault, "SELECT * FROM active_zone_minutes ORDER BY start_time").iloc[0]
    assert (azm.start_time, azm.minutes, azm.heart_rate_zone) == (
        _utc("2026-04-02T17:14:00"), 1, "FAT_BURN")  # fmt: skip


def test_spo2_and_daily_summaries(imported: tuple[Vault, ImportSummary]) -> None:
    """Minute SpO2 is UTC and drops the 50.0 floor; the daily files are civil dates (the
    ``(8)`` HRV file holds 2026-04-09)."""
    vault, _ = imported
    spo2 = _df(vault, "SELECT * FROM oxygen_saturation WHERE source = 'takeout' ORDER BY time")
    assert len(spo2) == 395  # 455 rows, 60 of them 50.0
    assert (spo2.iloc[0].time, spo2.iloc[0].percent) == (_utc("2026-04-08T07:14:33"), 93.3)
    assert 50.0 not in set(spo2.percent)
    daily = _df(
        vault, "SELECT * FROM daily_oxygen_saturation WHERE source = 'takeout' ORDER BY date"
    ).iloc[0]
    assert (daily.date, daily.avg_percent, daily.lower_bound_percent) == (
        pd.Timestamp("2026-04-06"), 90.7, 87.3)  # fmt: skip
    hrv = _df(vault, "SELECT * FROM daily_heart_rate_variability WHERE source = 'takeout'").iloc[0]
    assert (hrv.date, hrv.avg_rmssd_ms, hrv.non_rem_bpm, hrv.entropy) == (
        pd.Timestamp("2026-04-09"), 28.782, 68, 2.334)  # fmt: skip
    rr = _df(vault, "SELECT * FROM daily_respiratory_rate WHERE source = 'takeout'").iloc[0]
    assert (rr.date, rr.breaths_per_minute) == (pd.Timestamp("2026-04-08"), 16.8)


def test_height_and_vo2_max(imported: tuple[Vault, ImportSummary]) -> None:
    """Height ``03/19/26 00:00:00 "1524"`` is 1524 mm at that local midnight (04:00Z, EDT);
    demographic VO2 max keeps the filtered value the app shows (04/07: 40.13867 not 40.52445)."""
    vault, _ = imported
    h = _df(vault, "SELECT * FROM height").iloc[0]
    assert (h.time, h.height_mm, h.utc_offset_s) == (_utc("2026-03-19T04:00:00"), 1524, -14400)
    # the samples also hold saved legacy API bodies (cardio score): count the export's rows
    vo2 = _df(vault, "SELECT * FROM daily_vo2_max WHERE source = 'takeout' ORDER BY date")
    assert len(vo2) == 9
    assert vo2.iloc[0].date == pd.Timestamp("2026-04-06")
    assert vo2.iloc[0].vo2_max == pytest.approx(39.74646)
    assert vo2.iloc[1].vo2_max == pytest.approx(40.13867)
    assert bool(vo2.estimated.all())


def test_exercise_start_is_utc_and_units_are_converted(
    imported: tuple[Vault, ImportSummary],
) -> None:
    """The Walk of ``04/06/26 13:42:42`` (UTC, = UserExercises' +0000) lasting 1 338 000 ms:
    ends 14:05:00Z, starts 09:42:42 local; 0.329802 mi = 530 764.87 mm; 879 steps, 96 bpm."""
    vault, summary = imported
    assert summary.rows["exercise"] == 5
    walk = _df(vault, "SELECT * FROM exercise ORDER BY start_time").iloc[0]
    assert (walk.start_time, walk.end_time) == (_utc("2026-04-06T13:42:42"),
                                                _utc("2026-04-06T14:05:00"))  # fmt: skip
    assert walk.local_start_time == pd.Timestamp("2026-04-06T09:42:42")
    assert (walk.exercise_type, walk.display_name, walk.device) == ("WALKING", "Walk", "Inspire 3")
    assert (walk.steps, walk.avg_heart_rate_bpm, walk.calories_kcal) == (879, 96, 61.0)
    assert walk.distance_mm == pytest.approx(530_764.87)
    assert walk.active_duration_s == 1338.0


def test_respiratory_rate_summary_is_local_and_minus_one_is_null(
    imported: tuple[Vault, ImportSummary],
) -> None:
    """``2026-04-06T09:18:00`` local is 13:18:00Z; that night's REM rate is ``-1.0`` (none),
    so the REM columns are null; 04-08's REM rate is 15.6."""
    vault, _ = imported
    rr = _df(vault, "SELECT * FROM respiratory_rate_sleep_summary ORDER BY time")
    assert len(rr) == 8  # eight nights below the header (no newline after the last)
    first = rr.iloc[0]
    assert first.time == _utc("2026-04-06T13:18:00")
    assert (first.full_breaths_per_minute, first.full_std_dev, first.full_signal_to_noise) == (
        17.4, 1.7, 9.075)  # fmt: skip
    assert (first.light_breaths_per_minute, first.light_signal_to_noise) == (16.6, 10.648)
    assert pd.isna(first.rem_breaths_per_minute)
    assert pd.isna(first.rem_std_dev)
    assert rr.iloc[1].rem_breaths_per_minute == 15.6


def test_every_skipped_family_says_why(imported: tuple[Vault, ImportSummary]) -> None:
    """The families without a table are reported with their own reason, not a generic one."""
    _, summary = imported
    why = {m.rpartition("/")[2].split("-")[0].split(" ")[0]: r for m, r in summary.skipped}
    assert "basal + active" in why["calories"]
    assert "twice" in why["very_active_minutes"]
    assert "not SpO2" in why["estimated_oxygen_variation"]
    assert all("not imported yet" not in r for r in why.values())
