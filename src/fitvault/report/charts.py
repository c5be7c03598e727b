"""The report's figures: each takes frames from :mod:`fitvault.report.data`, returns SVG.

Time axes are the person's local clock and local dates. Daily values are placed at the local
date's ordinal number, so a missing day is a gap, never a squeezed axis.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fitvault.report.svg import MANY, Chart, Tick, esc, num, svg, viridis

STAGES = ("deep", "light", "rem", "wake")
STAGE_OF = {"DEEP": "deep", "LIGHT": "light", "REM": "rem", "AWAKE": "wake", "WAKE": "wake"}
LEVEL = {"wake": 3, "rem": 2, "light": 1, "deep": 0}
ROLLING_NOTE = (
    "n-day means are over calendar days ending on the day shown, with at least half of the "
    "days present (a gap longer than that breaks the line)"
)


def ordinal(value: object) -> float:
    return float(pd.Timestamp(value).toordinal())  # type: ignore[arg-type]


def daily(df: pd.DataFrame, column: str, date: str = "date") -> pd.Series:
    """One float per calendar day (NaN where absent), indexed by naive local date."""
    if df.empty or column not in df:
        return pd.Series(dtype="float64")
    values = pd.to_numeric(df[column], errors="coerce").astype("float64")
    s = pd.Series(values.to_numpy(), index=pd.to_datetime(df[date]).dt.tz_localize(None))
    return s.groupby(level=0).mean().asfreq("D")


def rolling(s: pd.Series, days: int) -> pd.Series:
    return s.rolling(days, min_periods=max(1, days // 2)).mean()


def date_ticks(first: float, last: float) -> list[Tick]:
    """Tick marks for a date axis: days, Mondays, months or years depending on the span."""
    a, b = dt.date.fromordinal(int(first)), dt.date.fromordinal(math.ceil(last))
    span = (b - a).days
    if span <= 14:
        days = [a + dt.timedelta(days=i) for i in range(0, span + 1, 2 if span > 7 else 1)]
        return [(d.toordinal(), f"{d.day} {d:%b}") for d in days]
    if span <= 100:
        start = a + dt.timedelta(days=(7 - a.weekday()) % 7)
        step = 7 if span <= 60 else 14
        days = [
            start + dt.timedelta(days=i)
            for i in range(0, span + 1, step)
            if start + dt.timedelta(days=i) <= b
        ]
        return [(d.toordinal(), f"{d.day} {d:%b}") for d in days]
    months = pd.date_range(a, b, freq="MS")
    every = 1 if span <= 200 else 3 if span <= 800 else 12
    out: list[Tick] = []
    for m in months:
        if (m.month - 1) % every == 0:
            label = (
                f"{m:%b}"
                if every < 12 and m.month != 1
                else f"{m:%Y}"
                if every == 12
                else f"{m:%b %Y}"
            )
            out.append((float(m.toordinal()), label))
    return out


def _date_chart(
    title: str,
    ylabel: str,
    s: pd.Series,
    *,
    lo: float | None = None,
    hi: float | None = None,
    height: float = 240,
    pad: float = 0.5,
    xlabel: str = "local date",
) -> Chart:
    """A chart over ``s``'s dates; ``pad`` (days) leaves room for bars wider than a day."""
    x0, x1 = ordinal(s.index[0]) - pad, ordinal(s.index[-1]) + pad
    vmin = float(np.nanmin(s.to_numpy())) if lo is None else lo
    vmax = float(np.nanmax(s.to_numpy())) if hi is None else hi
    margin = max(0.06 * (vmax - vmin), 0.5)
    return Chart(
        title,
        xlabel,
        ylabel,
        (x0, x1),
        (vmin - margin if lo is None else lo, vmax + margin if hi is None else hi),
        date_ticks(x0, x1),
        height=height,
        zoom="date",
    )


def _xs(s: pd.Series | pd.DataFrame) -> list[float]:
    """The index's dates as ordinals, for the whole index at once."""
    days = pd.DatetimeIndex(s.index).to_numpy(dtype="datetime64[D]").astype("int64")
    return (days + _EPOCH).astype("float64").tolist()


_EPOCH = dt.date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=8192)
def day_label(day: int) -> str:
    """``Mon 20 May 2024`` for a date ordinal: each day is formatted once per report, not once
    per chart (``strftime`` over every series was a tenth of the 5-year report's time)."""
    return dt.date.fromordinal(day).strftime("%a %d %b %Y")


