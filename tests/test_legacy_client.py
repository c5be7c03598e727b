"""The legacy Fitbit API client against a hand-written fake of fitbit.com (httpx MockTransport):
rotating refresh tokens saved before use, one refresh across processes, the 150/hour budget in
simulated time, 410 Gone, errors[] mapping, and kill + resume losing at most one request."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import http.server
import json
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from fitvault import legacy_auth, legacy_sync
from fitvault._errors import ApiGone, AuthError, RefreshTokenExpired
from fitvault._lock import token_lock
from fitvault.legacy_auth import LegacyAccount, LegacyTokens, LegacyTokenStore
from fitvault.sources.fitbit_legacy import GONE_HELP, LegacyClient, series
from fitvault.store import Store
from tests.test_cli import run_main

BASE = "http://127.0.0.1:9"
START = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC).timestamp()  # 12:00, so resets fall on hours


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeFitbit:
    """fitbit.com as the spec describes it: Basic-auth token endpoint with rotating refresh
    tokens, 150 requests per clock hour with the rate-limit headers, errors[] bodies."""

    clock: Clock
    directory: Path | None = None  # where the client keeps its tokens (checked on each call)
    limit: int = 150
    gone: bool = False
    intraday: bool = True
    access: str = "a0"
    refresh: str = "r0"
    generation: int = 0
    used: dict[int, int] = field(default_factory=dict)  # clock hour → requests
    paths: list[str] = field(default_factory=list)
    refreshes: int = 0
    saw_on_disk: list[str] = field(default_factory=list)
    expire_next: bool = False
    announce: bool = True  # rate-limit headers on successful answers

    def headers(self, hour: int) -> dict[str, str]:
        left = max(0, self.limit - self.used.get(hour, 0))
        reset = 3600 - self.clock.now % 3600
        return {
            "Fitbit-Rate-Limit-Limit": str(self.limit),
            "Fitbit-Rate-Limit-Remaining": str(left),
            "Fitbit-Rate-Limit-Reset": str(int(reset)),
            "Retry-After": "1",  # wrong on purpose, as reported for the real API
        }

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/oauth2/token":
            return self.token(request)
        if self.gone:
            return error(410, "not_found", "Gone")
        if request.headers.get("authorization") != f"Bearer {self.access}":
            return error(401, "invalid_token", "Access token invalid")
        if self.expire_next:
            self.expire_next = False
            return error(401, "expired_token", f"Access token expired: {self.access}")
        if self.directory is not None:
            on_disk = json.loads((self.directory / legacy_auth.TOKEN_FILE).read_text())
            self.saw_on_disk.append(on_disk["access_token"])
        hour = int(self.clock.now // 3600)
        self.used[hour] = self.used.get(hour, 0) + 1
        if self.used[hour] > self.limit:
            return error(429, "system", "Too Many Requests", self.headers(hour))
        self.paths.append(path)
        headers = self.headers(hour) if self.announce else {}
        return httpx2.Response(200, json=self.body(path), headers=headers)

    def body(self, path: str) -> Any:
        if path.endswith("/profile.json"):
            return {"user": {"timezone": "Europe/London", "memberSince": "2024-01-01"}}
        if path.endswith("/devices.json"):
            return [{"id": "1", "type": "TRACKER", "deviceVersion": "Charge 6"}]
        if "/1sec.json" in path and not self.intraday:
            return {"activities-heart": [{"dateTime": "x", "value": {}}]}
        if "/1d/" in path:
            return {"activities-heart-intraday": {"dataset": [], "datasetInterval": 1}}
        return {"ok": True}

    def token(self, request: httpx2.Request) -> httpx2.Response:
        pair = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        assert pair == "app:secret"
        form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
        if form["grant_type"] == "refresh_token":
            if form["refresh_token"] != self.refresh:
                return error(400, "invalid_grant", "Refresh token invalid")
            self.refreshes += 1
        self.generation += 1
        self.access, self.refresh = f"a{self.generation}", f"r{self.generation}"
        return httpx2.Response(
            200,
            json={
                "access_token": self.access,
                "refresh_token": self.refresh,
                "expires_in": 28800,
                "scope": "heartrate activity sleep profile",
                "token_type": "Bearer",
                "user_id": "ABC123",
            },
        )


def error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> httpx2.Response:
    body = {"errors": [{"errorType": kind, "message": message}], "success": False}
    return httpx2.Response(status, json=body, headers=headers)


def account() -> LegacyAccount:
    return LegacyAccount.for_server(BASE, "app", "secret")


def signed_in(tmp_path: Path, fake: FakeFitbit, clock: Clock) -> LegacyTokens:
    store = LegacyTokenStore(tmp_path)
    store.save(
        {"access_token": fake.access, "refresh_token": fake.refresh, "expires_at": clock.now + 3e4}
    )
    account().save(tmp_path)
    return LegacyTokens(account(), store, transport=httpx2.MockTransport(fake), clock=clock)


def client_for(fake: FakeFitbit, tokens: LegacyTokens, clock: Clock) -> LegacyClient:
    return LegacyClient(
        BASE, tokens, transport=httpx2.MockTransport(fake), clock=clock, sleep=clock.sleep
    )


def nothing(body: bytes, zone: str, day: dt.date | None) -> legacy_sync.Batches:
    return []


def run_sync(tmp_path: Path, fake: FakeFitbit, clock: Clock, **kw: Any) -> legacy_sync.LegacyReport:
    async def go() -> legacy_sync.LegacyReport:
        tokens = (
            signed_in(tmp_path, fake, clock)
            if not (tmp_path / "legacy_token.json").exists()
            else (
                LegacyTokens(
                    account(),
                    LegacyTokenStore(tmp_path),
                    transport=httpx2.MockTransport(fake),
                    clock=clock,
                )
            )
        )
        async with client_for(fake, tokens, clock) as client:
            with Store(tmp_path, transient=True) as store:
                syncer = legacy_sync.LegacySyncer(
                    store,
                    client,
                    clock=lambda: dt.datetime.fromtimestamp(clock.now, dt.UTC),
                    normaliser=nothing,
                    progress=kw.pop("progress", None),
                )
                return await syncer.run(**kw)

    return asyncio.run(go())


# --- sign-in and refresh ----------------------------------------------------------------------


def test_refresh_rotates_and_the_new_pair_is_on_disk_before_the_next_request(
    tmp_path: Path,
) -> None:
    """An expired access token is refreshed once; the server's new pair is in the 0600 token
    file before the retried request is sent, and the old refresh token is dead."""
    clock = Clock()
    fake = FakeFitbit(clock, directory=tmp_path)
    tokens = signed_in(tmp_path, fake, clock)
    fake.expire_next = True

    async def go() -> None:
        async with client_for(fake, tokens, clock) as client:
            await client.get("/1/user/-/profile.json")

    asyncio.run(go())
    assert fake.refreshes == 1
    assert fake.saw_on_disk == ["a1"]  # the retried request found a1 already on disk
    saved = json.loads((tmp_path / "legacy_token.json").read_text())
    assert (saved["access_token"], saved["refresh_token"]) == ("a1", "r1")
    assert stat.S_IMODE((tmp_path / "legacy_token.json").stat().st_mode) == 0o600
    # The old refresh token is refused now: reusing it is the error users see.
    stale = LegacyTokenStore(tmp_path)
    stale.save({"access_token": "a0", "refresh_token": "r0", "expires_at": 0})
    with pytest.raises(RefreshTokenExpired, match="fitvault auth --source fitbit-legacy") as exc:
        asyncio.run(LegacyTokens(account(), stale, transport=httpx2.MockTransport(fake)).refresh())
    assert "r0" not in str(exc.value)
    assert "a0" not in str(exc.value)


def test_a_legacy_refresh_waits_for_the_vault_s_one_token_lock(tmp_path: Path) -> None:
    """The legacy refresh takes the same bounded token lock as the Google Health one: while
    another holder has it nothing is sent; once it is released the refresh goes out once."""
    clock = Clock()
    fake = FakeFitbit(clock, directory=tmp_path)
    tokens = signed_in(tmp_path, fake, clock)

    async def go() -> tuple[int, str]:
        async with token_lock(tmp_path):
            task = asyncio.create_task(tokens.refresh())
            await asyncio.sleep(0.5)
            sent_while_held = fake.refreshes
        return sent_while_held, await task

    sent_while_held, access = asyncio.run(go())
    assert sent_while_held == 0
    assert (fake.refreshes, access) == (1, "a1")


class TokenServer(http.server.BaseHTTPRequestHandler):
    """A rotating token endpoint over a real socket, so two processes can race for it."""

    refresh = "r0"
    generation = 0
    grants = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        form = dict(
            x.split("=", 1)
            for x in self.rfile.read(int(self.headers["Content-Length"])).decode().split("&")
        )
        cls = type(self)
        time.sleep(2.0)  # a slow token endpoint: the other process reaches the lock meanwhile
        with cls.lock:
            ok = form.get("refresh_token") == cls.refresh
            if ok:
                cls.grants += 1
                cls.generation += 1
                cls.refresh = f"r{cls.generation}"
            body = (
                {
                    "access_token": f"a{cls.generation}",
                    "refresh_token": cls.refresh,
                    "expires_in": 28800,
                }
                if ok
                else {"errors": [{"errorType": "invalid_grant", "message": "no"}], "success": False}
            )
        data = json.dumps(body).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def token_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


REFRESH_SCRIPT = """
import asyncio, sys
from pathlib import Path
from fitvault.legacy_auth import LegacyAccount, LegacyTokens, LegacyTokenStore
d = Path(sys.argv[1])
tokens = LegacyTokens(LegacyAccount.load(d), LegacyTokenStore(d))
print(asyncio.run(tokens.access_token()), tokens.refreshes)  # expired: refreshes
"""


def test_two_processes_refreshing_at_once_send_one_refresh(
    tmp_path: Path, token_server: str
) -> None:
    """Two processes whose access token expired together: one refreshes, the other waits on the
    lock, finds the rotated pair on disk and uses it (a second refresh would kill the first's).
    A process that starts after the refresh reads the fresh pair and refreshes nothing."""
    TokenServer.refresh, TokenServer.generation, TokenServer.grants = "r0", 0, 0
    LegacyAccount.for_server(token_server, "app", "secret").save(tmp_path)
    LegacyTokenStore(tmp_path).save({"access_token": "a0", "refresh_token": "r0", "expires_at": 0})
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REFRESH_SCRIPT, str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = sorted(p.communicate(timeout=60)[0].split() for p in procs)
    assert all(p.returncode == 0 for p in procs)
    assert TokenServer.grants == 1
    assert outputs == [["a1", "0"], ["a1", "1"]]  # both use a1; one of them sent the refresh
    assert json.loads((tmp_path / "legacy_token.json").read_text())["refresh_token"] == "r1"


# --- the budget, 410, errors -------------------------------------------------------------------


def test_a_backfill_waits_for_each_hourly_reset_in_simulated_time(tmp_path: Path) -> None:
    """400 days: the client spends each hour's 150 requests, meets a 429 or an empty budget,
    and waits until the reset the headers announced (not Retry-After) — no request is lost
    and the simulated hours are the fewest the budget allows."""
    clock = Clock()
    fake = FakeFitbit(clock)
    waits: list[float] = []
    report = run_sync(
        tmp_path,
        fake,
        clock,
        since=dt.date(2025, 8, 28),
        until=dt.date(2026, 9, 30),
        progress=lambda p: waits.append(p.waiting_s) if p.waiting_s else None,
    )
    days = 399
    ranges = 2 + 9 + 4 + 5 * 14 + 2 * 13  # heart 365-day, activity, sleep 100, 30s, 31s
    assert report.requests == len(fake.paths)  # the headers said when to stop: no 429
    assert len(fake.paths) == 2 + ranges + 2 * days  # profile, devices, ranges, intraday
    assert max(fake.used.values()) == 150  # every hour spent fully
    hours = (clock.now - START) / 3600
    assert hours < len(fake.paths) / 150 + 1  # no hour wasted beyond the last partial one
    assert waits
    assert max(waits) <= 3600 + 5
    assert all(w > 1 for w in waits)


def test_a_429_waits_until_the_reset_it_announced_not_retry_after(tmp_path: Path) -> None:
    """When the budget was spent elsewhere (another script, no headers seen), the 429 is
    answered by waiting until its Fitbit-Rate-Limit-Reset — here 47 minutes, while Retry-After
    says 1 s — and the request is then sent again, once."""
    clock = Clock(START + 13 * 60)  # 12:13: the reset is 47 min away
    fake = FakeFitbit(clock, announce=False)
    fake.used[int(clock.now // 3600)] = 150  # spent by someone else
    waits: list[float] = []
    report = run_sync(
        tmp_path,
        fake,
        clock,
        since=dt.date(2026, 9, 30),
        until=dt.date(2026, 9, 30),
        names=["hrv"],
        progress=lambda p: waits.append(p.waiting_s) if p.waiting_s else None,
    )
    assert report.requests == 4  # profile (429), profile, devices, hrv
    assert fake.paths[0].endswith("profile.json")
    assert len(fake.paths) == 3
    assert clock.now == START + 3600 + 5  # the reset, plus the 5 s margin
    assert waits[0] == 47 * 60 + 5
    assert waits[-1] == 5


def test_410_stops_at_once_and_points_to_google_health_and_takeout(tmp_path: Path) -> None:
    """A server that answers 410 Gone (the real host since 2026-11-02): one request, then an
    ApiGone that explains the shutdown and names the next commands."""
    clock = Clock()
    fake = FakeFitbit(clock, gone=True)
    with pytest.raises(ApiGone) as exc:
        run_sync(tmp_path, fake, clock, since=dt.date(2026, 9, 1))
    message = str(exc.value)
    assert "2026-11-02" in message
    assert "`fitvault auth`" in message
    assert "`fitvault import PATH`" in message
    assert GONE_HELP in message
    assert exc.value.exit_code == 4


def test_no_intraday_access_falls_back_to_one_minute_and_says_why(tmp_path: Path) -> None:
    """An app without intraday access gets no 1-second dataset: heart rate is asked for at
    1 minute from then on, once per day, and the report says why."""
    clock = Clock()
    fake = FakeFitbit(clock, intraday=False)
    report = run_sync(
        tmp_path,
        fake,
        clock,
        since=dt.date(2026, 9, 28),
        until=dt.date(2026, 9, 30),
        names=["heart-rate-intraday"],
    )
    heart = [p.rsplit("/date/", 1)[1] for p in fake.paths if "/activities/heart/" in p]
    assert heart == [
        "2026-09-30/1d/1sec.json",
        "2026-09-30/1d/1min.json",
        "2026-09-29/1d/1min.json",
        "2026-09-28/1d/1min.json",
    ]
    assert len(report.notes) == 1
    assert "Personal" in report.notes[0]


def test_insufficient_scope_skips_that_series_and_names_the_permission(tmp_path: Path) -> None:
    """A 403 insufficient_scope refuses one series; the others complete."""
    clock = Clock()
    fake = FakeFitbit(clock)
    original = fake.__call__

    def handler(request: httpx2.Request) -> httpx2.Response:
        if "/spo2/" in request.url.path:
            return error(
                403,
                "insufficient_scope",
                "This application does not have permission to access oxygen_saturation data.",
            )
        return original(request)

    async def go() -> legacy_sync.LegacyReport:
        tokens = signed_in(tmp_path, fake, clock)
        client = LegacyClient(
            BASE, tokens, transport=httpx2.MockTransport(handler), clock=clock, sleep=clock.sleep
        )
        async with client:
            with Store(tmp_path, transient=True) as store:
                syncer = legacy_sync.LegacySyncer(
                    store,
                    client,
                    normaliser=nothing,
                    clock=lambda: dt.datetime.fromtimestamp(clock.now, dt.UTC),
                )
                return await syncer.run(dt.date(2026, 9, 20), dt.date(2026, 9, 30), ["spo2", "hrv"])

    report = asyncio.run(go())
    assert list(report.refused) == ["spo2"]
    assert "oxygen_saturation" in report.refused["spo2"]
    assert "fitvault auth --source fitbit-legacy" in report.refused["spo2"]
    assert report.pages == {"hrv": 1}


# --- kill and resume --------------------------------------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL in the middle of a request."""


def test_a_kill_loses_at_most_the_request_in_flight(tmp_path: Path) -> None:
    """Killed during its 40th request, a re-run asks again for exactly that request and for
    nothing the first run had finished."""
    clock = Clock()
    fake = FakeFitbit(clock)
    calls = {"n": 0}
    original = fake.__call__

    def dying(request: httpx2.Request) -> httpx2.Response:
        calls["n"] += 1
        if calls["n"] == 40:
            raise Killed
        return original(request)

    span = {"since": dt.date(2026, 9, 1), "until": dt.date(2026, 9, 30)}

    async def once(handler: Any) -> legacy_sync.LegacyReport:
        tokens = LegacyTokens(
            account(), LegacyTokenStore(tmp_path), transport=httpx2.MockTransport(fake), clock=clock
        )
        client = LegacyClient(
            BASE, tokens, transport=httpx2.MockTransport(handler), clock=clock, sleep=clock.sleep
        )
        async with client:
            with Store(tmp_path, transient=True) as store:
                syncer = legacy_sync.LegacySyncer(
                    store,
                    client,
                    normaliser=nothing,
                    lag=dt.timedelta(0),
                    clock=lambda: dt.datetime(2026, 10, 15, tzinfo=dt.UTC),
                )
                return await syncer.run(**span)

    signed_in(tmp_path, fake, clock)
    with pytest.raises(Killed):
        asyncio.run(once(dying))
    first = list(fake.paths)
    asyncio.run(once(original))
    second = fake.paths[len(first) :]
    data = lambda paths: [p for p in paths if not p.endswith(("profile.json", "devices.json"))]  # noqa: E731
    assert len(data(first)) == 37  # profile, devices, then 37 data requests answered
    assert not set(data(first)) & set(data(second))  # nothing finished is asked again
    # the in-flight request, then everything after it: together exactly one full run's
    assert len(data(first)) + len(data(second)) == 9 + 1 + 1 + 5 + 2 + 2 * 30
    assert series("sleep").max_days == 100


def test_a_second_expired_token_is_an_auth_error_that_never_quotes_the_token(
    tmp_path: Path,
) -> None:
    """The API's expired_token message quotes the token; after the one refresh, the error the
    user sees names the command to run and contains neither the old nor the new token."""
    clock = Clock()
    fake = FakeFitbit(clock)
    tokens = signed_in(tmp_path, fake, clock)

    def always_expired(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/oauth2/token":
            return fake(request)
        token = request.headers["authorization"].split()[1]
        return error(401, "expired_token", f"Access token expired: {token}")

    async def go() -> None:
        client = LegacyClient(BASE, tokens, transport=httpx2.MockTransport(always_expired))
        async with client:
            await client.get("/1/user/-/profile.json")

    with pytest.raises(AuthError) as exc:
        asyncio.run(go())
    assert fake.refreshes == 1
    assert "fitvault auth --source fitbit-legacy" in str(exc.value)
    assert "a0" not in str(exc.value)
    assert "a1" not in str(exc.value)


def test_legacy_auth_without_app_credentials_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """fitbit.com needs the app's client id and secret: without them, exit 2 and one line
    saying where to get them; nothing is written."""
    monkeypatch.delenv("FITBIT_CLIENT_ID", raising=False)
    monkeypatch.delenv("FITBIT_CLIENT_SECRET", raising=False)
    code, _, err = run_main(
        monkeypatch, capsys, "auth", "--source", "fitbit-legacy", "--vault", str(tmp_path / "v")
    )
    assert code == 2
    assert "--client-id" in err
    assert "dev.fitbit.com" in err
    assert not (tmp_path / "v" / "legacy_token.json").exists()
