"""The user's paired devices and IRN profile, as the v4 API describes them (spec §1.9).

The watch is a TRACKER and the Wi-Fi scale a SCALE; the phone that also counts steps reaches
the service through Health Connect and is not a paired device.
"""

from __future__ import annotations

from typing import Any

from fitvault.simulator.render import iso
from fitvault.simulator.world import World
from fitvault.simulator.world._base import SCALE, _stable_int

WATCH_FEATURES = (
    "STEPS", "DISTANCE", "CALORIES", "ELEVATION", "ACTIVE_ZONE_MINUTES", "SEDENTARY_TIME",
    "HEART_RATE", "SLEEP", "SMART_SLEEP", "SPO2", "GPS", "AUTORUN", "ECG", "INACTIVITY_ALERTS",
)  # fmt: skip


def paired_devices(world: World, now: float) -> list[dict[str, Any]]:
    """The watch (battery from the charging rhythm) and the scale, in a stable order."""
    user = world.person.health_user_id
    last_sync = min(int(now), world.cutoff_s)
    weigh = world.records("weight")["time"]
    scale_sync = int(weigh[-1]) if len(weigh) else world.cutoff_s
    level = 20 + int(_stable_int(world.seed, "battery", last_sync // 3600) % 80)
    status = "High" if level >= 60 else "Medium" if level >= 30 else "Low"
    return [
        {
            "name": f"users/{user}/pairedDevices/{_stable_int(world.seed, 'watch') % 10**10}",
            "deviceVersion": world.person.device,
            "deviceType": "TRACKER",
            "batteryStatus": status,
            "batteryLevel": level,
            "lastSyncTime": iso(last_sync),
            "features": list(WATCH_FEATURES),
        },
        {
            "name": f"users/{user}/pairedDevices/{_stable_int(world.seed, 'scale') % 10**10}",
            "deviceVersion": SCALE,
            "deviceType": "SCALE",
            "batteryStatus": "Medium",
            "batteryLevel": 55,
            "lastSyncTime": iso(scale_sync),
        },
    ]


def irn_profile(world: World) -> dict[str, Any]:
    """Enrolled and onboarded; updated at the last sync."""
    return {
        "name": f"users/{world.person.health_user_id}/irnProfile",
        "enrollmentStatus": True,
        "onboardingStatus": True,
        "updateTime": iso(world.cutoff_s),
    }
