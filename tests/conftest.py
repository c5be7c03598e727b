"""Shared fixtures: one small synthetic world, its simulator, and a signed-in vault."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import stamina

from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.world import World
from fitvault.vault import Vault

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
# The session world above has a trip but no clock change; this one's ten days contain New
# York's fall-back (2026-11-01 06:00 UTC: 02:00 EDT becomes 01:00 EST).
DST_NOW = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)
FALL_BACK = int(dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC).timestamp())
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True, scope="session")
def _no_retry_sleeps() -> Iterator[None]:
    """Retries happen, but stamina does not sleep between them."""
    stamina.set_testing(True, attempts=4)
    yield
    stamina.set_testing(False)


@dataclass
class FakeClock:
    """Seconds since the epoch, advanced by hand."""

    now: float

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def world() -> World:
    return World.default(days=12, seed=7, now=NOW)


@pytest.fixture(scope="session")
def dst_world() -> World:
    return World.default(days=10, seed=7, now=DST_NOW)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW.timestamp())


@pytest.fixture
def sim(world: World, clock: FakeClock) -> Simulator:
    return create_app(world, clock=clock, auto_approve=True)


@pytest.fixture
def transport(sim: Simulator) -> httpx2.ASGITransport:
    return httpx2.ASGITransport(app=sim.app)


SERVER = "http://127.0.0.1:9"


def browser_via(transport: httpx2.AsyncBaseTransport) -> Callable[[str], object]:
    """A stand-in browser: follows the simulator's redirect to the loopback receiver."""

    async def open_url(url: str) -> None:
        async with httpx2.AsyncClient(transport=transport) as client:
            answer = await client.get(url)
        assert answer.status_code == 302, answer.text
        async with httpx2.AsyncClient() as real:  # the receiver listens on a real socket
            await real.get(answer.headers["location"])

    return open_url


def sign_in(
    vault: Vault, transport: httpx2.AsyncBaseTransport, types: list[str] | None = None
) -> None:
    vault.authorize(
        server=SERVER, open_url=browser_via(transport), transport=transport, types=types
    )


@pytest.fixture
def vault(tmp_path: Path, transport: httpx2.ASGITransport) -> Vault:
    v = Vault(tmp_path / "vault")
    sign_in(v, transport)
    return v


def sync(vault: Vault, transport: httpx2.AsyncBaseTransport, **kw: object):  # type: ignore[no-untyped-def]
    """Sync against the simulator with the world's clock."""
    kw.setdefault("clock", lambda: NOW)
    return asyncio.run(vault.async_sync(transport=transport, per_minute=None, **kw))  # type: ignore[arg-type]


def synced_vault(
    world: World, now: dt.datetime, directory: Path, types: list[str] | None = None
) -> Vault:
    """A vault signed in to its own in-process simulator of `world` and synced as of `now`."""
    sim = create_app(world, clock=FakeClock(now.timestamp()), auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory)
    sign_in(vault, transport, types)
    sync(vault, transport, clock=lambda: now, types=types)
    return vault
