"""Tests for fitvault.plots: each figure draws exactly the data it was given."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from fitvault import plots
from fitvault._errors import ConfigError
from fitvault.frames import DATE

TZ = "America/New_York"
GAP_START, GAP_END = (
    pd.Timestamp("2026-11-19 13:00", tz=TZ),
    pd.Timestamp("2026-11-19 15:00", tz=TZ),
)


def hr_frame(time: pd.DatetimeIndex, seed: int = 1) -> pd.DataFrame:
    """A heart-rate frame with frames.heart_rate's columns and dtypes for the given instants."""
    rng = np.random.default_rng(seed)
    local = time.tz_localize(None)
    hour = local.hour + local.minute / 60
    bpm = 62 + 15 * np.sin((hour - 9) / 24 * 2 * np.pi) + rng.normal(0, 4, len(time))
    return pd.DataFrame(
        {
            "time": time,
            "local_time": local,
            "local_date": pd.Series(local.date, dtype=DATE),
            "bpm": bpm.round().astype("int16"),
            "utc_offset_s": (local - time.tz_convert("UTC").tz_localize(None))
            .total_seconds()
            .astype("int32"),
            "source": pd.Series(["google-v4"] * len(time), dtype="str"),
        }
    )


@pytest.fixture(scope="module")
def hr() -> pd.DataFrame:
    """Three local days of 5-second readings with a 2-hour off-wrist gap on 2026-11-19."""
    time = pd.date_range("2026-11-18", "2026-11-21", freq="5s", tz=TZ, inclusive="left", unit="us")
    time = time[(time < GAP_START) | (time >= GAP_END)]
    return hr_frame(time)


@pytest.fixture(scope="module")
def rhr() -> pd.DataFrame:
    """Thirty consecutive days of resting heart rate."""
    rng = np.random.default_rng(2)
    return pd.DataFrame(
        {
            "date": pd.Series(pd.date_range("2026-10-22", periods=30).date, dtype=DATE),
            "bpm": rng.integers(52, 61, 30).astype("int16"),
            "calculation_method": pd.Series(["fitbit"] * 30, dtype="str"),
            "source": pd.Series(["google-v4"] * 30, dtype="str"),
        }
    )


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    """Ten nights, one main sleep each; night 4 has no REM minutes (NA)."""
    rng = np.random.default_rng(3)
    n = 10
    dates = pd.date_range("2026-11-10", periods=n, freq="D", unit="us")
    start = (dates - pd.Timedelta(hours=1)).tz_localize(TZ) + pd.to_timedelta(
        rng.integers(0, 90, n), "min"
    )
    in_bed = rng.integers(380, 540, n)
    deep, rem, wake = rng.integers(50, 110, n), rng.integers(60, 120, n), rng.integers(20, 60, n)
    light = in_bed - deep - rem - wake
    asleep = in_bed - wake

    def ints(values: np.ndarray, na: int | None = None) -> pd.Series:
        out = pd.Series(values, dtype="Int32")
        if na is not None:
            out[na] = pd.NA
        return out

    df = pd.DataFrame(
        {
            "date": pd.Series(dates.date, dtype=DATE),
            "start": start,
            "end": start + pd.to_timedelta(in_bed, "min"),
            "minutes_in_bed": in_bed.astype("int64"),
            "minutes_asleep": asleep.astype("int32"),
            "minutes_awake": ints(wake),
            "minutes_to_fall_asleep": ints(rng.integers(0, 20, n)),
            "minutes_after_wakeup": ints(np.zeros(n, dtype=int)),
            "minutes_deep": ints(deep),
            "minutes_light": ints(light),
            "minutes_rem": ints(rem, na=4),
            "is_main_sleep": True,
            "is_nap": False,
            "sleep_type": pd.Series(["STAGES"] * n, dtype="str"),
            "processed": pd.Series([True] * n, dtype="boolean"),
            "source": pd.Series(["google-v4"] * n, dtype="str"),
        }
    )
    df["efficiency_derived"] = (100 * df["minutes_asleep"] / df["minutes_in_bed"]).round(1)
    df.attrs["derived"] = {"efficiency_derived": "100 × minutes_asleep / minutes_in_bed"}
    return df


def labelled(fig: Figure, label: str) -> np.ndarray:
    """The y data of the one line on the figure's axes with this label."""
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == label]
    return np.asarray(line.get_ydata(), dtype=float)


# --- heart rate ---------------------------------------------------------------------------------


