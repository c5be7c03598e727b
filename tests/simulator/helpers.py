"""Talk to the simulator's endpoints directly, like a hand-written client would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from fitvault.catalog import SCOPE_PREFIX

READ_SCOPES = [
    SCOPE_PREFIX + s + ".readonly"
    for s in (
        "activity_and_fitness",
        "health_metrics_and_measurements",
        "sleep",
        "profile",
        "settings",
    )
]
REDIRECT = "http://127.0.0.1:9/"


def token_response(client: httpx2.Client | Any, scopes: list[str] | None = None) -> dict[str, Any]:
    """Run authorize (auto-approve) + token exchange with PKCE; returns the token JSON."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    answer = client.get(
        "/o/oauth2/v2/auth",
        params={
            "client_id": "test",
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": " ".join(scopes or READ_SCOPES),
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["xyz"]
    resp = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": "test",
            "code_verifier": verifier,
        },
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body
