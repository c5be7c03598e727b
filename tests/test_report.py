"""Tests for fitvault.report: one self-contained HTML file, sections shown only with data."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from fitvault import cli, report
from fitvault._errors import ConfigError
from fitvault.report import fast, svg
from fitvault.simulator.app import create_app
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.chromium import CHROMIUM, DevTools, drag, launch, open_page, plot_xy, view
from tests.conftest import NOW, FakeClock, sign_in, sync

# Everything the report draws, minus types it does not read: a few days keep the sync short.
REPORT_TYPES = list(report.TYPES)
SECTION_IDS = ("overview", "heart", "sleep", "activity", "vitals", "data")


def synced(world: World, directory: Path, types: list[str]) -> Vault:
    """A vault signed in to its own simulator of ``world`` with only ``types`` synced."""
    sim = create_app(world, clock=FakeClock(NOW.timestamp()), auto_approve=True)
    transport = httpx2.ASGITransport(app=sim.app)
    vault = Vault(directory)
    sign_in(vault, transport, types)
    sync(vault, transport, types=types)
    return vault


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    """Four days of every type the report reads, synced from the simulator."""
    world = World.default(days=4, seed=7, now=NOW)
    return synced(world, tmp_path_factory.mktemp("full") / "v", REPORT_TYPES)


@pytest.fixture(scope="module")
def html(demo_like: Vault) -> str:
    return report.render(demo_like)


@pytest.fixture(scope="module")
def hr_only(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    world = World.default(days=2, seed=7, now=NOW)
    return synced(world, tmp_path_factory.mktemp("hr") / "v", ["heart-rate"])


def section_ids(page: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)"', page)


def captions(page: str) -> list[str]:
    return re.findall(r"<figcaption>([^<]*)</figcaption>", page)


# --- structure ----------------------------------------------------------------------------------


def test_every_section_appears_in_order_with_a_link(html: str) -> None:
    """A vault with every type gets all six sections, in order, each linked from the nav."""
    assert section_ids(html) == list(SECTION_IDS)
    for sid in SECTION_IDS:
        assert f'href="#{sid}"' in html


def test_figures_have_their_titles(html: str) -> None:
    """The golden list of figures for a demo-like vault (titles, not pixels)."""
    got = captions(html)
    expected = [
        "Coverage: hours worn per day",
        "Heart rate on ",
        "Heart rate by hour of day and day",
        "Resting heart rate",
        "Heart-rate variability (nightly RMSSD)",
        "Time in heart-rate zones per week (derived)",
        "Sleep stages, night ending",
        "Sleep duration: nights per 30-minute bin",
        "Time in bed vs asleep, one point per night",
        "Sleep stages per night",
        "Bedtime and wake time per night",
        "Sleep efficiency (derived: asleep ÷ in bed)",
        "Steps per day",
        "Steps per week (Monday–Sunday)",
        "Active zone minutes per day",
        "Blood oxygen (SpO2, nightly average)",
        "Breathing rate during sleep",
        "Skin temperature deviation from baseline (derived)",
        "Cardio fitness (VO2 max)",
    ]  # no weigh-in in these four days: "Weight" is left out, as it should be
    for title in expected:
        assert any(c.startswith(title) for c in got), (title, got)


def test_axes_are_labelled_with_units(html: str) -> None:
    """Axis labels name the quantity and its unit, and time axes say local."""
    labels = set(re.findall(r'<text class="label"[^>]*>([^<]*)</text>', html))
    for label in (
        "heart rate (bpm)",
        "resting heart rate (bpm)",
        "local time",
        "local date",
        "hour (local time)",
        "RMSSD (ms)",
        "time in bed (minutes)",
        "asleep (minutes)",
        "steps",
        "SpO2 (%)",
    ):
        assert label in labels, label


def test_marks_carry_hover_text(html: str) -> None:
    """Points, bars and heat-map colours have <title> hover text that works without scripts;
    the heat map's exact cell values travel in data-v for the page's script."""
    assert re.search(r"<circle [^>]*><title>[A-Z][a-z]{2} \d\d [A-Z][a-z]{2} 2026: ", html)
    assert re.search(
        r"<path fill=\"#[0-9a-f]{6}\" d=\"M[^\"]+\"><title>\d+–\d+ bpm</title></path>", html
    )
    cells = re.search(r'<g class="heat" data-heat="[^"]+ 1 (\d+) 24" [^>]*data-v="([^"]*)"', html)
    assert cells, "no heat map grid"
    values = cells[2].split(",")
    assert len(values) == int(cells[1]) * 24
    assert 40 <= min(int(v) for v in values if v) <= max(int(v) for v in values if v) <= 200


def test_exercise_table_and_data_section(html: str) -> None:
    """Workouts are listed; the Data section names types, last sync, and derived columns."""
    assert "<h3>Exercise sessions (" in html
    assert "last sync (local)" in html
    assert "heart-rate" in html
    for name in ("efficiency_derived", "wear_minutes_derived", "minutes_derived"):
        assert f"<dt>{name}</dt>" in html


# --- self-contained -----------------------------------------------------------------------------


def test_nothing_is_fetched_from_anywhere(html: str) -> None:
    """No URL, script source, stylesheet link, font or image source: the file stands alone;
    its Content-Security-Policy forbids fetching anything and admits only the one inline
    script, by its SHA-256."""
    assert not re.search(r"https?://", html)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1
    attrs, body = scripts[0]
    assert attrs == ""
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html
    assert "<link" not in html
    assert "url(" not in html
    assert "@import" not in html
    for value in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html):
        assert value.startswith("#"), value
    assert "default-src 'none'" in html


def test_light_and_dark_and_narrow_screens_are_styled(html: str) -> None:
    """One stylesheet with a dark variant and a phone viewport."""
    assert "prefers-color-scheme:dark" in html
    assert 'name="viewport"' in html
    assert "max-width:100%" in html


# --- hiding what has no data --------------------------------------------------------------------


def test_heart_rate_only_hides_the_other_sections(hr_only: Vault) -> None:
    """With only heart rate synced, Sleep, Activity and Vitals vanish with their links."""
    page = report.render(hr_only)
    assert section_ids(page) == ["overview", "heart", "data"]
    for sid in ("sleep", "activity", "vitals"):
        assert f'href="#{sid}"' not in page
    assert any(c.startswith("Heart rate by hour of day") for c in captions(page))
    assert not any(c.startswith("Resting heart rate") for c in captions(page))


def test_an_empty_vault_gives_a_page_without_figures(tmp_path: Path) -> None:
    """A vault with nothing synced yet still renders: no figures, no data sections."""
    vault = Vault(tmp_path / "v")
    with vault.store():
        pass
    page = report.render(vault)
    assert "no data yet" in page
    assert captions(page) == []
    assert section_ids(page) == ["data"]


def test_since_and_until_select_local_days(demo_like: Vault) -> None:
    """A one-day range shows that day only."""
    day = dt.date(2026, 11, 20)
    page = report.render(demo_like, day, day)
    assert "2026-11-20 to 2026-11-20" in page
    assert "Heart rate on Friday 20 November 2026" in page


def test_long_ranges_are_drawn_per_week_and_stay_small() -> None:
    """Over 400 days, nightly stages, steps and zone bars become weekly marks, and the
    page carries no per-day bars (what keeps five years of data under a few MB)."""
    import numpy as np
    import pandas as pd

    from fitvault.report import sections
    from fitvault.report.data import ReportData

    days = pd.date_range("2025-01-01", periods=400, freq="D", unit="us")
    rng = np.random.default_rng(1)
    start = (days - pd.Timedelta(hours=1)).tz_localize("UTC")
    nights = pd.DataFrame(
        {
            "date": days,
            "start": start,
            "end": start + pd.Timedelta(hours=8),
            "minutes_in_bed": 480,
            "minutes_asleep": rng.integers(380, 460, 400),
            **dict.fromkeys(("minutes_deep", "minutes_rem", "minutes_awake"), 60),
            "minutes_light": 250,
            "efficiency_derived": 90.0,
        }
    )
    steps = pd.DataFrame({"date": days, "steps": rng.integers(2000, 15000, 400)})
    steps["partial_day"] = False
    empty = pd.DataFrame({"date": [], "wear_minutes_derived": []})
    data = ReportData("UTC", days[0].date(), days[-1].date(), pd.DataFrame(), empty,
                      pd.DataFrame(), nights, steps)  # fmt: skip
    assert data.weekly
    page = sections.sleep(data) + sections.activity(data)
    assert "Sleep stages per night (weekly means)" in page
    assert "Steps per week (Monday–Sunday)" in page
    assert page.count("<rect") < 2000
    assert page.count('<rect class="f-steps"') <= 60  # weekly totals only, no daily bars


def test_long_series_become_one_path_each_with_hover_text_for_the_script() -> None:
    """Over 150 bars a series is one path whose data-tip names every part of each stack (no
    rect per bar); over 400 nights the scatter is one path of dots; over 400 days the coverage
    calendar is one path per two-hour step of wear, each titled with its range."""
    import numpy as np
    import pandas as pd

    from fitvault.report import charts

    days = pd.date_range("2024-01-01", periods=500, freq="D")
    parts = pd.DataFrame({"a": np.full(500, 10.0), "b": np.arange(500) % 7 + 1.0}, index=days)
    body = charts.stacked("S", "min", parts, {"a": "f-z1", "b": "f-z2"}, {"a": "A", "b": "B"})
    assert re.search(r'<rect class="f-z\d" ', body) is None  # (the legend's keys are rects)
    paths = re.findall(
        r'<path class="(f-z\d)" d="([^"]+)"( data-tx="[^"]*" data-tip="([^"]*)")?', body
    )
    assert [p[0] for p in paths] == ["f-z1", "f-z2"]
    assert paths[0][1].count("z") == paths[1][1].count("z") == 500  # a subpath per bar
    tips = paths[0][3].split("|")
    assert len(tips) == 500
    assert tips[3] == "Thu 04 Jan 2024: A 10, B 4 min"
    assert paths[1][2] == ""  # the stack's text rides on its first part only

    nights = pd.DataFrame(
        {"date": days, "minutes_in_bed": np.arange(500) % 90 + 400.0,
         "minutes_asleep": np.arange(500) % 80 + 360.0}
    )  # fmt: skip
    scatter = charts.scatter(nights)
    assert scatter.count("<circle") == 1  # the legend's
    dots = re.search(r'<path class="dots f-asleep" d="([^"]+)"', scatter)
    assert dots
    assert dots[1].count("h0") == 500

    wear = pd.DataFrame({"date": days.date[::2], "wear_minutes_derived": 1300})
    cal = charts.calendar(wear, days[0].date(), days[-1].date())
    assert "<rect" not in cal
    assert re.findall(r"<title>([^<]*)</title></path>", cal) == ["no data", "worn 20–22 h a day"]
    assert cal.count("h12v12h-12z") == 500


# --- the one-pass aggregates agree with the Vault API ------------------------------------------


def test_fast_aggregates_equal_the_vault_api(demo_like: Vault) -> None:
    """Wear time and zone minutes computed in one pass for the report equal vault.wear_time()
    and vault.heart_rate_zone_minutes() row for row (daily steps share frames.daily_steps)."""
    import pandas as pd

    with demo_like.store(read_only=True) as store:
        fast.build_minutes(store, "", [])
        wear, zones = fast.wear_time(store), fast.zone_minutes(store)
    pd.testing.assert_frame_equal(wear, demo_like.wear_time())
    pd.testing.assert_frame_equal(zones, demo_like.heart_rate_zone_minutes())
    assert wear["wear_minutes_derived"].sum() > 0


# --- API and CLI --------------------------------------------------------------------------------


def test_cli_report_writes_the_file_and_prints_its_path(demo_like: Vault, tmp_path: Path) -> None:
    """`fitvault report --out X` writes X and prints its path; vault.report returns it."""
    out = tmp_path / "sub" / "r.html"
    result = CliRunner().invoke(
        cli.app, ["report", "--vault", str(demo_like.directory), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output.replace("\n", "")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert demo_like.report(tmp_path / "again.html", since="2026-11-20") == tmp_path / "again.html"


def test_a_bad_date_or_a_directory_as_out_is_a_config_error(
    demo_like: Vault, tmp_path: Path
) -> None:
    """A malformed since and an ``out`` that is a directory are refused, naming the option."""
    with pytest.raises(ConfigError, match="--since 'yesterday' is not a date"):
        demo_like.report(tmp_path / "r.html", since="yesterday")
    with pytest.raises(ConfigError, match="is a directory"):
        demo_like.report(tmp_path)


# --- svg helpers --------------------------------------------------------------------------------


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    """Ticks fall on 1, 2, 2.5 or 5 × 10^k steps inside the range."""
    assert svg.nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert svg.nice_ticks(47.3, 61.2) == [50, 55, 60]
    assert svg.nice_ticks(0, 9, 4) == [0, 2.5, 5, 7.5]


def test_a_line_breaks_at_missing_values() -> None:
    """NaN splits a polyline into separate runs (a gap, not an interpolated segment)."""
    chart = svg.Chart("t", "x", "y", (0, 4), (0, 10))
    chart.line([0, 1, 2, 3, 4], [1, 2, math.nan, 4, 5], "c-hr")
    assert chart.marks[0].count("M") == 2


def test_viridis_runs_dark_to_bright() -> None:
    """The sequential scale starts dark purple and ends yellow, clamped outside [0, 1]."""
    assert svg.viridis(-1) == svg.viridis(0) == "#440154"
    assert svg.viridis(2) == svg.viridis(1) == "#fde725"


# --- in a real browser --------------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[DevTools]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (CI installs it: apt-get install chromium)")
    pytest.importorskip("websockets")
    with launch() as devtools:
        yield devtools


def png_colours(data: bytes) -> int:
    """How many distinct byte values the decompressed PNG pixel data holds (blank ≈ 2)."""
    pos, idat = 8, b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat)))


@pytest.mark.slow
def test_opens_in_chromium_offline_clean_and_fits_a_phone(
    html: str, tmp_path: Path, browser: DevTools
) -> None:
    """In headless Chromium at 390 px: no console errors, no network request, no horizontal
    scroll, a non-blank screenshot; dark mode changes the background."""
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    open_page(browser, path, 390, 844)
    width = browser.call(
        "Runtime.evaluate", expression="document.documentElement.scrollWidth", returnByValue=True
    )["result"]["value"]
    shot = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    light = browser.call(
        "Runtime.evaluate",
        expression="getComputedStyle(document.body).backgroundColor",
        returnByValue=True,
    )["result"]["value"]
    browser.call(
        "Emulation.setEmulatedMedia",
        features=[{"name": "prefers-color-scheme", "value": "dark"}],
    )
    dark = browser.call(
        "Runtime.evaluate",
        expression="getComputedStyle(document.body).backgroundColor",
        returnByValue=True,
    )["result"]["value"]
    errors = browser.errors()
    requests = browser.requests(besides=path.as_uri())
    assert errors == []
    assert requests == []
    assert width <= 390
    assert png_colours(shot) > 50
    assert light != dark


# --- interaction: zoom and hover with scripts on, static SVG with scripts off -----------------


DAY_CHART = "svg.zoom[data-zoom=clock]"  # the chosen day's heart rate, 00:00–24:00
DATE_CHART = "svg.zoom[data-zoom=date]"


@pytest.mark.slow
def test_charts_zoom_and_hover_in_chromium(html: str, tmp_path: Path, browser: DevTools) -> None:
    """With scripts on: dragging across the day's heart rate zooms its x axis to the dragged
    hours (ticks follow), hovering shows the nearest 5-minute mean with its local time,
    Ctrl + wheel zooms further, double-click resets; a date chart zooms too; no console errors
    and no network requests."""
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    open_page(browser, path, 1000, 800)
    browser.js(
        f"document.querySelector({json.dumps(DAY_CHART)}).scrollIntoView({{block: 'center'}})"
    )
    assert view(browser, DAY_CHART) is None
    drag(browser, plot_xy(browser, DAY_CHART, 0.25), plot_xy(browser, DAY_CHART, 0.5))
    a, b = view(browser, DAY_CHART) or [0.0, 0.0]
    assert a == pytest.approx(6, abs=0.2)
    assert b == pytest.approx(12, abs=0.2)
    ticks = browser.js(
        f"[...document.querySelectorAll({json.dumps(DAY_CHART + ' g.xt text')})]"
        ".map(t => t.textContent)"
    )
    assert ticks[0] >= "06:00"
    assert ticks[-1] <= "12:00"
    assert len(ticks) >= 4

    browser.mouse("mouseMoved", *plot_xy(browser, DAY_CHART, 0.4))
    tip = browser.js("(() => { const t = document.querySelector('.tip');"
                     " return t && !t.hidden ? t.textContent : null; })()")  # fmt: skip
    assert tip is not None
    match = re.fullmatch(r"(\d\d):(\d\d): mean \d+, range \d+–\d+ bpm", tip)
    assert match, tip
    assert 6 <= int(match[1]) < 12

    browser.mouse(
        "mouseWheel", *plot_xy(browser, DAY_CHART, 0.5), deltaX=0, deltaY=-300, modifiers=2
    )  # fmt: skip  (2 = Ctrl)
    c, d = view(browser, DAY_CHART) or [0.0, 0.0]
    assert a <= c < d <= b
    assert d - c < b - a

    centre = plot_xy(browser, DAY_CHART, 0.5)
    for kind in ("mousePressed", "mouseReleased"):
        browser.mouse(kind, *centre, button="left", clickCount=2)
    assert view(browser, DAY_CHART) == [0.0, 24.0]

    browser.js(
        f"document.querySelector({json.dumps(DATE_CHART)}).scrollIntoView({{block: 'center'}})"
    )
    full = [float(v) for v in browser.js(
        f"document.querySelector({json.dumps(DATE_CHART)}).dataset.x").split()]  # fmt: skip
    drag(browser, plot_xy(browser, DATE_CHART, 0.2), plot_xy(browser, DATE_CHART, 0.8))
    e, f = view(browser, DATE_CHART) or [0.0, 0.0]
    assert full[0] <= e < f <= full[1]
    assert f - e < full[1] - full[0]
    assert browser.errors() == []
    assert browser.requests(besides=path.as_uri()) == []


@pytest.mark.slow
def test_the_heat_map_names_the_cell_under_the_pointer(
    html: str, tmp_path: Path, browser: DevTools
) -> None:
    """Hovering the hour-by-day heat map (one path per colour, not a rect per cell) shows the
    day, the hour and that cell's mean bpm as the page's data holds it; after a zoom the cell
    under the pointer is still the one named."""
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    open_page(browser, path, 1000, 800)
    heat = "svg.zoom:has(g.heat)"
    browser.js(f"document.querySelector({json.dumps(heat)}).scrollIntoView({{block: 'center'}})")
    x0, step, cols, rows = browser.js(
        f"document.querySelector({json.dumps(heat + ' g.heat')}).dataset.heat"
    ).split()
    values = browser.js(f"document.querySelector({json.dumps(heat + ' g.heat')}).dataset.v").split(
        ","
    )
    n, rows_n = int(cols), int(rows)

    def tip_at(fx: float, fy: float) -> str | None:
        browser.mouse("mouseMoved", *plot_xy(browser, heat, fx, fy))
        return browser.js(  # type: ignore[no-any-return]
            "(() => { const t = document.querySelector('.tip');"
            " return t && !t.hidden ? t.textContent : null; })()"
        )

    # The middle of column 1, row 14 (14:00–15:00): which cell that is follows from the grid.
    col, row = 1, 14
    tip = tip_at((col + 0.5) / n, (row + 0.5) / rows_n)
    day = dt.date.fromordinal(int(float(x0)) + col * int(step))
    expected = f"{day:%a %d %b %Y}, 14:00–15:00: {values[col * rows_n + row]} bpm"
    assert tip == expected
    drag(browser, plot_xy(browser, heat, 0.02), plot_xy(browser, heat, 0.6))
    assert view(browser, heat) is not None
    tip = tip_at(0.01, (row + 0.5) / rows_n)
    assert tip is not None
    assert tip.startswith(f"{dt.date.fromordinal(int(float(x0))):%a %d %b %Y}")
    assert browser.errors() == []


@pytest.mark.slow
def test_with_scripts_off_the_charts_are_static_svg_with_hover_titles(
    html: str, tmp_path: Path, browser: DevTools
) -> None:
    """With JavaScript disabled the page is the static report: every chart drawn, marks keep
    their <title> hover text, no tooltip element, no zoom state, a non-blank screenshot."""
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    open_page(browser, path, 1000, 800, scripts=False)
    assert browser.js("document.querySelectorAll('svg.zoom').length") >= 10
    assert browser.js("document.querySelectorAll('svg.zoom g.zg title').length") > 100
    assert browser.js("document.querySelector('.tip')") is None
    assert browser.js("document.querySelectorAll('svg[data-view]').length") == 0
    assert browser.js("document.querySelector('header').textContent.includes('drag')") is False
    shot = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    assert png_colours(shot) > 50
    assert browser.errors() == []


@pytest.mark.slow
def test_a_long_daily_line_hovers_and_zooms_by_date(tmp_path: Path, browser: DevTools) -> None:
    """A 500-day trend is a line without a dot per day: hovering its middle shows that day's
    date and value (from the line's data attributes), and zooming to about 50 days relabels
    the axis with days instead of months."""
    import numpy as np
    import pandas as pd

    from fitvault.report import charts
    from fitvault.report.page import page

    days = pd.date_range("2025-01-01", periods=500, freq="D")
    s = pd.Series(np.arange(500) % 40 + 50.0, index=days)
    body = charts.trend_chart("Resting heart rate", "bpm", s, "c-hr")
    assert "<circle" not in body
    assert "data-tip=" in body
    path = tmp_path / "long.html"
    path.write_text(page("t", "s", [("heart", "Heart", body)], "f"), encoding="utf-8")
    open_page(browser, path, 1000, 800)
    before = browser.js("[...document.querySelectorAll('g.xt text')].map(t => t.textContent)")
    browser.mouse("mouseMoved", *plot_xy(browser, DATE_CHART, 0.5))
    tip = browser.js("document.querySelector('.tip').textContent")
    shown = dt.datetime.strptime(tip.split(": ")[0], "%a %d %b %Y")
    assert abs((shown - days[250]).days) <= 3
    assert tip.split(": ")[1] == f"{s[shown]:.0f}"
    drag(browser, plot_xy(browser, DATE_CHART, 0.1), plot_xy(browser, DATE_CHART, 0.2))
    a, b = view(browser, DATE_CHART) or [0.0, 0.0]
    assert 40 <= b - a <= 60
    after = browser.js("[...document.querySelectorAll('g.xt text')].map(t => t.textContent)")
    assert all(re.fullmatch(r"[A-Z][a-z]{2}( \d{4})?|\d{4}", t) for t in before), before
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t) for t in after), after
    assert browser.errors() == []


@pytest.mark.slow
def test_long_stacked_bars_hover_with_every_part(tmp_path: Path, browser: DevTools) -> None:
    """500 days of stacked bars are one path per part: hovering the middle shows the nearest
    day with every part of its stack, read from the first part's data attributes."""
    import numpy as np
    import pandas as pd

    from fitvault.report import charts
    from fitvault.report.page import page

    days = pd.date_range("2024-01-01", periods=500, freq="D")
    parts = pd.DataFrame({"a": np.full(500, 10.0), "b": np.arange(500) % 7 + 1.0}, index=days)
    body = charts.stacked("S", "min", parts, {"a": "f-z1", "b": "f-z2"}, {"a": "A", "b": "B"})
    path = tmp_path / "bars.html"
    path.write_text(page("t", "s", [("heart", "Heart", body)], "f"), encoding="utf-8")
    open_page(browser, path, 1000, 800)
    browser.mouse("mouseMoved", *plot_xy(browser, DATE_CHART, 0.5))
    tip = browser.js("document.querySelector('.tip').textContent")
    match = re.fullmatch(r"(\w{3} \d\d \w{3} \d{4}): A 10, B (\d) min", tip)
    assert match, tip
    shown = pd.Timestamp(dt.datetime.strptime(match[1], "%a %d %b %Y"))
    assert abs((shown - days[250]).days) <= 3
    assert int(match[2]) == parts.loc[shown, "b"]
    assert browser.errors() == []
