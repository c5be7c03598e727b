"""The legacy face's gates: the 150-per-hour limit and its headers, rotating refresh tokens,
scopes, range limits, the 1sec and 410 switches."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from tests.conftest import NOW, FakeClock
from tests.simulator.helpers import token_response
from tests.simulator.legacy_helpers import legacy_tokens

pytestmark = pytest.mark.slow
PROFILE = "/1/user/-/profile.json"


@pytest.fixture
def served(world: World) -> Iterator[tuple[Simulator, httpx2.Client, FakeClock]]:
    """A fresh simulator (so a fresh budget) at 15:20 UTC, and a plain client for it."""
    clock = FakeClock(NOW.timestamp() + 20 * 60)
    sim = create_app(world, clock=clock, auto_approve=True)
    with serve_in_thread(sim.app) as url, httpx2.Client(base_url=url, timeout=60) as client:
        yield sim, client, clock


def _code(location: str) -> str:
    """The code a redirect carries (Fitbit appends a ``#_=_`` fragment to it)."""
    return parse_qs(urlsplit(location).query)["code"][0]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_budget_counts_down_then_429_until_the_top_of_the_hour(world: World) -> None:
    """150 requests per clock hour with headers on each; then 429s until the hour turns."""
    clock = FakeClock(NOW.timestamp() + 20 * 60)  # 15:20 UTC
    sim = create_app(world, clock=clock, auto_approve=True)

    async def run() -> tuple[list[int], list[httpx2.Response]]:
        transport = httpx2.ASGITransport(app=sim.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as client:
            client.headers["Authorization"] = "Bearer " + await _async_tokens(client)
            remaining = []
            for _ in range(150):
                resp = await client.get(PROFILE)
                assert resp.status_code == 200
                assert resp.headers["Fitbit-Rate-Limit-Limit"] == "150"
                assert resp.headers["Fitbit-Rate-Limit-Reset"] == str(40 * 60)  # → 16:00
                remaining.append(int(resp.headers["Fitbit-Rate-Limit-Remaining"]))
            clock.now += 10 * 60
            refused = await client.get(PROFILE)
            clock.now += 30 * 60  # the top of the hour
            return remaining, [refused, await client.get(PROFILE)]

    remaining, (refused, again) = asyncio.run(run())
    assert remaining == list(range(149, -1, -1))
    assert refused.status_code == 429
    assert refused.json() == {
        "errors": [{"errorType": "system", "fieldName": "n/a", "message": "Too Many Requests"}],
        "success": False,
    }
    assert refused.headers["Fitbit-Rate-Limit-Remaining"] == "0"
    assert refused.headers["Fitbit-Rate-Limit-Reset"] == str(30 * 60)
    assert "Retry-After" in refused.headers
    assert again.status_code == 200
    assert again.headers["Fitbit-Rate-Limit-Remaining"] == "149"
    assert again.headers["Fitbit-Rate-Limit-Reset"] == "3600"


def test_refresh_tokens_rotate_on_every_use(
    served: tuple[Simulator, httpx2.Client, FakeClock],
) -> None:
    """A refresh answers a new pair; the spent refresh token then answers invalid_grant."""
    _, client, clock = served
    first = legacy_tokens(client)
    clock.now += 9 * 3600  # the access token (8 h) has expired
    expired = client.get(PROFILE, headers=_bearer(first["access_token"]))
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["errorType"] == "expired_token"
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = client.post("/oauth2/token", data=refresh, auth=("23ABCD", "s3cret"))
    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert pair["user_id"] == first["user_id"]
    assert pair["scope"] == first["scope"]
    assert client.get(PROFILE, headers=_bearer(pair["access_token"])).status_code == 200
    replay = client.post("/oauth2/token", data=refresh, auth=("23ABCD", "s3cret"))
    assert replay.status_code == 400
    assert replay.json()["errors"][0]["errorType"] == "invalid_grant"
    assert replay.json()["success"] is False
    third = client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        auth=("23ABCD", "s3cret"),
    )
    assert third.status_code == 200
    other_client = client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": third.json()["refresh_token"]},
        auth=("OTHER1", "s3cret"),
    )
    assert other_client.json()["errors"][0]["errorType"] == "invalid_grant"


