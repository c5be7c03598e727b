"""The vault's merge: one row per reading, revisions replace, pages commit atomically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from fitvault import catalog
from fitvault._errors import VaultError
from fitvault._time import to_us
from fitvault.normalise import columns
from fitvault.store import RawPage, Store, merge_spans

HR = catalog.get("heart-rate")
SLEEP = catalog.get("sleep")
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def hr_rows(seconds: list[int], bpm: int, source: str = "google-health-api") -> dict[str, pa.Table]:
    times = [T0 + dt.timedelta(seconds=s) for s in seconds]
    table = columns.table(
        catalog.HEART_RATE_TABLE,
        {
            "time": times,
            "utc_offset_s": [0] * len(times),
            "local_date": [t.date() for t in times],
            "bpm": [bpm] * len(times),
            "source": [source] * len(times),
        },
    )
    return {"heart_rate": table}


API = "google-health-api"


def save(
    store: Store, tables: dict[str, pa.Table], replace: tuple[int, int] | None, source: str = API
) -> None:
    """Commit one page of rows, as a sync does, without raw body or coverage."""
    store.commit_page(HR, tables, source=source, replace=replace, covered=None, raw=None)


def us(seconds: int) -> int:
    return to_us(T0 + dt.timedelta(seconds=seconds))


def bpm_by_time(store: Store) -> dict[int, tuple[int, str]]:
    rows = store.con.execute("SELECT epoch(time)::BIGINT, bpm, source FROM heart_rate").fetchall()
    return {int(t - T0.timestamp()): (b, s) for t, b, s in rows}


def test_same_page_twice_is_one_set_of_rows(tmp_path: Path) -> None:
    """Merging a page again changes nothing: natural keys make it idempotent."""
    with Store(tmp_path) as store:
        for _ in range(2):
            save(store, hr_rows([0, 5, 10], 60), (us(0), us(11)))
        assert bpm_by_time(store) == {
            0: (60, "google-health-api"),
            5: (60, "google-health-api"),
            10: (60, "google-health-api"),
        }


def test_a_batch_repeating_a_key_keeps_its_last_row(tmp_path: Path) -> None:
    """Pages saved together can overlap at an edge; the later reading of a key wins."""
    rows = hr_rows([0, 5], 60)["heart_rate"]
    later = hr_rows([5, 10], 65)["heart_rate"]
    with Store(tmp_path) as store:
        save(store, {"heart_rate": pa.concat_tables([rows, later])}, (us(0), us(11)))
        assert bpm_by_time(store) == {
            0: (60, "google-health-api"),
            5: (65, "google-health-api"),
            10: (65, "google-health-api"),
        }


def test_a_revised_span_replaces_readings_that_vanished(tmp_path: Path) -> None:
    """The server's answer for a span replaces what that source had there, deletions included."""
    with Store(tmp_path) as store:
        save(store, hr_rows([0, 5, 10], 60), (us(0), us(11)))
        save(store, hr_rows([5], 70), (us(0), us(11)))
        assert bpm_by_time(store) == {5: (70, "google-health-api")}


def test_a_reading_seen_by_two_sources_is_one_row(tmp_path: Path) -> None:
    """Another source's row at the same instant is replaced, not duplicated; others stay."""
    with Store(tmp_path) as store:
        save(store, hr_rows([0, 5], 61, "takeout"), None, source="takeout")
        save(store, hr_rows([5, 10], 62), (us(5), us(11)))
        assert bpm_by_time(store) == {
            0: (61, "takeout"),
            5: (62, "google-health-api"),
            10: (62, "google-health-api"),
        }


def sleep_rows(start: dt.datetime, end: dt.datetime, source: str = API) -> dict[str, pa.Table]:
    session = {c: [None] for c in catalog.SLEEP_SESSIONS_TABLE.column_names}
    session |= {
        "start_time": [start],
        "end_time": [end],
        "local_date": [end.date()],
        "source": [source],
    }
    mid = start + (end - start) / 2
    stages = {
        "session_start": [start, start],
        "start_time": [start, mid],
        "end_time": [mid, end],
        "utc_offset_s": [0, 0],
        "stage": ["LIGHT", "DEEP"],
        "source": [source] * 2,
    }
    return {
        "sleep_sessions": pa.table(session, schema=catalog.SLEEP_SESSIONS_TABLE.schema),
        "sleep_stages": pa.table(stages, schema=catalog.SLEEP_STAGES_TABLE.schema),
    }


