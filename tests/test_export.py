"""Exports: every format reads back as the vault's rows, written atomically and by streaming."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import duckdb
import httpx2
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitvault import catalog, export
from fitvault._errors import ConfigError
from fitvault.normalise import columns
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.store import Store
from fitvault.vault import Vault
from tests.conftest import DST_NOW, FALL_BACK, NOW, FakeClock, sign_in, sync

TYPES = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]


def synced_types(world: World, now: dt.datetime, directory: Path, types: list[str]) -> Vault:
    """A vault signed in to its own simulator of `world`, synced as of `now` for `types` only."""
    sim = create_app(world, clock=FakeClock(now.timestamp()), auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory)
    sign_in(vault, transport, types)
    sync(vault, transport, clock=lambda: now, types=types)
    return vault


@pytest.fixture(scope="module")
def synced(world: World, tmp_path_factory: pytest.TempPathFactory) -> Vault:
    return synced_types(world, NOW, tmp_path_factory.mktemp("export") / "vault", TYPES)


@pytest.fixture(scope="module")
def dst_synced(dst_world: World, tmp_path_factory: pytest.TempPathFactory) -> Vault:
    directory = tmp_path_factory.mktemp("export-dst") / "vault"
    return synced_types(dst_world, DST_NOW, directory, ["heart-rate", "sleep"])


def vault_rows(vault: Vault, table: str) -> pa.Table:
    """The table as the vault holds it, in export order."""
    tb = catalog.TABLES[table]
    with Store(vault.directory, read_only=True) as store:
        sql = export.table_sql(tb, export.Options("parquet"), aware=True)
        return store.con.sql(sql).to_arrow_table()


def test_parquet_round_trips_values_and_dtypes(synced: Vault, tmp_path: Path) -> None:
    """Parquet holds the vault's column types exactly (UTC instants stay tz-aware) and values."""
    synced.export(tmp_path, fmt="parquet", types=TYPES)
    for table in ("heart_rate", "steps", "sleep_sessions", "sleep_stages", "resting_heart_rate"):
        back = pq.read_table(tmp_path / f"{table}.parquet")
        want = vault_rows(synced, table)
        assert back.num_rows > 0
        for col in catalog.TABLES[table].columns:
            assert back.schema.field(col.name).type == col.arrow, (table, col.name)
        assert back.column_names == want.column_names
        for name in want.column_names:
            assert back.column(name).equals(want.column(name)), (table, name)
    df = pd.read_parquet(tmp_path / "heart_rate.parquet")
    assert str(df["time"].dt.tz) == "UTC"
    assert (
        df["local_time"]
        == df["time"].dt.tz_localize(None) + pd.to_timedelta(df["utc_offset_s"], unit="s")
    ).all()


def test_csv_reads_back_as_the_vaults_values(synced: Vault, tmp_path: Path) -> None:
    """CSV via pandas and DuckDB gives the same readings, instants in UTC, a source per row."""
    synced.export(tmp_path, fmt="csv", types=["heart-rate", "daily-resting-heart-rate"])
    want = vault_rows(synced, "heart_rate").to_pandas()
    df = pd.read_csv(tmp_path / "heart_rate.csv", parse_dates=["time", "local_time"])
    assert list(df.columns) == list(want.columns)
    assert df["time"].tolist() == want["time"].tolist()
    assert df["bpm"].tolist() == want["bpm"].tolist()
    assert (df["local_time"] == want["local_time"]).all()
    assert set(df["source"]) == {"google-health-api"}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    back = con.sql(f"SELECT * FROM read_csv('{tmp_path / 'resting_heart_rate.csv'}')")
    assert dict(zip(back.columns, [str(t) for t in back.types], strict=True))["date"] == "DATE"
    rhr = vault_rows(synced, "resting_heart_rate")
    assert back.to_arrow_table().column("bpm").to_pylist() == rhr.column("bpm").to_pylist()


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_formats_read_back(synced: Vault, tmp_path: Path, fmt: str) -> None:
    """JSON (an array) and JSON Lines (a record a line) hold every row with its values."""
    synced.export(tmp_path, fmt=fmt, types=["sleep"])
    path = tmp_path / f"sleep_sessions.{fmt}"
    text = path.read_text()
    records = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
    want = vault_rows(synced, "sleep_sessions").to_pylist()
    assert len(records) == len(want) > 0
    assert [r["minutes_asleep"] for r in records] == [w["minutes_asleep"] for w in want]
    assert pd.Timestamp(records[0]["start_time"]) == pd.Timestamp(want[0]["start_time"])


