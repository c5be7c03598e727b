"""Disk full: `fitvault sync` into a vault on a small filesystem that fills up mid-sync.

A tmpfs is mounted (needs root; the script says why it skips otherwise), the vault is signed in
on it, and a filler file leaves some bytes free: none (the vault file cannot even be created)
and 2 MiB (the disk fills during a commit, part-way through the sync). The sync must then stop
with one clear line naming the vault and saying to free space and rerun `fitvault sync` — no
traceback — and,
once the filler is deleted, the same command must open the vault and complete it to the rows of
a sync on an ordinary disk.

Last line: ``disk_full_runs=… clear_error=… resumed=… rows_lost=… rows_duplicated=… crashes=…``
(or ``disk_full_runs=0 skipped=1`` with the reason above it).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from faults import compare, table_rows
from fitvault.demo import press_allow
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.vault import Vault

TYPES = "heart-rate,steps,sleep,daily-resting-heart-rate"
FIGURES = ("clear_error", "resumed", "rows_lost", "rows_duplicated", "crashes")


@contextlib.contextmanager
def small_filesystem(where: Path, size_mb: int) -> Iterator[Path]:
    """A tmpfs of ``size_mb`` at ``where`` (OSError with the reason when it cannot be had)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        raise OSError("mounting a small filesystem needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise OSError(f"mount refused: {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory: Path, leave: int) -> Path:
    """A file taking all but ``leave`` bytes of the filesystem's free space."""
    free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
    filler = directory / "filler"
    with filler.open("wb") as out:
        out.truncate(0)
        chunk = b"\0" * (1 << 20)
        todo = max(free - leave, 0)
        while todo > 0:
            todo -= out.write(chunk[: min(todo, len(chunk))])
    return filler


def cli(vault: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"FITVAULT_HOME": str(vault)}
    return subprocess.run(
        [sys.executable, "-m", "fitvault", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def run(root: Path, url: str, leave: int, clean: Path) -> dict[str, int]:
    """One disk-full sync and its resume; the figures of the last line."""
    with small_filesystem(root / f"small-{leave}", 64) as mnt:
        vault = mnt / "vault"
        Vault(vault).authorize(server=url, open_url=press_allow)
        filler = fill(mnt, leave)
        full = cli(vault, "sync", "--types", TYPES)
        said = (full.stdout + full.stderr).strip()
        print(f"disk full ({leave // 1024} KiB left): exit {full.returncode}: {said[-400:]}")
        clear = (
            full.returncode != 0
            and "Traceback" not in said
            and str(vault) in said
            and "free space" in said
            and "fitvault sync" in said
        )
        filler.unlink()
        again = cli(vault, "sync", "--types", TYPES)
        print(f"after freeing space: exit {again.returncode} {again.stderr.strip()[-300:]}")
        lost, dup = compare(table_rows(Vault(clean)), table_rows(Vault(vault)))
    crashes = int("Traceback" in said + again.stdout + again.stderr)
    return {
        "clear_error": int(clear),
        "resumed": int(again.returncode == 0),
        "rows_lost": lost,
        "rows_duplicated": dup,
        "crashes": crashes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--leave", type=int, nargs="*", default=[0, 2 << 20], help="bytes free")
    args = parser.parse_args()
    sim = create_app(World.default(days=args.days, seed=11), quota_per_minute=None)
    totals: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(sim.app) as url:
        clean = Path(tmp) / "clean"
        Vault(clean).authorize(server=url, open_url=press_allow)
        if cli(clean, "sync", "--types", TYPES).returncode != 0:
            raise SystemExit("the clean sync failed")
        for leave in args.leave:
            try:
                totals.update(run(Path(tmp), url, leave, clean))
            except OSError as exc:
                print(f"disk full: skipped ({exc})")
                print("disk_full_runs=0 skipped=1")
                return
    figures = " ".join(f"{k}={totals[k]}" for k in FIGURES)
    print(f"disk_full_runs={len(args.leave)} {figures}")


if __name__ == "__main__":
    main()
