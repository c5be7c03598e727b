"""Raw pages kept in chunk tables: order across chunks, pruning in every chunk, migration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from fitvault import catalog
from fitvault import store as store_mod
from fitvault.store import VAULT_FILE, RawPage, Store

HR = catalog.get("heart-rate")
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SRC = "google-health-api"


def keep(store: Store, i: int, span: tuple[int, int]) -> None:
    body = f'{{"page": {i}, "pad": "{"x" * 2000}"}}'.encode()
    raw = RawPage("heart-rate", SRC, {"i": i}, body, T0)
    store.commit_page(HR, {}, source=SRC, replace=span, covered=None, raw=raw)


def chunks(store: Store) -> list[str]:
    rows = store.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_raw_pages_') "
        "ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_mod, "RAW_CHUNK_PAGES", 2)


@pytest.mark.usefixtures("small_chunks")
def test_pages_spread_over_chunks_come_back_in_order(tmp_path: Path) -> None:
    """Five pages with two per chunk fill three chunks; the view returns all five in order."""
    with Store(tmp_path) as store:
        for i in range(5):
            keep(store, i, (i * 10, i * 10 + 10))
        assert chunks(store) == ["_raw_pages_0000", "_raw_pages_0001", "_raw_pages_0002"]
        assert [p.page.request["i"] for p in store.raw_pages()] == [0, 1, 2, 3, 4]
        assert store.count("_raw_pages") == 5


@pytest.mark.usefixtures("small_chunks")
def test_a_re_read_prunes_superseded_pages_in_every_chunk(tmp_path: Path) -> None:
    """A later page answering for the spans of pages in two chunks drops both of them."""
    with Store(tmp_path) as store:
        for i in range(4):
            keep(store, i, (i * 10, i * 10 + 10))
        keep(store, 9, (0, 40))  # answers again for everything the first four did
        assert [p.page.request["i"] for p in store.raw_pages()] == [9]


def test_a_vault_with_one_raw_table_keeps_its_pages(tmp_path: Path) -> None:
    """A schema-3 vault's ``_raw_pages`` table becomes the first chunk; its pages stay and new
    ones follow them."""
    with Store(tmp_path) as store:
        keep(store, 0, (0, 10))
        store.con.execute("CREATE TABLE old AS SELECT * FROM _raw_pages")
        store.con.execute("DROP VIEW _raw_pages")
        store.con.execute("DROP TABLE _raw_pages_0000")
        store.con.execute("ALTER TABLE old RENAME TO _raw_pages")
        store.con.execute("UPDATE _meta SET value = '3' WHERE key = 'schema_version'")
    con = duckdb.connect(str(tmp_path / VAULT_FILE))
    assert con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = '_raw_pages'"
    ).fetchall() == [("BASE TABLE",)]
    con.close()
    with Store(tmp_path) as store:
        keep(store, 1, (10, 20))
        assert chunks(store) == ["_raw_pages_0000"]
        assert [p.page.request["i"] for p in store.raw_pages()] == [0, 1]
        assert store.schema_version == store_mod.SCHEMA_VERSION
