"""The legacy Fitbit Web API face: real-sample shapes, agreement with the World and with the v4
face, OAuth with rotating refresh tokens, the hourly rate limit, the 410 and 1sec switches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx2
import numpy as np
import pytest

from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from tests.conftest import NOW, FakeClock
from tests.simulator.helpers import token_response
from tests.simulator.legacy_helpers import (
    have_samples,
    legacy_tokens,
    missing,
    sample,
    shape,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def legacy(world: World) -> Iterator[tuple[Simulator, str, FakeClock]]:
    clock = FakeClock(NOW.timestamp())
    sim = create_app(world, clock=clock, auto_approve=True, legacy_per_hour=1_000_000)
    with serve_in_thread(sim.app) as url:
        yield sim, url, clock


@pytest.fixture(scope="module")
def fb(legacy: tuple[Simulator, str, FakeClock]) -> Iterator[httpx2.Client]:
    """A client with a legacy access token holding every scope the face serves."""
    with httpx2.Client(base_url=legacy[1], timeout=60) as client:
        client.headers["Authorization"] = "Bearer " + legacy_tokens(client)["access_token"]
        yield client


def _day(world: World, n: int) -> str:
    return (world.start + dt.timedelta(days=n)).isoformat()


def _paths(world: World) -> dict[str, str]:
    d, d0, last = _day(world, 6), _day(world, 3), world.last.isoformat()
    u = "/1/user/-"
    return {
        "UserProfile": f"{u}/profile.json",
        "GetDevices-Double": f"{u}/devices.json",
        "GetHeartRateTimeSeries": f"{u}/activities/heart/date/{d}/7d.json",
        "GetHeartRateIntradayTimeSeries": f"{u}/activities/heart/date/{d}/1d/1min.json",
        "IntradayActivitiesSteps": f"{u}/activities/steps/date/{d}/1d/1min.json",
        "IntradayActivitiesCalories": f"{u}/activities/calories/date/{d}/1d/1min.json",
        "TimeSeries-ActivitiesSteps": f"{u}/activities/steps/date/{d0}/{d}.json",
        "GetActivities": f"{u}/activities/date/{d}.json",
        "ActiveZoneMinutes": f"{u}/activities/active-zone-minutes/date/{d0}/{d}.json",
        "TimeSeries-ActivitiesDistance": f"{u}/activities/distance/date/{d0}/{d}.json",
        "GetSleep": f"/1.2/user/-/sleep/date/{d}.json",
        "GetSleepRange": f"/1.2/user/-/sleep/date/{d0}/{d}.json",
        "GetSleepOld": f"{u}/sleep/date/{d}.json",
        "SleepLogList": f"/1.2/user/-/sleep/list.json?beforeDate={d}&sort=desc&limit=2&offset=1",
        "GetHRVSummaryByDate": f"{u}/hrv/date/{d}.json",
        "GetHRVSummaryByInterval": f"{u}/hrv/date/{d0}/{d}.json",
        "GetSpO2SummaryByDate": f"{u}/spo2/date/{d}.json",
        "GetSpO2SummaryByInterval": f"{u}/spo2/date/{d0}/{d}.json",
        "GetBreathingRateSummaryByDate": f"{u}/br/date/{d}.json",
        "GetBreathingRateIntradayByDate": f"{u}/br/date/{d}/all.json",
        "GetSpO2IntradayByDate": f"{u}/spo2/date/{d}/all.json",
        "GetSpO2IntradayByInterval": f"{u}/spo2/date/{d0}/{d}/all.json",
        "GetBreathingRateSummaryByInterval": f"{u}/br/date/{d0}/{d}.json",
        "GetCardioScoreSummaryByDate": f"{u}/cardioscore/date/{d}.json",
        "GetCardioScoreSummaryByInterval": f"{u}/cardioscore/date/{d0}/{d}.json",
        "GetWeight": f"{u}/body/log/weight/date/{last}/1m.json",
        "GetFat": f"{u}/body/log/fat/date/{last}/1m.json",
    }


SAMPLE_NAMES = list(_paths(World.default(days=12, seed=7, now=NOW)))


@pytest.mark.skipif(not have_samples(), reason="../shared/samples is absent")
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_bodies_have_the_real_samples_keys_and_types(
    name: str, world: World, fb: httpx2.Client
) -> None:
    """Every key of the real response body is there, with the same JSON type, down the tree."""
    resp = fb.get(_paths(world)[name])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body, "an empty body proves nothing about its shape"
    assert missing(shape(sample(name)), shape(body)) == []


@pytest.mark.skipif(not have_samples(), reason="../shared/samples is absent")
def test_token_and_error_bodies_have_the_real_shapes(
    legacy: tuple[Simulator, str, FakeClock],
) -> None:
    """The token response, the expired-token 401 and the no-header error look like Fitbit's."""
    _, url, clock = legacy
    with httpx2.Client(base_url=url) as client:
        tokens = legacy_tokens(client)
        assert missing(shape(sample("AccessToken")), shape(tokens)) == []
        assert tokens["expires_in"] == 28_800
        bare = client.get("/1/user/-/profile.json")
        assert bare.status_code == 400
        assert missing(shape(sample("ApiError-Request-Unauthorized")), shape(bare.json())) == []
        clock.now += 28_800
        try:
            stale = client.get(
                "/1/user/-/profile.json",
                headers={"Authorization": "Bearer " + tokens["access_token"]},
            )
        finally:
            clock.now -= 28_800
    assert stale.status_code == 401
    assert stale.json()["errors"][0]["errorType"] == "expired_token"
    assert missing(shape(sample("ApiError-Request-StaleToken")), shape(stale.json())) == []


