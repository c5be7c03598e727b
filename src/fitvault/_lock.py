"""Advisory locks between fitvault processes on one vault directory.

``flock`` locks belong to an open file description, so the kernel drops them when the holder
exits for any reason (SIGKILL included): a crashed sync never leaves a lock that blocks the
next one, unlike a PID file. The lock files are empty, 0600, and stay in the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from fitvault._errors import VaultError, VaultLocked

SYNC_LOCK = ".sync.lock"
TOKEN_LOCK = ".token.lock"  # noqa: S105 (a file name)
TOKEN_WAIT_S = 120.0  # two of the token endpoint's 60 s timeouts


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise VaultError(
            f"Cannot create {path} ({exc.strerror or exc}); the vault directory must be "
            "writable: fix its permissions or pick another --vault."
        ) from None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> tuple[str, str]:
    """(the holder's command, " (process N)") from what it wrote into the file (best effort:
    it is a hint; a holder that could not write it is a sync, the oldest kind)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid, *doing = os.pread(fd, 64, 0).decode().split()
        return (doing[0] if doing else "sync"), f" (process {int(pid)})"
    return "sync", ""


def _claim(fd: int, doing: str) -> None:
    """Write our PID and command so that a refused process can name us. The lock is the
    kernel's, this only a hint: on a full disk the holder goes on unnamed (the store then
    says the disk is full, with what to do) rather than failing on the hint."""
    os.ftruncate(fd, 0)
    with contextlib.suppress(OSError):
        os.pwrite(fd, f"{os.getpid()} {doing}".encode(), 0)


@contextlib.contextmanager
def sync_lock(
    directory: Path,
    doing: str = "sync",
    *,
    wait: Callable[[str], None] | None = None,
    poll: float = 0.2,
) -> Iterator[None]:
    """Hold the vault's writer lock (a sync, an import, a rebuild: ``doing``).

    Without ``wait``, raise VaultLocked at once if another process holds it: two syncs would
    fetch the same pages twice and interleave their commits, and refusing the second (as
    ``flock -n`` does for cron jobs) is what a scheduled sync overlapping a manual one wants.
    With ``wait``, it is called once with what holds the lock and the lock is waited for (an
    import beside a sync runs after it, instead of both writers taking turns at the file until
    one gives up on a long commit).
    """
    fd = _open(Path(directory) / SYNC_LOCK)
    try:
        if not _try_lock(fd):
            holder, pid = _holder(fd)
            if wait is None:
                raise VaultLocked(_refusal(directory, doing, holder, pid))
            wait(f"`fitvault {holder}`{pid}")
            while not _try_lock(fd):
                time.sleep(poll)
        _claim(fd, doing)
        yield
    finally:
        os.close(fd)  # releases the lock


def _refusal(directory: Path, doing: str, holder: str, pid: str) -> str:
    if holder == doing == "sync":
        return (
            f"Another `fitvault sync`{pid} is already running on {directory}; let it finish "
            "(it fetches everything this one would), then run `fitvault status` to see the result."
        )
    return (
        f"A `fitvault {holder}`{pid} is writing to {directory}; run `fitvault {doing}` again "
        "once it has finished."
    )


@contextlib.asynccontextmanager
async def token_lock(
    directory: Path, poll: float = 0.05, wait: float = TOKEN_WAIT_S
) -> AsyncIterator[None]:
    """Hold the vault's token lock, waiting for it without blocking the event loop.

    A refresh holds it for one round trip to the token endpoint (httpx's timeout bounds it);
    ``wait`` only ends the wait for a holder that is stopped (Ctrl-Z) or hung.
    """
    fd = _open(Path(directory) / TOKEN_LOCK)
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise VaultLocked(
                    f"Another process{_holder(fd)[1]} has been refreshing the sign-in of "
                    f"{directory} for {wait:.0f} s; end it (or let it go on), then run the "
                    "command again."
                )
            await asyncio.sleep(poll)
        _claim(fd, "refresh")
        yield
    finally:
        os.close(fd)
