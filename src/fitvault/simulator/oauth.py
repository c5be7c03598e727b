"""Google-style OAuth 2.0 endpoints: an authorize page with an Allow button, a token endpoint
(authorization_code with PKCE, refresh_token) and revocation.

Access and refresh tokens are HMAC-signed and self-describing, so a restarted simulator with the
same seed still accepts the tokens it issued; authorization codes are single-use and live in
memory for ten minutes. Facts: spec §5.1 (lifetimes, ``invalid_grant`` bodies).
"""

from __future__ import annotations

import base64
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

from fitvault.catalog import SCOPE_PREFIX
from fitvault.simulator.responses import json_response

ACCESS_TTL = 3599
TESTING_REFRESH_TTL = 604_799  # refresh tokens of apps in "Testing" publishing status
CODE_TTL = 600


@dataclass(frozen=True)
class Grant:
    user: str
    scopes: frozenset[str]
    expires: float
    kind: str  # "a" access | "r" refresh
    jti: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scopes: frozenset[str]
    expires: float


@dataclass
class OAuthServer:
    """Issues and checks tokens for the one simulated user."""

    user_id: str
    key: bytes
    clock: Callable[[], float] = time.time
    auto_approve: bool = False
    testing_mode: bool = True
    codes: dict[str, _Code] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)

    # --- tokens ---------------------------------------------------------------------------

    def _mint(self, kind: str, scopes: frozenset[str], ttl: float, jti: str | None = None) -> str:
        body = {
            "u": self.user_id,
            "s": sorted(s.removeprefix(SCOPE_PREFIX) for s in scopes),
            "e": round(self.clock() + ttl, 3),
            "k": kind,
            "j": jti or secrets.token_hex(8),
        }
        payload = base64.urlsafe_b64encode(msgspec.json.encode(body)).rstrip(b"=")
        sig = hmac.new(self.key, payload, hashlib.sha256).digest()
        return (
            "sim1." + payload.decode() + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
        )

    def verify(self, token: str, kind: str = "a") -> Grant | None:
        """The grant a token carries, or None if forged, expired, revoked or of another kind."""
        try:
            prefix, payload, sig = token.split(".")
            expected = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
            given = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
            if prefix != "sim1" or not hmac.compare_digest(expected, given):
                return None
            body = msgspec.json.decode(
                base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            )
        except (ValueError, msgspec.DecodeError):
            return None
        grant = Grant(
            user=body["u"],
            scopes=frozenset(SCOPE_PREFIX + s for s in body["s"]),
            expires=body["e"],
            kind=body["k"],
            jti=body["j"],
        )
        if grant.kind != kind or grant.expires <= self.clock() or grant.jti in self.revoked:
            return None
        return grant

    # --- endpoints ------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/o/oauth2/v2/auth", self.authorize, methods=["GET"]),
            Route("/o/oauth2/v2/auth/approve", self.approve, methods=["POST"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/revoke", self.revoke, methods=["POST"]),
        ]

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        problem = _check_authorize(dict(q))
        if problem:
            return HTMLResponse(f"<h1>Error 400: {html.escape(problem)}</h1>", status_code=400)
        scopes = frozenset(q["scope"].split())
        if self.auto_approve:
            return self._redirect_with_code(dict(q), scopes)
        return HTMLResponse(_consent_page(dict(q), sorted(scopes)))

    async def approve(self, request: Request) -> Response:
        form = await _form(request)
        fields = {k: v[0] for k, v in form.items() if k not in ("scope", "action")}
        problem = _check_authorize(fields | {"scope": "x"})
        if problem:
            return HTMLResponse(f"<h1>Error 400: {html.escape(problem)}</h1>", status_code=400)
        if form.get("action") != ["allow"]:
            params = {"error": "access_denied", "state": fields.get("state", "")}
            return RedirectResponse(_with_query(fields["redirect_uri"], params), status_code=302)
        scopes = frozenset(form.get("scope", []))
        return self._redirect_with_code(fields, scopes)

    def _redirect_with_code(self, q: dict[str, str], scopes: frozenset[str]) -> Response:
        code = "4/" + secrets.token_urlsafe(32)
        self.codes[code] = _Code(
            client_id=q["client_id"],
            redirect_uri=q["redirect_uri"],
            challenge=q.get("code_challenge", ""),
            method=q.get("code_challenge_method", "plain"),
            scopes=scopes,
            expires=self.clock() + CODE_TTL,
        )
        params = {"code": code, "scope": " ".join(sorted(scopes))}
        if "state" in q:
            params["state"] = q["state"]
        return RedirectResponse(_with_query(q["redirect_uri"], params), status_code=302)

    async def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in (await _form(request)).items()}
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        if grant_type == "refresh_token":
            grant = self.verify(form.get("refresh_token", ""), kind="r")
            if grant is None:
                return _oauth_error("invalid_grant", "Token has been expired or revoked.")
            return json_response(
                {
                    "access_token": self._mint("a", grant.scopes, ACCESS_TTL),
                    "expires_in": ACCESS_TTL,
                    "scope": " ".join(sorted(grant.scopes)),
                    "token_type": "Bearer",
                }
            )
        return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange_code(self, form: dict[str, str]) -> Response:
        code = self.codes.pop(form.get("code", ""), None)
        if code is None or code.expires <= self.clock():
            return _oauth_error("invalid_grant", "Bad Request")
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error("redirect_uri_mismatch", "Bad Request")
        if not _pkce_ok(code, form.get("code_verifier")):
            return _oauth_error("invalid_grant", "Invalid code verifier.")
        refresh_ttl = TESTING_REFRESH_TTL if self.testing_mode else 10 * 365 * 86_400
        body: dict[str, Any] = {
            "access_token": self._mint("a", code.scopes, ACCESS_TTL),
            "expires_in": ACCESS_TTL,
            "refresh_token": self._mint("r", code.scopes, refresh_ttl),
            "scope": " ".join(sorted(code.scopes)),
            "token_type": "Bearer",
        }
        if self.testing_mode:
            body["refresh_token_expires_in"] = TESTING_REFRESH_TTL
        return json_response(body)

    async def revoke(self, request: Request) -> Response:
        form = await _form(request)
        token = form.get("token", [""])[0] or request.query_params.get("token", "")
        grant = self.verify(token, "a") or self.verify(token, "r")
        if grant is None:
            return _oauth_error("invalid_token", "Token expired or revoked")
        self.revoked.add(grant.jti)
        return json_response({})