# --- the same world through every door ---------------------------------------------------------


def _overlay(log: dict[str, Any], world: World, start: int) -> list[tuple[int, int, str]]:
    """(seconds since the log's start, seconds, level) runs of data with shortData laid over.

    ``data`` is contiguous, so its items are placed by their running sum of seconds. A short
    wake's local wall time is turned back into an instant with the world's offsets, taking the
    first instant after the previous wake (a night across a clock change repeats local times).
    """
    ticks, at = {}, 0
    for item in log["levels"]["data"]:
        ticks.update(dict.fromkeys(range(at, at + item["seconds"], 30), item["level"]))
        at += item["seconds"]
    floor = 0
    offsets = {world.offset_at(start), world.offset_at(start + at)}
    for short in log["levels"].get("shortData", []):
        local = dt.datetime.fromisoformat(short["dateTime"]).replace(tzinfo=dt.UTC).timestamp()
        instants = sorted(
            int(local) - off for off in offsets if world.offset_at(int(local) - off) == off
        )
        pos = next(u - start for u in instants if u - start >= floor)
        ticks.update(dict.fromkeys(range(pos, pos + short["seconds"], 30), "wake"))
        floor = pos
    runs: list[tuple[int, int, str]] = []
    for k in sorted(ticks):
        if runs and runs[-1][2] == ticks[k]:
            runs[-1] = (runs[-1][0], runs[-1][1] + 30, ticks[k])
        else:
            runs.append((k, 30, ticks[k]))
    return runs


def _v4_runs(night: dict[str, Any]) -> list[tuple[int, int, str]]:
    if night["type"] == "STAGES":
        names = {"AWAKE": "wake", "LIGHT": "light", "DEEP": "deep", "REM": "rem"}
    else:
        names = {"AWAKE": "awake", "RESTLESS": "restless", "ASLEEP": "asleep"}

    def at(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))

    first = at(night["interval"]["startTime"])
    return [
        (
            int((at(st["startTime"]) - first).total_seconds()),
            int((at(st["endTime"]) - at(st["startTime"])).total_seconds()),
            names[st["type"]],
        )
        for st in night["stages"]
    ]


