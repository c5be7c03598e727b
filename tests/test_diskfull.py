"""A disk that fills up during a sync ends it with one clear line (the vault, "free space, then
rerun `fitvault sync`", no traceback), and once space is freed the same command opens the vault
and completes it to a clean sync's rows (a tmpfs; skipped where mounting is refused)."""

from __future__ import annotations

import os
import subprocess
import sys
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
TYPES = "heart-rate,steps,sleep,daily-resting-heart-rate"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A 1-day world up to the real present, so the CLI's own clock sees all of it."""
    sim = create_app(World.default(days=1, seed=11), quota_per_minute=None)
    with serve_in_thread(sim.app) as url:
        yield url


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs (needs root and a machine that lets it mount)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"the machine refuses to mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def cli_sync(vault: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fitvault", "sync", "--types", TYPES],
        env=os.environ | {"FITVAULT_HOME": str(vault)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def fill(directory: Path, leave: int) -> Path:
    """A file taking all but ``leave`` bytes of the filesystem's free space."""
    stat = os.statvfs(directory)
    filler = directory / "filler"
    with filler.open("wb") as out:
        todo = max(stat.f_bavail * stat.f_frsize - leave, 0)
        while todo > 0:
            todo -= out.write(b"\0" * min(todo, 1 << 20))
    return filler


@pytest.fixture(scope="module")
def clean(server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, int]:
    """A clean sync's rows, and the size of its vault file."""
    vault = Vault(tmp_path_factory.mktemp("clean") / "vault")
    vault.authorize(server=server, open_url=press_allow)
    assert cli_sync(vault.directory).returncode == 0
    file = (vault.directory / "vault.duckdb").stat()
    return table_rows(vault), min(file.st_size, file.st_blocks * 512)


@pytest.mark.parametrize(
    "leave",
    [0.0, 0.2, 0.8],
    ids=["no-room-to-create-the-vault", "full-during-a-commit", "full-at-the-checkpoint"],
)
def test_a_full_disk_stops_the_sync_clearly_and_it_resumes_once_space_is_freed(
    small_disk: Path, server: str, clean: tuple[object, int], leave: float
) -> None:
    """Exit 6, one line naming the vault and what to do; after freeing space: a clean vault.

    ``leave`` is the free space left, as a share of a clean sync's vault file: with 80 % the
    commits fit in the write-ahead log and the disk fills when the checkpoint copies them
    into the file, an error DuckDB drops when it checkpoints on close (the sync said 0)."""
    rows, size = clean
    vault = Vault(small_disk / "vault")
    vault.authorize(server=server, open_url=press_allow)
    filler = fill(small_disk, int(leave * size))
    full = cli_sync(vault.directory)
    said = full.stdout + full.stderr
    assert full.returncode == 6, said
    assert "Traceback" not in said
    error = [line for line in said.splitlines() if line.startswith("error:")]
    assert len(error) == 1, said
    assert str(vault.directory) in error[0]
    assert "the disk is full" in error[0]
    assert "free space, then rerun `fitvault sync`" in error[0]
    filler.unlink()
    again = cli_sync(vault.directory)
    assert again.returncode == 0, again.stdout + again.stderr
    assert table_rows(vault) == rows