def _tips(s: pd.Series, fmt: str) -> list[str]:
    return [
        f"{day_label(int(x))}: {fmt.format(v)}" if math.isfinite(v) else ""
        for x, v in zip(_xs(s), s.tolist(), strict=True)
    ]


def trend_chart(
    title: str,
    ylabel: str,
    s: pd.Series,
    cls: str,
    *,
    means: Sequence[int] = (7,),
    fmt: str = "{:.0f}",
    points: bool = True,
) -> str:
    """Daily values (points, with hover) and n-day rolling means (lines). A sparse series
    (weigh-ins) averages the values present in the n days instead."""
    c = _date_chart(title, ylabel, s)
    xs = _xs(s)
    present = s.dropna()
    sparse = len(present) < 0.5 * len(s)
    label = "reading" if sparse else "daily"
    if points and len(s) <= 400:
        c.points(xs, s.tolist(), f"{cls} faint", label=label, titles=_tips(s, fmt), r=2.5)
    else:  # too many days for dots: a thin line whose hover text the page's script shows
        c.line(xs, s.tolist(), f"{cls} thin", label=label, tips=_tips(s, fmt))
    for i, n in enumerate(means):
        if sparse:
            mean = present.rolling(f"{n}D", min_periods=1).mean()
            c.line(_xs(mean), mean.tolist(), f"{cls} w{i + 2}", label=f"mean of {n} days")
        else:
            c.line(xs, rolling(s, n).tolist(), f"{cls} w{i + 2}", label=f"{n}-day mean")
    return c.render()


def bar_chart(
    title: str,
    ylabel: str,
    s: pd.Series,
    cls: str,
    *,
    width: float = 0.8,
    fmt: str = "{:,.0f}",
    mean: int = 0,
    label: str = "",
) -> str:
    s = s.dropna()
    if s.empty:
        return ""
    c = _date_chart(title, ylabel, s, lo=0.0, hi=float(s.max()) * 1.08 or 1.0, pad=width / 2 + 0.1)
    c.bars(_xs(s), s.tolist(), width, cls, label=label, titles=_tips(s, fmt))
    if mean:
        full = s.asfreq("D")
        c.line(_xs(full), rolling(full, mean).tolist(), "c-ink w2", label=f"{mean}-day mean")
    return c.render()


def stacked(
    title: str,
    ylabel: str,
    table: pd.DataFrame,
    classes: dict[str, str],
    labels: dict[str, str],
    *,
    width: float = 0.8,
    unit: str = "min",
) -> str:
    """Stacked bars per date (index) of the given columns."""
    table = table.fillna(0.0)
    if table.empty or not table.to_numpy().any():
        return ""
    total = table.sum(axis=1)
    top = float(total.max()) * 1.1 or 1.0
    c = _date_chart(title, ylabel, total, lo=0.0, hi=top, pad=width / 2 + 0.1)
    xs, bottom = _xs(table), np.zeros(len(table))
    days = [day_label(int(x)) for x in xs]
    shown = [col for col in classes if col in table]
    # Many bars are paths whose hover text the script shows for the nearest x: there one text
    # per date names every part of the stack, carried by the first part only.
    whole = [
        f"{d}: " + ", ".join(f"{labels[col]} {x:,.0f}" for col, x in zip(shown, row, strict=True))
        + f" {unit}"
        for d, row in zip(days, table[shown].to_numpy(dtype="float64").tolist(), strict=True)
    ] if len(xs) > MANY else None  # fmt: skip
    for n, col in enumerate(shown):
        v = table[col].to_numpy(dtype="float64")
        tips = (
            (whole if n == 0 else None)
            if whole is not None
            else [f"{d}: {labels[col]} {x:,.0f} {unit}" for d, x in zip(days, v, strict=True)]
        )
        c.bars(
            xs, v.tolist(), width, classes[col], label=labels[col], bottoms=bottom.tolist(),
            titles=tips,
        )  # fmt: skip
        bottom = bottom + v
    return c.render()


def clock_label(hours: float) -> str:
    h = round(hours * 60) // 60 % 24
    m = round(hours * 60) % 60
    return f"{h:02d}:{m:02d}"


