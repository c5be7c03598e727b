"""OAuth 2.0 for installed apps: authorization code + PKCE (S256) with a loopback redirect
(RFC 8252), and the token store that keeps credentials in the vault directory.

Secrets never leave two files, both mode 0600 and replaced atomically: ``account.json`` (which
server and OAuth client) and ``token.json`` (access and refresh tokens). Neither is printed or
logged. Google's endpoints and token lifetimes: spec §5.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import ipaddress
import json
import logging
import secrets
import threading
import time
import webbrowser
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import stamina
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from fitvault._errors import AuthError, AuthFlowError, ConfigError, RefreshTokenExpired
from fitvault._fs import probe_writable
from fitvault._tokens import RefreshingTokens, TokenFile, load_account, secure_write, stamp

log = logging.getLogger(__name__)

ACCOUNT_FILE = "account.json"
TOKEN_FILE = "token.json"  # noqa: S105 (a file name)
GOOGLE_API = "https://health.googleapis.com"
GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
GOOGLE_REVOKE = "https://oauth2.googleapis.com/revoke"
LOCAL_CLIENT_ID = "fitvault-cli"
REFRESH_ATTEMPTS = 6  # a token endpoint that is briefly down is tried again, as the API is
REFRESH_GIVE_UP_S = 120.0

TESTING_MODE_HELP = (
    "Google expires refresh tokens after 7 days when the OAuth consent screen of your Google "
    "Cloud project is in 'Testing' publishing status (the usual set-up for personal use). "
    "Run `fitvault auth` again to sign in; to stop this weekly expiry, publish the app "
    "('In production') in Google Auth Platform → Audience."
)


@dataclass(frozen=True)
class Account:
    """Which API to talk to and which OAuth client to use for it."""

    api_base: str
    authorize_url: str
    token_url: str
    revoke_url: str
    client_id: str
    client_secret: str | None = field(repr=False)  # repr() ends up in logs and tracebacks
    scopes: tuple[str, ...]

    @classmethod
    def for_server(cls, url: str, scopes: list[str]) -> Account:
        """Any server that speaks the API and Google's OAuth paths (the simulator does)."""
        base = check_server_url(url).rstrip("/")
        return cls(
            api_base=base,
            authorize_url=f"{base}/o/oauth2/v2/auth",
            token_url=f"{base}/token",
            revoke_url=f"{base}/revoke",
            client_id=LOCAL_CLIENT_ID,
            client_secret=None,
            scopes=tuple(scopes),
        )

    @classmethod
    def from_client_secrets(cls, path: Path, scopes: list[str]) -> Account:
        """Google's endpoints and a Desktop-app client from the JSON Cloud Console offers."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            client = data.get("installed") or data.get("web")
            client_id, client_secret = client["client_id"], client.get("client_secret")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"{path}: not a Google OAuth client file ({exc}). In Google Cloud Console → "
                "Google Auth Platform → Clients, create a 'Desktop app' client and download "
                "its JSON."
            ) from exc
        return cls(
            api_base=GOOGLE_API,
            authorize_url=client.get("auth_uri", GOOGLE_AUTHORIZE).replace(
                "https://accounts.google.com/o/oauth2/auth", GOOGLE_AUTHORIZE
            ),
            token_url=client.get("token_uri", GOOGLE_TOKEN),
            revoke_url=GOOGLE_REVOKE,
            client_id=client_id,
            client_secret=client_secret,
            scopes=tuple(scopes),
        )

    def save(self, directory: Path) -> None:
        secure_write(directory / ACCOUNT_FILE, json.dumps(asdict(self), indent=2).encode())

    @classmethod
    def load(cls, directory: Path) -> Account:
        missing = (
            f"No account in {directory}: run `fitvault auth` first "
            "(or `fitvault auth --server URL` for a local simulator)."
        )
        return load_account(cls, directory / ACCOUNT_FILE, missing, "run `fitvault auth` again")


def check_server_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host; a ConfigError saying what is wrong if not."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise ConfigError(f"--server {url!r} is not a usable URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--server {url!r} is not an http(s) URL with a host; "
            "use e.g. http://127.0.0.1:8080 (what `fitvault simulate` prints)"
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ConfigError(
            f"--server {url!r} would carry the tokens and the health data unencrypted; use "
            "https:// (plain http:// is for a server on this machine: 127.0.0.1, ::1, localhost)"
        )
    return url


def _loopback(host: str) -> bool:
    """``host`` names this machine: a loopback address, ``localhost`` or a name under it."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def account_for(
    scopes: list[str], *, server: str | None = None, client_secrets: Path | None = None
) -> Account:
    """The account for a ``--server`` URL or a Google client-secrets file."""
    if server:
        return Account.for_server(server, scopes)
    if client_secrets:
        return Account.from_client_secrets(Path(client_secrets), scopes)
    raise ConfigError(
        "Signing in to Google needs an OAuth client: pass --client-secrets "
        "client_secret.json (a 'Desktop app' client from Google Cloud Console), or "
        "--server URL for a local simulator."
    )


