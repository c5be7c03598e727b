"""What both sign-ins share: a JSON token file in the vault directory, and an access token that is
refreshed once per expiry across the tasks of a sync and across processes on one vault.

The Google Health API and the legacy Fitbit API differ only in how a refresh is asked for (and
Fitbit rotates the refresh token on every use), so ``RefreshingTokens`` does the locking, the
re-reading and the adoption of another process's pair, and each API's subclass sends the one
request. Tokens appear in no message and no log line.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import httpx2

from fitvault._errors import AuthError
from fitvault._lock import token_lock

log = logging.getLogger(__name__)

AccountT = TypeVar("AccountT")
RecordT = TypeVar("RecordT")


def load_account(cls: Callable[..., RecordT], path: Path, missing: str, reauth: str) -> RecordT:
    """An account file (the dataclass ``cls`` as JSON, scopes a tuple); ``missing`` is said when
    there is none, ``reauth`` when it is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["scopes"] = tuple(data["scopes"])
        return cls(**data)
    except FileNotFoundError:
        raise AuthError(missing) from None
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise AuthError(f"{path} is damaged ({exc}); {reauth}.") from exc


def secure_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable: after a power cut the directory could otherwise still
    name the old file (with rotating refresh tokens, one the server no longer accepts)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class TokenFile:
    """A token file (``FILE``) in the vault directory; a damaged one names the sign-in to redo."""

    FILE: ClassVar[str]
    REAUTH: ClassVar[str]  # "run `fitvault auth …` again", said when the file is unusable

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / self.FILE

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            raise AuthError(f"{self.path} is damaged ({exc}); {self.REAUTH}.") from exc
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise AuthError(
                f"{self.path} is not a token file (no access_token in a JSON object); "
                f"{self.REAUTH}."
            )
        return data

    def save(self, token: dict[str, Any]) -> None:
        secure_write(self.path, json.dumps(token, indent=2).encode())


def stamp(
    token: dict[str, Any], now: float, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Absolute expiry times, and the previous refresh token if the server did not send one."""
    out = dict(token)
    if "expires_in" in out:
        out["expires_at"] = now + float(out["expires_in"])
    if "refresh_token_expires_in" in out:
        out["refresh_token_expires_at"] = now + float(out["refresh_token_expires_in"])
    if previous:
        for key in ("refresh_token", "refresh_token_expires_at"):
            if key not in out and key in previous:
                out[key] = previous[key]
    return out


class RefreshingTokens(abc.ABC, Generic[AccountT]):
    """Hands out a fresh access token, refreshing (and saving) it when it is about to expire."""

    NOT_SIGNED_IN: ClassVar[str]  # with {path}: what to run when there is no token file

    def __init__(
        self,
        account: AccountT,
        store: TokenFile,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        leeway: float = 60.0,
    ) -> None:
        self.account = account
        self.store = store
        self._transport = transport
        self._clock = clock
        self._leeway = leeway
        self._lock = asyncio.Lock()
        token = store.load()
        if token is None:
            raise AuthError(self.NOT_SIGNED_IN.format(path=store.path))
        self._token = token
        self.refreshes = 0  # refresh requests this object sent

    @property
    def scopes(self) -> set[str]:
        return set(str(self._token.get("scope", "")).split())

    async def access_token(self) -> str:
        if not self._usable(self._token):
            return await self.refresh()
        return str(self._token["access_token"])

    async def refresh(self) -> str:
        """A new access token. One refresh at a time: the tasks of this process wait for the
        first; another process on the vault is waited for and its new pair taken, since
        refreshing again with the refresh token read at start would lose the sign-in where
        refresh tokens are single-use (the legacy API)."""
        before = self._token.get("access_token")
        async with self._lock:
            if self._token.get("access_token") != before:  # another task already refreshed
                return str(self._token["access_token"])
            async with token_lock(self.store.directory):
                on_disk = self.store.load()
                if on_disk is not None:
                    self._token = on_disk
                if on_disk and on_disk.get("access_token") != before and self._usable(on_disk):
                    log.info("access token taken from a refresh by another process")
                    return str(on_disk["access_token"])
                fresh = await self._request_refresh(self._refresh_token())
                self.refreshes += 1
                self._token = stamp(fresh, self._clock(), self._token)
                self.store.save(self._token)  # on disk before anyone uses it
                log.info("access token refreshed")
                return str(self._token["access_token"])

    def _usable(self, token: dict[str, Any]) -> bool:
        return float(token.get("expires_at", 0)) - self._leeway > self._clock()

    def _refresh_token(self) -> str:
        refresh_token = self._token.get("refresh_token")
        if not refresh_token:
            raise AuthError(f"The stored token cannot be refreshed; {self.store.REAUTH}.")
        return str(refresh_token)

    @abc.abstractmethod
    async def _request_refresh(self, refresh_token: str) -> dict[str, Any]:
        """Send the refresh to the token endpoint; the new token as it answered, or an
        AuthError saying what to do (the locks are held)."""
