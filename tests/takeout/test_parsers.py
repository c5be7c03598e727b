"""Single families on hand-made inputs: clock changes in local-time files, BOM + CRLF, the
export's quirks (NaN, 0-bpm resting days, the SpO2 floor), the registry's classification."""

from __future__ import annotations

import datetime as dt

import pytest

from fitvault._errors import DataError
from fitvault.normalise import takeout
from fitvault.normalise.takeout import Context, classify, parse
from fitvault.normalise.takeout._common import resolve

NY = Context("America/New_York")
UTC = dt.UTC


def _rows(path: str, body: bytes, ctx: Context = NY) -> list[dict[str, object]]:
    fam = classify(path)
    assert isinstance(fam, takeout.Family), fam
    parsed = parse(fam, body, ctx)
    return next(iter(parsed.tables.values())).to_pylist()


def test_resolve_on_clock_changes() -> None:
    """Fall-back's repeated 01:30 is its first (EDT) occurrence; spring-forward's missing 02:30
    is read with EST, as Python's fold=0 does."""
    tz = NY.tz
    assert resolve(dt.datetime(2026, 11, 1, 1, 30), tz) == (
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC), -14400)  # fmt: skip
    assert resolve(dt.datetime(2026, 11, 1, 2, 30), tz) == (
        dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC), -18000)  # fmt: skip
    assert resolve(dt.datetime(2026, 3, 8, 2, 30), tz)[0] == dt.datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )


def test_hrv_details_on_a_fall_back_night_with_bom_and_crlf() -> None:
    """Local HRV windows across 2026-11-01 01:55 EDT → 01:00 EST get the right offsets."""
    body = (
        b"\xef\xbb\xbftimestamp,rmssd,coverage,low_frequency,high_frequency\r\n"
        b"2026-11-01T00:55:00,30.1,0.9,NaN,100.0\r\n"
        b"2026-11-01T03:00:00,31.2,0.9,200.0,101.5\r\n"
    )
    rows = _rows("Heart Rate Variability/Heart Rate Variability Details - 2026-11-01.csv", body)
    assert [(r["time"], r["utc_offset_s"]) for r in rows] == [
        (dt.datetime(2026, 11, 1, 4, 55, tzinfo=UTC), -14400),
        (dt.datetime(2026, 11, 1, 8, 0, tzinfo=UTC), -18000),
    ]
    assert rows[0]["lf_power"] is None
    assert rows[1]["hf_power"] == 101.5


def test_sleep_through_the_repeated_hour() -> None:
    """A night 00:30 EDT → 06:30 EST is 7 h; the stage starting at the second 01:00 follows
    the first, and the end comes from ``endTime`` nearest start + duration."""
    body = b"""[{"logId":1,"startTime":"2026-11-01T00:30:00.000","endTime":"2026-11-01T06:30:00.000",
      "duration":25200000,"type":"stages","mainSleep":true,"levels":{"data":[
      {"dateTime":"2026-11-01T00:30:00.000","level":"light","seconds":1800},
      {"dateTime":"2026-11-01T01:00:00.000","level":"deep","seconds":3600},
      {"dateTime":"2026-11-01T01:00:00.000","level":"rem","seconds":19800}]}}]"""
    fam = classify("Global Export Data/sleep-2026-10-15.json")
    assert isinstance(fam, takeout.Family)
    tables = parse(fam, body, NY).tables
    (session,) = tables["sleep_sessions"].to_pylist()
    assert session["start_time"] == dt.datetime(2026, 11, 1, 4, 30, tzinfo=UTC)
    assert session["end_time"] == dt.datetime(2026, 11, 1, 11, 30, tzinfo=UTC)
    assert (session["start_utc_offset_s"], session["end_utc_offset_s"]) == (-14400, -18000)
    stages = tables["sleep_stages"].to_pylist()
    assert [s["start_time"].hour for s in stages] == [4, 5, 6]  # 00:30 EDT, 01:00 EDT, 01:00 EST
    assert stages[-1]["end_time"] == session["end_time"]


