"""The six classic Fitbit figures, as pure functions from DataFrames to matplotlib Figures.

Each function takes a frame from :mod:`fitvault.frames` and returns a new
:class:`matplotlib.figure.Figure` (object API only: no pyplot, no global state, no backend):

``hr-day``         one day of intraday heart rate on the local wall clock, with a 5-minute mean;
                   gaps of more than 5 minutes (off wrist) and clock changes break the line,
                   and the hour a DST change repeats or skips is shaded and named.
``hr-by-hour``     mean heart rate by local hour of day over the last ``days`` days present,
                   with a ±1 sd band across those days.
``rhr``            resting heart rate per day with a 7-day (calendar) rolling mean.
``sleep-hist``     outline histograms of minutes asleep and time in bed, on shared bins.
``sleep-scatter``  time in bed against minutes asleep per night, with the 1:1 line.
``sleep-stages``   stacked deep / light / REM / wake minutes per night.

Sleep stages use one palette everywhere (:data:`STAGE_COLOURS`). Empty or malformed input raises
``ValueError`` saying what is missing. :data:`PLOTS` names every figure; :func:`save` writes one
to disk atomically.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from fitvault._errors import ConfigError
from fitvault._fs import probe_writable
from fitvault.report.svg import STAGE_COLOURS

STAGE_LABELS = {"deep": "Deep", "light": "Light", "rem": "REM", "wake": "Wake"}
STAGE_COLUMNS = {
    "deep": "minutes_deep",
    "light": "minutes_light",
    "rem": "minutes_rem",
    "wake": "minutes_awake",
}
HR_COLOUR = "#c0392b"
ASLEEP_COLOUR = "#2f6db5"
IN_BED_COLOUR = "#9aa3ad"
WIDE = (10.0, 4.0)
GAP = pd.Timedelta(minutes=5)
_SYNC_HINT = "run `fitvault sync` (or `fitvault demo`) first"

Needs = Literal["heart_rate", "resting_heart_rate", "sleep"]


def _require(df: pd.DataFrame, what: str, columns: Sequence[str], hint: str = _SYNC_HINT) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} frame is missing column(s) {', '.join(missing)}")
    if df.empty:
        raise ValueError(f"no {what}; {hint}")


def _axes(figsize: tuple[float, float] = WIDE) -> tuple[Figure, Axes]:
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(True, alpha=0.3, linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _date_axis(ax: Axes, first: pd.Timestamp, last: pd.Timestamp) -> None:
    """A day axis from ``first`` to ``last`` (naive local dates) and no further: ticks beyond
    the data would make the corner label name a month (or day) the data does not reach."""
    lo, hi = _date2num([first - pd.Timedelta(hours=12), last + pd.Timedelta(hours=12)])
    ax.set_xlim(lo, hi)
    days = (last - first).days + 1
    locator: mdates.DateLocator
    if days <= 16:  # whole days only: no "12:00" ticks between daily values
        locator = mdates.DayLocator(interval=-(-days // 8))  # type: ignore[no-untyped-call]
    else:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _clock_axis(ax: Axes, midnight: pd.Timestamp) -> None:
    """00:00 … 24:00 of one local day; the date is in the title, so no corner label."""
    ax.set_xlim(*_date2num([midnight, midnight + pd.Timedelta(days=1)]))
    ax.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, 3)))  # type: ignore[no-untyped-call]
    end = float(_date2num([midnight + pd.Timedelta(days=1)])[0])

    def label(x: float, pos: int | None = None) -> str:
        if abs(x - end) < 1e-6:
            return "24:00"
        return str(mdates.num2date(x).strftime("%H:%M"))  # type: ignore[no-untyped-call]

    ax.xaxis.set_major_formatter(FuncFormatter(label))


def _date2num(values: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """matplotlib's float day numbers for naive datetimes (for bars and axis limits)."""
    return np.asarray(mdates.date2num(values), dtype=np.float64)  # type: ignore[no-untyped-call]


def _days(dates: pd.Series) -> pd.Series:
    """Local dates as naive midnights, matplotlib's unit: the frames give ``datetime.date``
    values (``frames.DATE``); hand-made frames may hold datetime64 midnights already."""
    return pd.to_datetime(dates)


