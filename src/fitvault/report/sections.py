"""The report's sections as HTML fragments; a section with no data renders as ``""``."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from fitvault.report import charts
from fitvault.report.data import ReportData
from fitvault.report.svg import esc

ZONES = {"LIGHT": "f-z1", "MODERATE": "f-z2", "VIGOROUS": "f-z3", "PEAK": "f-z4"}
AZM = {"FAT_BURN": "f-z2", "CARDIO": "f-z3", "PEAK": "f-z4"}
STAGE_COLUMNS = {
    "minutes_deep": "f-deep",
    "minutes_light": "f-light",
    "minutes_rem": "f-rem",
    "minutes_awake": "f-wake",
}
STAGE_NAMES = {
    "minutes_deep": "Deep",
    "minutes_light": "Light",
    "minutes_rem": "REM",
    "minutes_awake": "Wake",
}


def section(sid: str, title: str, parts: list[str]) -> str:
    body = "".join(p for p in parts if p)
    if not body:
        return ""
    return f'<section id="{sid}"><h2>{esc(title)}</h2>{body}</section>'


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (pandas' row tuples are untyped for mypy anyway)."""
    return df.to_dict("records")  # type: ignore[return-value]


def table(head: list[str], rows: Sequence[Sequence[object]], cls: str = "") -> str:
    if not rows:
        return ""
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(_td(v) for v in r) + "</tr>" for r in rows)
    return (
        f'<div class="scroll"><table class="{cls}"><thead><tr>{th}</tr></thead>'
        f"<tbody>{trs}</tbody></table></div>"
    )


_NUMBER = re.compile(r"^[-–+]?[\d.,]*\d[\d.,]*( ?[%a-z]{0,3})?$|^–$")


def _td(value: object) -> str:
    """A cell; numbers are right-aligned so their digits line up."""
    text = str(value)
    cls = ' class="n"' if _NUMBER.match(text) else ""
    return f"<td{cls}>{esc(text)}</td>"


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def _guard(make: Callable[[], str]) -> str:
    """A figure whose data is all missing (NaN) is left out rather than drawn empty."""
    try:
        return make()
    except (ValueError, IndexError, KeyError):
        return ""


def _day(d: dt.date | None) -> str:
    return "–" if d is None else f"{d.day} {d:%b %Y}"


# --- overview -----------------------------------------------------------------------------------


def _headline(name: str, s: pd.Series, unit: str, fmt: str, better: int) -> str:
    """Mean of the last n days against the n before (n = 7, or 30 over two months or more)."""
    s = s.dropna()
    if s.empty:
        return ""
    span = (s.index[-1] - s.index[0]).days + 1
    n = 30 if span >= 60 else 7
    end = s.index[-1]
    recent = s[s.index > end - pd.Timedelta(days=n)]
    before = s[(s.index <= end - pd.Timedelta(days=n)) & (s.index > end - pd.Timedelta(days=2 * n))]
    trend = ""
    if len(before):
        delta = recent.mean() - before.mean()
        arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
        good = "up" if delta * better > 0 else "down" if delta * better < 0 else ""
        trend = (
            f'<span class="trend {good}">{arrow} {fmt.format(abs(delta))} {esc(unit)} vs the '
            f"{n} days before</span>"
        )
    return (
        f'<div class="card"><div class="k">{esc(name)}</div><div class="v">'
        f"{fmt.format(recent.mean())} <small>{esc(unit)}</small></div>"
        f'<div class="sub">mean of the last {n} days</div>{trend}</div>'
    )


