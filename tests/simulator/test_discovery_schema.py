"""The simulator's JSON checked field by field against Google's own discovery doc for v4.

The discovery doc ships in google-api-python-client. The validator below is deliberately strict:
a property the schema does not declare is an error, so the simulator cannot invent fields.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from fitvault import catalog
from fitvault.simulator.world import World

googleapiclient = pytest.importorskip("googleapiclient", reason="google-api-python-client absent")
DOC = Path(googleapiclient.__file__).parent / "discovery_cache/documents/health.v4.json"
POINTS = "users.dataTypes.dataPoints."

NON_FINITE = {"NaN", "Infinity", "-Infinity"}  # ProtoJSON's spelling of non-finite doubles
FORMATS = {  # string formats; ProtoJSON sends 64-bit integers as decimal strings
    "int64": r"-?(0|[1-9]\d*)",
    "uint64": r"0|[1-9]\d*",
    "google-datetime": r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z",
    "google-duration": r"-?\d+(\.\d{1,9})?s",
    "date": r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])",
    "byte": r"[A-Za-z0-9+/_-]*={0,2}",
}
IS: dict[str, Callable[[Any], bool]] = {
    "any": lambda v: True,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: (
        (isinstance(v, int | float) and not isinstance(v, bool))
        or (isinstance(v, str) and v in NON_FINITE)
    ),
}


def schema_errors(
    schemas: dict[str, Any], value: Any, schema: dict[str, Any], path: str = "$"
) -> list[str]:
    """Every way ``value`` breaks a discovery ``schema``, each prefixed by its JSON path."""
    schema = schemas[schema["$ref"]] if "$ref" in schema else schema
    kind, fmt = schema.get("type", ""), schema.get("format")
    if kind not in IS or (kind == "string" and fmt and fmt not in FORMATS):
        return [f"{path}: the validator does not know type {kind!r} format {fmt!r}"]
    if not IS[kind](value):
        return [f"{path}: expected {kind} ({fmt or 'plain'}), got {value!r}"]
    out: list[str] = []
    if kind == "object":
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra)
            if sub is None:  # the point of it all: no invented fields
                out.append(f"{path}.{key}: not a property of {schema.get('id', 'this object')}")
            else:
                out += schema_errors(schemas, item, sub, f"{path}.{key}")
    elif kind == "array":
        for i, item in enumerate(value):
            out += schema_errors(schemas, item, schema["items"], f"{path}[{i}]")
    elif kind == "integer" and fmt == "int32" and not -(2**31) <= value < 2**31:
        out.append(f"{path}: {value} is outside int32")
    elif kind == "string" and "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} is not one of the enum values")
    elif kind == "string" and fmt and not re.fullmatch(FORMATS[fmt], value):
        out.append(f"{path}: {value!r} is not a valid {fmt}")
    return out


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    if not DOC.is_file():
        pytest.skip(f"this google-api-python-client ships no {DOC.name}")
    data: dict[str, Any] = json.loads(DOC.read_text())
    return data


def method(doc: dict[str, Any], dotted: str) -> dict[str, Any]:
    """A method by its id without the ``health.`` prefix, e.g. ``users.getIdentity``."""
    *resources, name = dotted.split(".")
    node = doc
    for res in resources:
        node = node["resources"][res]
    found: dict[str, Any] = node["methods"][name]
    assert found["id"] == f"{doc['name']}.{dotted}"
    return found


def call(api: httpx2.Client, m: dict[str, Any], path_args: dict[str, str], **kw: Any) -> Any:
    """Issue the request the discovery doc describes: its verb, its path template."""
    url = re.sub(r"\{\+?(\w+)\}", lambda g: path_args[g[1]], m["path"])
    return api.request(m["httpMethod"], "/" + url, **kw)


def assert_valid(doc: dict[str, Any], value: Any, schema: dict[str, Any]) -> None:
    errors = schema_errors(doc["schemas"], value, schema)
    assert not errors, f"{len(errors)} schema errors:\n" + "\n".join(errors[:40])


def response_schema(m: dict[str, Any]) -> dict[str, str]:
    return {"$ref": m["response"]["$ref"]}


def walk(api: httpx2.Client, m: dict[str, Any], dtype: str, **req: Any) -> list[dict[str, Any]]:
    """Every page of a paged method; the token goes where the request's other fields go."""
    where = "params" if m["httpMethod"] == "GET" else "json"
    pages: list[dict[str, Any]] = []
    while not pages or pages[-1].get("nextPageToken"):
        token = {"pageToken": pages[-1]["nextPageToken"]} if pages else {}
        req[where] = req[where] | token
        resp = call(api, m, {"parent": f"users/me/dataTypes/{dtype}"}, **req)
        assert resp.status_code == 200, resp.text
        pages.append(resp.json())
        assert len(pages) < 100, "paging does not end"
    return pages


