"""The legacy Fitbit Web API face of the simulator: ``/1/user/-/…`` and ``/1.2/user/-/…``.

Checks run in this order: the 410 switch (every legacy path, as the real host since 2026-11-02)
→ bearer token (400 without one, 401 ``invalid_token`` / ``expired_token``) → the hourly rate
limit (429; ``Fitbit-Rate-Limit-*`` headers on every authenticated response) → path (404
``not_found``) → user → scope (403 ``insufficient_scope``) → parameters (400 ``validation``).
Facts: ``shared/spec/fitbit-legacy-and-takeout.md`` part A.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fitvault.simulator.legacy_body import LegacyBody
from fitvault.simulator.legacy_oauth import LegacyGrant, LegacyOAuth
from fitvault.simulator.legacy_render import (
    ACTIVITY_RESOURCES,
    DETAIL_SECONDS,
    INTRADAY_ACTIVITY,
    LegacyWorld,
    imperial,
)
from fitvault.simulator.legacy_sleep import LegacySleep
from fitvault.simulator.legacy_wire import (
    MAX_INTRADAY_S,
    HourlyQuota,
    LegacyFailure,
    Switches,
    date_range,
    day_start,
    error,
    fail,
    gone,
    not_found,
    parse_date,
    period_range,
    too_many_requests,
)
from fitvault.simulator.responses import json_response
from fitvault.simulator.world import World

# The API answers every resource under each path version (tutorials that set python-fitbit's
# API_VERSION = 1.2 for sleep fetch heart rate through /1.2/ too); only sleep differs by version.
_U = r"^/(?P<ver>1|1\.1|1\.2)/user/(?P<user>[^/]+)/"
_DATES = r"/date/(?P<a>[^/]+?)(?:/(?P<b>[^/]+?))?"
_ALL = r"/date/(?P<a>[^/]+?)(?:/(?P<b>[^/]+?))?/all\.json$"
_INTRA = r"/date/(?P<a>[^/]+)/(?P<b>[^/]+)/(?P<detail>[^/.]+)"
_WINDOW = r"(?:/time/(?P<t0>\d\d:\d\d)/(?P<t1>\d\d:\d\d))?\.json$"
HEART_PERIODS = ("1d", "7d", "30d", "1w", "1m")
ACTIVITY_PERIODS = ("1d", "7d", "30d", "1w", "1m", "3m", "6m", "1y", "max")
WEIGHT_PERIODS = ("1d", "7d", "30d", "1w", "1m")
Handler = Callable[["LegacyApi", Request, LegacyGrant, dict[str, Any]], Any]


@dataclass
class LegacyApi:
    """Serves one World; ``switches`` flips 410 / no-1sec at run time, ``quota`` is the hourly
    budget on the simulator's (injectable) clock, ``requests`` counts the answered ones."""

    world: World
    oauth: LegacyOAuth
    quota: HourlyQuota
    switches: Switches = field(default_factory=Switches)
    requests: int = 0

    @cached_property
    def view(self) -> LegacyWorld:
        return LegacyWorld(self.world)

    @cached_property
    def sleep(self) -> LegacySleep:
        return LegacySleep(self.world)

    @cached_property
    def body(self) -> LegacyBody:
        return LegacyBody(self.world)

    def now(self) -> float:
        return self.oauth.clock()

    async def handle(self, request: Request) -> Response:
        if self.switches.gone:
            return gone()
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return error(400, "invalid_request", "Authorization header required.")
        grant = self.oauth.check_access(header[7:].strip())
        if not isinstance(grant, LegacyGrant):
            return grant
        allowed, headers = self.quota.take(grant.client_id, grant.user)
        if not allowed:
            return too_many_requests(headers)
        self.requests += 1
        try:
            response = self._route(request, grant)
        except LegacyFailure as failure:
            response = failure.response
        response.headers.update(headers)
        return response

    def _route(self, request: Request, grant: LegacyGrant) -> Response:
        path = request.url.path
        for pattern, scope, handler in ROUTES:
            m = pattern.match(path)
            if m is None:
                continue
            if request.method != "GET":
                raise fail(405, "method_not_allowed", f"{request.method} is not allowed here.")
            groups = m.groupdict()
            if groups.get("user") not in ("-", grant.user):
                raise fail(
                    403,
                    "insufficient_permissions",
                    "The caller does not have permission to access this user's data.",
                )
            if scope not in grant.scopes:
                raise fail(
                    403,
                    "insufficient_scope",
                    f"This application does not have permission to access {scope} data. Visit "
                    "https://dev.fitbit.com/docs/oauth2 to learn more about using OAuth 2.0 "
                    "with Fitbit.",
                )
            body = handler(self, request, grant, groups)
            return json_response(body)
        raise not_found()

    # --- helpers ----------------------------------------------------------------------------

    def today(self) -> dt.date:
        return self.view.today(self.now())

    def date(self, text: str, field_name: str = "date") -> dt.date:
        return parse_date(text, self.today(), field_name)

    def dates(
        self, a: str, b: str | None, limit_key: str, periods: tuple[str, ...] = ()
    ) -> list[dt.date]:
        """The dates of ``{date}``, ``{date}/{period}`` or ``{start}/{end}``."""
        base = self.date(a, "startDate" if b else "date")
        if b is None:
            return [base]
        if periods and not re.fullmatch(r"\d{4}-\d\d-\d\d|today", b):
            return period_range(base, b, periods, self.world.person.membership_start)
        return date_range(base, self.date(b, "endDate"), limit_key)