def test_excel_has_a_sheet_per_table_with_the_vaults_values(synced: Vault, tmp_path: Path) -> None:
    """openpyxl reads the workbook back: naive UTC instants, local times, dates and numbers."""
    synced.export(tmp_path, fmt="xlsx", types=["sleep", "daily-resting-heart-rate"])
    book = openpyxl.load_workbook(tmp_path / "fitvault.xlsx", read_only=True)
    assert book.sheetnames == ["sleep_sessions", "sleep_stages", "resting_heart_rate"]
    rows = list(book["sleep_sessions"].iter_rows(values_only=True))
    want = vault_rows(synced, "sleep_sessions").to_pylist()
    header = rows[0]
    assert len(rows) - 1 == len(want)
    got = dict(zip(header, rows[1], strict=True))
    assert got["start_time"] == want[0]["start_time"].replace(tzinfo=None)
    assert got["local_end_time"] == want[0]["local_end_time"]
    assert got["minutes_asleep"] == want[0]["minutes_asleep"]
    assert got["source"] == "google-health-api"


def test_a_table_beyond_the_sheet_limit_continues_on_numbered_sheets(
    synced: Vault, tmp_path: Path
) -> None:
    """Rows past a sheet's limit go to `name (2)`, … each with the header; none are lost."""
    summary = synced.export(tmp_path, fmt="xlsx", types=["steps"], sheet_rows=500)
    book = openpyxl.load_workbook(tmp_path / "fitvault.xlsx", read_only=True)
    total = len(vault_rows(synced, "steps"))
    sheets = -(-total // 499)
    assert book.sheetnames == ["steps"] + [f"steps ({n})" for n in range(2, sheets + 1)]
    counts = [sum(1 for _ in book[s].iter_rows(values_only=True)) - 1 for s in book.sheetnames]
    assert sum(counts) == total
    assert counts[:-1] == [499] * (sheets - 1)
    assert "split across" in summary.tables[0].note


def test_resample_averages_samples_per_minute(synced: Vault, tmp_path: Path) -> None:
    """`resample="1min"` turns heart rate into per-minute means (and says so); others stay."""
    summary = synced.export(tmp_path, fmt="xlsx", types=["heart-rate"], resample="1min")
    assert "averaged per 1min" in summary.tables[0].note
    with Store(synced.directory, read_only=True) as store:
        want = store.con.execute(
            "SELECT count(DISTINCT epoch_us(time) // 60000000), avg(bpm) FROM heart_rate"
        ).fetchall()[0]
    book = openpyxl.load_workbook(tmp_path / "fitvault.xlsx", read_only=True)
    rows = list(book["heart_rate"].iter_rows(values_only=True))
    header = rows[0]
    assert "samples" in header
    assert len(rows) - 1 == want[0]
    samples = [r[header.index("samples")] for r in rows[1:]]
    means = [r[header.index("bpm")] for r in rows[1:]]
    weighted = sum(m * n for m, n in zip(means, samples, strict=True)) / sum(samples)
    assert weighted == pytest.approx(want[1])


def test_parquet_partitions_by_month_read_as_one_dataset(synced: Vault, tmp_path: Path) -> None:
    """A Hive-partitioned folder per table that DuckDB and pandas read as one dataset."""
    synced.export(tmp_path, fmt="parquet", types=["heart-rate"], partition_by="month")
    files = sorted((tmp_path / "heart_rate").rglob("*.parquet"))
    assert files
    assert all("year=2026" in str(f) and "month=" in str(f) for f in files)
    want = vault_rows(synced, "heart_rate")
    con = duckdb.connect()
    glob = tmp_path / "heart_rate" / "**" / "*.parquet"
    rows = con.execute(f"SELECT count(*), sum(bpm) FROM read_parquet('{glob}')").fetchall()[0]
    assert rows == (want.num_rows, sum(want.column("bpm").to_pylist()))
    df = pd.read_parquet(tmp_path / "heart_rate")
    assert len(df) == want.num_rows
    meta = pq.ParquetFile(files[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_per_day_files_follow_the_tutorial_layout(synced: Vault, tmp_path: Path) -> None:
    """`YYYY-MM-DD_<table>.csv`, one a local day, together holding every row."""
    summary = synced.export(
        tmp_path, fmt="csv", types=["heart-rate"], per_day=True, since="2026-11-15"
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "2026-11-15_heart_rate.csv"
    assert all(n.endswith("_heart_rate.csv") for n in names)
    total = sum(len(pd.read_csv(tmp_path / n)) for n in names)
    assert total == summary.tables[0].rows > 0
    first = pd.read_csv(tmp_path / names[0])
    assert set(first["local_date"]) == {"2026-11-15"}


def test_tidy_is_one_long_table_across_types(synced: Vault, tmp_path: Path) -> None:
    """Long format: a row per (reading, numeric field) with its type, field, value and unit."""
    synced.export(tmp_path, fmt="parquet", types=["heart-rate", "steps"], tidy=True)
    df = pd.read_parquet(tmp_path / "tidy.parquet")
    assert list(df.columns) == [
        "time", "local_time", "date", "type", "field", "value", "unit", "source",
    ]  # fmt: skip
    counts = df.groupby(["type", "field"]).size().to_dict()
    assert counts[("heart_rate", "bpm")] == vault_rows(synced, "heart_rate").num_rows
    assert counts[("steps", "count")] == vault_rows(synced, "steps").num_rows
    steps = df[df["field"] == "count"]["value"].sum()
    assert steps == vault_rows(synced, "steps").column("count").to_pandas().sum()


def test_a_clock_change_keeps_instants_and_repeats_the_local_hour(
    dst_synced: Vault, tmp_path: Path
) -> None:
    """Across New York's fall-back, instants stay unique and ordered; local_time repeats."""
    dst_synced.export(tmp_path / "p", fmt="parquet", types=["heart-rate"])
    dst_synced.export(tmp_path / "c", fmt="csv", types=["heart-rate"])
    df = pd.read_parquet(tmp_path / "p" / "heart_rate.parquet")
    assert df["time"].is_monotonic_increasing
    assert df["time"].is_unique
    assert set(df["utc_offset_s"]) == {-14400, -18000}
    fall_back = pd.Timestamp(FALL_BACK, unit="s", tz="UTC")
    assert (df.loc[df["time"] < fall_back, "utc_offset_s"] == -14400).all()
    one_am = df[df["local_time"].between("2026-11-01 01:00", "2026-11-01 01:59:59")]
    assert set(one_am["utc_offset_s"]) == {-14400, -18000}
    assert not df["local_time"].is_monotonic_increasing
    csv = pd.read_csv(tmp_path / "c" / "heart_rate.csv", parse_dates=["time", "local_time"])
    assert csv["time"].tolist() == df["time"].tolist()
    assert csv["local_time"].tolist() == df["local_time"].tolist()


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_empty_tables_export_with_their_columns(tmp_path: Path, fmt: str) -> None:
    """A type without data still gets its file with stable column names (and types)."""
    with Store(tmp_path / "vault"):
        pass  # a vault that never synced
    out = tmp_path / "out"
    summary = Vault(tmp_path / "vault").export(out, fmt=fmt, types=["weight"])
    assert [t.rows for t in summary.tables] == [0]
    names = [c.name for c in export.views.out_columns(catalog.TABLES["weight"], aware=True)]
    if fmt == "csv":
        assert (out / "weight.csv").read_text().strip().split(",") == names
    elif fmt == "parquet":
        schema = pq.read_schema(out / "weight.parquet")
        assert schema.names == names
        assert schema.field("time").type == pa.timestamp("us", tz="UTC")
    elif fmt == "xlsx":
        book = openpyxl.load_workbook(out / "fitvault.xlsx", read_only=True)
        assert list(next(book["weight"].iter_rows(values_only=True))) == names
    else:
        assert (out / f"weight.{fmt}").exists()


def test_files_follow_the_umask_and_progress_is_reported(synced: Vault, tmp_path: Path) -> None:
    """Exported files are the user's to share (umask, not the vault's 0600); one callback a
    table."""
    seen: list[export.ExportProgress] = []
    old = os.umask(0o022)
    try:
        synced.export(tmp_path, fmt="csv", types=["sleep"], progress=seen.append)
        synced.export(tmp_path / "x", fmt="xlsx", types=["sleep"])
    finally:
        os.umask(old)
    for path in (tmp_path / "sleep_stages.csv", tmp_path / "x" / "fitvault.xlsx"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [(p.table, p.done, p.total) for p in seen] == [
        ("sleep_sessions", 1, 2),
        ("sleep_stages", 2, 2),
    ]


def test_a_failed_write_leaves_no_file_under_the_final_name(tmp_path: Path) -> None:
    """The temporary file is removed and an earlier export stays whole."""
    final = tmp_path / "heart_rate.csv"

    def killed(exc: BaseException) -> None:
        with export.atomic_path(final) as tmp:
            tmp.write_text("half a fi")
            raise exc

    with pytest.raises(RuntimeError):
        killed(RuntimeError("killed"))
    assert not final.exists()
    assert not (tmp_path / "heart_rate.csv.tmp").exists()
    final.write_text("earlier\n")
    with pytest.raises(KeyboardInterrupt):
        killed(KeyboardInterrupt())
    assert final.read_text() == "earlier\n"


def test_a_partitioned_export_replaces_the_previous_folder(synced: Vault, tmp_path: Path) -> None:
    """Exporting again swaps the whole folder: no stale partition files are left behind."""
    synced.export(tmp_path, fmt="parquet", types=["heart-rate"], partition_by="month")
    stale = tmp_path / "heart_rate" / "year=1999"
    stale.mkdir()
    (stale / "data_0.parquet").write_bytes(b"old")
    synced.export(tmp_path, fmt="parquet", types=["heart-rate"], partition_by="year")
    assert not stale.exists()
    assert [p.name for p in (tmp_path / "heart_rate").iterdir()] == ["year=2026"]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"fmt": "xls"}, "unknown format"),
        ({"fmt": "csv", "partition_by": "year"}, "needs --format parquet"),
        ({"fmt": "parquet", "partition_by": "week"}, "year' or 'month"),
        ({"fmt": "xlsx", "per_day": True}, "per-day"),
        ({"fmt": "csv", "resample": "fortnight"}, "resample"),
        ({"fmt": "csv", "since": "2026-11-20", "until": "2026-11-01"}, "reversed"),
    ],
)
def test_bad_options_are_config_errors(
    synced: Vault, tmp_path: Path, kw: dict[str, object], match: str
) -> None:
    """Every invalid combination names the option to fix and writes nothing."""
    with pytest.raises(ConfigError, match=match):
        synced.export(tmp_path / "out", **kw)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_since_and_until_select_local_days(synced: Vault, tmp_path: Path) -> None:
    """Both ends are local dates, inclusive; child rows follow their session's date."""
    summary = synced.export(
        tmp_path, fmt="parquet", types=["sleep"], since=dt.date(2026, 11, 15), until="2026-11-16"
    )
    sessions = pd.read_parquet(tmp_path / "sleep_sessions.parquet")
    assert set(sessions["local_date"].astype(str)) <= {"2026-11-15", "2026-11-16"}
    stages = pd.read_parquet(tmp_path / "sleep_stages.parquet")
    assert set(stages["session_start"]) == set(sessions["start_time"])
    assert summary.rows == len(sessions) + len(stages)


@st.composite
def readings(draw: st.DrawFn) -> pa.Table:
    """Heart-rate rows with any instants, offsets (±14 h, whole minutes) and sources."""
    n = draw(st.integers(0, 40))
    seconds = draw(st.lists(st.integers(0, 400 * 86_400), min_size=n, max_size=n, unique=True))
    offsets = draw(st.lists(st.integers(-14 * 60, 14 * 60), min_size=n, max_size=n))
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    times = [t0 + dt.timedelta(seconds=s) for s in seconds]
    offs = [m * 60 for m in offsets]
    return columns.table(
        catalog.HEART_RATE_TABLE,
        {
            "time": times,
            "utc_offset_s": offs,
            "local_date": [
                (t + dt.timedelta(seconds=o)).date() for t, o in zip(times, offs, strict=True)
            ],
            "bpm": draw(st.lists(st.integers(30, 220), min_size=n, max_size=n)),
            "device": draw(
                st.lists(st.sampled_from(["watch", 'ring,"x"']), min_size=n, max_size=n)
            ),
            "source": draw(
                st.lists(st.sampled_from(["google-health-api", "takeout"]), min_size=n, max_size=n)
            ),
        },
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=readings())
def test_any_rows_round_trip_through_parquet_and_csv(
    rows: pa.Table, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """store → Parquet / CSV → pandas gives back exactly the stored rows, in time order."""
    tmp = tmp_path_factory.mktemp("prop")
    with Store(tmp / "vault") as store:
        store.merge(catalog.get("heart-rate"), {"heart_rate": rows}, source="any")
        summary = export.export(store, tmp / "out", [catalog.get("heart-rate")], fmt="parquet")
        export.export(store, tmp / "csv", [catalog.get("heart-rate")], fmt="csv")
    assert summary.rows == rows.num_rows
    want = rows.sort_by("time").to_pandas()
    back = pd.read_parquet(tmp / "out" / "heart_rate.parquet")
    for col in want.columns:
        assert back[col].tolist() == want[col].tolist(), col
    offsets = pd.to_timedelta(want["utc_offset_s"], unit="s")
    assert back["local_time"].tolist() == (want["time"].dt.tz_localize(None) + offsets).tolist()
    csv = pd.read_csv(tmp / "csv" / "heart_rate.csv", parse_dates=["time"], keep_default_na=False)
    assert csv["time"].tolist() == want["time"].tolist()
    assert csv["device"].tolist() == want["device"].tolist()
    assert csv["bpm"].tolist() == want["bpm"].tolist()
