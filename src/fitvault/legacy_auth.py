"""OAuth 2.0 for the legacy Fitbit Web API (fitbit.com): authorization code + PKCE on a loopback
redirect, ``client_id``/``client_secret`` by HTTP Basic at the token endpoint (spec A2).

Fitbit rotates the refresh token on every use: the old one answers ``invalid_grant`` from then
on. So a refresh is the one moment tokens can be lost, and it runs under two rules:

* the new pair is written to ``legacy_token.json`` (0600, temp file + fsync + rename) before
  the access token is handed to anyone;
* only one refresh runs at a time across processes: the vault's token lock (``fitvault._lock``,
  shared with the Google Health sign-in), and under it the token file is read again — if
  another process rotated the pair meanwhile, its pair is used and nothing is sent.

The files sit beside the Google Health ones (``account.json`` / ``token.json``) and never mix with
them. Tokens appear in no message and no log line.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from fitvault._errors import AuthError, AuthFlowError, ConfigError, RefreshTokenExpired
from fitvault._tokens import RefreshingTokens, TokenFile, load_account, secure_write, stamp
from fitvault.auth import (
    LoopbackReceiver,
    Opener,
    browser_opener,
    check_server_url,
    check_writable,
)

log = logging.getLogger(__name__)

SOURCE_NAME = "fitbit-legacy"
ACCOUNT_FILE = "legacy_account.json"
TOKEN_FILE = "legacy_token.json"  # noqa: S105 (a file name)
FITBIT_API = "https://api.fitbit.com"
FITBIT_AUTHORIZE = "https://www.fitbit.com/oauth2/authorize"
FITBIT_TOKEN = "https://api.fitbit.com/oauth2/token"  # noqa: S105 (a URL)
# A simulator accepts any client; these name fitvault in its logs.
LOCAL_CLIENT_ID = "fitvault-legacy"
LOCAL_CLIENT_SECRET = "fitvault-simulator"  # noqa: S105 (not a secret: simulator only)
SCOPES = (
    "activity",
    "heartrate",
    "sleep",
    "profile",
    "settings",
    "weight",
    "oxygen_saturation",
    "respiratory_rate",
    "temperature",
    "cardio_fitness",
)
REAUTH = "run `fitvault auth --source fitbit-legacy` to sign in again"


@dataclass(frozen=True)
class LegacyAccount:
    """Which server and which registered Fitbit app (client id and secret) to use."""

    api_base: str
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)  # repr() ends up in logs and tracebacks
    scopes: tuple[str, ...] = SCOPES

    @classmethod
    def for_server(
        cls, url: str, client_id: str | None = None, client_secret: str | None = None
    ) -> LegacyAccount:
        """A server that mirrors fitbit.com's paths on one host (the simulator does)."""
        base = check_server_url(url).rstrip("/")
        return cls(
            api_base=base,
            authorize_url=f"{base}/oauth2/authorize",
            token_url=f"{base}/oauth2/token",
            client_id=client_id or LOCAL_CLIENT_ID,
            client_secret=client_secret or LOCAL_CLIENT_SECRET,
        )

    @classmethod
    def fitbit(cls, client_id: str | None, client_secret: str | None) -> LegacyAccount:
        if not client_id or not client_secret:
            raise ConfigError(
                "The legacy Fitbit API needs your app's credentials: pass --client-id and "
                "--client-secret (dev.fitbit.com → Manage → Register an app, OAuth 2.0 "
                "application type 'Personal', callback URL http://127.0.0.1), or --server URL "
                "for a server that mirrors the API."
            )
        return cls(FITBIT_API, FITBIT_AUTHORIZE, FITBIT_TOKEN, client_id, client_secret)

    def save(self, directory: Path) -> None:
        secure_write(Path(directory) / ACCOUNT_FILE, json.dumps(asdict(self), indent=2).encode())

    @classmethod
    def load(cls, directory: Path) -> LegacyAccount:
        missing = (
            f"Not signed in to the legacy Fitbit API in {directory}: run "
            "`fitvault auth --source fitbit-legacy` first."
        )
        return load_account(cls, Path(directory) / ACCOUNT_FILE, missing, REAUTH)

    def basic_auth(self) -> str:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def account_for(
    server: str | None, client_id: str | None, client_secret: str | None
) -> LegacyAccount:
    """fitbit.com with the app's credentials, or a server mirroring it."""
    if server:
        return LegacyAccount.for_server(server, client_id, client_secret)
    return LegacyAccount.fitbit(client_id, client_secret)


