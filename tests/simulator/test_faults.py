"""Fault injection: the SPEC parser, what a client sees of each fault (in-process and over a real
socket, v4 and legacy faces), and syncs through every fault class ending with a clean sync's
tables."""

from __future__ import annotations

import asyncio
import collections
import gc
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import msgspec
import pytest

from fitvault import catalog
from fitvault._errors import RefreshTokenExpired
from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.faults import ALL_FAULTS, Dice, Endpoint, FaultSpec
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import NOW, FakeClock, sign_in, sync
from tests.simulator.helpers import token_response

TYPES = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]
LIST = "/v4/users/me/dataTypes/heart-rate/dataPoints"
LEGACY = "/1/user/-/profile.json"

# --- the SPEC string ------------------------------------------------------------------------


def test_a_spec_string_gives_rates_and_knobs() -> None:
    """Rates by fault name, and the seed/streak/retry_after/stall knobs."""
    spec = FaultSpec.parse("429=0.02, 503=0.01,reset=0.005,truncate=0.01,seed=3,stall=40")
    assert spec.rates == {"429": 0.02, "503": 0.01, "reset": 0.005, "truncate": 0.01}
    assert (spec.seed, spec.streak, spec.retry_after, spec.stall) == (3, 2, 1, 40.0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no fault named"),
        ("418=0.1", "unknown fault '418'"),
        ("503", "not NAME=VALUE"),
        ("503=lots", "'lots' is not a number"),
        ("503=1.5", "between 0 and 1"),
        ("503=0.6,500=0.6", "add up to 1.2, over 1"),
        ("503=0.1,503=0.2", "503 is given twice"),
        ("503=0.1,seed=1.5", "seed must be a whole number"),
        ("503=0.1,streak=0", "streak must be ≥ 1"),
    ],
)
def test_a_bad_spec_string_says_what_is_wrong(text: str, says: str) -> None:
    """Each mistake is named in one line."""
    with pytest.raises(ValueError, match=re.escape(says)) as info:
        FaultSpec.parse(text)
    assert "\n" not in str(info.value)


