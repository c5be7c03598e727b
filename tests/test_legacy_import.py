"""``fitvault import`` of a folder of saved legacy API responses, end to end: rows in the vault
and in ``vault.frame``, failures and unknown files reported while the rest lands, day totals
never added to the same day's minutes in either order, re-import and rebuild idempotent."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from fitvault import status
from fitvault.normalise import fitbit_legacy as legacy
from fitvault.store import RawPage
from fitvault.vault import Vault
from tests.test_cli import run_main

runner = CliRunner()
BOM = b"\xef\xbb\xbf"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def heart_1sec(day: str, points: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "activities-heart": [{"dateTime": day, "value": {"restingHeartRate": 52,
                              "heartRateZones": [{"name": "Fat Burn", "min": 96, "max": 134}]}}],
        "activities-heart-intraday": {"dataset": [{"time": t, "value": v} for t, v in points],
                                      "datasetInterval": 1, "datasetType": "second"},
    }  # fmt: skip


def steps_total(days: dict[str, int]) -> dict[str, Any]:
    return {"activities-steps": [{"dateTime": d, "value": str(v)} for d, v in days.items()]}


def steps_minutes(day: str, minutes: list[tuple[str, int]]) -> dict[str, Any]:
    total = sum(v for _, v in minutes)
    return {
        "activities-steps": [{"dateTime": day, "value": str(total)}],
        "activities-steps-intraday": {"dataset": [{"time": t, "value": v} for t, v in minutes],
                                      "datasetInterval": 1, "datasetType": "minute"},
    }  # fmt: skip


SLEEP = {"sleep": [{
    "dateOfSleep": "2024-01-06", "startTime": "2024-01-05T23:30:00.000",
    "endTime": "2024-01-06T06:30:00.000", "duration": 25_200_000, "logId": 42,
    "isMainSleep": True, "type": "stages", "minutesAsleep": 400, "timeInBed": 420,
    "levels": {"summary": {"deep": {"count": 1, "minutes": 60}},
               "data": [{"dateTime": "2024-01-05T23:30:00.000", "level": "light",
                         "seconds": 25200}]},
}]}  # fmt: skip


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A folder as a tutorial's scripts leave it (New York person, profile saved beside)."""
    folder = tmp_path / "fitbit-dumps"
    (folder / "heart").mkdir(parents=True)
    profile = {"user": {"timezone": "America/New_York", "displayName": "A"}}
    (folder / "profile.json").write_text(json.dumps(profile))
    body = json.dumps(heart_1sec("2024-01-05", [("08:00:00", 70), ("08:00:07", 72)]), indent=2)
    (folder / "heart" / "hr_2024-01-05.json").write_bytes(
        b"2024-01-06 01:00:00 fetched heart rate\n" + BOM + body.encode()
    )
    (folder / "heart" / "heart20240106.csv").write_text("Time,Heart Rate\n09:15:05,81\n")
    (folder / "sleep_2024-01-06.json").write_text(json.dumps(SLEEP))
    (folder / "steps_range.json").write_text(json.dumps(steps_total(
        {"2024-01-05": 9000, "2024-01-06": 4000})))  # fmt: skip
    (folder / "steps_2024-01-05.json").write_text(json.dumps(steps_minutes(
        "2024-01-05", [("08:00:00", 100), ("08:01:00", 20)])))  # fmt: skip
    (folder / "broken.json").write_text('{"sleep": [\n  {"logId": 1,\n')
    (folder / "notes.json").write_text('{"todo": ["run more"]}')
    return folder


def _table(vault: Vault, sql: str) -> pd.DataFrame:
    with vault.store(read_only=True) as store:
        return store.df(sql)