def test_hr_day_line_breaks_at_gap(hr: pd.DataFrame) -> None:
    """The raw line holds every reading of the day plus one NaN inside the 2-hour gap."""
    fig = plots.heart_rate_day(hr, dt.date(2026, 11, 19))
    (raw,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "reading"]
    x, y = np.asarray(raw.get_xdata()), np.asarray(raw.get_ydata(), dtype=float)
    day = hr[hr["local_date"] == dt.date(2026, 11, 19)]
    assert np.isnan(y).sum() == 1
    np.testing.assert_array_equal(y[~np.isnan(y)], day["bpm"].to_numpy())
    gap_x = x[np.isnan(y)][0]
    assert (
        GAP_START.tz_localize(None) - pd.Timedelta(seconds=5) <= gap_x < GAP_END.tz_localize(None)
    )


def test_hr_day_rolling_mean_is_five_minutes(hr: pd.DataFrame) -> None:
    """The smooth line is pandas' 5-minute time-window mean of that day's readings."""
    fig = plots.heart_rate_day(hr, dt.date(2026, 11, 18))
    day = hr[hr["local_date"] == dt.date(2026, 11, 18)]
    expected = day.set_index("time")["bpm"].astype(float).rolling("5min").mean().to_numpy()
    np.testing.assert_allclose(labelled(fig, "5-min mean"), expected)


def test_hr_day_looks_right(hr: pd.DataFrame) -> None:
    """Title names the weekday, y axis has units, x axis is a concise date axis over the day."""
    ax = plots.heart_rate_day(hr, dt.date(2026, 11, 19)).axes[0]
    assert ax.get_title() == "Heart rate — Thursday, 19 November 2026"
    assert "bpm" in ax.get_ylabel()
    lo, hi = ax.get_xlim()
    assert hi - lo == pytest.approx(1.0)  # matplotlib date units are days


def test_hr_day_breaks_at_clock_change() -> None:
    """On the DST fall-back night the line breaks where the wall clock jumps back an hour."""
    time = pd.date_range("2026-11-01 00:00", "2026-11-01 03:00", freq="5s", tz=TZ, unit="us")
    fig = plots.heart_rate_day(hr_frame(time), dt.date(2026, 11, 1))
    assert np.isnan(labelled(fig, "reading")).sum() == 1


def corner_and_ticks(fig: Figure) -> tuple[str, list[str]]:
    """The x axis' corner (offset) label and tick labels as drawn."""
    fig.draw_without_rendering()
    ax = fig.axes[0]
    return ax.xaxis.get_offset_text().get_text(), [t.get_text() for t in ax.get_xticklabels()]


def test_hr_day_labels_name_no_other_day() -> None:
    """A plot of 28 Nov shows 00:00 … 24:00 and no corner label saying "2026-Nov-29"."""
    time = pd.date_range("2026-11-28", "2026-11-29", freq="60s", tz=TZ, inclusive="left")
    corner, ticks = corner_and_ticks(plots.heart_rate_day(hr_frame(time), dt.date(2026, 11, 28)))
    assert "29" not in corner
    assert ticks[0] == "00:00"
    assert ticks[-1] == "24:00"
    assert not [t for t in ticks if "Nov" in t]


@pytest.mark.parametrize("days", [5, 14, 60, 90])
def test_daily_axes_end_at_the_data_so_the_corner_names_its_month(days: int) -> None:
    """Data ending 29 Nov never gets a "Dec" tick or a "2026-Dec" / "Nov-29" corner label."""
    dates = pd.date_range(end="2026-11-29", periods=days, freq="D", unit="us")
    rhr = pd.DataFrame({"date": dates, "bpm": np.arange(days) + 55})
    corner, ticks = corner_and_ticks(plots.resting_heart_rate(rhr))
    assert corner == "2026-Nov"
    assert not [t for t in ticks if "Dec" in t or ":" in t]


def test_hr_day_names_the_hour_the_clocks_repeat() -> None:
    """On the fall-back day the repeated 01:00–02:00 is shaded and labelled as shown twice."""
    time = pd.date_range("2026-11-01 00:00", "2026-11-01 06:00", freq="60s", tz=TZ)
    ax = plots.heart_rate_day(hr_frame(time), dt.date(2026, 11, 1)).axes[0]
    texts = [t.get_text().strip() for t in ax.texts]
    assert texts == ["clocks went back: 01:00–02:00 shown twice"]