def _floats(series: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Numbers as float64 with NaN for missing (the frames mix int32, Int32 and float64)."""
    return np.asarray(pd.to_numeric(series, errors="coerce"), dtype=np.float64)


def _break_at(
    x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], breaks: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Insert a NaN point before each index in ``breaks`` so the line is not drawn across it."""
    idx = np.flatnonzero(breaks)
    return np.insert(x, idx, x[idx - 1]), np.insert(y, idx, np.nan)


def _day(ts: pd.Timestamp, month: str = "%B") -> str:
    return f"{ts.day} {ts.strftime(month)} {ts.year}"  # no %-d: it is not portable


def _date_range_label(dates: pd.Series) -> str:
    return f"{_day(dates.min(), '%b')} – {_day(dates.max(), '%b')}"


# --- heart rate ---------------------------------------------------------------------------------

_HR_COLUMNS = ("time", "local_time", "local_date", "bpm", "utc_offset_s")


def heart_rate_day(hr: pd.DataFrame, day: dt.date, *, smooth: bool = True) -> Figure:
    """Intraday heart rate on ``day`` (a local date) against the local wall clock."""
    midnight = pd.Timestamp(day).normalize()
    what, hint = (
        f"heart-rate readings on {midnight:%Y-%m-%d}",
        "run `fitvault sync` or pick another --date",
    )
    _require(hr, what, _HR_COLUMNS, hint)
    df = hr[_days(hr["local_date"]) == midnight].sort_values("time")
    _require(df, what, _HR_COLUMNS, hint)
    breaks = (df["time"].diff() > GAP) | (df["utc_offset_s"].diff().fillna(0) != 0)
    x, bpm = df["local_time"].to_numpy(), _floats(df["bpm"])
    fig, ax = _axes()
    ax.plot(
        *_break_at(x, bpm, breaks.to_numpy()), color=HR_COLOUR, lw=0.6, alpha=0.55, label="reading"
    )
    if smooth:
        mean = pd.Series(bpm, index=df["time"]).rolling("5min").mean().to_numpy()
        ax.plot(*_break_at(x, mean, breaks.to_numpy()), color=HR_COLOUR, lw=1.5, label="5-min mean")
        ax.legend(loc="upper right")
    _mark_clock_changes(ax, df)
    _clock_axis(ax, midnight)
    ax.set_title(f"Heart rate — {midnight:%A}, {_day(midnight)}")
    ax.set_xlabel("local time")
    ax.set_ylabel("heart rate (bpm)")
    return fig


def _mark_clock_changes(ax: Axes, day: pd.DataFrame) -> None:
    """Shade and name the wall-clock hour a DST change repeats (fall back) or skips (spring
    forward), so a doubled or missing stretch of the line is explained on the figure."""
    offsets = day["utc_offset_s"].to_numpy()
    local = day["local_time"].reset_index(drop=True)
    for i in np.flatnonzero(offsets[1:] != offsets[:-1]) + 1:
        shift = pd.Timedelta(seconds=int(offsets[i] - offsets[i - 1]))
        if shift < pd.Timedelta(0):  # clocks went back: [at, at - shift) happened twice
            start, end = local[i], local[i] - shift
            text = f"clocks went back: {start:%H:%M}–{end:%H:%M} shown twice"
        else:
            start, end = local[i] - shift, local[i]
            text = f"clocks went forward: {start:%H:%M}–{end:%H:%M} skipped"
        lo, hi = _date2num([start, end])
        ax.axvspan(lo, hi, color="0.85", alpha=0.6, lw=0, label="_clock change")
        ax.text(hi, 0.02, f" {text}", transform=ax.get_xaxis_transform(), fontsize="small")


def hourly_means(hr: pd.DataFrame, days: int = 7) -> pd.DataFrame:
    """Mean bpm per local date (rows) and local hour 0–23 (columns), for the last ``days`` dates."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    _require(hr, "heart-rate readings", ("local_time", "local_date", "bpm"))
    local_date = _days(hr["local_date"])
    dates = local_date.drop_duplicates().nlargest(days)
    keep = local_date.isin(dates)
    df = hr[keep]
    means = df.groupby([local_date[keep], df["local_time"].dt.hour.rename("hour")])["bpm"].mean()
    return means.astype("float64").unstack("hour").reindex(columns=range(24))


def heart_rate_by_hour(hr: pd.DataFrame, days: int = 7) -> Figure:
    """Mean heart rate by local hour across the last ``days`` days, with a ±1 sd band showing
    how much the days differ."""
    table = hourly_means(hr, days)
    hours = np.arange(24)
    mean, sd = table.mean(), table.std()
    fig, ax = _axes()
    if len(table) > 1:
        lo, hi = (mean - sd).to_numpy(), (mean + sd).to_numpy()
        ax.fill_between(hours, lo, hi, color=HR_COLOUR, alpha=0.2, lw=0, label="±1 sd across days")
    ax.plot(
        hours,
        mean.to_numpy(),
        color=HR_COLOUR,
        lw=2.5,
        marker="o",
        ms=3,
        label=f"mean of {len(table)} days",
    )
    ax.set_xticks(hours)
    ax.set_xlim(-0.5, 23.5)
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(f"Heart rate by hour of day — {_date_range_label(pd.Series(table.index))}")
    ax.set_xlabel("hour of day (local time)")
    ax.set_ylabel("mean heart rate (bpm)")
    return fig


def resting_heart_rate(rhr: pd.DataFrame) -> Figure:
    """Resting heart rate per day with its 7-day rolling mean (at least 4 of the 7 days present)."""
    _require(rhr, "resting-heart-rate days", ("date", "bpm"))
    daily = pd.Series(_floats(rhr["bpm"]), index=_days(rhr["date"])).groupby(level=0).mean()
    daily = daily.asfreq("D")  # calendar days: a missing day breaks the line and the window
    rolling = daily.rolling(7, min_periods=4).mean()
    x = daily.index.to_numpy()
    fig, ax = _axes()
    ax.plot(
        x, daily.to_numpy(), color=HR_COLOUR, lw=0.8, alpha=0.6, marker="o", ms=3, label="daily"
    )
    ax.plot(x, rolling.to_numpy(), color=HR_COLOUR, lw=2.2, label="7-day mean")
    _date_axis(ax, daily.index[0], daily.index[-1])
    ax.legend(loc="upper right")
    ax.set_title(f"Resting heart rate — {_date_range_label(daily.index.to_series())}")
    ax.set_xlabel("date")
    ax.set_ylabel("resting heart rate (bpm)")
    return fig


# --- sleep --------------------------------------------------------------------------------------


def _nights(sleep: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    _require(sleep, "sleep nights", ("date", *columns))
    out = pd.DataFrame({c: _floats(sleep[c]) for c in columns})
    out.insert(0, "date", _days(sleep["date"]).to_numpy())
    return out


def _bins(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Shared histogram edges on a round width (a multiple of 5 minutes)."""
    auto = np.histogram_bin_edges(values, bins="auto")
    width = max(5.0, 5.0 * round((auto[1] - auto[0]) / 5.0)) if len(auto) > 1 else 5.0
    lo, hi = np.floor(values.min() / width) * width, np.ceil(values.max() / width) * width
    return np.arange(lo, max(hi, lo + width) + width / 2, width)


def sleep_histograms(sleep: pd.DataFrame) -> Figure:
    """Overlaid histograms of minutes asleep and time in bed per night, on the same bins."""
    df = _nights(sleep, ("minutes_asleep", "minutes_in_bed"))
    asleep, in_bed = df["minutes_asleep"].dropna(), df["minutes_in_bed"].dropna()
    if asleep.empty and in_bed.empty:
        raise ValueError(f"no sleep durations (minutes_asleep / minutes_in_bed); {_SYNC_HINT}")
    bins = _bins(np.concatenate([asleep.to_numpy(), in_bed.to_numpy()]))
    fig, ax = _axes()
    for values, colour, label in (
        (in_bed, IN_BED_COLOUR, "time in bed"),
        (asleep, ASLEEP_COLOUR, "asleep"),
    ):
        ax.hist(  # outlines, not translucent fills: overlaps would make a third colour
            values.to_numpy(),
            bins=bins.tolist(),
            histtype="step",
            color=colour,
            lw=2,
            label=label,
        )
        if len(values):
            median = float(values.median())
            ax.axvline(
                median, color=colour, ls="--", lw=1.2, label=f"median {label} ({median:.0f} min)"
            )
    ax.legend(loc="upper left")
    ax.set_title(f"Sleep duration — {len(df)} nights, {_date_range_label(df['date'])}")
    ax.set_xlabel("minutes")
    ax.set_ylabel("nights")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def sleep_scatter(sleep: pd.DataFrame) -> Figure:
    """Time in bed (x) against minutes asleep (y) per night, with the 1:1 line."""
    df = _nights(sleep, ("minutes_in_bed", "minutes_asleep")).dropna()
    if df.empty:
        raise ValueError(f"no nights with both minutes_in_bed and minutes_asleep; {_SYNC_HINT}")
    x, y = df["minutes_in_bed"].to_numpy(), df["minutes_asleep"].to_numpy()
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    pad = max(10.0, 0.05 * (hi - lo))
    lims = (lo - pad, hi + pad)
    fig, ax = _axes((6.5, 6.0))
    ax.plot(lims, lims, color="0.4", ls="--", lw=1, label="1:1")
    ax.scatter(x, y, s=28, color=ASLEEP_COLOUR, alpha=0.8, edgecolor="white", lw=0.5, label="night")
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="upper left")
    ax.set_title(f"Time in bed vs asleep — {len(df)} nights")
    ax.set_xlabel("time in bed (minutes)")
    ax.set_ylabel("asleep (minutes)")
    return fig


