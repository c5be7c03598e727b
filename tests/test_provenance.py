"""One row per reading across sources: the best-ranked source's row stands, the others are kept
beside it and come back when it goes, whatever the order; same-source changes are revisions."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitvault import catalog, provenance
from fitvault.normalise import columns
from fitvault.store import SCHEMA_VERSION, Store
from tests.test_store import sleep_rows

HR = catalog.get("heart-rate")
SLEEP = catalog.get("sleep")
T0 = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
API, LEGACY, TAKEOUT = "google-health-api", "fitbit-legacy", "takeout"
WATCH = "Pixel Watch 3"


def hr(rows: list[tuple[int, int, str | None]], source: str) -> dict[str, pa.Table]:
    """Heart-rate rows (seconds after T0, bpm, device) of one source."""
    times = [T0 + dt.timedelta(seconds=s) for s, _, _ in rows]
    return {
        "heart_rate": columns.table(
            catalog.HEART_RATE_TABLE,
            {
                "time": times,
                "utc_offset_s": [0] * len(rows),
                "local_date": [t.date() for t in times],
                "bpm": [b for _, b, _ in rows],
                "device": [d for *_, d in rows],
                "source": [source] * len(rows),
            },
        )
    }


def span(lo: int, hi: int) -> tuple[int, int]:
    return (int((T0.timestamp() + lo) * 1e6), int((T0.timestamp() + hi) * 1e6))


def save_hr(
    store: Store, rows: dict[str, pa.Table], source: str, replace: tuple[int, int] | None
) -> None:
    store.commit_page(HR, rows, source=source, replace=replace, covered=None, raw=None)


def table(store: Store, name: str) -> list[tuple[object, ...]]:
    cols = ", ".join(f'"{c}"' for c in catalog.TABLES[name.removeprefix("_others_")].column_names)
    return sorted(store.con.execute(f"SELECT {cols} FROM {name}").fetchall(), key=repr)


def hr_view(store: Store) -> dict[int, tuple[int, str]]:
    rows = store.con.execute("SELECT epoch(time)::BIGINT, bpm, source FROM heart_rate").fetchall()
    return {int(t - T0.timestamp()): (b, s) for t, b, s in rows}


def test_the_api_row_stands_for_a_reading_the_export_also_holds(tmp_path: Path) -> None:
    """Export first or API first: the API's row stands, the export's is kept, an export-only
    reading stays, and seen_by names both sources of the shared reading."""
    api = hr([(0, 60, WATCH)], API)
    export = hr([(0, 61, None), (5, 62, None)], TAKEOUT)
    results = []
    for order in ((export, TAKEOUT, api, API), (api, API, export, TAKEOUT)):
        with Store(tmp_path / str(len(results))) as store:
            save_hr(store, order[0], str(order[1]), None)  # type: ignore[arg-type]
            save_hr(store, order[2], str(order[3]), None)  # type: ignore[arg-type]
            assert hr_view(store) == {0: (60, API), 5: (62, TAKEOUT)}
            shape = provenance.shapes([HR])[0]
            seen = store.con.execute(
                f"SELECT epoch(time)::BIGINT, seen_by FROM ({provenance.seen_by_sql(shape)})"
            ).fetchall()
            assert sorted((int(t - T0.timestamp()), s) for t, s in seen) == [
                (0, [API, TAKEOUT]),
                (5, [TAKEOUT]),
            ]
            results.append((table(store, "heart_rate"), table(store, "_others_heart_rate")))
    assert results[0] == results[1]


def test_two_devices_at_one_instant_both_stand_over_a_deviceless_row(tmp_path: Path) -> None:
    """A row that names no device matches any device: two API devices at one instant stay two
    readings, and the export's row at that instant is kept aside, in either order."""
    api = hr([(0, 60, WATCH), (0, 70, "Pixel 9")], API)
    export = hr([(0, 61, None)], TAKEOUT)
    for i, pair in enumerate(((api, API, export, TAKEOUT), (export, TAKEOUT, api, API))):
        with Store(tmp_path / str(i)) as store:
            save_hr(store, pair[0], str(pair[1]), None)  # type: ignore[arg-type]
            save_hr(store, pair[2], str(pair[3]), None)  # type: ignore[arg-type]
            assert sorted(
                r[0] for r in store.con.execute("SELECT bpm FROM heart_rate").fetchall()
            ) == [60, 70]
            assert store.con.execute("SELECT bpm FROM _others_heart_rate").fetchall() == [(61,)]


