"""Any declared data type's pages → Arrow rows, driven by the catalog alone.

For each type a msgspec struct is built from the declaration's paths (time members, fields,
the exploded array, child arrays, the data source), so decoding skips every member fitvault
does not keep at C speed; int64 values arrive as strings or numbers (``strict=False``), and
non-finite doubles as ``"NaN"`` / ``"Infinity"``. Pure: bytes in, Arrow out; every failure is a
``DataError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
import pyarrow as pa

from fitvault._errors import DataError
from fitvault.catalog import ROLLUP_DATE_PATH, TIME_PATHS, Conv, DataType, Field, RecordKind, Table
from fitvault.normalise import columns as C

_SOURCE_PATHS = {
    "device": "dataSource.device.displayName",
    "app": "dataSource.application.packageName",
    "platform": "dataSource.platform",
}
_LEAF: dict[str, type] = {
    "DOUBLE": float,
    "INTEGER": int,
    "SMALLINT": int,
    "BIGINT": int,
    "BOOLEAN": bool,
    "VARCHAR": str,
    "TIMESTAMPTZ": str,
    "TIMESTAMP": str,
    "INTEGER[]": list[int],
}
_RAW_NULL = msgspec.Raw(b"null")


class _Date(msgspec.Struct):
    year: int = 0
    month: int = 0
    day: int = 0


@dataclass(frozen=True)
class _Leaf:
    """A compiled field: where it is (attribute chain) and how to convert it."""

    column: str
    chain: tuple[str, ...]
    conv: Conv
    sql: str
    zero: bool = False  # absent means 0
    required: bool = False

    def get(self, obj: Any) -> Any:
        for attr in self.chain:
            if obj is None:
                return None
            obj = getattr(obj, attr)
        return obj


def _leaf_type(conv: Conv, sql: str) -> tuple[Any, Any]:
    """(annotation, default) of a struct member."""
    if conv is Conv.JSON:
        return msgspec.Raw, _RAW_NULL
    if conv is Conv.DATE:
        return _Date | None, None
    if conv in (Conv.TIMESTAMP, Conv.OFFSET, Conv.DURATION):
        return str | None, None
    return _LEAF[sql] | None, None


def _attr(name: str) -> str:
    return name[:-2] if name.endswith("[]") else name


def _struct(name: str, tree: dict[str, Any]) -> type:
    """A msgspec struct for a path tree; ``x[]`` members are lists of the sub-struct."""
    members = []
    for key, sub in tree.items():
        if isinstance(sub, dict):
            child = _struct(name + "_" + _attr(key), sub)
            typ: Any = list[child] | None if key.endswith("[]") else child | None  # type: ignore[valid-type]
            members.append((_attr(key), typ, None))
        else:
            members.append((key, *sub))
    return msgspec.defstruct(name, members, forbid_unknown_fields=False)


def _insert(tree: dict[str, Any], path: tuple[str, ...], leaf: tuple[Any, Any]) -> None:
    node = tree
    for part in path[:-1]:
        existing = node.setdefault(part, {})
        if not isinstance(existing, dict):
            raise ValueError(f"path {'.'.join(path)} crosses a leaf")
        node = existing
    node.setdefault(path[-1], leaf)


@dataclass(frozen=True)
class _Plan:
    """Everything needed to turn one type's page into rows."""

    dtype: DataType
    decoder: msgspec.json.Decoder[Any]
    payload: str  # the union member (or roll-up value) attribute
    point_leaves: tuple[_Leaf, ...]  # relative to the point
    element_leaves: tuple[_Leaf, ...]  # relative to each exploded element
    explode: str | None
    children: tuple[tuple[Table, str, tuple[_Leaf, ...]], ...]
    rollup: bool


def _field_leaves(
    fields: Iterable[Field], prefix: tuple[str, ...], tree: dict[str, Any], star: str | None
) -> tuple[list[_Leaf], list[_Leaf]]:
    plain, element = [], []
    for f in fields:
        parts = tuple(f.path.split("."))
        if parts[0] == "*":
            assert star is not None
            _insert(tree, (*prefix, star + "[]", *parts[1:]), _leaf_type(f.conv, f.sql))
            element.append(_Leaf(f.column, parts[1:], f.conv, f.sql, f.absent_is_zero))
        else:
            _insert(tree, (*prefix, *parts), _leaf_type(f.conv, f.sql))
            plain.append(_Leaf(f.column, (*prefix, *parts), f.conv, f.sql, f.absent_is_zero))
    return plain, element


@cache
def plan(dtype: DataType) -> _Plan:
    tree: dict[str, Any] = {}
    rollup = dtype.rollup_only
    main = dtype.tables[0]
    leaves: list[_Leaf] = []
    if rollup:
        date_path = tuple(ROLLUP_DATE_PATH.split("."))
        _insert(tree, date_path, _leaf_type(Conv.DATE, "DATE"))
        leaves.append(_Leaf("date", date_path, Conv.DATE, "DATE", required=True))
    else:
        for column, (path, conv) in TIME_PATHS[dtype.kind].items():
            parts = (dtype.camel, *path.split("."))
            _insert(tree, parts, _leaf_type(conv, main.column(column).sql))
            leaves.append(_Leaf(column, parts, conv, main.column(column).sql, required=True))
        for column, path in _SOURCE_PATHS.items():
            parts = tuple(path.split("."))
            _insert(tree, parts, (str | None, None))
            leaves.append(_Leaf(column, parts, Conv.PLAIN, "VARCHAR"))
    plain, element = _field_leaves(dtype.fields, (dtype.camel,), tree, dtype.explode)
    children = []
    for child in dtype.tables[1:]:
        assert child.path is not None
        sub: dict[str, Any] = {}
        kid, _ = _field_leaves(child.fields, (), sub, None)
        tree.setdefault(dtype.camel, {})[child.path + "[]"] = sub
        children.append((child, child.path, tuple(kid)))
    tree.setdefault(dtype.camel, {})
    point = _struct(f"{dtype.camel}_point", tree)
    member = "rollupDataPoints" if rollup else "dataPoints"
    page = msgspec.defstruct(f"{dtype.camel}_page", [(member, list[point], [])])  # type: ignore[valid-type]
    return _Plan(
        dtype,
        msgspec.json.Decoder(page, strict=False),
        dtype.camel,
        (*leaves, *plain),
        tuple(element),
        dtype.explode,
        tuple(children),
        rollup,
    )


