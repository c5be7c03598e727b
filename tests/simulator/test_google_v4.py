"""The simulator's Google Health API v4 face: paging quirks, shapes and errors (spec §1, §6, §8)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx2
import numpy as np
import pytest

from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World, reconciled
from tests.conftest import NOW, FakeClock
from tests.simulator.helpers import READ_SCOPES, token_response

HR_PATH = "/v4/users/me/dataTypes/heart-rate/dataPoints"


def iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hr_filter(lo: int, hi: int) -> str:
    m = "heart_rate.sample_time.physical_time"
    return f'{m} >= "{iso(lo)}" AND {m} < "{iso(hi)}"'


def walk(api: httpx2.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """All pages of a list call, following nextPageToken until it is absent or empty."""
    pages, token = [], None
    while True:
        resp = api.get(path, params=params | ({"pageToken": token} if token else {}))
        assert resp.status_code == 200, resp.text
        page = resp.json()
        pages.append(page)
        token = page.get("nextPageToken")
        if not token:
            return pages


def test_heart_rate_pages_are_newest_first_with_int64_strings(
    api: httpx2.Client, world: World
) -> None:
    """Points come newest first; beatsPerMinute is a JSON string; the page holds the asked size."""
    hr = world.heart_rate()
    lo, hi = int(hr.t[-3000]), int(hr.t[-1]) + 1
    page = api.get(HR_PATH, params={"filter": hr_filter(lo, hi), "pageSize": "100"}).json()
    points = page["dataPoints"]
    assert len(points) == 100
    assert page["nextPageToken"]
    times = [p["heartRate"]["sampleTime"]["physicalTime"] for p in points]
    assert times == sorted(times, reverse=True)
    assert times[0] == iso(int(hr.t[-1]))
    first = points[0]["heartRate"]
    assert first["beatsPerMinute"] == str(int(hr.bpm[-1]))
    assert first["sampleTime"]["utcOffset"] == f"{int(hr.offset_s[-1])}s"
    assert points[0]["dataSource"]["platform"] == "FITBIT"
    assert "name" not in points[0]


def test_heart_rate_page_size_is_capped_near_5000_and_defaults_to_50(
    api: httpx2.Client, world: World
) -> None:
    """Asking for 10 000 heart-rate points returns 5 000; asking nothing returns 50."""
    hr = world.heart_rate()
    flt = hr_filter(int(hr.t[0]), int(hr.t[-1]) + 1)
    big = api.get(HR_PATH, params={"filter": flt, "pageSize": "10000"}).json()
    assert len(big["dataPoints"]) == 5000
    small = api.get(HR_PATH, params={"filter": flt}).json()
    assert len(small["dataPoints"]) == 50


def test_walking_a_window_returns_exactly_the_worlds_points(
    api: httpx2.Client, world: World
) -> None:
    """Every reading in the window arrives exactly once across the pages."""
    hr = world.heart_rate()
    lo, hi = int(hr.t[len(hr.t) // 3]), int(hr.t[len(hr.t) // 3 + 12_345])
    pages = walk(api, HR_PATH, {"filter": hr_filter(lo, hi), "pageSize": "10000"})
    got = [
        p["heartRate"]["sampleTime"]["physicalTime"]
        for pg in pages
        for p in pg.get("dataPoints", [])
    ]
    want = [iso(t) for t in hr.t[(hr.t >= lo) & (hr.t < hi)]]
    assert sorted(got) == sorted(want)
    assert len(got) == len(set(got))


def test_a_day_long_gap_gives_an_empty_page_that_still_has_a_token(
    api: httpx2.Client, world: World
) -> None:
    """Over a stretch with no readings for more than a day, a page can be empty yet not the last."""
    t = world.heart_rate().t
    gaps = np.diff(t)
    k = int(np.argmax(gaps))
    assert gaps[k] > 86_400, "the world should contain a day-long off-wrist gap"
    lo, hi = int(t[k]) - 600, int(t[k + 1]) + 600
    pages = walk(api, HR_PATH, {"filter": hr_filter(lo, hi), "pageSize": "10000"})
    assert any(not pg.get("dataPoints") and pg.get("nextPageToken") for pg in pages)
    total = sum(len(pg.get("dataPoints", [])) for pg in pages)
    assert total == int(((t >= lo) & (t < hi)).sum())


def test_a_full_last_page_is_followed_by_an_empty_object(api: httpx2.Client, world: World) -> None:
    """No look-ahead: when the data ends exactly on a full page, the next page is `{}`."""
    t = world.heart_rate().t
    lo, hi = int(t[100]), int(t[140])
    first = api.get(HR_PATH, params={"filter": hr_filter(lo, hi), "pageSize": "40"})
    assert len(first.json()["dataPoints"]) == 40
    token = first.json()["nextPageToken"]
    last = api.get(
        HR_PATH, params={"filter": hr_filter(lo, hi), "pageSize": "40", "pageToken": token}
    )
    assert last.content == b"{}"


def test_page_token_is_bound_to_the_other_parameters(api: httpx2.Client, world: World) -> None:
    """Replaying a token with a different filter is refused."""
    t = world.heart_rate().t
    first = api.get(
        HR_PATH, params={"filter": hr_filter(int(t[0]), int(t[500])), "pageSize": "10"}
    ).json()
    resp = api.get(
        HR_PATH,
        params={
            "filter": hr_filter(int(t[0]), int(t[600])),
            "pageSize": "10",
            "pageToken": first["nextPageToken"],
        },
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_sleep_pages_hold_at_most_25_sessions_filtered_by_end_time(
    api: httpx2.Client, world: World
) -> None:
    """Sleep: pageSize capped at 25, identifiable names, stages and summary, end-time filter."""
    sessions = world.sleep()
    end = sessions[-1].end_s
    flt = f'sleep.interval.end_time >= "{iso(sessions[0].end_s)}" AND sleep.interval.end_time < "{iso(end + 1)}"'
    page = api.get(
        "/v4/users/me/dataTypes/sleep/dataPoints", params={"filter": flt, "pageSize": "100"}
    ).json()
    points = page["dataPoints"]
    assert len(points) == min(25, len(sessions))
    newest = points[0]
    assert newest["name"].endswith(f"/dataTypes/sleep/dataPoints/{sessions[-1].id}")
    sl = newest["sleep"]
    assert sl["interval"]["endTime"] == iso(sessions[-1].end_s)
    assert sum(int(s["minutes"]) for s in sl["summary"]["stagesSummary"]) <= int(
        sl["summary"]["minutesInSleepPeriod"]
    )
    assert sl["stages"][0]["startTime"] == sl["interval"]["startTime"]
    assert sl["stages"][-1]["endTime"] == sl["interval"]["endTime"]


def test_sleep_refuses_a_data_source_family(api: httpx2.Client) -> None:
    """dataSourceFamily is not supported for sleep list."""
    resp = api.get(
        "/v4/users/me/dataTypes/sleep/dataPoints",
        params={"dataSourceFamily": "users/me/dataSourceFamilies/all-sources"},
    )
    assert resp.status_code == 400


def test_reconcile_points_have_data_point_name_and_no_source(api: httpx2.Client) -> None:
    """Reconciled points carry dataPointName instead of name, and no dataSource."""
    page = api.get(
        "/v4/users/me/dataTypes/sleep/dataPoints:reconcile", params={"pageSize": "3"}
    ).json()
    for point in page["dataPoints"]:
        assert "dataPointName" in point
        assert "name" not in point
        assert "dataSource" not in point


def test_get_sleep_by_id_and_unknown_id(api: httpx2.Client, world: World) -> None:
    """get returns the bare DataPoint; an unknown id is NOT_FOUND / RESOURCE_NOT_FOUND."""
    s = world.sleep()[0]
    got = api.get(f"/v4/users/me/dataTypes/sleep/dataPoints/{s.id}")
    assert got.status_code == 200
    assert got.json()["sleep"]["interval"]["startTime"] == iso(s.start_s)
    missing = api.get("/v4/users/me/dataTypes/sleep/dataPoints/123")
    assert missing.status_code == 404
    assert missing.json()["error"]["details"][0]["reason"] == "RESOURCE_NOT_FOUND"


def _local_day_sums(world: World) -> dict[dt.date, int]:
    st = reconciled(world.records("steps"))  # the watch, plus phone minutes it did not count
    days = (st["start_time"] + st["utc_offset_s"]) // 86_400
    out: dict[dt.date, int] = {}
    for d, c in zip(days.tolist(), st["count"].tolist(), strict=True):
        key = dt.date(1970, 1, 1) + dt.timedelta(days=d)
        out[key] = out.get(key, 0) + c
    return out


def test_steps_daily_rollup_sums_civil_days_newest_first(api: httpx2.Client, world: World) -> None:
    """dailyRollUp: closed-open civil days in each point's own offset, newest first, int64 strings."""
    sums = _local_day_sums(world)
    first, last = min(sums), max(sums)
    body = {
        "range": {
            "start": {"date": {"year": first.year, "month": first.month, "day": first.day}},
            "end": {"date": {"year": last.year, "month": last.month, "day": last.day}},
        },
        "windowSizeDays": 1,
    }
    resp = api.post("/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp", json=body).json()
    points = resp["rollupDataPoints"]
    got = {dt.date(**p["civilStartTime"]["date"]): int(p["steps"]["countSum"]) for p in points}
    assert got == {d: s for d, s in sums.items() if d < last}
    assert points[0]["civilStartTime"]["time"] == {}
    dates = [dt.date(**p["civilStartTime"]["date"]) for p in points]
    assert dates == sorted(dates, reverse=True)


