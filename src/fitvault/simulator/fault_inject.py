"""Inject the faults of ``faults.FaultSpec`` in front of the simulator's routes (ASGI middleware).

What the client sees is what it would see from the real service over a real network:

* status faults answer as each face does (Google's JSON ``error``, Fitbit's ``errors[]``, a
  front end's HTML page for 502);
* ``reset``/``truncate`` start an answer and then raise :class:`InjectedDrop`: uvicorn closes
  the connection and httpx reports ``RemoteProtocolError``; in-process, httpx's ASGITransport
  passes the app's exception up unchanged, and it *is* that ``RemoteProtocolError``;
* ``timeout`` holds the answer ``stall`` seconds on a socket; in-process, where ASGITransport
  applies no timeouts, it raises the ``ReadTimeout`` the client would have raised;
* page faults re-cut a v4 list page or roll-up page (``rollUp``/``dailyRollUp`` POSTs, whose
  page token travels in the JSON body) and hand out a ``fault~`` page token, which this layer
  turns back into the real token (plus how many points to skip) on the next request;
* a clock ``skew`` runs the whole app on a clock that far from the client's (``create_app``
  does that) and stamps every answer's ``Date`` header with it (over a socket uvicorn sends
  its own, real-clock ``Date`` first: the client sees both, as behind a proxy that adds one).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx2
import msgspec
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fitvault.simulator.faults import Dice, Endpoint, uniform
from fitvault.simulator.legacy_oauth import LegacyOAuth
from fitvault.simulator.legacy_wire import error as legacy_error
from fitvault.simulator.oauth import OAuthServer
from fitvault.simulator.responses import json_response, status_error, unauthenticated

_LIST = re.compile(r"^/v4/users/[^/]+/dataTypes/[^/:]+/dataPoints$")
_ROLLUP = re.compile(r"^/v4/users/[^/]+/dataTypes/[^/:]+/dataPoints:(rollUp|dailyRollUp)$")
_LEGACY_API = re.compile(r"^/(1|1\.1|1\.2)/user/")
TOKEN_PATHS = ("/token", "/oauth2/token")
WRAP = "fault~"
_STATUS = {500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class InjectedDrop(httpx2.RemoteProtocolError):
    """The connection went away mid-answer (what httpx reports for it, raised by the app)."""


class InjectedTimeout(httpx2.ReadTimeout):
    """No answer in time (raised in-process, where ASGITransport has no timeouts)."""


class _QuietInjected(logging.Filter):
    """uvicorn logs an app's exception with a traceback; an injected drop is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, InjectedDrop | InjectedTimeout)


logging.getLogger("uvicorn.error").addFilter(_QuietInjected())