def check_writable(directory: Path) -> None:
    """Create ``directory`` if needed and prove a file can be written there (ConfigError if not),
    so that a sign-in is never completed only to find nowhere to keep the tokens."""
    directory = Path(directory)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # it will hold the tokens
        probe_writable(directory)
    except OSError as exc:
        raise ConfigError(
            f"cannot write to the vault directory {directory} ({exc.strerror or exc}); "
            "pick another --vault or fix its permissions"
        ) from None


class TokenStore(TokenFile):
    """``token.json`` in the vault directory."""

    FILE = TOKEN_FILE
    REAUTH = "run `fitvault auth` again"


class TokenManager(RefreshingTokens[Account]):
    """Google Health tokens: a refresh is retried while the token endpoint is briefly down."""

    NOT_SIGNED_IN = "Not signed in (no {path}); run `fitvault auth` first."

    async def _request_refresh(self, refresh_token: str) -> dict[str, Any]:
        try:
            return await self._refresh_with_retries(refresh_token)
        except OAuthError as exc:
            raise _refresh_failure(exc, self._token, self._clock()) from None
        except httpx2.HTTPError as exc:
            raise AuthError(f"Could not reach {self.account.token_url}: {exc}") from exc

    async def _refresh_with_retries(self, refresh_token: str) -> dict[str, Any]:
        """A token endpoint that is down for a moment (5xx, 429, a dropped connection) is tried
        again with backoff, like the API itself; a refusal (``OAuthError``) is final."""
        async for attempt in stamina.retry_context(
            on=_token_endpoint_hiccup, attempts=REFRESH_ATTEMPTS, timeout=REFRESH_GIVE_UP_S
        ):
            with attempt:
                async with _oauth_client(self.account, self._transport) as client:
                    fresh = await client.refresh_token(
                        self.account.token_url, refresh_token=refresh_token
                    )
                    return dict(fresh)
        raise AssertionError("unreachable")  # pragma: no cover


def _token_endpoint_hiccup(exc: Exception) -> bool:
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, httpx2.TransportError)


def _refresh_failure(exc: OAuthError, token: dict[str, Any], now: float) -> AuthError:
    if exc.error != "invalid_grant":
        return AuthError(f"Refreshing the access token failed ({exc.error}); run `fitvault auth`.")
    expired_at = token.get("refresh_token_expires_at")
    when = ""
    if expired_at and float(expired_at) <= now:
        when = time.strftime(" on %Y-%m-%d %H:%M UTC", time.gmtime(float(expired_at)))
    return RefreshTokenExpired(
        f"The refresh token was rejected (invalid_grant): it expired{when} or was revoked. "
        + TESTING_MODE_HELP
    )


def _oauth_client(
    account: Account, transport: httpx2.AsyncBaseTransport | None, **kw: Any
) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=account.client_id,
        client_secret=account.client_secret,
        token_endpoint_auth_method="client_secret_post" if account.client_secret else "none",
        scope=" ".join(account.scopes),
        transport=transport,
        timeout=60.0,
        **kw,
    )


# --- the browser flow ---------------------------------------------------------------------