def test_the_same_night_has_the_same_stages_as_on_v4() -> None:
    """Every sleep of a month (naps too): legacy data + shortData equals v4's stages."""
    month = World.default(days=30, seed=7, now=NOW)  # long enough to hold classic naps
    sim = create_app(month, clock=FakeClock(NOW.timestamp()), auto_approve=True)
    with serve_in_thread(sim.app) as url, httpx2.Client(base_url=url, timeout=60) as client:
        client.headers["Authorization"] = "Bearer " + token_response(client)["access_token"]
        points: list[dict[str, Any]] = []
        params = {"pageSize": "100"}
        while True:
            page = client.get("/v4/users/me/dataTypes/sleep/dataPoints", params=params).json()
            points += page.get("dataPoints", [])
            if "nextPageToken" not in page:
                break
            params["pageToken"] = page["nextPageToken"]
        client.headers["Authorization"] = "Bearer " + legacy_tokens(client)["access_token"]
        resp = client.get(f"/1.2/user/-/sleep/date/{month.start}/{month.last}.json")
    v4_nights = {int(p["name"].rsplit("/", 1)[1]) % 10**11: p["sleep"] for p in points}
    logs = {log["logId"]: log for log in resp.json()["sleep"]}
    assert len(logs) == len(month.sleep()) == len(v4_nights) > 25
    assert {log["type"] for log in logs.values()} == {"stages", "classic"}
    assert any(log["levels"].get("shortData") for log in logs.values())
    for log_id, night in v4_nights.items():
        start = int(dt.datetime.fromisoformat(night["interval"]["startTime"]).timestamp())
        assert _overlay(logs[log_id], month, start) == _v4_runs(night), log_id


def _local_day(world: World, day: str) -> tuple[np.ndarray, np.ndarray]:
    """The world's heart-rate samples on a local date: (local second of day, bpm)."""
    hr = world.heart_rate()
    local = hr.t + hr.offset_s.astype(np.int64)
    first = (dt.date.fromisoformat(day) - dt.date(1970, 1, 1)).days * 86_400
    keep = (local >= first) & (local < first + 86_400)
    return local[keep] - first, hr.bpm[keep]


def test_1sec_heart_rate_is_every_world_sample_at_its_local_time(
    world: World, fb: httpx2.Client
) -> None:
    """1sec lists each reading of the day once, with the world's bpm at the local wall time."""
    day = _day(world, 5)
    body = fb.get(f"/1/user/-/activities/heart/date/{day}/1d/1sec.json").json()
    intraday = body["activities-heart-intraday"]
    assert (intraday["datasetInterval"], intraday["datasetType"]) == (1, "second")
    sec, bpm = _local_day(world, day)
    expected = [
        {"time": f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}", "value": int(b)}
        for s, b in zip(sec.tolist(), bpm.tolist(), strict=True)
    ]
    assert len(expected) > 5_000
    assert intraday["dataset"] == expected


