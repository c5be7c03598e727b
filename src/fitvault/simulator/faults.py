"""What goes wrong, and how often: the fault classes the simulator can inject, a compact SPEC
string to choose them (``429=0.02,503=0.01,reset=0.005,seed=3``) and the seeded dice.

The dice are keyed by the request itself (method, path, query, body) and how many times that
same request was seen, not by arrival order: concurrent walks interleave differently from run
to run, yet the same seed injects the same faults into the same requests. A retry of a faulted
request rolls again, and no request is faulted more than ``streak`` times in a row, so a client
that retries as it should always gets through. The ASGI side lives in ``fault_inject``.
"""

from __future__ import annotations

import collections
import hashlib
from dataclasses import dataclass, field
from enum import Enum

# Fault classes by where they can happen. Order matters: it is the order of the dice's bins.
API_FAULTS = (
    "429",  # rate limited, with Retry-After
    "429-bare",  # rate limited, no Retry-After: the client picks its own backoff
    "500",
    "502",  # a front end's HTML error page, not the API's JSON
    "503",
    "504",
    "reset",  # the connection drops before the body: nothing usable arrives
    "timeout",  # no answer within the client's read timeout
    "truncate",  # the body stops half-way and the connection drops
    "malformed",  # a 200 whose JSON body is cut short (its length says it is complete)
    "401",  # the access token is revoked mid-run: the client must refresh and repeat
)
PAGE_FAULTS = (
    "empty-page",  # no points, but a nextPageToken: the walk must go on
    "short-page",  # fewer points than asked for, and a token for the rest
)
TOKEN_FAULTS = (
    "invalid-grant",  # the refresh token is refused (and stays refused): sign in again
    "token-down",  # the token endpoint answers 503
)
ALL_FAULTS = API_FAULTS + PAGE_FAULTS + TOKEN_FAULTS


class Endpoint(Enum):
    """Which faults a request can meet."""

    API = "api"  # any data or account request, either face
    PAGED = "paged"  # a v4 dataPoints list: the API faults and the page faults
    ROLLUP = "rollup"  # a v4 rollUp / dailyRollUp POST: the same, its page token in the body
    TOKEN = "token"  # noqa: S105 (a refresh_token grant at either token endpoint)
    OTHER = "other"  # sign-in pages, revocation: never faulted

    @property
    def faults(self) -> tuple[str, ...]:
        return {
            Endpoint.API: API_FAULTS,
            Endpoint.PAGED: API_FAULTS + PAGE_FAULTS,
            Endpoint.ROLLUP: API_FAULTS + PAGE_FAULTS,
            Endpoint.TOKEN: TOKEN_FAULTS,
            Endpoint.OTHER: (),
        }[self]


@dataclass(frozen=True)
class FaultSpec:
    """Rates (0..1 per request of the kind the fault applies to) and the knobs of the dice.

    ``stall`` is for a real socket: a ``timeout`` fault then holds the answer that many seconds
    (longer than the client's read timeout). Left None (in-process, where httpx's
    ASGITransport has no timeouts), the app raises the ``ReadTimeout`` the client would get.

    ``skew`` (seconds, either sign) sets the server's clock that far ahead of the client's:
    tokens are minted and checked, quotas counted, "today" and the ``Date`` header of every
    answer are on the server's clock. A skew alone (no rates) is a valid spec.
    """

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    streak: int = 2  # at most this many faults in a row for one request
    retry_after: int = 1  # seconds, in the 429's Retry-After header
    stall: float | None = None
    skew: float = 0.0

    def __post_init__(self) -> None:
        for name, rate in self.rates.items():
            if name not in ALL_FAULTS:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(ALL_FAULTS)}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"the rate of {name} must be between 0 and 1, not {rate}")
        for where in Endpoint:
            total = sum(self.rates.get(f, 0.0) for f in where.faults)
            if total > 1.0:
                raise ValueError(f"the {where.value} faults' rates add up to {total:g}, over 1")
        if self.streak < 1 or self.retry_after < 0 or (self.stall is not None and self.stall <= 0):
            raise ValueError("streak must be ≥ 1, retry_after ≥ 0 and stall > 0")

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """``NAME=RATE`` pairs and the ``seed``/``streak``/``retry_after``/``stall``/``skew``
        knobs, comma-separated; ValueError with a one-line reason when anything is off."""
        rates: dict[str, float] = {}
        knobs: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, eq, value = item.partition("=")
            name = name.strip()
            if not eq or not value.strip():
                raise ValueError(f"{item!r} is not NAME=VALUE (e.g. 503=0.01)")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"{item!r}: {value.strip()!r} is not a number") from None
            if name in ("seed", "streak", "retry_after", "stall", "skew"):
                knobs[name] = number
            elif name in rates:
                raise ValueError(f"{name} is given twice")
            else:
                rates[name] = number
        if not rates and not knobs.get("skew"):
            raise ValueError(f"no fault named; known: {', '.join(ALL_FAULTS)}")
        for name in ("seed", "streak", "retry_after"):
            if name in knobs and knobs[name] != int(knobs[name]):
                raise ValueError(f"{name} must be a whole number")
        return cls(
            rates=rates,
            seed=int(knobs.get("seed", 0)),
            streak=int(knobs.get("streak", 2)),
            retry_after=int(knobs.get("retry_after", 1)),
            stall=knobs.get("stall"),
            skew=knobs.get("skew", 0.0),
        )


def uniform(*parts: object) -> float:
    """A deterministic number in [0, 1) from ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class Dice:
    """Decides, per request, which fault (if any) it meets; counts what it injected."""

    spec: FaultSpec
    injected: collections.Counter[str] = field(default_factory=collections.Counter)
    requests: collections.Counter[str] = field(default_factory=collections.Counter)
    rolled: collections.Counter[str] = field(default_factory=collections.Counter)  # "where:fault"
    _seen: collections.Counter[str] = field(default_factory=collections.Counter)
    _streak: collections.Counter[str] = field(default_factory=collections.Counter)
    _last: dict[str, str | None] = field(default_factory=dict)

    def roll(self, where: Endpoint, key: str) -> str | None:
        """The fault for this arrival of the request ``key``, or None."""
        self.requests[where.value] += 1
        n = self._seen[key]
        self._seen[key] += 1
        if self._streak[key] >= self.spec.streak:
            self._streak[key] = 0
            return None
        u, edge = uniform(self.spec.seed, key, n), 0.0
        fault = None
        for name in where.faults:
            edge += self.spec.rates.get(name, 0.0)
            if u < edge:
                fault = name
                break
        if fault == "401" and self._last.get(key) == "401":
            fault = None  # the token refreshed after a 401 is new: it does not expire at once
        self._last[key] = fault
        if fault:
            self.rolled[f"{where.value}:{fault}"] += 1
        self._streak[key] = self._streak[key] + 1 if fault else 0
        return fault

    def after_revoked(self, where: Endpoint, key: str) -> None:
        """``key`` arrived with a token an injected 401 revoked: no fault for it (the app answers
        401), and its repeat is treated as the repeat after an injected 401."""
        self.requests[where.value] += 1
        self._last[key] = "401"

    def count(self, fault: str) -> None:
        """Record a fault that was actually injected (some cannot apply to every answer)."""
        self.injected[fault] += 1

    @property
    def total(self) -> int:
        return sum(self.injected.values())
