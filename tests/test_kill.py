"""A sync process killed with SIGKILL mid-run resumes, on re-run, to the vault an uninterrupted
sync makes: nothing lost, nothing duplicated (real loopback socket, real process)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from fitvault._errors import VaultError
from fitvault.demo import press_allow
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.test_sync import table_rows

pytestmark = pytest.mark.slow
CLASSIC = "heart-rate,steps,sleep,daily-resting-heart-rate"  # mechanics, not breadth


def unhurried(app: ASGIApp, seconds: float = 0.1) -> ASGIApp:
    """The app with a pause before each data page, as a real server over a real network has:
    on an idle machine the sync would otherwise finish before a test could stop it."""

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/dataPoints" in scope["path"]:
            await asyncio.sleep(seconds)
        await app(scope, receive, send)

    return slow


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A 10-day world up to the real present, so the CLI's own clock sees all of it."""
    sim = create_app(World.default(days=10, seed=11), quota_per_minute=None)
    with serve_in_thread(unhurried(sim.app)) as url:
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
            [sys.executable, "-m", "fitvault", "sync", "--types", CLASSIC],
            env=env,
            stdout=log,
            stderr=log,
        )


def rows_saved(vault: Vault) -> int:
    """Sleep sessions and heart-rate readings committed so far (sleep is synced first)."""
    try:
        with vault.store(read_only=True) as store:
            return store.count("sleep_sessions") + store.count("heart_rate")
    except VaultError:  # not created yet
        return 0


def test_sigkill_mid_sync_then_rerun_matches_an_uninterrupted_sync(
    tmp_path: Path, server: str
) -> None:
    """Kill -9 after the first pages are committed; the re-run completes the same rows."""
    broken = signed_in(tmp_path / "broken", server)
    proc = cli_sync(broken)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if rows_saved(broken) > 0:  # the sync lets readers in between its commits
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


@pytest.fixture(scope="module")
def slow_server() -> Iterator[str]:
    """The same world with 0.4 s before each data page: the sync lasts long enough for a
    reader on a loaded machine to read several times while it runs."""
    sim = create_app(World.default(days=10, seed=11), quota_per_minute=None)
    with serve_in_thread(unhurried(sim.app, seconds=0.4)) as url:
        yield url


def test_a_notebook_reading_in_a_loop_during_a_sync_sees_no_error(
    tmp_path: Path, slow_server: str
) -> None:
    """DuckDB admits one writing process; the sync holds the file only while it commits, and
    readers wait for those moments transparently."""
    vault = signed_in(tmp_path / "v", slow_server)
    proc = cli_sync(vault)
    reads, errors, rows = 0, [], []
    while proc.poll() is None:
        try:
            rows.append(len(Vault(vault.directory).heart_rate()))
            reads += 1
        except VaultError as exc:
            if "No vault" not in str(exc):  # before the sync's first commit
                errors.append(exc)
    assert proc.wait(60) == 0, (vault.directory / "sync.log").read_text()
    assert errors == []
    assert reads >= 3
    assert rows == sorted(rows)  # each read saw a consistent, growing vault
