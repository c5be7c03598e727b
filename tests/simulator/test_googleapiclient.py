"""Google's own generated client (google-api-python-client) works against the simulator unchanged.

The client is built from the discovery doc it ships (``static_discovery=True``) and only pointed at
the simulator's real loopback socket; httplib2 cannot talk to an ASGI app in-process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import numpy as np
import pytest

from fitvault import catalog
from fitvault.simulator.app import Simulator
from fitvault.simulator.world import World
from tests.simulator.helpers import token_response

discovery = pytest.importorskip(
    "googleapiclient.discovery", reason="needs google-api-python-client"
)
credentials = pytest.importorskip("google.oauth2.credentials", reason="needs google-auth")


def iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def service(served: tuple[Simulator, str]) -> Iterator[Any]:
    """The generated v4 client with a simulator access token, its root URL moved to the socket."""
    _, url = served
    with httpx2.Client(base_url=url, timeout=60) as client:
        token = token_response(client)["access_token"]
    creds = credentials.Credentials(token=token)
    # api_endpoint replaces rootUrl; the served URL has no trailing slash, and the method paths
    # ("v4/{+parent}/dataPoints") are joined onto it with urljoin, so either form works.
    # Closing the Resource closes httplib2's pooled sockets (else: ResourceWarning at GC time).
    with discovery.build(
        "health",
        "v4",
        static_discovery=True,
        credentials=creds,
        client_options={"api_endpoint": url},
    ) as svc:
        yield svc


def every_page(first: Any, next_page: Callable[[Any, Any], Any]) -> list[dict[str, Any]]:
    """Execute a request and its generated ``*_next`` successors until the helper returns None."""
    pages, request = [], first
    while request is not None:
        page = request.execute(num_retries=0)
        pages.append(page)
        request = next_page(request, page)
        assert len(pages) < 200, "paging does not end"
    return pages


def test_heart_rate_day_pages_through_list_next(service: Any, world: World) -> None:
    """list + list_next return every heart-rate sample of a day, once, with the world's bpm."""
    hr = world.heart_rate()
    lo = int(hr.t[-1]) - 2 * 86_400
    hi = lo + 86_400
    member = "heart_rate.sample_time.physical_time"
    points = service.users().dataTypes().dataPoints()
    pages = every_page(
        points.list(
            parent="users/me/dataTypes/heart-rate",
            filter=f'{member} >= "{iso(lo)}" AND {member} < "{iso(hi)}"',
            pageSize=10000,
        ),
        points.list_next,
    )
    assert len(pages) > 1
    got = [
        (p["heartRate"]["sampleTime"]["physicalTime"], int(p["heartRate"]["beatsPerMinute"]))
        for page in pages
        for p in page.get("dataPoints", [])
    ]
    keep = (hr.t >= lo) & (hr.t < hi)
    want = list(zip([iso(t) for t in hr.t[keep].tolist()], hr.bpm[keep].tolist(), strict=True))
    assert len(got) == len(set(got)) == len(want)
    assert set(got) == set(want)


def test_all_sleep_pages_through_list_next(service: Any, world: World) -> None:
    """Every sleep session of the world arrives once across small pages, with its start and id."""
    sessions = world.sleep()
    member = "sleep.interval.end_time"
    first, last = iso(sessions[0].end_s), iso(sessions[-1].end_s + 1)
    points = service.users().dataTypes().dataPoints()
    pages = every_page(
        points.list(
            parent="users/me/dataTypes/sleep",
            filter=f'{member} >= "{first}" AND {member} < "{last}"',
            pageSize=5,
        ),
        points.list_next,
    )
    assert len(pages) > 1
    got = [
        (p["sleep"]["interval"]["startTime"], p["name"].rsplit("/", 1)[1])
        for page in pages
        for p in page.get("dataPoints", [])
    ]
    want = [(iso(s.start_s), str(s.id)) for s in sessions]
    assert sorted(got) == sorted(want)


def test_steps_roll_up_pages_through_roll_up_next(service: Any, world: World) -> None:
    """rollUp + rollUp_next (page token in the body) give the world's hourly step sums."""
    st = world.steps()
    end = (int(st.start[-1]) // 86_400) * 86_400
    start = end - 2 * 86_400
    points = service.users().dataTypes().dataPoints()
    body = {
        "range": {"startTime": iso(start), "endTime": iso(end)},
        "windowSize": "3600s",
        "pageSize": 10,
    }
    pages = every_page(
        points.rollUp(parent="users/me/dataTypes/steps", body=body), points.rollUp_next
    )
    assert len(pages) > 1
    got = {
        p["startTime"]: int(p["steps"]["countSum"])
        for page in pages
        for p in page.get("rollupDataPoints", [])
    }
    keep = (st.start >= start) & (st.start < end)
    hours = (st.start[keep] - start) // 3600
    sums = np.bincount(hours, weights=st.count[keep])
    want = {iso(start + 3600 * h): int(sums[h]) for h in np.unique(hours).tolist()}
    assert got == want
    assert sum(got.values()) == int(st.count[keep].sum()) > 0


def test_get_identity(service: Any, world: World) -> None:
    """users().getIdentity answers the world's health and legacy user ids."""
    identity = service.users().getIdentity(name="users/me/identity").execute()
    assert identity == {
        "name": "users/me/identity",
        "healthUserId": world.person.health_user_id,
        "legacyUserId": world.person.legacy_user_id,
    }


@pytest.mark.parametrize(
    "dtype",
    [t for t in catalog.STORED_TYPES if t.list and t.name not in ("sleep", "heart-rate")],
    ids=lambda t: t.name,
)
def test_every_listable_type_pages_through_list_next(
    service: Any, world: World, dtype: catalog.DataType
) -> None:
    """Google's generated client walks each type to the end; it gets every point the world has."""
    points = service.users().dataTypes().dataPoints()
    pages = every_page(
        points.list(parent=f"users/me/dataTypes/{dtype.name}", pageSize=min(dtype.page_cap, 5000)),
        points.list_next,
    )
    got = [p for page in pages for p in page.get("dataPoints", [])]
    rec = world.records(dtype.name)
    rows = sum(len(p[dtype.camel].get(dtype.explode, [None])) for p in got)
    assert rows == len(rec["device"])
    assert all(set(p) - {"name", "dataSource"} == {dtype.camel} for p in got)