def test_1min_heart_rate_is_the_world_minute_grid(world: World, fb: httpx2.Client) -> None:
    """Each 1min value is the world's own per-minute heart rate (the grid v4 roll-ups use)."""
    day = _day(world, 5)
    body = fb.get(f"/1/user/-/activities/heart/date/{day}/1d/1min.json").json()
    got = {x["time"]: x["value"] for x in body["activities-heart-intraday"]["dataset"]}
    g = world.grid
    first = (dt.date.fromisoformat(day) - dt.date(1970, 1, 1)).days * 86_400
    local = g.t + g.offset
    sec, _ = _local_day(world, day)
    with_samples = set((sec // 60).tolist())
    expected = {
        f"{(x - first) // 3600:02d}:{(x - first) % 3600 // 60:02d}:00": int(h)
        for x, h in zip(local.tolist(), g.hr.tolist(), strict=True)
        if first <= x < first + 86_400 and (x - first) // 60 in with_samples
    }
    assert len(expected) > 1_000
    assert {k: got[k] for k in expected} == expected


def test_timezone_utc_gives_utc_wall_times(world: World, fb: httpx2.Client) -> None:
    """?timezone=UTC answers the UTC day's readings at their UTC times."""
    day = _day(world, 5)
    body = fb.get(
        f"/1/user/-/activities/heart/date/{day}/1d/1sec/time/12:00/12:09.json",
        params={"timezone": "UTC"},
    ).json()
    hr = world.heart_rate()
    start = int(dt.datetime.fromisoformat(day + "T12:00:00+00:00").timestamp())
    keep = (hr.t >= start) & (hr.t < start + 600)
    first = body["activities-heart-intraday"]["dataset"][0]
    assert first == {
        "time": dt.datetime.fromtimestamp(int(hr.t[keep][0]), dt.UTC).strftime("%H:%M:%S"),
        "value": int(hr.bpm[keep][0]),
    }
    assert len(body["activities-heart-intraday"]["dataset"]) == int(keep.sum())


def test_daily_steps_and_resting_heart_rate_are_the_worlds(world: World, fb: httpx2.Client) -> None:
    """Daily steps sum the watch's minutes of the local day; restingHeartRate is the world's."""
    first, last = _day(world, 2), _day(world, 8)
    steps = fb.get(f"/1/user/-/activities/steps/date/{first}/{last}.json").json()
    g = world.grid
    for item in steps["activities-steps"]:
        epoch_day = (dt.date.fromisoformat(item["dateTime"]) - dt.date(1970, 1, 1)).days
        assert item["value"] == str(int(g.steps[g.day == epoch_day].sum()))
    heart = fb.get(f"/1/user/-/activities/heart/date/{first}/{last}.json").json()
    resting = {v.date.isoformat(): v.value for v in world.resting_heart_rate()}
    assert {x["dateTime"]: x["value"]["restingHeartRate"] for x in heart["activities-heart"]} == {
        d: resting[d] for d in (x["dateTime"] for x in heart["activities-heart"])
    }


def test_thirty_day_averages_are_over_the_main_sleeps_before(
    world: World, fb: httpx2.Client
) -> None:
    """thirtyDayAvgMinutes is the mean of each stage over the main sleeps ending in the 30 days
    before the night's date (the first night has none, so 0)."""
    resp = fb.get(f"/1.2/user/-/sleep/date/{world.start}/{world.last}.json").json()
    mains = [s for s in world.sleep() if s.main_sleep]
    by_id = {log["logId"]: log for log in resp["sleep"]}
    for i, night in enumerate(mains):
        summary = by_id[night.id % 10**11]["levels"]["summary"]
        before = mains[max(0, i - 30) : i]  # one main sleep a night; 12 days < 30
        for stage, level in (("DEEP", "deep"), ("REM", "rem"), ("LIGHT", "light")):
            mean = (
                sum(s.minutes_by_stage.get(stage, 0) for s in before) / len(before) if before else 0
            )
            assert summary[level]["thirtyDayAvgMinutes"] == round(mean)


def test_units_follow_accept_language(world: World, fb: httpx2.Client) -> None:
    """en_US gets miles and pounds, anything else kilometres and kilograms (python-fitbit sends
    en_US unless told METRIC)."""
    day = _day(world, 6)
    path = f"/1/user/-/activities/distance/date/{day}/1d.json"
    km = float(
        fb.get(path, headers={"Accept-Language": "en_GB"}).json()["activities-distance"][0]["value"]
    )
    miles = float(
        fb.get(path, headers={"Accept-Language": "en_US"}).json()["activities-distance"][0]["value"]
    )
    g = world.grid
    epoch_day = (dt.date.fromisoformat(day) - dt.date(1970, 1, 1)).days
    assert km == pytest.approx(world.grid_distance[g.day == epoch_day].sum() / 1e6, abs=1e-5)
    assert miles == pytest.approx(km / 1.609344, abs=1e-5)
    weights = world.records("weight")
    last = world.last.isoformat()
    kg = fb.get(f"/1/user/-/body/log/weight/date/{last}/1m.json").json()["weight"]
    lb = fb.get(
        f"/1/user/-/body/log/weight/date/{last}/1m.json", headers={"Accept-Language": "en_US"}
    ).json()["weight"]
    assert len(kg) == len(weights["grams"]) > 0
    assert [x["weight"] for x in kg] == [round(g / 1000, 2) for g in weights["grams"].tolist()]
    assert [x["weight"] for x in lb] == [
        round(g / 1000 * 2.20462262185, 1) for g in weights["grams"].tolist()
    ]


def test_spo2_and_breathing_rate_of_a_night_are_the_worlds(world: World, fb: httpx2.Client) -> None:
    """The SpO2 readings of the main sleep ending on a date, and its breathing rate per stage."""
    night = world.main_sleeps[5]
    day = dt.datetime.fromtimestamp(night.end_s + night.end_offset_s, dt.UTC).date().isoformat()
    spo2 = fb.get(f"/1/user/-/spo2/date/{day}/all.json").json()
    rec = world.records("oxygen-saturation")
    inside = (rec["time"] >= night.start_s) & (rec["time"] < night.end_s)
    assert spo2["dateTime"] == day
    assert [m["value"] for m in spo2["minutes"]] == rec["percent"][inside].tolist()
    br = fb.get(f"/1/user/-/br/date/{day}/all.json").json()["br"]
    rr = world.records("respiratory-rate-sleep-summary")
    i = int(np.flatnonzero(rr["time"] == night.end_s)[0])
    assert br == [
        {
            "value": {
                f"{s}SleepSummary": {"breathingRate": float(rr[f"{s}_breaths_per_minute"][i])}
                for s in ("deep", "rem", "full", "light")
            },
            "dateTime": day,
        }
    ]


def test_the_sleep_list_pages_through_every_log_by_its_next_links(
    world: World, fb: httpx2.Client
) -> None:
    """afterDate + sort=asc, following pagination.next, yields every log once, oldest first;
    beforeDate + desc yields them newest first."""
    after = world.start - dt.timedelta(days=1)
    url: str | None = f"/1.2/user/-/sleep/list.json?afterDate={after}&sort=asc&limit=5&offset=0"
    ids: list[int] = []
    while url:
        body = fb.get(url).json()
        assert len(body["sleep"]) <= 5
        ids += [log["logId"] for log in body["sleep"]]
        url = body["pagination"]["next"] or None
    assert ids == [s.id % 10**11 for s in world.sleep()]
    newest = fb.get(
        "/1.2/user/-/sleep/list.json",
        params={"beforeDate": str(world.last + dt.timedelta(days=1)), "sort": "desc", "limit": 100},
    ).json()
    assert [log["logId"] for log in newest["sleep"]] == ids[::-1]
    bad = fb.get("/1.2/user/-/sleep/list.json", params={"beforeDate": str(after), "sort": "asc"})
    assert bad.status_code == 400


def test_active_zone_minutes_sum_the_worlds_minutes_of_each_local_day(
    world: World, fb: httpx2.Client
) -> None:
    """Each day's activeZoneMinutes is the sum of the world's weighted zone minutes that day."""
    body = fb.get(f"/1/user/-/activities/active-zone-minutes/date/{world.start}/{world.last}.json")
    rec = world.records("active-zone-minutes")
    local_day = (rec["start_time"] + rec["utc_offset_s"]) // 86_400
    expected = {}
    for d, n in zip(local_day.tolist(), rec["minutes"].tolist(), strict=True):
        key = (dt.date(1970, 1, 1) + dt.timedelta(days=d)).isoformat()
        expected[key] = expected.get(key, 0) + n
    got = {
        x["dateTime"]: x["value"]["activeZoneMinutes"]
        for x in body.json()["activities-active-zone-minutes"]
    }
    assert got == expected
    assert len(got) >= 3