def test_hr_day_names_the_hour_the_clocks_skip() -> None:
    """On the spring-forward day the missing 02:00–03:00 is labelled as skipped."""
    time = pd.date_range("2026-03-08 00:00", "2026-03-08 06:00", freq="60s", tz=TZ)
    ax = plots.heart_rate_day(hr_frame(time), dt.date(2026, 3, 8)).axes[0]
    assert [t.get_text().strip() for t in ax.texts] == ["clocks went forward: 02:00–03:00 skipped"]


def test_hr_day_without_a_clock_change_has_no_note(hr: pd.DataFrame) -> None:
    """An ordinary day carries no clock-change annotation."""
    assert len(plots.heart_rate_day(hr, dt.date(2026, 11, 19)).axes[0].texts) == 0


def test_hr_day_missing_day_raises(hr: pd.DataFrame) -> None:
    """A day without readings raises ValueError naming the day and what to do."""
    with pytest.raises(
        ValueError, match=r"no heart-rate readings on 2026-11-25; run `fitvault sync`"
    ):
        plots.heart_rate_day(hr, dt.date(2026, 11, 25))


def test_hr_by_hour_mean_matches_groupby(hr: pd.DataFrame) -> None:
    """The line is the mean over days of each day's hourly mean, computed independently."""
    fig = plots.heart_rate_by_hour(hr, days=7)
    per_day = {
        (date, hour): group["bpm"].mean()
        for (date, hour), group in hr.groupby([hr["local_date"], hr["local_time"].dt.hour])
    }
    expected = [np.mean([v for (_, h), v in per_day.items() if h == hour]) for hour in range(24)]
    np.testing.assert_allclose(labelled(fig, "mean of 3 days"), expected)
    ax = fig.axes[0]
    assert list(ax.get_xticks()) == list(range(24))


def test_hr_by_hour_is_one_mean_line_and_a_band_not_a_line_per_day(hr: pd.DataFrame) -> None:
    """One line (the mean) and one ±1 sd band whose edges are mean ± the across-day sd."""
    ax = plots.heart_rate_by_hour(hr, days=7).axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["mean of 3 days"]
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert band.get_label() == "±1 sd across days"
    table = plots.hourly_means(hr, 7)
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.max() == pytest.approx((table.mean() + table.std()).max())
    assert ys.min() == pytest.approx((table.mean() - table.std()).min())


def test_hr_by_hour_uses_last_days(hr: pd.DataFrame) -> None:
    """days=2 averages only the two most recent local dates."""
    ax = plots.heart_rate_by_hour(hr, days=2).axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["mean of 2 days"]
    assert ax.get_title() == "Heart rate by hour of day — 19 Nov 2026 – 20 Nov 2026"


def test_rhr_rolling_mean_matches_pandas(rhr: pd.DataFrame) -> None:
    """The "7-day mean" line equals pandas' rolling(7).mean() wherever a full week exists."""
    fig = plots.resting_heart_rate(rhr)
    got, expected = (
        labelled(fig, "7-day mean"),
        rhr["bpm"].astype(float).rolling(7).mean().to_numpy(),
    )
    np.testing.assert_allclose(got[6:], expected[6:])
    assert np.isnan(got[:3]).all()  # fewer than 4 days in the window
    np.testing.assert_array_equal(labelled(fig, "daily"), rhr["bpm"].to_numpy())


def test_rhr_missing_day_breaks_line(rhr: pd.DataFrame) -> None:
    """A missing day is a NaN on the calendar, so the daily line does not bridge it."""
    fig = plots.resting_heart_rate(rhr.drop(index=10))
    daily = labelled(fig, "daily")
    assert len(daily) == 30
    assert np.isnan(daily[10])
    assert np.isnan(daily).sum() == 1


# --- sleep --------------------------------------------------------------------------------------


def steps(ax: Axes) -> list[tuple[np.ndarray, np.ndarray]]:
    """(bin edges, counts) of each outline histogram on ``ax``."""
    out = []
    for patch in ax.patches:
        if isinstance(patch, Polygon) and not patch.get_fill():
            xy = patch.get_xy()
            out.append((np.unique(xy[:, 0]), xy[1:-1:2, 1]))
    return out


def test_sleep_histograms_share_bins(sleep: pd.DataFrame) -> None:
    """Two histograms on identical bins, each counting every night once."""
    ax = plots.sleep_histograms(sleep).axes[0]
    (edges_a, counts_a), (edges_b, counts_b) = steps(ax)
    np.testing.assert_array_equal(edges_a, edges_b)
    assert [counts_a.sum(), counts_b.sum()] == [10, 10]
    assert ax.get_xlabel() == "minutes"
    assert ax.get_legend() is not None


