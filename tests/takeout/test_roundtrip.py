"""The simulator's Takeout zip imports to the world's own rows: the export's time conventions
(UTC heart rate / steps, local sleep across a clock change) are undone exactly."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from fitvault.simulator.takeout import write_archive
from fitvault.simulator.world import World
from fitvault.vault import Vault


@pytest.fixture(scope="module")
def imported(world_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Vault:
    vault = Vault(tmp_path_factory.mktemp("vault"))
    vault.import_archive([world_zip])
    return vault


def _df(vault: Vault, sql: str):  # type: ignore[no-untyped-def]
    with vault.store(read_only=True) as store:
        return store.df(sql)


def test_heart_rate_equals_the_worlds(imported: Vault, small_world: World) -> None:
    """Every heart-rate reading: same instant, bpm and UTC offset as the world's series."""
    df = _df(imported, "SELECT epoch(time)::BIGINT t, utc_offset_s, bpm, source FROM heart_rate "
             "ORDER BY time")  # fmt: skip
    hr = small_world.heart_rate()
    assert np.array_equal(df.t.to_numpy(), hr.t)
    assert np.array_equal(df.bpm.to_numpy(), hr.bpm)
    assert np.array_equal(df.utc_offset_s.to_numpy(), hr.offset_s)
    assert set(df.source) == {"takeout"}


def test_steps_equal_the_wearables(imported: Vault, small_world: World) -> None:
    """Steps minutes equal the wearable's records (the phone's are not in a Fitbit export)."""
    rec = small_world.records("steps")
    mine = [i for i, d in enumerate(rec["device"]) if d == small_world.person.device]
    df = _df(imported, "SELECT epoch(start_time)::BIGINT s, epoch(end_time)::BIGINT e, "
             "utc_offset_s, count FROM steps ORDER BY start_time")  # fmt: skip
    assert df.s.tolist() == rec["start_time"][mine].tolist()
    assert df.e.tolist() == rec["end_time"][mine].tolist()
    assert df["count"].tolist() == rec["count"][mine].tolist()
    assert df.utc_offset_s.tolist() == rec["utc_offset_s"][mine].tolist()


def test_sleep_across_fall_back_equals_the_worlds(imported: Vault, small_world: World) -> None:
    """Sessions and stages keep their instants though the export wrote local times, including
    the night of 2026-11-01 whose 01:00–02:00 happened twice."""
    sessions = _df(imported, "SELECT epoch(start_time)::BIGINT s, epoch(end_time)::BIGINT e, "
                   "start_utc_offset_s a, end_utc_offset_s b, is_main_sleep FROM sleep_sessions "
                   "ORDER BY start_time")  # fmt: skip
    world = small_world.sleep()
    assert sessions.values.tolist() == [
        [s.start_s, s.end_s, s.start_offset_s, s.end_offset_s, s.main_sleep] for s in world
    ]
    assert (world[0].start_offset_s, world[0].end_offset_s) == (-14400, -18000)
    stages = _df(imported, "SELECT epoch(start_time)::BIGINT s, epoch(end_time)::BIGINT e, stage "
                 "FROM sleep_stages ORDER BY start_time")  # fmt: skip
    assert stages.values.tolist() == [
        [st.start_s, st.end_s, st.stage] for s in world for st in s.stages
    ]


def test_resting_heart_rate_equals_the_worlds(imported: Vault, small_world: World) -> None:
    rec = small_world.records("daily-resting-heart-rate")
    df = _df(imported, "SELECT date, bpm FROM resting_heart_rate ORDER BY date")
    assert [d.date() for d in df.date] == list(rec["date"])
    assert df.bpm.tolist() == list(rec["bpm"])


@pytest.mark.parametrize("layout", ["2024", "legacy", "google-health", "2020"])
def test_every_layout_gives_the_same_rows(
    layout: str, small_world: World, imported: Vault, tmp_path: Path
) -> None:
    """``Takeout/Fitbit/…`` and ``MyFitbitData/<Name>/user-site-export/…`` import like the
    default ``2026`` layout (``Takeout/Google Health/``); the earlier names still work."""
    path = write_archive(small_world, tmp_path / "t.zip", layout)
    prefix = {"2024": "Takeout/Fitbit/", "legacy": "MyFitbitData/AlexMorgan/",
              "google-health": "Takeout/Google Health/", "2020": "MyFitbitData/AlexMorgan/"}  # fmt: skip
    with zipfile.ZipFile(path) as zf:
        assert all(n.startswith(prefix[layout]) for n in zf.namelist())
    other = Vault(tmp_path / "v")
    summary = other.import_archive([path])
    assert not summary.unknown
    assert not summary.errors
    for table in ("heart_rate", "steps", "sleep_stages", "resting_heart_rate"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert _df(other, sql).equals(_df(imported, sql)), table


def test_import_twice_is_import_once(world_zip: Path, tmp_path: Path) -> None:
    """Rows, raw pages and coverage do not grow on a second import; rebuild gives the same."""
    vault = Vault(tmp_path / "v")
    vault.import_archive([world_zip])
    queries = ["SELECT * FROM heart_rate ORDER BY ALL", "SELECT * FROM sleep_sessions ORDER BY ALL",
               "SELECT data_type, source, request FROM _raw_pages ORDER BY ALL",
               "SELECT data_type, source, covered_from, covered_to FROM _sync_state ORDER BY ALL"]  # fmt: skip
    once = [_df(vault, q) for q in queries]
    vault.import_archive([world_zip])
    assert all(_df(vault, q).equals(df) for q, df in zip(queries, once, strict=True))
    rows = vault.rebuild()
    assert rows["heart_rate"] == len(once[0])
    assert _df(vault, queries[0]).equals(once[0])
    assert _df(vault, queries[1]).equals(once[1])


def test_progress_counts_uncompressed_bytes(world_zip: Path, tmp_path: Path) -> None:
    """The callback climbs by each member's size to the total of the members read (here every
    data file; the profile is read for the zone, not imported)."""
    calls: list[tuple[int, int]] = []
    Vault(tmp_path / "v").import_archive([world_zip], progress=lambda d, t, _: calls.append((d, t)))
    with zipfile.ZipFile(world_zip) as zf:
        sizes = [i.file_size for i in zf.infolist() if "/Global Export Data/" in i.filename]
    assert len(calls) == len(sizes)
    assert calls[-1] == (sum(sizes), sum(sizes))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