def test_a_winner_that_its_source_drops_gives_way_to_the_next_best(tmp_path: Path) -> None:
    """When a later read of the best source no longer has a reading, the next-best source's row
    for it comes back (legacy before export); one the best source still has stays its own."""
    with Store(tmp_path) as store:
        save_hr(store, hr([(0, 61, None), (5, 62, None)], TAKEOUT), TAKEOUT, None)
        save_hr(store, hr([(0, 63, None)], LEGACY), LEGACY, None)
        save_hr(store, hr([(0, 60, WATCH), (5, 65, WATCH)], API), API, span(0, 10))
        assert hr_view(store) == {0: (60, API), 5: (65, API)}
        save_hr(store, hr([(5, 66, WATCH)], API), API, span(0, 10))  # the API dropped second 0
        assert hr_view(store) == {0: (63, LEGACY), 5: (66, API)}
        assert sorted(
            r[0] for r in store.con.execute("SELECT source FROM _others_heart_rate").fetchall()
        ) == [
            TAKEOUT,
            TAKEOUT,
        ]


def test_a_changed_or_dropped_reading_is_kept_as_a_revision(tmp_path: Path) -> None:
    """A re-read that changes a value or drops a reading records the old row (and the new one);
    a re-read with the same values records nothing."""
    with Store(tmp_path) as store:
        save_hr(store, hr([(0, 60, WATCH), (5, 61, WATCH)], API), API, span(0, 10))
        save_hr(store, hr([(0, 60, WATCH), (5, 61, WATCH)], API), API, span(0, 10))
        assert store.count("_revisions") == 0
        save_hr(store, hr([(0, 64, WATCH)], API), API, span(0, 10))
        rows = store.con.execute(
            "SELECT change, old, new FROM _revisions ORDER BY change"
        ).fetchall()
        assert [
            (c, json.loads(o)["bpm"], json.loads(n)["bpm"] if n else None) for c, o, n in rows
        ] == [
            ("changed", 60, 64),
            ("removed", 61, None),
        ]


def session(start_min: int, end_min: int, source: str) -> dict[str, pa.Table]:
    """One sleep session (and two stage rows) of a source, minutes after T0."""
    return sleep_rows(
        T0 + dt.timedelta(minutes=start_min), T0 + dt.timedelta(minutes=end_min), source
    )


def save_sleep(
    store: Store, rows: dict[str, pa.Table], source: str, replace: tuple[int, int] | None = None
) -> None:
    store.commit_page(SLEEP, rows, source=source, replace=replace, covered=None, raw=None)


def test_sessions_match_by_overlap_not_exact_start(tmp_path: Path) -> None:
    """The export's night and the API's night a minute apart are one session (the API's, with its
    stages); the export's stages wait beside it; a nap only the export has stays."""
    for i, flip in enumerate((False, True)):
        pages = [
            (session(0, 420, TAKEOUT), TAKEOUT),
            (session(1, 421, API), API),
            (session(600, 640, TAKEOUT), TAKEOUT),
        ]
        with Store(tmp_path / str(i)) as store:
            for rows, source in reversed(pages) if flip else pages:
                save_sleep(store, rows, source)
            got = store.con.execute(
                "SELECT source, (epoch(start_time) - ?)::BIGINT / 60 FROM sleep_sessions ORDER BY start_time",
                [T0.timestamp()],
            ).fetchall()
            assert got == [(API, 1), (TAKEOUT, 600)]
            assert store.con.execute(
                "SELECT source, count(*) FROM sleep_stages GROUP BY ALL ORDER BY 1"
            ).fetchall() == [
                (API, 2),
                (TAKEOUT, 2),
            ]
            assert store.count("_others_sleep_sessions") == 1
            assert store.count("_others_sleep_stages") == 2