def test_daily_rollup_rejects_leading_zero_numbers(api: httpx2.Client) -> None:
    """ "month": 09 is not JSON; the API says so."""
    raw = b'{"range":{"start":{"date":{"year":2026,"month":09,"day":1}},"end":{"date":{"year":2026,"month":10,"day":1}}}}'
    resp = api.post(
        "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert "Octal/hex numbers are not valid JSON values" in resp.json()["error"]["message"]


def test_rollup_buckets_truncate_the_last_window_and_omit_empty_ones(
    api: httpx2.Client, world: World
) -> None:
    """rollUp: windows from range.startTime, last one cut at endTime, no-data windows absent."""
    st = world.steps()
    start = int(st.start[0]) - int(st.start[0]) % 3600
    end = start + 5 * 86_400 + 1800
    body = {"range": {"startTime": iso(start), "endTime": iso(end)}, "windowSize": "3600s"}
    points = api.post("/v4/users/me/dataTypes/steps/dataPoints:rollUp", json=body).json()[
        "rollupDataPoints"
    ]
    total = sum(int(p["steps"]["countSum"]) for p in points)
    rec = reconciled(world.records("steps"))
    inside = (rec["start_time"] >= start) & (rec["start_time"] < end)
    assert total == int(rec["count"][inside].sum())
    assert all(int(p["steps"]["countSum"]) > 0 for p in points)
    assert len(points) < 5 * 24 + 1  # nights and off-wrist hours are absent


def test_rollups_honour_the_data_source_family(api: httpx2.Client, world: World) -> None:
    """A bogus family is refused; self-sources (what this client wrote) is empty."""
    st = world.steps()
    start = int(st.start[0]) - int(st.start[0]) % 3600
    body = {
        "range": {"startTime": iso(start), "endTime": iso(start + 86_400)},
        "windowSize": "3600s",
    }
    path = "/v4/users/me/dataTypes/steps/dataPoints:rollUp"
    bogus = api.post(path, json=body | {"dataSourceFamily": "users/me/dataSourceFamilies/bogus"})
    assert bogus.status_code == 400
    mine = api.post(
        path, json=body | {"dataSourceFamily": "users/me/dataSourceFamilies/self-sources"}
    )
    assert mine.status_code == 200
    assert mine.json() == {}
    every = api.post(
        path, json=body | {"dataSourceFamily": "users/me/dataSourceFamilies/all-sources"}
    )
    assert every.json()["rollupDataPoints"]


def test_heart_rate_rollup_is_limited_to_14_days(api: httpx2.Client, world: World) -> None:
    """Heart-rate roll-ups over more than 14 days are refused."""
    t0 = int(world.heart_rate().t[0])
    body = {
        "range": {"startTime": iso(t0), "endTime": iso(t0 + 15 * 86_400)},
        "windowSize": "86400s",
    }
    assert (
        api.post("/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp", json=body).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        (
            "/v4/users/me/dataTypes/heart_rate/dataPoints",
            400,
            "INVALID_PARENT_DATA_TYPE_COLLECTION",
        ),
        ("/v4/users/me/dataTypes/floors/dataPoints", 400, None),
        ("/v4/users/someone-else/dataTypes/steps/dataPoints", 403, None),
    ],
)
def test_error_bodies_are_google_rpc_status(
    api: httpx2.Client, path: str, status: int, reason: str | None
) -> None:
    """Errors are {"error": {code, message, status, details}} with the right HTTP status."""
    resp = api.get(path)
    assert resp.status_code == status
    err = resp.json()["error"]
    assert err["code"] == status
    assert err["message"]
    assert err["status"]
    if reason:
        assert err["details"][0]["reason"] == reason


