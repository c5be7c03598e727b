"""v4 pages → Arrow rows: the spec's live examples, lenient numbers, true zeros, tokens."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.normalise.columns import Batch
from fitvault.normalise.google_health import normalise, page_token


def heart_rate(body: bytes) -> Batch:
    return normalise(catalog.get("heart-rate"), body)


def steps(body: bytes) -> Batch:
    return normalise(catalog.get("steps"), body)


def sleep(body: bytes) -> Batch:
    return normalise(catalog.get("sleep"), body)


def resting_heart_rate(body: bytes) -> Batch:
    return normalise(catalog.get("daily-resting-heart-rate"), body)


# Live capture quoted in spec §3.3 (JST user).
HR_POINT = {
    "heartRate": {
        "sampleTime": {
            "physicalTime": "2026-09-25T10:04:59Z",
            "utcOffset": "32400s",
            "civilTime": {
                "date": {"year": 2026, "month": 9, "day": 25},
                "time": {"hours": 19, "minutes": 4, "seconds": 59},
            },
        },
        "beatsPerMinute": "49",
    }
}
# Live capture quoted in spec §3.2.
STEPS_POINT = {
    "dataSource": {
        "recordingMethod": "PASSIVELY_MEASURED",
        "device": {"displayName": "Pixel Watch 4"},
        "platform": "FITBIT",
    },
    "steps": {
        "interval": {
            "startTime": "2026-09-25T14:58:00Z",
            "startUtcOffset": "32400s",
            "endTime": "2026-09-25T14:59:00Z",
            "endUtcOffset": "32400s",
        },
        "count": "2",
    },
}
# Abridged live sleep record from spec §3.4.
SLEEP_POINT = {
    "name": "users/1173016576421350648/dataTypes/sleep/dataPoints/8808518358174752984",
    "dataSource": {
        "recordingMethod": "DERIVED",
        "device": {"displayName": "Pixel Watch 4"},
        "platform": "FITBIT",
    },
    "sleep": {
        "interval": {
            "startTime": "2026-09-26T04:09:00Z",
            "startUtcOffset": "32400s",
            "endTime": "2026-09-26T08:23:00Z",
            "endUtcOffset": "32400s",
        },
        "type": "STAGES",
        "stages": [
            {
                "startTime": "2026-09-26T04:09:00Z",
                "startUtcOffset": "32400s",
                "endTime": "2026-09-26T04:15:00Z",
                "endUtcOffset": "32400s",
                "type": "AWAKE",
            },
            {
                "startTime": "2026-09-26T04:15:00Z",
                "startUtcOffset": "32400s",
                "endTime": "2026-09-26T08:23:00Z",
                "endUtcOffset": "32400s",
                "type": "LIGHT",
            },
        ],
        "metadata": {"stagesStatus": "SUCCEEDED", "processed": True, "mainSleep": True},
        "summary": {
            "minutesInSleepPeriod": "254",
            "minutesAfterWakeUp": "0",
            "minutesToFallAsleep": "0",
            "minutesAsleep": "248",
            "minutesAwake": "6",
            "stagesSummary": [
                {"type": "AWAKE", "minutes": "6", "count": "1"},
                {"type": "LIGHT", "minutes": "146", "count": "6"},
                {"type": "DEEP", "minutes": "48", "count": "3"},
                {"type": "REM", "minutes": "54", "count": "3"},
            ],
        },
        "updateTime": "2026-09-26T08:33:42.827423Z",
    },
}


def page(points: list[dict], token: str | None = None, pretty: bool = False) -> bytes:
    body: dict = {"dataPoints": points}
    if token is not None:
        body["nextPageToken"] = token
    return json.dumps(body, indent=2 if pretty else None).encode()


def test_heart_rate_live_example_lands_on_its_local_day() -> None:
    """UTC instant, the offset the source gave, and the civil date derived from both."""
    rows = heart_rate(page([HR_POINT])).tables["heart_rate"].to_pylist()
    assert rows == [
        {
            "time": dt.datetime(2026, 9, 25, 10, 4, 59, tzinfo=dt.UTC),
            "utc_offset_s": 32400,
            "local_date": dt.date(2026, 9, 25),
            "bpm": 49,
            "motion_context": None,
            "sensor_location": None,
            "device": None,
            "platform": None,
            "source": "google-health-api",
        }
    ]


def test_int64_fields_may_also_arrive_as_bare_numbers() -> None:
    """ProtoJSON int64 is a string, but a bare number parses the same."""
    bare = json.loads(json.dumps(HR_POINT))
    bare["heartRate"]["beatsPerMinute"] = 49
    assert heart_rate(page([bare])).tables == heart_rate(page([HR_POINT])).tables


def test_local_date_crosses_midnight_with_the_offset() -> None:
    """23:30 UTC at +09:00 is the next civil day."""
    late = json.loads(json.dumps(HR_POINT))
    late["heartRate"]["sampleTime"]["physicalTime"] = "2026-09-25T23:30:00Z"
    row = heart_rate(page([late])).tables["heart_rate"].to_pylist()[0]
    assert row["local_date"] == dt.date(2026, 9, 26)


def test_steps_live_example_and_a_true_zero() -> None:
    """A worn-but-idle minute arrives without `count` and reads as zero steps."""
    idle = json.loads(json.dumps(STEPS_POINT))
    del idle["steps"]["count"]
    rows = steps(page([STEPS_POINT, idle])).tables["steps"].to_pylist()
    assert [r["count"] for r in rows] == [2, 0]
    assert rows[0]["local_date"] == dt.date(2026, 9, 25)
    assert rows[0]["end_time"] - rows[0]["start_time"] == dt.timedelta(minutes=1)


def test_sleep_live_example_gives_a_session_and_its_stages() -> None:
    """Session summary numbers are kept as given; stages become their own rows."""
    batch = sleep(page([SLEEP_POINT]))
    (session,) = batch.tables["sleep_sessions"].to_pylist()
    assert session["local_date"] == dt.date(2026, 9, 26)
    assert (session["minutes_asleep"], session["minutes_deep"], session["minutes_rem"]) == (
        248,
        48,
        54,
    )
    assert session["is_main_sleep"]
    assert session["processed"]
    assert not session["is_nap"]
    assert session["source_id"] == "8808518358174752984"
    assert session["device"] == "Pixel Watch 4"
    stages = batch.tables["sleep_stages"].to_pylist()
    assert [s["stage"] for s in stages] == ["AWAKE", "LIGHT"]
    assert all(s["session_start"] == session["start_time"] for s in stages)
    assert batch.key_min == batch.key_max  # keyed by end time


def test_resting_heart_rate_daily_point() -> None:
    """Daily points carry a date and no offset."""
    point = {
        "dailyRestingHeartRate": {
            "date": {"year": 2026, "month": 9, "day": 30},
            "beatsPerMinute": "54",
            "dailyRestingHeartRateMetadata": {"calculationMethod": "WITH_SLEEP"},
        }
    }
    rows = resting_heart_rate(page([point])).tables["resting_heart_rate"].to_pylist()
    assert rows == [
        {
            "date": dt.date(2026, 9, 30),
            "bpm": 54,
            "calculation_method": "WITH_SLEEP",
            "device": None,
            "platform": None,
            "source": "google-health-api",
        }
    ]


@pytest.mark.parametrize(
    ("body", "token"),
    [
        (b"{}", None),
        (b'{"nextPageToken": ""}', None),
        (page([], "abc"), "abc"),
        (page([HR_POINT], "t0k-_"), "t0k-_"),
        (page([HR_POINT], "xyz", pretty=True), "xyz"),
        (b'{"nextPageToken":"first","dataPoints":[]}', "first"),
        (json.dumps({"dataPoints": [{"note": '"nextPageToken": "fake"}'}]}).encode(), None),
    ],
)
def test_page_token_finds_only_the_top_level_token(body: bytes, token: str | None) -> None:
    """Absent or empty tokens end paging; a token-looking string inside data is not a token."""
    assert page_token(body) == token


def test_broken_pages_raise_data_errors() -> None:
    """Malformed JSON and wrong shapes are DataErrors that say what was wrong."""
    with pytest.raises(DataError, match="not valid JSON"):
        heart_rate(b'{"dataPoints": [')
    with pytest.raises(DataError, match=r"expected shape|lacks the required"):
        heart_rate(page([{"heartRate": {"beatsPerMinute": "60"}}]))


@settings(max_examples=40, deadline=None)
@given(
    bpms=st.lists(st.integers(min_value=30, max_value=220), min_size=1, max_size=60),
    cut=st.integers(min_value=1, max_value=60),
)
def test_any_page_split_gives_the_same_rows(bpms: list[int], cut: int) -> None:
    """Splitting the same points over pages of any size yields the same rows."""
    base = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    points = []
    for i, b in enumerate(bpms):
        p = json.loads(json.dumps(HR_POINT))
        p["heartRate"]["sampleTime"]["physicalTime"] = (
            base - dt.timedelta(seconds=5 * i)
        ).strftime("%Y-%m-%dT%H:%M:%SZ")
        p["heartRate"]["beatsPerMinute"] = str(b)
        points.append(p)
    whole = heart_rate(page(points)).tables["heart_rate"].to_pylist()
    parts = [points[i : i + cut] for i in range(0, len(points), cut)]
    pieced = [
        row for part in parts for row in heart_rate(page(part)).tables["heart_rate"].to_pylist()
    ]
    assert pieced == whole


def test_nanosecond_timestamps_are_truncated_to_microseconds() -> None:
    """ProtoJSON may carry nine fractional digits; they are kept to the microsecond."""
    point = json.loads(json.dumps(HR_POINT))
    point["heartRate"]["sampleTime"]["physicalTime"] = "2026-09-25T10:04:59.123456789Z"
    row = heart_rate(page([point])).tables["heart_rate"].to_pylist()[0]
    assert row["time"] == dt.datetime(2026, 9, 25, 10, 4, 59, 123456, tzinfo=dt.UTC)
