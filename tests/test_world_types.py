"""A sync of the simulated world stores every readable type exactly as the world made it, and
the default DataFrames add up to what the app (the simulator's roll-ups) shows."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from fitvault import catalog
from fitvault.catalog import Table
from fitvault.simulator.world import World
from fitvault.store import Store
from fitvault.vault import Vault
from tests.conftest import sync

SKIP = {"local_date", "local_start_time", "source"}
LISTED = [t for t in catalog.STORED_TYPES if t.name != "sleep"]


@pytest.fixture(scope="module")
def synced(
    tmp_path_factory: pytest.TempPathFactory, world: World
) -> tuple[Vault, httpx2.ASGITransport]:
    """The session world synced once, every type (module-scoped: it is the slow part)."""
    from fitvault.simulator.app import create_app
    from tests.conftest import NOW, FakeClock, sign_in

    sim = create_app(world, clock=FakeClock(NOW.timestamp()), auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path_factory.mktemp("all") / "vault")
    sign_in(vault, transport)
    report = sync(vault, transport)
    assert report.skipped == {}
    return vault, transport


def vault_rows(store: Store, table: Table) -> list[dict[str, Any]]:
    cols = [
        f'epoch_us("{c.name}") // 1000000 AS "{c.name}"'
        if c.sql == "TIMESTAMPTZ"
        else f'"{c.name}"'
        for c in table.columns
        if c.name not in SKIP
    ]
    order = ", ".join(f'"{k}"' for k in table.key)
    cur = store.con.execute(f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY {order}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def world_rows(records: dict[str, Any], table: Table) -> list[dict[str, Any]]:
    names = [c.name for c in table.columns if c.name not in SKIP and c.name in records]
    n = len(records[names[0]])
    rows = [{k: _plain(records[k][i]) for k in names} for i in range(n)]
    return sorted(rows, key=lambda r: tuple(_order(r[k]) for k in table.key))


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


def _order(v: Any) -> tuple[int, Any]:
    return (0, "") if v is None else (1, v)


def same(a: Any, b: Any, column: str, table: Table) -> bool:
    if table.column(column).sql == "VARCHAR" and isinstance(b, dict | list):
        return bool(json.loads(a) == b)
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def _same_value(a: Any, b: Any) -> bool:
    """Equal, where a NaN equals a NaN (the API sends "NaN" baselines)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def assert_rows_equal(got: list[dict[str, Any]], want: list[dict[str, Any]], table: Table) -> None:
    assert len(got) == len(want), f"{table.name}: {len(got)} rows, the world has {len(want)}"
    for g, w in zip(got, want, strict=True):
        for column, value in w.items():
            assert same(g[column], value, column, table), (table.name, column, g, w)


@pytest.mark.parametrize("dtype", LISTED, ids=lambda t: t.name)
def test_each_type_is_stored_exactly_as_the_world_made_it(
    synced: tuple[Vault, httpx2.ASGITransport], world: World, dtype: catalog.DataType
) -> None:
    """Rows of the type's table (and its child tables) equal the world's records."""
    vault, _ = synced
    with vault.store(read_only=True) as store:
        main = dtype.tables[0]
        assert_rows_equal(
            vault_rows(store, main), world_rows(world.records(dtype.name), main), main
        )
        for child in dtype.tables[1:]:
            want = world_rows(world.child_records(dtype.name, child.name), child)
            assert_rows_equal(vault_rows(store, child), want, child)


def test_every_type_with_data_in_the_world_has_rows_and_a_frame(
    synced: tuple[Vault, httpx2.ASGITransport], world: World
) -> None:
    """Each type the world produces has rows and a DataFrame (the rest page correctly empty)."""
    vault, _ = synced
    empty = []
    for dtype in LISTED:
        df = vault.frame(dtype.name)
        n = len(next(iter(world.records(dtype.name).values())))
        if n == 0:
            empty.append(dtype.name)
        elif dtype.record_kind is not catalog.RecordKind.INTERVAL:
            assert len(df) == n, dtype.name
        else:
            assert 0 < len(df) <= n, dtype.name  # reconciled: other devices' overlaps dropped
    assert set(empty) <= {"blood-glucose", "core-body-temperature", "swim-lengths-data"}


async def _daily_rollup(transport: httpx2.ASGITransport, vault: Vault, name: str) -> dict[Any, int]:
    from fitvault.auth import Account, TokenManager, TokenStore
    from fitvault.http import ApiClient

    account = Account.load(vault.directory)
    tokens = TokenManager(account, TokenStore(vault.directory), transport=transport)
    out: dict[Any, int] = {}
    async with ApiClient(account.api_base, tokens, transport=transport, per_minute=None) as c:
        d0, d1 = vault.steps()["date"].min(), vault.steps()["date"].max()
        start = d0
        while start <= d1:
            end = min(start + dt.timedelta(days=90), d1 + dt.timedelta(days=1))
            body = {
                "range": {
                    "start": {"date": {"year": start.year, "month": start.month, "day": start.day}},
                    "end": {"date": {"year": end.year, "month": end.month, "day": end.day}},
                },
                "windowSizeDays": 1,
            }
            resp = await c.post(f"/v4/users/me/dataTypes/{name}/dataPoints:dailyRollUp", body)
            for p in json.loads(resp.content).get("rollupDataPoints", []):
                d = p["civilStartTime"]["date"]
                out[dt.date(d["year"], d["month"], d["day"])] = int(p["steps"]["countSum"])
            start = end
    return out


