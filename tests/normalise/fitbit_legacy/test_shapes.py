"""Synthetic legacy bodies: how saved files are decoded (BOM, log lines, comments, damage),
1-second heart rate across clock changes, night and range wrap-around, and the tutorials'
CSV / XLSX tables."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest

from fitvault._errors import DataError
from fitvault.normalise import fitbit_legacy as legacy
from fitvault.normalise.fitbit_legacy import saved

NY = "America/New_York"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def hr_body(day: str, points: list[tuple[str, int]], kind: str = "second") -> dict[str, Any]:
    return {
        "activities-heart": [{"dateTime": day, "value": {"restingHeartRate": 50}}],
        "activities-heart-intraday": {
            "dataset": [{"time": t, "value": v} for t, v in points],
            "datasetInterval": 1,
            "datasetType": kind,
        },
    }


SPO2 = {"dateTime": "2021-10-04", "value": {"avg": 97.5, "min": 94.0, "max": 100.0}}


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf" + json.dumps(SPO2).encode(),
        b"2024-01-05 10:00:01 INFO GET /1/user/-/spo2/date/2021-10-04.json\n"
        + b"\xef\xbb\xbf"
        + json.dumps(SPO2, indent=2).encode()
        + b"\nINFO done\n",
        b"[INFO] fetching\n" + json.dumps(SPO2).encode(),
        json.dumps(SPO2, indent=1).replace('"avg"', '"avg" // the mean\n').encode(),
        b"response = " + json.dumps(SPO2).encode(),
    ],
    ids=["bom", "log-lines-and-bom-after-them", "bracketed-log-line", "comment", "inline"],
)
def test_saved_bodies_decode_whatever_surrounds_them(raw: bytes) -> None:
    """Each wrapping of the same body gives the same row: 2021-10-04, 97.5 %."""
    parsed = legacy.parse(raw, NY)
    row = parsed.tables["daily_oxygen_saturation"].to_pylist()
    assert [(r["date"], r["avg_percent"]) for r in row] == [(dt.date(2021, 10, 4), 97.5)]


def test_malformed_and_unknown_bodies_say_what_is_wrong() -> None:
    """A truncated body is damaged JSON (not some inner object of it); an object of another
    shape is named by its keys; text without JSON says so."""
    truncated = b'{\n  "sleep": [\n    {"logId": 1, "startTime": "2024-01-01T23:00:00.000"},\n'
    with pytest.raises(DataError, match="not valid JSON"):
        legacy.parse(truncated)
    with pytest.raises(DataError, match="keys colour, size"):
        legacy.parse(b'{"size": 1, "colour": "red"}')
    with pytest.raises(DataError, match="no JSON object or array"):
        legacy.parse(b"just a log line\n")
    with pytest.raises(DataError, match="not UTF-8"):
        legacy.parse(b"\xff\xfe{")


def test_one_second_heart_rate_is_readings_across_both_clock_changes() -> None:
    """Spring forward (2024-03-10): 01:59:55 EST = 06:59:55Z, 03:00:05 EDT = 07:00:05Z.
    Fall back (2024-11-03): a repeated 01:30:00 is its first (EDT) occurrence, 05:30Z."""
    spring = legacy.parse(hr_body("2024-03-10", [("01:59:55", 61), ("03:00:05", 62)]), NY)
    rows = spring.tables["heart_rate"].to_pylist()
    assert [(r["time"], r["utc_offset_s"], r["bpm"]) for r in rows] == [
        (utc("2024-03-10T06:59:55"), -18000, 61), (utc("2024-03-10T07:00:05"), -14400, 62)]  # fmt: skip
    assert "heart_rate_average" not in spring.tables
    fall = legacy.parse(hr_body("2024-11-03", [("01:30:00", 55)]), NY)
    assert fall.tables["heart_rate"].to_pylist()[0]["time"] == utc("2024-11-03T05:30")
    # The span is the 25-hour local day.
    lo, hi = fall.spans["heart-rate"]
    assert (hi - lo) // 3_600_000_000 == 25


def test_a_body_fetched_with_timezone_utc_takes_offsets_and_dates_from_the_zone() -> None:
    """``timezone=UTC``: 03:30:00 on 2024-03-10 is 03:30Z, 22:30 EST of the 9th; the body
    answers for the UTC day."""
    parsed = legacy.parse(hr_body("2024-03-10", [("03:30:00", 58)]), NY, utc=True)
    (row,) = parsed.tables["heart_rate"].to_pylist()
    assert (row["time"], row["utc_offset_s"], row["local_date"]) == (
        utc("2024-03-10T03:30"), -18000, dt.date(2024, 3, 9))  # fmt: skip
    lo, hi = parsed.spans["heart-rate"]
    assert (lo, hi) == (int(utc("2024-03-10T00:00").timestamp() * 1e6),
                        int(utc("2024-03-11T00:00").timestamp() * 1e6))  # fmt: skip


def test_intraday_times_that_wrap_are_on_the_next_day() -> None:
    """A range body: 23:59 then 00:00 belongs to the day after; a body without a date takes
    the one given."""
    parsed = legacy.parse(hr_body("2024-01-05", [("23:59:00", 60), ("00:00:00", 61)], "minute"),
                          "UTC")  # fmt: skip
    starts = [r["start_time"] for r in parsed.tables["heart_rate_average"].to_pylist()]
    assert starts == [utc("2024-01-05T23:59"), utc("2024-01-06T00:00")]
    bare = {"activities-heart-intraday": {"dataset": [{"time": "08:00:00", "value": 70}],
                                          "datasetType": "second"}}  # fmt: skip
    with pytest.raises(DataError, match="without a date"):
        legacy.parse(bare, "UTC")
    rows = legacy.parse(bare, "UTC", day=dt.date(2024, 2, 1)).tables["heart_rate"].to_pylist()
    assert rows[0]["time"] == utc("2024-02-01T08:00")


def test_short_wakes_tile_the_night_and_merge_with_a_neighbouring_wake() -> None:
    """light 23:00–23:10, wake 23:10–23:12, deep 23:12–23:30; a short wake 23:12–23:13 joins
    the wake before it and shortens the deep; the night crosses midnight of the date."""
    log = {
        "dateOfSleep": "2024-01-06", "startTime": "2024-01-05T23:00:00.000",
        "endTime": "2024-01-05T23:30:00.000", "duration": 1_800_000, "logId": 7,
        "isMainSleep": True, "type": "stages",
        "levels": {
            "data": [
                {"dateTime": "2024-01-05T23:00:00.000", "level": "light", "seconds": 600},
                {"dateTime": "2024-01-05T23:10:00.000", "level": "wake", "seconds": 120},
                {"dateTime": "2024-01-05T23:12:00.000", "level": "deep", "seconds": 1080},
            ],
            "shortData": [
                {"dateTime": "2024-01-05T23:12:00.000", "level": "wake", "seconds": 60}],
        },
    }  # fmt: skip
    parsed = legacy.parse({"sleep": [log]}, "UTC")
    stages = [(r["start_time"], r["end_time"], r["stage"])
              for r in parsed.tables["sleep_stages"].to_pylist()]  # fmt: skip
    assert stages == [
        (utc("2024-01-05T23:00"), utc("2024-01-05T23:10"), "LIGHT"),
        (utc("2024-01-05T23:10"), utc("2024-01-05T23:13"), "AWAKE"),
        (utc("2024-01-05T23:13"), utc("2024-01-05T23:30"), "DEEP"),
    ]
    assert parsed.tables["sleep_sessions"].to_pylist()[0]["local_date"] == dt.date(2024, 1, 6)


def test_minute_data_past_midnight_and_a_bad_value() -> None:
    """v1 minuteData 23:59 then 00:00 continues across midnight; a value 4 is refused."""
    log = {"startTime": "2024-01-05T23:59:00.000", "duration": 120_000,
           "minuteData": [{"dateTime": "23:59:00", "value": "1"},
                          {"dateTime": "00:00:00", "value": "1"}]}  # fmt: skip
    stages = legacy.parse({"sleep": [log]}, "UTC").tables["sleep_stages"].to_pylist()
    assert [(r["start_time"], r["end_time"], r["stage"]) for r in stages] == [
        (utc("2024-01-05T23:59"), utc("2024-01-06T00:01"), "ASLEEP")]  # fmt: skip
    log["minuteData"] = [{"dateTime": "23:59:00", "value": "4"}]
    with pytest.raises(DataError, match="not 1, 2 or 3"):
        legacy.parse({"sleep": [log]}, "UTC")


def test_tutorial_csv_seconds_are_readings_and_whole_minutes_are_means() -> None:
    """``Time,Heart Rate`` with the date in the name: 5-second rows → heart_rate; rows on
    whole minutes a minute apart → heart_rate_average."""
    seconds = saved.read("Heart/heart20180512.csv", b"Time,Heart Rate\n00:00:05,60\n00:00:10,61\n",
                         "UTC")  # fmt: skip
    assert isinstance(seconds, legacy.Parsed)
    assert [(r["time"], r["bpm"]) for r in seconds.tables["heart_rate"].to_pylist()] == [
        (utc("2018-05-12T00:00:05"), 60), (utc("2018-05-12T00:00:10"), 61)]  # fmt: skip
    minutes = saved.read("2017-05-01_intradata.csv", b",time,value\n0,00:00:00,58\n1,00:01:00,57\n",
                         "UTC")  # fmt: skip
    assert isinstance(minutes, legacy.Parsed)
    rows = minutes.tables["heart_rate_average"].to_pylist()
    assert [(r["start_time"], r["end_time"], r["bpm"]) for r in rows] == [
        (utc("2017-05-01T00:00"), utc("2017-05-01T00:01"), 58),
        (utc("2017-05-01T00:01"), utc("2017-05-01T00:02"), 57),
    ]


def test_tutorial_tables_date_from_a_pandas_index_and_refusals() -> None:
    """A pandas index of full timestamps carries the date (the file name has none); a table
    without a date or without a heart-rate column is not read."""
    indexed = b",time,value\n2019-07-04 08:00:03,08:00:03,88\n"
    parsed = saved.read("my_intradata.csv", indexed, NY)
    assert isinstance(parsed, legacy.Parsed)
    assert parsed.tables["heart_rate"].to_pylist()[0]["time"] == utc("2019-07-04T12:00:03")
    with pytest.raises(DataError, match="without a date"):
        saved.read("heart.csv", b"Time,Heart Rate\n00:00:05,60\n", "UTC")
    assert saved.read("steps_2019-07-04.csv", b"Time,Steps\n00:00:00,5\n", "UTC") is None


def test_tutorial_sleep_table_is_a_classic_session() -> None:
    """``Time,State,Interpreted`` (the minuteData table): 23:58 2 restless, 23:59 1, 00:00 1
    asleep, starting the evening of the file's date."""
    table = b"Time,State,Interpreted\n23:58:00,2,Awake\n23:59:00,1,Asleep\n00:00:00,1,Asleep\n"
    parsed = saved.read("Sleep/sleep20180511.csv", table, "UTC")
    assert isinstance(parsed, legacy.Parsed)
    (session,) = parsed.tables["sleep_sessions"].to_pylist()
    assert (session["start_time"], session["end_time"], session["sleep_type"]) == (
        utc("2018-05-11T23:58"), utc("2018-05-12T00:01"), "CLASSIC")  # fmt: skip
    stages = [(r["start_time"], r["stage"]) for r in parsed.tables["sleep_stages"].to_pylist()]
    assert stages == [(utc("2018-05-11T23:58"), "RESTLESS"), (utc("2018-05-11T23:59"), "ASLEEP")]