def test_a_folder_of_saved_responses_lands_in_the_vault(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Heart rate (JSON after a log line and a BOM, and the CSV), sleep and steps land with
    source fitbit-legacy at New York time; the damaged and the unknown file are named, and the
    exit code (7) says the import was partial."""
    code, out, err = run_main(
        monkeypatch, capsys, "import", str(saved), "--vault", str(tmp_path / "v")
    )
    assert code == 7, out + err
    assert "1 file(s) could not be read" in err
    assert "Traceback" not in err
    assert "time zone America/New_York (from profile)" in out
    assert "imported 3 heart-rate rows" in out
    assert "failed: fitbit-dumps:broken.json: not valid JSON" in out
    assert "unknown: fitbit-dumps:notes.json (not a legacy Fitbit API response fitvault knows: " \
        "a JSON object with keys todo)" in out  # fmt: skip
    assert "skipped: fitbit-dumps:profile.json: profile: read for the time zone" in out
    vault = Vault(tmp_path / "v")
    hr = vault.frame("heart-rate", tz="UTC")
    assert list(zip(hr.time, hr.bpm, strict=True)) == [
        (utc("2024-01-05T13:00:00"), 70), (utc("2024-01-05T13:00:07"), 72),
        (utc("2024-01-06T14:15:05"), 81)]  # fmt: skip
    assert set(hr.source) == {"fitbit-legacy"}
    rhr = vault.frame("daily-resting-heart-rate")
    assert list(zip(rhr.date.astype(str), rhr.bpm, strict=True)) == [("2024-01-05", 52)]
    night = vault.frame("sleep", tz="UTC").iloc[0]
    assert (night.start_time, night.end_time, night.minutes_deep) == (
        utc("2024-01-06T04:30"), utc("2024-01-06T11:30"), 60)  # fmt: skip


def test_day_totals_and_minutes_are_never_added(saved: Path, tmp_path: Path) -> None:
    """The 5th has minutes (120 steps) and a total (9000): its minutes stand, in either import
    order; the 6th has only its total (4000)."""
    for order in (["steps_range.json", "steps_2024-01-05.json"],
                  ["steps_2024-01-05.json", "steps_range.json"]):  # fmt: skip
        vault = Vault(tmp_path / "-".join(order))
        for name in order:
            vault.import_archive([saved / name], zone="America/New_York")
        daily = _table(vault, "SELECT local_date::VARCHAR AS d, sum(count) AS n FROM steps "
                              "GROUP BY d ORDER BY d")  # fmt: skip
        assert list(zip(daily.d, daily.n, strict=True)) == [
            ("2024-01-05", 120), ("2024-01-06", 4000)], order  # fmt: skip


def test_a_day_total_gives_way_to_an_exports_minutes(saved: Path, tmp_path: Path) -> None:
    """Takeout minutes of the 5th (13:00Z, 7 steps) are already there: the legacy total of the
    5th is dropped, the 6th's kept."""
    vault = Vault(tmp_path / "v")
    export = tmp_path / "Fitbit" / "Global Export Data"
    export.mkdir(parents=True)
    (export / "steps-2024-01-05.json").write_text(
        '[{"dateTime": "01/05/24 13:00:00", "value": "7"}]'
    )
    vault.import_archive([tmp_path / "Fitbit"], zone="America/New_York")
    vault.import_archive([saved / "steps_range.json"], zone="America/New_York")
    rows = _table(vault, "SELECT local_date::VARCHAR AS d, count, source FROM steps ORDER BY d")
    assert list(zip(rows.d, rows["count"], rows.source, strict=True)) == [
        ("2024-01-05", 7, "takeout"), ("2024-01-06", 4000, "fitbit-legacy")]  # fmt: skip


def test_import_twice_is_once_and_rebuild_replays_the_same_rows(
    saved: Path, tmp_path: Path
) -> None:
    """Every table holds the same rows after a second import and after ``rebuild``."""
    vault = Vault(tmp_path / "v")
    vault.import_archive([saved])
    tables = ("heart_rate", "resting_heart_rate", "daily_heart_rate_zones", "sleep_sessions",
              "sleep_stages", "steps")  # fmt: skip

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        return {t: sorted(map(tuple, _table(vault, f"SELECT * FROM {t}").astype(str).values))
                for t in tables}  # fmt: skip

    first = snapshot()
    assert len(first["heart_rate"]) == 3
    assert len(first["steps"]) == 3  # two minutes of the 5th, the 6th's total
    vault.import_archive([saved])
    assert snapshot() == first
    counts = vault.rebuild()
    assert counts["heart_rate"] == 3
    assert snapshot() == first


def test_one_loose_file_and_the_zone_option(saved: Path, tmp_path: Path) -> None:
    """A single saved file imports on its own; ``--tz`` beats the profile (UTC here)."""
    vault = Vault(tmp_path / "v")
    summary = vault.import_archive([saved / "heart" / "hr_2024-01-05.json"], zone="UTC")
    assert (summary.zone, summary.zone_from) == ("UTC", "option")
    assert summary.rows == {"heart-rate": 2}
    assert list(vault.frame("heart-rate", tz="UTC").time) == [
        utc("2024-01-05T08:00:00"), utc("2024-01-05T08:00:07")]  # fmt: skip


def test_rebuild_replays_a_live_sync_page_into_every_type(tmp_path: Path) -> None:
    """A page kept as the live legacy sync keeps it (the body once, with its first type, and
    the request's path and zone) comes back as heart rate, resting heart rate and zones."""
    body = json.dumps(heart_1sec("2024-01-05", [("08:00:00", 70)])).encode()
    path = "/1/user/-/activities/heart/date/2024-01-05/1d/1sec.json"
    request = {"method": "GET", "path": path, "zone": "America/New_York"}
    vault = Vault(tmp_path / "v")
    with vault.store() as store:
        raw: RawPage | None = RawPage("heart-rate", "fitbit-legacy", request, body,
                                      dt.datetime(2024, 1, 6, tzinfo=dt.UTC))  # fmt: skip
        for dtype, tables, span in legacy.parse(body, "America/New_York").batches():
            store.commit(dtype, tables, source="fitbit-legacy", replaces=[span] if span else [],
                         covered=None, raws=[(raw, span)] if raw else [])  # fmt: skip
            raw = None
    counts = vault.rebuild()
    assert (counts["heart_rate"], counts["resting_heart_rate"],
            counts["daily_heart_rate_zones"]) == (1, 1, 1)  # fmt: skip
    assert list(vault.frame("heart-rate", tz="UTC").time) == [utc("2024-01-05T13:00:00")]


def test_minute_means_are_exported_and_reported(tmp_path: Path) -> None:
    """A saved 1-minute heart-rate body lands in heart_rate_average, which `status` lists (and
    does not call the vault empty) and `export` writes like any other table."""
    body = {
        "activities-heart": [{"dateTime": "2024-01-05", "value": {"heartRateZones": []}}],
        "activities-heart-intraday": {"dataset": [{"time": "08:00:00", "value": 70},
                                                  {"time": "08:01:00", "value": 74}],
                                      "datasetInterval": 1, "datasetType": "minute"},
    }  # fmt: skip
    (tmp_path / "hr_2024-01-05.json").write_text(json.dumps(body))
    vault = Vault(tmp_path / "v")
    vault.import_archive([tmp_path / "hr_2024-01-05.json"], zone="UTC")
    result = vault.status()
    assert result["types"]["heart-rate-average"]["rows"] == 2
    words = status.render(result)  # not "nothing has been downloaded": rows are there
    assert "No Google Health sync yet: the rows above came from imports" in words
    summary = vault.export(tmp_path / "out", fmt="csv")
    written = {p.name for t in summary.tables if t.rows for p in t.paths}
    assert "heart_rate_average.csv" in written
    assert pd.read_csv(tmp_path / "out" / "heart_rate_average.csv")["bpm"].tolist() == [70, 74]
