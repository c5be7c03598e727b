"""Every declared type through the core: plan, per-type isolation, migrations, raw pruning,
private files, and one meaning per date string."""

from __future__ import annotations

import datetime as dt
import stat
import zoneinfo
from pathlib import Path

import duckdb
import httpx2
import pytest

from fitvault import catalog
from fitvault._errors import ConfigError, VaultError
from fitvault.simulator.world import World, reconciled
from fitvault.store import SCHEMA_VERSION, VAULT_FILE, Store
from fitvault.vault import Vault
from tests.conftest import NOW, sign_in, sync, synced_vault

CLASSIC = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]


class Counting(httpx2.AsyncBaseTransport):
    """Passes requests on to the simulator and remembers their paths."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, fail: str | None = None) -> None:
        self.inner, self.fail, self.paths = inner, fail, []  # type: ignore[var-annotated]

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.paths.append(request.url.path)
        if self.fail and f"/dataTypes/{self.fail}/" in request.url.path:
            body = {"error": {"code": 400, "message": "not for you", "status": "INVALID_ARGUMENT"}}
            return httpx2.Response(400, json=body)
        return await self.inner.handle_async_request(request)


def test_plan_names_every_type_and_sends_no_data_request(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """`sync --plan` lists each stored type with its operation and windows, and asks the API
    for the account only."""
    counting = Counting(transport)
    plans = vault.plan(transport=counting)
    assert {p.data_type for p in plans} == {t.name for t in catalog.STORED_TYPES}
    assert not [p for p in counting.paths if "/dataPoints" in p]
    by_name = {p.data_type: p for p in plans}
    assert by_name["floors"].operation == "dailyRollUp"
    assert by_name["heart-rate"].operation == "list"
    assert all(p.requests >= len(p.windows) for p in plans)
    # Roll-up windows respect the operation's range limit (14 days for total calories).
    assert all(w.hi - w.lo <= 14 * 86_400_000_000 for w in by_name["total-calories"].windows)


def test_a_refused_type_is_skipped_with_its_request_and_the_rest_complete(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """A 400 for one type is reported with the request; the other types are stored."""
    report = sync(vault, Counting(transport, fail="steps"), types=CLASSIC)
    assert set(report.skipped) == {"steps"}
    assert "GET /v4/users/me/dataTypes/steps/dataPoints" in report.skipped["steps"]
    assert "not for you" in report.skipped["steps"]
    with vault.store(read_only=True) as store:
        assert store.count("heart_rate") > 0
        assert store.count("sleep_sessions") > 0
        assert store.count("steps") == 0


V1_DDL = """
CREATE TABLE _meta (key VARCHAR PRIMARY KEY, value VARCHAR);
INSERT INTO _meta VALUES ('schema_version', '1');
CREATE TABLE heart_rate (time TIMESTAMPTZ, utc_offset_s INTEGER, local_date DATE,
    bpm SMALLINT, source VARCHAR);
INSERT INTO heart_rate VALUES ('2026-11-01 12:00:00+00', 0, '2026-11-01', 61, 'google-health-api');
CREATE TABLE steps (start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, utc_offset_s INTEGER,
    local_date DATE, count INTEGER, source VARCHAR);