def day_heart_rate(
    day: dt.date, hr: pd.DataFrame, sleep: pd.DataFrame, exercise: pd.DataFrame
) -> str:
    """5-minute mean heart rate over one local day, min–max range as hover, sleep and
    workouts shaded."""
    midnight = pd.Timestamp(day)
    hours = [(t - midnight).total_seconds() / 3600 for t in hr.index]
    lo, hi = float(hr["min"].min()), float(hr["max"].max())
    c = Chart(
        f"Heart rate on {day:%A %d %B %Y} (5-minute means)",
        "local time",
        "heart rate (bpm)",
        (0, 24),
        (lo - 5, hi + 5),
        [(h, f"{h:02d}:00") for h in range(0, 25, 3)],
        zoom="clock",
    )
    for _, s in sleep.iterrows():
        a, b = (
            (pd.Timestamp(s["start"]).tz_localize(None) - midnight),
            (pd.Timestamp(s["end"]).tz_localize(None) - midnight),
        )
        kind = "nap" if s.get("is_nap") else "sleep"
        c.band(
            a.total_seconds() / 3600,
            b.total_seconds() / 3600,
            "f-sleep",
            f"{kind} {s['start']:%H:%M}–{s['end']:%H:%M}",
            label="asleep",
        )
    for _, e in exercise.iterrows():
        a = pd.Timestamp(e["start_time"]).tz_localize(None) - midnight
        b = pd.Timestamp(e["end_time"]).tz_localize(None) - midnight
        name = str(e.get("display_name") or e.get("exercise_type") or "workout")
        c.band(
            a.total_seconds() / 3600,
            b.total_seconds() / 3600,
            "f-workout",
            f"{name} {e['start_time']:%H:%M}–{e['end_time']:%H:%M}",
            label="workout",
        )
    c.line(hours, hr["mean"].tolist(), "c-hr w2", label="5-min mean")
    tips = [
        f"{t:%H:%M}: mean {m:.0f}, range {a:.0f}–{b:.0f} bpm"
        for t, m, a, b in zip(hr.index, hr["mean"], hr["min"], hr["max"], strict=True)
        if math.isfinite(m)
    ]
    keep = [(h, m) for h, m in zip(hours, hr["mean"], strict=True) if math.isfinite(m)]
    c.points([h for h, _ in keep], [m for _, m in keep], "c-hr hover", titles=tips, r=2.2)
    return c.render()


def heatmap(table: pd.DataFrame, weekly: bool) -> str:
    """Mean bpm per local hour (y) and date or week (x), on the viridis scale."""
    lo, hi = np.nanpercentile(table["bpm"], [2, 98])
    span = 7 if weekly else 1
    x = np.asarray(_xs(table.set_index(pd.to_datetime(table["period"]))), dtype="int64")
    first = int(x.min())
    cols = (int(x.max()) - first) // span + 1
    grid = np.full((cols, 24), np.nan)
    grid[(x - first) // span, table["hour"].to_numpy(dtype="int64")] = table["bpm"].to_numpy(
        dtype="float64"
    )
    x0, x1 = float(first), float(first + cols * span)
    c = Chart(
        f"Heart rate by hour of day and {'week' if weekly else 'day'} "
        f"(colour: mean bpm, {lo:.0f} dark – {hi:.0f} bright)",
        "local date",
        "hour (local time)",
        (x0, x1),
        (0, 24),
        date_ticks(x0, x1 - 1),
        [(24 - h, f"{h:02d}:00") for h in range(0, 25, 6)],
        height=300,
        zoom="date",
    )
    c.heat(x0, span, grid, (float(lo), float(hi)), "bpm", "week of" if weekly else "")
    return c.render()


