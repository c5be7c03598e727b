"""The proposed source precedence: one row per reading, the best-ranked source's values, every
source that saw it listed, whatever the order the rows came in."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from fitvault.provenance import prefer, prefer_sessions

T = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def _hr(rows: list[tuple[int, int, str | None, str]]) -> pa.Table:
    return pa.table({
        "time": pa.array([T + dt.timedelta(seconds=s) for s, *_ in rows], pa.timestamp("us", "UTC")),
        "bpm": [b for _, b, _, _ in rows],
        "device": pa.array([d for *_, d, _ in rows], pa.string()),
        "source": [src for *_, src in rows],
    })  # fmt: skip


def test_the_api_row_stands_for_a_reading_the_export_also_holds() -> None:
    rows = [(0, 61, None, "takeout"), (0, 60, "Pixel Watch 3", "google-health-api"),
            (5, 62, None, "takeout")]  # fmt: skip
    for order in (rows, rows[::-1]):
        out = prefer(_hr(order), ["time", "device"]).sort_by("time").to_pylist()
        assert [(r["bpm"], r["device"], r["seen_by"]) for r in out] == [
            (60, "Pixel Watch 3", ["google-health-api", "takeout"]),
            (62, None, ["takeout"]),
        ]


def test_two_devices_at_one_instant_stay_two_readings() -> None:
    rows = [(0, 60, "Pixel Watch 3", "google-health-api"), (0, 70, "Pixel 9", "google-health-api"),
            (0, 61, None, "takeout")]  # fmt: skip
    out = prefer(_hr(rows), ["time", "device"])
    assert out.num_rows == 3  # the device-less row matches neither device for sure


def test_sessions_match_by_overlap_not_exact_start() -> None:
    def s(start_min: int, end_min: int, source: str) -> dict[str, object]:
        return {"start_time": T + dt.timedelta(minutes=start_min),
                "end_time": T + dt.timedelta(minutes=end_min), "source": source}  # fmt: skip

    rows = pa.Table.from_pylist([s(0, 420, "takeout"), s(1, 421, "google-health-api"),
                                 s(600, 640, "takeout")])  # fmt: skip
    out = prefer_sessions(rows).to_pylist()
    assert [(r["source"], r["seen_by"]) for r in out] == [
        ("google-health-api", ["google-health-api", "takeout"]),
        ("takeout", ["takeout"]),
    ]