def test_a_sleep_whose_start_moved_does_not_linger(tmp_path: Path) -> None:
    """Re-detected sleep with a new start replaces the old session and its stages."""
    end = T0 + dt.timedelta(hours=7)
    span = (to_us(T0 - dt.timedelta(days=1)), to_us(T0 + dt.timedelta(days=1)))
    with Store(tmp_path) as store:
        store.commit_page(
            SLEEP,
            sleep_rows(T0, end),
            source="google-health-api",
            replace=span,
            covered=None,
            raw=None,
        )
        later = T0 + dt.timedelta(minutes=40)
        store.commit_page(
            SLEEP,
            sleep_rows(later, end),
            source="google-health-api",
            replace=span,
            covered=None,
            raw=None,
        )
        sessions = store.con.execute("SELECT epoch(start_time) FROM sleep_sessions").fetchall()
        stages = store.con.execute(
            "SELECT DISTINCT epoch(session_start) FROM sleep_stages"
        ).fetchall()
    assert sessions == [(later.timestamp(),)]
    assert stages == [(later.timestamp(),)]


def test_a_failed_commit_leaves_nothing_behind(tmp_path: Path) -> None:
    """Rows, raw page and coverage are one transaction: a failure keeps none of them."""
    raw = RawPage("heart-rate", "google-health-api", {"path": "/x"}, b"{}", T0)
    bad = hr_rows([0], 60)
    bad["heart_rate"] = (
        bad["heart_rate"].drop_columns(["bpm"]).append_column("bpm", pa.array(["x"]))
    )
    with Store(tmp_path) as store:
        with pytest.raises(VaultError):
            store.commit_page(
                HR, bad, source="google-health-api", replace=None, covered=(us(0), us(10)), raw=raw
            )
        assert store.count("heart_rate") == 0
        assert store.count("_raw_pages") == 0
        assert store.coverage("heart-rate", "google-health-api") == []


def test_raw_pages_round_trip_compressed(tmp_path: Path) -> None:
    """Kept pages come back byte for byte, in order, with the span they answered for."""
    bodies = [b'{"dataPoints":[]}' * 50, b"{}"]
    with Store(tmp_path) as store:
        for i, body in enumerate(bodies):
            raw = RawPage("heart-rate", "google-health-api", {"i": i}, body, T0)
            store.commit_page(
                HR,
                {},
                source="google-health-api",
                replace=(us(i), us(i + 1)),
                covered=None,
                raw=raw,
            )
        kept = list(store.raw_pages())
    assert [k.page.body for k in kept] == bodies
    assert [k.replace for k in kept] == [(us(0), us(1)), (us(1), us(2))]
    assert kept[0].page.fetched_at == T0


def test_coverage_merges_touching_spans() -> None:
    """Spans that touch or overlap become one."""
    assert merge_spans([(5, 8), (0, 5), (10, 12), (11, 15)]) == [(0, 8), (10, 15)]


def test_reading_a_missing_vault_says_how_to_make_one(tmp_path: Path) -> None:
    """Opening read-only where nothing exists names the path and the command to run."""
    with pytest.raises(VaultError, match="fitvault sync"):
        Store(tmp_path / "nowhere", read_only=True)


def test_a_batch_repeating_a_sleep_session_keeps_one_copy_of_its_stages(tmp_path: Path) -> None:
    """Pages overlapping by a session: one session row and one set of stage rows."""
    end = T0 + dt.timedelta(hours=7)
    tables = sleep_rows(T0, end)
    doubled = {name: pa.concat_tables([t, t]) for name, t in tables.items()}
    with Store(tmp_path) as store:
        store.commit_page(SLEEP, doubled, source=API, replace=None, covered=None, raw=None)
        assert store.count("sleep_sessions") == 1
        assert store.count("sleep_stages") == 2


def test_a_reader_opening_a_file_a_writer_is_just_creating_waits_for_it(tmp_path: Path) -> None:
    """The moment between a writer creating the file and locking it: a read-only open finds an
    empty file, waits instead of calling it "not a database", and never deletes it."""
    import os
    import threading

    import duckdb

    from fitvault.store import _connect

    path = tmp_path / "vault.duckdb"
    path.touch()
    made = tmp_path / "made.duckdb"
    con = duckdb.connect(str(made))
    con.execute("CREATE TABLE t AS SELECT 42 AS x")
    con.close()
    writer = threading.Timer(0.3, lambda: os.replace(made, path))
    writer.start()
    try:
        reader = _connect(path, read_only=True, wait=10.0)
    finally:
        writer.join()
    assert reader.execute("SELECT x FROM t").fetchall() == [(42,)]
    reader.close()


def test_an_empty_file_that_stays_empty_is_refused_and_kept(tmp_path: Path) -> None:
    """A read-only open of a file that never becomes a database gives up with VaultError and
    leaves the file where it was (only the open that created a file may remove it)."""
    from fitvault.store import _connect

    path = tmp_path / "vault.duckdb"
    path.touch()
    with pytest.raises(VaultError, match="not a valid DuckDB database"):
        _connect(path, read_only=True, wait=10.0)
    assert path.exists()
