"""The World as the legacy Fitbit Web API shows it: profile, devices, heart rate (intraday and
daily with resting HR and zones) and activity time series, in the user's local time.

Local ("floating") time is the world's UTC offset at each instant, the same offset the v4 face
puts in ``civilTime`` and Takeout in its sleep logs, so a reading has the same wall-clock time
through every door. With ``timezone=UTC`` (intraday only, as the real API offers) the offset is 0.
Every per-day number comes from the world's one-minute grid, which v4's roll-ups also sum, so
the same minute has the same heart rate and the same day the same steps. Facts: spec A5-A8, A12.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from fitvault.simulator import devices
from fitvault.simulator.legacy_wire import day_start, iso_local, local
from fitvault.simulator.world import World
from fitvault.simulator.world._base import SCALE, _epoch_day, _stable_int

KM_PER_MILE = 1.609344
FT_PER_M = 3.280839895
LB_PER_KG = 2.20462262185
ZONE_NAMES = ("Out of Range", "Fat Burn", "Cardio", "Peak")
PEAK_MAX = 220  # the top of "Peak" as the API reports it
DETAIL_SECONDS = {"1sec": 1, "1min": 60, "5min": 300, "15min": 900}
ACTIVITY_RESOURCES = (
    "steps", "distance", "calories", "caloriesBMR", "activityCalories", "floors", "elevation",
    "minutesSedentary", "minutesLightlyActive", "minutesFairlyActive", "minutesVeryActive",
)  # fmt: skip
INTRADAY_ACTIVITY = ("steps", "distance", "calories", "floors", "elevation")


def imperial(accept_language: str | None) -> bool:
    """``Accept-Language: en_US`` selects miles, feet and pounds; anything else is metric."""
    return (accept_language or "").strip().replace("-", "_").lower() == "en_us"


def number(x: float, digits: int = 5) -> float | int:
    """A JSON number as the API writes it: a float, except a plain ``0`` for nothing."""
    return round(float(x), digits) if x else 0


class LegacyWorld:
    """Per-day and per-minute tables of one World, built once and cached."""

    def __init__(self, world: World) -> None:
        self.world = world

    # --- profile and devices ---------------------------------------------------------------

    def zone_now(self, now: float) -> tuple[str, int]:
        t = int(now)
        zone = next(
            (z.zone for z in self.world.zones if z.start_s <= t < z.end_s), self.world.home_zone
        )
        return zone, self.world.offset_at(t)

    def today(self, now: float) -> dt.date:
        return local(int(now), self.zone_now(now)[1]).date()

    def profile(self, now: float, us_units: bool) -> dict[str, Any]:
        w, p = self.world, self.world.person
        zone, offset = self.zone_now(now)
        height_mm, grams = w.body
        unit = "en_US" if us_units else "METRIC"
        first = p.display_name.split()[0]
        return {
            "user": {
                "aboutMe": "",
                "age": p.age,
                "avatar": "https://static0.fitbit.com/images/profile/defaultProfile_100.png",
                "avatar150": "https://static0.fitbit.com/images/profile/defaultProfile_150.png",
                "averageDailySteps": self._average_steps(),
                "city": "",
                "country": "",
                "dateOfBirth": f"{w.start.year - p.age}-06-15",
                "displayName": first,
                "distanceUnit": unit,
                "encodedId": p.legacy_user_id,
                "firstName": first,
                "foodsLocale": "en_US",
                "fullName": p.display_name,
                "gender": "NA",
                "glucoseUnit": "METRIC",
                "height": round(height_mm / (25.4 if us_units else 10), 1),
                "heightUnit": unit,
                "lastName": p.display_name.split()[-1],
                "locale": "en_US",
                "memberSince": p.membership_start.isoformat(),
                "offsetFromUTCMillis": offset * 1000,
                "startDayOfWeek": "MONDAY",
                "strideLengthRunning": round(0.65 * height_mm / (25.4 if us_units else 10), 1),
                "strideLengthWalking": round(0.415 * height_mm / (25.4 if us_units else 10), 1),
                "timezone": zone,
                "waterUnit": "METRIC",
                "weight": round(grams / 1000 * (LB_PER_KG if us_units else 1), 1),
                "weightUnit": unit,
            }
        }

    def _average_steps(self) -> int:
        days = self.daily["steps"]
        return round(sum(days.values()) / max(1, len(days)))

    def devices(self, now: float) -> list[dict[str, Any]]:
        """The watch and the scale as ``devices.json`` lists them (battery as the v4 face says)."""
        watch, scale = devices.paired_devices(self.world, now)
        w = self.world
        out = []
        for dev, kind, name in ((watch, "TRACKER", w.person.device), (scale, "SCALE", SCALE)):
            t = int(dt.datetime.fromisoformat(dev["lastSyncTime"]).timestamp())
            ident = _stable_int(w.seed, "legacy-device", name) % 10**9
            out.append(
                {
                    "battery": dev["batteryStatus"],
                    "batteryLevel": dev["batteryLevel"],
                    "deviceVersion": name,
                    "features": [],
                    "id": str(ident),
                    "lastSyncTime": iso_local(t, w.offset_at(t)),
                    "mac": f"{ident % 16**12:012X}",
                    "type": kind,
                }
            )
        return out

    # --- per-day tables --------------------------------------------------------------------

    @cached_property
    def resting(self) -> dict[dt.date, int]:
        return {v.date: v.value for v in self.world.resting_heart_rate()}

    @cached_property
    def _zone_table(self) -> tuple[int, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """(first epoch day, minutes[day, zone], kcal[day, zone]) with the API's four zones."""
        g = self.world.grid
        if g.t.size == 0:
            return 0, np.zeros((0, 4), np.int64), np.zeros((0, 4))
        day0 = int(g.day.min())
        # Grid zones 0-1 (below MODERATE) are Fitbit's "Out of Range"; 2, 3, 4 its other three.
        cat = np.maximum(g.zone - 1, 0)
        key = (g.day - day0) * 4 + cat
        n = int(g.day.max()) - day0 + 1
        minutes = np.bincount(key, minlength=4 * n).reshape(n, 4).astype(np.int64)
        kcal_per_min = self.world.src_total_calories["kcal"]
        kcal = np.bincount(key, weights=kcal_per_min, minlength=4 * n).reshape(n, 4)
        return day0, minutes, np.asarray(kcal, dtype=np.float64)

    def heart_day(self, d: dt.date) -> dict[str, Any]:
        """One ``activities-heart`` entry: zones with minutes and calories, resting HR if any."""
        day0, minutes, kcal = self._zone_table
        row = _epoch_day(d) - day0
        have = 0 <= row < len(minutes)
        # Outside the world's dates the zones are those of its nearest day (they move slowly).
        lows = [
            lo for lo, _ in self.world.zone_bounds(min(max(d, self.world.start), self.world.last))
        ]
        edges = [30, lows[1], lows[2], lows[3], PEAK_MAX]
        zones = [
            {
                "caloriesOut": number(kcal[row, i]) if have else 0,
                "max": edges[i + 1],
                "min": edges[i],
                "minutes": int(minutes[row, i]) if have else 0,
                "name": ZONE_NAMES[i],
            }
            for i in range(4)
        ]
        value: dict[str, Any] = {"customHeartRateZones": [], "heartRateZones": zones}
        if d in self.resting:
            value["restingHeartRate"] = self.resting[d]
        return {"dateTime": d.isoformat(), "value": value}

    @cached_property
    def daily(self) -> dict[str, dict[int, float]]:
        """Each activity resource's total per local date (epoch day → value, metric units)."""
        w, g = self.world, self.world.grid
        days = g.day

        def per_day(values: npt.NDArray[Any], mask: npt.NDArray[np.bool_] | None = None) -> Any:
            d, v = (days, values) if mask is None else (days[mask], values[mask])
            uniq, inv = np.unique(d, return_inverse=True)
            sums = np.bincount(inv, weights=v.astype(np.float64), minlength=uniq.size)
            return dict(zip(uniq.tolist(), sums.tolist(), strict=True))

        ones = np.ones(g.t.size)
        floors, altitude = w.records("floors"), w.records("altitude")
        alt_day = (altitude["start_time"] + altitude["utc_offset_s"]) // 86_400
        return {
            "steps": per_day(g.steps),
            "distance": {k: v / 1e6 for k, v in per_day(w.grid_distance).items()},  # mm → km
            "calories": per_day(w.src_total_calories["kcal"]),
            "caloriesBMR": per_day(g.basal_kcal),
            "activityCalories": per_day(g.active_kcal),
            "floors": {
                _epoch_day(d): float(f)
                for d, f in zip(floors["date"], floors["floors"], strict=True)
            },
            "elevation": _sum_by(alt_day, altitude["gain_mm"] / 1000),  # mm → m
            "minutesSedentary": per_day(ones, (g.level == 0) & ~g.asleep),
            "minutesLightlyActive": per_day(ones, g.level == 1),
            "minutesFairlyActive": per_day(ones, g.level == 2),
            "minutesVeryActive": per_day(ones, g.level == 3),
        }

    def activity_value(self, resource: str, d: dt.date, us_units: bool) -> str:
        """The day's value as the API writes it: always a string."""
        v = self.daily[resource].get(_epoch_day(d), 0.0)
        if resource == "distance":
            v = v / KM_PER_MILE if us_units else v
            return str(round(v, 5)) if v else "0"
        if resource == "elevation":
            return str(round(v * FT_PER_M if us_units else v, 2)) if v else "0"
        return str(round(v))

    @cached_property
    def _azm(self) -> dict[int, dict[str, int]]:
        """Active zone minutes per local date and zone, weighted as the world weights them
        (cardio and peak minutes count twice)."""
        rec = self.world.records("active-zone-minutes")
        day = (rec["start_time"] + rec["utc_offset_s"]) // 86_400
        out: dict[int, dict[str, int]] = {}
        for d, zone, n in zip(day.tolist(), rec["heart_rate_zone"], rec["minutes"].tolist(),
                              strict=True):  # fmt: skip
            per = out.setdefault(d, {})
            per[zone] = per.get(zone, 0) + n
        return out

    def azm_day(self, d: dt.date) -> dict[str, Any] | None:
        """One ``activities-active-zone-minutes`` item; None on a day without any."""
        per = self._azm.get(_epoch_day(d))
        if not per:
            return None
        value = {"activeZoneMinutes": sum(per.values())}
        for zone, key in (("FAT_BURN", "fatBurn"), ("CARDIO", "cardio"), ("PEAK", "peak")):
            if per.get(zone):  # zero zones are left out, as the API does
                value[f"{key}ActiveZoneMinutes"] = per[zone]
        return {"value": value, "dateTime": d.isoformat()}

    def day_summary(self, d: dt.date, us_units: bool) -> dict[str, Any]:
        """``activities/date/{date}.json``: the day's totals, as the daily series give them."""

        def num(resource: str) -> float:
            return float(self.activity_value(resource, d, us_units))

        distance = num("distance")
        heart = self.heart_day(d)["value"]
        summary: dict[str, Any] = {
            "activeScore": -1,
            "activityCalories": int(num("activityCalories")),
            "caloriesBMR": int(num("caloriesBMR")),
            "caloriesOut": int(num("calories")),
            "distances": [
                {"activity": "total", "distance": distance},
                {"activity": "tracker", "distance": distance},
                {"activity": "loggedActivities", "distance": 0},
            ],
            "elevation": num("elevation"),
            "fairlyActiveMinutes": int(num("minutesFairlyActive")),
            "floors": int(num("floors")),
            "heartRateZones": heart["heartRateZones"],
            "lightlyActiveMinutes": int(num("minutesLightlyActive")),
            # The world keeps one figure of energy above the BMR; both fields report it.
            "marginalCalories": int(num("activityCalories")),
            "sedentaryMinutes": int(num("minutesSedentary")),
            "steps": int(num("steps")),
            "veryActiveMinutes": int(num("minutesVeryActive")),
        }
        if "restingHeartRate" in heart:
            summary["restingHeartRate"] = heart["restingHeartRate"]
        goals = {"activeMinutes": 30, "caloriesOut": 2400, "distance": 8.05, "steps": 10000}
        return {"activities": [], "goals": goals, "summary": summary}

    # --- intraday ---------------------------------------------------------------------------

    def heart_samples(self, a: int, b: int, utc: bool) -> tuple[npt.NDArray[np.int64], Any]:
        """(local seconds, bpm) of every sample whose local time is in [a, b), instant order."""
        hr = self.world.heart_rate()
        lo, hi = np.searchsorted(hr.t, [a - 15 * 3600, b + 15 * 3600])
        t, bpm = hr.t[lo:hi], hr.bpm[lo:hi]
        loc = t if utc else t + hr.offset_s[lo:hi].astype(np.int64)
        keep = (loc >= a) & (loc < b)
        return loc[keep], bpm[keep]

    def heart_dataset(self, a: int, b: int, detail: str, utc: bool) -> list[dict[str, Any]]:
        """``dataset`` items: every sample (``1sec``) or the rounded mean of each bucket."""
        loc, bpm = self.heart_samples(a, b, utc)
        if detail == "1sec":
            return [{"time": _hms(x), "value": int(v)} for x, v in zip(loc.tolist(), bpm.tolist(),
                                                                      strict=True)]  # fmt: skip
        step = DETAIL_SECONDS[detail]
        bucket = loc // step
        uniq, inv = np.unique(bucket, return_inverse=True)
        sums = np.bincount(inv, weights=bpm.astype(np.float64), minlength=uniq.size)
        counts = np.bincount(inv, minlength=uniq.size)
        # np.rint, as the world's minute grid averages a minute's samples.
        means = np.rint(sums / np.maximum(counts, 1)).astype(np.int64)
        return [{"time": _hms(u * step), "value": int(m)} for u, m in zip(uniq.tolist(),
                                                                         means.tolist(),
                                                                         strict=True)]  # fmt: skip

    def activity_dataset(
        self, resource: str, a: int, b: int, detail: str, utc: bool, us_units: bool
    ) -> list[dict[str, Any]]:
        """Every bucket of [a, b) on the local axis, zero-filled, as the API sends them."""
        w, g = self.world, self.world.grid
        step = DETAIL_SECONDS[detail]
        loc = g.t if utc else g.t + g.offset
        lo, hi = np.searchsorted(g.t, [a - 15 * 3600, b + 15 * 3600])
        idx = np.arange(lo, hi)
        idx = idx[(loc[idx] >= a) & (loc[idx] < b)]
        values = self._minute_values(resource, idx, us_units)
        n = (b - a) // step
        slot = (loc[idx] - a) // step
        sums = np.bincount(slot, weights=values, minlength=n)[:n]
        out: list[dict[str, Any]] = []
        for k in range(n):
            item: dict[str, Any] = {"time": _hms(a + k * step)}
            if resource == "calories":
                lvl = g.level[idx][slot == k]
                item["level"] = int(lvl.max()) if lvl.size else 0
                bmr = w.bmr_kcal_per_day() / 1440 * step / 60
                item["mets"] = round(10 * sums[k] / bmr) if sums[k] else 10
            v = float(sums[k])
            item["value"] = (
                round(v, 4) if resource in ("calories", "distance", "elevation") else (round(v))
            )
            out.append(item)
        return out

    def _minute_values(
        self, resource: str, idx: npt.NDArray[np.int64], us_units: bool
    ) -> npt.NDArray[np.float64]:
        w, g = self.world, self.world.grid
        if resource == "steps":
            return g.steps[idx].astype(np.float64)
        if resource == "calories":
            return np.asarray(w.src_total_calories["kcal"][idx], dtype=np.float64)
        if resource == "distance":
            km = w.grid_distance[idx] / 1e6
            return np.asarray(km / KM_PER_MILE if us_units else km, dtype=np.float64)
        per_minute = self._climb_minutes[resource]
        return per_minute[idx] * (FT_PER_M if us_units and resource == "elevation" else 1.0)

    @cached_property
    def _climb_minutes(self) -> dict[str, npt.NDArray[np.float64]]:
        """Floors and metres climbed per grid minute (zero where none)."""
        g, w = self.world.grid, self.world
        out = {}
        for name, rec, col, scale in (
            ("floors", w.src_floors, "floors", 1.0),
            ("elevation", w.records("altitude"), "gain_mm", 1e-3),
        ):
            arr = np.zeros(g.t.size)
            np.add.at(arr, np.searchsorted(g.t, rec["start_time"]), rec[col] * scale)
            out[name] = arr
        return out


def _sum_by(day: npt.NDArray[np.int64], values: Any) -> dict[int, float]:
    uniq, inv = np.unique(day, return_inverse=True)
    sums = np.bincount(inv, weights=np.asarray(values, dtype=np.float64), minlength=uniq.size)
    return dict(zip(uniq.tolist(), sums.tolist(), strict=True))


def _hms(local_s: int) -> str:
    s = int(local_s) % 86_400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def day_window(d: dt.date) -> tuple[int, int]:
    a = day_start(d)
    return a, a + 86_400
