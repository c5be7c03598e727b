"""The dataPoints filter grammar and its errors (spec §1.7)."""

from __future__ import annotations

import datetime as dt

import pytest

from fitvault import catalog
from fitvault.simulator.filters import FilterError, bounds, parse

HR = catalog.get("heart-rate")
SLEEP = catalog.get("sleep")
RHR = catalog.get("daily-resting-heart-rate")
STEPS = catalog.get("steps")


def test_physical_range_parses_to_aware_bounds() -> None:
    """A two-sided physical filter yields UTC bounds usable as [low, high)."""
    f = parse(
        'heart_rate.sample_time.physical_time >= "2026-09-25T00:00:00Z" AND '
        'heart_rate.sample_time.physical_time < "2026-09-26T00:00:00Z"',
        HR,
    )
    lo, hi = bounds(f.groups[0])
    assert lo == dt.datetime(2026, 9, 25, tzinfo=dt.UTC)
    assert hi == dt.datetime(2026, 9, 26, tzinfo=dt.UTC)
    assert not f.civil


def test_sleep_start_member_reports_each_violation_with_its_column() -> None:
    """The measured error for start-based sleep members: repeated reasons, one violation each."""
    text = (
        'sleep.interval.civil_start_time >= "2026-09-20" AND '
        'sleep.interval.civil_start_time < "2026-09-27"'
    )
    with pytest.raises(FilterError) as info:
        parse(text, SLEEP)
    err = info.value
    assert err.reasons == ["INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"] * 2
    assert err.message == (
        "Invalid data point filter: INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER, "
        "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER."
    )
    assert err.violations[0].endswith("(at line 1, column 1)")
    assert err.violations[1].endswith(f"(at line 1, column {text.index('sleep', 5) + 1})")


@pytest.mark.parametrize(
    ("dtype", "text", "reason"),
    [
        (
            HR,
            'heart-rate.sample_time.physical_time >= "2026-01-01T00:00:00Z"',
            "INVALID_DATA_POINT_FILTER_DATA_TYPE_RESTRICTION",
        ),
        (
            HR,
            'steps.interval.start_time >= "2026-01-01T00:00:00Z"',
            "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH",
        ),
        (
            HR,
            'heart_rate.sample_time.physical_time > "2026-01-01T00:00:00Z"',
            "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR",
        ),
        (
            STEPS,
            'steps.interval.end_time >= "2026-01-01T00:00:00Z"',
            "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER",
        ),
        (
            RHR,
            'daily_resting_heart_rate.interval.start_time >= "2026-01-01T00:00:00Z"',
            "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER",
        ),
        (
            STEPS,
            'steps.interval.start_time >= "2026-01-01T00:00:00Z" AND steps.interval.civil_start_time < "2026-01-02"',
            "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS",
        ),
        (
            STEPS,
            'steps.interval.start_time >= "2026-01-02T00:00:00Z" AND steps.interval.start_time < "2026-01-01T00:00:00Z"',
            "INVALID_TIME_RANGE",
        ),
        (
            STEPS,
            'steps.interval.start_time >= "2026-01-01T00:00:00Z" OR steps.interval.start_time < "2026-01-02T00:00:00Z"',
            "INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE",
        ),
    ],
)
def test_invalid_filters_name_their_reason(dtype: catalog.DataType, text: str, reason: str) -> None:
    """Each documented mistake is refused with its documented detailed reason."""
    with pytest.raises(FilterError) as info:
        parse(text, dtype)
    assert info.value.reasons[0] == reason


def test_sleep_accepts_or_between_end_members() -> None:
    """OR is only allowed between sleep end-time members; each side is its own group."""
    f = parse(
        'sleep.interval.end_time >= "2026-01-01T00:00:00Z" OR sleep.interval.end_time < "2025-01-01T00:00:00Z"',
        SLEEP,
    )
    assert len(f.groups) == 2


def test_daily_member_takes_dates() -> None:
    """Daily types filter on a civil date."""
    f = parse('daily_resting_heart_rate.date >= "2026-11-01"', RHR)
    assert bounds(f.groups[0]) == (dt.date(2026, 11, 1), None)


def test_ecg_accepts_only_a_lower_bound_on_start_time() -> None:
    """electrocardiogram: `interval.start_time >=` parses; `<` and civil members are refused."""
    ecg = catalog.get("electrocardiogram")
    parse('electrocardiogram.interval.start_time >= "2026-11-01T00:00:00Z"', ecg)
    for text, reason in [
        (
            'electrocardiogram.interval.start_time < "2026-11-01T00:00:00Z"',
            "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR",
        ),
        (
            'electrocardiogram.interval.civil_start_time >= "2026-11-01"',
            "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER",
        ),
    ]:
        with pytest.raises(FilterError) as err:
            parse(text, ecg)
        assert err.value.reasons == [reason]


@pytest.mark.parametrize("dtype", [t for t in catalog.STORED_TYPES if t.list], ids=lambda t: t.name)
def test_every_listable_type_accepts_its_catalog_filter_member(dtype: catalog.DataType) -> None:
    """The member the catalog says a sync window filters on is accepted for every type."""
    literal = {
        catalog.Axis.DATE: "2026-11-01",
        catalog.Axis.CIVIL: "2026-11-01T00:00:00",
        catalog.Axis.PHYSICAL: "2026-11-01T00:00:00Z",
    }[dtype.axis]
    parse(f'{dtype.filter_member} >= "{literal}"', dtype)
