"""Through ``sync``: a type whose pages the server garbles is refused by name (or its rows
kept whole), nothing of the refused page is written, and the other type completes."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitvault import catalog
from fitvault._errors import FitvaultError
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import FakeClock, sign_in, sync
from tests.fuzz import seeds
from tests.fuzz.mutate import mutated

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
WORLD = World.default(days=2, seed=7, now=NOW)
OTHER = "daily-resting-heart-rate"
# Types whose two days fit one page, so "nothing of it written" means an empty table.
TYPES = ["steps", "sleep", "weight", "daily-heart-rate-variability", "floors", "exercise"]


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


@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(data=st.data())
def test_a_garbled_type_is_refused_alone(data: st.DataObject) -> None:
    """Either the garbled type's rows are stored, or it is refused with its request named and
    its tables stay empty; the other type is complete in every case."""
    name = data.draw(st.sampled_from(TYPES), label="type")
    dtype = catalog.get(name)
    body = data.draw(mutated(seeds.v4()[name]), label="body")
    sim = create_app(WORLD, clock=FakeClock(NOW.timestamp()), auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)
    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault(Path(tmp) / "vault")
        sign_in(vault, transport)
        try:
            report = sync(vault, Garbling(transport, dtype.camel, body), types=[name, OTHER])
        except FitvaultError:  # the server "failed" (a body cut short is retried, then given up)
            report = None
        with vault.store(read_only=True) as store:
            counts = store.counts([t.name for t in (*dtype.tables, *catalog.get(OTHER).tables)])
    garbled = [counts[t.name] for t in dtype.tables]
    if report is None:  # the sync stopped: the garbled answers were never stored
        assert not any(garbled), counts
        return
    assert OTHER not in report.refused
    assert counts[catalog.table_of(catalog.get(OTHER)).name] > 0
    if name in report.refused:
        assert "GET" in report.refused[name] or "POST" in report.refused[name]
        assert not any(garbled), counts
