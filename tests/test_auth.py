"""OAuth 2.0 + PKCE sign-in, the 0600 token files, and what happens when tokens expire."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import re
import socket
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx2
import pytest

from fitvault import auth, catalog
from fitvault._errors import AuthFlowError, ConfigError, RefreshTokenExpired
from fitvault.auth import Account, LoopbackReceiver, TokenManager, TokenStore, authorize
from fitvault.legacy_auth import LegacyAccount
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.vault import Vault, parse_types
from tests.conftest import SERVER, FakeClock, browser_via, sign_in, sync

TYPES = ["heart-rate", "sleep"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode(query(url) | changes)))


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def account() -> Account:
    return Account.for_server(SERVER, catalog.scopes_for(parse_types(TYPES)))


class Recorder(httpx2.AsyncBaseTransport):
    """Forwards to the simulator and keeps every request body sent to the token endpoint."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner, self.token_forms = inner, []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/token":
            body = await request.aread()
            self.token_forms.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
        return await self.inner.handle_async_request(request)


# --- the files in the vault ---------------------------------------------------------------


def test_sign_in_writes_both_files_owner_only_with_the_refresh_token(vault: Vault) -> None:
    """token.json and account.json are 0600 and token.json holds the refresh token."""
    token_file, account_file = vault.directory / "token.json", vault.directory / "account.json"
    assert mode(token_file) == 0o600
    assert mode(account_file) == 0o600
    token = json.loads(token_file.read_text())
    assert token["refresh_token"].startswith("sim1.")
    assert json.loads(account_file.read_text())["api_base"] == SERVER
    assert leftovers(vault.directory) == []


def test_a_refresh_replaces_token_json_atomically(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """A refresh writes a new file (new inode) in place of the old, 0600, no temp files left."""
    store = TokenStore(vault.directory)
    before, inode = store.load(), store.path.stat().st_ino
    tokens = TokenManager(Account.load(vault.directory), store, transport=transport)
    fresh = asyncio.run(tokens.refresh())
    after = store.load()
    assert fresh == after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]  # not rotated, so kept
    assert store.path.stat().st_ino != inode
    assert mode(store.path) == 0o600
    assert leftovers(vault.directory) == []


def test_secure_write_failure_keeps_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the final rename fails, the previous content survives and the temp file is gone."""
    target = tmp_path / "token.json"
    auth.secure_write(target, b"old")

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        auth.secure_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token.json"]


# --- the authorization request ------------------------------------------------------------


def test_authorization_url_carries_pkce_state_offline_and_scopes(
    tmp_path: Path, transport: httpx2.ASGITransport
) -> None:
    """The URL has S256 PKCE, state, offline access, a loopback redirect and the scopes, and
    the verifier sent to the token endpoint matches the challenge but never appears in it."""
    shown: list[str] = []
    recorder = Recorder(transport)
    acct = account()
    asyncio.run(
        authorize(
            acct,
            tmp_path,
            open_url=browser_via(transport),
            show_url=shown.append,
            transport=recorder,
        )
    )
    [url] = shown
    q = query(url)
    assert url.startswith(f"{SERVER}/o/oauth2/v2/auth?")
    assert q["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"])
    assert len(q["state"]) >= 16
    assert q["access_type"] == "offline"
    assert q["response_type"] == "code"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", q["redirect_uri"])
    assert set(q["scope"].split()) == set(acct.scopes)
    [form] = recorder.token_forms
    assert form["code_verifier"] not in url
    assert s256(form["code_verifier"]) == q["code_challenge"]


def forged_state_browser(transport: httpx2.AsyncBaseTransport):  # type: ignore[no-untyped-def]
    """A browser that gets the simulator's redirect but delivers it with another `state`."""

    async def open_url(url: str) -> None:
        async with httpx2.AsyncClient(transport=transport) as client:
            answer = await client.get(url)
        async with httpx2.AsyncClient() as real:
            back = await real.get(with_query(answer.headers["location"], state="forged"))
        assert back.status_code == 400

    return open_url


def denying_browser(transport: httpx2.AsyncBaseTransport):  # type: ignore[no-untyped-def]
    """A browser that presses Cancel on the simulator's consent page."""

    async def open_url(url: str) -> None:
        fields = {k: v for k, v in query(url).items() if k != "scope"}
        async with httpx2.AsyncClient(transport=transport, base_url=SERVER) as client:
            page = await client.get(url)
            assert "Allow" in page.text
            answer = await client.post(
                "/o/oauth2/v2/auth/approve", data=fields | {"action": "deny"}
            )
        assert query(answer.headers["location"])["error"] == "access_denied"
        async with httpx2.AsyncClient() as real:
            await real.get(answer.headers["location"])

    return open_url