def test_forged_tokens_and_v4_tokens_are_invalid_here(
    served: tuple[Simulator, httpx2.Client, FakeClock],
) -> None:
    """A v4 token or a tampered legacy token answers 401 invalid_token."""
    _, client, _ = served
    v4 = token_response(client)["access_token"]
    token = legacy_tokens(client)["access_token"]
    for bad in (v4, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")):
        resp = client.get(PROFILE, headers=_bearer(bad))
        assert resp.status_code == 401
        assert resp.json()["errors"][0]["errorType"] == "invalid_token"


def test_a_missing_scope_answers_403_insufficient_scope(
    served: tuple[Simulator, httpx2.Client, FakeClock],
) -> None:
    """A token without ``heartrate`` may read the profile but not heart rate."""
    _, client, _ = served
    auth = _bearer(legacy_tokens(client, scopes="profile")["access_token"])
    assert client.get(PROFILE, headers=auth).status_code == 200
    resp = client.get("/1/user/-/activities/heart/date/today/1d.json", headers=auth)
    assert resp.status_code == 403
    assert resp.json()["errors"][0]["errorType"] == "insufficient_scope"


def test_ranges_over_the_endpoint_maximum_answer_400(
    served: tuple[Simulator, httpx2.Client, FakeClock],
) -> None:
    """Sleep answers 100 days and refuses 101; intraday refuses more than 24 hours."""
    _, client, _ = served
    auth = _bearer(legacy_tokens(client)["access_token"])
    ok = client.get("/1.2/user/-/sleep/date/2026-08-15/2026-11-22.json", headers=auth)
    assert ok.status_code == 200
    over = client.get("/1.2/user/-/sleep/date/2026-08-14/2026-11-22.json", headers=auth)
    assert over.status_code == 400
    assert over.json()["errors"][0]["errorType"] == "validation"
    two_days = client.get(
        "/1/user/-/activities/heart/date/2026-11-20/2026-11-21/1min.json", headers=auth
    )
    assert two_days.status_code == 400


def test_1sec_can_be_denied_per_client_while_1min_still_answers(
    served: tuple[Simulator, httpx2.Client, FakeClock],
) -> None:
    """The switch makes 1sec a 403 for one app only; 1min still works for it."""
    sim, client, _ = served
    sim.legacy.switches.no_1sec.add("NOSEC1")
    denied = _bearer(legacy_tokens(client, client_id="NOSEC1")["access_token"])
    allowed = _bearer(legacy_tokens(client)["access_token"])
    url = "/1/user/-/activities/heart/date/2026-11-20/1d/{}.json"
    resp = client.get(url.format("1sec"), headers=denied)
    assert resp.status_code == 403
    assert resp.json()["errors"][0]["errorType"] == "insufficient_permissions"
    assert client.get(url.format("1min"), headers=denied).status_code == 200
    assert client.get(url.format("1sec"), headers=allowed).status_code == 200


def test_the_gone_switch_makes_every_legacy_endpoint_answer_410(
    served: tuple[Simulator, httpx2.Client, FakeClock],
) -> None:
    """With the switch on, data, token and authorize endpoints answer 410; v4 is untouched."""
    sim, client, _ = served
    tokens = legacy_tokens(client)
    v4 = token_response(client)["access_token"]
    sim.legacy.switches.gone = True
    data = client.get(PROFILE, headers=_bearer(tokens["access_token"]))
    assert data.status_code == 410
    assert data.json()["errors"][0]["errorType"] == "gone"
    assert client.get("/1.2/user/-/sleep/date/today.json").status_code == 410
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert client.post("/oauth2/token", data=refresh, auth=("A", "b")).status_code == 410
    assert client.get("/oauth2/authorize", params={"client_id": "A"}).status_code == 410
    identity = client.get("/v4/users/me/identity", headers=_bearer(v4))
    assert identity.status_code == 200


@pytest.mark.parametrize(("flag", "status"), [([], 400), (["--legacy-gone"], 410)])
def test_fitvault_simulate_legacy_gone_switches_the_served_face(
    flag: list[str], status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fitvault simulate --legacy-gone` serves a legacy face that answers 410; without it, the
    face is there (a request without a token gets its 400)."""
    from typer.testing import CliRunner

    from fitvault import cli
    from fitvault.simulator import server

    answers: list[int] = []

    def serve(app: object, sock: object) -> None:  # instead of blocking on the socket
        async def ask() -> int:
            transport = httpx2.ASGITransport(app=app)  # type: ignore[arg-type]
            async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as c:
                return (await c.get(PROFILE)).status_code

        answers.append(asyncio.run(ask()))
        sock.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(server, "serve_forever", serve)
    result = CliRunner().invoke(cli.app, ["simulate", "--port", "0", "--days", "2", *flag])
    assert result.exit_code == 0, result.output
    assert answers == [status]


def test_the_consent_page_allows_some_scopes_and_pkce_guards_the_code(
    world: World,
) -> None:
    """Without auto-approve the page's Allow grants the ticked scopes; a public client's code
    needs the right verifier, and a bad scope or challenge is refused on the page."""
    sim = create_app(world, clock=FakeClock(NOW.timestamp()))
    with serve_in_thread(sim.app) as url, httpx2.Client(base_url=url) as client:
        query = {
            "response_type": "code",
            "client_id": "PUB123",
            "redirect_uri": "http://127.0.0.1:9/cb",
            "scope": "heartrate sleep",
            "state": "s1",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
        page = client.get("/oauth2/authorize", params=query)
        assert page.status_code == 200
        assert 'value="allow"' in page.text
        form = {k: v for k, v in query.items() if k != "scope"} | {"action": "allow"}
        answer = client.post("/oauth2/authorize", data={**form, "scope": "sleep"})
        assert answer.status_code == 302
        location = answer.headers["location"]
        assert location.startswith("http://127.0.0.1:9/cb?code=")
        code = _code(location)
        exchange = {"grant_type": "authorization_code", "code": code, "client_id": "PUB123"}
        wrong = client.post("/oauth2/token", data={**exchange, "code_verifier": "x" * 43})
        assert wrong.json()["errors"][0]["errorType"] == "invalid_grant"
        answer = client.post("/oauth2/authorize", data={**form, "scope": "sleep"})
        code = _code(answer.headers["location"])
        verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636's example pair
        right = client.post(
            "/oauth2/token", data={**exchange, "code": code, "code_verifier": verifier}
        )
        assert right.status_code == 200, right.text
        assert right.json()["scope"] == "sleep"
        denied = client.post("/oauth2/authorize", data={**form, "action": "deny"})
        assert "error=access_denied" in denied.headers["location"]
        bad_scope = client.get("/oauth2/authorize", params={**query, "scope": "heartrate x"})
        assert bad_scope.status_code == 400
        assert "invalid_scope" in bad_scope.text
        short = client.get("/oauth2/authorize", params={**query, "code_challenge": "abc"})
        assert "must be between 43 and 128" in short.text


def test_a_long_backfill_runs_in_simulated_time_by_waiting_on_the_injected_clock(
    world: World,
) -> None:
    """A tutorial-style loop (one request a day for 400 days) that waits for
    Fitbit-Rate-Limit-Reset by advancing the injected clock finishes without real sleeping:
    two 429s, each after exactly 150 answers, and two simulated hours."""
    clock = FakeClock(NOW.timestamp())  # 15:00:00 UTC, the top of an hour
    sim = create_app(world, clock=clock, auto_approve=True)
    days = [world.last - dt.timedelta(days=i) for i in range(400)]

    async def backfill() -> tuple[int, list[int], list[str]]:
        transport = httpx2.ASGITransport(app=sim.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as client:
            tokens = await _async_tokens(client)
            client.headers["Authorization"] = "Bearer " + tokens
            done, refused_after, retry_after = 0, [], []
            for day in days:
                while True:
                    resp = await client.get(f"/1.2/user/-/sleep/date/{day}.json")
                    if resp.status_code != 429:
                        break
                    refused_after.append(done)
                    retry_after.append(resp.headers["Retry-After"])
                    clock.now += int(resp.headers["Fitbit-Rate-Limit-Reset"])
                assert resp.status_code == 200
                done += 1
            return done, refused_after, retry_after

    done, refused_after, retry_after = asyncio.run(backfill())
    assert done == 400
    assert refused_after == [150, 300]
    assert retry_after == ["60", "60"]  # not the 3600 s the reset really was
    assert clock.now - NOW.timestamp() == 2 * 3600


async def _async_tokens(client: httpx2.AsyncClient, scope: str = "sleep profile") -> str:
    """The sign-in of legacy_tokens over an in-process transport; returns the access token."""
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636's example pair
    answer = await client.get(
        "/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": "BACK01",
            "redirect_uri": "http://127.0.0.1:9/",
            "scope": scope,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    code = _code(answer.headers["location"])
    resp = await client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        },
        auth=("BACK01", "s3cret"),
    )
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["access_token"]
    return token


def test_an_overnight_intraday_window_spans_two_dates(
    served: tuple[Simulator, httpx2.Client, FakeClock], world: World
) -> None:
    """The date-range form with a time window answers up to 24 hours across midnight."""
    _, client, _ = served
    auth = _bearer(legacy_tokens(client)["access_token"])
    first = world.start + dt.timedelta(days=4)
    url = f"/1/user/-/activities/heart/date/{first}/{first + dt.timedelta(days=1)}/1min"
    resp = client.get(url + "/time/22:00/05:59.json", headers=auth)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    times = [x["time"] for x in body["activities-heart-intraday"]["dataset"]]
    assert [x["dateTime"] for x in body["activities-heart"]] == [
        str(first),
        str(first + dt.timedelta(days=1)),
    ]
    assert times[0] >= "22:00:00"
    assert times[-1] <= "05:59:00"
    assert len(times) > 400  # eight hours of a night, minute by minute
    assert client.get(url + "/time/05:00/05:01.json", headers=auth).status_code == 400
