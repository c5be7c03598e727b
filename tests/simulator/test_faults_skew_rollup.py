"""The fault classes added last: a server clock ahead of or behind the client's (v4 and legacy
faces) and faults on the roll-up POSTs; each happens, and a sync through it equals a clean one."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from pathlib import Path
from typing import Any

import httpx2
import msgspec
import pytest

from fitvault.simulator.app import create_app
from fitvault.simulator.faults import FaultSpec
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import NOW, SERVER, FakeClock, browser_via, sign_in, sync
from tests.simulator.test_faults import call, clean_sync_rows, faulty, table_rows

ROLLUP_TYPES = ["floors", "total-calories", "steps"]  # two roll-up-only types, one listed
DAILY = "/v4/users/me/dataTypes/floors/dataPoints:dailyRollUp"
SKEWS = [600.0, -600.0]  # the server's clock ten minutes ahead, then behind


@pytest.fixture(scope="module")
def rollup_world() -> World:
    return World.default(days=20, seed=5, now=NOW)


def _daily_body(days: int = 20, **extra: Any) -> dict[str, Any]:
    ends = (NOW.date() - dt.timedelta(days=days), NOW.date())
    civil = [{"date": {"year": d.year, "month": d.month, "day": d.day}} for d in ends]
    return {"range": {"start": civil[0], "end": civil[1]}, "windowSizeDays": 1, **extra}


# --- clock skew -----------------------------------------------------------------------------


@pytest.mark.parametrize("skew", SKEWS)
def test_every_answer_is_dated_on_the_skewed_server_clock(world: World, skew: float) -> None:
    """The Date header (v4 and legacy face) and the token clock are the client's plus skew."""
    sim = faulty(world, {}, skew=skew)
    answer = asyncio.run(call(sim, "GET", "/v4/users/me/identity"))
    legacy = asyncio.run(call(sim, "GET", "/1/user/-/profile.json"))
    for response in (answer, legacy):
        date = email.utils.parsedate_to_datetime(response.headers["date"])
        assert date.timestamp() == pytest.approx(NOW.timestamp() + skew, abs=1)
    assert sim.oauth.clock() == NOW.timestamp() + skew
    assert sim.faults is not None
    assert sim.faults.injected["skew"] == 2


def test_a_skew_alone_is_a_valid_spec() -> None:
    """`--faults skew=-300` needs no fault rate."""
    spec = FaultSpec.parse("skew=-300")
    assert (spec.rates, spec.skew) == ({}, -300.0)


@pytest.fixture(scope="module")
def clean_rows(world: World, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return clean_sync_rows(world, ROLLUP_TYPES, tmp_path_factory.mktemp("clean"))


@pytest.mark.parametrize("skew", SKEWS)
def test_a_v4_sync_through_a_skewed_server_clock_equals_a_clean_sync(
    world: World, clean_rows: Any, tmp_path: Path, skew: float
) -> None:
    """Token lifetimes are kept on the client's own clock, so minutes of skew change nothing."""
    sim = faulty(world, {}, skew=skew)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "vault")
    sign_in(vault, transport, ROLLUP_TYPES)
    report = sync(vault, transport, types=ROLLUP_TYPES)
    assert report.refused == {}
    assert sim.faults is not None
    assert sim.faults.injected["skew"] > 0
    assert table_rows(vault) == clean_rows


def _legacy_run(world: World, directory: Path, skew: float | None) -> tuple[Any, Any]:
    """A legacy sign-in and sync in simulated time (hours of quota waits: the 8-hour access
    token expires and is refreshed on the way), on a server clock ``skew`` from the client's."""
    clock = FakeClock(NOW.timestamp())
    spec = FaultSpec({}, skew=skew) if skew else None
    sim = create_app(world, clock=clock, auto_approve=True, faults=spec)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory)
    vault.authorize(
        source="fitbit-legacy", server=SERVER, open_url=browser_via(transport), transport=transport
    )

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    report = asyncio.run(vault.async_legacy_sync(transport=transport, clock=clock, sleep=sleep))
    assert not report.refused
    return table_rows(vault), sim


@pytest.mark.slow
def test_a_legacy_sync_through_a_skewed_server_clock_equals_a_clean_sync(
    tmp_path: Path,
) -> None:
    """Ahead or behind by ten minutes, the legacy face's quota resets, token expiry and
    "today" are on its clock; the sync ends with the clean sync's rows."""
    small = World.default(days=4, seed=3, now=NOW)
    want, _ = _legacy_run(small, tmp_path / "clean", None)
    assert sum(sum(c.values()) for c in want.values()) > 1000
    for skew in SKEWS:
        got, sim = _legacy_run(small, tmp_path / f"skew{skew:+.0f}", skew)
        assert sim.faults.injected["skew"] > 0
        assert got == want


# --- faults on the roll-up POSTs ------------------------------------------------------------


def test_a_short_roll_up_page_hands_out_a_body_token_that_leads_to_the_rest(
    rollup_world: World,
) -> None:
    """A dailyRollUp page cut short carries a nextPageToken; POSTing it in the body brings the
    remaining days, and together they are the unfaulted page's days."""
    clean = asyncio.run(call(faulty(rollup_world, {}), "POST", DAILY, json=_daily_body()))
    want = msgspec.json.decode(clean.content)["rollupDataPoints"]
    sim = faulty(rollup_world, {"short-page": 1.0}, streak=1)

    async def walk() -> list[Any]:
        got: list[Any] = []
        body = _daily_body()
        for _ in range(40):
            page = msgspec.json.decode((await call(sim, "POST", DAILY, json=body)).content)
            got += page.get("rollupDataPoints", [])
            if "nextPageToken" not in page:
                return got
            body = _daily_body(pageToken=page["nextPageToken"])
        raise AssertionError("the walk did not end")

    assert len(want) > 2
    assert asyncio.run(walk()) == want
    assert sim.faults is not None
    assert sim.faults.injected["short-page"] >= 1
    assert sim.faults.requests["rollup"] >= 2


ROLLUP_CLASSES = ["empty-page", "short-page", "503", "malformed", "reset", "429"]


@pytest.fixture(scope="module")
def rollup_clean(rollup_world: World, tmp_path_factory: pytest.TempPathFactory) -> Any:
    rows = clean_sync_rows(rollup_world, ROLLUP_TYPES, tmp_path_factory.mktemp("rollup-clean"))
    assert len(rows["floors"]) > 10
    assert len(rows["total_calories"]) > 10
    return rows


@pytest.mark.parametrize("fault", ROLLUP_CLASSES)
def test_a_sync_through_faults_on_roll_up_posts_equals_a_clean_sync(
    fault: str, rollup_world: World, rollup_clean: Any, tmp_path: Path
) -> None:
    """The roll-up POSTs meet the fault (counted as roll-up requests), the client retries or
    walks on, and floors / total calories end as in a clean sync."""
    sim = faulty(rollup_world, {fault: 1.0}, seed=4)  # each request: twice, then through
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "vault")
    sign_in(vault, transport, ROLLUP_TYPES)
    report = sync(vault, transport, types=ROLLUP_TYPES)
    assert report.refused == {}
    assert sim.faults is not None
    assert sim.faults.requests["rollup"] > 0
    assert sim.faults.rolled[f"rollup:{fault}"] > 0
    assert sim.faults.injected[fault] > 0
    assert table_rows(vault) == rollup_clean
