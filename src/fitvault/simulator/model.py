"""The synthetic person's data as plain arrays and records, independent of any API face.

Every API face (Google Health v4 now; the legacy Fitbit Web API and Takeout archives later)
renders from these, so the same reading looks the same through every door. Times are integer
seconds since the Unix epoch (UTC); offsets are integer seconds east of UTC at that instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I16 = npt.NDArray[np.int16]


@dataclass(frozen=True)
class Person:
    health_user_id: str  # stable opaque id used in resource names
    legacy_user_id: str  # old Fitbit encoded id, e.g. "7QW2KD"
    display_name: str
    age: int
    membership_start: dt.date
    home_zone: str  # IANA name
    device: str  # e.g. "Pixel Watch 3"


@dataclass(frozen=True)
class ZoneSpan:
    """The person's time zone over [start_s, end_s)."""

    start_s: int
    end_s: int
    zone: str


@dataclass(frozen=True)
class HeartRateSeries:
    """Samples at strictly increasing whole seconds; every few seconds while worn."""

    t: I64
    bpm: I16
    offset_s: I32


@dataclass(frozen=True)
class StepsSeries:
    """One-minute intervals [start, start + 60) with a positive step count."""

    start: I64
    count: I32
    offset_s: I32


@dataclass(frozen=True)
class SleepStage:
    start_s: int
    end_s: int
    stage: str  # AWAKE | LIGHT | DEEP | REM (STAGES) or AWAKE | RESTLESS | ASLEEP (CLASSIC)


@dataclass(frozen=True)
class SleepSession:
    id: int  # stable 19-digit id, the last segment of the resource name
    start_s: int
    end_s: int
    start_offset_s: int
    end_offset_s: int
    sleep_type: str  # STAGES | CLASSIC
    stages: tuple[SleepStage, ...]  # contiguous, non-overlapping, cover [start_s, end_s)
    main_sleep: bool
    nap: bool
    created_s: int  # when the service first stored it (a little after end_s)
    updated_s: int

    @property
    def minutes_by_stage(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for st in self.stages:
            out[st.stage] = out.get(st.stage, 0) + (st.end_s - st.start_s)
        return {k: v // 60 for k, v in out.items()}


@dataclass(frozen=True)
class DailyValue:
    date: dt.date
    value: int