def _us(request: Request) -> bool:
    return imperial(request.headers.get("accept-language"))


# --- handlers ----------------------------------------------------------------------------------


def _profile(api: LegacyApi, request: Request, _g: LegacyGrant, _m: dict[str, Any]) -> Any:
    return api.view.profile(api.now(), _us(request))


def _devices(api: LegacyApi, _r: Request, _g: LegacyGrant, _m: dict[str, Any]) -> Any:
    return api.view.devices(api.now())


def _heart_series(api: LegacyApi, _r: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    dates = api.dates(m["a"], m["b"], "heart", HEART_PERIODS)
    return {"activities-heart": [api.view.heart_day(d) for d in dates]}


def _window(api: LegacyApi, m: dict[str, Any]) -> tuple[int, int, list[dt.date]]:
    """[a, b) on the local axis of an intraday request (24 hours at most) and its dates."""
    first = api.date(m["a"])
    last = first if m["b"] == "1d" else api.date(m["b"], "endDate")
    t0, t1 = m.get("t0"), m.get("t1")
    a = day_start(first) + (_minutes(t0) * 60 if t0 else 0)
    b = day_start(last) + (_minutes(t1) * 60 + 60 if t1 else 86_400)
    if b <= a or b - a > MAX_INTRADAY_S + 60:
        raise fail(
            400, "validation", "The time range must be positive and not exceed 24 hours.", "endTime"
        )
    return a, b, [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _minutes(hhmm: str) -> int:
    h, mm = int(hhmm[:2]), int(hhmm[3:])
    if h > 23 or mm > 59:
        raise fail(400, "validation", f"Invalid time: {hhmm}. Time format should be HH:mm.")
    return h * 60 + mm


def _check_detail(detail: str, allowed: tuple[str, ...]) -> None:
    if detail not in allowed:
        raise fail(
            400,
            "validation",
            f"Invalid detail-level: {detail}. Supported values: {', '.join(allowed)}.",
            "detail-level",
        )


def _heart_intraday(api: LegacyApi, request: Request, g: LegacyGrant, m: dict[str, Any]) -> Any:
    detail = m["detail"]
    _check_detail(detail, tuple(DETAIL_SECONDS))
    if detail == "1sec" and api.switches.denies_1sec(g.client_id):
        raise fail(
            403,
            "insufficient_permissions",
            "Intraday data at 1-second resolution is not available for this application. "
            "Use detail-level 1min, or apply for intraday access.",
        )
    a, b, dates = _window(api, m)
    utc = request.query_params.get("timezone") == "UTC"
    interval = DETAIL_SECONDS[detail]
    return {
        "activities-heart": [api.view.heart_day(d) for d in dates],
        "activities-heart-intraday": {
            "dataset": api.view.heart_dataset(a, b, detail, utc),
            "datasetInterval": 1 if interval == 1 else interval // 60,
            "datasetType": "second" if interval == 1 else "minute",
        },
    }


def _activity_series(api: LegacyApi, request: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    res = m["res"]
    if res not in ACTIVITY_RESOURCES:
        raise not_found()
    key = "activityCalories" if res == "activityCalories" else "activities"
    dates = api.dates(m["a"], m["b"], key, ACTIVITY_PERIODS)
    us = _us(request)
    series = [{"dateTime": d.isoformat(), "value": api.view.activity_value(res, d, us)}
              for d in dates]  # fmt: skip
    return {f"activities-{'tracker-' if m['tracker'] else ''}{res}": series}


def _azm_series(api: LegacyApi, _r: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    dates = api.dates(m["a"], m["b"], "activities", ACTIVITY_PERIODS)
    items = [api.view.azm_day(d) for d in dates]
    return {"activities-active-zone-minutes": [x for x in items if x is not None]}


def _activity_intraday(api: LegacyApi, request: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    res = m["res"]
    if res not in INTRADAY_ACTIVITY:
        raise not_found()
    _check_detail(m["detail"], ("1min", "5min", "15min"))
    a, b, dates = _window(api, m)
    us, utc = _us(request), request.query_params.get("timezone") == "UTC"
    step = DETAIL_SECONDS[m["detail"]]
    return {
        f"activities-{res}": [
            {"dateTime": d.isoformat(), "value": api.view.activity_value(res, d, us)} for d in dates
        ],
        f"activities-{res}-intraday": {
            "dataset": api.view.activity_dataset(res, a, b, m["detail"], utc, us),
            "datasetInterval": step // 60,
            "datasetType": "minute",
        },
    }


def _day_summary(api: LegacyApi, request: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    return api.view.day_summary(api.date(m["a"]), _us(request))


def _sleep(api: LegacyApi, _r: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    if m["ver"] != "1.2":
        if m["b"] is not None:
            raise not_found()  # v1 has no range form
        return api.sleep.day_v1(api.date(m["a"]))
    if m["b"] is None:
        return api.sleep.day(api.date(m["a"]))
    dates = api.dates(m["a"], m["b"], "sleep")
    # The range form lists the newest night first and has no top-level summary.
    return {"sleep": api.sleep.logs(dates)[::-1]}


def _sleep_list(api: LegacyApi, request: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    """``sleep/list.json``: logs before (newest first) or after (oldest first) a date, paged by
    offset and limit (<= 100), with the ``pagination`` object and its next/previous URLs."""
    q = request.query_params
    before, after = q.get("beforeDate"), q.get("afterDate")
    if (before is None) == (after is None):
        raise fail(400, "validation", "Either beforeDate or afterDate must be specified.")
    sort = q.get("sort")
    if sort != ("desc" if before else "asc"):
        raise fail(
            400,
            "validation",
            "sort must be desc with beforeDate and asc with afterDate.",
            "sort",
        )
    try:
        limit, offset = int(q.get("limit", "")), int(q.get("offset", "0"))
    except ValueError:
        raise fail(400, "validation", "limit and offset must be integers.", "limit") from None
    if not 0 < limit <= 100 or offset < 0:
        raise fail(400, "validation", "limit must be between 1 and 100.", "limit")
    bound = api.date(before or after or "", "beforeDate" if before else "afterDate")
    logs = api.sleep.listed(bound, before=before is not None)
    page = logs[offset : offset + limit]
    base = str(request.url.replace(query=""))
    key, value = ("beforeDate", before) if before else ("afterDate", after)

    def link(at: int) -> str:
        return f"{base}?offset={at}&limit={limit}&sort={sort}&{key}={value}"

    pagination = {
        key: value,
        "limit": limit,
        "next": link(offset + limit) if offset + limit < len(logs) else "",
        "offset": offset,
        "previous": link(max(0, offset - limit)) if offset > 0 else "",
        "sort": sort,
    }
    return {"pagination": pagination, "sleep": page}


def _summary(api: LegacyApi, request: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    kind = m["kind"]
    dates = api.dates(m["a"], m["b"], "temp" if kind == "temp/skin" else kind)
    return api.body.summary(kind, dates, ranged=m["b"] is not None, us=_us(request))


def _all(api: LegacyApi, _r: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    """The intraday ``…/all.json`` forms: SpO2 readings and breathing rate by sleep stage.
    (HRV's would need coverage figures the world does not keep, so it stays a 404.)"""
    kind = m["kind"]
    if kind == "hrv":
        raise not_found()
    return api.body.intraday(kind, api.dates(m["a"], m["b"], kind), ranged=m["b"] is not None)


def _body_log(api: LegacyApi, request: Request, _g: LegacyGrant, m: dict[str, Any]) -> Any:
    dates = api.dates(m["a"], m["b"], "body-log", WEIGHT_PERIODS)
    return api.body.logs(m["kind"], dates, _us(request))


def _path(pattern: str, scope: str, handler: Handler) -> tuple[re.Pattern[str], str, Handler]:
    return re.compile(pattern), scope, handler


ROUTES = (
    _path(_U + r"profile\.json$", "profile", _profile),
    _path(_U + r"devices\.json$", "settings", _devices),
    _path(_U + r"activities/date/(?P<a>[^/]+)\.json$", "activity", _day_summary),
    _path(_U + r"activities/heart" + _INTRA + _WINDOW, "heartrate", _heart_intraday),
    _path(_U + r"activities/active-zone-minutes" + _DATES + r"\.json$", "activity", _azm_series),
    _path(_U + r"activities/heart" + _DATES + r"\.json$", "heartrate", _heart_series),
    _path(_U + r"activities/(?P<res>[A-Za-z]+)" + _INTRA + _WINDOW, "activity", _activity_intraday),
    _path(
        _U + r"activities/(?P<tracker>tracker/)?(?P<res>[A-Za-z]+)" + _DATES + r"\.json$",
        "activity",
        _activity_series,
    ),
    _path(_U + r"sleep/list\.json$", "sleep", _sleep_list),
    _path(_U + r"sleep" + _DATES + r"\.json$", "sleep", _sleep),
    _path(_U + r"(?P<kind>spo2)" + _ALL, "oxygen_saturation", _all),
    _path(_U + r"(?P<kind>br)" + _ALL, "respiratory_rate", _all),
    _path(_U + r"(?P<kind>hrv)" + _ALL, "heartrate", _all),
    _path(_U + r"(?P<kind>hrv)" + _DATES + r"\.json$", "heartrate", _summary),
    _path(_U + r"(?P<kind>spo2)" + _DATES + r"\.json$", "oxygen_saturation", _summary),
    _path(_U + r"(?P<kind>br)" + _DATES + r"\.json$", "respiratory_rate", _summary),
    _path(_U + r"(?P<kind>temp/skin)" + _DATES + r"\.json$", "temperature", _summary),
    _path(_U + r"(?P<kind>cardioscore)" + _DATES + r"\.json$", "cardio_fitness", _summary),
    _path(_U + r"body/log/(?P<kind>weight|fat)" + _DATES + r"\.json$", "weight", _body_log),
)