def test_sleep_histograms_are_outlines_so_overlaps_make_no_third_colour(
    sleep: pd.DataFrame,
) -> None:
    """Neither histogram is a translucent filled area (two overlapping fills blend into a colour
    the legend does not explain); each outline has its own legend entry."""
    ax = plots.sleep_histograms(sleep).axes[0]
    assert not [p for p in ax.patches if p.get_fill()]
    assert len(steps(ax)) == 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "asleep" in labels
    assert "time in bed" in labels


def test_sleep_scatter_points_and_identity(sleep: pd.DataFrame) -> None:
    """One point per night at (time in bed, minutes asleep), and a dashed 1:1 line with x == y."""
    ax = plots.sleep_scatter(sleep).axes[0]
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    expected = sleep[["minutes_in_bed", "minutes_asleep"]].to_numpy(dtype=float)
    np.testing.assert_array_equal(points.get_offsets(), expected)
    (identity,) = [ln for ln in ax.get_lines() if ln.get_label() == "1:1"]
    np.testing.assert_array_equal(identity.get_xdata(), identity.get_ydata())
    assert identity.get_linestyle() == "--"
    assert ax.get_xlim() == ax.get_ylim()


def test_sleep_stages_stacked_bars(sleep: pd.DataFrame) -> None:
    """Four stacked bar groups, one bar per night, heights = input minutes (NA drawn as 0)."""
    ax = plots.sleep_stages(sleep).axes[0]
    assert len(ax.containers) == 4
    bottom = np.zeros(10)
    for container, stage in zip(ax.containers, plots.STAGE_COLOURS, strict=True):
        heights = np.array([p.get_height() for p in container.patches])
        np.testing.assert_array_equal(
            heights, sleep[plots.STAGE_COLUMNS[stage]].fillna(0).to_numpy(dtype=float)
        )
        np.testing.assert_array_equal([p.get_y() for p in container.patches], bottom)
        assert {to_hex(p.get_facecolor()) for p in container.patches} == {
            plots.STAGE_COLOURS[stage]
        }
        bottom += heights
    centres = [p.get_x() + p.get_width() / 2 for p in ax.containers[0].patches]
    np.testing.assert_allclose(centres, mdates.date2num(sleep["date"].to_numpy()))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Deep", "Light", "REM", "Wake"]


# --- errors, registry, saving -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fixture", "message"),
    [
        ("hr-by-hour", "hr", "no heart-rate readings"),
        ("rhr", "rhr", "no resting-heart-rate days"),
        ("sleep-hist", "sleep", "no sleep nights"),
        ("sleep-scatter", "sleep", "no sleep nights"),
        ("sleep-stages", "sleep", "no sleep nights"),
    ],
)
def test_empty_input_raises(
    name: str, fixture: str, message: str, request: pytest.FixtureRequest
) -> None:
    """Every figure refuses an empty frame with a ValueError saying what is missing."""
    empty = request.getfixturevalue(fixture).iloc[:0]
    with pytest.raises(ValueError, match=message):
        plots.PLOTS[name].make(empty)


def test_missing_column_or_values_raise(sleep: pd.DataFrame, rhr: pd.DataFrame) -> None:
    """A frame without a needed column, or with no stage minutes at all, names the column."""
    with pytest.raises(ValueError, match=r"missing column.*bpm"):
        plots.resting_heart_rate(rhr.drop(columns="bpm"))
    no_stages = sleep.assign(**{plots.STAGE_COLUMNS[s]: pd.NA for s in plots.STAGE_COLOURS})
    with pytest.raises(ValueError, match="no sleep-stage minutes"):
        plots.sleep_stages(no_stages)


def test_registry_names_and_frames(
    hr: pd.DataFrame, rhr: pd.DataFrame, sleep: pd.DataFrame
) -> None:
    """PLOTS has the six names, each says which frame it needs and draws a Figure from it."""
    assert list(plots.PLOTS) == [
        "hr-day",
        "hr-by-hour",
        "rhr",
        "sleep-hist",
        "sleep-scatter",
        "sleep-stages",
    ]
    frames = {"heart_rate": hr, "resting_heart_rate": rhr, "sleep": sleep}
    for name, spec in plots.PLOTS.items():
        assert spec.name == name
        assert spec.title
        args = (dt.date(2026, 11, 20),) if name == "hr-day" else ()
        fig = spec.make(frames[spec.needs], *args)
        assert isinstance(fig, Figure)
        assert fig.axes[0].get_title()


