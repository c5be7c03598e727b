"""Assemble the simulator: one world, its OAuth endpoints and its API faces, as one ASGI app."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from fitvault.simulator.fault_inject import FaultInjector
from fitvault.simulator.faults import Dice, FaultSpec
from fitvault.simulator.google_v4 import HealthApi, Quota
from fitvault.simulator.legacy_api import LegacyApi
from fitvault.simulator.legacy_oauth import LegacyOAuth
from fitvault.simulator.legacy_wire import RATE_LIMIT, HourlyQuota, Switches
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
    legacy: LegacyApi  # the legacy Fitbit Web API face; ``legacy.switches`` holds its knobs
    faults: Dice | None = None  # what was injected, when built with ``faults=``


def create_app(
    world: World,
    *,
    clock: Callable[[], float] = time.time,
    quota_per_minute: int | None = QUOTA_PER_MINUTE,
    auto_approve: bool = False,
    testing_mode: bool = True,
    legacy_per_hour: int | None = RATE_LIMIT,
    legacy_gone: bool = False,
    faults: FaultSpec | None = None,
) -> Simulator:
    """Build the simulator for ``world``; ``quota_per_minute=None`` turns the v4 quota off,
    ``legacy_per_hour=None`` the legacy face's hourly limit; ``legacy_gone`` makes every legacy
    endpoint answer 410 as the real host does since 2026-11-02; ``faults`` injects failures
    (``simulator.faults``) in front of every route."""
    if faults is not None and faults.skew:
        clock = _skewed(clock, faults.skew)
    key = hashlib.sha256(f"fitvault-simulator:{world.person.health_user_id}".encode()).digest()
    oauth = OAuthServer(
        user_id=world.person.health_user_id,
        key=key,
        clock=clock,
        auto_approve=auto_approve,
        testing_mode=testing_mode,
    )
    api = HealthApi(world=world, oauth=oauth, quota=Quota(quota_per_minute, clock))
    switches = Switches(gone=legacy_gone)
    legacy_oauth = LegacyOAuth(
        user_id=world.person.legacy_user_id,
        key=hashlib.sha256(b"fitbit-legacy:" + key).digest(),
        clock=clock,
        auto_approve=auto_approve,
        switches=switches,
    )
    legacy = LegacyApi(
        world=world,
        oauth=legacy_oauth,
        quota=HourlyQuota(legacy_per_hour, clock),
        switches=switches,
    )
    methods = ["GET", "POST", "PATCH", "DELETE"]
    routes = [
        *oauth.routes(),
        *legacy_oauth.routes(),
        *(
            Route(f"/{v}/{{path:path}}", legacy.handle, methods=methods)
            for v in ("1", "1.1", "1.2")
        ),
        Route("/{path:path}", api.handle, methods=methods),
    ]
    dice = Dice(faults) if faults is not None else None
    middleware = (
        [Middleware(FaultInjector, dice=dice, oauth=oauth, legacy_oauth=legacy_oauth, clock=clock)]
        if dice is not None
        else []
    )
    return Simulator(
        app=Starlette(routes=routes, middleware=middleware),
        world=world,
        api=api,
        oauth=oauth,
        legacy=legacy,
        faults=dice,
    )


def _skewed(clock: Callable[[], float], skew: float) -> Callable[[], float]:
    """The server's clock, ``skew`` seconds ahead of (or, negative, behind) the client's."""
    return lambda: clock() + skew
