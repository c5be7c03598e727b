"""Hostile input through the whole path into the vault: ``import_archive`` and ``sync``.

Each check raises ``Crash`` when an exception other than a FitvaultError escapes, when a
refused member or page left rows or a raw page behind (a partial write), or when the good
input beside it was not stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import zipfile
from pathlib import Path

import httpx2

from fitvault import catalog
from fitvault._errors import FitvaultError
from fitvault.importer import import_archive
from fitvault.normalise import fitbit_legacy as legacy
from fitvault.normalise import takeout
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.store import Store
from fitvault.vault import Vault
from tests.conftest import FakeClock, browser_via, sign_in, sync
from tests.fuzz import seeds
from tests.fuzz.targets import Crash

ROOT = "Takeout/Fitbit/"
NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
OTHER = "daily-resting-heart-rate"
# v4 types whose two simulated days fit one page, so "nothing of it written" is an empty table.
SYNC_TYPES = ["steps", "sleep", "weight", "daily-heart-rate-variability", "floors", "exercise"]


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise Crash(what)


def _import(files: dict[str, bytes]) -> tuple[dict[str, str], dict[str, int], dict[str, int]]:
    """(errors by member, rows by imported member, rows of every table) of one import of
    ``files`` (zip member → body) into a fresh vault."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "takeout.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for name, body in files.items():
                zf.writestr(name, body)
        try:
            with Store(Path(tmp) / "vault") as store:
                summary = import_archive(store, [archive], zone="America/New_York")
                counts = store.counts([*catalog.TABLES, "_raw_pages"])
        except Exception as exc:  # a FitvaultError here would also stop the good member
            raise Crash(f"import: {type(exc).__name__}: {exc}"[:500]) from exc
    errors = {name.partition(":")[2]: why for name, why in summary.errors}
    imported = {name.partition(":")[2]: rows for name, _, rows in summary.imported}
    return errors, imported, counts


def _tables_of(data_types: tuple[str, ...]) -> list[str]:
    return [t.name for name in data_types for t in catalog.get(name).tables]


def import_member(family: str, body: bytes) -> str:
    """A Takeout member beside a good one: refused whole, or imported; the good one lands."""
    fam = takeout.by_name(family)
    path = seeds.TAKEOUT[family][0]
    good_path, good_body = seeds.TAKEOUT["height" if fam.data_type != "height" else "steps"]
    errors, imported, counts = _import({ROOT + path: body, ROOT + good_path: good_body})
    _expect(imported.get(good_path, 0) > 0, f"import {family}: the good member was not stored")
    if path in errors:
        _expect(not any(counts[t] for t in _tables_of((fam.data_type,))),
                f"import {family}: a refused member left rows behind")  # fmt: skip
        _expect(counts["_raw_pages"] == 1, f"import {family}: a refused member left a raw page")
        return "refused"
    stored = counts[catalog.table_of(fam.dtype).name]
    rows = imported[path]
    _expect((0 < stored <= rows) if rows else stored == 0,
            f"import {family}: {rows} rows parsed, {stored} stored")  # fmt: skip
    return "rows"


def import_saved(kind: str, body: bytes) -> str:
    """A saved legacy response beside a good one: all of its rows or none."""
    found = next(k for k in legacy.KINDS if k.name == kind)
    good = "weight" if "weight" not in found.data_types else "body_fat"
    files = {"saved/fuzzed.json": body, "saved/good.json": seeds.LEGACY[good]}
    errors, imported, counts = _import(files)
    _expect(imported.get("saved/good.json", 0) > 0, f"import {kind}: the good file was not stored")
    if "saved/fuzzed.json" in errors:
        _expect(not any(counts[t] for t in _tables_of(found.data_types)),
                f"import {kind}: a refused file left rows behind")  # fmt: skip
        _expect(counts["_raw_pages"] == 1, f"import {kind}: a refused file left a raw page")
        return "refused"
    return "rows"