def test_the_validator_reports_every_violation_with_its_path(doc: dict[str, Any]) -> None:
    """Invented fields, bare int64s, bad enums, timestamps and durations all fail, with paths."""
    bad = {
        "heartRate": {
            "beatsPerMinute": 61,
            "sampleTime": {"physicalTime": "2026-11-01T10:00:00+01:00", "utcOffset": "3600"},
            "metadata": {"motionContext": "RUNNING"},
            "confidence": "high",
        },
        "dataSource": {"platform": "FITBIT", "device": {"displayName": 7}},
    }
    errors = schema_errors(doc["schemas"], bad, {"$ref": "DataPoint"})
    paths = "beatsPerMinute sampleTime.physicalTime sampleTime.utcOffset metadata.motionContext"
    want = [f"$.heartRate.{p}" for p in [*paths.split(), "confidence"]]
    assert [e.split(":")[0] for e in errors] == [*want, "$.dataSource.device.displayName"]
    good = {"heartRate": {"beatsPerMinute": "61", "sampleTime": {"utcOffset": "-14400s"}}}
    assert schema_errors(doc["schemas"], good, {"$ref": "DataPoint"}) == []
    roll = {"startTime": "2026-11-01T10:00:00.25Z", "heartRate": {"beatsPerMinuteAvg": "NaN"}}
    assert schema_errors(doc["schemas"], roll, {"$ref": "RollupDataPoint"}) == []
    roll = {"startTime": "2026-13-01T00:00:00Z", "steps": {"countSum": "12.5"}}
    assert len(schema_errors(doc["schemas"], roll, {"$ref": "RollupDataPoint"})) == 2


def iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


TYPES = {  # path slug: (JSON union key, the filter member the type allows)
    "heart-rate": ("heartRate", "heart_rate.sample_time.physical_time"),
    "steps": ("steps", "steps.interval.start_time"),
    "sleep": ("sleep", "sleep.interval.end_time"),
    "daily-resting-heart-rate": ("dailyRestingHeartRate", "daily_resting_heart_rate.date"),
}


def window(dtype: str, world: World) -> str:
    """A filter over three days near the end of the world (dates for a daily type)."""
    hi = int(world.heart_rate().t[-1]) - 86_400
    a, b, member = iso(hi - 3 * 86_400), iso(hi), TYPES[dtype][1]
    if member.endswith(".date"):
        a, b = a[:10], b[:10]
    return f'{member} >= "{a}" AND {member} < "{b}"'


@pytest.mark.parametrize(
    ("verb", "dtype", "page_size"),
    [
        ("list", "heart-rate", "5000"),
        ("list", "steps", "100"),
        ("list", "sleep", "2"),
        ("list", "daily-resting-heart-rate", "2"),
        ("reconcile", "sleep", "2"),
        ("reconcile", "heart-rate", "5000"),
    ],
)
def test_paged_responses_match_the_discovery_schema(
    doc: dict[str, Any], api: httpx2.Client, world: World, verb: str, dtype: str, page_size: str
) -> None:
    """The first two pages and the final one of a multi-page walk hold only documented fields."""
    m = method(doc, POINTS + verb)
    pages = walk(api, m, dtype, params={"filter": window(dtype, world), "pageSize": page_size})
    assert len(pages) >= 2
    envelope = {"name", "dataSource"} if verb == "list" else {"dataPointName"}
    for page in [*pages[:2], pages[-1]] if len(pages) > 2 else pages:
        assert_valid(doc, page, response_schema(m))
        for point in page.get("dataPoints", []):
            assert set(point) - envelope == {TYPES[dtype][0]}, "exactly one union member"
    assert sum(len(p.get("dataPoints", [])) for p in pages) > 0