_DONE_PAGE = (
    b"<!DOCTYPE html><html><head><meta charset=utf-8><title>fitvault</title></head><body>"
    b"<h1>fitvault is signed in.</h1><p>You can close this tab and return to the terminal.</p>"
    b"</body></html>"
)


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 that takes exactly one authorization callback."""

    def __init__(self, state: str, port: int = 0) -> None:
        self.state = state
        self.result: dict[str, str] | None = None
        self._done = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # keep codes out of logs
                return

        try:
            self._server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen for the sign-in redirect on 127.0.0.1:{port} "
                f"({exc.strerror or exc}); pick another --redirect-port, or 0 for any free port"
            ) from None
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path != "/" or self._done.is_set() or not ({"code", "error"} & query.keys()):
            handler.send_error(404)
            return
        self.result = query
        self._done.set()
        ok = query.get("state") == self.state and "code" in query
        handler.send_response(200 if ok else 400)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        handler.wfile.write(_DONE_PAGE if ok else b"<h1>Sign-in failed; see the terminal.</h1>")

    def _serve(self) -> None:
        while not self._done.is_set():
            self._server.handle_request()

    @contextlib.contextmanager
    def running(self) -> Iterator[LoopbackReceiver]:
        self._server.timeout = 0.2
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._done.set()
            thread.join(5)
            self._server.server_close()

    async def wait(self, timeout: float) -> dict[str, str]:
        """The callback's query parameters; polls so that Ctrl-C cancels at once."""
        deadline = time.monotonic() + timeout
        while not self._done.is_set():
            if time.monotonic() >= deadline:
                raise AuthFlowError(
                    f"No answer from the browser within {describe_wait(timeout)}; "
                    "run `fitvault auth` again."
                )
            await asyncio.sleep(0.05)
        assert self.result is not None
        return self.result


def describe_wait(seconds: float) -> str:
    """``300`` → ``5 min``; ``45`` → ``45 s``."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


Opener = Callable[[str], Awaitable[None] | None]


def browser_opener(url: str) -> None:
    webbrowser.open(url, new=1, autoraise=True)


async def authorize(
    account: Account,
    directory: Path,
    *,
    open_url: Opener | None = browser_opener,
    show_url: Callable[[str], None] | None = None,
    timeout: float = 300.0,
    transport: httpx2.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    redirect_port: int = 0,
) -> dict[str, Any]:
    """Run the authorization-code + PKCE flow and store the tokens; returns the token dict.

    ``show_url`` receives the authorization URL (to print for ``--no-browser``); ``open_url``
    opens it (a browser by default; the demo passes one that presses Allow itself).
    ``redirect_port`` fixes the loopback port (0: any free one), e.g. to forward it over SSH.
    The vault directory is checked for writability before anyone is sent to sign in.
    """
    check_writable(directory)
    verifier = generate_token(64)
    state = secrets.token_urlsafe(24)
    receiver = LoopbackReceiver(state, redirect_port)
    with receiver.running():
        async with _oauth_client(
            account, transport, redirect_uri=receiver.redirect_uri, code_challenge_method="S256"
        ) as client:
            url, _ = client.create_authorization_url(
                account.authorize_url,
                state=state,
                code_verifier=verifier,
                access_type="offline",
                prompt="consent",
                include_granted_scopes="true",
            )
            if show_url:
                show_url(url)
            if open_url:
                opened = open_url(url)
                if opened is not None:
                    await opened
            answer = await receiver.wait(timeout)
            _check_answer(answer, state)
            try:
                token = await client.fetch_token(
                    account.token_url,
                    code=answer["code"],
                    code_verifier=verifier,
                    redirect_uri=receiver.redirect_uri,
                )
            except OAuthError as exc:
                raise AuthFlowError(f"The token endpoint refused the code: {exc.error}") from None
            except httpx2.HTTPError as exc:
                raise AuthFlowError(f"Could not reach {account.token_url}: {exc}") from exc
    stamped = stamp(dict(token), clock())
    account.save(directory)
    TokenStore(directory).save(stamped)
    return stamped


def _check_answer(answer: dict[str, str], state: str) -> None:
    if answer.get("state") != state:
        raise AuthFlowError(
            "The sign-in callback carried the wrong `state`, so it was refused (it did not come "
            "from the sign-in this command started). Run `fitvault auth` again."
        )
    if "error" in answer:
        raise AuthFlowError(
            f"Sign-in was not completed ({answer['error']}). Run `fitvault auth` again and press "
            "Allow."
        )
