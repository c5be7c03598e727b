"""Whole-range aggregates for the report in few passes over the big tables.

Five years of heart rate is ~30 million rows. ``Vault.wear_time()``, ``heart_rate_zone_minutes()``
and an hour-by-day heat map would each group them by minute again; here that is done once, into
a temporary table of one row per local minute, and all three read it. ``tests/test_report.py``
checks that each result equals the Vault API's on the same vault.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from fitvault import derived
from fitvault.frames import query
from fitvault.store import Store

MINUTES = "_report_minutes"


def build_minutes(store: Store, where: str, params: list[Any]) -> None:
    """One row per local minute with a reading: its local date, hour, mean bpm."""
    store.con.execute(
        # One grouping key, and local_date is not read: it is the local minute's day. The key
        # is integer arithmetic on the stored microseconds: epoch() goes through a double and
        # cost a third more CPU on 33 million rows.
        f"CREATE OR REPLACE TEMP TABLE {MINUTES} AS SELECT minute, bpm, "
        "(DATE '1970-01-01' + (minute // 1440)::INTEGER) AS local_date FROM ("
        "SELECT (epoch_us(time) // 1000000 + utc_offset_s) // 60 AS minute, avg(bpm) AS bpm "
        f"FROM heart_rate{where} GROUP BY 1)",
        params,
    )


def wear_time(store: Store) -> pd.DataFrame:
    """As ``Vault.wear_time()``: minutes of each local day with at least one reading."""
    df = query(
        store,
        f"SELECT local_date AS date, count(*)::INTEGER AS wear_minutes_derived FROM {MINUTES} "
        "GROUP BY 1 ORDER BY 1",
    )
    df.attrs["derived"] = {"wear_minutes_derived": derived.WEAR}
    return df


def hourly(store: Store, weekly: bool) -> pd.DataFrame:
    """Mean of the 1-minute means per local hour of day and date (or week starting Monday)."""
    period = "date_trunc('week', local_date)" if weekly else "local_date"
    return query(
        store,
        f"SELECT {period}::DATE AS period, ((minute // 60) % 24)::INTEGER AS hour, "
        f"avg(bpm) AS bpm FROM {MINUTES} GROUP BY 1, 2 ORDER BY 1, 2",
    )


def zone_minutes(store: Store) -> pd.DataFrame:
    """As ``Vault.heart_rate_zone_minutes()`` (same bounds, same rule; see ``derived.ZONE``)."""
    profile = store.get_meta("profile") or {}
    age = int(profile.get("age") or derived.DEFAULT_AGE)
    account = (
        "SELECT date, heart_rate_zone, min_bpm::DOUBLE AS min_bpm, "
        "(max_bpm + 1)::DOUBLE AS max_bpm FROM daily_heart_rate_zones"
    )
    df = query(
        store,
        f"WITH acct AS ({account}), dflt AS ({derived._default_bounds(store, age)}), "
        "b AS (SELECT * FROM acct UNION ALL "
        "SELECT * FROM dflt WHERE date NOT IN (SELECT date FROM acct)) "
        "SELECT m.local_date AS date, b.heart_rate_zone, count(*)::INTEGER AS minutes_derived "
        f"FROM {MINUTES} m JOIN b ON b.date = m.local_date "
        "AND m.bpm >= b.min_bpm AND m.bpm < b.max_bpm GROUP BY 1, 2 ORDER BY 1, 2",
    )
    df.attrs["derived"] = {"minutes_derived": derived.ZONE}
    return df