async def _form(request: Request) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (all OAuth endpoints take that)."""
    return parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)


def _pkce_ok(code: _Code, verifier: str | None) -> bool:
    if not code.challenge:
        return True  # confidential clients may skip PKCE
    if not verifier:
        return False
    if code.method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        derived = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        derived = verifier
    return hmac.compare_digest(derived, code.challenge)


def _check_authorize(q: dict[str, str]) -> str | None:
    """Why an authorize request is refused (shown on Google's error page), or None."""
    if not q.get("client_id"):
        return "invalid_request: Missing required parameter: client_id"
    if q.get("response_type", "code") != "code":
        return "unsupported_response_type"
    uri = urlsplit(q.get("redirect_uri", ""))
    if uri.scheme != "http" or uri.hostname not in ("127.0.0.1", "localhost", "::1"):
        return "redirect_uri_mismatch: only loopback redirects are registered for this client"
    scopes = q.get("scope", "").split()
    if not scopes:
        return "invalid_request: Missing required parameter: scope"
    if q.get("code_challenge_method", "S256") not in ("S256", "plain"):
        return "invalid_request: Invalid code_challenge_method"
    return None


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _oauth_error(error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, 400)


def _consent_page(q: dict[str, str], scopes: list[str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in q.items()
        if k != "scope"
    )
    boxes = "".join(
        f'<li><label><input type="checkbox" name="scope" value="{html.escape(s)}" checked> '
        f"{html.escape(s.removeprefix(SCOPE_PREFIX))}</label></li>"
        for s in scopes
    )
    return (
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>Sign in - Google Accounts</title>"
        "</head><body><h1>fitvault simulator wants to access your Google Account</h1>"
        '<form method="post" action="/o/oauth2/v2/auth/approve">'
        f"{hidden}<ul>{boxes}</ul>"
        '<button type="submit" name="action" value="deny">Cancel</button> '
        '<button type="submit" name="action" value="allow" id="submit_approve_access">'
        "Allow</button>"
        "</form></body></html>"
    )