def legacy_error(body: bytes) -> tuple[str, str]:
    """(errorType, message) from a Fitbit ``{"errors": [...]}`` body or an RFC 6749 body."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("errorType", "")), str(errors[0].get("message", ""))
    return str(data.get("error", "")), str(data.get("error_description", ""))


async def _token_request(
    account: LegacyAccount,
    form: dict[str, str],
    transport: httpx2.AsyncBaseTransport | None,
) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=transport, timeout=60.0) as client:
        return await client.post(
            account.token_url,
            data=form,
            headers={"Authorization": account.basic_auth(), "Accept": "application/json"},
        )


class LegacyTokenStore(TokenFile):
    """``legacy_token.json`` in the vault directory."""

    FILE = TOKEN_FILE
    REAUTH = REAUTH


class LegacyTokens(RefreshingTokens[LegacyAccount]):
    """Legacy tokens: the refresh answers a new pair, and the old refresh token is dead from then
    on — so the pair is saved (by the base class) before the access token is handed out."""

    NOT_SIGNED_IN = (
        "Not signed in to the legacy Fitbit API (no {path}); run "
        "`fitvault auth --source fitbit-legacy` first."
    )

    async def _request_refresh(self, refresh_token: str) -> dict[str, Any]:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        try:
            resp = await _token_request(self.account, form, self._transport)
        except httpx2.HTTPError as exc:
            raise AuthError(f"Could not reach {self.account.token_url}: {exc}") from None
        if resp.status_code != 200:
            raise _refresh_failure(resp)
        fresh: dict[str, Any] = resp.json()
        return fresh


def _refresh_failure(resp: httpx2.Response) -> AuthError:
    kind, _ = legacy_error(resp.content)
    if kind in ("invalid_grant", "invalid_token"):
        return RefreshTokenExpired(
            f"The Fitbit token endpoint refused the stored refresh token ({kind}): it was "
            f"revoked, or used by another copy of this vault. {REAUTH[0].upper()}{REAUTH[1:]}."
        )
    return AuthError(
        f"Refreshing the legacy access token failed (HTTP {resp.status_code} {kind}); {REAUTH}."
    )


def authorization_url(account: LegacyAccount, redirect_uri: str, state: str, verifier: str) -> str:
    query = {
        "response_type": "code",
        "client_id": account.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(account.scopes),
        "state": state,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
        "prompt": "consent",
    }
    return f"{account.authorize_url}?{urlencode(query)}"


async def authorize(
    account: LegacyAccount,
    directory: Path,
    *,
    open_url: Opener | None = browser_opener,
    show_url: Callable[[str], None] | None = None,
    timeout: float = 300.0,
    transport: httpx2.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    redirect_port: int = 0,
) -> dict[str, Any]:
    """Run the fitbit.com authorization-code + PKCE flow and keep the tokens; returns them."""
    check_writable(directory)
    verifier = secrets.token_urlsafe(64)[:96]  # 43..128 characters (RFC 7636)
    state = secrets.token_urlsafe(24)
    receiver = LoopbackReceiver(state, redirect_port)
    with receiver.running():
        url = authorization_url(account, receiver.redirect_uri, state, verifier)
        if show_url:
            show_url(url)
        if open_url:
            opened = open_url(url)
            if opened is not None:
                await opened
        answer = await receiver.wait(timeout)
        _check_answer(answer, state)
        form = {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": receiver.redirect_uri,
            "code_verifier": verifier,
            "client_id": account.client_id,
        }
        try:
            resp = await _token_request(account, form, transport)
        except httpx2.HTTPError as exc:
            raise AuthFlowError(f"Could not reach {account.token_url}: {exc}") from None
    if resp.status_code != 200:
        kind, message = legacy_error(resp.content)
        raise AuthFlowError(
            f"The Fitbit token endpoint refused the code (HTTP {resp.status_code} {kind}: "
            f"{message}); check --client-id/--client-secret and {REAUTH}."
        )
    token = stamp(resp.json(), clock())
    account.save(directory)
    LegacyTokenStore(directory).save(token)
    return token


def _check_answer(answer: dict[str, str], state: str) -> None:
    if answer.get("state") != state:
        raise AuthFlowError(
            "The sign-in callback carried the wrong `state`, so it was refused (it did not come "
            f"from the sign-in this command started); {REAUTH}."
        )
    if "error" in answer:
        raise AuthFlowError(f"Sign-in was not completed ({answer['error']}); {REAUTH}.")