def overview(d: ReportData) -> str:
    if d.first is None or d.last is None:
        return ""
    devices = ", ".join(
        f"{r['device']} ({_day(pd.Timestamp(r['first']).date())} – "
        f"{_day(pd.Timestamp(r['last']).date())})"
        for r in records(d.devices)
    )
    facts = (
        f"<p><b>{_day(d.first)} – {_day(d.last)}</b> ({(d.last - d.first).days + 1} days, "
        f"times in {esc(d.tz)}). Devices: {esc(devices or 'none recorded')}.</p>"
    )
    cards = "".join(
        [
            _headline("Resting heart rate", charts.daily(d.rhr, "bpm"), "bpm", "{:.1f}", -1),
            _headline(
                "Sleep", charts.daily(d.sleep, "minutes_asleep") / 60, "h asleep", "{:.1f}", 1
            ),
            _headline(
                "Steps",
                charts.daily(d.steps[~d.steps["partial_day"]], "steps")
                if len(d.steps)
                else pd.Series(dtype=float),
                "a day",
                "{:,.0f}",
                1,
            ),
        ]
    )
    cal = ""
    if len(d.wear):
        cal = charts.calendar(d.wear, d.first, d.last) + note(
            "One cell per day, Monday at the top: dark 0 h – bright 24 h worn (from heart-rate "
            "readings); an outlined cell is a day with no data."
        )
    return section(
        "overview", "Overview", [facts, f'<div class="cards">{cards}</div>' if cards else "", cal]
    )


# --- heart --------------------------------------------------------------------------------------


def heart(d: ReportData) -> str:
    parts = []
    if d.day is not None and len(d.day_hr):
        parts.append(charts.day_heart_rate(d.day, d.day_hr, d.day_sleep, d.day_exercise))
    if len(d.heatmap):
        parts.append(charts.heatmap(d.heatmap, d.weekly))
    if len(d.rhr):
        s = charts.daily(d.rhr, "bpm")
        parts.append(
            charts.trend_chart(
                "Resting heart rate", "resting heart rate (bpm)", s, "c-hr", means=(7, 30)
            )
        )
    if len(d.hrv):
        s = charts.daily(d.hrv, "avg_rmssd_ms")
        if s.notna().any():
            parts.append(
                charts.trend_chart(
                    "Heart-rate variability (nightly RMSSD)",
                    "RMSSD (ms)",
                    s,
                    "c-hrv",
                    means=(7, 30),
                )
            )
    if len(d.zones):
        z = d.zones.pivot_table(
            index="date", columns="heart_rate_zone", values="minutes_derived", aggfunc="sum"
        )
        z.index = pd.to_datetime(z.index)
        weeks = z.resample("W-MON", label="left", closed="left").sum()
        weeks.index = weeks.index + pd.Timedelta(days=3)  # centred on the week
        parts.append(
            charts.stacked(
                "Time in heart-rate zones per week (derived)",
                "minutes per week",
                weeks,
                ZONES,
                {k: k.title() for k in ZONES},
                width=6,
            )
        )
    return section("heart", "Heart", parts)


# --- sleep --------------------------------------------------------------------------------------


def _weekday_table(sleep: pd.DataFrame) -> str:
    date = pd.to_datetime(sleep["date"])
    weekend = (
        date.dt.day_of_week >= 5
    )  # nights ending on Saturday or Sunday: Friday, Saturday nights
    start = pd.to_datetime(sleep["start"]).dt.tz_localize(None)
    end = pd.to_datetime(sleep["end"]).dt.tz_localize(None)
    bed = (start - date).dt.total_seconds() / 3600
    wake = (end - date).dt.total_seconds() / 3600
    rows = []
    for name, m in (
        ("weekday nights (ending Mon–Fri)", ~weekend),
        ("weekend nights (ending Sat–Sun)", weekend),
    ):
        if not m.any():
            continue
        asleep = sleep.loc[m, "minutes_asleep"].astype("float64").mean()
        rows.append(
            [
                name,
                int(m.sum()),
                f"{asleep / 60:.1f} h" if math.isfinite(asleep) else "–",
                charts.clock_label(bed[m].mean()),
                charts.clock_label(wake[m].mean()),
            ]
        )
    return table(["nights", "count", "mean asleep", "mean bedtime", "mean wake time"], rows)


