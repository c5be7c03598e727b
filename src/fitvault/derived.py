"""Metrics fitvault computes from the stored readings (the API does not report them as such).

Every column these functions return ends in ``_derived`` and is explained in
``df.attrs["derived"]``, so nobody mistakes them for the service's own numbers.
"""

from __future__ import annotations

import pandas as pd

from fitvault.frames import TimeArg, _where, query
from fitvault.store import Store

WEAR = (
    "minutes of the local day with at least one heart-rate reading, computed by fitvault from "
    "intraday heart rate (the watch measures every few seconds while worn)"
)
ZONE = (
    "minutes of the local day whose mean heart rate falls in the zone, computed by fitvault from "
    "intraday heart rate; zone bounds are the account's for that day (daily-heart-rate-zones) "
    "or, where the account has none, Karvonen bounds from the day's resting heart rate and "
    "220 − age: LIGHT 40–60 %, MODERATE 60–70 %, VIGOROUS 70–85 %, PEAK ≥ 85 % of the reserve"
)
# Fractions of the heart-rate reserve where each zone starts (the documented default).
KARVONEN = (("LIGHT", 0.40), ("MODERATE", 0.60), ("VIGOROUS", 0.70), ("PEAK", 0.85))
DEFAULT_AGE = 40


def wear_time(store: Store, start: TimeArg = None, end: TimeArg = None, *, tz: str) -> pd.DataFrame:
    """One row per local date: ``wear_minutes_derived``."""
    where, params = _where("time", "local_date", start, end, tz)
    df = query(
        store,
        "SELECT local_date AS date, count(DISTINCT (epoch(time)::BIGINT + utc_offset_s) // 60)"
        f"::INTEGER AS wear_minutes_derived FROM heart_rate{where} GROUP BY 1 ORDER BY 1",
        params,
    )
    df.attrs["derived"] = {"wear_minutes_derived": WEAR}
    return df


def _minutes_sql(where: str) -> str:
    return (
        "SELECT local_date, (epoch(time)::BIGINT + utc_offset_s) // 60 AS minute, avg(bpm) AS bpm "
        f"FROM heart_rate{where} GROUP BY 1, 2"
    )


def _default_bounds(store: Store, age: int) -> str:
    """Karvonen zone bounds per date from the day's resting heart rate (SQL, a VALUES join)."""
    cases = []
    for i, (zone, lo) in enumerate(KARVONEN):
        hi = KARVONEN[i + 1][1] if i + 1 < len(KARVONEN) else None
        upper = f"r.bpm + {hi} * ({220 - age} - r.bpm)" if hi is not None else "1000"
        cases.append(
            f"SELECT r.date, '{zone}' AS heart_rate_zone, r.bpm + {lo} * ({220 - age} - r.bpm) "
            f"AS min_bpm, {upper} AS max_bpm FROM resting_heart_rate r"
        )
    return " UNION ALL ".join(cases)


def zone_minutes(
    store: Store, start: TimeArg = None, end: TimeArg = None, *, tz: str
) -> pd.DataFrame:
    """One row per local date and zone: ``minutes_derived`` (see ``ZONE``)."""
    where, params = _where("time", "local_date", start, end, tz)
    profile = store.get_meta("profile") or {}
    age = int(profile.get("age") or DEFAULT_AGE)
    account = (
        "SELECT date, heart_rate_zone, min_bpm::DOUBLE AS min_bpm, "
        "(max_bpm + 1)::DOUBLE AS max_bpm FROM daily_heart_rate_zones"
    )
    bounds = (
        f"WITH acct AS ({account}), dflt AS ({_default_bounds(store, age)}), "
        "b AS (SELECT * FROM acct UNION ALL "
        "SELECT * FROM dflt WHERE date NOT IN (SELECT date FROM acct)) "
    )
    df = query(
        store,
        bounds
        + f"SELECT m.local_date AS date, b.heart_rate_zone, count(*)::INTEGER AS minutes_derived "
        f"FROM ({_minutes_sql(where)}) m JOIN b ON b.date = m.local_date "
        "AND m.bpm >= b.min_bpm AND m.bpm < b.max_bpm GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )
    df.attrs["derived"] = {"minutes_derived": ZONE}
    return df