def test_simulate_with_a_bad_faults_spec_exits_2_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fitvault simulate --faults 503=2` is a usage error naming the option and the rate."""
    from tests.test_cli import run_main

    code, out, err = run_main(monkeypatch, capsys, "simulate", "--faults", "503=2", "--port", "0")
    assert code == 2
    assert "--faults" in err
    assert "between 0 and 1" in err
    assert "Traceback" not in out + err


def test_the_dice_follow_the_request_not_the_arrival_order() -> None:
    """Same seed, same requests in another order: the same requests are faulted; a request is
    never faulted more than ``streak`` times in a row."""
    spec = FaultSpec({"503": 0.5}, seed=9, streak=2)
    keys = [f"GET /v4/x?page={i}" for i in range(200)]
    first, second = Dice(spec), Dice(spec)
    a = {k: first.roll(Endpoint.API, k) for k in keys}
    b = {k: second.roll(Endpoint.API, k) for k in reversed(keys)}
    assert a == b
    assert 60 < sum(v == "503" for v in a.values()) < 140
    one = Dice(FaultSpec({"503": 1.0}, streak=2))
    assert [one.roll(Endpoint.API, "k") for _ in range(6)] == ["503", "503", None] * 2


# --- what the client sees ---------------------------------------------------------------------


def faulty(world: World, rates: dict[str, float], **kw: Any) -> Simulator:
    return create_app(
        world,
        clock=FakeClock(NOW.timestamp()),
        auto_approve=True,
        quota_per_minute=None,
        faults=FaultSpec(rates, **kw),
    )


async def call(sim: Simulator, method: str, path: str, **kw: Any) -> httpx2.Response:
    """One request through httpx's ASGITransport, signed in with a fresh v4 token."""
    transport = httpx2.ASGITransport(app=sim.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as client:
        token = sim.oauth._mint("a", frozenset(_scopes()), 3599)
        headers = {"Authorization": f"Bearer {token}"}
        return await client.request(method, path, headers=headers, **kw)


def _scopes() -> list[str]:
    return [catalog.SCOPE_PREFIX + s for s in ("activity_and_fitness.readonly", "health_metrics_and_measurements.readonly", "sleep.readonly", "profile.readonly", "settings.readonly")]  # fmt: skip


def run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


def test_a_429_carries_retry_after_and_a_bare_429_does_not(world: World) -> None:
    """Both are Google's RESOURCE_EXHAUSTED; only one says how long to wait."""
    with_header = run(call(faulty(world, {"429": 1.0}, retry_after=7), "GET", LIST))
    bare = run(call(faulty(world, {"429-bare": 1.0}), "GET", LIST))
    assert with_header.status_code == bare.status_code == 429
    assert with_header.headers["retry-after"] == "7"
    assert "retry-after" not in bare.headers
    assert bare.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_server_errors_answer_as_the_service_does(world: World) -> None:
    """500/503/504 are Google JSON errors; 502 is a front end's HTML page."""
    for code in (500, 502, 503, 504):
        resp = run(call(faulty(world, {str(code): 1.0}), "GET", LIST))
        assert resp.status_code == code
        if code == 502:
            assert resp.headers["content-type"].startswith("text/html")
        else:
            assert resp.json()["error"]["code"] == code


def test_drops_and_timeouts_reach_an_in_process_client_as_httpx_errors(world: World) -> None:
    """In-process, the client gets the very exceptions a socket would give it."""
    for fault in ("reset", "truncate"):
        with pytest.raises(httpx2.RemoteProtocolError):
            run(call(faulty(world, {fault: 1.0}), "GET", LIST))
    with pytest.raises(httpx2.ReadTimeout):
        run(call(faulty(world, {"timeout": 1.0}), "GET", LIST))


def test_a_malformed_body_is_a_200_whose_json_is_cut_short(world: World) -> None:
    """Status and length agree; the JSON does not parse."""
    resp = run(call(faulty(world, {"malformed": 1.0}), "GET", LIST))
    assert resp.status_code == 200
    assert int(resp.headers["content-length"]) == len(resp.content) > 0
    with pytest.raises(msgspec.DecodeError):
        msgspec.json.decode(resp.content)


def test_a_request_in_flight_with_a_revoked_token_is_not_expired_again_on_its_repeat(
    world: World,
) -> None:
    """Another request carrying the token an injected 401 revoked gets the server's own 401 (no
    fault rolled for it), and its repeat with the refreshed token is answered, as the repeat
    after an injected 401 is: a client allowed one refresh per request loses nothing."""
    sim = faulty(world, {"401": 1.0})
    stale = sim.oauth._mint("a", frozenset(_scopes()), 3599)
    fresh = sim.oauth._mint("a", frozenset(_scopes()), 3599)

    async def go() -> list[int]:
        transport = httpx2.ASGITransport(app=sim.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as client:
            first = await client.get(LIST, headers={"Authorization": f"Bearer {stale}"})
            other = f"{LIST}?pageSize=7"  # another request, sent with the same token
            in_flight = await client.get(other, headers={"Authorization": f"Bearer {stale}"})
            repeat = await client.get(other, headers={"Authorization": f"Bearer {fresh}"})
            return [first.status_code, in_flight.status_code, repeat.status_code]

    assert run(go()) == [401, 401, 200]
    assert sim.faults is not None
    assert sim.faults.injected["401"] == 1  # only the first was injected


def test_a_401_revokes_the_access_token_it_answers_for(world: World) -> None:
    """After the injected 401 the same token keeps failing (a client must refresh)."""
    sim = faulty(world, {"401": 1.0}, streak=1)
    token = sim.oauth._mint("a", frozenset(_scopes()), 3599)
    assert sim.oauth.verify(token) is not None

    async def twice() -> list[int]:
        transport = httpx2.ASGITransport(app=sim.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as client:
            headers = {"Authorization": f"Bearer {token}"}
            return [(await client.get(LIST, headers=headers)).status_code for _ in range(2)]

    assert run(twice()) == [401, 401]  # the second is the real server's answer
    assert sim.oauth.verify(token) is None


def test_an_empty_page_carries_a_token_that_leads_to_the_same_points(world: World) -> None:
    """Walking pages through empty and short pages yields exactly the clean walk's points."""

    async def walk(sim: Simulator) -> tuple[list[Any], int]:
        transport = httpx2.ASGITransport(app=sim.app)
        token = sim.oauth._mint("a", frozenset(_scopes()), 3599)
        day = 'heart_rate.sample_time.physical_time >= "2026-11-20T00:00:00Z"'
        points, pages = [], 0
        params = {"pageSize": "500", "filter": day}
        async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as client:
            while True:
                body = (
                    await client.get(
                        LIST, params=params, headers={"Authorization": f"Bearer {token}"}
                    )
                ).json()
                points += body.get("dataPoints", [])
                pages += 1
                if not body.get("nextPageToken"):
                    return points, pages
                assert body["nextPageToken"] != params.get("pageToken")
                params = {"pageSize": "500", "filter": day, "pageToken": body["nextPageToken"]}

    clean, clean_pages = run(walk(faulty(world, {})))
    for fault in ("empty-page", "short-page"):
        sim = faulty(world, {fault: 0.5}, seed=4)
        got, pages = run(walk(sim))
        assert sim.faults is not None
        assert sim.faults.injected[fault] > 0
        assert got == clean
        assert pages > clean_pages


def test_the_legacy_face_answers_faults_in_fitbit_s_error_format(world: World) -> None:
    """A 503 and a 401 on /1/… use Fitbit's errors[] body; the legacy token is revoked."""
    sim = faulty(world, {"503": 1.0}, streak=1)
    token = sim.legacy.oauth.mint("access_token", "23ABCD", frozenset({"profile"}), 28_800)

    async def get() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=sim.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as client:
            return await client.get(LEGACY, headers={"Authorization": f"Bearer {token}"})

    first = run(get())
    assert first.status_code == 503
    assert first.json()["errors"][0]["errorType"] == "system"
    assert run(get()).status_code == 200  # streak=1: the retry gets through
    sim = faulty(world, {"401": 1.0})
    token = sim.legacy.oauth.mint("access_token", "23ABCD", frozenset({"profile"}), 28_800)
    resp = run(get())
    assert resp.status_code == 401
    assert resp.json()["errors"][0]["errorType"] == "expired_token"
    assert sim.legacy.oauth.check_access(token).__class__.__name__ != "LegacyGrant"


def test_a_refused_legacy_refresh_token_stays_refused(world: World) -> None:
    """invalid-grant on the legacy token endpoint spends the refresh token for good."""
    sim = faulty(world, {"invalid-grant": 1.0}, streak=1)
    refresh = sim.legacy.oauth.mint("refresh_token", "23ABCD", frozenset({"profile"}), 86_400)
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "23ABCD"}

    async def post() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=sim.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as client:
            return await client.post("/oauth2/token", data=form)

    assert [r.status_code for r in (run(post()), run(post()))] == [400, 400]
    assert run(post()).json()["errors"][0]["errorType"] == "invalid_grant"


@pytest.fixture(scope="module")
def socket_sim(world: World) -> Iterator[tuple[Simulator, str]]:
    sim = faulty(world, {"reset": 0.5, "timeout": 0.5}, seed=1, stall=3.0, streak=1)
    with serve_in_thread(sim.app) as url:
        yield sim, url


def test_over_a_real_socket_a_drop_and_a_stall_are_what_httpx_reports(
    socket_sim: tuple[Simulator, str],
) -> None:
    """uvicorn closes the connection (RemoteProtocolError); a stall outlasts the read timeout."""
    sim, url = socket_sim
    seen: set[str] = set()
    with httpx2.Client(base_url=url, timeout=httpx2.Timeout(10, read=0.5)) as client:
        token = token_response(client)["access_token"]
        for day in range(1, 9):
            params = {"pageSize": "10", "filter": f'heart_rate.sample_time.physical_time >= "2026-11-{day:02d}T00:00:00Z"'}  # fmt: skip
            try:
                client.get(LIST, params=params, headers={"Authorization": f"Bearer {token}"})
            except httpx2.RemoteProtocolError:
                seen.add("reset")
            except httpx2.ReadTimeout:
                seen.add("timeout")
    assert seen == {"reset", "timeout"}
    assert sim.faults is not None
    assert set(sim.faults.injected) == {"reset", "timeout"}


# --- a sync through each fault class ends where a clean sync does -----------------------------


def table_rows(vault: Vault) -> dict[str, collections.Counter[tuple[Any, ...]]]:
    """Every catalog table as a multiset of rows (NaN made comparable); benchmarks/faults.py,
    kills.py and diskfull.py compare vaults with it too."""
    out = {}
    with vault.store(read_only=True) as store:
        for name, table in catalog.TABLES.items():
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            rows = store.con.execute(f"SELECT {cols} FROM {name}").fetchall()
            out[name] = collections.Counter(tuple(_comparable(v) for v in row) for row in rows)
    return out


def _comparable(value: Any) -> Any:
    """Hashable and equal to itself: NaN as None, lists and structs as tuples."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, list):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _comparable(v)) for k, v in value.items()))
    return value


@pytest.fixture(scope="module")
def small_world() -> World:
    return World.default(days=3, seed=5, now=NOW)


def clean_sync_rows(world: World, types: list[str], directory: Path) -> Any:
    """Every catalog table after a fault-free sign-in and sync of ``types`` (the reference)."""
    sim = faulty(world, {})
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory / "vault")
    sign_in(vault, transport, types)
    sync(vault, transport, types=types)
    return table_rows(vault)


@pytest.fixture(scope="module")
def clean_rows(small_world: World, tmp_path_factory: pytest.TempPathFactory) -> Any:
    rows = clean_sync_rows(small_world, TYPES, tmp_path_factory.mktemp("clean"))
    assert sum(len(r) for r in rows.values()) > 1000
    return rows


SYNC_CLASSES = {f: {f: 0.3} for f in ALL_FAULTS if f not in ("invalid-grant", "token-down")}
# A refresh happens only after a 401, and how many happen depends on how the concurrent walks
# interleave; at rate 1.0 every refresh meets the endpoint down (a streak of two 503s, then it
# answers), so the fault is injected whenever a refresh happens at all.
SYNC_CLASSES["token-down"] = {"401": 0.2, "token-down": 1.0}


@pytest.mark.parametrize("fault", sorted(SYNC_CLASSES))
def test_a_sync_through_the_fault_ends_with_a_clean_sync_s_tables(
    fault: str, small_world: World, clean_rows: Any, tmp_path: Path
) -> None:
    """The fault happens, the client retries or refreshes or walks on, nothing is lost."""
    sim = faulty(small_world, SYNC_CLASSES[fault], seed=2)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "vault")
    sign_in(vault, transport, TYPES)
    report = sync(vault, transport, types=TYPES)
    assert sim.faults is not None
    assert sim.faults.injected[fault] > 0
    assert report.refused == {}
    assert table_rows(vault) == clean_rows


def test_a_refused_refresh_token_stops_the_sync_and_a_new_sign_in_resumes_it(
    small_world: World, clean_rows: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """invalid_grant is final for that token: a clear error naming `fitvault auth` (and no
    asyncio traceback from the walks it stopped), then after signing in again the sync
    completes to a clean sync's tables."""
    sim = faulty(small_world, {"401": 0.5, "invalid-grant": 1.0}, seed=2)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "vault")
    sign_in(vault, transport, TYPES)
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        with pytest.raises(RefreshTokenExpired, match="fitvault auth"):
            sync(vault, transport, types=TYPES)
        gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    assert sim.faults is not None
    assert sim.faults.injected["invalid-grant"] >= 1
    healthy = httpx2.ASGITransport(app=faulty(small_world, {}).app)  # the same world, no faults
    sign_in(vault, healthy, TYPES)
    sync(vault, healthy, types=TYPES)
    assert table_rows(vault) == clean_rows


@pytest.mark.slow
def test_the_faults_benchmark_runs_quick_and_reports_nothing_lost(tmp_path: Path) -> None:
    """`benchmarks/faults.py --quick` for two classes: its table and its last line's figures."""
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "faults.py"
    done = subprocess.run(
        [sys.executable, str(script), "--quick", "--only", "503,short-page"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    last = dict(pair.split("=") for pair in done.stdout.strip().splitlines()[-1].split())
    assert last["rows_lost"] == last["rows_duplicated"] == last["crashes"] == "0"
    assert int(last["faults_injected"]) > 0
    assert any(line.startswith("short-page") for line in done.stdout.splitlines())


# --- what the faults exposed in the client ------------------------------------------------------


def test_a_prefetch_stopped_early_leaves_no_unretrieved_outcome() -> None:
    """When the consumer stops while the next page has already failed (or ended), that outcome
    is collected: asyncio has nothing to report with a traceback."""
    from fitvault._errors import DataError
    from fitvault.sync import _prefetch

    reported: list[str] = []

    async def source() -> Any:
        yield 1
        raise DataError("the next page failed")

    async def consume() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, context: reported.append(context["message"])
        )
        pages = _prefetch(source())
        async for _ in pages:
            await asyncio.sleep(0.01)  # the next page's fetch finishes (with its error)
            break
        await pages.aclose()  # type: ignore[attr-defined]
        gc.collect()

    asyncio.run(consume())
    assert reported == []