class Garbling(httpx2.AsyncBaseTransport):
    """Passes requests to the simulator; every data answer for one type gets ``body``."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, camel: str, body: bytes) -> None:
        self.inner, self.marker, self.body = inner, f"/dataTypes/{camel}/", body

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        resp = await self.inner.handle_async_request(request)
        if self.marker not in request.url.path or resp.status_code != 200:
            return resp
        await resp.aread()
        return httpx2.Response(200, content=self.body, headers={"content-type": "application/json"})


_WORLD: list[World] = []


def sync_page(name: str, body: bytes) -> str:
    """Every page of one type garbled: it is refused with its request named and its tables
    stay empty, or its rows are stored; the other type completes either way."""
    if not _WORLD:
        _WORLD.append(World.default(days=2, seed=7, now=NOW))
    dtype = catalog.get(name)
    sim = create_app(_WORLD[0], clock=FakeClock(NOW.timestamp()), auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)
    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault(Path(tmp) / "vault")
        sign_in(vault, transport)
        try:
            report = sync(vault, Garbling(transport, dtype.camel, body), types=[name, OTHER])
        except FitvaultError:  # the server "failed" (a body cut short is retried, then given up)
            report = None
        except Exception as exc:
            raise Crash(f"sync {name}: {type(exc).__name__}: {exc}"[:500]) from exc
        with vault.store(read_only=True) as store:
            counts = store.counts(_tables_of((name, OTHER)))
    garbled = any(counts[t] for t in _tables_of((name,)))
    if report is None:
        _expect(not garbled, f"sync {name}: a stopped sync stored the garbled pages")
        return "refused"
    _expect(OTHER not in report.refused and counts[catalog.table_of(catalog.get(OTHER)).name] > 0,
            f"sync {name}: the other type did not complete")  # fmt: skip
    if name in report.refused:
        _expect(" /v4/" in report.refused[name], f"sync {name}: the refusal names no request")
        _expect(not garbled, f"sync {name}: a refused page left rows behind")
        return "refused"
    return "rows"


# legacy answers garbled by path → the seed their garbled bodies start from
LEGACY_PATHS = {"/activities/heart/": "heart_intraday", "/sleep/": "sleep",
                "/body/log/weight/": "weight", "/spo2/": "spo2_summary"}  # fmt: skip


class _Garbling(Garbling):
    def __init__(self, inner: httpx2.AsyncBaseTransport, marker: str, body: bytes) -> None:
        self.inner, self.marker, self.body = inner, marker, body


def legacy_sync_page(marker: str, body: bytes) -> str:
    """Every legacy answer under one path garbled: that series is refused by name and no raw
    page of it is kept (or its rows are stored); the other series complete."""
    if not _WORLD:
        _WORLD.append(World.default(days=2, seed=7, now=NOW))
    clock = FakeClock(NOW.timestamp())
    sim = create_app(_WORLD[0], clock=clock, auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault(Path(tmp) / "vault")
        vault.authorize(source="fitbit-legacy", server="http://127.0.0.1:9",
                        open_url=browser_via(transport), transport=transport)  # fmt: skip
        try:
            report = asyncio.run(vault.async_legacy_sync(
                transport=_Garbling(transport, marker, body), clock=clock, sleep=sleep))  # fmt: skip
        except FitvaultError:
            report = None
        except Exception as exc:
            raise Crash(f"legacy sync {marker}: {type(exc).__name__}: {exc}"[:500]) from exc
        with vault.store(read_only=True) as store:
            kept = {(p.page.request.get("series"), p.page.request.get("path"))
                    for p in store.raw_pages()}  # fmt: skip
    if report is None:
        _expect(not any(marker in str(path) for _, path in kept),
                f"legacy sync {marker}: a stopped sync kept garbled answers")  # fmt: skip
        return "refused"
    _expect(bool(report.points), f"legacy sync {marker}: no series completed")
    for series, why in report.refused.items():  # the refused answer itself left nothing
        path = why.removeprefix("GET ").partition(": ")[0]
        _expect((series, path) not in kept, f"legacy sync {marker}: {series}'s refused {path} "
                "was kept")  # fmt: skip
    if report.refused:
        return "refused"
    return "rows"
