"""Every parser of outside input, as a fuzz target: bytes in, rows or a FitvaultError out.

``TARGETS`` holds one entry per Takeout file family, per stored v4 data type, per legacy
response kind, per saved-table shape and per token file; ``check`` runs one input and raises
``Crash`` for anything but rows in the catalog's schema or a FitvaultError.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from fitvault import catalog
from fitvault._errors import FitvaultError
from fitvault.normalise import fitbit_legacy as legacy
from fitvault.normalise import takeout
from fitvault.normalise.fitbit_legacy import saved
from fitvault.normalise.google_health import normalise, page_token
from fitvault.normalise.takeout._common import Context
from tests.fuzz import seeds

ZONE = "America/New_York"
Tables = dict[str, pa.Table]


class Crash(AssertionError):
    """A parser let something other than a FitvaultError escape, or returned bad rows."""


@dataclass(frozen=True)
class Target:
    group: str  # takeout | v4 | legacy | saved | token
    name: str
    seed: bytes
    run: Callable[[bytes], Tables]

    @property
    def id(self) -> str:
        return f"{self.group}:{self.name}"


def _takeout(fam: takeout.Family) -> Callable[[bytes], Tables]:
    return lambda body: takeout.parse(fam, body, Context(ZONE)).tables


def _v4(dtype: catalog.DataType) -> Callable[[bytes], Tables]:
    def run(body: bytes) -> Tables:
        page_token(body)
        return normalise(dtype, body).tables

    return run


def _legacy(body: bytes) -> Tables:
    return legacy.parse(body, ZONE).tables


def _saved(name: str) -> Callable[[bytes], Tables]:
    def run(body: bytes) -> Tables:
        found = saved.read(name, body, ZONE)
        return found.tables if isinstance(found, legacy.Parsed) else {}

    return run


def _token_file(load: Callable[[Path], object], file: str) -> Callable[[bytes], Tables]:
    def run(body: bytes) -> Tables:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / file).write_bytes(body)
            load(Path(tmp))
        return {}

    return run


def _token_targets() -> list[Target]:
    """The files ``fitvault auth`` writes, read back (a damaged one must say so)."""
    from fitvault import auth, legacy_auth

    token = b'{"access_token": "a", "refresh_token": "r", "expires_at": 1, "scope": "x"}'
    with tempfile.TemporaryDirectory() as tmp:  # the files as fitvault itself writes them
        auth.Account.for_server("http://127.0.0.1:9", ["scope"]).save(Path(tmp))
        legacy_auth.LegacyAccount.for_server("http://127.0.0.1:9").save(Path(tmp))
        account = (Path(tmp) / auth.ACCOUNT_FILE).read_bytes()
        legacy_account = (Path(tmp) / legacy_auth.ACCOUNT_FILE).read_bytes()
    return [
        Target("token", "v4-token", token,
               _token_file(lambda d: auth.TokenStore(d).load(), auth.TOKEN_FILE)),
        Target("token", "v4-account", account, _token_file(auth.Account.load, auth.ACCOUNT_FILE)),
        Target("token", "legacy-token", token, _token_file(
            lambda d: legacy_auth.LegacyTokenStore(d).load(), legacy_auth.TOKEN_FILE)),
        Target("token", "legacy-account", legacy_account, _token_file(
            legacy_auth.LegacyAccount.load, legacy_auth.ACCOUNT_FILE)),
    ]  # fmt: skip


def all_targets() -> list[Target]:
    out = []
    for fam in takeout.FAMILIES:
        out.append(Target("takeout", fam.name, seeds.TAKEOUT[fam.name][1], _takeout(fam)))
    for name, body in seeds.v4().items():
        out.append(Target("v4", name, body, _v4(catalog.get(name))))
    for kind in legacy.KINDS:
        out.append(Target("legacy", kind.name, seeds.LEGACY[kind.name], _legacy))
    for name, (file, body) in seeds.SAVED.items():
        out.append(Target("saved", name, body, _saved(file)))
    return out + _token_targets()


def check(target: Target, body: bytes) -> str:
    """``"rows"`` or ``"refused"``; ``Crash`` for anything else."""
    try:
        tables = target.run(body)
    except FitvaultError:
        return "refused"
    except Exception as exc:  # the point of the exercise: nothing else may escape
        raise Crash(f"{target.id}: {type(exc).__name__}: {exc}"[:500]) from exc
    for name, rows in tables.items():
        spec = catalog.TABLES.get(name)
        if spec is None or rows.schema != spec.schema:
            raise Crash(f"{target.id}: table {name!r} is not in the catalog's schema")
    return "rows"
