"""One seeded synthetic person: where they are, how they sleep and move, what their heart does.

Every API face renders from a World, so all faces agree. Each local date's content comes from an
RNG keyed by (seed, date ordinal, purpose) and never from generation order, so a date looks the
same whatever range the World spans, as long as the zone timeline around it is the same.

A "unit" of date d runs from the bedtime of the night that ends on d's morning to the next
bedtime; the night, d's resting heart rate and d's waking day are rendered together.

The World is a stack of series generators, one module per physiological stream, each a class
that builds on the ones below it: timeline → sleep → plan → activity → heart → minutes → moves →
phone → vitals → body → exercise → logs → ecg. Every series is a cached property, so asking for
one type builds only what it depends on.
"""

from __future__ import annotations

import numpy as np

from fitvault import catalog
from fitvault.simulator.world._base import Records
from fitvault.simulator.world.ecg import Medical
from fitvault.simulator.world.moves import per_day
from fitvault.simulator.world.phone import reconciled

ROLLUP_ONLY_COLUMN = {"floors": "floors", "total-calories": "kcal"}


class World(Medical):
    """A seeded person from local date `start` up to the aware instant `end` ("now")."""

    def records(self, type_name: str) -> Records:
        """The rows of a stored type exactly as the vault should hold them (not ``sleep``).

        A dict of equally long columns, named as the catalog's main table names them:

        - time: ``time`` (samples) or ``start_time``/``end_time`` (intervals, sessions) as int64
          epoch seconds; ``utc_offset_s`` (samples, intervals) or ``start_utc_offset_s``/
          ``end_utc_offset_s`` (sessions) as int seconds east of UTC; ``date`` as
          ``datetime.date`` for daily and roll-up-only types. No ``local_date`` /
          ``local_start_time`` / ``source``.
        - fields: by catalog ``column``, the stored value (INT64 → int, DURATION → float
          seconds, TIMESTAMP → int epoch seconds, JSON → the Python object, None = absent and
          omitted on the wire; a double the API sends as "NaN" is ``nan``).
        - ``device`` (display name) and ``platform`` ("FITBIT", "HEALTH_CONNECT"); None for the
          roll-up-only types, whose rows are per civil day and equal ``dailyRollUp`` with
          ``windowSizeDays=1``.

        Numbers come as numpy arrays, strings and optional values as lists or object arrays.
        Rows ascend by time (the wearable before another device at the same instant); exploded
        types have one row per array element, a point's elements consecutive and in order.
        """
        dtype = catalog.get(type_name)
        if dtype.name == "sleep" or not dtype.stored:
            raise KeyError(f"{type_name}: use world.sleep(), or the type is not stored")
        if dtype.rollup_only:
            return self._per_day(dtype)
        rec: Records = getattr(self, "rec_" + dtype.snake)
        return rec

    def child_records(self, type_name: str, child_table: str) -> Records:
        """Rows of a child table (``session_start`` + the child's columns), by session start."""
        catalog.get(type_name)
        rec: Records = getattr(self, "child_" + child_table)
        return rec

    def rollup_source(self, type_name: str) -> Records:
        """The reconciled stream roll-ups aggregate: interval or sample records of the type."""
        dtype = catalog.get(type_name)
        if dtype.rollup_only:
            rec: Records = getattr(self, "src_" + dtype.snake)
            return rec
        if dtype.name == "heart-rate":  # one device; skip the per-row columns of 6 M samples
            hr = self.heart_rate()
            return {"time": hr.t, "utc_offset_s": hr.offset_s.astype(np.int64), "bpm": hr.bpm}
        return reconciled(self.records(type_name))

    def _per_day(self, dtype: catalog.DataType) -> Records:
        src = self.rollup_source(dtype.name)
        if dtype.name in ROLLUP_ONLY_COLUMN:
            column = ROLLUP_ONLY_COLUMN[dtype.name]
            days, sums = per_day(src, column)
            values = sums.astype("int64") if column == "floors" else sums
            return {"date": days, column: values, "device": [None] * len(days),
                    "platform": [None] * len(days)}  # fmt: skip
        dates, zones, kcal = [], [], []
        for zone in ("LIGHT", "MODERATE", "VIGOROUS", "PEAK"):
            mask = np.array([z == zone for z in src["heart_rate_zone"]], dtype=bool)
            sub = {
                k: v[mask] for k, v in src.items() if k in ("start_time", "utc_offset_s", "kcal")
            }
            d, s = per_day(sub, "kcal")
            dates += d
            zones += [zone] * len(d)
            kcal += s.tolist()
        order = sorted(range(len(dates)), key=lambda i: (dates[i], ZONE_ORDER[zones[i]]))
        return {
            "date": [dates[i] for i in order],
            "heart_rate_zone": [zones[i] for i in order],
            "kcal": np.array([kcal[i] for i in order]),
            "device": [None] * len(order),
            "platform": [None] * len(order),
        }


ZONE_ORDER = {"LIGHT": 0, "MODERATE": 1, "VIGOROUS": 2, "PEAK": 3}
__all__ = ["World", "reconciled"]
