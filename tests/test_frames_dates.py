"""Dates are dates: every calendar-date column the Python API returns holds datetime.date."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from fitvault import catalog, frames
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import NOW, synced_vault

TYPES = [
    "heart-rate",
    "steps",
    "sleep",
    "daily-resting-heart-rate",
    "daily-heart-rate-variability",
    "daily-heart-rate-zones",
    "daily-oxygen-saturation",
    "daily-respiratory-rate",
    "daily-vo2-max",
    "active-zone-minutes",
    "exercise",
    "weight",
]
DAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    """Three days of the daily types, the intraday ones they come from, and weigh-ins."""
    world = World.default(days=3, seed=7, now=NOW)
    return synced_vault(world, NOW, tmp_path_factory.mktemp("dates") / "v", TYPES)


PUBLIC = {
    "sleep": lambda v: v.sleep(),
    "sleep naps": lambda v: v.sleep(naps=True),
    "sleep_stages": lambda v: v.sleep_stages(),
    "resting_heart_rate": lambda v: v.resting_heart_rate(),
    "steps per day": lambda v: v.steps(),
    "steps per minute": lambda v: v.steps("min"),
    "heart_rate": lambda v: v.heart_rate(DAY, DAY),
    "hrv": lambda v: v.hrv(),
    "spo2": lambda v: v.spo2(),
    "breathing_rate": lambda v: v.breathing_rate(),
    "vo2_max": lambda v: v.vo2_max(),
    "weight": lambda v: v.weight(),
    "exercise": lambda v: v.exercise(),
    "active_zone_minutes": lambda v: v.active_zone_minutes(),
    "active_zone_minutes, none": lambda v: v.active_zone_minutes("2020-01-01", "2020-01-02"),
    "wear_time": lambda v: v.wear_time(),
    "heart_rate_zone_minutes": lambda v: v.heart_rate_zone_minutes(),
    "provenance": lambda v: v.provenance("daily-resting-heart-rate"),
}
DATE_COLUMNS = ("date", "local_date")


def date_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c in DATE_COLUMNS]


@pytest.mark.parametrize("name", list(PUBLIC))
def test_every_public_frame_has_date_typed_date_columns(vault: Vault, name: str) -> None:
    """date / local_date are frames.DATE holding datetime.date (not a datetime or a midnight
    Timestamp), empty frames included; instants beside them stay tz-aware."""
    df = PUBLIC[name](vault)
    columns = date_columns(df)
    assert columns, f"{name} has no date column: {list(df.columns)}"
    for col in columns:
        assert df[col].dtype == frames.DATE, (name, col, df[col].dtype)
        assert all(type(v) is dt.date for v in df[col]), (name, col)
    for col in ("time", "start", "end", "start_time", "end_time", "session_start"):
        if col in df:
            assert str(df[col].dt.tz) == vault.time_zone, (name, col)
    if name not in ("active_zone_minutes, none", "weight"):
        assert len(df), f"{name}: the world must give rows for the check to mean anything"


@pytest.mark.parametrize("name", [t.name for t in catalog.STORED_TYPES if t.name in TYPES])
def test_vault_frame_dates_are_dates_in_pandas_arrow_and_polars(vault: Vault, name: str) -> None:
    """vault.frame(): DATE columns are frames.DATE in pandas, date32 in Arrow (and pl.Date in
    polars when it is installed); the values are the same days in each."""
    df = vault.frame(name)
    table = vault.frame(name, output="arrow")
    table_dates = [c for c in table.column_names if c in DATE_COLUMNS]
    assert table_dates == date_columns(df) != []
    for col in table_dates:
        assert df[col].dtype == frames.DATE
        assert table.schema.field(col).type == pa.date32()
        assert table.column(col).to_pylist() == df[col].tolist()
    try:
        import polars as pl  # type: ignore[import-not-found]
    except ImportError:
        return
    polars_df = vault.frame(name, output="polars")
    for col in table_dates:
        assert polars_df.schema[col] == pl.Date
        assert polars_df[col].to_list() == df[col].tolist()


def test_dates_work_the_way_a_pandas_user_reaches_for_them(vault: Vault) -> None:
    """Select by datetime.date (mask, .loc, slice), read weekdays through .dt, group by date,
    and get a DatetimeIndex for resampling with pd.to_datetime."""
    rhr = vault.resting_heart_rate()
    days = rhr["date"].tolist()
    assert days == sorted(days)
    assert len(days) >= 3
    assert rhr[rhr["date"] == DAY]["date"].tolist() == [DAY]
    by_day = rhr.set_index("date")
    assert by_day.loc[DAY, "bpm"] == rhr.loc[rhr["date"] == DAY, "bpm"].item()
    assert by_day.loc[days[1] : days[2]].index.tolist() == days[1:3]
    assert rhr["date"].dt.day_of_week.tolist() == [d.weekday() for d in days]
    assert rhr["date"].dt.day_name().tolist() == [f"{d:%A}" for d in days]
    hr = vault.heart_rate(days[0], days[1])
    assert hr.groupby("local_date").size().index.tolist() == days[:2]
    weekly = rhr.set_index(pd.to_datetime(rhr["date"]))["bpm"].resample("W").mean()
    assert weekly.index.min() >= pd.Timestamp(days[0])


def test_partial_day_is_a_plain_boolean_for_today(vault: Vault) -> None:
    """Daily steps flag today (in the display zone) with a numpy bool column that ~ inverts."""
    steps = vault.steps()
    today = pd.Timestamp.now(tz=vault.time_zone).date()
    assert steps["partial_day"].dtype == bool
    assert steps["partial_day"].tolist() == [d >= today for d in steps["date"]]
    assert len(steps[~steps["partial_day"]]) == len(steps) - int(steps["partial_day"].sum())


def test_latest_full_day_is_a_date(vault: Vault) -> None:
    """The day plots default to is the day before the last day with heart rate, as a date."""
    last = vault.heart_rate()["local_date"].max()
    got = vault.latest_full_day()
    assert type(got) is dt.date
    assert got == last - dt.timedelta(days=1)


def test_sql_answers_dates_as_dates_too(vault: Vault) -> None:
    """vault.sql: a DATE column is frames.DATE, like every frame's."""
    df = vault.sql("SELECT date, bpm FROM resting_heart_rate ORDER BY date")
    assert df["date"].dtype == frames.DATE
    assert df["date"].tolist() == vault.resting_heart_rate()["date"].tolist()
