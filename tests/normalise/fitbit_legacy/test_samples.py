"""Real legacy Web API bodies (shared/samples, Fitbit.NET's test data: never copied into the
repository): every expected value below was read by hand from the file. Skipped when the
samples are absent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from fitvault._errors import DataError
from fitvault.normalise import fitbit_legacy as legacy

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "samples" / "aarondcoleman__Fitbit.NET"
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples is absent")
NY, LONDON = "America/New_York", "Europe/London"


def body(name: str) -> bytes:
    return (SAMPLES / f"Fitbit.Portable.Tests__SampleData__{name}.json").read_bytes()


def rows(parsed: legacy.Parsed, table: str) -> list[dict[str, Any]]:
    return parsed.tables[table].to_pylist()  # type: ignore[no-any-return]


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_intraday_heart_rate_1min_is_a_per_minute_mean_in_its_own_table() -> None:
    """2017-06-29 ``00:00:00`` 58 … ``20:00:00`` 62 (1 157 values, datasetInterval 1) → minute
    intervals in heart_rate_average at EDT; resting 59; zones Fat Burn 95–133 → MODERATE."""
    parsed = legacy.parse(body("GetHeartRateIntradayTimeSeries"), NY)
    assert "heart_rate" not in parsed.tables
    hr = rows(parsed, "heart_rate_average")
    assert len(hr) == 1157
    first, last = hr[0], hr[-1]
    assert (first["start_time"], first["end_time"], first["bpm"]) == (
        utc("2017-06-29T04:00"), utc("2017-06-29T04:01"), 58)  # fmt: skip
    assert (first["utc_offset_s"], first["local_date"]) == (-14400, dt.date(2017, 6, 29))
    assert (last["start_time"], last["bpm"]) == (utc("2017-06-30T00:00"), 62)
    assert {r["source"] for r in hr} == {"fitbit-legacy"}
    assert [(r["date"], r["bpm"]) for r in rows(parsed, "resting_heart_rate")] == [
        (dt.date(2017, 6, 29), 59)]  # fmt: skip
    zones = [(r["heart_rate_zone"], r["min_bpm"], r["max_bpm"])
             for r in rows(parsed, "daily_heart_rate_zones")]  # fmt: skip
    assert zones == [("MODERATE", 95, 133), ("VIGOROUS", 133, 162), ("PEAK", 162, 220)]
    # The body answers for the whole local day, midnight to midnight EDT.
    assert parsed.spans["heart-rate-average"] == (
        int(utc("2017-06-29T04:00").timestamp() * 1e6),
        int(utc("2017-06-30T04:00").timestamp() * 1e6),
    )


def test_oldest_heart_rate_shape_15_minutes_and_zones_on_the_day() -> None:
    """The 1.1-era body: zones on the day object, ``value`` a string (not stored), 96 values
    15 minutes apart; ``00:00:00`` 57."""
    parsed = legacy.parse(body("GetHeartRateIntradayTimeSeries1.1"), "UTC")
    hr = rows(parsed, "heart_rate_average")
    assert len(hr) == 96
    assert (hr[0]["start_time"], hr[0]["end_time"], hr[0]["bpm"]) == (
        utc("2017-08-21T00:00"), utc("2017-08-21T00:15"), 57)  # fmt: skip
    assert rows(parsed, "resting_heart_rate") == []
    assert rows(parsed, "daily_heart_rate_zones")[0]["min_bpm"] == 92


def test_heart_rate_time_series_resting_and_zones_per_day() -> None:
    """2017-08-15 resting 51 … 2017-08-17 resting 53; four zones a day, three stored."""
    parsed = legacy.parse(body("GetHeartRateTimeSeries"), NY)
    rhr = {r["date"]: r["bpm"] for r in rows(parsed, "resting_heart_rate")}
    assert rhr[dt.date(2017, 8, 15)] == 51
    assert rhr[dt.date(2017, 8, 17)] == 53
    zones = rows(parsed, "daily_heart_rate_zones")
    assert len(zones) == 3 * len(rhr)
    assert (zones[0]["heart_rate_zone"], zones[0]["min_bpm"], zones[0]["max_bpm"]) == (
        "MODERATE", 92, 128)  # fmt: skip


def test_sleep_v12_stages_with_short_wakes_cut_in() -> None:
    """GetSleep (London, BST): start 2017-04-01T00:00 local = 03-31T23:00Z, 8 h; wake 360 s;
    rem 2490 s at 04-02T00:00 with a 560 s short wake over its start."""
    parsed = legacy.parse(body("GetSleep"), LONDON)
    (night,) = rows(parsed, "sleep_sessions")
    assert (night["start_time"], night["end_time"]) == (
        utc("2017-03-31T23:00"), utc("2017-04-01T07:00"))  # fmt: skip
    assert (night["local_date"], night["sleep_type"], night["source_id"]) == (
        dt.date(2017, 4, 2), "STAGES", "15040942043")  # fmt: skip
    assert (night["minutes_deep"], night["minutes_light"], night["minutes_rem"],
            night["minutes_wake"]) == (99, 296, 105, 86)  # fmt: skip
    assert (night["minutes_asleep"], night["minutes_in_sleep_period"]) == (500, 586)
    stages = [(r["start_time"], r["end_time"], r["stage"]) for r in rows(parsed, "sleep_stages")]
    assert stages == [
        (utc("2017-03-31T23:00"), utc("2017-03-31T23:06"), "AWAKE"),
        (utc("2017-04-01T23:00"), utc("2017-04-01T23:09:20"), "AWAKE"),
        (utc("2017-04-01T23:09:20"), utc("2017-04-01T23:41:30"), "REM"),
    ]


def test_sleep_v1_minute_data_with_bom_and_comment() -> None:
    """GetSleepOld (BOM, ``// deprecated``): 00:00 "3", 00:01 "2", 00:02 "1" = awake,
    restless, asleep; a nap 14:00 local, 1 h, not the main sleep."""
    parsed = legacy.parse(body("GetSleepOld"), NY)
    main, nap = rows(parsed, "sleep_sessions")
    assert (main["start_time"], main["end_time"], main["sleep_type"]) == (
        utc("2011-06-16T04:00"), utc("2011-06-16T12:00"), "CLASSIC")  # fmt: skip
    assert (nap["start_time"], nap["end_time"], nap["is_main_sleep"]) == (
        utc("2011-06-16T18:00"), utc("2011-06-16T19:00"), False)  # fmt: skip
    stages = [(r["start_time"], r["stage"]) for r in rows(parsed, "sleep_stages")]
    assert stages == [
        (utc("2011-06-16T04:00"), "AWAKE"),
        (utc("2011-06-16T04:01"), "RESTLESS"),
        (utc("2011-06-16T04:02"), "ASLEEP"),
        (utc("2011-06-16T18:00"), "AWAKE"),
    ]


def test_sleep_range_and_list_bodies() -> None:
    """By range (no summary) as by date; list.json with its pagination and a // comment."""
    assert rows(legacy.parse(body("GetSleepRange"), LONDON), "sleep_sessions")[0][
        "source_id"] == "15040942043"  # fmt: skip
    listed = rows(legacy.parse(body("SleepLogList"), "UTC"), "sleep_sessions")
    assert [r["start_time"] for r in listed] == [utc("2017-03-25T23:58:30")]


def test_activity_time_series_are_day_intervals_in_table_units() -> None:
    """Steps 2014-09-05 "9846", 2014-09-08 "0"; distance 2014-08-12 "1.0" is 1 km metric or
    1 mile en_US; a day total replaces nothing."""
    steps = legacy.parse(body("TimeSeries-ActivitiesSteps"), "UTC")
    by_day = {r["local_date"]: r for r in rows(steps, "steps")}
    assert len(by_day) == 7
    assert by_day[dt.date(2014, 9, 5)]["count"] == 9846
    assert by_day[dt.date(2014, 9, 8)]["count"] == 0
    day = by_day[dt.date(2014, 9, 5)]
    assert (day["start_time"], day["end_time"]) == (
        utc("2014-09-05T00:00"),
        utc("2014-09-06T00:00"),
    )
    assert steps.spans == {"steps": None}
    metric = legacy.parse(body("TimeSeries-ActivitiesDistance"), "UTC")
    us = legacy.parse(body("TimeSeries-ActivitiesDistance"), "UTC", units="en_US")
    assert rows(metric, "distance")[0]["distance_mm"] == 1_000_000
    assert rows(us, "distance")[0]["distance_mm"] == 1_609_344
    assert rows(metric, "distance")[-1]["distance_mm"] == 128_000_000


def test_intraday_steps_and_calories() -> None:
    """Steps 2016-03-08 ``00:00:00`` 1, ``00:01:00`` 2 (1 084 minutes; the day's "7390" is not
    added); calories intraday keeps the day's total "2601" per date."""
    steps = legacy.parse(body("IntradayActivitiesSteps"), NY)
    minutes = rows(steps, "steps")
    assert len(minutes) == 1084
    assert [(m["start_time"], m["end_time"], m["count"]) for m in minutes[:2]] == [
        (utc("2016-03-08T05:00"), utc("2016-03-08T05:01"), 1),
        (utc("2016-03-08T05:01"), utc("2016-03-08T05:02"), 2),
    ]
    assert sum(m["count"] for m in minutes) == 2940
    calories = legacy.parse(body("IntradayActivitiesCalories"), NY)
    assert [(r["date"], r["kcal"]) for r in rows(calories, "total_calories")] == [
        (dt.date(2015, 3, 20), 2601.0)]  # fmt: skip


def test_hrv_spo2_breathing_rate_and_cardio_score() -> None:
    """HRV 2021-10-25 34.938 / 31.567 and 09:10 local rmssd 26.617; SpO2 2021-10-01 94.7
    (94–100) and 04:02:17 95.7; breathing 17.8 (REM's -1 is no value); VO2 "42-46" → 44."""
    hrv = rows(legacy.parse(body("GetHRVSummaryByDate"), NY), "daily_heart_rate_variability")
    assert (hrv[0]["date"], hrv[0]["avg_rmssd_ms"], hrv[0]["deep_sleep_rmssd_ms"]) == (
        dt.date(2021, 10, 25), 34.938, 31.567)  # fmt: skip
    minute = rows(legacy.parse(body("GetHRVIntradayByDate"), NY), "heart_rate_variability")[0]
    assert (minute["time"], minute["rmssd_ms"], minute["hf_power"], minute["lf_power"]) == (
        utc("2021-10-25T13:10"), 26.617, 126.514, 471.897)  # fmt: skip
    assert len(rows(legacy.parse(body("GetHRVIntradayByInterval"), NY),
                    "heart_rate_variability")) == 8  # fmt: skip
    spo2 = rows(legacy.parse(body("GetSpO2SummaryByInterval"), NY), "daily_oxygen_saturation")
    assert (spo2[0]["date"], spo2[0]["avg_percent"], spo2[0]["lower_bound_percent"],
            spo2[0]["upper_bound_percent"]) == (dt.date(2021, 10, 1), 94.7, 94.0, 100.0)  # fmt: skip
    one = rows(legacy.parse(body("GetSpO2SummaryByDate"), NY), "daily_oxygen_saturation")
    assert [(r["date"], r["avg_percent"]) for r in one] == [(dt.date(2021, 10, 4), 97.5)]
    sat = rows(legacy.parse(body("GetSpO2IntradayByDate"), "UTC"), "oxygen_saturation")
    assert (sat[0]["time"], sat[0]["percent"]) == (utc("2021-10-04T04:02:17"), 95.7)
    assert len(rows(legacy.parse(body("GetSpO2IntradayByInterval"), "UTC"),
                    "oxygen_saturation")) == 5  # fmt: skip
    br = rows(legacy.parse(body("GetBreathingRateIntradayByDate"), NY), "daily_respiratory_rate")
    assert [(r["date"], r["breaths_per_minute"]) for r in br] == [(dt.date(2021, 10, 25), 17.8)]
    vo2 = rows(legacy.parse(body("GetCardioScoreSummaryByInterval"), NY), "daily_vo2_max")
    assert [(r["date"], r["vo2_max"], r["estimated"]) for r in vo2] == [
        (dt.date(2023, 10, 15), 44.0, True), (dt.date(2023, 10, 16), 43.0, True)]  # fmt: skip


def test_weight_and_fat_logs_at_local_time_in_grams() -> None:
    """73 at 2012-03-05 23:59:59 (API) and 72.5 at 21:10:59 (Aria): kg metric, lb en_US; EST."""
    metric = rows(legacy.parse(body("GetWeight"), NY), "weight")
    assert [(r["time"], r["grams"], r["device"]) for r in metric] == [
        (utc("2012-03-06T04:59:59"), 73000.0, "API"),
        (utc("2012-03-06T02:10:59"), 72500.0, "Aria"),
    ]
    assert metric[0]["local_date"] == dt.date(2012, 3, 5)
    pounds = rows(legacy.parse(body("GetWeight"), NY, units="en_US"), "weight")
    assert pounds[0]["grams"] == 33112.2  # 73 lb × 453.59237 g
    fat = rows(legacy.parse(body("GetFat"), NY), "body_fat")
    assert [(r["time"], r["percent"]) for r in fat] == [
        (utc("2012-03-06T04:59:59"), 14.0), (utc("2012-03-06T02:20:59"), 13.5)]  # fmt: skip


def test_profile_errors_devices_and_summaries_are_known_but_not_rows() -> None:
    """The profile gives the zone; error bodies, devices, AZM per day and the daily summary
    are recognised and skipped with a reason; a token response is not a data shape."""
    assert legacy.profile_zone(body("UserProfile")) == "Europe/London"
    for name in ("ApiError", "ApiError-Request-StaleToken", "GetDevices-Double",
                 "ActiveZoneMinutes", "GetActivities", "UserProfile"):  # fmt: skip
        parsed = legacy.parse(body(name), NY)
        assert parsed.tables == {}, name
        assert parsed.kind, name
    assert legacy.parse(body("ApiError"), NY).kind == "an API error response, not data"
    with pytest.raises(DataError, match="access_token"):
        legacy.parse(body("AccessToken"), NY)
