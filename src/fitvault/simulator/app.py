"""Assemble the simulator: one world, its OAuth endpoints and its API faces, as one ASGI app."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Route

from fitvault.simulator.google_v4 import HealthApi, Quota
from fitvault.simulator.oauth import OAuthServer
from fitvault.simulator.world import World

QUOTA_PER_MINUTE = 300


@dataclass(frozen=True)
class Simulator:
    """The ASGI app plus handles tests use to look inside (request counts, knobs)."""

    app: Starlette
    world: World
    api: HealthApi
    oauth: OAuthServer


def create_app(
    world: World,
    *,
    clock: Callable[[], float] = time.time,
    quota_per_minute: int | None = QUOTA_PER_MINUTE,
    auto_approve: bool = False,
    testing_mode: bool = True,
) -> Simulator:
    """Build the simulator for ``world``; ``quota_per_minute=None`` turns the quota off."""
    key = hashlib.sha256(f"fitvault-simulator:{world.person.health_user_id}".encode()).digest()
    oauth = OAuthServer(
        user_id=world.person.health_user_id,
        key=key,
        clock=clock,
        auto_approve=auto_approve,
        testing_mode=testing_mode,
    )
    api = HealthApi(world=world, oauth=oauth, quota=Quota(quota_per_minute, clock))
    routes = [
        *oauth.routes(),
        Route("/{path:path}", api.handle, methods=["GET", "POST", "PATCH", "DELETE"]),
    ]
    return Simulator(app=Starlette(routes=routes), world=world, api=api, oauth=oauth)
