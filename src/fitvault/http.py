"""The API client: bearer auth with refresh, a client-side request budget, declared retries,
and the one place HTTP failures become ``fitvault`` errors.

* 5xx, timeouts and connection errors are retried with exponential backoff (stamina);
* 429 waits as long as ``Retry-After`` says (or backs off when it is absent);
* 401 refreshes the access token once and repeats the request;
* everything else (400/403/404 …) raises at once with the server's own explanation.

A server that accepts a connection but never answers costs one read timeout (30 s) per attempt,
and retrying gives up after ``give_up_after`` seconds in all, saying so and naming the server.
Retries are announced through stamina's instrumentation: install :class:`RetryNotices` with
``stamina.instrumentation.set_on_retry_hooks`` to hear "retrying GET … in 4 s (attempt 2 of 8)".
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx2
import msgspec
import stamina
from stamina.instrumentation import RetryDetails

from fitvault._errors import (
    AccountNotLinked,
    ApiError,
    ApiUnavailable,
    AuthError,
    PermissionDenied,
    QuotaExhausted,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "fitvault (+https://github.com/fitvault/fitvault)"


class TokenSource(Protocol):
    async def access_token(self) -> str: ...

    async def refresh(self) -> str: ...


class _Transient(Exception):
    """A failure worth retrying; carries what to report if retries run out."""

    def __init__(self, describe: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(describe)
        self.status = status
        self.retry_after = retry_after
        self.where = ""  # "GET /path on host", set by the client
        self.attempts = 0


def retry_notice(details: RetryDetails) -> str | None:
    """The line a user sees when an API call is about to be retried (None: not an API call)."""
    exc = details.caused_by
    if not isinstance(exc, _Transient):
        return None
    of = f" of {exc.attempts}" if exc.attempts else ""
    return (
        f"retrying {exc.where} in {details.wait_for:.0f} s "
        f"(attempt {details.retry_num + 1}{of}): {exc}"
    )


class RetryNotices:
    """A stamina on-retry hook passing :func:`retry_notice` lines to ``notify`` (e.g. a progress
    display) instead of stamina's log lines."""

    def __init__(self, notify: Callable[[str], None]) -> None:
        self.notify = notify

    def __call__(self, details: RetryDetails) -> None:
        line = retry_notice(details)
        if line is not None:
            self.notify(line)


def backoff_hook(exc: Exception) -> bool | float:
    """stamina's decision: retry transient failures, waiting ``Retry-After`` when given."""
    if isinstance(exc, _Transient):
        return exc.retry_after if exc.retry_after is not None else True
    return False


@dataclass
class RateLimiter:
    """At most ``per_minute`` requests in any 60 s, so a long backfill stays under the quota.

    The server counts a request when it arrives, the limiter when it leaves: a request sent
    the instant its slot frees could arrive less delayed than the one it replaces did (a busy
    server in the first minute's burst) and be refused with a 429 — a second's wait and a
    repeated request. ``margin_s`` keeps each slot that much longer.
    """

    per_minute: int | None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    on_wait: Callable[[float], None] | None = None  # told how long each pause will be
    margin_s: float = 0.25
    _sent: collections.deque[float] = field(default_factory=collections.deque)

    async def acquire(self) -> None:
        if self.per_minute is None:
            return
        while True:
            now = self.clock()
            span = 60 + self.margin_s
            while self._sent and self._sent[0] <= now - span:
                self._sent.popleft()
            if len(self._sent) < self.per_minute:
                self._sent.append(now)
                return
            pause = self._sent[0] + span - now
            if self.on_wait:
                self.on_wait(pause)
            await self.sleep(pause)


@dataclass(frozen=True)
class Response:
    status: int
    content: bytes
    url: str


