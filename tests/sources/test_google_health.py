"""The page walker: only an absent or empty token ends a walk; a repeated token is an error."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.http import ApiClient
from fitvault.sources.google_health import Window, iter_pages, window_filter


class Tokens:
    async def access_token(self) -> str:
        return "t"

    async def refresh(self) -> str:
        return "t"


def walk(responses: list[bytes]) -> list[int]:
    """Sizes of the pages walked over these bodies (served in order)."""
    served = iter(responses)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, content=next(served), headers={"content-type": "application/json"}
        )

    async def go() -> list[int]:
        async with ApiClient(
            "http://api.test", Tokens(), transport=httpx2.MockTransport(handler), per_minute=None
        ) as client:
            return [
                len(p.raw.body)
                async for p in iter_pages(client, catalog.get("steps"), Window(0, 10**15))
            ]

    return asyncio.run(go())


def test_empty_pages_with_a_token_do_not_end_the_walk() -> None:
    """An empty page that carries a token is followed; `{}` ends the walk."""
    bodies = [b'{"nextPageToken": "a"}', b'{"dataPoints": [], "nextPageToken": "b"}', b"{}"]
    assert walk(bodies) == [len(b) for b in bodies]


def test_a_repeated_token_stops_with_an_error_naming_the_request() -> None:
    """A server that sends the same token twice would loop forever; the walk refuses."""
    with pytest.raises(
        DataError, match=r"same page token.*steps/dataPoints|steps/dataPoints.*same page token"
    ):
        walk([b'{"nextPageToken": "a"}', b'{"nextPageToken": "a"}'])


def test_window_filter_uses_the_types_member() -> None:
    """Daily types filter on dates; sleep on end time; samples on physical time."""
    day = 86_400 * 1_000_000
    assert window_filter(
        catalog.get("daily-resting-heart-rate"), Window(day * 20_000, day * 20_001)
    ) == (
        'daily_resting_heart_rate.date >= "2024-10-04" AND daily_resting_heart_rate.date < "2024-10-05"'
    )
    assert window_filter(catalog.get("sleep"), Window(0, 1)).startswith(
        'sleep.interval.end_time >= "1970-01-01T00:00:00Z"'
    )