class FaultInjector:
    """ASGI middleware: roll the dice for each request and answer with the fault it meets."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        dice: Dice,
        oauth: OAuthServer,
        legacy_oauth: LegacyOAuth,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.app = app
        self.dice = dice
        self.oauth = oauth
        self.legacy_oauth = legacy_oauth
        self.clock = clock  # the server's (skewed) clock, for the Date header
        self._revoked: set[str] = set()  # access tokens an injected 401 revoked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive) if scope["method"] == "POST" else b""
        where = _endpoint(scope, body)
        if self.dice.spec.skew and self.clock is not None:
            send = _dated(send, self.clock)
            if where is not Endpoint.OTHER:
                self.dice.count("skew")  # one more answer given on the server's own clock
        unwrapped = None
        if where is Endpoint.PAGED:
            unwrapped = _unwrap_token(scope)
        elif where is Endpoint.ROLLUP:
            body, unwrapped = _unwrap_body_token(body)
        receive = _replay(body)
        if where is Endpoint.OTHER:
            await self.app(scope, receive, send)
            return
        key = f"{scope['method']} {scope['path']}?{scope['query_string'].decode()}#{body!r}"
        token = _refresh_token(body) if where is Endpoint.TOKEN else _bearer(scope)
        if where is not Endpoint.TOKEN and token in self._revoked:
            # Sent with a token an injected 401 revoked (it was in flight, or the client has
            # not refreshed yet): the app answers 401 itself, and the request's repeat with
            # the refreshed token is not expired at once (as after an injected 401).
            self.dice.after_revoked(where, key)
            await self.app(scope, receive, send)
            return
        fault = self.dice.roll(where, key)
        if unwrapped is not None or fault in ("empty-page", "short-page"):
            member = "rollupDataPoints" if where is Endpoint.ROLLUP else "dataPoints"
            real = _page_token(scope, body, where)
            await self._page(scope, receive, send, fault, unwrapped, key, token, member, real)
            return
        if fault is None:
            await self.app(scope, receive, send)
            return
        await self._inject(fault, scope, receive, send, token)

    async def _inject(
        self, fault: str, scope: Scope, receive: Receive, send: Send, token: str
    ) -> None:
        legacy = scope["path"].startswith(("/1", "/oauth2/"))
        self.dice.count(fault)
        if fault == "timeout":
            if self.dice.spec.stall is None:
                raise InjectedTimeout("injected: no answer within the read timeout")
            await asyncio.sleep(self.dice.spec.stall)
            await self.app(scope, receive, send)
        elif fault == "reset":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise InjectedDrop("injected: connection reset before the body")
        elif fault in ("truncate", "malformed"):
            status, headers, content = await _capture(self.app, scope, receive)
            await _send_cut(send, status, headers, content, drop=fault == "truncate")
        else:
            answer = self._answer(fault, legacy, token)
            await answer(scope, receive, send)

    def _answer(self, fault: str, legacy: bool, token: str) -> Response:
        """The whole response for a fault that is just a status and a body."""
        if fault in ("429", "429-bare"):
            headers = {"Retry-After": str(self.dice.spec.retry_after)} if fault == "429" else {}
            if legacy:
                return legacy_error(429, "system", "Too Many Requests", headers=headers)
            return status_error(
                429, "RESOURCE_EXHAUSTED", "Quota exceeded.", reason="RATE_LIMIT_EXCEEDED",
                headers=headers,
            )  # fmt: skip
        if fault == "502":
            return HTMLResponse(_HTML_502, status_code=502)
        if fault in ("500", "503", "504"):
            code = int(fault)
            if legacy:
                return legacy_error(code, "system", "The service is unavailable.")
            return status_error(code, _STATUS[code], "The service is currently unavailable.")
        if fault == "401":
            self._revoke_access(token)
            if legacy:
                return legacy_error(401, "expired_token", "Access token expired: (redacted)")
            return unauthenticated(missing=False)
        if fault == "invalid-grant":
            self._revoke_refresh(token)
            if legacy:
                return legacy_error(400, "invalid_grant", "Refresh token invalid.")
            return json_response(
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
                400,
            )
        assert fault == "token-down", fault
        return HTMLResponse(_HTML_503, status_code=503)

    def _revoke_access(self, token: str) -> None:
        """Make the access token really stop working: a client that merely repeats the request
        (instead of refreshing) keeps getting 401."""
        self._revoked.add(token)
        grant = self.oauth.verify(token)
        if grant is not None:
            self.oauth.revoked.add(grant.jti)
        legacy = self.legacy_oauth.read(token, "access_token")
        if legacy is not None:
            self.legacy_oauth.revoked.add(legacy.jti)

    def _revoke_refresh(self, token: str) -> None:
        grant = self.oauth.verify(token, kind="r")
        if grant is not None:
            self.oauth.revoked.add(grant.jti)
        legacy = self.legacy_oauth.read(token, "refresh_token")
        if legacy is not None:
            self.legacy_oauth.revoked.add(legacy.jti)

    async def _page(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        fault: str | None,
        unwrapped: tuple[int, int] | None,
        key: str,
        token: str,
        member: str,
        real_token: str,
    ) -> None:
        """A v4 list or roll-up page re-cut: first skip what an earlier short page already gave,
        then (for a page fault) keep only the first few points and hand out a token for the
        rest. ``member`` holds the page's points; ``real_token`` is the one the app was asked."""
        skip, depth = unwrapped or (0, 0)
        if fault is not None and fault not in ("empty-page", "short-page"):
            await self._inject(fault, scope, receive, send, token)  # the page itself fails
            return
        status, headers, content = await _capture(self.app, scope, receive)
        if status != 200:
            await _send_whole(send, status, headers, content)
            return
        page: dict[str, Any] = msgspec.json.decode(content)
        points = page.pop(member, [])[skip:]
        if fault is not None:
            keep = (
                0 if fault == "empty-page" else 1 + int(uniform("k", key) * max(len(points) - 1, 1))
            )
            if fault == "empty-page" or keep < len(points):
                self.dice.count(fault)
                page["nextPageToken"] = wrap_token(real_token, skip + keep, depth + 1)
                points = points[:keep]
        if points:
            page[member] = points
        await json_response(page)(scope, receive, send)


