"""The legacy face's gates: the 150-per-hour limit and its headers, rotating refresh tokens,
scopes, range limits, the 1sec and 410 switches."""

from __future__ import annotations

from collections.abc import Iterator

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


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_budget_counts_down_then_429_until_the_top_of_the_hour(
    served: tuple[Simulator, httpx2.Client, FakeClock],
) -> None:
    """150 requests per clock hour with headers on each; then 429s until the hour turns."""
    _, client, clock = served
    auth = _bearer(legacy_tokens(client)["access_token"])
    remaining = []
    for _ in range(150):
        resp = client.get(PROFILE, headers=auth)
        assert resp.status_code == 200
        assert resp.headers["Fitbit-Rate-Limit-Limit"] == "150"
        assert resp.headers["Fitbit-Rate-Limit-Reset"] == str(40 * 60)  # 15:20 → 16:00
        remaining.append(int(resp.headers["Fitbit-Rate-Limit-Remaining"]))
    assert remaining == list(range(149, -1, -1))
    clock.now += 10 * 60
    refused = client.get(PROFILE, headers=auth)
    assert refused.status_code == 429
    assert refused.json() == {
        "errors": [{"errorType": "system", "fieldName": "n/a", "message": "Too Many Requests"}],
        "success": False,
    }
    assert refused.headers["Fitbit-Rate-Limit-Remaining"] == "0"
    assert refused.headers["Fitbit-Rate-Limit-Reset"] == str(30 * 60)
    assert "Retry-After" in refused.headers
    clock.now += 30 * 60  # the top of the hour
    again = client.get(PROFILE, headers=auth)
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
