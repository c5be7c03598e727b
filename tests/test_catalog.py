"""The catalog agrees with Google's discovery document for the Health API v4 (rev 20261030).

Every DataPoint union key is a catalog type and back; every path the catalog reads (time
containers, fields, explode arrays, child arrays, roll-up values) exists in the schema; enums
are the documented values; int64 conversions sit exactly on ``format: int64`` fields; and the
write-only types are the four spec §2 names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fitvault import catalog
from fitvault.catalog import ROLLUP_DATE_PATH, TIME_PATHS, Conv, DataType, Field

googleapiclient = pytest.importorskip("googleapiclient", reason="google-api-python-client absent")
DOC = Path(googleapiclient.__file__).parent / "discovery_cache/documents/health.v4.json"
TYPES = list(catalog.DATA_TYPES.values())
# Reference data (the food catalog) has no fields, time container or table in the catalog.
REFERENCE = {"food", "food-measurement-unit"}


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    if not DOC.is_file():
        pytest.skip(f"this google-api-python-client ships no {DOC.name}")
    found: dict[str, Any] = json.loads(DOC.read_text())["schemas"]
    return found


def resolve(schemas: dict[str, Any], schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema at a dotted path; ``*`` steps into an array's items. KeyError if absent."""
    for part in path.split("."):
        schema = schemas[schema["$ref"]] if "$ref" in schema else schema
        if part == "*":
            schema = schema["items"]
            continue
        schema = schema["properties"][part]
    return schemas[schema["$ref"]] if "$ref" in schema else schema


def payload(schemas: dict[str, Any], dtype: DataType) -> dict[str, Any]:
    """The schema the type's field paths are relative to."""
    holder = "DailyRollupDataPoint" if dtype.rollup_only else "DataPoint"
    return resolve(schemas, schemas[holder], dtype.camel)


def field_path(dtype: DataType, f: Field) -> str:
    return f"{dtype.explode}.*.{f.path[2:]}" if f.path.startswith("*.") else f.path


def every_field(dtype: DataType) -> list[tuple[str, Field]]:
    """(path relative to the payload, field) of the type's fields and its children's."""
    out = [(field_path(dtype, f), f) for f in dtype.fields]
    for child in dtype.children:
        out += [(f"{child.path}.*.{f.path}", f) for f in child.fields]
    return out


def test_union_keys_are_the_catalog_types(schemas: dict[str, Any]) -> None:
    """DataPoint's union keys are the camel names of the catalog's types, and back."""
    union = set(schemas["DataPoint"]["properties"]) - {"name", "dataSource"}
    rollup_only_keys = {t.camel for t in TYPES if t.rollup_only} - union
    assert union == {t.camel for t in TYPES} - rollup_only_keys
    # roll-up-only types that are no DataPoint key are roll-up keys instead
    assert rollup_only_keys <= set(schemas["DailyRollupDataPoint"]["properties"])


@pytest.mark.parametrize("dtype", [t for t in TYPES if t.readable], ids=lambda t: t.name)
def test_every_catalog_path_resolves(schemas: dict[str, Any], dtype: DataType) -> None:
    """Time paths, field paths, explode and child arrays all exist in discovery's schema."""
    root = payload(schemas, dtype)
    if dtype.name in REFERENCE:
        return
    if dtype.rollup_only:
        resolve(schemas, schemas["DailyRollupDataPoint"], ROLLUP_DATE_PATH)
    else:
        for path, _ in TIME_PATHS[dtype.kind].values():
            resolve(schemas, root, path)
    if dtype.explode:
        assert resolve(schemas, root, dtype.explode)["type"] == "array"
    for child in dtype.children:
        assert resolve(schemas, root, child.path)["type"] == "array"
    for path, _ in every_field(dtype):
        resolve(schemas, root, path)


@pytest.mark.parametrize("dtype", [t for t in TYPES if t.readable], ids=lambda t: t.name)
def test_enums_are_documented_values(schemas: dict[str, Any], dtype: DataType) -> None:
    """Each declared enum value is one of discovery's values at that path."""
    root = payload(schemas, dtype)
    for path, f in every_field(dtype):
        if f.enum:
            documented = resolve(schemas, root, path).get("enum", [])
            assert set(f.enum) <= set(documented), (path, set(f.enum) - set(documented))


@pytest.mark.parametrize("dtype", [t for t in TYPES if t.readable], ids=lambda t: t.name)
def test_int64_conversion_exactly_on_int64_fields(schemas: dict[str, Any], dtype: DataType) -> None:
    """conv INT64 ⇔ format int64; timestamps on google-datetime; offsets/durations on durations."""
    root = payload(schemas, dtype)
    for path, f in every_field(dtype):
        leaf = resolve(schemas, root, path)
        assert (f.conv is Conv.INT64) == (leaf.get("format") == "int64"), (path, leaf)
        if f.conv is Conv.TIMESTAMP:
            assert leaf.get("format") == "google-datetime", path
        if f.conv in (Conv.OFFSET, Conv.DURATION):
            assert leaf.get("format") == "google-duration", path


def test_write_only_types_are_the_four_of_spec_section_2() -> None:
    """readable=False exactly for menstrual-period, ovulation-test, symptoms and moods."""
    assert {t.name for t in TYPES if not t.readable} == {
        "menstrual-period",
        "ovulation-test",
        "symptoms",
        "moods",
    }
