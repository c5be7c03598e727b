"""The legacy sync end to end against the simulator's legacy face: sign-in with rotating refresh
tokens, a full sync whose rows equal a v4 sync of the same world for the types both serve, the
410 switch, rebuild from the kept raw bodies, and the CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import httpx2
import pandas as pd
import pytest

from fitvault._errors import ApiGone, RefreshTokenExpired
from fitvault.legacy_auth import LegacyAccount, LegacyTokens, LegacyTokenStore
from fitvault.simulator.app import Simulator, create_app
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import NOW, SERVER, FakeClock, browser_via, sign_in, sync
from tests.test_cli import run_main

HOME_OFFSET = -5 * 3600  # the session world's New York in November


@pytest.fixture(scope="module")
def legacy_world() -> World:
    return World.default(days=12, seed=7, now=NOW)


@pytest.fixture
def sim(legacy_world: World, clock: FakeClock) -> Simulator:
    return create_app(legacy_world, clock=clock, auto_approve=True)


def legacy_sign_in(vault: Vault, transport: httpx2.AsyncBaseTransport) -> None:
    vault.authorize(
        source="fitbit-legacy", server=SERVER, open_url=browser_via(transport), transport=transport
    )


def legacy_sync(vault: Vault, transport: httpx2.AsyncBaseTransport, clock: FakeClock, **kw):  # type: ignore[no-untyped-def]
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return asyncio.run(vault.async_legacy_sync(transport=transport, clock=clock, sleep=sleep, **kw))


@pytest.fixture(scope="module")
def both(legacy_world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Vault, Vault]:
    """The same world synced once through the legacy face and once through v4."""
    clock = FakeClock(NOW.timestamp())
    sim = create_app(legacy_world, clock=clock, auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)
    root = tmp_path_factory.mktemp("both")
    legacy, v4 = Vault(root / "legacy"), Vault(root / "v4")
    legacy_sign_in(legacy, transport)
    report = legacy_sync(legacy, transport, clock)
    assert not report.refused
    assert not report.notes
    sign_in(v4, transport)
    sync(v4, transport)
    return legacy, v4


def rows(vault: Vault, query: str) -> pd.DataFrame:
    return vault.sql(query).reset_index(drop=True)


def home_days(v4: Vault) -> str:
    """Days the person spent in the profile's zone, and so did the days either side: legacy
    times are floating local times read in the profile's zone, so on the trip (5 h east) they
    are 5 h off, and around it a day's readings spill into the next; v4 carries true offsets."""
    offsets = rows(
        v4,
        "SELECT local_date, min(utc_offset_s) = max(utc_offset_s) AND min(utc_offset_s) = "
        f"{HOME_OFFSET} AS home FROM heart_rate GROUP BY 1 ORDER BY 1",
    )
    home = dict(zip(offsets["local_date"].dt.date, offsets["home"], strict=True))
    one = dt.timedelta(days=1)
    days = [d for d in home if all(home.get(d + k * one, True) for k in (-1, 0, 1))]
    return "local_date IN (" + ", ".join(f"DATE '{d}'" for d in days) + ")"


def test_legacy_and_v4_give_the_same_rows_for_the_types_both_serve(
    both: tuple[Vault, Vault],
) -> None:
    """Row for row (source, device and platform columns aside): heart rate readings on home
    days, resting heart rate, the nights at home with every stage segment, HRV, SpO2, breathing
    rate, weight, and daily steps. Known differences, each from the legacy wire format: it
    sends calories and VO2 max rounded to whole numbers, floors for days without any (0), and
    no minutes-to-fall-asleep."""
    legacy, v4 = both
    HOME_DAYS = home_days(v4)
    same = [
        f"SELECT time, bpm FROM heart_rate WHERE {HOME_DAYS} ORDER BY time",
        "SELECT date, bpm FROM resting_heart_rate ORDER BY date",
        "SELECT start_time, end_time, minutes_asleep, minutes_deep, minutes_light, minutes_rem, "
        f"minutes_wake FROM sleep_sessions WHERE {HOME_DAYS} ORDER BY 1",
        "SELECT start_time, end_time, stage FROM sleep_stages WHERE session_start IN "
        f"(SELECT start_time FROM sleep_sessions WHERE {HOME_DAYS}) ORDER BY 1, 2",
        "SELECT date, avg_rmssd_ms, deep_sleep_rmssd_ms FROM daily_heart_rate_variability "
        "ORDER BY 1",
        "SELECT date, avg_percent, lower_bound_percent, upper_bound_percent "
        "FROM daily_oxygen_saturation ORDER BY 1",
        "SELECT date, breaths_per_minute FROM daily_respiratory_rate ORDER BY 1",
        "SELECT grams FROM weight",
        "SELECT local_date, sum(count) AS steps FROM steps WHERE coalesce(platform, 'FITBIT') = "
        f"'FITBIT' AND {HOME_DAYS} GROUP BY 1 ORDER BY 1",
    ]
    for query in same:
        mine, theirs = rows(legacy, query), rows(v4, query)
        assert len(theirs) > 0, query
        pd.testing.assert_frame_equal(mine, theirs, check_dtype=False, obj=query)
    # The heart-rate comparison covered most readings, not a corner of them.
    home = rows(v4, f"SELECT count(*) AS n FROM heart_rate WHERE {HOME_DAYS}")["n"][0]
    assert home > 70_000  # five whole days at home
    # Rounded on the legacy wire: whole kcal, VO2 max without decimals.
    kcal = rows(legacy, "SELECT kcal FROM total_calories ORDER BY date")["kcal"]
    kcal_v4 = rows(v4, "SELECT kcal FROM total_calories ORDER BY date")["kcal"]
    assert ((kcal - kcal_v4).abs() <= 0.5).all()
    vo2 = rows(legacy, "SELECT vo2_max FROM daily_vo2_max ORDER BY date")["vo2_max"]
    vo2_v4 = rows(v4, "SELECT vo2_max FROM daily_vo2_max ORDER BY date")["vo2_max"]
    assert ((vo2 - vo2_v4).abs() <= 0.5).all()