def test_resting_heart_rate_and_spo2_quirks() -> None:
    rhr = _rows(
        "Global Export Data/resting_heart_rate-2026-03-18.json",
        b'[{"dateTime":"03/18/26 00:00:00","value":{"date":null,"value":0.0,"error":0.0}},'
        b'{"dateTime":"03/19/26 00:00:00","value":{"date":"03/19/26","value":61.6,"error":6}}]',
    )
    assert rhr == [{"date": dt.date(2026, 3, 19), "bpm": 62, "calculation_method": None,
                    "device": None, "platform": None, "source": "takeout"}]  # fmt: skip
    spo2 = _rows(
        "Oxygen Saturation (SpO2)/Minute SpO2 - 2026-04-08.csv",
        b"timestamp,value\n2026-04-08T07:14:33Z,93.3\n2026-04-08T07:15:33Z,50.0\n",
    )
    assert [r["percent"] for r in spo2] == [93.3]


def test_weight_in_kilograms_when_the_profile_says_so() -> None:
    body = b'[{"logId":1,"weight":70.5,"date":"03/19/26","time":"07:00:00","source":"Aria"}]'
    (row,) = _rows("Global Export Data/weight-2026-03-18.json", body, Context("UTC", "kg"))
    assert (row["grams"], row["device"]) == (70500.0, "Aria")


def test_bad_values_are_data_errors() -> None:
    fam = classify("Global Export Data/steps-2026-03-18.json")
    assert isinstance(fam, takeout.Family)
    with pytest.raises(DataError, match="steps"):
        parse(fam, b'[{"dateTime":"03/19/26 18:40:00","value":"many"}]', NY)
    with pytest.raises(DataError, match="MM/DD/YY"):
        parse(fam, b'[{"dateTime":"2026-03-19","value":"1"}]', NY)
    with pytest.raises(DataError, match="time zone"):
        parse(classify("Global Export Data/sleep-2026-03-18.json"), b"[{}]", Context("Mars/Base"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Global Export Data/heart_rate-2026-04-08.json", "heart-rate"),
        ("user-site-export/heart_rate-2019-01-01.json", "heart-rate"),
        ("Physical Activity/steps-2022-01-01.json", "steps"),
        ("Sleep/sleep-2022-01-01.json", "sleep"),
        ("Physical Activity_GoogleData/heart_rate_2026-04-08.csv", "re-export"),
        ("Sleep/Sleep Profile.csv", "sleep profile"),
        ("Global Export Data/calories-2026-03-18.json", "basal + active"),
        ("Global Export Data/exercise-100.json", "exercise"),
        ("Global Export Data/height-2026-03-18.json", "height"),
        (
            "Heart Rate Variability/Respiratory Rate Summary - 2026-04-01.csv",
            "respiratory-rate-sleep-summary",
        ),
        ("Heart Rate Variability/Heart Rate Variability README.txt", "README"),
        ("Somewhere/new_family.json", None),
    ],
)
def test_classify(path: str, expected: str | None) -> None:
    got = classify(path)
    if expected is None:
        assert got is None
    elif isinstance(got, takeout.Family):
        assert got.data_type == expected
    else:
        assert expected in str(got)


def test_every_family_has_a_tz_rule_and_a_sample_comment() -> None:
    """The registry's promise: a time-zone rule per family, a trimmed real sample above it."""
    import inspect

    for fam in takeout.FAMILIES:
        assert fam.tz in ("UTC", "local", "date")
        source = inspect.getsource(inspect.getmodule(fam.fn))  # type: ignore[arg-type]
        before = source[: source.index(f"def {fam.fn.__name__}(")]
        assert before.rstrip().rsplit("\n@family", 1)[0].rstrip().splitlines()[-1].startswith("#")