def sleep_stages(sleep: pd.DataFrame) -> Figure:
    """Stacked deep / light / REM / wake minutes per night (missing stages count as 0)."""
    columns = [STAGE_COLUMNS[stage] for stage in STAGE_COLOURS]
    df = _nights(sleep, columns)
    if df[columns].isna().all().all():
        raise ValueError(
            f"no sleep-stage minutes ({', '.join(columns)}) in any night; {_SYNC_HINT}"
        )
    per_night = df.groupby("date")[columns].sum()  # NaN-skipping: a missing stage adds 0
    x = _date2num(per_night.index.to_numpy())
    bottom = np.zeros(len(per_night))
    fig, ax = _axes()
    for stage, column in zip(STAGE_COLOURS, columns, strict=True):
        heights = per_night[column].to_numpy()
        ax.bar(
            x,
            heights,
            width=0.8,
            bottom=bottom,
            color=STAGE_COLOURS[stage],
            label=STAGE_LABELS[stage],
        )
        bottom = bottom + heights
    _date_axis(ax, per_night.index[0], per_night.index[-1])
    ax.legend(loc="upper left", ncol=4, fontsize="small")
    ax.set_ylim(0, max(float(bottom.max()), 1.0) * 1.15)  # headroom for the legend
    ax.set_title(f"Sleep stages per night — {_date_range_label(per_night.index.to_series())}")
    ax.set_xlabel("night (date it ended)")
    ax.set_ylabel("minutes")
    return fig


