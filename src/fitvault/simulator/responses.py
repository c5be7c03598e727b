"""Response shapes of Google's front end: ``google.rpc.Status`` JSON errors and its HTML 404."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import HTMLResponse, Response

DOMAIN = "health.googleapis.com"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"

_HTML_404 = """<!DOCTYPE html>
<html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title>
<p><b>404.</b> <ins>That’s an error.</ins>
<p>The requested URL <code>{path}</code> was not found on this server.
<ins>That’s all we know.</ins>
"""


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(body),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=UTF-8",
    )


def raw_json(body: bytes) -> Response:
    return Response(body, media_type="application/json; charset=UTF-8")


def status_error(
    code: int,
    status: str,
    message: str,
    *,
    reason: str | None = None,
    domain: str = DOMAIN,
    metadata: dict[str, str] | None = None,
    violations: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A ``{"error": {code, message, status, details}}`` body as Google's APIs send."""
    details: list[dict[str, Any]] = []
    if reason:
        info: dict[str, Any] = {"@type": ERROR_INFO, "reason": reason, "domain": domain}
        if metadata:
            info["metadata"] = metadata
        details.append(info)
    if violations:
        details.append(
            {
                "@type": BAD_REQUEST,
                "fieldViolations": [{"field": f, "description": d} for f, d in violations],
            }
        )
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return json_response({"error": error}, code, headers)


def invalid_argument(message: str, **kw: Any) -> Response:
    return status_error(400, "INVALID_ARGUMENT", message, **kw)


def html_404(path: str) -> Response:
    return HTMLResponse(_HTML_404.format(path=path), status_code=404)


UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


def unauthenticated(missing: bool) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
    if missing:
        return status_error(
            401,
            "UNAUTHENTICATED",
            UNAUTHENTICATED_MESSAGE,
            reason="CREDENTIALS_MISSING",
            domain="googleapis.com",
            headers=headers,
        )
    headers["WWW-Authenticate"] += ', error="invalid_token"'
    return status_error(401, "UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE, headers=headers)