def test_unknown_paths_get_an_html_404(api: httpx2.Client) -> None:
    """Paths outside the API answer with Google's HTML error page, not JSON."""
    resp = api.get("/v4/users/me/devices")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")


def test_missing_and_bad_tokens_are_401(served: tuple[Simulator, str]) -> None:
    """No token → CREDENTIALS_MISSING; a forged one → invalid_token, both UNAUTHENTICATED."""
    _, url = served
    with httpx2.Client(base_url=url) as client:
        none = client.get(HR_PATH)
        forged = client.get(HR_PATH, headers={"Authorization": "Bearer sim1.abc.def"})
    assert none.status_code == forged.status_code == 401
    assert none.json()["error"]["details"][0]["reason"] == "CREDENTIALS_MISSING"
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]


def test_a_missing_scope_is_403(served: tuple[Simulator, str]) -> None:
    """A token without the sleep scope cannot list sleep."""
    _, url = served
    with httpx2.Client(base_url=url) as client:
        scopes = [s for s in READ_SCOPES if ".sleep." not in s]
        token = token_response(client, scopes)["access_token"]
        resp = client.get(
            "/v4/users/me/dataTypes/sleep/dataPoints", headers={"Authorization": f"Bearer {token}"}
        )
    assert resp.status_code == 403
    assert resp.json()["error"]["status"] == "PERMISSION_DENIED"


