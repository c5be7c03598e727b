"""The legacy Fitbit OAuth 2.0 endpoints: ``/oauth2/authorize`` (consent page, code + PKCE S256,
state), ``/oauth2/token`` (HTTP Basic client auth or a PKCE client id in the body),
``/oauth2/revoke`` and ``/1.1/oauth2/introspect``.

Access tokens live 8 hours; **refresh tokens rotate on every use**: a refresh answers a new pair
and the old refresh token then answers ``invalid_grant``. Errors use Fitbit's ``errors[]`` body.
Tokens are HMAC-signed JWT-shaped strings carrying client, user, scopes and expiry, so a
restarted simulator with the same seed still accepts the access tokens it issued (used refresh
tokens are remembered in memory only). Facts: spec A2, A4; sample ``AccessToken.json``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from fitvault.simulator.legacy_wire import Switches, error, gone
from fitvault.simulator.responses import json_response

ACCESS_TTL = 28_800  # 8 h for the authorization-code flow (spec A2 §3)
CODE_TTL = 600
SCOPES = (
    "activity", "cardio_fitness", "electrocardiogram", "heartrate",
    "irregular_rhythm_notifications", "location", "nutrition", "oxygen_saturation", "profile",
    "respiratory_rate", "settings", "sleep", "social", "temperature", "weight",
)  # fmt: skip
_DOCS = "Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API "
_DOCS += "authorization process."


@dataclass(frozen=True)
class LegacyGrant:
    client_id: str
    user: str
    scopes: frozenset[str]
    expires: float
    kind: str  # "access_token" | "refresh_token"
    jti: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: frozenset[str]
    expires: float


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class LegacyOAuth:
    """Issues and checks the legacy face's tokens for the one simulated user."""

    user_id: str  # the 6-character encoded id, e.g. "7QW2KD"
    key: bytes
    clock: Callable[[], float] = time.time
    auto_approve: bool = False
    switches: Switches = field(default_factory=lambda: Switches())
    codes: dict[str, _Code] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)  # jti of revoked and used refresh tokens

    # --- tokens ---------------------------------------------------------------------------

    def mint(self, kind: str, client_id: str, scopes: frozenset[str], ttl: float) -> str:
        now = self.clock()
        claims = {
            "aud": client_id,
            "sub": self.user_id,
            "iss": "Fitbit",
            "typ": kind,
            "scopes": " ".join(sorted(scopes)),
            "exp": round(now + ttl, 3),
            "iat": round(now, 3),
            "jti": secrets.token_hex(8),
        }
        head = _b64(b'{"alg":"HS256"}') + "." + _b64(msgspec.json.encode(claims))
        return head + "." + _b64(hmac.new(self.key, head.encode(), hashlib.sha256).digest())

    def read(self, token: str, kind: str) -> LegacyGrant | None:
        """The grant a genuine token of ``kind`` carries (expired or not), else None."""
        try:
            head, payload, sig = token.split(".")
            expected = hmac.new(self.key, f"{head}.{payload}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(sig)):
                return None
            claims = msgspec.json.decode(_unb64(payload))
        except (ValueError, binascii.Error, msgspec.DecodeError):
            return None
        if claims.get("typ") != kind or claims.get("sub") != self.user_id:
            return None
        return LegacyGrant(
            client_id=claims["aud"],
            user=claims["sub"],
            scopes=frozenset(claims["scopes"].split()),
            expires=claims["exp"],
            kind=kind,
            jti=claims["jti"],
        )

    def check_access(self, token: str) -> LegacyGrant | Response:
        """The grant of a valid access token, or the 401 the API answers."""
        grant = self.read(token, "access_token")
        if grant is None or grant.jti in self.revoked:
            return error(401, "invalid_token", f"Access token invalid: {token}")
        if grant.expires <= self.clock():
            return error(401, "expired_token", f"Access token expired: {token}")
        return grant

    def _pair(self, client_id: str, scopes: frozenset[str]) -> dict[str, Any]:
        return {
            "access_token": self.mint("access_token", client_id, scopes, ACCESS_TTL),
            "expires_in": ACCESS_TTL,
            "refresh_token": self.mint("refresh_token", client_id, scopes, 10 * 365 * 86_400),
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
            "user_id": self.user_id,
        }

    # --- endpoints ------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/oauth2/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/oauth2/token", self.token, methods=["POST"]),
            Route("/oauth2/revoke", self.revoke, methods=["POST"]),
            Route("/1.1/oauth2/introspect", self.introspect, methods=["POST"]),
        ]

    async def authorize(self, request: Request) -> Response:
        """GET shows the consent page (or redirects at once with auto-approve); POST is its
        Allow / Deny form."""
        if self.switches.gone:
            return _gone_page()
        if request.method == "POST":
            return await self._consent_answer(request)
        q = dict(request.query_params)
        problem = _check_authorize(q)
        if problem:
            return HTMLResponse(_error_page(problem), status_code=400)
        if self.auto_approve:
            return self._redirect_with_code(q, frozenset(q["scope"].split()))
        return HTMLResponse(_consent_page(q))

    async def _consent_answer(self, request: Request) -> Response:
        form = await _form(request)
        q = {k: v[0] for k, v in form.items() if k not in ("scope", "action")}
        problem = _check_authorize(q | {"scope": "profile"})
        if problem:
            return HTMLResponse(_error_page(problem), status_code=400)
        if form.get("action") != ["allow"]:
            params = {"error": "access_denied", "state": q.get("state", "")}
            return RedirectResponse(_with_query(q["redirect_uri"], params), status_code=302)
        return self._redirect_with_code(q, frozenset(form.get("scope", [])))

    def _redirect_with_code(self, q: dict[str, str], scopes: frozenset[str]) -> Response:
        code = secrets.token_hex(20)
        self.codes[code] = _Code(
            client_id=q["client_id"],
            redirect_uri=q["redirect_uri"],
            challenge=q.get("code_challenge", ""),
            scopes=scopes,
            expires=self.clock() + CODE_TTL,
        )
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        # Fitbit appends "#_=_" to the redirect; clients must ignore the fragment.
        return RedirectResponse(_with_query(q["redirect_uri"], params) + "#_=_", status_code=302)

    async def token(self, request: Request) -> Response:
        if self.switches.gone:
            return gone()
        form = {k: v[0] for k, v in (await _form(request)).items()}
        basic = _basic_client(request.headers.get("authorization", ""))
        client_id = basic or form.get("client_id", "")
        if not client_id:
            return error(
                401,
                "invalid_client",
                "Authorization header required. " + _DOCS,
            )
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(form, client_id, confidential=basic is not None)
        if grant_type == "refresh_token":
            return self._refresh(form.get("refresh_token", ""), client_id)
        return error(
            400, "unsupported_grant_type", f"The grant_type value is invalid: {grant_type}. {_DOCS}"
        )

    def _exchange_code(self, form: dict[str, str], client_id: str, confidential: bool) -> Response:
        raw = form.get("code", "")
        code = self.codes.pop(raw, None)
        if code is None or code.expires <= self.clock() or code.client_id != client_id:
            return error(400, "invalid_grant", f"Authorization code invalid: {raw} {_DOCS}")
        if form.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
            return error(400, "invalid_request", "Invalid redirect_uri parameter value")
        verifier = form.get("code_verifier")
        if code.challenge or not confidential:
            derived = _b64(hashlib.sha256((verifier or "").encode()).digest())
            if not verifier or not hmac.compare_digest(derived, code.challenge):
                return error(400, "invalid_grant", f"Code verifier invalid: {verifier} {_DOCS}")
        return json_response(self._pair(client_id, code.scopes))

    def _refresh(self, token: str, client_id: str) -> Response:
        grant = self.read(token, "refresh_token")
        if grant is None or grant.jti in self.revoked or grant.client_id != client_id:
            return error(400, "invalid_grant", f"Refresh token invalid: {token}. {_DOCS}")
        self.revoked.add(grant.jti)  # rotation: this refresh token is spent
        return json_response(self._pair(client_id, grant.scopes))

    async def revoke(self, request: Request) -> Response:
        if self.switches.gone:
            return gone()
        token = (await _form(request)).get("token", [""])[0]
        grant = self.read(token, "access_token") or self.read(token, "refresh_token")
        if grant is not None:
            self.revoked.add(grant.jti)
        return json_response({})

    async def introspect(self, request: Request) -> Response:
        if self.switches.gone:
            return gone()
        header = request.headers.get("authorization", "")
        caller = self.check_access(header[7:] if header.lower().startswith("bearer ") else "")
        if not isinstance(caller, LegacyGrant):
            return caller
        token = (await _form(request)).get("token", [""])[0]
        grant = self.read(token, "access_token")
        if grant is None or grant.jti in self.revoked or grant.expires <= self.clock():
            return json_response({"active": False})
        return json_response(
            {
                "active": True,
                "scope": "{" + ", ".join(s.upper() + "=READ" for s in sorted(grant.scopes)) + "}",
                "client_id": grant.client_id,
                "user_id": grant.user,
                "token_type": "access_token",
                "exp": int(grant.expires * 1000),
            }
        )