def test_a_dropped_session_brings_back_the_other_sources_night_with_its_stages(
    tmp_path: Path,
) -> None:
    """The API withdraws its night: the export's session and its stages return to the tables."""
    window = span(-3600, 24 * 3600)
    with Store(tmp_path) as store:
        save_sleep(store, session(0, 420, TAKEOUT), TAKEOUT)
        save_sleep(store, session(1, 421, API), API, window)
        save_sleep(store, {t: v.slice(0, 0) for t, v in session(1, 421, API).items()}, API, window)
        assert store.con.execute("SELECT source FROM sleep_sessions").fetchall() == [(TAKEOUT,)]
        assert store.con.execute("SELECT DISTINCT source FROM sleep_stages").fetchall() == [
            (TAKEOUT,)
        ]
        assert store.count("_others_sleep_stages") == 0


PAGES = [
    (
        hr([(0, 61, None), (5, 62, None), (10, 63, None), (20, 68, None)], TAKEOUT),
        TAKEOUT,
        span(0, 25),
    ),
    (hr([(0, 64, None), (10, 65, None)], LEGACY), LEGACY, span(0, 15)),
    (hr([(5, 60, WATCH), (10, 66, WATCH)], API), API, span(5, 15)),
    (hr([(20, 67, "Pixel 9")], API), API, None),
]


@settings(max_examples=12, deadline=None)
@given(order=st.permutations(range(len(PAGES))))
def test_any_order_of_sources_gives_the_same_tables(
    tmp_path_factory: pytest.TempPathFactory, order: list[int]
) -> None:
    """Whatever order three sources' pages arrive in, the tables and the kept rows are the same."""
    reference = None
    for pages in (range(len(PAGES)), order):
        with Store(tmp_path_factory.mktemp("v")) as store:
            for i in pages:
                rows, source, replace = PAGES[i]
                save_hr(store, rows, source, replace)
            got = (table(store, "heart_rate"), table(store, "_others_heart_rate"))
        reference = reference or got
        assert got == reference
    assert reference is not None
    names = catalog.HEART_RATE_TABLE.column_names
    bpm, src = names.index("bpm"), names.index("source")
    assert sorted((r[bpm], r[src]) for r in reference[0]) == [
        (60, API),
        (64, LEGACY),
        (66, API),
        (67, API),
    ]
    assert sorted((r[bpm], r[src]) for r in reference[1]) == [
        (61, TAKEOUT), (62, TAKEOUT), (63, TAKEOUT), (65, LEGACY), (68, TAKEOUT)
    ]  # fmt: skip