def test_every_legacy_row_is_marked_with_its_source(both: tuple[Vault, Vault]) -> None:
    """Every row the legacy sync wrote says source fitbit-legacy."""
    legacy, _ = both
    for table in ("heart_rate", "steps", "sleep_sessions", "resting_heart_rate"):
        sources = rows(legacy, f"SELECT DISTINCT source FROM {table}")["source"].tolist()
        assert sources == ["fitbit-legacy"], table


def test_a_second_sync_asks_only_for_the_days_wearables_revise(
    tmp_path: Path, sim: Simulator, clock: FakeClock
) -> None:
    """Run again at once: only the last three days (and profile, devices) are asked again,
    and the rows stay as they were."""
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "v")
    legacy_sign_in(vault, transport)
    first = legacy_sync(vault, transport, clock, since="2026-11-12")
    count = rows(vault, "SELECT count(*) AS n FROM heart_rate")["n"][0]
    second = legacy_sync(vault, transport, clock, since="2026-11-12")
    assert first.requests > 40
    # profile, devices; 18 range series one request each; intraday 2 × 4 days (today − 3 …)
    assert second.requests == 2 + 18 + 8
    assert rows(vault, "SELECT count(*) AS n FROM heart_rate")["n"][0] == count


def test_rotation_on_the_simulator_the_old_refresh_token_is_refused(
    tmp_path: Path, sim: Simulator
) -> None:
    """Against the simulator's token endpoint: a refresh saves the new pair, and the refresh
    token it replaced then answers invalid_grant (which names the command to run)."""
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "v")
    legacy_sign_in(vault, transport)
    store = LegacyTokenStore(vault.directory)
    old = store.load()
    assert old is not None
    account = LegacyAccount.load(vault.directory)
    tokens = LegacyTokens(account, store, transport=transport)
    asyncio.run(tokens.refresh())
    new = json.loads((vault.directory / "legacy_token.json").read_text())
    assert new["refresh_token"] != old["refresh_token"]
    store.save(old)  # as if a stale copy of the vault tried to use the old pair
    with pytest.raises(RefreshTokenExpired, match="fitvault auth --source fitbit-legacy"):
        asyncio.run(LegacyTokens(account, store, transport=transport).refresh())


def test_the_410_switch_stops_the_sync_with_the_shutdown_message(
    tmp_path: Path, sim: Simulator, clock: FakeClock
) -> None:
    """With the simulator answering 410 Gone the sync stops at its first request."""
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "v")
    legacy_sign_in(vault, transport)
    sim.legacy.switches.gone = True
    with pytest.raises(ApiGone, match="switched off on 2026-11-02") as exc:
        legacy_sync(vault, transport, clock)
    assert "fitvault auth" in str(exc.value)
    assert "fitvault import" in str(exc.value)


def test_rebuild_replays_the_legacy_bodies_to_the_same_rows(
    tmp_path: Path, sim: Simulator, clock: FakeClock
) -> None:
    """The raw bodies kept by the sync rebuild the same tables without the network."""
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "v")
    legacy_sign_in(vault, transport)
    legacy_sync(vault, transport, clock, since="2026-11-18")
    tables = ["heart_rate", "steps", "sleep_sessions", "sleep_stages", "resting_heart_rate"]
    before = {t: rows(vault, f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    vault.rebuild()
    for t in tables:
        pd.testing.assert_frame_equal(rows(vault, f"SELECT * FROM {t} ORDER BY ALL"), before[t])


def test_cli_sync_against_410_exits_with_the_api_code_and_one_message(
    tmp_path: Path,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`fitvault sync --source fitbit-legacy` against a 410 server: exit 4, a message naming
    `fitvault auth` and `fitvault import`, no traceback; an unknown --source is a usage error."""
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(tmp_path / "v")
    legacy_sign_in(vault, transport)
    sim.legacy.switches.gone = True
    real = Vault.async_legacy_sync

    async def via_sim(self: Vault, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        kw["transport"] = transport
        return await real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Vault, "async_legacy_sync", via_sim)
    where = ("--vault", str(vault.directory))
    code, _, err = run_main(monkeypatch, capsys, "sync", "--source", "fitbit-legacy", *where)
    assert code == 4
    flat = "".join(err.split())
    for part in ("410Gone", "switchedoffon2026-11-02", "`fitvaultauth`", "`fitvaultimportPATH`"):
        assert part in flat
    assert "Traceback" not in err
    code, _, err = run_main(monkeypatch, capsys, "sync", "--source", "fitbit", *where)
    assert code == 2
    assert "google-health,fitbit-legacy" in "".join(err.split())
