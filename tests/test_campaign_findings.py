"""What the campaign's fuzz part found (benchmarks/campaign.py, 2026-11-30), kept as regression
tests: a v4 page with an out-of-range or empty UTC offset is refused with fitvault's own error,
not a ValueError (normalise.columns.offset_s)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import msgspec

from fitvault import catalog
from fitvault._errors import FitvaultError
from fitvault.normalise.google_health import normalise
from tests.fuzz import seeds


def parsed_or_refused(name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """The type's seed page with ``change`` made to its first point: parsed, or refused with a
    FitvaultError (anything else propagates and fails the test)."""
    page = msgspec.json.decode(seeds.v4()[name])
    change(page["dataPoints"][0])
    with contextlib.suppress(FitvaultError):
        normalise(catalog.get(name), msgspec.json.encode(page))


def test_an_utc_offset_too_large_for_int32_is_refused() -> None:
    """normalise/columns.py:60 raised ArrowInvalid ("Value 99999999999 too large to fit in C
    integer type") for a sedentary period's startUtcOffset of 99999999999s."""

    def huge(point: dict[str, Any]) -> None:
        point["sedentaryPeriod"]["interval"]["startUtcOffset"] = "99999999999s"

    parsed_or_refused("sedentary-period", huge)


def test_an_empty_sleep_stage_offset_is_refused() -> None:
    """fitvault/_time.py:25 raised ValueError("not a protobuf Duration: ''") for a sleep
    stage whose startUtcOffset is empty."""

    def empty(point: dict[str, Any]) -> None:
        point["sleep"]["stages"][0]["startUtcOffset"] = ""

    parsed_or_refused("sleep", empty)
