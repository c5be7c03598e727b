"""python-fitbit (PyPI ``fitbit``), the tutorials' own library, works unchanged against the
legacy face over a real socket: sign-in, the tutorials' exact calls, and its refresh callback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import numpy as np
import pytest

from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from tests.conftest import NOW, FakeClock

fitbit = pytest.importorskip("fitbit")
oauth_errors = pytest.importorskip("oauthlib.oauth2.rfc6749.errors")
pytestmark = pytest.mark.slow
CLIENT_ID, CLIENT_SECRET = "22BXYZ", "0123456789abcdef0123456789abcdef"
REDIRECT = "http://127.0.0.1:8080/"


@pytest.fixture
def server(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Simulator, str, FakeClock]]:
    """The simulator, with python-fitbit's hosts pointed at it (as a tutorial reader would)."""
    clock = FakeClock(NOW.timestamp())
    sim = create_app(world, clock=clock, auto_approve=True)
    with serve_in_thread(sim.app) as url:
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback
        api = fitbit.api
        for cls in (api.FitbitOauth2Client, api.Fitbit):
            monkeypatch.setattr(cls, "API_ENDPOINT", url)
        monkeypatch.setattr(api.FitbitOauth2Client, "AUTHORIZE_ENDPOINT", url)
        monkeypatch.setattr(api.FitbitOauth2Client, "authorization_url", url + "/oauth2/authorize")
        for name in ("request_token_url", "access_token_url", "refresh_token_url"):
            monkeypatch.setattr(api.FitbitOauth2Client, name, url + "/oauth2/token")
        yield sim, url, clock


def _sign_in() -> dict[str, Any]:
    """gather_keys_oauth2.py's flow: the authorize URL, the browser's redirect, the exchange."""
    server = fitbit.Fitbit(CLIENT_ID, CLIENT_SECRET, redirect_uri=REDIRECT, timeout=30)
    url, _state = server.client.authorize_token_url()
    answer = httpx2.get(url)  # the browser; auto-approve redirects at once
    assert answer.status_code == 302, answer.text
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    server.client.fetch_access_token(code)
    token: dict[str, Any] = server.client.session.token
    return token


def _client(token: dict[str, Any], saved: list[dict[str, Any]]) -> Any:
    authd = fitbit.Fitbit(
        CLIENT_ID,
        CLIENT_SECRET,
        oauth2=True,
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires_at=token["expires_at"],
        refresh_cb=saved.append,
        timeout=30,
    )
    authd.API_VERSION = 1.2  # what the tutorials set for sleep stages
    return authd


def test_the_tutorials_calls_answer_the_worlds_data(
    server: tuple[Simulator, str, FakeClock], world: World
) -> None:
    """Intraday 1sec heart rate, heart and steps series and a v1.2 sleep range, via python-fitbit."""
    _, url, _ = server
    token = _sign_in()
    assert token["user_id"] == world.person.legacy_user_id
    authd = _client(token, [])
    day = world.start + dt.timedelta(days=5)
    first = world.start + dt.timedelta(days=1)

    heart = authd.intraday_time_series("activities/heart", day, detail_level="1sec")
    hr = world.heart_rate()
    local = hr.t + hr.offset_s.astype(np.int64)
    midnight = (day - dt.date(1970, 1, 1)).days * 86_400
    on_day = (local >= midnight) & (local < midnight + 86_400)
    values = [x["value"] for x in heart["activities-heart-intraday"]["dataset"]]
    assert values == hr.bpm[on_day].tolist()

    series = authd.time_series("activities/heart", base_date=day, period="7d")
    resting = {v.date.isoformat(): v.value for v in world.resting_heart_rate()}
    got = {x["dateTime"]: x["value"].get("restingHeartRate") for x in series["activities-heart"]}
    assert len(got) == 7
    assert {d: v for d, v in got.items() if v is not None} == {
        d: resting[d] for d in got if d in resting
    }

    steps = authd.time_series("activities/steps", base_date=first, end_date=day)
    g = world.grid
    expected = [
        str(int(g.steps[g.day == (first - dt.date(1970, 1, 1)).days + i].sum())) for i in range(5)
    ]
    assert [x["value"] for x in steps["activities-steps"]] == expected

    sleep = authd.make_request(f"{url}/1.2/user/-/sleep/date/{first}/{day}.json")
    ends = sorted(s.id % 10**11 for s in world.sleep() if s.main_sleep)
    logs = {x["logId"]: x for x in sleep["sleep"]}
    assert len(logs) == 5
    assert set(logs) <= set(ends)
    assert all(x["type"] == "stages" and "shortData" in x["levels"] for x in logs.values())


def test_an_expired_token_is_refreshed_and_the_new_pair_reaches_the_callback(
    server: tuple[Simulator, str, FakeClock], world: World
) -> None:
    """On 401 expired_token python-fitbit refreshes (Basic auth), hands the rotated pair to
    refresh_cb and retries; the spent refresh token is then refused."""
    _, _, clock = server
    token = _sign_in()
    saved: list[dict[str, Any]] = []
    authd = _client(token, saved)
    clock.now += 9 * 3600  # past the 8-hour access token, on the server's clock only
    profile = authd.user_profile_get()
    assert profile["user"]["encodedId"] == world.person.legacy_user_id
    assert len(saved) == 1
    assert saved[0]["refresh_token"] != token["refresh_token"]
    assert saved[0]["access_token"] != token["access_token"]
    stale = _client(token, [])
    # Expired, and its refresh token was spent by the first client: oauthlib reads the errors[]
    # body through python-fitbit's compliance hook and raises invalid_grant.
    with pytest.raises(oauth_errors.InvalidGrantError):
        stale.user_profile_get()


def test_a_429_surfaces_as_python_fitbits_too_many_requests(
    server: tuple[Simulator, str, FakeClock],
) -> None:
    """After 150 calls in the hour python-fitbit raises HTTPTooManyRequests (it reads the
    Retry-After header, which must therefore be present)."""
    authd = _client(_sign_in(), [])
    for _ in range(150):
        authd.user_profile_get()
    with pytest.raises(fitbit.exceptions.HTTPTooManyRequests) as caught:
        authd.user_profile_get()
    assert caught.value.retry_after_secs > 0
    assert str(caught.value) == "Too Many Requests"