def _gone_page() -> Response:
    return HTMLResponse("<h1>410 Gone</h1><p>The Fitbit Web API has been turned off.</p>", 410)


async def _form(request: Request) -> dict[str, list[str]]:
    return parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)


def _basic_client(header: str) -> str | None:
    """The client id of an ``Authorization: Basic base64(id:secret)`` header, else None."""
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, _secret = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, binascii.Error):
        return None
    return client_id or None


def _check_authorize(q: dict[str, str]) -> str | None:
    """Why an authorize request is refused (Fitbit shows it on the consent form), or None."""
    if not q.get("client_id"):
        return "invalid_request - Missing parameters: client_id"
    if q.get("response_type") != "code":
        return "unsupported_response_type - Only response_type=code is supported"
    uri = urlsplit(q.get("redirect_uri", ""))
    if uri.scheme != "http" or uri.hostname not in ("127.0.0.1", "localhost", "::1"):
        return "invalid_request - Invalid redirect_uri parameter value"
    scopes = q.get("scope", "").split()
    if not scopes:
        return "invalid_request - Missing parameters: scope"
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        return f"invalid_scope - Invalid scope: {', '.join(unknown)}"
    challenge = q.get("code_challenge")
    if challenge is not None:
        if not 43 <= len(challenge) <= 128:
            return (
                "invalid_request - The code_challenge parameter length must be between 43 and 128"
            )
        if q.get("code_challenge_method") != "S256":
            return "invalid_request - code_challenge_method must be S256"
    return None


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _error_page(problem: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>Fitbit</title></head><body>"
        f"<h1>The app you're trying to connect did not provide valid information to Fitbit.</h1>"
        f"<p>Developer information: {html.escape(problem)}</p></body></html>"
    )


def _consent_page(q: dict[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in q.items()
        if k != "scope"
    )
    boxes = "".join(
        f'<li><label><input type="checkbox" name="scope" value="{html.escape(s)}" checked> '
        f"{html.escape(s)}</label></li>"
        for s in sorted(set(q["scope"].split()))
    )
    return (
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>Fitbit Authorization</title>"
        "</head><body><h1>fitvault simulator would like the ability to access your Fitbit data"
        '</h1><form method="post" action="/oauth2/authorize">'
        f"{hidden}<ul>{boxes}</ul>"
        '<button type="submit" name="action" value="deny">Deny</button> '
        '<button type="submit" name="action" value="allow" id="allow-button">Allow</button>'
        "</form></body></html>"
    )
