"""A simulator on a real loopback socket and a signed-in plain HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from tests.conftest import NOW, FakeClock
from tests.simulator.helpers import token_response


@pytest.fixture(scope="module")
def served(world: World) -> Iterator[tuple[Simulator, str]]:
    sim = create_app(
        world, clock=FakeClock(NOW.timestamp()), auto_approve=True, quota_per_minute=None
    )
    with serve_in_thread(sim.app) as url:
        yield sim, url


@pytest.fixture(scope="module")
def api(served: tuple[Simulator, str]) -> Iterator[httpx2.Client]:
    """A client holding a valid bearer token with every read scope."""
    _, url = served
    with httpx2.Client(base_url=url, timeout=60) as client:
        token = token_response(client)["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
