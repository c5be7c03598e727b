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


def _window(world: World, dtype: DataType) -> tuple[str, Any, Any]:
    """A 4-day window in the middle of the world on the type's catalog filter member."""
    lo_d = world.start + dt.timedelta(days=4)
    hi_d = lo_d + dt.timedelta(days=4)
    if dtype.axis is catalog.Axis.DATE:
        return f'{dtype.filter_member} >= "{lo_d}" AND {dtype.filter_member} < "{hi_d}"', lo_d, hi_d
    if dtype.axis is catalog.Axis.CIVIL:
        a, b = f"{lo_d}T00:00:00", f"{hi_d}T00:00:00"
        return f'{dtype.filter_member} >= "{a}" AND {dtype.filter_member} < "{b}"', lo_d, hi_d
    lo = int(dt.datetime.combine(lo_d, dt.time(), dt.UTC).timestamp())
    hi = int(dt.datetime.combine(hi_d, dt.time(), dt.UTC).timestamp())
    iso = [dt.datetime.fromtimestamp(x, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for x in (lo, hi)]
    if dtype.lower_bound_only:
        return f'{dtype.filter_member} >= "{iso[0]}"', lo, None
    return f'{dtype.filter_member} >= "{iso[0]}" AND {dtype.filter_member} < "{iso[1]}"', lo, hi


def _in_window(world: World, dtype: DataType, lo: Any, hi: Any) -> np.ndarray:
    rec = world.records(dtype.name)
    if dtype.axis is catalog.Axis.DATE:
        return np.array([lo <= d < hi for d in rec["date"]], dtype=bool)
    if dtype.axis is catalog.Axis.CIVIL:
        local = rec["start_time"] + rec["start_utc_offset_s"]
        days = [dt.date(1970, 1, 1) + dt.timedelta(days=int(x)) for x in (local // 86_400)]
        return np.array([lo <= d < hi for d in days], dtype=bool)
    t = rec["time"] if "time" in rec else rec["start_time"]
    return np.asarray((t >= lo) & (t < (hi if hi is not None else 1 << 62)))


@pytest.mark.parametrize("dtype", LISTABLE, ids=lambda t: t.name)
def test_a_filtered_window_gives_exactly_the_records_in_it(
    api: httpx2.Client, world: World, dtype: DataType
) -> None:
    """The catalog's filter member and axis select exactly the records a sync window expects."""
    text, lo, hi = _window(world, dtype)
    points = all_pages(api, dtype, pageSize=str(dtype.page_cap), filter=text)
    rows = [r for p in reversed(points) for r in decode_point(dtype, p)]
    keep = np.flatnonzero(_in_window(world, dtype, lo, hi))
    rec = world.records(dtype.name)
    want = {k: [v[i] for i in keep.tolist()] for k, v in rec.items()}
    assert columns_equal(rows, want) == []


def test_operations_and_range_limits_come_from_the_catalog(
    api: httpx2.Client, world: World
) -> None:
    """active-minutes rollUp ≤ 14 days, steps ≤ 90; no dailyRollUp for activity-level."""
    start = dt.datetime.combine(world.start, dt.time(), dt.UTC)

    def roll(name: str, days: int) -> httpx2.Response:
        end = start + dt.timedelta(days=days)
        span = {"startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
        return api.post(
            f"/v4/users/me/dataTypes/{name}/dataPoints:rollUp",
            json={"range": span, "windowSize": "86400s"},
        )

    assert roll("active-minutes", 14).status_code == 200
    assert roll("active-minutes", 15).status_code == 400
    assert roll("steps", 90).status_code == 200
    first = world.start
    resp = api.post(
        "/v4/users/me/dataTypes/activity-level/dataPoints:dailyRollUp",
        json=_daily_body(first, first + dt.timedelta(days=1)),
    )
    assert resp.status_code == 400
    assert "DailyRollup is not supported for data type activity-level" in resp.text
    assert (
        api.get("/v4/users/me/dataTypes/electrocardiogram/dataPoints:reconcile").status_code == 400
    )


def test_google_wearables_family_is_the_watch_alone(api: httpx2.Client, world: World) -> None:
    """family google-wearables: no phone steps, no manual logs; its roll-ups sum the watch only."""
    family = "users/me/dataSourceFamilies/google-wearables"
    steps = all_pages(api, catalog.get("steps"), pageSize="10000", dataSourceFamily=family)
    assert {p["dataSource"]["platform"] for p in steps} == {"FITBIT"}
    assert len(steps) == world.steps().start.size
    logs = all_pages(api, catalog.get("nutrition-log"), dataSourceFamily=family)
    assert logs == []
    st = world.steps()
    first = world.start + dt.timedelta(days=2)
    body = _daily_body(first, first + dt.timedelta(days=6)) | {"dataSourceFamily": family}
    resp = api.post("/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp", json=body)
    got = sum(int(p["steps"]["countSum"]) for p in resp.json()["rollupDataPoints"])
    day = (st.start + st.offset_s) // 86_400
    lo = (first - dt.date(1970, 1, 1)).days
    assert got == int(st.count[(day >= lo) & (day < lo + 6)].sum())


@pytest.mark.parametrize("size", ["1", "2", "3", "7"])
def test_tiny_pages_never_split_two_devices_minute(
    api: httpx2.Client, world: World, size: str
) -> None:
    """Watch and phone points at one instant survive any page boundary (cursor tie-break)."""
    rec = world.records("steps")
    phone = np.flatnonzero([p != "FITBIT" for p in rec["platform"]])
    shared = [i for i in phone.tolist() if rec["start_time"][i - 1] == rec["start_time"][i]]
    assert shared, "the world has a minute both devices counted"
    t = int(rec["start_time"][shared[len(shared) // 2]])
    lo, hi = t - 1200, t + 1200
    iso = [dt.datetime.fromtimestamp(x, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for x in (lo, hi)]
    member = "steps.interval.start_time"
    text = f'{member} >= "{iso[0]}" AND {member} < "{iso[1]}"'
    points = all_pages(api, catalog.get("steps"), pageSize=size, filter=text)
    rows = [r for p in reversed(points) for r in decode_point(catalog.get("steps"), p)]
    keep = np.flatnonzero((rec["start_time"] >= lo) & (rec["start_time"] < hi))
    assert columns_equal(rows, {k: [v[i] for i in keep.tolist()] for k, v in rec.items()}) == []


def test_one_type_builds_only_what_it_needs() -> None:
    """Weight of a fresh world needs no heart rate, minute grid or steps (series are lazy)."""
    w = World.default(days=30, seed=3, now=dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC))
    w.records("weight")
    assert not {"_hr", "grid", "_steps", "_unit_steps"} & set(vars(w))
    w.records("distance")
    assert {"_hr", "grid", "_steps"} <= set(vars(w))