def hypnogram(stages: pd.DataFrame, night: pd.Timestamp) -> str:
    """Stage over time for one night; wall-clock hours relative to the midnight it ends after."""
    midnight = pd.Timestamp(night).normalize()
    rel = [
        ((pd.Timestamp(t).tz_localize(None) - midnight).total_seconds() / 3600)
        for t in stages["start"]
    ]
    end = [
        ((pd.Timestamp(t).tz_localize(None) - midnight).total_seconds() / 3600)
        for t in stages["end"]
    ]
    x0, x1 = math.floor(min(rel)), math.ceil(max(end))
    c = Chart(
        f"Sleep stages, night ending {midnight:%A %d %B %Y}",
        "local time",
        "stage",
        (x0, x1),
        (0, 4),
        [(h, clock_label(h)) for h in range(x0, x1 + 1, 1 if x1 - x0 <= 10 else 2)],
        [(LEVEL[s] + 0.5, s.upper() if s == "rem" else s.title()) for s in STAGES],
        height=220,
        left=78,
        zoom="clock",
    )
    for a, b, stage, s, e in zip(
        rel, end, stages["stage"], stages["start"], stages["end"], strict=True
    ):
        key = STAGE_OF.get(str(stage).upper(), "light")
        lv = LEVEL[key]
        c.cell(a, b, lv + 0.1, lv + 0.9, f"var(--{key})", f"{key} {s:%H:%M}–{e:%H:%M}")
    for key in STAGES:
        c.key(f"f-{key}", key.upper() if key == "rem" else key.title())
    return c.render()