def _endpoint(scope: Scope, body: bytes) -> Endpoint:
    path, method = scope["path"], scope["method"]
    if path in TOKEN_PATHS and method == "POST":
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        return Endpoint.TOKEN if form.get("grant_type") == "refresh_token" else Endpoint.OTHER
    if path.startswith("/v4/"):
        if method == "GET" and _LIST.match(path):
            return Endpoint.PAGED
        return Endpoint.ROLLUP if method == "POST" and _ROLLUP.match(path) else Endpoint.API
    if _LEGACY_API.match(path):
        return Endpoint.API
    return Endpoint.OTHER


def wrap_token(real: str, skip: int, depth: int) -> str:
    """A page token of this layer: the real one, how many of its points were already given,
    and a depth so a token is never the same as the one it was asked with."""
    raw = msgspec.json.encode([real, skip, depth])
    return WRAP + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unwrap_token(scope: Scope) -> tuple[int, int] | None:
    """Put the real page token back into the query; (skip, depth), or None if not ours."""
    pairs = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
    token = dict(pairs).get("pageToken", "")
    if not token.startswith(WRAP):
        return None
    real, skip, depth = _read_wrapped(token)
    rest = [(k, v) for k, v in pairs if k != "pageToken"] + ([("pageToken", real)] if real else [])
    scope["query_string"] = urlencode(rest).encode()
    return skip, depth


def _unwrap_body_token(body: bytes) -> tuple[bytes, tuple[int, int] | None]:
    """A roll-up's JSON body with the real page token put back; (skip, depth) or None."""
    try:
        request = msgspec.json.decode(body) if body else {}
    except msgspec.DecodeError:
        return body, None  # the app answers a broken body with its own 400
    token = request.get("pageToken", "") if isinstance(request, dict) else ""
    if not isinstance(token, str) or not token.startswith(WRAP):
        return body, None
    real, skip, depth = _read_wrapped(token)
    request.pop("pageToken")
    if real:
        request["pageToken"] = real
    return msgspec.json.encode(request), (skip, depth)


def _page_token(scope: Scope, body: bytes, where: Endpoint) -> str:
    """The (real) page token a list GET or a roll-up POST asks with ("" for the first page)."""
    if where is Endpoint.ROLLUP:
        try:
            request: Any = msgspec.json.decode(body) if body else {}
        except msgspec.DecodeError:
            return ""
        token = request.get("pageToken", "") if isinstance(request, dict) else ""
        return str(token) if isinstance(token, str) else ""
    return str(dict(parse_qsl(scope["query_string"].decode())).get("pageToken", ""))


def _read_wrapped(token: str) -> tuple[str, int, int]:
    raw = token[len(WRAP) :]
    real, skip, depth = msgspec.json.decode(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    return str(real), int(skip), int(depth)


def _dated(send: Send, clock: Callable[[], float]) -> Send:
    """``send`` with the answer's ``Date`` header on the server's clock."""

    async def dated(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
            headers.append((b"date", email.utils.formatdate(clock(), usegmt=True).encode()))
            message = {**message, "headers": headers}
        await send(message)

    return dated


def _bearer(scope: Scope) -> str:
    """The access token an API call carries ("" without one)."""
    for name, value in scope["headers"]:
        if name == b"authorization" and value.lower().startswith(b"bearer "):
            return str(value[7:].decode().strip())
    return ""


def _refresh_token(body: bytes) -> str:
    return dict(parse_qsl(body.decode("utf-8", "replace"))).get("refresh_token", "")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # as a client that keeps the connection open
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[Any], bytes]:
    """Run the real route and keep its answer instead of sending it."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return int(start["status"]), list(start.get("headers", [])), b"".join(chunks)


async def _send_whole(send: Send, status: int, headers: list[Any], content: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def _send_cut(
    send: Send, status: int, headers: list[Any], content: bytes, *, drop: bool
) -> None:
    """Half the body: announced whole and then dropped, or announced as what it is (then the
    length is right and only the JSON is wrong)."""
    half = content[: len(content) // 2]
    if not drop:
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        headers.append((b"content-length", str(len(half)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": half, "more_body": drop})
    if drop:
        raise InjectedDrop("injected: connection dropped mid-body")


_HTML_502 = (
    "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 502 (Server Error)!!1</title>"
    "<p><b>502.</b> <ins>That’s an error.</ins><p>The server encountered a temporary error and "
    "could not complete your request.<p>Please try again in 30 seconds. <ins>That’s all we "
    "know.</ins></html>"
)
_HTML_503 = (
    "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 503 (Service Unavailable)"
    "</title><p><b>503.</b> <ins>That’s an error.</ins><p>The service is temporarily "
    "unavailable. <ins>That’s all we know.</ins></html>"
)