class ApiClient:
    """Talks to one API base URL on behalf of one user."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        per_minute: int | None = 300,
        attempts: int = 8,
        give_up_after: float = 300.0,
    ) -> None:
        self._http = httpx2.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"},
        )
        self.base_url = base_url.rstrip("/")
        self._host = urlsplit(base_url).netloc or base_url
        self._tokens = tokens
        self.limiter = RateLimiter(per_minute)
        self.attempts = attempts
        self.give_up_after = give_up_after
        self.requests = 0

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Response:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Any) -> Response:
        return await self.request("POST", path, json=body)

    async def request(self, method: str, path: str, **kwargs: Any) -> Response:
        """One API call with retries; raises a FitvaultError subclass on failure."""
        describe = _describe(method, path, kwargs.get("params"))
        started = time.monotonic()
        tried = 0
        try:
            async for attempt in stamina.retry_context(
                on=backoff_hook,
                attempts=self.attempts,
                timeout=self.give_up_after,
                wait_max=60.0,
            ):
                with attempt:
                    tried = attempt.num
                    return await self._attempt(method, path, describe, **kwargs)
        except _Transient as exc:
            raise self._gave_up(exc, describe, tried, time.monotonic() - started) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, method: str, path: str, describe: str, **kwargs: Any) -> Response:
        try:
            return await self._once(method, path, describe, **kwargs)
        except _Transient as exc:
            exc.where, exc.attempts = f"{method} {path} on {self._host}", self.attempts
            raise

    def _gave_up(self, exc: _Transient, describe: str, tried: int, seconds: float) -> ApiError:
        """The error for retries that ran out, naming the server and how long was spent."""
        spent = (
            f"gave up after {tried} attempts in {seconds:.0f} s "
            f"(limit: {self.attempts} attempts or {self.give_up_after:.0f} s)"
        )
        if exc.status == 429:
            return QuotaExhausted(
                f"{describe} on {self.base_url}: still rate limited ({spent}); "
                "wait a few minutes and run the command again (progress is kept).",
                status=429,
                request=describe,
            )
        return ApiUnavailable(
            f"{describe} on {self.base_url}: {exc} ({spent}); "
            "check your connection and run the command again (progress is kept).",
            status=exc.status,
            request=describe,
        )

    async def _once(self, method: str, path: str, describe: str, **kwargs: Any) -> Response:
        refreshed = False
        while True:
            await self.limiter.acquire()
            token = await self._tokens.access_token()
            headers = {"Authorization": f"Bearer {token}"}
            self.requests += 1
            try:
                resp = await self._http.request(method, path, headers=headers, **kwargs)
            except (httpx2.TimeoutException, httpx2.TransportError) as exc:
                raise _Transient(f"{type(exc).__name__}: {exc}") from exc
            if resp.status_code == 401 and not refreshed:
                refreshed = True
                await self._tokens.refresh()
                continue
            if resp.is_success:
                _check_json(resp)
                return Response(resp.status_code, resp.content, str(resp.url))
            raise _translate(resp, describe)


def _check_json(resp: httpx2.Response) -> None:
    """A 2xx JSON body that does not parse (cut short on the way) is retried like a dropped
    connection: the next attempt usually gets it whole, where parsing it later would refuse
    the whole type. Validating without building objects costs well under 1 ms a page."""
    if "json" not in resp.headers.get("content-type", ""):
        return
    try:
        msgspec.json.decode(resp.content, type=msgspec.Raw)
    except msgspec.DecodeError as exc:
        raise _Transient(f"HTTP {resp.status_code} with a malformed JSON body ({exc})") from None
    except RecursionError:
        return  # whole but nested too deep: retrying cannot help; the parser refuses it


def _describe(method: str, path: str, params: Mapping[str, str] | None) -> str:
    """The request as a user can recognise it (never includes credentials)."""
    text = f"{method} {path}"
    if params and params.get("filter"):
        text += f" [filter: {params['filter']}]"
    return text


class _ErrorBody(msgspec.Struct):
    code: int = 0
    message: str = ""
    status: str = ""
    details: list[dict[str, Any]] = []


class _ErrorEnvelope(msgspec.Struct):
    error: _ErrorBody | str | None = None
    error_description: str = ""


def parse_error(resp: httpx2.Response) -> tuple[str, str | None, str]:
    """(status name, ErrorInfo reason, message) from a Google error body, HTML or JSON."""
    if "json" not in resp.headers.get("content-type", ""):
        return "", None, f"HTTP {resp.status_code} with a non-JSON body (not an API path?)"
    try:
        env = msgspec.json.decode(resp.content, type=_ErrorEnvelope)
    except (msgspec.DecodeError, RecursionError):  # RecursionError: nested too deep
        return "", None, f"HTTP {resp.status_code} with an unreadable JSON body"
    if isinstance(env.error, _ErrorBody):
        reason = next((d.get("reason") for d in env.error.details if "reason" in d), None)
        return env.error.status, reason, env.error.message
    return str(env.error or ""), None, env.error_description


def _translate(resp: httpx2.Response, describe: str) -> Exception:
    status = resp.status_code
    name, reason, message = parse_error(resp)
    if status in RETRY_STATUSES:
        after = resp.headers.get("retry-after")
        wait = float(after) if after and after.isdigit() else None
        return _Transient(f"HTTP {status} {name} {message}".strip(), status, wait)
    text = f"{describe}: HTTP {status} {name}: {message}"
    if status == 401:
        return AuthError(f"{text}\nThe API rejected the credentials; run `fitvault auth` again.")
    if reason == "ACCOUNT_NOT_LINKED":
        return AccountNotLinked(
            f"{text}\nThis Google account has no Google Health (Fitbit) profile. Sign in with the "
            "account your tracker uses: run `fitvault auth` again and pick that account.",
            status=status,
            reason=reason,
            request=describe,
        )
    if status == 403:
        return PermissionDenied(
            f"{text}\nThe granted scopes do not cover this request; run `fitvault auth` and "
            "leave every requested permission ticked.",
            status=status,
            reason=reason,
            request=describe,
        )
    return ApiError(text, status=status, reason=reason, request=describe)