def test_tutorial_xlsx_table() -> None:
    """The same heart-rate table written with pandas' ``to_excel`` (times as text)."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["", "time", "value"], [0, "07:00:01", 71], [1, "07:00:06", 72]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    parsed = saved.read("2020-02-29_intradata.xlsx", out.getvalue(), "UTC")
    assert isinstance(parsed, legacy.Parsed)
    assert [(r["time"], r["bpm"]) for r in parsed.tables["heart_rate"].to_pylist()] == [
        (utc("2020-02-29T07:00:01"), 71), (utc("2020-02-29T07:00:06"), 72)]  # fmt: skip


def test_responses_gathered_in_a_list_or_keyed_by_date() -> None:
    """A list of two days' bodies gives both days' rows and answers for both days; bodies
    keyed by their date need no date of their own; days apart replace nothing between them;
    one unknown element makes the file unknown."""
    days = [hr_body("2024-01-05", [("08:00:00", 60)]), hr_body("2024-01-06", [("09:00:00", 61)])]
    both = saved.read("all_days.json", json.dumps(days).encode(), "UTC")
    assert isinstance(both, legacy.Parsed)
    assert [r["time"] for r in both.tables["heart_rate"].to_pylist()] == [
        utc("2024-01-05T08:00"), utc("2024-01-06T09:00")]  # fmt: skip
    assert both.spans["heart-rate"] == (int(utc("2024-01-05T00:00").timestamp() * 1e6),
                                        int(utc("2024-01-07T00:00").timestamp() * 1e6))  # fmt: skip
    bare = {"activities-heart-intraday": {"dataset": [{"time": "07:00:00", "value": 66}],
                                          "datasetType": "second"}}  # fmt: skip
    keyed = saved.read("hr.json", json.dumps({"2024-02-01": bare, "2024-02-03": bare}).encode(),
                       "UTC")  # fmt: skip
    assert isinstance(keyed, legacy.Parsed)
    assert [r["time"] for r in keyed.tables["heart_rate"].to_pylist()] == [
        utc("2024-02-01T07:00"), utc("2024-02-03T07:00")]  # fmt: skip
    assert keyed.spans["heart-rate"] is None
    assert saved.read("mixed.json", json.dumps([days[0], {"x": 1}]).encode(), "UTC") is None
