"""A sync process killed with SIGKILL mid-run resumes, on re-run, to the vault an uninterrupted
sync makes: nothing lost, nothing duplicated (real loopback socket, real process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fitvault.demo import press_allow
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.test_sync import table_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A 10-day world up to the real present, so the CLI's own clock sees all of it."""
    sim = create_app(World.default(days=10, seed=11), quota_per_minute=None)
    with serve_in_thread(sim.app) as url:
        yield url


def signed_in(path: Path, url: str) -> Vault:
    vault = Vault(path)
    vault.authorize(server=url, open_url=press_allow)
    return vault


def cli_sync(vault: Vault) -> subprocess.Popen[bytes]:
    env = os.environ | {"FITVAULT_HOME": str(vault.directory)}
    log = (vault.directory / "sync.log").open("ab")
    with log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "fitvault", "sync"], env=env, stdout=log, stderr=log
        )


def test_sigkill_mid_sync_then_rerun_matches_an_uninterrupted_sync(
    tmp_path: Path, server: str
) -> None:
    """Kill -9 after the first pages are committed; the re-run completes the same rows."""
    broken = signed_in(tmp_path / "broken", server)
    proc = cli_sync(broken)
    wal = broken.directory / "vault.duckdb.wal"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 2_000_000:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sync finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    partial = table_rows(broken)
    rerun = cli_sync(broken)
    assert rerun.wait(120) == 0, (broken.directory / "sync.log").read_text()

    clean = signed_in(tmp_path / "clean", server)
    done = cli_sync(clean)
    assert done.wait(120) == 0
    want = table_rows(clean)
    assert 0 < len(partial["heart_rate"]) + len(partial["sleep_sessions"]) < len(want["heart_rate"])
    assert table_rows(broken) == want
