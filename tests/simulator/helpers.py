"""Talk to the simulator's endpoints directly, like a hand-written client would."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from fitvault.catalog import SCOPE_PREFIX, TIME_PATHS, Conv, DataType, RecordKind

READ_SCOPES = [
    SCOPE_PREFIX + s + ".readonly"
    for s in (
        "activity_and_fitness",
        "health_metrics_and_measurements",
        "sleep",
        "nutrition",
        "ecg",
        "irn",
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


# --- reading served points back into rows (the inverse of the simulator's rendering) ----------


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def decode(value: Any, conv: Conv) -> Any:
    """A wire value as the column holds it (the catalog's conv, inverted)."""
    if value is None:
        return None
    if conv is Conv.INT64:
        return int(value)
    if conv is Conv.TIMESTAMP:
        return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    if conv is Conv.OFFSET:
        return int(value.removesuffix("s"))
    if conv is Conv.DURATION:
        return float(value.removesuffix("s"))
    if conv is Conv.DATE:
        return dt.date(value["year"], value["month"], value["day"])
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.lower().replace("infinity", "inf"))
    return value


def decode_point(dtype: DataType, point: dict[str, Any]) -> list[dict[str, Any]]:
    """One served DataPoint as the rows World.records holds for it (several if exploded)."""
    payload = point[dtype.camel]
    row: dict[str, Any] = {}
    for column, (path, conv) in TIME_PATHS[dtype.record_kind].items():
        row[column] = decode(_get(payload, path), conv)
    if dtype.record_kind is RecordKind.INTERVAL:
        assert payload["interval"]["endUtcOffset"] == payload["interval"]["startUtcOffset"]
    for f in dtype.fields:
        if not f.path.startswith("*."):
            row[f.column] = decode(_get(payload, f.path), f.conv)
    source = point.get("dataSource", {})
    row["device"] = source.get("device", {}).get("displayName")
    row["platform"] = source.get("platform")
    if not dtype.explode:
        return [row]
    rows = []
    for item in payload[dtype.explode]:
        sub = dict(row)
        for f in dtype.fields:
            if f.path.startswith("*."):
                sub[f.column] = decode(_get(item, f.path[2:]), f.conv)
        rows.append(sub)
    return rows


def decode_children(dtype: DataType, point: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Child-table rows of one served session, keyed by child table."""
    payload = point[dtype.camel]
    start = decode(payload["interval"]["startTime"], Conv.TIMESTAMP)
    out: dict[str, list[dict[str, Any]]] = {}
    for child in dtype.children:
        out[child.table] = [
            {"session_start": start}
            | {f.column: decode(_get(item, f.path), f.conv) for f in child.fields}
            for item in payload.get(child.path, [])
        ]
    return out


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN, numpy scalars as Python values."""
    a = a.item() if hasattr(a, "item") else a
    b = b.item() if hasattr(b, "item") else b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def columns_equal(rows: list[dict[str, Any]], rec: dict[str, Any]) -> list[str]:
    """Column names where served rows and records differ (empty list = identical)."""
    bad = []
    for column, values in rec.items():
        got = [r.get(column) for r in rows]
        want = list(values)
        if len(got) != len(want) or not all(same(x, y) for x, y in zip(got, want, strict=True)):
            bad.append(column)
    return bad
