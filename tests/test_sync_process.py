"""`fitvault sync` as its own process keeps pandas out (a sixth of its memory) and saves what an
in-process sync of the same world saves, every stored type (real loopback socket)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fitvault import catalog
from fitvault.demo import press_allow
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.vault import Vault

pytestmark = pytest.mark.slow

CHILD = """
import sys
from fitvault.cli import main
sys.argv = ["fitvault", "sync"]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("PANDAS", "pandas" in sys.modules, "EXIT", code)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A 5-day world up to the real present, so the CLI's own clock sees all of it."""
    sim = create_app(World.default(days=5, seed=11), quota_per_minute=None)
    with serve_in_thread(sim.app) as url:
        yield url


def signed_in(path: Path, url: str) -> Vault:
    vault = Vault(path)
    vault.authorize(server=url, open_url=press_allow)
    return vault


def counts(vault: Vault) -> dict[str, int]:
    with vault.store(read_only=True) as store:
        return {name: store.count(name) for name in catalog.TABLES}


def test_cli_sync_runs_without_pandas_and_saves_every_type(tmp_path: Path, server: str) -> None:
    """The CLI's sync never imports pandas, exits 0, and its tables hold exactly the rows of
    an in-process sync of the same world (so nothing in the sync needed pandas)."""
    cli_vault = signed_in(tmp_path / "cli", server)
    env = os.environ | {"FITVAULT_HOME": str(cli_vault.directory)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300
    )
    assert "PANDAS False EXIT 0" in done.stdout, done.stdout + done.stderr
    reference = signed_in(tmp_path / "lib", server)
    reference.sync()
    expected = counts(reference)
    assert counts(cli_vault) == expected
    assert expected["heart_rate"] > 0
    assert expected["sleep_sessions"] > 0