def sleep(d: ReportData) -> str:
    s = d.sleep
    if s.empty:
        return ""
    parts = []
    if len(d.stages):
        parts.append(charts.hypnogram(d.stages, pd.Timestamp(s["date"].iloc[-1])))
    parts.append(
        _guard(
            lambda: charts.histograms(
                s["minutes_asleep"].astype("float64"), s["minutes_in_bed"].astype("float64")
            )
        )
    )
    parts.append(_guard(lambda: charts.scatter(s)))
    stages = pd.DataFrame({c: charts.daily(s, c) for c in STAGE_COLUMNS})
    if d.weekly:
        stages = stages.resample("W-MON", label="left", closed="left").mean()
        stages.index = stages.index + pd.Timedelta(days=3)
    title = "Sleep stages per night" + (" (weekly means)" if d.weekly else "")
    parts.append(
        charts.stacked(
            title,
            "minutes",
            stages.dropna(how="all"),
            STAGE_COLUMNS,
            STAGE_NAMES,
            width=6 if d.weekly else 0.8,
        )
    )
    parts.append(_guard(lambda: charts.sleep_times(s, d.weekly)))
    start = pd.to_datetime(s["start"]).dt.tz_localize(None)
    sd = ((start - pd.to_datetime(s["date"])).dt.total_seconds() / 60).std()
    if math.isfinite(sd):
        parts.append(note(f"Bedtime varies by ±{sd:.0f} minutes (one standard deviation)."))
    parts.append(_weekday_table(s))
    eff = charts.daily(s, "efficiency_derived")
    if eff.notna().any():
        parts.append(
            charts.trend_chart(
                "Sleep efficiency (derived: asleep ÷ in bed)",
                "efficiency (%)",
                eff,
                "c-asleep",
                fmt="{:.1f} %",
            )
        )
    return section("sleep", "Sleep", parts)


# --- activity -----------------------------------------------------------------------------------


def activity(d: ReportData) -> str:
    parts = []
    if len(d.steps):
        full = d.steps[~d.steps["partial_day"]]
        s = charts.daily(full, "steps")
        if d.weekly:
            parts.append(
                charts.trend_chart(
                    "Steps per day", "steps", s, "c-steps", means=(7, 30), points=False
                )
            )
        else:
            parts.append(
                charts.bar_chart("Steps per day", "steps", s, "f-steps", mean=7, label="steps")
            )
        weeks = s.resample("W-MON", label="left", closed="left").sum(min_count=1)
        weeks.index = weeks.index + pd.Timedelta(days=3)
        parts.append(
            charts.bar_chart(
                "Steps per week (Monday–Sunday)",
                "steps per week",
                weeks,
                "f-steps",
                width=6,
                label="weekly total",
            )
        )
    if len(d.azm):
        z = d.azm.pivot_table(
            index="date", columns="heart_rate_zone", values="minutes", aggfunc="sum"
        )
        z.index = pd.to_datetime(z.index)
        width = 0.8
        if d.weekly:
            z = z.resample("W-MON", label="left", closed="left").sum()
            z.index, width = z.index + pd.Timedelta(days=3), 6
        labels = {"FAT_BURN": "Fat burn", "CARDIO": "Cardio", "PEAK": "Peak"}
        title = "Active zone minutes per " + ("week" if d.weekly else "day")
        parts.append(charts.stacked(title, "active zone minutes", z, AZM, labels, width=width))
    parts.append(_exercise(d.exercise))
    return section("activity", "Activity", parts)


def _exercise(ex: pd.DataFrame, limit: int = 40) -> str:
    if ex.empty:
        return ""
    ex = ex.sort_values("start_time", ascending=False)
    rows = []
    for r in records(ex.head(limit)):
        minutes = (r["end_time"] - r["start_time"]).total_seconds() / 60
        dist = r.get("distance_mm")
        rows.append(
            [
                f"{r['start_time']:%a %d %b %Y %H:%M}",
                str(r.get("display_name") or r.get("exercise_type") or ""),
                f"{minutes:.0f}",
                _fmt(r.get("avg_heart_rate_bpm"), "{:.0f}"),
                _fmt(r.get("calories_kcal"), "{:.0f}"),
                _fmt(dist / 1e6 if dist is not None and dist == dist else None, "{:.2f}"),
                _fmt(r.get("steps"), "{:,.0f}"),
            ]
        )
    shown = f"the latest {limit} of {len(ex)}" if len(ex) > limit else f"all {len(ex)}"
    head = ["start (local)", "exercise", "minutes", "avg bpm", "kcal", "km", "steps"]
    return f"<h3>Exercise sessions ({shown})</h3>" + table(head, rows)


