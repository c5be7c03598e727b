"""The API client: retries, Retry-After, token refresh on 401, error translation, rate limit."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
import stamina

from fitvault._errors import (
    AccountNotLinked,
    ApiError,
    ApiUnavailable,
    AuthError,
    PermissionDenied,
    QuotaExhausted,
)
from fitvault.http import ApiClient, RateLimiter, RetryNotices, _translate, backoff_hook

BASE = "https://health.test"
PATH = "/v4/users/me/dataTypes/heart-rate/dataPoints"
FILTER = 'sample_time.physical_time >= "2026-11-01T00:00:00Z"'
SECRET = "ya29.secret-access-token"


class FakeTokens:
    """A token source handing out ``SECRET-0``, and ``SECRET-1`` … after each refresh."""

    def __init__(self) -> None:
        self.refreshes = 0

    async def access_token(self) -> str:
        return f"{SECRET}-{self.refreshes}"

    async def refresh(self) -> str:
        self.refreshes += 1
        return await self.access_token()


Handler = Callable[[httpx2.Request], httpx2.Response]


def scripted(*answers: httpx2.Response | Exception) -> tuple[Handler, list[httpx2.Request]]:
    """A handler giving ``answers`` in order (the last one forever); also returns what it saw."""
    seen: list[httpx2.Request] = []
    queue: Iterator[httpx2.Response | Exception] = iter(answers)
    last: list[httpx2.Response | Exception] = [answers[-1]]

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        answer = next(queue, last[0])
        if isinstance(answer, Exception):
            raise answer
        return httpx2.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return handle, seen


def call(
    handler: Handler, tokens: FakeTokens | None = None, params: dict[str, str] | None = None
) -> tuple[Any, ApiClient]:
    """GET ``PATH`` once through ``handler``; returns (response or raised error, client)."""

    async def go() -> tuple[Any, ApiClient]:
        client = ApiClient(
            BASE, tokens or FakeTokens(), transport=httpx2.MockTransport(handler), per_minute=None
        )
        async with client:
            try:
                return await client.get(PATH, params=params), client
            except Exception as exc:
                return exc, client

    return asyncio.run(go())


def google_error(
    code: int, status: str, message: str, reason: str | None = None
) -> httpx2.Response:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    body = {"error": {"code": code, "message": message, "status": status}}
    if reason:
        body["error"]["details"] = details
    return httpx2.Response(code, json=body)


OK = httpx2.Response(200, json={"dataPoints": []})


# --- retries ------------------------------------------------------------------------------


def test_a_5xx_then_200_succeeds_and_counts_both_attempts() -> None:
    """One server error is retried; ``requests`` counts every attempt."""
    handler, seen = scripted(httpx2.Response(500), OK)
    resp, client = call(handler)
    assert resp.status == 200
    assert resp.content == b'{"dataPoints":[]}'
    assert client.requests == len(seen) == 2


def test_a_persistent_503_is_api_unavailable_naming_the_path() -> None:
    """When retries run out (4 in stamina's test mode) the error names the request."""
    handler, seen = scripted(httpx2.Response(503))
    exc, client = call(handler)
    assert isinstance(exc, ApiUnavailable)
    assert f"GET {PATH}" in str(exc)
    assert exc.status == 503
    assert SECRET not in str(exc)
    assert client.requests == len(seen) == 4


def test_a_connect_error_is_retried_like_a_5xx() -> None:
    """A refused connection is retried, and when it persists becomes ApiUnavailable."""
    refused = httpx2.ConnectError("connection refused")
    handler, seen = scripted(refused, OK)
    resp, _ = call(handler)
    assert resp.status == 200
    assert len(seen) == 2
    exc, client = call(scripted(refused)[0])
    assert isinstance(exc, ApiUnavailable)
    assert "ConnectError" in str(exc)
    assert client.requests == 4


# --- 429 ----------------------------------------------------------------------------------


def test_retry_after_is_the_backoff_for_a_429() -> None:
    """The exception a 429 becomes makes backoff_hook wait exactly Retry-After seconds."""
    request = httpx2.Request("GET", BASE + PATH)
    with_header = httpx2.Response(429, headers={"Retry-After": "7"}, request=request)
    without = httpx2.Response(429, request=request)
    assert backoff_hook(_translate(with_header, f"GET {PATH}")) == 7.0
    assert backoff_hook(_translate(without, f"GET {PATH}")) is True
    assert backoff_hook(_translate(httpx2.Response(400, request=request), "GET /")) is False


def test_a_429_twice_then_200_succeeds() -> None:
    """Rate limiting that lifts is invisible to the caller."""
    limited = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")
    limited.headers["Retry-After"] = "7"
    handler, seen = scripted(limited, limited, OK)
    resp, _ = call(handler)
    assert resp.status == 200
    assert len(seen) == 3


def test_a_429_forever_is_quota_exhausted() -> None:
    """Rate limiting that never lifts ends in QuotaExhausted."""
    limited = httpx2.Response(429, headers={"Retry-After": "1"})
    exc, _ = call(scripted(limited)[0])
    assert isinstance(exc, QuotaExhausted)
    assert exc.status == 429
    assert SECRET not in str(exc)
    assert f"GET {PATH}" in str(exc)


# --- 401 ----------------------------------------------------------------------------------


def test_a_401_refreshes_once_and_repeats_with_the_new_token() -> None:
    """The second request carries the refreshed token."""
    tokens = FakeTokens()
    handler, seen = scripted(google_error(401, "UNAUTHENTICATED", "expired"), OK)
    resp, client = call(handler, tokens)
    assert resp.status == 200
    assert tokens.refreshes == 1
    assert [r.headers["Authorization"] for r in seen] == [
        f"Bearer {SECRET}-0",
        f"Bearer {SECRET}-1",
    ]
    assert client.requests == 2


def test_a_second_401_is_an_auth_error_saying_to_sign_in_again() -> None:
    """If the refreshed token is refused too, the user is told to run `fitvault auth`."""
    tokens = FakeTokens()
    handler, seen = scripted(google_error(401, "UNAUTHENTICATED", "Invalid Credentials"))
    exc, _ = call(handler, tokens)
    assert isinstance(exc, AuthError)
    assert "fitvault auth" in str(exc)
    assert SECRET not in str(exc)
    assert tokens.refreshes == 1
    assert len(seen) == 2


# --- errors that are not retried ----------------------------------------------------------

ERRORS = {
    "bad-filter": (
        google_error(400, "INVALID_ARGUMENT", "Invalid filter: unknown field sample_tme"),
        ApiError,
    ),
    "scope": (
        google_error(
            403,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        ),
        PermissionDenied,
    ),
    "not-linked": (
        google_error(
            400, "FAILED_PRECONDITION", "The account is not linked.", "ACCOUNT_NOT_LINKED"
        ),
        AccountNotLinked,
    ),
    "html-404": (
        httpx2.Response(
            404,
            content=b"<html><body>Error 404 (Not Found)!!1</body></html>",
            headers={"Content-Type": "text/html; charset=UTF-8"},
        ),
        ApiError,
    ),
}


@pytest.mark.parametrize("case", ERRORS)
def test_client_errors_raise_at_once_with_the_right_class(case: str) -> None:
    """A 4xx is not retried, becomes exactly the expected class, and never shows the token."""
    answer, kind = ERRORS[case]
    handler, seen = scripted(answer)
    exc, _ = call(handler, params={"filter": FILTER})
    assert type(exc) is kind
    assert len(seen) == 1
    assert exc.status == answer.status_code
    assert SECRET not in str(exc)
    assert SECRET not in repr(exc.args)


def test_a_google_error_message_has_method_path_filter_status_and_message() -> None:
    """Everything a user needs to recognise the failing request is in the message."""
    answer, _ = ERRORS["bad-filter"]
    exc, _ = call(scripted(answer)[0], params={"filter": FILTER})
    text = str(exc)
    for part in ("GET", PATH, FILTER, "INVALID_ARGUMENT", "Invalid filter: unknown field"):
        assert part in text
    assert exc.request == f"GET {PATH} [filter: {FILTER}]"


def test_reasons_are_kept_on_the_exception() -> None:
    """The ErrorInfo reason is available to callers (e.g. to skip a type)."""
    exc, _ = call(scripted(ERRORS["scope"][0])[0])
    assert exc.reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    exc, _ = call(scripted(ERRORS["not-linked"][0])[0])
    assert exc.reason == "ACCOUNT_NOT_LINKED"


def test_an_html_404_says_the_body_was_not_json() -> None:
    """An HTML error page (a wrong path) is reported as such instead of a parse failure."""
    exc, _ = call(scripted(ERRORS["html-404"][0])[0])
    assert "non-JSON body" in str(exc)
    assert f"GET {PATH}" in str(exc)


# --- the client-side budget ---------------------------------------------------------------


class FakeTime:
    """A clock and an async sleep that advances it, recording each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_fourth_request_in_a_minute_waits_until_the_first_is_60_s_old() -> None:
    """per_minute=3: three go at once; the fourth sleeps until the first ages out, plus the
    margin that keeps a less-delayed request from reaching the server before its slot frees."""
    t = FakeTime()
    told: list[float] = []
    limiter = RateLimiter(3, clock=t.clock, sleep=t.sleep, on_wait=told.append)

    async def go() -> None:
        for step in (0, 10, 20, 5):
            t.now += step
            await limiter.acquire()

    asyncio.run(go())
    assert t.sleeps == told == [25.25]  # first at 1000, fourth asked at 1035, margin 0.25 s
    assert t.now == 1060.25


def test_no_budget_never_sleeps() -> None:
    """per_minute=None lets every request through at once."""
    t = FakeTime()
    limiter = RateLimiter(None, clock=t.clock, sleep=t.sleep)

    async def go() -> None:
        for _ in range(1000):
            await limiter.acquire()

    asyncio.run(go())
    assert t.sleeps == []


# --- saying what it is waiting for ----------------------------------------------------------


@pytest.fixture
def notices() -> Iterator[list[str]]:
    """Retry notices collected through stamina's instrumentation (hooks reset afterwards)."""
    lines: list[str] = []
    stamina.instrumentation.set_on_retry_hooks([RetryNotices(lines.append)])
    yield lines
    stamina.instrumentation.set_on_retry_hooks(None)


def test_a_scheduled_retry_is_announced_with_request_host_wait_and_attempt(
    notices: list[str],
) -> None:
    """Each retry becomes one line: method, path, host, the wait and "attempt k of n"."""
    handler, _ = scripted(httpx2.Response(503), httpx2.Response(500), OK)
    resp, _ = call(handler)
    assert resp.status == 200
    assert len(notices) == 2
    for k, line in enumerate(notices, 2):
        assert re.fullmatch(
            rf"retrying GET {PATH} on health\.test in \d+ s \(attempt {k} of 8\): HTTP 5\d\d.*",
            line,
        ), line


def test_retries_of_other_code_are_not_announced(notices: list[str]) -> None:
    """The hook ignores retries that are not API calls (another library's stamina use)."""

    @stamina.retry(on=ValueError, attempts=2)
    def flaky(box: list[int]) -> None:
        box.append(1)
        if len(box) == 1:
            raise ValueError("once")

    flaky([])
    assert notices == []


def test_timeouts_are_seconds_and_giving_up_is_bounded() -> None:
    """A silent server costs at most 30 s per attempt (10 s to connect) and retrying stops
    after 300 s in all, whatever the attempt count."""
    client = ApiClient(BASE, FakeTokens())
    timeout = client._http.timeout
    assert (timeout.read or 999) <= 30
    assert (timeout.connect or 999) <= 10
    assert client.give_up_after <= 300
    asyncio.run(client.aclose())


def test_a_server_that_never_answers_is_api_unavailable_naming_it_and_the_limit() -> None:
    """A socket that accepts connections but never answers ends in ApiUnavailable naming the
    server URL, the read timeout and how long retrying may take."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes connections; nobody ever reads or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"

        async def go() -> Exception:
            async with ApiClient(url, FakeTokens(), timeout=0.2, per_minute=None) as client:
                try:
                    await client.get(PATH)
                except ApiUnavailable as exc:
                    return exc
            raise AssertionError("no error")

        exc = asyncio.run(go())
    text = str(exc)
    assert url in text
    assert "ReadTimeout" in text
    assert "gave up after 4 attempts" in text
    assert "or 300 s" in text