def test_a_vault_written_last_writer_wins_is_resolved_on_upgrade(tmp_path: Path) -> None:
    """A schema-2 vault holding an export row and an API row for one reading opens as one row."""
    with Store(tmp_path) as store:
        for rows in (hr([(0, 61, None), (5, 62, None)], TAKEOUT), hr([(0, 60, WATCH)], API)):
            store.con.register("_rows", rows["heart_rate"])
            store.con.execute("INSERT INTO heart_rate BY NAME SELECT * FROM _rows")
            store.con.unregister("_rows")
        store.con.execute("DELETE FROM _sources")
        store.con.execute("UPDATE _meta SET value = '2' WHERE key = 'schema_version'")
    with Store(tmp_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert hr_view(store) == {0: (60, API), 5: (62, TAKEOUT)}
        assert store.con.execute("SELECT bpm FROM _others_heart_rate").fetchall() == [(61,)]


def test_rank_is_a_total_order() -> None:
    """Known sources by rank, unknown ones after them by name: the merge never depends on order."""
    names = [TAKEOUT, "zz-tool", API, "aa-tool", LEGACY]
    assert sorted(names, key=provenance.rank) == [API, LEGACY, TAKEOUT, "aa-tool", "zz-tool"]
    assert all(
        provenance.rank(a) != provenance.rank(b) for a, b in itertools.combinations(names, 2)
    )


STEPS = catalog.get("steps")


def steps(rows: list[tuple[int, int, int]], source: str) -> dict[str, pa.Table]:
    """Step intervals (start and end in minutes after T0's midnight, count) of one source."""
    day = T0.replace(hour=0)
    starts = [day + dt.timedelta(minutes=a) for a, _, _ in rows]
    ends = [day + dt.timedelta(minutes=b) for _, b, _ in rows]
    return {
        "steps": columns.table(
            catalog.STEPS_TABLE,
            {
                "start_time": starts,
                "end_time": ends,
                "utc_offset_s": [0] * len(rows),
                "local_date": [s.date() for s in starts],
                "count": [n for *_, n in rows],
                "source": [source] * len(rows),
            },
        )
    }


def test_a_day_total_and_the_minutes_it_sums_count_once(tmp_path: Path) -> None:
    """A legacy day total and another source's minutes of that day are one count, in either
    order: the better source's rows stand (the API's minutes over the legacy total, the legacy
    total over the export's minutes), so a daily sum never adds both."""
    total = steps([(0, 1440, 90)], LEGACY)
    cases = [(steps([(600, 601, 40), (601, 602, 50)], API), API, [API, API]),
             (steps([(600, 601, 40), (601, 602, 50)], TAKEOUT), TAKEOUT, [LEGACY])]  # fmt: skip
    for i, (minutes, source, standing) in enumerate(cases):
        order = [(total, LEGACY), (minutes, source)]
        for j, pages in enumerate((order, order[::-1])):
            with Store(tmp_path / f"{i}{j}") as store:
                for rows, src in pages:
                    store.commit_page(STEPS, rows, source=src, replace=None, covered=None, raw=None)
                got = store.con.execute(
                    "SELECT source, sum(count) FROM steps GROUP BY ALL"
                ).fetchall()
                assert sorted(s for s, _ in got) == sorted(set(standing))
                assert sum(n for _, n in got) == 90
                assert store.count("_others_steps") == (1 if source == API else 2)


def test_a_day_total_is_matched_however_far_apart_its_start_and_a_minute_of_it_lie(
    tmp_path: Path,
) -> None:
    """A merge reads only the batch's stretch of the table (Shape.near); the widest a match can
    lie: a total starting at local midnight at UTC+14 and a minute of that local date at
    23:58, UTC-12 — starts 49 h 58 min apart. Either order, one count, the better row stands."""
    day = dt.date(2026, 11, 1)
    start = dt.datetime(2026, 10, 31, 10, tzinfo=dt.UTC)  # 2026-11-01 00:00 at UTC+14
    minute = dt.datetime(2026, 11, 2, 11, 58, tzinfo=dt.UTC)  # 2026-11-01 23:58 at UTC-12

    def rows(begin: dt.datetime, end: dt.datetime, offset_h: int, n: int, source: str) -> Any:
        return {
            "steps": columns.table(
                catalog.STEPS_TABLE,
                {
                    "start_time": [begin],
                    "end_time": [end],
                    "utc_offset_s": [offset_h * 3600],
                    "local_date": [day],
                    "count": [n],
                    "source": [source],
                },
            )
        }

    total = (rows(start, minute + dt.timedelta(minutes=2), 14, 90, LEGACY), LEGACY)
    fine = (rows(minute, minute + dt.timedelta(minutes=1), -12, 40, API), API)
    for i, pages in enumerate(([total, fine], [fine, total])):
        with Store(tmp_path / str(i)) as store:
            for batch, source in pages:
                store.commit_page(STEPS, batch, source=source, replace=None, covered=None, raw=None)
            got = store.con.execute("SELECT source, count FROM steps").fetchall()
            assert got == [(API, 40)], pages
            assert store.con.execute("SELECT source FROM _others_steps").fetchall() == [(LEGACY,)]