def _fmt(value: object, fmt: str) -> str:
    if value is None or value is pd.NA:
        return "–"
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(f) else fmt.format(f)


# --- vitals -------------------------------------------------------------------------------------


def vitals(d: ReportData) -> str:
    v = d.vitals
    spec = (
        (
            "spo2",
            "avg_percent",
            "Blood oxygen (SpO2, nightly average)",
            "SpO2 (%)",
            "c-spo2",
            "date",
        ),
        (
            "breathing",
            "breaths_per_minute",
            "Breathing rate during sleep",
            "breaths per minute",
            "c-br",
            "date",
        ),
        (
            "temperature",
            "deviation_derived",
            "Skin temperature deviation from baseline (derived)",
            "°C vs baseline",
            "c-temp",
            "date",
        ),
        ("vo2", "vo2_max", "Cardio fitness (VO2 max)", "VO2 max (ml/kg/min)", "c-vo2", "date"),
        ("weight", "kg", "Weight", "weight (kg)", "c-weight", "local_date"),
    )
    parts = []
    for key, col, title, unit, cls, date in spec:
        df = v.get(key, pd.DataFrame())
        if df.empty or col not in df or df[col].isna().all():
            continue
        s = charts.daily(df, col, date)
        parts.append(
            charts.trend_chart(
                title, unit, s, cls, means=(7,) if key != "weight" else (30,), fmt="{:.1f}"
            )
        )
    return section("vitals", "Vitals and body", parts)


# --- data ---------------------------------------------------------------------------------------


def _gaps(wear: pd.DataFrame, first: dt.date, last: dt.date) -> list[list[object]]:
    have = {pd.Timestamp(x).date() for x in wear["date"]} if len(wear) else set()
    gaps: list[list[object]] = []
    day, start = first, None
    while day <= last + dt.timedelta(days=1):
        missing = day <= last and day not in have
        if missing and start is None:
            start = day
        if not missing and start is not None:
            end = day - dt.timedelta(days=1)
            gaps.append([_day(start), _day(end), (end - start).days + 1])
            start = None
        day += dt.timedelta(days=1)
    return gaps


def data_section(d: ReportData) -> str:
    parts = []
    rows = [
        [
            r["data_type"],
            r["source"],
            f"{pd.Timestamp(r['covered_from']).tz_convert(d.tz):%Y-%m-%d}",
            f"{pd.Timestamp(r['covered_to']).tz_convert(d.tz):%Y-%m-%d}",
            f"{pd.Timestamp(r['last_sync']).tz_convert(d.tz):%Y-%m-%d %H:%M}",
            "–" if pd.isna(r["rows"]) else f"{int(r['rows']):,}",
        ]
        for r in records(d.sync)
    ]
    if rows:
        parts.append("<h3>Sources and last sync per type</h3>")
        parts.append(
            table(
                [
                    "type",
                    "source",
                    "synced from",
                    "synced to",
                    "last sync (local)",
                    "rows in table",
                ],
                rows,
            )
        )
    if d.first is not None and d.last is not None and len(d.wear):
        gaps = _gaps(d.wear, d.first, d.last)
        parts.append("<h3>Gaps: days without heart-rate readings</h3>")
        parts.append(
            table(["from", "to", "days"], gaps) if gaps else note("None: every day has readings.")
        )
    derived = {**d.derived, "rolling means": charts.ROLLING_NOTE}
    if d.weekly:
        derived["weekly values"] = (
            "over ranges longer than 180 days, daily values are shown as means per week "
            "starting on Monday"
        )
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in sorted(derived.items()))
    parts.append(f"<h3>How the derived numbers are computed</h3><dl>{items}</dl>")
    return section("data", "Data", parts)


SECTIONS = (
    ("overview", "Overview", overview),
    ("heart", "Heart", heart),
    ("sleep", "Sleep", sleep),
    ("activity", "Activity", activity),
    ("vitals", "Vitals and body", vitals),
    ("data", "Data", data_section),
)