def test_hand_made_frames_with_datetime64_midnights_draw_the_same(
    hr: pd.DataFrame, rhr: pd.DataFrame, sleep: pd.DataFrame
) -> None:
    """Frames built by hand with datetime64 midnights as dates (what the vault gave before
    dates became dates) draw the same lines and bars as the vault's datetime.date columns."""
    old = {
        "heart_rate": hr.assign(local_date=pd.to_datetime(hr["local_date"])),
        "resting_heart_rate": rhr.assign(date=pd.to_datetime(rhr["date"])),
        "sleep": sleep.assign(date=pd.to_datetime(sleep["date"])),
    }
    new = {"heart_rate": hr, "resting_heart_rate": rhr, "sleep": sleep}
    assert old["heart_rate"]["local_date"].dtype.kind == "M"
    for name, spec in plots.PLOTS.items():
        args = (dt.date(2026, 11, 19),) if name == "hr-day" else ()
        a, b = spec.make(old[spec.needs], *args).axes[0], spec.make(new[spec.needs], *args).axes[0]
        assert a.get_title() == b.get_title()
        assert a.get_xlim() == b.get_xlim()
        for la, lb in zip(a.get_lines(), b.get_lines(), strict=True):
            np.testing.assert_array_equal(np.asarray(la.get_xydata()), np.asarray(lb.get_xydata()))
        for pa, pb in zip(a.patches, b.patches, strict=True):
            assert pa.get_extents().bounds == pb.get_extents().bounds  # display coordinates


def test_save_writes_png_and_svg_atomically(sleep: pd.DataFrame, tmp_path: Path) -> None:
    """save writes a real PNG and SVG into a new directory and leaves no temp files."""
    out = tmp_path / "new" / "dir"
    paths = plots.save(plots.sleep_stages(sleep), out, "sleep-stages")
    assert paths == [out / "sleep-stages.png", out / "sleep-stages.svg"]
    assert paths[0].read_bytes().startswith(b"\x89PNG")
    assert "<svg" in paths[1].read_text()[:2000]
    assert sorted(p.name for p in out.iterdir()) == ["sleep-stages.png", "sleep-stages.svg"]


def test_save_failure_keeps_old_file(
    sleep: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while rendering leaves the previous image intact and no temp file behind."""
    fig = plots.sleep_scatter(sleep)
    (tmp_path / "s.png").write_bytes(b"old")

    def broken(fh: object, **kwargs: object) -> None:
        fh.write(b"\x89PNG half")  # type: ignore[attr-defined]
        raise RuntimeError("renderer died")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="renderer died"):
        plots.save(fig, tmp_path, "s", formats=("png",))
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]
    assert (tmp_path / "s.png").read_bytes() == b"old"


def test_save_rejects_bad_name_or_format(sleep: pd.DataFrame, tmp_path: Path) -> None:
    """Path-like names and unknown formats are refused before anything is written."""
    fig = plots.sleep_scatter(sleep)
    with pytest.raises(ValueError, match="bare name"):
        plots.save(fig, tmp_path, "../escape")
    with pytest.raises(ValueError, match="unknown image format"):
        plots.save(fig, tmp_path, "s", formats=("png", "bmpx"))
    assert list(tmp_path.iterdir()) == []


def test_module_does_not_use_pyplot() -> None:
    """Importing and drawing never loads pyplot (no global state, no backend choice)."""
    code = (
        "import sys, fitvault.plots as p, pandas as pd;"
        "p.resting_heart_rate(pd.DataFrame({'date': pd.date_range('2026-01-01', periods=9),"
        " 'bpm': range(50, 59)}));"
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_saved_figures_follow_the_umask(sleep: pd.DataFrame, tmp_path: Path, umask: int) -> None:
    """Figures get 0o666 & ~umask like any file the user writes (not the temp file's 0600)."""
    old = os.umask(umask)
    try:
        paths = plots.save(plots.sleep_stages(sleep), tmp_path, "s", formats=("png", "svg"))
    finally:
        os.umask(old)
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_save_into_a_file_is_a_config_error(sleep: pd.DataFrame, tmp_path: Path) -> None:
    """An out_dir that is a file (or under one) raises ConfigError naming it, before drawing."""
    blocker = tmp_path / "f"
    blocker.write_text("")
    for out in (blocker, blocker / "sub"):
        with pytest.raises(ConfigError, match=str(blocker)):
            plots.save(plots.sleep_stages(sleep), out, "s")
