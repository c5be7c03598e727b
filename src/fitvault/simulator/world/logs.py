"""What the person logs in the app: drinks and meals, each a short session, entered by hand."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import numpy as np

from fitvault.simulator.world._base import _ONE, PHONE, Records, _at, _source
from fitvault.simulator.world.exercise import Exercise

LOG_SECONDS = 60  # a log's interval: logged at an instant, stored as one minute
_DRINKS = ((250.0, "MILLILITER"), (330.0, "MILLILITER"), (500.0, "MILLILITER"),
           (236.6, "CUP_US"), (354.9, "FLUID_OUNCE_US"))  # fmt: skip
# name, meal, kcal, fat g, carbs g, serving, unit, {nutrient: grams}
_FOODS: tuple[tuple[str, str, float, float, float, float, str, dict[str, float]], ...] = (
    ("Oatmeal with banana", "BREAKFAST", 310.0, 6.0, 56.0, 1.0, "bowl",
     {"PROTEIN": 9.0, "SUGAR": 15.0, "DIETARY_FIBER": 7.0, "SODIUM": 0.1}),
    ("Greek yogurt", "BREAKFAST", 150.0, 4.0, 8.0, 170.0, "gram",
     {"PROTEIN": 17.0, "SUGAR": 7.0, "CALCIUM": 0.2}),
    ("Chicken salad", "LUNCH", 420.0, 18.0, 22.0, 1.0, "plate",
     {"PROTEIN": 35.0, "SUGAR": 6.0, "DIETARY_FIBER": 5.0, "SODIUM": 0.8}),
    ("Lentil soup", "LUNCH", 330.0, 7.0, 48.0, 1.0, "bowl",
     {"PROTEIN": 18.0, "DIETARY_FIBER": 15.0, "IRON": 0.006, "SODIUM": 0.9}),
    ("Salmon with rice", "DINNER", 640.0, 22.0, 62.0, 1.0, "plate",
     {"PROTEIN": 40.0, "SATURATED_FAT": 4.0, "SODIUM": 0.6}),
    ("Pasta bolognese", "DINNER", 710.0, 24.0, 85.0, 1.0, "plate",
     {"PROTEIN": 32.0, "SUGAR": 11.0, "SATURATED_FAT": 8.0, "SODIUM": 1.1}),
    ("Apple", "SNACK", 95.0, 0.3, 25.0, 1.0, "medium",
     {"SUGAR": 19.0, "DIETARY_FIBER": 4.4, "VITAMIN_C": 0.008}),
    ("Coffee with milk", "SNACK", 40.0, 1.5, 4.0, 1.0, "cup",
     {"PROTEIN": 2.0, "CAFFEINE": 0.095, "CALCIUM": 0.07}),
)  # fmt: skip
_MEAL_MINUTE = {"BREAKFAST": 450, "LUNCH": 750, "DINNER": 1140, "SNACK": 960}


class Logs(Exercise):
    def _log_rec(self, rows: list[dict[str, Any]]) -> Records:
        rows.sort(key=lambda r: r["start_time"])
        cols = list(rows[0]) if rows else ["start_time"]
        out: Records = {k: [r[k] for r in rows] for k in cols}
        start = np.array(out.pop("start_time", []), dtype=np.int64)
        off = self.offsets_at(start).astype(np.int64)
        return {
            "start_time": start,
            "end_time": start + LOG_SECONDS,
            "start_utc_offset_s": off,
            "end_utc_offset_s": self.offsets_at(start + LOG_SECONDS).astype(np.int64),
            **out,
            **_source(start.size, PHONE),
        }

    def _in_day(self, d: dt.date, t: int) -> bool:
        wake, bed = self._nights[d].end_s, self._nights[d + _ONE].start_s
        return wake < t < bed and self._t_start <= t < self.cutoff_s - LOG_SECONDS

    @cached_property
    def rec_hydration_log(self) -> Records:
        rows = []
        for d in self.civil_dates():
            rng = self._rng(d.toordinal(), "drinks")
            wake = self._nights[d].end_s
            for k in range(int(rng.integers(2, 6))):
                t = wake + 1800 + k * 3 * 3600 + int(rng.integers(0, 5400))
                ml, unit = _DRINKS[int(rng.integers(len(_DRINKS)))]
                if self._in_day(d, t):
                    rows.append({"start_time": t, "milliliters": ml, "user_unit": unit})
        return self._log_rec(rows)

    @cached_property
    def _meals(self) -> list[dict[str, Any]]:
        rows = []
        for d in self.civil_dates():
            rng = self._rng(d.toordinal(), "meals")
            for meal in ("BREAKFAST", "LUNCH", "DINNER", "SNACK"):
                if meal == "SNACK" and rng.random() < 0.5:
                    continue
                choices = [f for f in _FOODS if f[1] == meal]
                food = choices[int(rng.integers(len(choices)))]
                t = self._nights[d].end_s if meal == "BREAKFAST" else 0
                t = max(
                    t + 1200,
                    _at(d, _MEAL_MINUTE[meal] + int(rng.integers(0, 60)), self._zone_evening(d)),
                )
                if self._in_day(d, t):
                    rows.append({"start_time": t, "food": food})
        return rows

    @cached_property
    def rec_nutrition_log(self) -> Records:
        rows = []
        for m in self._meals:
            name, meal, kcal, fat, carbs, amount, unit, _ = m["food"]
            rows.append(
                {
                    "start_time": m["start_time"],
                    "food_display_name": name,
                    "meal_type": meal,
                    "energy_kcal": kcal,
                    "energy_from_fat_kcal": round(fat * 9, 1),
                    "carbohydrate_g": carbs,
                    "fat_g": fat,
                    "serving_amount": amount,
                    "serving_unit": unit,
                }
            )
        return self._log_rec(rows)

    @cached_property
    def child_nutrition_log_nutrients(self) -> Records:
        rows = sorted((m["start_time"], n, g) for m in self._meals for n, g in m["food"][7].items())
        return {
            "session_start": np.array([r[0] for r in rows], dtype=np.int64),
            "nutrient": [r[1] for r in rows],
            "grams": np.array([r[2] for r in rows], dtype=np.float64),
        }