def rollup_body(verb: str, world: World) -> dict[str, Any]:
    """Two days in hours (rollUp) or six civil days (dailyRollUp), in small pages."""
    end = (int(world.heart_rate().t[-1]) // 86_400 - 1) * 86_400
    if verb == "rollUp":
        span = {"startTime": iso(end - 2 * 86_400), "endTime": iso(end)}
        return {"range": span, "windowSize": "3600s", "pageSize": 30}
    a, b = (dt.date.fromisoformat(iso(t)[:10]) for t in (end - 6 * 86_400, end))
    span = {
        k: {"date": {"year": d.year, "month": d.month, "day": d.day}}
        for k, d in [("start", a), ("end", b)]
    }
    return {"range": span, "windowSizeDays": 1, "pageSize": 4}


@pytest.mark.parametrize(
    ("verb", "dtype"), [("rollUp", "steps"), ("rollUp", "heart-rate"), ("dailyRollUp", "steps")]
)
def test_rollups_match_the_discovery_schema(
    doc: dict[str, Any], api: httpx2.Client, world: World, verb: str, dtype: str
) -> None:
    """Our request is the documented one; every page of the answer holds only documented fields."""
    m = method(doc, POINTS + verb)
    body = rollup_body(verb, world)
    assert_valid(doc, body, {"$ref": m["request"]["$ref"]})
    pages = walk(api, m, dtype, json=body)
    assert len(pages) >= 2
    for page in pages:
        assert_valid(doc, page, response_schema(m))
        for point in page.get("rollupDataPoints", []):
            assert TYPES[dtype][0] in point


def test_single_resources_match_the_discovery_schema(
    doc: dict[str, Any], api: httpx2.Client, world: World
) -> None:
    """get (a sleep point), getIdentity, getProfile, getSettings: only documented fields."""
    # the name list gives a sleep point: the numeric user id, not "me"
    user, point = world.person.health_user_id, world.sleep()[0].id
    sleep = f"users/{user}/dataTypes/sleep/dataPoints/{point}"
    for verb, name in [
        (POINTS + "get", sleep),
        ("users.getIdentity", "users/me/identity"),
        ("users.getProfile", "users/me/profile"),
        ("users.getSettings", "users/me/settings"),
    ]:
        m = method(doc, verb)
        assert re.fullmatch(m["parameters"]["name"]["pattern"], name)
        resp = call(api, m, {"name": name})
        assert resp.status_code == 200, resp.text
        assert_valid(doc, resp.json(), response_schema(m))
        assert resp.json()["name"] in (name, name.replace("/me/", f"/{user}/"))


CANONICAL_CODES = [  # google.rpc.Code names
    *("OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND"),
    *("ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION"),
    *("ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"),
    "UNAUTHENTICATED",
]


def test_error_bodies_are_a_documented_status(doc: dict[str, Any], api: httpx2.Client) -> None:
    """Bad filter, type, id, token or body: the answer is {"error": Status} and nothing more."""
    status = doc["schemas"]["Status"]
    # Discovery's Status is the google.rpc.Status message (code, message, details). Google's
    # HTTP/JSON error envelope adds exactly one key, "status" (the canonical code's name); allow
    # that and nothing else.
    error = {**status, "properties": {**status["properties"]}}
    error["properties"]["status"] = {"type": "string", "enum": CANONICAL_CODES}
    envelope = {"id": "ErrorEnvelope", "type": "object", "properties": {"error": error}}
    list_m, parent = method(doc, POINTS + "list"), {"parent": "users/me/dataTypes/heart-rate"}
    sleep_get = {"name": "users/me/dataTypes/sleep/dataPoints/123"}
    answers = [
        call(api, list_m, parent, params={"filter": 'heart_rate.interval.start_time >= "x"'}),
        call(api, list_m, {"parent": "users/me/dataTypes/heart_rate"}),
        call(api, method(doc, POINTS + "get"), sleep_get),
        call(api, list_m, parent, headers={"Authorization": "Bearer not-a-token"}),
        call(api, list_m, parent, headers={"Authorization": ""}),
        call(api, method(doc, POINTS + "rollUp"), parent, json={"windowSize": "60s"}),
    ]
    assert [a.status_code for a in answers] == [400, 400, 404, 401, 401, 400]
    for answer in answers:
        body = answer.json()
        assert_valid(doc, body, envelope)
        assert set(body) == {"error"}
        assert body["error"]["code"] == answer.status_code
        for detail in body["error"].get("details", []):
            assert detail["@type"].startswith("type.googleapis.com/google.rpc.")


def test_list_query_parameters_are_the_documented_ones(
    doc: dict[str, Any], api: httpx2.Client, world: World
) -> None:
    """list and reconcile take exactly filter/pageSize/pageToken/dataSourceFamily; all four work."""
    accepted = {"filter", "pageSize", "pageToken", "dataSourceFamily"}  # what google_v4 reads
    parent = {"parent": "users/me/dataTypes/heart-rate"}
    family = "users/me/dataSourceFamilies/all-sources"
    for verb in ("list", "reconcile"):
        m = method(doc, POINTS + verb)
        documented = {k for k, v in m["parameters"].items() if v["location"] == "query"}
        assert documented == accepted
        assert m["parameters"]["pageSize"]["format"] == "int32"
        params = {"filter": window("heart-rate", world), "pageSize": 10, "dataSourceFamily": family}
        token = call(api, m, parent, params=params).json()["nextPageToken"]
        second = call(api, m, parent, params=params | {"pageToken": token})
        assert second.status_code == 200, second.text
        assert len(second.json()["dataPoints"]) == 10
        assert_valid(doc, second.json(), response_schema(m))
        bogus = call(api, m, parent, params=params | {"dataSourceFamily": family + "-x"})
        assert bogus.status_code == 400, "dataSourceFamily is read, not ignored"


LISTABLE = [t for t in catalog.STORED_TYPES if t.list and t.name not in ("sleep", "heart-rate")]


@pytest.mark.parametrize("dtype", LISTABLE, ids=lambda t: t.name)
def test_every_type_lists_and_reconciles_per_the_discovery_schema(
    doc: dict[str, Any], api: httpx2.Client, dtype: catalog.DataType
) -> None:
    """Every page of a full list (and reconcile) walk of each type holds only documented fields."""
    verbs = ["list"] + (["reconcile"] if catalog.Op.RECONCILE in dtype.ops else [])
    for verb in verbs:
        m = method(doc, POINTS + verb)
        pages = walk(api, m, dtype.name, params={"pageSize": str(min(dtype.page_cap, 5000))})
        envelope = {"name", "dataSource"} if verb == "list" else {"dataPointName"}
        for page in pages:
            assert_valid(doc, page, response_schema(m))
            for point in page.get("dataPoints", []):
                assert set(point) - envelope == {dtype.camel}, "exactly one union member"


ROLLUPS = [
    (verb, t)
    for t in catalog.STORED_TYPES
    for verb, op in (("rollUp", catalog.Op.ROLLUP), ("dailyRollUp", catalog.Op.DAILY_ROLLUP))
    if op in t.ops
]


@pytest.mark.parametrize(("verb", "dtype"), ROLLUPS, ids=lambda x: getattr(x, "name", x))
def test_every_rollup_matches_the_discovery_schema(
    doc: dict[str, Any], api: httpx2.Client, world: World, verb: str, dtype: catalog.DataType
) -> None:
    """rollUp (hours) and dailyRollUp (days) of every type: documented request and answer."""
    m = method(doc, POINTS + verb)
    body = rollup_body(verb, world)
    pages = walk(api, m, dtype.name, json=body)
    for page in pages:
        assert_valid(doc, page, response_schema(m))
        for point in page.get("rollupDataPoints", []):
            assert dtype.camel in point


def test_paired_devices_and_irn_profile_match_the_discovery_schema(
    doc: dict[str, Any], api: httpx2.Client, world: World
) -> None:
    """pairedDevices list/get (a watch and a scale, not the phone) and getIrnProfile."""
    m = method(doc, "users.pairedDevices.list")
    resp = call(api, m, {"parent": "users/me"})
    assert resp.status_code == 200, resp.text
    assert_valid(doc, resp.json(), response_schema(m))
    found = resp.json()["pairedDevices"]
    assert [d["deviceType"] for d in found] == ["TRACKER", "SCALE"]
    assert found[0]["deviceVersion"] == world.person.device
    small = call(api, m, {"parent": "users/me"}, params={"pageSize": 1}).json()
    assert len(small["pairedDevices"]) == 1
    assert small["nextPageToken"]
    get = method(doc, "users.pairedDevices.get")
    one = call(api, get, {"name": found[1]["name"]})
    assert one.status_code == 200, one.text
    assert one.json() == found[1]
    irn = method(doc, "users.getIrnProfile")
    resp = call(api, irn, {"name": "users/me/irnProfile"})
    assert resp.status_code == 200, resp.text
    assert_valid(doc, resp.json(), response_schema(irn))
