"""Everything the report shows, read once through the Vault API and aggregated for the page.

Long series are reduced here, before any SVG is drawn: the chosen day's heart rate to 5-minute
means, the hour-by-day heat map to hourly (or, over long ranges, weekly) means computed inside
DuckDB, so five years of 5-second readings never become a DataFrame.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fitvault import catalog, frames
from fitvault.frames import _where
from fitvault.report import fast
from fitvault.store import Store
from fitvault.vault import Vault

# Above this many days, daily marks (bars, heat-map columns) become weekly ones.
WEEKLY_AFTER = 180


@dataclass
class ReportData:
    """The frames behind each section; an empty frame hides what it feeds."""

    tz: str
    first: dt.date | None
    last: dt.date | None
    devices: pd.DataFrame
    wear: pd.DataFrame
    rhr: pd.DataFrame
    sleep: pd.DataFrame
    steps: pd.DataFrame
    day: dt.date | None = None
    day_hr: pd.DataFrame = field(default_factory=pd.DataFrame)
    day_sleep: pd.DataFrame = field(default_factory=pd.DataFrame)
    day_exercise: pd.DataFrame = field(default_factory=pd.DataFrame)
    heatmap: pd.DataFrame = field(default_factory=pd.DataFrame)
    hrv: pd.DataFrame = field(default_factory=pd.DataFrame)
    zones: pd.DataFrame = field(default_factory=pd.DataFrame)
    stages: pd.DataFrame = field(default_factory=pd.DataFrame)
    azm: pd.DataFrame = field(default_factory=pd.DataFrame)
    exercise: pd.DataFrame = field(default_factory=pd.DataFrame)
    vitals: dict[str, pd.DataFrame] = field(default_factory=dict)
    sync: pd.DataFrame = field(default_factory=pd.DataFrame)
    derived: dict[str, str] = field(default_factory=dict)
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def weekly(self) -> bool:
        if self.first is None or self.last is None:
            return False
        return (self.last - self.first).days + 1 > WEEKLY_AFTER


def _dates(df: pd.DataFrame, column: str = "date") -> list[dt.date]:
    if df.empty:
        return []
    days = pd.to_datetime(df[column]).dt.tz_localize(None).unique()
    return [d.date() for d in days]  # once per distinct day, not per row


class _Pinned(Vault):
    """The same vault with its DuckDB file opened once for all of the report's reads: each
    ``Vault`` call otherwise opens and closes the file (~70 ms), and the report makes ~40."""

    def __init__(self, directory: Path, store: Store) -> None:
        super().__init__(directory)
        self._pinned = store
        self._zone = super().time_zone

    @property
    def time_zone(self) -> str:
        return self._zone

    @contextlib.contextmanager
    def store(
        self, *, read_only: bool = False, create: bool = True, transient: bool = False
    ) -> Iterator[Store]:
        yield self._pinned


def gather(vault: Vault, since: dt.date | None, until: dt.date | None) -> ReportData:
    """Read every frame the report needs for ``[since, until]`` (whole local days)."""
    with vault.store(read_only=True) as store:
        return _gather(_Pinned(vault.directory, store), since, until)


def _gather(vault: _Pinned, since: dt.date | None, until: dt.date | None) -> ReportData:
    tz = vault.time_zone
    store = vault._pinned
    fast.build_minutes(store, *_where("time", "local_date", since, until, tz))
    wear = fast.wear_time(store)
    rhr = vault.resting_heart_rate(since, until)
    sleep = vault.sleep(since, until)
    steps = frames.daily_steps(store, *_where("start_time", "local_date", since, until, tz), tz)
    every = sorted({*_dates(wear), *_dates(rhr), *_dates(sleep), *_dates(steps)})
    data = ReportData(
        tz=tz,
        first=since or (every[0] if every else None),
        last=until or (every[-1] if every else None),
        devices=_devices(vault),
        wear=wear,
        rhr=rhr,
        sleep=sleep,
        steps=steps,
    )
    for frame in (wear, sleep):
        data.derived.update(frame.attrs.get("derived", {}))
    _heart(vault, data, since, until)
    _sleep_and_activity(vault, data, since, until)
    _vitals(vault, data, since, until)
    data.sync = _sync_state(vault)
    return data


def _full_day(wear: pd.DataFrame, until: dt.date | None) -> dt.date | None:
    """The latest local day with readings that is not still in progress."""
    days = _dates(wear)
    if until is not None or len(days) < 2:
        return days[-1] if days else None
    return days[-2]


def _heart(vault: _Pinned, data: ReportData, since: dt.date | None, until: dt.date | None) -> None:
    data.day = _full_day(data.wear, until)
    if data.day is not None:
        hr = vault.heart_rate(data.day, data.day)
        data.day_hr = (
            hr.set_index("local_time")["bpm"]
            .astype("float64")
            .resample("5min")
            .agg(["mean", "min", "max"])
        )
        nights = vault.sleep(data.day, data.day + dt.timedelta(days=1), naps=True)
        data.day_sleep = nights
        data.day_exercise = vault.exercise(data.day, data.day)
    data.heatmap = fast.hourly(vault._pinned, data.weekly)
    data.hrv = vault.hrv(since, until)
    zones = fast.zone_minutes(vault._pinned)
    data.derived.update(zones.attrs.get("derived", {}))
    data.zones = zones


def _sleep_and_activity(
    vault: Vault, data: ReportData, since: dt.date | None, until: dt.date | None
) -> None:
    if len(data.sleep):
        night = pd.Timestamp(data.sleep["date"].iloc[-1]).date()
        data.stages = vault.sleep_stages(night, night)
    data.azm = vault.active_zone_minutes(since, until)
    data.exercise = vault.exercise(since, until)


def _vitals(vault: Vault, data: ReportData, since: dt.date | None, until: dt.date | None) -> None:
    temp: pd.DataFrame = vault.frame("daily-sleep-temperature-derivations", since, until)
    if len(temp):
        temp["deviation_derived"] = temp["nightly_celsius"] - temp["baseline_celsius"]
        data.derived["deviation_derived"] = (
            "nightly skin temperature minus the personal baseline (°C), both as the API "
            "reports them in daily-sleep-temperature-derivations; computed by fitvault"
        )
    data.vitals = {
        "spo2": vault.spo2(since, until),
        "breathing": vault.breathing_rate(since, until),
        "temperature": temp,
        "vo2": vault.vo2_max(since, until),
        "weight": vault.weight(since, until),
    }


def _devices(vault: Vault) -> pd.DataFrame:
    """Devices that recorded heart rate, steps or sleep, with their first and last day."""
    parts = " UNION ALL ".join(
        f"SELECT device, local_date FROM {t} WHERE device IS NOT NULL"
        for t in ("heart_rate", "steps", "sleep_sessions")
    )
    sql = (
        f"SELECT device, min(local_date) AS first, max(local_date) AS last FROM ({parts}) "
        "GROUP BY 1 ORDER BY 2"
    )
    with vault.store(read_only=True) as store:
        return store.df(sql)


def _sync_state(vault: Vault) -> pd.DataFrame:
    """Per stored type and source: the span synced, when it was last synced, and its rows."""
    with vault.store(read_only=True) as store:
        df = store.df(
            "SELECT data_type, source, min(covered_from) AS covered_from, "
            "max(covered_to) AS covered_to, max(updated_at) AS last_sync, count(*) AS spans "
            "FROM _sync_state GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows: dict[str, Any] = {}
        for dtype in catalog.STORED_TYPES:
            table = catalog.table_of(dtype).name
            rows[dtype.name] = store.count(table)
    df["rows"] = df["data_type"].map(rows).astype("Int64")
    return df
