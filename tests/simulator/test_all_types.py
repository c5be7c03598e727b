"""Every stored type served from one world: pages equal records, roll-ups equal per-day rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx2
import numpy as np
import pytest

from fitvault import catalog
from fitvault.catalog import DataType
from fitvault.simulator.world import World, reconciled
from tests.simulator.helpers import columns_equal, decode_children, decode_point

LISTABLE = [t for t in catalog.STORED_TYPES if t.list and t.name != "sleep"]
ROLLUP_ONLY = [t for t in catalog.STORED_TYPES if t.rollup_only]


def all_pages(
    api: httpx2.Client, dtype: DataType, verb: str = "", **params: Any
) -> list[dict[str, Any]]:
    """Every point of a list (or reconcile) walk, in the order served."""
    points: list[dict[str, Any]] = []
    token = None
    for _ in range(2000):
        query = dict(params) | ({"pageToken": token} if token else {})
        resp = api.get(f"/v4/users/me/dataTypes/{dtype.name}/dataPoints{verb}", params=query)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        points += page.get("dataPoints", [])
        token = page.get("nextPageToken")
        if not token:
            return points
    raise AssertionError("paging does not end")


@pytest.mark.parametrize("dtype", LISTABLE, ids=lambda t: t.name)
def test_list_pages_concatenate_to_the_worlds_records(
    api: httpx2.Client, world: World, dtype: DataType
) -> None:
    """Walking list to the end and reading each point back gives exactly world.records(type)."""
    size = str(min(dtype.page_cap, 1000 if dtype.name != "heart-rate" else 5000))
    points = all_pages(api, dtype, pageSize=size)
    rows = [r for p in reversed(points) for r in decode_point(dtype, p)]
    rec = world.records(dtype.name)
    assert columns_equal(rows, rec) == []
    for child in dtype.children:
        got = [r for p in reversed(points) for r in decode_children(dtype, p)[child.table]]
        assert columns_equal(got, world.child_records(dtype.name, child.table)) == []


@pytest.mark.parametrize(
    "dtype", [t for t in LISTABLE if catalog.Op.RECONCILE in t.ops], ids=lambda t: t.name
)
def test_reconcile_serves_the_reconciled_stream(
    api: httpx2.Client, world: World, dtype: DataType
) -> None:
    """reconcile holds the reconciled records, without dataSource, names as dataPointName."""
    points = all_pages(api, dtype, ":reconcile", pageSize="2000")
    assert all("dataSource" not in p and "name" not in p for p in points)
    assert all(("dataPointName" in p) == dtype.identifiable for p in points)
    rows = [r for p in reversed(points) for r in decode_point(dtype, p)]
    want = dict(reconciled(world.records(dtype.name)))
    want.pop("device")
    want.pop("platform")
    assert columns_equal(rows, want) == []


def _daily_body(first: dt.date, end: dt.date) -> dict[str, Any]:
    d = {k: {"date": {"year": x.year, "month": x.month, "day": x.day}}
         for k, x in (("start", first), ("end", end))}  # fmt: skip
    return {"range": d, "windowSizeDays": 1}


@pytest.mark.parametrize("dtype", ROLLUP_ONLY, ids=lambda t: t.name)
def test_rollup_only_records_equal_daily_rollup(
    api: httpx2.Client, world: World, dtype: DataType
) -> None:
    """floors, total-calories, calories-in-heart-rate-zone: records == dailyRollUp, day by day."""
    rec = world.records(dtype.name)
    first, end = world.start, world.last + dt.timedelta(days=1)
    resp = api.post(
        f"/v4/users/me/dataTypes/{dtype.name}/dataPoints:dailyRollUp", json=_daily_body(first, end)
    )
    assert resp.status_code == 200, resp.text
    rows = []
    for p in reversed(resp.json()["rollupDataPoints"]):
        date = dt.date(**p["civilStartTime"]["date"])
        value = p[dtype.camel]
        if dtype.explode:
            for item in value[dtype.explode]:
                rows.append({"date": date} | {f.column: item[f.path[2:]] for f in dtype.fields})
        else:
            (f,) = dtype.fields
            raw = value[f.path]
            rows.append({"date": date, f.column: int(raw) if f.conv is catalog.Conv.INT64 else raw})
    want = {k: v for k, v in rec.items() if k not in ("device", "platform")}
    assert columns_equal(rows, want) == []


def test_list_of_a_rollup_only_type_is_refused(api: httpx2.Client) -> None:
    """list on floors → 400 "List is not supported for data type floors" (measured)."""
    resp = api.get("/v4/users/me/dataTypes/floors/dataPoints")
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "List is not supported for data type floors"


@pytest.mark.parametrize("name", ["menstrual-period", "ovulation-test", "symptoms", "moods"])
def test_write_only_types_cannot_be_listed(api: httpx2.Client, name: str) -> None:
    """Write-only types: without their scope 403; the API never lists them."""
    resp = api.get(f"/v4/users/me/dataTypes/{name}/dataPoints")
    assert resp.status_code in (400, 403)


@pytest.mark.parametrize("dtype", [t for t in LISTABLE if t.identifiable], ids=lambda t: t.name)
def test_get_by_id_returns_the_listed_point(api: httpx2.Client, dtype: DataType) -> None:
    """Every identifiable type: the name a list gives is a get-able resource."""
    points = all_pages(api, dtype, pageSize="25")
    if not points:
        pytest.skip("this world has none")
    point = points[0]
    resp = api.get("/v4/" + point["name"])
    assert resp.status_code == 200, resp.text
    assert resp.json() == point


def test_reconciled_steps_per_day_equal_daily_rollup(api: httpx2.Client, world: World) -> None:
    """Reconcile rule: all watch minutes + phone minutes no watch minute overlaps == dailyRollUp."""
    rec = world.records("steps")
    phone = np.array([p != "FITBIT" for p in rec["platform"]])
    assert phone.any()
    assert (~phone).any()
    watch_minutes = set(rec["start_time"][~phone].tolist())
    only = [t for t in rec["start_time"][phone].tolist() if t not in watch_minutes]
    both = [t for t in rec["start_time"][phone].tolist() if t in watch_minutes]
    assert only, "the world has phone-only minutes"
    assert both, "and phone minutes the watch also counted"
    rows = reconciled(rec)
    kept = set(np.asarray(rows["start_time"])[[p != "FITBIT" for p in rows["platform"]]].tolist())
    assert kept == set(only)
    days = (rows["start_time"] + rows["utc_offset_s"]) // 86_400
    want: dict[dt.date, int] = {}
    for d, c in zip(days.tolist(), rows["count"].tolist(), strict=True):
        key = dt.date(1970, 1, 1) + dt.timedelta(days=d)
        want[key] = want.get(key, 0) + c
    first, last = min(want), max(want)
    resp = api.post(
        "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp",
        json=_daily_body(first, last + dt.timedelta(days=1)),
    )
    got = {dt.date(**p["civilStartTime"]["date"]): int(p["steps"]["countSum"])
           for p in resp.json()["rollupDataPoints"]}  # fmt: skip
    assert got == want