"""


def test_a_vault_written_by_the_first_release_opens_and_syncs(
    vault: Vault, transport: httpx2.ASGITransport, world: World
) -> None:
    """Schema 1 (four tables, no data-source columns) is migrated in place and keeps its rows."""
    con = duckdb.connect(str(vault.directory / VAULT_FILE))
    con.execute(V1_DDL)
    con.close()
    sync(vault, transport, types=CLASSIC)
    with vault.store(read_only=True) as store:
        assert store.schema_version == SCHEMA_VERSION == 4
        old = store.df("SELECT bpm FROM heart_rate WHERE time = '2026-11-01 12:00:00+00'")
        assert old["bpm"].tolist() == [61]
        assert store.count("heart_rate") == len(world.heart_rate().t) + 1
        assert "device" in store.df("SELECT * FROM steps LIMIT 0").columns


def test_a_vault_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    """A schema this release does not know is not touched."""
    (tmp_path / "v").mkdir()
    con = duckdb.connect(str(tmp_path / "v" / VAULT_FILE))
    con.execute("CREATE TABLE _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO _meta VALUES ('schema_version', '99')")
    con.close()
    with pytest.raises(VaultError, match="newer fitvault"):
        Store(tmp_path / "v")


def test_lag_rereads_drop_the_raw_pages_they_supersede(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """After a second sync, no kept page's span lies inside a later page's of the same type,
    and a rebuild from what is kept gives the same tables."""
    sync(vault, transport, types=CLASSIC)
    sync(vault, transport, types=CLASSIC, clock=lambda: NOW + dt.timedelta(hours=6))
    with vault.store(read_only=True) as store:
        spans = store.df(
            "SELECT id, data_type, replace_from AS lo, replace_to AS hi FROM _raw_pages "
            "WHERE replace_from IS NOT NULL"
        )
        before = {t: store.count(t) for t in ("heart_rate", "steps", "sleep_sessions")}
    inside = spans.merge(spans, on="data_type")
    inside = inside[
        (inside.id_x < inside.id_y) & (inside.lo_x >= inside.lo_y) & (inside.hi_x <= inside.hi_y)
    ]
    assert inside.empty
    rebuilt = vault.rebuild()
    assert {t: rebuilt[t] for t in before} == before


def test_the_vault_is_private(vault: Vault, transport: httpx2.ASGITransport) -> None:
    """The directory is 0700 and the database 0600: it holds health data."""
    sync(vault, transport, types=["daily-resting-heart-rate"])
    assert stat.S_IMODE(vault.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((vault.directory / VAULT_FILE).stat().st_mode) == 0o600


def test_reading_commands_do_not_create_a_vault(tmp_path: Path) -> None:
    """A typo in --vault is an error, not a new empty database."""
    typo = tmp_path / "typo"
    with pytest.raises(VaultError, match="fitvault auth"):
        Vault(typo).rebuild()
    with pytest.raises(VaultError):
        Vault(typo).status()
    assert not typo.exists()


def test_a_date_string_means_the_same_day_everywhere(
    vault: Vault, transport: httpx2.ASGITransport, world: World
) -> None:
    """'2026-11-1' is that whole day (not midnight), like the CLI reads it; reversed ranges
    are errors."""
    sync(vault, transport, types=["heart-rate"])
    day = world.start + dt.timedelta(days=3)
    short = f"{day.year}-{day.month}-{day.day}"
    assert len(vault.heart_rate(short, short)) == len(vault.heart_rate(day, day)) > 1000
    with pytest.raises(ConfigError, match="reversed"):
        vault.heart_rate(day, day - dt.timedelta(days=1))
    with pytest.raises(ConfigError, match="not a date"):
        vault.heart_rate("2026-13-45")


def test_a_generic_frame_has_units_and_local_times(
    vault: Vault, transport: httpx2.ASGITransport, world: World
) -> None:
    """vault.frame() serves any stored type: instants in the display zone, the wall clock the
    device showed, units from the catalog."""
    sync(vault, transport, types=["steps"])
    df = vault.frame("steps")
    assert len(df) == len(reconciled(world.records("steps"))["start_time"])
    assert len(vault.frame("steps", reconciled=False)) == len(world.records("steps")["count"])
    assert str(df["start_time"].dt.tz) == vault.time_zone
    assert df.attrs["units"]["count"] == "steps"
    first = df.iloc[0]
    offset = dt.timedelta(seconds=int(first["utc_offset_s"]))
    assert first["local_time"] == (first["start_time"].tz_convert("UTC") + offset).tz_localize(None)
    with pytest.raises(ConfigError, match="write-only"):
        vault.frame("moods")


def test_a_signed_in_vault_can_plan_before_its_first_sync(
    tmp_path: Path, transport: httpx2.ASGITransport
) -> None:
    """Planning right after `fitvault auth` works (nothing synced yet)."""
    v = Vault(tmp_path / "fresh")
    sign_in(v, transport)
    plans = v.plan(types=["heart-rate"], transport=transport)
    assert plans[0].requests >= 1


def test_steps_have_one_dtype_at_every_frequency_and_today_is_flagged(tmp_path: Path) -> None:
    """int64 steps per minute, hour and day; only the day still in progress is partial (it has
    a row only once the person has walked today: not in the small hours, whenever CI runs)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    world = World.default(days=3, seed=7, now=now)
    vault = synced_vault(world, now, tmp_path / "v", types=["steps"])
    frames = {freq: vault.steps(freq) for freq in ("min", "h", "D")}
    assert {str(df["steps"].dtype) for df in frames.values()} == {"int64"}
    daily = frames["D"]
    today = now.astimezone(zoneinfo.ZoneInfo(vault.time_zone)).date()
    steps = world.records("steps")
    walked_today = any(
        dt.datetime.fromtimestamp(int(t) + int(off), dt.UTC).date() == today
        for t, off in zip(steps["start_time"], steps["utc_offset_s"], strict=True)
    )
    assert daily.loc[daily["partial_day"], "date"].tolist() == ([today] if walked_today else [])
    assert len(daily) >= 3  # the earlier, complete days are there and not partial
    assert int(daily["steps"].sum()) == int(frames["min"]["steps"].sum())