def test_daily_steps_equal_what_the_app_shows_although_a_phone_also_counted(
    synced: tuple[Vault, httpx2.ASGITransport], world: World
) -> None:
    """vault.steps() per day == the service's dailyRollUp per day, on days when a phone counted
    beside the watch (its overlapping minutes are not counted twice)."""
    vault, transport = synced
    with vault.store(read_only=True) as store:
        stored = store.count("steps")
        devices = store.df("SELECT DISTINCT platform FROM steps")["platform"].tolist()
    assert "HEALTH_CONNECT" in devices
    assert stored > len(vault.frame("steps"))  # the phone's overlapping minutes are set aside
    daily = vault.steps()
    ours = {d: int(s) for d, s in zip(daily["date"], daily["steps"], strict=True)}
    assert ours == asyncio.run(_daily_rollup(transport, vault, "steps"))


def test_wear_time_is_the_minutes_with_a_reading(
    synced: tuple[Vault, httpx2.ASGITransport], world: World
) -> None:
    """Derived wear minutes per local day equal the world's minutes with a heart-rate sample."""
    vault, _ = synced
    hr = world.heart_rate()
    local_minute = (hr.t + hr.offset_s) // 60
    days, counts = np.unique(np.unique(local_minute) // 1440, return_counts=True)
    want = {
        dt.date(1970, 1, 1) + dt.timedelta(days=int(d)): int(c)
        for d, c in zip(days, counts, strict=True)
    }
    df = vault.wear_time()
    got = {d: int(m) for d, m in zip(df["date"], df["wear_minutes_derived"], strict=True)}
    assert got == want
    assert "wear_minutes_derived" in df.attrs["derived"]


def test_zone_minutes_follow_the_accounts_bounds(
    synced: tuple[Vault, httpx2.ASGITransport], world: World
) -> None:
    """Derived minutes per zone: each minute's mean bpm against that day's account bounds."""
    vault, _ = synced
    hr = world.heart_rate()
    minute = (hr.t + hr.offset_s) // 60
    keys, inverse = np.unique(minute, return_inverse=True)
    mean = np.bincount(inverse, weights=hr.bpm) / np.bincount(inverse)
    zones = world.records("daily-heart-rate-zones")
    want: dict[tuple[dt.date, str], int] = {}
    for day, zone, lo, hi in zip(
        zones["date"], zones["heart_rate_zone"], zones["min_bpm"], zones["max_bpm"], strict=True
    ):
        in_day = keys // 1440 == (day - dt.date(1970, 1, 1)).days
        n = int(np.count_nonzero(in_day & (mean >= lo) & (mean < hi + 1)))
        if n:
            want[(day, zone)] = n
    df = vault.heart_rate_zone_minutes()
    got = {
        (d, z): int(m)
        for d, z, m in zip(df["date"], df["heart_rate_zone"], df["minutes_derived"], strict=True)
        if d in set(zones["date"])
    }
    assert got == want
    assert sum(want.values()) > 0


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl", "json", "xlsx"])
def test_every_stored_type_exports_and_reads_back(
    synced: tuple[Vault, httpx2.ASGITransport], tmp_path: Path, fmt: str
) -> None:
    """Each table of every type is written in the format and reads back with the vault's row
    count; parquet keeps every column's values and type exactly. (Heart rate is left out of
    Excel here: its sheet splitting is tested in tests/test_export.py.)"""
    vault, _ = synced
    types = [t.name for t in catalog.STORED_TYPES if fmt != "xlsx" or t.name != "heart-rate"]
    vault.export(tmp_path, fmt=fmt, types=types)
    with vault.store(read_only=True) as store:
        counts = store.counts([tb.name for n in types for tb in catalog.get(n).tables])
        wanted = {name: store.con.sql(f"SELECT * FROM {name}").to_arrow_table() for name in counts}
    xlsx = tmp_path / "fitvault.xlsx"
    book = openpyxl.load_workbook(xlsx, read_only=True) if fmt == "xlsx" else None
    for name, rows in counts.items():
        if fmt == "parquet":
            order = [(k, "ascending") for k in catalog.TABLES[name].key]
            back = pq.read_table(tmp_path / f"{name}.parquet").sort_by(order)
            want = wanted[name].sort_by(order)
            for col in want.column_names:
                assert back.column(col).type == want.column(col).type, (name, col)
                got, exp = back.column(col).to_pylist(), want.column(col).to_pylist()
                assert len(got) == len(exp), (name, col)
                assert all(map(_same_value, got, exp)), (name, col)
        elif fmt == "csv":
            assert len(pd.read_csv(tmp_path / f"{name}.csv")) == rows, name
        elif fmt == "jsonl":
            assert len(pd.read_json(tmp_path / f"{name}.jsonl", lines=True)) == rows, name
        elif fmt == "json":
            assert len(json.loads((tmp_path / f"{name}.json").read_text())) == rows, name
        else:
            assert book is not None
            sheet = book[name[:31]]
            assert sum(1 for _ in sheet.iter_rows()) - 1 == rows, name  # a header, then the rows
