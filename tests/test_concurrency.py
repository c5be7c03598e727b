"""Several processes on one vault: a second `fitvault sync` is refused with a clear message and
never changes what the first one writes; two processes refreshing one token never lose it
(issue 11, item 5; the notebook reading beside a sync is tests/test_kill.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from fitvault._errors import VaultLocked
from fitvault._lock import SYNC_LOCK, sync_lock
from fitvault.auth import TokenStore
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.takeout import write_archive
from fitvault.simulator.world import World
from fitvault.store import VAULT_FILE, Store
from fitvault.vault import Vault
from tests.test_kill import CLASSIC, cli_sync, signed_in, unhurried
from tests.test_sync import table_rows

pytestmark = pytest.mark.slow


class TokenCalls:
    """Counts the requests that reach the token endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.count = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/token":
            self.count += 1
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, TokenCalls]]:
    """A 10-day world up to the real present, paced like a real server (see test_kill)."""
    sim = create_app(World.default(days=10, seed=5), quota_per_minute=None)
    calls = TokenCalls(unhurried(sim.app))
    with serve_in_thread(calls) as url:
        yield url, calls


def wait_for_lock(directory: Path, pid: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the sync with ``pid`` holds the vault's sync lock (it writes its PID there)."""
    lock = directory / SYNC_LOCK
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if lock.exists() and lock.read_text().split()[:1] == [str(pid)]:
            return
        time.sleep(0.01)
    raise AssertionError("the first sync never took the lock")


def run_cli(vault: Vault, *args: str) -> subprocess.CompletedProcess[str]:
    """A `fitvault` command on ``vault``, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "fitvault", *args],
        env={**os.environ, "FITVAULT_HOME": str(vault.directory)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_second_sync_is_refused_and_the_vault_equals_one_sync(
    tmp_path: Path, served: tuple[str, TokenCalls]
) -> None:
    """While one `fitvault sync` runs, a second exits 6 (VaultLocked) naming it and what to
    do; the first completes and the tables equal a lone sync's; the lock is gone once it exits."""
    url, _ = served
    busy = signed_in(tmp_path / "busy", url)
    first = cli_sync(busy)
    wait_for_lock(busy.directory, first.pid, first)
    try:
        second = run_cli(busy, "sync", "--types", CLASSIC)
        overlapped = first.poll() is None
    finally:  # never leave the first running, whatever failed
        finished = first.wait(120)
    assert overlapped, "the first sync ended before the second started"
    assert second.returncode == VaultLocked.exit_code, second.stderr
    message = second.stderr + second.stdout
    assert "already running" in message
    assert str(first.pid) in message
    assert "Traceback" not in message
    assert finished == 0, (busy.directory / "sync.log").read_text()

    lone = signed_in(tmp_path / "lone", url)
    assert cli_sync(lone).wait(120) == 0
    assert table_rows(busy) == table_rows(lone)
    again = cli_sync(busy)  # nothing left behind blocks the next run
    assert again.wait(120) == 0, (busy.directory / "sync.log").read_text()
    assert table_rows(busy) == table_rows(lone)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Takeout archive of another 20 days of the same kind of person."""
    return write_archive(World.default(days=20, seed=6), tmp_path_factory.mktemp("t") / "t.zip")


def test_an_import_beside_a_sync_waits_for_it_then_imports_and_a_sync_beside_an_import_is_refused(
    tmp_path: Path, served: tuple[str, TokenCalls], archive: Path
) -> None:
    """`fitvault import` started during a sync says what it waits for and runs once the sync
    is done (before, the two took turns at the file and the one waiting longer than 30 s for a
    long commit gave up); the vault then equals a sync followed by the import. A sync started
    while an import holds the vault is refused at once, naming the import."""
    url, _ = served
    busy = signed_in(tmp_path / "busy", url)
    sync = cli_sync(busy)
    wait_for_lock(busy.directory, sync.pid, sync)
    try:
        imported = run_cli(busy, "import", str(archive))
        overlapped = "the import starts when it has finished" in imported.stderr
    finally:
        synced = sync.wait(120)
    assert overlapped, imported.stderr
    assert f"`fitvault sync` (process {sync.pid}) is writing to the vault" in imported.stderr
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert synced == 0, (busy.directory / "sync.log").read_text()

    alone = signed_in(tmp_path / "alone", url)
    assert cli_sync(alone).wait(120) == 0
    assert run_cli(alone, "import", str(archive)).returncode == 0
    assert table_rows(busy) == table_rows(alone)

    with sync_lock(busy.directory, "import"):
        refused = run_cli(busy, "sync", "--types", CLASSIC)
    assert refused.returncode == VaultLocked.exit_code
    said = refused.stdout + refused.stderr
    assert f"A `fitvault import` (process {os.getpid()}) is writing to" in said, said
    assert "run `fitvault sync` again once it has finished" in said
    assert "Traceback" not in said


REFRESHER = """
import asyncio, sys, time
from pathlib import Path
from fitvault.auth import Account, TokenManager, TokenStore
d = Path(sys.argv[1])
tokens = TokenManager(Account.load(d), TokenStore(d))
while not (d / "go").exists():
    time.sleep(0.005)
print(asyncio.run(tokens.access_token()))
"""


def test_two_processes_refreshing_one_token_spend_one_refresh_and_stay_signed_in(
    tmp_path: Path, served: tuple[str, TokenCalls]
) -> None:
    """Two processes find the token expired at the same moment: one refresh reaches the
    server, both use its access token, and the file is valid and signed in afterwards."""
    url, calls = served
    vault = signed_in(tmp_path / "v", url)
    store = TokenStore(vault.directory)
    stale = store.load()
    assert stale is not None
    store.save(stale | {"expires_at": 0})
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REFRESHER, str(vault.directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)  # both have loaded the stale token (a race without the lock)
    before = calls.count
    (vault.directory / "go").touch()
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    tokens = {out.strip() for out, _ in outs}
    saved = json.loads(store.path.read_text())
    assert tokens == {saved["access_token"]}
    assert saved["access_token"] != stale["access_token"]
    assert saved["refresh_token"] == stale["refresh_token"]
    assert calls.count - before == 1
    (vault.directory / "go").unlink()
    report = vault.sync(types=["sleep"])  # signed in: the API accepts the saved token
    assert report is not None
    assert calls.count - before == 1  # and needed no further refresh


HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("held", flush=True)
time.sleep(600)
"""


def test_a_notebook_holding_its_own_connection_is_named_and_then_let_through(
    tmp_path: Path,
) -> None:
    """A notebook that keeps a DuckDB connection of its own open (not through fitvault) makes
    a writer wait, then fail with VaultLocked naming that process and `con.close()`; once it
    lets go, the writer gets in and the file is intact."""
    directory = tmp_path / "vault"
    with Store(directory) as store:
        store.set_meta("probe", 1)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory / VAULT_FILE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(VaultLocked) as info:
            Store(directory, wait=1.0)
    finally:
        holder.kill()
        holder.communicate(timeout=10)  # and closes its pipe
    message = str(info.value)
    assert f"process {holder.pid}" in message
    assert "notebook" in message
    assert "con.close()" in message
    with Store(directory) as store:
        assert store.get_meta("probe") == 1
