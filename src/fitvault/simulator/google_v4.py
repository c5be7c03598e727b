"""The Google Health API v4 face of the simulator (an ASGI app built on Starlette).

Checks run in the service's order: bearer token (401) → per-user quota (429 with Retry-After)
→ user → data type (400) → scope (403) → capability (400) → parameters (400). Unknown paths
get Google's HTML 404 page, not JSON. Facts: ``shared/spec/google-health-v4.md`` §1, §6, §8.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
from starlette.requests import Request
from starlette.responses import Response

from fitvault import catalog
from fitvault._time import parse_duration_s, parse_rfc3339
from fitvault.catalog import DataType
from fitvault.simulator import devices, v4_data
from fitvault.simulator.filters import FilterError, parse
from fitvault.simulator.oauth import Grant, OAuthServer
from fitvault.simulator.responses import (
    html_404,
    invalid_argument,
    json_response,
    raw_json,
    status_error,
    unauthenticated,
)
from fitvault.simulator.v4_data import Collection
from fitvault.simulator.world import World

_POINTS = re.compile(
    r"^/v4/users/(?P<user>[^/]+)/dataTypes/(?P<dtype>[^/:]+)/dataPoints"
    r"(?::(?P<verb>[A-Za-z]+)|/(?P<id>[^/:]+))?$"
)
_USER = re.compile(
    r"^/v4/users/(?P<user>[^/]+)/(?P<res>identity|profile|settings|irnProfile|pairedDevices)"
    r"(?:/(?P<device>[^/:]+))?$"
)
FAMILIES = ("all-sources", "google-wearables", "google-sources", "self-sources")
HEART_RATE_DEFAULT_PAGE = 50  # measured: heart-rate pages without pageSize hold 50 points
DEFAULT_PAGE = 1440
ROLLUP_MAX_DAYS = 90  # when the catalog declares no maximum
# Measured: dailyRollUp answers "not supported" for these, whatever discovery says (spec §1.6).
NO_DAILY_ROLLUP = (
    "basal-energy-burned", "activity-level", "heart-rate-variability", "oxygen-saturation",
    "vo2-max", "daily-vo2-max", "daily-resting-heart-rate", "daily-heart-rate-zones",
    "daily-heart-rate-variability", "daily-oxygen-saturation", "daily-respiratory-rate",
    "daily-sleep-temperature-derivations", "exercise", "sleep", "electrocardiogram",
    "irregular-rhythm-notification",
)  # fmt: skip
# Types whose reconciled stream differs from the list stream (a second device's points).
RECONCILED_DIFFERS = ("steps",)


class ApiFailure(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass
class Quota:
    """A per-user sliding window: at most ``per_minute`` requests in any 60 seconds."""

    per_minute: int | None
    clock: Callable[[], float] = time.time
    seen: dict[str, collections.deque[float]] = field(default_factory=dict)

    def retry_after(self, user: str) -> int | None:
        """Record a request; None if allowed, else whole seconds until a slot frees up."""
        if self.per_minute is None:
            return None
        now = self.clock()
        window = self.seen.setdefault(user, collections.deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return max(1, math.ceil(window[0] + 60 - now))
        window.append(now)
        return None


@dataclass
class HealthApi:
    world: World
    oauth: OAuthServer
    quota: Quota
    account_linked: bool = True
    requests: int = 0
    _collections: dict[tuple[str, bool, bool], Collection] = field(default_factory=dict)

    def collection(
        self, dtype: DataType, reconciled: bool = False, wearables: bool = False
    ) -> Collection:
        """Cached per (type, reconciled stream?, google-wearables only?)."""
        key = (dtype.name, reconciled and dtype.name in RECONCILED_DIFFERS, wearables)
        if key not in self._collections:
            self._collections[key] = v4_data.collection(self.world, dtype, key[1], wearables)
        return self._collections[key]

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        points, user_res = _POINTS.match(path), _USER.match(path)
        if not points and not user_res:
            return html_404(path)
        try:
            grant = self._authenticate(request)
            self.requests += 1
            if points:
                return await self._points(request, grant, points.groupdict())
            assert user_res is not None
            if user_res["res"] in ("irnProfile", "pairedDevices"):
                return self._devices(request, grant, user_res.groupdict())
            if user_res["device"] is not None:
                return html_404(path)
            return self._user_resource(request, grant, user_res["user"], user_res["res"])
        except ApiFailure as failure:
            return failure.response

    # --- gates ----------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> Grant:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if not token:
            raise ApiFailure(unauthenticated(missing=True))
        grant = self.oauth.verify(token)
        if grant is None:
            raise ApiFailure(unauthenticated(missing=False))
        wait = self.quota.retry_after(grant.user)
        if wait is not None:
            raise ApiFailure(_quota_exceeded(wait, self.quota.per_minute or 0))
        return grant

    def _check_user(self, user: str, grant: Grant) -> None:
        if user not in ("me", grant.user):
            raise ApiFailure(
                status_error(403, "PERMISSION_DENIED", "The caller does not have permission")
            )
        if not self.account_linked:
            raise ApiFailure(
                status_error(
                    400,
                    "FAILED_PRECONDITION",
                    "The account is not linked to Google Health.",
                    reason="ACCOUNT_NOT_LINKED",
                    metadata={"redirect_uri": "https://fitbit.google.com/auth/signup"},
                )
            )

    @staticmethod
    def _require_scope(grant: Grant, family: str) -> None:
        prefix = catalog.SCOPE_PREFIX + family + "."
        if not any(s.startswith(prefix) for s in grant.scopes):
            raise ApiFailure(
                status_error(
                    403,
                    "PERMISSION_DENIED",
                    "Request had insufficient authentication scopes.",
                    reason="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    domain="googleapis.com",
                    metadata={
                        "method": "google.devicesandservices.health.v4",
                        "service": "health.googleapis.com",
                    },
                )
            )

    # --- users/... ------------------------------------------------------------------------

    def _user_resource(self, request: Request, grant: Grant, user: str, res: str) -> Response:
        if request.method != "GET":
            raise ApiFailure(
                invalid_argument("Your client has issued a malformed or illegal request.")
            )
        person = self.world.person
        if res == "identity":
            if user != "me":
                return html_404(request.url.path)
            self._check_user(user, grant)
            return json_response(
                {
                    "name": "users/me/identity",
                    "healthUserId": person.health_user_id,
                    "legacyUserId": person.legacy_user_id,
                }
            )
        self._check_user(user, grant)
        self._require_scope(grant, res)
        if res == "profile":
            return json_response(
                {
                    "name": f"users/{person.health_user_id}/profile",
                    "age": person.age,
                    "membershipStartDate": v4_data.date_dict(person.membership_start),
                }
            )
        now = int(self.oauth.clock())
        zone = next(
            (z.zone for z in self.world.zones if z.start_s <= now < z.end_s), person.home_zone
        )
        return json_response(
            {
                "name": f"users/{person.health_user_id}/settings",
                "timeZone": zone,
                "utcOffset": f"{self.world.offset_at(now)}s",
                "languageLocale": "en_US",
                "distanceUnit": "DISTANCE_UNIT_KILOMETERS",
                "weightUnit": "WEIGHT_UNIT_KILOGRAMS",
                "heightUnit": "HEIGHT_UNIT_CENTIMETERS",
                "temperatureUnit": "TEMPERATURE_UNIT_CELSIUS",
                "waterUnit": "WATER_UNIT_ML",
                "glucoseUnit": "GLUCOSE_UNIT_MG_DL",
                "swimUnit": "SWIM_UNIT_METERS",
                "autoStrideEnabled": True,
                "strideLengthWalkingType": "STRIDE_LENGTH_TYPE_AUTO",
                "strideLengthRunningType": "STRIDE_LENGTH_TYPE_AUTO",
            }
        )

    def _devices(self, request: Request, grant: Grant, m: dict[str, Any]) -> Response:
        """pairedDevices list/get (settings scope) and getIrnProfile (irn scope)."""
        if request.method != "GET" or (m["res"] == "irnProfile" and m["device"] is not None):
            raise ApiFailure(
                invalid_argument("Your client has issued a malformed or illegal request.")
            )
        self._check_user(m["user"], grant)
        if m["res"] == "irnProfile":
            self._require_scope(grant, "irn")
            return json_response(devices.irn_profile(self.world))
        self._require_scope(grant, "settings")
        found = devices.paired_devices(self.world, self.oauth.clock())
        if m["device"] is not None:
            for device in found:
                if device["name"].rsplit("/", 1)[1] == m["device"]:
                    return json_response(device)
            raise ApiFailure(_not_found())
        size = min(max(int(request.query_params.get("pageSize") or 5), 1), 100)
        bind = v4_data.binding("pairedDevices", size)
        start = 0
        if request.query_params.get("pageToken"):
            try:
                start = v4_data.read_token(request.query_params["pageToken"], bind)
            except ValueError as exc:
                raise ApiFailure(invalid_argument(f"Invalid page token: {exc}.")) from exc
        out: dict[str, Any] = {"pairedDevices": found[start : start + size]}
        if start + size < len(found):
            out["nextPageToken"] = v4_data.make_token(start + size, bind)
        return json_response(out)

    # --- dataPoints -----------------------------------------------------------------------

    async def _points(self, request: Request, grant: Grant, m: dict[str, Any]) -> Response:
        verb, point_id = m["verb"], m["id"]
        method = {None: "GET", "reconcile": "GET", "rollUp": "POST", "dailyRollUp": "POST"}
        if point_id is None and (verb not in method or request.method != method[verb]):
            raise ApiFailure(
                invalid_argument("Your client has issued a malformed or illegal request.")
            )
        self._check_user(m["user"], grant)
        dtype = catalog.DATA_TYPES.get(m["dtype"])
        if dtype is None:
            raise ApiFailure(
                invalid_argument(
                    "Invalid data type ID referenced in the parent data type collection: "
                    f"{m['dtype']}.",
                    reason="INVALID_PARENT_DATA_TYPE_COLLECTION",
                )
            )
        self._require_scope(grant, dtype.scope)
        if point_id is not None:
            return self._get(dtype, point_id)
        if verb in (None, "reconcile"):
            return self._list(request, dtype, reconciled=verb == "reconcile")
        body = await _json_body(request)
        if verb == "rollUp":
            return self._rollup(dtype, body)
        return self._daily_rollup(dtype, body)

    def _get(self, dtype: DataType, point_id: str) -> Response:
        if not dtype.identifiable:
            raise ApiFailure(invalid_argument("Request contains an invalid argument."))
        col = self.collection(dtype)
        if dtype.name == "sleep":
            for i, s in enumerate(self.world.sleep()):
                if str(s.id) == point_id:
                    return raw_json(col.render(np.array([i]), False)[0].encode())
        elif col.ids is not None and point_id in col.ids:
            return raw_json(col.render(np.array([col.ids[point_id]]), False)[0].encode())
        raise ApiFailure(_not_found())

    def _list(self, request: Request, dtype: DataType, *, reconciled: bool) -> Response:
        q = request.query_params
        if not dtype.list:
            raise ApiFailure(invalid_argument(f"List is not supported for data type {dtype.name}"))
        if reconciled and catalog.Op.RECONCILE not in dtype.ops:
            raise ApiFailure(invalid_argument("Request contains an invalid argument."))
        family = q.get("dataSourceFamily")
        if family is not None:
            _check_family(dtype, family, reconciled)
        page_size = _page_size(dtype, q.get("pageSize"))
        flt = None
        if q.get("filter"):
            try:
                flt = parse(q["filter"], dtype)
            except FilterError as err:
                raise ApiFailure(_filter_error(err)) from err
        bind = v4_data.binding(
            "list", reconciled, dtype.name, q.get("filter"), q.get("pageSize"), family
        )
        cursor = None
        if q.get("pageToken"):
            try:
                cursor = v4_data.read_token(q["pageToken"], bind)
            except ValueError as exc:
                raise ApiFailure(invalid_argument(f"Invalid page token: {exc}.")) from exc
        if family is not None and family.endswith("/self-sources"):
            return raw_json(b"{}")  # this client wrote nothing
        wearables = family is not None and family.endswith("/google-wearables")
        col = self.collection(dtype, reconciled, wearables)
        idx, nxt = v4_data.select(col, flt, page_size, cursor)
        token = v4_data.make_token(nxt, bind) if nxt is not None else None
        return raw_json(v4_data.page_body(col.render(idx, reconciled), token))

    def _rollup(self, dtype: DataType, body: dict[str, Any]) -> Response:
        if not dtype.rollup:
            raise ApiFailure(
                invalid_argument(f"Rollup is not supported for data type {dtype.name}")
            )
        try:
            rng = body["range"]
            start = parse_rfc3339(rng["startTime"])
            end = parse_rfc3339(rng["endTime"])
            window = float(parse_duration_s(body["windowSize"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiFailure(invalid_argument(f"Invalid rollUp request: {exc}")) from exc
        if window < 1 or end <= start:
            raise ApiFailure(invalid_argument("Invalid data point filter: INVALID_TIME_RANGE"))
        _check_range_days(dtype, catalog.Op.ROLLUP, (end - start).total_seconds() / 86_400)
        wearables = _wearables_only(body, dtype)
        points = v4_data.rollup(
            self.world, dtype, int(start.timestamp()), int(end.timestamp()), window, wearables
        )
        return _rollup_page(_in_family(points, body, dtype), body, dtype)

    def _daily_rollup(self, dtype: DataType, body: dict[str, Any]) -> Response:
        if not dtype.daily_rollup or dtype.name in NO_DAILY_ROLLUP:
            raise ApiFailure(
                invalid_argument(f"DailyRollup is not supported for data type {dtype.name}")
            )
        try:
            rng = body["range"]
            first = _civil_date(rng["start"])
            end = _civil_date(rng["end"])
            days = int(body.get("windowSizeDays", 1))
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiFailure(invalid_argument(f"Invalid dailyRollUp request: {exc}")) from exc
        if end <= first or days < 1:
            raise ApiFailure(invalid_argument("Invalid data point filter: INVALID_TIME_RANGE"))
        _check_range_days(dtype, catalog.Op.DAILY_ROLLUP, (end - first).days)
        wearables = _wearables_only(body, dtype)
        points = v4_data.daily_rollup(self.world, dtype, first, end, days, wearables)
        return _rollup_page(_in_family(points, body, dtype), body, dtype)


def _not_found() -> Response:
    return status_error(
        404,
        "NOT_FOUND",
        "The requested resource was not found. Please refer to the Google Health API "
        "developer documentation for guidance and support.",
        reason="RESOURCE_NOT_FOUND",
    )


def _quota_exceeded(wait: int, limit: int) -> Response:
    return status_error(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
        "per user' of service 'health.googleapis.com'.",
        reason="RATE_LIMIT_EXCEEDED",
        domain="googleapis.com",
        metadata={
            "quota_metric": "health.googleapis.com/read_requests",
            "quota_limit": "ReadRequestsPerMinutePerUser",
            "quota_limit_value": str(limit),
            "service": "health.googleapis.com",
        },
        headers={"Retry-After": str(wait)},
    )


def _filter_error(err: FilterError) -> Response:
    return invalid_argument(
        err.message,
        reason="INVALID_DATA_POINT_FILTER",
        metadata={"detailedReasons": ",".join(err.reasons)},
        violations=[("filter", v) for v in err.violations] or None,
    )


def _check_family(dtype: DataType, family: str, reconciled: bool) -> None:
    if dtype.name == "sleep" and not reconciled:
        raise ApiFailure(invalid_argument("Request contains an invalid argument."))
    prefix = "users/me/dataSourceFamilies/"
    if not family.startswith(prefix) or family[len(prefix) :] not in FAMILIES:
        raise ApiFailure(invalid_argument("Data family is missing or is not supported"))


def _wearables_only(body: dict[str, Any], dtype: DataType) -> bool:
    family = body.get("dataSourceFamily")
    if family is None:
        return False
    _check_family(dtype, str(family), reconciled=True)
    return str(family).endswith("/google-wearables")


def _in_family(points: list[Any], body: dict[str, Any], dtype: DataType) -> list[Any]:
    """Roll-ups honour ``dataSourceFamily`` like list does; this client wrote nothing."""
    family = body.get("dataSourceFamily")
    if family is None:
        return points
    _check_family(dtype, str(family), reconciled=True)
    return [] if str(family).endswith("/self-sources") else points


def _page_size(dtype: DataType, raw: str | None) -> int:
    if raw is None:
        return (
            HEART_RATE_DEFAULT_PAGE
            if dtype.name == "heart-rate"
            else min(DEFAULT_PAGE, dtype.max_page_size)
        )
    try:
        size = int(raw)
    except ValueError as exc:
        raise ApiFailure(
            invalid_argument(f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"")
        ) from exc
    if size < 0:
        raise ApiFailure(invalid_argument("page_size must not be negative"))
    if size == 0:
        size = min(DEFAULT_PAGE, dtype.max_page_size)
    return min(size, dtype.page_cap)


def _check_range_days(dtype: DataType, op: catalog.Op, days: float) -> None:
    limit = dtype.max_range_days(op) or ROLLUP_MAX_DAYS
    if days > limit:
        raise ApiFailure(
            invalid_argument(f"The range must not exceed {limit} days for data type {dtype.name}.")
        )


def _civil_date(value: dict[str, Any]) -> dt.date:
    d = value["date"]
    t = value.get("time") or {}
    if any(t.get(k) for k in ("hours", "minutes", "seconds", "nanos")):
        raise ValueError("start time must be aligned with the aggregation window")
    return dt.date(d["year"], d["month"], d["day"])


def _rollup_page(points: list[dict[str, Any]], body: dict[str, Any], dtype: DataType) -> Response:
    size = int(body.get("pageSize") or DEFAULT_PAGE)
    size = min(max(size, 1), 10_000)
    bind = v4_data.binding(
        "rollup", dtype.name, {k: v for k, v in body.items() if k != "pageToken"}
    )
    start = 0
    if body.get("pageToken"):
        try:
            start = v4_data.read_token(body["pageToken"], bind)
        except ValueError as exc:
            raise ApiFailure(invalid_argument(f"Invalid page token: {exc}.")) from exc
    chunk = points[start : start + size]
    out: dict[str, Any] = {}
    if chunk:
        out["rollupDataPoints"] = chunk
    if start + size < len(points):
        out["nextPageToken"] = v4_data.make_token(start + size, bind)
    return json_response(out)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = msgspec.json.decode(raw) if raw else {}
    except msgspec.DecodeError as exc:
        message = "Invalid JSON payload received."
        if re.search(rb"[:\[,]\s*0\d", raw):
            message += " Octal/hex numbers are not valid JSON values."
        raise ApiFailure(invalid_argument(f"{message} {exc}")) from exc
    if not isinstance(body, dict):
        raise ApiFailure(invalid_argument("Invalid JSON payload received. Expected an object."))
    return body