@pytest.mark.parametrize(
    ("browser", "timeout", "message"),
    [
        ("forged", 30.0, "wrong `state`"),
        ("deny", 30.0, "access_denied"),
        (None, 1.0, "No answer from the browser within 1 s"),
    ],
)
def test_a_failed_flow_raises_and_writes_no_token(
    tmp_path: Path,
    world: World,
    clock: FakeClock,
    browser: str | None,
    timeout: float,
    message: str,
) -> None:
    """A forged state, a denied consent or no callback before the timeout is AuthFlowError,
    and nothing is stored."""
    sim = create_app(world, clock=clock, auto_approve=browser == "forged")
    transport = httpx2.ASGITransport(app=sim.app)
    opener = {"forged": forged_state_browser, "deny": denying_browser}.get(browser or "")
    with pytest.raises(AuthFlowError, match=re.escape(message)):
        asyncio.run(
            authorize(
                account(),
                tmp_path,
                open_url=opener(transport) if opener else None,
                timeout=timeout,
                transport=transport,
            )
        )
    assert not (tmp_path / "token.json").exists()
    assert not (tmp_path / "account.json").exists()


def test_the_receiver_takes_one_callback_and_404s_other_paths() -> None:
    """Other paths get 404 without ending the flow; the first callback ends it; afterwards the
    port refuses connections."""
    receiver = LoopbackReceiver("s")
    with receiver.running(), httpx2.Client(base_url=receiver.redirect_uri, timeout=5) as client:
        assert client.get("/favicon.ico").status_code == 404
        assert client.get("/").status_code == 404  # neither code nor error
        assert receiver.result is None
        assert client.get("/", params={"code": "c1", "state": "s"}).status_code == 200
        assert asyncio.run(receiver.wait(1)) == {"code": "c1", "state": "s"}
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(receiver.redirect_uri, params={"code": "c2", "state": "s"}, timeout=5)
    assert receiver.result == {"code": "c1", "state": "s"}


def test_the_simulator_refuses_a_wrong_pkce_verifier(transport: httpx2.ASGITransport) -> None:
    """The token endpoint answers invalid_grant to a verifier that does not match the challenge,
    and issues tokens for the right one."""
    verifier = "v" * 50
    redirect = "http://127.0.0.1:9/"
    params = {
        "client_id": "fitvault-cli",
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": " ".join(account().scopes),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        "state": "st",
    }

    async def exchange(sent_verifier: str) -> httpx2.Response:
        async with httpx2.AsyncClient(transport=transport, base_url=SERVER) as client:
            answer = await client.get("/o/oauth2/v2/auth", params=params)
            assert answer.status_code == 302
            code = query(answer.headers["location"])["code"]
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": "fitvault-cli",
                "code_verifier": sent_verifier,
            }
            return await client.post("/token", data=form)

    wrong = asyncio.run(exchange("w" * 50))
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    right = asyncio.run(exchange(verifier))
    assert right.status_code == 200
    assert "refresh_token" in right.json()


# --- expiry -------------------------------------------------------------------------------


