"""Security review in code: where secrets may and may not go, file modes, the loopback receiver,
and refreshes by several holders of one token file (issue 11, item 7)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from fitvault import auth, catalog, legacy_auth
from fitvault._errors import AuthError, AuthFlowError, VaultError, VaultLocked
from fitvault._lock import SYNC_LOCK, sync_lock, token_lock
from fitvault.auth import Account, LoopbackReceiver, TokenManager, TokenStore, authorize
from fitvault.demo import press_allow
from fitvault.legacy_auth import LegacyAccount, LegacyTokenStore
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.store import VAULT_FILE, Store
from fitvault.vault import Vault, parse_types
from tests.conftest import SERVER, FakeClock, browser_via, sync

TYPES = ["heart-rate", "sleep", "steps"]
CLIENT_SECRET = "GOCSPX-not-for-your-eyes-0123456789"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Recorder(httpx2.AsyncBaseTransport):
    """Forwards to the simulator, keeping every URL asked for and every token-endpoint form."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.urls: list[str] = []
        self.token_forms: list[dict[str, str]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.urls.append(str(request.url))
        if request.url.path.endswith("/token"):  # v4's /token, the legacy /oauth2/token
            body = (await request.aread()).decode()
            self.token_forms.append({k: v[0] for k, v in parse_qs(body).items()})
        return await self.inner.handle_async_request(request)


def secret_account() -> Account:
    """A simulator account that also has a client secret (as a Google Desktop client does)."""
    plain = Account.for_server(SERVER, catalog.scopes_for(parse_types(TYPES)))
    return dataclasses.replace(plain, client_secret=CLIENT_SECRET)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's text, but the stand-in browser's (tests.conftest.browser_via) delivery
    of the callback to the loopback receiver: httpx logs that URL in the test process, where
    a real browser is another program."""
    return "\n".join(
        caplog.handler.format(r)
        for r in caplog.records
        if not (
            "HTTP Request: GET http://127.0.0.1:" in r.getMessage() and "code=" in r.getMessage()
        )
    )


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """DEBUG on the root and on every logger created so far (httpx, authlib, stamina …)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_no_secret_leaves_the_token_files_during_sign_in_sync_and_refresh(
    tmp_path: Path,
    transport: httpx2.ASGITransport,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    every_logger_at_debug: pytest.LogCaptureFixture,
) -> None:
    """Access tokens (old and refreshed), refresh token, client secret, authorization code and
    PKCE verifier appear in no log record, printed output, progress event, repr(), exception
    message, request URL or any vault file but token.json/account.json (kept raw pages
    included, decompressed)."""
    recorder = Recorder(transport)
    v = Vault(tmp_path / "vault")
    asyncio.run(
        authorize(secret_account(), v.directory, open_url=browser_via(recorder), transport=recorder)
    )
    store = TokenStore(v.directory)
    first = store.load()
    assert first is not None
    events: list[str] = []
    report = sync(v, recorder, types=TYPES, progress=lambda *a: events.append(repr(a)))
    store.save(first | {"expires_at": 0})  # the next sync must refresh
    sync(v, recorder, types=TYPES, progress=lambda *a: events.append(repr(a)))
    refreshed = store.load()
    assert refreshed is not None
    assert refreshed["access_token"] != first["access_token"]

    sign_in_form, refresh_form = recorder.token_forms[0], recorder.token_forms[-1]
    secrets = {
        "access token": first["access_token"],
        "refreshed access token": refreshed["access_token"],
        "refresh token": first["refresh_token"],
        "client secret": CLIENT_SECRET,
        "authorization code": sign_in_form["code"],
        "PKCE verifier": sign_in_form["code_verifier"],
    }
    # The flow really carried them where they belong: the token endpoint's form bodies.
    assert refresh_form["client_secret"] == CLIENT_SECRET
    assert refresh_form["refresh_token"] == first["refresh_token"]

    failures: list[str] = []
    try:  # a refresh that cannot reach the token endpoint: its message
        broken = TokenManager(Account.load(v.directory), store, transport=Unreachable())
        asyncio.run(broken.refresh())
    except AuthError as exc:
        failures.append(f"{exc} {exc!r} {exc.__cause__!r}")
    assert failures
    tokens = TokenManager(Account.load(v.directory), store, transport=recorder)
    with Store(v.directory, read_only=True) as db:
        kept = [f"{p.page.request} {p.page.body.decode()}" for p in db.raw_pages()]
        reprs = [repr(x) for x in (v, Account.load(v.directory), store, tokens, report, db)]
    assert kept  # pages were kept, so the check below looked at something
    printed = capsys.readouterr()
    assert every_logger_at_debug.records  # DEBUG logging was really on
    places = {
        "logs": logged(every_logger_at_debug),
        "output": printed.out + printed.err,
        "progress": "\n".join(events),
        "repr": "\n".join(reprs),
        "exceptions": "\n".join(failures),
        "raw pages": "\n".join(kept),
    }
    for url in recorder.urls:  # the authorization URL carries the challenge, never these
        places[f"URL {urlsplit(url).path}"] = url
    for name in os.listdir(v.directory):
        if name not in (auth.TOKEN_FILE, auth.ACCOUNT_FILE):
            places[name] = (v.directory / name).read_bytes().decode("latin-1")
    leaks = [(what, where) for what, s in secrets.items() for where, t in places.items() if s in t]
    assert leaks == []


class Unreachable(httpx2.AsyncBaseTransport):
    """A token endpoint that is down."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)


def test_repr_of_an_account_never_shows_the_client_secret() -> None:
    """repr() (what a traceback, a debugger or a log line shows) leaves the secret out."""
    assert CLIENT_SECRET not in repr(secret_account())
    assert CLIENT_SECRET not in str(secret_account())


# --- files --------------------------------------------------------------------------------


def test_sign_in_alone_creates_the_vault_directory_owner_only(
    tmp_path: Path, transport: httpx2.ASGITransport
) -> None:
    """`fitvault auth` into a new directory makes it 0700 before any sync opens the database."""
    directory = tmp_path / "new" / "vault"
    Vault(directory).authorize(
        server=SERVER, open_url=browser_via(transport), transport=transport, types=TYPES
    )
    assert mode(directory) == 0o700
    assert mode(directory / auth.TOKEN_FILE) == 0o600


def test_an_existing_open_vault_is_tightened_to_0700_and_0600(tmp_path: Path) -> None:
    """A vault directory or database left readable by others is made owner-only when opened."""
    directory = tmp_path / "vault"
    Store(directory).close()
    directory.chmod(0o755)
    (directory / VAULT_FILE).chmod(0o644)
    Store(directory).close()
    assert mode(directory) == 0o700
    assert mode(directory / VAULT_FILE) == 0o600


def test_token_writes_reach_the_disk_before_they_replace_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """secure_write fsyncs the temp file, renames it over the target, then fsyncs the directory
    (after a power cut token.json is the old or the new one, whole); the temp file is 0600
    from its creation."""
    calls: list[tuple[str, Any]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        calls.append(
            ("fsync", "directory" if stat.S_ISDIR(st.st_mode) else stat.S_IMODE(st.st_mode))
        )
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append(("replace", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    auth.secure_write(tmp_path / "token.json", b"{}")
    assert calls == [("fsync", 0o600), ("replace", "token.json"), ("fsync", "directory")]


# --- the loopback receiver ----------------------------------------------------------------


def test_the_receiver_listens_on_127_0_0_1_only() -> None:
    """Bound to 127.0.0.1: another address of this host (127.0.0.2 is loopback too on Linux,
    and so is every interface's address) is refused, so no other machine can reach it."""
    receiver = LoopbackReceiver("s")
    with receiver.running():
        host, port = receiver._server.server_address[:2]
        assert host == "127.0.0.1"
        assert urlsplit(receiver.redirect_uri).hostname == "127.0.0.1"
        with pytest.raises(httpx2.ConnectError):
            httpx2.get(f"http://127.0.0.2:{port}/", params={"code": "c", "state": "s"}, timeout=5)
        assert receiver.result is None


def test_a_callback_with_the_wrong_state_ends_the_flow_cleanly_and_closes_the_port() -> None:
    """The receiver answers the first callback only; a wrong `state` gets 400, the flow fails
    with AuthFlowError (no code is exchanged) and the port is closed to a later, right one."""
    receiver = LoopbackReceiver("right")
    with receiver.running(), httpx2.Client(base_url=receiver.redirect_uri, timeout=5) as c:
        assert c.get("/", params={"code": "forged", "state": "wrong"}).status_code == 400
        answer = asyncio.run(receiver.wait(1))
    with pytest.raises(AuthFlowError, match="wrong `state`"):
        auth._check_answer(answer, "right")
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(receiver.redirect_uri, params={"code": "c", "state": "right"}, timeout=5)
    assert receiver.result == {"code": "forged", "state": "wrong"}


# --- several holders of one token file ----------------------------------------------------


def test_a_second_holder_takes_the_refresh_the_first_saved(
    tmp_path: Path, transport: httpx2.ASGITransport
) -> None:
    """Two TokenManagers on one vault (two processes) both find the token stale: the first
    refreshes, the second uses the token the first saved instead of spending the refresh
    token again (single-use where refresh tokens rotate), and the file stays signed in."""
    recorder = Recorder(transport)
    v = Vault(tmp_path / "vault")
    asyncio.run(
        authorize(secret_account(), v.directory, open_url=browser_via(recorder), transport=recorder)
    )
    store = TokenStore(v.directory)
    stale = store.load()
    assert stale is not None
    store.save(stale | {"expires_at": 0})
    one = TokenManager(Account.load(v.directory), store, transport=recorder)
    two = TokenManager(Account.load(v.directory), store, transport=recorder)
    fresh_one = asyncio.run(one.access_token())
    fresh_two = asyncio.run(two.access_token())
    assert fresh_one == fresh_two != stale["access_token"]
    grants = [f["grant_type"] for f in recorder.token_forms]
    assert grants == ["authorization_code", "refresh_token"]
    saved = store.load()
    assert saved is not None
    assert saved["access_token"] == fresh_one
    assert saved["refresh_token"] == stale["refresh_token"]
    assert sorted(p.name for p in v.directory.iterdir() if p.name.endswith(".tmp")) == []


def test_a_refresh_after_a_401_refreshes_even_if_the_file_looks_fresh(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """refresh() with the token on disk unchanged (the server refused it) goes to the server,
    rather than trusting the file's expiry."""
    recorder = Recorder(transport)
    store = TokenStore(vault.directory)
    before = store.load()
    assert before is not None
    tokens = TokenManager(Account.load(vault.directory), store, transport=recorder)
    after = asyncio.run(tokens.refresh())
    assert after != before["access_token"]
    assert [f["grant_type"] for f in recorder.token_forms] == ["refresh_token"]


@pytest.mark.slow
def test_the_cli_shows_no_token_while_a_sync_refreshes(tmp_path: Path) -> None:
    """`fitvault sync` (piped progress and summary) and `fitvault status`, run as a user runs
    them over real sockets with an expired token, print neither the old nor the new tokens."""
    world = World.default(days=3, now=dt.datetime.now(dt.UTC))
    v = Vault(tmp_path / "vault")
    with serve_in_thread(create_app(world, quota_per_minute=None).app) as url:
        v.authorize(server=url, open_url=press_allow, types=TYPES)
        store = TokenStore(v.directory)
        first = store.load()
        assert first is not None
        store.save(first | {"expires_at": 0})
        env = os.environ | {"FITVAULT_HOME": str(v.directory)}
        runs = [
            subprocess.run(
                [sys.executable, "-m", "fitvault", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            for args in (["sync", "--types", ",".join(TYPES)], ["status"])
        ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    refreshed = store.load()
    assert refreshed is not None
    assert refreshed["access_token"] != first["access_token"]
    shown = "".join(r.stdout + r.stderr for r in runs)
    assert "heart-rate" in shown  # the summary really was printed
    for secret in (first["access_token"], first["refresh_token"], refreshed["access_token"]):
        assert secret not in shown


def test_a_lock_file_that_cannot_be_made_is_a_vault_error_not_a_traceback(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """When the sync's lock file cannot be created (here a directory stands in its place; a
    read-only vault does the same for non-root users) the sync raises VaultError (exit 6)
    naming the file, not an OSError."""
    (vault.directory / SYNC_LOCK).mkdir()
    with pytest.raises(VaultError, match=re.escape(SYNC_LOCK)):
        sync(vault, transport, types=TYPES)


def test_a_refresh_waits_for_a_stuck_holder_only_so_long(tmp_path: Path) -> None:
    """While another process holds the token lock (a refresh stopped with Ctrl-Z), a refresh
    waits, then gives up with VaultLocked naming that process, and the lock is free again for
    the next one once the holder lets go."""
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"

        async def take() -> None:
            async with token_lock(tmp_path, wait=0.5):
                pass

        with pytest.raises(VaultLocked, match=f"process {holder.pid}"):
            asyncio.run(take())
    finally:
        holder.kill()
        holder.communicate(timeout=10)
    asyncio.run(take())  # the kernel dropped the killed holder's lock


LOCK_HOLDER = """
import asyncio, sys, time
from pathlib import Path
from fitvault._lock import token_lock

async def hold():
    async with token_lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(600)

asyncio.run(hold())
"""


# --- the legacy Fitbit sign-in ------------------------------------------------------------

LEGACY_SECRET = "fitbit-app-secret-0123456789abcdef"


def test_legacy_sign_in_uses_s256_and_no_legacy_secret_leaves_its_files(
    tmp_path: Path,
    transport: httpx2.ASGITransport,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    every_logger_at_debug: pytest.LogCaptureFixture,
) -> None:
    """The legacy sign-in sends an S256 challenge of the verifier it later proves; its tokens
    (old and rotated), app secret, code and verifier reach no log, output, progress event,
    repr(), URL, kept raw page or vault file but its own token and account files; a second
    sync, legacy or v4, is refused while one runs (one lock for both)."""
    recorder = Recorder(transport)
    v = Vault(tmp_path / "vault")
    v.authorize(
        source="fitbit-legacy",
        server=SERVER,
        client_id="app",
        client_secret=LEGACY_SECRET,
        open_url=browser_via(recorder),
        transport=recorder,
    )
    sign_in_url = next(u for u in recorder.urls if "/oauth2/authorize" in u)
    asked = {k: w[0] for k, w in parse_qs(urlsplit(sign_in_url).query).items()}
    verifier = recorder.token_forms[0]["code_verifier"]
    assert asked["code_challenge_method"] == "S256"
    assert asked["code_challenge"] == create_s256_code_challenge(verifier)
    store = LegacyTokenStore(v.directory)
    first = store.load()
    assert first is not None

    async def skip(seconds: float) -> None:
        clock.advance(seconds)

    def legacy(progress: Any) -> Any:
        return asyncio.run(
            v.async_legacy_sync(
                transport=recorder,
                clock=clock,
                sleep=skip,
                series=["heart-rate-daily", "sleep"],
                progress=progress,
            )
        )

    events: list[str] = []
    report = legacy(lambda *a: events.append(repr(a)))
    store.save(first | {"expires_at": 0})
    legacy(lambda *a: events.append(repr(a)))
    rotated = store.load()
    assert rotated is not None
    assert rotated["refresh_token"] != first["refresh_token"]
    with sync_lock(v.directory), pytest.raises(VaultLocked, match="already running"):
        legacy(None)

    secrets = {
        "access token": first["access_token"],
        "rotated access token": rotated["access_token"],
        "refresh token": first["refresh_token"],
        "rotated refresh token": rotated["refresh_token"],
        "app secret": LEGACY_SECRET,
        "authorization code": recorder.token_forms[0]["code"],
        "PKCE verifier": verifier,
    }
    with Store(v.directory, read_only=True) as db:
        kept = [f"{p.page.request} {p.page.body.decode()}" for p in db.raw_pages()]
    assert kept
    printed = capsys.readouterr()
    places = {
        "logs": logged(every_logger_at_debug),
        "output": printed.out + printed.err,
        "progress": "\n".join(events),
        "repr": "\n".join(repr(x) for x in (LegacyAccount.load(v.directory), store, report)),
        "raw pages": "\n".join(kept),
    }
    for url in recorder.urls:
        places[f"URL {urlsplit(url).path}"] = url
    for name in os.listdir(v.directory):
        if name not in (legacy_auth.TOKEN_FILE, legacy_auth.ACCOUNT_FILE):
            places[name] = (v.directory / name).read_bytes().decode("latin-1")
    leaks = [(what, where) for what, s in secrets.items() for where, t in places.items() if s in t]
    assert leaks == []
