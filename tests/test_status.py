"""`status`: what a vault holds, how the last sync went and whether the sign-in still works,
as data and in words a non-programmer understands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx2
import pytest

from fitvault import catalog, status
from fitvault.auth import TokenStore
from fitvault.simulator.world import World
from fitvault.store import Store
from fitvault.vault import Vault
from tests.conftest import NOW, sign_in, sync
from tests.test_export import TYPES, synced_types


@pytest.fixture(scope="module")
def synced(world: World, tmp_path_factory: pytest.TempPathFactory) -> Vault:
    return synced_types(world, NOW, tmp_path_factory.mktemp("status") / "vault", TYPES)


def test_gaps_are_runs_of_missing_days() -> None:
    """Consecutive days make no gap; each run of absent days is one gap with its length."""
    d = dt.date(2026, 11, 1)
    days = [d, d + dt.timedelta(1), d + dt.timedelta(4), d + dt.timedelta(6)]
    assert status.gaps(days) == [
        {"from": "2026-11-03", "to": "2026-11-04", "days": 2},
        {"from": "2026-11-06", "to": "2026-11-06", "days": 1},
    ]
    assert status.gaps([]) == []


def test_a_synced_vault_reports_days_rows_and_a_healthy_sign_in(
    synced: Vault, world: World
) -> None:
    """Per type: rows, first/last local day, days with data; the file's format; no secrets."""
    result = synced.status()
    hr = result["types"]["heart-rate"]
    assert hr["rows"] == result["rows"]["heart_rate"] > 0
    assert hr["first_day"] <= hr["last_day"] == "2026-11-22"
    assert hr["days_with_data"] == 13
    assert hr["gaps"] == []
    assert hr["outcome"] == "complete"
    assert result["types"]["sleep"]["tables"]["sleep_stages"] > 0
    vault = result["vault"]
    assert vault["storage_version"].startswith("v1.")
    assert vault["raw_pages"]["pages"] > 0
    assert vault["file_bytes"] >= vault["tables_bytes"] > 0
    token = result["token"]
    assert token["signed_in"]
    assert catalog.get("sleep").read_scope in token["scopes_granted"]
    text = json.dumps(status.as_json(result), default=str)
    secret = TokenStore(synced.directory).load()
    assert secret is not None
    assert secret["access_token"] not in text
    assert secret["refresh_token"] not in text
    words = status.render(result)
    assert "heart rate: " in words
    assert "opens in DuckDB 1.x" in words
    assert secret["access_token"] not in words


def test_a_fresh_vault_is_explained(vault: Vault) -> None:
    """Signed in but never synced: every type 'never', and the words say to run a sync."""
    with vault.store():
        pass
    result = vault.status()
    assert {t["outcome"] for t in result["types"].values()} == {"never"}
    assert all(t["rows"] == 0 for t in result["types"].values())
    words = status.render(result)
    assert "nothing has been downloaded" in words
    assert "fitvault sync" in words


def test_a_partial_sync_recorded_per_type_is_explained(synced: Vault, tmp_path: Path) -> None:
    """The newer last_sync shape with per-type outcomes: partial types and why, and what to do."""
    copy = tmp_path / "vault"
    copy.mkdir()
    for f in synced.directory.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    with Store(copy) as store:
        store.set_meta(
            "last_sync",
            {
                "at": "2026-11-22T15:00:00+00:00",
                "requests": 40,
                "types": {
                    "heart-rate": {"outcome": "complete"},
                    "sleep": {"outcome": "partial", "reason": "the server stopped answering"},
                },
            },
        )
    result = Vault(copy).status()
    assert result["types"]["sleep"]["outcome"] == "partial"
    assert result["types"]["heart-rate"]["outcome"] == "complete"
    assert result["types"]["steps"]["outcome"] == "not synced"
    words = status.render(result)
    assert "sleep did not finish (the server stopped answering)" in words
    assert "Run `fitvault sync` again" in words


def test_types_without_permission_show_as_skipped(
    tmp_path: Path, transport: httpx2.ASGITransport
) -> None:
    """With the older last_sync shape, a type whose permission was not granted was skipped."""
    vault = Vault(tmp_path / "v")
    sign_in(vault, transport, ["heart-rate"])
    sync(vault, transport, types=["daily-resting-heart-rate"])
    result = vault.status()
    sleep = result["types"]["sleep"]
    assert sleep["outcome"] == "skipped"
    assert "permission" in sleep["reason"]
    assert result["token"]["scopes_missing"]
    words = status.render(result)
    assert "sleep was skipped" in words
    assert "fitvault auth" in words
    assert "may not read: " in words


def test_an_expired_testing_mode_sign_in_is_explained(synced: Vault) -> None:
    """Past the 7-day refresh-token lifetime: expired, why (Testing mode), and the fix."""
    token = TokenStore(synced.directory).load()
    assert token is not None
    expires = float(token["refresh_token_expires_at"])
    later = status.status(synced.directory, clock=lambda: expires + 3600)
    t = later["token"]
    assert t["testing_mode"]
    assert t["refresh_token_expired"]
    assert not t["access_token_valid"]
    assert t["refresh_token_age_days"] == pytest.approx(7.0, abs=0.1)
    words = status.render(later)
    assert "EXPIRED" in words
    assert "'Testing' mode" in words
    assert "fitvault auth" in words
    soon = status.status(synced.directory, clock=lambda: expires - 86_400)
    assert "Soon you will need to run `fitvault auth`" in status.render(soon)


def test_no_token_file_means_not_signed_in(synced: Vault, tmp_path: Path) -> None:
    """A vault copied without its token says how to sign in instead of failing."""
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "vault.duckdb").write_bytes((synced.directory / "vault.duckdb").read_bytes())
    result = Vault(copy).status()
    assert not result["token"]["signed_in"]
    assert "fitvault auth" in status.render(result)


def test_run_cli_prints_json_or_words(synced: Vault) -> None:
    """The CLI body: `--json` is the documented shape, otherwise the words."""
    data = json.loads(status.run_cli(synced.directory, as_json_output=True))
    assert set(data) == {"types", "token", "vault"}
    assert set(data["types"]["heart-rate"]) >= {
        "rows", "first_day", "last_day", "days_with_data", "gaps", "last_sync", "outcome",
    }  # fmt: skip
    assert "What the vault holds:" in status.run_cli(synced.directory)