def test_identity_profile_and_settings(api: httpx2.Client, world: World) -> None:
    """The account resources carry ids, membership start and the current time zone."""
    ident = api.get("/v4/users/me/identity").json()
    assert ident == {
        "name": "users/me/identity",
        "healthUserId": world.person.health_user_id,
        "legacyUserId": world.person.legacy_user_id,
    }
    profile = api.get("/v4/users/me/profile").json()
    start = world.person.membership_start
    assert profile["membershipStartDate"] == {
        "year": start.year,
        "month": start.month,
        "day": start.day,
    }
    settings = api.get("/v4/users/me/settings").json()
    assert settings["timeZone"] == world.person.home_zone
    assert settings["utcOffset"] == f"{world.offset_at(int(NOW.timestamp()))}s"


def test_quota_answers_429_with_retry_after_until_the_minute_passes(world: World) -> None:
    """Past the per-user quota the API answers 429 RESOURCE_EXHAUSTED with Retry-After."""
    clock = FakeClock(NOW.timestamp())
    sim = create_app(world, clock=clock, auto_approve=True, quota_per_minute=3)
    with serve_in_thread(sim.app) as url, httpx2.Client(base_url=url) as client:
        client.headers["Authorization"] = "Bearer " + token_response(client)["access_token"]
        codes = [client.get("/v4/users/me/identity").status_code for _ in range(3)]
        limited = client.get("/v4/users/me/identity")
        clock.advance(60)
        after = client.get("/v4/users/me/identity")
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert after.status_code == 200


def test_same_seed_serves_identical_bytes(world: World, api: httpx2.Client) -> None:
    """A second world with the same seed renders byte-identical pages."""
    twin = World.default(days=12, seed=7, now=NOW)
    sim = create_app(twin, clock=FakeClock(NOW.timestamp()), auto_approve=True)
    t = world.heart_rate().t
    params = {"filter": hr_filter(int(t[0]), int(t[3000])), "pageSize": "1000"}
    with serve_in_thread(sim.app) as url, httpx2.Client(base_url=url) as client:
        client.headers["Authorization"] = "Bearer " + token_response(client)["access_token"]
        theirs = client.get(HR_PATH, params=params).content
    assert theirs == api.get(HR_PATH, params=params).content
