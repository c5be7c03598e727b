"""Nightly summaries and body logs of the legacy API: HRV, SpO2, breathing rate, skin
temperature, cardio fitness score, weight and body-fat logs, from the World's daily records.

Each nightly summary describes the main sleep that ended on its date (spec A10), exactly the
World's ``daily-*`` rows, which the v4 face serves too. Dates without a value are left out.
Facts: spec A10, A11; samples ``GetHRV*``, ``GetSpO2*``, ``GetBreathingRate*``,
``GetCardioScore*``, ``GetWeight.json``, ``GetFat.json``.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cached_property
from typing import Any

import numpy as np

from fitvault.simulator.legacy_render import LB_PER_KG
from fitvault.simulator.legacy_wire import local
from fitvault.simulator.world import World


def _by_date(rec: dict[str, Any], *columns: str) -> dict[dt.date, tuple[float, ...]]:
    return {d: tuple(float(rec[c][i]) for c in columns) for i, d in enumerate(rec["date"])}


class LegacyBody:
    def __init__(self, world: World) -> None:
        self.world = world

    @cached_property
    def _tables(self) -> dict[str, dict[dt.date, tuple[float, ...]]]:
        w = self.world
        temp = w.records("daily-sleep-temperature-derivations")
        return {
            "hrv": _by_date(
                w.records("daily-heart-rate-variability"), "avg_rmssd_ms", "deep_sleep_rmssd_ms"
            ),
            "spo2": _by_date(
                w.records("daily-oxygen-saturation"),
                "avg_percent",
                "lower_bound_percent",
                "upper_bound_percent",
            ),
            "br": _by_date(w.records("daily-respiratory-rate"), "breaths_per_minute"),
            "temp/skin": _by_date(temp, "nightly_celsius", "baseline_celsius"),
            "cardioscore": _by_date(w.records("daily-vo2-max"), "vo2_max"),
        }

    def summary(self, kind: str, dates: list[dt.date], ranged: bool, us: bool = False) -> Any:
        table = self._tables[kind]
        items = [_item(kind, d, table[d], us) for d in dates if d in table]
        items = [x for x in items if x is not None]
        if kind == "spo2":  # SpO2 alone answers a bare object (by date) or a bare array
            return items if ranged else (items[0] if items else {})
        key = {"hrv": "hrv", "br": "br", "temp/skin": "tempSkin", "cardioscore": "cardioScore"}
        return {key[kind]: items}

    def intraday(self, kind: str, dates: list[dt.date], ranged: bool) -> Any:
        """``{spo2|br}/date/…/all.json``: SpO2 readings of each night (a bare object by date, a
        bare array by range), or breathing rate per sleep stage."""
        if kind == "spo2":
            items = [self._spo2_night(d) for d in dates if d in self._spo2_minutes]
            return items if ranged else (items[0] if items else {})
        if kind == "br":
            return {"br": [self._br_night(d) for d in dates if d in self._br_stages]}
        raise KeyError(kind)

    @cached_property
    def _spo2_minutes(self) -> dict[dt.date, list[dict[str, Any]]]:
        rec = self.world.records("oxygen-saturation")
        out: dict[dt.date, list[dict[str, Any]]] = {}
        for s in self.world.main_sleeps:
            d = local(s.end_s, s.end_offset_s).date()
            lo, hi = np.searchsorted(rec["time"], [s.start_s, s.end_s])
            out[d] = [
                {"value": float(v), "minute": local(t, o).strftime("%Y-%m-%dT%H:%M:%S")}
                for t, o, v in zip(
                    rec["time"][lo:hi].tolist(),
                    rec["utc_offset_s"][lo:hi].tolist(),
                    rec["percent"][lo:hi].tolist(),
                    strict=True,
                )
            ]
        return {d: m for d, m in out.items() if m}

    def _spo2_night(self, d: dt.date) -> dict[str, Any]:
        return {"dateTime": d.isoformat(), "minutes": self._spo2_minutes[d]}

    @cached_property
    def _br_stages(self) -> dict[dt.date, dict[str, float]]:
        rec = self.world.records("respiratory-rate-sleep-summary")
        out = {}
        for i, (t, o) in enumerate(zip(rec["time"].tolist(), rec["utc_offset_s"].tolist(),
                                       strict=True)):  # fmt: skip
            out[local(t, o).date()] = {
                stage: float(rec[f"{stage}_breaths_per_minute"][i])
                for stage in ("deep", "rem", "full", "light")
            }
        return out

    def _br_night(self, d: dt.date) -> dict[str, Any]:
        rates = self._br_stages[d]
        value = {
            f"{stage}SleepSummary": {"breathingRate": -1 if math.isnan(r) else r}
            for stage, r in rates.items()
        }
        return {"value": value, "dateTime": d.isoformat()}

    @cached_property
    def _weigh_ins(self) -> list[tuple[int, int, float, float]]:
        """(instant, offset, kg, fat %) of each scale reading."""
        weight, fat = self.world.records("weight"), self.world.records("body-fat")
        return [
            (int(t), int(o), float(g) / 1000, float(p))
            for t, o, g, p in zip(
                weight["time"], weight["utc_offset_s"], weight["grams"], fat["percent"],
                strict=True,
            )
        ]  # fmt: skip

    def logs(self, kind: str, dates: list[dt.date], us: bool) -> dict[str, Any]:
        """``body/log/{weight|fat}`` items of ``dates``, oldest first."""
        wanted = set(dates)
        height_m = self.world.body[0] / 1000
        items = []
        for t, off, kg, fat in self._weigh_ins:
            when = local(t, off)
            if when.date() not in wanted:
                continue
            item: dict[str, Any] = {"date": when.date().isoformat()}
            if kind == "weight":
                item["bmi"] = round(kg / height_m**2, 2)
            item["fat"] = fat
            item["logId"] = (t + off) * 1000  # Fitbit's ids are the local time in ms
            item["source"] = "Aria"
            item["time"] = when.strftime("%H:%M:%S")
            if kind == "weight":
                item["weight"] = round(kg * LB_PER_KG, 1) if us else round(kg, 2)
            items.append(item)
        return {kind: items}


def _item(kind: str, d: dt.date, v: tuple[float, ...], us: bool) -> dict[str, Any] | None:
    day = d.isoformat()
    if kind == "hrv":
        value = {"dailyRmssd": round(v[0], 3)}
        if not math.isnan(v[1]):
            value["deepRmssd"] = round(v[1], 3)
        return {"value": value, "dateTime": day}
    if kind == "spo2":
        return {"dateTime": day, "value": {"avg": v[0], "min": v[1], "max": v[2]}}
    if kind == "br":
        return {"value": {"breathingRate": v[0]}, "dateTime": day}
    if kind == "temp/skin":
        if math.isnan(v[1]):
            return None  # no baseline yet: the app shows nothing for these first nights
        rel = (v[0] - v[1]) * (1.8 if us else 1.0)
        return {
            "dateTime": day,
            "value": {"nightlyRelative": round(rel, 3)},
            "logType": "dedicated_temp_sensor",
        }
    # Cardio fitness: without GPS runs the API gives a range string around the estimate.
    centre = round(v[0])
    return {"dateTime": day, "value": {"vo2Max": f"{centre - 2}-{centre + 2}"}}
