"""Roll-up values (spec §3.9) of every type that has them, over the reconciled stream.

Each function takes the type's roll-up source records and the row indices of one bucket and
returns the ``XxxRollupValue``. Sums are accumulated in row order (``np.bincount`` of one bin),
the same order ``World.records`` uses for the per-day rows of roll-up-only types, so the two are
bit-identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fitvault._time import format_duration
from fitvault.simulator.world._base import Records

Value = Callable[[Records, np.ndarray], dict[str, Any]]
ZONES = ("LIGHT", "MODERATE", "VIGOROUS", "PEAK")


def fsum(values: Any) -> float:
    """A float sum in row order (what np.bincount does within one bin)."""
    v = np.asarray(values, dtype=np.float64)
    return float(np.bincount(np.zeros(v.size, dtype=np.int64), weights=v, minlength=1)[0])


def isum(values: Any) -> str:
    return str(int(np.asarray(values, dtype=np.int64).sum()))


def _col(rec: Records, name: str, idx: np.ndarray) -> np.ndarray:
    col = rec[name]
    return col[idx] if isinstance(col, np.ndarray) else np.array([col[i] for i in idx.tolist()])


def _labels(rec: Records, name: str, idx: np.ndarray) -> list[Any]:
    return [rec[name][i] for i in idx.tolist()]


def _duration(rec: Records, idx: np.ndarray) -> np.ndarray:
    out: np.ndarray = _col(rec, "end_time", idx) - _col(rec, "start_time", idx)
    return out


def _grouped(
    rec: Records,
    idx: np.ndarray,
    label: str,
    order: tuple[str, ...],
    agg: Callable[[np.ndarray], Any],
) -> list[tuple[str, Any]]:
    labels = _labels(rec, label, idx)
    return [
        (name, agg(idx[[k for k, x in enumerate(labels) if x == name]]))
        for name in order
        if name in labels
    ]


def _stats(
    rec: Records, column: str, idx: np.ndarray, keys: tuple[str, str, str]
) -> dict[str, Any]:
    v = _col(rec, column, idx).astype(np.float64)
    return {keys[0]: float(v.mean()), keys[1]: float(v.min()), keys[2]: float(v.max())}


def _azm(rec: Records, idx: np.ndarray) -> dict[str, Any]:
    names = {"FAT_BURN": "sumInFatBurnHeartZone", "CARDIO": "sumInCardioHeartZone",
             "PEAK": "sumInPeakHeartZone"}  # fmt: skip
    got = dict(
        _grouped(rec, idx, "heart_rate_zone", tuple(names), lambda j: isum(_col(rec, "minutes", j)))
    )
    return {names[k]: got.get(k, "0") for k in names}


def _nutrition(rec: Records, idx: np.ndarray) -> dict[str, Any]:
    return {
        "energy": {"kcalSum": fsum(_col(rec, "energy_kcal", idx))},
        "energyFromFat": {"kcalSum": fsum(_col(rec, "energy_from_fat_kcal", idx))},
        "totalCarbohydrate": {"gramsSum": fsum(_col(rec, "carbohydrate_g", idx))},
        "totalFat": {"gramsSum": fsum(_col(rec, "fat_g", idx))},
    }


VALUES: dict[str, Value] = {
    "steps": lambda r, i: {"countSum": isum(_col(r, "count", i))},
    "distance": lambda r, i: {"millimetersSum": isum(_col(r, "distance_mm", i))},
    "floors": lambda r, i: {"countSum": isum(_col(r, "floors", i))},
    "altitude": lambda r, i: {"gainMillimetersSum": isum(_col(r, "gain_mm", i))},
    "heart-rate": lambda r, i: _stats(
        r, "bpm", i, ("beatsPerMinuteAvg", "beatsPerMinuteMin", "beatsPerMinuteMax")
    ),
    "total-calories": lambda r, i: {"kcalSum": fsum(_col(r, "kcal", i))},
    "active-energy-burned": lambda r, i: {"kcalSum": fsum(_col(r, "kcal", i))},
    "active-zone-minutes": _azm,
    "active-minutes": lambda r, i: {
        "activeMinutesRollupByActivityLevel": [
            {"activityLevel": k, "activeMinutesSum": v}
            for k, v in _grouped(
                r,
                i,
                "activity_level",
                ("LIGHT", "MODERATE", "VIGOROUS"),
                lambda j: isum(_col(r, "minutes", j)),
            )
        ]
    },
    "sedentary-period": lambda r, i: {"durationSum": format_duration(int(_duration(r, i).sum()))},
    "time-in-heart-rate-zone": lambda r, i: {
        "timeInHeartRateZones": [
            {"heartRateZone": k, "duration": v}
            for k, v in _grouped(
                r,
                i,
                "heart_rate_zone",
                ZONES,
                lambda j: format_duration(int(_duration(r, j).sum())),
            )
        ]
    },
    "calories-in-heart-rate-zone": lambda r, i: {
        "caloriesInHeartRateZones": [
            {"heartRateZone": k, "kcal": v}
            for k, v in _grouped(r, i, "heart_rate_zone", ZONES, lambda j: fsum(_col(r, "kcal", j)))
        ]
    },
    "weight": lambda r, i: {"weightGramsAvg": float(_col(r, "grams", i).mean())},
    "body-fat": lambda r, i: {"bodyFatPercentageAvg": float(_col(r, "percent", i).mean())},
    "run-vo2-max": lambda r, i: _stats(r, "run_vo2_max", i, ("rateAvg", "rateMin", "rateMax")),
    "swim-lengths-data": lambda r, i: {"strokeCountSum": isum(_col(r, "stroke_count", i))},
    "blood-glucose": lambda r, i: {
        "bloodGlucoseMilligramsPerDeciliterAvg": float(_col(r, "mg_dl", i).mean())
    },
    "core-body-temperature": lambda r, i: _stats(
        r, "celsius", i, ("temperatureCelsiusAvg", "temperatureCelsiusMin", "temperatureCelsiusMax")
    ),
    "hydration-log": lambda r, i: {
        "amountConsumed": {
            "millilitersSum": fsum(_col(r, "milliliters", i)),
            "userProvidedUnitLast": _labels(r, "user_unit", i)[-1],
        }
    },
    "nutrition-log": _nutrition,
}


def source_times(rec: Records) -> tuple[np.ndarray, np.ndarray]:
    """(instant, utc offset) each row is bucketed by: a sample's time or an interval's start."""
    if "time" in rec:
        return np.asarray(rec["time"], np.int64), np.asarray(rec["utc_offset_s"], np.int64)
    off = rec["utc_offset_s"] if "utc_offset_s" in rec else rec["start_utc_offset_s"]
    return np.asarray(rec["start_time"], np.int64), np.asarray(off, np.int64)