def _decode(p: _Plan, body: bytes) -> list[Any]:
    try:
        page = p.decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise DataError(f"{p.dtype.name} page does not have the expected shape: {exc}") from exc
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise DataError(f"{p.dtype.name} page is not valid JSON: {exc}") from exc
    return list(page.rollupDataPoints if p.rollup else page.dataPoints)


def _convert(leaf: _Leaf, values: list[Any]) -> pa.Array | list[Any]:
    if leaf.required and any(v is None for v in values):
        raise DataError(f"a point lacks the required {'.'.join(leaf.chain)}")
    if leaf.zero:
        values = [0 if v is None else v for v in values]
    conv = leaf.conv
    if conv is Conv.TIMESTAMP:
        return C.timestamps(values)
    if conv is Conv.OFFSET:
        return C.offsets(values)
    if conv is Conv.DURATION:
        return C.durations(values)
    if conv is Conv.DATE:
        return [None if d is None else C.date_of(d.year, d.month, d.day) for d in values]
    if conv is Conv.JSON:
        return [None if r is None or bytes(r) == b"null" else bytes(r).decode() for r in values]
    return values


def _rows(p: _Plan, points: list[Any]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {leaf.column: [] for leaf in p.point_leaves}
    cols |= {leaf.column: [] for leaf in p.element_leaves}
    for point in points:
        if not p.rollup and getattr(point, p.payload) is None:
            raise DataError(f"a {p.dtype.name} page holds a point without {p.payload!r}")
        values = [leaf.get(point) for leaf in p.point_leaves]
        if p.explode is None:
            for leaf, v in zip(p.point_leaves, values, strict=True):
                cols[leaf.column].append(v)
            continue
        payload = getattr(point, p.payload)
        for el in (getattr(payload, p.explode) if payload is not None else None) or ():
            for leaf, v in zip(p.point_leaves, values, strict=True):
                cols[leaf.column].append(v)
            for leaf in p.element_leaves:
                cols[leaf.column].append(leaf.get(el))
    return cols


def _finish(p: _Plan, raw: dict[str, list[Any]], source: str) -> dict[str, Any]:
    leaves = {leaf.column: leaf for leaf in (*p.point_leaves, *p.element_leaves)}
    out: dict[str, Any] = {name: _convert(leaves[name], v) for name, v in raw.items()}
    n = len(next(iter(raw.values()), []))
    if not p.rollup:
        out["device"] = [d or a for d, a in zip(out["device"], out.pop("app"), strict=True)]
    kind = p.dtype.record_kind
    if kind is RecordKind.SAMPLE:
        out["local_date"] = C.local_dates(out["time"], out["utc_offset_s"])
    elif kind is RecordKind.INTERVAL:
        out["local_date"] = C.local_dates(out["start_time"], out["utc_offset_s"])
    elif kind is RecordKind.SESSION:
        out["local_start_time"] = C.local(out["start_time"], out["start_utc_offset_s"])
        out["local_date"] = out["local_start_time"].cast(pa.date32())
    out["source"] = pa.repeat(source, n) if n else pa.array([], pa.string())
    return out


def _child_rows(p: _Plan, points: list[Any], starts: list[Any], source: str) -> dict[str, pa.Table]:
    out = {}
    for table, path, leaves in p.children:
        cols: dict[str, list[Any]] = {"session_start": []} | {lf.column: [] for lf in leaves}
        for point, start in zip(points, starts, strict=True):
            for el in getattr(getattr(point, p.payload), path) or ():
                cols["session_start"].append(start)
                for leaf in leaves:
                    cols[leaf.column].append(leaf.get(el))
        data: dict[str, Any] = {"session_start": C.timestamps(cols.pop("session_start"))}
        data |= {lf.column: _convert(lf, cols[lf.column]) for lf in leaves}
        data["source"] = [source] * len(data["session_start"])
        out[table.name] = C.table(table, data)
    return out


def normalise(dtype: DataType, body: bytes, source: str) -> C.Batch:
    """One list / reconcile page (or dailyRollUp page of a roll-up-only type) → rows."""
    p = plan(dtype)
    points = _decode(p, body)
    raw = _rows(p, points)
    main = dtype.tables[0]
    data = _finish(p, raw, source)
    tables = {main.name: C.table(main, data)}
    if p.children:
        starts = [getattr(getattr(pt, p.payload).interval, "startTime", None) for pt in points]
        tables |= _child_rows(p, points, starts, source)
    return C.Batch(
        tables, *C.key_span(tables[main.name].column(main.range_column).combine_chunks())
    )


Normaliser = Callable[[DataType, bytes, str], C.Batch]
