"""Sign in to the simulator's legacy Fitbit face and read the real sample bodies, for its tests."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from tests.conftest import SHARED

LEGACY_SCOPES = (
    "activity heartrate sleep profile weight settings oxygen_saturation respiratory_rate "
    "temperature cardio_fitness location nutrition"
)
REDIRECT = "http://127.0.0.1:9/"
SAMPLES = SHARED / "samples" / "aarondcoleman__Fitbit.NET"


def legacy_tokens(
    client: httpx2.Client, scopes: str = LEGACY_SCOPES, client_id: str = "23ABCD"
) -> dict[str, Any]:
    """Authorize (auto-approve) with PKCE, then exchange the code with HTTP Basic client auth."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    answer = client.get(
        "/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": scopes,
            "state": "st4te",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["st4te"]
    resp = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(client_id, "s3cret"),
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def sample(name: str) -> Any:
    """A Fitbit.NET sample body, tolerating its BOM and ``//`` comments.

    Those samples were copied from the developer docs, whose sleep examples spell the level
    items' key ``datetime``; the live API and the Takeout export (checked on a real 2026
    export) spell it ``dateTime``, which is what is compared.
    """
    path = SAMPLES / f"Fitbit.Portable.Tests__SampleData__{name}.json"
    text = path.read_text(encoding="utf-8-sig")
    text = re.sub(r"//[^\n\"]*$", "", text, flags=re.M)
    return json.loads(text.replace('"datetime"', '"dateTime"'))


def shape(value: Any) -> Any:
    """Keys and JSON types of a body (lists by their first item; ints and floats as number)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def missing(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Where ``actual`` lacks a key of ``expected`` or has another type there."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object"]
        out = []
        for k, v in expected.items():
            if k not in actual:
                out.append(f"{where}.{k}: missing")
            else:
                out += missing(v, actual[k], f"{where}.{k}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected an array"]
        if expected and actual:
            return missing(expected[0], actual[0], f"{where}[0]")
        return []
    return [] if expected == actual else [f"{where}: {actual} instead of {expected}"]


def have_samples() -> bool:
    return Path(SAMPLES).is_dir()