def histograms(asleep: pd.Series, in_bed: pd.Series) -> str:
    """Nights per 30-minute bin, minutes asleep beside time in bed."""
    both = pd.concat([asleep, in_bed]).dropna()
    lo, hi = math.floor(both.min() / 30) * 30, math.ceil(both.max() / 30) * 30 + 30
    bins = np.arange(lo, hi + 1, 30)
    ha, _ = np.histogram(asleep.dropna(), bins)
    hb, _ = np.histogram(in_bed.dropna(), bins)
    mids = (bins[:-1] + 15).tolist()
    c = Chart(
        "Sleep duration: nights per 30-minute bin",
        "minutes",
        "nights",
        (lo, hi),
        (0, max(ha.max(), hb.max()) * 1.1 + 0.5),
        [(b, f"{b:.0f}") for b in bins[:: max(1, len(bins) // 8)]],
    )
    c.bars(
        [m - 7 for m in mids],
        ha.astype(float).tolist(),
        13,
        "f-asleep",
        label="asleep",
        titles=[
            f"{a:.0f}–{a + 30:.0f} min asleep: {n} nights" for a, n in zip(bins, ha, strict=False)
        ],
    )
    c.bars(
        [m + 7 for m in mids],
        hb.astype(float).tolist(),
        13,
        "f-inbed",
        label="time in bed",
        titles=[
            f"{a:.0f}–{a + 30:.0f} min in bed: {n} nights" for a, n in zip(bins, hb, strict=False)
        ],
    )
    return c.render()


def scatter(sleep: pd.DataFrame) -> str:
    df = sleep[["date", "minutes_in_bed", "minutes_asleep"]].dropna()
    x = df["minutes_in_bed"].astype("float64")
    y = df["minutes_asleep"].astype("float64")
    lo, hi = float(min(x.min(), y.min())) - 15, float(max(x.max(), y.max())) + 15
    c = Chart(
        "Time in bed vs asleep, one point per night",
        "time in bed (minutes)",
        "asleep (minutes)",
        (lo, hi),
        (lo, hi),
        [(v, f"{v:.0f}") for v in _round_ticks(lo, hi)],
        height=400,
        width=440,
        max_width=520,
    )
    c.segment(lo, lo, hi, hi, "c-ink dash", "1:1")
    tips = [
        f"{d:%a %d %b %Y}: {a:.0f} min in bed, {b:.0f} asleep"
        for d, a, b in zip(df["date"], x, y, strict=True)
    ]
    c.points(x.tolist(), y.tolist(), "f-asleep", label="night", titles=tips)
    return c.render()


def _round_ticks(lo: float, hi: float) -> list[float]:
    from fitvault.report.svg import nice_ticks

    return nice_ticks(lo, hi, 5)


def sleep_times(sleep: pd.DataFrame, weekly: bool) -> str:
    """Bedtime and wake time per night on a clock axis from 18:00 to 14:00 the next day."""
    start = pd.to_datetime(sleep["start"]).dt.tz_localize(None)
    end = pd.to_datetime(sleep["end"]).dt.tz_localize(None)
    date = pd.to_datetime(sleep["date"])
    bed = (
        pd.Series(((start - date).dt.total_seconds() / 3600).to_numpy(), index=date)
        .groupby(level=0)
        .mean()
        .asfreq("D")
    )
    wake = (
        pd.Series(((end - date).dt.total_seconds() / 3600).to_numpy(), index=date)
        .groupby(level=0)
        .mean()
        .asfreq("D")
    )
    lo = math.floor(min(bed.min(), -6.0))
    hi = math.ceil(max(wake.max(), 10.0))
    c = _date_chart(
        "Bedtime and wake time per night",
        "local clock time",
        bed,
        lo=lo,
        hi=hi,
        height=260,
        xlabel="night (local date it ended)",
    )
    c.yticks = [(h, clock_label(h)) for h in range(lo, hi + 1, 2)]
    xs = _xs(bed)
    for s, cls, name in ((bed, "c-bed", "bedtime"), (wake, "c-wake", "wake time")):
        if not weekly:
            tips = [
                f"{t:%a %d %b %Y}: {name} {clock_label(v)}" if math.isfinite(v) else ""
                for t, v in s.items()
            ]
            c.points(xs, s.tolist(), f"{cls} faint", titles=tips, r=2.5)
        c.line(xs, rolling(s, 7).tolist(), f"{cls} w2", label=f"{name} (7-night mean)")
    return c.render()


def calendar(wear: pd.DataFrame, first: dt.date, last: dt.date) -> str:
    """One cell per day, shaded by minutes worn; days without readings are outlined."""
    worn = {
        pd.Timestamp(d).date(): int(m)
        for d, m in zip(wear["date"], wear["wear_minutes_derived"], strict=True)
    }
    cell, gap, label_w = 12.0, 2.0, 40.0
    years = list(range(first.year, last.year + 1))
    marks: list[str] = []

    def week(day: dt.date) -> int:
        jan1 = dt.date(day.year, 1, 1)
        return (day - jan1 + dt.timedelta(days=jan1.weekday())).days // 7

    # One year: only its weeks. Several: every row starts in January, so weeks line up.
    lo = {y: week(max(first, dt.date(y, 1, 1))) if len(years) == 1 else 0 for y in years}
    cols = max(week(min(last, dt.date(y, 12, 31))) - lo[y] + 1 for y in years)
    width = label_w + cols * (cell + gap) + 4
    # Over a year, a rect and a title per day (7 000 elements for five years) give way to one
    # path per two-hour step of wear, each titled with its range, and one for empty days.
    grouped = (last - first).days + 1 > 400
    steps: dict[int, list[str]] = {}
    for row, year in enumerate(years):
        top = 4 + row * (7 * (cell + gap) + 14)
        jan1 = dt.date(year, 1, 1)
        marks.append(f'<text class="tick" x="0" y="{num(top + 3.5 * (cell + gap))}">{year}</text>')
        day = max(first, jan1)
        while day <= min(last, dt.date(year, 12, 31)):
            col = week(day) - lo[year]
            x, y = label_w + col * (cell + gap), top + day.weekday() * (cell + gap)
            minutes = worn.get(day, 0)
            if grouped:
                step = min(minutes // 120, 11) if minutes else -1
                steps.setdefault(step, []).append(
                    f"M{num(x)},{num(y)}h{num(cell)}v{num(cell)}h-{num(cell)}z"
                )
            else:
                marks.append(_calendar_day(day, minutes, x, y, cell))
            day += dt.timedelta(days=1)
    for step, cells in sorted(steps.items()):
        if step < 0:
            marks.append(
                f'<path class="day nodata" d="{"".join(cells)}"><title>no data</title></path>'
            )
        else:
            marks.append(
                f'<path class="day" fill="{viridis((step + 0.5) / 12)}" d="{"".join(cells)}">'
                f"<title>worn {2 * step}–{2 * step + 2} h a day</title></path>"
            )
    height = 4 + len(years) * (7 * (cell + gap) + 14)
    return svg("Coverage: hours worn per day", max(width, 200), height, "".join(marks), 3 * width)


def _calendar_day(day: dt.date, minutes: int, x: float, y: float, cell: float) -> str:
    if minutes:
        fill = f'fill="{viridis(minutes / 1440)}"'
        worn = f"worn {minutes // 60} h {minutes % 60:02d} min ({minutes / 14.4:.0f} %)"
        tip = f"{day:%a %d %b %Y}: {worn}"
        cls = "day"
    else:
        fill, tip, cls = "", f"{day:%a %d %b %Y}: no data", "day nodata"
    return (
        f'<rect class="{cls}" x="{num(x)}" y="{num(y)}" width="{num(cell)}" '
        f'height="{num(cell)}" {fill}><title>{esc(tip)}</title></rect>'
    )
