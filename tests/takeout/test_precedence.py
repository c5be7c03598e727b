"""Import then sync, and sync then import, of one synthetic person give identical vaults: the
API's rows stand for every reading both sources saw, the export's rows are kept beside them."""

from __future__ import annotations

import math
from pathlib import Path

import httpx2
import pytest

from fitvault import catalog, provenance
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import FakeClock, sign_in, sync
from tests.takeout.conftest import NOW


def _nan_none(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


def _tables(vault: Vault) -> dict[str, list[tuple[object, ...]]]:
    """Every table and every kept other-source table, rows sorted."""
    out = {}
    with vault.store(read_only=True) as store:
        for table in catalog.TABLES.values():
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            for name in (table.name, provenance.others(table.name)):
                rows = store.con.execute(f"SELECT {cols} FROM {name}").fetchall()
                out[name] = sorted((tuple(map(_nan_none, r)) for r in rows), key=repr)
    return out


@pytest.fixture(scope="module")
def vaults(
    small_world: World, world_zip: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Vault]:
    made = {}
    for order in ("api-only", "import-then-sync", "sync-then-import"):
        sim = create_app(small_world, clock=FakeClock(NOW.timestamp()), auto_approve=True)
        transport = httpx2.ASGITransport(app=sim.app)
        vault = Vault(tmp_path_factory.mktemp(order))
        sign_in(vault, transport)
        if order == "import-then-sync":
            vault.import_archive([world_zip])
        sync(vault, transport, clock=lambda: NOW)
        if order == "sync-then-import":
            vault.import_archive([world_zip])
        made[order] = vault
    return made


def test_import_order_does_not_matter(vaults: dict[str, Vault]) -> None:
    """Every table and every kept row is the same whichever came first."""
    first, second = _tables(vaults["import-then-sync"]), _tables(vaults["sync-then-import"])
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name


def test_the_api_stands_for_what_both_saw(vaults: dict[str, Vault]) -> None:
    """Heart rate, steps, sleep and resting heart rate are exactly the API-only vault's, and the
    export's rows for the same readings wait in the others tables."""
    both, api = _tables(vaults["sync-then-import"]), _tables(vaults["api-only"])
    for name in ("heart_rate", "steps", "sleep_sessions", "sleep_stages", "resting_heart_rate"):
        assert both[name] == api[name], name
        assert both[provenance.others(name)], f"no export rows kept for {name}"