def test_an_expired_refresh_token_says_why_and_no_token_is_ever_printed(
    tmp_path: Path,
    transport: httpx2.ASGITransport,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Eight days after sign-in (Testing mode: 7) a sync raises RefreshTokenExpired explaining
    what to do, and neither token shows up in output or DEBUG logs along the way."""
    caplog.set_level(logging.DEBUG)
    v = Vault(tmp_path / "vault")
    sign_in(v, transport)
    store = TokenStore(v.directory)
    token = store.load()
    assert token is not None
    store.save(token | {"expires_at": 0})
    clock.advance(8 * 86_400)
    with pytest.raises(RefreshTokenExpired) as info:
        sync(v, transport)
    text = str(info.value)
    for phrase in ("7 days", "Testing", "fitvault auth"):
        assert phrase in text
    captured = capsys.readouterr()
    seen = captured.out + captured.err + caplog.text + text
    assert caplog.records  # DEBUG logging was really on
    for secret in (token["access_token"], token["refresh_token"]):
        assert secret not in seen


# --- client secrets -----------------------------------------------------------------------


def test_client_secrets_of_an_installed_app_give_googles_endpoints(tmp_path: Path) -> None:
    """A Desktop-app client JSON yields its id and secret with Google's v2 endpoints."""
    path = tmp_path / "client_secret.json"
    installed = {
        "client_id": "123-abc.apps.googleusercontent.com",
        "project_id": "fitvault-test",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "client_secret": "GOCSPX-not-a-real-secret",
        "redirect_uris": ["http://localhost"],
    }
    path.write_text(json.dumps({"installed": installed}))
    acct = Account.from_client_secrets(path, ["scope-a", "scope-b"])
    assert acct.client_id == installed["client_id"]
    assert acct.client_secret == installed["client_secret"]
    assert acct.authorize_url == auth.GOOGLE_AUTHORIZE
    assert acct.token_url == auth.GOOGLE_TOKEN
    assert acct.api_base == auth.GOOGLE_API
    assert acct.scopes == ("scope-a", "scope-b")


@pytest.mark.parametrize(
    "content",
    [None, "not json", "[]", '{"installed": {}}', '{"other": {"client_id": "x"}}', '{"web": 3}'],
)
def test_a_malformed_client_secrets_file_is_a_config_error_naming_it(
    tmp_path: Path, content: str | None
) -> None:
    """A missing file or anything but an installed/web client JSON is a ConfigError naming
    the file."""
    path = tmp_path / "client_secret.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        Account.from_client_secrets(path, ["s"])


@pytest.mark.parametrize("body", ["[1, 2]", '"a string"', '{"refresh_token": "r"}', "null"])
def test_a_token_file_of_the_wrong_shape_is_an_auth_error(tmp_path: Path, body: str) -> None:
    """Valid JSON that is not a token object raises AuthError saying to run `fitvault auth`,
    not an AttributeError deep in the refresh code."""
    (tmp_path / auth.TOKEN_FILE).write_text(body)
    with pytest.raises(auth.AuthError, match="run `fitvault auth` again"):
        TokenStore(tmp_path).load()


def test_the_receiver_listens_on_the_redirect_port_asked_for() -> None:
    """LoopbackReceiver(port=N) redirects to 127.0.0.1:N (so `ssh -L N:127.0.0.1:N` works)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = LoopbackReceiver("s", port)
    with receiver.running(), httpx2.Client(timeout=5) as client:
        assert receiver.redirect_uri == f"http://127.0.0.1:{port}/"
        assert client.get(receiver.redirect_uri, params={"code": "c", "state": "s"}).is_success


def test_a_redirect_port_in_use_is_a_config_error_naming_it() -> None:
    """A taken --redirect-port is a ConfigError (exit 2) naming the port, not an auth failure."""
    busy = LoopbackReceiver("s")
    port = int(busy.redirect_uri.rsplit(":", 1)[1].strip("/"))
    with busy.running(), pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
        LoopbackReceiver("s", port)


def test_authorize_checks_the_vault_is_writable_before_showing_the_url(tmp_path: Path) -> None:
    """An unusable vault directory fails before show_url or open_url is ever called."""
    shown: list[str] = []
    (tmp_path / "file").write_text("")
    coro = authorize(account(), tmp_path / "file" / "vault", open_url=None, show_url=shown.append)
    with pytest.raises(ConfigError, match="cannot write to the vault directory"):
        asyncio.run(coro)
    assert shown == []


@pytest.mark.parametrize(
    "url", ["not-a-url", "ftp://h", "http://", "http://h:port", "127.0.0.1:80"]
)
def test_a_server_url_without_http_scheme_and_host_is_a_config_error(url: str) -> None:
    """Account.for_server refuses anything but an http(s) URL with a host."""
    with pytest.raises(ConfigError, match="--server"):
        Account.for_server(url, ["s"])


@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.5:8080", "http://[fe80::1]"])
def test_plain_http_to_another_machine_is_refused_for_both_apis(url: str) -> None:
    """Tokens and health data never travel unencrypted: http:// only to this machine."""
    with pytest.raises(ConfigError, match="unencrypted; use https://"):
        Account.for_server(url, ["s"])
    with pytest.raises(ConfigError, match="unencrypted; use https://"):
        LegacyAccount.for_server(url, "app", "secret")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.0.0.53",
        "http://[::1]:9",
        "http://localhost:8080",
        "http://sim.localhost",
        "https://example.com",
    ],
)
def test_plain_http_on_loopback_and_https_anywhere_are_accepted(url: str) -> None:
    assert Account.for_server(url, ["s"]).api_base.startswith(url)
    assert LegacyAccount.for_server(url, "app", "secret").api_base.startswith(url)