# --- registry and saving ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlotSpec:
    """A named figure: what it shows, the frame it needs, and the function that draws it."""

    name: str
    title: str
    needs: Needs
    make: Callable[..., Figure]


PLOTS: dict[str, PlotSpec] = {
    spec.name: spec
    for spec in (
        PlotSpec("hr-day", "Intraday heart rate for one day", "heart_rate", heart_rate_day),
        PlotSpec("hr-by-hour", "Mean heart rate by hour of day", "heart_rate", heart_rate_by_hour),
        PlotSpec(
            "rhr", "Resting heart rate with 7-day mean", "resting_heart_rate", resting_heart_rate
        ),
        PlotSpec("sleep-hist", "Histograms of time asleep and in bed", "sleep", sleep_histograms),
        PlotSpec("sleep-scatter", "Time in bed vs minutes asleep", "sleep", sleep_scatter),
        PlotSpec("sleep-stages", "Sleep stages per night", "sleep", sleep_stages),
    )
}


def check_out_dir(out_dir: Path) -> Path:
    """Create ``out_dir`` if needed and prove a file can be written there; a ConfigError naming
    it otherwise (an existing file, a read-only directory), before any figure is drawn."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file; give a directory for the figures")
    try:
        probe_writable(out_dir)
    except OSError as exc:
        raise ConfigError(
            f"cannot write figures to {out_dir} ({exc.strerror or exc}); pick another --out"
        ) from None
    return out_dir


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def save(
    fig: Figure, out_dir: Path, name: str, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Write ``<out_dir>/<name>.<fmt>`` per format, atomically (temp file, then ``os.replace``).

    The files get the mode a plain ``open()`` would give them (``0o666`` less the umask): figures
    are for sharing, unlike the vault's secrets.
    """
    if not name or Path(name).name != name:
        raise ValueError(f"plot file name must be a bare name, not {name!r}")
    supported = fig.canvas.get_supported_filetypes()
    unknown = [fmt for fmt in formats if fmt not in supported]
    if unknown:
        raise ValueError(
            f"unknown image format(s) {', '.join(unknown)}; use one of {', '.join(supported)}"
        )
    out_dir = check_out_dir(out_dir)
    mode = 0o666 & ~_umask()
    paths = []
    for fmt in formats:
        target = out_dir / f"{name}.{fmt}"
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=f".{fmt}.tmp")
        try:
            os.fchmod(fd, mode)  # mkstemp makes 0600
            with os.fdopen(fd, "wb") as fh:
                fig.savefig(fh, format=fmt, dpi=150)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        paths.append(target)
    return paths
