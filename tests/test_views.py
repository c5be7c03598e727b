"""A vault any analyst can open: `_local` views, a format DuckDB 1.x reads, read-only SQL, and
a schema document that matches the catalog."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from fitvault import catalog, sqlshell, views
from fitvault._errors import ConfigError, VaultError
from fitvault.simulator.world import World
from fitvault.store import VAULT_FILE, Store
from fitvault.vault import Vault
from tests.conftest import DST_NOW
from tests.test_export import synced_types

ROOT = Path(__file__).resolve().parents[1]
DUCKDB_1X = "duckdb-cli==1.4.4.post2"  # the oldest 1.x command line PyPI has


@pytest.fixture(scope="module")
def dst_synced(dst_world: World, tmp_path_factory: pytest.TempPathFactory) -> Vault:
    directory = tmp_path_factory.mktemp("views") / "vault"
    return synced_types(dst_world, DST_NOW, directory, ["heart-rate", "sleep"])


def test_every_table_has_a_local_view_without_timestamptz(dst_synced: Vault) -> None:
    """Views carry plain types only, so any client (and fetchall() without pytz) reads them."""
    con = duckdb.connect(str(dst_synced.directory / VAULT_FILE), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name, data_type FROM duckdb_columns() WHERE table_name IN "
            # _raw_pages is the store's own view over its raw-page chunk tables, not one of the
            # views made for readers (it keeps the tables' types, like _sync_state does)
            "(SELECT view_name FROM duckdb_views() WHERE NOT internal "
            "AND NOT starts_with(view_name, '_'))"
        ).fetchall()
    finally:
        con.close()
    assert {v for v, _ in rows} >= {views.view_name(t) for t in catalog.TABLES.values()}
    assert not [v for v, t in rows if "TIME ZONE" in t]


def test_local_time_is_the_instant_plus_its_own_offset(dst_synced: Vault) -> None:
    """Across the fall-back the wall clock repeats an hour; UTC never does."""
    con = duckdb.connect(str(dst_synced.directory / VAULT_FILE), read_only=True)
    try:
        con.execute("SET TimeZone = 'Asia/Tokyo'")  # the session zone must not matter
        rows = con.execute(
            "SELECT time, local_time, utc_offset_s FROM heart_rate_local ORDER BY time"
        ).fetchall()
    finally:
        con.close()
    assert rows
    assert all(t.tzinfo is None for t, _, _ in rows[:10])
    assert all((lt - t).total_seconds() == off for t, lt, off in rows)
    assert {off for _, _, off in rows} == {-14400, -18000}
    with Store(dst_synced.directory, read_only=True) as store:
        first = store.con.execute("SELECT min(time) FROM heart_rate").fetchall()[0][0]
    assert rows[0][0] == first.replace(tzinfo=None)


def test_sessions_get_local_end_times_and_keep_their_stored_start(dst_synced: Vault) -> None:
    """Sleep: end_time's wall clock uses the end offset; the stored local_start_time stays."""
    df = dst_synced.sql("SELECT * FROM sleep_sessions_local ORDER BY start_time")
    assert list(df.columns).count("local_start_time") == 1
    assert (
        df["local_end_time"] == df["end_time"] + pd.to_timedelta(df["end_utc_offset_s"], unit="s")
    ).all()


def test_sql_returns_a_dataframe_and_refuses_writes(dst_synced: Vault) -> None:
    """Only reading statements run; writes, COPY and ATTACH are refused, and so are files."""
    df = dst_synced.sql("SELECT count(*) AS n, max(bpm) AS top FROM heart_rate")
    assert int(df["n"].iloc[0]) > 0
    for bad in (
        "DELETE FROM heart_rate",
        "SELECT 1; DROP TABLE heart_rate",
        "COPY heart_rate TO 'x.csv'",
        "ATTACH 'other.duckdb'",
        "CREATE TABLE t AS SELECT 1",
    ):
        with pytest.raises(ConfigError, match="read-only"):
            dst_synced.sql(bad)
    with pytest.raises(VaultError, match="disabled"):
        dst_synced.sql("SELECT * FROM read_csv('/etc/hostname')")
    assert dst_synced.sql("SELECT count(*) AS n FROM heart_rate")["n"].iloc[0] == df["n"].iloc[0]


def test_sql_adds_views_to_a_vault_written_before_them(dst_synced: Vault, tmp_path: Path) -> None:
    """An older vault without the views still answers queries on `<table>_local`."""
    copy = tmp_path / "old"
    shutil.copytree(dst_synced.directory, copy)
    con = duckdb.connect(str(copy / VAULT_FILE))
    con.execute("DROP VIEW heart_rate_local")
    con.close()
    df = Vault(copy).sql("SELECT count(*) AS n FROM heart_rate_local")
    assert int(df["n"].iloc[0]) > 0


@pytest.mark.parametrize("fmt", sqlshell.OUTPUT_FORMATS)
def test_sql_renders_for_the_command_line(dst_synced: Vault, fmt: str) -> None:
    """Text table, CSV and JSON renderings of one answer."""
    text = sqlshell.run_cli(
        dst_synced.directory,
        "SELECT local_date, max(bpm) AS bpm FROM heart_rate_local GROUP BY 1 ORDER BY 1",
        fmt,
    )
    assert "bpm" in text


def test_the_committed_schema_document_is_up_to_date() -> None:
    """docs/schema.md is what the catalog generates (run `python -m fitvault.views`)."""
    committed = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert committed == views.schema_markdown()
    for table in catalog.TABLES.values():
        assert f"## `{table.name}`" in committed
        for col in table.columns:
            assert f"| `{col.name}` | {col.sql} |" in committed


def _duckdb_1x(folder: Path) -> Path | None:
    """Install a DuckDB 1.x command line into ``folder`` (None if it cannot be had)."""
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "--target", str(folder), DUCKDB_1X],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError):
        return None
    for path in folder.rglob("duckdb"):
        if path.is_file() and path.read_bytes()[:4] == b"\x7fELF":
            path.chmod(0o755)
            return path
    return None


@pytest.mark.slow
def test_the_duckdb_1x_command_line_opens_a_vault(
    dst_synced: Vault, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The file is written in the v1.0.0 storage format: DuckDB 1.x reads tables and views."""
    binary = _duckdb_1x(tmp_path_factory.mktemp("duckdb-1x"))
    if binary is None:
        pytest.skip(f"could not install {DUCKDB_1X}")
    query = (
        "SELECT count(*), strftime(min(local_time), '%Y-%m-%d %H:%M:%S'), "
        "sum(bpm) FROM heart_rate_local"
    )
    env = {**os.environ, "TZ": "Asia/Kolkata"}
    answer = subprocess.run(
        [str(binary), "-readonly", "-csv", "-noheader", str(dst_synced.directory / VAULT_FILE),
         "-c", query],
        check=True, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    df = dst_synced.sql(query.replace("count(*)", "count(*) AS n"))
    want = ",".join(str(v) for v in df.iloc[0].tolist())
    assert answer.stdout.strip() == want
